"""Process-wide settings for Megafon's long-running processes, made before any thread starts.

glibc gives each thread that meets contention in malloc an arena of its own, up to eight per
core. A worker's polling and publishing threads then leave freed memory spread over many arenas,
and the process's resident size grows by about a quarter (B3 on PostgreSQL: 353–377 MB with the
default, 282 MB with two arenas, and no slower). `limit_malloc_arenas` is MALLOC_ARENA_MAX=2 set
from inside; the Docker image sets the variable itself, which also covers gunicorn.
"""

from __future__ import annotations

import ctypes
import os

M_ARENA_MAX = -8  # mallopt parameter, glibc's malloc.h
ARENAS = 2


def limit_malloc_arenas(arenas: int = ARENAS) -> bool:
    """Cap malloc's arenas; False where that is not glibc, or the environment already chose."""
    if "MALLOC_ARENA_MAX" in os.environ:
        return False
    try:
        libc = ctypes.CDLL("libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    return bool(mallopt(M_ARENA_MAX, arenas))
