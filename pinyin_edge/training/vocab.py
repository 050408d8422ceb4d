"""Character vocabulary for encoders pretrained from zero, saved as a BERT tokenizer.

Each Han character is one token. Other non-space characters get a plain entry and a ``##`` entry,
so BERT's WordPiece splits ``2024`` or ``AI`` into one token per character and alignment stays 1:1.
"""
from __future__ import annotations

import os
import unicodedata
from collections import Counter
from typing import Iterable, List

from ..readings import is_han

SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]


def _is_punctuation(char: str) -> bool:
    # BERT's rule: ASCII symbols count as punctuation, plus Unicode P* categories.
    cp = ord(char)
    if 33 <= cp <= 47 or 58 <= cp <= 64 or 91 <= cp <= 96 or 123 <= cp <= 126:
        return True
    return unicodedata.category(char).startswith("P")


def needs_piece(char: str) -> bool:
    """Does ``char`` need a ``##`` continuation entry (it can continue a WordPiece word)?"""
    return not is_han(char) and not _is_punctuation(char)


def build_vocab(lines: Iterable[str], min_count: int, keep_chars: Iterable[str] = (),
                max_size: int = 0) -> List[str]:
    """Characters seen ``min_count`` times (or once, for ``keep_chars``), most frequent first."""
    counts: Counter = Counter()
    for line in lines:
        counts.update(line.lower())
    keep = set(keep_chars)
    chosen = [c for c, n in counts.most_common()
              if not c.isspace() and unicodedata.category(c)[0] != "C"
              and (n >= min_count or (c in keep and n >= 1))]
    if max_size:
        chosen = chosen[: max_size - len(SPECIALS)]
    pieces = [f"##{c}" for c in chosen if needs_piece(c)]
    return SPECIALS + chosen + pieces


def save_tokenizer(vocab: List[str], out_dir: str):
    """Write vocab.txt and a BertTokenizerFast that AutoTokenizer loads; returns the tokenizer."""
    from transformers import BertTokenizerFast

    os.makedirs(out_dir, exist_ok=True)
    path = os.path.join(out_dir, "vocab.txt")
    with open(path, "w", encoding="utf-8") as handle:
        handle.write("\n".join(vocab) + "\n")
    import transformers

    # transformers 5 renamed the argument that takes the vocabulary file.
    key = "vocab" if int(transformers.__version__.split(".")[0]) >= 5 else "vocab_file"
    tokenizer = BertTokenizerFast(**{key: path}, do_lower_case=True, tokenize_chinese_chars=True,
                                  strip_accents=False, model_max_length=512)
    tokenizer.save_pretrained(out_dir)
    return tokenizer
