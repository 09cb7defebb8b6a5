"""The package version, in one place."""

__version__ = "0.1.0"


def build() -> str:
    """``compiled`` when the hot path runs as mypyc extensions (setup.py), else ``pure``."""
    from shopguard import engine

    return "pure" if (engine.__file__ or "").endswith(".py") else "compiled"
