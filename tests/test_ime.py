"""``pinyin-edge dict annotate`` / ``dict check`` on small word lists written here (Rime dict.yaml,
libpinyin tables and phrase imports, plain lists), on the fixture bundle: its rules are known
(行 xing2, hang2 after 银 or before 业/长; 长 chang2, zhang3 after 行), and pypinyin's phrase table
decides the polyphones of its phrases."""
import io
import json

import pytest
from click.testing import CliRunner

from pinyin_edge.cli import main
from pinyin_edge.ime.annotate import CHUNK, annotate_stream
from pinyin_edge.ime.formats import DictFormatError, read_items, rime_columns

RIME = """# Rime dictionary
# encoding: utf-8
#
---
name: fixture
version: "0.1"
sort: by_weight
columns:
  - text
  - code
  - weight
...

# words
银行\tyin xing\t100
行走\t\t20
T恤\tt xu\t5
长\tchang\t1
行业
"""


def invoke(*args):
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def write(tmp_path, name, text, encoding="utf-8"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding) if isinstance(text, str) else text)
    return str(path)


def body(text):
    return text.split("...\n", 1)[1]


def test_rime_annotate_keeps_everything_but_the_codes(tmp_path, bundle):
    src = write(tmp_path, "fixture.dict.yaml", RIME)
    code, out, err = invoke("dict", "annotate", src, "--format", "rime", "--model", bundle)
    assert code == 0 and "annotated 5 entries" in err
    head, rest = RIME.split("...\n", 1)
    assert out.startswith(head + "...\n")  # header and comments verbatim
    assert body(out).splitlines() == ["", "# words", "银行\tyin hang\t100", "行走\txing zou\t20",
                                      "T恤\tt xu\t5", "长\tchang\t1", "行业\thang ye"]


def test_rime_tones_and_output_file(tmp_path, bundle):
    src = write(tmp_path, "fixture.dict.yaml", RIME)
    target = tmp_path / "out.dict.yaml"
    code, out, err = invoke("dict", "annotate", src, "--format", "rime", "--tones", "-o", str(target),
                            "--model", bundle)
    assert code == 0 and out == ""
    lines = body(target.read_text(encoding="utf-8")).splitlines()
    assert "银行\tyin2 hang2\t100" in lines and "行业\thang2 ye4" in lines


def test_annotate_and_check_leave_the_garbage_collector_as_they_found_it(tmp_path, bundle):
    import gc

    src = write(tmp_path, "fixture.dict.yaml", RIME)
    before = gc.get_threshold(), gc.get_freeze_count(), gc.isenabled()
    assert invoke("dict", "annotate", src, "--format", "rime", "--model", bundle)[0] == 0
    assert invoke("dict", "check", src, "--format", "rime", "--model", bundle)[0] == 0
    assert (gc.get_threshold(), gc.get_freeze_count(), gc.isenabled()) == before


def test_rime_columns_in_another_order(tmp_path, bundle):
    text = "---\nname: x\ncolumns: [text, weight, code]\n...\n银行\t7\n行业\t3\tyin\n"
    src = write(tmp_path, "x.dict.yaml", text)
    code, out, _ = invoke("dict", "annotate", src, "--format", "rime", "--model", bundle)
    assert code == 0
    assert body(out).splitlines() == ["银行\t7\tyin hang", "行业\t3\thang ye"]
    assert rime_columns(["columns:", "  - text  # the word", "  - code", "encoder:"]) == ("text", "code")


@pytest.mark.parametrize("text,message", [
    ("---\nname: x\n银行\tyin hang\n", "no '...' line ends its YAML header"),
    ("---\ncolumns: [text, weight]\n...\n银行\t1\n", "need 'text' and 'code'"),
])
def test_rime_refuses_what_is_not_a_rime_dictionary(tmp_path, bundle, text, message):
    src = write(tmp_path, "bad.dict.yaml", text)
    result = CliRunner().invoke(main, ["dict", "annotate", src, "--format", "rime", "--model", bundle,
                                       "-o", str(tmp_path / "out")])
    assert result.exit_code != 0 and message in result.stderr
    assert "Traceback" not in result.stderr and not (tmp_path / "out").exists()


def test_not_utf8_is_refused(tmp_path, bundle):
    src = write(tmp_path, "gbk.txt", "银行\n".encode("gbk"))
    result = CliRunner().invoke(main, ["dict", "annotate", src, "--format", "plain", "--model", bundle])
    assert result.exit_code == 1 and "gbk.txt:1: not UTF-8" in result.stderr


def test_libpinyin_table_and_import_forms(tmp_path, bundle):
    table = "yin'xing\t银行\t16777217\t26\nxing'zou\t行走\t16777218\t3\n"
    code, out, _ = invoke("dict", "annotate", write(tmp_path, "t.table", table), "--format", "libpinyin",
                          "--model", bundle)
    assert code == 0 and out.splitlines() == ["yin'hang\t银行\t16777217\t26", "xing'zou\t行走\t16777218\t3"]
    imported = "# user phrases\n银行 yin'xing 10\n行业\n"
    code, out, _ = invoke("dict", "annotate", write(tmp_path, "u.txt", imported), "--format", "libpinyin",
                          "--tones", "--model", bundle)
    assert out.splitlines() == ["# user phrases", "银行 yin2'hang2 10", "行业 hang2'ye4"]


def test_plain_lists(tmp_path, bundle):
    code, out, _ = invoke("dict", "annotate", write(tmp_path, "w.txt", "银行\n\n行长\tx y\tnote\n"),
                          "--format", "plain", "--tones", "--model", bundle)
    assert out.splitlines() == ["银行\tyin2 hang2", "", "行长\thang2 zhang3\tnote"]


def test_annotate_streams_in_batches(bundle, g2p):
    """Output for the first batch is written before the rest of the input is read."""
    class Source:
        def __init__(self):
            self.sent = 0

        def __iter__(self):
            return self

        def __next__(self):
            self.sent += 1
            if self.sent > CHUNK + 10:
                raise RuntimeError("stop")
            return "行走\n".encode("utf-8")

    out = io.StringIO()
    with pytest.raises(RuntimeError):
        annotate_stream(g2p, Source(), out, "plain")
    assert out.getvalue().count("\n") == CHUNK


def test_check_reports_disagreements_most_confident_first(tmp_path, bundle):
    text = ("---\nname: x\n...\n"
            "银行\tyin xing\t9\n"      # the phrase table decides: certain
            "行走\thang zou\t8\n"      # the fixture model reads xing2 here
            "行走\thang zou\t8\n"
            "长\tzhang\t1\n"          # a single character: the model decides (chang2)
            "长\tchang\t1\n"          # ... listed with both readings: not an error
            "走\tzou\t1\n"
            "行业\thang\t1\n")        # a reading of another length: skipped
    src = write(tmp_path, "c.dict.yaml", text)
    code, out, _ = invoke("dict", "check", src, "--format", "rime", "--min-confidence", "0.5", "--model", bundle)
    assert code == 0
    lines = out.splitlines()
    assert lines[0].startswith("银行\tyin xing\t1.000\tyin hang 1.000")
    assert [l.split("\t")[0] for l in lines[:-1]] == ["银行", "行走", "行走"]
    assert "listed with several readings" in lines[-1] and "1 with a reading of another length" in lines[-1]
    code, out, _ = invoke("dict", "check", src, "--format", "rime", "--json", "--min-confidence", "0.5",
                          "--model", bundle)
    records = [json.loads(l) for l in out.splitlines()]
    summary = records[-1]["summary"]
    assert summary["flagged"] == len(records) - 1 and summary["several_readings"] == 1
    confidences = [r["confidence"] for r in records[:-1]]
    assert confidences == sorted(confidences, reverse=True) and min(confidences) >= 0.5
    assert records[0]["ours"][0] == {"reading": "yin hang", "probability": 1.0}


def test_check_compares_tones_when_written(tmp_path, bundle):
    src = write(tmp_path, "p.txt", "银行\tyin2 hang4\n银行\tyin hang\n行业\tháng yè\n")
    code, out, _ = invoke("dict", "check", src, "--format", "plain", "--json", "--model", bundle)
    records = [json.loads(l) for l in out.splitlines()]
    # 银行 is listed twice but with one reading in two spellings... toned and toneless differ: several
    assert records[-1]["summary"]["checked"] == 3


def test_check_flags_the_tone_only_disagreement(tmp_path, bundle):
    src = write(tmp_path, "p.txt", "银行\tyin2 hang4\n行业\tháng yè\n")
    code, out, _ = invoke("dict", "check", src, "--format", "plain", "--json", "--model", bundle)
    records = [json.loads(l) for l in out.splitlines()]
    assert [r["word"] for r in records[:-1]] == ["银行"]
    assert records[0]["written"] == "yin2 hang4" and records[0]["ours"][0]["reading"] == "yin2 hang2"


def test_bad_invocations(tmp_path, bundle):
    result = CliRunner().invoke(main, ["dict", "check", str(tmp_path / "none.txt"), "--format", "plain",
                                       "--model", bundle])
    assert result.exit_code == 1 and result.stderr.startswith("error: ") and "none.txt" in result.stderr
    result = CliRunner().invoke(main, ["dict", "annotate", str(tmp_path), "--format", "xml"])
    assert result.exit_code == 2
    with pytest.raises(ValueError):
        list(read_items(io.BytesIO(b""), "xml"))
    with pytest.raises(DictFormatError):
        list(read_items(io.BytesIO("---\n...\n\t9\n".encode()), "rime"))


def test_annotate_reads_stdin(bundle):
    result = CliRunner().invoke(main, ["dict", "annotate", "-", "--format", "plain", "--model", bundle],
                                input="银行\n行业\n".encode("utf-8"))
    assert result.exit_code == 0 and result.stdout.splitlines() == ["银行\tyin hang", "行业\thang ye"]
    result = CliRunner().invoke(main, ["dict", "check", "-", "--format", "plain", "--model", bundle])
    assert result.exit_code == 1 and "give a file" in result.stderr
