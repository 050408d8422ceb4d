"""Rewrite a bundle's dynamically quantized matmuls so that each row's result depends on that row alone.

``onnxruntime.quantization.quantize_dynamic`` puts a ``DynamicQuantizeLinear`` before every
``MatMulInteger``: one uint8 scale and zero point computed over the *whole* input tensor. In the
shipped graphs that input is the head's (queries x hidden) matrix, so a polyphone's logits depend on
which other queries share the run: the same text could read differently alone and in a batch.

Each method replaces the ``DynamicQuantizeLinear -> MatMulInteger -> Cast -> Mul(scale)`` chain:

* ``static``: ``QuantizeLinear`` with one scale and zero point measured once over calibration texts
  (the minimum and maximum the input reaches there; values beyond saturate);
* ``row``: per-row dynamic quantization: each row gets its own symmetric scale (``max|x| / 127``,
  zero point 128), computed inside the graph;
* ``float``: the int8 weights are dequantized (``DequantizeLinear`` per channel) and multiplied in
  float: weights stay int8 on disk, activations are not quantized at all.

The rest of the graph and the manifest are copied; the manifest's ``quantization`` records the method
(and the calibration range and files for ``static``). Nothing here measures accuracy: evaluate the
new bundle on dev data before shipping it.

    pinyin-edge requantize BUNDLE --out DIR [--method float|row|static]
        [--calibration FILE ...]
"""
from __future__ import annotations

import os
import tempfile
import time
from typing import Dict, Iterator, List, Optional, Sequence, Tuple

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from ..bundle import BundleError, load_bundle, write_bundle

METHODS = ("float", "row", "static")


class _Chain:
    """One ``DynamicQuantizeLinear -> MatMulInteger -> Cast -> Mul`` chain of a quantize_dynamic graph."""

    def __init__(self, graph: onnx.GraphProto, dql: onnx.NodeProto):
        consumers: Dict[str, List[onnx.NodeProto]] = {}
        for node in graph.node:
            for name in node.input:
                consumers.setdefault(name, []).append(node)
        self.dql = dql
        self.x = dql.input[0]
        self.x_q, self.x_scale, self.x_zp = dql.output
        users = consumers.get(self.x_q, [])
        if len(users) != 1 or users[0].op_type != "MatMulInteger":
            raise BundleError(f"{dql.name}: expected one MatMulInteger after it, found "
                              f"{[u.op_type for u in users]}")
        self.matmul = users[0]
        # The combined scale: Mul(x_scale, w_scale) feeding the Mul after the Cast of the int32 result.
        scale_muls = consumers.get(self.x_scale, [])
        if len(scale_muls) != 1 or scale_muls[0].op_type != "Mul":
            raise BundleError(f"{dql.name}: expected its scale to feed one Mul")
        self.scale_mul = scale_muls[0]
        self.w_scale = [n for n in self.scale_mul.input if n != self.x_scale][0]
        casts = consumers.get(self.matmul.output[0], [])
        if len(casts) != 1 or casts[0].op_type != "Cast":
            raise BundleError(f"{self.matmul.name}: expected a Cast after it")
        self.cast = casts[0]
        outs = consumers.get(self.cast.output[0], [])
        if len(outs) != 1 or outs[0].op_type != "Mul" or self.scale_mul.output[0] not in outs[0].input:
            raise BundleError(f"{self.cast.name}: expected a Mul by the combined scale after it")
        self.out_mul = outs[0]
        self.w_q, self.w_zp = self.matmul.input[1], self.matmul.input[3]


def _chains(model: onnx.ModelProto) -> List[_Chain]:
    chains = [_Chain(model.graph, n) for n in model.graph.node if n.op_type == "DynamicQuantizeLinear"]
    if not chains:
        raise BundleError("the graph has no DynamicQuantizeLinear node: nothing to requantize")
    return chains


def _opset(model: onnx.ModelProto) -> int:
    return max(o.version for o in model.opset_import if o.domain in ("", "ai.onnx"))


def _const(name: str, value: np.ndarray) -> onnx.TensorProto:
    return numpy_helper.from_array(np.asarray(value), name)


def _replace(graph: onnx.GraphProto, chain: _Chain, new_nodes: List[onnx.NodeProto],
             remove: Sequence[onnx.NodeProto]) -> None:
    """Swap ``remove`` for ``new_nodes`` at the place of the chain's first node (graph order kept)."""
    nodes = list(graph.node)
    at = nodes.index(chain.dql)
    kept = [n for n in nodes if all(n is not r for r in remove)]
    at = sum(1 for n in nodes[:at] if all(n is not r for r in remove))
    del graph.node[:]
    graph.node.extend(kept[:at] + new_nodes + kept[at:])


def _rewrite_static(graph: onnx.GraphProto, chain: _Chain, lo: float, hi: float) -> None:
    """x_q = QuantizeLinear(x, scale, zp) with scale and zp from the calibrated [lo, hi] (0 included),
    as onnxruntime's own dynamic quantization computes them per call."""
    lo, hi = min(lo, 0.0), max(hi, 0.0)
    scale = np.float32((hi - lo) / 255.0 or 1.0)
    zero = np.uint8(np.clip(round(-lo / float(scale)), 0, 255))
    graph.initializer.extend([_const(chain.x_scale, scale), _const(chain.x_zp, zero)])
    quant = helper.make_node("QuantizeLinear", [chain.x, chain.x_scale, chain.x_zp], [chain.x_q],
                             name=chain.dql.name + "_static")
    _replace(graph, chain, [quant], [chain.dql])


def _rewrite_row(graph: onnx.GraphProto, chain: _Chain, opset: int) -> None:
    """Per row (last axis): scale = max(|x|) / 127 (floored), x_q = QuantizeLinear(x / scale, 1, 128):
    symmetric, so the zero point stays the scalar that MatMulInteger's CPU kernel requires."""
    p = chain.dql.name + "_row"
    graph.initializer.extend([
        _const(p + "_127", np.float32(127.0)), _const(p + "_tiny", np.float32(1e-12)),
        _const(p + "_one", np.float32(1.0)), _const(chain.x_zp, np.uint8(128))])
    if opset >= 18:
        graph.initializer.append(_const(p + "_axes", np.array([-1], dtype=np.int64)))
        reduce = helper.make_node("ReduceMax", [p + "_abs", p + "_axes"], [p + "_max"], keepdims=1)
    else:
        reduce = helper.make_node("ReduceMax", [p + "_abs"], [p + "_max"], axes=[-1], keepdims=1)
    nodes = [
        helper.make_node("Abs", [chain.x], [p + "_abs"]),
        reduce,
        helper.make_node("Max", [p + "_max", p + "_tiny"], [p + "_floored"]),
        helper.make_node("Div", [p + "_floored", p + "_127"], [chain.x_scale]),  # [..., 1]
        helper.make_node("Div", [chain.x, chain.x_scale], [p + "_scaled"]),
        helper.make_node("QuantizeLinear", [p + "_scaled", p + "_one", chain.x_zp], [chain.x_q]),
    ]
    _replace(graph, chain, nodes, [chain.dql])


def _rewrite_float(graph: onnx.GraphProto, chain: _Chain) -> None:
    """out = MatMul(x, DequantizeLinear(w_q, w_scale, w_zp)): the per-channel weight scales lie on
    the weight's last axis (quantize_dynamic transposes it to [in, out])."""
    init = {i.name: i for i in graph.initializer}
    if chain.w_scale not in init or chain.w_q not in init:
        raise BundleError(f"{chain.matmul.name}: its weight and scale must be initializers")
    w_scale = numpy_helper.to_array(init[chain.w_scale])
    p = chain.matmul.name + "_float"
    attrs = {"axis": 1} if w_scale.ndim == 1 and w_scale.size > 1 else {}
    nodes = [
        helper.make_node("DequantizeLinear", [chain.w_q, chain.w_scale, chain.w_zp], [p + "_w"],
                         name=p + "_dequantize", **attrs),
        helper.make_node("MatMul", [chain.x, p + "_w"], [chain.out_mul.output[0]], name=p),
    ]
    _replace(graph, chain, nodes, [chain.dql, chain.matmul, chain.scale_mul, chain.cast, chain.out_mul])


# -- calibration ----------------------------------------------------------------------------------------

def calibration_texts(paths: Sequence[str], limit: Optional[int] = None) -> Iterator[str]:
    """Texts of labelled files (``X.sent``, ``.tsv``) or plain corpus files (one text a line)."""
    from ..data import iter_corpus, read_labelled

    count = 0
    for path in paths:
        texts = ((ex.text for ex in read_labelled(path, skip_bad=True)) if path.endswith((".sent", ".tsv"))
                 else iter_corpus([path]))
        for text in texts:
            if limit is not None and count >= limit:
                return
            count += 1
            yield text


def calibrate(bundle_dir: str, texts: Sequence[str], batch_size: int = 64) -> Dict[str, Tuple[float, float]]:
    """Per DynamicQuantizeLinear input: (min, max) over the rows the runtime feeds it for ``texts``."""
    import onnxruntime as ort

    from ..runtime.predictor import Predictor

    manifest, graph = load_bundle(bundle_dir)
    model = onnx.load(graph)
    names = [c.x for c in _chains(model)]
    for name in names:
        model.graph.output.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, None))
    predictor = Predictor(bundle_dir, batch_size=batch_size)
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    session = ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])
    predictor.session = _Tap(session, names)
    for start in range(0, len(texts), batch_size):
        predictor.best_readings(texts[start:start + batch_size])
    return {n: (float(lo), float(hi)) for n, (lo, hi) in predictor.session.ranges.items()}


class _Tap:
    """A session stand-in that runs the real one with extra outputs and keeps their running range."""

    def __init__(self, session, names: Sequence[str]):
        self.session, self.names = session, list(names)
        self.ranges: Dict[str, Tuple[float, float]] = {}

    def run(self, outputs, feeds):
        got = self.session.run(list(outputs) + self.names, feeds)
        for name, value in zip(self.names, got[len(outputs):]):
            if value.size:
                lo, hi = self.ranges.get(name, (np.inf, -np.inf))
                self.ranges[name] = (min(lo, float(value.min())), max(hi, float(value.max())))
        return got[:len(outputs)]


# -- the bundle -------------------------------------------------------------------------------------------

def requantize(bundle_dir: str, out_dir: str, calibration_paths: Sequence[str] = (), method: str = "float",
               max_calibration_texts: int = 50000) -> dict:
    """Write ``bundle_dir`` to ``out_dir`` with every dynamic activation quantization replaced by
    ``method`` (see the module docstring); returns the manifest's new ``quantization`` entry.
    ``calibration_paths`` (labelled or corpus files; never a test split) are read for ``static`` only."""
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; choose one of: {', '.join(METHODS)}")
    if os.path.abspath(out_dir) == os.path.abspath(bundle_dir):
        raise ValueError("out_dir must differ from bundle_dir: measure the new bundle before replacing")
    manifest, graph = load_bundle(bundle_dir)
    model = onnx.load(graph)
    chains = _chains(model)
    opset = _opset(model)
    ranges: Dict[str, Tuple[float, float]] = {}
    if method == "static":
        if not calibration_paths:
            raise ValueError("method 'static' needs calibration_paths (training or dev data)")
        texts = list(calibration_texts(calibration_paths, max_calibration_texts))
        ranges = calibrate(bundle_dir, texts)
    for chain in chains:
        if method == "static":
            _rewrite_static(model.graph, chain, *ranges[chain.x])
        elif method == "row":
            _rewrite_row(model.graph, chain, opset)
        else:
            _rewrite_float(model.graph, chain)
    onnx.checker.check_model(model)
    quantization = dict(manifest.quantization)
    quantization["activations"] = {
        "float": "none (int8 weights dequantized, float matmul)",
        "row": "uint8 per row, symmetric, computed per call",
        "static": "uint8 per tensor, calibrated once"}[method]
    quantization["requantized"] = {"method": method, "from_graph_sha256": manifest.graph_sha256,
                                   "date": time.strftime("%Y-%m-%d")}
    if method == "static":
        quantization["requantized"]["ranges"] = {k: [round(lo, 6), round(hi, 6)] for k, (lo, hi) in ranges.items()}
        quantization["requantized"]["calibration"] = [os.path.join(*p.split(os.sep)[-2:]) for p in calibration_paths]
        quantization["requantized"]["calibration_texts"] = len(texts)
    manifest.quantization = quantization
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, manifest.graph_file)
        onnx.save(model, path)
        write_bundle(out_dir, manifest, path)
    return quantization
