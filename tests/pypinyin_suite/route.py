"""pytest plugin (``-p route``): sends pypinyin's public functions through pinyin-edge before
pypinyin's test modules import them. ``PINYIN_EDGE_ROUTE`` picks the route:

* ``pypinyin``: nothing changed (the baseline);
* ``dropin``: ``pypinyin.pinyin``, ``lazy_pinyin``, ``slug``, ``load_*`` are pinyin_edge's;
* ``converter``: pypinyin's own functions and ``Pinyin`` class run with :class:`EdgeConverter` in
  place of pypinyin's converters (its ``pinyin``/``lazy_pinyin`` build ``UltimateConverter``,
  ``slug`` and ``Pinyin()`` a ``DefaultConverter``).

``PINYIN_EDGE_OUTCOMES`` names a file that receives one JSON line per test: its id and outcome.
"""
import json
import os

import pytest

ROUTES = ("pypinyin", "dropin", "converter")
FUNCTIONS = ("pinyin", "lazy_pinyin", "slug", "load_single_dict", "load_phrases_dict")


def _route(name: str) -> None:
    if name == "pypinyin":
        return
    import pypinyin
    import pypinyin.core

    import pinyin_edge
    from pinyin_edge.runtime.plugin import EdgeConverter, shared_g2p

    g2p = shared_g2p()
    g2p.pinyin("银行")  # load the model and the dictionaries before any test touches pypinyin's modules
    if name == "dropin":
        for function in FUNCTIONS:
            setattr(pypinyin, function, getattr(pinyin_edge, function))
            setattr(pypinyin.core, function, getattr(pinyin_edge, function))
    elif name == "converter":
        class SharedEdgeConverter(EdgeConverter):
            def __init__(self, **kwargs):
                super().__init__(g2p=g2p, **kwargs)

        pypinyin.core.UltimateConverter = SharedEdgeConverter
        pypinyin.core.DefaultConverter = SharedEdgeConverter
        pypinyin.core._default_pinyin = pypinyin.core.Pinyin(SharedEdgeConverter())


def pytest_configure(config):
    name = os.environ.get("PINYIN_EDGE_ROUTE", "pypinyin")
    if name not in ROUTES:
        raise pytest.UsageError(f"PINYIN_EDGE_ROUTE={name!r}: choose one of {', '.join(ROUTES)}")
    _route(name)


def pytest_runtest_logreport(report):
    path = os.environ.get("PINYIN_EDGE_OUTCOMES")
    if not path:
        return
    if report.when == "call" or report.outcome != "passed":  # setup/teardown only when they fail or skip
        outcome = "skipped" if report.skipped else report.outcome
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(json.dumps({"id": report.nodeid, "when": report.when, "outcome": outcome,
                                     "message": report.longreprtext[-2000:] if report.failed else ""},
                                    ensure_ascii=False) + "\n")
