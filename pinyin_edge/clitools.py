"""What every CLI command shares: the group and command classes (one-line errors, Ctrl-C, missing
extras, help in sections), options that take several values after one flag, path expansion.

Only click's public API is used: subclasses override ``parse_args``, ``make_context``, ``invoke`` and
``format_commands``. A closed output pipe (``| head``) is left to click, which exits quietly (status 1);
nothing here turns ``BrokenPipeError`` into an error message.
"""
from __future__ import annotations

import errno
import glob
import os
from contextlib import contextmanager
from typing import Callable, Dict, Iterable, Iterator, List, Optional, Sequence, Tuple, TypeVar

import click

T = TypeVar("T")

EXIT_INTERRUPTED = 130  # 128 + SIGINT: what shells report for a command stopped by Ctrl-C


class UserError(click.ClickException):
    """One line on stderr (``error: ...``), exit status 1, no traceback."""

    def show(self, file=None) -> None:
        click.echo(f"error: {self.format_message()}", err=True)


class OneLineUsageError(click.UsageError):
    """A wrong option or argument: one line naming the command's --help, exit status 2."""

    def show(self, file=None) -> None:
        message = " ".join(self.format_message().split()).rstrip(".")
        hint = f" (see '{self.ctx.command_path} --help')" if self.ctx is not None else ""
        click.echo(f"error: {message}{hint}", err=True)


class Interrupted(click.ClickException):
    """Ctrl-C: ``COMMAND: interrupted`` (and what to do next, if anything), exit status 130."""

    exit_code = EXIT_INTERRUPTED

    def show(self, file=None) -> None:
        stderr = click.get_text_stream("stderr")
        # on a terminal the cursor stands after "^C" or a progress line: start a line of our own
        click.echo(("\n" if stderr.isatty() else "") + self.format_message(), err=True)


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
    except BrokenPipeError:
        raise  # the reader went away: click exits quietly
    except (DataError, FileNotFoundError, ValueError, RuntimeError, OSError) as exc:
        if isinstance(exc, OSError) and exc.errno == errno.EPIPE:
            raise
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise UserError(message) from None


class MultiValueOption(click.Option):
    """A repeatable option that also takes several values after one flag: ``--train a.tsv b.tsv``.

    The values after the flag, up to the next argument that starts with ``-``, belong to it
    (``Command.parse_args`` spells them out as ``--train a.tsv --train b.tsv`` before click parses).
    Needs a ``Command`` (the class every pinyin-edge command uses).
    """

    def __init__(self, *args, **kwargs):
        kwargs["multiple"] = True
        kwargs.setdefault("metavar", "PATH...")
        super().__init__(*args, **kwargs)


def spread_multi_values(params: Sequence[click.Parameter], args: Sequence[str]) -> List[str]:
    """``--opt a b c`` -> ``--opt a --opt b --opt c`` for every ``MultiValueOption`` among ``params``."""
    names = {name for param in params if isinstance(param, MultiValueOption) for name in param.opts}
    out: List[str] = []
    flag: Optional[str] = None
    rest = list(args)
    while rest:
        arg = rest.pop(0)
        if arg == "--":
            out.append(arg)
            out.extend(rest)
            break
        if flag is not None and not arg.startswith("-"):
            out.extend((flag, arg))
            continue
        flag = None
        out.append(arg)
        name, equals, _ = arg.partition("=")
        if name in names:
            flag = name
            if not equals and rest:
                out.append(rest.pop(0))  # the flag's own value, as click would take it
    return out


def _command_name(ctx: click.Context) -> str:
    """``convert``: the command's words after the program name (the program's name at the top)."""
    names = []
    while ctx.parent is not None:
        names.append(ctx.info_name or "")
        ctx = ctx.parent
    return " ".join(reversed(names)) or (ctx.info_name or "pinyin-edge")


# click >= 8.2 answers a group called without arguments with its help, through a UsageError
_SHOWS_HELP = getattr(click.exceptions, "NoArgsIsHelpError", ())


@contextmanager
def _handled(name: Callable[[], str], command: Optional[click.Command] = None) -> Iterator[None]:
    """Ctrl-C, a missing extra and a mistyped option, each as one line on stderr. ``name()`` says
    which command was stopped."""
    try:
        yield
    except KeyboardInterrupt:
        hint = getattr(command, "on_interrupt", None)
        raise Interrupted(f"{name()}: interrupted" + (f"; {hint}" if hint else "")) from None
    except ModuleNotFoundError as exc:
        extra = getattr(command, "extra", None)
        if extra is None or (exc.name or "pinyin_edge").split(".")[0] == "pinyin_edge":
            raise
        need_extra(extra, exc)
    except click.UsageError as exc:
        if isinstance(exc, (OneLineUsageError, _SHOWS_HELP)):
            raise
        one = OneLineUsageError(exc.format_message(), exc.ctx)
        one.exit_code = exc.exit_code
        raise one from None


class Command(click.Command):
    """A pinyin-edge command. ``extra``: the pip extra it needs (a missing module says to install it);
    ``on_interrupt``: what Ctrl-C adds to ``COMMAND: interrupted``."""

    def __init__(self, *args, extra: Optional[str] = None, on_interrupt: Optional[str] = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.extra = extra
        self.on_interrupt = on_interrupt

    def make_context(self, info_name, args, parent=None, **extra):
        with _handled(lambda: info_name or self.name or "pinyin-edge", self):
            return super().make_context(info_name, args, parent=parent, **extra)

    def parse_args(self, ctx: click.Context, args: List[str]) -> List[str]:
        return super().parse_args(ctx, spread_multi_values(self.params, args))

    def invoke(self, ctx: click.Context):
        with _handled(lambda: _command_name(ctx), self):
            return super().invoke(ctx)


class Group(click.Group):
    """The command tree: subcommands are ``Command``s, listed in ``--help`` under section titles."""

    command_class = Command

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("context_settings", {"help_option_names": ["-h", "--help"]})
        super().__init__(*args, **kwargs)
        self.sections: List[Tuple[str, List[str]]] = []

    def add_section(self, title: str, commands: Sequence[click.Command]) -> None:
        for command in commands:
            if not isinstance(command, (Command, Group)):
                raise TypeError(f"{command.name}: a pinyin-edge command is a clitools.Command")
            self.add_command(command)
        self.sections.append((title, [c.name for c in commands]))

    def make_context(self, info_name, args, parent=None, **extra):
        with _handled(lambda: info_name or self.name or "pinyin-edge"):
            return super().make_context(info_name, args, parent=parent, **extra)

    def invoke(self, ctx: click.Context):
        # stopped before the subcommand took over (while it was looked up or parsed its arguments)
        with _handled(lambda: ctx.invoked_subcommand or _command_name(ctx)):
            return super().invoke(ctx)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        listed: Dict[str, str] = {}
        for title, names in self.sections + [("Commands", sorted(self.commands))]:
            rows = []
            for name in names:
                command = self.commands.get(name)
                if command is None or command.hidden or name in listed:
                    continue
                listed[name] = title
                rows.append((name, command.get_short_help_str(formatter.width - 6 - max(map(len, names)))))
            if rows:
                with formatter.section(title):
                    formatter.write_dl(rows)
