"""``chainrule compare-costs``: what each way to a derivative costs, measured and plotted.

Prints three tables (cost against the number of inputs n, expression swell,
finite-difference error against step) and writes them as PNG plots into
``--out``. An output folder that cannot be created or written is a clear
error with exit status 2, reported before anything is measured.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from chainrule.cli_explain import UsageError, _guard, positive_int

DEFAULT_OUT = "chainrule-costs"


def prepare_out(out: str | Path) -> Path:
    """Create ``out`` (and its parents) and prove it writable, or raise UsageError."""
    path = Path(out)
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / ".chainrule-write-test"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as err:
        reason = err.strerror or type(err).__name__
        raise UsageError(f"cannot write plots to {str(path)!r}: {reason}") from None
    return path


def report(out: Path, max_n: int, repeat: int = 3, progress: bool = True) -> list[Path]:
    """Measure, print the tables, write the plots into ``out`` (already prepared).

    With ``progress``, a line on stderr before each size says what is being
    measured and how long the run has taken so far: the largest sizes take
    the longest (the symbolic engine's cost grows as n**2), so the command
    is never silent for long.
    """
    from chainrule.explainer import cost_plots, costs

    sizes = costs.default_sizes(max_n)
    start = time.perf_counter()

    def say(what: str) -> None:
        if progress:
            print(f"compare-costs: {what} ({time.perf_counter() - start:.1f} s so far)",
                  file=sys.stderr, flush=True)

    costs.measure_one(2, 1)  # warm-up, as measure_costs does: imports and caches
    rows = []
    for k, n in enumerate(sizes, start=1):
        say(f"measuring n = {n}, size {k} of {len(sizes)}")
        rows.append(costs.measure_one(n, repeat))
    table = costs.CostTable(rows)
    print(table)
    print()
    say("measuring expression swell")
    swell = costs.swell_rows()
    print(costs.swell_text(swell))
    print()
    say("measuring the step-size V")
    curves = costs.step_curves()
    print(costs.step_text(curves))
    print()
    say("plotting")
    return cost_plots.write_plots(out, table, swell, curves)


def run(args: argparse.Namespace) -> int:
    out = prepare_out(args.out)
    try:
        paths = report(out, args.max_n, args.repeat)
    except RuntimeError as err:  # matplotlib is missing: the tables stand, the plots do not
        print(f"chainrule compare-costs: {err}", file=sys.stderr)
        return 1
    print("plots written: " + ", ".join(str(p) for p in paths))
    return 0


# Beyond this the run cannot finish in reasonable time: at n = 2048 the symbolic
# engine's n derivative expressions take about a minute per timing run (growing as
# n**2), and forward mode's n x n basis of directions takes 8 n**2 bytes.
MAX_N = 2048


def _max_n(text: str) -> int:
    value = positive_int(text)
    if value < 2:
        raise argparse.ArgumentTypeError(f"expected an integer >= 2, got {value}")
    if value > MAX_N:
        memory = 8 * value * value / 1e9
        raise argparse.ArgumentTypeError(
            f"{value} is too large to finish in reasonable time: the symbolic engine takes "
            f"about a minute per timing run at n = {MAX_N} and grows as n**2, and forward "
            f"mode's {value} x {value} basis alone needs {memory:.3g} GB; give {MAX_N} or less")
    return value


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "compare-costs", help="measure and plot how each method's cost grows with the "
                              "number of inputs, expression swell, and the step-size V")
    parser.add_argument("--out", metavar="DIR", default=DEFAULT_OUT,
                        help=f"folder for the PNG plots (default ./{DEFAULT_OUT})")
    parser.add_argument("--max-n", type=_max_n, default=64, metavar="N",
                        help=f"largest number of inputs measured (powers of two up to N; "
                             f"default 64, at most {MAX_N}); progress goes to stderr")
    parser.add_argument("--repeat", type=positive_int, default=3, metavar="R",
                        help="timing runs per measurement, the best is kept (default 3)")
    parser.set_defaults(run=_guard(run))
