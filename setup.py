"""Build: pure Python by default. ``SHOPGUARD_COMPILE=1`` compiles the per-event hot path
with mypyc into C extensions (20-45 % more decisions per second; README, "Benchmark").

The compile type-checks against the installed dependencies, so build in an environment
that has ``.[dev]``, without build isolation:

    pip install -e '.[dev]'
    rm -rf build  # setuptools would package stale objects left in build/lib
    SHOPGUARD_COMPILE=1 pip wheel --no-build-isolation --no-deps -w dist .

Compiled modules keep their .py sources beside them; an editable install stays pure
Python, so an edited module is never shadowed by a stale build of it.
"""

import os
import sys

from setuptools import setup

# Modules every event runs through, one per line; each must type-check under mypy
# --strict and must not define msgspec Structs (mypyc rewrites class bodies, which
# msgspec's defaults and tagged unions do not survive). tests/test_compiled.py checks both.
HOT_PATH = [
    "engine.py",
    "events/decode.py",
    "model/gbm.py",
    "model/scorer.py",
    "desensitize/desensitizer.py",
    "desensitize/email.py",
    "desensitize/keys.py",
    "desensitize/network.py",
    "desensitize/phone.py",
    "effects/apply.py",
    "effects/dedupe.py",
    "features/access.py",
    "features/baseline.py",
    "features/distinct.py",
    "features/kinds/base.py",
    "features/kinds/baseline.py",
    "features/kinds/distinct.py",
    "features/kinds/outstanding.py",
    "features/kinds/pending.py",
    "features/kinds/ratio.py",
    "features/kinds/runs.py",
    "features/kinds/series.py",
    "features/outstanding.py",
    "features/plan.py",
    "features/sequence.py",
    "features/series.py",
    "state/memory.py",
]

ext_modules = []
if os.environ.get("SHOPGUARD_COMPILE") == "1":
    if {"develop", "editable_wheel"} & set(sys.argv):
        # compiled modules beside their sources would shadow every later edit of them
        sys.exit("SHOPGUARD_COMPILE=1 builds wheels; an editable install stays pure Python")
    from mypyc.build import mypycify

    paths = [f"src/shopguard/{path}" for path in HOT_PATH]
    ext_modules = mypycify(paths, opt_level="3", group_name="shopguard")

setup(ext_modules=ext_modules)
