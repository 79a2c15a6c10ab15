"""The primitive table and the public operations, named as in NumPy.

Every function here accepts plain arrays (and returns plain arrays) or
tensors (and records on the graph), so derivative rules written with them
are themselves differentiable. Each family module lists its public names in
``__all__``; this package re-exports them.
"""

from chainrule.ops import (
    activations,
    arithmetic,
    complex_numbers,
    conv,
    division,
    elementary,
    gather,
    linalg,
    nondiff,
    nonsmooth,
    pooling,
    recurrent,
    reductions,
    scans,
    selection,
    shape,
    sorting,
)
from chainrule.ops.activations import *  # noqa: F403
from chainrule.ops.arithmetic import *  # noqa: F403
from chainrule.ops.complex_numbers import *  # noqa: F403
from chainrule.ops.conv import *  # noqa: F403
from chainrule.ops.division import *  # noqa: F403
from chainrule.ops.elementary import *  # noqa: F403
from chainrule.ops.linalg import *  # noqa: F403
from chainrule.ops.nondiff import *  # noqa: F403
from chainrule.ops.nonsmooth import *  # noqa: F403
from chainrule.ops.pooling import *  # noqa: F403
from chainrule.ops.recurrent import *  # noqa: F403
from chainrule.ops.reductions import *  # noqa: F403
from chainrule.ops.scans import *  # noqa: F403
from chainrule.ops.selection import *  # noqa: F403
from chainrule.ops.shape import *  # noqa: F403
from chainrule.ops.sorting import *  # noqa: F403

_FAMILIES = (activations, arithmetic, complex_numbers, conv, division, elementary, linalg,
             nondiff, nonsmooth, pooling, recurrent, reductions, scans, selection, shape, sorting)

true_divide = divide  # noqa: F405
absolute = abs  # noqa: F405

__all__ = [name for family in _FAMILIES for name in family.__all__] + ["true_divide", "absolute"]
