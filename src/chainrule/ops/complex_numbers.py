"""Complex numbers on the graph: real, imag, conj, angle, and the one table of
primitives that differentiate complex values.

The convention is PyTorch's (see ``chainrule.core.wirtinger``): the cotangent
of a complex value is ``dL/du + i dL/dv``, so a gradient step on a complex
parameter moves it downhill, and a tangent is the complex ``du + i dv``.
A primitive not in the table below refuses a complex value that needs a
derivative, naming itself; docs/complex.md lists the table for users.
"""

from __future__ import annotations

from typing import Any

from chainrule.backend import dtype_of, xp
from chainrule.core.primitive import Primitive, Variadic
from chainrule.core.wirtinger import declare_complex, varies_for_complex
from chainrule.ops import arithmetic, einsum, elementary, linalg, reductions, scans, shape
from chainrule.ops.nonsmooth import abs as abs_p
from chainrule.ops.nonsmooth import sign, where

__all__ = ["real", "imag", "conj", "conjugate", "angle"]


def is_complex(x: Any) -> bool:
    """Whether ``x`` (an array, a traced value, a Python number) holds complex numbers."""
    return xp.dtype(dtype_of(x)).kind == "c"


def conj_if_complex(x: Any) -> Any:
    """``conj(x)``, or ``x`` itself when it is real: nothing to copy in a rule."""
    return conj(x) if is_complex(x) else x


def to_dtype(v: Any, dtype: Any) -> Any:
    """``v`` cast to ``dtype``; a complex ``v`` cast to a real dtype keeps its real part
    (the cotangent of a real input, the tangent of a real output), without NumPy's warning."""
    dtype = xp.dtype(dtype)
    if dtype.kind != "c" and is_complex(v):
        v = real(v)
    if xp.dtype(dtype_of(v)) != dtype:
        v = shape.astype(v, dtype)
    return v


# ----- the parts of a complex number -----

real = Primitive("real", xp.real)
"""The real part u of z = u + iv (x itself for a real x); d/du = 1, d/dv = 0."""
real.defvjp(lambda g, out, x: g)  # real g; the engine casts it to x's dtype (g + 0j)
real.defjvp(lambda dx, out, x: real(dx))

imag = Primitive("imag", xp.imag)
"""The imaginary part v of z = u + iv (0 for a real x); d/du = 0, d/dv = 1."""
imag.defvjp(lambda g, out, x: arithmetic.multiply(g, 1j) if is_complex(x) else None)
imag.defjvp(lambda dx, out, x: imag(dx) if is_complex(x) else None)

conj = Primitive("conj", xp.conjugate)
"""The complex conjugate u - iv of z = u + iv (x itself for a real x)."""
conj.defvjp(lambda g, out, x: conj(g))
conj.defjvp(lambda dx, out, x: conj(dx))
conjugate = conj
"""NumPy's longer name for ``conj``: the complex conjugate u - iv."""


def _angle_impl(x: Any) -> Any:
    return xp.angle(x)


def _angle_slope(x: Any) -> Any:
    # i z / |z|^2 (= i / conj(z)): d angle/du + i d angle/dv; 0 at z = 0, as in PyTorch
    sq = real(arithmetic.multiply(x, conj(x)))
    return arithmetic.multiply(x, 1j) / where(sq == 0, 1.0, sq)


angle = Primitive("angle", _angle_impl)  # of a real number: 0 or pi, a constant
"""The argument atan2(v, u) of z = u + iv; its gradient is ``1j * z / abs(z)**2``,
0 at z = 0 (PyTorch's); of a real number, 0 or pi, a constant."""
angle.defvjp(lambda g, out, x: g * _angle_slope(x) if is_complex(x) else None)
angle.defjvp(lambda dx, out, x: real(conj(_angle_slope(x)) * dx) if is_complex(x) else None)


# ----- abs and astype: a real result of a complex value -----

def _sgn(x: Any, out: Any) -> Any:
    # z / |z|, 0 at z = 0 (PyTorch's sgn): d|z|/du + i d|z|/dv
    return x / where(out == 0, 1.0, out)


abs_complex = Primitive("abs", abs_p.impl, register=False, kink="0 at z == 0 (PyTorch's)")
abs_complex.defvjp(lambda g, out, x: g * _sgn(x, out))
abs_complex.defjvp(lambda dx, out, x: real(conj(_sgn(x, out)) * dx))

astype_complex = Primitive("astype", shape.astype_p.impl, register=False)
astype_complex.defvjp(lambda g, out, x, dtype: to_dtype(g, dtype_of(x)))
astype_complex.defjvp(lambda dx, out, x, dtype: to_dtype(dx, dtype))


# ----- holomorphic primitives: their real rules at the conjugated primals -----

def _conjugated(rule: Any) -> Any:
    """A holomorphic primitive's complex VJP: its real rule, an analytic expression of
    the primals with real coefficients, evaluated at their conjugates gives
    ``g * conj(f'(z))``."""
    if rule is None:
        return None

    def complex_rule(g: Any, out: Any, *args: Any, **params: Any) -> Any:
        return rule(g, conj_if_complex(out), *[conj_if_complex(a) for a in args], **params)
    complex_rule.elementwise = getattr(rule, "elementwise", False)  # type: ignore[attr-defined]
    return complex_rule


def holomorphic(prim: Primitive) -> None:
    """Declare that ``prim`` is holomorphic in each argument, with real rules written
    as analytic expressions of its primals: its complex twin follows from them."""
    twin = Primitive(prim.name, prim.impl, register=False, kink=prim.kink,
                     takes_perturbed=prim.takes_perturbed)
    if isinstance(prim.vjps, Variadic):  # one rule(i, g, out, *args) for any arity
        rule = prim.vjps.rule
        twin.defvjp_variadic(lambda i, g, out, *args, **params: rule(
            i, g, conj_if_complex(out), *[conj_if_complex(a) for a in args], **params))
    else:
        twin.defvjp(*(_conjugated(rule) for rule in prim.vjps))
    twin.jvps = prim.jvps  # a holomorphic JVP is f'(z) dz: the real rule as it is
    declare_complex(prim, twin)


# ----- the table -----

for _prim in (real, imag, angle):
    declare_complex(_prim, real_result=True)

for _prim in (conj,
              # linear with real coefficients: their rules hold for complex values as written
              arithmetic.add, arithmetic.subtract, arithmetic.negative,
              reductions.sum_p, reductions.mean_p,
              shape.reshape_p, shape.transpose_p, shape.expand_dims_p, shape.squeeze_p,
              shape.flip_p, shape.getitem_p, shape.scatter_add_p, shape.concatenate_p,
              shape.broadcast_to_p, shape.sum_to_p, shape.copy_p, shape.identity_p, where,
              shape.pad_p, scans.cumsum_p, linalg.diagonal_p, linalg.diagonal_embed_p):
    declare_complex(_prim)

declare_complex(abs_p, abs_complex, real_result=True)
declare_complex(shape.astype_p, astype_complex, real_result=True)

for _prim in (arithmetic.multiply, arithmetic.divide, arithmetic.power,
              arithmetic.reciprocal, arithmetic.square, linalg.matmul, linalg.tensordot_p,
              linalg.solve_p, linalg.inv_p, linalg.det_p, einsum.einsum_p,
              reductions.prod_p, scans.cumprod_p,
              elementary.exp, elementary.expm1, elementary.log, elementary.log1p,
              elementary.log2, elementary.log10, elementary.sqrt,
              elementary.sin, elementary.cos, elementary.tan,
              elementary.sinh, elementary.cosh, elementary.tanh,
              elementary.arcsin, elementary.arccos, elementary.arctan,
              elementary.arcsinh, elementary.arctanh):
    holomorphic(_prim)

varies_for_complex.add(sign)  # no rule for real numbers; z / |z| for complex ones


# ----- Taylor series rules (run by chainrule.transforms.taylor; chainrule.ops.series) -----

from chainrule.ops import series as _s  # noqa: E402


def _angle_series(out, xs, order, params):
    if is_complex(xs[0][0]):
        raise NotImplementedError("taylor: angle of a complex value; Taylor mode propagates "
                                  "real series only (nested cr.grad or cr.jacfwd support "
                                  "complex intermediates)")
    return [None] * order  # of a real number: 0 or pi, flat but for the jump at 0


for _prim in (real, imag, conj):
    _s.defseries(_prim, _s.linear(_prim))
_s.defseries(angle, _angle_series)
