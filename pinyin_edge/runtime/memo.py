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


class Memo:
    """A manifest's ``memo`` (reading -> keys, 3 characters each), ready to search: each key packed
    as ``left << 42 | polyphone << 21 | right`` (Unicode needs 21 bits)."""

    def __init__(self, memo: Mapping[str, str]):
        self.readings = tuple(sorted(memo))
        parts = [np.frombuffer(memo[r].encode("utf-32-le"), dtype=np.uint32).reshape(-1, 3).astype(np.int64)
                 for r in self.readings]
        points = np.concatenate(parts) if parts else np.zeros((0, 3), dtype=np.int64)
        keys = (points[:, 0] << 42) | (points[:, 1] << 21) | points[:, 2]
        which = np.repeat(np.arange(len(parts), dtype=np.int32), [len(p) for p in parts])
        order = np.argsort(keys, kind="stable")  # a key under two readings: the first reading wins
        # a last key no text packs to: a search past every real key lands on it, never outside
        self.keys = np.append(keys[order], np.int64(np.iinfo(np.int64).max))
        self.which = np.append(which[order], np.int32(0))
        self.chars = frozenset("".join(memo[r][1::3] for r in self.readings))

    def __len__(self) -> int:
        return int(self.keys.size) - 1

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
        at = self.keys.searchsorted(keys)
        found = (self.keys[at] == keys).tolist()
        which = self.which[at].tolist()
        readings = self.readings
        for k, (t, o) in enumerate(where):
            for j in range(3 * k, 3 * k + 3):
                if found[j]:
                    out[t][o] = readings[which[j]]
                    break
        return out
