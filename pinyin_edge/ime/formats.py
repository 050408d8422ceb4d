"""Input-method word lists, read and written line by line (a file of any size in flat memory).

* ``rime``: a Rime ``*.dict.yaml``: comments, then a YAML header from ``---`` to ``...``, then one
  entry a line, fields separated by tabs in the order the header's ``columns`` gives (default
  ``text``, ``code``, ``weight``); ``code`` is the reading, toneless syllables separated by spaces
  (``yin hang``). The header, comments, blank lines, the other fields and the entries' order are kept.
* ``libpinyin``: libpinyin's tables, ``pin'yin<TAB>word<TAB>token<TAB>frequency`` (the syllables
  joined by ``'``; token and frequency optional), or its phrase-import form ``word pin'yin [freq]``
  (the word first, fields separated by spaces or tabs).
* ``plain``: ``word`` or ``word<TAB>reading`` (syllables separated by spaces), more fields kept.

In every format a line starting with ``#`` and a blank line are kept as they are.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import BinaryIO, Iterator, List, Optional, Sequence, Tuple, Union

from ..readings import is_han

FORMATS = ("rime", "libpinyin", "plain")
DEFAULT_COLUMNS = ("text", "code", "weight")


class DictFormatError(ValueError):
    """A word list that cannot be read as the format it was said to be."""


@dataclass
class Entry:
    """One entry: its word, the reading written in the file (syllables; None when it has none), the
    line number, and what the writer needs to put a new reading in the same place."""

    __slots__ = ("word", "code", "lineno", "fields", "code_index", "separator", "joiner")  # one per line

    word: str
    code: Optional[List[str]]
    lineno: int
    fields: List[str]
    code_index: int  # which field holds the reading (it may be past the last field: none yet)
    separator: str  # between fields
    joiner: str  # between syllables


Item = Union[str, Entry]  # a line kept verbatim, or an entry


def _lines(handle: BinaryIO, name: str) -> Iterator[Tuple[int, int, str]]:
    """(line number, bytes read so far, the line without its newline), strictly UTF-8."""
    done = 0
    for lineno, raw in enumerate(handle, 1):
        done += len(raw)
        try:
            line = raw.decode("utf-8-sig" if lineno == 1 else "utf-8")
        except UnicodeDecodeError as exc:
            raise DictFormatError(f"{name}:{lineno}: not UTF-8 ({exc.reason})") from None
        yield lineno, done, line.rstrip("\r\n")


def _kept(line: str) -> bool:
    first = line[:1]
    if first and first != "#" and not first.isspace():  # an entry's line: no strip needed
        return False
    return not line.strip() or line.lstrip().startswith("#")


_COLUMNS_INLINE = re.compile(r"^columns:\s*\[(.*)\]\s*(#.*)?$")
_COLUMNS_BLOCK = re.compile(r"^columns:\s*(#.*)?$")
_LIST_ITEM = re.compile(r"^\s+-\s*([A-Za-z_]+)\s*(#.*)?$")


def rime_columns(header: Sequence[str]) -> Tuple[str, ...]:
    """The ``columns`` a Rime header declares (a block or an inline list), else the default."""
    for i, line in enumerate(header):
        inline = _COLUMNS_INLINE.match(line)
        if inline:
            return tuple(c.strip().strip("'\"") for c in inline.group(1).split(",") if c.strip())
        if _COLUMNS_BLOCK.match(line):
            columns = []
            for item in header[i + 1:]:
                m = _LIST_ITEM.match(item)
                if not m:
                    break
                columns.append(m.group(1))
            return tuple(columns)
    return DEFAULT_COLUMNS


def read_items(handle: BinaryIO, fmt: str, name: str = "<input>") -> Iterator[Tuple[int, Item]]:
    """(bytes read so far, item) for every line of ``handle`` read as ``fmt``."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; choose one of: {', '.join(FORMATS)}")
    lines = _lines(handle, name)
    if fmt == "rime":
        yield from _rime(lines, name)
        return
    parse = _libpinyin if fmt == "libpinyin" else _plain
    for lineno, done, line in lines:
        yield done, (line if _kept(line) else parse(line, lineno, name))


def _rime(lines, name: str) -> Iterator[Tuple[int, Item]]:
    header: List[str] = []
    started = False
    for lineno, done, line in lines:
        yield done, line
        if line.rstrip() == "---" and not started:
            started = True
        elif line.rstrip() == "...":
            break
        elif started:
            header.append(line)
    else:
        raise DictFormatError(f"{name}: not a Rime dictionary: no '...' line ends its YAML header")
    columns = rime_columns(header)
    if "text" not in columns or "code" not in columns:
        raise DictFormatError(f"{name}: the header's columns ({', '.join(columns)}) need 'text' and 'code'")
    text_at, code_at = columns.index("text"), columns.index("code")
    for lineno, done, line in lines:
        if _kept(line):
            yield done, line
            continue
        fields = line.split("\t")
        word = fields[text_at].strip() if text_at < len(fields) else ""
        if not word:
            raise DictFormatError(f"{name}:{lineno}: an entry without its text column")
        code = fields[code_at].split() if code_at < len(fields) and fields[code_at].strip() else None
        yield done, Entry(word, code, lineno, fields, code_at, "\t", " ")


def _libpinyin(line: str, lineno: int, name: str) -> Entry:
    separator = "\t" if "\t" in line else " "
    fields = line.split("\t") if separator == "\t" else line.split()
    if len(fields) < 2 and not any(is_han(c) for c in fields[0]):
        raise DictFormatError(f"{name}:{lineno}: expected pin'yin<TAB>word or word pin'yin")
    word_first = any(is_han(c) for c in fields[0])
    word_at, code_at = (0, 1) if word_first else (1, 0)
    word = fields[word_at].strip()
    code = fields[code_at].strip().split("'") if code_at < len(fields) and fields[code_at].strip() else None
    return Entry(word, code, lineno, fields, code_at, separator, "'")


def _plain(line: str, lineno: int, name: str) -> Entry:
    fields = line.split("\t")
    word = fields[0].strip()
    if not word:
        raise DictFormatError(f"{name}:{lineno}: an entry without its word")
    code = fields[1].split() if len(fields) > 1 and fields[1].strip() else None
    return Entry(word, code, lineno, fields, 1, "\t", " ")


def code_syllables(word: str, readings: Sequence[str]) -> List[str]:
    """A word reading (one item per character, a character without a reading as itself) as the
    syllables an input method spells: Latin letters lowercased, other characters without a reading
    dropped."""
    out = []
    for char, reading in zip(word, readings):
        if reading != char or is_han(char):
            out.append(reading)
        elif char.isascii() and char.isalpha():
            out.append(char.lower())
    return out


def write_entry(entry: Entry, syllables: Sequence[str]) -> str:
    """The entry's line with ``syllables`` as its reading, every other field as it was."""
    fields = list(entry.fields)
    while len(fields) <= entry.code_index:
        fields.append("")
    fields[entry.code_index] = entry.joiner.join(syllables)
    return entry.separator.join(fields)
