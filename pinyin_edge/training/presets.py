"""Encoder presets for pretraining from zero (BERT configurations by size)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Dict


@dataclass(frozen=True)
class EncoderPreset:
    layers: int
    hidden: int
    heads: int
    intermediate: int
    max_positions: int = 256


PRESETS: Dict[str, EncoderPreset] = {
    "debug": EncoderPreset(layers=1, hidden=32, heads=2, intermediate=64, max_positions=64),
    "tiny": EncoderPreset(layers=2, hidden=128, heads=2, intermediate=512),
    "small": EncoderPreset(layers=4, hidden=192, heads=4, intermediate=768),
    "base": EncoderPreset(layers=6, hidden=384, heads=6, intermediate=1536),
}


def bert_config(preset: EncoderPreset, vocab_size: int):
    from transformers import BertConfig

    return BertConfig(
        vocab_size=vocab_size,
        hidden_size=preset.hidden,
        num_hidden_layers=preset.layers,
        num_attention_heads=preset.heads,
        intermediate_size=preset.intermediate,
        max_position_embeddings=preset.max_positions,
        type_vocab_size=2,
        hidden_dropout_prob=0.1,
        attention_probs_dropout_prob=0.1,
    )
