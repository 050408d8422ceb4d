"""Overrides files: a UTF-8 byte order mark starts any line, not only the first (concatenated files)."""
from pinyin_edge import G2P
from pinyin_edge.runtime.g2p import read_overrides


def test_bom_on_any_line_is_not_part_of_the_phrase(tmp_path):
    path = tmp_path / "joined.tsv"
    path.write_bytes("\ufeff银行\tyin2 xing2\n\ufeff长\tchang2\r\n\ufeff# a comment after a BOM\n".encode("utf-8"))
    assert read_overrides(path) == {"银行": ("yin2", "xing2"), "长": ("chang2",)}
    g2p = G2P(overrides=str(path))
    assert g2p.pinyin("银行长") == ["yin2", "xing2", "chang2"]
    assert [a.source for a in g2p.annotate("银行长")] == ["user"] * 3
