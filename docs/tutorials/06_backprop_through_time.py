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
# # 6. Backpropagation through time: an RNN on a sine wave, an LSTM on digit rows
#
# A recurrent network applies the *same* cell at every time step:
#
# $$h_t = \tanh(x_t W_x + h_{t-1} W_h + b), \qquad \hat y_t = h_t V + c .$$
#
# Unrolled over $T$ steps it is an ordinary, deep, feed-forward graph whose
# layers share their weights. Backpropagation through time (BPTT) is reverse
# mode on that unrolled graph: the adjoint of $h_t$ collects the loss at step
# $t$ *and* what flows back from $h_{t+1}$, and each shared weight's gradient
# is the sum of its contributions at every step.

# %%
import numpy as np

import chainrule as cr

rng = np.random.default_rng(0)
T, hidden = 25, 8
t = np.linspace(0, 4 * np.pi, T + 1)
wave = np.sin(t)
xs, targets = wave[:-1, None], wave[1:, None]      # predict the next value of the wave
params = {
    "Wx": rng.normal(size=(1, hidden)) * 0.5,
    "Wh": rng.normal(size=(hidden, hidden)) / np.sqrt(hidden),
    "b": np.zeros(hidden),
    "V": rng.normal(size=(hidden, 1)) / np.sqrt(hidden),
    "c": np.zeros(1),
}

# %% [markdown]
# ## BPTT by hand

# %%
def forward(p):
    hs = [np.zeros((1, hidden))]
    ys = []
    for x in xs:
        hs.append(np.tanh(x[None] @ p["Wx"] + hs[-1] @ p["Wh"] + p["b"]))
        ys.append(hs[-1] @ p["V"] + p["c"])
    ys = np.concatenate(ys)
    return np.mean((ys - targets) ** 2), hs, ys


def bptt(p):
    loss, hs, ys = forward(p)
    grads = {name: np.zeros_like(value) for name, value in p.items()}
    dys = 2 * (ys - targets) / T
    dh_next = np.zeros((1, hidden))
    adjoint_norms = []
    for step in reversed(range(T)):                  # from the last step back to the first
        dy = dys[step][None]
        grads["V"] += hs[step + 1].T @ dy
        grads["c"] += dy[0]
        dh = dy @ p["V"].T + dh_next                 # the loss here + what came back from t+1
        dz = dh * (1 - hs[step + 1] ** 2)            # through tanh
        grads["Wx"] += xs[step][None].T @ dz
        grads["Wh"] += hs[step].T @ dz               # the shared weight: summed over steps
        grads["b"] += dz[0]
        dh_next = dz @ p["Wh"].T                     # on to h_{t-1}
        adjoint_norms.append(np.linalg.norm(dh))
    return loss, grads, adjoint_norms[::-1]


loss, by_hand, _ = bptt(params)
print("loss:", loss)

# %% [markdown]
# ## Checked against reverse mode
#
# The same forward pass written with chainrule operations; `cr.grad` unrolls
# nothing by itself: it records the loop as the program runs it.

# %%
def loss_fn(p):
    h = np.zeros((1, hidden))
    ys = []
    for x in xs:
        h = cr.tanh(x[None] @ p["Wx"] + h @ p["Wh"] + p["b"])
        ys.append(h @ p["V"] + p["c"])
    return cr.mean((cr.concatenate(ys) - targets) ** 2)


library = cr.grad(loss_fn)(params)
for name in params:
    print(f"{name}: largest difference {np.max(np.abs(library[name] - by_hand[name])):.1e}")
    assert np.allclose(library[name], by_hand[name], rtol=1e-10, atol=1e-13)

# %% [markdown]
# ## How far back does the gradient reach?
#
# The adjoint of an early $h_t$ from the *last* step's loss is a product of
# $T - t$ Jacobians $\operatorname{diag}(1 - h^2) W_h^\top$. With small
# weights it shrinks geometrically: the **vanishing gradient** that LSTMs were
# designed against.

# %%
def reach_back(scale):
    """|d h_T / d h_t| for every t, with W_h scaled by ``scale``."""
    q = {**params, "Wh": params["Wh"] * scale}
    _, hs, _ = forward(q)                            # the hidden states h_0 .. h_T

    def last_state_from(h, step):                    # replay steps step+1 .. T from h
        for x in xs[step:]:
            h = cr.tanh(x[None] @ q["Wx"] + h @ q["Wh"] + q["b"])
        return cr.sum(h)

    return [np.linalg.norm(cr.grad(last_state_from)(hs[step], step)) for step in range(T)]


norms = {scale: reach_back(scale) for scale in (0.5, 1.0)}
print("with W_h scaled by 0.5:", np.round(norms[0.5][:5], 8), "...")
assert norms[0.5][0] < 1e-4 * norms[0.5][-1]          # vanished over 25 steps

# %%
import matplotlib.pyplot as plt

fig, ax = plt.subplots(figsize=(5, 3.2))
for scale, values in norms.items():
    ax.semilogy(range(T), values, "o-", ms=3, label=f"W_h x {scale}")
ax.set_xlabel("time step t")
ax.set_ylabel("|d h_T / d h_t|")
ax.legend()
fig.tight_layout()
plt.show()

# %% [markdown]
# ## Training: an RNN on the sine wave
#
# With the gradient by BPTT, gradient descent (here Adam) fits the next-step
# prediction.

# %%
cr.random.seed(0)
rnn = cr.nn.RNN(1, 16, batch_first=True)
head = cr.nn.Linear(16, 1)
optimizer = cr.optim.Adam([*rnn.parameters(), *head.parameters()], lr=1e-2)
inputs = cr.tensor(xs[None].astype(np.float32))
goal = cr.tensor(targets[None].astype(np.float32))
rnn_losses = []
for _ in range(150):
    optimizer.zero_grad()
    out, _ = rnn(inputs)
    loss = cr.mean((head(out) - goal) ** 2)
    loss.backward()
    optimizer.step()
    rnn_losses.append(float(loss))
print(f"next-step error: {rnn_losses[0]:.4f} -> {rnn_losses[-1]:.5f}")
assert rnn_losses[-1] < 0.01 * rnn_losses[0]

# %% [markdown]
# ## An LSTM reading digits row by row
#
# Each 8×8 digit is a sequence of 8 rows of 8 pixels; the LSTM's last hidden
# state feeds a linear classifier. The loss is only at the last step, so every
# gradient travels back through all 8 steps.

# %%
cr.random.seed(0)
train, test = cr.data.load_digits(layout="rows")
lstm = cr.nn.LSTM(8, 32, batch_first=True)
classifier = cr.nn.Linear(32, 10)
optimizer = cr.optim.Adam([*lstm.parameters(), *classifier.parameters()], lr=1e-2)


def logits(images):
    out, (h, c) = lstm(images)
    return classifier(h[-1])


for epoch in range(6):
    for images, labels in cr.data.DataLoader(train, batch_size=64, shuffle=True, seed=epoch):
        optimizer.zero_grad()
        cr.nn.functional.cross_entropy(logits(images), labels).backward()
        optimizer.step()
images, labels = test.tensors
with cr.no_grad():
    accuracy = float((logits(images).numpy().argmax(axis=1) == labels.numpy()).mean())
print(f"LSTM test accuracy: {accuracy:.3f}")
assert accuracy > 0.85

# %% [markdown]
# **What to take away.** A recurrent network is a deep network with shared
# weights; BPTT is reverse mode on its unrolled graph, with every shared
# weight's gradient summed over the steps. The product of per-step Jacobians
# is why plain RNNs forget, and why gated cells (LSTM, GRU) help.
