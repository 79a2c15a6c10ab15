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
# # 11. The derivative of a program, written out as a program
#
# Reverse mode usually happens out of sight: the library records a graph while
# your function runs, then sweeps back over it. `cr.make_program` makes that
# sweep visible. It runs the function on *abstract* values (a shape and a dtype,
# no numbers), records every operation as one line of a straight-line program,
# and does the same for the derivative, by running the very same VJP rules on
# abstract values. What comes out is plain NumPy code you can read, run and time.

# %%
import matplotlib.pyplot as plt
import numpy as np

import chainrule as cr

# %% [markdown]
# ## The seed example
#
# $f(x) = x^2 - 3x - 2$. Its program has one line per operation:

# %%
def f(x):
    return x**2 - 3*x - 2


program = cr.make_program(f)(3.0)
print(program)

# %%
assert len(program.eqns) == 4          # square, multiply, subtract, subtract
assert program.to_function()(3.0)[0] == f(3.0) == -2.0

# %% [markdown]
# Now the derivative. `cr.grad(f)` is a function like any other, so it can be
# traced too. The rules for `square` (2x) and `multiply` (3) run on abstract
# values, and the passes fold what is constant: what is left is $2x - 3$,
# written as code.

# %%
derivative = cr.make_program(cr.grad(f))(3.0)
print(derivative)

# %%
df = derivative.to_function()
for x in (-1.0, 0.0, 3.0, 10.0):
    assert df(x)[0] == cr.grad(f)(x) == 2 * x - 3
assert len(derivative.eqns) <= 3

# %% [markdown]
# ## Forward part, backward part
#
# For a function whose derivative needs values of the forward pass, the
# program shows both parts: the forward values are computed once and the
# backward part reads them. This is what "the graph remembers the
# intermediate values" means, written out.

# %%
def g(x):
    return cr.sum(cr.tanh(x) * cr.sin(x))


grad_program = cr.make_program(cr.grad(g))(np.ones(3))
print(grad_program)

# %%
xs = np.linspace(-2.0, 2.0, 3)
np.testing.assert_allclose(grad_program.to_function()(xs)[0], cr.grad(g)(xs), rtol=1e-15)
source = grad_program.to_source()
assert "# forward" in source and "# backward" in source
assert source.count("np.tanh(") == 1  # computed once, read by the backward part

# %% [markdown]
# ## Why reverse mode does not swell
#
# Each operation's VJP rule adds a fixed number of lines, so the derivative
# program of a chain of $n$ operations has about $c \cdot n$ lines: the cost of
# the gradient is a constant multiple of the cost of the function, whatever
# the number of inputs. Count it:

# %%
def chain(n):
    def h(x):
        for _ in range(n):
            x = cr.sin(x) * 0.9
        return cr.sum(x)
    return h


sizes = [1, 2, 4, 8, 16, 32, 64]
forward_lines = [len(cr.make_program(chain(n))(np.ones(4)).eqns) for n in sizes]
gradient_lines = [len(cr.make_program(cr.grad(chain(n)))(np.ones(4)).eqns) for n in sizes]
for n, a, b in zip(sizes, forward_lines, gradient_lines):
    print(f"n = {n:3d}: function {a:4d} lines, gradient {b:4d} lines ({b / a:.2f}x)")

fig, ax = plt.subplots(figsize=(5, 3.2))
ax.plot(sizes, forward_lines, "o-", label="the function")
ax.plot(sizes, gradient_lines, "s-", label="its gradient")
ax.set_xlabel("operations in the chain, n")
ax.set_ylabel("lines of the program")
ax.legend()
plt.show()

# %%
# every further operation adds the same number of lines: linear, not exponential
per_operation = np.diff(gradient_lines[2:]) / np.diff(sizes[2:])
print("lines per operation of the chain:", per_operation)
assert np.all(per_operation == per_operation[0]) and per_operation[0] <= 8

# %% [markdown]
# ## jit: trace once, run the program
#
# `cr.jit` traces a function once per signature (shapes, dtypes), compiles the
# program and reruns it on new values: no graph is recorded at run time.
# The results are the eager ones.

# %%
step = cr.jit(cr.grad(chain(32)))
x = np.linspace(0.1, 1.0, 4)
np.testing.assert_allclose(step(x), cr.grad(chain(32))(x), rtol=1e-14)
np.testing.assert_allclose(step(x + 1.0), cr.grad(chain(32))(x + 1.0), rtol=1e-14)
print(step.program(x).name, "with", len(step.program(x).eqns), "lines")

# %% [markdown]
# ## One loop instead of many calls: the fused backend
#
# Each line of that program is one NumPy call, and on four numbers a call costs
# far more than its arithmetic. With numba installed (`pip install
# chainrule[jit]`), `backend="numba"` writes each group of elementwise lines
# as one loop over the elements, one scalar statement per line, and compiles
# it: the whole gradient becomes a single call. (Without numba it warns and
# runs the NumPy program.) Arithmetic rounds exactly as NumPy's does; `sin`
# comes from the C library instead of NumPy's own loop, so the last bits may
# differ.

# %%
fused = cr.jit(cr.grad(chain(32)), backend="numba")
np.testing.assert_allclose(fused(x), step(x), rtol=1e-13)
print("NumPy calls in the program:", len(step.program(x).eqns))
