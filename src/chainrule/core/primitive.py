"""Primitive operations and the registry every engine reads.

A primitive is an implementation on plain arrays plus one derivative rule
per positional argument, in both directions:

* ``vjp_i(g, out, *args, **params)`` returns the cotangent of argument ``i``
  given the output cotangent ``g`` (reverse mode);
* ``jvp_i(dx, out, *args, **params)`` returns the output tangent caused by
  the tangent ``dx`` of argument ``i`` (forward mode, symbolic engine).

Rules are written with chainrule operations, never raw NumPy, so the same
rule runs on arrays (fast first-order sweeps), on tensors (derivatives of
derivatives) and on symbolic expressions. A rule of ``None`` means "no
derivative with respect to that argument" and engines skip it; a rule may
also return ``None`` for a zero it knows symbolically.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from chainrule.backend import ndarray, xp
from chainrule.core.trace import Traced, bind, call_impl

Rule = Callable[..., Any]

registry: dict[str, Primitive] = {}

NO_ARGUMENT: Any = object()  # no argument given (a primitive called with keywords alone)


def call_primitive(prim: Primitive, x: Any = NO_ARGUMENT, /, *args: Any, **params: Any) -> Any:
    """Apply ``prim``: ``Primitive.__call__`` until ``install_call`` gives a faster one.

    ``bind``, inlined: rules call primitives on arrays in every first-order sweep,
    and users call them on tensors, so both paths must be short. The first
    argument is a parameter of its own: a call on one value (the commonest)
    then makes no tuple of its arguments."""
    if not args:
        if isinstance(x, Traced):  # the only traced value is the top one
            return x._process(prim, (x,), params)
        if x is NO_ARGUMENT:  # no positional argument at all
            args = ()
        else:
            try:
                return prim.impl(x, **params) if params else prim.impl(x)
            except Exception:
                return call_impl(prim, (x,), params)
    else:
        args = (x, *args)
        for a in args:
            if isinstance(a, Traced):
                return bind(prim, *args, **params)
    try:
        return prim.impl(*args, **params)
    except Exception:
        return call_impl(prim, args, params)  # re-raises, naming the operation


def install_call(call: Callable[..., Any]) -> None:
    """Make ``call(prim, x, /, *args, **params)`` every primitive's call.

    chainrule.tensor (which core cannot import) gives one that applies a
    primitive to one tensor inline, the commonest call of all, one Python frame
    fewer per operation than a call through this module, and passes every other
    call to ``call_primitive``."""
    Primitive.__call__ = call  # type: ignore[method-assign]


class Primitive:
    """One operation with its implementation and its derivative rules.

    >>> from chainrule.core.primitive import Primitive
    >>> double = Primitive("double_example", lambda x: 2 * x, register=False)
    >>> double.defvjp(lambda g, out, x: 2 * g)
    >>> double.defjvp(lambda dx, out, x: 2 * dx)
    >>> double(3.0)
    6.0
    """

    __slots__ = ("name", "impl", "vjps", "jvps", "partials", "array_partials",
                 "unary_partial", "kink", "takes_perturbed", "__weakref__")

    def __init__(self, name: str, impl: Callable[..., Any], *, register: bool = True,
                 kink: str | None = None, takes_perturbed: bool = False) -> None:
        self.name = name
        self.impl = impl
        self.vjps: tuple[Rule | None, ...] | None = None  # None: not differentiable
        self.jvps: tuple[Rule | None, ...] | None = None
        # d out / d arg_i of an elementwise primitive (set by defpartials): the
        # first-order sweep multiplies by them directly, one call fewer per rule
        self.partials: tuple[Callable[..., Any] | None, ...] | None = None
        # the same partials in NumPy alone, for that sweep when every saved value
        # is a plain array (``Node.plain``); ``partials`` where none was given
        self.array_partials: tuple[Callable[..., Any] | None, ...] | None = None
        self.kink = kink  # the subgradient convention, stated where it applies
        # engines pass its rules perturbed=(indices of the differentiated arguments):
        # a minimum-norm subgradient at a tie depends on them (chainrule.subgradients)
        self.takes_perturbed = takes_perturbed
        # (unary_partial: array_partials[0] of a one-argument primitive whose rules take
        # no ``perturbed``, else None; the first-order sweep's commonest node, one test
        # away. __setattr__ keeps it in step with both.)
        if register:
            if name in registry:
                raise ValueError(f"a primitive named {name!r} is already registered")
            registry[name] = self

    def __setattr__(self, name: str, value: Any) -> None:
        object.__setattr__(self, name, value)
        if name == "array_partials" or name == "takes_perturbed":
            arrays = getattr(self, "array_partials", None)
            one = arrays is not None and len(arrays) == 1 \
                and not getattr(self, "takes_perturbed", False)
            object.__setattr__(self, "unary_partial", arrays[0] if one else None)

    def defvjp(self, *rules: Rule | None) -> None:
        """Set the reverse rules, one per positional argument."""
        self.vjps = rules
        self.partials = self.array_partials = None  # the rules no longer come from partials

    def defjvp(self, *rules: Rule | None) -> None:
        """Set the forward rules, one per positional argument."""
        self.jvps = rules

    def defvjp_variadic(self, rule: Rule) -> None:
        """Set one reverse rule ``rule(i, g, out, *args)`` for any number of arguments."""
        self.vjps = Variadic(rule)  # type: ignore[assignment]
        self.partials = self.array_partials = None

    def defjvp_variadic(self, rule: Rule) -> None:
        """Set one forward rule ``rule(i, dx, out, *args)`` for any number of arguments."""
        self.jvps = Variadic(rule)  # type: ignore[assignment]

    @property
    def differentiable(self) -> bool:
        return self.vjps is not None

    __call__ = call_primitive  # (chainrule.tensor installs its own: install_call)

    def __repr__(self) -> str:
        return f"Primitive({self.name!r})"


class Variadic:
    """Rules for a primitive taking any number of arrays (concatenate, einsum).

    ``rule(i, ...)`` is the rule for argument ``i``; indexing gives the
    rule of one argument, as for a tuple of per-argument rules.
    """

    __slots__ = ("rule",)

    def __init__(self, rule: Callable[..., Any]) -> None:
        self.rule = rule

    def __getitem__(self, i: int) -> Rule:
        rule = self.rule
        return lambda *args, **params: rule(i, *args, **params)


class MissingRules:
    """The rules of a user's primitive before ``defvjp``/``defjvp``.

    Asking for one raises, so a forgotten rule is an error at the first
    derivative instead of a silent zero; ``defvjp(None)`` states "no derivative".
    """

    __slots__ = ("name", "kind")

    def __init__(self, name: str, kind: str) -> None:
        self.name = name
        self.kind = kind

    def __getitem__(self, i: int) -> Rule:
        raise TypeError(f"primitive {self.name!r} has no {self.kind.upper()} rule: give one per "
                        f"positional argument with def{self.kind}(...), None for an argument "
                        f"without a derivative")

    def __len__(self) -> int:
        return 0


def arrays_inside(value: Any) -> list[Any]:
    """The arrays a value of any engine carries (a tensor's data, a dual's primal
    and tangent, a batch's stack); none for a symbolic expression."""
    todo, arrays = [value], []
    while todo:
        v = todo.pop()
        if isinstance(v, Traced):
            todo.extend(p for p in (getattr(v, a, None) for a in ("data", "primal", "tangent"))
                        if p is not None)
        elif getattr(v, "dtype", None) is not None and v.dtype.kind in "fc":
            arrays.append(v)
    return arrays


def unknown_values(value: Any) -> bool:
    """Whether ``value`` holds numbers no one knows yet (a program being traced:
    ``chainrule.program``), so a check of its values must wait for the program to run."""
    while isinstance(value, Traced):
        if getattr(value, "_abstract", False):
            return True
        value = getattr(value, "data", getattr(value, "primal", None))
    return False


def _keep_zeros_impl(g: Any, gi: Any, v: Any) -> Any:
    if type(gi) is ndarray and gi.dtype.kind == "f" and gi.ndim:
        r = gi.ravel()
        s = r @ r  # finite exactly when every element is (or inf by overflow: then the
        if s - s == 0:  # mask below runs, which only ever changes 0 * inf and -0.0)
            return v
    elif all_finite(gi):
        return v
    return registry["where"].impl(g == 0, 0.0, v)


# keep_zeros(g, gi, v): v, or where(g == 0, 0, v) when gi holds a NaN or infinity;
# what the engines do with concrete values (``mask_zeros``), as one operation a
# traced program runs. Linear in v; no derivative flows to g or gi (a selection).
keep_zeros_p = Primitive("keep_zeros", _keep_zeros_impl)
keep_zeros_p.defvjp(None, None, lambda ct, out, g, gi, v: keep_zeros_p(g, gi, ct))
keep_zeros_p.defjvp(None, None, lambda dv, out, g, gi, v: keep_zeros_p(g, gi, dv))


def mask_zeros(g: Any, gi: Any) -> Any:
    """``gi`` with zeros where ``g`` is zero, if ``gi`` holds a NaN or infinity
    (0 * inf in a rule is a zero that turned NaN). Values being traced into a
    program get the same decision made when the program runs."""
    if type(gi) is not ndarray and unknown_values(gi):
        return keep_zeros_p(g, gi, gi)
    if all_finite(gi):
        return gi
    return registry["where"](g == 0, 0.0, gi)


def all_finite(value: Any) -> bool:
    """Whether every number a value carries is finite (a plain array: one check)."""
    if type(value) is ndarray:
        return value.dtype.kind not in "fc" or bool(xp.isfinite(value).all())
    return all(xp.isfinite(a).all() for a in arrays_inside(value))


def defpartials(prim: Primitive, *partials: Callable[..., Any] | None,
                arrays: tuple[Callable[..., Any] | None, ...] | None = None) -> None:
    """Derive both rules of an elementwise primitive from its partial derivatives.

    ``partial_i(out, *args, **params)`` is d out / d arg_i; then the VJP is
    ``g * partial`` and the JVP ``dx * partial``. A tangent that is exactly
    zero stays zero where the partial is infinite (sqrt at 0), so a direction
    that does not move an element gives it no NaN; the reverse sweep does the
    same for cotangents (``chainrule.reverse``). The rules are marked
    ``elementwise`` so the sweep knows such masking is exact for them.

    ``arrays``, optional, gives the same partials written with NumPy alone,
    equal to ``partials`` bit for bit on arrays: the first-order sweep calls
    them when every saved value is a plain array, skipping the dispatch of
    chainrule operations. The rules themselves always use ``partials``, so
    derivatives of derivatives are unaffected.
    """

    def make_vjp(partial: Callable[..., Any] | None) -> Rule | None:
        if partial is None:
            return None

        def vjp(g: Any, out: Any, *args: Any, **params: Any) -> Any:
            return g * (partial(out, *args, **params) if params else partial(out, *args))
        vjp.elementwise = True  # type: ignore[attr-defined]
        return vjp

    def make_jvp(partial: Callable[..., Any] | None) -> Rule | None:
        if partial is None:
            return None

        def jvp(dx: Any, out: Any, *args: Any, **params: Any) -> Any:
            # 0 * inf is how a zero tangent turns NaN
            return mask_zeros(dx, dx * partial(out, *args, **params))
        jvp.elementwise = True  # type: ignore[attr-defined]
        return jvp

    if arrays is not None and len(arrays) != len(partials):  # before anything changes
        raise ValueError(f"{prim.name}: give one array partial per partial")
    prim.defvjp(*(make_vjp(p) for p in partials))
    prim.defjvp(*(make_jvp(p) for p in partials))
    prim.partials = partials
    prim.array_partials = partials if arrays is None else arrays


def primitive(impl: Callable[..., Any], name: str | None = None) -> Primitive:
    """Make a user-defined primitive from a NumPy implementation.

    Give it rules with ``defvjp`` (and ``defjvp`` for forward mode); written
    with chainrule operations they are differentiable again. Until a rule is
    given, differentiating through the primitive raises TypeError.

    >>> import chainrule as cr
    >>> import numpy as np
    >>> cube = cr.primitive(lambda x: x ** 3, name="cube_doc")
    >>> cube.defvjp(lambda g, out, x: g * 3 * x ** 2)
    >>> cube.defjvp(lambda dx, out, x: dx * 3 * x ** 2)
    >>> float(cr.grad(cube)(2.0))
    12.0
    """
    prim = Primitive(name or getattr(impl, "__name__", "custom"), impl, register=False)
    prim.vjps = MissingRules(prim.name, "vjp")  # type: ignore[assignment]
    prim.jvps = MissingRules(prim.name, "jvp")  # type: ignore[assignment]
    return prim
