"""`zhibu run` keeps one worker beside the server and leaves no process behind when it stops."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

SCRIPT = """
import sys, time
from zhibu.cli import _serve_with_worker
sleeper = [sys.executable, "-c", "import time; time.sleep(120)"]
sys.exit(_serve_with_worker(sleeper, worker_argv=sleeper))
"""


def _children(pid: int) -> list[int]:
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True)  # noqa: S603,S607
    return [int(p) for p in out.stdout.split()]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie not yet reaped by init counts as gone.
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_stopping_the_server_stops_the_worker(sig):
    proc = subprocess.Popen([sys.executable, "-c", SCRIPT])  # noqa: S603
    deadline = time.monotonic() + 20
    children: list[int] = []
    while time.monotonic() < deadline and len(children) < 2:
        time.sleep(0.1)
        children = _children(proc.pid)
    assert len(children) == 2, "the server and the worker should both have started"
    proc.send_signal(sig)
    assert proc.wait(timeout=30) == 0
    time.sleep(0.2)
    assert not [c for c in children if _alive(c)]
