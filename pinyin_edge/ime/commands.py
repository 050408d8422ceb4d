"""CLI: ``pinyin-edge dict annotate`` and ``pinyin-edge dict check`` (input-method word lists).
Only click is imported at the top; the runtime loads inside the command bodies."""
from __future__ import annotations

import contextlib
import gc
import json
import os
import sys
import tempfile

import click

from ..clitools import Group, UserError, guard

FORMAT_CHOICE = click.Choice(["rime", "libpinyin", "plain"])


def _open(path: str):
    try:
        return open(path, "rb")
    except OSError as exc:
        raise UserError(f"{path}: cannot read ({exc.strerror or exc})") from None


def _progress(path: str, label: str):
    from ..progress import Progress

    try:
        total = os.path.getsize(path)
    except OSError:
        total = 0
    bar = Progress(total, label, unit="bytes")
    return bar, lambda done, entries: bar.update(done, f"{entries:,} entries")


class _Utf8Writer:
    """Text written as UTF-8 to a byte stream (stdout), whatever the locale says."""

    def __init__(self, stream):
        self.stream = stream

    def write(self, text: str) -> None:
        self.stream.write(text.encode("utf-8"))

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.stream.flush()


class _Unclosed:
    """stdin, iterated but left open."""

    def __init__(self, stream):
        self.stream = stream

    def __iter__(self):
        return iter(self.stream)

    def close(self) -> None:
        pass


@contextlib.contextmanager
def _few_collections(threshold: int = 50_000):
    """The cyclic garbage collector run less often while a word list streams through: the loaded
    tables are frozen out of its passes, and a pass starts after ``threshold`` allocations instead
    of the default 700. The stream's objects are freed by reference counting; at the default
    settings the collector's passes took a fifth to a quarter of the CPU time."""
    before = gc.get_threshold()
    ours = gc.get_freeze_count() == 0  # a caller's own freeze is left alone
    if ours:
        gc.freeze()
    gc.set_threshold(threshold, *before[1:])
    try:
        yield
    finally:
        gc.set_threshold(*before)
        if ours:
            gc.unfreeze()


@click.group("dict", cls=Group)
def dict_group() -> None:
    """Annotate and check input-method dictionaries (Rime, libpinyin, plain word lists)."""


@dict_group.command("annotate")
@click.argument("source", metavar="IN", type=click.Path(dir_okay=False))
@click.option("--format", "fmt", type=FORMAT_CHOICE, required=True, help="The word list's format.")
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Output file (default: stdout).")
@click.option("--tones", is_flag=True, help="Tone numbers (yin2 hang2) rather than toneless syllables.")
@click.option("--model", help="Model bundle directory or bundled model name.")
@click.option("--threads", type=click.IntRange(min=1), default=1, show_default=True)
@click.option("--quiet", is_flag=True, help="No progress line.")
def annotate(source, fmt, output, tones, model, threads, quiet):
    """Write every entry of IN (- for stdin) with the reading of its word alone; everything else as it was."""
    from ..runtime.cli_support import load_g2p as _load_g2p
    from .annotate import annotate_stream
    from .formats import DictFormatError

    g2p = _load_g2p(model, threads)
    bar, report = _progress(source, "annotate")
    bar.enabled = bar.enabled and not quiet and source != "-"
    handle = _open(source) if source != "-" else _Unclosed(getattr(sys.stdin, "buffer", sys.stdin))
    target = os.path.abspath(output) if output else None
    tmp = None
    try:
        if target:
            fd, tmp = tempfile.mkstemp(dir=os.path.dirname(target), prefix=".annotate-", suffix=".tmp")
            out = os.fdopen(fd, "w", encoding="utf-8", newline="\n")
        else:
            out = _Utf8Writer(getattr(sys.stdout, "buffer", sys.stdout))
        with out, _few_collections():
            counts = guard(lambda: annotate_stream(g2p, handle, out, fmt, tones, source, report))
        if tmp:
            os.replace(tmp, target)
            tmp = None
    except DictFormatError as exc:
        raise UserError(str(exc)) from None
    except OSError as exc:
        raise UserError(f"{output or 'stdout'}: cannot write ({exc.strerror or exc})") from None
    finally:
        handle.close()
        bar.close()
        if tmp and os.path.exists(tmp):
            os.unlink(tmp)
    click.echo(f"annotated {counts['entries']:,} entries ({counts['lines']:,} lines)"
               + (f" -> {output}" if output else ""), err=True)


@dict_group.command("check")
@click.argument("source", metavar="IN", type=click.Path(dir_okay=False))
@click.option("--format", "fmt", type=FORMAT_CHOICE, required=True, help="The word list's format.")
@click.option("--min-confidence", type=click.FloatRange(0, 1), default=0.9, show_default=True,
              help="Report an entry when the probability that its reading is wrong is at least this.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per finding, then the summary object.")
@click.option("--model", help="Model bundle directory or bundled model name.")
@click.option("--threads", type=click.IntRange(min=1), default=1, show_default=True)
@click.option("--quiet", is_flag=True, help="No progress line.")
def check(source, fmt, min_confidence, as_json, model, threads, quiet):
    """Report the entries of IN whose written reading pinyin-edge disputes, most confident first."""
    from ..runtime.cli_support import load_g2p as _load_g2p
    from .check import check_stream
    from .formats import DictFormatError

    if source == "-":
        raise UserError("dict check reads IN twice (for words listed with several readings): give a file, not -")
    g2p = _load_g2p(model, threads)
    _open(source).close()
    bar, report = _progress(source, "check")
    bar.enabled = bar.enabled and not quiet
    try:
        with _few_collections():
            findings, counts = guard(lambda: check_stream(g2p, lambda: open(source, "rb"), fmt, min_confidence,
                                                          source, report))
    except DictFormatError as exc:
        raise UserError(str(exc)) from None
    finally:
        bar.close()
    for found in findings:
        if as_json:
            click.echo(json.dumps(found.to_dict(), ensure_ascii=False))
        else:
            ours = ", ".join(f"{' '.join(r)} {p:.3f}" for r, p in found.ours)
            click.echo(f"{found.word}\t{' '.join(found.written)}\t{found.confidence:.3f}\t{ours}\tline {found.lineno}")
    summary = (f"{counts['entries']:,} entries, {counts['checked']:,} checked, {counts['disagree']:,} disagree, "
               f"{counts['flagged']:,} at confidence >= {min_confidence:g}; skipped: "
               f"{counts['several_readings']:,} listed with several readings, {counts['skipped_length']:,} "
               f"with a reading of another length, {counts['skipped_mixed']:,} with non-Han characters, "
               f"{counts['entries'] - counts['with_reading']:,} without a reading")
    if as_json:
        click.echo(json.dumps({"summary": {**counts, "min_confidence": min_confidence}}))
    else:
        click.echo(summary)
