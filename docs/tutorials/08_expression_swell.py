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
# # 8. Expression swell: the tree, the DAG, and why reverse mode does not swell
#
# Symbolic differentiation has a reputation: derivatives "blow up". The
# culprit is the product rule, $(uv)' = u'v + uv'$, which writes $u$ and $v$
# out *again* next to their derivatives. Written as a **tree**, with every
# repeated part copied, the derivative's size can grow exponentially. Written
# as a **DAG**, with repeated parts shared, it does not. Reverse-mode AD never
# writes a formula at all: it works on values, one per node of the program.
#
# The example is the logistic map, $\ell_{n+1} = 4\ell_n(1 - \ell_n)$,
# $\ell_1 = x$, iterated $n$ times.

# %%
import numpy as np

import chainrule as cr
from chainrule import symbolic as sym

x = sym.symbol("x")


def logistic(v, n):
    for _ in range(n):
        v = 4 * v * (1 - v)
    return v


sizes = []
for n in range(1, 9):
    f = logistic(x, n)
    df = sym.diff(f, "x", simplify=False)
    sizes.append((n, sym.tree_size(f), sym.dag_size(f), sym.tree_size(df), sym.dag_size(df)))
print(" n | f: tree   DAG | f': tree    DAG")
for n, ft, fd, dt, dd in sizes:
    print(f"{n:2d} | {ft:7d} {fd:5d} | {dt:8d} {dd:6d}")

# %% [markdown]
# The tree of $f$ doubles with each step (the map uses $\ell_n$ twice); its
# derivative's tree grows faster still. The DAGs grow by a constant number of
# nodes per step.

# %%
tree_growth = [sizes[i + 1][3] / sizes[i][3] for i in range(len(sizes) - 1)]
dag_steps = [sizes[i + 1][4] - sizes[i][4] for i in range(len(sizes) - 1)]
print("derivative tree grows by x", np.round(tree_growth, 2))
print("derivative DAG grows by +", dag_steps)
assert all(g > 2.0 for g in tree_growth[2:])            # exponential
assert len(set(dag_steps)) == 1                         # linear: the same few nodes per step

# %%
small = sym.diff(logistic(x, 2), "x", simplify=False)
print("as a tree:\n", sym.tree_text(small)[:600])
print("as a DAG:\n", sym.dag_text(small))

# %%
import matplotlib.pyplot as plt

ns = [s[0] for s in sizes]
fig, ax = plt.subplots(figsize=(5, 3.2))
ax.semilogy(ns, [s[3] for s in sizes], "o-", label="f' as a tree")
ax.semilogy(ns, [s[4] for s in sizes], "s-", label="f' as a DAG")
ax.semilogy(ns, [s[1] for s in sizes], "^--", label="f as a tree")
ax.set_xlabel("iterations n of the logistic map")
ax.set_ylabel("nodes")
ax.legend()
fig.tight_layout()
plt.show()

# %% [markdown]
# ## Common subexpressions
#
# `sym.cse` names each shared part once, turning the DAG into a short program:
# a list of assignments, each used as often as needed.

# %%
assignments, reduced = sym.cse(sym.diff(logistic(x, 3), "x", simplify=False))
for temp, expression in assignments:
    print(f"{temp} = {expression}")
print("f' =", reduced)
assert len(assignments) >= 3

# %% [markdown]
# ## Reverse mode works on the program, not on the formula
#
# Reverse mode records the operations the *program* performs: for $n$
# iterations, a handful per iteration. Its backward sweep visits each once.
# No formula is ever written out, so nothing swells, and the number is the
# same as the symbolic one.

# %%
for n in (3, 8, 20):
    explanation = cr.explain(lambda v, n=n: logistic(v, n), 0.3)
    symbolic = sym.evaluate(sym.diff(logistic(x, n), "x"), x=0.3) if n <= 8 else None
    reverse = cr.grad(lambda v, n=n: logistic(v, n))(0.3)
    print(f"n = {n:2d}: {len(explanation.steps):3d} recorded operations, "
          f"{len(explanation.sweep):3d} sweep steps, f'(0.3) = {reverse:.6g}"
          + (f" (symbolic {symbolic:.6g})" if symbolic is not None else ""))
    assert len(explanation.steps) == 3 * n              # 4*v, 1 - v, product: three per step
    if symbolic is not None:
        assert np.isclose(reverse, symbolic, rtol=1e-9)

# %% [markdown]
# At $n = 20$ the derivative's tree would have millions of nodes; the
# recorded program has 60.

# %%
huge = sym.tree_size(sym.diff(logistic(x, 20), "x", simplify=False))
print(f"tree size of f' at n = 20: {huge:,}")
assert huge > 10**6

# %% [markdown]
# **What to take away.** Expression swell is a property of writing formulas
# as trees, not of differentiation. Share the repeated parts (a DAG, common
# subexpressions) and the derivative stays proportional to the function.
# Reverse mode gets this for free: the chain rule is applied to values, one
# per recorded operation.
