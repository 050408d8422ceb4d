"""Write the traditional version of the everyday set: dev.tsv and test.tsv beside this script, the
texts of ../dev.tsv and ../test.tsv converted by OpenCC (``s2tw``: Taiwan's standard forms, which
write 著 for 着 and 裡 for 里), the labels unchanged (readings are per character).

A line whose conversion changes its length is converted character by character instead, so every
label stays on its character. Needs the OpenCC binding (``pip install opencc==1.4.2``).

    python benchmarks/everyday/traditional/make.py [--config s2tw|s2t|s2hk] [--out DIR]
"""
from __future__ import annotations

import argparse
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", default="s2tw", choices=("s2tw", "s2t", "s2hk"))
    parser.add_argument("--out", default=HERE)
    args = parser.parse_args(argv)
    import opencc

    convert = opencc.OpenCC(args.config).convert
    os.makedirs(args.out, exist_ok=True)
    for name in ("dev.tsv", "test.tsv"):
        changed = per_char = 0
        lines = []
        with open(os.path.join(HERE, "..", name), encoding="utf-8") as handle:
            for line in handle:
                if not line.strip():
                    continue
                text, labels = line.rstrip("\n").split("\t")
                converted = convert(text)
                if len(converted) != len(text):
                    converted = "".join(convert(c) if len(convert(c)) == 1 else c for c in text)
                    per_char += 1
                changed += converted != text
                lines.append(f"{converted}\t{labels}\n")
        with open(os.path.join(args.out, name), "w", encoding="utf-8") as handle:
            handle.writelines(lines)
        print(f"{name}: {len(lines)} lines, {changed} changed by {args.config}, "
              f"{per_char} converted character by character", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
