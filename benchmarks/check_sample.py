"""`dict check` precision: a word list with pypinyin's readings as the written ones, checked at P.

Takes the held-out word list that ``benchmarks/words.py`` writes (``runs/words/test.tsv``: words from
CPP test and g2pL test, each with its labelled polyphone's gold reading), writes it as a plain list
``word<TAB>pypinyin's reading`` (``runs/words/pypinyin_readings.txt``), runs ``pinyin-edge dict check``
on it and writes every flagged entry with the gold reading of its labelled character beside it
(``runs/words/flagged.tsv``), in a random order, for reading by hand. Prints how many flagged entries
the gold label says pypinyin reads wrongly (a first estimate; the hand reading decides).

    PYTHONPATH=. python benchmarks/check_sample.py [--min-confidence 0.9] [--sample 50]
"""
from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", default=os.path.join(ROOT, "runs", "words"))
    parser.add_argument("--min-confidence", type=float, default=0.9)
    parser.add_argument("--sample", type=int, default=50)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    from pypinyin import Style, lazy_pinyin

    with open(os.path.join(args.runs, "test.tsv"), encoding="utf-8") as handle:
        handle.readline()
        items = [line.rstrip("\n").split("\t") for line in handle]
    gold = {w: (int(o), g) for w, o, g in items}
    listed = os.path.join(args.runs, "pypinyin_readings.txt")
    with open(listed, "w", encoding="utf-8") as handle:
        for word, _, _ in items:
            readings = lazy_pinyin(word, style=Style.TONE3, neutral_tone_with_five=True)
            handle.write(f"{word}\t{' '.join(readings)}\n")
    done = subprocess.run([sys.executable, "-m", "pinyin_edge.cli", "dict", "check", listed, "--format", "plain",
                           "--json", "--quiet", "--min-confidence", str(args.min_confidence)],
                          capture_output=True, text=True, check=True, cwd=ROOT)
    records = [json.loads(line) for line in done.stdout.splitlines()]
    summary = records.pop()["summary"]
    rows = []
    for r in records:
        offset, reading = gold[r["word"]]
        written = r["written"].split()
        rows.append({**r, "gold_offset": offset, "gold": reading,
                     "written_right_at_gold": written[offset] == reading,
                     "ours_right_at_gold": r["ours"][0]["reading"].split()[offset] == reading})
    random.Random(args.seed).shuffle(rows)
    with open(os.path.join(args.runs, "flagged.tsv"), "w", encoding="utf-8") as handle:
        handle.write("word\twritten (pypinyin)\tours\tconfidence\tgold char\tgold\n")
        for r in rows:
            handle.write(f"{r['word']}\t{r['written']}\t{r['ours'][0]['reading']}\t{r['confidence']:.3f}\t"
                         f"{r['word'][r['gold_offset']]}\t{r['gold']}\n")
    sample = rows[:args.sample]
    print(json.dumps({"summary": summary, "flagged": len(rows),
                      "flagged_where_gold_says_written_wrong": sum(not r["written_right_at_gold"] for r in rows),
                      "flagged_where_gold_says_ours_right": sum(r["ours_right_at_gold"] for r in rows),
                      "sample": len(sample),
                      "sample_where_gold_says_written_wrong": sum(not r["written_right_at_gold"] for r in sample)},
                     ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
