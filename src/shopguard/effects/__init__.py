"""Effects: the only stage that changes anything. It folds the event into feature state,
journals the decision, applies list actions and stages alerts, in that one place."""

from shopguard.effects.apply import Effects

__all__ = ["Effects"]
