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
# # 5. A CNN on digits: the gradient of a convolution is a convolution
#
# A convolutional layer slides a small kernel $w$ over its input $x$. What
# deep-learning libraries call convolution is cross-correlation:
#
# $$y_i = \sum_k x_{i+k}\, w_k .$$
#
# Backpropagation needs two gradients, given $g = \partial L/\partial y$:
#
# * $\partial L/\partial x_j = \sum_i g_i\, w_{j-i}$: the **full convolution**
#   of $g$ with $w$ (the kernel flipped, slid over a zero-padded $g$);
# * $\partial L/\partial w_k = \sum_i g_i\, x_{i+k}$: the **cross-correlation**
#   of $x$ with $g$.
#
# Both are convolutions again, which is why a CNN's backward pass costs about
# what its forward pass does. We check this in 1-D with NumPy, in 2-D with
# chainrule's own convolutions, and then train a small CNN.

# %%
import numpy as np

import chainrule as cr

rng = np.random.default_rng(0)

# %% [markdown]
# ## In one dimension, with NumPy's convolve and correlate

# %%
x = rng.normal(size=10)
w = rng.normal(size=3)
y = np.correlate(x, w, mode="valid")           # the forward pass: 8 outputs
g = rng.normal(size=y.shape)                    # some dL/dy from above

dx_by_rule = np.convolve(g, w, mode="full")     # full convolution: back to 10 entries
dw_by_rule = np.correlate(x, g, mode="valid")   # correlation of the input with g: 3 entries

out, vjp_fn = cr.vjp(lambda x, w: cr.conv1d(x[None, None], w[None, None])[0, 0], x, w)
dx_library, dw_library = vjp_fn(g)
print("forward agrees:", np.allclose(out, y))
print("dL/dx:", np.round(dx_library, 4))
assert np.allclose(out, y)
assert np.allclose(dx_library, dx_by_rule) and np.allclose(dw_library, dw_by_rule)

# %% [markdown]
# ## In two dimensions, with chainrule's convolutions
#
# The input gradient is a *transposed* convolution of $g$ with the same kernel
# (`conv_transpose2d`), the weight gradient a convolution of the input with
# $g$ used as the kernel.

# %%
image = rng.normal(size=(1, 1, 6, 6))
kernel = rng.normal(size=(1, 1, 3, 3))
out, vjp_fn = cr.vjp(cr.conv2d, image, kernel)
g = rng.normal(size=out.shape)
d_image, d_kernel = vjp_fn(g)

assert np.allclose(d_image, cr.conv_transpose2d(g, kernel))
assert np.allclose(d_kernel, cr.conv2d(image, g))
print("d image is conv_transpose2d(g, kernel); d kernel is conv2d(image, g): checked")

# %% [markdown]
# And against the independent oracle, finite differences, in both modes:

# %%
assert cr.gradcheck(lambda a, b: cr.conv2d(a, b, padding=1), image, kernel)

# %% [markdown]
# ## A small CNN on scikit-learn's 8×8 digits
#
# One convolution (8 kernels of 3×3), relu, 2×2 max pooling, and a linear
# classifier. Reverse mode sends the gradient back through each of them; the
# convolution's backward pass is the two convolutions above.

# %%
cr.random.seed(0)
train, test = cr.data.load_digits(layout="image")
model = cr.nn.Sequential(
    cr.nn.Conv2d(1, 8, kernel_size=3, padding=1), cr.nn.ReLU(), cr.nn.MaxPool2d(2),
    cr.nn.Flatten(), cr.nn.Linear(8 * 4 * 4, 10),
)
optimizer = cr.optim.Adam(model.parameters(), lr=5e-3)
losses = []
for epoch in range(10):
    model.train()
    for images, labels in cr.data.DataLoader(train, batch_size=64, shuffle=True, seed=epoch):
        optimizer.zero_grad()
        loss = cr.nn.functional.cross_entropy(model(images), labels)
        loss.backward()
        optimizer.step()
        losses.append(float(loss))

model.eval()
images, labels = test.tensors
with cr.no_grad():
    accuracy = float((model(images).numpy().argmax(axis=1) == labels.numpy()).mean())
print(f"test accuracy after 10 epochs: {accuracy:.3f}")
assert accuracy > 0.9

# %%
import matplotlib.pyplot as plt

kernels = model[0].weight.numpy()[:, 0]
fig, axes = plt.subplots(1, 2, figsize=(9, 3.2), gridspec_kw={"width_ratios": [3, 2]})
axes[0].plot(losses)
axes[0].set_xlabel("batch")
axes[0].set_ylabel("cross-entropy")
axes[1].imshow(np.hstack([np.pad(k, 1, constant_values=np.nan) for k in kernels]), cmap="RdBu")
axes[1].set_title("the 8 learned 3x3 kernels")
axes[1].axis("off")
fig.tight_layout()
plt.show()

# %% [markdown]
# **What to take away.** The derivative of a linear operation is its
# transpose, and the transpose of a convolution is a convolution (with the
# kernel flipped, or with the roles of input and kernel exchanged). That is
# why every derivative of a convolution, of any order, is again a convolution.
