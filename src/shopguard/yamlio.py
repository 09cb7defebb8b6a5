"""YAML reading with YAML 1.2 booleans: ``on``/``off``/``yes``/``no`` stay strings.

(PyYAML follows YAML 1.1, where the key ``on:`` of every rule would become ``True``.)
"""

from __future__ import annotations

import re
from typing import Any, TypeVar

import msgspec
import yaml

from shopguard.errors import ConfigError

T = TypeVar("T")

_Base: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class Loader(_Base):  # type: ignore[misc]
    pass


Loader.yaml_implicit_resolvers = {
    key: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:bool"]
    for key, resolvers in _Base.yaml_implicit_resolvers.items()
}
Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool",
    re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
    list("tTfF"),
)


def load_yaml(text: str) -> Any:
    return yaml.load(text, Loader=Loader)


def convert_items(
    doc: Any, section: str, cls: type[T], label: str, key: str, source: str
) -> list[T]:
    """The ``section:`` list of a YAML document as structs, each checked by msgspec;
    errors name the item (``rules.yaml: rule farm: ...``) and duplicates are refused."""
    items = doc.get(section, []) if isinstance(doc, dict) else None
    if not isinstance(items, list):
        raise ConfigError(f"expected a top-level `{section}:` list", source)
    out: list[T] = []
    seen: set[str] = set()
    for i, item in enumerate(items):
        name = item.get(key, f"#{i}") if isinstance(item, dict) else f"#{i}"
        try:
            converted = msgspec.convert(item, cls)
        except msgspec.ValidationError as exc:
            raise ConfigError(str(exc), f"{source}: {label} {name}") from None
        if name in seen:
            raise ConfigError("defined twice", f"{label} {name}")
        seen.add(name)
        out.append(converted)
    return out
