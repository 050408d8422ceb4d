"""Fine-tuning: loss goes down, checkpoints load, freezing, learning rates, resume, the candidate mask,
and exact character-to-token alignment for char-vocab and WordPiece tokenizers."""
import os
import shutil

import pytest
from conftest import need_training

torch = need_training()

import training_fixtures as tf  # noqa: E402

from pinyin_edge.data import Example, read_labelled  # noqa: E402
from pinyin_edge.modeling.checkpoint import CheckpointError, load_checkpoint  # noqa: E402
from pinyin_edge.modeling.encoding import Encoder, align_chars, window  # noqa: E402
from pinyin_edge.modeling.model import PolyphoneModel  # noqa: E402
from pinyin_edge.training.finetune import evaluate, finetune  # noqa: E402

POLYPHONES = {"行", "长", "重", "了", "还", "乐"}


def encoder_state(model_dir: str) -> dict:
    """The encoder's weights as saved (a base model dir or a checkpoint's encoder/ dir), no pooler."""
    from transformers import AutoModel

    model = AutoModel.from_pretrained(model_dir, add_pooling_layer=False)
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def head_state(ckpt: str) -> dict:
    return torch.load(os.path.join(ckpt, "head.pt"), map_location="cpu", weights_only=True)


# ----------------------------------------------------------------------------------- training runs

def test_training_lowers_dev_loss_and_checkpoints_load(trained_checkpoint, training_data):
    evals = [r for r in tf.read_jsonl(os.path.join(trained_checkpoint, "log.jsonl")) if r.get("eval")]
    assert [r["step"] for r in evals] == [10, 20, 30, 40]
    assert evals[-1]["dev_loss"] < 0.8 * evals[0]["dev_loss"], evals
    assert evals[-1]["dev_accuracy"] > evals[0]["dev_accuracy"], evals
    summary = tf.read_json(os.path.join(trained_checkpoint, "summary.json"))
    assert summary["steps"] == 40
    assert summary["best_dev_accuracy"] == max(r["dev_accuracy"] for r in evals)

    for name in ("best", "last"):
        path = os.path.join(trained_checkpoint, name)
        model, tokenizer, meta = load_checkpoint(path)
        assert isinstance(model, PolyphoneModel) and not model.training
        assert set(meta["candidates"]) == POLYPHONES
        assert {"hang2", "xing2", "zhang3", "chang2", "le5", "liao3"} <= set(meta["labels"])
        assert model.head.out_features == len(meta["labels"])
        assert meta["max_length"] == 32 and meta["config"]["max_steps"] == 40
        # The saved weights are the ones that were scored: re-evaluating gives the recorded figures.
        encode = Encoder(tokenizer, meta["labels"], _table(meta), meta["max_length"])
        dev = [window(e, meta["max_length"] - 2) for e in read_labelled(training_data["dev_tsv"])]
        again = evaluate(model, encode, dev, 16, torch.device("cpu"))
        assert again["dev_accuracy"] == pytest.approx(meta["metrics"]["dev_accuracy"])
        assert again["dev_loss"] == pytest.approx(meta["metrics"]["dev_loss"], rel=1e-4)
    assert os.path.exists(os.path.join(trained_checkpoint, "last", "state.pt"))
    assert not os.path.exists(os.path.join(trained_checkpoint, "best", "state.pt"))
    best_meta = tf.read_json(os.path.join(trained_checkpoint, "best", "polyphone.json"))
    assert best_meta["metrics"]["dev_accuracy"] == summary["best_dev_accuracy"]
    # load_checkpoint also accepts the run directory (it picks best/).
    assert load_checkpoint(trained_checkpoint)[2]["step"] == best_meta["step"]


def _table(meta):
    from pinyin_edge.candidates import CandidateTable

    return CandidateTable.from_json(meta["candidates"])


def test_trains_on_cpp_sent_files(base_model, training_data, tmp_path):
    out = str(tmp_path / "cpp")
    cfg = tf.finetune_config(base_model, training_data, out, train=[training_data["train_sent"]],
                             dev=[training_data["dev_sent"]], max_steps=6, eval_every=3)
    summary = finetune(cfg, log=tf.quiet)
    assert summary["steps"] == 6 and summary["dev_total"] == read_labelled(training_data["dev_sent"]).num_labels()
    meta = tf.read_json(os.path.join(out, "last", "polyphone.json"))
    expected = {}
    for ex in read_labelled(training_data["train_sent"]):
        for offset, _ in ex.labels:
            expected[ex.text[offset]] = expected.get(ex.text[offset], 0) + 1
    assert meta["trained_counts"] == expected


def test_dataset_smaller_than_one_batch(base_model, training_data, tmp_path):
    """36 sentences, batch size 64: one (partial) batch per epoch, not a division by zero."""
    cfg = tf.finetune_config(base_model, training_data, str(tmp_path / "big-batch"), batch_size=64,
                             max_steps=0, epochs=2, eval_every=1)
    summary = finetune(cfg, log=tf.quiet)
    assert summary["steps"] == 2


def test_freeze_encoder_trains_the_head_only(base_model, training_data, tmp_path):
    out = str(tmp_path / "frozen")
    cfg = tf.finetune_config(base_model, training_data, out, freeze_encoder=True, max_steps=5, eval_every=5)
    finetune(cfg, log=tf.quiet)
    head_at_5 = head_state(os.path.join(out, "last"))
    finetune(tf.finetune_config(base_model, training_data, out, freeze_encoder=True, max_steps=10,
                                eval_every=5), resume=True, log=tf.quiet)
    head_at_10 = head_state(os.path.join(out, "last"))

    base = encoder_state(base_model)
    trained = encoder_state(os.path.join(out, "last", "encoder"))
    assert trained.keys() == base.keys()
    changed = [k for k in base if not torch.equal(base[k], trained[k])]
    assert changed == []
    assert not torch.equal(head_at_5["weight"], head_at_10["weight"])
    assert not torch.equal(head_at_5["bias"], head_at_10["bias"])
    state = torch.load(os.path.join(out, "last", "state.pt"), map_location="cpu", weights_only=False)
    groups = state["optimizer"]["param_groups"]
    assert len(groups) == 1 and len(groups[0]["params"]) == 2  # head weight + bias, nothing else


def test_train_last_layers_freezes_the_rest_and_encoder_lr_is_scaled(base_model, training_data, tmp_path):
    out = str(tmp_path / "last-layer")
    cfg = tf.finetune_config(base_model, training_data, out, train_last_layers=1, lr=4e-3,
                             encoder_lr_scale=0.25, max_steps=5, eval_every=5)
    finetune(cfg, log=tf.quiet)
    base = encoder_state(base_model)
    trained = encoder_state(os.path.join(out, "last", "encoder"))
    top = [k for k in base if k.startswith("encoder.layer.1.")]
    rest = [k for k in base if not k.startswith("encoder.layer.1.")]
    assert top and any(k.startswith("encoder.layer.0.") for k in rest) and any("embeddings" in k for k in rest)
    assert [k for k in rest if not torch.equal(base[k], trained[k])] == []
    assert [k for k in top if torch.equal(base[k], trained[k])] == []

    state = torch.load(os.path.join(out, "last", "state.pt"), map_location="cpu", weights_only=False)
    head, enc = state["optimizer"]["param_groups"]
    assert head["initial_lr"] == pytest.approx(4e-3)
    assert enc["initial_lr"] == pytest.approx(4e-3 * 0.25)
    assert enc["lr"] == pytest.approx(head["lr"] * 0.25)
    from transformers import AutoModel

    layer = AutoModel.from_pretrained(base_model, add_pooling_layer=False).encoder.layer[1]
    assert len(enc["params"]) == len(list(layer.parameters())) and len(head["params"]) == 2


def test_encoder_lr_scale_for_the_whole_encoder(base_model, training_data, tmp_path):
    out = str(tmp_path / "scaled")
    finetune(tf.finetune_config(base_model, training_data, out, lr=2e-3, encoder_lr_scale=0.1,
                                max_steps=2, eval_every=2), log=tf.quiet)
    state = torch.load(os.path.join(out, "last", "state.pt"), map_location="cpu", weights_only=False)
    head, enc = state["optimizer"]["param_groups"]
    assert (head["initial_lr"], enc["initial_lr"]) == (pytest.approx(2e-3), pytest.approx(2e-4))
    from transformers import AutoModel

    n_encoder = len(list(AutoModel.from_pretrained(base_model, add_pooling_layer=False).parameters()))
    assert len(enc["params"]) == n_encoder


def test_resume_after_interruption_continues_at_the_step_reached(base_model, training_data, tmp_path):
    out = str(tmp_path / "resume")
    cfg = tf.finetune_config(base_model, training_data, out, max_steps=20, eval_every=5)

    def interrupt(message):
        if message.strip().startswith("step 15:"):
            raise KeyboardInterrupt  # after step 15's evaluation, before its last/ checkpoint

    with pytest.raises(KeyboardInterrupt):
        finetune(cfg, log=interrupt)
    assert tf.read_json(os.path.join(out, "last", "polyphone.json"))["step"] == 10
    before = len(tf.read_jsonl(os.path.join(out, "log.jsonl")))

    messages = []
    summary = finetune(cfg, resume=True, log=messages.append)
    assert any(m.startswith(f"resumed from {os.path.join(out, 'last')} at step 10") for m in messages), messages
    assert summary["steps"] == 20
    new = [r for r in tf.read_jsonl(os.path.join(out, "log.jsonl"))[before:] if r.get("eval")]
    assert [r["step"] for r in new] == [15, 20]  # not 5, 10, 15, 20: it did not start over
    state = torch.load(os.path.join(out, "last", "state.pt"), map_location="cpu", weights_only=False)
    assert state["step"] == 20 and state["scheduler"]["last_epoch"] == 20


def test_resume_without_checkpoint_starts_at_zero(base_model, training_data, tmp_path):
    messages = []
    summary = finetune(tf.finetune_config(base_model, training_data, str(tmp_path / "fresh"), max_steps=2,
                                          eval_every=2), resume=True, log=messages.append)
    assert summary["steps"] == 2
    assert any("no checkpoint yet, starting from step 0" in m for m in messages)


def test_torch_predictor_handles_texts_longer_than_max_length(trained_checkpoint):
    """max_length 32: a 70-character text needs several windows (a fixed margin of 16 looped forever)."""
    from pinyin_edge.evaluation.systems import make_system
    from pinyin_edge.readings import is_han

    text = "".join(tf.plain(tf.TRAIN_MARKED)[:8])
    assert len(text) > 60
    (readings,) = make_system("torch", model=trained_checkpoint).predict([text])
    assert len(readings) == len(text)
    assert all((r[-1] in "12345") if is_han(c) else r == c for c, r in zip(text, readings))


# ----------------------------------------------------------------------------------- checkpoint errors

def test_load_checkpoint_errors(trained_checkpoint, tmp_path):
    with pytest.raises(CheckpointError, match="no such checkpoint directory"):
        load_checkpoint(str(tmp_path / "missing"))
    with pytest.raises(CheckpointError, match="not a pinyin-edge checkpoint"):
        load_checkpoint(str(tmp_path))
    broken = str(tmp_path / "ckpt")
    shutil.copytree(os.path.join(trained_checkpoint, "best"), broken)
    head = os.path.join(broken, "head.pt")
    with open(head, "rb") as handle:
        data = handle.read()
    for content in (data[: len(data) // 2], b"", b"not a torch file" * 8):
        tf.write_file(head, content)
        with pytest.raises(CheckpointError, match="corrupt or incomplete checkpoint"):
            load_checkpoint(broken)


# ----------------------------------------------------------------------------------- candidate mask

def tiny_polyphone_model(num_labels: int) -> PolyphoneModel:
    from transformers import BertConfig, BertModel

    torch.manual_seed(0)
    config = BertConfig(vocab_size=40, hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
                        intermediate_size=32, max_position_embeddings=32)
    return PolyphoneModel(BertModel(config, add_pooling_layer=False), num_labels=num_labels)


@pytest.mark.parametrize("candidate_bias", [0.0, -1e5, -1e30])
def test_candidate_mask_makes_a_non_candidate_unreachable(candidate_bias):
    """A head biased hard toward label 0, which is no query's candidate, never picks it."""
    model = tiny_polyphone_model(num_labels=5)
    with torch.no_grad():
        model.head.weight.zero_()
        model.head.bias.fill_(candidate_bias)
        model.head.bias[0] = 1e9
    ids = torch.tensor([[2, 7, 8, 9, 3], [2, 10, 11, 3, 0]])
    mask = (ids != 0).long()
    query = torch.tensor([1, 2, 3, 6, 7])
    candidates = torch.zeros(5, 5, dtype=torch.bool)
    candidates[:, 1:3] = True
    candidates[2, 3:] = True
    for mode in (model.eval, model.train):
        mode()
        logits = model(ids, mask, query, candidates)
        probs = torch.softmax(logits.float(), dim=-1)
        assert torch.all(probs[:, 0] == 0.0)
        assert torch.all(probs[~candidates] == 0.0)
        assert torch.allclose(probs.sum(-1), torch.ones(5))
        picks = logits.argmax(-1)
        assert candidates[torch.arange(5), picks].all()
        loss = torch.nn.functional.cross_entropy(logits.float(), torch.tensor([1, 2, 4, 1, 2]))
        assert torch.isfinite(loss)
    # Without the mask the bias wins everywhere: the mask, not the weights, keeps label 0 out.
    assert (model.eval()(ids, mask, query).argmax(-1) == 0).all()


# ----------------------------------------------------------------------------------- alignment

MIXED = ["2024年AI行业", "2024 年 AI，行业！😀长大了", "  银行 行长😀了解 AI2024", "Hello世界，重新ok"]


def wordpiece_tokenizer(tmp_path):
    """A WordPiece vocab with multi-character pieces ("2024", "ai", "hello", "##ok")."""
    from pinyin_edge.training.vocab import SPECIALS, save_tokenizer

    han = sorted({c for t in MIXED for c in t if "\u4e00" <= c <= "\u9fff"})
    vocab = SPECIALS + ["2024", "20", "##24", "ai", "hello", "o", "##k", "，", "！"] + han
    return save_tokenizer(vocab, str(tmp_path / "wordpiece"))


def char_tokenizer(tmp_path):
    from pinyin_edge.training.vocab import build_vocab, save_tokenizer

    return save_tokenizer(build_vocab(MIXED, min_count=1), str(tmp_path / "chars"))


@pytest.mark.parametrize("make", [char_tokenizer, wordpiece_tokenizer])
def test_align_chars_maps_each_han_character_to_its_own_token(make, tmp_path):
    from pinyin_edge.readings import is_han

    tokenizer = make(tmp_path)
    for text in MIXED:
        enc = tokenizer(text, return_offsets_mapping=True)
        tokens = tokenizer.convert_ids_to_tokens(enc["input_ids"])
        table = align_chars(enc["offset_mapping"], len(text))
        assert len(table) == len(text)
        for offset, char in enumerate(text):
            if is_han(char):
                assert tokens[table[offset]] == char, (text, offset, tokens)
            elif char.isspace():
                assert table[offset] == -1
            else:
                assert table[offset] > 0  # covered by some real token, never [CLS]
        if make is wordpiece_tokenizer and text.startswith("2024年AI"):
            assert tokens[table[0]] == tokens[table[3]] == "2024"
            assert tokens[table[5]] == tokens[table[6]] == "ai"
    if make is char_tokenizer:
        enc = tokenizer("2024年AI行业", return_offsets_mapping=True)
        assert tokenizer.convert_ids_to_tokens(enc["input_ids"]) == [
            "[CLS]", "2", "##0", "##2", "##4", "年", "a", "##i", "行", "业", "[SEP]"]


@pytest.mark.parametrize("make", [char_tokenizer, wordpiece_tokenizer])
def test_encoder_query_positions_point_at_the_labelled_characters(make, tmp_path):
    from pinyin_edge.candidates import CandidateTable

    tokenizer = make(tmp_path)
    table = CandidateTable.from_pypinyin()
    chars = ["行", "长", "重", "了"]
    labels = sorted({r for c in chars for r in table.get(c)})
    encode = Encoder(tokenizer, labels, CandidateTable.from_json(table.to_json(chars)), max_length=64)
    examples = []
    for text in MIXED:
        marked = tuple((i, table.get(c)[-1]) for i, c in enumerate(text) if c in chars)
        examples.append(Example(text, marked))
    batch = encode(examples)
    seq = batch["input_ids"].shape[1]
    flat = batch["input_ids"].reshape(-1)
    picked = tokenizer.convert_ids_to_tokens(flat[batch["query_index"]].tolist())
    expected = [examples[b].text[examples[b].labels[k][0]] for b, k in batch["origin"]]
    assert picked == expected
    assert len(expected) == sum(len(e.labels) for e in examples)
    for row, (b, k), q in zip(batch["candidate_mask"], batch["origin"], batch["query_index"].tolist()):
        assert q // seq == b
        char = examples[b].text[examples[b].labels[k][0]]
        assert {labels[i] for i in row.nonzero().flatten().tolist()} == set(table.get(char))


def test_mixed_loss_keeps_gold_and_weak_means_apart():
    torch = pytest.importorskip("torch")
    from pinyin_edge.training.finetune import mixed_loss

    losses = torch.tensor([1.0, 3.0, 3.0, 3.0, 3.0])
    weak = torch.tensor([False, True, True, True, True])
    weight = torch.ones(5)
    # one gold label is not drowned by four weak ones: 1 (gold mean) + 0.5 x 3 (weak mean)
    assert mixed_loss(losses, weight, weak, 0.5).item() == pytest.approx(2.5)
    assert mixed_loss(losses[:1], weight[:1], weak[:1], 0.5).item() == pytest.approx(1.0)


def test_soft_cross_entropy_is_cross_entropy_for_one_hot_and_kl_plus_entropy_for_soft():
    from pinyin_edge.training.finetune import soft_cross_entropy

    logits = torch.tensor([[2.0, 0.5, -1.0], [0.0, 1.0, torch.finfo(torch.float32).min]])
    one_hot = torch.tensor([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]])
    expected = torch.nn.functional.cross_entropy(logits, torch.tensor([1, 0]), reduction="none")
    assert torch.allclose(soft_cross_entropy(logits, one_hot), expected)
    soft = torch.tensor([[0.7, 0.3, 0.0], [0.4, 0.6, 0.0]])  # no mass on the masked third label
    log_p = torch.log_softmax(logits, dim=-1)
    manual = -(soft[:, :2] * log_p[:, :2]).sum(dim=-1)
    assert torch.allclose(soft_cross_entropy(logits, soft), manual)
    assert torch.isfinite(soft_cross_entropy(logits, soft)).all()
    # A model that outputs the teacher's distribution is at the minimum: the gradient vanishes.
    fitted = torch.log(torch.tensor([[0.7, 0.3]])).requires_grad_()
    soft_cross_entropy(fitted, torch.tensor([[0.7, 0.3]])).sum().backward()
    assert fitted.grad.abs().max() < 1e-6


def test_encoder_targets_carry_soft_labels_on_candidates_only(tmp_path):
    from pinyin_edge.candidates import CandidateTable
    from pinyin_edge.training.vocab import build_vocab, save_tokenizer

    tokenizer = save_tokenizer(build_vocab(["长大了", "行长"], min_count=1), str(tmp_path / "chars"))
    table = CandidateTable.from_json({"长": ["zhang3", "chang2"], "了": ["le5", "liao3"], "行": ["xing2", "hang2"]})
    labels = ["chang2", "hang2", "le5", "liao3", "xing2", "zhang3"]
    encode = Encoder(tokenizer, labels, table, max_length=16)
    soft = ((0, (("chang2", 0.6), ("zhang3", 0.3), ("hang2", 0.1))),)  # hang2 is no candidate of 长
    batch = encode([Example("长大了", ((0, "chang2"), (2, "le5")), "", soft), Example("行长", ((0, "hang2"),))])
    target = batch["target"]
    assert target.shape == (3, len(labels))
    assert target[0, labels.index("chang2")].item() == pytest.approx(0.6 / 0.9)
    assert target[0, labels.index("zhang3")].item() == pytest.approx(0.3 / 0.9)
    assert target[0, labels.index("hang2")].item() == 0.0
    assert target[1].tolist() == [1.0 if r == "le5" else 0.0 for r in labels]  # hard label: one-hot
    assert target[2].tolist() == [1.0 if r == "hang2" else 0.0 for r in labels]
    assert batch["gold"].tolist() == [labels.index("chang2"), labels.index("le5"), labels.index("hang2")]


def test_weak_char_scale_lets_gold_set_the_convention():
    from pinyin_edge.data import Dataset, Example
    from pinyin_edge.training.finetune import weak_char_scale

    gold = Dataset([Example("慢慢地走", ((2, "de5"),))] * 2)
    weak = [Dataset([Example("土地", ((1, "di4"),))] * 10 + [Example("银行", ((1, "hang2"),))] * 3)]
    scale = weak_char_scale(gold, weak, cap=1.0, sampled_fraction=1.0)
    assert scale == {"地": pytest.approx(0.2)}  # 10 weak 地 capped to the weight of 2 gold; 行 untouched
    assert weak_char_scale(gold, weak, cap=0.0, sampled_fraction=1.0) is None


def test_checkpoint_without_encoder_folder_is_a_clear_error(trained_checkpoint, tmp_path):
    import shutil

    from pinyin_edge.modeling.checkpoint import CheckpointError, load_checkpoint

    broken = tmp_path / "ckpt"
    shutil.copytree(os.path.join(trained_checkpoint, "best"), broken)
    shutil.rmtree(broken / "encoder")
    with pytest.raises(CheckpointError, match="no encoder/ folder"):
        load_checkpoint(str(broken))
