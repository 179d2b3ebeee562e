"""The strategy registry: lookups by type, and the jobstream.strategies entry points."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

from domain.errors import NotFoundError
from service.strategies.registry import StrategyRegistry, StrategyServices
from tests.support import ScriptedStrategy


def test_an_unknown_type_is_not_found_with_medusas_message() -> None:
    registry = StrategyRegistry([ScriptedStrategy("known")])

    with pytest.raises(NotFoundError) as refusal:
        registry.get("product-import")

    assert refusal.value.message == (
        "Unable to find a BatchJob strategy with the type product-import"
    )
    assert registry.get("known").batch_type == "known"
    assert registry.batch_types == ["known"]


def test_strategies_installed_as_entry_points_are_registered(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A real installed distribution, as pip would lay it out, on sys.path.
    (tmp_path / "plugin_strategies.py").write_text(
        "from tests.support import ScriptedStrategy\n"
        "def factory(services):\n"
        "    strategy = ScriptedStrategy('plugin-type')\n"
        "    strategy.services = services\n"
        "    return strategy\n"
    )
    dist_info = tmp_path / "plugin_strategies-1.0.dist-info"
    dist_info.mkdir()
    (dist_info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: plugin-strategies\nVersion: 1.0\n"
    )
    (dist_info / "entry_points.txt").write_text(
        "[jobstream.strategies]\nplugin-type = plugin_strategies:factory\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    services = StrategyServices(app=Any, settings=Any, files=Any, catalog=Any)  # type: ignore[arg-type]
    registry = StrategyRegistry()

    registry.load_entry_points(services)

    strategy: Any = registry.get("plugin-type")
    assert strategy.services is services
    monkeypatch.delitem(sys.modules, "plugin_strategies", raising=False)
