"""Evaluation: systems' one-reading-per-character contract, scoring, coverage, and the eval CLI."""
import json
import subprocess
import sys

import pytest
from click.testing import CliRunner

from pinyin_edge.candidates import CandidateTable
from pinyin_edge.data import Dataset, Example, read_labelled
from pinyin_edge.evaluation import systems
from pinyin_edge.evaluation.coverage import candidate_coverage
from pinyin_edge.evaluation.evaluate import AlignmentError, EvalResult, evaluate
from pinyin_edge.evaluation.systems import SystemUnavailable, make_system

M = "\u2581"

# Five labels; pypinyin (0.55) gets the first three right and the last two wrong:
# 银行 hang2 (phrase), 了解 liao3 (phrase), 走了 le5, 晟 sheng4 (pypinyin: cheng2), 一骑 ji4 (qi2).
CPP_SENTENCES = [f"银{M}行{M}行长", f"我们{M}了{M}解情况", f"他走{M}了{M}", f"{M}晟{M}睿", f"一{M}骑{M}红尘"]
CPP_LABELS = ["hang2", "liao3", "le5", "sheng4", "ji4"]


def write_cpp(tmp_path, name, sentences=CPP_SENTENCES, labels=CPP_LABELS):
    sent = tmp_path / f"{name}.sent"
    sent.write_text("".join(s + "\n" for s in sentences), encoding="utf-8")
    (tmp_path / f"{name}.lb").write_text("".join(lb + "\n" for lb in labels), encoding="utf-8")
    return str(sent)


@pytest.fixture(scope="module")
def pypinyin_system():
    return make_system("pypinyin")


# --- systems -----------------------------------------------------------------------------------

def test_pypinyin_one_canonical_reading_per_character(pypinyin_system):
    texts = ["银行行长", "AI行业, ok 了", "绿色的草地", "", "😀〇々"]
    out = pypinyin_system.predict(texts)
    assert [len(o) for o in out] == [len(t) for t in texts]
    assert out[0] == ["yin2", "hang2", "hang2", "zhang3"]
    assert out[1] == ["A", "I", "hang2", "ye4", ",", " ", "o", "k", " ", "le5"]   # non-Han unchanged
    assert out[2] == ["lv4", "se4", "de5", "cao3", "di4"]                         # v, neutral 5
    assert out[4] == ["😀", "ling2", "々"]


def test_pypinyin_realigns_grouped_output():
    """If pypinyin ever groups characters, the system still returns one item per character."""
    from pypinyin import Style, lazy_pinyin

    system = make_system("pypinyin")
    # pypinyin's default error handling: a non-Han run comes back as ONE item
    system._lazy = lambda text: lazy_pinyin(text, style=Style.TONE3, neutral_tone_with_five=True)
    assert len(system._lazy("AI行业ok")) != len("AI行业ok")
    assert system.predict(["AI行业ok"]) == [["A", "I", "hang2", "ye4", "o", "k"]]
    assert system.realigned == 1


def test_pypinyin_realigns_per_character_as_last_resort():
    system = make_system("pypinyin")
    real = system._lazy
    system._lazy = lambda text: real(text) if len(text) == 1 else real(text)[:-1]  # always drops one
    assert system.predict(["银行x"]) == [["yin2", "xing2", "x"]]  # per character: 行 alone is xing2


def test_majority_learns_from_train(tmp_path):
    train = tmp_path / "train.tsv"
    # 行 read xing2 three times, hang2 once; 了 only liao3
    train.write_text("行走\txing2 zou3\n行人\txing2 ren2\n银行\tyin2 hang2\n步行\tbu4 xing2\n了解\tliao3 jie3\n",
                     encoding="utf-8")
    system = make_system("majority", train=[str(train)])
    assert system.majority["行"] == "xing2" and system.majority["了"] == "liao3"
    # every occurrence of a seen character takes its majority reading; unseen ones fall back to pypinyin
    assert system.predict(["银行行长", "走了吧"]) == [["yin2", "xing2", "xing2", "zhang3"],
                                                      ["zou3", "liao3", "ba5"]]


def test_majority_tie_goes_to_pypinyin_order(tmp_path):
    train = tmp_path / "t.tsv"
    train.write_text("银行\tyin2 hang2\n行走\txing2 zou3\n", encoding="utf-8")
    assert make_system("majority", train=[str(train)]).majority["行"] == "xing2"  # pypinyin's first


def test_majority_needs_train(tmp_path):
    with pytest.raises(ValueError, match="--train"):
        make_system("majority")
    empty = tmp_path / "e.tsv"
    empty.write_text("ABC\t\n", encoding="utf-8")
    with pytest.raises(ValueError, match="no labelled characters"):
        make_system("majority", train=[str(empty)])


def test_make_system_errors(tmp_path):
    with pytest.raises(ValueError, match="unknown system 'nope'.*pypinyin"):
        make_system("nope")
    with pytest.raises(ValueError, match="--model"):
        make_system("torch")
    with pytest.raises(FileNotFoundError, match="no such checkpoint"):
        make_system("torch", model=str(tmp_path / "missing"))
    with pytest.raises(FileNotFoundError, match="no such model bundle"):
        make_system("edge", model=str(tmp_path / "missing"))


def test_cli_choices_match_registry():
    from pinyin_edge.evaluation import commands

    assert set(commands.SYSTEM_CHOICES) == set(systems.SYSTEMS)
    assert commands.MODEL_SYSTEMS == systems.MODEL_SYSTEMS


def test_g2pm_unavailable(monkeypatch):
    monkeypatch.setitem(sys.modules, "g2pM", None)  # import g2pM now raises ImportError
    with pytest.raises(SystemUnavailable, match="pip install g2pM"):
        make_system("g2pm")


def test_g2pm_one_reading_per_character():
    pytest.importorskip("g2pM")
    system = make_system("g2pm")
    texts = ["银行", "AB行业 ok", "绿色的", ""]
    out = system.predict(texts)
    assert [len(o) for o in out] == [len(t) for t in texts]
    assert out[0] == ["yin2", "hang2"]
    assert out[1][:2] == ["A", "B"] and out[1][4:] == [" ", "o", "k"]  # g2pM alone would give B -> bi1
    assert out[2] == ["lv4", "se4", "de5"]                             # its lu:4 normalised


# --- scoring -----------------------------------------------------------------------------------

def test_pypinyin_scores_cpp_fixture(tmp_path, pypinyin_system):
    data = read_labelled(write_cpp(tmp_path, "test"))
    result = evaluate(pypinyin_system, data, ["test.sent"], progress=False)
    assert (result.correct, result.total, result.sentences) == (3, 5, 5)
    assert result.accuracy == pytest.approx(0.6)
    assert result.outside_candidates == 1                     # 骑 has only qi2 in pypinyin
    assert {(c["char"], c["gold"], c["predicted"]) for c in result.confusions()} == {
        ("晟", "sheng4", "cheng2"), ("骑", "ji4", "qi2")}
    assert result.per_char(min_count=1, top=2) == [
        {"char": "晟", "accuracy": 0.0, "correct": 0, "total": 1},
        {"char": "骑", "accuracy": 0.0, "correct": 0, "total": 1}]
    assert result.per_char(min_count=2) == [{"char": "了", "accuracy": 1.0, "correct": 2, "total": 2}]
    j = result.to_json()
    assert (j["accuracy"], j["correct"], j["total"], j["system"], j["data"]) == (0.6, 3, 5, "pypinyin", ["test.sent"])
    json.dumps(j)  # serialisable


class Fixed:
    """A fake system: every Han character read as ``reading``."""
    name = "fixed"

    def __init__(self, reading="hang2", short=False):
        self.reading, self.short = reading, short

    def predict(self, texts):
        out = [[self.reading if "\u4e00" <= ch <= "\u9fff" else ch for ch in t] for t in texts]
        return [o[:-1] for o in out] if self.short else out


def _dataset(*items):
    return Dataset([Example(text, labels, f"x:{i}") for i, (text, labels) in enumerate(items, 1)])


def test_evaluate_counts_and_batches():
    data = _dataset(("银行", ((1, "hang2"),)), ("行走", ((0, "xing2"),)), ("行", ((0, "hang2"),)),
                    ("A行", ((1, "xing2"),)))
    result = evaluate(Fixed(), data, batch_size=3, progress=False)
    assert (result.correct, result.total, result.sentences, result.characters) == (2, 4, 4, 7)
    assert result.confusions() == [{"char": "行", "gold": "xing2", "predicted": "hang2", "count": 2}]
    assert result.char_counts == {"行": [2, 4]}


def test_evaluate_rejects_misaligned_system():
    data = _dataset(("银行", ((1, "hang2"),)))
    with pytest.raises(AlignmentError, match="1 readings for 2 characters"):
        evaluate(Fixed(short=True), data, progress=False)


def test_progress_goes_to_the_given_stream():
    import io

    stream = io.StringIO()
    evaluate(Fixed(), _dataset(("银行", ((1, "hang2"),))), progress=True, stream=stream)
    assert stream.getvalue().count("1/1 sentences") == 1  # a log gets the final line once
    tty = io.StringIO()
    tty.isatty = lambda: True
    evaluate(Fixed(), _dataset(("银行", ((1, "hang2"),))), progress=True, stream=tty)
    assert tty.getvalue().startswith("\r") and "1/1 sentences" in tty.getvalue()
    quiet = io.StringIO()
    evaluate(Fixed(), _dataset(("银行", ((1, "hang2"),))), progress=False, stream=quiet)
    assert quiet.getvalue() == ""


def test_combine_results():
    a = evaluate(Fixed(), _dataset(("银行", ((1, "hang2"),))), ["a"], progress=False)
    b = evaluate(Fixed(), _dataset(("行走", ((0, "xing2"),)), ("行", ((0, "hang2"),))), ["b"], progress=False)
    total = EvalResult.combine([a, b])
    assert (total.correct, total.total, total.data) == (2, 3, ["a", "b"])
    assert total.char_counts == {"行": [2, 3]}
    assert [f["data"] for f in total.to_json()["files"]] == [["a"], ["b"]]


def test_candidate_coverage():
    pairs = [("行", "hang2"), ("骑", "ji4"), ("嗯", "en4"), ("嗯", "en4")]
    cov = candidate_coverage(pairs)
    assert (cov.total, cov.outside, cov.covered) == (4, 3, 1)
    assert cov.top_missing() == [("嗯", "en4", 2), ("骑", "ji4", 1)]
    table = CandidateTable.from_pypinyin()
    table.extend([("骑", "ji4")])
    assert candidate_coverage(pairs, table).outside == 2


# --- the CLI -----------------------------------------------------------------------------------

def run_cli(*args):
    from pinyin_edge.cli import main

    return CliRunner().invoke(main, ["eval", *args])


def test_cli_json_last_line(tmp_path):
    path = write_cpp(tmp_path, "test")
    result = run_cli(path, "--system", "pypinyin", "--json")
    assert result.exit_code == 0, result.output
    last = result.stdout.strip().splitlines()[-1]
    j = json.loads(last)
    assert (j["correct"], j["total"], j["system"], j["data"]) == (3, 5, "pypinyin", [path])
    assert j["accuracy"] == pytest.approx(0.6)
    assert j["outside_candidates"] == 1
    assert {"per_char", "confusions"} <= set(j)
    assert "accuracy: 60.00%" in result.stderr     # the human report moves to stderr


def test_cli_human_report_and_several_files(tmp_path):
    a = write_cpp(tmp_path, "a")
    b = write_cpp(tmp_path, "b", [f"银{M}行{M}"], ["hang2"])
    result = run_cli(a, b, "--system", "pypinyin")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert f"== {a}" in out and f"== {b}" in out and "== total over 2 files" in out
    assert "accuracy: 60.00%  (3 / 5 labels" in out and "accuracy: 66.67%  (4 / 6 labels" in out
    assert "gold labels outside the candidate table: 1" in out
    assert "晟: sheng4 -> cheng2" in out

    j = json.loads(run_cli(a, b, "--system", "pypinyin", "--json").stdout.strip().splitlines()[-1])
    assert (j["correct"], j["total"], j["data"]) == (4, 6, [a, b])
    assert [(f["correct"], f["total"]) for f in j["files"]] == [(3, 5), (1, 1)]


def test_cli_majority(tmp_path):
    train = tmp_path / "train.tsv"
    train.write_text("晟\tsheng4\n一骑\tyi1 ji4\n", encoding="utf-8")
    result = run_cli(write_cpp(tmp_path, "test"), "--system", "majority", "--train", str(train), "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout.splitlines()[-1])["correct"] == 5


def one_line_error(result, *fragments):
    assert result.exit_code != 0
    assert isinstance(result.exception, SystemExit), result.exception   # no traceback
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    for fragment in fragments:
        assert fragment in lines[0]


def test_cli_malformed_file(tmp_path):
    path = write_cpp(tmp_path, "bad", [f"{M}行{M}", "no marks here"], ["xing2", "le5"])
    one_line_error(run_cli(path, "--system", "pypinyin"), f"{path}:2:", "--skip-bad")
    result = run_cli(path, "--system", "pypinyin", "--skip-bad", "--json")
    assert result.exit_code == 0
    j = json.loads(result.stdout.splitlines()[-1])
    assert (j["total"], j["skipped"]) == (1, 1)


def test_cli_errors(tmp_path, monkeypatch):
    good = write_cpp(tmp_path, "good")
    one_line_error(run_cli(str(tmp_path / "missing.sent"), "--system", "pypinyin"), "no such file")
    one_line_error(run_cli(good, "--system", "torch", "--model", str(tmp_path / "nope")), "no such checkpoint")
    one_line_error(run_cli(good, "--system", "pypinyin", "--model", good), "--model")
    one_line_error(run_cli(good, "--system", "pypinyin", "--train", good), "--train")
    one_line_error(run_cli(good, "--system", "majority"), "--train")
    monkeypatch.setitem(sys.modules, "g2pM", None)
    one_line_error(run_cli(good, "--system", "g2pm"), "pip install g2pM")


def test_cli_subprocess_malformed_exits_nonzero(tmp_path):
    path = write_cpp(tmp_path, "bad", [f"{M}行{M}"], ["hang9"])
    proc = subprocess.run([sys.executable, "-m", "pinyin_edge.cli", "eval", path, "--system", "pypinyin"],
                          capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=120)
    assert proc.returncode == 1
    assert proc.stderr.strip().splitlines() == [f"error: {tmp_path / 'bad.lb'}:1: not a pinyin reading: "
                                                f"'hang9' (use --skip-bad to skip such lines)"]
    assert "Traceback" not in proc.stderr and proc.stdout == ""


def test_commands_module_imports_light():
    code = ("import sys, pinyin_edge.evaluation.commands; "
            "print(sorted(m for m in ('pypinyin', 'numpy', 'torch', 'g2pM', 'onnxruntime') if m in sys.modules))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"


# --- the edge runtime, on conftest's rule-based fixture bundle ------------------------------------

def test_edge_system_on_fixture_bundle(tmp_path, bundle):
    # the fixture model: 行 hang2 after 银, else xing2; 了 liao3 before 解; 重 chong2 before 新
    path = write_cpp(tmp_path, "edge", [f"银{M}行{M}", f"{M}行{M}走", f"{M}了{M}解", f"{M}重{M}新"],
                     ["hang2", "xing2", "liao3", "zhong4"])
    system = make_system("edge", model=bundle, threads=1)
    assert system.predict(["AI银行"]) == [["A", "I", "yin2", "hang2"]]
    result = run_cli(path, "--system", "edge", "--model", bundle, "--threads", "2", "--json")
    assert result.exit_code == 0, result.output
    j = json.loads(result.stdout.splitlines()[-1])
    assert (j["correct"], j["total"], j["system"]) == (3, 4, "edge")
    assert j["confusions"] == [{"char": "重", "gold": "zhong4", "predicted": "chong2", "count": 1}]


def test_torch_system_decides_through_the_runtime_policy(tmp_path, monkeypatch):
    """The torch system is the runtime's decision policy with the checkpoint as its scorer: phrases,
    exceptions, fixed readings and citation tones come from the policy, the rest from the scorer."""
    import types

    calls = {}

    class FakeScorer:
        def __init__(self, checkpoint, device="cuda", decided=None):
            calls["init"] = (checkpoint, device, decided)

        def best_readings(self, texts, skip=None):
            calls["skip"] = skip
            return [{o: {"行": "xing2", "不": "bu2"}[c] for o, c in enumerate(t)
                     if c in "行不" and not (skip[i] and o in skip[i])} for i, t in enumerate(texts)]

    fake = types.ModuleType("pinyin_edge.modeling.scorer")
    fake.TorchScorer = FakeScorer
    monkeypatch.setitem(sys.modules, "pinyin_edge.modeling.scorer", fake)
    system = make_system("torch", model=str(tmp_path))
    assert calls["init"] == (str(tmp_path), "cpu", None)
    # 银行: the phrase decides 行 (hang2); alone, the scorer (xing2); 不 in citation tone; A unchanged
    assert system.predict(("行", "银行", "不A")) == [["xing2"], ["yin2", "hang2"], ["bu4", "A"]]
    assert calls["skip"] == [None, {0, 1}, None]
    off = make_system("torch", model=str(tmp_path), phrases=False)
    assert off.predict(["银行"]) == [["yin2", "xing2"]]


def test_torch_system_takes_a_bundles_policy(bundle, tmp_path, monkeypatch):
    import types

    from pinyin_edge.bundle import load_bundle

    class FakeScorer:
        def __init__(self, checkpoint, device="cuda", decided=None):
            self.decided = decided

        def best_readings(self, texts, skip=None):
            return [{} for _ in texts]

    fake = types.ModuleType("pinyin_edge.modeling.scorer")
    fake.TorchScorer = FakeScorer
    monkeypatch.setitem(sys.modules, "pinyin_edge.modeling.scorer", fake)
    manifest, _ = load_bundle(bundle, verify=False)
    system = make_system("torch", model=str(tmp_path), policy_of=bundle)
    assert system.scorer.decided == set(manifest.candidates)
    assert system.policy.phrases == manifest.phrases and system.policy.dictionary == manifest.dictionary
    assert system.policy.word_exceptions == manifest.phrase_word_exceptions


def test_torch_system_without_torch(tmp_path, monkeypatch):
    for name in [m for m in sys.modules if m.startswith("pinyin_edge.modeling")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "torch", None)
    with pytest.raises(SystemUnavailable, match=r"'train' extra \(torch is missing\)"):
        make_system("torch", model=str(tmp_path))


def test_cli_phrase_policy_only_for_model_systems(tmp_path):
    path = write_cpp(tmp_path, "test")
    result = run_cli(path, "--system", "pypinyin", "--no-phrases")
    assert result.exit_code != 0
    assert "--phrases/--no-phrases is used by the edge and torch systems" in result.output
