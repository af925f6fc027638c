"""Gradient clipping and ``functional_call``, as ``torch.nn.utils``."""

from .clip_grad import clip_grad_norm_, clip_grad_value_, get_total_norm
from .stateless import functional_call

__all__ = ["clip_grad_norm_", "clip_grad_value_", "functional_call", "get_total_norm"]
