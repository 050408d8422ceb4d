"""Export: a checkpoint trained in the test becomes a bundle that onnxruntime loads and that decides
exactly as PyTorch does; int8 is smaller; the manifest is complete; the parity gate refuses broken
graphs; corrupt checkpoints give one-line CLI errors."""
import json
import os
import shutil
import subprocess
import sys

import pytest
from conftest import need_training

torch = need_training()
onnx = pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")

import training_fixtures as tf  # noqa: E402
from click.testing import CliRunner  # noqa: E402

from pinyin_edge import G2P  # noqa: E402
from pinyin_edge.bundle import MANIFEST, SCHEMA_VERSION, BundleError, data_record, load_bundle, sha256_file  # noqa: E402
from pinyin_edge.cli import main  # noqa: E402
from pinyin_edge.evaluation.systems import make_system  # noqa: E402
from pinyin_edge.exporters import onnx_export  # noqa: E402
from pinyin_edge.exporters.onnx_export import ExportSettings, export_bundle  # noqa: E402
from pinyin_edge.exporters.validate import ParityError, ParityThresholds  # noqa: E402
from pinyin_edge.modeling.checkpoint import weights_sha256  # noqa: E402
from pinyin_edge.runtime.session import create_session  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

TEXTS = tf.plain(tf.DEV_MARKED) + tf.plain(tf.TRAIN_MARKED) + [
    "2024年AI行业发展很快，银行行长还了钱。",
    "重新 了解 音乐 行业",
    "他还没还书，大家都不快乐了。",
]


@pytest.fixture(scope="module")
def bundles(trained_checkpoint, tmp_path_factory):
    root = tmp_path_factory.mktemp("exported")
    int8 = str(root / "int8")
    fp32 = str(root / "fp32")
    manifests = {
        "int8": export_bundle(trained_checkpoint, int8, log=tf.quiet),
        "fp32": export_bundle(trained_checkpoint, fp32, ExportSettings(quantize="none"), log=tf.quiet),
    }
    return {"int8": int8, "fp32": fp32, "manifests": manifests}


@pytest.fixture(scope="module")
def torch_readings(trained_checkpoint):
    return make_system("torch", model=trained_checkpoint).predict(TEXTS)


@pytest.mark.parametrize("kind", ["int8", "fp32"])
def test_bundle_runs_in_onnxruntime_and_matches_pytorch(bundles, torch_readings, kind):
    manifest, graph = load_bundle(bundles[kind])
    session = create_session(graph, threads=1, num_labels=len(manifest.labels))
    assert [i.name for i in session.get_inputs()] == ["input_ids", "attention_mask", "query_index"]
    g2p = G2P(model=bundles[kind])
    got = g2p.pinyin_batch(TEXTS)
    assert got == torch_readings
    assert all(len(items) == len(text) for items, text in zip(got, TEXTS))
    # Without phrases, the model (not a dictionary) decides the polyphones it was trained on ...
    notes = G2P(model=bundles[kind], phrases=False).annotate("银行的行长来了")
    assert [n.source for n in notes if n.char in "行长了"] == ["model"] * 4
    # ... with them (the default), pypinyin's phrases 银行 and 行长 decide their polyphones.
    notes = g2p.annotate("银行的行长来了")
    assert [n.source for n in notes if n.char in "行长"] == ["dictionary"] * 3
    assert [n.reading for n in notes if n.char in "行长"] == ["hang2", "hang2", "zhang3"]
    items = g2p.pinyin("2024年AI行业")
    assert items[:7] == ["2", "0", "2", "4", "nian2", "A", "I"] and items[7] in ("hang2", "xing2")


def test_long_texts_match_pytorch(bundles, trained_checkpoint):
    sentences = tf.plain(tf.TRAIN_MARKED)
    texts = ["".join(sentences[i:i + 9]) for i in range(0, len(sentences) - 8, 3)]  # 50-80 characters
    assert min(len(t) for t in texts) > 32
    expected = make_system("torch", model=trained_checkpoint).predict(texts)
    assert G2P(model=bundles["fp32"]).pinyin_batch(texts) == expected


def test_int8_graph_is_smaller_than_fp32(bundles):
    int8 = os.path.getsize(os.path.join(bundles["int8"], "model.onnx"))
    fp32 = os.path.getsize(os.path.join(bundles["fp32"], "model.onnx"))
    assert int8 < 0.8 * fp32
    sizes = bundles["manifests"]["int8"].metrics["size_bytes"]
    assert sizes["graph"] == int8 and sizes["fp32"] > int8


def test_manifest_records_what_was_exported(bundles, trained_checkpoint):
    ckpt_meta = tf.read_json(os.path.join(trained_checkpoint, "best", "polyphone.json"))
    for kind, mode in (("int8", "int8"), ("fp32", "none")):
        data = tf.read_json(os.path.join(bundles[kind], MANIFEST))
        assert data["schema_version"] == SCHEMA_VERSION
        graph = data["files"]["graph"]
        assert graph["sha256"] == sha256_file(os.path.join(bundles[kind], graph["path"]))
        assert data["quantization"]["mode"] == mode
        if mode == "int8":
            assert data["quantization"]["per_channel"] is True
            assert data["quantization"]["weight_type"] == "QInt8"
        assert data["labels"] == ckpt_meta["labels"] and data["candidates"] == ckpt_meta["candidates"]
        assert data["max_length"] == 32
        parity = data["metrics"]["parity"]
        assert parity["queries"] == 14 and parity["failures"] == []
        assert parity["fp32_agreement"] == 1.0 and parity["fp32_max_logit_diff"] < 1e-3
        assert parity["torch_accuracy"] == pytest.approx(ckpt_meta["metrics"]["dev_accuracy"])
        assert abs(parity["torch_accuracy"] - parity["shipped_accuracy"]) <= 0.002
        assert data["metrics"]["dev"]["dev_accuracy"] == ckpt_meta["metrics"]["dev_accuracy"]
        # provenance names files and checkpoints, never where a machine keeps them
        assert data["provenance"]["checkpoint"] == "best" and data["provenance"]["step"] == ckpt_meta["step"]
        assert data["provenance"]["checkpoint_sha256"] == weights_sha256(trained_checkpoint)
        assert str(trained_checkpoint) not in json.dumps(data)
        for record in data["provenance"]["data"]["dev"] + parity["data"]:
            assert "/" not in record["file"] and len(record["sha256"]) == 64
        # The vocabulary is the tokenizer's, in id order.
        from transformers import AutoTokenizer

        vocab = AutoTokenizer.from_pretrained(os.path.join(trained_checkpoint, "best", "encoder")).get_vocab()
        assert data["vocab"] == sorted(vocab, key=vocab.get)


def test_weights_checksum_follows_the_weights_not_the_folder(trained_checkpoint, tmp_path):
    copy = tmp_path / "elsewhere"
    shutil.copytree(os.path.join(trained_checkpoint, "best"), copy)
    meta = copy / "polyphone.json"
    meta.write_text(json.dumps({**tf.read_json(str(meta)), "note": "moved"}), encoding="utf-8")
    assert weights_sha256(str(copy)) == weights_sha256(trained_checkpoint)
    head = copy / "head.pt"
    head.write_bytes(head.read_bytes() + b"\0")
    assert weights_sha256(str(copy)) != weights_sha256(trained_checkpoint)


def test_recipe_record_holds_the_settings_in_effect_and_every_file_read():
    from pinyin_edge.exporters.onnx_export import recipe_record

    got = recipe_record(os.path.join(ROOT, "export", "recipe-fast.env"))
    assert got["recipe"] == "export/recipe-fast.env"
    assert sorted(got["recipe_files"]) == ["export/recipe-fast.env", "export/recipe.env"]
    assert got["recipe_files"]["export/recipe.env"] == sha256_file(os.path.join(ROOT, "export", "recipe.env"))
    settings = got["recipe_settings"]
    assert settings["STUDENT_UNITS"] == "64" and settings["REFIT"] == "off"  # the fast recipe's own
    assert settings["BASE"] == "lac" and settings["CONTEXT"] == "8"  # from the recipe it sources
    assert not any("#" in value for value in settings.values())


# ----------------------------------------------------------------------------------- the parity gate

def negate_logits(path: str) -> None:
    """Flip the sign of the final layer's weights and bias: every ranking turns upside down."""
    model = onnx.load(path)
    producer = next(n for n in model.graph.node if "logits" in n.output)
    inits = {i.name: i for i in model.graph.initializer}
    flipped = 0
    for name in producer.input:
        if name in inits:
            array = onnx.numpy_helper.to_array(inits[name])
            inits[name].CopyFrom(onnx.numpy_helper.from_array(-array, name))
            flipped += 1
    assert flipped, producer
    onnx.save(model, path)


def test_dev_metrics_say_when_the_dev_file_was_trained_on():
    held_out = {"config": {"train": ["d/train.tsv"], "dev": ["d/dev.tsv"]}, "metrics": {"dev_accuracy": 0.9}}
    assert onnx_export.dev_metrics(held_out) == {"dev_accuracy": 0.9}
    refit = {"config": {"train": ["d/train.tsv", "./d/dev.tsv"], "dev": ["d/dev.tsv"]},
             "metrics": {"dev_accuracy": 0.99}}
    metrics = onnx_export.dev_metrics(refit)
    assert metrics["dev_accuracy"] == 0.99 and "not held out" in metrics["note"] and metrics["note"].endswith(" dev.tsv")
    assert "note" not in refit["metrics"]  # the checkpoint's own metadata stays as it was


@pytest.mark.parametrize("broken", ["fp32", "int8"])
def test_gate_rejects_a_broken_graph(trained_checkpoint, tmp_path, monkeypatch, broken):
    if broken == "fp32":
        real = onnx_export.export_fp32

        def export_fp32(model, path, opset=onnx_export.OPSET):
            real(model, path, opset)
            negate_logits(path)

        monkeypatch.setattr(onnx_export, "export_fp32", export_fp32)
        expected = "fp32 ONNX agrees with PyTorch on"
    else:
        real = onnx_export.quantize_int8

        def quantize_int8(src, dst, *args):
            work = str(tmp_path / "tampered.onnx")
            shutil.copyfile(src, work)
            negate_logits(work)
            real(work, dst, *args)

        monkeypatch.setattr(onnx_export, "quantize_int8", quantize_int8)
        expected = "quantized accuracy"
    out = str(tmp_path / "bundle")
    with pytest.raises(ParityError) as info:
        export_bundle(trained_checkpoint, out, log=tf.quiet)
    message = str(info.value)
    assert expected in message
    if broken == "int8":
        assert "below PyTorch's" in message and "fp32 ONNX agrees" not in message
    assert f"{out}.rejected" in message
    assert not os.path.exists(out)
    with pytest.raises(BundleError):
        load_bundle(out)
    rejected = tf.read_json(os.path.join(out + ".rejected", MANIFEST))
    assert rejected["metrics"]["parity"]["failures"]


def test_gate_thresholds_that_cannot_be_met_fail_the_cli(trained_checkpoint, tmp_path):
    out = str(tmp_path / "bundle")
    result = CliRunner().invoke(main, ["export", trained_checkpoint, "--out", out, "--quantize", "none",
                                       "--no-optimize", "--min-agreement", "1.01"])
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit), result.output
    lines = result.stderr.strip().splitlines()  # progress lines, then the error as the last line
    assert "Traceback" not in result.stderr and [l for l in lines if l.startswith("error")] == lines[-1:]
    assert lines[-1].startswith("error: fp32 ONNX agrees with PyTorch on 100.00% of predictions, needs 101.0%")
    assert result.stdout == ""
    assert not os.path.exists(out)
    with pytest.raises(ParityError, match=r"points below PyTorch's"):
        export_bundle(trained_checkpoint, out, ExportSettings(
            quantize="none", optimize=False, thresholds=ParityThresholds(max_accuracy_drop=-0.01)),
            log=tf.quiet)
    assert not os.path.exists(out)


def test_gate_fails_on_a_tampered_checkpoint(trained_checkpoint, tmp_path):
    ckpt = str(tmp_path / "ckpt")
    shutil.copytree(os.path.join(trained_checkpoint, "best"), ckpt)
    head = torch.load(os.path.join(ckpt, "head.pt"), weights_only=True)
    torch.save({k: -v for k, v in head.items()}, os.path.join(ckpt, "head.pt"))
    with pytest.raises(ParityError):
        export_bundle(ckpt, str(tmp_path / "bundle"), ExportSettings(quantize="none", optimize=False),
                      log=tf.quiet)


# ----------------------------------------------------------------------------------- corrupt checkpoints

def one_error_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    assert lines[0].startswith("error: ") and "Traceback" not in stderr
    return lines[0]


def _truncate(path):
    with open(path, "rb") as handle:
        data = handle.read()
    tf.write_file(path, data[: len(data) // 2])


CORRUPTIONS = {
    "truncated head.pt": lambda d: _truncate(os.path.join(d, "head.pt")),
    "garbage head.pt": lambda d: tf.write_file(os.path.join(d, "head.pt"), b"\x00garbage" * 50),
    "garbage polyphone.json": lambda d: tf.write_file(os.path.join(d, "polyphone.json"), b"{\xff garbage"),
    "polyphone.json not an object": lambda d: tf.write_file(os.path.join(d, "polyphone.json"), "[1, 2]"),
    "polyphone.json without candidates": lambda d: tf.write_file(
        os.path.join(d, "polyphone.json"), json.dumps({"labels": ["hang2"], "max_length": 32})),
    "no encoder": lambda d: shutil.rmtree(os.path.join(d, "encoder")),
    "no head.pt": lambda d: os.remove(os.path.join(d, "head.pt")),
    "missing dir": lambda d: shutil.rmtree(d),
    "empty dir": lambda d: [shutil.rmtree(d), os.makedirs(d)],
}


@pytest.mark.parametrize("corruption", sorted(CORRUPTIONS))
def test_corrupt_checkpoint_gives_one_line_cli_error(trained_checkpoint, tmp_path, corruption):
    ckpt = str(tmp_path / "ckpt")
    shutil.copytree(os.path.join(trained_checkpoint, "best"), ckpt)
    CORRUPTIONS[corruption](ckpt)
    out = str(tmp_path / "bundle")
    result = CliRunner().invoke(main, ["export", ckpt, "--out", out])
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit), result.exception
    line = one_error_line(result.stderr)
    assert ckpt in line
    assert not os.path.exists(out) and not os.path.exists(out + ".rejected")


def test_corrupt_checkpoint_in_a_real_process(trained_checkpoint, tmp_path):
    ckpt = str(tmp_path / "ckpt")
    shutil.copytree(os.path.join(trained_checkpoint, "best"), ckpt)
    _truncate(os.path.join(ckpt, "head.pt"))
    env = dict(os.environ, OMP_NUM_THREADS="1")
    env.pop("PYTHONWARNINGS", None)
    proc = subprocess.run([sys.executable, "-m", "pinyin_edge.cli", "export", ckpt, "--out", str(tmp_path / "b")],
                          capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 1
    line = one_error_line(proc.stderr)
    assert "corrupt or incomplete checkpoint" in line and ckpt in line
    assert proc.stdout == ""


def test_export_records_the_phrase_policy_and_word_exceptions(trained_checkpoint, training_data, tmp_path):
    out = str(tmp_path / "bundle")
    result = CliRunner().invoke(main, ["export", trained_checkpoint, "--out", out, "--quantize", "none",
                                       "--no-optimize", "--word-exceptions-from", training_data["train_tsv"],
                                       "--word-exception-min-count", "1", "--word-exception-min-disagreement", "0"])
    assert result.exit_code == 0, result.output
    manifest, _ = load_bundle(out)
    record = manifest.metrics["phrase_word_exceptions"]
    assert manifest.phrases is True and record["min_count"] == 1 and record["min_disagreement"] == 0
    assert set(record["counts"]) == set(manifest.phrase_word_exceptions)
    bad = CliRunner().invoke(main, ["export", trained_checkpoint, "--out", str(tmp_path / "b2"), "--no-phrases",
                                    "--word-exceptions-from", training_data["train_tsv"]])
    assert bad.exit_code != 0 and "needs --phrases" in bad.output
    gone = CliRunner().invoke(main, ["export", trained_checkpoint, "--out", str(tmp_path / "b3"),
                                     "--phrase-exceptions-from", training_data["train_tsv"]])
    assert gone.exit_code == 2  # character-wide exceptions are gone: an unknown option


def test_export_records_the_context_and_info_shows_it(trained_checkpoint, tmp_path):
    from pinyin_edge.runtime.predictor import Predictor

    out = str(tmp_path / "bundle")
    result = CliRunner().invoke(main, ["export", trained_checkpoint, "--out", out, "--quantize", "none",
                                       "--no-optimize", "--context", "6"])
    assert result.exit_code == 0, result.output
    manifest, _ = load_bundle(out)
    assert manifest.context == 6 and Predictor(out).context == 6
    info = CliRunner().invoke(main, ["info", "--model", out])
    assert info.exit_code == 0 and "reads 6 tokens on each side" in info.output, info.output
    bad = CliRunner().invoke(main, ["export", trained_checkpoint, "--out", str(tmp_path / "b2"), "--context", "0"])
    assert bad.exit_code != 0 and "--context" in bad.output


def test_export_fixes_the_readings_the_model_always_chooses(trained_checkpoint, tmp_path):
    """--fixed-from: a polyphone the model read one way across the texts (and no gold label outside
    a phrase reads otherwise) moves from the model's candidates to the bundle's dictionary."""
    from pinyin_edge import G2P

    gold = tmp_path / "gold.tsv"
    gold.write_text("银行\t- hang2\n很长\t- chang2\n", encoding="utf-8")
    texts = tmp_path / "texts.txt"
    texts.write_text("这条路很长\n" * 12 + "他走在长路上\n" * 12, encoding="utf-8")
    plain, fixed = str(tmp_path / "plain"), str(tmp_path / "fixed")
    common = ["--quantize", "none", "--no-optimize", "--gold-from", str(gold)]
    assert CliRunner().invoke(main, ["export", trained_checkpoint, "--out", plain] + common).exit_code == 0
    result = CliRunner().invoke(main, ["export", trained_checkpoint, "--out", fixed, "--fixed-from", str(texts),
                                       "--fixed-min-decisions", "24"] + common)
    assert result.exit_code == 0, result.output
    manifest, _ = load_bundle(fixed)
    record = manifest.metrics["fixed_readings"]
    assert record["texts"] == 24 and record["min_decisions"] == 24 and record["from"] == data_record([texts])
    read = [note.reading for text in ("这条路很长", "他走在长路上") for note in G2P(plain).annotate(text)
            if note.char == "长"]
    if len(set(read)) == 1 and read[0] == "chang2":   # one reading, and gold's own: fixed
        assert record["readings"] == {"长": ["chang2", 24, 1]}
        assert "长" not in manifest.candidates and manifest.dictionary["长"] == "chang2"
        assert [n.source for n in G2P(fixed).annotate("很长") if n.char == "长"] == ["dictionary"]
    else:                                             # several readings, or one that gold contradicts
        assert record["readings"] == {} and "长" in manifest.candidates
    assert "行" in manifest.candidates   # 24 decisions were needed; 行 had none
    bad = CliRunner().invoke(main, ["export", trained_checkpoint, "--out", str(tmp_path / "b2"),
                                    "--fixed-from", str(texts)])
    assert bad.exit_code != 0 and "--fixed-from needs --gold-from" in bad.output


def test_export_leaves_polyphones_without_gold_labels_to_the_dictionary(trained_checkpoint, tmp_path):
    """--gold-from: the model decides only what gold files label; the runtime and the torch system
    (deciding as the bundle does) read the others from pypinyin's dictionary."""
    from pinyin_edge import G2P
    gold = tmp_path / "gold.tsv"
    gold.write_text("银行\t- hang2\n", encoding="utf-8")   # gold labels for 行 only
    out = str(tmp_path / "bundle")
    result = CliRunner().invoke(main, ["export", trained_checkpoint, "--out", out, "--quantize", "none",
                                       "--no-optimize", "--gold-from", str(gold)])
    assert result.exit_code == 0, result.output
    manifest, _ = load_bundle(out)
    record = manifest.metrics["model_decides"]
    assert set(manifest.candidates) == {"行"} and record["decided"] == 1
    assert "长" in record["left_to_the_dictionary"] and record["from"] == data_record([gold])
    from pinyin_edge.dictionaries import dictionaries
    from pinyin_edge.runtime.phrases import fallback_reading, phrase_readings

    text = "这条路很长"
    (annotation,) = [a for a in G2P(out).annotate(text) if a.char == "长"]
    expected = fallback_reading(4, phrase_readings(text), dictionaries().char_readings("长"))
    assert annotation.source == "dictionary" and annotation.reading == expected
    torch_system = make_system("torch", model=os.path.join(trained_checkpoint, "best"), policy_of=out)
    assert set(torch_system.scorer.candidates) == {"行"}
