"""The layers of docs/architecture.md, read from the code itself: which folder may import
which, and no import circle anywhere in the studio, imports inside functions included."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
STUDIO = ROOT / "studio"

# Where Django looks for them: settings, the app's configuration and the WSGI entry point
# put the layers together, so they may name any of them.
COMPOSITION = {"studio.settings", "studio.apps", "studio.wsgi"}
# What each layer may import besides itself, lowest first. The domain is the top-level
# modules of studio/ (models, teams, budgets, staging, access, images, ...).
LAYERS = {
    "vidu": set(),
    "catalog": set(),
    "simulator": {"catalog", "vidu"},
    "domain": {"catalog", "vidu"},
    "worker": {"domain", "catalog", "vidu"},
    "web": {"worker", "domain", "catalog", "vidu"},
    "management": {"web", "worker", "domain", "catalog", "vidu", "simulator"},
}
# The web reaches the worker only to queue work, act on a person's decision (cancel,
# retry a copy), read a callback (its payload, its report) and report on the queue's health.
WEB_USES_OF_THE_WORKER = {
    "queue",
    "cancelling",
    "copying",
    "reports",
    "connections",
    "payloads",
    "submission",
    "health",
}


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def studio_modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(STUDIO.rglob("*.py")) if "migrations" not in p.parts}


MODULES = studio_modules()


def layer_of(module: str) -> str:
    parts = module.split(".")
    if len(parts) > 1 and parts[1] in LAYERS:
        return parts[1]
    return "composition" if module in COMPOSITION else "domain"


def imported_modules(source: str, here: str, known=MODULES, package: str = "") -> set[str]:
    """Every studio module `source` imports, at the top or inside a function: each name
    resolved to the module it is (`from studio.worker import queue` is studio.worker.queue),
    or else to the package that defines it."""
    names = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: from the package `here` is in, or above it
                parts = (package or here.rpartition(".")[0]).split(".")
                parts = parts[: len(parts) - node.level + 1]
                base = ".".join(parts + ([base] if base else []))
            for alias in node.names:
                full = f"{base}.{alias.name}"
                names.add(full if full in known else base)
    found = set()
    for name in names:
        while name and name not in known:
            name = name.rpartition(".")[0]
        if name and name.startswith("studio") and name != here:
            found.add(name)
    return found


def import_graph(known=MODULES, read=lambda path: path.read_text()) -> dict[str, set[str]]:
    return {
        name: imported_modules(read(path), name, known, name if path.name == "__init__.py" else "")
        for name, path in known.items()
    }


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Each group of modules that import one another, directly or through others
    (Tarjan's strongly connected components, with more than one module)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


GRAPH = import_graph()


def test_there_is_no_import_circle_in_the_studio():
    assert circles(GRAPH) == []


def test_a_circle_is_found_even_through_an_import_inside_a_function():
    """The check is not blind: a lower module reaching up inside a function is a circle."""
    reports = MODULES["studio.worker.reports"]
    sneaky = reports.read_text() + "\n\ndef later():\n    from studio.worker import polling\n"

    def read(path):
        return sneaky if path == reports else path.read_text()

    found = circles(import_graph(read=read))
    assert ["studio.worker.polling", "studio.worker.reports"] in found


@pytest.mark.parametrize("module", sorted(MODULES), ids=str)
def test_each_layer_imports_only_the_layers_below_it(module):
    layer = layer_of(module)
    if layer == "composition":
        return
    wrong = sorted(
        target
        for target in GRAPH[module]
        if layer_of(target) != layer and layer_of(target) not in LAYERS[layer]
    )
    assert wrong == [], f"{module} ({layer}) may import only {sorted(LAYERS[layer])}"


def test_the_worker_never_imports_the_web():
    worker = [m for m in MODULES if layer_of(m) == "worker"]
    assert worker and not [m for m in worker if any(layer_of(t) == "web" for t in GRAPH[m])]


def test_the_forms_never_import_the_worker():
    forms = [m for m in MODULES if m.startswith("studio.web.forms")]
    assert forms and not [m for m in forms if any(layer_of(t) == "worker" for t in GRAPH[m])]


def test_the_web_uses_the_worker_only_to_queue_and_to_act_on_decisions():
    used = {
        target.split(".")[2]
        for module in MODULES
        if layer_of(module) == "web"
        for target in GRAPH[module]
        if layer_of(target) == "worker"
    }
    assert used <= WEB_USES_OF_THE_WORKER


def test_the_rules_read_real_imports():
    """The reader is not blind: the web does import the domain and the worker's queue."""
    seen = set().union(*(GRAPH[m] for m in MODULES if layer_of(m) == "web"))
    assert "studio.models" in seen and "studio.worker.queue" in seen
    assert "studio.vidu.base" in GRAPH["studio.worker.submission"]
