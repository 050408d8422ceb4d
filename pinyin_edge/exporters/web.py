"""The browser bundle: a model bundle plus every table its decision policy reads, for a runtime that has
neither Python nor pypinyin (the JavaScript package in ``js/``). Format: docs/bundle-format.md,
"The browser bundle".

    pinyin-edge export-web BUNDLE --out DIR

Everything is derived here, from the bundle and from this install's tables and code (pypinyin's
dictionaries as :mod:`pinyin_edge.dictionaries` compiles them, the tokenizer's character classes, the
styles as :mod:`pinyin_edge.styles` renders them), so the other runtime repeats no rule of its own.
"""
from __future__ import annotations

import gzip
import hashlib
import inspect
import json
import os
import shutil
from typing import Dict, List, Optional, Tuple

from ..bundle import DICTIONARY, MANIFEST, MANIFEST_SUM, BundleError, encode_dictionary, load_bundle, resolve_bundle
from ..dictionaries import dictionaries
from ..readings import STYLE_NAMES, is_han
from ..runtime.policy import ALONE_CONFIDENCE, CONTESTED_CONFIDENCE
from ..runtime.predictor import RUN_COST_TOKENS, default_margin
from ..runtime.sandhi import SANDHI_FORMS
from ..runtime.tokenizer import _BMP, _char_kind, _lower
from ..runtime.traditional import read_table
from ..styles import styler

FORMAT = "pinyin-edge-web"
WEB_SCHEMA_VERSION = 2
RUNTIME = "runtime.json"
CHARS = "chars.txt"
PHRASES = "phrases.txt"
STYLES = "styles.json"
TRADITIONAL = "traditional.txt"
LAST_CODE_POINT = 0x10FFFF
RENDERED_STYLES = tuple(s for s in STYLE_NAMES if s != "tone3")  # tone3 is the canonical reading

FILES = ("graph", "runtime", "dictionary", "chars", "phrases", "styles", "traditional")

# The manifest's JSON Schema (draft 2020-12); docs/bundle-format.md prints the same object.
_WEB_FILE = {"type": "object", "required": ["path", "sha256", "bytes"], "additionalProperties": False,
             "properties": {"path": {"type": "string", "pattern": "^[A-Za-z0-9][A-Za-z0-9._-]*$"},
                            "sha256": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
                            "bytes": {"type": "integer", "minimum": 0}}}
WEB_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "pinyin-edge browser bundle manifest",
    "type": "object",
    "required": ["format", "schema_version", "files", "styles", "source"],
    "additionalProperties": False,
    "properties": {
        "format": {"const": FORMAT},
        "schema_version": {"const": WEB_SCHEMA_VERSION},
        "files": {"type": "object", "additionalProperties": False,
                  "required": list(FILES),
                  "properties": {name: _WEB_FILE for name in FILES}},
        "styles": {"type": "array", "minItems": 1, "uniqueItems": True,
                   "items": {"enum": list(STYLE_NAMES)}},
        "source": {"type": "object", "required": ["manifest_sha256", "pypinyin"],
                   "additionalProperties": False,
                   "properties": {"manifest_sha256": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
                                  "pypinyin": {"type": ["string", "null"]}}},
    },
}


def code_point_ranges(classify) -> List[int]:
    """Run-length form of ``classify`` over every code point: ``[start, value, start, value, ...]``,
    each value holding from its start to the next start (the last to U+10FFFF)."""
    out: List[int] = []
    last = None
    for cp in range(LAST_CODE_POINT + 1):
        value = classify(cp)
        if value != last:
            out.extend((cp, value))
            last = value
    return out


def _char_kind_at(cp: int) -> int:
    return 3 if 0xD800 <= cp <= 0xDFFF else _char_kind(chr(cp))  # a lone surrogate: dropped (Cs)


def lower_pairs() -> List[int]:
    """``[code point, its lower case, ...]`` where the tokenizer's lower-casing changes a character (a
    BMP character whose lower case lies outside the BMP keeps itself, as the tokenizer's table does)."""
    out: List[int] = []
    for cp in range(LAST_CODE_POINT + 1):
        if 0xD800 <= cp <= 0xDFFF:
            continue
        low = ord(_lower(chr(cp)))
        if cp < _BMP and low >= _BMP:
            low = cp
        if low != cp:
            out.extend((cp, low))
    return out


def _batching() -> Tuple[int, int]:
    """The Python runtime's batching (G2P's ``batch_size``, the Predictor's ``batch_tokens``, their
    defaults): windows are padded per run, so the same runs give the same logits in any binding."""
    from ..runtime.g2p import G2P
    from ..runtime.predictor import Predictor

    size = inspect.signature(G2P.__init__).parameters["batch_size"].default
    tokens = inspect.signature(Predictor.__init__).parameters["batch_tokens"].default
    return size, tokens


def runtime_tables(manifest) -> Dict:
    """``runtime.json``: the manifest's runtime fields, the window and batching settings, and the
    character classes the tokenizer and the policy read."""
    max_content = int(manifest.max_length) - 2
    batch_size, batch_tokens = _batching()
    return {
        "tokenizer": {"type": manifest.tokenizer.type, "do_lower_case": manifest.tokenizer.do_lower_case,
                      "cls_token": manifest.tokenizer.cls_token, "sep_token": manifest.tokenizer.sep_token,
                      "unk_token": manifest.tokenizer.unk_token, "pad_token": manifest.tokenizer.pad_token},
        "vocab": list(manifest.vocab),
        "labels": list(manifest.labels),
        "candidates": {c: list(r) for c, r in manifest.candidates.items()},
        "max_length": int(manifest.max_length),
        "context": manifest.context,
        "phrases": bool(manifest.phrases),
        "phrase_word_exceptions": {w: list(p) for w, p in manifest.phrase_word_exceptions.items()},
        "memo": dict(manifest.memo),
        "windows": {"margin": default_margin(max_content), "batch_size": batch_size,
                    "batch_tokens": batch_tokens, "run_cost": RUN_COST_TOKENS},
        "contested": {"crossed": CONTESTED_CONFIDENCE, "alone": ALONE_CONFIDENCE},
        "citation": {char: dict(forms) for char, forms in SANDHI_FORMS.items()},
        "han": code_point_ranges(lambda cp: int(is_han(chr(cp)))),
        "char_kinds": code_point_ranges(_char_kind_at),
        "lower": lower_pairs(),
    }


def encode_chars(chars: Dict[str, str]) -> bytes:
    """``chars.txt``: ``readings<TAB>characters`` per line (readings comma-joined in pypinyin's order,
    the first its default), lines sorted, characters in code point order."""
    by_readings: Dict[str, List[str]] = {}
    for char, value in chars.items():
        by_readings.setdefault(value, []).append(char)
    return "".join(f"{r}\t{''.join(sorted(c))}\n" for r, c in sorted(by_readings.items())).encode("utf-8")


def encode_phrases(words: Dict[str, str], chars: Dict[str, str]) -> bytes:
    """``phrases.txt``: one phrase per line, sorted. A phrase alone reads each character's default
    (first) reading; else ``phrase<TAB>readings``, one per character joined by spaces, empty where the
    phrase does not decide that character (``phrase<TAB>`` alone: it decides none)."""
    lines = []
    for word, value in sorted(words.items()):
        default = [chars.get(c, "").split(",")[0] for c in word]
        if value and all(default) and value == " ".join(default):
            lines.append(word + "\n")
        else:
            lines.append(f"{word}\t{value}\n")
    return "".join(lines).encode("utf-8")


def encode_traditional(table: Tuple[Dict[str, str], Dict[str, str], Dict[str, str]]) -> bytes:
    """``traditional.txt``: the traditional -> simplified table (runtime/traditional.py) as
    ``kind<TAB>originals<TAB>simplified`` lines of equal length in code points. ``c`` (traditional-only
    characters) and ``s`` (characters mapped only in a marked text): one line each, the characters
    concatenated, each mapped to the one at the same place; ``p``: one phrase per line, sorted."""
    chars, shared, phrases = table
    lines = [f"{kind}\t{''.join(k for k, _ in rows)}\t{''.join(v for _, v in rows)}\n"
             for kind, rows in (("c", sorted(chars.items())), ("s", sorted(shared.items())))]
    lines += [f"p\t{k}\t{v}\n" for k, v in sorted(phrases.items())]
    return "".join(lines).encode("utf-8")


def style_tables(readings: List[str], styles: Tuple[str, ...]) -> Dict:
    """``styles.json``: ``readings`` (every canonical reading the runtime can return) and, per style,
    the renderings in the same order (``tone3`` is the canonical reading itself and is not listed)."""
    return {"readings": readings,
            "styles": {style: [styler(style)(r) for r in readings] for style in styles}}


def _json_bytes(value) -> bytes:
    return (json.dumps(value, ensure_ascii=False, separators=(",", ":")) + "\n").encode("utf-8")


def _pypinyin_version() -> Optional[str]:
    try:
        from importlib.metadata import version

        return version("pypinyin")
    except Exception:  # noqa: BLE001 - only a label in the manifest
        return None


def web_schema_problem(data) -> Optional[str]:
    from ..bundle import schema_problem

    return schema_problem(data, WEB_SCHEMA)


def _replaceable(folder: str) -> bool:
    """An empty folder, or a browser bundle written before: what ``export_web`` may replace."""
    if not os.path.isdir(folder):
        return False
    if not os.listdir(folder):
        return True
    try:
        with open(os.path.join(folder, MANIFEST), encoding="utf-8") as handle:
            return json.load(handle).get("format") == FORMAT
    except (OSError, ValueError, AttributeError):
        return False


def export_web(bundle: Optional[str], out: str) -> Dict:
    """Write the browser bundle of ``bundle`` (a directory or a bundled model's name) to ``out``;
    returns its manifest. ``out`` is replaced whole (written to a temporary folder, then renamed)."""
    source = resolve_bundle(bundle)
    if not os.path.isdir(source):
        raise BundleError(f"{source}: no such bundle directory")
    if os.path.abspath(out) == os.path.abspath(source):
        raise ValueError("--out must differ from BUNDLE")
    if os.path.exists(out) and not _replaceable(out):
        raise ValueError(f"{out}: exists and is not a browser bundle; choose a new or empty folder")
    manifest, graph = load_bundle(source)
    tables = dictionaries()
    readings = set()
    for value in tables.chars.values():
        readings.update(value.split(","))
    for value in tables.words.values():
        readings.update(r for r in value.split(" ") if r)
    readings.update(manifest.labels)
    readings.update(manifest.dictionary.values())
    for cands in manifest.candidates.values():
        readings.update(cands)
    for forms in SANDHI_FORMS.values():
        readings.update(forms)
        readings.update(forms.values())
    blobs = {
        "runtime": (RUNTIME, _json_bytes(runtime_tables(manifest))),
        "dictionary": (DICTIONARY, encode_dictionary(manifest.dictionary)),
        "chars": (CHARS, encode_chars(tables.chars)),
        "phrases": (PHRASES, encode_phrases(tables.words, tables.chars)),
        "styles": (STYLES, _json_bytes(style_tables(sorted(readings), RENDERED_STYLES))),
        "traditional": (TRADITIONAL, encode_traditional(read_table())),
    }
    with open(os.path.join(source, MANIFEST), "rb") as handle:
        source_sum = hashlib.sha256(handle.read()).hexdigest()
    graph_name = os.path.basename(graph)
    with open(graph, "rb") as handle:
        graph_bytes = handle.read()
    files = {"graph": {"path": graph_name, "sha256": hashlib.sha256(graph_bytes).hexdigest(),
                       "bytes": len(graph_bytes)}}
    for key, (name, blob) in blobs.items():
        files[key] = {"path": name, "sha256": hashlib.sha256(blob).hexdigest(), "bytes": len(blob)}
    data = {"format": FORMAT, "schema_version": WEB_SCHEMA_VERSION, "files": files,
            "styles": ["tone3", *RENDERED_STYLES],
            "source": {"manifest_sha256": source_sum, "pypinyin": _pypinyin_version()}}
    problem = web_schema_problem(data)
    if problem:
        raise BundleError(f"{out}: the browser manifest would not validate ({problem})")
    raw = (json.dumps(data, ensure_ascii=False, indent=1) + "\n").encode("utf-8")
    tmp = out.rstrip("/") + ".tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    for name, blob in [(graph_name, graph_bytes), *blobs.values(), (MANIFEST, raw),
                       (MANIFEST_SUM, f"{hashlib.sha256(raw).hexdigest()}  {MANIFEST}\n".encode())]:
        with open(os.path.join(tmp, name), "wb") as handle:
            handle.write(blob)
    if os.path.exists(out):
        shutil.rmtree(out)
    os.replace(tmp, out)
    return data


def gzipped_sizes(folder: str) -> Dict[str, int]:
    """Each file of a browser bundle gzipped (level 9), in bytes: what a server sends compressed."""
    sizes = {}
    for name in sorted(os.listdir(folder)):
        with open(os.path.join(folder, name), "rb") as handle:
            sizes[name] = len(gzip.compress(handle.read(), 9))
    return sizes
