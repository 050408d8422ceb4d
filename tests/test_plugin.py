import pypinyin
from pypinyin import Style
from pypinyin.converter import DefaultConverter
from pypinyin.core import Pinyin

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
