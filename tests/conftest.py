"""Fixtures: a tiny but real model bundle (an ONNX graph built with ``onnx.helper``).

The graph honours the bundle's I/O contract (``input_ids``/``attention_mask``/``query_index`` in,
``logits`` [n, labels] out) and computes, for each queried token, a linear function of the one-hot
ids of the previous, the current and the next token. The weights encode simple rules, so tests know
the right answer:

* 行 reads xing2, but hang2 before 业 or 长 or after 银;  长 reads chang2, but zhang3 after 行;
* 重 reads zhong4, but chong2 before 新;  了 reads le5, but liao3 before 解;
* 一 reads yi1, 不 bu4, 好 hao3;
* 乐 is in the candidate table but missing from the vocabulary (-> pypinyin's reading);
* 的 is not in the candidate table at all (-> pypinyin's reading).

``onnx`` is a test-only dependency here (the ``export`` extra); the runtime never imports it.
"""
from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

from pinyin_edge.bundle import Manifest, write_bundle
from pinyin_edge.candidates import CandidateTable
from pinyin_edge.dictionaries import CACHE_ENV

# The compiled-dictionary cache goes to a per-run folder (inherited by CLI subprocesses), never to
# the home of whoever runs the tests.
if CACHE_ENV not in os.environ:
    import atexit
    import tempfile

    os.environ[CACHE_ENV] = tempfile.mkdtemp(prefix="pinyin-edge-test-cache-")
    atexit.register(shutil.rmtree, os.environ[CACHE_ENV], True)

@functools.lru_cache(maxsize=1)
def _table() -> CandidateTable:
    return CandidateTable.from_pypinyin()


SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
HAN = list("银行长业走重新了解一不是天定我你好很个去看想买五本酒老鼠第十二三百年起大家")
PUNCT = list("，。！？,.!?")
LATIN = list("abcdefghijklmnopqrstuvwxyz0123456789")
VOCAB = SPECIALS + HAN + PUNCT + LATIN + [f"##{c}" for c in LATIN]
POLYPHONES = ["行", "长", "重", "了", "一", "不", "好", "乐"]  # 乐: candidates but not in VOCAB

# (slot, token, reading, weight): slot -1 = previous token, 0 = the token itself, +1 = next token
RULES = [
    (0, "行", "xing2", 2.0), (1, "业", "hang2", 5.0), (1, "长", "hang2", 5.0), (-1, "银", "hang2", 5.0),
    (0, "长", "chang2", 2.0), (-1, "行", "zhang3", 5.0),
    (0, "重", "zhong4", 2.0), (1, "新", "chong2", 5.0),
    (0, "了", "le5", 2.0), (1, "解", "liao3", 5.0),
    (0, "一", "yi1", 2.0), (0, "不", "bu4", 2.0), (0, "好", "hao3", 2.0),
]


@functools.lru_cache(maxsize=None)
def expected_reading(prev: str, char: str, nxt: str) -> str:
    """What the fixture model says for a polyphone between ``prev`` and ``nxt`` (single tokens)."""
    table = _table()
    scores = {r: 0.0 for r in table.get(char)}
    for slot, token, reading, weight in RULES:
        if reading in scores and {-1: prev, 0: char, 1: nxt}[slot] == token:
            scores[reading] += weight
    best = max(scores.values())
    return next(r for r in table.get(char) if scores[r] == best)


def build_graph(path: str, vocab, labels, rules=RULES) -> None:
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    v, n_labels = len(vocab), len(labels)
    index = {t: i for i, t in enumerate(vocab)}
    label_index = {r: i for i, r in enumerate(labels)}
    weight = np.zeros((3 * v, n_labels), dtype=np.float32)
    for slot, token, reading, w in rules:
        weight[(slot + 1) * v + index[token], label_index[reading]] += w
    inits = [
        numpy_helper.from_array(np.eye(v, dtype=np.float32), "embedding"),
        numpy_helper.from_array(weight, "head_w"),
        numpy_helper.from_array(np.zeros(n_labels, dtype=np.float32), "head_b"),
        numpy_helper.from_array(np.array([0, 1, 0, 0, 0, 0], dtype=np.int64), "pad_front"),
        numpy_helper.from_array(np.array([0, 0, 0, 0, 1, 0], dtype=np.int64), "pad_back"),
        numpy_helper.from_array(np.array([0], dtype=np.int64), "zero"),
        numpy_helper.from_array(np.array([1], dtype=np.int64), "one"),
        numpy_helper.from_array(np.array([-1], dtype=np.int64), "minus_one"),
        numpy_helper.from_array(np.array([2 ** 62], dtype=np.int64), "big"),
        numpy_helper.from_array(np.array([2], dtype=np.int64), "axis2"),
        numpy_helper.from_array(np.array([-1, 3 * v], dtype=np.int64), "flat_shape"),
    ]
    nodes = [
        helper.make_node("Gather", ["embedding", "input_ids"], ["emb"], axis=0),
        helper.make_node("Cast", ["attention_mask"], ["mask_f"], to=TensorProto.FLOAT),
        helper.make_node("Unsqueeze", ["mask_f", "axis2"], ["mask3"]),
        helper.make_node("Mul", ["emb", "mask3"], ["cur"]),
        helper.make_node("Pad", ["cur", "pad_front"], ["front"]),
        helper.make_node("Slice", ["front", "zero", "minus_one", "one"], ["prev"]),
        helper.make_node("Pad", ["cur", "pad_back"], ["back"]),
        helper.make_node("Slice", ["back", "one", "big", "one"], ["next"]),
        helper.make_node("Concat", ["prev", "cur", "next"], ["hidden"], axis=2),
        helper.make_node("Reshape", ["hidden", "flat_shape"], ["flat"]),
        helper.make_node("Gather", ["flat", "query_index"], ["picked"], axis=0),
        helper.make_node("MatMul", ["picked", "head_w"], ["scores"]),
        helper.make_node("Add", ["scores", "head_b"], ["logits"]),
    ]
    graph = helper.make_graph(
        nodes, "pinyin_edge_test",
        [helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", "seq"]),
         helper.make_tensor_value_info("attention_mask", TensorProto.INT64, ["batch", "seq"]),
         helper.make_tensor_value_info("query_index", TensorProto.INT64, ["n"])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["n", n_labels])],
        initializer=inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)],
                              producer_name="pinyin-edge-tests")
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, path)


def make_bundle(bundle_dir: str, max_length: int = 64, work: str = None) -> str:
    table = CandidateTable.from_pypinyin()
    candidates = table.to_json(POLYPHONES)
    labels = sorted({r for readings in candidates.values() for r in readings})
    work = work or os.path.dirname(bundle_dir)
    graph_path = os.path.join(work, f"graph-{os.path.basename(bundle_dir)}.onnx")
    build_graph(graph_path, VOCAB, labels)
    manifest = Manifest(vocab=list(VOCAB), labels=labels, candidates=candidates, max_length=max_length,
                        quantization={"mode": "none"},
                        provenance={"checkpoint": "tests/conftest.py", "data": "hand-written rules"},
                        metrics={"rules_accuracy": 1.0},
                        model_card={"name": "pinyin-edge test fixture", "licence": "Apache-2.0"})
    write_bundle(bundle_dir, manifest, graph_path)
    return bundle_dir


def rewrite_bundle(bundle_dir: str, manifest=None, dictionary=None) -> None:
    """Edit a bundle as a faulty exporter would write it: ``manifest(data)`` changes the manifest's
    JSON, ``dictionary(table)`` the char -> reading table of dictionary.txt; the checksums are then
    recomputed (with hashlib, not the code under test), so only the edit itself can be refused."""
    import hashlib
    import json

    path = os.path.join(bundle_dir, "manifest.json")
    with open(path, encoding="utf-8") as handle:
        data = json.load(handle)
    if dictionary is not None:
        dict_path = os.path.join(bundle_dir, data["files"]["dictionary"]["path"])
        table = {}
        with open(dict_path, encoding="utf-8") as handle:
            for line in handle.read().splitlines():
                reading, chars = line.split("\t")
                table.update((c, reading) for c in chars)
        dictionary(table)
        lines = {}
        for char, reading in table.items():
            lines[reading] = lines.get(reading, "") + char
        raw = "".join(f"{r}\t{c}\n" for r, c in sorted(lines.items())).encode("utf-8")
        with open(dict_path, "wb") as handle:
            handle.write(raw)
        data["files"]["dictionary"]["sha256"] = hashlib.sha256(raw).hexdigest()
    if manifest is not None:
        manifest(data)
    raw = json.dumps(data, ensure_ascii=False).encode("utf-8")
    with open(path, "wb") as handle:
        handle.write(raw)
    with open(os.path.join(bundle_dir, "manifest.sha256"), "w", encoding="utf-8") as handle:
        handle.write(f"{hashlib.sha256(raw).hexdigest()}  manifest.json\n")


@pytest.fixture(scope="session")
def bundle_root(tmp_path_factory):
    return tmp_path_factory.mktemp("bundles")


@pytest.fixture(scope="session")
def bundle(bundle_root) -> str:
    """A valid bundle, max_length 64. Read-only: copy it (``bundle_copy``) to tamper with it."""
    return make_bundle(str(bundle_root / "tiny"), max_length=64)


@pytest.fixture(scope="session")
def small_window_bundle(bundle_root) -> str:
    """The same graph with max_length 16: long texts need many windows."""
    return make_bundle(str(bundle_root / "tiny16"), max_length=16)


@pytest.fixture(scope="session")
def wide_bundle(bundle_root) -> str:
    """The same graph with max_length 4096: one window for every test text."""
    return make_bundle(str(bundle_root / "tiny4096"), max_length=4096)


@pytest.fixture
def bundle_copy(bundle, tmp_path) -> str:
    target = str(tmp_path / "copy")
    shutil.copytree(bundle, target)
    return target


@pytest.fixture(scope="session")
def g2p(bundle):
    """A shared G2P on the fixture bundle (never add overrides to it: build your own)."""
    from pinyin_edge import G2P

    return G2P(model=bundle, phrases=False)  # the model path; phrases are tested on their own


def run_cli(*args, input: bytes = b"", env=None, timeout: float = 60):
    """Run ``python -m pinyin_edge.cli ARGS`` in a subprocess; returns CompletedProcess (bytes)."""
    full_env = dict(os.environ)
    full_env.pop("PYTHONWARNINGS", None)
    if env:
        full_env.update(env)
    return subprocess.run([sys.executable, "-m", "pinyin_edge.cli", *args], input=input,
                          capture_output=True, env=full_env, timeout=timeout)


# ---------------------------------------------------------------------------------------------------
# Training / export fixtures (tests/test_pretrain.py, test_finetune.py, test_export.py,
# test_pipeline.py). Data and builders live in training_fixtures.py; these fixtures skip cleanly
# when torch / transformers are not installed.

def need_training():
    """Skip unless the train extra is installed; pin torch to one thread (a loaded 2-core CI box)."""
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")  # as pinyin_edge.modeling does
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    torch = pytest.importorskip("torch")
    pytest.importorskip("transformers")
    torch.set_num_threads(1)
    return torch


@pytest.fixture(scope="session")
def training_data(tmp_path_factory) -> dict:
    """Labelled fixture files: full-sentence TSV and CPP-style X.sent/X.lb, train and dev."""
    import training_fixtures as tf

    root = tmp_path_factory.mktemp("training-data")
    return {
        "root": str(root),
        "train_tsv": tf.write_tsv(str(root / "train.tsv"), tf.TRAIN_MARKED),
        "dev_tsv": tf.write_tsv(str(root / "dev.tsv"), tf.DEV_MARKED),
        "train_sent": tf.write_cpp(str(root / "train.sent"), tf.TRAIN_MARKED),
        "dev_sent": tf.write_cpp(str(root / "dev.sent"), tf.DEV_MARKED),
        "corpus": tf.write_corpus(str(root / "corpus.txt")),
    }


@pytest.fixture(scope="session")
def base_model(tmp_path_factory) -> str:
    """A local, randomly initialised 2-layer BERT (32 wide) + char-vocab tokenizer: a stand-in hub model."""
    need_training()
    import training_fixtures as tf

    return tf.make_base_model(str(tmp_path_factory.mktemp("base-model") / "bert"))


@pytest.fixture(scope="session")
def trained_checkpoint(tmp_path_factory, base_model, training_data) -> str:
    """``pinyin-edge train`` output (best/, last/, log.jsonl) after 40 steps. Read-only: copy to tamper."""
    need_training()
    import training_fixtures as tf

    from pinyin_edge.training.finetune import finetune

    out = str(tmp_path_factory.mktemp("finetuned") / "run")
    finetune(tf.finetune_config(base_model, training_data, out), log=tf.quiet)
    return out
