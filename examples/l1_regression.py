"""The lasso on scikit-learn's diabetes data, solved three ways.

    minimize  F(w) = |X w - y|**2 / (2 n) + alpha * |w|_1

F has a kink wherever a weight is 0, and the lasso's answer puts several
weights exactly there. Three solvers:

* the subgradient method (``chainrule.optim.subgradient``): reverse mode gives
  a subgradient of F at every point (abs'(0) = 0 by chainrule's policy) and
  the method steps against it, keeping the best point;
* proximal gradient, ISTA and FISTA (``chainrule.optim.proximal``): a gradient
  step on the smooth part, then soft thresholding solves the L1 part exactly;
* scikit-learn's ``Lasso`` (coordinate descent), as the reference.

All reach the same objective value to within 1e-4 relative. A second panel
runs the subgradient method from w = 0 under each subgradient policy: JAX's
abs'(0) = 1 makes the first step different from PyTorch's and chainrule's 0;
after it the iterates are off the kinks and the curves nearly coincide (the
convention matters where iterates sit exactly on kinks, which is rare).

Run: ``python examples/l1_regression.py [--out DIR] [--steps N]`` (writes
``l1_regression.png`` to DIR, a temporary directory by default).
"""

from __future__ import annotations

import argparse
import os
import tempfile

import numpy as np

import chainrule as cr
from chainrule.optim.proximal import L1, fista, ista
from chainrule.optim.subgradient import subgradient_method
from chainrule.subgradients import POLICIES


def load(size: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Standardized features and centred targets (so no intercept is needed)."""
    from sklearn.datasets import load_diabetes  # bundled with scikit-learn: no download

    X, y = load_diabetes(return_X_y=True)
    if size is not None:
        X, y = X[:size], y[:size]
    return (X - X.mean(0)) / X.std(0), y - y.mean()


def solve(X: np.ndarray, y: np.ndarray, alpha: float = 1.0, steps: int = 2000) -> dict:
    """Every solver on one problem; returns their results and the reference value."""
    from sklearn.linear_model import Lasso

    n, d = X.shape

    def smooth(w):
        r = X @ w - y
        return cr.sum(r * r) / (2.0 * n)

    def objective(w):
        return smooth(w) + alpha * cr.sum(cr.abs(w))

    lasso = Lasso(alpha=alpha, fit_intercept=False, tol=1e-12, max_iter=100_000).fit(X, y)
    reference = float(objective(lasso.coef_))
    w0 = np.zeros(d)
    fast = fista(smooth, w0, L1(alpha), steps=steps, tol=1e-13)
    results = {
        "FISTA": fast,
        "ISTA": ista(smooth, w0, L1(alpha), steps=steps, tol=1e-13),
        "subgradient, Polyak step": subgradient_method(objective, w0, step="polyak",
                                                       f_star=fast.value, steps=steps),
        "subgradient, 1/sqrt(k) step": subgradient_method(objective, w0, step="sqrt",
                                                          lr=0.5, steps=steps),
    }
    policies = {}
    for policy in POLICIES:
        with cr.subgradient_policy(policy):
            policies[policy] = subgradient_method(objective, w0, step="sqrt", lr=0.5,
                                                  steps=min(steps, 200))
    return {"reference": reference, "sklearn": lasso.coef_, "results": results,
            "policies": policies, "alpha": alpha}


def plot(solved: dict, path: str) -> str:
    """Objective gap against iterations (left) and the policies' first steps (right)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    best = min(solved["reference"], *(r.value for r in solved["results"].values()))
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    for name, res in solved["results"].items():
        curve = res.best_history if hasattr(res, "best_history") else res.history
        left.semilogy(np.maximum(np.asarray(curve) - best, 1e-12), label=name)
    left.set(xlabel="iteration", ylabel="F - F*  (best so far for the subgradient method)",
             title="lasso on diabetes: three ways to a kink")
    left.legend()
    for policy, res in solved["policies"].items():
        right.semilogy(np.maximum(np.asarray(res.history) - best, 1e-12),
                       label=f"{policy} policy", alpha=0.8)
    right.set(xlabel="iteration", ylabel="F - F*",
              title="subgradient method from w = 0, 1/sqrt(k) step")
    right.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=None, help="directory (or .png path) for the plot")
    parser.add_argument("--steps", type=int, default=2000, help="iterations per solver")
    parser.add_argument("--size", type=int, default=None, help="use the first SIZE samples")
    parser.add_argument("--alpha", type=float, default=1.0, help="the L1 weight")
    args = parser.parse_args(argv)
    X, y = load(args.size)
    solved = solve(X, y, args.alpha, args.steps)
    out = args.out or tempfile.mkdtemp(prefix="chainrule-")
    path = out if out.endswith(".png") else os.path.join(out, "l1_regression.png")
    solved["plot"] = plot(solved, path)
    reference = solved["reference"]
    print(f"scikit-learn Lasso: F = {reference:.8f}, {np.count_nonzero(solved['sklearn'])} "
          f"non-zero weights")
    for name, res in solved["results"].items():
        gap = (res.value - reference) / abs(reference)
        print(f"{name:<30} F = {res.value:.8f}  relative gap {gap:+.1e}  "
              f"({len(res.history) - 1} iterations)")
    print(f"plot: {solved['plot']}")
    return solved


if __name__ == "__main__":
    main()
