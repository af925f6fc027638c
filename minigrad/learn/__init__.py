"""The exercise track, ``python -m minigrad learn``."""
