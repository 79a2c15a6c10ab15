"""Functional transforms on the reverse-mode engine: grad, value_and_grad, vjp;
and stop_gradient, the constant every engine sees.

Each call gets a level higher than every running transform, lifts the
chosen arguments to tensors of that level, runs the function, and sweeps
back from its output to those tensors. A value of an enclosing transform
stays inside the new tensors as their data, so operations (and the sweep's
rules) record on the enclosing level too: the result is differentiable by
the outer transform, and an inner derivative never mixes up its variables
with an outer one's. At top level, plain NumPy values go in and come out.
Arguments and results may be pytrees (nested tuples, lists and dicts of
arrays): the gradient of a dict of parameters is a dict of the same keys.

Inside the function, turning a traced value into a Python number or a plain
array (``float(x)``, ``x.item()``, ``math.sin(x)``, ``np.asarray(x)``,
``bool(x)``) would silently drop its derivative, so it raises
:class:`~chainrule.core.escape.TracerConversionError`; ``if x > 0:`` works
(a comparison carries no derivative), and ``cr.stop_gradient(x)`` makes a
constant on purpose.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

from chainrule.backend import (
    dtype_of,
    is_differentiable_dtype,
    is_float_dtype,
    ndarray,
    shape_of,
    xp,
)
from chainrule.core.config import new_level, transform_scope
from chainrule.core.escape import register_transform
from chainrule.core.graph import Node
from chainrule.core.primitive import Primitive
from chainrule.core.trace import Traced
from chainrule.core.wirtinger import refuse_complex_seed
from chainrule.pytree import TreeDef, flatten, flatten_up_to, leaf_paths, tree_map, unflatten
from chainrule.reverse import backward_pass, own_cotangents
from chainrule.tensor import Tensor


def _argnums(argnums: int | Sequence[int], nargs: int, name: str) -> tuple[int, ...]:
    nums = (argnums,) if isinstance(argnums, int) else tuple(argnums)
    if not nums:
        raise ValueError(f"{name}: argnums is empty; name at least one argument")
    for n in nums:
        if not isinstance(n, int) or not -nargs <= n < nargs:
            raise ValueError(f"{name}: argnums={argnums!r} is out of range for a call "
                             f"with {nargs} positional argument(s)")
    return tuple(n % nargs for n in nums)


def check_callable(f: Any, name: str) -> None:
    """Refuse a transform of something that is not a function, at once rather than
    at the first call (``cr.grad(3)``)."""
    if not callable(f):
        raise TypeError(f"{name}: expected the function to transform, got "
                        f"{type(f).__name__} {f!r:.40}; write cr.{name}(f) with f a function "
                        f"(a def or a lambda), then call the result on the values: "
                        f"cr.{name}(f)(3.0)" if name in _CALL_AFTER else
                        f"{name}: expected the function to transform as the first argument, "
                        f"got {type(f).__name__} {f!r:.40}; write cr.{name}(f, ...) with f "
                        f"a function (a def or a lambda)")


_CALL_AFTER = ("grad", "value_and_grad", "jacfwd", "jacrev", "hessian")


def _lift(x: Any, position: int | str, name: str, level: int) -> Tensor:
    """A differentiation target of this transform's level standing for ``x``.

    ``x`` may itself be a value of an enclosing transform (or a user's tensor
    that requires grad): it becomes the new tensor's data, so operations on
    the target record on both levels.
    """
    if not isinstance(x, Traced):
        given = x
        x = xp.asarray(x)  # lists and scalars too; dtype_of needs an array
        if x.dtype.kind not in "biufc":
            what = "None" if given is None else f"{type(given).__name__} {given!r:.40}"
            raise TypeError(f"{name}: argument {position} is {what}, not a number; "
                            f"expected a floating number or array to differentiate with "
                            f"respect to, such as 3.0 or np.array([1.0, 2.0])")
    dtype = dtype_of(x)
    if not is_differentiable_dtype(dtype):
        hint = (f" (write {float(x)!r} rather than {x.item()!r})"
                if x.ndim == 0 and not isinstance(x, Traced) else "")
        raise TypeError(f"{name}: argument {position} has dtype {dtype}; only floating "
                        f"or complex inputs can be differentiated{hint}")
    if isinstance(x, Tensor) and not x.requires_grad:
        x = x.data  # a constant tensor: nothing outside needs to see through it
    t = Tensor._wrap(x, None, level)
    t.requires_grad = True
    return t


def _plain(value: Any) -> Any:
    """What a transform hands back: enclosing transforms' values stay as they
    are; a plain array becomes an ndarray (a NumPy scalar for 0-d), writable
    (a read-only broadcast view from a rule is copied: the result is the caller's).
    A constant tensor (one that met a constant chainrule tensor in a rule) carries
    no derivative, so its values are handed back as an array like any other."""
    while type(value) is Tensor and value._node is None and not value.requires_grad:
        value = value.data
    if isinstance(value, Traced):
        return value
    value = xp.asarray(value)
    if value.ndim == 0:
        return value[()]
    return value if value.flags.writeable else xp.array(value, order="C")


def _unwrap(value: Any, level: int) -> Any:
    """Strip this transform's level from an output."""
    if isinstance(value, Tensor) and value._level == level:
        value = value.data
    return _plain(value)


def _unwrap_tree(value: Any, level: int) -> Any:
    """Strip this transform's level from every tensor in an aux value (tuples,
    lists, dicts), so none of its tensors escapes the transform; the rest stays."""
    if isinstance(value, Tensor) and value._level == level:
        return _plain(value.data)
    if isinstance(value, (tuple, list)):
        return type(value)(_unwrap_tree(v, level) for v in value)
    if isinstance(value, dict):
        return {k: _unwrap_tree(v, level) for k, v in value.items()}
    return value


def _sweep(out: Any, seed: Any, targets: list[Tensor], level: int,
           retain_graph: bool = True) -> list[Any]:
    """Cotangents of ``targets`` given the seed cotangent of ``out``.

    The sweep runs the rules on the recorded arguments; those that belong
    to enclosing transforms record there, so the result is differentiable
    by them and only by them. The graph of this level holds only this
    call's operations and its leaves are exactly the targets, so nothing
    needs pruning.
    """
    grads: dict[int, Any] = {}
    if isinstance(out, Tensor) and out._level == level and out.requires_grad:
        if out._node is None:
            grads = {id(out): seed}
        else:
            found = backward_pass(out._node, seed, retain_graph=retain_graph)
            own_cotangents(found)  # the caller's to keep and write into
            grads = {k: g for k, (_, g) in found.items()}
    result = []
    for t in targets:
        g = grads.get(id(t))
        if g is None:
            g = xp.zeros(shape_of(t), dtype=dtype_of(t))
        result.append(_plain(g))
    return result


def _lift_tree(x: Any, position: int, name: str, level: int
               ) -> tuple[Any, list[Tensor], TreeDef]:
    """Every leaf of the pytree ``x`` lifted: (the lifted tree, its leaves, its structure).

    Errors name the leaf, as in ``argument 0['w']``. A whole argument of None (an
    empty pytree) is refused: it is almost always a missing value, not a choice.
    """
    if x is None:
        _lift(x, position, name, level)  # raises, naming the argument
    leaves, tree = flatten(x)
    lifted = [_lift(leaf, f"{position}{path}", name, level)
              for leaf, path in zip(leaves, leaf_paths(tree))]
    return unflatten(tree, lifted), lifted, tree


def _regroup(flat: list[Any], trees: list[TreeDef]) -> list[Any]:
    """Consecutive runs of ``flat`` rebuilt into ``trees``, one value per tree."""
    out, start = [], 0
    for tree in trees:
        out.append(unflatten(tree, flat[start:start + tree.num_leaves]))
        start += tree.num_leaves
    return out


# The root of a sweep from several outputs at once: its rule hands output i its
# own cotangent, so one backward pass serves a whole pytree of outputs.
_gather_p = Primitive("gather_outputs", lambda *xs: None, register=False)
_gather_p.defvjp_variadic(lambda i, g, out, *xs: g[i])


def _cotangents(outs: list[Any], seeds: list[Any], level: int,
                retain_graph: bool = True) -> dict[int, Any]:
    """Raw cotangents, by id of this level's leaf tensors, given one seed per output.

    One backward pass whatever the number of outputs; outputs that are not
    tensors of this level (constants) contribute nothing.
    """
    live = [i for i, o in enumerate(outs)
            if isinstance(o, Tensor) and o._level == level and o.requires_grad]
    if not live:
        return {}
    if len(live) == 1 and outs[live[0]]._node is not None:
        root, seed = outs[live[0]]._node, seeds[live[0]]
    else:
        inputs = tuple(outs[i] for i in live)
        root = Node(_gather_p, inputs, tuple(o.data for o in inputs), {}, None,
                    tuple(range(len(inputs))))
        seed = tuple(seeds[i] for i in live)
    found = backward_pass(root, seed, retain_graph=retain_graph)
    own_cotangents(found)  # the caller's to keep and write into
    return {k: g for k, (_, g) in found.items()}


stop_gradient_p = Primitive("stop_gradient", lambda x: x)  # no rules: a constant to every engine


def stop_gradient(x: Any) -> Any:
    """The value of ``x`` (a pytree too) as a constant for every transform, at every
    level: the functional twin of ``Tensor.detach``.

    >>> import chainrule as cr
    >>> float(cr.grad(lambda x: x * cr.stop_gradient(x))(3.0))
    3.0
    """
    return tree_map(stop_gradient_p, x)


def value_and_grad(f: Callable[..., Any], argnums: int | Sequence[int] = 0,
                   has_aux: bool = False) -> Callable[..., Any]:
    """``f`` -> a function returning ``(f(*args), gradient)``.

    An argument may be a pytree (a dict of parameters, say): its gradient has
    the same structure.

    >>> import chainrule as cr
    >>> value, slope = cr.value_and_grad(lambda x: x**2 - 3*x - 2)(3.0)
    >>> float(value), float(slope)
    (-2.0, 3.0)
    """
    check_callable(f, "value_and_grad")

    def value_and_grad_f(*args: Any, **kwargs: Any) -> Any:
        if type(argnums) is int and 0 <= argnums < len(args) and not has_aux \
                and type(args[argnums]) not in _CONTAINERS:
            return _value_and_grad_leaf(f, argnums, args, kwargs)
        nums = _argnums(argnums, len(args), "grad")
        with transform_scope() as level:
            args = list(args)
            lifted = {}
            for n in dict.fromkeys(nums):  # a repeated argnum is lifted once
                args[n], *lifted[n] = _lift_tree(args[n], n, "grad", level)
            targets = [t for n in nums for t in lifted[n][0]]
            result = f(*args, **kwargs)
            out, aux = _split_aux(result, has_aux)
            _check_scalar(out)
            seed = xp.ones(shape_of(out), dtype=dtype_of(out))
            grads = _sweep(out, seed, targets, level, retain_graph=False)
        grads = _regroup(grads, [lifted[n][1] for n in nums])
        grad_value = grads[0] if isinstance(argnums, int) else tuple(grads)
        value = _unwrap(out, level)
        if has_aux:
            return (value, _unwrap_tree(aux, level)), grad_value
        return value, grad_value

    _name_after(value_and_grad_f, f, "value_and_grad")
    return value_and_grad_f


_CONTAINERS = (tuple, list, dict)
_new = object.__new__
_F64 = xp.dtype(xp.float64)
_F64_SCALAR = xp.float64
_ONE_F64 = xp.float64(1.0)


def _value_and_grad_leaf(f: Callable[..., Any], argnum: int, args: tuple, kwargs: dict,
                         with_value: bool = True) -> Any:
    """``value_and_grad`` for the common case of one array argument: no pytree
    flattening, one target (the seed example's whole call is a few microseconds).
    Without ``with_value`` it returns the gradient alone (``grad``).

    A Python float argument (the commonest) needs none of ``_lift``'s checks, and a
    scalar output none of ``_check_scalar``'s; its gradient, a NumPy scalar when the
    sweep made one, is immutable and so already the caller's own."""
    level = new_level()  # transform_scope without its with-block (it only hands out a level)
    a = args[argnum]
    if type(a) is float:  # Tensor._wrap(xp.asarray(a), None, level), inlined
        x = _new(Tensor)
        x.data = xp.array(a)
        x._node = None
        x._level = level
        x._version = 0
        x.requires_grad = True
    else:
        x = _lift(a, argnum, "grad", level)
    if len(args) == 1:
        out = f(x, **kwargs) if kwargs else f(x)
    else:
        out = f(*args[:argnum], x, *args[argnum + 1:], **kwargs)
    data = out.data if type(out) is Tensor else None
    if type(data) is not ndarray or data.size != 1 or data.dtype.kind != "f":
        _check_scalar(out)  # raises unless a scalar of another kind (a traced one)
    grad_value = None
    if type(out) is Tensor and out._level == level and out.requires_grad:
        if type(data) is ndarray and not data.ndim:
            # NumPy computes on a scalar faster than a 0-d array; scalars are
            # immutable, so float64's can be one shared 1.0
            seed = _ONE_F64 if data.dtype is _F64 else data.dtype.type(1)
        else:
            seed = xp.ones(data.shape, dtype=data.dtype)
        if out._node is None:
            grad_value = seed
        else:
            found = backward_pass(out._node, seed)
            hit = found.get(id(x))
            if hit is not None:
                grad_value = hit[1]
                if type(grad_value) is not _F64_SCALAR \
                        and not isinstance(grad_value, xp.generic):  # a scalar: the caller's
                    own_cotangents(found)  # the caller's to keep and write into
                    grad_value = found[id(x)][1]
    if grad_value is None:
        grad_value = xp.zeros(shape_of(x), dtype=dtype_of(x))
    if type(grad_value) is not _F64_SCALAR and not isinstance(grad_value, xp.generic):
        # (a NumPy scalar is handed back as it is)
        grad_value = _plain(grad_value)
    return grad_value if not with_value else (_unwrap(out, level), grad_value)


def grad(f: Callable[..., Any], argnums: int | Sequence[int] = 0,
         has_aux: bool = False) -> Callable[..., Any]:
    """``f`` -> its gradient with respect to argument(s) ``argnums``.

    ``f`` must return a scalar. With ``has_aux`` it returns ``(scalar, aux)``
    and the gradient function returns ``(gradient, aux)``.

    >>> import chainrule as cr
    >>> df = cr.grad(lambda x: x**2 - 3*x - 2)
    >>> float(df(3.0))
    3.0
    >>> float(cr.grad(df)(3.0))
    2.0
    """
    check_callable(f, "grad")
    vg = value_and_grad(f, argnums, has_aux)
    one = type(argnums) is int and argnums >= 0 and not has_aux

    def grad_f(*args: Any, **kwargs: Any) -> Any:
        if one and argnums < len(args) and type(args[argnums]) not in _CONTAINERS:
            return _value_and_grad_leaf(f, argnums, args, kwargs, with_value=False)
        value, g = vg(*args, **kwargs)
        if has_aux:
            return g, value[1]
        return g

    _name_after(grad_f, f, "grad")
    return grad_f


def vjp(f: Callable[..., Any], *primals: Any, has_aux: bool = False) -> Any:
    """Evaluate ``f`` and return ``(out, vjp_fn)``; ``vjp_fn(g)`` is a tuple of
    the cotangents of all primals given the cotangent ``g`` of ``out``.

    >>> import numpy as np, chainrule as cr
    >>> out, vjp_fn = cr.vjp(lambda x: x * x, np.array([1.0, 2.0]))
    >>> vjp_fn(np.array([1.0, 1.0]))
    (array([2., 4.]),)
    """
    check_callable(f, "vjp")
    with transform_scope() as level:
        lifted = [_lift_tree(x, i, "vjp", level) for i, x in enumerate(primals)]
        result = f(*[tree for tree, _, _ in lifted])
    out, aux = _split_aux(result, has_aux)
    outs, out_tree = flatten(out)
    targets = [t for _, leaves, _ in lifted for t in leaves]

    def vjp_fn(cotangent: Any) -> tuple[Any, ...]:
        seeds = flatten_up_to(out_tree, cotangent, "vjp: the cotangent")
        seeds = [_fit_cotangent(g, o, path)
                 for g, o, path in zip(seeds, outs, leaf_paths(out_tree))]
        grads = _cotangents(outs, seeds, level)
        flat = [_plain(grads[id(t)]) if id(t) in grads else
                xp.zeros(shape_of(t), dtype=dtype_of(t)) for t in targets]
        return tuple(_regroup(flat, [tree for _, _, tree in lifted]))

    value = unflatten(out_tree, [_unwrap(o, level) for o in outs])
    if has_aux:
        return value, vjp_fn, _unwrap_tree(aux, level)
    return value, vjp_fn


def _fit_cotangent(g: Any, out: Any, path: str) -> Any:
    """A user's cotangent checked against its output and cast to its dtype."""
    if shape_of(g) != shape_of(out):
        raise ValueError(f"vjp: the cotangent{path} has shape {shape_of(g)}, expected the "
                         f"output's shape {shape_of(out)}")
    if not isinstance(g, Traced):
        g = xp.asarray(g)
        if g.dtype.kind == "c" and xp.dtype(dtype_of(out)).kind != "c":
            refuse_complex_seed(g.dtype, dtype_of(out), f"vjp: the cotangent{path}")
        g = g.astype(dtype_of(out), copy=False)
    return g


def _split_aux(result: Any, has_aux: bool) -> tuple[Any, Any]:
    if not has_aux:
        return result, None
    if not (isinstance(result, tuple) and len(result) == 2):
        raise TypeError("has_aux=True: the function must return a pair (output, aux)")
    return result


def _check_scalar(out: Any) -> None:
    if not isinstance(out, Traced) and xp.asarray(out).dtype.kind not in "biufc":
        raise TypeError(f"grad: the function must return a floating scalar, it returned "
                        f"{type(out).__name__} {out!r:.60}")
    shape = shape_of(out)
    if math.prod(shape) != 1:
        raise TypeError(f"grad: the function must return a scalar, it returned shape "
                        f"{shape}; use vjp or jacrev for non-scalar outputs")
    if not is_float_dtype(dtype_of(out)):
        if xp.dtype(dtype_of(out)).kind == "c":
            raise TypeError(f"grad: the function must return a real scalar, it returned "
                            f"dtype {dtype_of(out)}; differentiate a real loss (cr.abs(y) ** 2, "
                            f"cr.real(y)), or use vjp with the cotangent of the complex output")
        raise TypeError(f"grad: the function must return a floating scalar, it returned "
                        f"dtype {dtype_of(out)}")


def _name_after(wrapper: Callable[..., Any], f: Callable[..., Any], kind: str) -> None:
    wrapper.__name__ = f"{kind}({getattr(f, '__name__', 'f')})"
    wrapper.__qualname__ = wrapper.__name__
    wrapper.__doc__ = f"The {kind} of {getattr(f, '__name__', 'a function')}."


# errors about values that leave the graph name the transform that traced them
register_transform(value_and_grad, "value_and_grad", "value_and_grad_f")
register_transform(_value_and_grad_leaf, "value_and_grad")
register_transform(grad, "grad", "grad_f")
register_transform(vjp, "vjp")


# ----- Taylor series rule (run by chainrule.transforms.taylor; chainrule.ops.series) -----

from chainrule.ops import series as _series  # noqa: E402

_series.defseries(stop_gradient_p, _series.constant)  # a constant to every engine
