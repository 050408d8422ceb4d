"""The bulk form of ``pinyin-edge convert``: its options, and the command body they lead to.

``runtime/commands.py`` applies :func:`bulk_options` to ``convert`` and hands over to
:func:`convert_files` when any of them is given, so the single-text and stdin forms stay as they are.
"""
from __future__ import annotations

import click

from ..clitools import MultiValueOption, UserError

_OPTIONS = [
    click.option("--input", "inputs", cls=MultiValueOption, type=click.Path(exists=True), metavar="PATH...",
                 help="Bulk mode: files and folders (recursive) to convert into --output; gzip is read "
                      "transparently."),
    click.option("--output", default=None, type=click.Path(file_okay=False), metavar="DIR",
                 help="Bulk mode: output folder (shards + manifest.ndjson)."),
    click.option("--field", default=None, metavar="KEY", help="Bulk mode: inputs are JSON lines; convert this key."),
    click.option("--column", default=None, metavar="N|NAME",
                 help="Bulk mode: inputs are TSV; convert this column (0-based index, or a header name)."),
    click.option("--output-field", default=None, metavar="NAME",
                 help="Bulk mode: the added JSON key or TSV header column [default: pinyin]."),
    click.option("--workers", default=None, type=int, metavar="N",
                 help="Bulk mode: worker processes, each loading the model once [default: 1]."),
    click.option("--shard-lines", default=None, type=int, metavar="N",
                 help="Bulk mode: input lines per output shard [default: 10000]."),
    click.option("--on-error", default=None, type=click.Choice(["skip", "fail"]),
                 help="Bulk mode: a bad input line fails the run, or is reported and skipped [default: fail]."),
    click.option("--resume", is_flag=True, default=None,
                 help="Bulk mode: continue an interrupted conversion into the same --output."),
]


def bulk_options(command):
    for option in reversed(_OPTIONS):
        command = option(command)
    return command


def requested(bulk: dict) -> bool:
    """Is any bulk option given? (Then the bulk form runs, or says what is missing.)"""
    return any(value not in (None, (), False) for value in bulk.values())


def convert_files(text, *, style, fmt, model, threads, tone_sandhi, overrides, inputs, output, field, column,
                  output_field, workers, shard_lines, on_error, resume) -> None:
    from ..runtime.cli_support import bundle_path as _bundle_path
    from ..runtime.g2p import read_overrides
    from .readers import make_spec
    from .run import run

    if not inputs:
        raise UserError("bulk options need --input PATH... (files or folders) and --output DIR")
    if output is None:
        raise UserError("--input needs --output DIR, the folder the converted shards go to")
    if text is not None:
        raise UserError("give either TEXT or --input, not both")
    try:
        spec = make_spec(field, column, fmt, output_field or "pinyin")
        if overrides is not None:
            read_overrides(overrides)  # a bad file fails here, once, not in every worker
        model_dir = _bundle_path(model)
        from ..bundle import read_manifest
        read_manifest(model_dir)
        totals = run(inputs, output, spec=spec, style=style, tone_sandhi=tone_sandhi, model=model_dir,
                     threads=threads, overrides=overrides, workers=1 if workers is None else workers,
                     resume=bool(resume), on_error=on_error or "fail",
                     shard_lines=10000 if shard_lines is None else shard_lines)
    except ValueError as exc:
        raise UserError(str(exc).strip().splitlines()[0]) from None
    except OSError as exc:
        raise UserError(f"{exc.filename or ''}: {exc.strerror or exc}".lstrip(": ")) from None
    click.echo(f"converted {totals['lines']} lines ({totals['chars']} characters) of {totals['files']} file(s) "
               f"into {totals['shards']} shard(s) in {output}"
               + (f", {totals['resumed_shards']} of them from an earlier run" if totals["resumed_shards"] else "")
               + (f"; {totals['bad_lines']} bad line(s) skipped, listed in {output}/manifest.ndjson"
                  if totals["bad_lines"] else ""), err=True)
