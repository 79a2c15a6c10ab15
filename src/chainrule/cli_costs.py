"""``chainrule compare-costs``: what each way to a derivative costs, measured and plotted.

Prints three tables (cost against the number of inputs n, expression swell,
finite-difference error against step) and writes them as PNG plots into
``--out``. An output folder that cannot be created or written is a clear
error with exit status 2, reported before anything is measured.
"""

from __future__ import annotations

import argparse
import sys
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


def report(out: Path, max_n: int, repeat: int = 3) -> list[Path]:
    """Measure, print the tables, write the plots into ``out`` (already prepared)."""
    from chainrule.explainer import cost_plots, costs

    table = costs.measure_costs(costs.default_sizes(max_n), repeat=repeat)
    print(table)
    print()
    swell = costs.swell_rows()
    print(costs.swell_text(swell))
    print()
    curves = costs.step_curves()
    print(costs.step_text(curves))
    print()
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


def _at_least_two(text: str) -> int:
    value = positive_int(text)
    if value < 2:
        raise argparse.ArgumentTypeError(f"expected an integer >= 2, got {value}")
    return value


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "compare-costs", help="measure and plot how each method's cost grows with the "
                              "number of inputs, expression swell, and the step-size V")
    parser.add_argument("--out", metavar="DIR", default=DEFAULT_OUT,
                        help=f"folder for the PNG plots (default ./{DEFAULT_OUT})")
    parser.add_argument("--max-n", type=_at_least_two, default=64, metavar="N",
                        help="largest number of inputs measured (powers of two up to N; "
                             "default 64)")
    parser.add_argument("--repeat", type=positive_int, default=3, metavar="R",
                        help="timing runs per measurement, the best is kept (default 3)")
    parser.set_defaults(run=_guard(run))
