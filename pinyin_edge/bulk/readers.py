"""Input side of bulk conversion: which files, which text in each line, and what a line becomes.

Formats: plain text (each line is one text), JSON lines (``field``: the key holding the text) and TSV
(``column``: a 0-based index, or a header name when the first line of every file is a header). Gzip
is recognised by its magic bytes, whatever the file name. A line that cannot be used (invalid UTF-8,
malformed JSON, not a JSON object, missing field or column, text that is not a string) raises
:class:`BadLine`; the caller skips it or fails the run.

Output, one line per converted input line, in the input's own format:

* text: the line as ``convert`` prints it (``fmt`` text: items separated by single spaces, a
  whitespace character as an empty item; ``fmt`` json: ``{"text": ..., "pinyin": [...]}``);
* JSON lines: the record with ``output_field`` set to the list of items (one per character of the
  field's text; re-serialised, key order kept);
* TSV: the row with one more column, the items as the text format writes them.
"""
from __future__ import annotations

import gzip
import io
import json
import os
import zlib
from dataclasses import dataclass
from typing import BinaryIO, Iterator, List, Optional, Sequence, Tuple

GZIP_MAGIC = b"\x1f\x8b"


class BadLine(ValueError):
    """One input line that cannot be converted; ``reason`` says why."""


class InputError(ValueError):
    """A whole input that cannot be used (unreadable, corrupt gzip, header without the column)."""


@dataclass(frozen=True)
class Spec:
    """How lines are read and written: ``kind`` text|jsonl|tsv; see the module docstring."""

    kind: str = "text"
    fmt: str = "text"
    field: Optional[str] = None
    column: Optional[int] = None   # resolved index for TSV
    column_name: Optional[str] = None  # set when the files have a header row
    output_field: str = "pinyin"

    @property
    def extension(self) -> str:
        if self.kind == "text":
            return ".jsonl" if self.fmt == "json" else ".txt"
        return {"jsonl": ".jsonl", "tsv": ".tsv"}[self.kind]

    @property
    def header(self) -> bool:
        return self.kind == "tsv" and self.column_name is not None


def make_spec(field: Optional[str], column: Optional[str], fmt: str, output_field: str) -> Spec:
    if field is not None and column is not None:
        raise ValueError("--field (JSON lines) and --column (TSV) exclude each other")
    if field is not None:
        return Spec("jsonl", fmt, field=field, output_field=output_field)
    if column is not None:
        if fmt != "text":
            raise ValueError("--format json applies to plain-text inputs; TSV output is TSV with a pinyin column")
        if column.isdigit():
            return Spec("tsv", fmt, column=int(column), output_field=output_field)
        if not column or "\t" in column:
            raise ValueError(f"--column takes a 0-based index or a header name, got {column!r}")
        return Spec("tsv", fmt, column_name=column, output_field=output_field)
    return Spec("text", fmt, output_field=output_field)


# -- files --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class InputFile:
    path: str   # as found on disk
    rel: str    # name inside the run: the file's name, or its path below a folder given as input

    def signature(self) -> List[int]:
        """Size and modification time: a file whose signature changed has its shards redone."""
        st = os.stat(self.path)
        return [st.st_size, st.st_mtime_ns]


def discover(paths: Sequence[str]) -> List[InputFile]:
    """Input files: a file as given, a folder's files recursively (sorted; hidden names skipped)."""
    found: List[InputFile] = []
    for path in paths:
        if os.path.isdir(path):
            base = os.path.basename(os.path.normpath(os.path.abspath(path)))
            for root, dirs, files in os.walk(path):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                for name in sorted(files):
                    if name.startswith("."):
                        continue
                    full = os.path.join(root, name)
                    rel = os.path.join(base, os.path.relpath(full, path))
                    found.append(InputFile(full, rel.replace(os.sep, "/")))
        elif os.path.isfile(path):
            found.append(InputFile(path, os.path.basename(path)))
        elif os.path.exists(path):
            raise InputError(f"{path}: not a regular file or folder")
        else:
            raise InputError(f"{path}: no such file or folder")
    if not found:
        raise InputError("the inputs hold no files")
    return found


def open_input(path: str) -> Tuple[BinaryIO, BinaryIO]:
    """(line stream, raw file): gzip is decompressed transparently; the raw file's position tells
    how far the input has been read, for progress."""
    raw = open(path, "rb")
    if raw.read(2) == GZIP_MAGIC:
        raw.seek(0)
        return io.BufferedReader(gzip.GzipFile(fileobj=raw, mode="rb"), 1 << 16), raw
    raw.seek(0)
    return raw, raw


def read_shards(path: str, shard_lines: int) -> Iterator[Tuple[int, int, List[bytes], int]]:
    """(shard index, first line number, raw lines without their newline, raw bytes read for them).

    A shard is ``shard_lines`` consecutive physical lines, so shard boundaries depend only on the
    file's content. Only one shard is held in memory at a time."""
    stream, raw = open_input(path)
    with raw:
        index, first, lines, before = 0, 1, [], 0
        try:
            for line in stream:
                lines.append(line[:-1] if line.endswith(b"\n") else line)
                if len(lines) == shard_lines:
                    pos = raw.tell()
                    yield index, first, lines, pos - before
                    index, first, lines, before = index + 1, first + shard_lines, [], pos
        except (OSError, EOFError, zlib.error) as exc:
            raise InputError(f"{path}: cannot read past line {first + len(lines) - 1} ({exc})") from None
        if lines:
            yield index, first, lines, os.fstat(raw.fileno()).st_size - before


def header_column(path: str, name: str) -> Tuple[int, str]:
    """(index of column ``name``, the header line) in a TSV file's first line."""
    stream, raw = open_input(path)
    with raw:
        try:
            first = stream.readline()
        except (OSError, EOFError, zlib.error) as exc:
            raise InputError(f"{path}: cannot read ({exc})") from None
    try:
        header = first.rstrip(b"\n").decode("utf-8").rstrip("\r")
    except UnicodeDecodeError:
        raise InputError(f"{path} line 1: the header is not valid UTF-8") from None
    names = header.split("\t")
    if name not in names:
        raise InputError(f"{path}: no column named {name!r} in the header ({', '.join(names)})")
    return names.index(name), header


# -- lines --------------------------------------------------------------------------------------------

def decode(raw: bytes) -> str:
    try:
        line = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadLine(f"invalid UTF-8 ({exc.reason} at byte {exc.start})") from None
    return line[:-1] if line.endswith("\r") else line


def parse(raw: bytes, spec: Spec, column: Optional[int] = None):
    """(text to convert, parsed record) of one line, or None for a blank JSON line; raises BadLine."""
    line = decode(raw)
    if spec.kind == "text":
        return line, line
    if spec.kind == "jsonl":
        if not line.strip():
            return None
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise BadLine(f"malformed JSON ({exc.msg} at column {exc.colno})") from None
        if not isinstance(record, dict):
            raise BadLine(f"not a JSON object (got {type(record).__name__})")
        if spec.field not in record:
            raise BadLine(f"no field {spec.field!r}")
        text = record[spec.field]
        if not isinstance(text, str):
            raise BadLine(f"field {spec.field!r} is not a string (got {type(text).__name__})")
        return text, record
    row = line.split("\t")
    index = spec.column if column is None else column
    if index >= len(row):
        raise BadLine(f"no column {index} ({len(row)} column(s))")
    return row[index], row


def render(text: str, record, items: List[str], spec: Spec) -> bytes:
    """One output line (with its newline) for a converted input line; raises BadLine when it
    cannot be written as UTF-8 (a lone surrogate from a JSON escape)."""
    from ..runtime.cli_support import render_line as _render

    if spec.kind == "text":
        out = _render(text, items, spec.fmt)
    elif spec.kind == "jsonl":
        record[spec.output_field] = items
        out = json.dumps(record, ensure_ascii=False)
    else:
        out = "\t".join(record + [_render(text, items, "text")])
    try:
        return (out + "\n").encode("utf-8")
    except UnicodeEncodeError as exc:
        raise BadLine(f"text cannot be written as UTF-8 ({exc.reason} at character {exc.start})") from None
