"""The bundle's memo: readings its model gave a polyphone in a local context, every time it was seen.

A key is three characters: the polyphone's left neighbour, the polyphone, its right neighbour
(:data:`~pinyin_edge.bundle.MEMO_EDGE` at the text's edge). A two-character key leaves one side
:data:`~pinyin_edge.bundle.MEMO_ANY`. A position is looked up by its full key first, then with the
right side left out, then with the left side left out; the first key found gives the reading, and the
model does not run for that position (nor for a text whose every position is found).

In memory: one sorted ``int64`` array of packed keys (21 bits per code point) and the reading of each,
searched with one ``searchsorted`` per call, rather than a dict of tuples.
"""
from __future__ import annotations

from typing import AbstractSet, Dict, List, Mapping, Optional, Sequence

import numpy as np

from ..bundle import MEMO_ANY, MEMO_EDGE

_EDGE, _ANY = ord(MEMO_EDGE), ord(MEMO_ANY)


def pack(left: int, char: int, right: int) -> int:
    """A key's three code points as one integer (Unicode needs 21 bits)."""
    return (left << 42) | (char << 21) | right


class Memo:
    """A manifest's ``memo`` (reading -> keys, 3 characters each), ready to search."""

    def __init__(self, memo: Mapping[str, str]):
        self.readings = tuple(sorted(memo))
        keys: List[int] = []
        which: List[int] = []
        chars = set()
        for index, reading in enumerate(self.readings):
            points = [ord(c) for c in memo[reading]]
            for k in range(0, len(points), 3):
                keys.append(pack(*points[k:k + 3]))
                which.append(index)
                chars.add(chr(points[k + 1]))
        order = np.argsort(np.array(keys, dtype=np.int64), kind="stable")
        self.keys = np.array(keys, dtype=np.int64)[order]
        self.which = np.array(which, dtype=np.int32)[order]
        self.chars = frozenset(chars)

    def __len__(self) -> int:
        return int(self.keys.size)

    def lookup(self, texts: Sequence[str], skip: Sequence[Optional[AbstractSet[int]]]) -> List[Dict[int, str]]:
        """Per text: offset -> the memo's reading, for each memo polyphone outside ``skip``."""
        chars = self.chars
        where: List[tuple] = []
        packed: List[int] = []
        for t, text in enumerate(texts):
            offsets = [o for o, c in enumerate(text) if c in chars]
            if not offsets:
                continue
            unwanted = skip[t]
            last = len(text) - 1
            for o in offsets:
                if unwanted and o in unwanted:
                    continue
                left = ord(text[o - 1]) if o else _EDGE
                right = ord(text[o + 1]) if o < last else _EDGE
                middle = ord(text[o]) << 21
                where.append((t, o))
                packed += [(left << 42) | middle | right, (left << 42) | middle | _ANY, (_ANY << 42) | middle | right]
        out: List[Dict[int, str]] = [{} for _ in texts]
        if not where:
            return out
        keys = np.array(packed, dtype=np.int64)
        at = np.searchsorted(self.keys, keys)
        np.minimum(at, self.keys.size - 1, out=at)
        found = (self.keys[at] == keys).reshape(-1, 3)
        which = self.which[at].reshape(-1, 3)
        readings = self.readings
        for (t, o), hits, index in zip(where, found.tolist(), which.tolist()):
            for hit, i in zip(hits, index):
                if hit:
                    out[t][o] = readings[i]
                    break
        return out

