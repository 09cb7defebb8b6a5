"""The ``shopguard`` command line: demo, decide, consume, replay, rules, rings, simulate,
evaluate, labels, report.

Errors print one line (``error: ...``) and exit with status 2; --help on every command
explains its inputs with an example.
"""

from shopguard.cli import (  # noqa: F401
    audit,
    backtest,
    cases,
    consume,
    decide,
    demo,
    lab,
    mapping,
    modeleval,
    models,
    replay,
    rings,
    rules,
    serve,
    webhooks,
)
from shopguard.cli.app import app


def main() -> None:
    app()


__all__ = ["app", "main"]
