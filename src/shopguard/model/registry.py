"""Registered models, versioned: ``<data_dir>/models/m<n>/`` holds ``model.txt``
(LightGBM) and ``card.json``; ``changes.jsonl`` is the trail of who made which version
champion or challenger, and when. The champion scores decisions; a challenger scores
in shadow beside it. Promotion is a change like any other."""

from __future__ import annotations

import time
from pathlib import Path

import msgspec

from shopguard.errors import ConfigError
from shopguard.model.card import ModelCard
from shopguard.model.scorer import Scorer


class ModelChange(msgspec.Struct, frozen=True):
    action: str  # register, champion, challenger, promote, retire
    version: str | None
    actor: str
    at: float


class Standing(msgspec.Struct, frozen=True):
    champion: str | None = None
    challenger: str | None = None


class ModelRegistry:
    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def versions(self) -> list[str]:
        if not self.root.is_dir():
            return []
        found = [p.name for p in self.root.glob("m*") if (p / "card.json").is_file()]
        return sorted(found, key=lambda v: int(v[1:]))

    def path(self, version: str) -> Path:
        path = self.root / version
        if not (path / "card.json").is_file():
            raise ConfigError(f"no registered model {version!r}; have {self.versions()}")
        return path

    def card(self, version: str) -> ModelCard:
        return ModelCard.read(self.path(version) / "card.json")

    def register(self, model_text: str, card: ModelCard, actor: str) -> ModelCard:
        versions = self.versions()
        version = f"m{int(versions[-1][1:]) + 1 if versions else 1}"
        card.version = version
        target = self.root / version
        target.mkdir(parents=True)
        (target / "model.txt").write_text(model_text)
        card.write(target / "card.json")  # last: a version exists once its card does
        self._log("register", version, actor)
        return card

    def changes(self) -> list[ModelChange]:
        log = self.root / "changes.jsonl"
        if not log.is_file():
            return []
        decoder = msgspec.json.Decoder(ModelChange)
        return [decoder.decode(line) for line in log.read_bytes().splitlines() if line]

    def standing(self) -> Standing:
        champion = challenger = None
        for c in self.changes():
            if c.action == "champion":
                champion = c.version
                challenger = None if challenger == c.version else challenger
            elif c.action == "challenger":
                challenger = c.version
            elif c.action == "promote":
                champion, challenger = challenger, None
            elif c.action == "retire":
                challenger = None
        return Standing(champion, challenger)

    def change(self, action: str, actor: str, version: str | None = None) -> Standing:
        """champion / challenger (a version), promote (the challenger), retire (it)."""
        if action in ("champion", "challenger"):
            self.path(version or "")
        elif action == "promote" and self.standing().challenger is None:
            raise ConfigError("no challenger model to promote")
        elif action not in ("promote", "retire"):
            raise ConfigError(f"unknown model action {action!r}")
        self._log(action, version, actor)
        return self.standing()

    def _log(self, action: str, version: str | None, actor: str) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        line = msgspec.json.encode(ModelChange(action, version, actor, time.time()))
        with (self.root / "changes.jsonl").open("ab") as out:
            out.write(line + b"\n")


def registered_scorers(root: str | Path) -> tuple[Scorer | None, Scorer | None]:
    """The champion and challenger the registry's trail names (None where unset)."""
    from shopguard.model.gbm import GbmScorer

    registry = ModelRegistry(root)
    standing = registry.standing()
    champion = GbmScorer(registry.path(standing.champion)) if standing.champion else None
    challenger = GbmScorer(registry.path(standing.challenger)) if standing.challenger else None
    return champion, challenger
