import inspect

import pypinyin
import pytest
from pypinyin import Style
from pypinyin.constants import PHRASES_DICT, PINYIN_DICT
from pypinyin.converter import DefaultConverter
from pypinyin.core import Pinyin
from pypinyin.seg import mmseg

import pinyin_edge
from pinyin_edge import G2P, EdgeConverter
from pinyin_edge.runtime.plugin import EdgePinyin


def test_converter_plugs_into_pypinyin(g2p):
    converter = EdgeConverter(g2p=g2p)
    assert isinstance(converter, DefaultConverter)
    core = Pinyin(converter)
    assert core.lazy_pinyin("银行") == ["yin", "hang"]
    assert core.lazy_pinyin("行业", style=Style.TONE3) == ["hang2", "ye4"]
    assert core.pinyin("行长") == [["háng"], ["zhǎng"]]
    # pypinyin cuts the string into words first; the converter reads each word with the model
    assert core.lazy_pinyin("AI行业", style=Style.TONE3) == ["AI", "hang2", "ye4"]


def test_converter_options(g2p):
    assert Pinyin(EdgeConverter(g2p=g2p, neutral_tone_with_five=True)).lazy_pinyin(
        "了", style=Style.TONE3) == ["le5"]
    assert Pinyin(EdgeConverter(g2p=g2p)).lazy_pinyin("了", style=Style.TONE3) == ["le"]
    assert Pinyin(EdgeConverter(g2p=g2p, v_to_u=True)).lazy_pinyin("绿") == ["lü"]
    hetero = Pinyin(EdgeConverter(g2p=g2p)).pinyin("行", heteronym=True, style=Style.TONE3)
    assert hetero[0][0] == "xing2" and "hang2" in hetero[0]


def test_module_functions(g2p):
    assert pinyin_edge.lazy_pinyin("银行行长", style=Style.TONE3, g2p=g2p) == ["yin2", "hang2", "hang2", "zhang3"]
    assert pinyin_edge.lazy_pinyin("AI行业 ok", g2p=g2p) == ["AI", "hang", "ye", " ok"]
    assert pinyin_edge.lazy_pinyin("AI行业", errors="ignore", g2p=g2p) == ["hang", "ye"]
    assert pinyin_edge.lazy_pinyin("AI行", errors=lambda s: list(s), g2p=g2p) == ["A", "I", "xing"]
    assert pinyin_edge.pinyin("行长abc", g2p=g2p) == [["háng"], ["zhǎng"], ["abc"]]
    assert pinyin_edge.pinyin("重新", style=Style.BOPOMOFO, g2p=g2p) == [["ㄔㄨㄥˊ"], ["ㄒㄧㄣ"]]


def test_model_argument(bundle):
    assert pinyin_edge.lazy_pinyin("行业", model=bundle) == ["hang", "ye"]
    assert Pinyin(EdgeConverter(model=bundle)).lazy_pinyin("行业") == ["hang", "ye"]


def test_user_overrides_apply(bundle):
    g = G2P(model=bundle, overrides={"行": "heng2"})
    assert Pinyin(EdgeConverter(g2p=g)).lazy_pinyin("行业", style=Style.TONE3) == ["heng2", "ye4"]
    assert EdgePinyin(EdgeConverter(g2p=g)).lazy_pinyin("银行", style=Style.TONE3) == ["yin2", "heng2"]


def test_pypinyin_tables_untouched(g2p):
    before = pypinyin.lazy_pinyin("重新了解行业", style=Style.TONE3)
    pinyin_edge.lazy_pinyin("重新了解行业", g2p=g2p)
    Pinyin(EdgeConverter(g2p=g2p)).lazy_pinyin("银行")
    G2P.annotate(g2p, "的乐")
    assert pypinyin.lazy_pinyin("重新了解行业", style=Style.TONE3) == before


# -- pypinyin drop-in: the same API, pypinyin's answer where the model does not decide ----------------


def test_every_name_of_pypinyins_all_with_its_signature():
    for name in pypinyin.__all__:
        ours, theirs = getattr(pinyin_edge, name), getattr(pypinyin, name)
        assert name in pinyin_edge.__all__
        if not inspect.isfunction(theirs):
            assert ours is theirs, name  # Style and the STYLE_* constants are pypinyin's own
            continue
        mine = list(inspect.signature(ours).parameters.values())
        expected = list(inspect.signature(theirs).parameters.values())
        assert mine[:len(expected)] == expected, name  # names, kinds, defaults, order
        extra = mine[len(expected):]  # ours may add only keyword-only options with defaults
        assert all(p.kind is p.KEYWORD_ONLY and p.default is not p.empty for p in extra), name
    with pytest.raises(TypeError):
        pinyin_edge.lazy_pinyin("行", heteronym=True)  # pypinyin's lazy_pinyin has no heteronym either
    with pytest.raises(TypeError):
        pinyin_edge.pinyin("行", tone_sandhi=True)


def test_heteronym_lists_in_pypinyins_order_with_the_models_choice_first(g2p):
    # the model (phrases off) reads 长 alone as chang2: first, then pypinyin's other readings
    assert pinyin_edge.pinyin("长", heteronym=True, g2p=g2p) == [["cháng", "zhǎng"]]
    # its choice is pypinyin's first reading: pypinyin's list as it is, not in model order
    assert pinyin_edge.pinyin("行", heteronym=True, g2p=g2p) == pypinyin.pinyin("行", heteronym=True)
    # characters the model does not decide: pypinyin's lists, every reading kept
    text = "呣嘸誒欸的乐"
    for style in (Style.TONE, Style.TONE2, Style.BOPOMOFO):
        assert pinyin_edge.pinyin(text, style=style, heteronym=True, g2p=g2p) == \
            pypinyin.pinyin(text, style=style, heteronym=True)


def test_phrase_entries_give_their_own_readings(bundle):
    g = G2P(model=bundle)  # the phrase policy on: pypinyin's phrases decide
    assert pinyin_edge.pinyin("朝阳", heteronym=True, g2p=g) == [["zhāo", "cháo"], ["yáng"]]
    assert pinyin_edge.pinyin("了解", heteronym=True, g2p=g) == [["liǎo"], ["jiě"]]


@pytest.fixture
def restore_pypinyin_tables():
    phrases, chars = dict(PHRASES_DICT), dict(PINYIN_DICT)
    prefixes = set(mmseg.seg._prefix_set._set)
    yield
    PHRASES_DICT.clear(), PHRASES_DICT.update(phrases)
    PINYIN_DICT.clear(), PINYIN_DICT.update(chars)
    mmseg.seg._prefix_set._set = prefixes


def test_load_phrases_dict_decides_what_it_covers(g2p, restore_pypinyin_tables):
    assert pinyin_edge.load_phrases_dict is pypinyin.load_phrases_dict  # pypinyin-dict loaders reach us
    assert pinyin_edge.lazy_pinyin("银行走", style=Style.TONE3, g2p=g2p) == ["yin2", "hang2", "zou3"]
    pypinyin.load_phrases_dict({"行走": [["háng"], ["zǒu"]]})
    # the model reads 行 after 银 as hang2 anyway; "行走" is the user's phrase now, and it decides
    assert pinyin_edge.lazy_pinyin("走行走", style=Style.TONE3, g2p=g2p) == ["zou3", "hang2", "zou3"]
    assert Pinyin(EdgeConverter(g2p=g2p)).lazy_pinyin("行走", style=Style.TONE3) == ["hang2", "zou3"]
    pinyin_edge.load_phrases_dict({"银行": [["yi2n"], ["xi2ng"]]}, style="tone2")
    assert pinyin_edge.lazy_pinyin("银行", style=Style.TONE3, g2p=g2p) == ["yin2", "xing2"]
    assert pinyin_edge.pinyin("银行", heteronym=True, g2p=g2p) == pypinyin.pinyin("银行", heteronym=True)


def test_load_single_dict_sets_the_candidates(g2p, restore_pypinyin_tables):
    assert pinyin_edge.lazy_pinyin("长", g2p=g2p) == ["chang"]  # the model's, among pypinyin's readings
    pinyin_edge.load_single_dict({ord("长"): "zhǎng"})  # one reading left: the model has no say
    assert pinyin_edge.lazy_pinyin("长", g2p=g2p) == ["zhang"]
    pypinyin.load_single_dict({ord("长"): "zhǎng,cháng"})  # the user's order, the model's choice first
    assert pinyin_edge.pinyin("长", heteronym=True, g2p=g2p) == [["cháng", "zhǎng"]]


def test_tone_sandhi_applies(g2p):
    # pypinyin applies sandhi within a word: 一天 as one word (a pre-cut list), as pypinyin's tests do
    for text, want in [("一个", ["yi2", "ge4"]), ("一定", ["yi2", "ding4"]), (["一天"], ["yi4", "tian1"]),
                       ("不是", ["bu2", "shi4"]), ("你好", ["ni2", "hao3"])]:
        assert pinyin_edge.lazy_pinyin(text, style=Style.TONE3, tone_sandhi=True, g2p=g2p) == want
        assert Pinyin(EdgeConverter(g2p=g2p, tone_sandhi=True)).lazy_pinyin(text, style=Style.TONE3) == want
        assert want == pypinyin.lazy_pinyin(text, style=Style.TONE3, tone_sandhi=True)


def test_slug_and_pre_cut_words(g2p):
    assert pinyin_edge.slug("银行行长", g2p=g2p) == "yin-hang-hang-zhang"
    assert pinyin_edge.slug("银行", separator=" ", style=Style.FIRST_LETTER, g2p=g2p) == "y h"
    words = ["你要", "重新考虑OK"]
    assert pinyin_edge.lazy_pinyin(words, g2p=g2p) == pypinyin.lazy_pinyin(words)


def test_user_override_outside_pypinyins_styles(bundle):
    """A user's reading that pypinyin's neutral-tone code cannot place (儿 r5) does not crash."""
    g = G2P(model=bundle, overrides={"儿": "r5"})
    assert pinyin_edge.pinyin("儿", style=Style.TONE2, heteronym=True, neutral_tone_with_five=True, g2p=g)[0][0] == "r5"
    assert pinyin_edge.lazy_pinyin("儿", style=Style.TONE3, g2p=g) == ["r"]


@pytest.fixture(scope="module")
def shipped():
    return G2P()


def test_shipped_model_emits_only_pypinyins_readings(shipped):
    """Readings the bundle adds (儿 r5, 哦 o5, 喔 wo5, 过 guo5, ...) never reach the drop-in; none of
    pypinyin's are dropped (呣 m̀, 欸 ê̄, 一 yí yì, 不 bú)."""
    texts = ["一会儿", "哦，是吗", "喔喔", "镶嵌", "扒手", "门樘", "过来过去", "呣嘸欸誒嗯", "一一不不", "儿"]
    for text in texts:
        for style in (Style.TONE, Style.TONE2, Style.TONE3):
            ours = pinyin_edge.pinyin(text, style=style, heteronym=True, g2p=shipped)
            theirs = pypinyin.pinyin(text, style=style, heteronym=True)
            assert [set(item) for item in ours] == [set(item) for item in theirs], (text, style)
            single = pinyin_edge.pinyin(text, style=style, g2p=shipped)
            assert all(item[0] in options for item, options in zip(single, theirs)), (text, style)
    # issue 19.10: an extra reading r reached pypinyin's neutral-tone code
    got = pinyin_edge.pinyin("儿", style=Style.TONE2, heteronym=True, neutral_tone_with_five=True, g2p=shipped)
    assert set(got[0]) == {"e2r", "e5r", "re2n"}
