"""``with kinks() as report:``: recording evaluations at kinks.

Watched implementations read one flag, ``watch.active``; only while a block is
open do they call ``watch.check``, which asks the primitive's detector
(``TABLE[name].detect``) which elements sit at a kink and records an event.
"""

from __future__ import annotations

import contextlib
import math
import os
import sys
import threading
from collections.abc import Iterator
from typing import Any

from chainrule.backend import xp
from chainrule.core.primitive import registry
from chainrule.subgradients.detectors import Hits
from chainrule.subgradients.policy import _state
from chainrule.subgradients.report import KinkEvent, KinkReport, concrete
from chainrule.subgradients.table import TABLE

# frames inside chainrule and NumPy are skipped to find the user's line
_LIBRARY_DIRS = tuple(os.path.dirname(os.path.abspath(p)) + os.sep for p in (
    os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep + "__init__.py",
    xp.__file__))


def _user_frame() -> str:
    frame = sys._getframe(1)
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(
            _LIBRARY_DIRS):
        frame = frame.f_back
    return "<unknown>" if frame is None else f"{frame.f_code.co_filename}:{frame.f_lineno}"


class _Here(threading.local):
    """This thread's side of the recording (a new thread has no block open)."""

    reports: tuple = ()  # the thread's open ``kinks()`` reports
    busy = False  # a detector is running: the rules it calls record nothing


_here = _Here()


class _Watch:
    """Whether ``kinks()`` is recording. The watched primitives read ``active``, a plain
    attribute (one cheap read per evaluation) that is true while some thread has a block
    open; what is recorded is per thread: a block sees its own thread's evaluations only."""

    __slots__ = ("active", "_open", "_lock")

    def __init__(self) -> None:
        self.active = False
        self._open = 0  # blocks open in every thread
        self._lock = threading.Lock()

    @property
    def reports(self) -> tuple:
        """The calling thread's open reports."""
        return _here.reports

    def check(self, prim: Any, args: tuple, out: Any, params: dict | None = None) -> None:
        """Record an evaluation of ``prim`` if some element is at a kink."""
        for a in args:  # the table's kinks are those of real arguments (docs/complex.md)
            if getattr(getattr(a, "dtype", None), "kind", "") == "c":
                return
        self._quietly(self._check, prim, args, out, params or {})

    def record(self, prim: Any, kink: str, hits_for: Any) -> None:
        """Record ``hits_for(tol)`` for a composite (max pooling) under the TABLE entry ``kink``."""
        def each(report: KinkReport) -> None:
            hits = hits_for(report.tol)
            if hits is not None:
                report.append(self._event(prim, hits, kink=kink))
        self._quietly(lambda: [each(r) for r in self.reports])

    def _quietly(self, work: Any, *args: Any) -> None:
        here = _here
        if here.busy or not here.reports:  # another thread's block, or a detector's rules
            return
        here.busy = True
        try:
            work(*args)
        finally:
            here.busy = False

    def opened(self, report: KinkReport) -> None:
        _here.reports = (*_here.reports, report)
        with self._lock:
            self._open += 1
            self.active = True

    def closed(self, report: KinkReport) -> None:
        # by identity: reports are lists, and two empty ones compare equal
        _here.reports = tuple(r for r in _here.reports if r is not report)
        with self._lock:
            self._open -= 1
            self.active = self._open > 0

    def _check(self, prim: Any, args: tuple, out: Any, params: dict) -> None:
        detect = TABLE[prim.name].detect
        for report in self.reports:
            hits = detect(prim, args, params, out, report.tol)
            if hits is None:
                continue
            event = self._event(prim, hits)
            report.append(event)
            report._by_out[id(out)] = (out, event)

    @staticmethod
    def _event(prim: Any, hits: Hits, kink: str = "") -> KinkEvent:
        name = getattr(prim, "name", prim)
        ask_rules = hits.chosen is None
        # a rule that does not depend on who is differentiated has its answer now
        perturbed = (None if ask_rules and prim.takes_perturbed
                     else tuple(range(len(hits.points[0]))) if hits.elements is None else (0,))
        event = KinkEvent(name, _user_frame(), _state.policy, hits.count, hits.indices,
                          hits.points, hits.subdifferentials, hits.chosen or [], perturbed,
                          hits.elements, kink, prim, hits.outs)
        if ask_rules:
            event._choose()
        return event

    def saw_rule(self, out: Any, perturbed: tuple[int, ...] | None) -> None:
        """A derivative rule ran on ``out``: note which arguments it differentiated."""
        self._quietly(self._saw_rule, out, perturbed)

    def _saw_rule(self, out: Any, perturbed: tuple[int, ...] | None) -> None:
        key = id(concrete(out))
        for report in self.reports:
            hit = report._by_out.get(key)
            if hit is not None and perturbed is not None and hit[1].perturbed != perturbed:
                hit[1].perturbed = tuple(perturbed)
                hit[1]._choose()


watch = _Watch()


def watched(name: str, impl: Any) -> Any:
    """``impl`` (the implementation of primitive ``name``) reporting its kinks to
    ``kinks()``; while no block is open it costs one flag read."""
    def watched_impl(x: Any, _impl: Any = impl, _watch: _Watch = watch, **params: Any) -> Any:
        out = _impl(x, **params)
        if _watch.active and not params:  # detectors know the default parameters only
            _watch.check(registry[name], (x,), out)
        return out
    return watched_impl


@contextlib.contextmanager
def kinks(tol: float = 0.0) -> Iterator[KinkReport]:
    """Record every evaluation of a primitive of ``TABLE`` at a kink.

    An element counts when it lies within ``tol`` of a kink (exactly on it
    for the default 0). The report lists, per event, the primitive, the
    user's file and line, the elements, the subdifferential there and the
    derivative the rule took (filled in when a derivative is computed, for
    the primitives whose choice depends on which arguments are differentiated).

    >>> import chainrule as cr
    >>> with cr.kinks() as report:
    ...     g = cr.grad(lambda x: cr.sum(cr.relu(x)))(cr.tensor([-1.0, 0.0, 2.0]).numpy())
    >>> event = report[0]
    >>> event.primitive, event.count, event.indices, event.interval(), event.chosen
    ('relu', 1, [(1,)], (0.0, 1.0), [(0.0,)])
    >>> with cr.kinks() as report:
    ...     m = cr.max(cr.tensor([1.0, 3.0, 3.0]))
    >>> str(report[0].subdifferentials[0]), report[0].elements, report[0].chosen
    ('the simplex over 2 tied elements', [[(1,), (2,)]], [(0.5, 0.5)])
    """
    if not (isinstance(tol, (int, float)) and tol >= 0 and math.isfinite(tol)):
        raise ValueError(f"kinks: tol must be a finite number >= 0, got {tol!r}")
    report = KinkReport(float(tol))
    watch.opened(report)
    try:
        yield report
    finally:
        watch.closed(report)
