import os

import numpy as np
import pytest

from pinyin_edge.bundle import BundleError
from pinyin_edge.runtime.session import create_session, session_options


def test_settings(bundle):
    options = session_options(3)
    assert options.intra_op_num_threads == 3 and options.inter_op_num_threads == 1
    import onnxruntime as ort

    assert options.execution_mode == ort.ExecutionMode.ORT_SEQUENTIAL
    assert options.graph_optimization_level == ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    session = create_session(os.path.join(bundle, "model.onnx"), threads=1)
    assert session.get_providers() == ["CPUExecutionProvider"]
    for bad in (-1, 1.5, "2", True):
        with pytest.raises(ValueError):
            session_options(bad)


def test_unknown_provider(bundle):
    with pytest.raises(ValueError, match="not available"):
        create_session(os.path.join(bundle, "model.onnx"), providers=["NoSuchExecutionProvider"])


def test_not_onnx(tmp_path):
    path = tmp_path / "model.onnx"
    path.write_bytes(b"\x08\x07garbage" * 10)
    with pytest.raises(BundleError, match="not a valid ONNX file.*re-export"):
        create_session(str(path))
    with pytest.raises(BundleError, match="no such ONNX graph"):
        create_session(str(tmp_path / "missing.onnx"))


def test_wrong_io_contract(tmp_path):
    import onnx
    from onnx import TensorProto, helper

    graph = helper.make_graph(
        [helper.make_node("Identity", ["ids"], ["out"])], "wrong",
        [helper.make_tensor_value_info("ids", TensorProto.INT64, ["n"])],
        [helper.make_tensor_value_info("out", TensorProto.INT64, ["n"])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    path = str(tmp_path / "wrong.onnx")
    onnx.save(model, path)
    with pytest.raises(BundleError, match="graph inputs are"):
        create_session(path)
    assert create_session(path, check_io=False) is not None


def test_label_count_mismatch(bundle):
    with pytest.raises(BundleError, match="scores .* labels but the manifest lists"):
        create_session(os.path.join(bundle, "model.onnx"), num_labels=3)


def test_graph_follows_the_contract(bundle):
    """The fixture graph itself: int64 inputs, [n, labels] float logits for flat query positions."""
    session = create_session(os.path.join(bundle, "model.onnx"))
    ids = np.array([[2, 10, 11, 3], [2, 10, 3, 0]], dtype=np.int64)
    mask = (ids != 0).astype(np.int64)
    (logits,) = session.run(["logits"], {"input_ids": ids, "attention_mask": mask,
                                         "query_index": np.array([1, 5, 6], dtype=np.int64)})
    assert logits.dtype == np.float32 and logits.shape[0] == 3


_LOAD = """
import sys
from pinyin_edge import G2P
print(" ".join(G2P(sys.argv[1]).pinyin("银行")))
"""


def test_loading_leaves_nothing_in_home_but_the_documented_cache(bundle, tmp_path):
    """onnxruntime's telemetry (deviceid, onnxruntime.db under ~/.cache/Microsoft) is off; the only
    thing written under HOME is pinyin-edge's dictionary cache, nothing in the working folder."""
    import subprocess
    import sys

    home, work = tmp_path / "home", tmp_path / "work"
    home.mkdir()
    work.mkdir()
    env = {k: v for k, v in os.environ.items()
           if k not in ("PINYIN_EDGE_CACHE_DIR", "XDG_CACHE_HOME", "ORT_DISABLE_TELEMETRY", "PYTHONWARNINGS")}
    env["HOME"] = str(home)
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [root, env.get("PYTHONPATH")]))
    proc = subprocess.run([sys.executable, "-c", _LOAD, bundle], cwd=work, env=env, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0 and proc.stdout == "yin2 hang2\n", proc.stderr
    assert "telemetry" not in proc.stderr.lower()
    written = [os.path.relpath(os.path.join(folder, name), home) for folder, _, names in os.walk(home)
               for name in names]
    assert written and all(path.startswith(os.path.join(".cache", "pinyin-edge") + os.sep) for path in written), written
    assert os.listdir(work) == []
