"""Examples -> the model's input tensors: token alignment, windows around labels, candidate masks."""
from __future__ import annotations

from typing import Dict, List, Optional, Sequence, Tuple

import torch

from ..candidates import CandidateTable
from ..data import Example


def align_chars(offsets: Sequence[Tuple[int, int]], n_chars: int) -> List[int]:
    """char index -> token index (-1 where no token covers it) from a fast tokenizer's offsets."""
    table = [-1] * n_chars
    for token, (start, end) in enumerate(offsets):
        for char in range(start, min(end, n_chars)):
            if table[char] < 0:
                table[char] = token
    return table


def window(example: Example, max_chars: int) -> Example:
    """Cut a long sentence to ``max_chars`` around its labels (centred on the first one)."""
    if len(example.text) <= max_chars:
        return example
    first = min(o for o, _ in example.labels) if example.labels else 0
    start = max(0, min(first - max_chars // 2, len(example.text) - max_chars))
    labels = tuple((o - start, r) for o, r in example.labels if start <= o < start + max_chars)
    soft = tuple((o - start, p) for o, p in example.soft if start <= o < start + max_chars)
    return Example(example.text[start:start + max_chars], labels, example.source, soft)


class Encoder:
    """Turns examples into padded tensors: ids, mask, flat query positions, gold ids, candidate mask,
    and the target distribution of each query (one-hot, or a teacher's soft label)."""

    def __init__(self, tokenizer, labels: List[str], table: CandidateTable, max_length: int):
        self.tokenizer, self.max_length = tokenizer, max_length
        self.label_id = {r: i for i, r in enumerate(labels)}
        self.num_labels = len(labels)
        self.table = table
        self._cand_cache: Dict[str, torch.Tensor] = {}

    def candidate_row(self, char: str) -> torch.Tensor:
        row = self._cand_cache.get(char)
        if row is None:
            row = torch.zeros(self.num_labels, dtype=torch.bool)
            for reading in self.table.get(char):
                if reading in self.label_id:
                    row[self.label_id[reading]] = True
            self._cand_cache[char] = row
        return row

    def soft_target(self, soft, row: torch.Tensor) -> Optional[torch.Tensor]:
        """A soft label's mass on the character's candidates, renormalised (None if none lands there)."""
        target = torch.zeros(self.num_labels)
        for reading, p in soft:
            index = self.label_id.get(reading)
            if index is not None and row[index]:
                target[index] = p
        total = target.sum()
        return target / total if total > 0 else None

    def __call__(self, examples: Sequence[Example], weak: Optional[Sequence[bool]] = None,
                 char_scale: Optional[Dict[str, float]] = None):
        """``weak``: which examples carry weak labels; ``char_scale``: char -> weight of its weak labels."""
        texts = [ex.text for ex in examples]
        enc = self.tokenizer(texts, return_offsets_mapping=True, truncation=True,
                             max_length=self.max_length, padding=True, return_tensors="pt")
        seq = enc["input_ids"].shape[1]
        query, gold, rows, wts, origin, flags, soft_rows = [], [], [], [], [], [], {}
        for b, ex in enumerate(examples):
            tokens = align_chars(enc["offset_mapping"][b].tolist(), len(ex.text))
            soft = dict(ex.soft)
            for k, (offset, reading) in enumerate(ex.labels):
                token = tokens[offset]
                row = self.candidate_row(ex.text[offset])
                if token < 0 or reading not in self.label_id or not row[self.label_id[reading]]:
                    continue  # no token, or a character the model does not decide
                query.append(b * seq + token)
                gold.append(self.label_id[reading])
                rows.append(row)
                is_weak = bool(weak and weak[b])
                wts.append(char_scale.get(ex.text[offset], 1.0) if is_weak and char_scale else 1.0)
                flags.append(is_weak)
                origin.append((b, k))
                if offset in soft:
                    target = self.soft_target(soft[offset], row)
                    if target is not None:
                        soft_rows[len(query) - 1] = target
        if not query:
            return None
        # One-hot rows for hard labels, a teacher's distribution where there is one.
        targets = torch.nn.functional.one_hot(torch.tensor(gold), self.num_labels).float()
        for index, target in soft_rows.items():
            targets[index] = target
        return {
            "input_ids": enc["input_ids"], "attention_mask": enc["attention_mask"],
            "query_index": torch.tensor(query), "gold": torch.tensor(gold),
            "candidate_mask": torch.stack(rows), "weight": torch.tensor(wts),
            "weak": torch.tensor(flags, dtype=torch.bool),
            "target": targets,
            "origin": origin,  # (example index, label index) of each query
        }
