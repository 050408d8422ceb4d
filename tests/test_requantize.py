"""exporters.requantize on the shipped default bundle: no per-batch quantization left, same readings."""
import json
import os

import pytest

onnx = pytest.importorskip("onnx")

from pinyin_edge import G2P  # noqa: E402
from pinyin_edge.bundle import BundleError, default_bundle_dir, load_bundle  # noqa: E402
from pinyin_edge.exporters.requantize import requantize  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
TEXTS = os.path.join(HERE, "regression", "texts.txt")
# Close calls of the shipped default bundle: a batch-dependent scale flips some of them.
NEAR_TIES = ["想得我？用可,开？", "学将率", ",时应都国", "率也我自“传转将经对！当她我长?传生"]


def _texts():
    with open(TEXTS, encoding="utf-8") as handle:
        return handle.read().split("\n")[:-1][:120] + NEAR_TIES


@pytest.fixture(scope="module")
def shipped():
    return G2P()


@pytest.mark.parametrize("method", ["float", "row", "static"])
def test_requantized_bundle_is_batch_invariant(tmp_path, shipped, method):
    out = tmp_path / method
    got = requantize(default_bundle_dir(), str(out), [TEXTS] if method == "static" else (), method=method)
    assert got["requantized"]["method"] == method
    manifest, graph = load_bundle(str(out))  # sha256 of the new graph recorded and verified
    ops = {n.op_type for n in onnx.load(graph).graph.node}
    assert "DynamicQuantizeLinear" not in ops
    if method == "static":
        lo, hi = got["requantized"]["ranges"]["/model/Gather_1_output_0"]
        assert -1.0 <= lo < 0 < hi <= 1.0  # a BiGRU's hidden states
    g2p = G2P(model=str(out))
    texts = _texts()
    batched = g2p.annotate_batch(texts)
    for text, together in zip(texts, batched):
        assert g2p.annotate(text) == together, text  # probabilities bit-identical alone and batched
    changed = [t for t, together in zip(texts, batched)
               if t not in NEAR_TIES and [a.reading for a in together] != shipped.pinyin(t)]
    assert len(changed) <= 1, changed  # the same weights: only a close call may go the other way


def test_requantize_refuses_its_own_input_and_a_second_pass(tmp_path):
    with pytest.raises(ValueError):
        requantize(default_bundle_dir(), default_bundle_dir())
    with pytest.raises(ValueError, match="calibration"):
        requantize(default_bundle_dir(), str(tmp_path / "s"), method="static")
    requantize(default_bundle_dir(), str(tmp_path / "once"))
    with pytest.raises(BundleError, match="nothing to requantize"):
        requantize(str(tmp_path / "once"), str(tmp_path / "twice"))
    assert not (tmp_path / "twice").exists()
    with open(tmp_path / "once" / "manifest.json", encoding="utf-8") as handle:
        assert json.load(handle)["quantization"]["activations"].startswith("none")
