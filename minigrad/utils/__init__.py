"""Tools beside the engine, named as in ``torch.utils``: ``checkpoint`` (gradient
checkpointing, ``minigrad.utils.checkpoint.checkpoint``)."""

from . import checkpoint

__all__ = ["checkpoint"]
