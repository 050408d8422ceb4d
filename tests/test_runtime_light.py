"""The runtime never loads the training/export stack, and long texts stay correct."""
import json
import subprocess
import sys

import pytest

HEAVY = ("torch", "transformers", "onnx", "optimum", "onnxscript")


def test_runtime_imports_no_heavy_modules(bundle):
    code = f"""
import json, sys
import pinyin_edge
g2p = pinyin_edge.G2P(model={bundle!r})
out = g2p.pinyin("银行行长说AI行业")
notes = g2p.annotate("行长")
lazy = pinyin_edge.lazy_pinyin("银行", g2p=g2p)
from pypinyin.core import Pinyin
conv = Pinyin(pinyin_edge.EdgeConverter(g2p=g2p)).lazy_pinyin("行业")
import pinyin_edge.runtime.commands
heavy = sorted(m for m in sys.modules if m.split(".")[0] in {HEAVY!r})
print(json.dumps({{"out": out, "lazy": lazy, "conv": conv, "heavy": heavy}}))
"""
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=120)
    assert proc.returncode == 0, proc.stderr.decode()
    result = json.loads(proc.stdout.decode().strip().splitlines()[-1])
    assert result["out"] == ["yin2", "hang2", "hang2", "zhang3", "shuo1", "A", "I", "hang2", "ye4"]
    assert result["lazy"] == ["yin", "hang"] and result["conv"] == ["hang", "ye"]
    assert result["heavy"] == []


def test_hundred_thousand_characters(small_window_bundle):
    """A 100,000-character text in windows of 16 tokens: one reading per character, each right."""
    from conftest import expected_reading

    from pinyin_edge import G2P

    unit = "银行行长说行业重新了解。长行走，"
    text = (unit * (100_000 // len(unit) + 1))[:100_000]
    g2p = G2P(model=small_window_bundle, batch_size=256)
    out = g2p.pinyin(text)
    assert len(out) == len(text)
    for offset in range(len(text)):
        if g2p.predictor.is_decidable(text[offset]):
            prev = text[offset - 1] if offset else ""
            nxt = text[offset + 1] if offset + 1 < len(text) else ""
            if out[offset] != expected_reading(prev, text[offset], nxt):
                pytest.fail(f"offset {offset}: {text[max(0, offset - 3):offset + 4]} -> {out[offset]}")
