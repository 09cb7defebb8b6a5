"""Registered models, versioned: ``<data_dir>/models/m<n>/`` holds ``model.txt``
(LightGBM) and ``card.json``; ``changes.jsonl`` is the trail of who made which version
champion or challenger, and when. The champion scores decisions; a challenger scores
in shadow beside it. Promotion is a change like any other.

The trail is hash-chained like the journal (``state/chain.py``) and each registration
holds a digest of the model's files, so ``shopguard audit verify`` finds an edited or
removed change, and a model file swapped after registration is refused at load. Its head
is sealed in ``changes.jsonl.head`` with the data directory's audit key (state/audit.py),
so cutting the newest changes off or rewriting the whole trail is found too. The same
registry in PostgreSQL, shared by every worker, is model/registry_pg.py; both are
``Models``."""

from __future__ import annotations

import hashlib
import struct
import time
from pathlib import Path
from typing import Protocol

import msgspec

from shopguard.errors import ConfigError
from shopguard.model.card import ModelCard
from shopguard.model.scorer import Scorer
from shopguard.state.audit import head_file, verify_seal
from shopguard.state.chain import GENESIS, ChainReport, Row, link, walk

FILES = ("model.txt", "card.json")


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
    files = [(folder / n).read_bytes() if (folder / n).is_file() else b"" for n in FILES]
    return contents_digest(*files)


def contents_digest(model: bytes, card: bytes) -> str:
    """:func:`files_digest` of the two files' contents."""
    h = hashlib.sha256()
    for data in (model, card):
        h.update(struct.pack("<Q", len(data)) + data)
    return h.hexdigest()


class Standing(msgspec.Struct, frozen=True):
    champion: str | None = None
    challenger: str | None = None


ACTIONS = ("champion", "challenger", "promote", "retire")


class Models(Protocol):
    """Registered models and the chained trail naming the champion and challenger."""

    root: Path  # where the models' files are (a PostgreSQL registry's local copies)

    def versions(self) -> list[str]: ...
    def path(self, version: str) -> Path: ...
    def card(self, version: str) -> ModelCard: ...
    def register(self, model_text: str, card: ModelCard, actor: str) -> ModelCard: ...
    def changes(self) -> list[ModelChange]: ...
    def standing(self) -> Standing: ...
    def change(self, action: str, actor: str, version: str | None = None) -> Standing: ...
    def verify(self) -> ChainReport: ...
    def check(self, version: str) -> Path: ...
    def revision(self) -> int: ...
    def close(self) -> None: ...


def fold(changes: list[ModelChange]) -> Standing:
    """The champion and challenger the trail's changes leave, oldest first."""
    champion = challenger = None
    for c in changes:
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


def checked_change(action: str, standing: Standing) -> None:
    """ConfigError unless ``action`` can be made now (a version's existence aside)."""
    if action == "promote" and standing.challenger is None:
        raise ConfigError("no challenger model to promote")
    if action not in ACTIONS:
        raise ConfigError(f"unknown model action {action!r}")


def registered(changes: list[ModelChange], version: str) -> str:
    """The files digest ``version`` was registered with ("" if never)."""
    found = [c.digest for c in changes if c.action == "register" and c.version == version]
    return found[-1] if found else ""


class ModelRegistry:
    """Models in ``<data_dir>/models``, the trail in ``changes.jsonl``."""

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
        return fold(self.changes())

    def revision(self) -> int:
        """How many changes the trail holds (it only grows)."""
        return len(self.changes())

    def close(self) -> None:
        """Nothing held open (files are read and appended per call)."""

    def change(self, action: str, actor: str, version: str | None = None) -> Standing:
        """champion / challenger (a version), promote (the challenger), retire (it)."""
        if action in ("champion", "challenger"):
            self.path(version or "")
        else:
            checked_change(action, self.standing())
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
        digest = registered(self.changes(), version)
        if not digest or digest != files_digest(path):
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


def registered_scorers(source: str | Path | Models) -> tuple[Scorer | None, Scorer | None]:
    """The champion and challenger the registry's trail names (None where unset);
    ``source``: a registry, or the folder of a SQLite one."""
    from shopguard.model.gbm import GbmScorer

    registry = ModelRegistry(source) if isinstance(source, str | Path) else source
    standing = registry.standing()
    champion = GbmScorer(registry.check(standing.champion)) if standing.champion else None
    challenger = GbmScorer(registry.check(standing.challenger)) if standing.challenger else None
    return champion, challenger
