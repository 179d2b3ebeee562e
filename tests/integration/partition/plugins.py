"""The scripted strategy under a type of its own, so product-export stays the real one."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tests.support import ScriptedStrategy

if TYPE_CHECKING:
    from pathlib import Path

SCRIPTED = "scripted-export"


def scripted_export(services: object) -> ScriptedStrategy:
    """A `jobstream.strategies` entry point, loaded by the roles' processes."""
    return ScriptedStrategy(SCRIPTED)


def install(directory: Path) -> Path:
    """A dist-info naming `scripted_export`, for the roles' PYTHONPATH."""
    dist_info = directory / "jobstream_partition_tests-0.0.0.dist-info"
    dist_info.mkdir(parents=True, exist_ok=True)
    (dist_info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: jobstream-partition-tests\nVersion: 0.0.0\n"
    )
    (dist_info / "entry_points.txt").write_text(
        "[jobstream.strategies]\n"
        f"{SCRIPTED} = tests.integration.partition.plugins:scripted_export\n"
    )
    return directory
