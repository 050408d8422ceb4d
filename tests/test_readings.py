"""Canonical readings: normalisation of every source spelling, and what is refused."""
import pytest

from pinyin_edge.readings import ReadingError, is_han, normalize, syllables
from pinyin_edge.styles import to_style


@pytest.mark.parametrize("raw, canonical", [
    ("lu:4", "lv4"),          # CPP's spelling of ü
    ("nu:3", "nv3"),
    ("LU:4", "lv4"),          # case
    ("lue4", "lve4"),         # lue/nue are lve/nve
    ("nue4", "nve4"),
    ("nu:e4", "nve4"),
    ("lü4", "lv4"),
    ("lv4", "lv4"),           # already canonical
    ("hang2", "hang2"),
    (" zhong1 ", "zhong1"),
    ("háng", "hang2"),        # tone marks
    ("lǜ", "lv4"),
    ("lüè", "lve4"),
    ("zhōng", "zhong1"),
    ("de", "de5"),            # missing tone digit -> neutral
    ("ma", "ma5"),
    ("de0", "de5"),           # 0 as neutral
    ("de5", "de5"),
    ("ň", "n3"),
])
def test_normalize(raw, canonical):
    assert normalize(raw) == canonical


@pytest.mark.parametrize("raw", [
    "", "   ", "hang6", "hang12", "xx5", "abc1", "hang 2", "1", "行", "ü", "hang-2", "h@ng2",
])
def test_invalid_readings_raise(raw):
    with pytest.raises(ReadingError):
        normalize(raw)


def test_reading_error_is_a_value_error():
    # the CLI's guard turns ValueError into a one-line message
    assert issubclass(ReadingError, ValueError)


def test_syllables_are_canonical_spellings():
    syl = syllables()
    assert {"lv", "nve", "hang", "zhong", "de"} <= syl
    assert "lue" not in syl and "lu:" not in syl


@pytest.mark.parametrize("char, expected", [
    ("行", True), ("〇", True), ("\U00020000", True),  # extension B
    ("\U00031350", True),                               # extension H (pypinyin has readings there)
    ("\u3400", True), ("\uf900", True),
    ("A", False), ("1", False), ("，", False), ("々", False), ("😀", False), (" ", False),
])
def test_is_han(char, expected):
    assert is_han(char) is expected


@pytest.mark.parametrize("reading, style, shown", [
    ("hang2", "tone3", "hang2"),
    ("hang2", "tone", "háng"),
    ("lv4", "tone", "lǜ"),
    ("de5", "tone", "de"),
    ("hang2", "normal", "hang"),
    ("hang2", "bopomofo", "ㄏㄤˊ"),
])
def test_to_style(reading, style, shown):
    assert to_style(reading, style) == shown


def test_unknown_style_raises():
    with pytest.raises(ValueError, match="unknown style"):
        to_style("hang2", "klingon")
