"""Complex values on a differentiated path: PyTorch's convention, or a clear refusal.

The convention is PyTorch's. The cotangent of a complex value ``w = u + iv``
is ``dL/du + i dL/dv`` for a real loss ``L`` (twice the conjugate Wirtinger
derivative ``dL/dw*``): it is what ``.grad`` holds and what a gradient step
follows. The tangent of a complex value is the complex number ``du + i dv``.

For a holomorphic ``w = f(z)`` the reverse rule becomes ``g * conj(f'(z))``.
A primitive whose real rule is an analytic expression of its primals with
real coefficients (``g * y`` for multiply, ``g @ y.T`` for matmul) therefore
needs no new rule: the same rule evaluated at the conjugated primals is the
complex one. Linear primitives with real coefficients (sum, reshape,
indexing) keep their rules as they are; a few (abs, angle, real, imag,
conj, astype) have rules written for complex values.

A node whose output is complex, or one of whose differentiated inputs is,
records the primitive's *complex twin*: the primitive that carries these
rules (often the primitive itself). A primitive without one is refused, so
no complex value ever loses its derivative silently; ``chainrule.ops.complex_numbers``
declares the table. The real path never comes here: the engines test the
output's dtype kind they already read (and a unary operation's input's), and
only a complex value takes this branch.
"""

from __future__ import annotations

from typing import Any, NoReturn

from chainrule.core.trace import describe

# primitive -> the primitive recorded for its complex uses (its twin maps to itself)
_twins: dict[Any, Any] = {}
# primitives whose result is complex whenever a differentiated argument is: for them a
# real result means real arguments, and the engines skip looking at the arguments
keeps_complex: set[Any] = set()


def declare_complex(prim: Any, twin: Any = None, *, real_result: bool = False) -> None:
    """State that ``prim`` differentiates complex values with the rules of ``twin``
    (by default its own rules, valid for complex values as they stand);
    ``real_result`` says it can give a real result from a complex argument (abs)."""
    twin = prim if twin is None else twin
    _twins[prim] = twin
    _twins[twin] = twin
    if not real_result:
        keeps_complex.update((prim, twin))


# primitives without rules (constants to every engine) whose complex results are not
# constant: sign(z) = z / |z| moves with z, so it is refused rather than dropped
varies_for_complex: set[Any] = set()


def complex_twin(prim: Any, vals: tuple, out: Any) -> Any:
    """The primitive whose rules a complex use of ``prim`` records; refuse if it has none."""
    twin = _twins.get(prim)
    if twin is None:
        refuse_complex(prim, vals, out)
    return twin


def refuse_complex(prim: Any, vals: tuple, out: Any) -> NoReturn:
    """Raise for ``prim`` on a complex value that needs a derivative."""
    operands = ", ".join(describe(v) for v in vals)
    raise TypeError(
        f"{prim.name}: complex differentiation is not supported for this operation yet: it "
        f"gives a {describe(out)} result from ({operands}) while a complex value or a "
        f"complex result needs a derivative. docs/complex.md lists the operations that "
        f"support complex values; elsewhere carry real and imaginary parts as two real "
        f"arrays (cr.real, cr.imag), or make the value a constant with stop_gradient or "
        f"detach()")


def refuse_complex_seed(dtype: Any, out_dtype: Any, what: str) -> NoReturn:
    """Raise for a complex cotangent or tangent offered for a real value: casting it
    would silently drop its imaginary part."""
    raise TypeError(
        f"{what} has dtype {dtype}, but the value it belongs to is real ({out_dtype}); a "
        f"real value's cotangent or tangent is real: give its real part if that is meant")
