"""The import rules of docs/architecture.md, checked on the source so they cannot drift."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PROJECT = {"shared", "webapp", "bot", "lockstep"}


def imports(package: str) -> dict[str, set[str]]:
    """Top-level module names each file of `package` imports (relative imports resolved)."""
    found: dict[str, set[str]] = {}
    for path in sorted((ROOT / package).rglob("*.py")):
        names: set[str] = set()
        relative = path.relative_to(ROOT).with_suffix("").parts
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = relative[: len(relative) - node.level]
                    names.add(".".join([*base, node.module or ""]).rstrip("."))
                elif node.module:
                    names.add(node.module)
        found[str(path.relative_to(ROOT))] = names
    return found


def test_the_core_imports_only_the_standard_library_and_itself() -> None:
    for path, names in imports("shared/core").items():
        for name in names:
            top = name.split(".")[0]
            inside = name == "shared.core" or name.startswith("shared.core.")
            assert inside or top in sys.stdlib_module_names, f"{path} imports {name}"


def test_the_core_never_reads_the_clock_or_awaits() -> None:
    for path in (ROOT / "shared" / "core").rglob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            assert not isinstance(node, ast.Await | ast.AsyncFunctionDef), path
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
                call = f"{node.value.id}.{node.attr}"
                assert call not in {"time.time", "time.monotonic", "datetime.now"}, path
            if isinstance(node, ast.Name):
                assert node.id not in {"open", "input", "print"}, f"{path} uses {node.id}"


@pytest.mark.parametrize(
    ("package", "forbidden"),
    [
        ("shared", {"webapp", "bot", "lockstep"}),
        ("webapp", {"bot", "lockstep"}),
        ("bot", {"webapp", "lockstep"}),
    ],
)
def test_packages_keep_to_their_side(package: str, forbidden: set[str]) -> None:
    for path, names in imports(package).items():
        tops = {name.split(".")[0] for name in names} & PROJECT
        assert not tops & forbidden, f"{path} imports {tops & forbidden}"
