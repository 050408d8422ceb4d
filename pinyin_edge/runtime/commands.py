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
from typing import Dict, Iterable, List

import click

from ..bulk.command import bulk_options, convert_files, requested
from ..clitools import Command, UserError, guard
from .cli_support import bundle_path as _bundle_path
from .cli_support import load_g2p as _load_g2p
from .cli_support import render_line as _render
from .cli_support import render_parts as _render_parts

_CHUNK = 1 << 16
_BATCH_LINES = 256


def _style_help() -> str:
    from ..readings import STYLE_NAMES

    return "Output style: " + ", ".join(STYLE_NAMES) + "."


def _write(out, lines: Iterable[str], end: str = "\n") -> None:
    # a closed pipe (`| head`) raises BrokenPipeError here; click then exits quietly
    out.write("".join(line + end for line in lines).encode("utf-8"))
    out.flush()


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


@click.command(cls=Command, short_help="Convert text to pinyin, one reading per character.")
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

    def emit(lines: List[str]) -> None:
        """Write the lines' output; a long line piece by piece, as its readings are ready."""
        from .stream import PIECE_CHARS

        start = 0
        for i, line in enumerate(lines):
            if len(line) > 2 * PIECE_CHARS:
                _write(out, convert_lines(lines[start:i]))
                parts, done = g2p.iter_pinyin(line, style=style, tone_sandhi=tone_sandhi), object()
                guarded = iter(lambda: guard(lambda: next(parts, done)), done)
                for fragment in _render_parts(line, guarded, fmt):
                    _write(out, [fragment], end="")
                start = i + 1
        _write(out, convert_lines(lines[start:]))

    if text is not None:
        emit([text])
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
            emit(decoded)
        if error:
            raise UserError(error)


def _human_size(size: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.2f} {unit}"
        size /= 1024.0
    return f"{size} B"  # pragma: no cover


def bundle_summary(model: str) -> dict:
    """What ``info --json`` shows: the full manifest and card, each file's integrity, whether the graph
    loads."""
    from ..bundle import check_bundle
    from .session import create_session

    manifest, data, files = check_bundle(model)
    graph = os.path.join(model, manifest.graph_file)
    loads, load_error = False, None
    if files[manifest.graph_file] is None:
        try:
            create_session(graph, threads=1, num_labels=len(manifest.labels))
            loads = True
        except ValueError as exc:
            load_error = str(exc)
    return {"path": os.path.abspath(model), "files": {k: v or "ok" for k, v in files.items()},
            "graph_bytes": os.path.getsize(graph) if os.path.isfile(graph) else None,
            "graph_loads": loads, "graph_error": load_error,
            "dictionary_characters": len(manifest.dictionary), "added_readings": added_readings(manifest),
            "manifest": data, "card": manifest.model_card or None}


def added_readings(manifest) -> Dict[str, List[str]]:
    """char -> the readings the bundle can give that pypinyin's table does not have (its labelled
    data taught them: 儿 r5). The pypinyin-compatible functions never emit them."""
    from ..candidates import CandidateTable

    table = CandidateTable.lazy_pypinyin()
    out: Dict[str, List[str]] = {}
    for char, readings in list(manifest.candidates.items()) + [(c, [r]) for c, r in manifest.dictionary.items()]:
        extra = [r for r in readings if r not in table.get(char)]
        if extra:
            out.setdefault(char, []).extend(extra)
    return out


def _percent(value) -> str:
    return f"{value:.2%}" if isinstance(value, (int, float)) and not isinstance(value, bool) else "?"


def _summary_lines(summary: dict) -> List[str]:
    """At most about 30 lines: what the bundle is, what it decides, how it was measured."""
    data, card = summary["manifest"], summary["card"] or {}
    metrics, source = data["metrics"], data["provenance"]
    size = summary["graph_bytes"]
    lines = [f"path: {summary['path']}"]
    if card.get("name"):
        lines.append(f"model: {card['name']}")
    lines.append("files: " + ", ".join(f"{name} {'ok' if state == 'ok' else 'FAILS'}"
                                       for name, state in summary["files"].items()))
    lines.append(f"graph: {data['files']['graph']['path']} ("
                 + (_human_size(size) if size is not None else "missing")
                 + f", {'loads' if summary['graph_loads'] else 'does not load'}), schema_version "
                 + str(data["schema_version"]))
    quant = data["quantization"]
    if quant:
        lines.append("quantization: " + ", ".join(f"{k} {v}" for k, v in quant.items() if v is not None))
    polyphones = sum(1 for r in data["candidates"].values() if len(r) > 1)
    lines.append(f"vocab: {len(data['vocab'])} tokens ({data['tokenizer']['type']}); labels: "
                 f"{len(data['labels'])}; max_length: {data['max_length']} tokens")
    lines.append(f"candidates: {len(data['candidates'])} characters ({polyphones} polyphones) the model "
                 f"decides; dictionary: {summary['dictionary_characters']} characters read without it")
    if data["phrases"]:
        policy = "dictionary phrases decide the polyphones they cover"
        if data["phrase_word_exceptions"]:
            policy += f", except {len(data['phrase_word_exceptions'])} phrases' contradicted positions"
    else:
        policy = "the model decides every polyphone it knows"
    decides = metrics.get("model_decides")
    if isinstance(decides, dict) and "decided" in decides:
        policy += (f"; the model decides {polyphones} of the {decides['decided']} polyphones gold labels "
                   f"taught it, pypinyin's dictionary the {len(decides.get('left_to_the_dictionary', ''))} others")
    lines.append(f"policy: {policy}")
    fixed = (metrics.get("fixed_readings") or {}).get("readings")
    if isinstance(fixed, dict) and fixed:
        lines.append(f"fixed readings: {len(fixed)} polyphones the model always read one way")
    added = summary.get("added_readings")
    if added:
        lines.append("readings beyond pypinyin's table: "
                     + ", ".join(f"{c} {' '.join(r)}" for c, r in sorted(added.items())))
    lines.append("context: " + ("whole windows" if data["context"] is None
                                else f"the model reads {data['context']} tokens on each side of what it decides")
                 + (f"; memo: {sum(len(k) // 3 for k in data['memo'].values())} local contexts read without it"
                    if data.get("memo") else ""))
    known = [f"{k} {str(source[k])[:12] if k == 'commit' else source[k]}"
             for k in ("recipe", "commit", "checkpoint") if source.get(k)]
    if known:
        lines.append("provenance: " + ", ".join(known))
    for name, result in (metrics.get("test") or {}).items():
        if isinstance(result, dict) and isinstance(result.get("edge"), dict):
            others = ", ".join(f"{k} {_percent(v.get('accuracy'))}" for k, v in result.items()
                               if k != "edge" and isinstance(v, dict))
            lines.append(f"{name}: {_percent(result['edge'].get('accuracy'))} of "
                         f"{result['edge'].get('total', '?')}" + (f" ({others})" if others else ""))
    dev = metrics.get("dev")
    if isinstance(dev, dict) and "dev_accuracy" in dev:
        lines.append(f"dev: {_percent(dev['dev_accuracy'])} of {dev.get('dev_total', '?')}"
                     + (f" ({dev['note']})" if dev.get("note") else ""))
    parity = metrics.get("parity")
    if isinstance(parity, dict) and "shipped_agreement" in parity:
        lines.append(f"parity: the shipped graph agrees with PyTorch on {_percent(parity['shipped_agreement'])} "
                     f"of {parity.get('queries', '?')} queries")
    lines.append("full manifest and card: info --json")
    return lines


@click.command(cls=Command, short_help="Show a bundle's summary and check its integrity.")
@click.option("--model", default=None, metavar="PATH",
              help="Model bundle directory, or a bundled model: default (most accurate) or fast.")
@click.option("--json", "as_json", is_flag=True, help="Print the full manifest, the card and the checks "
                                                      "as one JSON object.")
def info(model, as_json):
    """Show a model bundle's summary and check the integrity of each of its files."""
    model = _bundle_path(model)
    if os.path.isfile(model):
        model = os.path.dirname(os.path.abspath(model))
    summary = guard(lambda: bundle_summary(model))
    if as_json:
        click.echo(json.dumps(summary, ensure_ascii=False))
    else:
        for line in _summary_lines(summary):
            click.echo(line)
    failing = [state for state in summary["files"].values() if state != "ok"]
    if failing:
        raise UserError(failing[0])
    if not summary["graph_loads"]:
        raise UserError(summary["graph_error"] or "the graph does not load")
