"""The model bundle: ``model.onnx`` + ``manifest.json`` in one directory.

The manifest is the whole I/O contract, so any onnxruntime binding can use a bundle:

* graph inputs: ``input_ids`` int64 [batch, seq], ``attention_mask`` int64 [batch, seq],
  ``query_index`` int64 [n] (flat positions ``b * seq + t`` to score);
  output: ``logits`` float32 [n, len(labels)].
* tokenizer ``bert-char``: ``[CLS]`` + one token per non-space character + ``[SEP]``; a Han character
  or punctuation is looked up as itself, other characters lower-cased, as ``##c`` when they continue a
  run of such characters (BERT's WordPiece over a character vocabulary); missing -> ``[UNK]``;
  whitespace gets no token.
* ``candidates``: polyphone -> its readings; a query's softmax runs over those labels only.
* ``dictionary``: Han character -> its one reading, for characters that need no model (taken from
  pypinyin's table at export time, so a runtime in any language needs no other dictionary), and the
  polyphones whose reading the export fixed (the model read them one way: ``metrics.fixed_readings``);
  a deciding phrase still reads those.
* ``phrases``: whether polyphones inside a pypinyin dictionary phrase take the phrase's reading
  (the policy chosen for this model on dev); otherwise the model decides them too.
  ``phrase_exceptions``: characters the model decides even inside phrases (measured on training data);
  ``phrase_word_exceptions``: phrase -> positions in it that the model decides (the same, per phrase).
* ``context``: tokens of text the model reads on each side of the characters it decides (null: the
  whole window). A recurrent encoder costs per token, and text far from every decided character
  rarely changes a reading, so the runtime runs only what lies within ``context`` of them.
"""
from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass, field
from typing import Any, Dict, List, Optional

SCHEMA_VERSION = 1
MANIFEST = "manifest.json"
GRAPH = "model.onnx"
INPUT_NAMES = ("input_ids", "attention_mask", "query_index")
OUTPUT_NAMES = ("logits",)


def valid_context(value) -> bool:
    """A context setting: a positive number of tokens, or None (whole windows)."""
    return value is None or (isinstance(value, int) and not isinstance(value, bool) and value >= 1)


class BundleError(ValueError):
    """A bundle that cannot be trusted; the message says what to do."""


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
    source: Dict[str, Any] = field(default_factory=dict)
    metrics: Dict[str, Any] = field(default_factory=dict)
    model_card: Dict[str, Any] = field(default_factory=dict)
    dictionary: Dict[str, str] = field(default_factory=dict)
    # The decision policy measured best for this model on dev: does pypinyin's phrase dictionary
    # decide the polyphones it covers (True), or does the model decide every polyphone it knows?
    phrases: bool = True
    # Characters whose phrase readings the labelled data contradicts (pypinyin's 陂 pi2 where the data
    # reads bei1): inside phrases too, the model decides them.
    phrase_exceptions: List[str] = field(default_factory=list)
    # Phrases whose reading at some positions the labelled data contradicts (pypinyin's 倒是 dao3 shi4
    # where the data reads dao4): phrase -> those positions, which the model decides.
    phrase_word_exceptions: Dict[str, List[int]] = field(default_factory=dict)
    # Tokens read on each side of the decided characters (None: the whole window), chosen on dev.
    context: Optional[int] = None

    def to_json(self) -> Dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: Dict[str, Any], where: str = "manifest") -> "Manifest":
        if not isinstance(data, dict):
            raise BundleError(f"{where}: not a JSON object")
        version = data.get("schema_version")
        if version != SCHEMA_VERSION:
            raise BundleError(f"{where}: schema_version {version!r}, this pinyin-edge reads "
                              f"{SCHEMA_VERSION}; re-export the bundle or upgrade pinyin-edge")
        missing = [k for k in ("vocab", "labels", "candidates", "max_length", "graph_sha256")
                   if k not in data]
        if missing:
            raise BundleError(f"{where}: missing {', '.join(missing)}")
        known = set(cls.__dataclass_fields__)
        fields = {k: v for k, v in data.items() if k in known}
        fields["tokenizer"] = TokenizerSpec(**data.get("tokenizer", {}))
        manifest = cls(**fields)
        manifest.check(where)
        return manifest

    def check(self, where: str = "manifest") -> None:
        if list(self.inputs) != list(INPUT_NAMES) or list(self.outputs) != list(OUTPUT_NAMES):
            raise BundleError(f"{where}: unexpected graph I/O {self.inputs} -> {self.outputs}")
        label_set = set(self.labels)
        for char, readings in self.candidates.items():
            stray = [r for r in readings if r not in label_set]
            if stray:
                raise BundleError(f"{where}: candidate {stray[0]} of {char} is not in the label set")
        specials = self.tokenizer
        for token in (specials.cls_token, specials.sep_token, specials.unk_token, specials.pad_token):
            if token not in self.vocab:
                raise BundleError(f"{where}: vocabulary lacks {token}")
        if self.max_length < 8:
            raise BundleError(f"{where}: max_length {self.max_length} is too small")
        if not isinstance(self.phrases, bool):
            raise BundleError(f"{where}: phrases must be true or false, not {self.phrases!r}")
        if not isinstance(self.phrase_exceptions, list) or not all(
                isinstance(c, str) and len(c) == 1 for c in self.phrase_exceptions):
            raise BundleError(f"{where}: phrase_exceptions must be a list of single characters")
        words = self.phrase_word_exceptions
        if not isinstance(words, dict) or not all(
                isinstance(w, str) and len(w) > 1 and isinstance(at, list) and at and all(
                    isinstance(i, int) and not isinstance(i, bool) and 0 <= i < len(w) for i in at)
                for w, at in words.items()):
            raise BundleError(f"{where}: phrase_word_exceptions must map phrases to positions inside them")
        if not valid_context(self.context):
            raise BundleError(f"{where}: context must be a positive number of tokens or null, "
                              f"not {self.context!r}")


def sha256_file(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_manifest(bundle_dir: str) -> Manifest:
    path = os.path.join(bundle_dir, MANIFEST)
    if not os.path.isdir(bundle_dir):
        raise BundleError(f"{bundle_dir}: no such model bundle directory")
    if not os.path.exists(path):
        raise BundleError(f"{bundle_dir}: no {MANIFEST}; is this a pinyin-edge bundle "
                          f"(made by `pinyin-edge export`)?")
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise BundleError(f"{path}: corrupt manifest ({exc})") from None
    return Manifest.from_json(data, where=path)


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


def write_bundle(bundle_dir: str, manifest: Manifest, graph_bytes_path: str) -> None:
    """Move a finished graph into place with its manifest, atomically (temp dir + rename)."""
    import shutil

    manifest.graph_sha256 = sha256_file(graph_bytes_path)
    manifest.check()
    tmp = bundle_dir.rstrip("/") + ".tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    shutil.copyfile(graph_bytes_path, os.path.join(tmp, manifest.graph_file))
    with open(os.path.join(tmp, MANIFEST), "w", encoding="utf-8") as handle:
        json.dump(manifest.to_json(), handle, ensure_ascii=False, indent=1)
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
