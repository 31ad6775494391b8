"""The layer map of docs/architecture.md holds, and its contracts catch the imports that would break it."""

import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")
PACKAGES = ("claude_assets", "checks", "resources", "simulator", "demo", "bench", "docgen", "tests")


def lint_imports(tree: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", str(tree / ".importlinter")],
        cwd=tree,
        env={"PYTHONPATH": str(tree), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture(scope="module")
def tree(tmp_path_factory) -> Path:
    """A copy of the project's packages and contracts, to break on purpose."""
    copy = tmp_path_factory.mktemp("tree")
    for name in PACKAGES:
        shutil.copytree(ROOT / name, copy / name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / ".importlinter", copy / ".importlinter")
    return copy


def test_the_contracts_hold():
    done = lint_imports(ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 broken" in done.stdout


@pytest.mark.parametrize(
    ("module", "line", "broken"),
    [
        # checks reading the ingest machinery would be an upward import
        ("checks/window.py", "from claude_assets.ingest import runner", "Product layers"),
        # one source family using another's internals
        (
            "claude_assets/ingest/console/fetch.py",
            "from claude_assets.ingest.enterprise_reports import rows",
            "Product layers",
        ),
        # the declarations importing the asset definitions: a circle inside a source package
        (
            "claude_assets/ingest/console/tables.py",
            "from claude_assets.ingest.console import assets",
            "No import circle",
        ),
        # the product reaching for the simulator or the demo
        ("claude_assets/partitions.py", "import simulator.clock", "never imports the simulator"),
        ("resources/client.py", "import demo.settings", "never imports the simulator"),
        # the product reaching for the documentation generator (it reads the product, never the reverse)
        ("claude_assets/config.py", "import docgen", "never imports the simulator"),
        # the simulator importing the product
        ("simulator/clock.py", "import claude_assets.config", "imports nothing of the project"),
        # a data generator reaching up to the HTTP routes
        ("simulator/generators/cache.py", "import simulator.routes.paging", "Simulator layers"),
        # a module of the product package outside the layer map
        ("claude_assets/stray.py", "", "has its place in the layer map"),
    ],
)
def test_a_forbidden_import_breaks_a_contract(tree, module, line, broken):
    path = tree / module
    before = path.read_text() if path.exists() else None
    path.write_text((before or '"""A module."""\n') + f"\n{line}  # noqa\n")
    try:
        done = lint_imports(tree)
    finally:
        if before is None:
            path.unlink()
        else:
            path.write_text(before)
    assert done.returncode != 0
    broken_lines = [ln for ln in done.stdout.splitlines() if "BROKEN" in ln]
    assert broken_lines, done.stdout
    assert broken in done.stdout.replace("\n", " "), done.stdout


def test_every_package_is_listed_for_installation():
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = {
        ".".join(init.parent.relative_to(ROOT).parts)
        for name in ("claude_assets", "checks", "resources", "simulator", "demo", "docgen")
        for init in (ROOT / name).rglob("__init__.py")
        if "__pycache__" not in init.parts
    }
    assert found == listed
