import json
import os
import threading

import pytest
from pypinyin import Style

from pinyin_edge import G2P
from pinyin_edge.bundle import BundleError
from pinyin_edge.readings import STYLE_NAMES
from pinyin_edge.runtime.g2p import OverrideError


def test_design_examples(g2p):
    assert g2p.pinyin("银行行长") == ["yin2", "hang2", "hang2", "zhang3"]
    assert g2p.pinyin("AI行业", style="tone") == ["A", "I", "háng", "yè"]
    assert g2p.pinyin("行走") == ["xing2", "zou3"]


@pytest.mark.parametrize("text", [
    "AI行业 😀𠀀\t数据\u3000é\u200b！", "  ", "😀😀", "abc", "行", "a\ud800b", "第1名\n第2名", "〇一二",
])
def test_one_item_per_character(g2p, text):
    out = g2p.pinyin(text)
    assert len(out) == len(text)
    for char, item in zip(text, out):
        assert isinstance(item, str)
        if not ("\u4e00" <= char <= "\u9fff" or char in "〇𠀀"):
            assert item == char


def test_empty_and_types(g2p):
    assert g2p.pinyin("") == []
    assert g2p.annotate("") == []
    assert g2p.pinyin_batch([]) == []
    assert g2p.pinyin_batch(["", "行"]) == [[], ["xing2"]]
    for bad in (None, b"\xe8\xa1\x8c", 3, ["行"]):
        with pytest.raises(TypeError):
            g2p.pinyin(bad)
    with pytest.raises(TypeError):
        g2p.pinyin_batch("银行")
    with pytest.raises(TypeError):
        g2p.pinyin_batch(["ok", None])


def test_batch_matches_single(g2p):
    texts = ["银行行长", "", "重新了解一下", "AI行业", "我的音乐"] * 3
    assert g2p.pinyin_batch(texts) == [g2p.pinyin(t) for t in texts]


def test_styles(g2p):
    assert g2p.pinyin("银行", style="tone") == ["yín", "háng"]
    assert g2p.pinyin("银行", style="tone2") == ["yi2n", "ha2ng"]
    assert g2p.pinyin("银行", style="normal") == ["yin", "hang"]
    assert g2p.pinyin("银行", style="bopomofo") == ["ㄧㄣˊ", "ㄏㄤˊ"]
    assert g2p.pinyin("银行", style="initials") == ["", "h"]
    assert g2p.pinyin("银行", style="finals") == ["in", "ang"]
    assert g2p.pinyin("银行", style=Style.TONE) == ["yín", "háng"]
    assert g2p.pinyin("银行", style="TONE3") == ["yin2", "hang2"]
    assert g2p.pinyin("了", style="tone") == ["le"]        # neutral tone: no mark
    assert g2p.pinyin("了", style="tone3") == ["le5"]      # canonical: tone 5
    assert g2p.pinyin("绿", style="tone3") == ["lv4"] and g2p.pinyin("绿", style="tone") == ["lǜ"]
    for style in STYLE_NAMES:
        assert len(g2p.pinyin("AI行业", style=style)) == 4


def test_unknown_style(g2p):
    with pytest.raises(ValueError) as err:
        g2p.pinyin("银行", style="klingon")
    assert "tone3" in str(err.value) and "bopomofo" in str(err.value)
    with pytest.raises(ValueError):
        g2p.pinyin("", style="klingon")
    with pytest.raises(ValueError):
        g2p.annotate("行", style=3.5)


def test_heteronym(g2p):
    out = g2p.pinyin("行长a", heteronym=True)
    assert out[0][0] == "hang2" and set(out[0]) == {"xing2", "hang2", "heng2", "xing4", "hang4"}
    assert out[1] == ["zhang3", "chang2"]
    assert out[2] == ["a"]
    # styles that fold readings together drop duplicates
    assert g2p.pinyin("行", heteronym=True, style="normal") == [["xing", "hang", "heng"]]


def test_annotate(g2p):
    notes = g2p.annotate("行长的乐A")
    assert [n.char for n in notes] == list("行长的乐A")
    assert [n.offset for n in notes] == [0, 1, 2, 3, 4]
    assert [n.source for n in notes] == ["model", "model", "dictionary", "dictionary", "none"]
    assert [n.reading for n in notes] == ["hang2", "zhang3", "de5", "le4", "A"]
    first = notes[0]
    assert first.candidates[0][0] == first.reading
    probs = [p for _, p in first.candidates]
    assert probs == sorted(probs, reverse=True) and abs(sum(probs) - 1) < 1e-6
    assert notes[4].candidates == []
    # dictionary fallback: the chosen reading first, the others after it
    assert notes[2].candidates[0] == ("de5", 1.0) and {r for r, _ in notes[2].candidates} >= {"di2", "di4"}
    # dict-style access and JSON
    assert first["reading"] == "hang2" and dict(first)["source"] == "model"
    json.dumps([n.to_dict() for n in notes], ensure_ascii=False)
    styled = g2p.annotate("行", style="tone")[0]
    assert styled.reading == "xíng" and styled.candidates[0][0] == "xíng"


def test_single_reading_and_fallbacks(g2p):
    assert g2p.annotate("银")[0].source == "dictionary"
    assert g2p.annotate("银")[0].candidates == [("yin2", 1.0)]
    # 的 is not in the model's candidates; 乐 is, but the model's vocabulary lacks it:
    # both take pypinyin's sentence-level reading (its phrase dictionary)
    assert g2p.pinyin("的确") == ["di2", "que4"]
    assert g2p.pinyin("我的") == ["wo3", "de5"]
    assert g2p.pinyin("音乐") == ["yin1", "yue4"]
    assert g2p.pinyin("快乐") == ["kuai4", "le4"]


def test_overrides_char_phrase_and_longest_match(bundle):
    g = G2P(model=bundle, overrides={"银行": "yin2 hang4"})
    assert g.pinyin("银行行长") == ["yin2", "hang4", "hang2", "zhang3"]
    g.add_override("行", ["heng2"])
    assert g.pinyin("银行行长") == ["yin2", "hang4", "heng2", "zhang3"]     # longest match first
    assert g.pinyin("行业") == ["heng2", "ye4"]                                # beats the model
    notes = g.annotate("银行行")
    assert [n.source for n in notes] == ["user", "user", "user"]
    assert notes[2].candidates == [("heng2", 1.0)]
    g.add_override("A行", "xing4")                                              # non-Han kept, one reading
    assert g.pinyin("A行业") == ["A", "xing4", "ye4"]
    assert g.overrides["银行"] == "yin2 hang4"
    g.remove_override("行")
    assert g.pinyin("行业") == ["hang2", "ye4"]


def test_override_readings_are_normalised_and_checked(bundle):
    g = G2P(model=bundle)
    g.add_override("绿", "lǜ")
    assert g.pinyin("绿") == ["lv4"]
    with pytest.raises(OverrideError):
        g.add_override("银行", "yin2")              # one reading per Han character
    with pytest.raises(OverrideError):
        g.add_override("行", "xyz9")
    with pytest.raises(OverrideError):
        g.add_override("", "a1")
    with pytest.raises(OverrideError):
        g.add_override("abc", "")


def test_overrides_from_file(bundle, tmp_path):
    path = tmp_path / "overrides.tsv"
    path.write_text("\ufeff# my readings\n\n银行\tyín háng  # tone marks are fine\n"
                    "重\tchong2\n", encoding="utf-8")
    parsed = G2P.load_overrides(str(path))
    assert parsed == {"银行": "yin2 hang2", "重": "chong2"}
    g = G2P(model=bundle, overrides=str(path))
    assert g.pinyin("重要") == ["chong2", "yao4"]
    g2 = G2P(model=bundle)
    assert g2.load_overrides(path) == parsed          # on an instance it also adds them
    assert g2.pinyin("重要") == ["chong2", "yao4"]
    assert G2P(model=bundle, overrides=parsed).pinyin("重要") == ["chong2", "yao4"]


@pytest.mark.parametrize("content,where", [
    ("银行 yin2 hang2\n", ":1: expected phrase<TAB>readings"),
    ("# ok\n银行\tyin2\n", ":2: override '银行' needs 2"),
    ("行\txing9\n", ":1: override '行'"),
])
def test_bad_override_files(tmp_path, content, where):
    path = tmp_path / "bad.tsv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(OverrideError) as err:
        G2P.load_overrides(path)
    assert where in str(err.value)


def test_override_file_missing_or_not_utf8(tmp_path):
    with pytest.raises(OverrideError, match="no such overrides file"):
        G2P.load_overrides(tmp_path / "missing.tsv")
    path = tmp_path / "latin1.tsv"
    path.write_bytes(b"# ok\n\xe9\tyi1\n")
    with pytest.raises(OverrideError, match=":2: not UTF-8"):
        G2P.load_overrides(path)


@pytest.mark.parametrize("text,want", [
    ("一定", ["yi2", "ding4"]),
    ("一天", ["yi4", "tian1"]),
    ("一年", ["yi4", "nian2"]),
    ("一起", ["yi4", "qi3"]),
    ("一个", ["yi2", "ge4"]),
    ("第一", ["di4", "yi1"]),
    ("十一", ["shi2", "yi1"]),
    ("一二三", ["yi1", "er4", "san1"]),
    ("一百", ["yi4", "bai3"]),
    ("看一看", ["kan4", "yi5", "kan4"]),
    ("统一思想", ["tong3", "yi1", "si1", "xiang3"]),
    ("一", ["yi1"]),
    ("不是", ["bu2", "shi4"]),
    ("不好", ["bu4", "hao3"]),
    ("好不", ["hao3", "bu4"]),
    ("你好", ["ni2", "hao3"]),
    ("我很好", ["wo2", "hen2", "hao3"]),
    ("老鼠，你好", ["lao2", "shu3", "，", "ni2", "hao3"]),
])
def test_tone_sandhi(g2p, text, want):
    assert g2p.pinyin(text, tone_sandhi=True) == want


def test_tone_sandhi_is_off_by_default_and_spares_overrides(g2p, bundle):
    assert g2p.pinyin("一定不是你好") == ["yi1", "ding4", "bu4", "shi4", "ni3", "hao3"]
    assert g2p.pinyin("不是", style="tone", tone_sandhi=True) == ["bú", "shì"]
    g = G2P(model=bundle, overrides={"一定": "yi1 ding4"})
    assert g.pinyin("一定", tone_sandhi=True) == ["yi1", "ding4"]
    assert g.annotate("一定", tone_sandhi=True)[0].reading == "yi1"


def test_yi_and_bu_come_back_in_citation_tone_whoever_decides(bundle):
    from pypinyin import Style, lazy_pinyin

    # pypinyin's phrase table bakes sandhi into these phrases, and with phrases on they decide
    assert lazy_pinyin("一个不是", style=Style.TONE3) == ["yi2", "ge4", "bu2", "shi4"]
    g = G2P(model=bundle, phrases=True)
    assert g.pinyin("一个不是") == ["yi1", "ge4", "bu4", "shi4"]
    assert [a.reading for a in g.annotate("一个不是")] == ["yi1", "ge4", "bu4", "shi4"]
    assert all(a.candidates[0][0] == a.reading for a in g.annotate("一个不是"))
    assert g.pinyin("一个不是", tone_sandhi=True) == ["yi2", "ge4", "bu2", "shi4"]
    g.add_override("不是", "bu2 shi4")  # a user's choice is never changed
    assert g.pinyin("一个不是") == ["yi1", "ge4", "bu2", "shi4"]


def test_citation_tones_touch_only_sandhi_forms_of_yi_and_bu():
    from pinyin_edge.runtime.sandhi import citation_ranked, citation_tone

    text = "一不对不起不一看一看"
    readings = ["yi4", "bu2", "dui4", "bu5", "qi3", "fou3", "yi2", "kan4", "yi5", "kan4"]
    assert [citation_tone(c, r) for c, r in zip(text, readings)] == [
        "yi1", "bu4", "dui4", "bu5", "qi3", "fou3", "yi1", "kan4", "yi5", "kan4"]
    assert citation_tone("行", "hang2") == "hang2"
    assert citation_ranked("不", (("bu2", 0.6), ("fou3", 0.3), ("bu4", 0.1))) == (("bu4", 0.7), ("fou3", 0.3))
    assert citation_ranked("行", (("xing2", 0.6), ("hang2", 0.4))) == (("xing2", 0.6), ("hang2", 0.4))


def test_threads_share_one_g2p(bundle):
    g = G2P(model=bundle)
    texts = ["银行行长", "AI行业发展", "重新了解一下", "我的音乐很好", "一定不是", "行" * 300]
    serial = [g.pinyin_batch(texts), [g.pinyin(t, style="tone") for t in texts],
              [[a.to_dict() for a in g.annotate(t)] for t in texts]]
    results, errors = [None] * 8, []

    def work(i):
        try:
            got = None
            for _ in range(15):
                got = [g.pinyin_batch(texts), [g.pinyin(t, style="tone") for t in texts],
                       [[a.to_dict() for a in g.annotate(t)] for t in texts]]
            results[i] = got
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert all(r == serial for r in results)


def test_overrides_added_while_converting(bundle):
    g = G2P(model=bundle)
    stop = threading.Event()
    seen = set()

    def convert():
        while not stop.is_set():
            seen.add(tuple(g.pinyin("银行")))

    worker = threading.Thread(target=convert)
    worker.start()
    try:
        for i in range(50):
            g.add_override(f"测{i}", "ce4")
        g.add_override("银行", "yin2 xing2")
    finally:
        stop.set()
        worker.join()
    assert seen <= {("yin2", "hang2"), ("yin2", "xing2")}
    assert g.pinyin("银行") == ["yin2", "xing2"]


def test_missing_model(tmp_path):
    with pytest.raises(BundleError, match="no such model bundle directory"):
        G2P(model=str(tmp_path / "nope"))


def test_model_can_be_the_graph_file(bundle):

    assert G2P(model=os.path.join(bundle, "model.onnx")).pinyin("行业") == ["hang2", "ye4"]


def test_phrase_dictionary_decides_the_polyphones_it_covers(bundle):
    from pinyin_edge import G2P

    with_phrases, model_only = G2P(model=bundle), G2P(model=bundle, phrases=False)
    # 行 in 行人 (a pypinyin phrase) reads xing2 from the phrase, whatever the model says
    notes = with_phrases.annotate("行人")
    assert (notes[0].reading, notes[0].source) == ("xing2", "dictionary")
    assert model_only.annotate("行人")[0].source == "model"
    # outside any phrase the model still decides
    assert with_phrases.annotate("行a")[0].source == "model"


def test_bundle_policy_sets_the_phrase_default(bundle_copy):
    """A bundle exported with --no-phrases lets its model decide phrase polyphones by default."""
    from conftest import rewrite_bundle

    from pinyin_edge import G2P

    assert G2P(model=bundle_copy).phrases
    rewrite_bundle(bundle_copy, manifest=lambda data: data.update(phrases=False))
    policy_off = G2P(model=bundle_copy)
    assert policy_off.phrases is False
    assert policy_off.annotate("行人")[0].source == "model"
    assert G2P(model=bundle_copy, phrases=True).annotate("行人")[0].source == "dictionary"  # caller wins


def test_static_decisions_cache_is_bounded(bundle, monkeypatch):
    from pinyin_edge.runtime import policy

    monkeypatch.setattr(policy, "STATIC_CACHE_SIZE", 8)
    g2p = G2P(bundle)
    text = "".join(chr(c) for c in range(0x4E00, 0x4E00 + 40)) + "abcdefgh😀"
    first = g2p.pinyin(text)
    assert len(g2p.policy.static_sources) == 8
    assert g2p.pinyin(text) == first == G2P(bundle).pinyin(text)  # uncached characters read the same
