"""A pack: features, rules, lists and policy loaded from YAML and checked together."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from shopguard.desensitize.cabinet import Catalog
from shopguard.desensitize.schema import FACT_TYPES, NUM
from shopguard.errors import ConfigError
from shopguard.features import FeatureSpec, load_feature_specs
from shopguard.features.plan import FeaturePlan
from shopguard.policy import Policy, load_policy
from shopguard.rules import RuleSet, load_rules
from shopguard.rules.bait import bait_rules
from shopguard.yamlio import load_yaml

PACK_FILES = (
    "features.yaml",
    "rules.yaml",
    "lists.yaml",
    "policy.yaml",
    "bait.yaml",
    "catalog.yaml",
)


@dataclass
class Pack:
    features: list[FeatureSpec]
    rules: RuleSet
    policy: Policy
    lists: list[dict[str, Any]]
    version: str
    schema: dict[str, str]
    catalog: Catalog | None = None


def _read(source: str | Path) -> dict[str, str]:
    path = Path(source)
    if not path.is_dir():
        shipped = resources.files("shopguard").joinpath(f"packs/{source}")
        if not shipped.is_dir():
            raise ConfigError(f"no pack {source!r}: neither a directory nor a shipped pack")
        return {
            n: shipped.joinpath(n).read_text() for n in PACK_FILES if shipped.joinpath(n).is_file()
        }
    return {n: (path / n).read_text() for n in PACK_FILES if (path / n).is_file()}


def _yaml(text: str, name: str) -> Any:
    try:
        return load_yaml(text) or {}
    except Exception as exc:  # yaml.YAMLError and its C twin
        raise ConfigError(f"invalid YAML: {exc}", name) from None


def load_pack(source: str | Path = "starter", texts: dict[str, str] | None = None) -> Pack:
    """Load and cross-check a pack (a shipped pack's name or a directory)."""
    texts = texts if texts is not None else _read(source)
    if "rules.yaml" not in texts:
        raise ConfigError(f"pack {source!s} has no rules.yaml")
    features = load_feature_specs(
        _yaml(texts.get("features.yaml", ""), "features.yaml"), "features.yaml"
    )
    plan = FeaturePlan(features)  # validates keys, fields and filters
    schema = {**FACT_TYPES, **plan.types, "score": NUM}
    clash = set(plan.types) & set(FACT_TYPES)
    if clash:
        raise ConfigError(f"feature names shadow event facts: {sorted(clash)}", "features.yaml")
    rules_doc = _yaml(texts["rules.yaml"], "rules.yaml")
    baits = bait_rules(_yaml(texts.get("bait.yaml", ""), "bait.yaml"))
    if baits:
        rules_doc = {**rules_doc, "rules": [*(rules_doc.get("rules") or []), *baits]}
    rules = load_rules(rules_doc, schema, "rules.yaml")
    policy = load_policy(_yaml(texts.get("policy.yaml", ""), "policy.yaml") or {"policy": {}})
    lists_doc = _yaml(texts.get("lists.yaml", ""), "lists.yaml")
    entries = lists_doc.get("lists", []) if isinstance(lists_doc, dict) else []
    digest = hashlib.sha256()
    for name in PACK_FILES:
        digest.update(texts.get(name, "").encode())
    version = f"{rules.version}+{digest.hexdigest()[:10]}"
    rules.version = version
    catalog = Catalog.from_doc(_yaml(texts.get("catalog.yaml", ""), "catalog.yaml"))
    return Pack(features, rules, policy, list(entries), version, schema, catalog)
