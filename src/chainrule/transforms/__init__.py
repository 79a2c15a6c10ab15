"""The transforms, one module per transform; this root keeps the public entry points.

* ``grad``: reverse mode, ``grad``, ``value_and_grad``, ``vjp``, ``stop_gradient``
* ``jvp``: forward mode, ``jvp`` and ``linearize``
* ``jacobians``: ``jacfwd``, ``jacrev``, ``hessian``, ``hvp``
* ``batching``: the per-primitive batching table (stacks of tangents, vmap)
* ``vmap``: ``vmap``
* ``custom``: ``custom_vjp``, ``custom_jvp``
* ``taylor``: ``jet``, ``taylor``, ``derivative``
* ``checkpoint``: ``checkpoint``

The functions are re-exported here under their names, so after the import of
this package ``chainrule.transforms.grad`` is the function; the module stays
importable as ``from chainrule.transforms.grad import ...``. The helpers other
modules share (``_lift``, ``_cotangents``, ...) stay importable from here too.
"""

from chainrule.transforms.checkpoint import checkpoint
from chainrule.transforms.custom import custom_jvp, custom_vjp
from chainrule.transforms.grad import (  # noqa: F401 - helpers shared with other modules
    _CALL_AFTER,
    _CONTAINERS,
    _argnums,
    _check_scalar,
    _cotangents,
    _fit_cotangent,
    _gather_p,
    _lift,
    _lift_tree,
    _name_after,
    _plain,
    _regroup,
    _split_aux,
    _sweep,
    _unwrap,
    _unwrap_tree,
    _value_and_grad_leaf,
    check_callable,
    grad,
    stop_gradient,
    stop_gradient_p,
    value_and_grad,
    vjp,
)
from chainrule.transforms.jacobians import hessian, hvp, jacfwd, jacrev
from chainrule.transforms.jvp import jvp, linearize
from chainrule.transforms.taylor import derivative, jet, taylor
from chainrule.transforms.vmap import vmap

__all__ = [
    "grad", "value_and_grad", "vjp", "stop_gradient", "jvp", "linearize", "jacfwd", "jacrev",
    "hessian", "hvp", "vmap", "custom_jvp", "custom_vjp", "jet", "taylor", "derivative",
    "checkpoint", "check_callable",
]
