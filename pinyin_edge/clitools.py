"""Helpers every CLI command shares: one-line user errors, extras hints, path expansion."""
from __future__ import annotations

import glob
import os
from typing import Callable, Iterable, List, TypeVar

import click

T = TypeVar("T")


class UserError(click.ClickException):
    """One line on stderr (``error: ...``), exit status 1, no traceback."""

    def show(self, file=None) -> None:
        click.echo(f"error: {self.format_message()}", err=True)


def need_extra(extra: str, exc: ImportError):
    raise UserError(f"this command needs the '{extra}' extra ({exc.name} is missing): "
                    f"pip install 'pinyin-edge[{extra}]'")


def expand_dirs(paths: Iterable[str], pattern: str) -> List[str]:
    """Paths as given, a directory replaced by its files matching ``pattern``."""
    out: List[str] = []
    for path in paths:
        out.extend(sorted(glob.glob(os.path.join(path, pattern))) if os.path.isdir(path) else [path])
    return out


def guard(fn: Callable[[], T]) -> T:
    """Run ``fn``; expected failures (bad data, bad model, bad value) become one-line errors."""
    from .data import DataError

    try:
        return fn()
    except (DataError, FileNotFoundError, ValueError, RuntimeError, OSError) as exc:
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise UserError(message) from None
    except KeyboardInterrupt:
        raise UserError("interrupted; run again with --resume to continue from the last checkpoint") from None


class MultiValueOption(click.Option):
    """A repeatable option that also takes several values after one flag: ``--train a.tsv b.tsv``.

    Values are consumed up to the next argument that starts with ``-``. Relies on click's option
    parser hooks; if a click release changes them, the option still works in its repeated form.
    """

    def __init__(self, *args, **kwargs):
        kwargs["multiple"] = True
        super().__init__(*args, **kwargs)

    def add_to_parser(self, parser, ctx):
        result = super().add_to_parser(parser, ctx)
        for name in self.opts:
            option = getattr(parser, "_long_opt", {}).get(name) or getattr(parser, "_short_opt", {}).get(name)
            if option is None or not hasattr(option, "process"):
                continue
            original = option.process

            def process(value, state, original=original):
                original(value, state)
                while state.rargs and not state.rargs[0].startswith("-"):
                    original(state.rargs.pop(0), state)

            option.process = process
        return result
