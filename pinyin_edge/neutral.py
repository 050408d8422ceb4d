"""The project's neutral-tone lexicon: words whose light syllables (tone 5, 现代汉语词典's ·) pypinyin's
phrase table does not mark, read-only in ``neutral.tsv`` beside this module.

Rows ``word<TAB>readings<TAB>note``: one canonical reading per character (``yi1 fu5``), space-separated;
lines starting with ``#`` and blank lines are skipped. :func:`pinyin_edge.dictionaries.compile_dictionaries`
merges the words into the phrase dictionary (a lexicon word replaces pypinyin's entry for it), so the
runtime's phrase policy reads them like any dictionary phrase. Each reading must be one its character has
in pypinyin's character table, or the light (tone 5) form of one; a file with any other row is refused.
"""
from __future__ import annotations

import hashlib
import os
from typing import Dict, List, Mapping, Optional, Tuple

from .readings import ReadingError, is_han, normalize

PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "neutral.tsv")


class LexiconError(ValueError):
    """A lexicon file with a malformed or invalid row; the message names the file and line."""


def entry_problem(word: str, readings: str, chars: Mapping[str, str]) -> str:
    """Why ``word`` cannot be read ``readings`` ("" when it can): ``chars`` maps a character to its
    readings joined by ``,`` (pypinyin's table, as :class:`~pinyin_edge.dictionaries.Dictionaries`
    holds it)."""
    if len(word) < 2 or not all(is_han(c) for c in word):
        return "the word is not two or more Han characters"
    parts = readings.split(" ")
    if len(parts) != len(word):
        return f"{len(parts)} readings for {len(word)} characters"
    for char, reading in zip(word, parts):
        try:
            canonical = normalize(reading)
        except ReadingError:
            canonical = ""
        if canonical != reading:
            return f"{reading!r} is not a canonical reading (lowercase pinyin, tone digit 1-5)"
        own = (chars.get(char) or "").split(",")
        if reading not in own and not (reading[-1] == "5" and any(r[:-1] == reading[:-1] for r in own)):
            return f"{char} has no reading {reading} (pypinyin: {','.join(filter(None, own)) or 'none'})"
    return ""


def parse(lines: List[str], chars: Mapping[str, str]) -> Tuple[Dict[str, Tuple[str, str]], List[Tuple[int, str, str]]]:
    """(word -> (readings, note) of every valid row, [(line number, line, why) for every other row]);
    a word given twice is a problem on its second row."""
    words: Dict[str, Tuple[str, str]] = {}
    problems: List[Tuple[int, str, str]] = []
    for number, line in enumerate(lines, 1):
        line = line.rstrip("\r\n")
        if not line.strip() or line.startswith("#"):
            continue
        columns = line.split("\t")
        if len(columns) not in (2, 3):
            problems.append((number, line, f"{len(columns)} tab-separated columns, not word, readings, note"))
            continue
        word, readings = columns[0], columns[1]
        why = entry_problem(word, readings, chars) or ("given twice" if word in words else "")
        if why:
            problems.append((number, line, why))
        else:
            words[word] = (readings, columns[2] if len(columns) == 3 else "")
    return words, problems


def read_lexicon(chars: Mapping[str, str], path: Optional[str] = None) -> Dict[str, str]:
    """word -> its readings (space-separated), from the table at ``path`` (None: the shipped one);
    raises :class:`LexiconError` for a file with any invalid row (a damaged table is refused, not
    half-read)."""
    path = path or PATH
    try:
        with open(path, encoding="utf-8") as handle:
            lines = handle.readlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise LexiconError(f"{path}: cannot read the neutral-tone lexicon: {exc}") from None
    words, problems = parse(lines, chars)
    if problems:
        number, line, why = problems[0]
        raise LexiconError(f"{path}:{number}: {why}: {line!r}" +
                           (f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""))
    return {word: readings for word, (readings, _) in words.items()}


def lexicon_key(path: Optional[str] = None) -> str:
    """The sha256 of the table's content (None: the shipped one), part of the compiled dictionaries'
    cache key."""
    path = path or PATH
    try:
        with open(path, "rb") as handle:
            return hashlib.sha256(handle.read()).hexdigest()
    except OSError:
        return "missing"
