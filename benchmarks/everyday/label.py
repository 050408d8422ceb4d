"""Build the everyday set's gold labels from the pre-labels, the conventions and the hand adjudications.

    python benchmarks/everyday/label.py prelabel.tsv > benchmarks/everyday/everyday.tsv

For each Han character, in this order (a later step overrides an earlier one):

1. the majority of pypinyin, g2pM and pinyin-edge (pypinyin where all three differ);
2. citation tones for 一 (yi1) and 不 (bu4): no tone sandhi; 谁 reads shei2 (the dictionary's first reading);
3. suffix 儿 (after another Han character, outside the words in ``ER_ROOT``) reads er5;
4. words of ``neutral.tsv`` (现代汉语词典's light syllables) wherever they occur, longest first;
5. ``adjudicated.tsv``: the hand decisions, one sentence a line, ``text<TAB>C=reading C#2=reading``
   (``C=`` every occurrence of character C in that sentence, ``C#k=`` its k-th occurrence).

Every sentence was read after these steps (docs/everyday.md); step 5 holds what that reading changed.
"""
from __future__ import annotations

import os
import sys
from collections import Counter
from typing import Dict, List, Tuple

from pinyin_edge.readings import is_han, normalize

HERE = os.path.dirname(os.path.abspath(__file__))
CITATION = {"一": "yi1", "不": "bu4", "谁": "shei2"}  # 谁: 现代汉语词典 lists shéi first
# 儿 as a root (full tone), not the erhua suffix.
ER_ROOT = ("儿子", "儿童", "儿女", "女儿", "婴儿", "幼儿", "孤儿", "健儿", "男儿", "少儿", "宠儿", "胎儿",
           "患儿", "托儿", "孙儿", "儿科", "儿媳")


def read_table(path: str) -> List[List[str]]:
    with open(path, encoding="utf-8") as handle:
        return [line.rstrip("\n").split("\t") for line in handle
                if line.strip() and not line.startswith("#")]


def neutral_words() -> Dict[str, List[str]]:
    out = {}
    for word, readings in read_table(os.path.join(HERE, "neutral.tsv")):
        items = readings.split()
        if len(items) != len(word):
            raise ValueError(f"neutral.tsv: {word}: {len(items)} readings for {len(word)} characters")
        out[word] = [normalize(r) for r in items]
    return out


def adjudications() -> Dict[str, List[Tuple[str, int, str]]]:
    out: Dict[str, List[Tuple[str, int, str]]] = {}
    for text, spec in read_table(os.path.join(HERE, "adjudicated.tsv")):
        items = []
        for item in spec.split():
            key, _, reading = item.partition("=")
            char, _, nth = key.partition("#")
            items.append((char, int(nth) if nth else 0, normalize(reading)))
        if text in out:
            raise ValueError(f"adjudicated.tsv: {text} twice")
        out[text] = items
    return out


def is_er_root(text: str, i: int) -> bool:
    """Whether 儿 at offset i lies inside one of the ``ER_ROOT`` words."""
    for word in ER_ROOT:
        start = text.find(word)
        while start >= 0:
            if start <= i < start + len(word):
                return True
            start = text.find(word, start + 1)
    return False


def gold(text: str, systems: List[List[str]], words: Dict[str, List[str]],
         fixes: List[Tuple[str, int, str]]) -> List[str]:
    han = [i for i, ch in enumerate(text) if is_han(ch)]
    out: Dict[int, str] = {}
    for k, i in enumerate(han):
        votes = Counter(s[k] for s in systems)
        reading, n = votes.most_common(1)[0]
        out[i] = reading if n >= 2 else systems[0][k]
        if text[i] in CITATION:
            out[i] = CITATION[text[i]]
        if text[i] == "儿" and i > 0 and is_han(text[i - 1]) and not is_er_root(text, i):
            out[i] = "er5"
    longest = max(map(len, words))
    i = 0
    while i < len(text):
        for size in range(longest, 1, -1):
            if text[i:i + size] in words:
                for j, r in enumerate(words[text[i:i + size]]):
                    out[i + j] = r
                i += size
                break
        else:
            i += 1
    for char, nth, reading in fixes:
        places = [i for i, ch in enumerate(text) if ch == char]
        if not places or nth > len(places):
            raise ValueError(f"adjudicated.tsv: {text}: no {char}#{nth}")
        for i in (places if nth == 0 else [places[nth - 1]]):
            out[i] = reading
    return [out[i] for i in han]


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    words, fixes = neutral_words(), adjudications()
    seen = set()
    for cols in read_table(argv[0]):
        text, systems = cols[0], [c.split() for c in cols[1:4]]
        seen.add(text)
        print(f"{text}\t{' '.join(gold(text, systems, words, fixes.get(text, [])))}")
    unused = set(fixes) - seen
    if unused:
        raise ValueError(f"adjudicated.tsv: {len(unused)} sentences not in the input, e.g. {sorted(unused)[0]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
