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

    assert compiled.char_readings("行")[:2] == ("xing2", "hang2")
    assert compiled.char_readings("我") == ("wo3",)
    assert compiled.char_readings("A") == ()
    assert dict(compiled.word_readings("银行")) == {0: "yin2", 1: "hang2"}
    assert set(compiled.words) == set(phrases_dict)
    assert "中华人民" in compiled.prefixes and "银行" not in compiled.prefixes  # words are not prefixes
    assert all(p not in compiled.words for p in list(compiled.prefixes)[:1000])


def test_ambiguous_phrase_positions_are_empty():
    tables = Dictionaries({}, {"甲乙": " yi3", "丙丁": ""}, frozenset())
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
    assert "r5" not in dmod.style_table(style, render)  # not in pypinyin's tables: rendered on the spot


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
