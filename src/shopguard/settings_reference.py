"""docs/settings.md, written from the shipped defaults (defaults/settings.yaml): each
setting's name, type, default and the comment above it, grouped by the file's sections.
The comments are the documentation; this only lays them out, so the reference cannot
drift from what ships. Run ``python -m shopguard.settings_reference > docs/settings.md``.
"""

from __future__ import annotations

import re
import sys
import types
from importlib import resources
from typing import Any, Literal, NamedTuple, Union, get_args, get_origin

import msgspec

from shopguard.settings import _DURATIONS, ENV_PREFIX, Settings

REGENERATE = "PYTHONPATH=src python -m shopguard.settings_reference > docs/settings.md"
_SECTION = re.compile(r"^# -{3,} (.*?) -{3,}$")
_KEY = re.compile(r"^([a-z][a-z0-9_]*):(.*)$")
_DURATION = re.compile(r"^[0-9.]+[smhd]$")


class Entry(NamedTuple):
    name: str
    default: str  # as written in the file
    comment: str  # the comment block above it (shared by keys written right after it)


class Section(NamedTuple):
    title: str
    entries: list[Entry]


def shipped_text() -> str:
    return resources.files("shopguard").joinpath("defaults/settings.yaml").read_text()


def sections(text: str) -> list[Section]:
    """The file's settings in order, by section; the header comment is not a setting's."""
    out = [Section("Engine", [])]
    block: list[str] = []
    previous: Entry | None = None
    for line in text.splitlines():
        if not line.strip():
            block, previous = [], None
        elif marker := _SECTION.match(line):
            out.append(Section(marker.group(1), []))
            block, previous = [], None
        elif line.startswith("#"):
            block.append(line[1:].strip())
            previous = None
        elif key := _KEY.match(line):
            comment = " ".join(block) if block else (previous.comment if previous else "")
            previous = Entry(key.group(1), key.group(2).strip(), comment)
            out[-1].entries.append(previous)
            block = []
    return [s for s in out if s.entries]


def type_name(entry: Entry, hint: Any) -> str:
    if hint is str and (entry.name in _DURATIONS or _DURATION.match(entry.default)):
        return "duration"
    if get_origin(hint) is Literal:
        return "one of " + ", ".join(f"`{a}`" for a in get_args(hint))
    if get_origin(hint) in (Union, types.UnionType):
        return " or ".join(type_name(entry, a) for a in get_args(hint))
    if get_origin(hint) is dict:
        return "mapping"
    names = {str: "text", int: "integer", float: "number", bool: "true / false"}
    return names.get(hint, str(hint))


def render(text: str) -> str:
    hints = {f.name: f.type for f in msgspec.structs.fields(Settings)}
    lines = [
        "# Settings reference",
        "",
        "<!-- Written by `python -m shopguard.settings_reference` from",
        "src/shopguard/defaults/settings.yaml: edit the comments there, not this page. -->",
        "",
        "Every setting has a shipped default. Override it in a YAML file passed with",
        "`--config FILE` (or `SHOPGUARD_CONFIG=FILE`), or in the environment as",
        "`SHOPGUARD_<NAME>` (`SHOPGUARD_DATA_DIR=/var/lib/shopguard`); the environment beats",
        "the file, which beats the defaults. An unknown name or a wrong type stops the",
        "program at start with one line naming it. Durations are written `30s`, `15m`,",
        "`24h`, `7d`.",
        "",
    ]
    for section in sections(text):
        lines += [f"## {section.title}", ""]
        # keys written together under one comment are documented together
        groups: list[list[Entry]] = []
        for entry in section.entries:
            if groups and groups[-1][-1].comment == entry.comment:
                groups[-1].append(entry)
            else:
                groups.append([entry])
        for group in groups:
            lines += ["### " + ", ".join(f"`{e.name}`" for e in group), ""]
            for e in group:
                hint = type_name(e, hints.get(e.name, str))
                env = ENV_PREFIX + e.name.upper()
                lines.append(f"- `{e.name}`: {hint}, default `{e.default}`, environment `{env}`")
            lines += ["", _markdown(group[0].comment), ""]
    return "\n".join(lines).rstrip() + "\n"


def _markdown(comment: str) -> str:
    """A placeholder such as <data_dir> would read as an HTML tag: set it as code."""
    return re.sub(r"(?<!`)(<[a-z_]+>)", r"`\1`", comment)


def main() -> None:
    sys.stdout.write(render(shipped_text()))


if __name__ == "__main__":
    main()
