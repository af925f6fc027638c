"""Keeping freed memory for reuse, so that a replay's arrays do not cost a page fault each.

A replay makes the same arrays at every call, and frees them again: the
forward's values once backward has read them, backward's temporaries as soon as
they are added up. glibc's malloc hands a large freed block back to the system
(``munmap``, or trimming the top of the heap), so the next call's array of the
same size is fresh memory, and the kernel zeroes and maps it page by page: at
the medium size of ``make bench`` about 3,000 page faults and 6 ms of system
time in a step of 20 ms.

``keep_freed_memory`` asks glibc to keep such blocks instead (``mallopt``):
arrays up to 32 MiB come from the heap, and the heap is not trimmed below 1 GiB
of free space, so a block freed by one call is the next call's array. It is
called once, when the first plan is made; the process then keeps the memory of
its largest step, as a training process does anyway. Where the C library is
not glibc (macOS, musl), it does nothing.
"""

import ctypes

M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 32 * 2**20  # glibc's largest: arrays up to this size come from the heap
TRIM_THRESHOLD = 2**30

_done = False


def keep_freed_memory():
    """Ask glibc's malloc (once per process) to keep freed blocks for reuse. True if it did."""
    global _done
    if _done:
        return True
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):  # not glibc
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    _done = bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(
        mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD)
    )
    return _done
