"""What the CLI commands that convert share (convert, bulk conversion, dict, serve): finding the
bundle a ``--model`` value names, loading a G2P with one-line errors, and the output line format.
Only click's error type is needed; the runtime loads inside the functions."""
from __future__ import annotations

import json
import os
from typing import Iterable, List

from ..clitools import UserError, guard


def bundle_path(model) -> str:
    """The bundle directory a --model value names (see bundle.resolve_bundle), or a one-line error."""
    from ..bundle import BUNDLED_MODELS, resolve_bundle

    path = resolve_bundle(model)
    if not os.path.exists(path):
        if model is None or model in BUNDLED_MODELS:
            raise UserError(f"the bundled model {model or 'default'} is not installed ({path} is missing); "
                            f"pass --model PATH to a bundle made by `pinyin-edge export`")
        raise UserError(f"{model}: no such model bundle directory; pass --model PATH to a bundle "
                        f"made by `pinyin-edge export`, or a bundled model's name ({', '.join(BUNDLED_MODELS)})")
    return path


def load_g2p(model, threads: int, overrides=None):
    from .g2p import G2P

    path = bundle_path(model)
    return guard(lambda: G2P(model=path, threads=threads, overrides=overrides))


def render_line(text: str, items: List[str], fmt: str) -> str:
    if fmt == "json":
        return json.dumps({"text": text, "pinyin": items}, ensure_ascii=False)
    return " ".join("" if char.isspace() else item for char, item in zip(text, items))


def render_parts(text: str, parts: Iterable[List[str]], fmt: str) -> Iterable[str]:
    """:func:`render_line` of ``text`` (newline included) in fragments, for items that come in parts."""
    if fmt == "json":
        yield '{"text": ' + json.dumps(text, ensure_ascii=False) + ', "pinyin": ['
    at = 0
    for items in parts:
        rendered = (", ".join(json.dumps(i, ensure_ascii=False) for i in items) if fmt == "json"
                    else render_line(text[at:at + len(items)], items, fmt))
        yield (("" if not at else ", " if fmt == "json" else " ") + rendered)
        at += len(items)
    yield "]}\n" if fmt == "json" else "\n"
