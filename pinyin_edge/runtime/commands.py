"""CLI commands of the runtime: ``convert`` and ``info``. Only click is imported at the top, so the
CLI starts fast; the runtime loads inside the command bodies.

``convert`` output, text format: one item per input character separated by single spaces; a Han
character's reading, any other character as itself, except that a whitespace character becomes an
empty item (so ``line.split(" ")`` gives back exactly one item per input character). JSON format:
``{"text": ..., "pinyin": [...]}`` per line, whitespace characters kept as themselves.
"""
from __future__ import annotations

import json
import os
import sys
from typing import Iterable, List

import click

from ..bulk.command import bulk_options, convert_files, requested
from ..clitools import UserError, guard

_CHUNK = 1 << 16
_BATCH_LINES = 256


def _style_help() -> str:
    from ..readings import STYLE_NAMES

    return "Output style: " + ", ".join(STYLE_NAMES) + "."


def _bundle_path(model) -> str:
    """The bundle directory a --model value names (see bundle.resolve_bundle), or a one-line error."""
    from ..bundle import BUNDLED_MODELS, resolve_bundle

    path = resolve_bundle(model)
    if not os.path.exists(path):
        if model is None or model in BUNDLED_MODELS:
            raise UserError(f"the bundled model {model or 'default'} is not installed ({path} is missing); "
                            f"pass --model PATH to a bundle made by `pinyin-edge export`")
        raise UserError(f"{model}: no such model bundle directory; pass --model PATH to a bundle "
                        f"made by `pinyin-edge export`, or a bundled model's name ({', '.join(BUNDLED_MODELS)})")
    return path


def _load_g2p(model, threads: int, overrides=None):
    from .g2p import G2P

    path = _bundle_path(model)
    return guard(lambda: G2P(model=path, threads=threads, overrides=overrides))


def _render(text: str, items: List[str], fmt: str) -> str:
    if fmt == "json":
        return json.dumps({"text": text, "pinyin": items}, ensure_ascii=False)
    return " ".join("" if char.isspace() else item for char, item in zip(text, items))


def _write(out, lines: Iterable[str]) -> None:
    try:
        out.write("".join(line + "\n" for line in lines).encode("utf-8"))
        out.flush()
    except BrokenPipeError:
        # the reader went away (`| head`): stop quietly, as other Unix filters do
        devnull = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(devnull, out.fileno())
        except (OSError, AttributeError, ValueError):
            pass
        sys.exit(1)


def _binary(stream):
    """The byte stream under a text stream (sys.stdin/sys.stdout, or CliRunner's stand-ins)."""
    return getattr(stream, "buffer", stream)


def _stdin_lines(stream):
    """Yield lists of raw lines (bytes, no newline) as soon as they arrive: one read at a time, so
    a line typed or piped in slowly is answered at once, while bulk input comes in big batches."""
    read = getattr(stream, "read1", None) or stream.read
    parts: List[bytes] = []
    while True:
        chunk = read(_CHUNK)
        if not chunk:
            break
        if b"\n" not in chunk:
            parts.append(chunk)
            continue
        data = b"".join(parts + [chunk]) if parts else chunk
        lines = data.split(b"\n")
        tail = lines.pop()
        parts = [tail] if tail else []
        yield lines
    if parts:
        yield [b"".join(parts)]


@click.command()
@click.argument("text", required=False)
@click.option("--style", default="tone3", show_default=True, metavar="STYLE", help=_style_help())
@click.option("--format", "fmt", default="text", show_default=True, metavar="text|json",
              help="text: readings separated by spaces; json: {\"text\", \"pinyin\"} per line.")
@click.option("--model", default=None, metavar="PATH",
              help="Model bundle directory, or a bundled model: default (most accurate) or fast.")
@click.option("--threads", default=1, show_default=True, type=int, help="onnxruntime intra-op threads (0 = all cores).")
@click.option("--tone-sandhi", is_flag=True, help="Apply tone sandhi (一, 不, third tone).")
@click.option("--overrides", default=None, metavar="FILE",
              help="User readings that always win: phrase<TAB>reading reading ... per line.")
@bulk_options
def convert(text, style, fmt, model, threads, tone_sandhi, overrides, **bulk):
    """Convert TEXT (or each line of stdin) to pinyin, one reading per character.

    \b
    Text output: items separated by single spaces, one per input character; a non-Han character
    appears as itself and a whitespace character as an empty item. Empty lines stay empty.
    """
    from .g2p import style_name

    try:
        style = style_name(style)
    except ValueError as exc:
        raise UserError(str(exc)) from None
    if fmt not in ("text", "json"):
        raise UserError(f"unknown format {fmt!r}; choose text or json")
    if threads < 0:
        raise UserError(f"--threads must be >= 0, got {threads}")
    if requested(bulk):  # convert --input PATH... --output DIR: whole corpora (pinyin_edge/bulk)
        return convert_files(text, style=style, fmt=fmt, model=model, threads=threads,
                             tone_sandhi=tone_sandhi, overrides=overrides, **bulk)
    if text is not None:
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            raise UserError("the TEXT argument is not valid UTF-8") from None
    g2p = _load_g2p(model, threads, overrides)
    out = _binary(sys.stdout)

    def convert_lines(lines: List[str]) -> List[str]:
        rendered = []
        for start in range(0, len(lines), _BATCH_LINES):
            group = lines[start:start + _BATCH_LINES]
            results = guard(lambda: g2p.pinyin_batch(group, style=style, tone_sandhi=tone_sandhi))
            rendered.extend(_render(line, items, fmt) for line, items in zip(group, results))
        return rendered

    if text is not None:
        _write(out, convert_lines([text]))
        return
    lineno = 0
    for raw_lines in _stdin_lines(_binary(sys.stdin)):
        decoded: List[str] = []
        error = None
        for raw in raw_lines:
            lineno += 1
            try:
                line = raw.decode("utf-8")
                decoded.append(line[:-1] if line.endswith("\r") else line)
            except UnicodeDecodeError as exc:
                error = (f"stdin line {lineno}: invalid UTF-8 ({exc.reason} at byte {exc.start}); "
                         f"convert the input to UTF-8 first")
                break
        if decoded:
            _write(out, convert_lines(decoded))
        if error:
            raise UserError(error)


def _human_size(size: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.2f} {unit}"
        size /= 1024.0
    return f"{size} B"  # pragma: no cover


def bundle_summary(model: str) -> dict:
    """What ``info`` shows: the manifest's summary plus integrity checks (sha256, graph loads)."""
    from ..bundle import read_manifest, sha256_file
    from .session import create_session

    manifest = read_manifest(model)
    graph = os.path.join(model, manifest.graph_file)
    exists = os.path.isfile(graph)
    sha_ok = exists and sha256_file(graph) == manifest.graph_sha256
    loads, load_error = False, None
    if exists:
        try:
            create_session(graph, threads=1, num_labels=len(manifest.labels))
            loads = True
        except ValueError as exc:
            load_error = str(exc)
    polyphones = sum(1 for r in manifest.candidates.values() if len(r) > 1)
    return {
        "path": os.path.abspath(model),
        "graph_file": manifest.graph_file,
        "graph_bytes": os.path.getsize(graph) if exists else None,
        "graph_sha256": manifest.graph_sha256,
        "sha256_ok": sha_ok,
        "graph_loads": loads,
        "graph_error": load_error,
        "schema_version": manifest.schema_version,
        "vocab_size": len(manifest.vocab),
        "labels": len(manifest.labels),
        "candidates": len(manifest.candidates),
        "polyphones": polyphones,
        "max_length": manifest.max_length,
        "phrases": manifest.phrases, "phrase_exceptions": "".join(manifest.phrase_exceptions),
        "phrase_word_exceptions": len(manifest.phrase_word_exceptions),
        "context": manifest.context,
        "tokenizer": manifest.tokenizer.type,
        "quantization": manifest.quantization,
        "source": manifest.source,
        "metrics": manifest.metrics,
        "model_card": manifest.model_card,
    }


def _print_mapping(name: str, value) -> None:
    if not value:
        click.echo(f"{name}: -")
        return
    if not isinstance(value, dict):
        click.echo(f"{name}: {value}")
        return
    click.echo(f"{name}:")
    for key, item in value.items():
        shown = json.dumps(item, ensure_ascii=False) if isinstance(item, (dict, list)) else item
        click.echo(f"  {key}: {shown}")


@click.command()
@click.option("--model", default=None, metavar="PATH",
              help="Model bundle directory, or a bundled model: default (most accurate) or fast.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def info(model, as_json):
    """Show a model bundle's manifest summary and check its integrity."""
    model = _bundle_path(model)
    if os.path.isfile(model):
        model = os.path.dirname(os.path.abspath(model))
    summary = guard(lambda: bundle_summary(model))
    if as_json:
        click.echo(json.dumps(summary, ensure_ascii=False))
    else:
        size = summary["graph_bytes"]
        click.echo(f"path: {summary['path']}")
        click.echo(f"graph: {summary['graph_file']} ("
                   + (_human_size(size) if size is not None else "missing")
                   + f", sha256 {'ok' if summary['sha256_ok'] else 'MISMATCH'}"
                   + f", {'loads' if summary['graph_loads'] else 'does not load'})")
        click.echo(f"schema_version: {summary['schema_version']}")
        click.echo(f"vocab: {summary['vocab_size']} tokens ({summary['tokenizer']})")
        click.echo(f"labels: {summary['labels']}")
        click.echo(f"candidates: {summary['candidates']} characters ({summary['polyphones']} polyphones)")
        click.echo(f"max_length: {summary['max_length']} tokens")
        policy = "dictionary phrases decide the polyphones they cover" if summary["phrases"] \
            else "the model decides every polyphone it knows"
        if summary["phrases"] and summary["phrase_exceptions"]:
            policy += f", except {summary['phrase_exceptions']}"
        if summary["phrases"] and summary["phrase_word_exceptions"]:
            policy += f" and in {summary['phrase_word_exceptions']} phrases whose reading the labelled data contradicts"
        decides = (summary["metrics"] or {}).get("model_decides")
        fixed = (summary["metrics"] or {}).get("fixed_readings")
        fixed = fixed.get("readings") if isinstance(fixed, dict) else None
        fixed = fixed if isinstance(fixed, dict) else {}
        if isinstance(decides, dict) and "decided" in decides:
            policy += (f"; the model decides {summary['polyphones']} of the {decides['decided']} polyphones "
                       f"gold labels taught it, pypinyin's dictionary the "
                       f"{len(decides.get('left_to_the_dictionary', ''))} others")
        if fixed:
            policy += f"; {len(fixed)} polyphones the model always read one way have that fixed reading"
        if summary["context"] is not None:
            policy += f"; the model reads {summary['context']} tokens on each side of what it decides"
        click.echo(f"policy: {policy}")
        for key in ("quantization", "source", "metrics", "model_card"):
            _print_mapping(key.replace("_", " "), summary[key])
    if summary["graph_bytes"] is None:
        raise UserError(f"{summary['path']}: graph file {summary['graph_file']} is missing; re-export the bundle")
    if not summary["sha256_ok"]:
        raise UserError(f"{summary['path']}: the graph's sha256 does not match the manifest; the file "
                        f"is corrupt or was replaced: re-export the bundle")
    if not summary["graph_loads"]:
        raise UserError(summary["graph_error"] or "the graph does not load")
