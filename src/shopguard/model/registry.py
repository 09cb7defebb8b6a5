"""Registered models, versioned: ``<data_dir>/models/m<n>/`` holds ``model.txt``
(LightGBM) and ``card.json``; ``changes.jsonl`` is the trail of who made which version
champion or challenger, and when. The champion scores decisions; a challenger scores
in shadow beside it. Promotion is a change like any other.

The trail is hash-chained like the journal (``state/chain.py``) and each registration
holds a digest of the model's files, so ``shopguard audit verify`` finds an edited or
removed change, and a model file swapped after registration is refused at load. Its head
is sealed in ``changes.jsonl.head`` with the data directory's audit key (state/audit.py),
so cutting the newest changes off or rewriting the whole trail is found too."""

from __future__ import annotations

import hashlib
import struct
import time
from pathlib import Path

import msgspec

from shopguard.errors import ConfigError
from shopguard.model.card import ModelCard
from shopguard.model.scorer import Scorer
from shopguard.state.audit import head_file, verify_seal
from shopguard.state.chain import GENESIS, ChainReport, Row, link, walk


class ModelChange(msgspec.Struct, frozen=True):
    action: str  # register, champion, challenger, promote, retire
    version: str | None
    actor: str
    at: float
    digest: str = ""  # register: SHA-256 over the model text and its card
    chain: str = ""  # SHA-256(previous chain || this change without its chain), hex

    def content(self) -> bytes:
        return msgspec.json.encode(msgspec.structs.replace(self, chain=""))


def files_digest(folder: Path) -> str:
    """SHA-256 over a registered model's files (length-prefixed, in a fixed order)."""
    h = hashlib.sha256()
    for name in ("model.txt", "card.json"):
        data = (folder / name).read_bytes() if (folder / name).is_file() else b""
        h.update(struct.pack("<Q", len(data)) + data)
    return h.hexdigest()


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
        self._log("register", version, actor, files_digest(target))
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

    def verify(self) -> ChainReport:
        """Recompute the trail's chain and check its sealed head; a registration's digest
        must match its files."""
        changes = self.changes()

        def checked() -> list[Row]:
            rows: list[Row] = []
            for i, c in enumerate(changes, start=1):
                moved = c.action == "register" and c.digest != files_digest(
                    self.root / (c.version or "")
                )
                edited = "record edited (its model files changed)" if moved else ""
                rows.append((i, c.content(), bytes.fromhex(c.chain or "00"), edited))
            return rows

        report = walk("model_changes", checked())
        if report.ok:
            sealed = verify_seal(
                self._trail, {"model_changes": self._head(changes)}, self.root.parent
            )
            report.problem = sealed.get("model_changes") or sealed.get("heads", "")
        return report

    @property
    def _trail(self) -> Path:
        return self.root / "changes.jsonl"

    @staticmethod
    def _head(changes: list[ModelChange]) -> tuple[int, bytes]:
        return (len(changes), bytes.fromhex(changes[-1].chain)) if changes else (0, GENESIS)

    def check(self, version: str) -> Path:
        """The folder of a model fit to serve: registered, its files as registered."""
        path = self.path(version)
        registered = [
            c.digest for c in self.changes() if c.action == "register" and c.version == version
        ]
        if not registered or registered[-1] != files_digest(path):
            raise ConfigError(f"model {version}: its files changed since it was registered")
        return path

    def _log(self, action: str, version: str | None, actor: str, digest: str = "") -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        changes = self.changes()
        previous = bytes.fromhex(changes[-1].chain) if changes else GENESIS
        change = ModelChange(action, version, actor, time.time(), digest)
        change = msgspec.structs.replace(change, chain=link(previous, change.content()).hex())
        heads = head_file(self._trail, self.root.parent)
        if heads is not None:  # sealed first: the trail then ends at one of the two heads
            pending = (len(changes) + 1, bytes.fromhex(change.chain))
            heads.advance({"model_changes": self._head(changes)}, {"model_changes": pending})
        with self._trail.open("ab") as out:
            out.write(msgspec.json.encode(change) + b"\n")
        if heads is not None:
            heads.confirm({"model_changes": pending})
            heads.close()


def registered_scorers(root: str | Path) -> tuple[Scorer | None, Scorer | None]:
    """The champion and challenger the registry's trail names (None where unset)."""
    from shopguard.model.gbm import GbmScorer

    registry = ModelRegistry(root)
    standing = registry.standing()
    champion = GbmScorer(registry.check(standing.champion)) if standing.champion else None
    challenger = GbmScorer(registry.check(standing.challenger)) if standing.challenger else None
    return champion, challenger
