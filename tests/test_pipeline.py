"""End to end through the CLI: pretrain -> train -> export -> convert -> eval (edge and torch agree)."""
import json
import os
import re

import pytest
from conftest import need_training

need_training()
pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")

import training_fixtures as tf  # noqa: E402
from click.testing import CliRunner  # noqa: E402

from pinyin_edge.cli import main  # noqa: E402
from pinyin_edge.readings import is_han  # noqa: E402


def run(*args):
    result = CliRunner().invoke(main, [str(a) for a in args])
    assert result.exit_code == 0, (args, result.output, result.exception)
    return result


def test_pretrain_train_export_convert_eval(training_data, tmp_path):
    corpus = tf.write_corpus(str(tmp_path / "corpus.txt"),
                             (tf.CORPUS_EXTRA + tf.plain(tf.TRAIN_MARKED)) * 3 + tf.plain(tf.DEV_MARKED))
    encoder, ckpt, bundle = tmp_path / "encoder", tmp_path / "ft", tmp_path / "bundle"

    result = run("pretrain", "--corpus", corpus, "--out", encoder, "--preset", "debug", "--max-steps", 10,
                 "--batch-size", 16, "--seq-len", 32, "--min-count", 1, "--warmup-steps", 2, "--lr", "1e-2",
                 "--save-every", 5, "--eval-every", 5, "--device", "cpu", "--exclude", training_data["dev_tsv"])
    assert f"dropped {len(tf.DEV_MARKED)} containing a test sentence" in result.stderr
    assert os.path.exists(encoder / "config.json") and os.path.exists(encoder / "tokenizer.json")

    result = run("train", "--base-model", encoder, "--train", training_data["train_tsv"],
                 "--dev", training_data["dev_tsv"], "--out", ckpt, "--max-steps", 30, "--batch-size", 8,
                 "--lr", "5e-3", "--encoder-lr-scale", 1.0, "--eval-every", 10, "--max-length", 32,
                 "--device", "cpu")
    assert result.stdout.startswith(f"best checkpoint: {ckpt}/best")
    assert os.path.exists(ckpt / "best" / "head.pt")

    result = run("export", ckpt, "--out", bundle)
    assert result.stdout.startswith(f"bundle written to {bundle}")
    manifest = tf.read_json(bundle / "manifest.json")
    assert manifest["quantization"]["mode"] == "int8" and manifest["metrics"]["parity"]["failures"] == []

    text = "银行的行长来了，AI行业 2024"
    result = run("convert", text, "--model", bundle)
    items = result.stdout.rstrip("\n").split(" ")
    assert len(items) == len(text)
    for char, item in zip(text, items):
        if is_han(char):
            assert re.fullmatch(r"[a-z]+[1-5]", item), (char, item)
        else:
            assert item == ("" if char.isspace() else char)

    scores = {}
    for system, model in (("edge", bundle), ("torch", ckpt)):
        result = run("eval", training_data["dev_tsv"], training_data["dev_sent"], "--system", system,
                     "--model", model, "--json")
        scores[system] = json.loads(result.stdout.strip().splitlines()[-1])
    assert scores["edge"]["total"] == scores["torch"]["total"] == 2 * 14
    assert scores["edge"]["correct"] == scores["torch"]["correct"]
    assert scores["edge"]["accuracy"] == scores["torch"]["accuracy"]
    assert scores["edge"]["confusions"] == scores["torch"]["confusions"]  # the same mistakes, too
