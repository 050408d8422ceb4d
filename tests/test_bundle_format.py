"""The bundle format: every manifest field validated, every file verified, no machine named."""
import json
import os
import re
import shutil

import pytest
from conftest import rewrite_bundle, run_cli

from pinyin_edge import G2P
from pinyin_edge.bundle import (
    MANIFEST,
    SCHEMA,
    SCHEMA_VERSION,
    BundleError,
    Manifest,
    default_bundle_dir,
    load_bundle,
    read_manifest,
    write_bundle,
)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _one_line(proc) -> str:
    """The one error line of a failed CLI run (a subprocess or a CliRunner result)."""
    err = proc.stderr.decode("utf-8") if isinstance(proc.stderr, bytes) else proc.stderr
    code = proc.returncode if hasattr(proc, "returncode") else proc.exit_code
    lines = [line for line in err.splitlines() if line.strip()]
    assert code != 0 and len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


def _cli(*args):
    from click.testing import CliRunner

    from pinyin_edge.cli import main

    return CliRunner().invoke(main, list(args), catch_exceptions=False)


@pytest.mark.parametrize("field, value, named", [
    ("max_length", "128", "max_length: expected integer"),
    ("max_length", 4, "max_length: must be at least 8"),
    ("max_length", True, "max_length: expected integer"),
    ("vocab", None, "vocab: expected array"),
    ("vocab", ["[PAD]", "[UNK]", "[CLS]", 5], r"vocab\[3\]: expected string"),
    ("labels", ["xing2", "XING"], r"labels\[1\]"),
    ("candidates", [], "candidates: expected object"),
    ("candidates", {"行": "xing2"}, "candidates.行: expected array"),
    ("candidates", {"行": ["xing9"]}, r"candidates.行\[0\]"),
    ("candidates", {"行人": ["xing2"]}, r"candidates.行人 \(key\)"),
    ("tokenizer", None, "tokenizer: expected object"),
    ("tokenizer", {"type": "sentencepiece"}, "tokenizer: missing"),
    ("context", "8", "context: expected integer or null"),
    ("phrases", 1, "phrases: expected boolean"),
    ("metrics", [], "metrics: expected object"),
    ("files", {"graph": {"path": "../model.onnx", "sha256": "0" * 64},
               "dictionary": {"path": "dictionary.txt", "sha256": "0" * 64}}, "files.graph.path"),
    ("inputs", ["input_ids"], "inputs: must be"),
    ("surprise", 1, "surprise: unknown field"),
])
def test_every_manifest_field_is_type_checked_with_one_error_naming_it(bundle_copy, field, value, named):
    rewrite_bundle(bundle_copy, manifest=lambda data: data.update({field: value}))
    with pytest.raises(BundleError, match=named):
        G2P(model=bundle_copy)
    for command in (["convert", "银行", "--model", bundle_copy], ["info", "--model", bundle_copy]):
        assert re.search(named, _one_line(_cli(*command)))
    if field == "max_length" and value == "128":  # and in a real process: one line, no traceback
        assert re.search(named, _one_line(run_cli("convert", "银行", "--model", bundle_copy)))


def test_missing_fields_and_cross_checks_are_bundle_errors(bundle_copy):
    cases = [(lambda d: d.pop("tokenizer"), "missing tokenizer"),
             (lambda d: d["files"].pop("dictionary"), "files: missing dictionary"),
             (lambda d: d["candidates"].update({"行": ["zzz1"]}), "candidates.行: zzz1 is not in labels"),
             (lambda d: d["tokenizer"].update(unk_token="<unk>"), "tokenizer.unk_token: <unk> is not in vocab")]
    for change, named in cases:
        shutil.copy(os.path.join(bundle_copy, MANIFEST), os.path.join(bundle_copy, "saved.json"))
        rewrite_bundle(bundle_copy, manifest=change)
        with pytest.raises(BundleError, match=re.escape(named)):
            load_bundle(bundle_copy)
        shutil.copy(os.path.join(bundle_copy, "saved.json"), os.path.join(bundle_copy, MANIFEST))
        rewrite_bundle(bundle_copy)  # re-seal the saved manifest


@pytest.fixture
def shipped_copy(tmp_path):
    target = str(tmp_path / "fast")
    shutil.copytree(default_bundle_dir("fast"), target)
    return target


def test_an_edited_dictionary_is_refused_and_info_names_the_file(shipped_copy):
    assert G2P(model=shipped_copy).pinyin("银行") == ["yin2", "hang2"]
    path = os.path.join(shipped_copy, "dictionary.txt")
    with open(path, encoding="utf-8") as handle:
        text = handle.read()
    assert "\n银" not in text and re.search(r"^yin2\t.*银", text, re.M)
    with open(path, "w", encoding="utf-8") as handle:  # 银 moves from yin2 to a new line yim2
        handle.write(text.replace("银", "", 1) + "yim2\t银\n")
    with pytest.raises(BundleError, match="dictionary.txt: sha256 does not match"):
        G2P(model=shipped_copy)
    convert = _cli("convert", "银行", "--model", shipped_copy)
    assert "yim2" not in convert.stdout and "dictionary.txt" in _one_line(convert)
    info = _cli("info", "--model", shipped_copy)
    assert "dictionary.txt FAILS" in info.stdout and "model.onnx ok" in info.stdout
    assert "dictionary.txt: sha256" in _one_line(info)


def test_an_edited_manifest_is_refused_and_info_names_it(bundle_copy):
    path = os.path.join(bundle_copy, MANIFEST)
    with open(path, encoding="utf-8") as handle:
        data = json.load(handle)
    data["candidates"]["行"] = list(reversed(data["candidates"]["行"]))  # still valid, but not what was sealed
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(data, handle, ensure_ascii=False)
    with pytest.raises(BundleError, match="manifest.json: sha256 does not match manifest.sha256"):
        G2P(model=bundle_copy)
    info = _cli("info", "--model", bundle_copy, "--json")
    assert json.loads(info.stdout)["files"]["manifest.json"].endswith(
        "sha256 does not match manifest.sha256; the manifest was edited or is corrupt: re-export the bundle")
    assert "manifest.json" in _one_line(info)
    os.unlink(os.path.join(bundle_copy, "manifest.sha256"))
    with pytest.raises(BundleError, match="manifest.sha256: missing"):
        load_bundle(bundle_copy)


def test_an_edited_card_or_a_missing_dictionary_is_refused(bundle_copy):
    with open(os.path.join(bundle_copy, "card.json"), "a", encoding="utf-8") as handle:
        handle.write(" ")
    with pytest.raises(BundleError, match="card.json: sha256 does not match"):
        read_manifest(bundle_copy)
    os.unlink(os.path.join(bundle_copy, "dictionary.txt"))
    with pytest.raises(BundleError, match="dictionary.txt: the dictionary is missing"):
        read_manifest(bundle_copy)


def test_a_malformed_dictionary_with_its_checksum_is_refused_by_line(bundle_copy):
    def plant(lines):
        def change(data):
            import hashlib

            raw = lines.encode("utf-8")
            with open(os.path.join(bundle_copy, "dictionary.txt"), "wb") as handle:
                handle.write(raw)
            data["files"]["dictionary"]["sha256"] = hashlib.sha256(raw).hexdigest()
        rewrite_bundle(bundle_copy, manifest=change)

    for lines, named in (("yin2 银\n", "line 1: expected a reading"), ("yin2\t银\nyim2\t银\n", "line 2: 银 appears twice"),
                         ("yin2\t银银\n", "line 1: 银 appears twice"),
                         ("YIN2\t银\n", "line 1")):
        plant(lines)
        with pytest.raises(BundleError, match=named):
            load_bundle(bundle_copy)
    plant("yin2\t银\nhang2\t杭\n")
    assert load_bundle(bundle_copy)[0].dictionary == {"杭": "hang2", "银": "yin2"}


def test_a_version_1_bundle_gets_a_clear_error(bundle_copy):
    rewrite_bundle(bundle_copy, manifest=lambda data: data.update(schema_version=1))
    with pytest.raises(BundleError, match="schema_version 1, this pinyin-edge reads 2"):
        load_bundle(bundle_copy)


def test_write_bundle_round_trips_and_refuses_machine_paths(bundle, tmp_path):
    manifest, graph = load_bundle(bundle)
    manifest.dictionary = {"银": "yin2", "杭": "hang2", "𠀀": "he1"}
    out = str(tmp_path / "out")
    write_bundle(out, manifest, graph)
    back, _ = load_bundle(out)
    assert back.dictionary == manifest.dictionary and back.model_card == manifest.model_card
    assert back.candidates == manifest.candidates and back.vocab == manifest.vocab
    assert sorted(os.listdir(out)) == ["card.json", "dictionary.txt", "manifest.json", "manifest.sha256",
                                       "model.onnx"]
    for where, value in (("provenance", {"checkpoint": "/home/someone/runs/best"}),
                         ("metrics", {"note": "trained on /srv/data/x.tsv"}),
                         ("provenance", {"data": [{"file": "C:\\data\\x.tsv"}]})):
        bad = Manifest(**{**manifest.__dict__, where: value})
        with pytest.raises(BundleError, match=f"{where}.*absolute path"):
            write_bundle(str(tmp_path / "bad"), bad, graph)
    bad = Manifest(**{**manifest.__dict__, "max_length": "64"})
    with pytest.raises(BundleError, match="max_length: expected integer"):
        write_bundle(str(tmp_path / "bad"), bad, graph)
    assert not os.path.exists(tmp_path / "bad")


@pytest.mark.parametrize("name", ["default", "fast"])
def test_shipped_bundles_are_lean_and_name_no_machine(name):
    folder = default_bundle_dir(name)
    manifest, _ = load_bundle(folder)
    sizes = {f: os.path.getsize(os.path.join(folder, f)) for f in os.listdir(folder)}
    memo = sum(len(keys.encode("utf-8")) for keys in manifest.memo.values())  # 9 bytes a key
    assert sizes[MANIFEST] - memo < 250_000 and memo < 600_000 and sizes["dictionary.txt"] < 150_000
    assert sum(sizes.values()) < 10_000_000
    text = "".join(open(os.path.join(folder, f), encoding="utf-8").read()
                   for f in (MANIFEST, "card.json"))
    assert not re.search(r"(^|[\s\"'(=])(/[^\s/\"]+/|~/|[A-Za-z]:\\\\)", text), "an absolute path"
    provenance = manifest.provenance
    assert provenance["recipe"].startswith("export/recipe") and os.path.exists(os.path.join(ROOT, provenance["recipe"]))
    assert re.fullmatch(r"[0-9a-f]{40}", provenance["commit"])
    hashed = manifest.metrics["fixed_readings"]["from"]
    assert hashed and all(re.fullmatch(r"[0-9a-f]{64}", r["sha256"]) for r in hashed)
    assert manifest.model_card["name"] == f"pinyin-edge {name}" and "model_card" not in json.load(
        open(os.path.join(folder, MANIFEST), encoding="utf-8"))


def test_the_documented_schema_is_the_one_the_loader_uses():
    with open(os.path.join(ROOT, "docs", "bundle-format.md"), encoding="utf-8") as handle:
        doc = handle.read()
    block = re.search(r"```json\n(\{\n  \"\$schema\".*?)\n```", doc, re.S)
    assert block and json.loads(block.group(1)) == json.loads(json.dumps(SCHEMA))
    assert SCHEMA["properties"]["schema_version"]["const"] == SCHEMA_VERSION
    for field in SCHEMA["properties"]:
        assert f"`{field}`" in doc, field


def test_repackaging_a_version_1_bundle_keeps_every_reading(bundle, tmp_path):
    """export/repackage.py: the old single-file manifest -> this format, graph and readings unchanged,
    build paths reduced to file names (with their sha256 where the file is at hand)."""
    import runpy

    repackage = runpy.run_path(os.path.join(ROOT, "export", "repackage.py"))["repackage"]
    manifest, graph = load_bundle(bundle)
    data_file = tmp_path / "gold.tsv"
    data_file.write_text("银行\t- hang2\n", encoding="utf-8")
    old = tmp_path / "v1"
    old.mkdir()
    shutil.copy(graph, old / "model.onnx")
    v1 = {**manifest.to_json(), "schema_version": 1, "graph_file": "model.onnx",
          "graph_sha256": manifest.graph_sha256, "model_card": {"name": "old card"},
          "source": {"checkpoint": "/home/someone/runs/avg/best", "train": [str(data_file)]},
          "metrics": {"dev": {"note": "not held out: trained on /home/someone/runs/data/dev.tsv"}},
          "dictionary": {"了": "le5", "银": "yin2"}}
    for key in ("files", "provenance"):
        del v1[key]
    (old / MANIFEST).write_text(json.dumps(v1, ensure_ascii=False), encoding="utf-8")
    new = repackage(str(old), str(tmp_path / "v2"), "export/recipe.env", "0" * 40)
    assert new.dictionary == v1["dictionary"] and new.candidates == manifest.candidates
    assert new.model_card == {"name": "old card"} and new.graph_sha256 == manifest.graph_sha256
    assert new.provenance["checkpoint"] == "avg/best"
    assert new.provenance["data"]["train"] == [{"file": "gold.tsv", "sha256": sha256(data_file)}]
    assert new.metrics["dev"]["note"] == "not held out: trained on dev.tsv"
    texts = ["银行行长了解", "重新走了", "他不好"]
    old_reader = G2P(model=bundle)
    old_reader.manifest.dictionary.update(v1["dictionary"])  # what the v1 bundle read
    assert [G2P(model=str(tmp_path / "v2")).annotate(t) for t in texts] == [old_reader.annotate(t) for t in texts]


def sha256(path) -> str:
    import hashlib

    return hashlib.sha256(open(path, "rb").read()).hexdigest()
