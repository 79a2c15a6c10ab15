# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 7. Points without a derivative
#
# `relu` at 0, `abs` at 0, `max` at a tie: the function has a corner and no
# derivative. Yet `cr.grad` returns a number there, as PyTorch and JAX do.
# Which number, why, and does it matter? This notebook looks at the corners,
# the **subgradients** that replace the derivative there, and an optimization
# problem whose answer *lives* on the corners: the lasso.

# %%
import numpy as np

import chainrule as cr

# %% [markdown]
# ## What the library returns at a kink
#
# At a corner every slope between the left and right derivatives is a
# **subgradient** (for `abs` at 0: anything in $[-1, 1]$). chainrule picks the
# one with the smallest norm; `cr.kinks()` records every time a computation
# touched such a point, with the set and the choice.

# %%
print("relu'(0) =", cr.grad(cr.relu)(0.0))
print("abs'(0)  =", cr.grad(cr.abs)(0.0))
print("d/dx max(x, y) and d/dy at a tie:",
      cr.grad(lambda x, y: cr.maximum(x, y), argnums=(0, 1))(1.0, 1.0))
assert cr.grad(cr.relu)(0.0) == 0.0 and cr.grad(cr.abs)(0.0) == 0.0
assert cr.grad(lambda x, y: cr.maximum(x, y), argnums=(0, 1))(1.0, 1.0) == (0.5, 0.5)

# %% [markdown]
# The tie, step by step: the adjoint sweep hands each argument of `maximum`
# half (on the site, below; made by
# `cr.explain(cr.maximum, 1.0, 1.0).to_html()`):
#
# <!-- chainrule:stepping maximum_tie_reverse -->

# %%
with cr.kinks() as report:
    cr.grad(lambda x: cr.sum(cr.abs(x) + cr.relu(x - 1.0)))(np.array([0.0, 1.0, 2.0]))
print(report)
assert [event.primitive for event in report] == ["abs", "relu"]

# %% [markdown]
# Other frameworks choose differently, and chainrule can reproduce them:

# %%
for policy in ("pytorch", "jax"):
    with cr.subgradient_policy(policy):
        tie = cr.grad(lambda x: cr.maximum(x, 0.0))(0.0)
        corner = cr.grad(cr.abs)(0.0)
    print(f"{policy:8}: d/dx max(x, 0) at 0 = {tie}, abs'(0) = {corner}")
with cr.subgradient_policy("pytorch"):
    assert cr.grad(lambda x: cr.maximum(x, 0.0))(0.0) == 0.5

# %% [markdown]
# ## The picture: the slopes that touch from below
#
# A subgradient at a corner is the slope of a line through the corner that
# stays below the graph. For $|x|$ at 0 those are the slopes in $[-1, 1]$:

# %%
import matplotlib.pyplot as plt

xs = np.linspace(-1.5, 1.5, 301)
fig, ax = plt.subplots(figsize=(5, 3.2))
ax.plot(xs, np.abs(xs), "k", lw=2, label="|x|")
for slope in (-1.0, -0.5, 0.0, 0.5, 1.0):
    ax.plot(xs, slope * xs, lw=0.8, label=f"slope {slope:+.1f}")
ax.set_ylim(-0.5, 1.6)
ax.legend(fontsize=7)
fig.tight_layout()
plt.show()

# %%
slopes = np.linspace(-1, 1, 9)
assert all(np.all(np.abs(xs) >= s * xs - 1e-15) for s in slopes)   # all below the graph
assert not np.all(np.abs(xs) >= 1.2 * xs)                          # 1.2 is not a subgradient

# %% [markdown]
# ## The lasso: where the answer sits on the corners
#
# Least squares plus an $\ell_1$ penalty,
# $\min_w \frac{1}{2n}\lVert Xw - y\rVert^2 + \lambda \lVert w\rVert_1$,
# has a *sparse* minimizer: many weights exactly 0, each sitting on the kink of
# $|w_i|$. Two ways to get there:
#
# * the **subgradient method**: $w \leftarrow w - a_k g_k$ with $g_k$ a
#   subgradient (what `cr.grad` returns); it zig-zags around the corners and
#   never lands on 0 exactly;
# * the **proximal gradient method** (ISTA/FISTA): a gradient step on the
#   smooth part, then the $\ell_1$ penalty's proximal operator (soft
#   thresholding), which sets small weights to exactly 0.

# %%
rng = np.random.default_rng(0)
n, d = 60, 10
X = rng.normal(size=(n, d))
w_true = np.zeros(d)
w_true[[1, 4, 7]] = [2.0, -3.0, 1.5]
y = X @ w_true + 0.1 * rng.normal(size=n)
lam = 0.1


def smooth(w):
    r = X @ w - y
    return cr.sum(r * r) / (2 * n)


def objective(w):
    return smooth(w) + lam * cr.sum(cr.abs(w))


subgradient = cr.optim.subgradient.subgradient_method(objective, np.zeros(d), step="sqrt",
                                                      lr=0.5, steps=2000)
proximal = cr.optim.proximal.fista(smooth, np.zeros(d), cr.optim.proximal.L1(lam), steps=2000)
print("subgradient method:", np.round(subgradient.x, 4))
print("FISTA (proximal):  ", np.round(proximal.x, 4))

# %% [markdown]
# A check that needs no other library: at the lasso's minimizer, zero must be
# a subgradient of the objective. For a weight $w_i \ne 0$ that means
# $\nabla_i(\text{smooth}) = -\lambda\,\mathrm{sign}(w_i)$; for $w_i = 0$ it
# means $|\nabla_i(\text{smooth})| \le \lambda$.

# %%
g = cr.grad(smooth)(proximal.x)
nonzero = proximal.x != 0
print("zeros at:", np.flatnonzero(~nonzero), " nonzero at:", np.flatnonzero(nonzero))
assert np.allclose(g[nonzero], -lam * np.sign(proximal.x[nonzero]), atol=1e-8)
assert np.all(np.abs(g[~nonzero]) <= lam + 1e-8)
assert set(np.flatnonzero(nonzero)) >= {1, 4, 7}
assert np.sum(proximal.x == 0) >= 4                 # exact zeros
assert np.sum(subgradient.x == 0) == 0              # the subgradient method: none exactly 0
assert abs(subgradient.value - proximal.value) < 1e-3

# %%
from sklearn.linear_model import Lasso

reference = Lasso(alpha=lam, fit_intercept=False, tol=1e-12, max_iter=100_000).fit(X, y)
print("scikit-learn:      ", np.round(reference.coef_, 4))
assert np.allclose(proximal.x, reference.coef_, atol=1e-6)

# %%
best = min(min(subgradient.history), min(proximal.history))
fig, ax = plt.subplots(figsize=(5, 3.2))
ax.semilogy(np.array(subgradient.best_history) - best + 1e-16, label="subgradient method (best)")
ax.semilogy(np.array(proximal.history) - best + 1e-16, label="FISTA")
ax.set_xlabel("iteration")
ax.set_ylabel("objective - best")
ax.legend()
fig.tight_layout()
plt.show()

# %% [markdown]
# **What to take away.** At a kink, AD returns one subgradient, chosen by a
# documented policy (`docs/subgradients.md`); `cr.kinks()` tells you when it
# happened. For training networks the choice rarely matters. For problems
# whose answer sits on the kinks, like the lasso, a method built for the
# corner (the proximal step) beats following subgradients.
