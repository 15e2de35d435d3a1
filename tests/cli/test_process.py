"""A Megafon process keeps malloc to two arenas however many threads it runs."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PROBE = """
import ctypes, sys, tempfile, threading
from cli.process import limit_malloc_arenas
if sys.argv[1] == "limit":
    assert limit_malloc_arenas()
start = threading.Barrier(16)
def churn():
    start.wait()
    for _ in range(20000):
        [bytearray(200) for _ in range(20)]
threads = [threading.Thread(target=churn) for _ in range(16)]
for t in threads: t.start()
for t in threads: t.join()
libc = ctypes.CDLL("libc.so.6")
libc.fopen.restype = ctypes.c_void_p
path = tempfile.mktemp()
report = ctypes.c_void_p(libc.fopen(path.encode(), b"w"))
libc.malloc_info(0, report)
libc.fclose(report)
print(open(path).read().count("<heap nr="))
"""


def arenas_after_16_threads(mode: str) -> int:
    env = {k: v for k, v in os.environ.items() if k != "MALLOC_ARENA_MAX"}
    env["PYTHONPATH"] = str(ROOT)
    done = subprocess.run([sys.executable, "-c", PROBE, mode], env=env, capture_output=True,
                          text=True, timeout=120, check=True)
    return int(done.stdout.strip())


def test_sixteen_busy_threads_share_two_arenas():
    assert arenas_after_16_threads("limit") <= 2
    # Without it each new thread gets an arena of its own (up to eight per core).
    assert arenas_after_16_threads("default") > 2
