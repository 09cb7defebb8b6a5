"""The ``shopguard`` command line: decide, replay, rules check.

Errors print one line (``error: ...``) and exit with status 2; --help on every command
explains its inputs with an example.
"""

from shopguard.cli import decide, lab, replay, rules  # noqa: F401  (they register commands)
from shopguard.cli.app import app


def main() -> None:
    app()


__all__ = ["app", "main"]
