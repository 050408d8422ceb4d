"""Readers for labelled polyphone data and unlabelled corpora.

Formats (all normalised to canonical readings on load):

* CPP-style ``X.sent`` + ``X.lb`` (CPP, g2pL): the labelled character is wrapped in U+2581 on both
  sides; line N of ``X.lb`` is its reading.
* cpp-subset TSV with the header ``file char pinyin sentence note``.
* full-sentence TSV ``text<TAB>readings``: one space-separated reading per Han character of text
  (``-`` marks a character left unlabelled, as weak-label files do). A teacher's soft label is
  written ``reading=p|reading=p`` (``hang2=0.9|xing2=0.1``); the most probable reading is the label.

A malformed line raises :class:`DataError` naming the file and line; ``skip_bad=True`` skips it and
counts it in :attr:`Dataset.skipped` instead.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Iterable, Iterator, List, Optional, Sequence, Tuple

from .readings import ReadingError, is_han, normalize

MARK = "\u2581"


class DataError(ValueError):
    """A malformed data file; the message names the file and line number."""


Soft = Tuple[Tuple[str, float], ...]  # a teacher's readings with probabilities, most probable first


@dataclass(frozen=True)
class Example:
    """One sentence with labelled character offsets: ``labels`` holds (offset, canonical reading).
    ``soft`` maps some labelled offsets to a teacher's distribution (its argmax is the label)."""

    text: str
    labels: Tuple[Tuple[int, str], ...]
    source: str = ""
    soft: Tuple[Tuple[int, Soft], ...] = ()


@dataclass
class Dataset:
    examples: List[Example] = field(default_factory=list)
    skipped: int = 0
    errors: List[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.examples)

    def __iter__(self) -> Iterator[Example]:
        return iter(self.examples)

    def labelled_pairs(self) -> Iterator[Tuple[str, str]]:
        for ex in self.examples:
            for offset, reading in ex.labels:
                yield ex.text[offset], reading

    def num_labels(self) -> int:
        return sum(len(ex.labels) for ex in self.examples)


def _open_lines(path: str) -> List[str]:
    try:
        with open(path, encoding="utf-8") as handle:
            # Lines end at \n only: str.splitlines() would also split at \v, \f, U+2028... inside text.
            text = handle.read()
    except FileNotFoundError:
        raise DataError(f"{path}: no such file") from None
    except UnicodeDecodeError as exc:
        raise DataError(f"{path}: not UTF-8 ({exc.reason} at byte {exc.start})") from None
    lines = [line[:-1] if line.endswith("\r") else line for line in text.split("\n")]
    return lines[:-1] if lines and lines[-1] == "" else lines


class _Collector:
    def __init__(self, skip_bad: bool):
        self.skip_bad = skip_bad
        self.dataset = Dataset()

    def bad(self, path: str, lineno: int, why: str) -> None:
        message = f"{path}:{lineno}: {why}"
        if not self.skip_bad:
            raise DataError(message + " (use --skip-bad to skip such lines)")
        self.dataset.skipped += 1
        self.dataset.errors.append(message)


def _reading(raw: str) -> str:
    return normalize(raw)


def parse_marked(sentence: str) -> Tuple[str, int]:
    """``回到▁了▁星球`` -> (``回到了星球``, 2). Raises ValueError for a missing or extra pair."""
    count = sentence.count(MARK)
    if count != 2:
        raise ValueError(f"expected one {MARK}X{MARK} pair, found {count} marks")
    start = sentence.index(MARK)
    end = sentence.index(MARK, start + 1)
    if end != start + 2:
        raise ValueError(f"the marks must wrap exactly one character, found {end - start - 1}")
    return sentence[:start] + sentence[start + 1] + sentence[end + 1:], start


def read_cpp(sent_path: str, lb_path: Optional[str] = None, skip_bad: bool = False) -> Dataset:
    """Read a CPP-style ``X.sent``; labels come from ``X.lb`` beside it unless given."""
    if lb_path is None:
        lb_path = os.path.splitext(sent_path)[0] + ".lb"
    sentences = _open_lines(sent_path)
    labels = _open_lines(lb_path)
    if len(sentences) != len(labels):
        raise DataError(
            f"{lb_path}: {len(labels)} labels for {len(sentences)} sentences in {sent_path}")
    out = _Collector(skip_bad)
    for lineno, (sentence, label) in enumerate(zip(sentences, labels), 1):
        try:
            text, offset = parse_marked(sentence)
        except ValueError as exc:
            out.bad(sent_path, lineno, str(exc))
            continue
        if not is_han(text[offset]):
            out.bad(sent_path, lineno, f"labelled character {text[offset]!r} is not Han")
            continue
        try:
            reading = _reading(label)
        except ReadingError as exc:
            out.bad(lb_path, lineno, str(exc))
            continue
        out.dataset.examples.append(Example(text, ((offset, reading),), f"{sent_path}:{lineno}"))
    return out.dataset


SUBSET_HEADER = ["file", "char", "pinyin", "sentence", "note"]


def read_subset_tsv(path: str, skip_bad: bool = False) -> Dataset:
    """The cpp-subset TSV: the labelled character is the first occurrence of ``char``."""
    lines = _open_lines(path)
    out = _Collector(skip_bad)
    for lineno, line in enumerate(lines[1:], 2):
        if not line.strip():
            continue
        cols = line.split("\t")
        if len(cols) < 4:
            out.bad(path, lineno, f"expected {len(SUBSET_HEADER)} tab-separated columns, found {len(cols)}")
            continue
        char, raw, sentence = cols[1], cols[2], cols[3]
        if len(char) != 1 or char not in sentence:
            out.bad(path, lineno, f"character {char!r} does not occur in the sentence")
            continue
        try:
            reading = _reading(raw)
        except ReadingError as exc:
            out.bad(path, lineno, str(exc))
            continue
        out.dataset.examples.append(
            Example(sentence, ((sentence.index(char), reading),), f"{path}:{lineno}"))
    return out.dataset


SOURCES = "sources.json"  # beside prepared data: the inputs' sha256 and the settings (prepare writes it)
UNLABELLED = "-"
SOFT_SEP, SOFT_EQ = "|", "="


def parse_soft(raw: str) -> Soft:
    """``hang2=0.9|xing2=0.1`` -> (("hang2", 0.9), ("xing2", 0.1)), readings normalised, most
    probable first. Raises ReadingError or ValueError."""
    pairs = []
    for item in raw.split(SOFT_SEP):
        reading, eq, prob = item.partition(SOFT_EQ)
        try:
            p = float(prob) if eq else float("nan")
        except ValueError:
            p = float("nan")
        if not 0.0 <= p <= 1.0:  # also refuses nan
            raise ValueError(f"soft label {raw!r}: {item!r} is not reading=probability")
        pairs.append((_reading(reading), p))
    return tuple(sorted(pairs, key=lambda pair: -pair[1]))


def format_soft(pairs: Soft) -> str:
    return SOFT_SEP.join(f"{reading}{SOFT_EQ}{p:.3g}" for reading, p in pairs)


def read_sentence_tsv(path: str, skip_bad: bool = False) -> Dataset:
    """``text<TAB>readings``: one reading per Han character (``-`` leaves that character unlabelled)."""
    out = _Collector(skip_bad)
    for lineno, line in enumerate(_open_lines(path), 1):
        if not line.strip():
            continue
        cols = line.split("\t")
        if len(cols) != 2:
            out.bad(path, lineno, f"expected text<TAB>readings, found {len(cols)} columns")
            continue
        text, readings = cols[0], cols[1].split()
        han = [i for i, ch in enumerate(text) if is_han(ch)]
        if len(readings) != len(han):
            out.bad(path, lineno, f"{len(readings)} readings for {len(han)} Han characters")
            continue
        labels, soft = [], []
        try:
            for offset, raw in zip(han, readings):
                if raw == UNLABELLED:
                    continue
                if SOFT_EQ in raw:
                    soft.append((offset, parse_soft(raw)))
                    labels.append((offset, soft[-1][1][0][0]))
                else:
                    labels.append((offset, _reading(raw)))
        except (ReadingError, ValueError) as exc:
            out.bad(path, lineno, str(exc))
            continue
        out.dataset.examples.append(Example(text, tuple(labels), f"{path}:{lineno}", tuple(soft)))
    return out.dataset


def read_labelled(path: str, skip_bad: bool = False) -> Dataset:
    """Read any supported labelled file, choosing the reader from its name and header."""
    if path.endswith(".sent"):
        return read_cpp(path, skip_bad=skip_bad)
    if path.endswith(".tsv"):
        lines = _open_lines(path)
        if lines and lines[0].split("\t")[:4] == SUBSET_HEADER[:4]:
            return read_subset_tsv(path, skip_bad=skip_bad)
        return read_sentence_tsv(path, skip_bad=skip_bad)
    raise DataError(f"{path}: unknown format (expected X.sent with X.lb beside it, or a .tsv file)")


def read_many(paths: Sequence[str], skip_bad: bool = False) -> Dataset:
    merged = Dataset()
    for path in paths:
        part = read_labelled(path, skip_bad=skip_bad)
        merged.examples.extend(part.examples)
        merged.skipped += part.skipped
        merged.errors.extend(part.errors)
    return merged


def test_sentences(paths: Iterable[str]) -> List[str]:
    """Plain sentences of labelled test files, for dropping them from a pretraining corpus."""
    out: List[str] = []
    for path in paths:
        out.extend(ex.text for ex in read_labelled(path, skip_bad=True))
    return out


def iter_corpus(paths: Sequence[str]) -> Iterator[str]:
    """Non-empty stripped lines of UTF-8 corpus files (undecodable bytes replaced)."""
    for path in paths:
        if not os.path.exists(path):
            raise DataError(f"{path}: no such file")
        with open(path, encoding="utf-8", errors="replace") as handle:
            for line in handle:
                line = line.strip()
                if line:
                    yield line
