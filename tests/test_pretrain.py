"""MLM pretraining from zero: the loss falls, the output loads with AutoModel/AutoTokenizer, test
sentences are kept out of the corpus, and an interrupted run resumes where it stopped."""
import math
import os

import pytest
from conftest import need_training

torch = need_training()

import training_fixtures as tf  # noqa: E402

from pinyin_edge.training.pretrain import PretrainConfig, drop_test_lines, prepare, pretrain  # noqa: E402


def config(corpus, out, **overrides) -> PretrainConfig:
    settings = dict(corpus=[corpus], out=str(out), preset="debug", seq_len=32, batch_size=16, lr=1e-2,
                    warmup_steps=5, max_steps=40, min_count=1, heldout_fraction=0.2, eval_every=10,
                    save_every=10, device="cpu", seed=0)
    settings.update(overrides)
    return PretrainConfig(**settings)


@pytest.fixture(scope="module")
def pretrained(training_data, tmp_path_factory):
    out = tmp_path_factory.mktemp("pretrain") / "enc"
    messages = []
    summary = pretrain(config(training_data["corpus"], out), log=messages.append)
    return str(out), summary, messages


def test_pretraining_lowers_the_heldout_mlm_loss(pretrained, training_data):
    from transformers import BertForMaskedLM

    from pinyin_edge.training.common import seed_everything
    from pinyin_edge.training.presets import bert_config
    from pinyin_edge.training.pretrain import evaluate_mlm

    out, summary, _ = pretrained
    cfg = config(training_data["corpus"], out)
    tokenizer, _, held, meta = prepare(cfg, log=tf.quiet)  # the cached data of the run
    assert len(held) >= 4  # a real held-out set, not an empty one scored as 0
    # The loss at the start: the same architecture, freshly initialised with the run's seed.
    seed_everything(cfg.seed)
    fresh = BertForMaskedLM(bert_config(cfg.encoder_preset(), len(tokenizer)))
    start = evaluate_mlm(fresh, held, tokenizer, cfg, torch.device("cpu"))["mlm_loss"]
    assert start == pytest.approx(math.log(meta["vocab_size"]), abs=0.3)  # a uniform guess

    evals = [r for r in tf.read_jsonl(os.path.join(out, "log.jsonl")) if r.get("eval")]
    assert [r["step"] for r in evals] == [10, 20, 30, 40]
    end = evals[-1]["mlm_loss"]
    assert 0 < end < start - 0.5, (start, evals)
    assert evals[-1]["mlm_accuracy"] > 0.05
    assert summary["step"] == 40 and summary["mlm_loss"] == pytest.approx(end)
    assert summary["tokens_seen"] == 40 * 16 * 32


def test_output_loads_with_auto_classes(pretrained):
    from transformers import AutoModel, AutoTokenizer

    out, _, _ = pretrained
    tokenizer = AutoTokenizer.from_pretrained(out)
    model = AutoModel.from_pretrained(out)
    assert tokenizer.is_fast
    enc = tokenizer(["银行行长来了", "2024年AI行业"], return_tensors="pt", padding=True)
    assert tokenizer.convert_ids_to_tokens(enc["input_ids"][0].tolist())[:8] == [
        "[CLS]", "银", "行", "行", "长", "来", "了", "[SEP]"]
    assert tokenizer.convert_ids_to_tokens(enc["input_ids"][1].tolist()) == [
        "[CLS]", "2", "##0", "##2", "##4", "年", "a", "##i", "行", "业", "[SEP]"]
    assert model.config.num_hidden_layers == 1 and model.config.hidden_size == 32
    assert model.config.vocab_size == len(tokenizer)
    with torch.no_grad():
        hidden = model(**enc).last_hidden_state
    assert hidden.shape == (2, enc["input_ids"].shape[1], 32)
    # The saved encoder is the trained one, not a fresh random init: same weights as checkpoint-last.
    state = torch.load(os.path.join(out, "checkpoint-last", "state.pt"), map_location="cpu", weights_only=False)
    trained = state["model"]["bert.encoder.layer.0.attention.self.query.weight"]
    assert torch.equal(model.encoder.layer[0].attention.self.query.weight, trained)


def test_drop_test_lines():
    tests = ["银行的行长来了", "我了解这个问题", "短句", "  重新开始吧  "]
    lines = [
        "昨天银行的行长来了，大家都很高兴。",   # contains a test sentence: dropped
        "银行的行长",                            # only a prefix of one: kept
        "他说我了解这个问题。",                  # dropped
        "这是短句。",                            # test sentences under 4 characters are ignored
        "我们重新开始吧！",                      # contains the stripped sentence: dropped
        "银行的行长没来",                        # shares 5 characters, not the sentence: kept
    ]
    assert drop_test_lines(lines, tests) == ["银行的行长", "这是短句。", "银行的行长没来"]
    long = "这是一个很长很长的测试句子，用来检查前缀"
    assert drop_test_lines(["前面" + long + "后面", long[:-1]], [long]) == [long[:-1]]


def test_exclude_drops_corpus_lines_with_test_sentences(tmp_path):
    test_file = tf.write_tsv(str(tmp_path / "test.tsv"), ["鑫鑫银行{hang2}开业了{le5}。"])
    corpus = tf.write_corpus(str(tmp_path / "corpus.txt"),
                             tf.CORPUS_EXTRA * 2 + ["昨天鑫鑫银行开业了。真热闹", "鑫鑫银行开业了。"])
    cfg = config(corpus, tmp_path / "out", exclude=[test_file])
    tokenizer, train, held, meta = prepare(cfg, log=tf.quiet)
    assert meta["lines"] == 2 * len(tf.CORPUS_EXTRA) + 2
    assert meta["dropped_test_lines"] == 2
    assert meta["train_lines"] + meta["heldout_lines"] == 2 * len(tf.CORPUS_EXTRA)
    assert "鑫" not in tokenizer.get_vocab()  # it only ever occurred in the dropped lines
    assert len(train) and len(held)
    # Without --exclude the same corpus keeps them.
    _, _, _, kept = prepare(config(corpus, tmp_path / "out2"), log=tf.quiet)
    assert kept["dropped_test_lines"] == 0 and kept["train_lines"] + kept["heldout_lines"] == meta["lines"]


def test_resume_continues_from_the_step_reached(training_data, tmp_path):
    out = tmp_path / "resume"
    first = pretrain(config(training_data["corpus"], out, max_steps=10, save_every=5, eval_every=5),
                     log=tf.quiet)
    assert first["step"] == 10
    logged = len(tf.read_jsonl(str(out / "log.jsonl")))
    messages = []
    summary = pretrain(config(training_data["corpus"], out, max_steps=20, save_every=5, eval_every=5),
                       resume=True, log=messages.append)
    assert any(m == f"resumed from {out / 'checkpoint-last'} at step 10" for m in messages), messages
    assert summary["step"] == 20
    assert summary["tokens_seen"] == 20 * 16 * 32  # counted on from step 10, not restarted
    new = [r["step"] for r in tf.read_jsonl(str(out / "log.jsonl"))[logged:] if r.get("eval")]
    assert new == [15, 20]  # a restart would have evaluated at 5 and 10 again
    state = torch.load(str(out / "checkpoint-last" / "state.pt"), map_location="cpu", weights_only=False)
    assert state["step"] == 20 and state["scheduler"]["last_epoch"] == 20


def test_resume_after_interruption(training_data, tmp_path):
    out = tmp_path / "interrupted"
    cfg = config(training_data["corpus"], out, max_steps=20, save_every=5, eval_every=5)

    def interrupt(message):
        if message.strip().startswith("step 15:"):
            raise KeyboardInterrupt  # after step 15's evaluation, before its checkpoint

    with pytest.raises(KeyboardInterrupt):
        pretrain(cfg, log=interrupt)
    messages = []
    summary = pretrain(cfg, resume=True, log=messages.append)
    assert f"resumed from {out / 'checkpoint-last'} at step 10" in messages
    assert summary["step"] == 20
    evaluated = [m.split()[1] for m in messages if m.strip().startswith("step ")]
    assert evaluated == ["15:", "20:"]


def test_no_heldout_sequence_is_not_reported_as_a_perfect_loss(training_data, tmp_path):
    """One held-out line is shorter than one sequence: nothing to score, so no figure (NaN), not 0."""
    cfg = config(training_data["corpus"], tmp_path / "out", heldout_fraction=0.001, max_steps=2, eval_every=2)
    summary = pretrain(cfg, log=tf.quiet)
    held = prepare(cfg, log=tf.quiet)[2]
    assert len(held) == 0
    assert math.isnan(summary["mlm_loss"]) and math.isnan(summary["mlm_accuracy"])
