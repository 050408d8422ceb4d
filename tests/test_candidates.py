"""The candidate table: pypinyin's readings in canonical form, extendable, never touching pypinyin."""
import pytest

from pinyin_edge.candidates import CandidateTable, pypinyin_readings
from pinyin_edge.readings import normalize


@pytest.fixture(scope="module")
def table():
    return CandidateTable.from_pypinyin()


@pytest.mark.parametrize("char, readings", [
    ("行", {"hang2", "xing2"}),
    ("了", {"le5", "liao3"}),
    ("长", {"chang2", "zhang3"}),
    ("重", {"zhong4", "chong2"}),
    ("绿", {"lv4", "lu4"}),
    ("的", {"de5", "di2", "di4"}),
])
def test_known_polyphones(table, char, readings):
    assert readings <= set(table.get(char))
    assert table.is_polyphone(char)


def test_readings_are_canonical_and_unique(table):
    for char in ("行", "了", "绿", "略", "女", "嗯"):
        got = table.get(char)
        assert got and len(set(got)) == len(got)
        assert all(normalize(r) == r for r in got)


def test_pypinyin_default_reading_first(table):
    assert table.get("行")[0] == "xing2"   # pypinyin's own first reading


def test_single_and_unknown(table):
    assert table.get("我") == ("wo3",) and not table.is_polyphone("我")
    assert table.get("A") == () and not table.is_polyphone("A")


def test_size(table):
    assert len(table.readings) > 40000
    assert len(table.polyphones()) > 8000
    assert "行" in table.polyphones() and "我" not in table.polyphones()


def test_labels_cover_polyphones_only(table):
    labels = table.labels()
    assert labels == sorted(labels)
    assert {"hang2", "xing2", "le5"} <= set(labels)


def test_extend_adds_only_missing(tmp_path):
    t = CandidateTable.from_pypinyin()
    assert "en4" not in t.get("嗯")
    added = t.extend([("嗯", "en4"), ("嗯", "en4"), ("行", "hang2"), ("骑", "ji4")])
    assert added == 2
    assert t.get("嗯")[-1] == "en4" and t.get("骑") == ("qi2", "ji4")
    assert t.is_polyphone("骑")
    # a fresh table and the shared cache are untouched
    assert "en4" not in CandidateTable.from_pypinyin().get("嗯")
    assert pypinyin_readings()["骑"] == ("qi2",)


def test_json_round_trip():
    t = CandidateTable.from_pypinyin()
    t.extend([("骑", "ji4")])
    data = t.to_json(["行", "骑", "我", "A"])
    assert data["骑"] == ["qi2", "ji4"] and data["我"] == ["wo3"] and "A" not in data
    back = CandidateTable.from_json(data)
    assert back.get("骑") == ("qi2", "ji4") and back.is_polyphone("行")


def test_pypinyin_globals_unchanged():
    from pypinyin import Style, lazy_pinyin
    from pypinyin.phrases_dict import phrases_dict
    from pypinyin.pinyin_dict import pinyin_dict

    before_chars = dict(pinyin_dict)
    before_phrases = {k: [list(x) for x in v] for k, v in phrases_dict.items()}
    before_out = lazy_pinyin("骑行银行", style=Style.TONE3)

    pypinyin_readings.cache_clear()
    t = CandidateTable.from_pypinyin()
    t.extend([("骑", "ji4"), ("行", "hang5")])

    assert dict(pinyin_dict) == before_chars
    assert {k: [list(x) for x in v] for k, v in phrases_dict.items()} == before_phrases
    assert lazy_pinyin("骑行银行", style=Style.TONE3) == before_out
