"""No import cycle among Jobstream's modules, type-checking imports included."""

from __future__ import annotations

import grimp

PACKAGES = ("service", "projections", "domain")


def import_cycles(graph: grimp.ImportGraph) -> list[tuple[str, ...]]:
    """One chain per cycle: a module, what it imports, ..., back to the module."""
    cycles: dict[frozenset[str], tuple[str, ...]] = {}
    for module in sorted(graph.modules):
        for imported in sorted(graph.find_modules_directly_imported_by(module)):
            back = graph.find_shortest_chain(importer=imported, imported=module)
            if back is not None:
                cycles.setdefault(frozenset(back), (module, *back))
    return sorted(cycles.values())


def test_no_module_imports_itself_through_others() -> None:
    graph = grimp.build_graph(*PACKAGES, exclude_type_checking_imports=False)

    assert import_cycles(graph) == []


def test_a_cycle_is_found_when_there_is_one() -> None:
    graph = grimp.ImportGraph()
    for module in ("service.a", "service.b", "service.c", "domain.d"):
        graph.add_module(module)
    graph.add_import(importer="service.a", imported="service.b")
    graph.add_import(importer="service.b", imported="service.c")
    graph.add_import(importer="service.c", imported="service.a")
    graph.add_import(importer="service.c", imported="domain.d")

    assert import_cycles(graph) == [
        ("service.a", "service.b", "service.c", "service.a")
    ]
