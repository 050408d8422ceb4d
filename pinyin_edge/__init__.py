"""pinyin-edge: context-aware Chinese character-to-pinyin on a tiny int8 ONNX model.

Light on import: the runtime classes load on first use, and torch never loads here.
"""
__version__ = "0.1.0"

__all__ = ["G2P", "lazy_pinyin", "pinyin", "EdgeConverter", "__version__"]


def __getattr__(name):
    if name == "G2P":
        from .runtime.g2p import G2P
        return G2P
    if name in ("lazy_pinyin", "pinyin", "EdgeConverter"):
        from .runtime import plugin
        return getattr(plugin, name)
    raise AttributeError(f"module 'pinyin_edge' has no attribute {name!r}")
