"""Giving freed memory back to the system.

Loading a large file allocates and frees many mid-sized arrays. glibc keeps freed heap memory for
reuse (its threshold for returning large blocks to the system rises as blocks are freed), and
Arrow's allocator keeps freed pages too, so a process that holds 1.1 GB of telemetry can show
2 GB resident after the load. :func:`release` hands both back: ``malloc_trim`` (what Dask's
workers call for the same reason) and Arrow's ``release_unused``. Nothing is lost; later
allocations simply come from the system again.
"""

from __future__ import annotations

import ctypes
import functools
from collections.abc import Callable

import pyarrow as pa


@functools.cache
def _trim() -> Callable[[int], int] | None:
    """glibc's ``malloc_trim`` (None on other C libraries and systems)."""
    try:
        trim: Callable[[int], int] = ctypes.CDLL(None).malloc_trim  # the C library the process runs on
    except (OSError, AttributeError):
        return None
    return trim


def release() -> None:
    """Return freed heap and Arrow pool memory to the system (a no-op where unsupported)."""
    pa.default_memory_pool().release_unused()
    trim = _trim()
    if trim is not None:
        trim(0)
