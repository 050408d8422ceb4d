"""CLI commands that measure: ``eval``, ``bench`` (the bench package) and ``card`` (card.py).

Top-level imports stay light (click and the standard library); the systems load inside the command.
"""
from __future__ import annotations

import json
import os
from typing import List

import click

from ..clitools import Command, MultiValueOption

# The names of pinyin_edge.evaluation.systems.SYSTEMS (kept here so that --help imports nothing).
SYSTEM_CHOICES = ("edge", "pypinyin", "g2pm", "torch", "majority")
MODEL_SYSTEMS = ("edge", "torch")


@click.command("eval", cls=Command, short_help="Score a system's accuracy on labelled data.")
@click.argument("data", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--system", "system_name", type=click.Choice(SYSTEM_CHOICES), default="edge", show_default=True,
              help="What to score: the shipped runtime, a baseline, or a PyTorch checkpoint.")
@click.option("--model", type=click.Path(), help="Model bundle (edge) or checkpoint directory (torch).")
@click.option("--train", "train", multiple=True, type=click.Path(dir_okay=False),
              help="Labelled training file for the majority system (repeatable).")
@click.option("--threads", type=click.IntRange(min=1), default=1, show_default=True,
              help="Inference threads (edge).")
@click.option("--batch-size", type=click.IntRange(min=1), default=64, show_default=True,
              help="Sentences per predict call.")
@click.option("--json", "as_json", is_flag=True,
              help="Print the report on stderr and one JSON object on stdout (its last line).")
@click.option("--skip-bad", is_flag=True, help="Skip malformed lines (counted) instead of stopping.")
@click.option("--policy-of", type=click.Path(exists=True, file_okay=False),
              help="torch: decide as this bundle does (its phrase policy and phrase exceptions).")
@click.option("--phrases/--no-phrases", default=None,
              help="Do pypinyin's dictionary phrases decide the polyphones they cover (edge, torch)? "
                   "[default: the bundle's policy; torch: --phrases]")
def eval_command(data, system_name, model, train, threads, batch_size, as_json, skip_bad, policy_of, phrases):
    """Score a system on labelled DATA: CPP-style X.sent (X.lb beside it), a cpp-subset TSV, or a
    full-sentence TSV "text<TAB>readings" (one reading per Han character)."""
    from ..candidates import CandidateTable
    from ..clitools import UserError, guard
    from ..data import read_labelled
    from .evaluate import EvalResult, evaluate
    from .systems import make_system

    if model is not None and system_name not in MODEL_SYSTEMS:
        raise UserError(f"--model is used by the {' and '.join(MODEL_SYSTEMS)} systems, not {system_name}")
    if train and system_name != "majority":
        raise UserError(f"--train is used by the majority system, not {system_name}")

    report = (lambda line="": click.echo(line, err=True)) if as_json else click.echo
    datasets = []
    for path in data:
        dataset = guard(lambda: read_labelled(path, skip_bad=skip_bad))
        if dataset.skipped:
            click.echo(f"warning: {path}: skipped {dataset.skipped} malformed line(s), "
                       f"first: {dataset.errors[0]}", err=True)
        if not dataset.num_labels():
            raise UserError(f"{path}: no labelled characters to score")
        datasets.append((path, dataset))

    if phrases is not None and system_name not in MODEL_SYSTEMS:
        raise UserError(f"--phrases/--no-phrases is used by the {' and '.join(MODEL_SYSTEMS)} systems, "
                        f"not {system_name}")
    if policy_of is not None and system_name != "torch":
        raise UserError(f"--policy-of is used by the torch system, not {system_name}")
    system = guard(lambda: make_system(system_name, model=model, train=train, threads=threads,
                                       skip_bad=skip_bad, phrases=phrases, policy_of=policy_of))
    if getattr(system, "skipped", 0):
        click.echo(f"warning: --train: skipped {system.skipped} malformed line(s), first: {system.errors[0]}",
                   err=True)
    table = CandidateTable.from_pypinyin()
    results = []
    for path, dataset in datasets:
        result = guard(lambda: evaluate(system, dataset, [path], batch_size=batch_size, table=table))
        results.append(result)
        if len(datasets) > 1:
            _report(report, result, header=f"== {path}")
    total = EvalResult.combine(results)
    _report(report, total, header=f"== total over {len(datasets)} files" if len(datasets) > 1 else None)
    if as_json:
        click.echo(json.dumps(total.to_json(), ensure_ascii=False))


def _report(echo, result, header=None) -> None:
    if header:
        echo(header)
    echo(f"system: {result.system}   data: {', '.join(result.data)}")
    echo(f"accuracy: {100 * result.accuracy:.2f}%  ({result.correct:,} / {result.total:,} labels, "
         f"{result.sentences:,} sentences)")
    if result.skipped:
        echo(f"skipped malformed lines: {result.skipped:,}")
    echo(f"gold labels outside the candidate table: {result.outside_candidates:,}")
    echo(f"speed: {result.sentences_per_s:,.0f} sentences/s")
    worst = result.per_char()
    if worst:
        echo("worst characters (at least 5 labels):")
        for row in worst:
            echo(f"  {row['char']}  {100 * row['accuracy']:6.2f}%  ({row['correct']}/{row['total']})")
    confusions = result.confusions()
    if confusions:
        echo("top confusions (char: gold -> predicted):")
        for row in confusions:
            echo(f"  {row['char']}: {row['gold']} -> {row['predicted']}  x{row['count']}")
    echo()


BENCH_SYSTEMS = ("edge", "edge-fp32", "torch", "pypinyin", "g2pm", "pinyin-pro", "napi-pinyin")  # bench.SYSTEM_NAMES


def _system_list(ctx, param, value: str) -> List[str]:
    names = [n.strip() for n in value.split(",") if n.strip()]
    unknown = [n for n in names if n not in BENCH_SYSTEMS]
    if unknown or not names:
        raise click.BadParameter(f"{unknown[0] if unknown else value!r}: choose a comma-separated list of "
                                 f"{', '.join(BENCH_SYSTEMS)}")
    return list(dict.fromkeys(names))


@click.command(cls=Command, extra="bench",
               short_help="Benchmark accuracy, latency, throughput, memory and size.")
@click.option("--quick", is_flag=True,
              help="A small sample (300 sentences per data file for accuracy, few latency calls): a minute or two.")
@click.option("--threads", type=click.IntRange(min=1), default=1, show_default=True,
              help="Inference threads of every system (onnxruntime intra-op; OMP/MKL/torch threads).")
@click.option("--out", type=click.Path(file_okay=False),
              help="Output folder for bench.json, bench.md, bench.png  "
                   "[default: benchmarks/results in a checkout, else ./bench-results]")
@click.option("--data", "data", cls=MultiValueOption, type=click.Path(dir_okay=False),
              help="Labelled files (CPP-style X.sent or TSV) to score accuracy on; the first also feeds the "
                   "timing inputs  [default: none: speed only, on the speed text shipped in the package]")
@click.option("--model", type=click.Path(), help="The int8 model bundle [default: the bundled model].")
@click.option("--fp32-model", type=click.Path(), help="An fp32 bundle (export --quantize none) to compare.")
@click.option("--checkpoint", type=click.Path(),
              help="The PyTorch checkpoint [default: the bundle manifest's source checkpoint, if present].")
@click.option("--systems", default=",".join(BENCH_SYSTEMS), show_default=True, callback=_system_list,
              help="Comma-separated systems to measure (pinyin-pro, napi-pinyin: when node is on PATH).")
@click.option("--targets", "targets", type=click.Path(dir_okay=False),
              help="Targets file  [default: benchmarks/targets.json in a checkout, else the packaged copy]")
@click.option("--batch-size", type=click.IntRange(min=1), default=64, show_default=True,
              help="Sentences per batched call (throughput and accuracy).")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the input samples.")
@click.option("--no-plot", is_flag=True, help="Skip bench.png.")
def bench(quick, threads, out, data, model, fp32_model, checkpoint, systems, targets, batch_size, seed,
          no_plot) -> None:
    """Benchmark every system in one run: accuracy (with --data), latency (p50/p95/p99 at batch 1),
    throughput, cold start, memory and size, checked against the targets file. Each system runs in its
    own fresh processes; progress goes to stderr, results to OUT/bench.json, bench.md and bench.png."""
    import shlex
    import sys

    from ..clitools import UserError, guard, need_extra
    from .bench import BenchConfig, default_out, run_bench

    try:
        import psutil  # noqa: F401  (the machine's figures)
    except ImportError as exc:
        need_extra("bench", exc)
    missing = [p for p in data if not os.path.isfile(p)]
    if missing:
        raise UserError(f"{missing[0]}: no such data file")
    if targets is not None and not os.path.isfile(targets):
        raise UserError(f"{targets}: no such targets file")
    config = BenchConfig(data=list(data), out=out or default_out(), systems=systems, model=model,
                         fp32_model=fp32_model, checkpoint=checkpoint, threads=threads, quick=quick,
                         batch_size=batch_size, seed=seed, targets=targets, plot=not no_plot,
                         command="pinyin-edge bench " + shlex.join(sys.argv[2:])
                         if len(sys.argv) > 1 and sys.argv[1] == "bench" else None)
    report = guard(lambda: run_bench(config))
    ok = [s.get("label", n) for n, s in report["systems"].items() if s.get("status") == "ok"]
    click.echo(f"measured {', '.join(ok) or 'nothing'}; results in {config.out}/bench.json, bench.md"
               + (", bench.png" if report.get("outputs", {}).get("png") else ""))


CARD_BASES = ("lac", "pretrain")  # card.ARCHITECTURES' keys (kept here so that --help imports nothing)


@click.command(cls=Command, extra="bench", short_help="Measure a bundle on the test sets; write its model card.")
@click.argument("bundle", type=click.Path(exists=True, file_okay=False))
@click.option("--data", required=True, type=click.Path(exists=True, file_okay=False),
              help="The shared data folder (polyphone/cpp/test.sent, polyphone/g2pl/test.sent).")
@click.option("--base", type=click.Choice(CARD_BASES), required=True, help="What the encoder started from.")
@click.option("--base-dir", type=click.Path(exists=True, file_okay=False),
              help="The base encoder's folder (pretrain or import-lac output).")
@click.option("--finetune", cls=MultiValueOption, type=click.Path(exists=True, file_okay=False),
              help="Fine-tuning output folders: every run that went into the model.")
@click.option("--teachers", cls=MultiValueOption, type=click.Path(exists=True, file_okay=False),
              help="Distillation: the teacher runs whose average (x g2pM) gave the students' soft labels.")
@click.option("--compare", "compare_with", cls=MultiValueOption, type=click.Path(exists=True, file_okay=False),
              help="Other candidate bundles to put beside this one on the CPP dev selection slice.")
@click.option("--dev", type=click.Path(exists=True, dir_okay=False),
              help="The selection slice for the comparison")
@click.option("--refit", is_flag=True,
              help="The runs also trained on the dev slice once the recipe was chosen (the card says so).")
@click.option("--install", type=click.Path(file_okay=False), help="Also write the carded bundle here.")
@click.option("--name", default="pinyin-edge default", show_default=True, help="The card's model name.")
@click.option("--training-record-from", type=click.Path(exists=True, file_okay=False), metavar="BUNDLE",
              help="A carded bundle with the same weights (a policy change: `pinyin-edge repolicy`, or "
                   "the graph `pinyin-edge requantize` started from): its "
                   "training record is kept, as the run folders may be gone.")
def card(bundle, data, base, base_dir, finetune, teachers, compare_with, dev, refit, install, name,
         training_record_from):
    """Measure BUNDLE on CPP test and g2pL test (beside pypinyin and g2pM) and write its model card into
    the manifest. Run once, after the model was chosen on dev data: nothing is tuned on test sets."""
    from ..clitools import guard
    from .card import write_card

    written = guard(lambda: write_card(bundle, data, base, base_dir=base_dir, compare_with=list(compare_with),
                                       dev=dev, finetune=list(finetune), teachers=list(teachers), refit=refit,
                                       install=install, name=name, training_record_from=training_record_from,
                                       log=lambda m: click.echo(m, err=True)))
    accuracy = written["accuracy"]
    click.echo(f"model card written to {bundle}" + (f" and {install}" if install else "") + ": "
               + ", ".join(f"{key} {100 * systems['edge']:.2f}" for key, systems in accuracy.items()))


