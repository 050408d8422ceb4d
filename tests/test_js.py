"""The JavaScript runtime (js/): its own test suite, run with `npm test`, which exports the browser
bundle, has the Python runtime read the 5,000 conformance texts, and requires identical readings from
the JavaScript runtime. Skipped where node or js/node_modules (`npm ci` in js/) is missing, or where
.ci/run has run `npm test` itself (PINYIN_EDGE_NPM_TEST_DONE=1)."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
JS = os.path.join(ROOT, "js")


def test_export_web_manifest_names_every_file_with_its_sha256(tmp_path):
    import hashlib

    from pinyin_edge.exporters.web import WEB_SCHEMA, export_web, web_schema_problem

    out = tmp_path / "web"
    data = export_web("default", str(out))
    assert web_schema_problem(data) is None
    assert set(data["files"]) == set(WEB_SCHEMA["properties"]["files"]["required"])
    for entry in data["files"].values():
        blob = (out / entry["path"]).read_bytes()
        assert hashlib.sha256(blob).hexdigest() == entry["sha256"] and len(blob) == entry["bytes"]
    raw = (out / "manifest.json").read_bytes()
    assert (out / "manifest.sha256").read_text() == f"{hashlib.sha256(raw).hexdigest()}  manifest.json\n"
    assert json.loads(raw) == data
    assert {"tone3", "tone", "normal"} <= set(data["styles"])


def test_the_documented_browser_schema_is_the_one_the_exporter_uses():
    import re

    from pinyin_edge.exporters.web import WEB_SCHEMA, web_schema_problem

    with open(os.path.join(ROOT, "docs", "bundle-format.md"), encoding="utf-8") as handle:
        doc = handle.read()
    block = re.search(r"```json\n(\{\n  \"\$schema\"[^`]*?\"pinyin-edge browser bundle manifest\".*?)\n```", doc, re.S)
    assert block and json.loads(block.group(1)) == json.loads(json.dumps(WEB_SCHEMA))
    good = {"format": "pinyin-edge-web", "schema_version": 2, "styles": ["tone3", "tone"],
            "source": {"manifest_sha256": "0" * 64, "pypinyin": "0.55.0"},
            "files": {k: {"path": f"{k}.x", "sha256": "a" * 64, "bytes": 1}
                      for k in ("graph", "runtime", "dictionary", "chars", "phrases", "styles", "traditional")}}
    assert web_schema_problem(good) is None
    bad = json.loads(json.dumps(good))
    bad["files"]["chars"]["sha256"] = "A" * 64
    assert "chars" in web_schema_problem(bad)
    del bad["files"]["chars"]
    assert web_schema_problem(bad)
    assert web_schema_problem(dict(good, styles=["pinyin"]))
    del bad["files"]["traditional"]
    assert web_schema_problem(dict(good, files=bad["files"]))


def test_export_web_phrases_round_trip(tmp_path):
    from pinyin_edge.dictionaries import dictionaries
    from pinyin_edge.exporters.web import encode_phrases

    tables = dictionaries()
    chars = {c: v.split(",") for c, v in tables.chars.items()}
    decoded = {}
    for line in encode_phrases(tables.words, tables.chars).decode("utf-8").splitlines():
        word, tab, value = line.partition("\t")
        decoded[word] = value if tab else " ".join(chars[c][0] for c in word)
    assert decoded == tables.words


def test_export_web_traditional_table_round_trip():
    from pinyin_edge.exporters.web import encode_traditional
    from pinyin_edge.runtime.traditional import read_table

    chars, shared, phrases = read_table()
    decoded = ({}, {}, {})
    kinds = dict(zip("csp", decoded))
    for line in encode_traditional((chars, shared, phrases)).decode("utf-8").splitlines():
        kind, original, simplified = line.split("\t")
        assert len(original) == len(simplified)
        if kind == "p":
            kinds[kind][original] = simplified
        else:
            kinds[kind].update(zip(original, simplified))
    assert decoded == (chars, shared, phrases)
    assert chars["銀"] == "银" and phrases["瞭解"] == "了解"


def test_export_web_refuses_a_bad_bundle(tmp_path):
    from click.testing import CliRunner

    from pinyin_edge.cli import main

    result = CliRunner().invoke(main, ["export-web", str(tmp_path / "none"), "--out", str(tmp_path / "o")])
    assert result.exit_code != 0 and "no such bundle directory" in result.output
    assert len(result.output.strip().splitlines()) == 1
    keep = tmp_path / "mine"
    keep.mkdir()
    (keep / "notes.txt").write_text("not a bundle")
    result = CliRunner().invoke(main, ["export-web", "default", "--out", str(keep)])
    assert result.exit_code != 0 and "is not a browser bundle" in result.output
    assert (keep / "notes.txt").read_text() == "not a bundle"


@pytest.mark.skipif(shutil.which("node") is None or shutil.which("npm") is None, reason="node/npm not installed")
@pytest.mark.skipif(not os.path.isdir(os.path.join(JS, "node_modules")),
                    reason="js/node_modules missing: run `npm ci` in js/")
@pytest.mark.skipif(os.environ.get("PINYIN_EDGE_NPM_TEST_DONE") == "1",
                    reason="PINYIN_EDGE_NPM_TEST_DONE=1: npm test already ran in this CI run")
def test_npm_test_passes():
    env = dict(os.environ, PINYIN_EDGE_PYTHON=sys.executable)
    done = subprocess.run(["npm", "test"], cwd=JS, env=env, capture_output=True, text=True, timeout=900)
    tail = (done.stdout + done.stderr)[-4000:]
    assert done.returncode == 0, tail
    assert "# fail 0" in done.stdout, tail
