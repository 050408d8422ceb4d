"""pypinyin's character and phrase dictionaries in canonical readings, compiled once per install.

The runtime reads pypinyin's dictionaries and never changes them. Importing pypinyin to do so costs
about 0.2 s and 55 MB per process (it parses its JSON tables and copies them), more than the model.
So the first process compiles what pinyin-edge needs (each character's readings, each phrase's
per-character readings, the phrase prefixes the segmenter walks) into one cache file, and later
processes load that in about 40 ms and 20 MB without importing pypinyin (jieba caches its prefix
dictionary the same way).

* The cache is keyed by the installed pypinyin data files (path, size, mtime) and this format, so an
  upgrade of either compiles afresh. A missing, stale or unreadable cache is rebuilt; one that cannot
  be written costs only the compile time, in every process.
* Location: ``$PINYIN_EDGE_CACHE_DIR``, else ``$XDG_CACHE_HOME/pinyin-edge``, else
  ``~/.cache/pinyin-edge``. ``PINYIN_EDGE_CACHE_DIR=""`` turns the disk cache off.
* A compile also removes other installs' cache files untouched for :data:`STALE_DAYS` days (left by
  an upgraded pypinyin); a live install whose file was removed compiles it again once.
* The tables are pypinyin's as installed: changes made at run time with ``pypinyin.load_phrases_dict``
  do not reach pinyin-edge (use :class:`~pinyin_edge.G2P` overrides).
"""
from __future__ import annotations

import hashlib
import importlib.util
import marshal
import os
import tempfile
import threading
from dataclasses import dataclass
from typing import Callable, Dict, FrozenSet, List, Optional, Tuple

from .readings import ReadingError, normalize

FORMAT = 1
CACHE_ENV = "PINYIN_EDGE_CACHE_DIR"
STALE_DAYS = 30
_DATA_FILES = ("pinyin_dict.json", "pinyin_dict.py", "phrases_dict.json", "phrases_dict.py")


@dataclass(frozen=True)
class Dictionaries:
    """pypinyin's dictionaries, canonical readings only.

    ``chars``: character -> its readings joined by ``,`` (pypinyin's order: the first is its default).
    ``words``: phrase -> one reading per character joined by spaces, empty where the phrase gives that
    character several readings (or none that parse); ``""`` when it gives none at all.
    ``prefixes``: every proper prefix of a phrase that is not itself a phrase.
    """

    chars: Dict[str, str]
    words: Dict[str, str]
    prefixes: FrozenSet[str]

    def char_readings(self, char: str) -> Tuple[str, ...]:
        value = self.chars.get(char)
        return tuple(value.split(",")) if value else ()

    def word_readings(self, word: str) -> Tuple[Tuple[int, str], ...]:
        """(offset in the word, reading) for each character the phrase reads unambiguously."""
        value = self.words.get(word)
        if not value:
            return ()
        return tuple((i, r) for i, r in enumerate(value.split(" ")) if r)


def convert_readings(value: str) -> Tuple[str, ...]:
    """pypinyin's ``"háng,xíng"`` -> canonical readings, duplicates and unparsable ones dropped."""
    readings = []
    for marked in value.split(","):
        try:
            reading = normalize(marked)
        except ReadingError:
            continue
        if reading not in readings:
            readings.append(reading)
    return tuple(readings)


def _word_value(word: str, entry) -> str:
    if not entry or len(entry) != len(word):
        return ""
    parts = []
    for options in entry:
        reading = ""
        if len(options) == 1:
            try:
                reading = normalize(options[0])
            except ReadingError:
                pass
        parts.append(reading)
    return " ".join(parts) if any(parts) else ""


def compile_dictionaries() -> Dictionaries:
    """Read the installed pypinyin's tables (read-only) into :class:`Dictionaries`."""
    from pypinyin.phrases_dict import phrases_dict
    from pypinyin.pinyin_dict import pinyin_dict

    chars = {}
    for cp, value in pinyin_dict.items():
        readings = convert_readings(value)
        if readings:
            chars[chr(cp)] = ",".join(readings)
    words = {word: _word_value(word, entry) for word, entry in phrases_dict.items()}
    prefixes = {word[:i] for word in words for i in range(1, len(word))}
    return Dictionaries(chars, words, frozenset(prefixes.difference(words)))


def cache_dir() -> Optional[str]:
    """Where the compiled dictionaries are cached; None when the disk cache is off."""
    chosen = os.environ.get(CACHE_ENV)
    if chosen is not None:
        return chosen or None
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "pinyin-edge")


def _source_key() -> Optional[str]:
    """A key for the installed pypinyin's data files, found without importing pypinyin."""
    spec = importlib.util.find_spec("pypinyin")
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = list(spec.submodule_search_locations)[0]
    parts = [str(FORMAT), os.path.realpath(folder)]
    for name in _DATA_FILES:
        try:
            stat = os.stat(os.path.join(folder, name))
        except OSError:
            continue
        parts.append(f"{name}:{stat.st_size}:{stat.st_mtime_ns}")
    if len(parts) == 2:  # a pypinyin that keeps its tables elsewhere: nothing to key on
        return None
    return hashlib.sha256("\n".join(parts).encode("utf-8")).hexdigest()[:20]


def cache_path(part: str = "") -> Optional[str]:
    """The cache file for this install's pypinyin (``part`` names a companion file, such as a
    style's renderings); None when the disk cache is off."""
    folder, key = cache_dir(), _source_key()
    if folder is None or key is None:
        return None
    return os.path.join(folder, f"pypinyin-{key}{part}.marshal")


def prune_stale(keep: str, max_age_days: float = STALE_DAYS) -> List[str]:
    """Remove the cache files of other pypinyin installs (names not starting as ``keep``'s, the
    dictionaries' :func:`cache_path`) not modified for ``max_age_days``; returns what was removed."""
    import glob
    import time

    folder, name = os.path.split(keep)
    mine = name[:-len(".marshal")]  # pypinyin-KEY: this install's tables and its companion files
    cutoff = time.time() - max_age_days * 86400
    removed = []
    for path in glob.glob(os.path.join(folder, "pypinyin-*.marshal")):
        if os.path.basename(path).startswith(mine):
            continue
        try:
            if os.path.getmtime(path) < cutoff:
                os.unlink(path)
                removed.append(path)
        except OSError:
            continue
    return removed


def _load(path: str):
    """The marshalled object at ``path``; None when it is missing or unreadable."""
    try:
        with open(path, "rb") as handle:
            return marshal.loads(handle.read())
    except (OSError, EOFError, ValueError, TypeError):
        return None


def _store(path: str, value) -> None:
    """Marshal ``value`` to ``path`` atomically (a half-written cache is never read); a failure only
    costs speed."""
    blob = marshal.dumps(value)
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".pypinyin-", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(blob)
            os.replace(tmp, path)
        except BaseException:
            os.unlink(tmp)
            raise
    except OSError:
        pass


def _load_or_compile(path: Optional[str], decode: Callable, compile_: Callable, encode: Callable):
    """``decode`` of the cache at ``path`` (None: missing, damaged or stale), else ``compile_()``,
    cached through ``encode`` when there is a path."""
    value = decode(_load(path)) if path else None
    if value is None:
        value = compile_()
        if path:
            _store(path, encode(value))
    return value


def _encode_tables(tables: Dictionaries):
    return FORMAT, tables.chars, tables.words, sorted(tables.prefixes)


def _decode_tables(data) -> Optional[Dictionaries]:
    try:
        version, chars, words, prefixes = data
    except (TypeError, ValueError):
        return None
    if version != FORMAT or not all(isinstance(x, dict) for x in (chars, words)) \
            or not isinstance(prefixes, (list, tuple)):
        return None
    return Dictionaries(chars, words, frozenset(prefixes))


def _read_cache(path: str) -> Optional[Dictionaries]:
    return _decode_tables(_load(path))


def _write_cache(path: str, tables: Dictionaries) -> None:
    _store(path, _encode_tables(tables))


_LOCK = threading.RLock()  # style_table holds it while it loads the dictionaries
_LOADED: Optional[Dictionaries] = None


def dictionaries() -> Dictionaries:
    """The process's compiled dictionaries: from the cache, else compiled (and cached)."""
    global _LOADED
    if _LOADED is not None:
        return _LOADED
    with _LOCK:
        if _LOADED is None:
            path = cache_path()
            fresh = path is not None and not os.path.exists(path)
            _LOADED = _load_or_compile(path, _decode_tables, compile_dictionaries, _encode_tables)
            if fresh:  # this install's first compile: a good moment to drop what others left behind
                prune_stale(path)
    return _LOADED


_STYLES: Dict[str, Dict[str, str]] = {}


def style_table(style: str, render: Callable[[str], str]) -> Dict[str, str]:
    """Every reading of pypinyin's tables rendered in ``style`` by ``render`` (pypinyin's style
    machinery, see :func:`pinyin_edge.styles.styler`): rendered once per install and style, and
    cached beside the dictionaries (about 1,500 readings, 0.1 s to render)."""
    def render_all() -> Dict[str, str]:
        tables = dictionaries()
        readings = {r for value in tables.chars.values() for r in value.split(",")}
        readings.update(r for value in tables.words.values() for r in value.split(" ") if r)
        return {r: render(r) for r in sorted(readings)}

    def decode(data) -> Optional[Dict[str, str]]:
        ok = isinstance(data, tuple) and len(data) == 2 and data[0] == FORMAT and isinstance(data[1], dict)
        return data[1] if ok else None

    if style not in _STYLES:
        with _LOCK:
            if style not in _STYLES:
                _STYLES[style] = _load_or_compile(cache_path(f"-{style}"), decode, render_all,
                                                  lambda table: (FORMAT, table))
    return _STYLES[style]
