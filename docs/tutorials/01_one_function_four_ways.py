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
# # 1. One function, four ways
#
# A computer has four ways to find the derivative of
#
# $$f(x) = x^2 - 3x - 2 \quad\text{at}\quad x = 3,$$
#
# whose exact answer is $f'(3) = 2 \cdot 3 - 3 = 3$. This notebook computes it
# each way, shows what each one actually *does*, and counts what each costs.
#
# The `assert` lines are this tutorial's own checks: the test suite runs the
# notebook and fails if a number in it stops being true.

# %%
import numpy as np

import chainrule as cr
from chainrule import symbolic as sym


def f(x):
    return x**2 - 3 * x - 2


# %% [markdown]
# ## 1. Numerically: central differences
#
# Step a little to each side and take the slope of the chord:
# $f'(x) \approx \frac{f(x+h) - f(x-h)}{2h}$. The chord is not the tangent, so
# the answer is close, not exact; `cr.numerical.derivative` picks the step,
# estimates its own error, and says how many times it called `f`.

# %%
calls = []


def counted_f(x):
    calls.append(x)
    return f(x)


numerical = cr.numerical.derivative(counted_f, 3.0)
print(numerical)
print("error against the exact 3:", abs(numerical.value - 3.0))
print("calls of f:", len(calls))

# %%
assert abs(numerical.value - 3.0) < 1e-8
assert numerical.converged
assert numerical.error_estimate < 1e-8
assert len(calls) == numerical.evaluations

# %% [markdown]
# The chord by hand, with a fixed step, shows the same idea in one line:

# %%
h = 1e-5
chord = (f(3.0 + h) - f(3.0 - h)) / (2 * h)
print(chord)
assert abs(chord - 3.0) < 1e-6 and chord != 3.0   # close, and (usually) not exact

# %% [markdown]
# ## 2. Symbolically: a formula in, a formula out
#
# The symbolic engine reads the text of the function as an expression tree and
# applies the differentiation rules to the *tree*. The result is a formula,
# valid at every $x$; a number comes only when we evaluate it.

# %%
expression = sym.parse("x**2 - 3*x - 2")
derivative_formula = sym.diff(expression, "x")
print("f'(x) =", derivative_formula)
symbolic = sym.evaluate(derivative_formula, x=3.0)
print("f'(3) =", symbolic)

# %%
assert str(derivative_formula) == "2*x - 3"
assert symbolic == 3.0

# %% [markdown]
# ## 3. Forward mode: carry a tangent alongside each value
#
# Forward-mode AD runs `f` once, and next to every intermediate value $v$ it
# carries $\dot v = dv/dx$, updated by the chain rule at every operation. We
# seed $\dot x = 1$; the output's tangent is the derivative.

# %%
value, tangent = cr.jvp(f, (3.0,), (1.0,))
print("f(3) =", value, "  f'(3) =", tangent)
assert (value, tangent) == (-2.0, 3.0)

# %% [markdown]
# Step through the tangent sweep one product at a time (on the documentation
# site the page is below; make your own with
# `cr.explain(f, 3.0, mode="forward").to_html()`):
#
# <!-- chainrule:stepping seed_forward -->

# %% [markdown]
# ## 4. Reverse mode: record, then sweep back
#
# Reverse-mode AD (backpropagation) runs `f` once while recording the graph of
# operations, then walks the graph from the output back to the input, carrying
# the *adjoint* $\bar v = d f / d v$ of each value. `cr.explain` prints both
# sweeps:

# %%
print(cr.explain(f, 3.0, mode="reverse"))

# %% [markdown]
# The same two sweeps, one step at a time: the primal sweep fills the values,
# then the adjoint sweep runs back from the output (on the site the page is
# below; `chainrule explain "x**2 - 3*x - 2" --at x=3 --html page.html` writes it):
#
# <!-- chainrule:stepping seed_reverse -->

# %%
x = cr.tensor(3.0, requires_grad=True)
y = f(x)
y.backward()
reverse = float(x.grad)
print("x.grad =", x.grad)
assert reverse == 3.0 and cr.grad(f)(3.0) == 3.0

# %% [markdown]
# ## Side by side
#
# `cr.compare` runs the four methods and reports each one's error:

# %%
comparison = cr.compare(f, 3.0)
print(comparison)

# %% [markdown]
# ## What each costs
#
# With one input, every method is cheap. The difference shows when $f$ has
# many inputs, $f:\mathbb{R}^n \to \mathbb{R}$: central differences need two
# calls of $f$ per input ($2n$), forward mode one sweep per input ($n$), and
# reverse mode **one** forward and one backward sweep, whatever $n$ is.
# We count calls of $f$ for the gradient of $f(w) = \sum_i w_i^2 - 3 w_i - 2$.


# %%
def costs(n):
    counter = {"calls": 0}

    def g(w):
        counter["calls"] += 1
        return cr.sum(w**2 - 3 * w - 2)

    w = np.linspace(0.0, 3.0, n)
    exact = 2 * w - 3
    counter["calls"] = 0
    num = cr.numerical.gradient(g, w, measure_error=False)
    numerical_calls = counter["calls"]
    counter["calls"] = 0
    fwd = cr.jacfwd(g)(w)
    forward_calls = counter["calls"]
    counter["calls"] = 0
    rev = cr.grad(g)(w)
    reverse_calls = counter["calls"]
    assert np.allclose(num, exact, atol=1e-6)
    assert np.allclose(fwd, exact) and np.allclose(rev, exact)
    return numerical_calls, forward_calls, reverse_calls


sizes = [1, 2, 4, 8, 16, 32]
table = {n: costs(n) for n in sizes}
print(" n  | numerical calls | forward-mode calls | reverse-mode calls")
for n, (num_calls, fwd_calls, rev_calls) in table.items():
    print(f"{n:3d} | {num_calls:15d} | {fwd_calls:18d} | {rev_calls:18d}")

# %% [markdown]
# `cr.jacfwd` pushes all $n$ tangent directions through one batched call (it
# vectorizes the $n$ sweeps), so it calls `f` once; the work inside is still
# $n$ tangents per operation. Finite differences really call `f` about $2n$
# times; reverse mode calls it once, for any $n$.

# %%
assert all(table[n][2] == 1 for n in sizes)          # reverse: one call, any n
assert all(table[n][0] >= 2 * n for n in sizes)      # central differences: 2n or more

# %%
import matplotlib.pyplot as plt

fig, ax = plt.subplots(figsize=(5, 3.2))
ax.plot(sizes, [table[n][0] for n in sizes], "o-", label="central differences")
ax.plot(sizes, [table[n][2] for n in sizes], "s-", label="reverse mode")
ax.set_xlabel("number of inputs n")
ax.set_ylabel("calls of f for one gradient")
ax.set_xscale("log", base=2)
ax.legend()
fig.tight_layout()
plt.show()

# %% [markdown]
# **What to take away.** Numerical differences are approximate and cost $2n$
# calls; symbolic differentiation gives a formula (which can swell, see
# tutorial 8); forward mode is exact and costs one sweep per input direction;
# reverse mode is exact and costs one sweep back per *output*, which is why
# training a network with millions of parameters and one loss uses it.
