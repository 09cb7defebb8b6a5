"""docs/settings.md is the shipped defaults laid out: current, and every setting commented."""

from __future__ import annotations

from pathlib import Path

import msgspec

from shopguard.settings import Settings
from shopguard.settings_reference import REGENERATE, render, sections, shipped_text

DOC = Path(__file__).resolve().parents[1] / "docs" / "settings.md"


def test_committed_reference_is_current() -> None:
    assert DOC.read_text() == render(shipped_text()), (
        f"docs/settings.md is stale: regenerate it with {REGENERATE}"
    )


def test_every_setting_is_shipped_with_a_comment() -> None:
    entries = [e for s in sections(shipped_text()) for e in s.entries]
    shipped = {e.name for e in entries}
    fields = {f.name for f in msgspec.structs.fields(Settings)}
    assert not fields - shipped, (
        f"settings with no default in src/shopguard/defaults/settings.yaml: {fields - shipped}"
    )
    assert not shipped - fields, f"defaults for no setting: {shipped - fields}"
    bare = [e.name for e in entries if not e.comment]
    assert not bare, (
        f"settings without a comment above them in src/shopguard/defaults/settings.yaml: {bare}"
        f" (then regenerate docs/settings.md: {REGENERATE})"
    )


def test_sections_comments_and_shared_comments_are_read_as_written() -> None:
    text = (
        "# The file's header, set off by a blank line: nobody's comment.\n"
        "# --config is not a section marker.\n"
        "\n"
        "# Two keys under one comment\n"
        "first: 1\n"
        "second: 2s\n"
        "\n"
        "# --- `shopguard serve` ---------------\n"
        "# Where it listens.\n"
        "host: 127.0.0.1\n"
        "# Its own comment.\n"
        "port: 8080\n"
    )
    found = sections(text)
    assert [s.title for s in found] == ["Engine", "`shopguard serve`"]
    assert [(e.name, e.default, e.comment) for e in found[0].entries] == [
        ("first", "1", "Two keys under one comment"),
        ("second", "2s", "Two keys under one comment"),
    ]
    assert [(e.name, e.comment) for e in found[1].entries] == [
        ("host", "Where it listens."),
        ("port", "Its own comment."),
    ]
