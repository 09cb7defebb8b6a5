"""A pack: features, links, rules, lists and policy loaded from YAML and checked together."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from shopguard.attributes import AttributeSpec, event_field_names, fact_types, key_names
from shopguard.attributes import load_attributes as load_attribute_specs
from shopguard.desensitize.cabinet import Catalog
from shopguard.desensitize.campaigns import CampaignBook
from shopguard.desensitize.schema import FACT_TYPES, NUM
from shopguard.errors import ConfigError
from shopguard.features import FeatureSpec, load_feature_specs
from shopguard.features.plan import FeaturePlan
from shopguard.links import LinkConfig, load_links, ring_names
from shopguard.policy import Policy, load_policy
from shopguard.rings.live import RING_TYPES
from shopguard.rules import RuleSet, load_rules
from shopguard.rules.bait import bait_rules
from shopguard.yamlio import load_yaml

PACK_FILES = (
    "pack.yaml",
    "features.yaml",
    "links.yaml",
    "rules.yaml",
    "lists.yaml",
    "policy.yaml",
    "bait.yaml",
    "catalog.yaml",
    "campaigns.yaml",
    "attributes.yaml",
)
# The item lists a pack extending another adds to: file -> (top-level key, identity key).
# An item whose identity matches one of the base pack's replaces it.
SECTIONS = {
    "features.yaml": ("features", "name"),
    "rules.yaml": ("rules", "id"),
    "bait.yaml": ("bait", "id"),
    "catalog.yaml": ("catalog", "sku"),
    "campaigns.yaml": ("campaigns", "campaign"),
    "lists.yaml": ("lists", None),
    "links.yaml": ("links", "kind"),
    "attributes.yaml": ("attributes", "name"),
}


@dataclass
class Pack:
    features: list[FeatureSpec]
    rules: RuleSet
    policy: Policy
    lists: list[dict[str, Any]]
    version: str
    schema: dict[str, str]
    catalog: Catalog | None = None
    campaigns: CampaignBook | None = None
    baits: list[dict[str, Any]] | None = None  # rules made from bait.yaml
    rules_text: str = ""  # rules.yaml as written: the first version of the ruleset
    links: LinkConfig = field(default_factory=LinkConfig)  # the link graph's (links.yaml)
    # the custom attributes events may carry (attributes.yaml; docs/attributes.md)
    attributes: dict[str, AttributeSpec] = field(default_factory=dict)

    @property
    def attribute_facts(self) -> dict[str, str]:
        """The declared attributes as facts (name -> num / str / bool)."""
        return fact_types(self.attributes)

    @property
    def attribute_keys(self) -> frozenset[str]:
        """The declared attributes a feature may be keyed by (categories and ids)."""
        return key_names(self.attributes)

    def compile_rules(self, text: str, version: str) -> RuleSet:
        """A new rules.yaml for this pack (its features, its bait), checked as at load:
        a ConfigError names the rule."""
        doc = _yaml(text, "rules.yaml") or {"rules": []}
        if not isinstance(doc, dict):
            raise ConfigError("rules.yaml must be a mapping with a `rules` list", "rules.yaml")
        own = doc.get("rules")
        if own is not None and not isinstance(own, list):
            raise ConfigError("`rules` must be a list of rules", "rules.yaml")
        if not own:  # publishing it would switch every rule off at once
            raise ConfigError("a ruleset needs at least one rule", "rules.yaml")
        doc = {**doc, "rules": [*own, *(self.baits or [])]}
        rules = load_rules(doc, self.schema, "rules.yaml")
        rules.version = version
        return rules


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


def _merge(base: dict[str, Any], own: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for name, doc in own.items():
        if not doc:
            continue
        section = SECTIONS.get(name)
        if section is None or not isinstance(doc, dict) or not isinstance(base.get(name), dict):
            merged[name] = doc  # policy.yaml, pack.yaml: the extending pack's wins
            continue
        key, ident = section
        items = list(base[name].get(key) or [])
        for item in doc.get(key) or []:
            same = [
                i
                for i, old in enumerate(items)
                if ident
                and isinstance(old, dict)
                and isinstance(item, dict)
                and old.get(ident) == item.get(ident)
            ]
            if same:
                items[same[0]] = item
            else:
                items.append(item)
        merged[name] = {**base[name], **{k: v for k, v in doc.items() if k != key}, key: items}
    return merged


def _docs(
    source: str | Path, texts: dict[str, str] | None, chain: tuple[str, ...] = ()
) -> tuple[dict[str, Any], str, set[str]]:
    """Every file of a pack parsed, with the packs it extends merged under it, the
    concatenated texts (for the version hash) and which files any layer has."""
    texts = texts if texts is not None else _read(source)
    docs = {name: _yaml(texts.get(name, ""), name) for name in PACK_FILES}
    text = "".join(texts.get(name, "") for name in PACK_FILES)
    present = set(texts)
    base = (docs.get("pack.yaml") or {}).get("extends")
    if base:
        if str(base) in chain:
            raise ConfigError(f"packs extend each other in a loop: {' -> '.join(chain)}")
        base_docs, base_text, base_present = _docs(str(base), None, (*chain, str(source)))
        docs, text = _merge(base_docs, docs), base_text + text
        present |= base_present
    return docs, text, present


def load_pack(source: str | Path = "starter", texts: dict[str, str] | None = None) -> Pack:
    """Load and cross-check a pack (a shipped pack's name or a directory). A pack whose
    pack.yaml says ``extends: <pack>`` adds to (and may replace items of) that pack."""
    docs, text, present = _docs(source, texts)
    if "rules.yaml" not in present:
        raise ConfigError(f"pack {source!s} has no rules.yaml")
    features = load_feature_specs(docs["features.yaml"], "features.yaml")
    links = load_links(docs["links.yaml"])
    rings = dict.fromkeys(ring_names(links), NUM)  # the ring read's values (shopguard.links)
    taken = {*FACT_TYPES, *event_field_names(), *RING_TYPES, *rings, "score", "_listed"}
    taken |= {spec.name for spec in features}
    attributes = load_attribute_specs(docs["attributes.yaml"], taken)
    facts = fact_types(attributes)
    # validates keys, fields and filters
    plan = FeaturePlan(features, facts=facts, keys=key_names(attributes))
    schema = {**FACT_TYPES, **facts, **plan.types, **rings, **RING_TYPES, "score": NUM}
    clash = set(plan.types) & (set(FACT_TYPES) | set(RING_TYPES))
    if clash:
        raise ConfigError(f"feature names shadow event facts: {sorted(clash)}", "features.yaml")
    clash = set(plan.types) & set(rings)
    if clash:
        raise ConfigError(f"feature names shadow ring values: {sorted(clash)}", "features.yaml")
    rules_doc = docs["rules.yaml"] or {"rules": []}
    baits = bait_rules(docs["bait.yaml"])
    if baits:
        rules_doc = {**rules_doc, "rules": [*(rules_doc.get("rules") or []), *baits]}
    rules = load_rules(rules_doc, schema, "rules.yaml")
    policy = load_policy(docs["policy.yaml"] or {"policy": {}})
    lists_doc = docs["lists.yaml"]
    entries = lists_doc.get("lists", []) if isinstance(lists_doc, dict) else []
    version = f"{rules.version}+{hashlib.sha256(text.encode()).hexdigest()[:10]}"
    rules.version = version
    catalog = Catalog.from_doc(docs["catalog.yaml"])
    campaigns = CampaignBook.from_doc(docs["campaigns.yaml"])
    rules_text = _rules_text(source, texts, docs)
    return Pack(
        features,
        rules,
        policy,
        list(entries or []),
        version,
        schema,
        catalog,
        campaigns,
        baits,
        rules_text,
        links,
        attributes,
    )


def _rules_text(source: str | Path, texts: dict[str, str] | None, docs: dict[str, Any]) -> str:
    """rules.yaml as written, or for a pack extending another the merged rules as YAML."""
    texts = texts if texts is not None else _read(source)
    if not (docs.get("pack.yaml") or {}).get("extends") and "rules.yaml" in texts:
        return texts["rules.yaml"]
    return str(yaml.safe_dump(docs["rules.yaml"], sort_keys=False, allow_unicode=True))
