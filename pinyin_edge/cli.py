"""The ``pinyin-edge`` command line. Training and export code is imported inside command bodies, so
``convert`` and ``info`` start fast and never load torch."""
from __future__ import annotations

import os
import sys

import click


from .clitools import MultiValueOption, UserError, expand_dirs, guard, need_extra


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="pinyin-edge")
def main() -> None:
    """Context-aware Chinese character-to-pinyin on a tiny int8 ONNX model."""


@main.command()
@click.option("--corpus", "corpus", cls=MultiValueOption, required=True, type=click.Path(exists=True),
              help="UTF-8 text, one sentence or paragraph per line; a directory means its *.txt (repeatable).")
@click.option("--out", required=True, type=click.Path(file_okay=False), help="Output directory.")
@click.option("--preset", type=click.Choice(["debug", "tiny", "small", "base"]), default="small", show_default=True)
@click.option("--layers", type=int, help="Override the preset's layer count.")
@click.option("--hidden", type=int, help="Override the preset's width (FFN = 4 x hidden).")
@click.option("--heads", type=int, help="Override the preset's attention heads.")
@click.option("--exclude", cls=MultiValueOption, type=click.Path(exists=True, dir_okay=False),
              help="Labelled test files (X.sent / .tsv): corpus lines containing their sentences are dropped.")
@click.option("--max-steps", type=int, default=3000, show_default=True)
@click.option("--batch-size", type=int, default=64, show_default=True)
@click.option("--seq-len", type=int, default=128, show_default=True)
@click.option("--lr", type=float, default=1e-3, show_default=True)
@click.option("--warmup-steps", type=int, default=200, show_default=True)
@click.option("--mask-rate", type=float, default=0.15, show_default=True)
@click.option("--min-count", type=int, default=2, show_default=True, help="Vocabulary frequency cut-off.")
@click.option("--save-every", type=int, default=250, show_default=True)
@click.option("--eval-every", type=int, default=250, show_default=True)
@click.option("--device", default="auto", show_default=True, help="auto, cpu or cuda[:N].")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--resume", is_flag=True, help="Continue from OUT/checkpoint-last.")
def pretrain(corpus, out, preset, layers, hidden, heads, exclude, max_steps, batch_size, seq_len, lr,
             warmup_steps, mask_rate, min_count, save_every, eval_every, device, seed, resume):
    """Masked-language-model pretraining of a character-level encoder from random weights."""
    try:
        from .training.pretrain import PretrainConfig, pretrain as run
    except ImportError as exc:
        need_extra("train", exc)
    cfg = PretrainConfig(corpus=expand_dirs(corpus, "*.txt"), out=out, preset=preset, layers=layers, hidden=hidden,
                         heads=heads, exclude=list(exclude), max_steps=max_steps, batch_size=batch_size,
                         seq_len=seq_len, lr=lr, warmup_steps=warmup_steps, mask_rate=mask_rate,
                         min_count=min_count, save_every=save_every, eval_every=eval_every,
                         device=device, seed=seed)
    summary = guard(lambda: run(cfg, resume=resume, log=lambda m: click.echo(m, err=True)))
    click.echo(f"pretrained encoder saved to {out}: {summary}")


@main.command()
@click.option("--base-model", required=True, help="Hub id (bert-base-chinese) or local directory of a BERT-family encoder.")
@click.option("--train", "train_paths", cls=MultiValueOption, required=True, type=click.Path(exists=True, dir_okay=False),
              help="Labelled files: X.sent (X.lb beside it), cpp-subset TSV or text<TAB>readings TSV.")
@click.option("--dev", "dev_paths", cls=MultiValueOption, required=True, type=click.Path(exists=True, dir_okay=False),
              help="Labelled files for model selection (never a test split).")
@click.option("--weak", "weak_paths", cls=MultiValueOption, type=click.Path(exists=True, dir_okay=False),
              help="Weak-labelled TSV (from `python -m pinyin_edge.training.prepare`).")
@click.option("--out", required=True, type=click.Path(file_okay=False))
@click.option("--epochs", type=int, default=3, show_default=True)
@click.option("--max-steps", type=int, default=0, help="Stop after N steps (0: --epochs decides).")
@click.option("--batch-size", type=int, default=64, show_default=True)
@click.option("--lr", type=float, default=1e-3, show_default=True, help="The head's learning rate.")
@click.option("--encoder-lr-scale", type=float, default=0.3, show_default=True,
              help="The encoder learns at lr x this (alpha).")
@click.option("--freeze-encoder", is_flag=True, help="Train the head only.")
@click.option("--train-last-layers", type=int, help="Train only the encoder's last N layers (and the head).")
@click.option("--weak-ratio", type=float, default=2.0, show_default=True, help="Weak sentences per gold sentence per epoch.")
@click.option("--weak-weight", type=float, default=0.5, show_default=True, help="Loss weight of a weak label.")
@click.option("--weak-cap", type=float, default=0.0, show_default=True,
              help="If > 0, a character's weak labels weigh at most this x its gold labels (gold sets conventions).")
@click.option("--max-length", type=int, default=128, show_default=True)
@click.option("--eval-every", type=int, default=500, show_default=True)
@click.option("--patience", type=int, default=6, show_default=True)
@click.option("--device", default="auto", show_default=True, help="auto, cpu or cuda[:N].")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--skip-bad", is_flag=True, help="Skip (and count) malformed data lines instead of failing.")
@click.option("--random-init", is_flag=True, help="Same architecture and tokenizer, random weights (a baseline).")
@click.option("--resume", is_flag=True, help="Continue from OUT/last.")
def train(base_model, train_paths, dev_paths, weak_paths, out, epochs, max_steps, batch_size, lr,
          encoder_lr_scale, freeze_encoder, train_last_layers, weak_ratio, weak_weight, weak_cap, max_length,
          eval_every, patience, device, seed, skip_bad, random_init, resume):
    """Fine-tune a BERT-family encoder to choose each polyphone's reading."""
    try:
        from .training.finetune import FinetuneConfig, finetune
    except ImportError as exc:
        need_extra("train", exc)
    cfg = FinetuneConfig(base_model=base_model, train=list(train_paths), dev=list(dev_paths),
                         weak=list(weak_paths), out=out, epochs=epochs, max_steps=max_steps,
                         batch_size=batch_size, lr=lr, encoder_lr_scale=encoder_lr_scale,
                         freeze_encoder=freeze_encoder, train_last_layers=train_last_layers,
                         weak_ratio=weak_ratio, weak_weight=weak_weight, weak_cap=weak_cap,
                         max_length=max_length,
                         eval_every=eval_every, patience=patience, device=device, seed=seed,
                         skip_bad=skip_bad, random_init=random_init)
    summary = guard(lambda: finetune(cfg, resume=resume, log=lambda m: click.echo(m, err=True)))
    if os.environ.get("RANK", "0") == "0":  # under torchrun, rank 0 reports
        click.echo(f"best checkpoint: {out}/best; {summary}")


@main.command()
@click.argument("checkpoints", nargs=-1, required=True, type=click.Path())
@click.option("--out", required=True, type=click.Path(file_okay=False), help="Where the averaged checkpoint goes.")
@click.option("--dev", "dev_paths", cls=MultiValueOption, type=click.Path(exists=True, dir_okay=False),
              help="Labelled files to score the averaged model on (never a test split).")
def average(checkpoints, out, dev_paths):
    """Average the weights of fine-tuned CHECKPOINTS (same base and labels) into one checkpoint."""
    try:
        from .training.average import average_checkpoints
    except ImportError as exc:
        need_extra("train", exc)
    guard(lambda: average_checkpoints(list(checkpoints), out, list(dev_paths or ()) or None,
                                      log=lambda m: click.echo(m, err=True)))
    click.echo(f"averaged checkpoint: {out}/best")


@main.command()
@click.argument("checkpoint", type=click.Path())
@click.option("--out", required=True, type=click.Path(file_okay=False), help="Bundle directory to write.")
@click.option("--quantize", type=click.Choice(["int8", "none"]), default="int8", show_default=True)
@click.option("--validate", "validate_paths", cls=MultiValueOption, type=click.Path(exists=True, dir_okay=False),
              help="Labelled files for the parity gate (default: the checkpoint's dev data).")
@click.option("--reduce-range/--full-range", default=True, show_default=True,
              help="int8 weights in 7 bits: x86 CPUs without VNNI (AVX2) can overflow full-range int8 "
                   "products; --full-range only for bundles that run on VNNI or ARM CPUs alone.")
@click.option("--no-optimize", is_flag=True, help="Skip onnxruntime's transformer graph fusions.")
@click.option("--phrases/--no-phrases", default=True, show_default=True,
              help="The bundle's policy: pypinyin's dictionary phrases decide the polyphones they cover "
                   "(--no-phrases: the model decides every polyphone it knows). Choose on dev data.")
@click.option("--phrase-exceptions-from", "exceptions_from", cls=MultiValueOption,
              type=click.Path(exists=True, dir_okay=False),
              help="Labelled training files: characters whose phrase readings they contradict often "
                   "enough are decided by the model even inside phrases.")
@click.option("--exception-min-count", type=click.IntRange(min=1), default=5, show_default=True,
              help="Labels inside phrases a character needs to become an exception.")
@click.option("--exception-min-disagreement", type=click.FloatRange(0, 1), default=0.3, show_default=True,
              help="Share of those labels the phrase must read otherwise.")
@click.option("--word-exceptions-from", "word_exceptions_from", cls=MultiValueOption,
              type=click.Path(exists=True, dir_okay=False),
              help="Labelled training files: phrases whose reading at a position they contradict often "
                   "enough leave that position to the model (pypinyin's 倒是 dao3 where the data reads dao4).")
@click.option("--word-exception-min-count", type=click.IntRange(min=1), default=1, show_default=True,
              help="Labels a phrase position needs to become a word exception.")
@click.option("--word-exception-min-disagreement", type=click.FloatRange(0, 1), default=0.5, show_default=True,
              help="Share of those labels the phrase must read otherwise.")
@click.option("--gold-from", "gold_from", cls=MultiValueOption, type=click.Path(exists=True, dir_okay=False),
              help="Gold training files: the model decides only the polyphones they label; those it "
                   "learnt from weak labels alone are read from pypinyin's dictionary.")
@click.option("--context", type=click.IntRange(min=1), default=None,
              help="Tokens the runtime reads on each side of the characters the model decides "
                   "(default: whole windows). Choose with `python export/analysis.py context`.")
@click.option("--fixed-from", "fixed_from", cls=MultiValueOption, type=click.Path(exists=True, dir_okay=False),
              help="Unlabelled text files (a text per line): polyphones the model reads one way there "
                   "(--fixed-min-share of at least --fixed-min-decisions), and that no --gold-from label "
                   "reads otherwise, get that reading from the bundle's dictionary: the model runs less.")
@click.option("--fixed-texts-per-file", type=click.IntRange(min=1), default=3000, show_default=True,
              help="Lines read from each --fixed-from file.")
@click.option("--fixed-min-decisions", type=click.IntRange(min=1), default=100, show_default=True)
@click.option("--fixed-min-share", type=click.FloatRange(0.5, 1), default=0.999, show_default=True)
@click.option("--min-agreement", type=float, default=0.999, show_default=True,
              help="fp32 ONNX vs PyTorch prediction agreement the gate requires.")
@click.option("--max-drop", type=float, default=0.2, show_default=True,
              help="Largest accuracy drop (points) of the shipped graph against PyTorch.")
def export(checkpoint, out, quantize, validate_paths, reduce_range, no_optimize, phrases, exceptions_from, exception_min_count,
           exception_min_disagreement, word_exceptions_from, word_exception_min_count,
           word_exception_min_disagreement, gold_from, context, fixed_from, fixed_texts_per_file, fixed_min_decisions,
           fixed_min_share, min_agreement, max_drop):
    """Export a fine-tuned CHECKPOINT to an ONNX model bundle, with a parity gate."""
    try:
        from .exporters.onnx_export import ExportSettings, export_bundle
        from .exporters.validate import ParityThresholds
    except ImportError as exc:
        need_extra("export", exc)
    if exceptions_from and not phrases:
        raise UserError("--phrase-exceptions-from needs --phrases (with --no-phrases the model decides all)")
    if word_exceptions_from and not phrases:
        raise UserError("--word-exceptions-from needs --phrases (with --no-phrases the model decides all)")
    if fixed_from and not gold_from:
        raise UserError("--fixed-from needs --gold-from (the gold labels a fixed reading must never contradict)")
    settings = ExportSettings(quantize=quantize, reduce_range=reduce_range, optimize=not no_optimize,
                              phrases=phrases,
                              exceptions_from=tuple(exceptions_from or ()),
                              exception_min_count=exception_min_count,
                              exception_min_disagreement=exception_min_disagreement,
                              word_exceptions_from=tuple(word_exceptions_from or ()),
                              word_exception_min_count=word_exception_min_count,
                              word_exception_min_disagreement=word_exception_min_disagreement,
                              gold_from=tuple(gold_from or ()), context=context,
                              fixed_from=tuple(fixed_from or ()), fixed_per_file=fixed_texts_per_file,
                              fixed_min_decisions=fixed_min_decisions, fixed_min_share=fixed_min_share,
                              thresholds=ParityThresholds(min_fp32_agreement=min_agreement,
                                                          max_accuracy_drop=max_drop / 100))
    manifest = guard(lambda: export_bundle(checkpoint, out, settings, list(validate_paths) or None,
                                           log=lambda m: click.echo(m, err=True)))
    parity = manifest.metrics["parity"]
    click.echo(f"bundle written to {out}: {manifest.metrics['size_bytes']['graph'] / 1e6:.2f} MB graph, "
               f"fp32 agreement {parity['fp32_agreement']:.4%}, accuracy torch {parity['torch_accuracy']:.4f} "
               f"-> {quantize} {parity['shipped_accuracy']:.4f}")


# Commands that live beside the code they drive; each module imports only click at the top.
def _register() -> None:
    from .evaluation.commands import bench, eval_command
    from .runtime.commands import convert, info

    for command in (convert, info, eval_command, bench):
        main.add_command(command)
    from .ime.commands import dict_group
    from .service.commands import serve
    main.add_command(dict_group)
    main.add_command(serve)


_register()


if __name__ == "__main__":
    sys.exit(main())
