"""Kinks: what chainrule takes where a primitive has no derivative, and how to see it.

**The policy.** At a point where a primitive is not differentiable (relu and
abs at 0, a tie in maximum, clip at a bound, a tie in a max reduction, a norm
at 0) its rule returns the minimum-norm element of the (Clarke)
subdifferential *with respect to the arguments being differentiated*. So
relu'(0) = 0 and abs'(0) = 0; a tie in ``maximum(x, y)`` gives 1/2 to each when
both are differentiated, but ``maximum(x, c)`` with ``c`` a constant gives x
nothing at x == c (the subdifferential restricted to x is [0, 1], whose
smallest element is 0), so ``maximum(x, 0)`` and ``relu(x)`` agree.
``with subgradient_policy("pytorch")`` or ``"jax"`` switches every kink to that
framework's choice instead. Rules read the policy when they run (during the
backward sweep, or the forward pass of ``jvp``), not when the function was
recorded.

**Which arguments are differentiated.** A rule sees values, not who asked
for them. A primitive created with ``takes_perturbed=True`` gets the keyword
``perturbed`` in its rules: the indices of the arguments the engine is
differentiating at this level (the reverse sweep passes the node's
``needs``). This is the information JAX hands a ``custom_vjp`` with
``symbolic_zeros=True`` ("perturbed" primals). An engine that does not pass
it gets ``perturbed=None``, read as "every argument": the choice is then a
subgradient still, but not always the smallest one.

**Kink detection.** ``with kinks() as report:`` records every evaluation of a
primitive of ``TABLE`` at (or within ``tol`` of) a kink: the user's file and
line, the elements, the subdifferential there and the derivative the rule
took.

The package: ``policy`` (the switch), ``table`` (the conventions),
``sets`` (subdifferentials as values), ``detectors`` (finding kinks in one
evaluation; ``orderings`` for ties in a sort), ``report`` and ``recording``
(``kinks()``). Sources for the
PyTorch and JAX columns are listed in ``docs/subgradients.md``.

>>> import chainrule as cr
>>> float(cr.grad(cr.abs)(0.0))
0.0
>>> with cr.subgradient_policy("jax"):
...     float(cr.grad(cr.abs)(0.0))
1.0
"""

from chainrule.subgradients.detectors import MAX_LISTED
from chainrule.subgradients.policy import POLICIES, current_policy, subgradient_policy
from chainrule.subgradients.recording import kinks, watch
from chainrule.subgradients.report import KinkEvent, KinkReport, concrete
from chainrule.subgradients.sets import Ball, Hull, Jump, Orderings, Pole, Simplex
from chainrule.subgradients.table import TABLE, Kink, choice, summary, tie_weight

__all__ = [
    "MAX_LISTED",
    "POLICIES",
    "TABLE",
    "Ball",
    "Hull",
    "Jump",
    "Kink",
    "KinkEvent",
    "KinkReport",
    "Orderings",
    "Pole",
    "Simplex",
    "choice",
    "concrete",
    "current_policy",
    "kinks",
    "subgradient_policy",
    "summary",
    "tie_weight",
    "watch",
]
