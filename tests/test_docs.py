"""The docs name every event type, event field and fact: they are kept in sync by test."""

from __future__ import annotations

from pathlib import Path

import msgspec

from shopguard.desensitize.schema import FACT_TYPES
from shopguard.events.catalog import EVENT_CLASSES
from shopguard.features.spec import KINDS

DOCS = Path(__file__).resolve().parents[1] / "docs"


def test_event_catalog_doc_covers_every_type_field_and_fact() -> None:
    text = (DOCS / "events.md").read_text()
    for cls in EVENT_CLASSES:
        assert f"`{cls.__struct_config__.tag}`" in text
        for field in msgspec.structs.fields(cls):
            assert f"`{field.name}`" in text, field.name
    for fact in FACT_TYPES:
        assert f"`{fact}`" in text, fact


def test_feature_doc_covers_every_kind() -> None:
    text = (DOCS / "features.md").read_text()
    for kind in KINDS:
        assert f"`{kind}`" in text, kind
