"""exporters.requantize: no per-batch activation quantization left, same readings; the shipped bundles
are requantized."""
import json
import os

import pytest

onnx = pytest.importorskip("onnx")

from pinyin_edge import G2P  # noqa: E402
from pinyin_edge.bundle import BundleError, default_bundle_dir, load_bundle  # noqa: E402
from pinyin_edge.exporters.requantize import requantize  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
TEXTS = os.path.join(HERE, "regression", "texts.txt")


def _texts():
    with open(TEXTS, encoding="utf-8") as handle:
        return handle.read().split("\n")[:-1][:120]


@pytest.fixture(scope="module")
def int8_bundle(bundle, tmp_path_factory):
    """The fixture bundle with its graph quantized as `export --quantize int8` does (dynamic int8:
    one activation scale per batch)."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    from pinyin_edge.bundle import write_bundle

    work = tmp_path_factory.mktemp("int8")
    manifest, graph = load_bundle(bundle)
    quantized = str(work / "model.onnx")
    quantize_dynamic(graph, quantized, weight_type=QuantType.QInt8)
    manifest.quantization = {"mode": "int8", "method": "onnxruntime.quantization.quantize_dynamic"}
    write_bundle(str(work / "bundle"), manifest, quantized)
    return str(work / "bundle")


def test_the_shipped_bundles_have_no_per_batch_quantization():
    for name in ("default", "fast"):
        _, graph = load_bundle(default_bundle_dir(name))
        assert "DynamicQuantizeLinear" not in {n.op_type for n in onnx.load(graph).graph.node}


@pytest.mark.parametrize("method", ["float", "row", "static"])
def test_requantized_bundle_is_batch_invariant(tmp_path, int8_bundle, method):
    _, graph = load_bundle(int8_bundle)
    assert "DynamicQuantizeLinear" in {n.op_type for n in onnx.load(graph).graph.node}
    out = tmp_path / method
    got = requantize(int8_bundle, str(out), [TEXTS] if method == "static" else (), method=method)
    assert got["requantized"]["method"] == method
    manifest, graph = load_bundle(str(out))  # sha256 of the new graph recorded and verified
    assert "DynamicQuantizeLinear" not in {n.op_type for n in onnx.load(graph).graph.node}
    if method == "static":
        assert all(lo <= 0 <= hi and lo < hi for lo, hi in got["requantized"]["ranges"].values())
    g2p, before = G2P(model=str(out)), G2P(model=int8_bundle)
    texts = _texts()
    batched = g2p.annotate_batch(texts)
    for text, together in zip(texts, batched):
        assert g2p.annotate(text) == together, text  # probabilities bit-identical alone and batched
    changed = [t for t, together in zip(texts, batched) if [a.reading for a in together] != before.pinyin(t)]
    assert len(changed) <= 2, changed  # the same weights: only close calls may go the other way


def test_requantize_refuses_its_own_input_and_a_second_pass(tmp_path, int8_bundle):
    with pytest.raises(ValueError):
        requantize(int8_bundle, int8_bundle)
    with pytest.raises(ValueError, match="calibration"):
        requantize(int8_bundle, str(tmp_path / "s"), method="static")
    requantize(int8_bundle, str(tmp_path / "once"))
    with pytest.raises(BundleError, match="nothing to requantize"):
        requantize(str(tmp_path / "once"), str(tmp_path / "twice"))
    assert not (tmp_path / "twice").exists()
    with open(tmp_path / "once" / "manifest.json", encoding="utf-8") as handle:
        assert json.load(handle)["quantization"]["activations"].startswith("none")
