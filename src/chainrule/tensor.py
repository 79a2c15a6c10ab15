"""Tensor: a NumPy array that records the operations applied to it.

Applying a primitive to tensors evaluates it on their arrays and, when any
input requires grad and recording is on, remembers a graph node in the
output. ``backward`` runs the reverse sweep from there.
"""

from __future__ import annotations

import contextlib
import operator
import os
import sys
import warnings
import weakref
from collections.abc import Callable, Iterator
from typing import Any

from chainrule import ops
from chainrule.backend import is_differentiable_dtype, ndarray, xp
from chainrule.core import collector, graph
from chainrule.core.config import set_grad_enabled, state
from chainrule.core.escape import (
    ARRAY,
    BOOL,
    FLOAT,
    INT,
    ITEM,
    NUMPY,
    TENSOR,
    TOLIST,
    constant,
    refuse,
)
from chainrule.core.graph import (
    EXACT,
    Node,
    mark_changed,
    needed_indices,
    node_sequence,
    set_inputs,
)
from chainrule.core.primitive import NO_ARGUMENT, install_call
from chainrule.core.trace import Traced, bind, call_impl
from chainrule.core.wirtinger import (
    complex_twin,
    keeps_complex,
    refuse_complex,
    refuse_complex_seed,
    varies_for_complex,
)
from chainrule.reverse import (
    RemovableHandle,
    add_hook,
    backward_pass,
    leaf_hooks,
    node_hooks,
    own_cotangents,
)
from chainrule.tensor_numpy import ArrayOperators, NumpyInterface

# Frames in these directories are the library's (or NumPy's dispatch), never
# the user's line; comparing directories, not a "/chainrule/" substring, keeps
# a checkout or project folder named chainrule from hiding every frame.
_LIBRARY_DIRS = tuple(os.path.dirname(os.path.abspath(path)) + os.sep
                      for path in (__file__, xp.__file__))


def _user_frame() -> str:
    """File and line of the first caller outside chainrule and NumPy (for anomaly mode)."""
    frame = sys._getframe(2)
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(
            _LIBRARY_DIRS):
        frame = frame.f_back
    if frame is None:
        return "<unknown>"
    return f"{frame.f_code.co_filename}:{frame.f_lineno}"


def _watch(prim: Any, out: Any, node: Node | None) -> None:
    """Anomaly mode: fail at a NaN or Inf output, and remember where ``node`` was made."""
    _check_forward(prim, out, node)
    if node is not None:
        node.where = _user_frame()


def _check_forward(prim: Any, out: Any, node: Node | None) -> None:
    while isinstance(out, Traced):
        out = getattr(out, "data", getattr(out, "primal", None))
    if xp.asarray(out).dtype.kind in "fc" and not xp.all(xp.isfinite(out)):
        where = _user_frame()
        if node is not None:
            node.where = where
        raise FloatingPointError(f"anomaly: {prim.name!r} produced NaN or Inf at {where}")


_NUMERIC_KINDS = "biufc"  # bool, signed and unsigned integers, floats, complex
_KIND_NAMES = {"U": "text (str)", "S": "bytes", "V": "raw records (void)", "M": "datetimes",
               "m": "time deltas", "O": "Python objects"}


def _not_numeric(data: Any, dtype: Any) -> str:
    what = _KIND_NAMES.get(dtype.kind, f"dtype {dtype}")
    hint = ""
    if isinstance(data, (str, bytes)):
        try:
            hint = (f"; to read a number from text, convert it first: "
                    f"cr.tensor(float({data!r:.40}))" if float(data) == float(data) else "")
        except ValueError:
            pass
    elif data is None:
        hint = "; None is not a number (give 0.0 or an array)"
    return (f"tensor: cannot hold {what} (dtype {dtype}, from {type(data).__name__}); a "
            f"tensor holds numbers: give numbers or arrays of bool, int, float or "
            f"complex{hint}")


_NEEDS = [needed_indices(mask) for mask in range(256)]
_FIRST = _NEEDS[1]
_NO_PARAMS: dict = {}  # shared by operator calls; nothing writes into a node's params
_new = object.__new__
_F64 = xp.dtype(xp.float64)
_ONE_F64 = xp.float64(1.0)
_F64_SCALAR = xp.float64
_ufunc = xp.ufunc


def _zero_d_out() -> Any:
    """``out=...`` where NumPy has it (2.3+): a ufunc then returns a 0-d array for
    0-d operands instead of a NumPy scalar (which costs as much again to turn back
    into an array); None where it does not."""
    try:
        probe = xp.negative(xp.array(1.0), out=...)
    except TypeError:
        return None
    return ... if type(probe) is ndarray else None


_ZERO_D_OUT = _zero_d_out()


def _complex_needed(vals: tuple, mask: int) -> bool:
    """Whether an argument that needs a gradient (a tensor's array or traced value,
    so it has a dtype) is complex."""
    for i in _NEEDS[mask] if mask < 256 else needed_indices(mask):
        if vals[i].dtype.kind == "c":
            return True
    return False


def _complex_node(prim: Any, inputs: tuple, vals: tuple, params: dict, out: Any,
                  needs: tuple, plain: bool, level: int) -> Node:
    """The node of an operation on complex values: it records the primitive's
    complex twin (or refuses); a leaf's saved array becomes read-only, as on the
    real path."""
    node = Node(complex_twin(prim, vals, out), inputs, vals, params, out, needs, plain)
    if not level:
        for i in needs:
            a = inputs[i]
            if a._node is None and a.data.flags.writeable:
                a.data.setflags(write=False)
    return node


def _unpack(args: tuple, level: int) -> tuple[tuple, int, bool]:
    """The arrays to compute with, the mask of arguments needing a gradient
    (bit i for argument i), and whether a value of an enclosing transform is inside."""
    traced_inside = False
    vals = []
    mask = 0
    for i, a in enumerate(args):
        if (type(a) is Tensor or isinstance(a, Tensor)) and a._level == level:  # (a subclass
            if a.requires_grad:  # too: taken for another level's value, it recursed)
                mask |= 1 << i
            a = a.data
            if type(a) is not ndarray and isinstance(a, Traced):
                traced_inside = True
        elif isinstance(a, Traced):
            traced_inside = True
        vals.append(a)
    return tuple(vals), mask, traced_inside


def _operator(prim: Any, reflected: bool) -> Callable[[Tensor, Any], Any]:
    """The operator method ``self <prim> other`` (``other <prim> self`` when reflected).

    It skips ``bind``'s search unless a higher level is involved: two tensors of one
    level over plain arrays, or a tensor and a constant, are handled here whole
    (``_record``'s work for two arguments, inlined: this runs once per operator).
    Each operator is such a function itself, with its primitive in a closure
    (one Python frame per operation, not two)."""

    def op(self: Tensor, other: Any) -> Any:
        if reflected:
            x, y = other, self
        else:
            x, y = self, other
        data = self.data
        level = self._level
        out = None
        exact = True  # Node.plain; EXACT where the rules' results need no fitting
        if type(other) is Tensor:
            if other._level != level or type(data) is not ndarray \
                    or type(other.data) is not ndarray:
                if other._level > level:
                    return bind(prim, x, y)
                return self._process(prim, (x, y), {})
            a = x.data
            b = y.data
            mask = x.requires_grad | (y.requires_grad << 1)
            if not a.ndim and not b.ndim and a.dtype is _F64 and b.dtype is _F64:
                f = _FLOAT_OPS.get(prim)
                if f is not None:  # a normal, finite result only (see _FLOAT_OPS)
                    exact = EXACT
                    try:
                        r = f(a.item(), b.item())
                    except ZeroDivisionError:
                        r = 0.0  # to NumPy
                    if _TINY < abs(r) <= _HUGE:
                        out = xp.array(r)
            elif prim in _FLOAT_OPS and a.dtype is b.dtype and a.shape == b.shape:
                exact = EXACT  # +-*/ of one shape and dtype: every rule's result has it
        elif type(other) is not int and type(other) is not float \
                and isinstance(other, Traced):  # (a Python number, the commonest, is not)
            if other._level > level:
                return bind(prim, x, y)
            return self._process(prim, (x, y), {})
        elif type(data) is not ndarray:
            return self._process(prim, (x, y), {})
        else:  # a tensor and a constant
            if x is self:
                a = data
                b = y
                mask = self.requires_grad
            else:
                a = x
                b = data
                mask = self.requires_grad << 1
            if data.ndim:
                # a Python float meeting float64: NumPy casts it to float64 (NEP 50), so
                # a cached 0-d float64 array of it is the same operand without the cast
                if type(other) is float and data.dtype is _F64 and prim in _FLOAT_OPS:
                    c = _CONSTANTS.get(other)
                    if c is None:
                        c = _constant_array(other)
                    if c is not None:
                        try:
                            out = prim.impl(data, c) if x is self else prim.impl(c, data)
                        except Exception:
                            out = None  # computed again below, to raise as before
                        else:  # the node saves the operand the rules meet too (g * c:
                            exact = EXACT  # no cast in the sweep either; its inputs keep
                            if x is self:  # the Python float), and every rule's result
                                b = c  # has the shape and dtype of the array
                            else:
                                a = c
            elif data.dtype is _F64 and (type(other) is float or (
                    type(other) is int and -_EXACT_INT <= other <= _EXACT_INT)):
                f = _FLOAT_OPS.get(prim)
                if f is not None:
                    exact = EXACT  # float64 scalars: the rules' results are too
                    try:
                        r = f(data.item(), other) if x is self else f(other, data.item())
                    except ZeroDivisionError:
                        r = 0.0  # to NumPy
                    if _TINY < abs(r) <= _HUGE:  # false for NaN, infinities, zeros,
                        out = xp.array(r)  # subnormals: NumPy computes those (its flags)
        if out is None:
            try:
                out = prim.impl(a, b)
            except Exception:
                out = call_impl(prim, (a, b), _NO_PARAMS)  # re-raises with a clear message
            if type(out) is not ndarray:
                out = xp.asarray(out)
        t = _new(Tensor)
        t.data = out
        t._level = level
        if mask and prim.vjps is not None and (level or state.grad_enabled):
            dtype = out.dtype
            if dtype is _F64 or dtype.kind == "f":
                t._node = node = _new(Node)
                node.prim = prim
                # Node.inputs, in slots, a result as its node (core.graph); a leaf's
                # saved array read-only (a new array may have been assigned since: see
                # requires_grad_). Only an argument needing a gradient can be either.
                # (inside a transform, level > 0, inputs stay as passed)
                if mask & 1 and not level:
                    src = x._node
                    if src is not None:
                        x = src
                    elif a.flags.writeable:
                        a.setflags(write=False)
                if mask & 2 and not level:
                    src = y._node
                    if src is not None:
                        y = src
                    elif b.flags.writeable:
                        b.setflags(write=False)
                node._in0 = x
                node._in1 = y
                node._ins = 2
                node.args = (a, b)
                node.params = _NO_PARAMS
                node.out = out
                node.needs = _NEEDS[mask]
                node.seq = next(node_sequence)
                node.where = None
                node.plain = exact
                t.requires_grad = True
            elif dtype.kind == "c":  # a complex output (operators keep a complex input complex)
                t._node = node = _complex_node(prim, (x, y), (a, b), _NO_PARAMS, out,
                                               _NEEDS[mask], True, level)
                t.requires_grad = True
            else:
                t._node = node = None
                t.requires_grad = False
        else:
            t._node = node = None
            t.requires_grad = False
            if mask and prim.vjps is None and prim in varies_for_complex \
                    and out.dtype.kind == "c":
                refuse_complex(prim, (a, b), out)
        if state.anomaly:
            _watch(prim, out, node)
        return t

    op.__name__ = op.__qualname__ = f"__{'r' if reflected else ''}{_OPERATOR_NAMES[prim.name]}__"
    _OPERATORS[prim, reflected] = op
    return op


_OPERATOR_NAMES = {"add": "add", "subtract": "sub", "multiply": "mul", "divide": "truediv",
                   "matmul": "matmul"}
# the operators by primitive and side (True: reflected), for ``Tensor._binary``
_OPERATORS: dict[tuple[Any, bool], Callable[[Any, Any], Any]] = {}


class Tensor(ArrayOperators, NumpyInterface, Traced):
    """An array with an optional gradient and the graph that produced it.

    >>> import chainrule as cr
    >>> x = cr.tensor(3.0, requires_grad=True)
    >>> y = x**2 - 3*x - 2
    >>> y.backward()
    >>> x.grad
    tensor(3.)
    """

    # ``_grad`` is left unset by the hot path (the ``grad`` property reads it as None);
    # _version: when the array was last changed in place (a reading of the node
    # clock; core.graph.mark_changed); set on leaves, which alone may change
    # _hooks: a leaf's hooks, set by register_hook (chainrule.reverse.add_hook)
    __slots__ = ("data", "requires_grad", "_grad", "_node", "_level", "_version", "_hooks",
                 "__weakref__")
    __array_priority__ = 1000.0

    def __init__(self, data: Any, requires_grad: bool = False, dtype: Any = None) -> None:
        if type(data) is float and dtype is None:  # the commonest: a float64 scalar
            array = xp.array(data)
        else:
            if isinstance(data, Tensor):
                if data._level and data.requires_grad:  # inside a transform: would drop it
                    refuse(data, TENSOR)
                data = data.data
            array = xp.array(data) if dtype is None else xp.array(data, dtype=dtype)
            if array.dtype.kind not in _NUMERIC_KINDS:
                raise TypeError(_not_numeric(data, array.dtype))
        self.data = array
        self._node: Node | None = None
        self._level = 0
        self._version = 0
        self._grad = None  # a leaf: backward reads it (an unset slot's miss costs ~150 ns)
        if requires_grad and array.dtype is _F64:  # requires_grad_, for the commonest dtype
            array.setflags(write=False)  # (half the cost of flags.writeable = False)
            self.requires_grad = True
        else:
            self.requires_grad = False
            if requires_grad:
                self.requires_grad_(True)

    @classmethod
    def _wrap(cls, data: Any, node: Node | None, level: int = 0) -> Tensor:
        """Fast constructor for results of operations and transform inputs.

        At level 0 (tensors users make) ``data`` is an array. A transform
        makes tensors of its own, higher level, whose ``data`` may be a value
        of an enclosing transform: operations then record on both levels, which
        is how nested derivatives stay apart.
        """
        t = object.__new__(cls)
        t.data = data
        t._node = node
        t._level = level
        t._version = 0
        t.requires_grad = node is not None
        return t

    def _process(self, prim: Any, args: tuple, params: dict) -> Any:
        # The hot path of the library: a unary operation on a plain array, the
        # commonest case by far, goes to ``_unary`` (which ``Primitive.__call__`` is);
        # the operators (``_operator``) do the same for two arguments. The rest finds the
        # arrays to compute with and the inputs needing a gradient (bit i of the
        # mask for argument i).
        if len(args) == 1 and args[0] is self and type(self.data) is ndarray:
            return _unary(prim, self, **params)
        vals, mask, traced_inside = _unpack(args, self._level)
        return self._record(prim, args, vals, params, mask, traced_inside)

    def _record(self, prim: Any, args: tuple, vals: tuple, params: dict, mask: int,
                traced_inside: bool = False) -> Tensor:
        """Evaluate ``prim`` on ``vals`` and wrap the result, recording a node when
        an argument needs a gradient.

        An input needing a gradient may be complex although the output is real
        (``abs``): the complex twin is recorded then, unless the primitive keeps
        complex inputs as they are."""
        level = self._level
        if traced_inside:  # values of an enclosing transform: let it record too
            out = bind(prim, *vals, **params)
        else:
            try:
                out = prim.impl(*vals, **params) if params else prim.impl(*vals)
            except Exception:
                out = call_impl(prim, vals, params)  # re-raises with a clear message
            if type(out) is not ndarray:
                out = xp.asarray(out)
        t = _new(Tensor)
        t.data = out
        t._level = level
        if mask and prim.vjps is not None and (level or state.grad_enabled) \
                and out.dtype.kind == "f" and not (prim not in keeps_complex
                                                   and _complex_needed(vals, mask)):
            t._node = node = _new(Node)
            node.prim = prim
            if len(args) == 2:
                # Node.inputs, in slots, a result as its node (core.graph); a leaf's saved
                # array read-only (a new array may have been assigned since: see
                # requires_grad_). Only an argument needing a gradient can be either.
                # (inside a transform, level > 0, inputs stay as passed)
                a, b = args
                if mask & 1 and not level:
                    src = a._node
                    if src is not None:
                        a = src
                    elif a.data.flags.writeable:
                        a.data.setflags(write=False)
                if mask & 2 and not level:
                    src = b._node
                    if src is not None:
                        b = src
                    elif b.data.flags.writeable:
                        b.data.setflags(write=False)
                node._in0 = a
                node._in1 = b
                node._ins = 2
            else:
                set_inputs(node, args)
                if not level:  # leaves' saved arrays read-only, as above
                    for i in _NEEDS[mask] if mask < 256 else needed_indices(mask):
                        a = args[i]
                        if a._node is None and a.data.flags.writeable:
                            a.data.setflags(write=False)
            node.args = vals
            node.params = params
            node.out = out
            node.needs = _NEEDS[mask] if mask < 256 else needed_indices(mask)
            node.seq = next(node_sequence)
            node.where = None
            node.plain = not traced_inside
            t.requires_grad = True
        elif mask and prim.vjps is not None and (level or state.grad_enabled) \
                and out.dtype.kind in "fc":  # a complex input or output
            t._node = node = _complex_node(prim, args, vals, params, out, needed_indices(mask),
                                           not traced_inside, level)
            t.requires_grad = True
        else:
            t._node = node = None
            t.requires_grad = False
            if mask and prim.vjps is None and prim in varies_for_complex \
                    and out.dtype.kind == "c":
                refuse_complex(prim, vals, out)
        if state.anomaly:
            _watch(prim, out, node)
        return t

    def _binary(self, prim: Any, x: Any, y: Any) -> Any:
        """``prim(x, y)`` for an operator, one of ``x`` and ``y`` being this tensor."""
        return _OPERATORS[prim, x is not self](self, y if x is self else x)

    # ----- properties mirroring ndarray -----
    @property
    def shape(self) -> tuple[int, ...]:
        return self.data.shape

    @property
    def dtype(self) -> Any:
        return self.data.dtype

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def size(self) -> int:
        return self.data.size

    @property
    def T(self) -> Tensor:
        return ops.transpose(self)

    @property
    def is_leaf(self) -> bool:
        return self._node is None

    @property
    def grad(self) -> Tensor | None:
        """The gradient ``backward`` accumulated into this leaf (None before any).

        The gradient of a non-leaf (a result of an operation) is not kept, as in
        PyTorch: reading it warns, since a silent None hides a misplaced ``backward``.
        """
        try:
            g = self._grad
        except AttributeError:  # never set: retain_grad sets it, so it does not warn
            g = None
            if self._node is not None:
                warnings.warn(
                    f"the .grad of a non-leaf tensor (made by {self._node.prim.name}) is "
                    f"read: the gradient of a non-leaf is not kept, so it is None. Call "
                    f".retain_grad() on it before backward to keep it, read the .grad of "
                    f"the leaf tensors you made with requires_grad=True, or use cr.grad / "
                    f"cr.vjp to get the derivative with respect to an intermediate value",
                    UserWarning, stacklevel=2)
        return g

    @grad.setter
    def grad(self, value: Tensor | None) -> None:
        if value is not None and collector.state.on and not (
                type(value) is Tensor and value._node is None and not value._level
                or type(value) is ndarray):
            collector.stop("a gradient that carries a graph was stored in .grad")
        self._grad = value

    # ----- autograd -----
    def register_hook(self, fn: Callable[[Tensor], Any]) -> RemovableHandle:
        """Call ``fn(cotangent)`` when a backward sweep has this tensor's whole cotangent;
        a tensor (or array) it returns replaces the cotangent, None keeps it.
        Returns a handle whose ``remove()`` takes the hook away.

        >>> import chainrule as cr
        >>> x = cr.tensor(2.0, requires_grad=True)
        >>> y = x * x
        >>> handle = y.register_hook(lambda g: g * 10)
        >>> y.backward()
        >>> float(x.grad)
        40.0
        """
        if not self.requires_grad:
            raise RuntimeError("register_hook: this tensor does not require grad, so no "
                               "backward sweep reaches it; hook a tensor that requires grad")
        if not callable(fn):
            raise TypeError(f"register_hook: expected a function of the cotangent, got "
                            f"{type(fn).__name__}")

        def hook(g: Any) -> Any:  # a 0-d cotangent may be a NumPy scalar: hand over an array
            if isinstance(g, Tensor):
                return fn(g)
            return fn(Tensor._wrap(g if type(g) is ndarray else xp.asarray(g), None))
        hook.__name__ = getattr(fn, "__name__", "hook")
        if self._node is None:
            return add_hook(leaf_hooks, self, hook)
        return add_hook(node_hooks, self._node, hook)

    def retain_grad(self) -> None:
        """Keep this non-leaf tensor's gradient in ``.grad`` during ``backward``
        (accumulated, as for leaves); a leaf keeps its own already."""
        if self._node is None:
            return
        if not self.requires_grad:
            raise RuntimeError("retain_grad: this tensor does not require grad")
        if hasattr(self, "_grad"):
            return  # already retained
        self._grad = None
        ref = weakref.ref(self)

        def keep(g: Any) -> None:
            t = ref()
            if t is not None:
                g = g if isinstance(g, Tensor) else Tensor._wrap(g, None)
                g = Tensor._wrap(xp.array(g.data), None) if g._node is None else g
                t._grad = g if t._grad is None else t._grad + g
        keep.__name__ = "retain_grad"
        keep.retains = True  # type: ignore[attr-defined] - run after the other hooks
        add_hook(node_hooks, self._node, keep)

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        """Mark this tensor as a leaf whose gradient ``backward`` accumulates.

        Its array becomes read-only: every operation on it saves the array for
        the backward sweep, so a raw write (``t.data[...] = v``, ``t.data -= v``)
        would silently change the gradient. Change it under ``no_grad`` instead
        (``t -= lr * t.grad``, ``t[...] = v``), which the sweep checks, or give it
        a new array (``t.data = new``), which leaves recorded graphs untouched.
        """
        if requires_grad and not is_differentiable_dtype(self.data.dtype):
            raise TypeError(f"requires_grad: only floating or complex tensors can have a "
                            f"gradient, this one has dtype {self.data.dtype}")
        if not requires_grad and self._node is not None:
            raise RuntimeError("requires_grad_(False): only a leaf can stop requiring grad; "
                               "use detach() for a result of an operation")
        self.requires_grad = bool(requires_grad)
        if requires_grad and not self._level and type(self.data) is ndarray:
            self.data.setflags(write=False)
        if not hasattr(self, "_version"):  # made by an operation, without the slot
            self._version = 0
        return self

    def detach(self) -> Tensor:
        """The same values, cut off from the graph (a constant)."""
        data = self.data
        while isinstance(data, Tensor):
            data = data.data
        return Tensor._wrap(data, None)

    def backward(self, gradient: Any = None, retain_graph: bool = False,
                 create_graph: bool = False) -> None:
        """Accumulate d(self)/d(leaf) into every leaf's ``.grad``.

        ``gradient`` is the cotangent of ``self`` (required unless ``self``
        has one element). ``create_graph`` records the sweep, so the
        gradients can be differentiated again; it implies ``retain_graph``.
        """
        if self._level:
            # its graph on level 0 cannot see the transform's variables, so the
            # transform would silently get a wrong derivative
            raise RuntimeError(
                "backward: this tensor is traced by a transform (cr.grad, cr.vjp); "
                "inside a transformed function differentiate with cr.grad or cr.vjp")
        if not self.requires_grad:
            raise RuntimeError(
                "backward: this tensor does not require grad (no input of the "
                "computation had requires_grad=True, or it ran under no_grad)")
        data = self.data
        dtype = data.dtype
        if gradient is None and not data.ndim and (dtype is _F64 or dtype.kind == "f"):
            # _seed's commonest answer, without the call (NumPy scalars are immutable,
            # so float64's can be one shared 1.0)
            seed = _ONE_F64 if dtype is _F64 else dtype.type(1)
            if create_graph:
                seed = Tensor._wrap(xp.asarray(seed), None)
        else:
            seed = self._seed(gradient)
            if create_graph:
                seed = seed if isinstance(seed, Tensor) else Tensor._wrap(xp.asarray(seed),
                                                                          None)
            elif isinstance(seed, Tensor):
                seed = seed.data
        node = self._node
        if node is None:
            found = {id(self): (self, seed)}
        elif create_graph:
            # the leaves' .grad will carry graphs that refer back to them: cycles
            collector.stop("backward(create_graph=True) stored gradients with a graph")
            with set_grad_enabled(True):
                found = backward_pass(node, seed, create_graph=True, retain_graph=True)
        else:
            found = backward_pass(node, seed, retain_graph=retain_graph)
        if len(found) == 1:
            [(key, (leaf, g))] = found.items()
            if type(g) is _F64_SCALAR:  # own_cotangents's answer for it, inline
                found[key] = (leaf, xp.array(g))
            else:
                own_cotangents(found)
        else:
            own_cotangents(found)  # each leaf its own writable, C-contiguous array
        for leaf, g in found.values():
            if type(g) is ndarray:  # (own_cotangents gave every scalar an array) a
                t = _new(Tensor)  # constant over it: Tensor._wrap(g, None), inlined
                t.data = g
                t._node = None
                t._level = t._version = 0
                t.requires_grad = False
                g = t
            elif not isinstance(g, Tensor):
                g = Tensor._wrap(g, None)
            prev = getattr(leaf, "_grad", None)  # the grad property, for a leaf, in C
            leaf._grad = g if prev is None else prev + g

    def _seed(self, gradient: Any) -> Any:
        if gradient is None:
            if self.data.dtype.kind == "c":
                raise RuntimeError(
                    "backward: a gradient can be implicit only for a real output, this one "
                    f"is {self.data.dtype}; backward from a real loss (cr.abs(y) ** 2, "
                    "cr.real(y)) or pass gradient= (the cotangent dL/du + i dL/dv)")
            if self.data.size != 1:
                raise RuntimeError(
                    f"backward: a gradient can be implicit only for a tensor with one "
                    f"element, this one has shape {self.shape}; pass gradient= with "
                    f"that shape")
            data = self.data
            if not data.ndim:  # a NumPy scalar: NumPy computes on one several times
                return data.dtype.type(1)  # faster than on a 0-d array (the rules' results are)
            seed = data.copy()  # ones_like, at a fifth of its cost
            seed.fill(1)
            return seed
        g_data = gradient.data if isinstance(gradient, Tensor) else xp.asarray(gradient)
        if g_data.shape != self.shape:
            raise ValueError(f"backward: gradient has shape {g_data.shape}, "
                             f"expected the tensor's shape {self.shape}")
        if g_data.dtype.kind == "c" and self.data.dtype.kind != "c":
            refuse_complex_seed(g_data.dtype, self.dtype, "backward: gradient")
        if isinstance(gradient, Tensor):
            return gradient.astype(self.dtype) if gradient.dtype != self.dtype else gradient
        return g_data.astype(self.dtype, copy=False)

    def zero_grad(self) -> None:
        """Forget the accumulated gradient."""
        self._grad = None

    # ----- conversion -----
    # Inside a transform (level > 0) a tensor that requires grad carries a derivative:
    # converting it to a Python value or a plain array would silently make that
    # derivative 0, so these refuse it (chainrule.core.escape says what is allowed).
    # A value of an enclosing transform held in ``data`` refuses in turn.
    def numpy(self) -> ndarray:
        """The underlying array (shared, not copied); read-only when the tensor
        requires grad, because the recorded graph saved it for the backward
        sweep. Copy it (``t.numpy().copy()``) to get an array to write into."""
        if self._level and self.requires_grad:
            refuse(self, NUMPY)
        data = self.data
        if self.requires_grad and type(data) is ndarray and data.flags.writeable:
            data = data.view()
            data.setflags(write=False)
        return data

    def item(self) -> Any:
        if self._level and self.requires_grad:
            refuse(self, ITEM)
        return self.data.item()

    def tolist(self) -> Any:
        if self._level and self.requires_grad:
            refuse(self, TOLIST)
        return self.data.tolist()

    def __array__(self, dtype: Any = None, copy: Any = None) -> ndarray:
        if self.requires_grad:  # at level 0 too: NumPy would detach it silently
            refuse(self, ARRAY)
        data = self.data
        if type(data) is not ndarray:
            data = xp.asarray(data)
        if dtype is not None and dtype != data.dtype:
            return data.astype(dtype)
        return data.copy() if copy else data

    def __float__(self) -> float:
        if self._level and self.requires_grad:
            refuse(self, FLOAT)
        return float(self.data)

    def __int__(self) -> int:
        if self._level and self.requires_grad:
            refuse(self, INT)
        return int(self.data)

    def __bool__(self) -> bool:
        if self._level and self.requires_grad:
            refuse(self, BOOL)
        return bool(self.data)

    def __len__(self) -> int:
        if self.data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return len(self.data)

    def __iter__(self):
        for i in range(len(self)):
            yield self[i]

    __hash__ = object.__hash__  # identity: == is elementwise

    def __repr__(self) -> str:
        data = self.data
        if type(data) is not ndarray:  # a value of an enclosing transform: show its values
            data = constant(data)
        body = xp.array2string(data, separator=", ", prefix="tensor(")
        extras = []
        if self.data.dtype not in (xp.float64, xp.int64, xp.bool_):
            extras.append(f"dtype={self.data.dtype}")
        if self._node is not None:
            extras.append(f"grad_fn={self._node.prim.name}")
        elif self.requires_grad:
            extras.append("requires_grad=True")
        return "tensor(" + body + "".join(", " + e for e in extras) + ")"

    # ----- operators: the hottest skip bind (the rest come from ArrayOperators) -----
    __add__ = _operator(ops.add, False)
    __radd__ = _operator(ops.add, True)
    __sub__ = _operator(ops.subtract, False)
    __rsub__ = _operator(ops.subtract, True)
    __mul__ = _operator(ops.multiply, False)
    __rmul__ = _operator(ops.multiply, True)
    __truediv__ = _operator(ops.divide, False)
    __rtruediv__ = _operator(ops.divide, True)
    __matmul__ = _operator(ops.matmul, False)
    __rmatmul__ = _operator(ops.matmul, True)

    def __neg__(self):
        return _unary(ops.negative, self)

    def __pow__(self, other):
        if (type(other) is int or isinstance(other, (int, float))) and other == 2:
            return _unary(ops.square, self)
        return bind(ops.power, self, other)

    def __setitem__(self, index, value):
        if self._updatable("t[...] = v"):
            with changing(self) as data:
                data[index] = value.data if isinstance(value, Tensor) else value
            return
        raise TypeError("tensors are immutable: build a new one with cr.where, "
                        "cr.concatenate or indexing; only a leaf that requires grad (a "
                        "parameter) can be changed in place, under `with cr.no_grad():`")

    # ----- in-place updates of parameters (under no_grad, as an optimizer step) -----
    def _updatable(self, spelled: str) -> bool:
        """Whether an in-place operator changes this tensor: only a leaf that
        requires grad, under ``no_grad``; any other tensor gets a new one."""
        if not self.requires_grad or self._node is not None or self._level:
            return False
        if state.grad_enabled:
            raise RuntimeError(
                f"{spelled}: an in-place change of a leaf that requires grad while "
                f"gradients are recorded; write it under `with cr.no_grad():` (as an "
                f"optimizer step does), or make a new tensor (w = w - ...)")
        return True

    def _inplace(self, ufunc: Any, other: Any, spelled: str, prim: Any) -> Tensor:
        if not self._updatable(spelled):
            return self._binary(prim, self, other)  # a new tensor, bound to the name
        value = other.data if isinstance(other, Tensor) else other
        data, locked = _open_for_change(self)  # changing(self), without a generator's cost
        try:
            # an array or a float (an optimizer step's p -= lr * g): ndarray's own in-place
            # operator, the same ufunc with out=data, at half the cost of that call
            if ufunc is xp.subtract and (type(value) is ndarray or type(value) is float):
                data -= value
            elif ufunc is xp.add and (type(value) is ndarray or type(value) is float):
                data += value
            else:
                ufunc(data, value, out=data)
        finally:
            _close_change(self, data, locked)
        return self

    def __iadd__(self, other):
        return self._inplace(xp.add, other, "t += v", ops.add)

    def __isub__(self, other):
        return self._inplace(xp.subtract, other, "t -= v", ops.subtract)

    def __imul__(self, other):
        return self._inplace(xp.multiply, other, "t *= v", ops.multiply)

    def __itruediv__(self, other):
        return self._inplace(xp.true_divide, other, "t /= v", ops.divide)


@contextlib.contextmanager
def changing(tensor: Tensor) -> Iterator[ndarray]:
    """Change a leaf's array in place, the sanctioned way (optimizer steps,
    initializers, loading, updates under ``no_grad``): yields an array to write.

    If anything else holds the array (a recorded graph saved it, a view or a
    caller refers to it: its reference count tells) the tensor first gets a
    copy, so no saved value ever changes; otherwise the array itself is
    written. Either way the tensor's version records the change, so a
    backward through a graph recorded before refuses to run (as PyTorch's
    does), and an array that requires grad is read-only again afterwards.
    """
    data, locked = _open_for_change(tensor)
    try:
        yield data
    finally:
        _close_change(tensor, data, locked)


def _open_for_change(tensor: Tensor) -> tuple[ndarray, bool]:
    """``changing``'s entry: the array to write (copied if shared) and whether it was
    read-only."""
    shared = sys.getrefcount(tensor.data) > _ALONE  # before any local names it
    data = tensor.data
    if tensor._node is not None or type(data) is not ndarray:
        raise RuntimeError("changing: only a leaf tensor over an array can be changed in "
                           "place; this one is the result of an operation")
    flags = data.flags  # (one flags object, read and written)
    locked = not flags.writeable
    if shared or data.base is not None:  # memory someone else can see: copy on write
        tensor.data = data = data.copy()
    elif locked:
        flags.writeable = True
    return data, locked


def _close_change(tensor: Tensor, data: ndarray, locked: bool) -> None:
    """``changing``'s exit: read-only again (if it was, or requires grad), version bumped."""
    if locked or tensor.requires_grad:
        data.setflags(write=False)
    mark_changed(tensor)


# Arithmetic on one element of float64 with a Python number or another such element:
# Python's float does the same IEEE operation as NumPy's loop, bit for bit, at a
# fraction of a ufunc call's cost on a 0-d array (which NumPy spends mostly on
# dispatch and on turning its scalar result back into an array). Only a result
# that cannot have raised a floating-point flag NumPy would report (a normal,
# finite number) is taken; any other goes to NumPy, so its warnings and errstate
# settings apply exactly as before.
_FLOAT_OPS = {ops.add: operator.add, ops.subtract: operator.sub, ops.multiply: operator.mul,
              ops.divide: operator.truediv}
_SQUARE = ops.square
_TINY = float(xp.finfo(xp.float64).tiny)  # below it (or at it) NumPy may flag underflow
_HUGE = float(xp.finfo(xp.float64).max)
_EXACT_INT = 2 ** 53  # Python ints up to this size convert to float64 exactly


# Python floats met by float64 arrays in operators, as read-only 0-d arrays (a few
# hundred at most; never a zero, whose sign a lookup would not tell, nor a NaN)
_CONSTANTS: dict[float, ndarray] = {}


def _constant_array(c: float) -> ndarray | None:
    if c == 0 or c != c or len(_CONSTANTS) >= 256:
        return None
    array = xp.array(c)
    array.setflags(write=False)
    _CONSTANTS[c] = array
    return array


def _unary(prim: Any, x: Any = NO_ARGUMENT, /, *args: Any, **params: Any) -> Any:
    """``prim`` applied to the tensor ``x`` alone: the hot path of the library.

    It is every primitive's call (``core.primitive.install_call``). Any call but
    one on a tensor does what ``call_primitive`` does, written out here rather
    than passed on: rules call primitives on arrays in every first-order sweep,
    and a second frame would tax each such call. A tensor whose data is not a
    plain array (inside nested transforms) goes to ``_process``.
    """
    if args or type(x) is not Tensor and (type(x) is ndarray or not isinstance(x, Tensor)):
        # core.primitive.call_primitive, inlined (a subclass of Tensor is a tensor here:
        # its _process would come back to this function)
        if args:
            if isinstance(x, Traced):
                return bind(prim, x, *args, **params)
            for a in args:
                if isinstance(a, Traced):
                    return bind(prim, x, *args, **params)
            if not params and len(args) == 1:  # two arrays: (x, *args) would cost a
                try:  # list and a tuple
                    return prim.impl(x, args[0])
                except Exception:
                    return call_impl(prim, (x, args[0]), params)
            args = (x, *args)
        elif isinstance(x, Traced):
            return x._process(prim, (x,), params)
        elif x is not NO_ARGUMENT:
            try:
                return prim.impl(x, **params) if params else prim.impl(x)
            except Exception:
                return call_impl(prim, (x,), params)
        try:
            return prim.impl(*args, **params)
        except Exception:
            return call_impl(prim, args, params)  # re-raises, naming the operation
    data = x.data
    if type(data) is not ndarray:
        return x._process(prim, (x,), params)
    impl = prim.impl
    try:
        if params:
            out = impl(data, **params)
        elif data.ndim or type(impl) is not _ufunc or _ZERO_D_OUT is None:
            out = impl(data)
        elif prim is _SQUARE and data.dtype is _F64:  # x**2 of a float64 scalar: as the
            v = data.item()  # operators, a Python float where it is NumPy's bits, no flags
            v = v * v
            out = xp.array(v) if _TINY < v <= _HUGE else impl(data, out=_ZERO_D_OUT)
        else:  # a 0-d array out of a ufunc, not a NumPy scalar to convert back
            out = impl(data, out=_ZERO_D_OUT)
    except Exception:
        out = call_impl(prim, (data,), params)  # re-raises with a clear message
    if type(out) is not ndarray:
        out = xp.asarray(out)
    level = x._level
    t = _new(Tensor)
    t.data = out
    t._level = level
    if x.requires_grad and prim.vjps is not None and (level or state.grad_enabled):
        dtype = out.dtype
        if dtype is _F64 and data.dtype is _F64 or dtype.kind == "f" and data.dtype.kind == "f":
            # Node(...) without the call of __init__: this runs once per operation
            t._node = node = _new(Node)
            node.prim = prim
            # Node.inputs is (x,), kept without a tuple, and as x's node when
            # there is one: no tensor kept alive for the sweep (core.graph)
            src = x._node
            node._in0 = x if src is None or level else src
            node._ins = 1
            node.args = (data,)
            node.params = params or _NO_PARAMS  # not the call's empty dict, one per node
            node.out = out
            node.needs = _FIRST
            node.seq = next(node_sequence)
            node.where = None
            node.plain = True
            t.requires_grad = True
            if src is None and not level and data.flags.writeable:
                data.setflags(write=False)  # a leaf's saved array: see requires_grad_
        elif dtype.kind in "fc":  # a complex input or output
            t._node = node = _complex_node(prim, (x,), (data,), params, out, _FIRST, True,
                                           level)
            t.requires_grad = True
        else:
            t._node = node = None
            t.requires_grad = False
    else:
        t._node = node = None
        t.requires_grad = False
        if x.requires_grad and prim.vjps is None and prim in varies_for_complex \
                and out.dtype.kind == "c":
            refuse_complex(prim, (data,), out)
    if state.anomaly:
        _watch(prim, out, node)
    return t


install_call(_unary)
collector.watch(Tensor)


def _stand_in(node: Node, data: Any) -> Tensor:
    """An input a node keeps as its node, shown as a tensor again (core.graph.stand_in)."""
    return Tensor._wrap(data, node)


graph.stand_in = _stand_in


def _references_of_a_lone_array() -> int:
    t = Tensor._wrap(xp.empty(1), None)
    return sys.getrefcount(t.data)


_ALONE = _references_of_a_lone_array()
