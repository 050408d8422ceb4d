"""pypinyin's character and phrase dictionaries in canonical readings, compiled once per install.

The runtime reads pypinyin's dictionaries and never changes them. The phrase dictionary it uses is
pypinyin's merged with the project's neutral-tone lexicon (:mod:`pinyin_edge.neutral`): a lexicon word
replaces pypinyin's entry for the same word, or adds one. Importing pypinyin to do so costs
about 0.2 s and 55 MB per process (it parses its JSON tables and copies them), more than the model.
So the first process compiles what pinyin-edge needs (each character's readings, each phrase's
per-character readings) into one cache file, and later processes load that in a few milliseconds
without importing pypinyin (jieba caches its prefix dictionary the same way). Both tables are compact:
the characters' readings in a :class:`CharTable`, the phrases in a :class:`PhraseTable` (a MARISA trie,
which also answers the segmenter's "which words start here" in one call).

* The cache is keyed by the installed pypinyin data files (path, size, mtime), the lexicon's content
  and this format, so a change of any compiles afresh. Each file carries the sha256 of its content, and what it holds is
  type-checked: a missing, stale, damaged or foreign cache is rebuilt; one that cannot be written
  costs only the compile time, in every process.
* Location: ``$PINYIN_EDGE_CACHE_DIR`` (an absolute path), else the platform's user cache folder
  (platformdirs: ``$XDG_CACHE_HOME/pinyin-edge`` or ``~/.cache/pinyin-edge`` on Linux,
  ``~/Library/Caches/pinyin-edge`` on macOS, ``%LOCALAPPDATA%\\pinyin-edge\\Cache`` on Windows).
  ``PINYIN_EDGE_CACHE_DIR=""`` turns the disk cache off. Without a usable home folder (``HOME``
  empty, or unset for a user without a passwd entry) there is no disk cache, with a warning.
* The folder is created private (0700). A folder that another user owns, or that others may write to
  (group or world writable), is never used (a warning, then the in-memory path): a file planted there
  could change readings. Nothing is written outside the folder.
* A compile also removes this project's cache files of other installs untouched for
  :data:`STALE_DAYS` days (left by an upgraded pypinyin), only those this user owns; a live install
  whose file was removed compiles it again once.
* The tables are pypinyin's as installed: changes made at run time with ``pypinyin.load_phrases_dict``
  do not reach pinyin-edge (use :class:`~pinyin_edge.G2P` overrides).
"""
from __future__ import annotations

import hashlib
import importlib.util
import marshal
import os
import threading
from array import array
from bisect import bisect_left
from collections.abc import Mapping as MappingABC
from dataclasses import dataclass
from typing import Callable, Dict, Iterator, List, Mapping, Optional, Tuple

from .neutral import lexicon_key, read_lexicon
from .readings import ReadingError, normalize

FORMAT = 6  # 4: style tables hold every syllable in every tone; 5: phrases in a trie; 6: its skip table
_MAGIC = b"pinyin-edge cache\n"  # then the payload's sha256 (32 bytes), then the marshalled payload
CACHE_ENV = "PINYIN_EDGE_CACHE_DIR"
STALE_DAYS = 30
_DATA_FILES = ("pinyin_dict.json", "pinyin_dict.py", "phrases_dict.json", "phrases_dict.py")


class CharTable(MappingABC):
    """character -> its readings joined by ``,``, held in three flat objects (the code points sorted,
    where each value ends, every value in one string) instead of 41,000 pairs of string objects: about
    a tenth of a dict's memory, and it loads from the cache without building them. A lookup bisects
    (about a microsecond); the runtime remembers what it looked up per character."""

    __slots__ = ("_cps", "_ends", "_blob")

    def __init__(self, cps: array, ends: array, blob: str):
        if len(cps) != len(ends) or (len(ends) and ends[-1] != len(blob)):
            raise ValueError("code points, value ends and values do not agree")
        self._cps, self._ends, self._blob = cps, ends, blob

    @classmethod
    def from_mapping(cls, table: Mapping[str, str]) -> "CharTable":
        if isinstance(table, CharTable):
            return table
        pairs = sorted((ord(char), value) for char, value in table.items())  # ord: one character each
        ends, blob = _blob(value for _, value in pairs)
        return cls(array("I", (cp for cp, _ in pairs)), ends, blob)

    def __getitem__(self, char: str) -> str:
        cps = self._cps
        if isinstance(char, str) and len(char) == 1:
            cp = ord(char)
            i = bisect_left(cps, cp)
            if i < len(cps) and cps[i] == cp:
                return self._blob[self._ends[i - 1] if i else 0:self._ends[i]]
        raise KeyError(char)

    def __iter__(self) -> Iterator[str]:
        return map(chr, self._cps)

    def __len__(self) -> int:
        return len(self._cps)

    def __eq__(self, other):
        if isinstance(other, CharTable):
            return (self._cps, self._ends, self._blob) == (other._cps, other._ends, other._blob)
        return MappingABC.__eq__(self, other)

    __hash__ = None

    def encode(self) -> Tuple[bytes, bytes, str]:
        return self._cps.tobytes(), self._ends.tobytes(), self._blob

    @classmethod
    def decode(cls, cps: bytes, ends: bytes, blob: str) -> Optional["CharTable"]:
        """The table :meth:`encode` wrote, or None when the parts do not fit together."""
        if not (isinstance(cps, bytes) and isinstance(ends, bytes) and isinstance(blob, str)):
            return None
        try:
            a, b = array("I"), array("I")
            a.frombytes(cps)
            b.frombytes(ends)
            return cls(a, b, blob)
        except ValueError:
            return None


def _blob(values) -> Tuple[array, str]:
    """(where each value ends, every value in one string)."""
    ends, parts, end = array("I"), [], 0
    for value in values:
        end += len(value)
        ends.append(end)
        parts.append(value)
    return ends, "".join(parts)


class PhraseTable(MappingABC):
    """phrase -> its readings (see :class:`Dictionaries`), held as a MARISA trie of the phrases and
    their values in one string in the trie's key order: about a twentieth of a dict's memory. Besides
    a mapping's lookups it answers, in one call into the trie, which phrases start at an offset of a
    text (:meth:`longest_at`), what the segmenter asks at every character; ``seconds`` (first character
    -> the characters that follow it at the start of a phrase, 0.7 MB against 4.7 for a set of pairs)
    lets it skip most characters without that call, which builds a string per phrase found."""

    __slots__ = ("_trie", "_ends", "_blob", "longest", "seconds", "prefixes_of")

    def __init__(self, trie, ends: array, blob: str, longest: Optional[int] = None,
                 seconds: Optional[Dict[str, str]] = None):
        if len(trie) != len(ends) or (len(ends) and ends[-1] != len(blob)):
            raise ValueError("trie keys, value ends and values do not agree")
        self._trie, self._ends, self._blob = trie, ends, blob
        if longest is None or seconds is None:  # derived from the keys: a pass over 47k phrases
            longest, seconds = self._derived(trie)
        self.longest = longest  # characters in the longest phrase
        self.seconds = seconds
        self.prefixes_of = trie.prefixes  # the phrases that begin a text, shortest first (UTF-8 only)

    @staticmethod
    def _derived(trie) -> Tuple[int, Dict[str, str]]:
        """(the longest phrase's length, first character -> the characters that follow it)."""
        longest, seconds = 0, {}
        for word in trie.iterkeys():
            longest = max(longest, len(word))
            if len(word) > 1:
                seconds.setdefault(word[0], set()).add(word[1])
        return longest, {first: "".join(sorted(rest)) for first, rest in seconds.items()}

    @classmethod
    def from_mapping(cls, table: Mapping[str, str]) -> "PhraseTable":
        if isinstance(table, PhraseTable):
            return table
        import marisa_trie

        trie = marisa_trie.Trie(table.keys())
        ids = sorted(trie.items(), key=lambda pair: pair[1])  # (phrase, id) in id order: 0..n-1
        ends, blob = _blob(table[word] for word, _ in ids)
        return cls(trie, ends, blob)

    # The trie takes UTF-8: a text holding a lone surrogate (which no phrase holds) raises
    # UnicodeEncodeError there, read below as "no phrase".

    def __getitem__(self, word: str) -> str:
        try:
            i = self._trie.get(word) if isinstance(word, str) else None
        except UnicodeEncodeError:
            i = None
        if i is None:
            raise KeyError(word)
        return self._blob[self._ends[i - 1] if i else 0:self._ends[i]]

    def __contains__(self, word) -> bool:
        try:
            return isinstance(word, str) and word in self._trie
        except UnicodeEncodeError:
            return False

    def __iter__(self) -> Iterator[str]:
        return self._trie.iterkeys()

    def __len__(self) -> int:
        return len(self._trie)

    def __eq__(self, other):
        if isinstance(other, PhraseTable):
            return dict(self.items()) == dict(other.items())
        return MappingABC.__eq__(self, other)

    __hash__ = None

    def may_start(self, text: str, start: int) -> bool:
        """Could a phrase of two or more characters start at ``start``? (False is sure.)"""
        return start + 1 < len(text) and text[start + 1] in self.seconds.get(text[start], "")

    def longest_at(self, text: str, start: int) -> int:
        """The end of the longest phrase ``text[start:end]``; 0 when none starts there."""
        piece = text[start:start + self.longest]
        try:
            found = self._trie.prefixes(piece)  # shortest first
        except UnicodeEncodeError as exc:  # phrases end before the surrogate
            found = self._trie.prefixes(piece[:exc.start])
        return start + len(found[-1]) if found else 0

    def leads_to_phrase(self, piece: str) -> bool:
        """Is ``piece`` a phrase or the beginning of one?"""
        try:
            return len(piece) <= self.longest and next(self._trie.iterkeys(piece), None) is not None
        except UnicodeEncodeError:
            return False

    @staticmethod
    def encodable(text: str) -> str:
        """``text`` with each lone surrogate (which no phrase holds, and UTF-8 cannot carry) as NUL:
        the same offsets, safe for :attr:`prefixes_of`."""
        if text.isascii():
            return text
        try:
            text.encode("utf-8")
            return text
        except UnicodeEncodeError:
            return "".join("\0" if "\ud800" <= c <= "\udfff" else c for c in text)

    def encode(self) -> Tuple[bytes, bytes, str, int, Dict[str, str]]:
        """The trie, the values and what :meth:`_derived` finds (cached: the pass costs a cold start
        about 40 ms)."""
        return self._trie.tobytes(), self._ends.tobytes(), self._blob, self.longest, self.seconds

    @classmethod
    def decode(cls, trie: bytes, ends: bytes, blob: str, longest: int,
               seconds: Dict[str, str]) -> Optional["PhraseTable"]:
        """The table :meth:`encode` wrote, or None when the parts do not fit together."""
        if not (isinstance(trie, bytes) and isinstance(ends, bytes) and isinstance(blob, str)
                and type(longest) is int and _str_map(seconds)):
            return None
        import marisa_trie

        try:
            b = array("I")
            b.frombytes(ends)
            return cls(marisa_trie.Trie().frombytes(trie), b, blob, longest, seconds)
        except (ValueError, RuntimeError):  # marisa reports a damaged trie as RuntimeError
            return None


@dataclass(frozen=True)
class Dictionaries:
    """pypinyin's dictionaries (its phrases merged with the neutral-tone lexicon), canonical readings only.

    ``chars``: character -> its readings joined by ``,`` (pypinyin's order: the first is its default);
    a :class:`CharTable` when compiled or loaded, any mapping otherwise.
    ``words``: phrase -> one reading per character joined by spaces, empty where the phrase gives that
    character several readings (or none that parse); ``""`` when it gives none at all. A
    :class:`PhraseTable` (any mapping given is converted).
    """

    chars: Mapping[str, str]
    words: PhraseTable

    def __post_init__(self):
        object.__setattr__(self, "words", PhraseTable.from_mapping(self.words))

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


def compile_dictionaries(lexicon: bool = True) -> Dictionaries:
    """Read the installed pypinyin's tables (read-only) and the neutral-tone lexicon into
    :class:`Dictionaries`; the lexicon's words replace pypinyin's entries for them (``lexicon=False``:
    pypinyin's words alone, what the phrase word exceptions are measured against)."""
    from pypinyin.phrases_dict import phrases_dict
    from pypinyin.pinyin_dict import pinyin_dict

    chars = {}
    for cp, value in pinyin_dict.items():
        readings = convert_readings(value)
        if readings:
            chars[chr(cp)] = ",".join(readings)
    words = {word: _word_value(word, entry) for word, entry in phrases_dict.items()}
    if lexicon:
        words.update(read_lexicon(chars))
    return Dictionaries(CharTable.from_mapping(chars), PhraseTable.from_mapping(words))


def _warn(message: str) -> None:
    import warnings

    warnings.warn(f"pinyin-edge: {message}; pypinyin's dictionaries are compiled in memory instead "
                  f"(about 0.2 s per process)", RuntimeWarning, stacklevel=4)


def _home_is_usable() -> bool:
    """POSIX: HOME set to an absolute path, or unset for a user the passwd database knows (else
    ``~`` expands to ``/`` or stays a literal ``~``)."""
    home = os.environ.get("HOME")
    if home is not None:
        return os.path.isabs(home)
    try:
        import pwd

        return os.path.isabs(pwd.getpwuid(os.getuid()).pw_dir)
    except (ImportError, KeyError, AttributeError):
        return False


def cache_dir() -> Optional[str]:
    """Where the compiled dictionaries are cached; None when the disk cache is off or there is no
    usable location (a warning says why)."""
    chosen = os.environ.get(CACHE_ENV)
    if chosen is not None:
        if chosen and not os.path.isabs(chosen):
            _warn(f"{CACHE_ENV}={chosen!r} is not an absolute path")
            return None
        return chosen or None
    import sys

    # platformdirs builds the folder from HOME unless XDG_CACHE_HOME is set (Linux, BSD; macOS never)
    from_home = sys.platform == "darwin" or not os.path.isabs(os.environ.get("XDG_CACHE_HOME", ""))
    if os.name == "posix" and from_home and not _home_is_usable():
        _warn("no usable home folder (HOME is empty or unset) for the dictionary cache")
        return None
    import platformdirs

    folder = platformdirs.user_cache_dir("pinyin-edge", appauthor=False)
    if not os.path.isabs(folder):
        _warn(f"the platform's cache folder {folder!r} is not an absolute path")
        return None
    return folder


def _safe_folder(folder: str) -> bool:
    """Create ``folder`` private if it is missing; True when only this user can write to it. Files
    in a folder others can write to, or in another user's folder, could be planted."""
    try:
        os.makedirs(folder, mode=0o700, exist_ok=True)
        info = os.stat(folder)
    except OSError:
        return False  # cannot create it: as an unwritable cache, it costs only speed
    if not hasattr(os, "getuid"):  # Windows: the profile's ACLs keep others out of LOCALAPPDATA
        return True
    if info.st_uid != os.getuid():
        _warn(f"cache folder {folder} belongs to another user (uid {info.st_uid}); not used")
        return False
    if info.st_mode & 0o022:
        _warn(f"cache folder {folder} is writable by its group or by everyone "
              f"(mode {info.st_mode & 0o777:o}); not used")
        return False
    return True


def _source_key() -> Optional[str]:
    """A key for the installed pypinyin's data files and the lexicon, found without importing pypinyin."""
    spec = importlib.util.find_spec("pypinyin")
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = list(spec.submodule_search_locations)[0]
    parts = [str(FORMAT), os.path.realpath(folder), lexicon_key()]
    for name in _DATA_FILES:
        try:
            stat = os.stat(os.path.join(folder, name))
        except OSError:
            continue
        parts.append(f"{name}:{stat.st_size}:{stat.st_mtime_ns}")
    if len(parts) == 3:  # a pypinyin that keeps its tables elsewhere: nothing to key on
        return None
    return hashlib.sha256("\n".join(parts).encode("utf-8")).hexdigest()[:20]


def cache_path(part: str = "") -> Optional[str]:
    """The cache file for this install's pypinyin (``part`` names a companion file, such as a
    style's renderings); None when the disk cache is off or its folder is not safe to use."""
    folder, key = cache_dir(), _source_key()
    if folder is None or key is None:
        return None
    if not _safe_folder(folder):
        return None
    return os.path.join(folder, f"pypinyin-{key}{part}.marshal")


def _ours(info) -> bool:
    """A regular file this user owns that nobody else may write (always true on Windows)."""
    import stat

    if not stat.S_ISREG(info.st_mode):
        return False
    return not hasattr(os, "getuid") or (info.st_uid == os.getuid() and not info.st_mode & 0o022)


def prune_stale(keep: str, max_age_days: float = STALE_DAYS) -> List[str]:
    """Remove this project's cache files of other pypinyin installs (names not starting as
    ``keep``'s, the dictionaries' :func:`cache_path`) not modified for ``max_age_days`` and owned by
    this user; returns what was removed."""
    import re
    import time

    folder, name = os.path.split(keep)
    mine = name[:-len(".marshal")]  # pypinyin-KEY: this install's tables and its companion files
    cutoff = time.time() - max_age_days * 86400
    removed = []
    try:
        entries = os.listdir(folder)
    except OSError:
        return removed
    for entry in entries:
        if entry.startswith(mine) or not re.fullmatch(r"pypinyin-[0-9a-f]{20}(-[a-z0-9_]+)?\.marshal", entry):
            continue
        path = os.path.join(folder, entry)
        try:
            info = os.lstat(path)
            if _ours(info) and info.st_mtime < cutoff:
                os.unlink(path)
                removed.append(path)
        except OSError:
            continue
    return removed


def _load(path: str):
    """The object cached at ``path``; None when it is missing, unreadable, not this user's, or its
    content does not match its sha256."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        with os.fdopen(fd, "rb") as handle:
            if not _ours(os.fstat(handle.fileno())):
                return None
            blob = handle.read()
    except OSError:
        return None
    head = len(_MAGIC)
    if blob[:head] != _MAGIC or hashlib.sha256(blob[head + 32:]).digest() != blob[head:head + 32]:
        return None
    try:
        return marshal.loads(blob[head + 32:])
    except (EOFError, ValueError, TypeError):
        return None


def _store(path: str, value) -> None:
    """Write ``value`` to ``path`` atomically (a half-written cache is never read), with its sha256;
    a failure only costs speed. The folder was made (private) by :func:`cache_path`."""
    import tempfile

    payload = marshal.dumps(value)
    blob = _MAGIC + hashlib.sha256(payload).digest() + payload
    try:
        os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
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
    return (FORMAT, *CharTable.from_mapping(tables.chars).encode(), *tables.words.encode())


def _str_map(value) -> bool:
    return isinstance(value, dict) and set(map(type, value)) <= {str} and set(map(type, value.values())) <= {str}


def _decode_tables(data) -> Optional[Dictionaries]:
    try:
        version, cps, ends, blob, *words = data
    except (TypeError, ValueError):
        return None
    # The sha256 vouches for the content (only this user writes the folder): shapes are checked here.
    if version != FORMAT:
        return None
    chars = CharTable.decode(cps, ends, blob)
    words = PhraseTable.decode(*words) if len(words) == 5 else None
    return None if chars is None or words is None else Dictionaries(chars, words)


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
    """Every reading of pypinyin's tables, and every syllable in every tone (a model's labels
    include readings the tables lack, such as ``r5``), rendered in ``style`` by ``render``
    (pypinyin's style machinery, see :func:`pinyin_edge.styles.styler`): rendered once per install
    and style, and cached beside the dictionaries (about 3,500 readings, 0.2 s to render), so that
    reading never imports pypinyin (0.3 s, 55 MB)."""
    def render_all() -> Dict[str, str]:
        from .readings import syllables

        tables = dictionaries()
        readings = {r for value in tables.chars.values() for r in value.split(",")}
        readings.update(r for value in tables.words.values() for r in value.split(" ") if r)
        table = {r: render(r) for r in sorted(readings)}
        for reading in sorted(s + tone for s in syllables() for tone in "12345"):
            if reading not in table:
                try:
                    table[reading] = render(reading)
                except Exception:  # a spelling pypinyin cannot render: rendered on the spot, if ever met
                    pass
        return table

    def decode(data) -> Optional[Dict[str, str]]:
        ok = isinstance(data, tuple) and len(data) == 2 and data[0] == FORMAT and _str_map(data[1])
        return data[1] if ok else None

    if style not in _STYLES:
        with _LOCK:
            if style not in _STYLES:
                _STYLES[style] = _load_or_compile(cache_path(f"-{style}"), decode, render_all,
                                                  lambda table: (FORMAT, table))
    return _STYLES[style]
