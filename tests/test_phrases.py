"""The runtime's phrase segmentation: the same words as pypinyin's own segmenter, faster."""
import random

import pytest

from pinyin_edge.dictionaries import dictionaries
from pinyin_edge.runtime.phrases import phrase_readings, phrase_words


@pytest.fixture(scope="module")
def merged_words():
    """pypinyin's phrases and the neutral-tone lexicon's words: what the runtime segments with."""
    from pypinyin.constants import PHRASES_DICT
    from pypinyin.seg.mmseg import PrefixSet

    merged = dict(PHRASES_DICT)
    merged.update((w, [[c] for c in w]) for w in dictionaries().words if w not in PHRASES_DICT)
    prefixes = PrefixSet()
    prefixes.train(merged)
    return merged, prefixes


@pytest.fixture
def reference_seg(merged_words, monkeypatch):
    """pypinyin's segmenter (strict, as pypinyin segments) over the merged words."""
    from pypinyin.seg import mmseg

    merged, prefixes = merged_words
    monkeypatch.setattr(mmseg, "PHRASES_DICT", merged)  # strict mode asks it whether a piece is a word
    return mmseg.Seg(prefixes, no_non_phrases=True)


def _pypinyin_words(seg, text):
    out, pos = [], 0
    for word in seg.cut(text):
        if len(word) > 1:
            out.append((pos, pos + len(word)))
        pos += len(word)
    return out


TEXTS = [
    "", "银", "银行", "银行行长在长大的地方行走。", "中华人民共和国成立了", "我们一起去银行取钱，好不好？",
    "abc银行123", "重庆市长江大桥", "他的长发", "人民", "人民币", "中华人",  # text ending inside a prefix
    "🙂银行😀行长", "一丝不苟地一一说明", "了了",
]


@pytest.mark.parametrize("text", TEXTS)
def test_phrase_words_match_pypinyin_segmenter(reference_seg, text):
    assert phrase_words(text) == _pypinyin_words(reference_seg, text)


def test_phrase_words_match_pypinyin_on_random_phrase_soup(reference_seg):
    """Texts glued from dictionary words, their prefixes and single characters: every branch of the
    maximum matching (a word, a longer prefix without a word, the text ending inside a prefix)."""
    from pinyin_edge.neutral import read_lexicon

    rng = random.Random(0)
    words = sorted(dictionaries().words)[::97] + sorted(read_lexicon(dictionaries().chars))
    pieces = words + [w[:-1] for w in words if len(w) > 2] + list("的了行长重，。a1")
    for _ in range(400):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(1, 8)))
        assert phrase_words(text) == _pypinyin_words(reference_seg, text), text


def test_a_whole_dictionary_word_is_segmented_as_pypinyin_does(reference_seg, merged_words):
    """A text that is one phrase-table word (a word list's entry) skips the walk: still pypinyin's cut."""
    for word in sorted(merged_words[0])[::53]:
        assert phrase_words(word) == _pypinyin_words(reference_seg, word), word


def test_phrase_readings_inside_words_only():
    got = phrase_readings("银行行长")
    assert got[1] == "hang2" and got[2] == "hang2" and got[3] == "zhang3"
    assert phrase_readings("行") == {}
