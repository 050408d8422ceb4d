"""The build steps as subcommands: ``prepare`` and ``card`` on a small data folder written here, and
their mistakes as one line."""
import shutil

import pytest
from click.testing import CliRunner

from pinyin_edge.bundle import load_bundle, write_bundle
from pinyin_edge.cli import main
from pinyin_edge.data import read_labelled

M = "\u2581"


def cli(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def write_cpp(path, rows):
    """CPP style: X.sent with the labelled character between U+2581 marks, X.lb beside it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(f"{text[:at]}{M}{text[at]}{M}{text[at + 1:]}\n" for text, at, _ in rows), encoding="utf-8")
    path.with_suffix(".lb").write_text("".join(f"{reading}\n" for _, _, reading in rows), encoding="utf-8")


TEST_ROWS = [("银行行长", 1, "hang2"), ("他走了", 2, "le5"), ("重新开始", 0, "chong2"), ("行走", 0, "xing2")]


@pytest.fixture
def data(tmp_path):
    """A shared-data-shaped folder: polyphone/{cpp,g2pl,cpp-subset} and corpus/."""
    root = tmp_path / "data"
    poly = root / "polyphone"
    write_cpp(poly / "cpp" / "dev.sent", [("银行很大", 1, "hang2"), ("长大了", 0, "zhang3"), ("了解", 0, "liao3")])
    write_cpp(poly / "cpp" / "test.sent", TEST_ROWS)
    write_cpp(poly / "g2pl" / "train.sent", [("行人", 0, "xing2")])
    write_cpp(poly / "g2pl" / "dev.sent", [("重要", 0, "zhong4")])
    write_cpp(poly / "g2pl" / "test.sent", TEST_ROWS[:2])
    (poly / "cpp-subset").mkdir()
    (poly / "cpp-subset" / "train.tsv").write_text("长城\tchang2 -\n", encoding="utf-8")
    (poly / "cpp-subset" / "test.tsv").write_text("行业\thang2 -\n", encoding="utf-8")
    (root / "corpus").mkdir()
    (root / "corpus" / "a.txt").write_text("他在银行工作。\n银行行长\n我们重新开始了。\n", encoding="utf-8")
    return root


def test_prepare_writes_the_split_and_weak_labels_without_test_sentences(data, tmp_path):
    pytest.importorskip("torch")  # prepare shares the corpus filter of pretraining
    out = tmp_path / "out"
    result = cli("prepare", "--data", data, "--out", out, "--holdout", 1, "--seed", 3)
    assert result.exit_code == 0, result.output
    # gold: CPP dev minus the held-out sentence (2), g2pL train and dev (1 + 1), cpp-subset train (1)
    assert "gold train: 5 sentences" in result.stdout and "dev (CPP dev slice): 1 sentences" in result.stdout
    assert len(read_labelled(str(out / "gold_cpp.tsv"))) == 2 and len(read_labelled(str(out / "dev_cpp.tsv"))) == 1
    # corpus lines holding a test sentence (银行行长; 重新开始 inside the third) are dropped first
    assert [ex.text for ex in read_labelled(str(out / "weak_sentence.tsv"))] == ["他在银行工作。"]


def test_prepare_mistakes_are_one_line(data, tmp_path):
    pytest.importorskip("torch")
    for args, fragment in ((["--weak-mode", "distill"], "--teacher BUNDLE goes with"),
                           (["--weak-mode", "nope"], "unknown weak-label mode 'nope'"),
                           (["--focus-rare", "5"], "--focus-rare needs --weak-only")):
        result = cli("prepare", "--data", data, "--out", tmp_path / "out", *args)
        assert result.exit_code == 1 and result.stderr.count("\n") == 1, result.output
        assert result.stderr.startswith("error: ") and fragment in result.stderr
    shutil.rmtree(data / "corpus")
    result = cli("prepare", "--data", data, "--out", tmp_path / "out")
    assert result.exit_code == 1 and result.stderr.count("\n") == 1 and "corpus" in result.stderr, result.output


def test_import_lac_from_a_folder_without_lac_is_one_line(tmp_path):
    pytest.importorskip("torch")
    result = cli("import-lac", "--out", tmp_path / "base", "--source", tmp_path)
    assert result.exit_code == 1 and result.stderr.count("\n") == 1, result.output
    assert result.stderr.startswith("error: ") and str(tmp_path) in result.stderr  # the file it lacks


def test_card_measures_the_test_sets_and_writes_the_card(data, bundle, wide_bundle, tmp_path):
    pytest.importorskip("g2pM")
    carded, installed = tmp_path / "carded", tmp_path / "installed"
    shutil.copytree(bundle, carded)
    dev = tmp_path / "dev.tsv"
    dev.write_text("银行\t- hang2\n行长\thang2 zhang3\n", encoding="utf-8")
    result = cli("card", carded, "--data", data, "--base", "lac", "--dev", dev, "--compare", wide_bundle,
                 "--install", installed, "--name", "fixture card")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"model card written to {carded} and {installed}: cpp_test ")
    for path in (carded, installed):
        manifest, _ = load_bundle(str(path))
        card = manifest.model_card
        assert card["name"] == "fixture card" and set(card["accuracy"]) == {"cpp_test", "g2pl_test"}
        assert set(card["accuracy"]["cpp_test"]) == {"edge", "pypinyin", "g2pm"}
        assert manifest.metrics["test"]["cpp_test"]["edge"]["total"] == len(TEST_ROWS)
        assert manifest.metrics["test"]["g2pl_test"]["edge"]["total"] == 2
        assert [row["bundle"] for row in card["comparison_cpp_dev_slice"]] == ["carded", "tiny4096"]
    original, _ = load_bundle(bundle)
    assert original.model_card == {"name": "pinyin-edge test fixture", "licence": "Apache-2.0"}


def test_card_refuses_a_training_record_of_other_weights_before_measuring(data, bundle, tmp_path):
    from conftest import RULES, build_graph

    carded, other = tmp_path / "carded", tmp_path / "other"
    shutil.copytree(bundle, carded)
    manifest, _ = load_bundle(bundle)
    build_graph(str(tmp_path / "other.onnx"), manifest.vocab, manifest.labels, rules=RULES[:-1])
    write_bundle(str(other), manifest, str(tmp_path / "other.onnx"))
    result = cli("card", carded, "--data", data, "--base", "lac", "--training-record-from", other)
    assert result.exit_code == 1 and result.stderr.count("\n") == 1, result.output
    assert "other weights" in result.stderr
    result = cli("card", carded, "--data", data, "--base", "lac", "--training-record-from", bundle,
                 "--finetune", tmp_path)
    assert result.exit_code == 1 and "give one or the other" in result.stderr
    assert load_bundle(str(carded))[0].model_card == load_bundle(bundle)[0].model_card
