"""``pinyin-edge bench``: accuracy, latency, throughput, cold start, memory and size of every system,
measured in one run so that ratios between them mean something (docs/benchmarks.md: the method).

- inputs.py: how much to measure (:class:`Plan`) and the inputs every system gets (the first
  ``--data`` file, else the speed text shipped here);
- catalog.py: what each system runs on, or why it is skipped; node.py: the npm peers and their output;
- worker.py (Python) and node/worker.js (the node peers): one system, one measurement, in a fresh
  process; runner.py starts them, interleaves the timing rounds and assembles the report;
- stats.py: percentiles and the best-of-rounds figures; accuracy.py: scoring through ``eval``'s path;
- targets.py: ratios and the targets file; report.py: bench.json and bench.md; plot.py: bench.png.

Nothing is imported here until asked for: a worker process measures its own imports.
"""
__all__ = ["BenchConfig", "FULL", "KINDS", "Plan", "QUICK", "SCHEMA", "SYSTEM_NAMES", "default_out", "run_bench",
           "time_batched", "time_calls"]


def __getattr__(name):
    if name in ("FULL", "KINDS", "QUICK", "Plan"):
        from . import inputs
        return getattr(inputs, name)
    if name in ("time_batched", "time_calls"):
        from . import worker
        return getattr(worker, name)
    if name in __all__:
        from . import runner
        return getattr(runner, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
