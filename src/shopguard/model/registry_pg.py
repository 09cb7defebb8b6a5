"""The model registry in PostgreSQL, shared by every worker (``decision_log: postgres``).

The models' files are kept in the database too (``model_files``, bytea: a LightGBM text
model is a few MB at most), so a worker on another machine needs no shared volume: it
copies a version's files into its own ``<data_dir>/models/m<n>/`` the first time it
serves it (and again whenever the local copy differs from the database's), because the
scorer loads from a folder. The trail (register, champion, challenger, promote, retire)
is ``model_changes``, chained as ``changes.jsonl`` is, its head sealed in the database;
each change bumps the revision and NOTIFYs ``models:<action>:<version>``.
"""

from __future__ import annotations

import os
import secrets
import time
from pathlib import Path

import msgspec

from shopguard.errors import ConfigError
from shopguard.model.card import ModelCard
from shopguard.model.registry import (
    FILES,
    ModelChange,
    Standing,
    checked_change,
    contents_digest,
    files_digest,
    fold,
    registered,
)
from shopguard.registries.postgres import Registry, Where
from shopguard.state.audit import GENESIS, Head
from shopguard.state.chain import ChainReport, Row, link, walk

CHAIN = "model_changes"
STEPS = (
    "CREATE TABLE model_files(number BIGINT PRIMARY KEY, version TEXT NOT NULL UNIQUE,"
    " model BYTEA NOT NULL, card BYTEA NOT NULL, digest TEXT NOT NULL)",
    "CREATE TABLE model_changes(id BIGINT PRIMARY KEY, action TEXT NOT NULL, version TEXT,"
    " actor TEXT NOT NULL, at DOUBLE PRECISION NOT NULL, digest TEXT NOT NULL,"
    " chain TEXT NOT NULL)",
)


class PgModels:
    def __init__(self, where: Where, root: str | Path, key: bytes = b"") -> None:
        self._pg = Registry(where, "models", STEPS, key)
        self.root = Path(root)  # this machine's copies of the models' files

    def versions(self) -> list[str]:
        return [str(v) for (v,) in self._pg.rows("SELECT version FROM model_files ORDER BY number")]

    def path(self, version: str) -> Path:
        """The folder of ``version``'s files on this machine, copied from the database
        when missing or different."""
        row = self._pg.one("SELECT model, card, digest FROM model_files WHERE version = %s",
                           (version,))  # fmt: skip
        if row is None:
            raise ConfigError(f"no registered model {version!r}; have {self.versions()}")
        folder = self.root / version
        if files_digest(folder) != row[2]:
            folder.mkdir(parents=True, exist_ok=True)
            for name, data in zip(FILES, (bytes(row[0]), bytes(row[1])), strict=True):
                part = folder / f".{name}.{secrets.token_hex(4)}"
                part.write_bytes(data)
                os.replace(part, folder / name)  # card last: a copy exists once its card does
        return folder

    def card(self, version: str) -> ModelCard:
        return ModelCard.read(self.path(version) / "card.json")

    def register(self, model_text: str, card: ModelCard, actor: str) -> ModelCard:
        with self._pg.change("register", lock=CHAIN) as db:
            found = db.execute("SELECT COALESCE(MAX(number), 0) + 1 FROM model_files").fetchone()
            number = int(found[0]) if found else 1
            card.version = f"m{number}"
            model = model_text.encode()
            card_bytes = msgspec.json.format(msgspec.json.encode(card), indent=2)
            digest = contents_digest(model, card_bytes)
            db.execute(
                "INSERT INTO model_files VALUES (%s, %s, %s, %s, %s)",
                (number, card.version, model, card_bytes, digest),
            )
            self._log("register", card.version, actor, digest)
        return card

    def changes(self) -> list[ModelChange]:
        rows = self._pg.rows(
            "SELECT action, version, actor, at, digest, chain FROM model_changes ORDER BY id"
        )
        return [ModelChange(*row) for row in rows]

    def standing(self) -> Standing:
        return fold(self.changes())

    def revision(self) -> int:
        return self._pg.revision()

    def change(self, action: str, actor: str, version: str | None = None) -> Standing:
        """champion / challenger (a version), promote (the challenger), retire (it);
        checked and appended under the chain's lock."""
        with self._pg.change(f"{action}:{version or ''}", lock=CHAIN):
            if action in ("champion", "challenger"):
                if self._pg.one("SELECT 1 FROM model_files WHERE version = %s", (version,)) is None:
                    raise ConfigError(f"no registered model {version!r}; have {self.versions()}")
            else:
                checked_change(action, self.standing())
            self._log(action, version, actor)
        return self.standing()

    def _newest(self) -> Head:
        row = self._pg.one("SELECT id, chain FROM model_changes ORDER BY id DESC LIMIT 1")
        return (0, GENESIS) if row is None else (int(row[0]), bytes.fromhex(row[1]))

    def _log(self, action: str, version: str | None, actor: str, digest: str = "") -> None:
        position, previous = self._newest()
        change = ModelChange(action, version, actor, time.time(), digest)
        chain = link(previous, change.content())
        self._pg.db.execute(
            "INSERT INTO model_changes VALUES (%s, %s, %s, %s, %s, %s, %s)",
            (position + 1, action, version, actor, change.at, digest, chain.hex()),
        )
        self._pg.seal(CHAIN, (position + 1, chain))

    def verify(self) -> ChainReport:
        """Recompute the trail's chain and check its sealed head; a registration's digest
        must match the files the database holds for it."""
        with self._pg.snapshot():
            stored = {
                str(v): contents_digest(bytes(m), bytes(c))
                for v, m, c in self._pg.rows("SELECT version, model, card FROM model_files")
            }
            rows = self._pg.rows(
                "SELECT id, action, version, actor, at, digest, chain FROM model_changes"
                " ORDER BY id"
            )
            checked: list[Row] = []
            for cid, action, version, actor, at, digest, chain in rows:
                change = ModelChange(action, version, actor, at, digest)
                moved = action == "register" and stored.get(version or "") != digest
                edited = "record edited (its model files changed)" if moved else ""
                checked.append((int(cid), change.content(), bytes.fromhex(chain or "00"), edited))
            report = walk(CHAIN, checked)
            if report.ok:
                report.problem = self._pg.sealed(CHAIN, self._newest())
        return report

    def check(self, version: str) -> Path:
        """The folder of a model fit to serve: registered, its files as registered."""
        path = self.path(version)
        digest = registered(self.changes(), version)
        if not digest or digest != files_digest(path):
            raise ConfigError(f"model {version}: its files changed since it was registered")
        return path

    def close(self) -> None:
        self._pg.close()
