"""Bulk conversion of whole corpora: ``pinyin-edge convert --input PATH... --output DIR``.

``readers`` (input formats, gzip, bad lines), ``shards`` (atomic shard files and the done-manifest),
``run`` (the worker pool and progress), ``dask`` (the same conversion as a Dask ``map_partitions``
step). Runtime layer: imports ``pinyin_edge.runtime`` only, never training, exporters or evaluation.
"""
