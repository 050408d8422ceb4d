"""The polyphone model: any BERT-family encoder + a candidate-masked classification head.

The head scores only the positions asked for (``query_index``, flat indices into batch x time), and
the softmax runs over each character's candidates only, so an impossible reading is unreachable.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Optional

import torch
from torch import nn


@dataclass
class HeadConfig:
    num_labels: int
    hidden: int
    dropout: float = 0.1


class PolyphoneModel(nn.Module):
    """encoder(input_ids) -> hidden at query positions -> logits over the label set, candidate-masked."""

    def __init__(self, encoder: nn.Module, num_labels: int, dropout: float = 0.1):
        super().__init__()
        self.encoder = encoder
        hidden = encoder.config.hidden_size
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(hidden, num_labels)
        self.head_config = HeadConfig(num_labels=num_labels, hidden=hidden, dropout=dropout)

    def forward(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor,
        query_index: torch.Tensor,
        candidate_mask: Optional[torch.Tensor] = None,
    ) -> torch.Tensor:
        """Logits [N, num_labels] for the flat positions ``query_index`` [N].

        ``candidate_mask`` [N, num_labels] (bool) keeps only each query's candidates.
        """
        hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        picked = hidden.reshape(-1, hidden.shape[-1]).index_select(0, query_index)
        logits = self.head(self.dropout(picked))
        if candidate_mask is not None:
            # The dtype's lowest finite value (fp16/bf16-safe): below any candidate's logit however
            # the head is biased, so a non-candidate's probability is exactly 0; a fixed constant
            # such as -1e4 loses to candidates whose logits are lower still.
            logits = logits.masked_fill(~candidate_mask, torch.finfo(logits.dtype).min)
        return logits

    def head_state(self) -> dict:
        return {"head": self.head.state_dict(), "config": asdict(self.head_config)}


def resolve_device(name: str = "auto") -> torch.device:
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise RuntimeError("--device cuda asked for, but torch sees no CUDA GPU")
    return torch.device(name)


def autocast(device: torch.device, enabled: Optional[bool] = None):
    """bf16 autocast on CUDA (mixed precision), a no-op on the CPU."""
    use = device.type == "cuda" if enabled is None else enabled
    return torch.autocast(device_type=device.type, dtype=torch.bfloat16, enabled=use)
