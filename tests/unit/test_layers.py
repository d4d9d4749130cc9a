"""The layer rule of docs/architecture.md, checked on the import graph of the whole package (grimp,
the graph library of import-linter): direct imports, including those inside functions.

- The scoring engine is pure: it imports no framework, no database and no other part of certify.
- Nothing but a view imports a view: areas share helpers through their non-view modules; the
  application factory (``certify``) registers the blueprints, and an area's package its own views'
  template helpers.
- Models import no services: a model module is imported by services, never the reverse.
"""

import grimp
import pytest

GRAPH = grimp.build_graph("certify", include_external_packages=True, cache_dir=None)  # never a stale graph
MODULES = sorted(m for m in GRAPH.modules if m == "certify" or m.startswith("certify."))
SERVICE_NAMES = ("services", "assignment", "scoring", "agencies", "conflicts", "registration")


def is_view(module: str) -> bool:
    return ".views" in module + "." and module.split(".")[-1] != "certify"


def is_package(module: str) -> bool:
    return bool(GRAPH.find_children(module))


def imports_of(module: str) -> set[str]:
    return GRAPH.find_modules_directly_imported_by(module)


def test_the_graph_covers_the_package():
    assert len(MODULES) > 140 and "certify.workflow" in MODULES and "certify.assessment.views.scoring" in MODULES


@pytest.mark.parametrize("module", [m for m in MODULES if m.startswith("certify.scoring")])
def test_the_scoring_engine_is_pure(module):
    outside = {imported for imported in imports_of(module)
               if not imported.startswith("certify.scoring")
               and (imported.startswith("certify") or imported.split(".")[0] in ("flask", "sqlalchemy", "flask_sqlalchemy"))}
    assert outside == set()


def test_nothing_but_a_view_imports_a_view():
    breaches = sorted(f"{importer} imports {imported}" for importer in MODULES
                      if importer != "certify" and not is_view(importer)
                      for imported in imports_of(importer) if is_view(imported)
                      and not (is_package(importer) and imported.startswith(importer + ".")))
    assert breaches == []


def test_models_import_no_services():
    breaches = sorted(f"{importer} imports {imported}" for importer in MODULES if importer.endswith(".models")
                      for imported in imports_of(importer)
                      if imported.startswith("certify.") and imported.split(".")[-1] in SERVICE_NAMES)
    assert breaches == []


def test_no_area_reaches_into_another_areas_views():
    breaches = sorted(f"{importer} imports {imported}" for importer in MODULES if is_view(importer)
                      for imported in imports_of(importer)
                      if is_view(imported) and imported.split(".")[1] != importer.split(".")[1])
    assert breaches == []


def _circles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The groups of modules that import one another round in a circle (Tarjan's strongly
    connected components with more than one module)."""
    index, low, stack, on_stack, circles = {}, {}, [], set(), []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for imported in edges[module]:
            if imported not in index:
                visit(imported)
                low[module] = min(low[module], low[imported])
            elif imported in on_stack:
                low[module] = min(low[module], index[imported])
        if low[module] == index[module]:
            group = []
            while not group or group[-1] != module:
                group.append(stack.pop())
                on_stack.discard(group[-1])
            if len(group) > 1:
                circles.append(sorted(group))

    for module in edges:
        if module not in index:
            visit(module)
    return circles


def test_no_import_circle_but_the_wiring():
    """Apart from the wiring — the application factory and each area's ``init_app`` in its
    package, which import what they register — no module imports, even inside a function, one
    that imports it back, directly or round a longer circle."""
    edges = {module: set() if is_package(module) else imports_of(module) & set(MODULES)
             for module in MODULES}
    assert _circles(edges) == []
    # The check finds a circle when there is one.
    assert _circles(edges | {"certify.workflow": edges["certify.workflow"] | {"certify.notifications"}}) == [
        ["certify.notifications", "certify.workflow"]]
