"""The measurements of ``costs`` drawn as PNG files with matplotlib.

matplotlib is an optional extra (``chainrule[plot]``), imported here only.
Figures are drawn on their own Agg canvas, never through pyplot, so plotting
neither needs a display nor switches the backend of a caller's session.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from chainrule.explainer.costs import FUNCTION, STEP_FUNCTION, CostTable

PLOTS = ("costs.png", "swell.png", "step_error.png")


def _figure(width: float, height: float) -> Any:
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError as err:
        raise RuntimeError("compare-costs: the plots need matplotlib "
                           "(pip install 'chainrule[plot]')") from err
    fig = Figure(figsize=(width, height), dpi=100)
    FigureCanvasAgg(fig)
    return fig


def _save(fig: Any, path: Path, **margins: float) -> Path:
    for ax in fig.axes:
        ax.minorticks_off()  # log-axis minor ticks: clutter, and most of the drawing time
    fig.subplots_adjust(**{"left": 0.12, "right": 0.97, "bottom": 0.12, "top": 0.92,
                           **margins})  # fixed margins: tight_layout would draw twice
    fig.savefig(path, format="png")
    return path


def plot_costs(table: CostTable, path: str | Path) -> Path:
    """Three panels against n: calls or sweeps, seconds, symbolic expression size."""
    r = table.rows
    n = np.array([row.n for row in r], dtype=float)
    fig = _figure(13, 4.2)
    counts, times, sizes = fig.subplots(1, 3)
    counts.loglog(n, [row.numerical_evaluations for row in r], "o-",
                  label="central differences: 2n calls of f")
    counts.loglog(n, [row.forward_sweeps for row in r], "s-", label="forward mode: n jvp sweeps")
    counts.loglog(n, np.ones_like(n), "^--", label="forward batched (jacfwd): 1 sweep")
    counts.loglog(n, [row.reverse_sweeps for row in r], "v:", label="reverse mode (grad): 1 sweep",
                  linewidth=2.5)
    counts.set(title="Work for one gradient", xlabel="number of inputs n",
               ylabel="calls of f / sweeps")
    series = (("central differences", "numerical_seconds", "o-"),
              ("forward, n sweeps", "forward_seconds", "s-"),
              ("forward batched (jacfwd)", "batched_seconds", "^--"),
              ("reverse (grad)", "reverse_seconds", "v-"),
              ("symbolic (n diffs)", "symbolic_seconds", "d-"))
    for label, attribute, style in series:
        times.loglog(n, [getattr(row, attribute) * 1e3 for row in r], style, label=label)
    times.set(title="Time for one gradient (measured)", xlabel="number of inputs n",
              ylabel="milliseconds (best of runs)")
    sizes.loglog(n, [row.symbolic_tree for row in r], "d-", label="as trees (total)")
    sizes.loglog(n, [row.symbolic_dag for row in r], "d--", label="as one shared DAG")
    sizes.set(title="Symbolic: size of the n partials", xlabel="number of inputs n",
              ylabel="nodes")
    for ax in (counts, times, sizes):
        ax.set_xticks(n, [str(int(v)) for v in n])
        ax.grid(True, which="major", alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle(table.function, fontsize=10)
    return _save(fig, Path(path), left=0.05, right=0.99, top=0.86, wspace=0.22)


def plot_swell(rows: list[dict[str, Any]], path: str | Path) -> Path:
    """Tree size against DAG size of symbolic derivatives, per family, against k."""
    fig = _figure(7, 4.5)
    ax = fig.subplots()
    families = list(dict.fromkeys(row["family"] for row in rows))
    colors = ("C0", "C1", "C2", "C3")
    for family, color in zip(families, colors):
        mine = [row for row in rows if row["family"] == family]
        ks = [row["k"] for row in mine]
        ax.semilogy(ks, [row["tree"] for row in mine], "o-", color=color,
                    label=f"{family}: tree")
        ax.semilogy(ks, [row["dag"] for row in mine], "o--", color=color, fillstyle="none",
                    label=f"{family}: DAG")
    ax.set(title="Expression swell: derivative size written as a tree vs stored as a DAG",
           xlabel="k (nesting depth, or derivative order for 'order')", ylabel="nodes")
    ax.title.set_fontsize(10)
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(fontsize=8, ncol=2)
    return _save(fig, Path(path))


def plot_step_error(curves: dict[str, Any], path: str | Path) -> Path:
    """The V of error against step, best step starred, automatic step dotted."""
    fig = _figure(7, 4.5)
    ax = fig.subplots()
    for (method, c), color in zip(curves.items(), ("C0", "C1", "C2")):
        ok = np.isfinite(c.errors) & (c.errors > 0)
        ax.loglog(c.steps[ok], c.errors[ok], ".-", color=color,
                  label=f"{method} difference: best h = {c.best_step:.0e}, "
                        f"error {c.best_error:.0e}")
        ax.loglog([c.best_step], [c.best_error], "*", color=color, markersize=16,
                  markeredgecolor="black")
        ax.axvline(c.auto_step, color=color, linestyle=":", linewidth=1)
    ax.set(title=f"Finite differences: error against step, {STEP_FUNCTION}",
           xlabel="step h   (dotted: the step chosen automatically)",
           ylabel="|estimate - exact derivative|")
    ax.title.set_fontsize(10)
    lowest = min(c.best_error for c in curves.values() if c.best_error > 0)
    ax.set_ylim(bottom=lowest / 300)  # room below the V for the labels
    ax.text(0.97, 0.04, "large h: truncation\nerror ~ h (forward), h**2 (central)",
            transform=ax.transAxes, ha="right", va="bottom", fontsize=8)
    ax.text(0.03, 0.04, "small h: round-off\nerror ~ eps / h", transform=ax.transAxes,
            ha="left", va="bottom", fontsize=8)
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(fontsize=8, loc="upper center")
    return _save(fig, Path(path))


def write_plots(out_dir: str | Path, table: CostTable, swell: list[dict[str, Any]],
                curves: dict[str, Any]) -> list[Path]:
    """All three PNGs into ``out_dir`` (which must exist): ``PLOTS``, in that order."""
    out = Path(out_dir)
    return [plot_costs(table, out / PLOTS[0]), plot_swell(swell, out / PLOTS[1]),
            plot_step_error(curves, out / PLOTS[2])]


__all__ = ["FUNCTION", "PLOTS", "plot_costs", "plot_step_error", "plot_swell", "write_plots"]
