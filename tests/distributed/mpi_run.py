"""Run a program under ``mpirun`` on loopback, as the tests and the benchmark do.

Never hangs: the whole process group is killed after ``timeout`` seconds.
"""

from __future__ import annotations

import functools
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
WORKER = Path(__file__).with_name("mpi_worker.py")


def mpirun_command(n: int) -> list[str]:
    """mpirun on this machine only, over loopback TCP, allowed to run as root (CI)."""
    command = [shutil.which("mpirun") or "mpirun", "-n", str(n), "--oversubscribe",
               "--mca", "btl", "self,tcp", "--mca", "btl_tcp_if_include", "lo"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.insert(1, "--allow-run-as-root")
    return command


def environment() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "src"), env.get("PYTHONPATH", "")])
    env.update(OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1",
               PYTHONWARNINGS="ignore")
    return env


@functools.lru_cache(maxsize=1)
def unavailable() -> str | None:
    """Why MPI programs cannot run here (None: they can)."""
    if shutil.which("mpirun") is None:
        return ("Open MPI is not installed (no mpirun): `make mpi`, or "
                "apt-get install openmpi-bin libopenmpi-dev")
    probe = subprocess.run([sys.executable, "-c", "from mpi4py import MPI"],
                           capture_output=True, text=True, timeout=60, env=environment(),
                           check=False)
    if probe.returncode != 0:
        last = (probe.stderr.strip().splitlines() or ["?"])[-1]
        return f"mpi4py cannot be imported ({last}): pip install 'chainrule[mpi]'"
    return None


def run(n: int, args: list[str], timeout: float = 60.0) -> tuple[int, str, str, float]:
    """``mpirun -n n python args...``: (exit status, stdout, stderr, seconds taken)."""
    start = time.monotonic()
    process = subprocess.Popen(mpirun_command(n) + [sys.executable, *args],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env=environment(), start_new_session=True)
    try:
        out, err = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        out, err = process.communicate()
        err += f"\n[killed after {timeout} s]"
        return -9, out, err, time.monotonic() - start
    return process.returncode, out, err, time.monotonic() - start
