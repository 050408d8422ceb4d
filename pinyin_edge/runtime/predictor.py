"""Run a bundle's graph over texts and rank each polyphone's candidate readings.

* Which characters the model decides: those in ``manifest.candidates`` with two or more readings whose
  vocabulary lookup is not ``[UNK]`` (the model never saw the others).
* Long texts are cut into windows of at most ``manifest.max_length`` tokens (``[CLS]``/``[SEP]``
  included). Each window has a *core* and up to ``margin`` tokens of context on each side; a character
  is decided in the one window whose core holds it, so it always sees at least ``margin`` tokens of
  context on both sides (or the text's edge). Memory stays bounded by the batch size, whatever the
  text length.
* With a ``context`` (the manifest's, or the caller's), a window is narrowed to its queries plus
  ``context`` tokens on each side, and split where two queries lie further apart than two contexts:
  an encoder's cost grows with every token it runs, and far text rarely changes a reading.
* Only windows whose core holds at least one wanted position are run. Windows of all texts are sorted
  by length and cut into runs of similar length (each run is padded to its longest window, and
  onnxruntime computes the padding): see :func:`split_runs`.
* The softmax runs over each character's candidate labels only.

A :class:`Predictor` holds no mutable state after construction; one instance can serve many threads
(onnxruntime's ``InferenceSession.run`` is thread-safe).
"""
from __future__ import annotations

import os
from bisect import bisect_right
from typing import AbstractSet, Dict, Iterable, List, NamedTuple, Optional, Sequence, Tuple, Union

import numpy as np

from ..bundle import BundleError, Manifest, load_bundle, resolve_bundle, valid_context
from .session import create_session
from .tokenizer import Tokenizer, code_points

Ranked = Tuple[Tuple[str, float], ...]

_BMP = 0x10000


class Window(NamedTuple):
    """One model input: tokens ``[start, end)`` of text ``text`` (no specials), deciding ``offsets``
    (character offsets) at token positions ``tokens``. A named tuple: several are built per text."""

    text: int
    start: int
    end: int
    tokens: np.ndarray
    offsets: np.ndarray

    @property
    def length(self) -> int:
        return self.end - self.start


def default_margin(max_content: int) -> int:
    """The context kept on each side of a window's core: a quarter of the window, at most 32 tokens."""
    return min(32, max_content // 4)


def window_spans(num_tokens: int, max_content: int, margin: int) -> List[Tuple[int, int, int, int]]:
    """Cover ``num_tokens`` tokens with windows ``(start, end, core_start, core_end)``.

    Windows hold at most ``max_content`` tokens; cores partition ``[0, num_tokens)``; every core token
    has ``margin`` tokens of context on each side inside its window unless the text ends first.
    """
    if num_tokens <= max_content:
        return [(0, num_tokens, 0, num_tokens)]
    if max_content - 2 * margin < 1:
        raise ValueError(f"margin {margin} leaves no core in windows of {max_content} tokens")
    spans = []
    core_start = 0
    while core_start < num_tokens:
        start = max(0, core_start - margin)
        end = start + max_content
        if end >= num_tokens:
            end = num_tokens
            start = max(0, num_tokens - max_content)
            core_end = num_tokens
        else:
            core_end = end - margin
        spans.append((start, end, core_start, core_end))
        core_start = core_end
    return spans


# A run costs about as much as this many padded tokens on top of its batch x length tokens: measured
# with the shipped BiGRU on one thread (about 0.2 ms per run, 0.011-0.016 ms per padded token).
RUN_COST_TOKENS = 16


def split_runs(lengths: Sequence[int], max_batch: int, max_tokens: int,
               run_cost: Optional[int] = None) -> List[Tuple[int, int]]:
    """Cut ascending padded ``lengths`` into runs ``[start, end)`` of at most ``max_batch`` rows and
    ``max_tokens`` padded tokens, minimising padded tokens plus ``run_cost`` (default
    :data:`RUN_COST_TOKENS`) per run.

    onnxruntime computes every padded position (a recurrent encoder steps through them all), so one
    run padded to its longest window can cost twice the tokens it holds. Runs only ever end where the
    length changes, so the dynamic programme is over distinct lengths (at most ``max_length``)."""
    if len(lengths) < 2:
        return [(0, len(lengths))] if lengths else []
    run_cost = RUN_COST_TOKENS if run_cost is None else run_cost
    values: List[int] = []
    ends: List[int] = []  # per distinct length: the index after its last window
    for i, length in enumerate(lengths):
        if values and length == values[-1]:
            ends[-1] = i + 1
        else:
            if values and length < values[-1]:
                raise ValueError("split_runs needs ascending lengths")
            values.append(length)
            ends.append(i + 1)

    def rows_per_run(length: int) -> int:
        return max(1, min(max_batch, max_tokens // length))

    best = [0] * (len(values) + 1)  # best[j]: cost of the first j distinct lengths
    cut = [0] * (len(values) + 1)
    for j in range(1, len(values) + 1):
        length, per_run, end = values[j - 1], rows_per_run(values[j - 1]), ends[j - 1]
        best[j] = -1
        for i in range(j - 1, -1, -1):
            n = end - (ends[i - 1] if i else 0)
            runs = -(-n // per_run)
            cost = best[i] + runs * run_cost + n * length
            if best[j] < 0 or cost < best[j]:
                best[j], cut[j] = cost, i
    bounds: List[int] = []
    j = len(values)
    while j > 0:
        bounds.append(j)
        j = cut[j]
    runs: List[Tuple[int, int]] = []
    start = 0
    for j in reversed(bounds):
        end = ends[j - 1]
        per_run = rows_per_run(values[j - 1])
        for lo in range(start, end, per_run):
            runs.append((lo, min(end, lo + per_run)))
        start = end
    return runs


class Predictor:
    """A loaded bundle: tokenizer + onnxruntime session + candidate table.

    ``batch_size`` caps windows per run and ``batch_tokens`` caps padded tokens per run;
    ``margin`` is the context kept on each side of a window's core (default: a quarter of the
    window, at most 32 tokens). ``context`` narrows windows to that many tokens around the characters
    they decide (default: the manifest's ``context``; ``None``: whole windows).
    """

    def __init__(self, model: str, threads: int = 1, providers: Optional[Sequence] = None,
                 verify: bool = True, batch_size: int = 64, batch_tokens: int = 16384,
                 margin: Optional[int] = None, context: Union[int, None, str] = "bundle"):
        model = resolve_bundle(model)
        if os.path.isfile(model):  # the graph file itself was given: use its bundle directory
            model = os.path.dirname(os.path.abspath(model))
        self.path = model
        self.manifest, self.graph_path = load_bundle(model, verify=verify)
        manifest: Manifest = self.manifest
        self.labels: Tuple[str, ...] = tuple(manifest.labels)
        self.session = create_session(self.graph_path, threads=threads, providers=providers,
                                      num_labels=len(self.labels))
        self.tokenizer = Tokenizer.from_manifest(manifest)
        self.max_length = int(manifest.max_length)
        self.max_content = self.max_length - 2
        self.margin = default_margin(self.max_content) if margin is None else int(margin)
        if not 0 <= self.margin or self.max_content - 2 * self.margin < 1:
            raise ValueError(f"margin {self.margin} does not fit windows of {self.max_length} tokens")
        if batch_size < 1 or batch_tokens < self.max_length:
            raise ValueError("batch_size must be >= 1 and batch_tokens >= the model's max_length")
        self.batch_size = int(batch_size)
        self.batch_tokens = int(batch_tokens)
        if context == "bundle":
            context = manifest.context
        if not valid_context(context):
            raise ValueError(f"context must be a positive number of tokens, None or 'bundle', not {context!r}")
        self.context: Optional[int] = context

        label_index = {label: i for i, label in enumerate(self.labels)}
        unk = self.tokenizer.unk_id
        rows: Dict[str, int] = {}
        readings: List[Tuple[str, ...]] = []
        for char, cands in manifest.candidates.items():
            if len(char) != 1 or len(cands) < 2 or self.tokenizer.token_id(char) == unk:
                continue
            rows[char] = len(readings)
            readings.append(tuple(cands))
        width = max((len(r) for r in readings), default=1)
        ids = np.zeros((max(1, len(readings)), width), dtype=np.int64)
        valid = np.zeros_like(ids, dtype=bool)
        for row, cands in enumerate(readings):
            ids[row, :len(cands)] = [label_index[r] for r in cands]
            valid[row, :len(cands)] = True
        self._rows = rows
        self._readings: Tuple[Tuple[str, ...], ...] = tuple(readings)
        self._cand_ids, self._cand_valid = ids, valid
        self._cand_labels: Tuple[Tuple[int, ...], ...] = tuple(
            tuple(label_index[r] for r in cands) for cands in readings)
        table = np.full(_BMP, -1, dtype=np.int64)
        self._astral_rows = {}
        for char, row in rows.items():
            if ord(char) < _BMP:
                table[ord(char)] = row
            else:
                self._astral_rows[char] = row
        self._row_table = table

    # -- what the model decides -----------------------------------------------------------------------
    def is_decidable(self, char: str) -> bool:
        """True when the model chooses this character's reading (a known polyphone)."""
        return char in self._rows

    def candidates(self, char: str) -> Tuple[str, ...]:
        """The readings the model chooses among for ``char`` (empty when it does not decide it)."""
        row = self._rows.get(char)
        return () if row is None else self._readings[row]

    def _char_rows(self, text: str, cps: Optional[np.ndarray] = None) -> np.ndarray:
        """Per character: its candidate row, or -1 when the model does not decide it. ``cps``: the
        text's :func:`code_points`, when the caller has them."""
        cps = code_points(text) if cps is None else cps
        astral = cps >= _BMP
        if not astral.any():
            return self._row_table[cps]
        rows = self._row_table[np.where(astral, 0, cps)]
        for i in np.flatnonzero(astral):
            rows[i] = self._astral_rows.get(text[i], -1)
        return rows

    def decidable_offsets(self, text: str) -> np.ndarray:
        return np.flatnonzero(self._char_rows(text) >= 0)

    # -- planning ---------------------------------------------------------------------------------------
    def plan(self, texts: Sequence[str], queries: Optional[Sequence[Optional[Iterable[int]]]] = None
             ) -> List[Window]:
        """The windows that would run for ``texts`` (only those deciding something)."""
        return self._plan(texts, queries)[0]

    def _plan(self, texts, queries, skip=None):
        """(windows, text index -> token ids as a list). ``skip``: per text, offsets not to decide
        (or None), applied after ``queries``. Plain Python on lists: on sentence-length texts numpy's
        per-call cost outweighed the work."""
        for name, given in (("query", queries), ("skip", skip)):
            if given is not None and len(given) != len(texts):
                raise ValueError(f"{len(given)} {name} lists for {len(texts)} texts")
        windows: List[Window] = []
        encodings: Dict[int, List[int]] = {}
        decidable = self._rows
        for t, text in enumerate(texts):
            wanted = None if queries is None else queries[t]
            if wanted is None:
                offsets = [o for o, c in enumerate(text) if c in decidable]
            else:
                offsets = sorted({int(o) for o in wanted})
                if offsets and (offsets[0] < 0 or offsets[-1] >= len(text)):
                    raise IndexError(f"query offset out of range for a text of {len(text)} characters")
                offsets = [o for o in offsets if text[o] in decidable]
            if skip is not None and skip[t] and offsets:
                unwanted = skip[t]
                offsets = [o for o in offsets if o not in unwanted]
            if not offsets:
                continue
            ids, positions = self.tokenizer.encode_lists(text)
            encodings[t] = ids
            tokens = [positions[o] for o in offsets]
            if min(tokens) < 0:  # a character without a token (never a Han one) is not decidable
                kept = [(o, k) for o, k in zip(offsets, tokens) if k >= 0]
                if not kept:
                    continue
                offsets, tokens = [o for o, _ in kept], [k for _, k in kept]
            if len(ids) <= self.max_content:  # one window (window_spans' first case)
                windows.extend(self._windows(t, 0, len(ids), tokens, offsets))
                continue
            spans = window_spans(len(ids), self.max_content, self.margin)
            core_starts = [s[2] for s in spans]
            which = [bisect_right(core_starts, k) - 1 for k in tokens]
            lo = 0
            for hi in range(1, len(tokens) + 1):
                if hi == len(tokens) or which[hi] != which[lo]:
                    start, end, _, _ = spans[which[lo]]
                    windows.extend(self._windows(t, start, end, tokens[lo:hi], offsets[lo:hi]))
                    lo = hi
        return windows, encodings

    def _windows(self, text: int, start: int, end: int, tokens: List[int], offsets: List[int]
                 ) -> List[Window]:
        """The window over ``[start, end)`` deciding ``tokens`` (ascending); with a context, one
        window per group of queries, each narrowed to ``context`` tokens around its group. Groups
        split where the tokens between two queries outnumber the two contexts and the specials that
        a second window adds."""
        context = self.context
        if context is None:
            return [Window(text, start, end, np.array(tokens, dtype=np.int64), np.array(offsets, dtype=np.int64))]
        gap = 2 * context + 3
        windows = []
        lo = 0
        for hi in range(1, len(tokens) + 1):
            if hi == len(tokens) or tokens[hi] - tokens[hi - 1] > gap:
                windows.append(Window(text, max(start, tokens[lo] - context), min(end, tokens[hi - 1] + 1 + context),
                                      np.array(tokens[lo:hi], dtype=np.int64),
                                      np.array(offsets[lo:hi], dtype=np.int64)))
                lo = hi
        return windows

    def _batches(self, windows: List[Window]) -> Iterable[List[Window]]:
        """Windows sorted by length, cut into runs by :func:`split_runs`."""
        if len(windows) == 1:
            yield windows
            return
        ordered = sorted(windows, key=lambda w: w.length)
        lengths = [w.length + 2 for w in ordered]  # padded lengths, [CLS]/[SEP] included
        for start, end in split_runs(lengths, self.batch_size, self.batch_tokens):
            yield ordered[start:end]

    # -- running ----------------------------------------------------------------------------------------
    def _run(self, batch: List[Window], encodings: Dict[int, List[int]]) -> np.ndarray:
        tok = self.tokenizer
        width = max(w.length for w in batch) + 2
        rows, masks, query_parts = [], [], []
        for b, window in enumerate(batch):
            n = window.length
            pad = width - n - 2
            rows.append([tok.cls_id] + encodings[window.text][window.start:window.end] + [tok.sep_id]
                        + [tok.pad_id] * pad)
            masks.append([1] * (n + 2) + [0] * pad)
            query_parts.append(window.tokens + (b * width + 1 - window.start))
        input_ids = np.array(rows, dtype=np.int64)
        attention = np.array(masks, dtype=np.int64)
        query_index = query_parts[0] if len(query_parts) == 1 else np.concatenate(query_parts)
        try:
            (logits,) = self.session.run(["logits"], {"input_ids": input_ids, "attention_mask": attention,
                                                      "query_index": query_index})
        except Exception as exc:
            detail = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            raise BundleError(f"{self.graph_path}: the graph failed on a batch of shape "
                              f"{input_ids.shape} ({detail}); re-export the bundle") from None
        if logits.ndim != 2 or logits.shape != (query_index.size, len(self.labels)):
            raise BundleError(f"{self.graph_path}: logits of shape {tuple(logits.shape)}, expected "
                              f"({query_index.size}, {len(self.labels)}); re-export the bundle")
        return logits

    def _candidate_logits(self, logits: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """[n, width] float64 logits of each query's candidates (candidate order, -inf for padding)."""
        scores = logits[np.arange(rows.size)[:, None], self._cand_ids[rows]].astype(np.float64)
        scores[~self._cand_valid[rows]] = -np.inf
        return scores

    def _probabilities(self, logits: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """[n, width] candidate probabilities (candidate order, 0 for padding)."""
        scores = self._candidate_logits(logits, rows)
        scores -= scores.max(axis=1, keepdims=True)
        exp = np.exp(scores)
        return exp / exp.sum(axis=1, keepdims=True)

    def _scored(self, texts, queries, skip):
        """Per run: (its windows, the candidate row of each query in window order, the logits)."""
        windows, encodings = self._plan(texts, queries, skip)
        row_of = self._rows
        for batch in (self._batches(windows) if windows else ()):
            logits = self._run(batch, encodings)
            rows = np.array([row_of[texts[w.text][o]] for w in batch for o in w.offsets.tolist()], dtype=np.int64)
            yield batch, rows, logits

    def probabilities(self, texts: Sequence[str],
                      queries: Optional[Sequence[Optional[Iterable[int]]]] = None, *,
                      skip: Optional[Sequence[Optional[AbstractSet[int]]]] = None
                      ) -> List[Dict[int, np.ndarray]]:
        """Per text: offset -> probabilities over :meth:`candidates` of that character, in the
        manifest's candidate order. ``queries`` (per text, offsets or None for every decidable
        character) limits which characters are scored; others are skipped silently. ``skip`` (per
        text, a set of offsets or None) leaves those offsets out."""
        out: List[Dict[int, np.ndarray]] = [dict() for _ in texts]
        for batch, rows, logits in self._scored(texts, queries, skip):
            probs = self._probabilities(logits, rows)
            k = 0
            for window in batch:
                target = out[window.text]
                for offset in window.offsets.tolist():
                    target[offset] = probs[k, :len(self._readings[rows[k]])]
                    k += 1
        return out

    def predict(self, texts: Sequence[str],
                queries: Optional[Sequence[Optional[Iterable[int]]]] = None, *,
                skip: Optional[Sequence[Optional[AbstractSet[int]]]] = None) -> List[Dict[int, Ranked]]:
        """Per text: offset -> candidate readings ranked by probability, ``((reading, p), ...)``.
        Ties keep the manifest's candidate order."""
        out: List[Dict[int, Ranked]] = [dict() for _ in texts]
        readings_of = self._readings
        for batch, rows, logits in self._scored(texts, queries, skip):
            probs = self._probabilities(logits, rows)
            if np.isnan(probs).any():  # keep numpy's per-row NaN ordering (never from a sound graph)
                orders = [np.argsort(-probs[k, :len(readings_of[row])], kind="stable").tolist()
                          for k, row in enumerate(rows.tolist())]
            else:  # one sort per run: padding (probability 0) sorts after every candidate, ties by index
                orders = np.argsort(-probs, axis=1, kind="stable").tolist()
            values, row_list, k = probs.tolist(), rows.tolist(), 0
            for window in batch:
                target = out[window.text]
                for offset in window.offsets.tolist():
                    readings, p = readings_of[row_list[k]], values[k]
                    target[offset] = tuple((readings[j], p[j]) for j in orders[k][:len(readings)])
                    k += 1
        return out

    def best_readings(self, texts: Sequence[str],
                      queries: Optional[Sequence[Optional[Iterable[int]]]] = None, *,
                      skip: Optional[Sequence[Optional[AbstractSet[int]]]] = None) -> List[Dict[int, str]]:
        """Per text: offset -> the most probable reading, :meth:`predict`'s first entry (ties
        included), without the softmax or the ranking: what a plain reading needs."""
        out: List[Dict[int, str]] = [dict() for _ in texts]
        for batch, rows, logits in self._scored(texts, queries, skip):
            row_list = rows.tolist()
            width = logits.shape[1]
            labels = self._cand_labels
            picked = logits.reshape(-1)[[k * width + label for k, row in enumerate(row_list) for label in labels[row]]]
            if np.isnan(picked).any():  # numpy's argmax semantics for NaN (never from a sound graph)
                best = self._candidate_logits(logits, rows).argmax(axis=1).tolist()
            else:  # the first maximum of each query's candidates, as argmax gives it
                values, best, at = picked.tolist(), [], 0
                for row in row_list:
                    part = values[at:at + len(labels[row])]
                    at += len(part)
                    best.append(part.index(max(part)))
            chosen = iter([self._readings[row][j] for row, j in zip(row_list, best)])
            for window in batch:
                target = out[window.text]
                for offset in window.offsets.tolist():
                    target[offset] = next(chosen)
        return out

    def predict_one(self, text: str, queries: Optional[Iterable[int]] = None) -> Dict[int, Ranked]:
        return self.predict([text], None if queries is None else [queries])[0]
