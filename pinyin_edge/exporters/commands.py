"""CLI commands that make and reshape model bundles: ``export`` and ``repolicy``. Only click is imported
at the top: the ``export`` extra (torch, onnx) loads inside the command bodies."""
from __future__ import annotations

import click

from ..clitools import Command, MultiValueOption, UserError, guard


def _log(message: str) -> None:
    click.echo(message, err=True)


@click.command(cls=Command, extra="export",
               short_help="Export a checkpoint to an ONNX bundle (parity gate).")
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
@click.option("--recipe", type=click.Path(exists=True, dir_okay=False),
              help="The build recipe (KEY=VALUE lines, e.g. export/recipe.env): its settings and sha256 "
                   "go into the manifest's provenance.")
@click.option("--min-agreement", type=float, default=0.999, show_default=True,
              help="fp32 ONNX vs PyTorch prediction agreement the gate requires.")
@click.option("--max-drop", type=float, default=0.2, show_default=True,
              help="Largest accuracy drop (points) of the shipped graph against PyTorch.")
def export(checkpoint, out, quantize, validate_paths, reduce_range, no_optimize, phrases,
           word_exceptions_from, word_exception_min_count,
           word_exception_min_disagreement, gold_from, context, fixed_from, fixed_texts_per_file, fixed_min_decisions,
           fixed_min_share, recipe, min_agreement, max_drop):
    """Export a fine-tuned CHECKPOINT to an ONNX model bundle, with a parity gate."""
    from .onnx_export import ExportSettings, export_bundle
    from .validate import ParityThresholds

    if word_exceptions_from and not phrases:
        raise UserError("--word-exceptions-from needs --phrases (with --no-phrases the model decides all)")
    if fixed_from and not gold_from:
        raise UserError("--fixed-from needs --gold-from (the gold labels a fixed reading must never contradict)")
    settings = ExportSettings(quantize=quantize, reduce_range=reduce_range, optimize=not no_optimize,
                              phrases=phrases,
                              word_exceptions_from=tuple(word_exceptions_from or ()),
                              word_exception_min_count=word_exception_min_count,
                              word_exception_min_disagreement=word_exception_min_disagreement,
                              gold_from=tuple(gold_from or ()), context=context,
                              fixed_from=tuple(fixed_from or ()), fixed_per_file=fixed_texts_per_file,
                              fixed_min_decisions=fixed_min_decisions, fixed_min_share=fixed_min_share,
                              recipe=recipe, thresholds=ParityThresholds(min_fp32_agreement=min_agreement,
                                                          max_accuracy_drop=max_drop / 100))
    manifest = guard(lambda: export_bundle(checkpoint, out, settings, list(validate_paths) or None,
                                           log=_log))
    parity = manifest.metrics["parity"]
    click.echo(f"bundle written to {out}: {manifest.metrics['size_bytes']['graph'] / 1e6:.2f} MB graph, "
               f"fp32 agreement {parity['fp32_agreement']:.4%}, accuracy torch {parity['torch_accuracy']:.4f} "
               f"-> {quantize} {parity['shipped_accuracy']:.4f}")


@click.command(cls=Command, short_help="Change a bundle's policy (exceptions, context, memo).")
@click.argument("bundle", type=click.Path(exists=True, file_okay=False))
@click.option("--out", required=True, type=click.Path(file_okay=False),
              help="Bundle directory to write (not BUNDLE itself).")
@click.option("--word-exceptions-from", "paths", cls=MultiValueOption,
              type=click.Path(exists=True, dir_okay=False),
              help="The labelled gold files the bundle's weights learnt from.")
@click.option("--min-count", type=click.IntRange(min=1), default=1, show_default=True,
              help="Labels a phrase position needs to become a word exception.")
@click.option("--min-disagreement", type=click.FloatRange(0, 1), default=0.5, show_default=True,
              help="Share of those labels the phrase must read otherwise.")
@click.option("--context", type=click.IntRange(min=1), default=None,
              help="Tokens the runtime reads on each side of the characters the model decides "
                   "(default: the bundle's). Choose on dev data.")
@click.option("--memo-from", "memo_from", cls=MultiValueOption, type=click.Path(exists=True, dir_okay=False),
              help="Unlabelled text files (a text per line, never a test split): local contexts where the "
                   "model always gave one reading become the bundle's memo, read without a model run.")
@click.option("--memo-exclude", "memo_exclude", cls=MultiValueOption, type=click.Path(exists=True, dir_okay=False),
              help="Benchmark sentence files (X.sent): --memo-from lines holding one of their sentences "
                   "are not read.")
@click.option("--memo-min-count", type=click.IntRange(min=1), default=5, show_default=True,
              help="Model decisions a left-polyphone-right context needs.")
@click.option("--memo-min-side-count", type=click.IntRange(min=1), default=50, show_default=True,
              help="Model decisions a context of one side (left or right neighbour) needs.")
@click.option("--memo-min-share", type=click.FloatRange(0.5, 1), default=1.0, show_default=True,
              help="Share of a context's decisions its reading must have.")
def repolicy(bundle, out, paths, min_count, min_disagreement, context, memo_from, memo_exclude,
             memo_min_count, memo_min_side_count, memo_min_share):
    """Change an existing BUNDLE's policy (its checkpoint may be gone): add phrase word exceptions, set
    the context width, add a memo. The graph is copied unchanged, the new policy goes into OUT's
    manifest. Measure OUT (`pinyin-edge eval`, `pinyin-edge card`) before shipping."""
    from .repolicy import KEEP, MemoSettings
    from .repolicy import repolicy as run

    if not (paths or memo_from or context):
        raise UserError("nothing to change: give --word-exceptions-from, --context or --memo-from")
    if memo_exclude and not memo_from:
        raise UserError("--memo-exclude needs --memo-from")
    memo = MemoSettings(list(memo_from), list(memo_exclude or ()), memo_min_count, memo_min_side_count,
                        memo_min_share) if memo_from else None
    done = guard(lambda: run(bundle, out, list(paths or ()), min_count, min_disagreement,
                             KEEP if context is None else context, memo, log=_log))
    click.echo(f"{out}: {done['word_exceptions']} phrases with word exceptions, context {done['context']}, "
               f"{done['memo']} memo keys; graph unchanged")


@click.command(cls=Command, extra="export", short_help="Make a bundle's graph batch-invariant.")
@click.argument("bundle", type=click.Path(exists=True, file_okay=False))
@click.option("--out", required=True, type=click.Path(file_okay=False),
              help="Bundle directory to write (not BUNDLE itself).")
@click.option("--method", type=click.Choice(["float", "row", "static"]), default="float", show_default=True,
              help="What replaces the per-batch activation quantization: a float matmul over the int8 "
                   "weights, per-row scales, or scales calibrated once.")
@click.option("--calibration", cls=MultiValueOption, type=click.Path(exists=True, dir_okay=False),
              help="Training/dev data or corpus text for --method static (never a test split).")
@click.option("--max-calibration-texts", type=click.IntRange(min=1), default=50000, show_default=True)
def requantize(bundle, out, method, calibration, max_calibration_texts):
    """Rewrite BUNDLE's graph so that a text reads the same alone and in any batch: the dynamic
    activation quantization (one scale per batch) is replaced by METHOD. Readings and manifest
    otherwise unchanged; the new graph's sha256 is recorded."""
    from .requantize import requantize as run

    got = guard(lambda: run(bundle, out, list(calibration or ()), method, max_calibration_texts))
    click.echo(f"{out}: activations {got['activations']}")
