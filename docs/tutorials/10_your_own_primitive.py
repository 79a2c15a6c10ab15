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
# # 10. Your own primitive, checked with gradcheck
#
# Every operation chainrule differentiates is a **primitive**: a NumPy
# implementation plus its rules, a VJP (for reverse mode) and a JVP (for
# forward mode). You can add your own. Reasons to: the operation is faster or
# more accurate in one NumPy call than as a composition (a numerically stable
# `softplus`), or it calls code AD cannot see into (a solver, a C library).
#
# Rules are easy to get wrong, so the second half of this notebook is the
# check: `cr.gradcheck` compares both rules with finite differences.

# %%
import numpy as np

import chainrule as cr

# %% [markdown]
# ## softplus, stable
#
# $\mathrm{softplus}(x) = \log(1 + e^x)$ overflows for large $x$ if written
# naively; NumPy's `logaddexp(0, x)` does not. Its derivative is the logistic
# sigmoid $\sigma(x) = 1/(1 + e^{-x})$.

# %%
softplus = cr.primitive(lambda x: np.logaddexp(0.0, x), name="softplus")

# The VJP: given the cotangent g of the output, the cotangent of x.
softplus.defvjp(lambda g, out, x: g * cr.sigmoid(x))
# The JVP: given the tangent dx of x, the tangent of the output.
softplus.defjvp(lambda dx, out, x: dx * cr.sigmoid(x))

xs = np.array([-30.0, -1.0, 0.0, 2.0, 1000.0])
print("softplus:", softplus(xs))
print("reverse: ", cr.grad(lambda x: cr.sum(softplus(x)))(xs))
print("forward: ", cr.jvp(softplus, (xs,), (np.ones_like(xs),))[1])

# %%
sigmoid = 1 / (1 + np.exp(-xs))
assert np.isfinite(softplus(xs)).all() and softplus(np.array(1000.0)) == 1000.0
assert np.allclose(cr.grad(lambda x: cr.sum(softplus(x)))(xs), sigmoid)
assert np.allclose(cr.jvp(softplus, (xs,), (np.ones_like(xs),))[1], sigmoid)

# %% [markdown]
# ## gradcheck: both rules against finite differences
#
# `cr.gradcheck(f, *inputs)` builds the Jacobian by reverse mode (one VJP per
# output element) and by forward mode, and compares each entry with central
# differences, plus random directions. It returns True or raises a
# `GradcheckError` naming the mode and the worst element.

# %%
points = np.array([-2.0, -0.5, 0.3, 1.7])
assert cr.gradcheck(softplus, points)

# %% [markdown]
# Because the rules are written with chainrule operations (`cr.sigmoid`), they
# are differentiable themselves: second derivatives come for free, and
# `cr.gradgradcheck` checks them too. $\mathrm{softplus}'' = \sigma(1 - \sigma)$.

# %%
assert cr.gradgradcheck(softplus, points)
second = cr.grad(cr.grad(softplus))(0.3)
s = 1 / (1 + np.exp(-0.3))
print("softplus''(0.3) =", second, " sigma(1 - sigma) =", s * (1 - s))
assert abs(second - s * (1 - s)) < 1e-15

# %% [markdown]
# ## A wrong rule is caught
#
# A classic slip: forgetting the minus sign inside the sigmoid, so the rule
# computes $1/(1 + e^{x})$. It looks plausible and runs without error;
# gradcheck refuses it and says where.

# %%
wrong = cr.primitive(lambda x: np.logaddexp(0.0, x), name="softplus_wrong")
wrong.defvjp(lambda g, out, x: g / (1 + cr.exp(x)))
wrong.defjvp(lambda dx, out, x: dx * cr.sigmoid(x))   # this one is right

try:
    cr.gradcheck(wrong, points)
    caught = None
except cr.GradcheckError as err:
    caught = err
    print(str(err)[:600])
assert caught is not None and "reverse" in str(caught)

# %% [markdown]
# Only the VJP is wrong, so checking forward mode alone passes: checking both
# modes is what found it.

# %%
assert cr.gradcheck(wrong, points, modes="forward")

# %% [markdown]
# ## Seeing the slip
#
# The wrong rule is the mirror image of the right one:

# %%
import matplotlib.pyplot as plt

grid = np.linspace(-4, 4, 161)
fig, ax = plt.subplots(figsize=(5, 3.2))
ax.plot(grid, cr.grad(lambda x: cr.sum(softplus(x)))(grid), label="softplus' (right rule)")
ax.plot(grid, cr.grad(lambda x: cr.sum(wrong(x)))(grid), "--", label="the wrong VJP")
ax.plot(grid, np.gradient(np.logaddexp(0, grid), grid), ":", label="np.gradient of the values")
ax.set_xlabel("x")
ax.legend(fontsize=8)
fig.tight_layout()
plt.show()

# %% [markdown]
# **What to take away.** A primitive is an implementation plus one rule per
# mode. Write the rules with chainrule operations and you get higher
# derivatives for free; run `cr.gradcheck` (and `cr.gradgradcheck`) on every
# new primitive, in both modes, at a few points away from any kink.
