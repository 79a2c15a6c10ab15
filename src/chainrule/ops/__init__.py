"""The primitive table and the public operations, named as in NumPy.

Every function here accepts plain arrays (and returns plain arrays) or
tensors (and records on the graph), so derivative rules written with them
are themselves differentiable.
"""

from chainrule.ops.arithmetic import (
    add,
    divide,
    multiply,
    negative,
    power,
    reciprocal,
    square,
    subtract,
)
from chainrule.ops.elementary import (
    arccos,
    arcsin,
    arcsinh,
    arctan,
    arctan2,
    arctanh,
    cbrt,
    cos,
    cosh,
    erf,
    exp,
    expm1,
    log,
    log1p,
    log2,
    log10,
    sigmoid,
    sin,
    sinh,
    softplus,
    sqrt,
    tan,
    tanh,
)
from chainrule.ops.linalg import matmul
from chainrule.ops.nondiff import (
    all,
    any,
    argmax,
    argmin,
    ceil,
    equal,
    floor,
    greater,
    greater_equal,
    isfinite,
    isnan,
    less,
    less_equal,
    logical_and,
    logical_not,
    logical_or,
    not_equal,
    one_hot,
    round,
)
from chainrule.ops.nonsmooth import abs, clip, maximum, minimum, relu, sign, where
from chainrule.ops.reductions import logsumexp, max, mean, min, sum
from chainrule.ops.shape import (
    astype,
    broadcast_to,
    concatenate,
    expand_dims,
    flip,
    getitem,
    moveaxis,
    pad,
    reshape,
    split,
    squeeze,
    stack,
    sum_to,
    swapaxes,
    transpose,
)

true_divide = divide
absolute = abs

__all__ = [name for name in dir() if not name.startswith("_")]
