"""Doors open one way: the import graph of the app code, checked with `ast`.

Every `import` / `from ... import` counts, also one inside a function: an import hidden in a function
to dodge a cycle is still a cycle. Files under tests/ and migrations/ are left out.

(a) No import cycle between files may span two apps.
(b) An app imports its own files and lower layers only (LAYERS; `catalog.stock` is catalog).
(c) Selectors never import services and never write rows.

The one rule-based exception: a Celery task module may import its own app's services inside a
function (a task is a thin door; the services import the task module to queue it). No other
exception exists (EXCEPTIONS stays empty).
"""

import ast
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# Lower number = lower layer. The bottom three import no domain app.
LAYERS = {
    "config": 0,
    "common": 1,
    "notifications": 2,
    "idempotency": 1,
    "users": 3,
    "catalog": 4,
    "coupons": 5,
    "cart": 6,
    "orders": 7,
    "payments": 8,
    "reviews": 8,
    "demo": 9,  # demo data: buys, pays and reviews through every app's services; nothing imports it
}
APPS = tuple(LAYERS)
EXCLUDED_DIRS = {"tests", "migrations", "__pycache__"}
# (importing module, imported module) pairs allowed to break a rule. Keep it empty: fix the import.
EXCEPTIONS: frozenset[tuple[str, str]] = frozenset()
WRITE_METHODS = {
    "save", "create", "get_or_create", "update_or_create", "bulk_create", "bulk_update", "delete",
    "select_for_update",
}


@dataclass(frozen=True)
class Edge:
    source: str  # dotted module name of the importing file
    target: str  # dotted module name of the imported project module
    line: int
    in_function: bool

    @property
    def where(self) -> str:
        return f"{self.source}:{self.line} → {self.target}" + (" (inside a function)" if self.in_function else "")


def app_of(module: str) -> str:
    return module.split(".", 1)[0]


def project_modules(root: Path = ROOT) -> dict[str, Path]:
    """Every module of the apps: dotted name → file (a package is its __init__.py)."""
    modules = {}
    for app in APPS:
        for path in sorted((root / app).rglob("*.py")) if (root / app).is_dir() else []:
            relative = path.relative_to(root)
            if EXCLUDED_DIRS & set(relative.parts[:-1]):
                continue
            parts = list(relative.with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            modules[".".join(parts)] = path
    return modules


def _resolve(name: str, modules: dict[str, Path]) -> str | None:
    """The project module `name` refers to: itself, or the closest enclosing module (an attribute)."""
    while name:
        if name in modules:
            return name
        name = name.rpartition(".")[0]
    return None


def _imports(tree: ast.AST):
    """(node, in_function) for every import statement of a module, however deeply nested."""

    def visit(node: ast.AST, in_function: bool):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.Import | ast.ImportFrom):
                yield child, in_function
            nested = in_function or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda)
            yield from visit(child, nested)

    yield from visit(tree, False)


def import_edges(modules: dict[str, Path]) -> list[Edge]:
    """One edge per (importing module, imported project module, line)."""
    edges = {}
    for module, path in modules.items():
        is_package = path.name == "__init__.py"
        for node, in_function in _imports(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            else:
                base = node.module or ""
                if node.level:  # relative: from the importing module's package
                    package = module.split(".") if is_package else module.split(".")[:-1]
                    package = package[: len(package) - (node.level - 1)]
                    base = ".".join([*package, base] if base else package)
                names = [f"{base}.{alias.name}" for alias in node.names]
            for name in names:
                target = _resolve(name, modules)
                if target is not None and target != module:
                    edges.setdefault((module, target, node.lineno), Edge(module, target, node.lineno, in_function))
    return list(edges.values())


def is_task_door(edge: Edge) -> bool:
    """The one accepted function-level import: a task module importing its own app's services."""
    return (
        edge.in_function
        and edge.source.rpartition(".")[2] == "tasks"
        and app_of(edge.source) == app_of(edge.target)
    )


def counted_edges(modules: dict[str, Path]) -> list[Edge]:
    return [e for e in import_edges(modules) if not is_task_door(e) and (e.source, e.target) not in EXCEPTIONS]


def cross_app_cycles(edges: list[Edge]) -> list[list[str]]:
    """The strongly connected components (Tarjan) that hold modules of two or more apps."""
    graph = defaultdict(set)
    for edge in edges:
        graph[edge.source].add(edge.target)
    index, low, stack, on_stack, components = {}, {}, [], set(), []

    def connect(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                connect(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            components.append(sorted(component))

    for node in sorted(set(graph) | {t for targets in graph.values() for t in targets}):
        if node not in index:
            connect(node)
    return [c for c in components if len({app_of(m) for m in c}) > 1]


def upward_imports(edges: list[Edge]) -> list[Edge]:
    return [
        e for e in edges
        if app_of(e.source) != app_of(e.target) and LAYERS[app_of(e.target)] >= LAYERS[app_of(e.source)]
    ]


def _is_selectors(module: str) -> bool:
    return "selectors" in module.split(".")[1:]


def _is_services(module: str) -> bool:
    return "services" in module.split(".")[1:]


# --- The rules ----------------------------------------------------------------------------------------


def test_the_graph_sees_the_apps_and_function_level_imports():
    modules = project_modules()
    edges = import_edges(modules)
    assert {app_of(m) for m in modules} >= {"users", "catalog", "cart", "coupons", "orders", "payments", "reviews"}
    assert any(e.in_function for e in edges), "function-level imports must be part of the graph"


def test_no_import_cycle_spans_two_apps():
    cycles = cross_app_cycles(counted_edges(project_modules()))
    assert not cycles, "Import cycles across apps (make one side import the other, never both):\n" + "\n".join(
        " ⇄ ".join(cycle) for cycle in cycles
    )


def test_imports_only_go_down_the_layers():
    order = " ← ".join(f"{app}({rank})" for app, rank in LAYERS.items())
    wrong = upward_imports(counted_edges(project_modules()))
    assert not wrong, f"Imports from a layer to the same or a higher one ({order}):\n" + "\n".join(
        e.where for e in wrong
    )


def test_selectors_never_import_services():
    wrong = [e for e in import_edges(project_modules()) if _is_selectors(e.source) and _is_services(e.target)]
    assert not wrong, "Selectors read; they never import services:\n" + "\n".join(e.where for e in wrong)


def test_selectors_never_write():
    writes = []
    for module, path in project_modules().items():
        if not _is_selectors(module):
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in WRITE_METHODS:
                writes.append(f"{module}:{node.lineno} .{node.func.attr}()")
    assert not writes, "Selectors never write rows (or lock them):\n" + "\n".join(writes)


def test_there_are_no_exceptions_but_the_task_door():
    assert not EXCEPTIONS


def test_the_checks_catch_a_hidden_cycle_and_an_upward_import():
    hidden = Edge("orders.services", "payments.services", 1, in_function=True)
    back = Edge("payments.services", "orders.services", 1, in_function=False)
    assert cross_app_cycles([hidden, back]) == [["orders.services", "payments.services"]]
    assert upward_imports([hidden, back]) == [hidden]
    assert is_task_door(Edge("payments.tasks", "payments.services", 1, in_function=True))
    assert not is_task_door(Edge("payments.tasks", "payments.services", 1, in_function=False))
    assert not is_task_door(Edge("payments.tasks", "orders.services", 1, in_function=True))
