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

from chainrule.core.trace import Traced, bind, call_impl

Rule = Callable[..., Any]

registry: dict[str, Primitive] = {}


class Primitive:
    """One operation with its implementation and its derivative rules.

    >>> from chainrule.core.primitive import Primitive
    >>> double = Primitive("double_example", lambda x: 2 * x, register=False)
    >>> double.defvjp(lambda g, out, x: 2 * g)
    >>> double.defjvp(lambda dx, out, x: 2 * dx)
    >>> double(3.0)
    6.0
    """

    __slots__ = ("name", "impl", "vjps", "jvps", "kink", "__weakref__")

    def __init__(self, name: str, impl: Callable[..., Any], *, register: bool = True,
                 kink: str | None = None) -> None:
        self.name = name
        self.impl = impl
        self.vjps: tuple[Rule | None, ...] | None = None  # None: not differentiable
        self.jvps: tuple[Rule | None, ...] | None = None
        self.kink = kink  # the subgradient convention, stated where it applies
        if register:
            if name in registry:
                raise ValueError(f"a primitive named {name!r} is already registered")
            registry[name] = self

    def defvjp(self, *rules: Rule | None) -> None:
        """Set the reverse rules, one per positional argument."""
        self.vjps = rules

    def defjvp(self, *rules: Rule | None) -> None:
        """Set the forward rules, one per positional argument."""
        self.jvps = rules

    def defvjp_variadic(self, rule: Rule) -> None:
        """Set one reverse rule ``rule(i, g, out, *args)`` for any number of arguments."""
        self.vjps = Variadic(rule)  # type: ignore[assignment]

    def defjvp_variadic(self, rule: Rule) -> None:
        """Set one forward rule ``rule(i, dx, out, *args)`` for any number of arguments."""
        self.jvps = Variadic(rule)  # type: ignore[assignment]

    @property
    def differentiable(self) -> bool:
        return self.vjps is not None

    def __call__(self, *args: Any, **params: Any) -> Any:
        # bind, inlined for plain arrays: rules call primitives on arrays in
        # every first-order sweep, so this path must be short
        for a in args:
            if isinstance(a, Traced):
                return bind(self, *args, **params)
        try:
            return self.impl(*args, **params)
        except Exception:
            return call_impl(self, args, params)  # re-raises, naming the operation

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


def defpartials(prim: Primitive, *partials: Callable[..., Any] | None) -> None:
    """Derive both rules of an elementwise primitive from its partial derivatives.

    ``partial_i(out, *args, **params)`` is d out / d arg_i; then the VJP is
    ``g * partial`` and the JVP ``dx * partial``.
    """

    def make_vjp(partial: Callable[..., Any] | None) -> Rule | None:
        if partial is None:
            return None
        return lambda g, out, *args, **params: g * partial(out, *args, **params)

    def make_jvp(partial: Callable[..., Any] | None) -> Rule | None:
        if partial is None:
            return None
        return lambda dx, out, *args, **params: dx * partial(out, *args, **params)

    prim.defvjp(*(make_vjp(p) for p in partials))
    prim.defjvp(*(make_jvp(p) for p in partials))


def primitive(impl: Callable[..., Any], name: str | None = None) -> Primitive:
    """Make a user-defined primitive from a NumPy implementation.

    Give it rules with ``defvjp`` (and ``defjvp`` for forward mode); written
    with chainrule operations they are differentiable again.

    >>> import chainrule as cr
    >>> import numpy as np
    >>> cube = cr.primitive(lambda x: x ** 3, name="cube_doc")
    >>> cube.defvjp(lambda g, out, x: g * 3 * x ** 2)
    >>> cube.defjvp(lambda dx, out, x: dx * 3 * x ** 2)
    >>> float(cr.grad(cube)(2.0))
    12.0
    """
    return Primitive(name or getattr(impl, "__name__", "custom"), impl, register=False)
