"""Floor division and remainder, NumPy's ``//`` and ``%``.

``x // y`` is piecewise constant: its derivative is zero wherever it exists,
so it has no rules. ``x % y = x - y * floor(x / y)``: slope 1 in ``x`` and
``-floor(x / y)`` in ``y`` between the jumps (at a jump the one-sided values
differ; the rule takes the value of the piece the point belongs to).
"""

from __future__ import annotations

from chainrule.backend import xp
from chainrule.core.primitive import Primitive, defpartials
from chainrule.ops.nondiff import floor

__all__ = ["floor_divide", "remainder", "mod"]

floor_divide = Primitive("floor_divide", xp.floor_divide)  # zero derivative: a constant
"""floor(x / y), NumPy's ``//``: piecewise constant, so its derivative is 0
wherever it exists and it has no rules."""

remainder = Primitive("remainder", xp.remainder, kink="jumps where x / y is an integer")
"""x - y floor(x / y), NumPy's ``%`` (the sign of y): slope 1 in x and
-floor(x / y) in y between the jumps, where x / y is an integer."""
defpartials(remainder,
            lambda out, x, y: 1.0 + 0.0 * x,
            lambda out, x, y: -floor(x / y),
            # the same without dispatch; floor's own (watched) implementation, so that
            # cr.kinks() still sees the jump the derivative is taken at
            arrays=(lambda out, x, y: 1.0 + 0.0 * x,
                    lambda out, x, y: -floor.impl(x / y)))

mod = remainder
"""Another name for ``remainder``, NumPy's ``%``."""


# ----- Taylor series rules (run by chainrule.transforms.taylor; chainrule.ops.series) -----

from chainrule.ops import series as _s  # noqa: E402

_s.defseries(floor_divide, _s.constant)  # flat between its jumps
# linear between its jumps (slopes 1 and -floor(x / y)); at a jump, the piece the point
# belongs to, as the first-order rules
_s.defseries(remainder, _s.piecewise_linear(remainder))
