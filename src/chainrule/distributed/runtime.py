"""The MPI world this process belongs to: start-up, rank and size, and stopping.

mpi4py is imported only when a function here is first called, so the core
library keeps depending on NumPy alone. Two safeguards make a failure stop
every rank instead of leaving the others waiting forever in a collective:

* an exception that escapes on any rank prints its traceback, names the rank
  and calls ``MPI_Abort``, which makes ``mpirun`` end every process;
* every wait on a collective is bounded: past ``timeout`` seconds (a rank
  stuck in a loop, or one that left without a word) the waiting rank aborts
  the run, naming itself and the operation it waited for.
"""

from __future__ import annotations

import os
import sys
import time
import traceback
from typing import Any

__all__ = ["init", "is_initialized", "rank", "world_size", "barrier", "comm", "abort",
           "wait", "mpi"]

_state: dict[str, Any] = {"comm": None, "timeout": None, "hook": None}
DEFAULT_TIMEOUT = 300.0  # seconds a collective may wait before the run is stopped


def mpi() -> Any:
    """The ``mpi4py.MPI`` module, or an ImportError that says what to install."""
    try:
        from mpi4py import MPI
    except ImportError as err:  # mpi4py missing, or it cannot find an MPI library
        raise ImportError(
            f"chainrule.distributed needs mpi4py and an MPI library (Open MPI or MPICH): "
            f"pip install 'chainrule[mpi]', and on Debian or Ubuntu "
            f"apt-get install openmpi-bin libopenmpi-dev ({err})") from err
    return MPI


def init(timeout: float | None = None, comm: Any = None) -> Any:
    """Join the MPI world (idempotent) and return its communicator.

    ``timeout`` (seconds; default ``$CHAINRULE_MPI_TIMEOUT`` or 300, ``0`` for
    none) bounds how long any collective of this package may wait before the
    whole run is aborted. ``comm`` picks another communicator than
    ``MPI.COMM_WORLD``. Run without ``mpirun``, this is a world of one rank.
    """
    MPI = mpi()
    if timeout is None:
        timeout = float(os.environ.get("CHAINRULE_MPI_TIMEOUT", DEFAULT_TIMEOUT))
    if not timeout >= 0:
        raise ValueError(f"init: timeout must be seconds >= 0 (0 for none), got {timeout!r}")
    if _state["comm"] is None or comm is not None:
        _state["comm"] = MPI.COMM_WORLD if comm is None else comm
    _state["timeout"] = timeout or None
    if _state["hook"] is None:
        _state["hook"] = sys.excepthook
        sys.excepthook = _abort_on_exception
    return _state["comm"]


def is_initialized() -> bool:
    return _state["comm"] is not None


def comm() -> Any:
    """The communicator in use (joining the world first if needed)."""
    return _state["comm"] if _state["comm"] is not None else init()


def rank() -> int:
    """This process's number, 0 to ``world_size() - 1``."""
    return comm().Get_rank()


def world_size() -> int:
    """How many processes take part."""
    return comm().Get_size()


def barrier() -> None:
    """Wait until every rank has reached this call (bounded by the timeout)."""
    c = comm()
    wait(c.Ibarrier(), "barrier")


def abort(message: str, code: int = 1) -> None:
    """Print ``message`` naming this rank and stop every rank of the run."""
    c = comm()
    sys.stderr.write(f"chainrule.distributed: rank {c.Get_rank()} of {c.Get_size()}: "
                     f"{message}; stopping all ranks (MPI_Abort)\n")
    sys.stderr.flush()
    c.Abort(code)


def _abort_on_exception(kind: type, value: BaseException, tb: Any) -> None:
    c = _state["comm"]
    hook = _state["hook"] or sys.__excepthook__
    if c is None or c.Get_size() == 1 or issubclass(kind, KeyboardInterrupt):
        hook(kind, value, tb)
        return
    r = c.Get_rank()
    text = "".join(traceback.format_exception(kind, value, tb))
    sys.stderr.write("".join(f"[rank {r}] {line}\n" for line in text.rstrip().split("\n")))
    abort(f"raised {kind.__name__}: {value}")


def wait(requests: Any, what: str) -> None:
    """Wait for non-blocking MPI requests (one or a list) to complete.

    Polls, handing the processor to other processes between polls: MPI's own
    blocking wait spins, and when ranks share cores with each other (or with
    other work) a spinning rank steals the time its partner needs to reach
    the collective (on a loaded 2-core machine, 4-10x slower steps). Past the
    timeout the run is aborted, naming this rank and ``what`` it waited for.
    """
    MPI = mpi()
    if not isinstance(requests, list):
        requests = [requests]
    test = MPI.Request.Testall
    if test(requests):
        return
    timeout = _state["timeout"]
    deadline = None if timeout is None else time.monotonic() + timeout
    polls = 0
    while not test(requests):
        _yield()
        polls += 1
        if deadline is not None and polls & 1023 == 0 and time.monotonic() > deadline:
            abort(f"{what} waited more than {timeout:g} s for the other ranks (one of them "
                  f"is stuck or has stopped; see its messages)", 2)


_yield = getattr(os, "sched_yield", lambda: time.sleep(0))
