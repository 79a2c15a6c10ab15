"""A linear support vector machine on scikit-learn's breast-cancer data.

    minimize  F(w) = mean(max(0, 1 - y_i <x_i, w>)) + lam / 2 * |w|**2

The hinge max(0, 1 - margin) has a kink at margin 1, so F has no gradient
there; the subgradient method needs only a subgradient, which reverse mode
gives (``maximum(0, t)`` with a constant 0 takes 0 at the corner, like relu).
F is strongly convex, so the step 1 / (lam (k + 1)) of Pegasos converges; the
Polyak step uses the optimal value from scikit-learn's ``LinearSVC`` (the same
objective with C = 1 / (n lam); the bias is a weight on a column of ones,
regularized as liblinear does). ``cr.kinks`` then counts the training points
lying on the margin, where the subgradient is not unique.

Run: ``python examples/hinge_svm.py [--out DIR] [--steps N]`` (writes
``hinge_svm.png`` to DIR, a temporary directory by default).
"""

from __future__ import annotations

import argparse
import os
import tempfile

import numpy as np

import chainrule as cr
from chainrule.optim.subgradient import subgradient_method


def load(size: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Standardized features with a column of ones (the bias), labels in {-1, +1}."""
    from sklearn.datasets import load_breast_cancer  # bundled with scikit-learn

    X, y = load_breast_cancer(return_X_y=True)
    if size is not None:
        X, y = X[:size], y[:size]
    X = (X - X.mean(0)) / X.std(0)
    return np.hstack([X, np.ones((len(X), 1))]), 2.0 * y - 1.0


def solve(X: np.ndarray, y: np.ndarray, lam: float = 1e-2, steps: int = 2000) -> dict:
    """The subgradient method with three step rules, and LinearSVC as the reference."""
    from sklearn.svm import LinearSVC

    n, d = X.shape

    def objective(w):
        hinge = cr.maximum(0.0, 1.0 - y * (X @ w))
        return cr.mean(hinge) + 0.5 * lam * cr.sum(w * w)

    svc = LinearSVC(loss="hinge", C=1.0 / (n * lam), fit_intercept=False, dual=True,
                    tol=1e-10, max_iter=1_000_000).fit(X, y)
    reference = float(objective(svc.coef_.ravel()))
    w0 = np.zeros(d)

    def pegasos(k, value, g):
        return 1.0 / (lam * (k + 1))

    results = {
        "Pegasos step 1/(lam k)": subgradient_method(objective, w0, step=pegasos, steps=steps),
        "Polyak step": subgradient_method(objective, w0, step="polyak", f_star=reference,
                                          steps=steps),
        "1/sqrt(k) step": subgradient_method(objective, w0, step="sqrt", lr=1.0, steps=steps),
    }
    w = results["Pegasos step 1/(lam k)"].x
    with cr.kinks(tol=1e-3) as report:  # points whose margin is within 1e-3 of 1
        cr.grad(objective)(w)
    on_margin = sum(event.count for event in report)
    accuracy = float(np.mean(np.sign(X @ w) == y))
    return {"reference": reference, "results": results, "on_margin": on_margin,
            "accuracy": accuracy, "svc_accuracy": float(svc.score(X, y)), "lam": lam}


def plot(solved: dict, path: str) -> str:
    """The best objective so far against iterations, per step rule."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    reference = solved["reference"]
    fig, ax = plt.subplots(figsize=(6.5, 4))
    for name, res in solved["results"].items():
        gap = np.asarray(res.best_history) - reference
        ax.semilogy(np.maximum(gap, 1e-12), label=name)
    ax.set(xlabel="iteration", ylabel="best F so far - F(LinearSVC)",
           title="hinge-loss SVM on breast cancer: subgradient method")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=None, help="directory (or .png path) for the plot")
    parser.add_argument("--steps", type=int, default=2000, help="iterations per step rule")
    parser.add_argument("--size", type=int, default=None, help="use the first SIZE samples")
    parser.add_argument("--lam", type=float, default=1e-2, help="the L2 weight")
    args = parser.parse_args(argv)
    X, y = load(args.size)
    solved = solve(X, y, args.lam, args.steps)
    out = args.out or tempfile.mkdtemp(prefix="chainrule-")
    path = out if out.endswith(".png") else os.path.join(out, "hinge_svm.png")
    solved["plot"] = plot(solved, path)
    reference = solved["reference"]
    print(f"LinearSVC: F = {reference:.8f}, training accuracy {solved['svc_accuracy']:.4f}")
    for name, res in solved["results"].items():
        gap = (res.value - reference) / reference
        print(f"{name:<24} F = {res.value:.8f}  relative gap {gap:+.1e}")
    print(f"training accuracy {solved['accuracy']:.4f}; {solved['on_margin']} point(s) "
          f"within 1e-3 of the margin (the hinge's kink)")
    print(f"plot: {solved['plot']}")
    return solved


if __name__ == "__main__":
    main()
