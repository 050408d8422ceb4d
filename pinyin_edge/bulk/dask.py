"""Dask adapter: pinyin for a Dask bag of texts or of records, one ``map_partitions`` step.

    import dask.bag as db
    from pinyin_edge.bulk.dask import pinyin_bag, pinyin_records
    texts = db.read_text("corpus/*.txt.gz").map(str.rstrip)
    readings = pinyin_bag(texts, style="tone3")            # a bag of lists, one item per character
    records = pinyin_records(db.read_text("x.jsonl").map(json.loads), field="text")

Only the bundle's *path* travels with each task (a short string): every worker process loads the
bundle from its own disk on its first partition and keeps that G2P (one onnxruntime session) for
the rest of its life (:func:`worker_g2p`, cached per process and per model/threads/overrides). With
the threads scheduler the threads of one process share that G2P (it is thread-safe). Nothing here
starts a scheduler: run ``.compute()`` under the scheduler or ``distributed.Client`` you choose.
Needs the ``dask`` extra (``pip install 'pinyin-edge[dask]'``).
"""
from __future__ import annotations

import functools
import os
from typing import Iterable, List, Optional

_BATCH = 256


@functools.lru_cache(maxsize=4)
def worker_g2p(model: str, threads: int, overrides: Optional[str]):
    """This process's G2P for a bundle: loaded once, reused by every partition it converts."""
    from ..runtime.g2p import G2P

    return G2P(model=model, threads=threads, overrides=overrides)


def _convert(texts: List[str], model, threads, overrides, style, tone_sandhi) -> List[list]:
    g2p = worker_g2p(model, threads, overrides)
    out: List[list] = []
    for start in range(0, len(texts), _BATCH):
        out.extend(g2p.pinyin_batch(texts[start:start + _BATCH], style=style, tone_sandhi=tone_sandhi))
    return out


def _texts_partition(partition: Iterable[str], **options) -> List[list]:
    return _convert(list(partition), **options)


def _records_partition(partition: Iterable[dict], field: str, output_field: str, **options) -> List[dict]:
    records = [dict(r) for r in partition]
    for record, items in zip(records, _convert([r[field] for r in records], **options)):
        record[output_field] = items
    return records


def _options(model, threads: int, overrides, style, tone_sandhi: bool) -> dict:
    """Check what can be checked once, on the client, and resolve paths the workers will open."""
    from ..bundle import read_manifest, resolve_bundle
    from ..runtime.g2p import style_name

    path = os.path.abspath(resolve_bundle(model))
    read_manifest(path)  # a wrong path fails here, not in every task
    return {"model": path, "threads": int(threads), "style": style_name(style), "tone_sandhi": bool(tone_sandhi),
            "overrides": os.path.abspath(overrides) if overrides is not None else None}


def pinyin_bag(bag, *, model=None, style="tone3", tone_sandhi: bool = False, threads: int = 1, overrides=None):
    """A bag of texts -> a bag of item lists (``G2P.pinyin`` for each text, same order)."""
    return bag.map_partitions(_texts_partition, **_options(model, threads, overrides, style, tone_sandhi))


def pinyin_records(bag, field: str, *, output_field: str = "pinyin", model=None, style="tone3",
                   tone_sandhi: bool = False, threads: int = 1, overrides=None):
    """A bag of dicts -> copies with ``output_field`` set to the item list of ``record[field]``."""
    return bag.map_partitions(_records_partition, field=field, output_field=output_field,
                              **_options(model, threads, overrides, style, tone_sandhi))
