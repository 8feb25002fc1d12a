"""The import rules of docs/architecture.md, read from the code itself."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

STUDIO = Path(__file__).resolve().parent.parent / "studio"

JOBS = ("jobs", "submission", "task_updates", "results", "follower", "health")
DOMAIN = ("models", "budgets", "staging", "teams", "access", "images", "input_links")
ABOVE_DOMAIN = ("views", "forms", *JOBS)


def modules(*names: str) -> list[Path]:
    found = []
    for name in names:
        path = STUDIO / name
        found += sorted(path.rglob("*.py")) if path.is_dir() else [path.with_suffix(".py")]
    return [p for p in found if p.exists()]


def studio_imports(path: Path) -> set[str]:
    """Every studio module `path` imports, at the top or inside a function."""
    tree = ast.parse(path.read_text(), str(path))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names |= {f"{node.module}.{alias.name}" for alias in node.names}
    return {name for name in names if name == "studio" or name.startswith("studio.")}


def breaks(path: Path, allowed=(), forbidden=()) -> list[str]:
    wrong = []
    for name in studio_imports(path):
        parts = name.split(".")
        layer = parts[1] if len(parts) > 1 else ""
        if allowed and not any(name == a or name.startswith(a + ".") for a in allowed):
            if name != "studio":
                wrong.append(name)
        if layer in forbidden:
            wrong.append(name)
    return sorted(set(wrong))


@pytest.mark.parametrize("path", modules("vidu"), ids=lambda p: p.name)
def test_provider_dialects_import_nothing_else_of_the_studio(path):
    assert breaks(path, allowed=("studio.vidu",)) == []


@pytest.mark.parametrize("path", modules("catalog"), ids=lambda p: p.name)
def test_the_catalog_imports_nothing_else_of_the_studio(path):
    assert breaks(path, allowed=("studio.catalog",)) == []


def test_forms_never_import_the_jobs_layer():
    assert breaks(STUDIO / "forms.py", forbidden=JOBS + ("views",)) == []


@pytest.mark.parametrize("path", modules(*JOBS), ids=lambda p: p.name)
def test_jobs_never_import_views_or_forms(path):
    assert breaks(path, forbidden=("views", "forms")) == []


@pytest.mark.parametrize("path", modules(*DOMAIN), ids=lambda p: p.name)
def test_the_domain_imports_nothing_above_it(path):
    assert breaks(path, forbidden=ABOVE_DOMAIN) == []


def test_the_rules_read_real_imports():
    """The reader is not blind: the views do import the domain and the jobs."""
    seen = set().union(*(studio_imports(p) for p in modules("views")))
    assert "studio.models" in seen and "studio.jobs" in seen
