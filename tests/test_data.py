"""Dataset readers: every malformed-line case, error locations, --skip-bad counting."""
import pytest

from pinyin_edge.data import (
    DataError,
    Example,
    parse_marked,
    read_cpp,
    read_labelled,
    read_many,
    read_sentence_tsv,
    read_subset_tsv,
)
from pinyin_edge.data import (
    test_sentences as labelled_sentences,
)

M = "\u2581"


def write_cpp(tmp_path, name, sentences, labels):
    sent = tmp_path / f"{name}.sent"
    sent.write_text("".join(s + "\n" for s in sentences), encoding="utf-8")
    (tmp_path / f"{name}.lb").write_text("".join(lb + "\n" for lb in labels), encoding="utf-8")
    return str(sent)


def write(tmp_path, name, lines):
    path = tmp_path / name
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return str(path)


# --- CPP-style X.sent + X.lb -------------------------------------------------------------------

def test_read_cpp_good_file(tmp_path):
    path = write_cpp(tmp_path, "dev", [f"回到{M}了{M}星球", f"{M}绿{M}色", f"银{M}行{M}"],
                     ["le5", "lu:4", "HANG2"])
    data = read_cpp(path)
    assert len(data) == 3 and data.skipped == 0 and data.num_labels() == 3
    assert data.examples[0] == Example("回到了星球", ((2, "le5"),), f"{path}:1")
    assert data.examples[1].labels == ((0, "lv4"),)      # normalised on load
    assert data.examples[2].text == "银行" and data.examples[2].labels == ((1, "hang2"),)
    assert list(data.labelled_pairs()) == [("了", "le5"), ("绿", "lv4"), ("行", "hang2")]


def test_parse_marked():
    assert parse_marked(f"回到{M}了{M}星球") == ("回到了星球", 2)
    assert parse_marked(f"{M}行{M}") == ("行", 0)


@pytest.mark.parametrize("sentence, why", [
    ("回到了星球", "found 0 marks"),                       # no pair
    (f"回到{M}了星球", "found 1 marks"),                   # half a pair
    (f"{M}回{M}到{M}了{M}星球", "found 4 marks"),           # two pairs
    (f"回到{M}了星{M}球", "wrap exactly one character, found 2"),
    (f"回到{M}{M}了星球", "wrap exactly one character, found 0"),
    (f"回到{M}A{M}星球", "is not Han"),
])
def test_read_cpp_malformed_sentence(tmp_path, sentence, why):
    path = write_cpp(tmp_path, "bad", [f"好{M}的{M}", sentence, f"{M}行{M}"], ["de5", "le5", "xing2"])
    with pytest.raises(DataError) as info:
        read_cpp(path)
    message = str(info.value)
    assert message.startswith(f"{path}:2: ")          # names the file and line number
    assert why in message
    assert "--skip-bad" in message


@pytest.mark.parametrize("label", ["hang9", "xx5", "", "行"])
def test_read_cpp_impossible_reading_names_label_file(tmp_path, label):
    path = write_cpp(tmp_path, "bad", [f"好{M}的{M}", f"{M}行{M}"], ["de5", label])
    with pytest.raises(DataError) as info:
        read_cpp(path)
    assert str(info.value).startswith(f"{tmp_path / 'bad.lb'}:2: ")


def test_read_cpp_label_count_mismatch(tmp_path):
    path = write_cpp(tmp_path, "short", [f"好{M}的{M}", f"{M}行{M}", f"{M}了{M}"], ["de5", "xing2"])
    with pytest.raises(DataError, match="2 labels for 3 sentences"):
        read_cpp(path)


def test_read_cpp_missing_label_file(tmp_path):
    sent = tmp_path / "alone.sent"
    sent.write_text(f"{M}行{M}\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"alone\.lb: no such file"):
        read_cpp(str(sent))


def test_read_cpp_explicit_label_path(tmp_path):
    sent = write(tmp_path, "a.sent", [f"{M}行{M}"])
    lb = write(tmp_path, "labels.txt", ["hang2"])
    assert read_cpp(sent, lb).examples[0].labels == ((0, "hang2"),)


def test_read_cpp_skip_bad_counts(tmp_path):
    sentences = [f"好{M}的{M}", "no marks", f"{M}行{M}", f"{M}AB{M}", f"{M}了{M}"]
    labels = ["de5", "le5", "hang9", "le5", "le5"]
    path = write_cpp(tmp_path, "mixed", sentences, labels)
    data = read_cpp(path, skip_bad=True)
    assert [ex.text for ex in data] == ["好的", "了"]
    assert data.skipped == 3
    assert [e.split(": ")[0] for e in data.errors] == [f"{path}:2", f"{tmp_path / 'mixed.lb'}:3", f"{path}:4"]


def test_not_utf8(tmp_path):
    (tmp_path / "x.sent").write_bytes(b"\xff\xfe\x00bad\n")
    (tmp_path / "x.lb").write_text("de5\n")
    with pytest.raises(DataError, match="not UTF-8"):
        read_cpp(str(tmp_path / "x.sent"))


# --- full-sentence TSV -------------------------------------------------------------------------

def test_sentence_tsv(tmp_path):
    path = write(tmp_path, "s.tsv", ["银行AI行长\tyin2 hang2 - zhang3", "", "绿！\tlu:4"])
    data = read_sentence_tsv(path)
    assert len(data) == 2
    assert data.examples[0].labels == ((0, "yin2"), (1, "hang2"), (5, "zhang3"))  # '-' = unlabelled
    assert data.examples[1].labels == ((0, "lv4"),)
    assert data.examples[1].source == f"{path}:3"


def test_sentence_tsv_soft_labels_round_trip(tmp_path):
    from pinyin_edge.data import format_soft, parse_soft
    from pinyin_edge.training.prepare import write_tsv

    path = write(tmp_path, "s.tsv", ["长大了\tzhang3=0.25|chang2=0.75 - le5"])
    example = read_sentence_tsv(path).examples[0]
    # The most probable reading is the hard label; the distribution rides along, most probable first.
    assert example.labels == ((0, "chang2"), (2, "le5"))
    assert example.soft == ((0, (("chang2", 0.75), ("zhang3", 0.25))),)
    assert parse_soft(format_soft(example.soft[0][1])) == example.soft[0][1]
    assert parse_soft("lu:4=1") == (("lv4", 1.0),)  # readings normalised like hard labels
    again = str(tmp_path / "again.tsv")
    write_tsv(again, [example])
    assert read_sentence_tsv(again).examples[0].soft == example.soft


@pytest.mark.parametrize("line, why", [
    ("银行\tyin2 hang2=x", "is not reading=probability"),
    ("银行\tyin2 hang2=1.5", "is not reading=probability"),
    ("银行\tyin2 hang2=nan", "is not reading=probability"),
    ("银行\tyin2 hang2=0.5|xing9=0.5", "not a pinyin reading"),
    ("银行\tyin2", "1 readings for 2 Han characters"),
    ("银行\tyin2 hang2 hang2", "3 readings for 2 Han characters"),
    ("银行 yin2 hang2", "found 1 columns"),
    ("银行\tyin2 hang2\textra", "found 3 columns"),
    ("银行\tyin2 hang9", "not a pinyin reading"),
])
def test_sentence_tsv_malformed(tmp_path, line, why):
    path = write(tmp_path, "s.tsv", ["好\thao3", line])
    with pytest.raises(DataError) as info:
        read_sentence_tsv(path)
    assert str(info.value).startswith(f"{path}:2: ") and why in str(info.value)
    data = read_sentence_tsv(path, skip_bad=True)
    assert len(data) == 1 and data.skipped == 1 and data.errors[0].startswith(f"{path}:2: ")


# --- cpp-subset TSV ----------------------------------------------------------------------------

SUBSET_HEAD = "file\tchar\tpinyin\tsentence\tnote"


def test_subset_tsv(tmp_path):
    path = write(tmp_path, "sub.tsv", [SUBSET_HEAD, "x\t背\tbei4\t防弹背心。\t", "x\t背\tbei1\t他背着包\t"])
    data = read_labelled(path)  # dispatches on the header
    assert [ex.labels for ex in data] == [((2, "bei4"),), ((1, "bei1"),)]
    assert data.examples[0].source == f"{path}:2"


@pytest.mark.parametrize("line, why", [
    ("x\t背\tbei4", "found 3"),
    ("x\t曲\tqu3\t防弹背心\t", "does not occur"),
    ("x\t背心\tbei4\t防弹背心\t", "does not occur"),
    ("x\t背\t又bei4\t防弹背心\t", "not a pinyin reading"),
])
def test_subset_tsv_malformed(tmp_path, line, why):
    path = write(tmp_path, "sub.tsv", [SUBSET_HEAD, "x\t背\tbei4\t背心\t", line])
    with pytest.raises(DataError) as info:
        read_subset_tsv(path)
    assert str(info.value).startswith(f"{path}:3: ") and why in str(info.value)
    assert read_subset_tsv(path, skip_bad=True).skipped == 1


# --- dispatch and merging ----------------------------------------------------------------------

def test_read_labelled_dispatch_and_errors(tmp_path):
    tsv = write(tmp_path, "full.tsv", ["银行\tyin2 hang2"])
    assert read_labelled(tsv).examples[0].labels == ((0, "yin2"), (1, "hang2"))
    with pytest.raises(DataError, match="unknown format"):
        read_labelled(write(tmp_path, "x.txt", ["银行"]))
    with pytest.raises(DataError, match="no such file"):
        read_labelled(str(tmp_path / "missing.sent"))
    with pytest.raises(DataError, match="no such file"):
        read_labelled(str(tmp_path / "missing.tsv"))


def test_read_many_merges_and_counts_skips(tmp_path):
    a = write_cpp(tmp_path, "a", [f"{M}行{M}", "bad"], ["xing2", "le5"])
    b = write(tmp_path, "b.tsv", ["银行\tyin2 hang2", "银\tyin2 hang2"])
    data = read_many([a, b], skip_bad=True)
    assert len(data) == 2 and data.skipped == 2 and data.num_labels() == 3
    with pytest.raises(DataError):
        read_many([a, b])


def test_test_sentences(tmp_path):
    a = write_cpp(tmp_path, "t", [f"回到{M}了{M}星球", "bad"], ["le5", "le5"])
    assert labelled_sentences([a]) == ["回到了星球"]


def test_lines_end_at_newline_only(tmp_path):
    """A vertical tab or U+2028 inside a sentence is text, not a line break."""
    from pinyin_edge.data import read_sentence_tsv

    path = tmp_path / "odd.tsv"
    path.write_text("银行\v行长\tyin2 hang2 hang2 zhang3\r\n重\u2028要\tzhong4 yao4\n", encoding="utf-8")
    data = read_sentence_tsv(str(path))
    assert [ex.text for ex in data] == ["银行\v行长", "重\u2028要"]
    assert data.examples[0].labels == ((0, "yin2"), (1, "hang2"), (3, "hang2"), (4, "zhang3"))
