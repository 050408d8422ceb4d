"""pypinyin's dictionaries compiled into a cache: same readings as pypinyin, loaded without it."""
import json
import os
import subprocess
import sys

import pytest

from pinyin_edge import dictionaries as dmod
from pinyin_edge.dictionaries import CACHE_ENV, Dictionaries, compile_dictionaries, dictionaries


@pytest.fixture(scope="module")
def compiled():
    return compile_dictionaries()


def test_compiled_tables_hold_pypinyin_readings(compiled):
    from pypinyin.phrases_dict import phrases_dict

    from pinyin_edge.neutral import read_lexicon

    assert compiled.char_readings("行")[:2] == ("xing2", "hang2")
    assert compiled.char_readings("我") == ("wo3",)
    assert compiled.char_readings("A") == ()
    assert dict(compiled.word_readings("银行")) == {0: "yin2", 1: "hang2"}
    assert set(compiled.words) == set(phrases_dict) | set(read_lexicon(compiled.chars))  # and the lexicon's
    words = compiled.words
    assert words.leads_to_phrase("中华人民") and "中华人民" not in words  # a prefix, not a word
    assert words.leads_to_phrase("银行") and not words.leads_to_phrase("银行X")
    assert words.longest_at("为人民服务", 0) == 2 and words.longest_at("X银行", 1) == 3  # 为人, 银行
    assert words.longest_at("中华人民共和国万岁", 0) == 7 and words.longest_at("X银行", 0) == 0


def test_the_phrase_trie_is_a_mapping(compiled):
    words = compiled.words
    plain = dict(words.items())
    assert isinstance(words, dmod.PhraseTable) and len(plain) == len(words) > 40000
    assert words["银行"] == plain["银行"] == "yin2 hang2" and words.get("银") is None and words.get(3) is None
    assert 3 not in words and "X" not in words and "银行" in words
    assert dmod.PhraseTable.from_mapping(plain) == words == plain
    trie, ends, blob, longest, seconds = words.encode()
    decoded = dmod.PhraseTable.decode(trie, ends, blob, longest, seconds)
    assert decoded == words and (decoded.longest, decoded.seconds) == (words.longest, words.seconds)
    assert (longest, seconds) == dmod.PhraseTable._derived(decoded._trie)  # what the cache spares
    lone = "银行\udc80行长"  # a lone surrogate: no phrase holds one, the phrases around it still read
    assert lone not in words and words.get(lone) is None and not words.leads_to_phrase("\udc80")
    assert words.longest_at(lone, 0) == 2 and words.longest_at(lone, 2) == 0 and words.longest_at(lone, 3) == 5
    assert dmod.PhraseTable.decode(trie, ends[:-4], blob, longest, seconds) is None
    assert dmod.PhraseTable.decode(trie[:len(trie) // 2], ends, blob, longest, seconds) is None  # damaged
    assert dmod.PhraseTable.decode(trie, ends, blob, str(longest), seconds) is None
    assert dmod.PhraseTable.decode(trie, ends, blob, longest, {"银": 3}) is None


def test_the_compact_character_table_is_a_mapping(compiled):
    chars = compiled.chars
    plain = dict(chars.items())
    assert isinstance(chars, dmod.CharTable) and len(plain) == len(chars) > 40000
    assert chars["行"] == plain["行"] and chars.get("A") is None and "我" in chars and "AB" not in chars
    assert dmod.CharTable.from_mapping(plain) == chars == plain
    cps, ends, blob = chars.encode()
    assert dmod.CharTable.decode(cps, ends, blob) == chars
    assert dmod.CharTable.decode(cps, ends[:-4], blob) is None and dmod.CharTable.decode(cps[:-1], ends, blob) is None


def test_ambiguous_phrase_positions_are_empty():
    tables = Dictionaries({}, {"甲乙": " yi3", "丙丁": ""})
    assert tables.word_readings("甲乙") == ((1, "yi3"),)
    assert tables.word_readings("丙丁") == () and tables.word_readings("戊己") == ()


def test_cache_round_trip_and_damage(tmp_path, compiled):
    path = str(tmp_path / "sub" / "tables.marshal")
    dmod._write_cache(path, compiled)
    back = dmod._read_cache(path)
    assert back == compiled
    assert [n for n in os.listdir(tmp_path / "sub")] == ["tables.marshal"]  # no temp file left
    for damage in (b"", b"not marshal at all", open(path, "rb").read()[:1000]):
        with open(path, "wb") as handle:
            handle.write(damage)
        assert dmod._read_cache(path) is None
    assert dmod._read_cache(str(tmp_path / "missing")) is None


def test_cache_location_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv(CACHE_ENV, str(tmp_path))
    assert dmod.cache_path().startswith(str(tmp_path) + os.sep)
    monkeypatch.setenv(CACHE_ENV, "")
    assert dmod.cache_dir() is None and dmod.cache_path() is None
    monkeypatch.delenv(CACHE_ENV)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert dmod.cache_dir() == str(tmp_path / "xdg" / "pinyin-edge")


def test_an_unwritable_cache_costs_only_speed(tmp_path, compiled):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    dmod._write_cache(str(blocker / "tables.marshal"), compiled)  # its folder is a file: no raise


_PROBE = """
import json, sys
from pinyin_edge import G2P
g = G2P({model!r})
out = g.pinyin("银行行长在长大的地方行走。") + g.pinyin("银行", style="tone")
print(json.dumps({{"out": out, "pypinyin": "pypinyin" in sys.modules}}))
"""


def _probe(bundle, cache):
    env = {**os.environ, CACHE_ENV: str(cache)}
    proc = subprocess.run([sys.executable, "-c", _PROBE.format(model=bundle)], env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_fresh_processes_compile_once_then_skip_pypinyin(bundle, tmp_path):
    cache = tmp_path / "cache"
    cache.mkdir()
    stale = cache / ("pypinyin-" + "0" * 20 + ".marshal")   # left by another pypinyin, long ago
    stale.write_bytes(b"old")
    os.utime(stale, (0, 0))
    first = _probe(bundle, cache)
    assert not stale.exists()   # the first compile pruned it
    files = sorted(os.listdir(cache))  # the dictionaries, and the tone style's renderings
    assert len(files) == 2 and files[0].endswith("-tone.marshal") and files[1].endswith(".marshal")
    files = files[1:]
    second = _probe(bundle, cache)
    assert first["pypinyin"] and not second["pypinyin"]  # only the compiling process imports it
    assert second["out"] == first["out"]
    (cache / files[0]).write_bytes(b"garbage")  # a damaged cache is rebuilt
    third = _probe(bundle, cache)
    assert third["out"] == first["out"] and dmod._read_cache(str(cache / files[0])) is not None


def test_the_process_tables_are_the_compiled_ones(compiled):
    assert dictionaries().words == compiled.words and dictionaries().chars == compiled.chars


@pytest.mark.parametrize("style", ["tone", "tone2", "normal", "initials", "finals_tone", "bopomofo",
                                   "cyrillic", "wadegiles"])
def test_cached_style_renderings_are_pypinyins(style):
    from pinyin_edge.styles import pypinyin_renderer, styler

    styled, render = styler(style), pypinyin_renderer(style)
    readings = ["hang2", "xing2", "lv4", "nve4", "a1", "er2", "yi1", "de5", "zhuang4", "r5", "m2"]
    assert [styled(r) for r in readings] == [render(r) for r in readings]
    assert "r5" in dmod.style_table(style, render)  # a model label pypinyin's tables lack: rendered ahead too


def test_prune_removes_only_other_installs_old_files(tmp_path):
    mine = tmp_path / ("pypinyin-" + "a" * 20 + ".marshal")
    names = {"mine_style": "a" * 20 + "-tone", "old": "b" * 20, "old_style": "b" * 20 + "-tone",
             "recent": "c" * 20}
    paths = {k: tmp_path / f"pypinyin-{v}.marshal" for k, v in names.items()}
    for path in [mine, *paths.values()]:
        path.write_bytes(b"x")
    for key in ("mine_style", "old", "old_style"):
        os.utime(paths[key], (0, 0))
    (tmp_path / "notes.txt").write_text("not ours")
    removed = dmod.prune_stale(str(mine))
    assert sorted(removed) == sorted(str(paths[k]) for k in ("old", "old_style"))
    assert mine.exists() and paths["mine_style"].exists() and paths["recent"].exists()
    assert (tmp_path / "notes.txt").exists()


# -- a cache nobody but this user can plant or spoil ------------------------------------------------

def _private(path):
    path.mkdir(mode=0o700)
    return path


def test_a_cache_of_the_right_shape_with_wrong_element_types_is_replaced(bundle, tmp_path, monkeypatch):
    import marshal

    cache = _private(tmp_path / "cache")
    monkeypatch.setenv(CACHE_ENV, str(cache))
    path = dmod.cache_path()
    with open(path, "wb") as handle:  # {'行': 5}: marshal reads it, a run would crash on it
        handle.write(marshal.dumps((dmod.FORMAT, {"行": 5}, {"银行": 5}, [])))
    assert dmod._read_cache(path) is None
    assert _probe(bundle, cache)["out"][:4] == ["yin2", "hang2", "hang2", "zhang3"]
    assert dmod._read_cache(path) is not None  # recompiled in its place


def test_planted_cache_files_do_not_change_readings(bundle, tmp_path, monkeypatch):
    """The names are computable: a file planted there (no valid checksum) is recompiled over."""
    import marshal

    cache = _private(tmp_path / "cache")
    monkeypatch.setenv(CACHE_ENV, str(cache))
    honest = _probe(bundle, cache)
    tables, tone = dmod.cache_path(), dmod.cache_path("-tone")
    good = dmod._read_cache(tables)
    words = dict(good.words, 银行="yin2 xing2")
    with open(tables, "wb") as handle:
        handle.write(marshal.dumps(dmod._encode_tables(Dictionaries(good.chars, words))))
    with open(tone, "wb") as handle:
        handle.write(marshal.dumps((dmod.FORMAT, {"hang2": "HACKED", "yin2": "HACKED"})))
    assert _probe(bundle, cache) == {**honest, "pypinyin": True}  # recompiled: pypinyin imported again
    assert dmod._read_cache(tables).words["银行"] == "yin2 hang2"


def test_a_folder_others_can_write_is_not_used(bundle, tmp_path):
    cache = tmp_path / "shared"
    cache.mkdir()
    os.chmod(cache, 0o777)
    env = {**os.environ, CACHE_ENV: str(cache)}
    proc = subprocess.run([sys.executable, "-c", _PROBE.format(model=bundle)], env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and json.loads(proc.stdout)["out"][:2] == ["yin2", "hang2"]
    assert "writable by its group or by everyone" in proc.stderr and "not used" in proc.stderr
    assert os.listdir(cache) == []


def test_a_folder_another_user_owns_is_not_used(tmp_path, monkeypatch):
    cache = _private(tmp_path / "theirs")
    monkeypatch.setenv(CACHE_ENV, str(cache))
    monkeypatch.setattr(os, "getuid", lambda: os.stat(cache).st_uid + 1)  # as another user sees it
    with pytest.warns(RuntimeWarning, match="belongs to another user"):
        assert dmod.cache_path() is None


def test_no_home_means_no_disk_cache_rather_than_slash_or_tilde(tmp_path, monkeypatch):
    import pwd

    monkeypatch.delenv(CACHE_ENV, raising=False)
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", "")
    with pytest.warns(RuntimeWarning, match="no usable home folder"):
        assert dmod.cache_dir() is None and dmod.cache_path() is None
    monkeypatch.delenv("HOME")

    def unknown(uid):
        raise KeyError(f"getpwuid(): uid not found: {uid}")

    monkeypatch.setattr(pwd, "getpwuid", unknown)  # a user without a passwd entry
    with pytest.warns(RuntimeWarning, match="no usable home folder"):
        assert dmod.cache_path() is None
    assert os.listdir(tmp_path) == []  # no literal "~" folder
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))  # XDG needs no home
    assert dmod.cache_dir() == str(tmp_path / "xdg" / "pinyin-edge")
    monkeypatch.setenv(CACHE_ENV, "relative/cache")
    with pytest.warns(RuntimeWarning, match="not an absolute path"):
        assert dmod.cache_dir() is None


def test_the_default_folder_is_the_platforms(tmp_path, monkeypatch):
    import platformdirs

    monkeypatch.delenv(CACHE_ENV, raising=False)
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert dmod.cache_dir() == platformdirs.user_cache_dir("pinyin-edge", appauthor=False)
    if sys.platform.startswith("linux"):
        assert dmod.cache_dir() == str(tmp_path / ".cache" / "pinyin-edge")


def test_prune_touches_only_this_users_cache_files(tmp_path, monkeypatch):
    mine = tmp_path / ("pypinyin-" + "a" * 20 + ".marshal")
    old = tmp_path / ("pypinyin-" + "b" * 20 + ".marshal")
    lookalike = tmp_path / "pypinyin-notes.marshal"       # not a name this project writes
    outside = tmp_path / "elsewhere.txt"
    link = tmp_path / ("pypinyin-" + "c" * 20 + ".marshal")  # a link to a file outside the cache
    for path in (mine, old, lookalike, outside):
        path.write_bytes(b"x")
    link.symlink_to(outside)
    for path in (old, lookalike, outside):
        os.utime(path, (0, 0))
    os.utime(link, (0, 0), follow_symlinks=False)
    real_uid = os.getuid()
    monkeypatch.setattr(os, "getuid", lambda: real_uid + 1)  # the stale file belongs to someone else
    assert dmod.prune_stale(str(mine)) == [] and old.exists()
    monkeypatch.setattr(os, "getuid", lambda: real_uid)
    assert dmod.prune_stale(str(mine)) == [str(old)]
    assert lookalike.exists() and link.is_symlink() and outside.exists() and mine.exists()
