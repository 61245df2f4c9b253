"""The two sides of the fidelity tests stay apart (issue 13): the emulator writes its formats from StarRocks' source,
never from the product's code, and the emulator-side fidelity tests read them with boto3 and plain JSON, never with
the product's parsers. Otherwise the emulator could agree with the product where StarRocks does not.

Two checks: every import statement in those files, at any depth (a lazy import inside a function counts), names no
product module; and a fresh interpreter that imports all of them has loaded no product module (transitive imports).
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
EMULATOR = ROOT / "sr_airflow" / "testing" / "emulator"
FIDELITY = ROOT / "tests" / "fidelity"
# What either side may load of sr_airflow: the emulator itself and the test servers it writes to.
ALLOWED = ("sr_airflow.testing.emulator", "sr_airflow.testing.servers", "sr_airflow.testing.webhdfs")


def is_product(module: str) -> bool:
    if module in ("sr_airflow", "sr_airflow.testing") or not module.startswith("sr_airflow."):
        return False
    return not any(module == allowed or module.startswith(allowed + ".") for allowed in ALLOWED)


def module_name(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")


def emulator_side_files() -> list[Path]:
    return [*sorted(EMULATOR.rglob("*.py")), FIDELITY / "helpers.py", FIDELITY / "conftest.py",
            *sorted(FIDELITY.glob("test_emulator_*.py"))]


def imported(path: Path) -> list[tuple[int, str]]:
    """(line, module) of every import in ``path``, relative ones resolved against its package."""
    package = module_name(path).split(".")
    if path.name != "__init__.py":
        package = package[:-1]
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            module = ".".join(base + ([node.module] if node.module else []))
            found += [(node.lineno, name) for name in (module, *(f"{module}.{a.name}" for a in node.names))]
    return found


def product_imports(files: list[Path]) -> list[str]:
    return [f"{path.relative_to(ROOT)}:{line} imports {name}"
            for path in files for line, name in sorted(imported(path)) if is_product(name)]


def test_no_emulator_or_emulator_side_fidelity_file_imports_product_code():
    files = emulator_side_files()
    assert len(files) > 30 and all(f.is_file() for f in files)
    assert product_imports(files) == []


def test_importing_all_of_them_loads_no_product_module():
    modules = [module_name(p) for p in emulator_side_files() if p.name != "conftest.py"]
    probe = ("import importlib, json, sys\n"
             f"for name in {modules!r}:\n"
             "    importlib.import_module(name)\n"
             "print(json.dumps(sorted(m for m in sys.modules if m.startswith('sr_airflow'))))\n")
    answer = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert answer.returncode == 0, answer.stderr
    loaded = json.loads(answer.stdout.strip().splitlines()[-1])
    assert "sr_airflow.testing.emulator.metastore" in loaded  # the probe really imported the emulator
    assert [m for m in loaded if is_product(m)] == []


def test_the_rule_sees_lazy_relative_and_from_imports(tmp_path, monkeypatch):
    package = tmp_path / "sr_airflow" / "testing" / "emulator"
    package.mkdir(parents=True)
    (package / "writer.py").write_text(
        "from . import metastore\nfrom ..servers import S3Server\nimport sr_airflow.testing.emulator.layout\n"
        "def f():\n    from sr_airflow.engine import jobinfo\n"
        "from ... import storage\nfrom ...operators.backup import X\nfrom sr_airflow import engine\n")
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    assert product_imports([package / "writer.py"]) == [
        "sr_airflow/testing/emulator/writer.py:5 imports sr_airflow.engine",
        "sr_airflow/testing/emulator/writer.py:5 imports sr_airflow.engine.jobinfo",
        "sr_airflow/testing/emulator/writer.py:6 imports sr_airflow.storage",
        "sr_airflow/testing/emulator/writer.py:7 imports sr_airflow.operators.backup",
        "sr_airflow/testing/emulator/writer.py:7 imports sr_airflow.operators.backup.X",
        "sr_airflow/testing/emulator/writer.py:8 imports sr_airflow.engine",
    ]
