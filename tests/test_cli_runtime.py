"""``pinyin-edge convert`` and ``info``: in-process (CliRunner) and as a real process."""
import json
import os
import subprocess
import sys
import threading

import pytest
from click.testing import CliRunner
from conftest import run_cli

from pinyin_edge.cli import main


@pytest.fixture
def cli():
    runner = CliRunner()

    def invoke(*args, input=None):
        return runner.invoke(main, list(args), input=input, catch_exceptions=False)

    return invoke


def one_error_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    assert lines[0].startswith("error: ") and "Traceback" not in stderr
    return lines[0]


def test_convert_text_argument(cli, bundle):
    result = cli("convert", "银行行长", "--model", bundle)
    assert result.exit_code == 0
    assert result.stdout == "yin2 hang2 hang2 zhang3\n"
    result = cli("convert", "AI行业", "--style", "tone", "--model", bundle)
    assert result.stdout == "A I háng yè\n"
    result = cli("convert", "银行", "--style", "bopomofo", "--model", bundle)
    assert result.stdout == "ㄧㄣˊ ㄏㄤˊ\n"


def test_convert_spaces_are_empty_items(cli, bundle):
    text = "AI 行业\u3000ok"
    out = cli("convert", text, "--model", bundle).stdout.rstrip("\n")
    items = out.split(" ")
    assert len(items) == len(text)
    assert items == ["A", "I", "", "hang2", "ye4", "", "o", "k"]


def test_convert_stdin_lines(cli, bundle):
    data = "银行行长\n\nAI 行业\r\n重新".encode("utf-8")
    result = cli("convert", "--model", bundle, input=data)
    assert result.exit_code == 0
    assert result.stdout.split("\n") == ["yin2 hang2 hang2 zhang3", "", "A I  hang2 ye4", "chong2 xin1", ""]


def test_convert_json(cli, bundle):
    result = cli("convert", "--model", bundle, "--format", "json", input="行长\n\na b\n".encode())
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert rows == [{"text": "行长", "pinyin": ["hang2", "zhang3"]},
                    {"text": "", "pinyin": []},
                    {"text": "a b", "pinyin": ["a", " ", "b"]}]
    result = cli("convert", "行", "--model", bundle, "--format", "json", "--style", "tone")
    assert json.loads(result.stdout) == {"text": "行", "pinyin": ["xíng"]}


def test_convert_many_lines_keep_order(cli, bundle):
    lines = [("银行行长" if i % 3 else "行走") + str(i) for i in range(700)]
    result = cli("convert", "--model", bundle, input=("\n".join(lines) + "\n").encode())
    out = result.stdout.splitlines()
    assert len(out) == 700
    assert all(o.endswith(" ".join(str(i))) for o, i in zip(out, range(700)))
    assert out[0].startswith("xing2 zou3") and out[1].startswith("yin2 hang2 hang2 zhang3")


def test_convert_options(cli, bundle, tmp_path):
    result = cli("convert", "一定", "--model", bundle, "--tone-sandhi")
    assert result.stdout == "yi2 ding4\n"
    path = tmp_path / "o.tsv"
    path.write_text("行业\txing2 ye4\n", encoding="utf-8")
    result = cli("convert", "行业", "--model", bundle, "--overrides", str(path), "--threads", "2")
    assert result.stdout == "xing2 ye4\n"


def test_unknown_style_and_format(cli, bundle):
    result = cli("convert", "行", "--style", "klingon", "--model", bundle)
    assert result.exit_code != 0
    line = one_error_line(result.stderr)
    assert "klingon" in line and "bopomofo" in line
    result = cli("convert", "行", "--format", "xml", "--model", bundle)
    assert result.exit_code != 0 and "xml" in one_error_line(result.stderr)


def test_missing_model(cli, tmp_path):
    result = cli("convert", "行", "--model", str(tmp_path / "nope"))
    assert result.exit_code != 0
    assert "no such model bundle" in one_error_line(result.stderr)


def test_corrupt_manifest(cli, bundle_copy):
    with open(os.path.join(bundle_copy, "manifest.json"), "w") as handle:
        handle.write("{not json")
    result = cli("convert", "行", "--model", bundle_copy)
    assert result.exit_code != 0
    assert "corrupt manifest" in one_error_line(result.stderr)
    result = cli("info", "--model", bundle_copy)
    assert result.exit_code != 0 and "corrupt manifest" in one_error_line(result.stderr)


def test_manifest_missing_fields(cli, bundle_copy):
    from conftest import rewrite_bundle

    rewrite_bundle(bundle_copy, manifest=lambda data: data.pop("labels"))
    result = cli("convert", "行", "--model", bundle_copy)
    assert result.exit_code != 0 and "missing labels" in one_error_line(result.stderr)


def test_tampered_graph(cli, bundle_copy):
    graph = os.path.join(bundle_copy, "model.onnx")
    with open(graph, "r+b") as handle:
        handle.seek(-8, os.SEEK_END)
        handle.write(b"\x00" * 8)
    result = cli("convert", "行", "--model", bundle_copy)
    assert result.exit_code != 0 and "sha256" in one_error_line(result.stderr)
    result = cli("info", "--model", bundle_copy, "--json")
    assert result.exit_code != 0
    files = json.loads(result.stdout)["files"]
    assert "sha256" in files["model.onnx"] and files["manifest.json"] == "ok"
    assert "sha256" in one_error_line(result.stderr)


def test_garbage_graph_with_matching_sha(cli, bundle_copy):
    from pinyin_edge.bundle import sha256_file

    graph = os.path.join(bundle_copy, "model.onnx")
    with open(graph, "wb") as handle:
        handle.write(b"this is not an onnx file")
    from conftest import rewrite_bundle

    rewrite_bundle(bundle_copy, manifest=lambda data: data["files"]["graph"].update(sha256=sha256_file(graph)))
    result = cli("convert", "行", "--model", bundle_copy)
    assert result.exit_code != 0
    line = one_error_line(result.stderr)
    assert "not a valid ONNX file" in line and "re-export" in line


def test_info(cli, bundle):
    result = cli("info", "--model", bundle)
    assert result.exit_code == 0
    assert "model.onnx ok" in result.stdout and "max_length: 64" in result.stdout
    assert "pinyin-edge test fixture" in result.stdout
    summary = json.loads(cli("info", "--model", bundle, "--json").stdout)
    assert set(summary["files"].values()) == {"ok"} and summary["graph_loads"]
    assert set(summary["files"]) == {"manifest.json", "model.onnx", "dictionary.txt", "card.json"}
    manifest = summary["manifest"]
    assert len(manifest["vocab"]) > 100 and len(manifest["candidates"]) == 8 and manifest["max_length"] == 64
    assert len(manifest["labels"]) > 8 and summary["graph_bytes"] > 0
    assert manifest["metrics"] == {"rules_accuracy": 1.0} and manifest["quantization"] == {"mode": "none"}
    assert summary["card"]["name"] == "pinyin-edge test fixture"


@pytest.mark.parametrize("name", ["default", "fast"])
def test_info_of_a_shipped_bundle_is_a_short_summary(cli, name):
    from pinyin_edge.bundle import default_bundle_dir

    result = cli("info", "--model", name)
    assert result.exit_code == 0, result.stderr
    assert 8 <= len(result.stdout.splitlines()) <= 30
    summary = json.loads(cli("info", "--model", name, "--json").stdout)
    with open(os.path.join(default_bundle_dir(name), "manifest.json"), encoding="utf-8") as handle:
        assert summary["manifest"] == json.load(handle)


# -- as a real process ------------------------------------------------------------------------------

def test_process_invalid_utf8_on_stdin(bundle):
    proc = run_cli("convert", "--model", bundle, input=b"\xe8\xa1\x8c\n\xff\xfe\n\xe8\xa1\x8c\n")
    assert proc.returncode != 0
    assert proc.stdout.decode("utf-8") == "xing2\n"
    line = one_error_line(proc.stderr.decode("utf-8"))
    assert "stdin line 2" in line and "UTF-8" in line


def test_process_unknown_style_missing_model(bundle, tmp_path):
    proc = run_cli("convert", "行", "--style", "nope", "--model", bundle)
    assert proc.returncode != 0 and "unknown style" in one_error_line(proc.stderr.decode())
    proc = run_cli("convert", "行", "--model", str(tmp_path / "missing"))
    assert proc.returncode != 0 and "no such model bundle" in one_error_line(proc.stderr.decode())
    proc = run_cli("info", "--model", str(tmp_path / "missing"))
    assert proc.returncode != 0 and "no such model bundle" in one_error_line(proc.stderr.decode())


def test_process_streams_line_by_line(bundle):
    """A line written to a pipe is answered before stdin closes."""
    proc = subprocess.Popen([sys.executable, "-m", "pinyin_edge.cli", "convert", "--model", bundle],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    answers = []
    timer = threading.Timer(60, proc.kill)
    timer.start()
    try:
        for text in ("银行", "行走"):
            proc.stdin.write(text.encode() + b"\n")
            proc.stdin.flush()
            answers.append(proc.stdout.readline().decode())
        proc.stdin.close()
        rest = proc.stdout.read()
        proc.wait()
    finally:
        timer.cancel()
    assert answers == ["yin2 hang2\n", "xing2 zou3\n"]
    assert rest == b"" and proc.returncode == 0


def test_info_lists_the_readings_a_bundle_adds_to_pypinyins_table():
    from click.testing import CliRunner

    from pinyin_edge.cli import main

    result = CliRunner().invoke(main, ["info", "--model", "default"])
    line = next(line for line in result.stdout.splitlines() if line.startswith("readings beyond"))
    assert result.exit_code == 0 and "儿 r5" in line
    full = CliRunner().invoke(main, ["info", "--model", "default", "--json"])
    import json

    assert json.loads(full.stdout)["added_readings"]["儿"] == ["r5"]
