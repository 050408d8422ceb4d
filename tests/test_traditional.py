"""Traditional text read through its simplified forms (runtime/traditional.py), per original character."""
import pytest

from pinyin_edge import G2P
from pinyin_edge.runtime.traditional import TABLE_PATH, Simplifier, TableError, read_table


@pytest.fixture(scope="module")
def shipped():
    return G2P()


@pytest.fixture(scope="module")
def shipped_off():
    return G2P(traditional=False)


@pytest.mark.parametrize("text, expected", [
    ("銀行行長", "yin2 hang2 hang2 zhang3"),
    ("音樂", "yin1 yue4"),
    ("還錢", "huan2 qian2"),
    ("音樂會很好聽", "yin1 yue4 hui4 hen3 hao3 ting1"),
    ("乾淨的衣服", "gan1 jing5 de5 yi1 fu5"),      # 乾 -> 干 (gan1); 干净, 衣服 in the neutral-tone lexicon
    ("扭轉乾坤", "niu3 zhuan3 qian2 kun1"),       # 乾坤 is a phrase: 乾 stays qian2
    ("我們看著他", "wo3 men5 kan4 zhe5 ta1"),      # Taiwan's 著 for 着
    ("著名的作家", "zhu4 ming2 de5 zuo4 jia1"),    # 著名 keeps 著 (zhu4)
    ("顯著的變化", "xian3 zhu4 de5 bian4 hua4"),
    ("我們瞭解這個問題", "wo3 men5 liao3 jie3 zhe4 ge5 wen4 ti2"),  # 瞭解 -> 了解
    ("瞭望臺", "liao4 wang4 tai2"),
    ("藉口", "jie4 kou3"),
    ("杯盤狼藉", "bei1 pan2 lang2 ji2"),          # 狼藉 keeps 藉 (ji2)
    ("你說什麼", "ni3 shuo1 shen2 me5"),
    ("這裏", "zhe4 li3"),
    ("她的頭髮很長", "ta1 de5 tou2 fa4 hen3 chang2"),
])
def test_traditional_reads_like_simplified(shipped, text, expected):
    assert shipped.pinyin(text) == expected.split()


def test_annotate_keeps_the_original_characters(shipped):
    text = "銀行行長說A1"
    items = shipped.annotate(text)
    assert [a.char for a in items] == list(text)
    assert [a.offset for a in items] == list(range(len(text)))
    assert [a.reading for a in items] == ["yin2", "hang2", "hang2", "zhang3", "shuo1", "A", "1"]
    assert items[-1].source == "none"


@pytest.mark.parametrize("text", ["銀行行長和银行行长", "還錢 还钱", "🙂乾淨𠀀a", "說", ""])
def test_one_item_per_original_character(shipped, text):
    assert len(shipped.pinyin(text)) == len(text)
    assert len(shipped.pinyin(text, heteronym=True)) == len(text)


def test_mixed_text_reads_each_half(shipped):
    assert shipped.pinyin("銀行行長和银行行长") == "yin2 hang2 hang2 zhang3 he2 yin2 hang2 hang2 zhang3".split()


def test_the_switch_off_gives_the_character_readings(shipped, shipped_off):
    # off: the old behaviour, 樂 and 還 read by their own first readings, outside any phrase
    assert shipped_off.pinyin("音樂") != shipped.pinyin("音樂")
    assert shipped_off.simplifier.simplify("音樂") == "音樂"
    batch = ["銀行行長", "音樂會很好聽", "还钱"]
    assert shipped_off.pinyin_batch(batch) == [shipped_off.pinyin(t) for t in batch]


def test_simplified_text_is_left_alone():
    auto = Simplifier()
    for text in ["银行行长", "显著的乾隆年间", "于是他著书立说", "hello"]:
        assert auto.simplify(text) is text  # no traditional-only character: not even copied
    assert auto.simplify("他著急了") == "他著急了"  # 著 alone does not mark a text traditional
    assert Simplifier(True).simplify("他著急了") == "他着急了"
    assert Simplifier(False).simplify("銀行") == "銀行"


def test_shared_characters_map_only_in_traditional_text():
    auto = Simplifier()
    assert auto.simplify("於是") == "於是"
    assert auto.simplify("於是我們") == "于是我们"
    assert auto.simplify("乾坤 乾 瞭望 瞭解 藉口 狼藉") == "乾坤 乾 瞭望 瞭解 藉口 狼藉"  # no marker: untouched
    assert auto.simplify("乾坤 乾淨 瞭望 瞭解 藉口 狼藉 們") == "乾坤 干净 瞭望 了解 借口 狼藉 们"


def test_traditional_overrides_match_the_original_text(bundle):
    g2p = G2P(model=bundle, phrases=False, overrides={"銀行": "yin2 xing2", "行长": "hang2 zhang3"})
    got = g2p.annotate("銀行行長")
    assert [a.reading for a in got] == ["yin2", "xing2", "hang2", "zhang3"]  # 銀行 on the original text
    assert all(a.source == "user" for a in got)                                # 行长 on the simplified one
    assert [a.char for a in got] == list("銀行行長")
    g2p.add_override("銀", "yin1")  # an override in traditional does not touch simplified text
    assert g2p.annotate("銀")[0].source == "user"
    assert g2p.annotate("银")[0].source != "user"


def test_unknown_mode_is_refused(bundle):
    with pytest.raises(ValueError, match="traditional"):
        G2P(model=bundle, traditional="yes")
    with pytest.raises(ValueError, match="traditional"):
        Simplifier(1)


def test_the_shipped_table_preserves_length_and_refuses_bad_rows(tmp_path):
    chars, shared, phrases = read_table(TABLE_PATH)
    assert len(chars) > 2000 and len(phrases) > 1000
    assert all(len(k) == len(v) for table in (chars, shared, phrases) for k, v in table.items())
    assert chars["銀"] == "银" and shared["乾"] == "干" and phrases["乾坤"] == "乾坤"
    for bad in ("c\t銀行\t银\n", "x\t銀\t银\n", "p\t乾坤\t乾\n", "c\t銀\n"):
        path = tmp_path / "bad.tsv"
        path.write_text("# header\n" + bad, encoding="utf-8")
        with pytest.raises(TableError):
            read_table(path)


def test_tone_sandhi_sees_the_simplified_words(shipped):
    # 統一 (统一) ends in 一: yi1 stays before a fourth tone only when the word is recognised
    assert shipped.pinyin("統一價格", tone_sandhi=True) == shipped.pinyin("统一价格", tone_sandhi=True)


def test_a_length_changing_phrase_falls_back_to_characters():
    # the shipped table cannot hold such a row (read_table refuses it); a table given directly can
    simplifier = Simplifier(True, table=({"們": "们"}, {}, {"我們": "我们们"}))
    assert simplifier.simplify("我們好") == "我们好"


def test_the_pypinyin_compatible_api_reads_traditional_text_too(shipped):
    from pypinyin import Style

    from pinyin_edge import lazy_pinyin

    def read(text):
        return lazy_pinyin(text, style=Style.TONE3, neutral_tone_with_five=True, g2p=shipped)

    assert read("銀行行長") == shipped.pinyin("銀行行長")
    # as the simplified text: pypinyin's phrases, not G2P's neutral-tone lexicon (时候 hou5, 谢谢 xie5)
    assert read("還錢的時候記得說謝謝") == read("还钱的时候记得说谢谢")
    assert read("還錢的時候記得說謝謝")[:2] == ["huan2", "qian2"]
