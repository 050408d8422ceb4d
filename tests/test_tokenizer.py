import numpy as np
import pytest
from conftest import VOCAB

from pinyin_edge.runtime.tokenizer import Tokenizer


@pytest.fixture(scope="module")
def tok():
    return Tokenizer(VOCAB)


def test_han_and_runs(tok):
    assert tok.tokens("AI行业2024年") == ["a", "##i", "行", "业", "2", "##0", "##2", "##4", "年"]


def test_specials_and_positions(tok):
    enc = tok.encode("银 行")
    assert enc.ids[0] == tok.cls_id and enc.ids[-1] == tok.sep_id
    assert enc.ids.dtype == np.int64 and enc.positions.dtype == np.int64
    assert enc.positions.tolist() == [1, -1, 2]
    assert enc.ids[1] == VOCAB.index("银") and enc.ids[2] == VOCAB.index("行")
    plain = tok.encode("银 行", add_special_tokens=False)
    assert plain.positions.tolist() == [0, -1, 1] and plain.ids.tolist() == enc.ids[1:-1].tolist()


def test_whitespace_gives_no_token_and_ends_a_run(tok):
    assert tok.tokens("a b\tc\u3000d\ne") == ["a", "b", "c", "d", "e"]
    enc = tok.encode("a b", add_special_tokens=False)
    assert enc.positions.tolist() == [0, -1, 1]


def test_dropped_characters_keep_the_run(tok):
    # BERT's text cleaning removes format/control characters before splitting words
    enc = tok.encode("a\u200bb\x00c", add_special_tokens=False)
    assert tok.tokens("a\u200bb\x00c") == ["a", "##b", "##c"]
    assert enc.positions.tolist() == [0, -1, 1, -1, 2]


def test_punctuation_splits(tok):
    assert tok.tokens("a.b,c!") == ["a", ".", "b", ",", "c", "!"]
    # ASCII symbols count as punctuation even when Unicode says otherwise ($ is Sc)
    assert tok.encode("a$b", add_special_tokens=False).ids.tolist()[1] == tok.unk_id
    assert tok.tokens("a$b")[2] == "b"


def test_lower_case_and_unknown_per_character(tok):
    assert tok.tokens("ABC") == ["a", "##b", "##c"]
    ids = tok.encode("x😀y", add_special_tokens=False).ids.tolist()
    assert ids == [VOCAB.index("x"), tok.unk_id, VOCAB.index("##y")]
    # 乐 is not in the vocabulary: [UNK] for that character only
    assert tok.encode("音乐", add_special_tokens=False).ids.tolist() == [tok.unk_id, tok.unk_id]


def test_astral_and_surrogates(tok):
    enc = tok.encode("𠀀行\ud800", add_special_tokens=False)
    assert enc.ids.tolist() == [tok.unk_id, VOCAB.index("行")]
    assert enc.positions.tolist() == [0, 1, -1]


def test_one_position_per_character(tok):
    text = "Hello, 世界! 行业 😀 é\u200b\tx" * 3
    enc = tok.encode(text)
    assert len(enc.positions) == len(text)
    real = enc.positions[enc.positions >= 0]
    assert real.tolist() == list(range(1, len(enc.ids) - 1))
    assert all((p == -1) == (c.isspace() or c == "\u200b") for c, p in zip(text, enc.positions))


def test_empty_and_type(tok):
    assert tok.encode("").ids.tolist() == [tok.cls_id, tok.sep_id]
    assert tok.encode("", add_special_tokens=False).ids.size == 0
    with pytest.raises(TypeError):
        tok.encode(b"abc")


def test_matches_hf_bert_tokenizer(tmp_path):
    """Where HF keeps one token per character, both tokenizers give the same ids."""
    pytest.importorskip("transformers")
    import random

    from pinyin_edge.training.vocab import build_vocab, save_tokenizer

    lines = ["银行行长AI行业2024年，Hello World! café ÉCOLE ﹏ 「引号」 tab\there",
             "ÀÉÎ abc-def a.b 3.14% #tag @me ~ 😀 x"]
    vocab = build_vocab(lines * 2, min_count=1)
    hf = save_tokenizer(vocab, str(tmp_path / "tok"))
    ours = Tokenizer(vocab)
    alphabet = list("".join(lines)) + [" ", "\t", "\u200b", "\u3000", "\x00", "\ufffd", "\ue815",
                                        "\u2028", "\x85", "\u00ad", "𠀀"]
    rng = random.Random(0)
    texts = ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 25))) for _ in range(400)]
    for text in texts + lines:
        assert ours.encode(text, add_special_tokens=False).ids.tolist() == \
            hf(text, add_special_tokens=False)["input_ids"], repr(text)


def test_lazy_tables_match_the_per_character_rules():
    from pinyin_edge.runtime import tokenizer as tk

    every = np.arange(0x10000)
    kinds = tk._bmp_kinds(every)  # classifies what this process has not seen yet
    wrong = [cp for cp in range(0x10000) if kinds[cp] != tk._char_kind(chr(cp))]
    assert wrong == []
    assert (tk._BMP_KINDS != tk._UNSEEN).all()
    for cp in (ord("A"), ord("Z"), ord("Ä"), ord("行"), ord("I"), ord("İ")):
        expected = ord(tk._lower(chr(cp)))
        assert tk._BMP_LOWER[cp] == (expected if expected < 0x10000 else cp)
    assert tk.char_kind("行") == tk.ALONE and tk.char_kind(" ") == tk.SPACE and tk.char_kind("a") == tk.WORD


def test_list_encoding_matches_the_array_encoding():
    """encode_lists (the runtime's per-sentence path) gives encode's ids and positions, on first
    sight of a character and from its cache, for Han-only texts (the fast path) and mixed ones."""
    import random

    from hypothesis import given, settings
    from hypothesis import strategies as st

    alphabet = list("银行长我你。，！AaBİ b\t\n\u3000\u200b\x00.$12ＡａÉéß") + ["\U00020000", "\ud800"]
    for _ in range(2):  # the second pass reads every character from the cache
        tok = Tokenizer(VOCAB)
        rng = random.Random(0)
        for _ in range(300):
            text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12)))
            for _ in range(2):
                encoded = tok.encode(text, add_special_tokens=False)
                assert tok.encode_lists(text) == (encoded.ids.tolist(), encoded.positions.tolist()), text

    tok = Tokenizer(VOCAB)

    @settings(max_examples=200, deadline=None)
    @given(st.text(max_size=16))
    def agrees(text):
        encoded = tok.encode(text, add_special_tokens=False)
        assert tok.encode_lists(text) == (encoded.ids.tolist(), encoded.positions.tolist())

    agrees()
