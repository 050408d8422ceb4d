"""Bulk conversion (convert --input ... --output DIR): formats, bad lines, resume, a killed worker."""
import glob
import gzip
import json
import os
import signal
import subprocess
import sys
import time

import pytest
from click.testing import CliRunner
from conftest import run_cli

from pinyin_edge.cli import main

TEXTS = [line.rstrip("\n") for line in open(os.path.join(os.path.dirname(__file__), "regression", "texts.txt"),
                                            encoding="utf-8")]


def sentences(n):
    """n project-written sentences: regression texts and pairs of them."""
    return [TEXTS[i % len(TEXTS)] + ("" if i < len(TEXTS) else TEXTS[(i * 7) % len(TEXTS)]) for i in range(n)]


@pytest.fixture(scope="module")
def api(bundle):
    from pinyin_edge import G2P

    return G2P(model=bundle)


def cli(*args):
    return CliRunner().invoke(main, ["convert", *args])


def output_lines(out_dir, ext):
    """Every shard's lines, in shard order (the input's order)."""
    lines = []
    for path in sorted(glob.glob(os.path.join(out_dir, "**", "*" + ext), recursive=True)):
        with open(path, encoding="utf-8") as handle:
            lines.extend(handle.read().splitlines())
    return lines


def text_line(text, items):
    return " ".join("" if c.isspace() else r for c, r in zip(text, items))


def test_text_gzip_and_folders_in_order(bundle, api, tmp_path):
    texts = sentences(700)
    (tmp_path / "in" / "sub").mkdir(parents=True)
    (tmp_path / "in" / "a.txt").write_text("\n".join(texts[:300]) + "\n", encoding="utf-8")
    with gzip.open(tmp_path / "in" / "sub" / "b.txt.gz", "wt", encoding="utf-8") as handle:
        handle.write("\n".join(texts[300:]))  # no final newline: the last line still counts
    out = tmp_path / "out"
    result = cli("--input", str(tmp_path / "in"), "--output", str(out), "--model", bundle,
                 "--workers", "2", "--shard-lines", "64")
    assert result.exit_code == 0, result.output
    expected = [text_line(t, items) for t, items in zip(texts, api.pinyin_batch(texts))]
    assert output_lines(out / "in", ".txt") == expected
    assert sorted(os.listdir(out / "in" / "sub"))[:2] == ["b.00000.txt", "b.00001.txt"]
    entries = [json.loads(line) for line in open(out / "manifest.ndjson", encoding="utf-8")]
    assert entries[-1]["complete"] and entries[-1]["lines"] == 700 and entries[-1]["written"] == 700
    assert sum(e["lines"] for e in entries if "shard" in e) == 700


def test_json_lines_tsv_and_styles(bundle, api, tmp_path):
    texts = sentences(50)
    records = [{"id": i, "text": t} for i, t in enumerate(texts)]
    (tmp_path / "r.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records),
                                      encoding="utf-8")
    assert cli("--input", str(tmp_path / "r.jsonl"), "--output", str(tmp_path / "j"), "--model", bundle,
               "--field", "text", "--style", "tone", "--tone-sandhi").exit_code == 0
    got = [json.loads(line) for line in output_lines(tmp_path / "j", ".jsonl")]
    tone = api.pinyin_batch(texts, style="tone", tone_sandhi=True)
    assert got == [dict(r, pinyin=items) for r, items in zip(records, tone)]

    rows = ["id\ttext"] + [f"{i}\t{t}" for i, t in enumerate(texts)]
    (tmp_path / "r.tsv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    assert cli("--input", str(tmp_path / "r.tsv"), "--output", str(tmp_path / "t"), "--model", bundle,
               "--column", "text", "--shard-lines", "16", "--output-field", "py").exit_code == 0
    plain = api.pinyin_batch(texts)
    assert output_lines(tmp_path / "t", ".tsv") == ["id\ttext\tpy"] + [
        f"{row}\t{text_line(t, items)}" for row, t, items in zip(rows[1:], texts, plain)]
    assert cli("--input", str(tmp_path / "r.tsv"), "--output", str(tmp_path / "t1"), "--model", bundle,
               "--column", "1").exit_code == 0
    assert output_lines(tmp_path / "t1", ".tsv")[1:] == output_lines(tmp_path / "t", ".tsv")[1:]


BAD = [b'{"text": "\xe9\x93\xb6\xe8\xa1\x8c"}', b'{"text": "\xff\xfe"}', b'{"text": ',
       b'["not", "an", "object"]', b'{"other": "x"}', b'{"text": 5}', b'{"text": "\\ud800"}',
       b'{"text": "\xe8\xa1\x8c\xe9\x95\xbf"}']


def test_bad_lines_fail_or_skip_then_resume(bundle, api, tmp_path):
    src = tmp_path / "bad.jsonl"
    src.write_bytes(b"\n".join(BAD) + b"\n")
    out = tmp_path / "out"
    failed = run_cli("convert", "--input", str(src), "--output", str(out), "--model", bundle, "--field", "text")
    assert failed.returncode == 1
    err = failed.stderr.decode().strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"error: {src} line 2: invalid UTF-8"), err
    assert not glob.glob(str(out / "*.jsonl"))  # the shard holding the bad line was not written

    skipped = cli("--input", str(src), "--output", str(out), "--model", bundle, "--field", "text",
                  "--on-error", "skip", "--resume")
    assert skipped.exit_code == 0, skipped.output
    reasons = ["invalid UTF-8", "malformed JSON", "not a JSON object", "no field 'text'",
               "field 'text' is not a string", "text cannot be written as UTF-8"]
    for number, reason in enumerate(reasons, 2):
        assert f"{src} line {number}: {reason}" in skipped.output
    got = [json.loads(line) for line in output_lines(out, ".jsonl")]
    assert got == [{"text": "银行", "pinyin": api.pinyin("银行")}, {"text": "行长", "pinyin": api.pinyin("行长")}]
    manifest = [json.loads(line) for line in open(out / "manifest.ndjson", encoding="utf-8")]
    assert [n for n, _ in manifest[-2]["bad_lines"]] == [2, 3, 4, 5, 6, 7]


def test_user_mistakes_are_one_line(bundle, tmp_path):
    src = tmp_path / "a.txt"
    src.write_text("银行\n", encoding="utf-8")
    out = tmp_path / "out"
    assert cli("--input", str(src), "--output", str(out), "--model", bundle).exit_code == 0
    cases = [
        (["--input", str(src), "--output", str(out)], "already holds a conversion"),
        (["--input", str(src), "--output", str(out), "--resume", "--style", "tone"], "other options"),
        (["--output", str(out)], "need --input"),
        (["--input", str(src)], "needs --output"),
        (["银行", "--input", str(src), "--output", str(tmp_path / "o2")], "either TEXT or --input"),
        (["--input", str(src), "--output", str(tmp_path / "o3"), "--workers", "0"], "--workers must be >= 1"),
        (["--input", str(src), "--output", str(tmp_path / "o4"), "--field", "a", "--column", "1"], "exclude"),
    ]
    for args, message in cases:
        result = run_cli("convert", "--model", bundle, *args)
        lines = result.stderr.decode().strip().splitlines()
        assert result.returncode != 0 and len(lines) == 1 and message in lines[0], (args, lines)
    # a completed run resumed again: nothing redone, same output
    again = cli("--input", str(src), "--output", str(out), "--model", bundle, "--resume")
    assert again.exit_code == 0 and "1 of them from an earlier run" in again.output


def _workers(pid):
    import psutil

    children = psutil.Process(pid).children(recursive=True)
    return [c for c in children if "resource_tracker" not in " ".join(c.cmdline())]


@pytest.mark.parametrize("victim", ["worker", "main"])
def test_killed_process_leaves_a_resumable_run(bundle, api, tmp_path, victim):
    """SIGKILL a worker (the run stops with a one-line error) or the main process (its workers end
    too) mid-run: --resume then writes every line exactly once, and no shard is half written."""
    import psutil

    texts = sentences(12000)
    src = tmp_path / "big.txt"
    src.write_text("\n".join(texts) + "\n", encoding="utf-8")
    out = tmp_path / "out"
    args = [sys.executable, "-m", "pinyin_edge.cli", "convert", "--input", str(src), "--output", str(out),
            "--model", bundle, "--workers", "2", "--shard-lines", "20"]
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    manifest = out / "manifest.ndjson"
    deadline = time.time() + 60
    while time.time() < deadline:
        if manifest.exists() and manifest.read_bytes().count(b"\n") >= 4 and len(_workers(proc.pid)) == 2:
            break
        time.sleep(0.05)
    workers = _workers(proc.pid)
    os.kill(workers[0].pid if victim == "worker" else proc.pid, signal.SIGKILL)
    _, stderr = proc.communicate(timeout=60)
    if victim == "worker":
        lines = stderr.decode().strip().splitlines()
        assert proc.returncode == 1 and lines[-1].startswith("error: a worker process died"), lines
    else:
        _, alive = psutil.wait_procs(workers, timeout=10)
        assert proc.returncode == -signal.SIGKILL and not alive
    complete_lines = manifest.read_text(encoding="utf-8").split("\n")[:-1]  # a torn last line is not an entry
    done_before = sum(1 for line in complete_lines if '"shard"' in line)
    assert 3 <= done_before < 600  # stopped mid-run

    resumed = subprocess.run(args + ["--resume"], capture_output=True, timeout=120)
    assert resumed.returncode == 0, resumed.stderr.decode()
    assert f"{done_before} of them from an earlier run" in resumed.stderr.decode()
    expected = [text_line(t, items) for t, items in zip(texts, api.pinyin_batch(texts))]
    assert output_lines(out, ".txt") == expected
    assert not [p for p in glob.glob(str(out / "*")) if ".tmp-" in p]
    shards = [json.loads(line)["shard"] for line in manifest.read_text(encoding="utf-8").splitlines()
              if '"shard"' in line]
    assert len(shards) == len(set(shards)) == 600
