"""Opt-in: keep freed memory in the process for the next training step.

By default glibc's malloc hands large freed blocks back to the system (it unmaps
them, or trims the top of its heap), so a training loop that frees and allocates
the same few megabytes of activations every step has the kernel fault those
pages in again each time. A two-layer convolution step (batch 32, 28x28) alone
in its process takes ~1,500 page faults and ~8.4 ms a step that way, ~5.3 ms
with the freed memory kept (``benchmarks/bench_steps.py`` (f) and the test of
this module). PyTorch pays the same faults through the same malloc.

The setting is the whole process's, which is why nothing turns it on by itself:
a program calls ``keep_freed_memory()`` once, at start-up, when it wants it.
"""

from __future__ import annotations

import ctypes
import platform

# mallopt's parameters (glibc's malloc.h)
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
# the largest block glibc lets its heap serve instead of a mapping of its own (32 MiB
# on 64-bit systems; a larger value is refused): a step's activations are smaller
_MMAP_MAX = 32 << 20
_LIMIT_MAX = 2**31 - 1  # mallopt's value is a C int


def keep_freed_memory(limit: int = 256 << 20) -> bool:
    """Have glibc's malloc keep up to ``limit`` bytes of freed memory (256 MiB by
    default) and serve blocks up to 32 MiB from it, instead of returning them to the
    system after each use.

    Returns True once set; False where the C library is not glibc (musl, macOS,
    Windows), where nothing is changed. The process's resident memory then stays near
    its peak instead of shrinking between steps: that is the price.
    """
    if type(limit) is not int or not 0 < limit <= _LIMIT_MAX:
        raise ValueError(f"keep_freed_memory: limit must be a positive number of bytes "
                         f"(an int) of at most {_LIMIT_MAX} (mallopt takes a C int), "
                         f"got {limit!r}")
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    return bool(mallopt(_M_MMAP_THRESHOLD, _MMAP_MAX)) and bool(
        mallopt(_M_TRIM_THRESHOLD, limit))
