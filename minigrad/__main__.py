"""``python -m minigrad``: see ``minigrad.cli``."""

from .cli import entry

raise SystemExit(entry())
