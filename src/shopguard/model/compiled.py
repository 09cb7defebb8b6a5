"""A LightGBM model compiled to machine code with lleaves (LLVM), for scoring one event
at a time: ~7-10 µs a row for 300 trees where ``Booster.predict`` costs ~40-100 µs, nearly
all of it per-call overhead (``python bench/scorers.py``).

lleaves' categorical node is compiled with its own bitset test (``_bitset_node``): the
same bits and branches, without the constant vectors that made a one-row call pay for
every categorical node of the forest (docs/models.md, "Speed").

The object code is built for this CPU, so it is cached beside the model under a name
holding the model text's digest and the CPU's name and features: a data directory moved to
another machine recompiles instead of running foreign instructions. It is written to a
temporary name and renamed, so workers starting together never read half a file."""

from __future__ import annotations

import ctypes
import hashlib
import os
from pathlib import Path
from typing import Any

import lleaves
import llvmlite.binding as llvm
from lleaves.compiler.codegen import codegen
from llvmlite import ir

from shopguard.errors import ConfigError


def _host() -> str:
    llvm.initialize_native_target()
    features = llvm.get_host_cpu_features().flatten()
    return f"{llvm.get_host_cpu_name()}-{hashlib.sha256(features.encode()).hexdigest()[:12]}"


# bumped when the generated code changes, so object code built before is not reused
CODEGEN = "bits1"


def cache_path(model_file: Path) -> Path:
    digest = hashlib.sha256(model_file.read_bytes()).hexdigest()[:16]
    return model_file.with_name(f"{model_file.stem}.{digest}.{CODEGEN}.{_host()}.o")


def _bitset_node(func: Any, head: Any, test: Any, node: Any, test_block: Any, right: Any) -> Any:
    """lleaves' categorical node (``codegen._populate_categorical_node_block``, same
    signature) with the bitset's 32-bit words as immediates picked by a chain of selects,
    where lleaves indexes a constant vector (``extractelement``). LLVM loads such a vector
    from the constant pool, and under the large code model hoists every load, with its
    stack spill, to the entry of the forest's loop: a one-row call then pays for every
    categorical node of the forest, visited or not. A code at or past the bitset's end,
    or a missing one (lleaves passes it as the lowest int), goes right, as in lleaves."""
    i32 = ir.IntType(32)
    code = func.args[node.split_feature]
    words = [ir.Constant(i32, w) for w in node.cat_threshold]
    head.cbranch(
        head.icmp_unsigned("<", code, ir.Constant(i32, 32 * len(words))), test_block, right
    )
    index = test.lshr(code, ir.Constant(i32, 5))
    word = words[-1]
    for i in range(len(words) - 2, -1, -1):
        word = test.select(test.icmp_unsigned("==", index, ir.Constant(i32, i)), words[i], word)
    return test.trunc(test.lshr(word, test.and_(code, ir.Constant(i32, 31))), ir.IntType(1))


def _compile(model: lleaves.Model, cache: str | None) -> None:
    # lleaves (pinned to 1.3.0 in pyproject) has no hook for this: its module function is
    # swapped for the compile. Two threads compiling at once could restore it under the
    # other, which would then get lleaves' node: slower, scoring the same.
    original = codegen._populate_categorical_node_block
    codegen._populate_categorical_node_block = _bitset_node
    try:
        model.compile(cache=cache)
    finally:
        codegen._populate_categorical_node_block = original


class CompiledForest:
    """``predict(row)`` for one row of float64 values in the model's feature order (NaN is
    missing: the learned default branch, as in LightGBM). Returns the probability."""

    def __init__(self, model_file: Path) -> None:
        self._model = lleaves.Model(model_file=str(model_file))
        self.n_features: int = self._model.num_feature()
        if self._model.num_model_per_iteration() != 1:
            raise ConfigError(f"{model_file}: only binary models can score decisions")
        target = cache_path(model_file)
        if target.exists():
            _compile(self._model, str(target))
        else:
            temporary = target.with_name(f"{target.name}.{os.getpid()}.tmp")
            try:
                _compile(self._model, str(temporary))
                os.replace(temporary, target)
            except OSError:  # a read-only model directory: compile in memory every load
                temporary.unlink(missing_ok=True)
                _compile(self._model, None)
        self.row = (ctypes.c_double * self.n_features)()
        self._out = (ctypes.c_double * 1)()
        self._entry = self._model._c_entry_func

    def predict(self) -> float:
        """Score what was written into ``row``."""
        self._entry(self.row, self._out, 0, 1)
        return float(self._out[0])
