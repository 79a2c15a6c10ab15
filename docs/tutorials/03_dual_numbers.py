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
# # 3. Dual numbers from scratch
#
# Forward-mode AD fits in twenty lines. A **dual number** $a + b\,\varepsilon$
# has the rule $\varepsilon^2 = 0$. Then
#
# $$f(x + \varepsilon) = f(x) + f'(x)\,\varepsilon$$
#
# exactly (Taylor's series stops after the linear term), so evaluating $f$ on
# $x + 1\varepsilon$ gives the value *and* the derivative. We build the type,
# differentiate a loop with it, and then do the same with `cr.jvp`.

# %%
import math

import numpy as np

import chainrule as cr


class Dual:
    """value + tangent * eps, with eps**2 = 0."""

    def __init__(self, value, tangent=0.0):
        self.value, self.tangent = value, tangent

    @staticmethod
    def lift(other):
        return other if isinstance(other, Dual) else Dual(other, 0.0)

    def __add__(self, other):
        other = Dual.lift(other)
        return Dual(self.value + other.value, self.tangent + other.tangent)

    __radd__ = __add__

    def __sub__(self, other):
        other = Dual.lift(other)
        return Dual(self.value - other.value, self.tangent - other.tangent)

    def __rsub__(self, other):
        return Dual.lift(other) - self

    def __mul__(self, other):   # (a + b eps)(c + d eps) = ac + (ad + bc) eps
        other = Dual.lift(other)
        return Dual(self.value * other.value,
                    self.value * other.tangent + self.tangent * other.value)

    __rmul__ = __mul__

    def __truediv__(self, other):   # the quotient rule, from (a + b eps)/(c + d eps)
        other = Dual.lift(other)
        return Dual(self.value / other.value,
                    (self.tangent * other.value - self.value * other.tangent) / other.value**2)

    def __rtruediv__(self, other):
        return Dual.lift(other) / self

    def __repr__(self):
        return f"Dual({self.value!r}, {self.tangent!r})"


# %% [markdown]
# The seed example: $f(x) = x^2 - 3x - 2$, $f'(3) = 3$.

# %%
x = Dual(3.0, 1.0)
y = x * x - 3 * x - 2
print(y)
assert (y.value, y.tangent) == (-2.0, 3.0)

# %% [markdown]
# ## The Babylonian square root, differentiated through its loop
#
# Heron's method finds $\sqrt{x}$ by averaging a guess $t$ with $x/t$. The code
# knows nothing about derivatives, yet run on a dual number, every iteration
# also updates the tangent, and the loop converges to $\frac{1}{2\sqrt{x}}$.

# %%
def babylonian(x, iterations=10):
    t = (1 + x) / 2
    for _ in range(iterations):
        t = (t + x / t) / 2
    return t


result = babylonian(Dual(2.0, 1.0))
print(result, " exact:", math.sqrt(2), 1 / (2 * math.sqrt(2)))
assert abs(result.value - math.sqrt(2)) < 1e-15
assert abs(result.tangent - 1 / (2 * math.sqrt(2))) < 1e-15

# %% [markdown]
# How fast do the value and the derivative converge? Newton's iteration
# doubles the correct digits each step, and the tangent follows one step
# behind.

# %%
value_errors, tangent_errors = [], []
for n in range(0, 7):
    r = babylonian(Dual(2.0, 1.0), iterations=n)
    value_errors.append(abs(r.value - math.sqrt(2)))
    tangent_errors.append(abs(r.tangent - 1 / (2 * math.sqrt(2))))
for n, (ve, te) in enumerate(zip(value_errors, tangent_errors)):
    print(f"{n} iterations: value error {ve:.1e}, derivative error {te:.1e}")
assert value_errors[5] < 1e-15 and tangent_errors[5] < 1e-15
assert value_errors[1] > 1e-4   # not converged after one iteration

# %%
import matplotlib.pyplot as plt

fig, ax = plt.subplots(figsize=(5, 3.2))
floor = 1e-17   # exact zeros drawn at the floor of the plot
ax.semilogy([max(e, floor) for e in value_errors], "o-", label="value error")
ax.semilogy([max(e, floor) for e in tangent_errors], "s-", label="derivative error")
ax.set_xlabel("iterations")
ax.set_ylabel("absolute error")
ax.legend()
fig.tight_layout()
plt.show()

# %% [markdown]
# ## The same with chainrule's forward mode
#
# `cr.jvp(f, primals, tangents)` does what `Dual` did, for every primitive in
# chainrule's rule table and for arrays. The same Babylonian function works
# unchanged; so does reverse mode, which records the loop and sweeps back.

# %%
value, tangent = cr.jvp(babylonian, (2.0,), (1.0,))
print(value, tangent)
assert abs(value - math.sqrt(2)) < 1e-15
assert abs(tangent - 1 / (2 * math.sqrt(2))) < 1e-15
assert abs(cr.grad(babylonian)(2.0) - tangent) < 1e-15

# %% [markdown]
# Forward mode through the loop, step by step, for three iterations (on the
# site, below; made by `cr.explain(lambda x: babylonian(x, 3), 2.0,
# mode="forward").to_html()`): each division and average updates the tangent.
#
# <!-- chainrule:stepping babylonian_forward -->

# %% [markdown]
# Arrays: every element is its own dual number, so one forward sweep gives the
# derivative of the elementwise square root at many points.

# %%
points = np.array([0.25, 1.0, 4.0, 9.0])
values, tangents = cr.jvp(babylonian, (points,), (np.ones_like(points),))
print(values, tangents)
assert np.allclose(values, np.sqrt(points)) and np.allclose(tangents, 0.5 / np.sqrt(points))

# %% [markdown]
# **What to take away.** Forward mode is arithmetic on pairs. It needs no
# graph, no formula and no step size: it differentiates the program *as it
# runs*, loops included. chainrule's forward mode is the same idea with one
# rule per primitive (`cr.jvp`), and nests: the tangent of a tangent is a
# second derivative.
