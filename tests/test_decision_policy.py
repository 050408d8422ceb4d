"""The decision policy (runtime/policy.py) with a scorer of known answers: who decides each character,
in order, whatever model scores the polyphones."""
import pytest

from pinyin_edge.runtime.policy import DecisionPolicy

SCORED = {"行": "xing2", "重": "zhong4", "了": "liao3", "一": "yi4"}  # what the scorer reads, everywhere


class KnownScorer:
    """Reads every character of SCORED its way (ranked: first with 0.9); records what it was told to skip."""

    def __init__(self):
        self.skips = []

    def best_readings(self, texts, skip=None):
        self.skips.append(skip)
        return [{o: SCORED[c] for o, c in enumerate(t) if c in SCORED and not (skip and skip[i] and o in skip[i])}
                for i, t in enumerate(texts)]

    def predict(self, texts, skip=None):
        return [{o: ((r, 0.9), ("x" + r, 0.1)) for o, r in best.items()} for best in self.best_readings(texts, skip)]


@pytest.fixture
def policy():
    return DecisionPolicy(dictionary={"长": "chang2"}, phrases=True, phrase_word_exceptions={"银行": [1]})


def decide(policy, texts, users=None, ranked=False):
    return policy.decide(texts, KnownScorer(), ranked=ranked, users=users)


def test_each_source_in_order(policy):
    (leader, bank, again, long, still, latin) = decide(policy, ["他是行长", "去银行", "重新", "很长", "还", "A"])
    assert (leader.readings[2:], leader.sources[2:]) == (["hang2", "zhang3"], ["dictionary"] * 2)  # the phrase
    assert (bank.readings[1:], bank.sources[1:]) == (["yin2", "xing2"], ["dictionary", "model"])  # word exception
    assert (again.readings, again.sources) == (["chong2", "xin1"], ["dictionary"] * 2)  # no character-wide exceptions
    assert (long.readings[1], long.sources[1]) == ("chang2", "dictionary")  # the bundle's fixed reading
    assert (still.readings, still.sources) == (["hai2"], ["dictionary"])  # no phrase, no model: pypinyin's default
    assert (latin.readings, latin.sources) == ([None], ["none"])


def test_users_win_and_the_scorer_skips_what_users_and_phrases_decide(policy):
    scorer = KnownScorer()
    (got,) = policy.decide(["他是行长了"], scorer, users=[{2: "xing2", 4: "le5"}])
    assert got.readings[2:] == ["xing2", "zhang3", "le5"] and got.sources[2:] == ["user", "dictionary", "user"]
    assert scorer.skips == [[{2, 3, 4}]]


def test_phrases_off_leaves_every_scored_character_to_the_model():
    off = DecisionPolicy(phrases=False)
    (got,) = decide(off, ["他是行长"])
    assert got.readings[2:] == ["xing2", "zhang3"] and got.sources[2:] == ["model", "dictionary"]


def test_yi_and_bu_in_citation_tone_but_for_users(policy):
    (phrase, model, user) = decide(policy, ["一个", "一", "一个"], users=[{}, {}, {0: "yi2"}])
    assert phrase.readings[0] == "yi1" and model.readings == ["yi1"] and user.readings[0] == "yi2"


def test_ranked_candidates_agree_with_readings(policy):
    (got,) = decide(policy, ["银行行长一"], ranked=True)
    assert got.candidates[1] == (("xing2", 0.9), ("xxing2", 0.1))  # the model's ranking
    assert got.candidates[2] == (("hang2", 1.0),)  # a deciding phrase: its reading alone
    assert got.candidates[4] == (("yi1", 0.9), ("xyi4", 0.1))  # yi4 merged into its citation tone
    assert got.candidates[0] == (("yin2", 1.0),)


def test_the_static_cache_is_bounded(monkeypatch):
    from pinyin_edge.runtime import policy as module

    monkeypatch.setattr(module, "STATIC_CACHE_SIZE", 3)
    small = DecisionPolicy()
    text = "你好世界和平"
    first = decide(small, [text])[0].readings
    assert len(small.static_sources) == 3 and decide(small, [text])[0].readings == first


class ConfidentScorer(KnownScorer):
    """KnownScorer, but reads 会 kuai4 with the probability it is given."""

    def __init__(self, p):
        super().__init__()
        self.p = p

    def predict(self, texts, skip=None):
        out = super().predict(texts, skip)
        for i, text in enumerate(texts):
            for o, char in enumerate(text):
                if char == "会" and not (skip and skip[i] and o in skip[i]):
                    out[i][o] = (("kuai4", self.p), ("hui4", 1 - self.p))
        return out


def test_a_phrase_keeps_its_neutral_tone_on_a_one_reading_character():
    (got,) = decide(DecisionPolicy(), ["很便宜"])
    assert got.readings[1:] == ["pian2", "yi5"] and got.sources[1:] == ["dictionary"] * 2


def test_a_greedy_word_that_another_word_crosses_is_contested():
    # greedy matching reads 一会|计 (hui4); 会计 (kuai4 ji4) crosses it: the model may overrule, if confident
    policy = DecisionPolicy()
    (sure,) = policy.decide(["一会计"], ConfidentScorer(0.95))
    (unsure,) = policy.decide(["一会计"], ConfidentScorer(0.6))
    assert (sure.readings[1], sure.sources[1]) == ("kuai4", "model")
    assert (unsure.readings[1], unsure.sources[1]) == ("hui4", "dictionary")


def test_a_word_alone_keeps_its_dictionary_reading_unless_the_model_is_confident(policy):
    # 银行's position 1 is a word exception: in a sentence the model decides it, alone the word stands
    (alone, in_text) = decide(policy, ["银行", "去银行"])
    assert (alone.readings[1], alone.sources[1]) == ("hang2", "dictionary")
    assert (in_text.readings[2], in_text.sources[2]) == ("xing2", "model")
