"""Functional transforms on the reverse-mode engine: grad, value_and_grad, vjp.

Each call gets a level higher than every running transform, lifts the
chosen arguments to tensors of that level, runs the function, and sweeps
back from its output to those tensors. A value of an enclosing transform
stays inside the new tensors as their data, so operations (and the sweep's
rules) record on the enclosing level too: the result is differentiable by
the outer transform, and an inner derivative never mixes up its variables
with an outer one's. At top level, plain NumPy values go in and come out.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

from chainrule.backend import dtype_of, is_float_dtype, shape_of, xp
from chainrule.core.config import transform_scope
from chainrule.core.trace import Traced
from chainrule.reverse import backward_pass
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


def _lift(x: Any, position: int, name: str, level: int) -> Tensor:
    """A differentiation target of this transform's level standing for ``x``.

    ``x`` may itself be a value of an enclosing transform (or a user's tensor
    that requires grad): it becomes the new tensor's data, so operations on
    the target record on both levels.
    """
    dtype = dtype_of(x)
    if not is_float_dtype(dtype):
        hint = f" (write {float(x)!r} rather than {x!r})" if isinstance(x, int) else ""
        raise TypeError(f"{name}: argument {position} has dtype {dtype}; only floating "
                        f"inputs can be differentiated{hint}")
    if not isinstance(x, Traced):
        x = xp.asarray(x)
    elif isinstance(x, Tensor) and not x.requires_grad:
        x = x.data  # a constant tensor: nothing outside needs to see through it
    t = Tensor._wrap(x, None, level)
    t.requires_grad = True
    return t


def _plain(value: Any) -> Any:
    """What a transform hands back: enclosing transforms' values stay as they
    are; a plain array becomes an ndarray (a NumPy scalar for 0-d)."""
    if isinstance(value, Traced):
        return value
    value = xp.asarray(value)
    return value[()] if value.ndim == 0 else value


def _unwrap(value: Any, level: int) -> Any:
    """Strip this transform's level from an output."""
    if isinstance(value, Tensor) and value._level == level:
        value = value.data
    return _plain(value)


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
            grads = {k: g for k, (_, g) in found.items()}
    result = []
    for t in targets:
        g = grads.get(id(t))
        if g is None:
            g = xp.zeros(shape_of(t), dtype=dtype_of(t))
        result.append(_plain(g))
    return result


def value_and_grad(f: Callable[..., Any], argnums: int | Sequence[int] = 0,
                   has_aux: bool = False) -> Callable[..., Any]:
    """``f`` -> a function returning ``(f(*args), gradient)``.

    >>> import chainrule as cr
    >>> value, slope = cr.value_and_grad(lambda x: x**2 - 3*x - 2)(3.0)
    >>> float(value), float(slope)
    (-2.0, 3.0)
    """
    def value_and_grad_f(*args: Any, **kwargs: Any) -> Any:
        nums = _argnums(argnums, len(args), "grad")
        with transform_scope() as level:
            args = list(args)
            targets = []
            for n in nums:
                args[n] = _lift(args[n], n, "grad", level)
                targets.append(args[n])
            result = f(*args, **kwargs)
            out, aux = _split_aux(result, has_aux)
            _check_scalar(out)
            seed = xp.ones(shape_of(out), dtype=dtype_of(out))
            grads = _sweep(out, seed, targets, level, retain_graph=False)
        grad_value = grads[0] if isinstance(argnums, int) else tuple(grads)
        value = _unwrap(out, level)
        if has_aux:
            return (value, aux), grad_value
        return value, grad_value

    _name_after(value_and_grad_f, f, "value_and_grad")
    return value_and_grad_f


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
    vg = value_and_grad(f, argnums, has_aux)

    def grad_f(*args: Any, **kwargs: Any) -> Any:
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
    with transform_scope() as level:
        targets = [_lift(x, i, "vjp", level) for i, x in enumerate(primals)]
        result = f(*targets)
    out, aux = _split_aux(result, has_aux)
    out_shape = shape_of(out)
    out_dtype = dtype_of(out)

    def vjp_fn(cotangent: Any) -> tuple[Any, ...]:
        if shape_of(cotangent) != out_shape:
            raise ValueError(f"vjp: the cotangent has shape {shape_of(cotangent)}, expected "
                             f"the output's shape {out_shape}")
        if not isinstance(cotangent, Traced):
            cotangent = xp.asarray(cotangent, dtype=out_dtype)
        return tuple(_sweep(out, cotangent, targets, level))

    value = _unwrap(out, level)
    if has_aux:
        return value, vjp_fn, aux
    return value, vjp_fn


def _split_aux(result: Any, has_aux: bool) -> tuple[Any, Any]:
    if not has_aux:
        return result, None
    if not (isinstance(result, tuple) and len(result) == 2):
        raise TypeError("has_aux=True: the function must return a pair (output, aux)")
    return result


def _check_scalar(out: Any) -> None:
    shape = shape_of(out)
    if math.prod(shape) != 1:
        raise TypeError(f"grad: the function must return a scalar, it returned shape "
                        f"{shape}; use vjp or jacrev for non-scalar outputs")
    if not is_float_dtype(dtype_of(out)):
        raise TypeError(f"grad: the function must return a floating scalar, it returned "
                        f"dtype {dtype_of(out)}")


def _name_after(wrapper: Callable[..., Any], f: Callable[..., Any], kind: str) -> None:
    wrapper.__name__ = f"{kind}({getattr(f, '__name__', 'f')})"
    wrapper.__qualname__ = wrapper.__name__
    wrapper.__doc__ = f"The {kind} of {getattr(f, '__name__', 'a function')}."
