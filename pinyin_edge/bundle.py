"""The model bundle: one directory that any onnxruntime binding can use (docs/bundle-format.md).

* ``manifest.json``: the I/O contract, the tokenizer, the labels and candidates, the decision policy,
  provenance and metrics; validated against :data:`SCHEMA` (a JSON Schema) at load.
* ``manifest.sha256``: the manifest's sha256 in ``sha256sum`` format; the manifest in turn names every
  other file with its sha256 (``files``), so ``sha256sum -c manifest.sha256`` and the manifest's
  ``files`` verify the whole bundle.
* ``model.onnx``: the graph. Inputs ``input_ids`` int64 [batch, seq], ``attention_mask`` int64
  [batch, seq], ``query_index`` int64 [n] (flat positions ``b * seq + t`` to score); output
  ``logits`` float32 [n, len(labels)]; a query's softmax runs over its character's candidates only.
* ``dictionary.txt``: the characters read without the model, one line per reading:
  ``reading<TAB>characters``.
* ``card.json`` (optional): the model card (data sets, licences, measured accuracy).

:func:`write_bundle` is the one writer; :func:`load_bundle` / :func:`read_manifest` the readers. Any
failure (a missing file, a checksum, a field of the wrong type) raises :class:`BundleError` naming
the file or field.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass, field, fields
from typing import Any, Dict, List, Optional, Tuple

SCHEMA_VERSION = 2
MANIFEST = "manifest.json"
MANIFEST_SUM = "manifest.sha256"
GRAPH = "model.onnx"
DICTIONARY = "dictionary.txt"
CARD = "card.json"
INPUT_NAMES = ("input_ids", "attention_mask", "query_index")
OUTPUT_NAMES = ("logits",)
READING = "^[a-z]+[1-5]$"

_CHAR = {"type": "string", "minLength": 1, "maxLength": 1}
_FILE = {"type": "object", "required": ["path", "sha256"], "additionalProperties": False,
         "properties": {"path": {"type": "string", "pattern": "^[A-Za-z0-9][A-Za-z0-9._-]*$"},
                        "sha256": {"type": "string", "pattern": "^[0-9a-f]{64}$"}}}
_TOKEN = {"type": "string", "minLength": 1}

# The manifest's JSON Schema (draft 2020-12); docs/bundle-format.md prints the same object.
SCHEMA: Dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "pinyin-edge bundle manifest",
    "type": "object",
    "required": ["schema_version", "files", "inputs", "outputs", "tokenizer", "vocab", "labels",
                 "candidates", "max_length", "context", "phrases",
                 "phrase_word_exceptions", "quantization", "provenance", "metrics"],
    "additionalProperties": False,
    "properties": {
        "schema_version": {"const": SCHEMA_VERSION},
        "files": {"type": "object", "required": ["graph", "dictionary"], "additionalProperties": False,
                  "properties": {"graph": _FILE, "dictionary": _FILE, "card": _FILE}},
        "inputs": {"const": list(INPUT_NAMES)},
        "outputs": {"const": list(OUTPUT_NAMES)},
        "tokenizer": {"type": "object", "additionalProperties": False,
                      "required": ["type", "do_lower_case", "cls_token", "sep_token", "unk_token",
                                   "pad_token"],
                      "properties": {"type": {"enum": ["bert-char"]}, "do_lower_case": {"type": "boolean"},
                                     "cls_token": _TOKEN, "sep_token": _TOKEN, "unk_token": _TOKEN,
                                     "pad_token": _TOKEN}},
        "vocab": {"type": "array", "minItems": 4, "uniqueItems": True, "items": _TOKEN},
        "labels": {"type": "array", "minItems": 1, "uniqueItems": True,
                   "items": {"type": "string", "pattern": READING}},
        "candidates": {"type": "object", "propertyNames": _CHAR,
                       "additionalProperties": {"type": "array", "minItems": 1, "uniqueItems": True,
                                                "items": {"type": "string", "pattern": READING}}},
        "max_length": {"type": "integer", "minimum": 8},
        "context": {"type": ["integer", "null"], "minimum": 1},
        "phrases": {"type": "boolean"},
        "phrase_word_exceptions": {"type": "object", "propertyNames": {"type": "string", "minLength": 2},
                                   "additionalProperties": {"type": "array", "minItems": 1, "uniqueItems": True,
                                                            "items": {"type": "integer", "minimum": 0}}},
        "memo": {"type": "object", "propertyNames": {"type": "string", "pattern": READING},
                 "additionalProperties": {"type": "string", "minLength": 3}},
        "quantization": {"type": "object"},
        "provenance": {"type": "object"},
        "metrics": {"type": "object"},
    },
}


# A memo key's side that is the text's edge, and a side the key does not read (a two-character key).
MEMO_EDGE = "\ufffe"
MEMO_ANY = "\uffff"


def valid_context(value) -> bool:
    """A context setting: a positive number of tokens, or None (whole windows)."""
    return value is None or (isinstance(value, int) and not isinstance(value, bool) and value >= 1)


class BundleError(ValueError):
    """A bundle that cannot be trusted; the message says what to do."""


# -- validation ---------------------------------------------------------------------------------------

_TYPES = {"object": dict, "array": list, "string": str, "boolean": bool, "null": type(None)}


def _type_name(value) -> str:
    for name, kind in (("boolean", bool), ("integer", int), ("number", float), ("string", str),
                       ("array", list), ("object", dict)):
        if isinstance(value, kind):
            return name
    return "null"


def _is(value, kind: str) -> bool:
    if kind == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, _TYPES[kind])


def _shown(value) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 40 else text[:37] + "..."


def schema_problem(value, schema: Dict[str, Any], at: str = "") -> Optional[str]:
    """The first way ``value`` breaks ``schema`` (the JSON Schema keywords :data:`SCHEMA` uses), as
    ``"field.path: what is wrong"``; None when it conforms."""
    found = _problem(value, schema)
    if found is None:
        return None
    path, message = found
    where = at
    for part in reversed(path):
        where = f"{where}[{part}]" if isinstance(part, int) else f"{where}.{part}" if where else part
    return f"{where or 'manifest'}: {message}"


_STRING_KEYS = {"type", "minLength", "maxLength", "pattern"}


def _all_plain_strings(values: list, schema: Dict[str, Any]) -> bool:
    """True when ``schema`` is a plain string schema and every value meets it (one pass at C speed
    over the vocabulary's 20,000 tokens); False means: check them one by one."""
    if schema.get("type") != "string" or not set(schema) <= _STRING_KEYS or not values:
        return False
    if set(map(type, values)) != {str}:
        return False
    lengths = list(map(len, values))
    if min(lengths) < schema.get("minLength", 0) or max(lengths) > schema.get("maxLength", max(lengths)):
        return False
    return "pattern" not in schema or all(map(re.compile(schema["pattern"]).search, values))


def _problem(value, schema: Dict[str, Any]) -> Optional[Tuple[List[Any], str]]:
    """(the path to the offending value, innermost first; what is wrong), or None. Paths are built
    only on failure: a manifest holds tens of thousands of values."""
    if "const" in schema and value != schema["const"]:
        return [], f"must be {_shown(schema['const'])}, not {_shown(value)}"
    if "enum" in schema and value not in schema["enum"]:
        return [], f"must be one of {', '.join(map(_shown, schema['enum']))}, not {_shown(value)}"
    kinds = schema.get("type")
    if kinds is not None:
        kinds = [kinds] if isinstance(kinds, str) else kinds
        if not any(_is(value, k) for k in kinds):
            return [], f"expected {' or '.join(kinds)}, got {_type_name(value)} {_shown(value)}"
    if isinstance(value, str):
        if len(value) < schema.get("minLength", 0) or len(value) > schema.get("maxLength", len(value)):
            size = "one character" if schema.get("maxLength") == 1 else \
                f"at least {schema['minLength']} characters"
            return [], f"expected {size}, got {_shown(value)}"
        if "pattern" in schema and not re.search(schema["pattern"], value):
            return [], f"{_shown(value)} does not match {schema['pattern']}"
    if _is(value, "integer") and value < schema.get("minimum", value):
        return [], f"must be at least {schema['minimum']}, not {value}"
    if isinstance(value, list):
        if len(value) < schema.get("minItems", 0):
            return [], f"needs at least {schema['minItems']} item(s), got {len(value)}"
        items = schema.get("items")
        if items and not _all_plain_strings(value, items):
            for i, item in enumerate(value):
                found = _problem(item, items)
                if found:
                    found[0].append(i)
                    return found
        if schema.get("uniqueItems"):
            seen = set()
            for item in value:
                key = item if isinstance(item, (str, int)) else json.dumps(item, sort_keys=True)
                if key in seen:
                    return [], f"{_shown(item)} appears twice"
                seen.add(key)
    if isinstance(value, dict):
        missing = [k for k in schema.get("required", ()) if k not in value]
        if missing:
            return [], f"missing {', '.join(missing)}"
        known = schema.get("properties", {})
        extra = schema.get("additionalProperties", True)
        names = schema.get("propertyNames")
        for key, item in value.items():
            if names:
                found = _problem(key, names)
                if found:
                    return [f"{key} (key)"], found[1]
            if key in known:
                found = _problem(item, known[key])
            elif extra is False:
                found = [], "unknown field"
            elif isinstance(extra, dict):
                found = _problem(item, extra)
            else:
                found = None
            if found:
                found[0].append(key)
                return found
    return None


def _cross_problem(data: Dict[str, Any]) -> Optional[str]:
    """What the schema cannot say: fields that must agree with each other."""
    labels = set(data["labels"])
    for char, readings in data["candidates"].items():
        stray = [r for r in readings if r not in labels]
        if stray:
            return f"candidates.{char}: {stray[0]} is not in labels"
    for key in ("cls_token", "sep_token", "unk_token", "pad_token"):
        if data["tokenizer"][key] not in data["vocab"]:
            return f"tokenizer.{key}: {data['tokenizer'][key]} is not in vocab"
    for word, positions in data["phrase_word_exceptions"].items():
        outside = [i for i in positions if i >= len(word)]
        if outside:
            return f"phrase_word_exceptions.{word}: position {outside[0]} is outside the phrase"
    for reading, keys in data.get("memo", {}).items():
        if reading not in labels or len(keys) % 3:
            return f"memo.{reading}: {'not in labels' if reading not in labels else 'keys are not 3 characters each'}"
        for char in set(keys[1::3]):
            if reading not in data["candidates"].get(char, ()):
                return f"memo.{reading}: {char} does not have that candidate"
    return None


def _absolute_path(value, at: str) -> Optional[str]:
    """The first string under ``value`` that holds an absolute path (a bundle must not name the
    machine it was built on)."""
    if isinstance(value, str):
        return at if re.search(r"(^|[\s(\"'=])(/[^\s/]+/|~/|[A-Za-z]:\\)", value) else None
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, item in items:
        found = _absolute_path(item, f"{at}.{key}" if isinstance(value, dict) else f"{at}[{key}]")
        if found:
            return found
    return None


# -- the in-memory bundle -----------------------------------------------------------------------------

@dataclass(frozen=True)
class TokenizerSpec:
    type: str = "bert-char"
    do_lower_case: bool = True
    cls_token: str = "[CLS]"
    sep_token: str = "[SEP]"
    unk_token: str = "[UNK]"
    pad_token: str = "[PAD]"


@dataclass
class Manifest:
    """A bundle in memory: the manifest's fields, plus ``dictionary`` and ``model_card``, which live in
    their own files (``dictionary.txt``, ``card.json``)."""

    vocab: List[str]
    labels: List[str]
    candidates: Dict[str, List[str]]
    max_length: int
    graph_sha256: str = ""
    graph_file: str = GRAPH
    schema_version: int = SCHEMA_VERSION
    inputs: List[str] = field(default_factory=lambda: list(INPUT_NAMES))
    outputs: List[str] = field(default_factory=lambda: list(OUTPUT_NAMES))
    tokenizer: TokenizerSpec = field(default_factory=TokenizerSpec)
    quantization: Dict[str, Any] = field(default_factory=dict)
    # Where the weights come from: recipe, commit, checkpoint name, data files with their sha256.
    provenance: Dict[str, Any] = field(default_factory=dict)
    metrics: Dict[str, Any] = field(default_factory=dict)
    model_card: Dict[str, Any] = field(default_factory=dict)
    # Han character -> its one reading, for characters read without the model.
    dictionary: Dict[str, str] = field(default_factory=dict)
    # The decision policy measured best for this model on dev: does pypinyin's phrase dictionary
    # decide the polyphones it covers (True), or does the model decide every polyphone it knows?
    phrases: bool = True
    # Phrases whose reading at some positions the labelled data contradicts (pypinyin's 倒是 dao3 shi4
    # where the data reads dao4): phrase -> those positions, which the model decides.
    phrase_word_exceptions: Dict[str, List[int]] = field(default_factory=dict)
    # Tokens read on each side of the decided characters (None: the whole window), chosen on dev.
    context: Optional[int] = None
    # The model's own decisions memoised by local context: reading -> its keys, 3 characters each
    # (left, polyphone, right; MEMO_EDGE at the text's edge, MEMO_ANY for a side the key ignores).
    memo: Dict[str, str] = field(default_factory=dict)

    def to_json(self, files: Optional[Dict[str, Dict[str, str]]] = None) -> Dict[str, Any]:
        """The ``manifest.json`` object; ``files`` names the bundle's files and their sha256."""
        data = {"schema_version": self.schema_version,
                "files": files or {"graph": {"path": self.graph_file, "sha256": self.graph_sha256}},
                "inputs": list(self.inputs), "outputs": list(self.outputs),
                "tokenizer": {f.name: getattr(self.tokenizer, f.name) for f in fields(TokenizerSpec)}}
        for name in ("vocab", "labels", "candidates", "max_length", "context", "phrases",
                     "phrase_word_exceptions", "quantization", "provenance",
                     "metrics"):
            data[name] = getattr(self, name)
        if self.memo:  # optional: a bundle without one keeps the manifest it had
            data["memo"] = self.memo
        return data

    @classmethod
    def from_json(cls, data: Any, where: str = MANIFEST) -> "Manifest":
        """A manifest object, validated; ``dictionary`` and ``model_card`` stay empty (other files)."""
        if not isinstance(data, dict):
            raise BundleError(f"{where}: not a JSON object")
        version = data.get("schema_version")
        if version != SCHEMA_VERSION:
            raise BundleError(f"{where}: schema_version {version!r}, this pinyin-edge reads "
                              f"{SCHEMA_VERSION}; re-export the bundle (a version 1 bundle: "
                              f"`python export/repackage.py`) or upgrade pinyin-edge")
        problem = schema_problem(data, SCHEMA) or _cross_problem(data)
        if problem:
            raise BundleError(f"{where}: {problem}")
        graph = data["files"]["graph"]
        return cls(vocab=data["vocab"], labels=data["labels"], candidates=data["candidates"],
                   max_length=data["max_length"], graph_sha256=graph["sha256"], graph_file=graph["path"],
                   tokenizer=TokenizerSpec(**data["tokenizer"]), quantization=data["quantization"],
                   provenance=data["provenance"], metrics=data["metrics"], phrases=data["phrases"],
                   phrase_word_exceptions=data["phrase_word_exceptions"], context=data["context"],
                   memo=data.get("memo", {}))


# -- files --------------------------------------------------------------------------------------------

def sha256_file(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def data_record(paths) -> List[Dict[str, str]]:
    """Provenance of data files: each one's name and sha256 (never the path: it names a machine)."""
    return [{"file": os.path.basename(os.path.normpath(p)), "sha256": sha256_file(p)} for p in paths]


def portable_name(path: Optional[str]) -> Optional[str]:
    """A directory's last component (a checkpoint, a run): what identifies it without the machine."""
    return None if path is None else os.path.basename(os.path.normpath(path))


def encode_dictionary(dictionary: Dict[str, str]) -> bytes:
    """``dictionary.txt``: ``reading<TAB>characters`` per line, readings sorted, characters in code
    point order."""
    by_reading: Dict[str, List[str]] = {}
    for char, reading in dictionary.items():
        by_reading.setdefault(reading, []).append(char)
    lines = [f"{r}\t{''.join(sorted(chars))}\n" for r, chars in sorted(by_reading.items())]
    return "".join(lines).encode("utf-8")


def decode_dictionary(raw: bytes, where: str = DICTIONARY) -> Dict[str, str]:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BundleError(f"{where}: not UTF-8 ({exc})") from None
    dictionary: Dict[str, str] = {}
    reading_form = re.compile(READING)
    for number, line in enumerate(text.splitlines(), 1):
        reading, tab, chars = line.partition("\t")
        if not tab or not reading_form.fullmatch(reading) or not chars:
            raise BundleError(f"{where} line {number}: expected a reading (like hang2), a tab, characters")
        fresh = dict.fromkeys(chars, reading)
        if len(fresh) != len(chars) or not dictionary.keys().isdisjoint(fresh):
            twice = next(c for c in chars if chars.count(c) > 1 or c in dictionary)
            raise BundleError(f"{where} line {number}: {twice} appears twice")
        dictionary.update(fresh)
    return dictionary


def _sum_line(raw: bytes, name: str) -> str:
    return f"{hashlib.sha256(raw).hexdigest()}  {name}\n"


def _read(path: str, what: str) -> bytes:
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except FileNotFoundError:
        raise BundleError(f"{path}: {what} is missing; re-export the bundle") from None
    except OSError as exc:
        raise BundleError(f"{path}: cannot read {what} ({exc.strerror})") from None


def _parse_manifest(bundle_dir: str) -> Tuple[Manifest, bytes, Dict[str, Any]]:
    """The manifest, validated (not yet checked against its checksum), its bytes and its JSON."""
    if not os.path.isdir(bundle_dir):
        raise BundleError(f"{bundle_dir}: no such model bundle directory")
    path = os.path.join(bundle_dir, MANIFEST)
    if not os.path.exists(path):
        raise BundleError(f"{bundle_dir}: no {MANIFEST}; is this a pinyin-edge bundle "
                          f"(made by `pinyin-edge export`)?")
    raw = _read(path, MANIFEST)
    try:
        data = json.loads(raw.decode("utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise BundleError(f"{path}: corrupt manifest ({exc})") from None
    return Manifest.from_json(data, where=path), raw, data


def _manifest_sum_problem(bundle_dir: str, raw: bytes) -> Optional[str]:
    path = os.path.join(bundle_dir, MANIFEST_SUM)
    try:
        with open(path, encoding="utf-8") as handle:
            line = handle.read()
    except FileNotFoundError:
        return f"{path}: missing (it holds {MANIFEST}'s sha256); re-export the bundle"
    except (OSError, UnicodeDecodeError) as exc:
        return f"{path}: unreadable ({exc})"
    if line != _sum_line(raw, MANIFEST):
        return (f"{os.path.join(bundle_dir, MANIFEST)}: sha256 does not match {MANIFEST_SUM}; the "
                f"manifest was edited or is corrupt: re-export the bundle")
    return None


def _file_problem(bundle_dir: str, entry: Dict[str, str], raw: Optional[bytes] = None) -> Optional[str]:
    path = os.path.join(bundle_dir, entry["path"])
    if raw is None:
        if not os.path.isfile(path):
            return f"{path}: missing; re-export the bundle"
        digest = sha256_file(path)
    else:
        digest = hashlib.sha256(raw).hexdigest()
    if digest != entry["sha256"]:
        return (f"{path}: sha256 does not match the manifest; the file is corrupt or was replaced: "
                f"re-export the bundle")
    return None


def _load_parts(bundle_dir: str, manifest: Manifest, files: Dict[str, Dict[str, str]]) -> None:
    """Verify and load the dictionary and the card into ``manifest``."""
    raw = _read(os.path.join(bundle_dir, files["dictionary"]["path"]), "the dictionary")
    problem = _file_problem(bundle_dir, files["dictionary"], raw)
    if problem:
        raise BundleError(problem)
    manifest.dictionary = decode_dictionary(raw, os.path.join(bundle_dir, files["dictionary"]["path"]))
    if "card" in files:
        path = os.path.join(bundle_dir, files["card"]["path"])
        raw = _read(path, "the model card")
        problem = _file_problem(bundle_dir, files["card"], raw)
        if problem:
            raise BundleError(problem)
        try:
            card = json.loads(raw.decode("utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise BundleError(f"{path}: corrupt model card ({exc})") from None
        if not isinstance(card, dict):
            raise BundleError(f"{path}: the model card is not a JSON object")
        manifest.model_card = card


def read_manifest(bundle_dir: str) -> Manifest:
    """The bundle's manifest with its dictionary and card, every checksum but the graph's verified."""
    manifest, raw, data = _parse_manifest(bundle_dir)
    problem = _manifest_sum_problem(bundle_dir, raw)
    if problem:
        raise BundleError(problem)
    _load_parts(bundle_dir, manifest, data["files"])
    return manifest


def load_bundle(bundle_dir: str, verify: bool = True) -> "tuple[Manifest, str]":
    """Validate a bundle; returns (manifest, graph path). Checks the graph's sha256 when ``verify``."""
    manifest = read_manifest(bundle_dir)
    graph = os.path.join(bundle_dir, manifest.graph_file)
    if not os.path.exists(graph):
        raise BundleError(f"{bundle_dir}: graph file {manifest.graph_file} is missing")
    if verify and sha256_file(graph) != manifest.graph_sha256:
        raise BundleError(f"{graph}: sha256 does not match the manifest; the file is corrupt or "
                          f"was replaced: re-export the bundle")
    return manifest, graph


def check_bundle(bundle_dir: str) -> Tuple[Manifest, Dict[str, Any], Dict[str, Optional[str]]]:
    """Every file's integrity: (manifest, its JSON, file name -> None when the file is intact, else
    the problem). Raises :class:`BundleError` only when the manifest cannot be read or validated."""
    manifest, raw, data = _parse_manifest(bundle_dir)
    files = data["files"]
    status: Dict[str, Optional[str]] = {MANIFEST: _manifest_sum_problem(bundle_dir, raw)}
    for entry in files.values():
        status[entry["path"]] = _file_problem(bundle_dir, entry)
    if not any(status[entry["path"]] for name, entry in files.items() if name != "graph"):
        try:
            _load_parts(bundle_dir, manifest, files)
        except BundleError as exc:
            status[files["dictionary"]["path"]] = str(exc)
    return manifest, data, status


def _dumps(value, level: int = 0) -> str:
    """JSON with one line per field of the top two levels, anything deeper on that field's line."""
    if isinstance(value, dict) and value and level < 2:
        pad = " " * (level + 1)
        items = [f"{pad}{json.dumps(k, ensure_ascii=False)}: {_dumps(v, level + 1)}" for k, v in value.items()]
        return "{\n" + ",\n".join(items) + "\n" + " " * level + "}"
    return json.dumps(value, ensure_ascii=False)


def write_bundle(bundle_dir: str, manifest: Manifest, graph_bytes_path: str) -> None:
    """Write a bundle (graph, dictionary, card, manifest, manifest checksum), atomically: a temp dir
    renamed into place. Refuses a manifest that would not load, or that names an absolute path."""
    import shutil

    dictionary = encode_dictionary(manifest.dictionary)
    card = json.dumps(manifest.model_card, ensure_ascii=False, indent=1).encode("utf-8") + b"\n" \
        if manifest.model_card else None
    manifest.graph_sha256 = sha256_file(graph_bytes_path)
    files = {"graph": {"path": manifest.graph_file, "sha256": manifest.graph_sha256},
             "dictionary": {"path": DICTIONARY, "sha256": hashlib.sha256(dictionary).hexdigest()}}
    if card is not None:
        files["card"] = {"path": CARD, "sha256": hashlib.sha256(card).hexdigest()}
    data = json.loads(json.dumps(manifest.to_json(files)))  # tuples -> lists: as a reader sees it
    problem = schema_problem(data, SCHEMA) or _cross_problem(data)
    if problem:
        raise BundleError(f"{bundle_dir}: the manifest would not load ({problem})")
    for name, part in (("provenance", manifest.provenance), ("metrics", manifest.metrics),
                       ("model_card", manifest.model_card)):
        found = _absolute_path(part, name)
        if found:
            raise BundleError(f"{found}: holds an absolute path; a bundle names files, not where a "
                              f"machine keeps them (use data_record / portable_name)")
    names = [entry["path"] for entry in files.values()] + [MANIFEST, MANIFEST_SUM]
    if len(set(names)) != len(names):
        raise BundleError(f"{bundle_dir}: the graph file may not be named like another bundle file")
    raw = (_dumps(data) + "\n").encode("utf-8")
    tmp = bundle_dir.rstrip("/") + ".tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    shutil.copyfile(graph_bytes_path, os.path.join(tmp, manifest.graph_file))
    for name, blob in ((DICTIONARY, dictionary), (CARD, card), (MANIFEST, raw),
                       (MANIFEST_SUM, _sum_line(raw, MANIFEST).encode("utf-8"))):
        if blob is not None:
            with open(os.path.join(tmp, name), "wb") as handle:
                handle.write(blob)
    old = bundle_dir.rstrip("/") + ".old"
    if os.path.exists(bundle_dir):
        shutil.rmtree(old, ignore_errors=True)
        os.replace(bundle_dir, old)
    os.replace(tmp, bundle_dir)
    shutil.rmtree(old, ignore_errors=True)


BUNDLED_MODELS = ("default", "fast")  # folders under pinyin_edge/models


def default_bundle_dir(name: str = "default") -> str:
    """The directory of a model bundle shipped in the package (``default`` or ``fast``)."""
    return os.path.join(os.path.dirname(os.path.abspath(__file__)), "models", name)


def resolve_bundle(model: Optional["os.PathLike[str] | str"]) -> str:
    """Where a model argument points: None -> the default bundled model; the name of a bundled model
    (``"fast"``) that is not also an existing path -> that bundle; anything else -> the path given."""
    if model is None:
        return default_bundle_dir()
    model = os.fspath(model)
    if model in BUNDLED_MODELS and not os.path.exists(model):
        return default_bundle_dir(model)
    return model
