"""The runtime's phrase policy: exceptions measured on labelled data, honoured by the runtime."""

import os

from conftest import rewrite_bundle

from pinyin_edge.exporters.policy import gold_outside_phrases, phrase_word_disagreement, phrase_word_exceptions


def write_tsv(path, rows):
    with open(path, "w", encoding="utf-8") as handle:
        for text, readings in rows:
            handle.write(f"{text}\t{readings}\n")
    return str(path)


def test_a_malformed_policy_is_a_clear_bundle_error(bundle_copy):
    import pytest

    from pinyin_edge import G2P
    from pinyin_edge.bundle import BundleError

    for key, value, message in (("phrases", "yes", "phrases: expected boolean"),
                                ("phrase_word_exceptions", ["银行"], "phrase_word_exceptions: expected object"),
                                ("phrase_word_exceptions", {"银行": [2]}, "银行: position 2 is outside"),
                                ("phrase_word_exceptions", {"行": [0]}, r"行 \(key\): expected at least 2"),
                                ("phrase_word_exceptions", {"银行": []}, "银行: needs at least 1")):
        valid = {"phrases": True, "phrase_word_exceptions": {}}
        rewrite_bundle(bundle_copy, manifest=lambda data: data.update(valid, **{key: value}))
        with pytest.raises(BundleError, match=message):
            G2P(model=bundle_copy)


def test_word_exceptions_are_phrase_positions_the_labels_contradict(tmp_path):
    # pypinyin reads 银行 yin2 hang2, 行人 xing2 ren2, 行长 hang2 zhang3: the labels contradict 银行's
    # 行 twice of three, 行人's never; 一 in 一行 (yi1 hang2) labelled in a sandhi form is no contradiction.
    path = write_tsv(tmp_path / "gold.tsv", [
        ("银行", "- xing2"), ("银行", "- hang2"), ("去银行", "- - xing2"), ("行人", "xing2 -"),
        ("行长", "xing2 -"), ("一行", "yi4 -")])
    counts = phrase_word_disagreement([path])
    assert counts[("银行", 1)] == (3, 2) and counts[("行人", 0)] == (1, 0) and counts[("行长", 0)] == (1, 1)
    assert counts[("一行", 0)] == (1, 0)
    words, detail = phrase_word_exceptions([path], decided={"行"})
    assert words == {"行长": [0], "银行": [1]} and detail["银行"] == [[1, 3, 2]]
    assert phrase_word_exceptions([path], decided={"行"}, min_count=2)[0] == {"银行": [1]}
    assert phrase_word_exceptions([path], decided={"行"}, min_disagreement=0.7)[0] == {"行长": [0]}
    assert phrase_word_exceptions([path], decided={"长"})[0] == {}  # 行 is not decided by the model
    # labels at an excepted position no longer count as covered by a phrase (but for a word given
    # alone, where the phrase reading stands unless the model is confident)
    assert gold_outside_phrases([path], True, {"银行": [1]})["行"] == {"xing2": 1}
    assert "行" not in gold_outside_phrases([path], True, {})


def test_a_label_where_another_word_crosses_the_phrase_is_no_evidence_against_it(tmp_path):
    # 系外行星: greedy matching takes 外行 (wai4 hang2), but 行星 crosses it and reads 行 xing2. The label
    # says the split was wrong, not the word: 外行 alone must keep hang2.
    crossed = write_tsv(tmp_path / "crossed.tsv", [("系外行星", "- - xing2 -")])
    assert ("外行", 1) not in phrase_word_disagreement([crossed])
    assert phrase_word_exceptions([crossed], decided={"行"})[0] == {}
    plain = write_tsv(tmp_path / "plain.tsv", [("他是外行", "- - - xing2")])  # nothing crosses: it counts
    assert phrase_word_disagreement([plain])[("外行", 1)] == (1, 1)


def test_runtime_lets_the_model_decide_at_word_exceptions_only(bundle_copy):
    from pinyin_edge import G2P

    assert G2P(model=bundle_copy).manifest.phrase_word_exceptions == {}
    rewrite_bundle(bundle_copy, manifest=lambda data: data.update(phrase_word_exceptions={"行人": [0]}))
    g2p = G2P(model=bundle_copy)
    notes = g2p.annotate("行人行长")
    assert notes[0].source == "model"                             # the word exception: the model decides
    assert (notes[2].reading, notes[2].source) == ("hang2", "dictionary")  # 行 in another phrase: the phrase
    assert G2P(model=bundle_copy, phrases=False).annotate("行人")[0].source == "model"
    assert g2p.pinyin("行人行长") == [n.reading for n in notes]     # the plain path decides alike


def test_repolicy_adds_word_exceptions_to_a_bundle_and_keeps_its_graph(bundle, tmp_path):
    from click.testing import CliRunner

    from pinyin_edge import G2P
    from pinyin_edge.bundle import load_bundle
    from pinyin_edge.cli import main

    def repolicy(*args):
        return CliRunner().invoke(main, ["repolicy", *args])

    # the gold reads 行人's 行 hang2 twice: a word exception there, nowhere else
    gold = write_tsv(tmp_path / "gold.tsv", [("行人", "hang2 -"), ("有行人", "- hang2 -"), ("行长", "hang2 -")])
    out = str(tmp_path / "repoliced")
    result = repolicy(bundle, "--out", out, "--word-exceptions-from", gold)
    assert result.exit_code == 0 and "1 phrases with word exceptions" in result.stdout, result.output
    before, graph_before = load_bundle(bundle)
    after, graph_after = load_bundle(out)
    assert after.phrase_word_exceptions == {"行人": [0]} and before.phrase_word_exceptions == {}
    assert after.graph_sha256 == before.graph_sha256 and after.candidates == before.candidates
    record = after.metrics["phrase_word_exceptions"]
    assert record["counts"] == {"行人": [[0, 2, 2]]} and record["added_to"]["graph_sha256"] == before.graph_sha256
    assert G2P(model=out).annotate("有行人")[1].source == "model"
    assert G2P(model=bundle).annotate("有行人")[1].source == "dictionary"
    # a second pass, the bundle itself as --out, or a missing gold file: one clear line, no traceback
    for args, status, message in (
            ((out, "--out", str(tmp_path / "twice")), 1, "already has 1 word exceptions"),
            ((bundle, "--out", bundle), 1, "--out must differ from BUNDLE"),
            ((bundle, "--out", str(tmp_path / "x"), "--word-exceptions-from", str(tmp_path / "nope.tsv")), 2,
             "does not exist")):
        if "--word-exceptions-from" not in args:
            args += ("--word-exceptions-from", gold)
        result = repolicy(*args)
        lines = result.stderr.strip().splitlines()
        assert result.exit_code == status and len(lines) == 1 and message in lines[0], (args, result.stderr)
    assert not os.path.exists(tmp_path / "twice") and not os.path.exists(tmp_path / "x")


def test_gold_decided_keeps_the_characters_gold_labels(tmp_path):
    from pinyin_edge.exporters.policy import gold_decided

    path = write_tsv(tmp_path / "gold.tsv", [("银行", "- hang2"), ("行人", "xing2 -"), ("长大", "- -")])
    kept, counts = gold_decided([path], decided={"行", "长", "重"})
    assert kept == ["行"] and counts == {"行": 2}   # 长 appears but is not labelled; 重 never appears


def test_fixed_readings_are_what_the_model_always_reads_and_no_gold_label_contradicts(bundle, tmp_path):
    from collections import Counter

    from pinyin_edge.exporters.policy import fixed_readings, gold_outside_phrases, model_decisions

    texts = tmp_path / "texts.txt"
    texts.write_text("他走了。\n\n" * 120 + "我很好\n" * 30, encoding="utf-8")
    decisions, read = model_decisions(bundle, [str(texts)], per_file=1000)
    assert read == 150 and decisions["了"] == Counter(le5=120) and decisions["好"] == Counter(hao3=30)
    gold = gold_outside_phrases([write_tsv(tmp_path / "gold.tsv", [
        ("他来了", "- - le5"), ("了解", "liao3 -"),   # the second lies inside a deciding phrase
        ("他不去", "- bu2 -")])])                      # sandhi forms count as the citation reading
    assert gold["了"] == Counter(le5=1) and gold["不"] == Counter(bu4=1)
    assert fixed_readings(decisions, gold, min_decisions=100) == {"了": ("le5", 120, 1)}   # 好: 30 < 100
    assert set(fixed_readings(decisions, gold, min_decisions=30)) == {"了", "好"}
    contradicted = dict(gold, **{"了": Counter(le5=1, liao3=1)})
    assert fixed_readings(decisions, contradicted, min_decisions=100) == {}
    mixed = dict(decisions, **{"了": Counter(le5=998, liao3=2)})
    assert fixed_readings(mixed, gold, min_decisions=100, min_share=0.999) == {}
    assert fixed_readings(mixed, gold, min_decisions=100, min_share=0.998) == {"了": ("le5", 1000, 1)}


def test_runtime_reads_a_fixed_polyphone_from_the_dictionary_outside_phrases(bundle_copy):
    from pinyin_edge import G2P

    readings = G2P(model=bundle_copy).manifest.candidates["了"]
    rewrite_bundle(bundle_copy, manifest=lambda data: data["candidates"].pop("了"),
                   dictionary=lambda table: table.update({"了": "le5"}))
    g2p = G2P(model=bundle_copy)
    assert not g2p.predictor.is_decidable("了")
    note = g2p.annotate("他走了")[2]
    assert (note.reading, note.source) == ("le5", "dictionary")
    assert [r for r, _ in note.candidates] == ["le5"] + [r for r in readings if r != "le5"]
    assert g2p.pinyin("他走了", heteronym=True)[2][0] == "le5"
    assert g2p.annotate("了解")[0].reading == "liao3"   # a deciding phrase still reads it


def test_fixing_a_reading_drops_the_phrase_exceptions_of_that_character(bundle, tmp_path):
    from pinyin_edge.bundle import load_bundle
    from pinyin_edge.exporters.onnx_export import ExportSettings, fix_readings

    texts = tmp_path / "texts.txt"
    texts.write_text("他走了。\n" * 120, encoding="utf-8")
    manifest, _ = load_bundle(bundle)
    assert {"了", "行"} <= set(manifest.candidates)
    manifest.phrase_word_exceptions = {"了解": [0], "银行": [1], "行了": [0, 1]}
    gold = write_tsv(tmp_path / "gold.tsv", [("他来了", "- - le5")])
    fix_readings(manifest, bundle, ExportSettings(gold_from=(gold,), fixed_from=(str(texts),)), log=lambda *_: None)
    assert manifest.dictionary["了"] == "le5" and "了" not in manifest.candidates
    # the model no longer decides 了: its positions go back to the phrases; 行's stay the model's
    assert manifest.phrase_word_exceptions == {"银行": [1], "行了": [0]}
