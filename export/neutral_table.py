"""Build pinyin_edge/neutral.tsv, the neutral-tone lexicon, from an annotated word list.

The source has the lexicon's rows (``word<TAB>readings<TAB>note``, see :mod:`pinyin_edge.neutral`).
A row is kept when it passes the runtime's own check (two or more Han characters, one canonical reading
each, every reading one pypinyin's character table has or its tone-5 form), has a light syllable and is
not a second row of the same word; every other row is printed with the reason on stderr. A tone-sandhi
form of 一 or 不 (一点儿 yi4) is written in citation tone, as the runtime reads them (printed too).
``--drop WORD`` leaves a valid word out (a measured trade-off: benchmarks/everyday/neutral_tradeoff.py,
docs/everyday.md). Rows are written sorted by word, notes kept.

    python export/neutral_table.py SOURCE.tsv [--drop WORD ...] [--out pinyin_edge/neutral.tsv]
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HEADER = "# Neutral-tone lexicon (现代汉语词典 conventions): word<TAB>readings (tone3, 5 = light)<TAB>note\n"
CITATION = {"一": {"yi2": "yi1", "yi4": "yi1"}, "不": {"bu2": "bu4"}}  # as runtime.sandhi.SANDHI_FORMS


def select(lines, chars, drop=()):
    """(kept rows as (word, readings, note), rejected rows as (line number, line, reason), rows whose
    一/不 were put in citation tone as (line number, line, new readings))."""
    from pinyin_edge.neutral import parse

    valid, rejected = parse(lines, chars)
    first_row = {}
    for number, line in enumerate(lines, 1):
        first_row.setdefault(line.split("\t")[0], (number, line.rstrip("\r\n")))
    kept, changed = [], []
    for word, (readings, note) in valid.items():
        parts = [CITATION.get(c, {}).get(r, r) for c, r in zip(word, readings.split(" "))]
        if parts != readings.split(" "):
            changed.append((*first_row[word], " ".join(parts)))
        why = ""
        if not any(r.endswith("5") for r in parts):
            why = "no light syllable"
        elif word in drop:
            why = "dropped (--drop)"
        if why:
            rejected.append((*first_row[word], why))
        else:
            kept.append((word, " ".join(parts), note))
    return sorted(kept), sorted(rejected), changed


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("source")
    parser.add_argument("--drop", nargs="*", default=[], help="valid words to leave out")
    parser.add_argument("--out", default=str(ROOT / "pinyin_edge" / "neutral.tsv"))
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    from pypinyin.pinyin_dict import pinyin_dict

    from pinyin_edge.dictionaries import convert_readings

    chars = {chr(cp): ",".join(convert_readings(v)) for cp, v in pinyin_dict.items()}
    with open(args.source, encoding="utf-8") as handle:
        lines = handle.readlines()
    kept, rejected, changed = select(lines, chars, set(args.drop))
    for number, line, why in rejected:
        print(f"rejected {args.source}:{number}: {why}: {line}", file=sys.stderr)
    for number, line, readings in changed:
        print(f"citation tone {args.source}:{number}: {line} -> {readings}", file=sys.stderr)
    with open(args.out, "w", encoding="utf-8") as handle:
        handle.write(HEADER)
        handle.writelines(f"{w}\t{r}\t{n}\n" for w, r, n in kept)
    print(f"{len(kept)} words written to {args.out}, {len(rejected)} rows rejected", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
