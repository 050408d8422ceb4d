"""Long texts in pieces: memory bounded by the piece size, results given back piece by piece, and the
same readings as the whole text converted at once.

A piece keeps the characters ``[keep_from, keep_to)`` and is converted with context on both sides,
``text[start:end]``. The cuts are chosen so that nothing a kept character's decision reads differs
from the whole text's:

* **phrases, overrides, tone sandhi**: a *breaker* (a character that is not Han, is in no override
  phrase and has no reading: punctuation, a space, Latin) lies inside the context on each side.
  pypinyin's phrases are all Han, so no phrase, override match or sandhi run crosses a breaker, and
  the maximum-matching segmentation and the override matcher restart there exactly as they do in the
  whole text;
* **model windows**: the predictor lays windows on a fixed lattice of token positions (core
  boundaries at ``F + S*k`` tokens, ``F = max_content - margin``, ``S = max_content - 2*margin``;
  see ``predictor.window_spans``). Cuts are lattice points ``b``; a piece starts ``F`` tokens before
  its first kept token (a multiple of ``S``) and ends at least ``margin`` tokens after its last, so
  every window deciding a kept character covers the same tokens in the piece as in the whole text.

With a graph whose rows do not depend on each other (see ``exporters.requantize``) the readings and
probabilities are then identical; a text with no breaker for ``max_scan`` characters is cut anyway
(the context on each side then only makes a difference unlikely).
"""
from __future__ import annotations

from typing import Callable, Iterator, List, NamedTuple, Optional

import numpy as np

PIECE_CHARS = 4096  # characters kept per piece (about: cuts fall on lattice points); texts up to
                   # twice as long are converted whole


class Piece(NamedTuple):
    """``text[start:end]`` is converted; the results of characters ``[keep_from, keep_to)`` are kept."""

    start: int
    keep_from: int
    keep_to: int
    end: int


def _lattice_at_or_after(token: int, first: int, stride: int) -> int:
    return first if token <= first else first + -(-(token - first) // stride) * stride


def pieces(text: str, has_token: Callable[[str], np.ndarray], breakers: Callable[[str], np.ndarray],
           max_content: int, margin: int, piece_chars: int = PIECE_CHARS,
           max_scan: Optional[int] = None) -> Iterator[Piece]:
    """Cut ``text`` into :class:`Piece` s (see the module docstring). ``has_token(s)`` and
    ``breakers(s)``: per character of ``s``, whether it gets a model token, whether it is a breaker."""
    n = len(text)
    first, stride = max_content - margin, max_content - 2 * margin
    if n <= 2 * piece_chars or stride < 1:
        yield Piece(0, 0, n, n)
        return
    max_scan = max_scan or piece_chars // 4
    start, keep_from, token_at_keep = 0, 0, 0  # token_at_keep: tokens in text[:keep_from]
    while n - keep_from > 2 * piece_chars:
        region_to = min(n, keep_from + piece_chars + 2 * max_scan)
        region = text[start:region_to]
        marks = has_token(region)
        counts = np.cumsum(marks)  # tokens in region[:i + 1]
        before = token_at_keep - (int(counts[keep_from - start - 1]) if keep_from > start else 0)
        token_chars = np.flatnonzero(marks) + start  # the character of each token of the region
        stops = np.flatnonzero(breakers(region)) + start

        def char_of(token: int) -> int:
            local = token - before
            return int(token_chars[local]) if 0 <= local < token_chars.size else -1

        target = before + int(counts[keep_from + piece_chars - start - 1])
        cut = _lattice_at_or_after(max(target, token_at_keep + 1), first, stride)
        chosen = None
        for _ in range(piece_chars):  # lattice points until the scan runs out
            b_char, left, right = char_of(cut), char_of(cut - first), char_of(cut + margin)
            if min(b_char, left, right) < 0 or b_char - keep_from > piece_chars + max_scan:
                break
            # a breaker in [left, b_char - 1] (left context of the next piece) and one at or after
            # b_char - 1 (right context of this one)
            at = int(np.searchsorted(stops, b_char - 1))
            back = at < stops.size and stops[at] == b_char - 1 or (at > 0 and stops[at - 1] >= left)
            if back and at < stops.size and stops[at] - (b_char - 1) < max_scan:
                chosen = (cut, b_char, left, max(right + 1, int(stops[at]) + 1))
                break
            cut += stride
        if chosen is None:  # no breaker in reach: cut at the first lattice point anyway
            cut = _lattice_at_or_after(max(target, token_at_keep + 1), first, stride)
            b_char, left, right = char_of(cut), char_of(cut - first), char_of(cut + margin)
            if min(b_char, left, right) < 0:
                break  # too few tokens to cut on: the rest is one piece
            chosen = (cut, b_char, left, min(n, right + 1 + max_scan))
        cut, b_char, left, end = chosen
        if end >= n:
            break
        yield Piece(start, keep_from, b_char, end)
        start, keep_from, token_at_keep = left, b_char, cut
    yield Piece(start, keep_from, n, n)


def g2p_pieces(g2p, text: str, piece_chars: Optional[int] = None) -> Iterator[Piece]:
    """:func:`pieces` for a :class:`~pinyin_edge.runtime.g2p.G2P` (its model's lattice, its
    overrides and dictionary)."""
    from ..readings import is_han
    from .tokenizer import code_points

    predictor = g2p.predictor
    tokenizer = predictor.tokenizer
    kept = {c for c in "".join(g2p._overrides.table)} | {c for c in g2p.manifest.dictionary if not is_han(c)}
    kept_points = np.array(sorted(ord(c) for c in kept if len(c) == 1), dtype=np.uint32)

    def has_token(piece: str) -> np.ndarray:
        return tokenizer.encode(piece, add_special_tokens=False).positions >= 0

    def breakers(piece: str) -> np.ndarray:
        han = np.fromiter(map(is_han, piece), dtype=bool, count=len(piece))
        return ~han & ~np.isin(code_points(piece), kept_points)

    return pieces(text, has_token, breakers, predictor.max_content, predictor.margin, piece_chars or PIECE_CHARS)


def in_pieces(g2p, text: str, convert: Callable[[List[str]], list], group: int = 8,
              piece_chars: Optional[int] = None, with_pieces: bool = False) -> Iterator[list]:
    """``convert`` (a list of texts -> a list of per-character results) over ``text``'s pieces,
    ``group`` pieces per call; yields each piece's kept results in order (with ``with_pieces``,
    ``(piece, results)``)."""
    batch: List[Piece] = []

    def flush():
        results = convert([text[p.start:p.end] for p in batch])
        for p, items in zip(batch, results):
            kept = items[p.keep_from - p.start:p.keep_to - p.start]
            yield (p, kept) if with_pieces else kept

    for piece in g2p_pieces(g2p, text, piece_chars):
        batch.append(piece)
        if len(batch) >= group:
            yield from flush()
            batch = []
    if batch:
        yield from flush()


def batch(g2p, texts: List[str], convert: Callable[[List[str]], list],
          rebase: Optional[Callable[[list, int], list]] = None) -> list:
    """``convert(texts)``, with every text longer than twice :data:`PIECE_CHARS` converted in pieces.
    ``rebase(items, offset)``: results that record their offsets, moved to the whole text's."""
    short = [i for i, t in enumerate(texts) if len(t) <= 2 * PIECE_CHARS]
    out: list = [None] * len(texts)
    for i, got in zip(short, convert([texts[i] for i in short])):  # called even empty: it checks options
        out[i] = got
    for i, text in enumerate(texts):
        if out[i] is None:
            out[i] = whole = [None] * len(text)  # one item per character: no growing and copying
            shared: dict = {}  # one object per distinct item: a character is a new str each time
            for piece, items in in_pieces(g2p, text, convert, with_pieces=True):
                if rebase is not None:
                    items = rebase(items, piece.start)
                else:
                    items = [shared.setdefault(x, x) if isinstance(x, str) else x for x in items]
                whole[piece.keep_from:piece.keep_to] = items
    return out
