"""No import cycles between the modules of an app: within each of our apps, the graph of who
imports whom (imports at any level, those inside functions included) has no cycle. Importing
``pkg.mod`` counts as importing ``pkg`` too (its ``__init__`` runs), unless ``pkg`` is a
package the importer itself lives in. Imports under ``if TYPE_CHECKING:`` never run and are
left out."""

import ast
from pathlib import Path

from django.apps import apps

from tests.conftest import ROOT


def _modules(app_dir: Path, package: str) -> dict[str, Path]:
    found = {}
    for path in app_dir.rglob("*.py"):
        if "migrations" in path.parts:
            continue
        parts = list(path.relative_to(app_dir).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join([package, *parts])] = path
    return found


def _imported(tree: ast.AST, module: str, is_package: bool) -> set[str]:
    """Every module name an import statement in ``tree`` may load (``from x import y``: both
    ``x`` and ``x.y``)."""
    base = module if is_package else module.rpartition(".")[0]
    names: set[str] = set()
    type_only = {
        id(inner)
        for node in ast.walk(tree)
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)
        for statement in node.body
        for inner in ast.walk(statement)
    }
    for node in ast.walk(tree):
        if id(node) in type_only:
            continue
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                anchor = base.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                source = ".".join(anchor + ([node.module] if node.module else []))
            else:
                source = node.module or ""
            names.add(source)
            names.update(f"{source}.{alias.name}" for alias in node.names)
    return names


def _graph(modules: dict[str, Path]) -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for module, path in modules.items():
        is_package = path.name == "__init__.py"
        edges = set()
        for name in _imported(ast.parse(path.read_text()), module, is_package):
            parts = name.split(".")
            for end in range(1, len(parts) + 1):
                target = ".".join(parts[:end])
                own_package = module == target or module.startswith(target + ".")
                if target in modules and not own_package:
                    edges.add(target)
        graph[module] = edges
    return graph


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for target in sorted(graph[node]):
            if state.get(target) == 1:
                return [*path[path.index(target) :], target]
            if target not in state:
                found = visit(target)
                if found:
                    return found
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state:
            found = visit(node)
            if found:
                return found
    return None


def _our_apps() -> list[tuple[str, Path]]:
    return [
        (config.name, Path(config.path))
        for config in apps.get_app_configs()
        if Path(config.path).is_relative_to(ROOT) and ".venv" not in Path(config.path).parts
    ]


def test_the_graph_sees_cycles_through_packages_and_function_level_imports(tmp_path):
    app = tmp_path / "shop"
    (app / "services").mkdir(parents=True)
    (app / "__init__.py").write_text("")
    (app / "tasks.py").write_text("from .services import run\n")
    (app / "services" / "__init__.py").write_text("from .orders import run\n")
    (app / "services" / "orders.py").write_text(
        "from ..models import Order\n\ndef run():\n    from ..tasks import send\n"
    )
    (app / "models.py").write_text(
        "from typing import TYPE_CHECKING\n\nif TYPE_CHECKING:\n    from .tasks import send\n"
    )
    graph = _graph(_modules(app, "shop"))
    assert _cycle(graph) == ["shop.services", "shop.services.orders", "shop.tasks", "shop.services"]
    # A module importing a sibling through its own package is no cycle.
    (app / "services" / "orders.py").write_text("from shop.services.items import x\n")
    (app / "services" / "items.py").write_text("x = 1\n")
    assert _cycle(_graph(_modules(app, "shop"))) is None


def test_no_app_has_an_import_cycle():
    ours = _our_apps()
    assert {"charges", "webhooks", "realtime", "pagtracker.api"} <= {name for name, _ in ours}
    cycles = {}
    for name, path in ours:
        # A nested app (pagtracker.api) is its own unit, not part of its parent's.
        nested = [other for other, _ in ours if other.startswith(name + ".")]
        modules = {
            module: file
            for module, file in _modules(path, name).items()
            if not any(module == n or module.startswith(n + ".") for n in nested)
        }
        cycle = _cycle(_graph(modules))
        if cycle:
            cycles[name] = " -> ".join(cycle)
    assert cycles == {}
