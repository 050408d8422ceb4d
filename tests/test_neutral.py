"""The neutral-tone lexicon: a valid shipped table, merged into the phrase dictionary, read by the policy."""
import json
import os

import pytest

from pinyin_edge import G2P, neutral
from pinyin_edge import dictionaries as dmod
from pinyin_edge.dictionaries import compile_dictionaries, dictionaries
from pinyin_edge.runtime.phrases import phrase_words

CHARS = {"衣": "yi1", "服": "fu2,fu4", "大": "da4,dai4,tai4", "夫": "fu1,fu2", "一": "yi1,yi2,yi4"}


@pytest.fixture(scope="module")
def lexicon():
    return neutral.read_lexicon(dictionaries().chars)


@pytest.fixture(scope="module")
def default_g2p():
    return G2P()


@pytest.fixture(scope="module")
def word_exceptions():
    path = os.path.join(os.path.dirname(dmod.__file__), "models", "default", "manifest.json")
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)["phrase_word_exceptions"]


def test_the_shipped_table_is_valid_and_merged(lexicon):
    assert len(lexicon) >= 50 and {"衣服", "时候", "生意"} <= set(lexicon)
    words = dictionaries().words
    assert all(words[w] == r for w, r in lexicon.items())
    assert any(r.endswith("5") for r in lexicon["衣服"].split())
    assert all("5" in r for r in lexicon.values())  # every entry has a light syllable
    with open(neutral.PATH, encoding="utf-8") as handle:  # no row was dropped as invalid
        assert neutral.parse(handle.readlines(), dictionaries().chars)[1] == []


def test_rows_are_checked_against_the_characters_readings():
    lines = ["# comment", "", "衣服\tyi1 fu5\tclothes", "大夫\tdai4 fu5", "衣服\tyi1 fu2\tagain",
             "大夫\tda4\tshort", "衣服\tyi1 fu3\tno such tone", "衣服\tyī fu\tmarks", "衣\tyi1\tone char",
             "衣服 yi1 fu5", "a服\tyi1 fu5\tlatin"]
    words, problems = neutral.parse(lines, CHARS)
    assert words == {"衣服": ("yi1 fu5", "clothes"), "大夫": ("dai4 fu5", "")}  # a light form of a reading the char has
    why = {number: reason for number, _, reason in problems}
    assert sorted(why) == [5, 6, 7, 8, 9, 10, 11]
    assert why[5] == "given twice" and "1 readings for 2 characters" in why[6] and "two or more" in why[9]
    assert "服 has no reading fu3" in why[7] and "canonical" in why[8] and "1 tab-separated" in why[10]


def test_a_damaged_table_is_refused(tmp_path):
    path = tmp_path / "neutral.tsv"
    path.write_text("衣服\tyi1 fu5\tok\n衣服\tyi1\tbad\n", encoding="utf-8")
    with pytest.raises(neutral.LexiconError, match=r"neutral.tsv:2: 1 readings for 2 characters"):
        neutral.read_lexicon(CHARS, str(path))
    path.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(neutral.LexiconError, match="cannot read"):
        neutral.read_lexicon(CHARS, str(path))


def test_the_cache_key_changes_with_the_table(tmp_path, monkeypatch):
    path = tmp_path / "neutral.tsv"
    path.write_text("衣服\tyi1 fu5\tclothes\n", encoding="utf-8")
    monkeypatch.setattr(neutral, "PATH", str(path))
    first = dmod._source_key()
    assert first == dmod._source_key()
    path.write_text("衣服\tyi1 fu5\tclothes\n大夫\tdai4 fu5\tdoctor\n", encoding="utf-8")
    assert dmod._source_key() != first
    tables = compile_dictionaries()  # the table it keys on is the one compiled
    assert tables.words["大夫"] == "dai4 fu5" and tables.words["衣服"] == "yi1 fu5"
    assert "时候" not in tables.words  # pypinyin's words and this table's only


def test_a_lexicon_word_reads_light_alone_and_in_sentences(default_g2p, lexicon, word_exceptions):
    g = default_g2p
    assert g.pinyin("衣服", style="tone3") == ["yi1", "fu5"]
    assert g.pinyin("我的衣服在哪儿？", style="tone3")[2:4] == ["yi1", "fu5"]
    assert g.pinyin("这个时候他在休息。", style="tone3")[2:4] == ["shi2", "hou5"]
    assert g.pinyin("大夫说我没事。", style="tone3")[:2] == ["dai4", "fu5"]  # polyphones decided by the word
    assert [r.pinyin for r in g.word_readings("衣服", k=1)] == [("yi1", "fu5")]
    assert [r.pinyin for r in g.word_readings("衣服", k=1, style="tone")] == [("yī", "fu")]
    # every word of the table, given alone, reads as the table says (a word exception's position may
    # be overruled by a confident model there, by the policy's word-alone rule)
    words = sorted(lexicon)
    for word, got in zip(words, g.pinyin_batch(words, style="tone3")):
        free = set(word_exceptions.get(word, ()))
        assert [r for i, r in enumerate(got) if i not in free] == \
            [r for i, r in enumerate(lexicon[word].split()) if i not in free], word


def test_a_word_is_not_matched_across_a_word_boundary(default_g2p, lexicon):
    # 发生|意外: the segmenter takes 发生 first, so 生意 (a lexicon word) is not a segment here
    assert "生意" in lexicon and "发生" in dictionaries().words
    assert phrase_words("发生意外") == [(0, 2)]
    assert default_g2p.pinyin("路上发生意外了。", style="tone3")[2:6] == ["fa1", "sheng1", "yi4", "wai4"]
    assert default_g2p.pinyin("他在做生意。", style="tone3")[3:5] == ["sheng1", "yi5"]


def test_an_input_method_word_list_gets_the_light_syllables(tmp_path):
    from click.testing import CliRunner

    from pinyin_edge.cli import main

    words = tmp_path / "words.txt"
    words.write_text("衣服\n大夫\n时候\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["dict", "annotate", str(words), "--format", "plain", "--tones", "--quiet"])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[:3] == ["衣服\tyi1 fu5", "大夫\tdai4 fu5", "时候\tshi2 hou5"]
