"""Policy: combine list hits, rule hits and the model score into one decision."""

from shopguard.policy.policy import Policy, load_policy

__all__ = ["Policy", "load_policy"]
