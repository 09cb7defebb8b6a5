"""The compiled build (setup.py, ``SHOPGUARD_COMPILE=1``): which modules it compiles, that
mypyc can take them, and, when CI runs the suite against that build, that it really is
the compiled code being tested."""

from __future__ import annotations

import ast
import importlib
import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "shopguard"


def hot_path() -> list[str]:
    tree = ast.parse((ROOT / "setup.py").read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "HOT_PATH":
            return [str(ast.literal_eval(item)) for item in node.value.elts]  # type: ignore[attr-defined]
    raise AssertionError("setup.py has no HOT_PATH")


def test_every_compiled_module_exists_and_defines_no_struct() -> None:
    modules = hot_path()
    assert "engine.py" in modules and "features/series.py" in modules
    for path in modules:
        source = PACKAGE / path
        assert source.exists(), path
        for node in ast.walk(ast.parse(source.read_text())):
            if isinstance(node, ast.ClassDef):
                bases = [ast.unparse(base) for base in node.bases]
                # mypyc rewrites class bodies; msgspec's defaults and tagged unions break
                assert not any("Struct" in b for b in bases), f"{path}: {node.name}"


@pytest.mark.skipif(
    os.environ.get("SHOPGUARD_EXPECT_COMPILED") != "1", reason="the pure-Python run"
)
def test_the_suite_runs_against_the_compiled_modules() -> None:
    for path in hot_path():
        name = "shopguard." + path.removesuffix(".py").replace("/", ".")
        module = importlib.import_module(name)
        assert module.__file__ is not None and module.__file__.endswith(".so"), name
