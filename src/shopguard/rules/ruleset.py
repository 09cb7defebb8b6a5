"""Rules as declared in YAML, compiled and indexed by event type, and their evaluation."""

from __future__ import annotations

import math
import re
import string
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Literal, TypeVar

import msgspec

from shopguard.decision import MAX_REASON, Reason
from shopguard.desensitize.schema import ENTITY_KINDS
from shopguard.errors import ConfigError
from shopguard.events.catalog import EVENT_TYPES
from shopguard.lists.ttl import parse_ttl
from shopguard.outcome import Action
from shopguard.rules.language import SAFE_GLOBALS, Compiled, compile_expression
from shopguard.yamlio import convert_items

_ID = re.compile(r"[a-z][a-z0-9_]{0,63}")
_CODE = re.compile(r"[A-Z][A-Z0-9_]{0,63}")
T = TypeVar("T")
# Lists in a rule are short: a YAML alias could otherwise repeat one long list in every rule.
Few = Annotated[list[T], msgspec.Meta(max_length=32)]
MAX_RULES = 1000  # per ruleset, bait included: compiling 1,000 takes a few tenths of a second
MAX_SCORE = 1_000_000.0  # |score| of one rule; a sum of MAX_RULES of them stays finite
MAX_TEMPLATE = 500  # characters of a reason template as written
# Format specs a reason may use: alignment, sign, a width and precision of two digits, a
# type (`{amount:.2f}`, `{share:>6.1%}`); nothing that pads to millions of characters.
_SPEC = re.compile(r"[<>^]?[+ -]?\d{0,2}[,_]?(?:\.\d{1,2})?[deEfFgGs%]?")


class ListEffect(msgspec.Struct, forbid_unknown_fields=True):
    """Put an entity of the event on a list when the rule fires (active mode only)."""

    add: Literal["deny", "watch", "allow"]
    entity: str | Few[str]  # one entity kind, or several: [account, device, ip, phone]
    ttl: str = "24h"
    escalate: Few[str] = []  # TTLs for the 2nd, 3rd... time the entity is caught

    @property
    def entities(self) -> tuple[str, ...]:
        return (self.entity,) if isinstance(self.entity, str) else tuple(self.entity)

    def ttl_for(self, strikes: int) -> float:
        """Seconds to list for; ``strikes`` is how many times it was listed before."""
        steps = [self.ttl, *self.escalate]
        return parse_ttl(steps[min(strikes, len(steps) - 1)])


class RuleSpec(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    id: str
    on: Few[str]
    when: str
    action: str
    reason: str
    score: float = 0.0
    code: str | None = None
    tags: Few[str] = []
    mode: Literal["active", "shadow"] = "active"
    recommend: Few[str] = []  # operator actions to suggest, e.g. pause_campaign
    effect: ListEffect | None = msgspec.field(default=None, name="list")
    description: Annotated[str, msgspec.Meta(max_length=2000)] = ""


@dataclass(eq=False)
class Rule:
    id: str
    code: str
    on: frozenset[str]
    when: Compiled
    action: Action
    score: float
    reason: str
    reason_names: tuple[str, ...]
    tags: tuple[str, ...]
    shadow: bool
    list_effect: ListEffect | None
    recommend: tuple[str, ...] = ()

    def explain(self, values: Mapping[str, Any]) -> str:
        try:
            text = self.reason.format_map(_Display(values))
        except (ValueError, TypeError, OverflowError):
            return self.reason
        return text if len(text) <= MAX_REASON else text[: MAX_REASON - 1] + "…"


class _Display(dict[str, Any]):
    def __init__(self, values: Mapping[str, Any]) -> None:
        super().__init__()
        self._source = values

    def __missing__(self, key: str) -> Any:
        value = self._source.get(key)
        if value is None:
            return "n/a"
        return round(value, 2) if isinstance(value, float) else value


@dataclass
class RuleHit:
    rule: Rule
    reason: str

    def as_reason(self) -> Reason:
        rule = self.rule
        return Reason(
            rule.id, rule.code, str(rule.action), rule.score, self.reason, list(rule.tags)
        )


def _compile(spec: RuleSpec, schema: Mapping[str, str]) -> Rule:
    where = f"rule {spec.id}"
    if not _ID.fullmatch(spec.id):
        raise ConfigError("id must be lower_snake_case", where)
    code = spec.code or spec.id.upper()
    if not _CODE.fullmatch(code):
        raise ConfigError(f"reason code {code!r} must be UPPER_SNAKE_CASE", where)
    for event_type in spec.on:
        if event_type not in EVENT_TYPES:
            raise ConfigError(f"unknown event type {event_type!r}", where)
    if not spec.on:
        raise ConfigError("`on` must name at least one event type", where)
    try:
        action = Action.parse(spec.action)
    except ConfigError as exc:
        raise ConfigError(str(exc), where) from None
    if not math.isfinite(spec.score) or abs(spec.score) > MAX_SCORE:
        raise ConfigError(f"score must be a number from -{MAX_SCORE:g} to {MAX_SCORE:g}", where)
    when = compile_expression(spec.when, schema, where, ENTITY_KINDS)
    names = _template_names(spec.reason, schema, where)
    for recommendation in spec.recommend:
        if not _ID.fullmatch(recommendation):
            raise ConfigError(f"recommendation {recommendation!r} must be lower_snake_case", where)
    effect = spec.effect
    if effect is not None:
        for entity in effect.entities:
            if entity not in ENTITY_KINDS:
                raise ConfigError(f"list effect on unknown entity {entity!r}", where)
        for ttl in [effect.ttl, *effect.escalate]:
            try:
                parse_ttl(ttl)
            except ConfigError as exc:
                raise ConfigError(str(exc), where) from None
    return Rule(
        spec.id,
        code,
        frozenset(spec.on),
        when,
        action,
        spec.score,
        spec.reason,
        tuple(names),
        tuple(spec.tags),
        spec.mode == "shadow",
        effect,
        tuple(spec.recommend),
    )


def _template_names(reason: str, schema: Mapping[str, str], where: str) -> list[str]:
    """The values a reason template shows; a template that could render huge is refused."""
    if len(reason) > MAX_TEMPLATE:
        raise ConfigError(f"reason longer than {MAX_TEMPLATE} characters", where)
    names = []
    try:
        parsed = list(string.Formatter().parse(reason))
    except ValueError as exc:  # an unmatched brace
        raise ConfigError(f"reason template: {exc}", where) from None
    for _, field, spec, conversion in parsed:
        if field is None:
            continue
        if conversion not in (None, "r", "s", "a"):
            raise ConfigError(f"reason conversion !{conversion} unknown; use !r or !s", where)
        if field not in schema:
            raise ConfigError(f"reason names unknown value {{{field}}}", where)
        if spec and not _SPEC.fullmatch(spec):
            raise ConfigError(
                f"reason format {{{field}:{spec}}} not allowed; use e.g. {{{field}:.2f}}", where
            )
        names.append(field)
    return names


class RuleSet:
    """Compiled rules indexed by event type: a coupon rule costs nothing on a login."""

    def __init__(self, rules: Iterable[Rule], version: str) -> None:
        self.rules = list(rules)
        self.version = version
        self.by_type: dict[str, tuple[Rule, ...]] = {
            t: tuple(r for r in self.rules if t in r.on) for t in EVENT_TYPES
        }
        self._evaluators = {t: combine(rules, t) for t, rules in self.by_type.items() if rules}

    def names_by_type(self) -> dict[str, set[str]]:
        """Every name each event type's rules read (features among them get computed)."""
        out: dict[str, set[str]] = {}
        for event_type, rules in self.by_type.items():
            names: set[str] = set()
            for rule in rules:
                names |= rule.when.names
                names.update(rule.reason_names)
            out[event_type] = names
        return out

    def evaluate(
        self, event_type: str, values: Mapping[str, Any]
    ) -> tuple[list[RuleHit], list[RuleHit], list[tuple[str, str]]]:
        """(active hits, shadow hits, errors as (rule id, message)); errors never raise."""
        rules = self.by_type[event_type]
        if not rules:
            return [], [], []
        fired, failed = self._evaluators[event_type](values)
        hits: list[RuleHit] = []
        shadow: list[RuleHit] = []
        for i in fired:
            rule = rules[i]
            (shadow if rule.shadow else hits).append(RuleHit(rule, rule.explain(values)))
        errors = []
        if failed:
            errors = [(rules[i].id, f"{type(exc).__name__}: {exc}") for i, exc in failed]
        return hits, shadow, errors


Evaluator = Callable[[Mapping[str, Any]], tuple[list[int], list[tuple[int, Exception]] | None]]


def combine(rules: tuple[Rule, ...], event_type: str) -> Evaluator:
    """One function evaluating every rule of an event type: each name is fetched once, then
    each condition runs in its own ``try`` so a rule that raises is reported and skipped."""
    names = sorted(set().union(*(r.when.names for r in rules)))
    lines = ["def _evaluate(v):", "    g = v.get"]
    lines += [f"    n_{name} = g({name!r})" for name in names]
    if any(r.when.uses_lists for r in rules):
        lines.append("    L = g('_listed', ())")
    lines += ["    fired = []", "    failed = None"]
    namespace: dict[str, Any] = {**SAFE_GLOBALS, "Exception": Exception}
    for i, rule in enumerate(rules):
        namespace[f"K{i}"] = rule.when.consts
        lines += [
            "    try:",
            f"        if {rule.when.code.replace('K[', f'K{i}[')}:",
            f"            fired.append({i})",
            "    except Exception as exc:",
            "        failed = failed or []",
            f"        failed.append(({i}, exc))",
        ]
    lines.append("    return fired, failed")
    # Generated only from checked syntax trees; strings live in the K tuples, never inline.
    exec(compile("\n".join(lines) + "\n", f"<rules for {event_type}>", "exec"), namespace)
    evaluate: Evaluator = namespace["_evaluate"]
    return evaluate


def load_rules(doc: Any, schema: Mapping[str, str], source: str = "rules") -> RuleSet:
    specs = convert_items(doc, "rules", RuleSpec, "rule", "id", source)
    if len(specs) > MAX_RULES:
        raise ConfigError(f"{len(specs):,} rules; a ruleset holds at most {MAX_RULES:,}", source)
    rules = [_compile(spec, schema) for spec in specs]
    codes = [r.code for r in rules]
    dupes = {c for c in codes if codes.count(c) > 1}
    if dupes:
        raise ConfigError(f"reason codes used by more than one rule: {sorted(dupes)}", source)
    return RuleSet(rules, str(doc.get("version", "0")))
