"""The bundles shipped in the package (default and fast): they load, they are small, and they read
clear cases right.

Only clear-cut readings (a retrained model must still get them), and the policy the manifest records.
"""
import os

import pytest

from pinyin_edge import G2P
from pinyin_edge.bundle import default_bundle_dir, load_bundle


@pytest.fixture(scope="module", params=["default", "fast"])
def shipped(request):
    return G2P(model=None if request.param == "default" else request.param)


@pytest.mark.parametrize("name", ["default", "fast"])
def test_the_shipped_bundles_are_small_and_carded(name):
    manifest, graph = load_bundle(default_bundle_dir(name))  # verifies the graph's sha256
    assert os.path.getsize(graph) < 10 * 1024 * 1024
    assert manifest.model_card and manifest.model_card["accuracy"]["cpp_test"]["edge"] > 0.9
    decides = manifest.metrics.get("model_decides")
    fixed = manifest.metrics.get("fixed_readings", {}).get("readings", {})
    assert decides and decides["decided"] == len(manifest.candidates) + len(fixed)
    assert all(manifest.dictionary[c] == reading for c, (reading, _, _) in fixed.items())
    assert "〇" in decides["left_to_the_dictionary"] and "〇" not in manifest.candidates


@pytest.mark.parametrize("text,readings", [
    ("银行行长在长大的地方行走", "yin2 hang2 hang2 zhang3 zai4 zhang3 da4 de5 di4 fang5 xing2 zou3"),  # 地方 place: light
    ("重庆很重要", "chong2 qing4 hen3 zhong4 yao4"),
    ("二〇〇八年", "er4 ling2 ling2 ba1 nian2"),       # 〇: the dictionary's, never the model's guess
    ("我發現了", "wo3 fa1 xian4 le5"),               # a traditional polyphone without gold labels
])
def test_clear_cases(shipped, text, readings):
    assert " ".join(shipped.pinyin(text)) == readings


def test_info_states_the_shipped_policy():
    from click.testing import CliRunner

    from pinyin_edge.runtime.commands import info

    result = CliRunner().invoke(info, [])
    assert result.exit_code == 0, result.output
    (policy,) = [line for line in result.output.splitlines() if line.startswith("policy:")]
    assert "gold labels taught it" in policy and "pypinyin's dictionary the" in policy


def test_fast_is_faster_by_construction_and_named_in_its_card():
    default, _ = load_bundle(default_bundle_dir())
    fast, fast_graph = load_bundle(default_bundle_dir("fast"))
    assert fast.model_card["name"] == "pinyin-edge fast" and "--units 64" in fast.model_card["architecture"]
    assert os.path.getsize(fast_graph) < os.path.getsize(default_bundle_dir() + "/model.onnx")


def test_bundled_names_resolve_unless_a_path_of_that_name_exists(tmp_path, monkeypatch):
    from pinyin_edge.bundle import resolve_bundle

    assert resolve_bundle(None) == default_bundle_dir()
    assert resolve_bundle("fast") == default_bundle_dir("fast")
    assert resolve_bundle("some/where") == "some/where"
    monkeypatch.chdir(tmp_path)
    (tmp_path / "fast").mkdir()
    assert resolve_bundle("fast") == "fast"   # a local bundle directory called fast wins


def test_cli_takes_a_bundled_models_name():
    from click.testing import CliRunner

    from pinyin_edge.cli import main

    result = CliRunner().invoke(main, ["convert", "--model", "fast", "银行行长"])
    assert result.exit_code == 0 and result.output.split() == ["yin2", "hang2", "hang2", "zhang3"], result.output
    missing = CliRunner().invoke(main, ["convert", "--model", "no-such-bundle", "银行"])
    assert missing.exit_code != 0 and "default, fast" in missing.output
