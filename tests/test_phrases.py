"""The runtime's phrase segmentation: the same words as pypinyin's own segmenter, faster."""
import random

import pytest

from pinyin_edge.runtime.phrases import phrase_readings, phrase_words


def _pypinyin_words(text):
    from pypinyin.seg.mmseg import seg

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
def test_phrase_words_match_pypinyin_segmenter(text):
    assert phrase_words(text) == _pypinyin_words(text)


def test_phrase_words_match_pypinyin_on_random_phrase_soup():
    """Texts glued from dictionary words, their prefixes and single characters: every branch of the
    maximum matching (a word, a longer prefix without a word, the text ending inside a prefix)."""
    from pypinyin.constants import PHRASES_DICT

    rng = random.Random(0)
    words = sorted(PHRASES_DICT)[::97]
    pieces = words + [w[:-1] for w in words if len(w) > 2] + list("的了行长重，。a1")
    for _ in range(400):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(1, 8)))
        assert phrase_words(text) == _pypinyin_words(text), text


def test_a_whole_dictionary_word_is_segmented_as_pypinyin_does():
    """A text that is one phrase-table word (a word list's entry) skips the walk: still pypinyin's cut."""
    from pypinyin.constants import PHRASES_DICT

    for word in sorted(PHRASES_DICT)[::53]:
        assert phrase_words(word) == _pypinyin_words(word), word


def test_phrase_readings_inside_words_only():
    got = phrase_readings("银行行长")
    assert got[1] == "hang2" and got[2] == "hang2" and got[3] == "zhang3"
    assert phrase_readings("行") == {}
