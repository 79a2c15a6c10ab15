"""Functional transforms on the reverse-mode engine: grad, value_and_grad, vjp.

Each call lifts the chosen arguments to fresh differentiation targets, runs
the function, and sweeps back from its output, stopping at those targets.
Called at top level they take and return plain NumPy values and the sweep
runs on arrays. Called inside another transform (or on tensors that require
grad) the sweep is recorded, so the result can be differentiated again by
the outer transform; each call's targets are its own nodes, so an inner
derivative never mixes up its variables with an outer one's.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from chainrule.backend import is_float_dtype, xp
from chainrule.core.config import set_grad_enabled, state, transform_scope
from chainrule.ops.shape import identity_p
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


def _lift(x: Any, position: int, name: str) -> Tensor:
    """A differentiation target standing for argument ``x``."""
    if isinstance(x, Tensor):
        if not is_float_dtype(x.dtype):
            raise TypeError(f"{name}: argument {position} has dtype {x.dtype}; only floating "
                            f"inputs can be differentiated")
        if x.requires_grad and state.grad_enabled:
            return identity_p(x)  # a node of our own: the sweep stops here
        return Tensor._wrap(x.data, None).requires_grad_()
    array = xp.asarray(x)
    if not is_float_dtype(array.dtype):
        hint = f" (write {float(x)!r} rather than {x!r})" if isinstance(x, int) else ""
        raise TypeError(f"{name}: argument {position} has dtype {array.dtype}; only floating "
                        f"inputs can be differentiated{hint}")
    return Tensor._wrap(array, None).requires_grad_()


def _key(t: Tensor) -> int:
    return id(t) if t._node is None else id(t._node)


def _plain(value: Any) -> Any:
    """A tensor's array (a NumPy scalar for 0-d), for top-level results."""
    if isinstance(value, Tensor):
        value = value.data
    value = xp.asarray(value)
    return value[()] if value.ndim == 0 else value


def _wrap_out(value: Any, nested: bool) -> Any:
    if nested:
        return value if isinstance(value, Tensor) else Tensor._wrap(xp.asarray(value), None)
    return _plain(value)


def _sweep(out: Any, seed: Any, targets: list[Tensor], nested: bool) -> list[Any]:
    """Cotangents of ``targets`` given the seed cotangent of ``out``."""
    grads: dict[int, Any] = {}
    if isinstance(out, Tensor) and out.requires_grad:
        if nested and not isinstance(seed, Tensor):
            seed = Tensor._wrap(xp.asarray(seed), None)
        if out._node is None:
            grads = {id(out): seed}
        else:
            keys = {_key(t) for t in targets}
            with set_grad_enabled(nested):
                found = backward_pass(out._node, seed, targets=keys, create_graph=nested,
                                      retain_graph=True)
            grads = {k: g for k, (_, g) in found.items()}
    result = []
    for t in targets:
        g = grads.get(_key(t))
        if g is None:
            g = xp.zeros(t.shape, dtype=t.dtype)
        result.append(_wrap_out(g, nested))
    return result


def _is_nested(args: Sequence[Any], depth: int) -> bool:
    return depth > 1 or any(isinstance(a, Tensor) and a.requires_grad for a in args)


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
        with transform_scope() as depth:
            nested = _is_nested(args, depth)
            args = list(args)
            targets = []
            for n in nums:
                args[n] = _lift(args[n], n, "grad")
                targets.append(args[n])
            result = f(*args, **kwargs)
            out, aux = _split_aux(result, has_aux)
            _check_scalar(out)
            grads = _sweep(out, xp.ones_like(getattr(out, "data", out)), targets, nested)
        grad_value = grads[0] if isinstance(argnums, int) else tuple(grads)
        value = _wrap_out(out, nested)
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
    with transform_scope() as depth:
        nested = _is_nested(primals, depth)
        targets = [_lift(x, i, "vjp") for i, x in enumerate(primals)]
        result = f(*targets)
    out, aux = _split_aux(result, has_aux)
    out_shape = xp.shape(getattr(out, "data", out))
    out_dtype = xp.result_type(getattr(out, "data", out))

    def vjp_fn(cotangent: Any) -> tuple[Any, ...]:
        g_data = getattr(cotangent, "data", cotangent)
        if xp.shape(g_data) != out_shape:
            raise ValueError(f"vjp: the cotangent has shape {xp.shape(g_data)}, expected "
                             f"the output's shape {out_shape}")
        if not isinstance(cotangent, Tensor):
            cotangent = xp.asarray(cotangent, dtype=out_dtype)
        return tuple(_sweep(out, cotangent, targets, nested or isinstance(cotangent, Tensor)))

    value = _wrap_out(out, nested)
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
    data = getattr(out, "data", out)
    array = xp.asarray(data)
    if array.size != 1:
        raise TypeError(f"grad: the function must return a scalar, it returned shape "
                        f"{array.shape}; use vjp or jacrev for non-scalar outputs")
    if not is_float_dtype(array.dtype):
        raise TypeError(f"grad: the function must return a floating scalar, it returned "
                        f"dtype {array.dtype}")


def _name_after(wrapper: Callable[..., Any], f: Callable[..., Any], kind: str) -> None:
    wrapper.__name__ = f"{kind}({getattr(f, '__name__', 'f')})"
    wrapper.__qualname__ = wrapper.__name__
    wrapper.__doc__ = f"The {kind} of {getattr(f, '__name__', 'a function')}."
