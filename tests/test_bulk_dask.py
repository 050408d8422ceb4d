"""The Dask adapter, for real in Dask's local schedulers, against the plain API on the shipped model."""
import os

import pytest

db = pytest.importorskip("dask.bag", reason="the dask extra is not installed")

from pinyin_edge import G2P  # noqa: E402
from pinyin_edge.bulk.dask import pinyin_bag, pinyin_records  # noqa: E402

HERE = os.path.dirname(__file__)


@pytest.fixture(scope="module")
def texts():
    """3,000 project-written sentences: the regression texts, then pairs of them."""
    with open(os.path.join(HERE, "regression", "texts.txt"), encoding="utf-8") as handle:
        base = [line.rstrip("\n") for line in handle]
    return base + [base[i % len(base)] + base[(i * 7 + 3) % len(base)] for i in range(3000 - len(base))]


@pytest.fixture(scope="module")
def expected(texts):
    return G2P().pinyin_batch(texts, style="tone", tone_sandhi=True)


def test_processes_scheduler_matches_the_api(texts, expected):
    bag = pinyin_bag(db.from_sequence(texts, npartitions=8), style="tone", tone_sandhi=True)
    assert bag.compute(scheduler="processes", num_workers=2) == expected


def test_threads_scheduler_records(texts, expected):
    records = [{"id": i, "text": t} for i, t in enumerate(texts)]
    bag = pinyin_records(db.from_sequence(records, npartitions=6), "text", output_field="py",
                         style="tone", tone_sandhi=True)
    got = bag.compute(scheduler="threads", num_workers=2)
    assert got == [dict(r, py=items) for r, items in zip(records, expected)]
    assert records[0] == {"id": 0, "text": texts[0]}  # the input records are not changed


def test_wrong_model_fails_on_the_client():
    with pytest.raises(ValueError, match="no such model bundle"):
        pinyin_bag(db.from_sequence(["银行"]), model="/nonexistent/bundle")
