"""Errors that name the op: numpy's complaint, prefixed with where it happened."""


def with_op_name(error, name, detail=""):
    """A ValueError, IndexError or TypeError like ``error``, its message starting with ``name:``."""
    message = str(error)
    if not message.startswith(f"{name}:"):
        message = f"{name}: {message}"
    # numpy raises subclasses (AxisError, casting errors) whose constructors take other
    # arguments, so rebuild the plainest builtin class the error belongs to.
    for kind in (ValueError, IndexError, TypeError):
        if isinstance(error, kind):
            return kind(message + detail)
    return error  # pragma: no cover - callers only pass these three kinds
