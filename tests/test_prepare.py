"""Data preparation: weak labellers and the focus on characters the gold data barely shows."""
import json

import pytest

from pinyin_edge.bundle import sha256_file
from pinyin_edge.candidates import CandidateTable
from pinyin_edge.data import Example, read_labelled
from pinyin_edge.training.prepare import make_labeller, make_weak, rare_chars, sentence_label, write_tsv


@pytest.fixture(scope="module")
def table():
    return CandidateTable.from_pypinyin()


def test_sentence_label_reads_polyphones_as_pypinyin_does(table):
    labels = dict(sentence_label("银行行长", table))
    assert labels[1] == "hang2" and labels[2] == "hang2" and labels[3] == "zhang3"
    assert 0 not in labels  # 银 has one reading: not a weak label


def test_focus_labels_only_focus_characters_and_caps_each(tmp_path, table):
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("他在银行工作。\n我们去银行吧。\n这条路很长。\n", encoding="utf-8")
    out = make_weak([str(corpus)], [], max_chars=120, limit=None, seed=0, mode="sentence",
                    focus={"行"}, per_char=1)
    assert len(out) == 1                                  # one sentence for 行, then its quota is spent
    (offset, reading), = out[0].labels
    assert out[0].text[offset] == "行" and reading == "hang2"
    unfocused = make_weak([str(corpus)], [], max_chars=120, limit=None, seed=0, mode="sentence")
    assert len(unfocused) == 3 and any(ex.text[o] == "长" for ex in unfocused for o, _ in ex.labels)


def test_rare_chars_counts_gold_labels(tmp_path):
    path = str(tmp_path / "gold.tsv")
    write_tsv(path, [Example("银行", ((1, "hang2"),)), Example("行走", ((0, "xing2"),)),
                     Example("长大", ((0, "zhang3"),))])
    assert read_labelled(path).num_labels() == 3
    rare = rare_chars([path], below=2)
    assert "长" in rare and "行" not in rare and "重" in rare  # 重: never labelled


def test_labellers_and_their_teacher(bundle):
    assert make_labeller("sentence") is sentence_label
    with pytest.raises(ValueError, match="--teacher"):
        make_labeller("distill")
    with pytest.raises(ValueError, match="--teacher"):
        make_labeller("sentence", teacher=bundle)
    with pytest.raises(ValueError, match="unknown weak-label mode 'hybrid'; choose one of: distill, sentence"):
        make_labeller("hybrid")


def test_g2pm_scorer_logits_agree_with_g2pm_and_mark_what_it_decides():
    pytest.importorskip("g2pM")
    import numpy as np

    from pinyin_edge.readings import normalize
    from pinyin_edge.training.teachers import G2pMScorer

    scorer = G2pMScorer()
    text = "他还了银行的钱，长大以后当了行长。"
    own = scorer.model(text, char_split=True)
    decided = [o for o, c in enumerate(text) if scorer.decides(c)]
    assert {text[o] for o in decided} >= {"还", "行", "长"}
    logits = scorer.logits(text, decided)
    assert [normalize(scorer.model.idx2class[i]) for i in np.argmax(logits, axis=1)] == \
        [normalize(own[o]) for o in decided]
    probs = scorer.candidate_probs(text, decided, [("hang2", "xing2") if text[o] == "行" else ("x", "y")
                                                   for o in decided])
    for offset, p in zip(decided, probs):
        if text[offset] == "行":
            assert p.sum() == pytest.approx(1.0) and ("hang2", "xing2")[int(np.argmax(p))] == normalize(own[offset])
    assert not scorer.decides("不") and not scorer.decides("你")  # one reading in g2pM's digest


def test_distill_teacher_is_the_normalised_product_of_bundle_and_g2pm(bundle, table, tmp_path):
    pytest.importorskip("g2pM")
    from pinyin_edge.runtime.predictor import Predictor
    from pinyin_edge.training.teachers import G2pMScorer

    teacher = make_labeller("distill", teacher=bundle)
    text = "他在银行工作，行长很忙。"
    soft = teacher(text, table)
    ours = Predictor(bundle).probabilities([text])[0]
    assert soft and set(soft) == set(ours)
    g2pm = G2pMScorer()
    for offset, pairs in soft.items():
        assert sum(p for _, p in pairs) == pytest.approx(1.0)
        assert [p for _, p in pairs] == sorted((p for _, p in pairs), reverse=True)
        cands = Predictor(bundle).candidates(text[offset])
        theirs = g2pm.candidate_probs(text, [offset], [cands])[0]
        joint = ours[offset] * (1.0 if theirs is None else theirs)
        joint = joint / joint.sum()
        expected = {c: p for c, p in zip(cands, joint) if p >= teacher.floor}
        got = dict(pairs)
        assert set(got) == set(expected)
        for reading in got:
            assert got[reading] == pytest.approx(expected[reading] / sum(expected.values()), abs=1e-9)
    # make_weak writes it as soft labels whose argmax is the hard label
    corpus = tmp_path / "c.txt"
    corpus.write_text(text + "\n", encoding="utf-8")
    weak = make_weak([str(corpus)], [], 60, None, 0, mode="distill", teacher=bundle)
    path = str(tmp_path / "w.tsv")
    write_tsv(path, weak)
    back = read_labelled(path).examples[0]
    assert dict(back.soft).keys() == soft.keys()
    assert back.labels == tuple((o, soft[o][0][0]) for o in sorted(soft))
    with pytest.raises(ValueError, match="--teacher"):
        make_labeller("distill")


def test_weak_out_names_the_weak_label_file(tmp_path):
    from pinyin_edge.training.prepare import prepare_data

    (tmp_path / "data" / "corpus").mkdir(parents=True)
    texts = tmp_path / "texts.tsv"
    texts.write_text("他在银行工作。\t- - - - - -\n", encoding="utf-8")
    out = tmp_path / "named.tsv"
    prepare_data(str(tmp_path / "data"), str(tmp_path / "out"), weak_only=True, weak_texts=str(texts),
                 weak_out=str(out), log=lambda message: None)
    example = read_labelled(str(out)).examples[0]
    assert example.text == "他在银行工作。" and dict(example.labels)[3] == "hang2"
    assert not (tmp_path / "out" / "weak_sentence.tsv").exists()
    sources = json.loads((tmp_path / "out" / "sources.json").read_text(encoding="utf-8"))
    assert sources["settings"]["named.tsv"]["weak_mode"] == "sentence"


def test_sources_record_each_input_by_its_place_in_the_data_folder(tmp_path):
    from pinyin_edge.training.prepare import write_sources

    data = tmp_path / "data"
    (data / "corpus").mkdir(parents=True)
    (data / "corpus" / "a.txt").write_text("银行\n", encoding="utf-8")
    write_sources(str(tmp_path / "out"), str(data), [str(data / "corpus" / "a.txt")], {"split": {"seed": 0}})
    write_sources(str(tmp_path / "out"), str(data), [], {"weak.tsv": {"seed": 1}})  # a later run adds
    got = json.loads((tmp_path / "out" / "sources.json").read_text(encoding="utf-8"))
    assert got["inputs"] == {"corpus/a.txt": sha256_file(str(data / "corpus" / "a.txt"))}
    assert got["settings"] == {"split": {"seed": 0}, "weak.tsv": {"seed": 1}}


def test_focus_keeps_soft_labels_only_on_focus_characters(bundle, table, tmp_path):
    pytest.importorskip("g2pM")
    corpus = tmp_path / "c.txt"
    corpus.write_text("他在银行工作，行长很忙。\n", encoding="utf-8")
    weak = make_weak([str(corpus)], [], 60, None, 0, mode="distill", teacher=bundle, focus={"长"}, per_char=5)
    assert len(weak) == 1
    example = weak[0]
    assert {example.text[o] for o, _ in example.labels} == {"长"}
    assert [o for o, _ in example.soft] == [o for o, _ in example.labels]
