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
# # 9. The finite-difference step
#
# A finite difference needs a step $h$. Too large, and the chord is far from
# the tangent (**truncation error**, falling like $h^2$ for central
# differences). Too small, and $f(x+h) - f(x-h)$ subtracts two nearly equal
# floating-point numbers (**round-off error**, growing like
# $\varepsilon/h$ with $\varepsilon \approx 2.2\times 10^{-16}$). The total
# error against $h$ is a V. We draw it, then look at two ways around it
# (Richardson extrapolation, the complex step) and at when the library's own
# error estimate can be trusted.

# %%
import numpy as np

from chainrule import numerical as nd

x0 = 1.0
exact = np.exp(x0)

# %% [markdown]
# ## The V curve

# %%
central = nd.step_error_curve(np.exp, x0, method="central", exact=exact)
forward = nd.step_error_curve(np.exp, x0, method="forward", exact=exact)
complex_step = nd.step_error_curve(np.exp, x0, method="complex", exact=exact)
print(f"central:  best step {central.best_step:.1e}, error {central.best_error:.1e}")
print(f"forward:  best step {forward.best_step:.1e}, error {forward.best_error:.1e}")
print(f"complex:  best error {complex_step.best_error:.1e}")

# %% [markdown]
# Theory says the best central step is near $\varepsilon^{1/3} \approx 6\times10^{-6}$
# with error near $\varepsilon^{2/3} \approx 4\times10^{-11}$; the best forward
# step near $\sqrt\varepsilon \approx 1.5\times10^{-8}$, error near $10^{-8}$.

# %%
eps = np.finfo(float).eps
assert 1e-7 < central.best_step < 1e-4 and central.best_error < 1e-9
assert 1e-10 < forward.best_step < 1e-6 and 1e-10 < forward.best_error < 1e-6
assert complex_step.best_error < 1e-14          # no subtraction: no round-off arm
small = central.steps < 1e-14      # steps so small that x + h and x - h barely differ
tiny, huge = np.nanmin(central.errors[small]), central.errors[np.argmax(central.steps)]
assert tiny > 1e-4 and huge > 1e-2              # both arms of the V

# %%
import matplotlib.pyplot as plt

fig, ax = plt.subplots(figsize=(6, 3.6))
for curve, label in ((forward, "forward difference"), (central, "central difference"),
                     (complex_step, "complex step")):
    ax.loglog(curve.steps, np.maximum(curve.errors, 1e-17), ".-", label=label)
h = central.steps
ax.loglog(h, eps / h, "k:", lw=0.8, label="round-off ~ eps/h")
ax.loglog(h, h**2 * exact / 6, "k--", lw=0.8, label="truncation ~ h^2 f'''/6")
ax.set_ylim(1e-17, 1e2)
ax.set_xlabel("step h")
ax.set_ylabel("|error|")
ax.legend(fontsize=7)
fig.tight_layout()
plt.show()

# %% [markdown]
# ## Richardson extrapolation
#
# The central difference $D(h) = f'(x) + c_2 h^2 + c_4 h^4 + \dots$. Two steps
# cancel the $h^2$ term: $\frac{4D(h/2) - D(h)}{3} = f'(x) + O(h^4)$. Repeating
# this (a Romberg table) gives nearly full precision from steps large enough
# to avoid round-off.

# %%
def D(h):
    return (np.exp(x0 + h) - np.exp(x0 - h)) / (2 * h)


h = 0.1
once = (4 * D(h / 2) - D(h)) / 3
print(f"D(h) error {abs(D(h) - exact):.1e}; extrapolated once {abs(once - exact):.1e}")
assert abs(once - exact) < 1e-5 < abs(D(h) - exact)

richardson = nd.derivative(np.exp, x0, method="richardson")
print(richardson)
assert abs(richardson.value - exact) < 1e-12 and richardson.converged
assert abs(richardson.value - exact) <= richardson.error_estimate   # the estimate holds

# %% [markdown]
# ## The complex step
#
# For a real-analytic $f$, $f(x + ih) = f(x) + ih f'(x) - \frac{h^2}{2}f''(x) + \dots$,
# so $f'(x) \approx \operatorname{Im} f(x + ih)/h$: no subtraction, so $h$ can be
# $10^{-200}$ and the answer is exact to rounding. It needs code that accepts
# complex numbers, and it is wrong for functions that are not analytic
# (`abs`, anything using the real part on its own).

# %%
by_hand = np.imag(np.exp(x0 + 1e-200j)) / 1e-200
library = nd.derivative(np.exp, x0, method="complex")
print(by_hand, library.value, exact)
assert abs(by_hand - exact) < 1e-15 and abs(library.value - exact) < 1e-15

# %% [markdown]
# ## When can the error estimate be trusted?
#
# Every `derivative` result carries `error_estimate`, and `converged` says
# whether that estimate is backed by several steps behaving as theory predicts.
# On a smooth function it is (and the true error is below it). Across a kink,
# a jump or a pole inside the stencil it is not: the result says so in
# `message` instead of handing back a confident wrong number.

# %%
smooth = nd.derivative(np.sin, 0.5)
print("sin at 0.5:", smooth.value, "estimate", smooth.error_estimate, "converged",
      smooth.converged)
assert smooth.converged and abs(smooth.value - np.cos(0.5)) <= smooth.error_estimate

# %%
kink = nd.derivative(np.abs, 0.0)
print("abs at 0:", kink.value, "converged:", kink.converged)
print("message:", kink.message)
assert not kink.converged and not kink.success and kink.message

# %%
jump = nd.derivative(np.sign, 0.0)
print("sign at 0:", jump.value, "converged:", jump.converged)
print("message:", jump.message)
assert not jump.converged

# %% [markdown]
# **What to take away.** A finite difference's error is a trade between two
# errors; the best step balances them, and the result is still only about
# two-thirds of the digits. Richardson extrapolation and the complex step buy
# the rest back. And a numerical derivative should come with its error
# estimate *and* a flag saying whether that estimate means anything: at a
# kink or a jump no step gives a derivative, because there is none.
