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
# # 2. Forward and reverse mode, side by side
#
# Both modes of automatic differentiation apply the chain rule to the same
# **evaluation trace**: the list of elementary operations a program performs.
# They differ only in the direction they walk it. We take the classic example
#
# $$f(x_1, x_2) = \ln x_1 + x_1 x_2 - \sin x_2 \quad\text{at}\quad (2, 5),$$
#
# whose gradient is $(1/x_1 + x_2,\; x_1 - \cos x_2) = (5.5,\; 2 - \cos 5)$.

# %%
import time

import numpy as np

import chainrule as cr


def f(x1, x2):
    return cr.log(x1) + x1 * x2 - cr.sin(x2)


exact = np.array([1 / 2 + 5, 2 - np.cos(5.0)])

# %% [markdown]
# ## The evaluation trace as a table
#
# Each intermediate value $v_i$ is one primitive applied to earlier values.
# `cr.explain` records the trace; its `steps` are the rows.

# %%
reverse = cr.explain(f, 2.0, 5.0, mode="reverse")
print(f"{'name':6} {'operation':22} {'value':>10}")
for step in reverse.steps:
    print(f"{step.name:6} {step.formula():22} {float(step.value):10.4f}")

# %%
values = {step.name: float(step.value) for step in reverse.steps}
assert np.isclose(values[reverse.output], np.log(2) + 10 - np.sin(5))
assert len(reverse.steps) == 5   # log, multiply, add, sin, subtract

# %% [markdown]
# ## Forward mode: one sweep per input
#
# The forward (tangent) sweep walks the trace top to bottom. Each value gets a
# tangent $\dot v_i = \sum_j \frac{\partial v_i}{\partial v_j}\dot v_j$. Seeding
# $\dot x_1 = 1, \dot x_2 = 0$ gives $\partial f/\partial x_1$; the other partial
# needs a **second** sweep. The forward explanation shows the sweeps:

# %%
forward = cr.explain(f, 2.0, 5.0, mode="forward")
print("\n".join(forward.sweep))

# %% [markdown]
# Step through both tangent sweeps (on the site, below; made by
# `forward.to_html()`):
#
# <!-- chainrule:stepping two_variables_forward -->

# %% [markdown]
# ## Reverse mode: one sweep back gives every input's derivative
#
# The reverse (adjoint) sweep walks the trace bottom to top, carrying
# $\bar v_j = \partial f / \partial v_j = \sum_i \bar v_i \frac{\partial v_i}{\partial v_j}$.
# One sweep gives both partial derivatives at once.

# %%
print("\n".join(reverse.sweep))
print("adjoints:", {name: round(float(a), 4) for name, a in reverse.adjoints.items()})

# %% [markdown]
# And the one adjoint sweep (on the site, below; made by `reverse.to_html()`):
#
# <!-- chainrule:stepping two_variables_reverse -->

# %%
forward_gradient = np.array([forward.derivatives["x1"], forward.derivatives["x2"]], float)
reverse_gradient = np.array([reverse.derivatives["x1"], reverse.derivatives["x2"]], float)
print("forward:", forward_gradient, " reverse:", reverse_gradient, " exact:", exact)
assert np.allclose(forward_gradient, exact) and np.allclose(reverse_gradient, exact)

# %% [markdown]
# ## The Jacobian of ℝⁿ → ℝᵐ both ways
#
# For $F:\mathbb{R}^n\to\mathbb{R}^m$ one forward sweep (a JVP, $J v$) gives one
# **column** of the Jacobian; one reverse sweep (a VJP, $u^\top J$) gives one
# **row**. So forward mode builds $J$ in $n$ sweeps and reverse mode in $m$.
# We write both loops out with `cr.jvp` and `cr.vjp` and count the sweeps.

# %%
def make_F(n, m, seed=0):
    A = np.random.default_rng(seed).normal(size=(m, n)) / np.sqrt(n)
    return (lambda x: cr.tanh(A @ x)), A


def jacobian_forward(F, x, m):
    columns = []
    for i in range(x.size):                   # one JVP per input direction
        _, column = cr.jvp(F, (x,), (np.eye(x.size)[i],))
        columns.append(column)
    return np.stack(columns, axis=1), x.size


def jacobian_reverse(F, x, m):
    _, vjp_fn = cr.vjp(F, x)                  # one forward pass, recorded
    rows = [vjp_fn(np.eye(m)[j])[0] for j in range(m)]   # one VJP per output
    return np.stack(rows, axis=0), m


F, A = make_F(n=3, m=2)
x = np.linspace(-1.0, 1.0, 3)
J_fwd, forward_sweeps = jacobian_forward(F, x, 2)
J_rev, reverse_sweeps = jacobian_reverse(F, x, 2)
J_exact = (1 - np.tanh(A @ x) ** 2)[:, None] * A   # d tanh(Ax)/dx = diag(1 - tanh^2) A
print(J_fwd)
assert np.allclose(J_fwd, J_exact) and np.allclose(J_rev, J_exact)
assert np.allclose(cr.jacfwd(F)(x), J_exact) and np.allclose(cr.jacrev(F)(x), J_exact)
assert (forward_sweeps, reverse_sweeps) == (3, 2)

# %% [markdown]
# ## Cost as n and m grow
#
# Keep $m = 4$ outputs and grow the inputs $n$, then the other way round. The
# sweep counts are exact ($n$ forward, $m$ reverse); the times are measured on
# this machine, so they wobble, but the shape is the point.

# %%
def measure(n, m, repeat=3):
    F, _ = make_F(n, m)
    x = np.linspace(-1.0, 1.0, n)
    timings = {}
    for name, build in (("forward", jacobian_forward), ("reverse", jacobian_reverse)):
        best = np.inf
        for _ in range(repeat):
            start = time.perf_counter()
            J, sweeps = build(F, x, m)
            best = min(best, time.perf_counter() - start)
        timings[name] = (best, sweeps)
    return timings


grow = [2, 8, 32, 128]
growing_n = {n: measure(n, 4) for n in grow}
growing_m = {m: measure(4, m) for m in grow}
for label, table in (("m = 4, n grows", growing_n), ("n = 4, m grows", growing_m)):
    print(label)
    for size, t in table.items():
        print(f"  {size:4d}: forward {t['forward'][1]:4d} sweeps {1e3 * t['forward'][0]:7.2f} ms"
              f" | reverse {t['reverse'][1]:4d} sweeps {1e3 * t['reverse'][0]:7.2f} ms")

# %%
assert all(growing_n[n]["forward"][1] == n and growing_n[n]["reverse"][1] == 4 for n in grow)
assert all(growing_m[m]["reverse"][1] == m and growing_m[m]["forward"][1] == 4 for m in grow)

# %%
import matplotlib.pyplot as plt

fig, axes = plt.subplots(1, 2, figsize=(9, 3.2), sharey=True)
for ax, table, label in ((axes[0], growing_n, "inputs n (m = 4)"),
                         (axes[1], growing_m, "outputs m (n = 4)")):
    ax.loglog(grow, [1e3 * table[s]["forward"][0] for s in grow], "o-", label="forward (JVPs)")
    ax.loglog(grow, [1e3 * table[s]["reverse"][0] for s in grow], "s-", label="reverse (VJPs)")
    ax.set_xlabel(label)
axes[0].set_ylabel("time for the full Jacobian (ms)")
axes[0].legend()
fig.tight_layout()
plt.show()

# %% [markdown]
# **What to take away.** The same trace, the same local partial derivatives;
# forward mode multiplies them from the inputs (cost grows with $n$), reverse
# mode from the output (cost grows with $m$). A loss function has $m = 1$:
# that is why deep learning uses reverse mode.
