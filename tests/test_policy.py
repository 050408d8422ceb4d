"""The runtime's phrase policy: exceptions measured on labelled data, honoured by the runtime."""
import json
import os

from pinyin_edge.exporters.policy import phrase_disagreement, phrase_exceptions


def write_tsv(path, rows):
    with open(path, "w", encoding="utf-8") as handle:
        for text, readings in rows:
            handle.write(f"{text}\t{readings}\n")
    return str(path)


def test_exceptions_are_characters_whose_phrase_readings_the_labels_contradict(tmp_path):
    # pypinyin reads 银行 yin2 hang2 and 行人 xing2 ren2; these labels say otherwise for 行 twice out of 3.
    path = write_tsv(tmp_path / "gold.tsv", [
        ("银行", "- xing2"), ("行人", "- -"), ("银行", "- hang2"), ("银行", "- xing2"),
        ("长大", "zhang3 -")])
    counts = phrase_disagreement([path])
    assert counts["行"] == (3, 2) and counts["长"] == (1, 0)
    chars, detail = phrase_exceptions([path], decided={"行", "长"}, min_count=3, min_disagreement=0.5)
    assert chars == ["行"] and detail == {"行": [3, 2]}
    assert phrase_exceptions([path], decided={"长"}, min_count=3, min_disagreement=0.5)[0] == []  # not decided
    assert phrase_exceptions([path], decided={"行"}, min_count=4, min_disagreement=0.5)[0] == []   # too few
    assert phrase_exceptions([path], decided={"行"}, min_count=3, min_disagreement=0.7)[0] == []   # too rare


def test_runtime_lets_the_model_decide_the_exceptions_inside_phrases(bundle_copy):
    from pinyin_edge import G2P

    path = os.path.join(bundle_copy, "manifest.json")
    with open(path, encoding="utf-8") as handle:
        manifest = json.load(handle)
    assert manifest["phrase_exceptions"] == []
    assert G2P(model=bundle_copy).annotate("行人")[0].source == "dictionary"
    manifest["phrase_exceptions"] = ["行"]
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(manifest, handle, ensure_ascii=False)
    g2p = G2P(model=bundle_copy)
    notes = g2p.annotate("行人长大")
    assert notes[0].source == "model"                            # the exception: the model decides
    assert (notes[2].reading, notes[2].source) == ("zhang3", "dictionary")  # other phrases still decide


def test_a_malformed_policy_is_a_clear_bundle_error(bundle_copy):
    import pytest

    from pinyin_edge import G2P
    from pinyin_edge.bundle import BundleError

    path = os.path.join(bundle_copy, "manifest.json")
    with open(path, encoding="utf-8") as handle:
        original = json.load(handle)
    for key, value, message in (("phrase_exceptions", "不的", "list of single characters"),
                                ("phrase_exceptions", [1], "list of single characters"),
                                ("phrases", "yes", "phrases must be true or false")):
        broken = dict(original, **{key: value})
        with open(path, "w", encoding="utf-8") as handle:
            json.dump(broken, handle, ensure_ascii=False)
        with pytest.raises(BundleError, match=message):
            G2P(model=bundle_copy)


def test_gold_decided_keeps_the_characters_gold_labels(tmp_path):
    from pinyin_edge.exporters.policy import gold_decided

    path = write_tsv(tmp_path / "gold.tsv", [("银行", "- hang2"), ("行人", "xing2 -"), ("长大", "- -")])
    kept, counts = gold_decided([path], decided={"行", "长", "重"})
    assert kept == ["行"] and counts == {"行": 2}   # 长 appears but is not labelled; 重 never appears
