"""pinyin-edge: context-aware Chinese character-to-pinyin on a tiny int8 ONNX model.

Light on import: the runtime classes load on first use, and torch never loads here. Every name of
pypinyin's ``__all__`` (``pinyin``, ``lazy_pinyin``, ``slug``, ``load_phrases_dict``, ``Style``,
``STYLE_TONE``, ...) is here too, with pypinyin's signature (:mod:`pinyin_edge.runtime.compat`).
"""
__version__ = "0.1.0"

_PYPINYIN_NAMES = (
    "pinyin", "lazy_pinyin", "slug", "load_single_dict", "load_phrases_dict", "Style",
    "STYLE_NORMAL", "NORMAL", "STYLE_TONE", "TONE", "STYLE_TONE2", "TONE2", "STYLE_TONE3", "TONE3",
    "STYLE_INITIALS", "INITIALS", "STYLE_FINALS", "FINALS", "STYLE_FINALS_TONE", "FINALS_TONE",
    "STYLE_FINALS_TONE2", "FINALS_TONE2", "STYLE_FINALS_TONE3", "FINALS_TONE3",
    "STYLE_FIRST_LETTER", "FIRST_LETTER", "STYLE_BOPOMOFO", "BOPOMOFO",
    "STYLE_BOPOMOFO_FIRST", "BOPOMOFO_FIRST", "STYLE_CYRILLIC", "CYRILLIC",
    "STYLE_CYRILLIC_FIRST", "CYRILLIC_FIRST",
)

__all__ = ["G2P", "EdgeConverter", "__version__", *_PYPINYIN_NAMES]


def __getattr__(name):
    if name == "G2P":
        from .runtime.g2p import G2P
        return G2P
    if name == "EdgeConverter":
        from .runtime.plugin import EdgeConverter
        return EdgeConverter
    if name in _PYPINYIN_NAMES:
        from .runtime import compat
        return getattr(compat, name)
    raise AttributeError(f"module 'pinyin_edge' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__))
