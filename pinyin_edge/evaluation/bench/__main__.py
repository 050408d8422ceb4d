"""``python -m pinyin_edge.evaluation.bench worker ...`` (what the runner starts) and ``render DIR
[--targets FILE]`` (bench.md and bench.png again from bench.json). The benchmark itself:
``pinyin-edge bench``."""
import sys


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["worker"] and len(argv) == 5:
        from .worker import worker_main

        return worker_main(argv[1:])
    if argv[:1] == ["render"] and len(argv) in (2, 4) and (len(argv) == 2 or argv[2] == "--targets"):
        from .report import render_dir

        render_dir(argv[1], argv[3] if len(argv) == 4 else None)
        return 0
    print("usage: python -m pinyin_edge.evaluation.bench render DIR [--targets FILE]   "
          "(the benchmark itself: pinyin-edge bench)", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
