"""The benchmark: quick runs on tiny inputs (structure and sanity of the results, never speed), and
the pieces it is made of."""
import filecmp
import importlib.util
import json
import os
import random

import pytest
from click.testing import CliRunner

from pinyin_edge.evaluation.bench import catalog, machine, node, runner, stats, targets
from pinyin_edge.evaluation.bench import inputs as I
from pinyin_edge.evaluation.bench.worker import time_batched
from pinyin_edge.evaluation.commands import bench as bench_command

M = "\u2581"
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Characters of the fixture bundle's vocabulary (tests/conftest.py), one labelled polyphone each.
SENTENCES = [f"银{M}行{M}行长很好", f"我们{M}重{M}新看一本", f"你{M}了{M}解大家", f"他去看{M}了{M}，好不好？",
             f"一百年{M}不{M}变", f"老鼠想买五本书，{M}行{M}不行",
             f"大家{M}好{M}，我是老张"]
LABELS = ["hang2", "chong2", "liao3", "le5", "bu4", "xing2", "hao3"]


def write_cpp(directory, name="mini"):
    sent = directory / f"{name}.sent"
    sent.write_text("".join(s + "\n" for s in SENTENCES), encoding="utf-8")
    (directory / f"{name}.lb").write_text("".join(lb + "\n" for lb in LABELS), encoding="utf-8")
    return str(sent)


@pytest.fixture(scope="module")
def quick_run(bundle, tmp_path_factory):
    """One quick run of the CLI on edge (the fixture bundle) + pypinyin; edge-fp32 has no bundle."""
    work = tmp_path_factory.mktemp("bench")
    data = write_cpp(work)
    out = work / "out"
    result = CliRunner().invoke(bench_command, ["--quick", "--model", bundle, "--data", data, "--out", str(out),
                                                "--systems", "edge,pypinyin,edge-fp32"])
    assert result.exit_code == 0, result.output + repr(result.exception)
    report = json.loads((out / "bench.json").read_text(encoding="utf-8"))
    return report, out, data, bundle


def test_quick_run_records_every_figure(quick_run):
    report, out, data, bundle = quick_run
    assert report["schema"] == runner.SCHEMA
    assert report["settings"]["quick"] is True and report["settings"]["threads"] == 1
    assert report["command"]
    assert report["machine"]["cpu_model"] and report["machine"]["logical_cpus"] >= 1
    assert report["machine"]["memory_mb"] > 0
    for lib in ("python", "numpy", "onnxruntime", "pypinyin", "psutil"):
        assert report["versions"][lib]
    assert report["data"][0]["name"].endswith("/mini") and report["inputs"]["source"].endswith("/mini")
    assert report["data"][0]["labels"] == len(LABELS)

    cache = report["dictionary_cache"]  # edge loads pypinyin's tables from the compiled cache
    assert cache["path"] and cache["compile_s"] > 0  # timed in a fresh process
    assert any("dictionaries from pinyin-edge's cache" in n for n in report["systems"]["edge"]["notes"])
    assert not any("cache" in n for n in report["systems"]["pypinyin"]["notes"])

    systems = report["systems"]
    assert set(systems) == {"edge", "pypinyin", "edge-fp32"}
    assert systems["edge-fp32"]["status"] == "skipped" and "--fp32-model" in systems["edge-fp32"]["reason"]
    for name in ("edge", "pypinyin"):
        system = systems[name]
        assert system["status"] == "ok", system
        (acc,) = system["accuracy"].values()
        assert 0.0 <= acc["accuracy"] <= 1.0 and acc["total"] == len(LABELS)
        for kind in I.KINDS:
            lat = system["latency_ms"][kind]
            assert lat["n"] > 0
            assert 0 < lat["p50"] <= lat["p95"] <= lat["p99"] <= lat["max"]
        for mode in ("batch1", "batched"):
            assert system["throughput"][mode]["chars_per_s"] > 0
        assert system["throughput"]["ime"]["words_per_s"] > 0
        cold = system["cold_start"]
        assert cold["total_s"] > 0 and cold["peak_rss_mb"] > 0
        assert cold["total_s"] == pytest.approx(cold["import_s"] + cold["load_s"] + cold["first_call_s"], abs=1e-3)
        rss = system["rss_mb"]
        assert rss["end"] >= rss["after_speed"] >= rss["after_latency"] >= rss["loaded"] > 0
        assert rss["resident_after_speed"] > 0
        assert system["size"]["bytes"] > 0
    assert systems["pypinyin"]["throughput"]["batched"]["native_batching"] is False
    assert systems["edge"]["throughput"]["batched"]["native_batching"] is True

    manifest = systems["edge"]["manifest"]
    assert manifest["sha256_matches"] is True and len(manifest["graph_sha256"]) == 64
    assert manifest["quantization"] == {"mode": "none"}
    assert systems["edge"]["label"] == "edge fp32"  # the fixture bundle is not quantized

    inputs = report["inputs"]
    assert 2 <= inputs["ime"]["chars_min"] and inputs["ime"]["chars_max"] <= 8
    assert inputs["paragraph"]["chars_min"] >= I.PARAGRAPH_CHARS
    assert report["ratios"]["edge"]["pypinyin"]["batched_throughput"] > 0
    rows = {row["name"]: row for row in report["targets"]}
    assert rows["bundle size"]["met"] is True
    ratio = rows["batched throughput"]
    assert ratio["value"] == report["ratios"]["edge"]["pypinyin"]["batched_throughput"]
    name = report["data"][0]["name"]
    assert rows[f"accuracy against every peer engine: {name}, pypinyin"]["value"] == pytest.approx(
        100 * (systems["edge"]["accuracy"][name]["accuracy"] - systems["pypinyin"]["accuracy"][name]["accuracy"]),
        abs=0.01)
    assert report["targets_file"]["path"] == os.path.join("benchmarks", "targets.json")  # no machine's folders
    assert report["data"][0]["path"] == os.path.relpath(data, REPO)  # relative to the checkout


def test_quick_run_times_every_system_in_interleaved_rounds(quick_run):
    report, out, _, _ = quick_run
    assert report["settings"]["plan"]["speed_rounds"] == I.QUICK.speed_rounds == 2
    for name in ("edge", "pypinyin"):
        system = report["systems"][name]
        rounds = system["speed_rounds"]
        assert len(rounds) == 2
        p50s = [r["latency_ms"]["sentence"]["p50"] for r in rounds]
        assert system["latency_ms"]["sentence"]["p50"] == pytest.approx(min(p50s), abs=1e-4)
        assert system["median_of_rounds"]["latency_ms"]["sentence"]["p50"] == pytest.approx(sum(p50s) / 2, abs=1e-4)
        assert system["latency_ms"]["sentence"]["n"] == sum(r["latency_ms"]["sentence"]["n"] for r in rounds)
        rates = system["throughput"]["batched"]["rounds_chars_per_s"]
        assert system["throughput"]["batched"]["chars_per_s"] == pytest.approx(max(rates), abs=0.1)
    assert "the best of 2 timing rounds" in (out / "bench.md").read_text(encoding="utf-8")


def test_quick_run_writes_markdown_and_plot(quick_run):
    report, out, _, _ = quick_run
    markdown = (out / "bench.md").read_text(encoding="utf-8")
    assert "| edge fp32 |" in markdown and "| pypinyin |" in markdown
    assert "x pypinyin" in markdown                       # the ratio line, from the same run
    assert "edge-fp32: skipped" in markdown
    assert "## Targets (targets.json), edge system" in markdown
    assert report["command"] in markdown
    if importlib.util.find_spec("matplotlib"):
        assert (out / "bench.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    else:
        assert report["outputs"]["plot_skipped"]


def test_bench_runs_in_an_empty_folder_without_data(tmp_path, monkeypatch):
    """As from an installed wheel: no checkout (so the packaged targets, ./bench-results), no --data
    (timing on the shipped speed text, no accuracy)."""
    monkeypatch.setattr(runner, "checkout_root", lambda: None)
    monkeypatch.setattr(targets, "checkout_root", lambda: None)
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(bench_command, ["--quick", "--systems", "edge,pypinyin", "--no-plot"])
    assert result.exit_code == 0, result.output + repr(result.exception)
    report = json.loads((tmp_path / "bench-results" / "bench.json").read_text(encoding="utf-8"))
    assert report["data"] == [] and report["git"] is None
    assert report["inputs"]["source"] == "the speed text shipped in the package"
    shipped = I.read_speed_text()
    assert report["inputs"]["sentence"]["chars_max"] == max(len(t) for t in shipped)  # 200 draws of 60
    for name in ("edge", "pypinyin"):
        system = report["systems"][name]
        assert system["status"] == "ok" and system["accuracy"] == {}
        assert system["latency_ms"]["sentence"]["p50"] > 0
    assert report["targets_file"]["path"] == targets.PACKAGED
    rows = {row["name"]: row for row in report["targets"]}
    assert rows["accuracy against every peer engine"]["met"] is None  # needs --data
    assert rows["p50 latency per sentence, batch 1"]["met"] in (True, False)
    assert "Accuracy: not measured (no `--data` given)." in (tmp_path / "bench-results" / "bench.md").read_text(
        encoding="utf-8")


def test_the_packaged_targets_are_the_repository_file():
    assert filecmp.cmp(os.path.join(REPO, "benchmarks", "targets.json"), targets.PACKAGED, shallow=False)
    spec = targets.load_targets(targets.PACKAGED)
    assert spec["system"] == "edge" and len(spec["targets"]) >= 8


def test_a_bad_targets_file_is_refused_in_one_line(tmp_path):
    bad = tmp_path / "targets.json"
    bad.write_text(json.dumps({"schema": targets.SCHEMA, "targets": [{"name": "x", "figure": "size.bytes"}]}),
                   encoding="utf-8")
    with pytest.raises(targets.TargetsError, match="one of at_most"):
        targets.load_targets(str(bad))
    result = CliRunner().invoke(bench_command, ["--quick", "--targets", str(bad), "--systems", "pypinyin",
                                                "--out", str(tmp_path / "out")])
    assert result.exit_code == 1 and "one of at_most" in result.output and "Traceback" not in result.output


def test_targets_are_ratios_to_peers_of_the_same_run():
    def system(p50, acc=None, size=None):
        entry = {"status": "ok", "latency_ms": {"sentence": {"p50": p50}}}
        if acc is not None:
            entry["accuracy"] = {"cpp/test": {"accuracy": acc}}
        if size is not None:
            entry["size"] = {"bytes": size}
        return entry

    spec = {"system": "edge", "targets": [
        {"name": "p50", "figure": "latency_ms.sentence.p50", "peer": "pypinyin", "at_most": 1.0},
        {"name": "p50 g2pm", "figure": "latency_ms.sentence.p50", "peer": "g2pm", "at_most": 0.5},
        {"name": "acc", "figure": "accuracy", "peer": "*", "points_at_least": 0.0},
        {"name": "torch", "figure": "accuracy", "peer": "torch", "points_within": 0.2},
        {"name": "g2pW", "figure": "accuracy.cpp/test.accuracy", "at_least": 0.9908},
        {"name": "size", "figure": "size.bytes", "at_most": 10_000_000, "unit": "MB"}]}
    report = {"systems": {"edge": system(0.9, 0.976, 4_870_000), "pypinyin": system(0.3, 0.8787),
                          "g2pm": system(2.0, 0.9731), "napi-pinyin": {"status": "skipped"}}}
    rows = {row["name"]: row for row in targets.check_targets(report, spec)}
    assert rows["p50"]["met"] is False and rows["p50"]["value"] == 3.0 and rows["p50"]["shown"] == "3.00x pypinyin's"
    assert rows["p50 g2pm"]["met"] is True and rows["p50 g2pm"]["value"] == 0.45
    assert rows["acc: cpp/test, pypinyin"]["value"] == 9.73 and rows["acc: cpp/test, pypinyin"]["met"] is True
    assert rows["acc: cpp/test, g2pm"]["value"] == 0.29
    assert not any("napi" in name for name in rows)      # a skipped peer has nothing to compare
    assert rows["torch: cpp/test, torch"]["met"] is None  # not in this run
    assert rows["g2pW"]["met"] is False and rows["g2pW"]["shown"] == "97.60"
    assert rows["size"]["met"] is True and rows["size"]["shown"] == "4.87 MB"
    report["systems"]["edge"]["latency_ms"]["sentence"]["p50"] = 0.3
    assert {r["name"]: r for r in targets.check_targets(report, spec)}["p50"]["met"] is True  # 1.00x: at most


def test_bench_cli_rejects_unknown_system_and_missing_data(tmp_path):
    result = CliRunner().invoke(bench_command, ["--systems", "edge,nope", "--data", write_cpp(tmp_path)])
    assert result.exit_code != 0 and "nope" in result.output
    result = CliRunner().invoke(bench_command, ["--data", str(tmp_path / "missing.sent")])
    assert result.exit_code == 1 and "missing.sent" in result.output


def test_unavailable_systems_are_skipped_with_a_reason(tmp_path, monkeypatch):
    data = write_cpp(tmp_path)
    cfg = runner.BenchConfig(data=[data], out=str(tmp_path / "out"),
                             systems=["edge", "edge-fp32", "torch", "pinyin-pro", "napi-pinyin"],
                             model=str(tmp_path / "no-bundle"), fp32_model=str(tmp_path / "nope"),
                             checkpoint=str(tmp_path / "no-ckpt"))
    monkeypatch.setenv("PATH", str(tmp_path))  # no node here
    prepared = node.prepare(log=lambda m: None)
    assert prepared == {"skip": "node is not on PATH"}
    systems = catalog.resolve_systems(cfg, log=lambda m: None, node=prepared)
    assert "no model bundle" in systems["edge"]["skip"]
    assert "no model bundle" in systems["edge-fp32"]["skip"]
    assert systems["torch"]["skip"]  # no checkpoint there (or no train extra)
    assert systems["pinyin-pro"]["skip"] == systems["napi-pinyin"]["skip"] == "node is not on PATH"


def test_node_outputs_are_aligned_one_item_per_character():
    # pinyin-pro: one item per character, neutral tone 0; @napi-rs/pinyin: non-Han runs as one item,
    # neutral tone without a digit, ü as itself
    assert node.align("AI行业，好了", ["A", "I", "hang2", "ye4", "，", "hao3", "le0"]) == \
        ["A", "I", "hang2", "ye4", "，", "hao3", "le5"]
    assert node.align("女儿，GPT-4了", ["nü3", "er2", "，GPT-4", "le"]) == \
        ["nv3", "er2", "，", "G", "P", "T", "-", "4", "le5"]
    assert node.align("行长", ["hang2"]) is None            # one reading short
    assert node.align("行", ["hang2", "x"]) is None         # one item too many
    table, misaligned = node.readings_table(["行长", "好"], [["hang2"], ["hao3"]])
    assert table == {"行长": ["?", "?"], "好": ["hao3"]} and misaligned == 1


def _node_peers_installed() -> bool:
    import shutil

    with open(os.path.join(node.HERE, "package.json"), encoding="utf-8") as handle:
        wanted = json.load(handle)["dependencies"]
    return shutil.which("node") is not None and node.installed_versions(node.node_dir()) == wanted


@pytest.mark.skipif(not _node_peers_installed(), reason="node, or the pinned npm peers in $PINYIN_EDGE_BENCH_NODE "
                                                        "(a `pinyin-edge bench` run installs them there)")
def test_node_peers_are_timed_and_scored_like_the_python_systems(tmp_path):
    data = write_cpp(tmp_path)
    plan = I.Plan(accuracy_sentences=None, iterations={"ime": 20, "sentence": 20, "paragraph": 3},
                  warmup={"ime": 2, "sentence": 2, "paragraph": 1}, max_seconds=2.0, cold_runs=1,
                  worker_timeout=120.0, speed_rounds=2)
    cfg = runner.BenchConfig(out=str(tmp_path / "out"), data=[data], systems=["pinyin-pro", "napi-pinyin"],
                             plot=False)
    report = runner.run_bench(cfg, plan, log=lambda m: None)
    for name in ("pinyin-pro", "napi-pinyin"):
        system = report["systems"][name]
        assert system["status"] == "ok", system
        (acc,) = system["accuracy"].values()
        assert acc["total"] == len(LABELS) and acc["misaligned_texts"] == 0
        assert acc["correct"] >= 4  # 行长 hang2, 重新 chong2, 好 hao3, ... read by any dictionary engine
        assert system["latency_ms"]["sentence"]["n"] == 40 and system["cold_start"]["total_s"] > 0
        assert system["rss_mb"]["after_speed"] > 0 and system["size"]["bytes"] > 0
        assert report["versions"][node.PACKAGES[name]]
    assert report["versions"]["node"].startswith("v")


def test_node_worker_and_packages_ship_with_the_package():
    assert os.path.isfile(node.WORKER)
    with open(os.path.join(node.HERE, "package.json"), encoding="utf-8") as handle:
        dependencies = json.load(handle)["dependencies"]
    assert set(dependencies) == set(node.PACKAGES.values())
    assert all(v[0].isdigit() for v in dependencies.values())  # pinned: the same peers in every run


def test_machine_info_comes_from_psutil():
    import psutil

    info = machine.machine_info()
    assert info["logical_cpus"] == psutil.cpu_count() and info["memory_mb"] == round(
        psutil.virtual_memory().total / 2**20)
    assert 1 <= info["usable_cpus"] <= info["logical_cpus"]
    assert machine.peak_rss_mb() >= machine.rss_now_mb() * 0.9 > 0


def test_inputs_and_statistics():
    texts = [s.replace(M, "") for s in SENTENCES]
    plan = I.QUICK
    drawn = I.build_inputs(texts, plan, seed=1)
    assert drawn == I.build_inputs(texts, plan, seed=1)          # the same for every system
    for kind in I.KINDS:
        assert len(drawn[kind]["timed"]) == plan.iterations[kind]
        assert len(drawn[kind]["warmup"]) == plan.warmup[kind]
    assert all(2 <= len(t) <= 8 and any(t in s for s in texts) for t in drawn["ime"]["timed"])
    assert all(len(t) >= I.PARAGRAPH_CHARS for t in drawn["paragraph"]["timed"])
    shipped = I.read_speed_text()
    assert len(shipped) >= 50 and all(I._han_runs(t, 2) for t in shipped)
    assert set(I.build_inputs(shipped, plan, seed=0)["sentence"]["timed"]) <= set(shipped)

    rng = random.Random(0)
    samples = [rng.random() for _ in range(101)]
    figures = stats.latency_stats(samples)
    ordered = sorted(samples)
    assert figures["p50"] == pytest.approx(ordered[50], abs=1e-5)
    assert figures["p99"] == pytest.approx(ordered[99], abs=1e-5)
    assert figures["min"] <= figures["p5"] <= figures["p25"] <= figures["p50"] <= figures["p75"] \
        <= figures["p95"] <= figures["max"]
    assert I.subset_indices(10, None, 0) is None and I.subset_indices(10, 20, 0) is None
    picked = I.subset_indices(100, 7, 0)
    assert picked == sorted(set(picked)) and len(picked) == 7 and picked == I.subset_indices(100, 7, 0)


def test_combine_speed_rounds_takes_each_figure_as_its_best_round():
    def round_(p50, p95, rate):
        figures = {"n": 10, "p50": p50, "p95": p95, "max": p95 + 1}
        return {"latency_ms": {k: dict(figures) for k in I.KINDS},
                "batch1": {"chars_per_s": rate / 2, "sentences_per_s": 1.0},
                "ime": {"chars_per_s": rate / 4, "words_per_s": rate / 8},
                "batched": {"chars_per_s": rate, "sentences_per_s": 2.0, "seconds": 1.0}}

    rounds = [round_(1.0, 3.0, 100.0), round_(5.0, 6.0, 300.0), round_(2.0, 9.0, 200.0)]
    system = {"speed_rounds": rounds, "latency_ms": dict(rounds[0]["latency_ms"]),
              "throughput": {mode: dict(rounds[0][mode]) for mode in ("batch1", "ime", "batched")}}
    stats.combine_speed_rounds(system)
    sentence = system["latency_ms"]["sentence"]
    assert (sentence["n"], sentence["p50"], sentence["p95"], sentence["max"]) == (30, 1.0, 3.0, 4.0)
    assert system["throughput"]["batched"]["chars_per_s"] == 300.0
    assert system["throughput"]["batch1"]["chars_per_s"] == 150.0
    assert system["throughput"]["ime"]["words_per_s"] == 37.5
    assert system["throughput"]["batched"]["rounds_chars_per_s"] == [100.0, 300.0, 200.0]
    medians = system["median_of_rounds"]
    assert medians["latency_ms"]["sentence"]["p50"] == 2.0 and medians["latency_ms"]["sentence"]["p95"] == 6.0
    assert medians["throughput"]["batched"]["chars_per_s"] == 200.0
    single = {"speed_rounds": rounds[:1], "latency_ms": {"sentence": {"p50": 1.0}}}
    stats.combine_speed_rounds(single)  # one round: its figures stand as they are
    assert single["latency_ms"] == {"sentence": {"p50": 1.0}}


def test_time_batched_times_a_second_pass_over_the_warmed_batches():
    class Recorder:  # the harness is under test here, not a system: this one only records its calls
        def __init__(self):
            self.calls = []

        def predict(self, batch):
            self.calls.append(tuple(batch))
            return [list(t) for t in batch]

    texts = [f"句子{i}" for i in range(10)]
    system = Recorder()
    result = time_batched(system, texts, batch_size=4, max_seconds=60)
    batches = [tuple(texts[0:4]), tuple(texts[4:8]), tuple(texts[8:10])]
    assert system.calls == batches + batches  # warm pass, then the timed pass over the same batches
    assert result["sentences"] == 10 and result["chars"] == sum(len(t) for t in texts)
    assert result["chars_per_s"] > 0
