"""Whole-word readings (G2P.word_readings): the word-alone rule on the shipped model, and the k-best
arithmetic against the policy's own per-character decisions."""
import math

import pytest

from pinyin_edge import G2P
from pinyin_edge.dictionaries import dictionaries
from pinyin_edge.runtime import policy as policy_module
from pinyin_edge.runtime.words import k_best


@pytest.fixture(scope="module")
def shipped():
    return G2P()


# Alone, each is the dictionary word pypinyin's phrase table gives (some are word exceptions, which
# the model decides in running text).
ALONE = {"目的": "mu4 di4", "古都": "gu3 du1", "外行": "wai4 hang2", "商行": "shang1 hang2",
         "生还": "sheng1 huan2", "着手": "zhuo2 shou3", "道行": "dao4 heng2"}


@pytest.mark.parametrize("word,reading", sorted(ALONE.items()))
def test_a_word_alone_is_its_dictionary_word(shipped, word, reading):
    (best,) = shipped.word_readings(word, k=1)
    assert " ".join(best.pinyin) == reading and best.probability == 1.0


def test_the_model_overrules_a_word_alone_only_when_confident(monkeypatch):
    g2p = G2P()
    word = "目的"  # a word exception at 的: in running text the model decides it
    (in_text,) = g2p.annotate_batch(["这个" + word])
    assert in_text[3].source == "model"
    monkeypatch.setattr(policy_module, "ALONE_CONFIDENCE", 0.0)
    (overruled,) = g2p.word_readings(word, k=1)
    monkeypatch.setattr(policy_module, "ALONE_CONFIDENCE", 1.01)
    (kept,) = g2p.word_readings(word, k=1)
    assert kept.pinyin == ("mu4", "di4") and kept.probability == 1.0
    assert overruled.pinyin[1] != "di4" and overruled.probability < 1.0


def test_joint_probabilities_are_products_of_the_characters(shipped):
    word = "的了"  # no phrase: the model decides both
    chars = shipped.annotate(word)
    assert [a.source for a in chars] == ["model", "model"]
    expected = sorted(((a, b), p * q) for a, p in chars[0].candidates for b, q in chars[1].candidates)
    expected.sort(key=lambda pair: -pair[1])
    got = shipped.word_readings(word, k=4)
    assert [r.pinyin for r in got] == [pair[0] for pair in expected[:4]]
    for reading, (_, p) in zip(got, expected):
        assert math.isclose(reading.probability, p, rel_tol=1e-9)
    assert sum(r.probability for r in shipped.word_readings(word, k=50)) <= 1.0 + 1e-9


def test_styles_that_fold_readings_sum_them(shipped):
    word = "了"
    toned = shipped.word_readings(word, k=10)
    plain = shipped.word_readings(word, k=10, style="normal")
    folded = {}
    for r in toned:
        key = r.pinyin[0].rstrip("12345")
        folded[key] = folded.get(key, 0.0) + r.probability
    assert {r.pinyin[0]: r.probability for r in plain} == pytest.approx(folded)
    assert shipped.word_readings("银行", style="tone")[0].pinyin == ("yín", "háng")


def test_non_han_characters_stand_for_themselves(shipped):
    (best,) = shipped.word_readings("AI行业", k=1)
    assert best.pinyin == ("A", "I", "hang2", "ye4")


def test_words_outside_the_phrase_table_follow_the_sentence_policy(shipped):
    for word in ["长胖", "的了", "行走了", "一行", "重新来过"]:
        if word in dictionaries().words:
            continue
        assert list(shipped.word_readings(word, k=1)[0].pinyin) == shipped.pinyin(word)


def test_batched_words_read_as_one_at_a_time(shipped):
    table = sorted(dictionaries().words)
    words = table[::397][:100] + list(ALONE) + ["银行", "重庆", "长大", "一行", "AI行业", "的的"]
    batched = shipped.word_readings_batch(words, k=3)
    alone = [shipped.word_readings(w, k=3) for w in words]
    assert [[r.pinyin for r in rs] for rs in batched] == [[r.pinyin for r in rs] for rs in alone]
    assert [r.probability for rs in batched for r in rs] == pytest.approx(
        [r.probability for rs in alone for r in rs], abs=1e-3)


def test_overrides_are_certain():
    g2p = G2P(overrides={"目的": "mu4 de5"})
    assert g2p.word_readings("目的") == [(("mu4", "de5"), 1.0)]


def test_k_best_is_exact_for_independent_positions():
    positions = [[("a", 0.6), ("b", 0.4)], [("x", 0.5), ("y", 0.3), ("z", 0.2)], [("p", 0.9), ("q", 0.1)]]
    every = sorted((((a, b, c), p * q * r) for a, p in positions[0] for b, q in positions[1]
                    for c, r in positions[2]), key=lambda pair: -pair[1])
    for k in (1, 3, 5, 12, 20):
        got = k_best(positions, k)
        assert [g.pinyin for g in got] == [e[0] for e in every[:k]]


def test_bad_arguments(shipped):
    for k in (0, -1, 1.5, True, "3"):
        with pytest.raises(ValueError):
            shipped.word_readings("银行", k=k)
    with pytest.raises(TypeError):
        shipped.word_readings(b"\xe9\x93\xb6")
    with pytest.raises(TypeError):
        shipped.word_readings_batch("银行")
    with pytest.raises(ValueError):
        shipped.word_readings("银行", style="nope")
    assert shipped.word_readings("") == [((), 1.0)]


def test_the_best_reading_is_the_beams_first_on_every_decision(shipped):
    """k=1 (what dict annotate asks) takes a shortcut: the policy ranks only the model's decisions and
    the beam is skipped. It must give what the full ranked decisions give through k_best."""
    from pinyin_edge.runtime.words import position_candidates, styled
    from pinyin_edge.styles import styler

    table = sorted(dictionaries().words)
    words = (table[::211][:200] + [a + b for a, b in zip(table[5::307][:100], table[9::401][:100])]
             + list(ALONE) + ["的了", "行走了", "一行", "不会", "AI行业", "長城", "了", "", "x", "重新来过"])
    full = shipped._decide_batch(words, ranked=True)
    short = shipped._decide_batch(words, ranked="model")
    assert [(d.readings, d.sources) for d in short] == [(d.readings, d.sources) for d in full]
    assert any("model" in d.sources for d in full) and any("model" not in d.sources for d in full)
    for style in ("tone3", "normal", "tone"):
        render = styler(style)
        expected = [k_best([styled(r, render) if r else [(c, 1.0)] for c, r in zip(w, position_candidates(d))], 1)
                    for w, d in zip(words, full)]
        assert shipped.word_readings_batch(words, k=1, style=style) == expected
