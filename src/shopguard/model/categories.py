"""Clear-text categories as LightGBM's native categorical features.

A category column (channel, merchant, campaign, device OS, a pack's declared category
attributes...) reaches the model as an integer code per value: codes follow the values'
frequency in training (0 the most frequent), capped to the ``limit`` most frequent. The
encoding is stored in the model card; a value outside it (rare in training, or never seen)
is missing (NaN), which the trees send down their learned default branch, so scoring a
new merchant neither fails nor pretends to know it."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
from numpy.typing import NDArray

# the categories the engine's facts carry in clear (never a pseudonym: an account or a
# device id is an entity, not a category); ``type`` counts only when a set mixes types
BUILT_IN = ("channel", "merchant", "campaign", "device_os", "type")
LIMIT = 100  # codes per column: beyond, the long tail reads as missing


def category_names(pack: Any) -> tuple[str, ...]:
    """The built-ins and the pack's declared category attributes that are not personal:
    a personal attribute is stored as a pseudonym, a per-tenant keyed hash whose values
    are as many as the people behind them, which is an entity to link on, not a category
    a model could learn a weight for (and its codes in a card would be a list of
    pseudonyms kept beside the model)."""
    declared: Mapping[str, Any] = getattr(pack, "attributes", None) or {}
    attributes = [
        name
        for name, spec in declared.items()
        if getattr(spec, "type", None) == "category" and not getattr(spec, "personal", False)
    ]
    return (*BUILT_IN, *sorted(set(attributes) - set(BUILT_IN)))


def text(value: Any) -> str | None:
    """A scope value as its category text: one spelling for training and scoring
    (an attribute may hold a number or a flag as well as a string)."""
    if value is None or value.__class__ is str:
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def fit_encoding(values: Iterable[str | None], limit: int = LIMIT) -> list[str]:
    """The column's values, most frequent first (ties by value, so the same data gives
    the same codes), the ``limit`` most frequent; the code of a value is its index."""
    counts = Counter(v for v in values if v is not None)
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return [value for value, _ in ranked[:limit]]


def encode(values: Iterable[str | None], encoding: list[str]) -> NDArray[np.float64]:
    """Codes as floats, NaN for a value outside the encoding."""
    codes = {value: float(i) for i, value in enumerate(encoding)}
    nan = float("nan")
    return np.array([codes.get(v, nan) if v is not None else nan for v in values], np.float64)
