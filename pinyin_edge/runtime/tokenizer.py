"""The ``bert-char`` tokenizer: one token per non-space character, numpy-vectorised.

It reproduces what a BERT WordPiece tokenizer (``BertTokenizerFast``: clean text, Chinese characters
split out, punctuation split out, lower-casing, no accent stripping) does over a vocabulary of single
characters and ``##`` continuation pieces, but keeps exactly one token per non-space character so
that every character maps to one token position:

* a Han character or a punctuation character is looked up as itself (lower-cased);
* any other character starts or continues a *run* (what BERT calls a word): the first character of a
  run is looked up as ``c``, each following one as ``##c``;
* whitespace gives no token and ends a run; control, format, private-use, unassigned and surrogate
  characters, NUL and U+FFFD give no token and do not end a run (BERT's text cleaning drops them
  before splitting);
* a piece missing from the vocabulary becomes ``[UNK]`` for that character only.

Differences from HF ``BertTokenizer``/``BertTokenizerFast`` (all outside what a Chinese model sees
in practice):

* HF turns a whole word into one ``[UNK]`` when any of its pieces is missing (and any word longer
  than 100 characters); here only the missing character becomes ``[UNK]``, so alignment stays 1:1.
* A character whose lower case is several characters (only ``İ``) is looked up as the first one;
  HF would give two tokens.
* "Han" is the union of BERT's CJK ranges and :func:`pinyin_edge.readings.is_han` (so ``〇`` and the
  CJK extension G/H blocks stand alone; HF treats them as word characters).
* Accents are never stripped (the vocabulary made by ``training.vocab`` sets ``strip_accents=False``).
"""
from __future__ import annotations

import unicodedata
from functools import lru_cache
from typing import Dict, List, NamedTuple, Optional, Sequence

import numpy as np

from ..bundle import Manifest, TokenizerSpec
from ..readings import is_han

WORD, ALONE, SPACE, DROP = 0, 1, 2, 3
_BMP = 0x10000


def _is_bert_chinese(cp: int) -> bool:
    return (0x4E00 <= cp <= 0x9FFF or 0x3400 <= cp <= 0x4DBF or 0x20000 <= cp <= 0x2A6DF
            or 0x2A700 <= cp <= 0x2B73F or 0x2B740 <= cp <= 0x2B81F or 0x2B820 <= cp <= 0x2CEAF
            or 0xF900 <= cp <= 0xFAFF or 0x2F800 <= cp <= 0x2FA1F)


def _is_punctuation(char: str) -> bool:
    """BERT's rule: the ASCII symbol ranges count as punctuation, plus Unicode P* categories."""
    cp = ord(char)
    if 33 <= cp <= 47 or 58 <= cp <= 64 or 91 <= cp <= 96 or 123 <= cp <= 126:
        return True
    return unicodedata.category(char).startswith("P")


def char_kind(char: str) -> int:
    """WORD, ALONE (Han or punctuation), SPACE (no token, ends a run) or DROP (no token)."""
    cp = ord(char)
    if cp < _BMP:
        return int(_bmp_kinds(np.array([cp]))[0])
    return _astral_kind(char)


@lru_cache(maxsize=4096)
def _astral_kind(char: str) -> int:
    return _char_kind(char)


def _char_kind(char: str) -> int:
    cp = ord(char)
    if char in "\t\n\r":
        return SPACE
    if cp == 0 or cp == 0xFFFD or unicodedata.category(char).startswith("C"):
        return DROP
    if char.isspace():
        return SPACE
    if is_han(char) or _is_bert_chinese(cp) or _is_punctuation(char):
        return ALONE
    return WORD


def _lower(char: str) -> str:
    low = char.lower()
    return low[0] if low else char


# Per BMP code point: its kind and its lower-case code point, filled the first time a text holds it
# (classifying all 65k code points up front took 0.1-0.15 s of every G2P's load). Shared by every
# tokenizer of the process: the values depend on Unicode only. A fill writes the lower-case entry
# before the kind, so a reader that sees a kind sees its lower case too.
_UNSEEN = 255
_CHAR_CACHE = 1 << 16
_BMP_KINDS = np.full(_BMP, _UNSEEN, dtype=np.uint8)
_BMP_LOWER = np.zeros(_BMP, dtype=np.int64)


def _bmp_kinds(cps: np.ndarray) -> np.ndarray:
    """Kinds of BMP code points ``cps``, classifying (once per process) those not seen before."""
    kinds = _BMP_KINDS[cps]
    unseen = cps[kinds == _UNSEEN]
    if unseen.size:
        for cp in np.unique(unseen).tolist():
            char = chr(cp)
            lower = ord(_lower(char))
            _BMP_LOWER[cp] = lower if lower < _BMP else cp  # never leave the table
            _BMP_KINDS[cp] = _char_kind(char)
        kinds = _BMP_KINDS[cps]
    return kinds


class Encoding(NamedTuple):
    """``ids``: int64 token ids; ``positions``: int64, per character its index into ``ids`` or -1."""

    ids: np.ndarray
    positions: np.ndarray


def code_points(text: str) -> np.ndarray:
    """The text's code points as a uint32 array (lone surrogates kept)."""
    return np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype="<u4")


_code_points = code_points  # for Tokenizer.encode, whose argument of that name shadows it


class Tokenizer:
    """The ``bert-char`` tokenizer over a bundle's vocabulary. Immutable once built; thread-safe."""

    def __init__(self, vocab: Sequence[str], spec: TokenizerSpec = TokenizerSpec()):
        if spec.type != "bert-char":
            raise ValueError(f"tokenizer type {spec.type!r} is not supported (only 'bert-char')")
        self.spec = spec
        self.vocab: Dict[str, int] = {}
        for index, token in enumerate(vocab):
            self.vocab[token] = index  # a duplicate keeps its last id, as HF's vocab loader does
        self.size = len(vocab)
        self.do_lower_case = bool(spec.do_lower_case)
        self.cls_id = self.vocab[spec.cls_token]
        self.sep_id = self.vocab[spec.sep_token]
        self.unk_id = self.vocab[spec.unk_token]
        self.pad_id = self.vocab[spec.pad_token]

        # Token id per BMP code point, as a run's first character and as a continuation (##c).
        self._plain = np.full(_BMP, self.unk_id, dtype=np.int64)
        self._cont = np.full(_BMP, self.unk_id, dtype=np.int64)
        for token, index in self.vocab.items():
            if len(token) == 1 and ord(token) < _BMP:
                self._plain[ord(token)] = index
            elif len(token) == 3 and token.startswith("##") and ord(token[2]) < _BMP:
                self._cont[ord(token[2])] = index
        # char -> (kind, id as a run's first character, id as a continuation): filled on first sight
        # by the same rules as encode's tables, for encode_lists (short texts: no numpy per call).
        self._chars: Dict[str, tuple] = {}
        self._alone: Dict[str, int] = {}  # the ALONE characters among them -> their id

    @classmethod
    def from_manifest(cls, manifest: Manifest) -> "Tokenizer":
        return cls(manifest.vocab, manifest.tokenizer)

    # -- single characters ---------------------------------------------------------------------------
    def _norm(self, char: str) -> str:
        return _lower(char) if self.do_lower_case else char

    def token_id(self, char: str, continuation: bool = False) -> int:
        """The id of ``char`` as a run's first character (or as ``##c`` when ``continuation``)."""
        piece = self._norm(char)
        return self.vocab.get("##" + piece if continuation else piece, self.unk_id)

    def tokens(self, text: str) -> List[str]:
        """The token strings of ``text`` (no specials): a debugging aid."""
        inverse = {i: t for t, i in self.vocab.items()}
        return [inverse.get(int(i), self.spec.unk_token) for i in self.encode(text, False).ids]

    def _char_info(self, char: str) -> tuple:
        cp = ord(char)
        if cp < _BMP:  # the values _bmp_kinds and _BMP_LOWER hold, without numpy
            kind = _char_kind(char)
            lower = ord(_lower(char))
            looked_up = (lower if lower < _BMP else cp) if self.do_lower_case else cp
            info = (kind, int(self._plain[looked_up]), int(self._cont[looked_up]))
        else:
            info = (_astral_kind(char), self.token_id(char), self.token_id(char, True))
        if len(self._chars) < _CHAR_CACHE:  # bounded, whatever a server is fed
            self._chars[char] = info
            if info[0] == ALONE:
                self._alone[char] = info[1]
        return info

    def encode_lists(self, text: str) -> "tuple[List[int], List[int]]":
        """:meth:`encode` without special tokens, as Python lists ``(ids, positions)``: the same
        values, without numpy's per-call cost (which dominates on sentence-length texts)."""
        ids = list(map(self._alone.get, text))
        if None not in ids:  # Han and punctuation only (most Chinese text): one token per character
            return ids, list(range(len(text)))
        chars, fill = self._chars, self._char_info
        ids = []
        positions: List[int] = []
        append_id, append_pos = ids.append, positions.append
        word = False  # is the previous character that has a token a word character?
        for char in text:
            kind, plain, cont = chars.get(char) or fill(char)
            if kind == ALONE:
                append_pos(len(ids))
                append_id(plain)
                word = False
            elif kind == WORD:
                append_pos(len(ids))
                append_id(cont if word else plain)
                word = True
            elif kind == SPACE:
                append_pos(-1)
                word = False
            else:  # DROP: no token, and a word run goes on across it
                append_pos(-1)
        return ids, positions

    # -- whole texts -----------------------------------------------------------------------------------
    def encode(self, text: str, add_special_tokens: bool = True,
               code_points: Optional[np.ndarray] = None) -> Encoding:
        """Token ids and, per character, its token position (-1 for a character with no token).

        With ``add_special_tokens`` the ids are wrapped in ``[CLS]`` ... ``[SEP]`` and positions
        count the ``[CLS]``. ``code_points``: the text's :func:`code_points`, when the caller has them.
        """
        if not isinstance(text, str):
            raise TypeError(f"text must be str, not {type(text).__name__}")
        offset = 1 if add_special_tokens else 0
        n = len(text)
        if n == 0:
            ids = np.array([self.cls_id, self.sep_id] if add_special_tokens else [], dtype=np.int64)
            return Encoding(ids, np.zeros(0, dtype=np.int64))
        cps = _code_points(text) if code_points is None else code_points
        astral = cps >= _BMP
        any_astral = bool(astral.any())
        index = np.where(astral, 0, cps) if any_astral else cps
        kinds = _bmp_kinds(index)
        if any_astral:
            kinds = kinds.copy()
            astral_at = np.flatnonzero(astral)
            for i in astral_at:
                kinds[i] = _astral_kind(text[i])

        dropped = kinds == DROP
        if dropped.any():
            kept = np.flatnonzero(~dropped)
            cont = np.zeros(n, dtype=bool)
            if kept.size:
                word = kinds[kept] == WORD
                cont_kept = word.copy()
                cont_kept[0] = False
                cont_kept[1:] &= word[:-1]
                cont[kept] = cont_kept
        else:
            word = kinds == WORD
            cont = word.copy()
            cont[0] = False
            cont[1:] &= word[:-1]

        looked_up = _BMP_LOWER[index] if self.do_lower_case else index
        ids_all = np.where(cont, self._cont[looked_up], self._plain[looked_up])
        if any_astral:
            for i in astral_at:
                ids_all[i] = self.token_id(text[i], bool(cont[i]))
        has_token = kinds <= ALONE
        ids = ids_all[has_token]
        positions = np.full(n, -1, dtype=np.int64)
        positions[has_token] = np.arange(offset, offset + ids.size, dtype=np.int64)
        if add_special_tokens:
            ids = np.concatenate(([self.cls_id], ids, [self.sep_id])).astype(np.int64)
        return Encoding(ids, positions)
