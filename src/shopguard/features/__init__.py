"""Features: windowed aggregates over the state store, declared in YAML.

Each feature reads the state *as of before* the current event; the event is applied
afterwards (by the effects stage), so live serving and replay see identical values.
"""

from shopguard.features.plan import FeaturePlan
from shopguard.features.spec import FeatureSpec, load_feature_specs, parse_duration

__all__ = ["FeaturePlan", "FeatureSpec", "load_feature_specs", "parse_duration"]
