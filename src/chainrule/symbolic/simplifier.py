"""``simplify``: a canonical form for sums and products, built bottom-up.

Every maximal cluster of ``+ - (unary -)`` becomes a sum ``c0 + sum c_i * m_i``
of distinct monomials ``m_i`` with exact (or float) coefficients; every
cluster of ``* / **(number)`` becomes a product ``c * prod b_j ** e_j`` of
distinct bases. Like terms and like powers are collected (``x - x`` is 0,
``x/x`` is 1, ``x*x`` is ``x**2``), numbers are folded exactly, a number
times a sum is distributed (``2*(x + 1)`` is ``2*x + 2``), and terms and
factors are sorted by a structural key, so equal expressions print the same.
Functions (sin, where, ...) are simplified inside and kept.

Inside a sum, a product with a sum as a factor (to the power 1) is
distributed, ``x*(y + 1) + z`` is ``x*y + x + z``, so that like terms meet:
that keeps repeated derivatives polynomial-sized (the product rule makes such
products at every order). A product standing alone stays as it is, powers of
sums are not expanded, and one call distributes within a fixed budget
(``BUDGET`` factors copied), so an expression whose expansion is exponential
(``v*s + w*s`` nested 40 deep), or a large DAG whose shared sums would be
copied into every user, keeps its products beyond that. It
uses no trigonometric identities and assumes no sign: ``(x**2)**(1/2)``
stays as it is (it is ``|x|``).

A cluster is found by walking down from its root through nodes used only
inside it, so a chain of n additions costs O(n), and a node shared by
several users is simplified once.
"""

from __future__ import annotations

from typing import Any

from chainrule import ops
from chainrule.symbolic.errors import SymbolicZeroDivisionError
from chainrule.symbolic.expr import ZERO, Expr, apply, constant
from chainrule.symbolic.numbers import Number, bounded, exact_power, normalize
from chainrule.symbolic.parser import expr_of
from chainrule.symbolic.walk import postorder, sort_key, tree_size, use_counts

_SUM = (ops.add, ops.subtract, ops.negative)
_PRODUCT = (ops.multiply, ops.divide)
_POWERS = {ops.square: constant(2), ops.reciprocal: constant(-1)}  # square(x) is x**2
BUDGET = 2_000  # factors that distributing may copy, per simplify call
_SYMMETRIC = (ops.equal, ops.not_equal, ops.maximum, ops.minimum, ops.logical_and,
              ops.logical_or)


def _add(a: Number, b: Number) -> Number:
    """``a + b``, a zero (0.0 too) being the identity, as ``x + 0.0`` is ``x``."""
    if b == 0:
        return a
    return b if a == 0 else bounded(normalize(a + b))


def _mul(a: Number, b: Number) -> Number:
    """``a * b``, a one (1.0 too) being the identity, as ``x * 1.0`` is ``x``."""
    if b == 1:
        return a
    return b if a == 1 else bounded(normalize(a * b))


def _is_int(value: Any) -> bool:
    return type(value) is int


def _power_of_number(base: Number, exponent: Number, where: Expr) -> Number | None:
    """``base ** exponent`` as a number, None if it is not one (an irrational root)."""
    if base == 0 and exponent < 0:
        raise SymbolicZeroDivisionError(f"simplify: division by zero in {_short(where)}")
    if type(base) is not float and type(exponent) is not float:
        return exact_power(base, exponent)
    try:
        result = float(base) ** float(exponent)
    except (OverflowError, ZeroDivisionError):
        return None
    return result if isinstance(result, float) else None  # a complex root: keep it


def _short(node: Expr) -> str:
    return str(node) if tree_size(node) < 200 else f"a {node.prim.name} expression"


class _Simplifier:
    """One ``simplify`` call: the memo tables live as long as the call."""

    def __init__(self, roots: list[Expr]) -> None:
        self.order = postorder(roots)
        self.counts = use_counts(roots, self.order)
        self.interior = self._interior()
        self.result: dict[int, Expr] = {}
        self.sums: dict[int, tuple[Expr, Number, list]] = {}  # canonical node -> its terms
        self.products: dict[int, tuple[Expr, Number, dict]] = {}  # -> its factors
        self.where_depth = 0
        # factors that distributing products over sums may still copy (see _expand)
        self.budget = BUDGET

    def _interior(self) -> set[int]:
        """Nodes walked through by their cluster's root instead of simplified alone."""
        interior = set()
        for node in self.order:
            prim = node.prim
            if prim in _SUM:
                inner = [a for a in node.args if a.prim in _SUM]
            elif prim in _PRODUCT:
                inner = [a for a in node.args if a.prim in _PRODUCT or _int_power(a)]
            elif _int_power(node):
                base = node.args[0]
                inner = [base] if base.prim in _PRODUCT or _int_power(base) else []
            else:
                continue
            interior.update(id(a) for a in inner if self.counts[id(a)] == 1)
        return interior

    def run(self, root: Expr) -> Expr:
        result = self.result
        for node in self.order:
            if id(node) in self.interior:
                continue
            prim = node.prim
            if prim is None:
                result[id(node)] = node
            elif prim in _SUM:
                result[id(node)] = self._sum_cluster(node)
            elif prim in _PRODUCT or _int_power(node):
                result[id(node)] = self._product_cluster(node)
            elif prim is ops.power or prim in _POWERS:
                base = result[id(node.args[0])]
                exponent = result[id(node.args[1])] if prim is ops.power else _POWERS[prim]
                if exponent.is_number:
                    factors: dict = {}
                    coef = self._add_factor(factors, 1, base, exponent.value, node)
                    result[id(node)] = self._build_product(coef, factors)
                else:
                    result[id(node)] = apply(prim, (base, exponent))
            else:
                args = tuple(result[id(a)] for a in node.args)
                if prim in _SYMMETRIC:  # x == y and y == x are one condition
                    args = tuple(sorted(args, key=lambda a: (a.is_number, sort_key(a))))
                result[id(node)] = apply(prim, args)
        return result[id(root)]

    # ----- clusters -----
    def _sum_cluster(self, root: Expr) -> Expr:
        const: Number = 0
        terms: dict[int, list] = {}  # id(monomial) -> [monomial, coefficient]
        stack: list[tuple[Expr, Number]] = [(root, 1)]
        while stack:
            node, c = stack.pop()
            if node is root or id(node) in self.interior and node.prim in _SUM:
                a = node.args
                if node.prim is ops.add:
                    stack += [(a[1], c), (a[0], c)]
                elif node.prim is ops.subtract:
                    stack += [(a[1], -c), (a[0], c)]
                else:
                    stack.append((a[0], -c))
                continue
            _, k, parts = self._terms(self.result[id(node)])
            const = _add(const, _mul(c, k))
            for mono, coef in parts:
                entry = terms.setdefault(id(mono), [mono, 0])
                entry[1] = _add(entry[1], _mul(c, coef))
        return self._build_sum(const, terms)

    def _product_cluster(self, root: Expr) -> Expr:
        coef: Number = 1
        factors: dict[int, list] = {}  # id(base) -> [base, exponent]
        stack: list[tuple[Expr, Number]] = [(root, 1)]
        while stack:
            node, m = stack.pop()
            if node is root or id(node) in self.interior and node.prim is not None:
                a = node.args
                if node.prim is ops.multiply:
                    stack += [(a[1], m), (a[0], m)]
                    continue
                if node.prim is ops.divide:
                    stack += [(a[1], -m), (a[0], m)]
                    continue
                stack.append((a[0], bounded(m * a[1].value)))  # an integer power
                continue
            coef = _mul(coef, self._add_factor(factors, 1, self.result[id(node)], m, root))
        return self._build_product(coef, factors)

    def _add_factor(self, factors: dict, coef: Number, base: Expr, exponent: Number,
                    where: Expr) -> Number:
        """Multiply ``factors`` by ``base ** exponent``; returns the new number factor."""
        if base.is_number:
            value = _power_of_number(base.value, exponent, where)
            if value is not None:
                return _mul(coef, value)
            entry = factors.setdefault(id(base), [base, 0])
            entry[1] = bounded(normalize(entry[1] + exponent))
            return coef
        if not _is_int(exponent):  # (x**2)**(1/2) is |x|: only whole powers split up
            entry = factors.setdefault(id(base), [base, 0])
            entry[1] = bounded(normalize(entry[1] + exponent))
            return coef
        _, k, parts = self._factors(base)
        value = _power_of_number(k, exponent, where)
        if value is None:  # too large to fold: keep the number as a factor
            entry = factors.setdefault(id(constant(k)), [constant(k), 0])
            entry[1] = bounded(normalize(entry[1] + exponent))
            value = 1
        for b, e in parts.values():
            entry = factors.setdefault(id(b), [b, 0])
            entry[1] = bounded(normalize(entry[1] + e * exponent))
        return _mul(coef, value)

    # ----- decompositions of canonical nodes -----
    def _terms(self, node: Expr) -> tuple[Expr, Number, list]:
        """``node`` as a constant plus a list of (monomial, coefficient)."""
        memo = self.sums.get(id(node))
        if memo is not None:
            return memo
        const: Number = 0
        parts = []
        stack: list[tuple[Expr, Number]] = [(node, 1)]
        while stack:
            n, c = stack.pop()
            if n.prim is ops.add:
                stack += [(n.args[1], c), (n.args[0], c)]
            elif n.prim is ops.subtract:
                stack += [(n.args[1], -c), (n.args[0], c)]
            elif n.prim is ops.negative:
                stack.append((n.args[0], -c))
            else:
                _, k, factors = self._factors(n)
                for term, coef in self._expand(factors, _mul(c, k)):
                    if term:
                        parts.append((self._build_product(1, term), coef))
                    else:
                        const = _add(const, coef)
        memo = (node, const, parts)
        self.sums[id(node)] = memo
        return memo

    def _expand(self, factors: dict, coef: Number) -> list[tuple[dict, Number]]:
        """A term ``coef * prod factors`` as terms without a sum to the first power:
        ``x*(y + 1)`` inside a sum is ``x*y + x``. That is what keeps repeated
        derivatives small: the product rule gives ``u' * v`` with ``u'`` a sum, and
        only once it is distributed do like terms meet and cancel or collect
        (``exp(sin(x))``'s 15th derivative: 36 terms, not a tower of nested sums).
        Distributing can multiply the number of terms at each level, so one call
        copies at most ``budget`` factors in all, and keeps products after that."""
        done: list[tuple[dict, Number]] = []
        pending = [(factors, coef)]
        while pending:
            factors, coef = pending.pop()
            key = next((k for k, (b, e) in factors.items() if e == 1 and b.prim in _SUM), None)
            if key is None:
                done.append((factors, coef))
                continue
            _, const, parts = self._terms(factors[key][0])
            cost = (len(parts) + 1) * len(factors)  # factors copied, about
            if cost > self.budget:
                done.append((factors, coef))
                continue
            self.budget -= cost
            rest = {k: v for k, v in factors.items() if k != key}
            if const != 0:
                pending.append((rest, _mul(coef, const)))
            for mono, c in parts:
                merged = {k: [b, e] for k, (b, e) in rest.items()}
                for k, (b, e) in self._factors(mono)[2].items():
                    entry = merged.setdefault(k, [b, 0])
                    entry[1] = bounded(normalize(entry[1] + e))
                pending.append(({k: v for k, v in merged.items() if v[1] != 0},
                                _mul(coef, c)))
        return done

    def _factors(self, node: Expr) -> tuple[Expr, Number, dict]:
        """``node`` as a number times a dict of {id(base): [base, exponent]}."""
        memo = self.products.get(id(node))
        if memo is not None:
            return memo
        coef: Number = 1
        factors: dict[int, list] = {}
        stack: list[tuple[Expr, Number]] = [(node, 1)]
        while stack:
            n, m = stack.pop()
            prim = n.prim
            if prim is ops.multiply:
                stack += [(n.args[1], m), (n.args[0], m)]
            elif prim is ops.divide:
                stack += [(n.args[1], -m), (n.args[0], m)]
            elif prim is ops.negative:
                coef = -coef if m % 2 else coef
                stack.append((n.args[0], m))
            elif prim is ops.power and n.args[1].is_number:
                e = bounded(normalize(m * n.args[1].value))
                if _is_int(n.args[1].value):
                    stack.append((n.args[0], e))
                else:
                    entry = factors.setdefault(id(n.args[0]), [n.args[0], 0])
                    entry[1] = bounded(normalize(entry[1] + e))
            elif n.is_number:
                value = _power_of_number(n.value, m, node)
                if value is None:
                    entry = factors.setdefault(id(n), [n, 0])
                    entry[1] = bounded(normalize(entry[1] + m))
                else:
                    coef = _mul(coef, value)
            else:
                entry = factors.setdefault(id(n), [n, 0])
                entry[1] = bounded(normalize(entry[1] + m))
        memo = (node, coef, {k: v for k, v in factors.items() if v[1] != 0})
        self.products[id(node)] = memo
        return memo

    # ----- canonical builders -----
    def _build_product(self, coef: Number, factors: dict) -> Expr:
        live = [(b, e) for b, e in factors.values() if e != 0]
        for b, e in live:
            if b.is_number and b.value == 0 and e < 0:
                raise SymbolicZeroDivisionError(f"simplify: division by zero ({b}**{e})")
        if coef == 0:
            return ZERO
        if len(live) == 1 and live[0][1] == 1 and live[0][0].prim in _SUM and coef != 1:
            # a number times a sum: distribute, 2*(x + 1) -> 2*x + 2
            _, k, parts = self._terms(live[0][0])
            terms = {id(m): [m, _mul(coef, c)] for m, c in parts}
            return self._build_sum(_mul(coef, k), terms)
        if type(coef) is int or type(coef) is float:
            p, q = coef, 1
        else:
            p, q = coef.numerator, coef.denominator
        live.sort(key=lambda f: sort_key(f[0]))
        top = [b if e == 1 else apply(ops.power, (b, constant(e))) for b, e in live if e > 0]
        bottom = [b if e == -1 else apply(ops.power, (b, constant(-e))) for b, e in live
                  if e < 0]
        if q != 1:
            bottom.insert(0, constant(q))
        if top:
            if p == -1:
                top[0] = apply(ops.negative, (top[0],))
            elif p != 1:
                top.insert(0, constant(p))
            num = _chain(top)
        else:
            num = constant(p)
        return apply(ops.divide, (num, _chain(bottom))) if bottom else num

    def _build_sum(self, const: Number, terms: dict) -> Expr:
        live = [(m, c) for m, c in terms.values() if c != 0]
        if sum(m.prim is ops.where for m, _ in live) > 1 and self.where_depth < 50:
            const, live = self._merge_wheres(const, live)
        if not live:
            return constant(const)
        live.sort(key=lambda t: (-self._degree(t[0]), sort_key(t[0])))
        result = None
        for mono, c in live:
            if result is None:
                result = self._term(mono, c)
            elif c < 0:
                result = apply(ops.subtract, (result, self._term(mono, -c)))
            else:
                result = apply(ops.add, (result, self._term(mono, c)))
        if const != 0:
            op = ops.subtract if const < 0 else ops.add
            result = apply(op, (result, constant(-const if const < 0 else const)))
        return result

    def _merge_wheres(self, const: Number, live: list) -> tuple[Number, list]:
        """``a*where(c, p, q) + b*where(c, r, s)`` is ``where(c, a*p + b*r, a*q + b*s)``:
        the derivative of ``where`` comes as one term per branch, and this joins them."""
        groups: dict[int, list] = {}
        terms: dict[int, list] = {}
        for mono, c in live:
            if mono.prim is ops.where:
                groups.setdefault(id(mono.args[0]), []).append((mono, c))
            else:
                terms[id(mono)] = [mono, c]
        self.where_depth += 1  # branches may hold wheres to merge: bounded nesting
        for group in groups.values():
            if len(group) == 1:
                merged = [(group[0][0], group[0][1])]
                k: Number = 0
            else:
                branches = [self._branch_sum(group, side) for side in (1, 2)]
                _, k, merged = self._terms(apply(ops.where, (group[0][0].args[0], *branches)))
                merged = [(m, c) for m, c in merged]
            const = _add(const, k)
            for mono, c in merged:
                entry = terms.setdefault(id(mono), [mono, 0])
                entry[1] = _add(entry[1], c)
        self.where_depth -= 1
        return const, [(m, c) for m, c in terms.values() if c != 0]

    def _branch_sum(self, group: list, side: int) -> Expr:
        const: Number = 0
        terms: dict[int, list] = {}
        for mono, c in group:
            _, k, parts = self._terms(mono.args[side])
            const = _add(const, _mul(c, k))
            for m, cm in parts:
                entry = terms.setdefault(id(m), [m, 0])
                entry[1] = _add(entry[1], _mul(c, cm))
        return self._build_sum(const, terms)

    def _term(self, mono: Expr, coef: Number) -> Expr:
        if coef == 1:
            return mono
        _, _, factors = self._factors(mono)
        return self._build_product(coef, dict(factors))

    def _degree(self, mono: Expr) -> float:
        _, _, factors = self._factors(mono)
        return float(sum(e for _, e in factors.values()))


def _chain(nodes: list[Expr]) -> Expr:
    result = nodes[0]
    for n in nodes[1:]:
        result = apply(ops.multiply, (result, n))
    return result


def _int_power(node: Expr) -> bool:
    """``b ** k`` with k an exact integer: part of a product cluster."""
    return node.prim is ops.power and node.args[1].is_number and _is_int(node.args[1].value)


def simplify(expr: Any) -> Expr:
    """The canonical form of ``expr``: numbers folded exactly, like terms and
    powers collected, terms and factors in a fixed order.

    >>> from chainrule.symbolic import parse, simplify
    >>> simplify(parse("x*y + 2*y*x - x*x/x + 1/2 + 1/3"))
    3*x*y - x + 5/6
    >>> simplify(parse("(x + 1)*(x + 1) - 2*(x + 1)**2"))
    -(x + 1)**2
    >>> simplify(parse("1/(x - x)"))
    Traceback (most recent call last):
      ...
    chainrule.symbolic.errors.SymbolicZeroDivisionError: simplify: division by zero in 1/0
    """
    expr = expr_of(expr, "simplify")
    if expr.prim is None:
        return expr
    return _Simplifier([expr]).run(expr)

