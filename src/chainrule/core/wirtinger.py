"""Complex values on a differentiated path.

A derivative that silently ignored a complex value (``x * 1j`` then ``abs``)
would be wrong without a sign, so every engine sends an operation whose
output is complex while an input carries a derivative here, and so does a
complex value offered as something to differentiate.
"""

from __future__ import annotations

from typing import Any, NoReturn

from chainrule.core.trace import describe


def refuse_complex(prim: Any, vals: tuple, out: Any) -> NoReturn:
    """Raise for ``prim`` giving the complex ``out`` from ``vals`` on a differentiated path."""
    operands = ", ".join(describe(v) for v in vals)
    raise TypeError(
        f"{prim.name}: complex differentiation is not supported: this operation gives a "
        f"{out.dtype} result from ({operands}) while an input requires a derivative. Keep "
        f"the differentiated path real (carry real and imaginary parts as two real "
        f"arrays), or make the complex value a constant with stop_gradient or detach()")


def refuse_complex_input(dtype: Any, what: str) -> NoReturn:
    """Raise for a complex value offered for differentiation (a leaf, a transform's input)."""
    raise TypeError(
        f"{what} has dtype {dtype}: complex differentiation is not supported; give the "
        f"real and imaginary parts as two real arrays")


def refuse_complex_seed(dtype: Any, out_dtype: Any, what: str) -> NoReturn:
    """Raise for a complex cotangent or tangent offered for a real value: casting it
    would silently drop its imaginary part."""
    raise TypeError(
        f"{what} has dtype {dtype}, but the value it belongs to is real ({out_dtype}); a "
        f"real value's cotangent or tangent is real: give its real part if that is meant")
