"""Reading a /metrics scrape in tests: every sample by name and labels."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from litestar.testing import TestClient
from prometheus_client.parser import text_string_to_metric_families

from tests.support import Caller

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def scrape(client: TestClient[Any], caller: Caller) -> Samples:
    response = client.get("/metrics", headers=caller.headers)
    assert response.status_code == 200, response.text
    return parse(response.text)


def parse(text: str) -> Samples:
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    """The sample's value; 0 for a series not exposed (yet)."""
    return samples.get((name, frozenset(labels.items())), 0.0)


def total(samples: Samples, name: str, **labels: str) -> float:
    """The sum of every series of `name` whose labels include `labels`."""
    wanted = set(labels.items())
    return sum(v for (n, ls), v in samples.items() if n == name and wanted <= ls)


DASHBOARD = Path(__file__).parents[3] / "deploy" / "grafana" / "jobstream.json"
# A series name in PromQL: what is not a function, keyword or label (those are
# followed by "(" or sit inside "{}"/"by ()"); Jobstream's all start with this.
SERIES = re.compile(r"\bjobstream_[a-z_]+\b")
SUFFIXES = {
    "counter": ("_total", "_created"),
    "histogram": ("_bucket", "_count", "_sum", "_created"),
}


def dashboard_series() -> set[str]:
    """Every series name the dashboard's queries use."""
    dashboard = json.loads(DASHBOARD.read_text())
    exprs = [t["expr"] for panel in dashboard["panels"] for t in panel["targets"]]
    assert exprs
    return {name for expr in exprs for name in SERIES.findall(expr)}


def exposed_series(text: str) -> set[str]:
    """Every series name a scrape declares, with or without samples yet."""
    names: set[str] = set()
    for family in text_string_to_metric_families(text):
        names.add(family.name)
        names.update(family.name + suffix for suffix in SUFFIXES.get(family.type, ()))
        names.update(sample.name for sample in family.samples)
    return names
