"""Small mappings and files for the replay tests, written where a test says."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from shopguard.events import decode_event
from shopguard.events.catalog import BaseEvent
from shopguard.replay import iter_events
from shopguard.replay.mapping import Mapping, parse_mapping

DATA = Path(__file__).parent / "data"


def mapping(text: str) -> Mapping:
    return parse_mapping(text, "test")


def events(path: Path, spec: Mapping) -> list[tuple[BaseEvent, dict[str, str]]]:
    """Every (decoded event, labels) pair the mapping makes of the file."""
    return [(decode_event(e), tags) for e, tags in iter_events(path, spec)]


def raw(path: Path, spec: Mapping) -> list[dict[str, Any]]:
    return [e for e, _ in iter_events(path, spec)]


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path
