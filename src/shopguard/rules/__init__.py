"""Rules: a small, safe expression language compiled once at load, indexed by event type."""

from shopguard.rules.language import Compiled, compile_expression
from shopguard.rules.ruleset import ListEffect, Rule, RuleHit, RuleSet, load_rules

__all__ = [
    "Compiled",
    "ListEffect",
    "Rule",
    "RuleHit",
    "RuleSet",
    "compile_expression",
    "load_rules",
]
