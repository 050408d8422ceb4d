"""The PyTorch original as a predictor: same decisions as the runtime, scored by the same eval code.

Polyphones inside a pypinyin dictionary phrase take the phrase's reading (unless ``phrases=False``);
other polyphones the checkpoint was trained on are chosen by the model among their candidates; any
other polyphone takes its phrase's reading or its default one (``fallback_reading``), a one-reading
Han character its reading; other characters come back unchanged.
"""
from __future__ import annotations

from typing import Collection, Dict, List, Mapping, Optional, Sequence, Tuple

import torch

from .common import autocast
from ..runtime.phrases import deciding_phrases, fallback_reading, phrase_lookup
from ..runtime.predictor import window_spans
from ..runtime.sandhi import citation_tones
from .finetune import CandidateTable, Encoder, align_chars, load_checkpoint
from ..data import Example


def dictionary_readings(text: str, policy: Dict[int, str], phrase: Dict[int, str],
                        table: CandidateTable, fixed: Optional[Mapping[str, str]] = None) -> List[str]:
    """Each character as the runtime reads it without the model: ``policy`` (the phrases that decide,
    empty with phrases off) first, then a bundle's ``fixed`` reading, then :func:`fallback_reading`
    for polyphones, else the one reading."""
    fixed = fixed or {}
    out = []
    for offset, char in enumerate(text):
        cands = table.get(char)
        if len(cands) > 1:
            if offset in policy:
                out.append(policy[offset])
            else:
                out.append(fixed[char] if char in fixed else fallback_reading(offset, phrase, cands))
        else:
            out.append(cands[0] if cands else char)
    return out


class TorchPredictor:
    def __init__(self, checkpoint: str, device: str = "cpu", batch_size: int = 64, phrases: bool = True,
                 phrase_exceptions: Sequence[str] = (), decided: Optional[Collection[str]] = None,
                 fixed: Optional[Mapping[str, str]] = None,
                 phrase_word_exceptions: Optional[Mapping[str, Sequence[int]]] = None):
        self.phrases = phrases
        self.word_exceptions = dict(phrase_word_exceptions or {})  # as a bundle's: phrase -> positions
        self.fixed = dict(fixed or {})  # a bundle's dictionary: the polyphones it reads one fixed way
        self.exceptions = frozenset(phrase_exceptions)  # as a bundle's: the model decides them everywhere
        self.model, self.tokenizer, self.meta = load_checkpoint(checkpoint, device)
        self.device = next(self.model.parameters()).device
        self.candidates = self.meta["candidates"]
        if decided is not None:  # as a bundle that leaves some polyphones to the dictionary
            self.candidates = {c: r for c, r in self.candidates.items() if c in decided}
        self.labels = self.meta["labels"]
        table = CandidateTable.from_json(self.candidates)
        self.encode = Encoder(self.tokenizer, self.labels, table, self.meta["max_length"])
        self.batch_size = batch_size
        self.unk = self.tokenizer.unk_token_id
        self.full_table = CandidateTable.lazy_pypinyin()

    def predict(self, texts: Sequence[str]) -> List[List[str]]:
        results = []
        queries: List[Tuple[int, int, Example]] = []  # (text index, window start, window example)
        size = self.meta["max_length"] - 2
        margin = min(32, size // 4)  # the runtime's windows (runtime.predictor), so both decide alike
        for i, text in enumerate(texts):
            offsets = self.tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)["offset_mapping"]
            token_of = align_chars(offsets, len(text))
            found, excepted = phrase_lookup(text, self.word_exceptions)
            phrase = deciding_phrases(text, found if self.phrases else None, self.exceptions, excepted)  # as the runtime
            results.append(dictionary_readings(text, phrase, found, self.full_table, self.fixed))
            for start, end, core_start, core_end in window_spans(len(offsets), size, margin):
                if start >= end:
                    continue
                first, last = offsets[start][0], offsets[end - 1][1]
                labels = tuple((o - first, self.candidates[text[o]][0]) for o in range(first, last)
                               if text[o] in self.candidates and o not in phrase
                               and core_start <= token_of[o] < core_end)
                if labels:
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
            best = logits.argmax(-1).tolist()
            token_ids = batch["input_ids"].reshape(-1)[batch["query_index"]].tolist()
            for (b_index, k), label, token_id in zip(batch["origin"], best, token_ids):
                i, start, ex = chunk[b_index]
                if token_id != self.unk:  # an unseen character: keep pypinyin's reading
                    results[i][start + ex.labels[k][0]] = self.labels[label]
        return [citation_tones(text, readings) for text, readings in zip(texts, results)]  # as the runtime
