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
# # 4. Backpropagation by hand through a shallow network
#
# "Backpropagation" is the chain rule, applied to a network's loss, from the
# loss back to each parameter. Two questions settle it:
#
# 1. **With respect to which variables?** The parameters $W_1, b_1, W_2, b_2$.
#    The batch $X, Y$ is data: held fixed.
# 2. **How, systematically?** Name every intermediate, go backwards, and reuse
#    each result in the next line.
#
# The network: $Z_1 = X W_1 + b_1$, $A_1 = \tanh Z_1$, $Z_2 = A_1 W_2 + b_2$,
# loss $L = \frac{1}{B}\sum (Z_2 - Y)^2$ (mean squared error over a batch of $B$).

# %%
import numpy as np

import chainrule as cr

rng = np.random.default_rng(0)
B, n_in, n_hidden, n_out = 8, 3, 5, 2
X = rng.normal(size=(B, n_in))
Y = rng.normal(size=(B, n_out))
params = {
    "W1": rng.normal(size=(n_in, n_hidden)) / np.sqrt(n_in),
    "b1": np.zeros(n_hidden),
    "W2": rng.normal(size=(n_hidden, n_out)) / np.sqrt(n_hidden),
    "b2": np.zeros(n_out),
}

# %% [markdown]
# ## Forward pass, keeping every intermediate

# %%
def forward(p):
    Z1 = X @ p["W1"] + p["b1"]
    A1 = np.tanh(Z1)
    Z2 = A1 @ p["W2"] + p["b2"]
    L = np.sum((Z2 - Y) ** 2) / B
    return L, (Z1, A1, Z2)


L, (Z1, A1, Z2) = forward(params)
print("loss:", L)

# %% [markdown]
# ## Backward pass, one line per chain-rule step
#
# Each line multiplies the gradient that arrived from above by one local
# derivative. Note the shapes: a gradient always has the shape of its variable.
#
# | step | chain rule |
# | --- | --- |
# | $\partial L/\partial Z_2 = \frac{2}{B}(Z_2 - Y)$ | derivative of the mean square |
# | $\partial L/\partial W_2 = A_1^\top\, \partial L/\partial Z_2$ | $Z_2$ is linear in $W_2$ |
# | $\partial L/\partial b_2 = \sum_\text{rows} \partial L/\partial Z_2$ | $b_2$ is added to every row |
# | $\partial L/\partial A_1 = \partial L/\partial Z_2\, W_2^\top$ | $Z_2$ is linear in $A_1$ |
# | $\partial L/\partial Z_1 = \partial L/\partial A_1 \odot (1 - A_1^2)$ | $\tanh' = 1 - \tanh^2$, elementwise |
# | $\partial L/\partial W_1 = X^\top\, \partial L/\partial Z_1$ | as for $W_2$ |
# | $\partial L/\partial b_1 = \sum_\text{rows} \partial L/\partial Z_1$ | as for $b_2$ |

# %%
def backward_by_hand(p):
    L, (Z1, A1, Z2) = forward(p)
    dZ2 = 2 * (Z2 - Y) / B
    dW2 = A1.T @ dZ2
    db2 = dZ2.sum(axis=0)
    dA1 = dZ2 @ p["W2"].T
    dZ1 = dA1 * (1 - A1**2)
    dW1 = X.T @ dZ1
    db1 = dZ1.sum(axis=0)
    return {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2}


by_hand = backward_by_hand(params)
for name, g in by_hand.items():
    print(f"dL/d{name}: shape {g.shape}, norm {np.linalg.norm(g):.4f}")
assert all(by_hand[name].shape == params[name].shape for name in params)

# %% [markdown]
# ## Checked against the library
#
# The same loss written with chainrule's operations; `cr.grad` takes the
# gradient with respect to the whole dictionary of parameters (a *pytree*) and
# returns a dictionary of the same shape. NumPy's functions work on chainrule
# tensors, so the loss code is the forward pass above.

# %%
def loss(p):
    Z1 = X @ p["W1"] + p["b1"]
    A1 = np.tanh(Z1)
    Z2 = A1 @ p["W2"] + p["b2"]
    return np.sum((Z2 - Y) ** 2) / B


library = cr.grad(loss)(params)
for name in params:
    error = np.max(np.abs(library[name] - by_hand[name]))
    print(f"{name}: largest difference by hand vs reverse mode {error:.1e}")
    assert error < 1e-12

# %% [markdown]
# And against the independent oracle, central differences (which know nothing
# of the chain rule), one parameter array at a time:

# %%
for name in params:
    def of_one(value, name=name):
        return loss({**params, name: value})

    numerical = cr.numerical.gradient(of_one, params[name])
    error = np.max(np.abs(numerical.value - by_hand[name]))
    print(f"{name}: by hand vs central differences {error:.1e} "
          f"(estimated error {np.max(numerical.error_estimate):.1e})")
    assert error < 1e-7

# %% [markdown]
# ## Using the gradient: a few steps of gradient descent
#
# With the gradient by hand we can train. Each step moves every parameter
# against its gradient; the loss falls.

# %%
p = {k: v.copy() for k, v in params.items()}
losses = []
for _ in range(200):
    grads = backward_by_hand(p)
    losses.append(forward(p)[0])
    for name in p:
        p[name] -= 0.1 * grads[name]
print(f"loss: {losses[0]:.4f} -> {losses[-1]:.4f}")
assert losses[-1] < 0.5 * losses[0]

# %%
import matplotlib.pyplot as plt

fig, ax = plt.subplots(figsize=(5, 3.2))
ax.plot(losses)
ax.set_xlabel("gradient-descent step")
ax.set_ylabel("mean squared error")
fig.tight_layout()
plt.show()

# %% [markdown]
# **What to take away.** Backpropagation is ordinary differentiation carried out
# in a fixed order, from the loss back, each step reusing the one before.
# `cr.grad` performs exactly these multiplications (its reverse sweep reads the
# same local rules); `chainrule explain-nn` prints this derivation for other
# losses and activations.
