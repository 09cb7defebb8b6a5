"""``python -m shopguard.cli``: the same as the ``shopguard`` command."""

from shopguard.cli import main

main()
