"""A fine-tuned checkpoint as the scorer of the runtime's decision policy (:mod:`pinyin_edge.runtime.policy`).

It reads the windows the onnxruntime :class:`~pinyin_edge.runtime.predictor.Predictor` reads without a
context (:func:`~pinyin_edge.runtime.predictor.window_spans`, same margin) and picks each polyphone's
most likely candidate, so a checkpoint and the bundle exported from it decide alike.
"""
from __future__ import annotations

from typing import AbstractSet, Collection, Dict, List, Optional, Sequence, Tuple

import torch

from ..candidates import CandidateTable
from ..data import Example
from ..runtime.predictor import default_margin, window_spans
from .checkpoint import load_checkpoint
from .encoding import Encoder, align_chars
from .model import autocast


class TorchScorer:
    """``best_readings`` (and ranked ``predict``) of a checkpoint's model for the polyphones it was
    trained on (only those in ``decided``, when given: a bundle that leaves some polyphones to the
    dictionary)."""

    def __init__(self, checkpoint: str, device: str = "cpu", batch_size: int = 64,
                 decided: Optional[Collection[str]] = None):
        self.model, self.tokenizer, self.meta = load_checkpoint(checkpoint, device)
        self.device = next(self.model.parameters()).device
        self.candidates = self.meta["candidates"]
        if decided is not None:
            self.candidates = {c: r for c, r in self.candidates.items() if c in decided}
        self.labels = self.meta["labels"]
        table = CandidateTable.from_json(self.candidates)
        self.encode = Encoder(self.tokenizer, self.labels, table, self.meta["max_length"])
        self.batch_size = batch_size
        self.unk = self.tokenizer.unk_token_id

    def best_readings(self, texts: Sequence[str], *,
                      skip: Optional[Sequence[Optional[AbstractSet[int]]]] = None) -> List[Dict[int, str]]:
        """Per text: offset -> the model's reading of each polyphone it decides, but those in ``skip``
        (per text, a set of offsets or None) and those whose token is ``[UNK]`` (never seen)."""
        results: List[Dict[int, str]] = [{} for _ in texts]
        for i, offset, logits in self._scores(texts, skip):
            results[i][offset] = self.labels[int(logits.argmax())]
        return results

    def predict(self, texts: Sequence[str], *,
                skip: Optional[Sequence[Optional[AbstractSet[int]]]] = None) -> List[Dict[int, tuple]]:
        """:meth:`best_readings`, each with its candidates ranked: ((reading, probability), ...)."""
        results: List[Dict[int, tuple]] = [{} for _ in texts]
        for i, offset, logits in self._scores(texts, skip):
            probs = torch.softmax(logits, -1)
            ranked = sorted(((float(p), k) for k, p in enumerate(probs.tolist()) if p > 0), reverse=True)
            results[i][offset] = tuple((self.labels[k], p) for p, k in ranked)
        return results

    def _scores(self, texts: Sequence[str], skip):
        """(text index, offset, the masked logits over the label set) per polyphone decided."""
        queries: List[Tuple[int, int, Example]] = []  # (text index, window start, window example)
        size = self.meta["max_length"] - 2
        for i, text in enumerate(texts):
            unwanted = (skip[i] if skip is not None else None) or ()
            offsets = self.tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)["offset_mapping"]
            token_of = align_chars(offsets, len(text))
            for start, end, core_start, core_end in window_spans(len(offsets), size, default_margin(size)):
                if start >= end:
                    continue
                first, last = offsets[start][0], offsets[end - 1][1]
                labels = tuple((o - first, self.candidates[text[o]][0]) for o in range(first, last)
                               if text[o] in self.candidates and o not in unwanted
                               and core_start <= token_of[o] < core_end)
                if labels:  # the label is a placeholder: the encoder needs one to place the query
                    queries.append((i, first, Example(text[first:last], labels)))
        for b in range(0, len(queries), self.batch_size):
            chunk = queries[b:b + self.batch_size]
            batch = self.encode([q[2] for q in chunk])
            if batch is None:
                continue
            with torch.no_grad(), autocast(self.device):
                logits = self.model(batch["input_ids"].to(self.device), batch["attention_mask"].to(self.device),
                                    batch["query_index"].to(self.device),
                                    batch["candidate_mask"].to(self.device)).float()
            token_ids = batch["input_ids"].reshape(-1)[batch["query_index"]].tolist()
            for row, ((b_index, k), token_id) in enumerate(zip(batch["origin"], token_ids)):
                i, start, ex = chunk[b_index]
                if token_id != self.unk:  # an unseen character: the policy's dictionary reads it
                    yield i, start + ex.labels[k][0], logits[row]
