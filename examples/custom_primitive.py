"""Your own primitive: an implementation on arrays plus its derivative rules.

chainrule differentiates through any composition of its operations, so most
functions need nothing special. Define a primitive when the composition is
numerically poor or when you want a different derivative than the true one:

* ``log1pexp(x) = log(1 + exp(x))``: the naive formula overflows for x > 709
  and loses every digit for x < -37; the primitive uses a stable formula and
  states its derivative, sigmoid(x), directly.
* ``round_ste(x)``: rounding has derivative zero almost everywhere, which
  stops training a quantized model; the straight-through estimator passes
  the cotangent through unchanged.

Rules are written with chainrule operations (``cr.sigmoid``, ``*``), never raw
NumPy, so they run on plain arrays for a first derivative and on tensors for
derivatives of derivatives. Run it: ``python examples/custom_primitive.py``.
"""

from __future__ import annotations

import numpy as np

import chainrule as cr


def _log1pexp_impl(x):
    # max(x, 0) + log1p(exp(-|x|)): exp never sees a positive argument
    return np.maximum(x, 0) + np.log1p(np.exp(-np.abs(x)))


log1pexp = cr.primitive(_log1pexp_impl, name="log1pexp")
# vjp(g, out, x): the cotangent of x given the output's cotangent g
log1pexp.defvjp(lambda g, out, x: g * cr.sigmoid(x))
# jvp(dx, out, x): the output tangent caused by the tangent dx of x
log1pexp.defjvp(lambda dx, out, x: dx * cr.sigmoid(x))

round_ste = cr.primitive(np.round, name="round_ste")
round_ste.defvjp(lambda g, out, x: g)  # straight through: pretend d round(x)/dx = 1
round_ste.defjvp(lambda dx, out, x: dx)


def main() -> None:
    x = cr.tensor([-40.0, -1.0, 0.0, 2.0, 800.0], requires_grad=True)
    y = log1pexp(x)
    print("log1pexp(x)        =", np.array2string(y.data, precision=6))
    with np.errstate(over="ignore"):
        print("naive log(1+e^x)   =", np.array2string(np.log(1 + np.exp(x.data)), precision=6))
    y.sum().backward()
    print("d/dx via backward  =", np.array2string(x.grad.data, precision=6))

    d2 = cr.grad(cr.grad(log1pexp))(0.0)  # the rule is differentiable: sigmoid'(0)
    print("second derivative at 0 =", float(d2))

    w = cr.tensor([0.4, 1.6, -2.3], requires_grad=True)
    loss = cr.sum(round_ste(w) * np.array([1.0, 2.0, 3.0]))
    loss.backward()
    print("round_ste(w)       =", round_ste(w).data)
    print("straight-through d/dw =", w.grad.data)


if __name__ == "__main__":
    main()
