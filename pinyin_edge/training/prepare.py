"""Data preparation for fine-tuning, its own step: held-out split and weak labels.

* ``split``: the labelled training files, minus a deterministic held-out slice of one of them
  (CPP dev) kept for model selection; written as full-sentence TSV (``-`` = unlabelled).
* ``weak``: weak labels over the unlabelled corpus. ``--weak-mode sentence`` (default) labels every
  polyphone as pypinyin reads the whole sentence (its phrases where one matches, its default reading
  elsewhere): pypinyin's own distribution. ``distill`` (with ``--teacher BUNDLE``) writes soft
  labels, the bundle's probabilities times g2pM's (:mod:`pinyin_edge.training.teachers`), for the
  student to learn whole distributions. Lines containing a test sentence are dropped first.

    pinyin-edge prepare --data ../shared/data --out runs/data
    -> gold_train.tsv (all gold), gold_cpp.tsv (its CPP part), dev_cpp.tsv, weak_sentence.tsv,
       sources.json (the sha256 of every input file read and the settings: what export records)
"""
from __future__ import annotations

import os
import random
import sys
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

from ..bundle import sha256_file
from ..candidates import CandidateTable
from ..data import SOURCES, UNLABELLED, Example, format_soft, iter_corpus, read_labelled, test_sentences
from ..readings import is_han
from .pretrain import drop_test_lines


def write_tsv(path: str, examples: Iterable[Example]) -> int:
    """Write examples as ``text<TAB>readings`` (``-`` for unlabelled Han characters)."""
    n = 0
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    with open(path + ".tmp", "w", encoding="utf-8") as handle:
        for ex in examples:
            if "\t" in ex.text or "\n" in ex.text:
                continue
            labels = {**dict(ex.labels), **{o: format_soft(pairs) for o, pairs in ex.soft}}
            cols = [labels.get(i, UNLABELLED) for i, ch in enumerate(ex.text) if is_han(ch)]
            handle.write(f"{ex.text}\t{' '.join(cols)}\n")
            n += 1
    os.replace(path + ".tmp", path)
    return n


def polyphone_labels(text: str, pairs, table: CandidateTable) -> Tuple[Tuple[int, str], ...]:
    """The (offset, reading) pairs that make weak labels: a polyphone, read as one of its candidates."""
    return tuple((offset, reading) for offset, reading in pairs
                 if reading is not None and table.is_polyphone(text[offset]) and reading in table.get(text[offset]))


def sentence_label(text: str, table: CandidateTable) -> Tuple[Tuple[int, str], ...]:
    """Labels for every polyphone from pypinyin's sentence-level answer (phrases where it matches
    one, its default reading elsewhere): pypinyin's own distribution."""
    from ..runtime.phrases import sentence_readings

    return polyphone_labels(text, enumerate(sentence_readings(text)), table)


def _distill(bundle: str):
    from .teachers import EnsembleTeacher

    return EnsembleTeacher(bundle)


LABELLERS = {"sentence": lambda: sentence_label, "distill": _distill}
NEEDS_TEACHER = ("distill",)


TEACHER_RULE = "--teacher BUNDLE goes with --weak-mode distill, and only with it"


def make_labeller(mode: str, teacher: Optional[str] = None):
    if mode not in LABELLERS:
        raise ValueError(f"unknown weak-label mode {mode!r}; choose one of: {', '.join(sorted(LABELLERS))}")
    if (mode in NEEDS_TEACHER) != bool(teacher):
        raise ValueError(TEACHER_RULE)
    return LABELLERS[mode](teacher) if teacher else LABELLERS[mode]()


def chunks(line: str, size: int) -> List[str]:
    """Split a long line at sentence punctuation into pieces of at most ``size`` characters."""
    if len(line) <= size:
        return [line]
    out, current = [], ""
    for char in line:
        current += char
        if (char in "。！？；!?;" and len(current) >= size // 4) or len(current) >= size:
            out.append(current)
            current = ""
    if current:
        out.append(current)
    return out


def rare_chars(gold_paths: Sequence[str], below: int) -> set:
    """Polyphones (pypinyin's table) that the gold files label fewer than ``below`` times."""
    counts: Dict[str, int] = {}
    for path in gold_paths:
        for char, _ in read_labelled(path).labelled_pairs():
            counts[char] = counts.get(char, 0) + 1
    return {c for c in CandidateTable.from_pypinyin().polyphones() if counts.get(c, 0) < below}


def make_weak(corpus: Sequence[str], exclude: Sequence[str], max_chars: int, limit: Optional[int],
              seed: int, mode: str = "sentence", texts: Optional[str] = None,
              focus: Optional[set] = None, per_char: int = 0, teacher: Optional[str] = None) -> List[Example]:
    """Weak-labelled sentences from the corpus (or, with ``texts``, from the sentences of an earlier
    weak-label file, already filtered and chunked). With ``focus``, only sentences holding a focus
    character are labelled, only focus characters keep labels, and each focus character gets at most
    ``per_char`` sentences: the teacher's knowledge where gold data is thin."""
    if texts:
        lines = [ex.text for ex in read_labelled(texts)]
    else:
        lines = list(iter_corpus(corpus))
        if exclude:
            lines = drop_test_lines(lines, test_sentences(exclude))
        random.Random(seed).shuffle(lines)
    label = make_labeller(mode, teacher)
    table = CandidateTable.from_pypinyin()
    out: List[Example] = []
    taken: Dict[str, int] = {}
    for n, line in enumerate(lines):
        for piece in chunks(line, max_chars):
            if focus is not None:
                wanted = {c for c in piece if c in focus and (not per_char or taken.get(c, 0) < per_char)}
                if not wanted:
                    continue
            soft = ()
            if getattr(label, "soft", False):
                soft = tuple(sorted(label(piece, table).items()))
                labels = tuple((o, pairs[0][0]) for o, pairs in soft)
            else:
                labels = label(piece, table)
            if focus is not None:
                labels = tuple((o, r) for o, r in labels if piece[o] in wanted)
                soft = tuple((o, pairs) for o, pairs in soft if piece[o] in wanted)
                for char in {piece[o] for o, _ in labels}:
                    taken[char] = taken.get(char, 0) + 1
            if labels:
                out.append(Example(piece, labels, "weak", soft))
        if limit and len(out) >= limit:
            break
        if n % 20000 == 0:
            print(f"weak labels: {n}/{len(lines)} lines, {len(out)} sentences", file=sys.stderr)
    return out


def write_sources(out: str, data: str, inputs: Sequence[str], settings: dict) -> None:
    """``OUT/sources.json``: each input's path under ``data`` with its sha256, and the settings, so a
    bundle's manifest can name the exact data it was built from. A later run in the same folder
    (``--weak-only``) adds its inputs and settings under its output's name."""
    import json

    path = os.path.join(out, SOURCES)
    record = {}
    if os.path.isfile(path):
        with open(path, encoding="utf-8") as handle:
            record = json.load(handle)
    for file in inputs:
        rel = os.path.relpath(file, data).replace(os.sep, "/")
        record.setdefault("inputs", {})[rel] = sha256_file(file)
    record.setdefault("settings", {}).update(settings)
    os.makedirs(out, exist_ok=True)
    with open(path + ".tmp", "w", encoding="utf-8") as handle:
        json.dump(record, handle, ensure_ascii=False, indent=1, sort_keys=True)
    os.replace(path + ".tmp", path)


def prepare_data(data: str, out: str, holdout: int = 1000, weak_limit: int = 400000, max_chars: int = 120,
                 seed: int = 0, weak_mode: str = "sentence", teacher: Optional[str] = None,
                 weak_texts: Optional[str] = None, weak_only: bool = False, weak_out: Optional[str] = None,
                 focus_rare: int = 0, per_char: int = 200, log=print) -> None:
    """``pinyin-edge prepare``: the gold split and the weak labels from the shared data folder ``data``."""
    if weak_mode not in LABELLERS:
        raise ValueError(f"unknown weak-label mode {weak_mode!r}; choose one of {', '.join(sorted(LABELLERS))}")
    if (weak_mode in NEEDS_TEACHER) != bool(teacher):
        raise ValueError(TEACHER_RULE)  # before the corpus is read, not after
    if focus_rare and not weak_only:
        raise ValueError("--focus-rare needs --weak-only (and gold_train.tsv from an earlier run in --out)")
    poly = os.path.join(data, "polyphone")
    tests = [os.path.join(poly, rel) for rel in ("cpp/test.sent", "g2pl/test.sent", "cpp-subset/test.tsv")]
    corpus = sorted(os.path.join(data, "corpus", f) for f in os.listdir(os.path.join(data, "corpus"))
                    if f.endswith(".txt"))
    weak_path = weak_out or os.path.join(out, f"weak_{weak_mode}{'_rare' if focus_rare else ''}.tsv")
    if weak_only:
        focus = rare_chars([os.path.join(out, "gold_train.tsv")], focus_rare) if focus_rare else None
        weak = make_weak(corpus, tests, max_chars, weak_limit, seed, weak_mode, weak_texts, focus=focus,
                         per_char=per_char, teacher=teacher)
        log(f"weak: {write_tsv(weak_path, weak)} sentences, {sum(len(e.labels) for e in weak)} labels")
        settings = {"weak_mode": weak_mode, "weak_limit": weak_limit, "max_chars": max_chars, "seed": seed,
                    "focus_rare": focus_rare, "per_char": per_char}
        if teacher:
            from ..bundle import load_bundle
            settings["teacher_graph_sha256"] = load_bundle(teacher)[0].graph_sha256
        write_sources(out, data, [] if weak_texts else tests + corpus,
                      {os.path.basename(weak_path): settings})
        return
    cpp_dev = list(read_labelled(os.path.join(poly, "cpp", "dev.sent")))
    random.Random(seed).shuffle(cpp_dev)
    held_out, cpp_train = cpp_dev[:holdout], cpp_dev[holdout:]
    gold = list(cpp_train)
    for rel in ("g2pl/train.sent", "g2pl/dev.sent", "cpp-subset/train.tsv"):
        part = read_labelled(os.path.join(poly, rel), skip_bad=True)
        for error in part.errors:
            print(f"skipped malformed line: {error}", file=sys.stderr)
        gold.extend(part)
    log(f"gold train: {write_tsv(os.path.join(out, 'gold_train.tsv'), gold)} sentences")
    # CPP's part on its own too, so training can oversample it (pass it to --train again)
    log(f"gold CPP part: {write_tsv(os.path.join(out, 'gold_cpp.tsv'), cpp_train)} sentences")
    log(f"dev (CPP dev slice): {write_tsv(os.path.join(out, 'dev_cpp.tsv'), held_out)} sentences")
    weak = make_weak(corpus, tests, max_chars, weak_limit, seed, weak_mode, weak_texts, teacher=teacher)
    log(f"weak: {write_tsv(weak_path, weak)} sentences, {sum(len(e.labels) for e in weak)} labels")
    labelled = [os.path.join(poly, rel) for rel in ("cpp/dev.sent", "cpp/dev.lb", "g2pl/train.sent", "g2pl/train.lb",
                                                   "g2pl/dev.sent", "g2pl/dev.lb", "cpp-subset/train.tsv")]
    write_sources(out, data, [p for p in labelled + tests + corpus if os.path.isfile(p)],
                  {"split": {"holdout": holdout, "seed": seed},
                   os.path.basename(weak_path): {"weak_mode": weak_mode, "weak_limit": weak_limit,
                                                 "max_chars": max_chars, "seed": seed}})
