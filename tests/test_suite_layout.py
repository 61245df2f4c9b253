"""The suite's own layout rules (docs/testing.md): a test module imports helpers, never another test module and never
a conftest; fixtures reach tests through pytest, not through imports."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.support.schedule import LONGEST_FIRST

TESTS = Path(__file__).resolve().parent


def _imported_modules(path: Path, root: Path) -> list[tuple[int, str]]:
    """(line, dotted name) of every import in ``path`` (a file under ``root``, the ``tests`` package): modules and
    the names taken from them; relative imports are resolved against the file's package."""
    package = path.relative_to(root.parent).with_suffix("").parts[:-1]
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = list(package[: len(package) - node.level + 1]) if node.level else []
            module = ".".join(base + ([node.module] if node.module else []))
            found += [(node.lineno, name) for name in [module, *(f"{module}.{a.name}" for a in node.names)]]
    return found


def violations(root: Path = TESTS) -> list[str]:
    out = []
    for path in sorted(root.rglob("*.py")):
        for line, name in _imported_modules(path, root):
            last = name.split(".")[-1]
            if name.startswith("tests.") and (last == "conftest" or last.startswith("test_")):
                out.append(f"{path.relative_to(root.parent)}:{line} imports {name}")
    return out


def test_no_test_module_or_conftest_is_imported():
    assert violations() == []


def test_the_files_scheduled_first_exist():
    assert [name for name in LONGEST_FIRST if not (TESTS.parent / name).is_file()] == []


def test_the_rule_sees_absolute_and_relative_imports(tmp_path):
    package = tmp_path / "tests" / "pkg"
    package.mkdir(parents=True)
    (package / "test_a.py").write_text("from .conftest import run\nfrom tests.pkg.test_b import helper\n"
                                       "import tests.other.conftest\nfrom tests.support.waiting import wait_until\n"
                                       "from . import test_c\n")
    assert violations(tmp_path / "tests") == [
        "tests/pkg/test_a.py:1 imports tests.pkg.conftest",
        "tests/pkg/test_a.py:2 imports tests.pkg.test_b",
        "tests/pkg/test_a.py:3 imports tests.other.conftest",
        "tests/pkg/test_a.py:5 imports tests.pkg.test_c",
    ]
