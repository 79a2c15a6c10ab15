"""Expressions the symbolic tests share: textbook derivatives, one case per
primitive the parser knows, a hypothesis strategy for random expressions,
and the oracles (SymPy, chainrule's reverse mode, central differences)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
import sympy
from hypothesis import strategies as st

import chainrule as cr
from chainrule import symbolic as sym
from chainrule.symbolic.walk import postorder

POS = (0.3, 2.5)
ANY = (-2.0, 2.0)


@dataclass(frozen=True)
class Case:
    text: str
    domain: tuple[float, float] = ANY
    points: tuple[tuple[float, ...], ...] | None = None  # fixed points (kinks nearby)

    @property
    def expr(self) -> sym.Expr:
        return sym.parse(self.text)

    @property
    def variables(self) -> list[str]:
        return sorted(self.expr.free_symbols)

    def sample(self, rng: np.random.Generator, n: int = 3) -> list[tuple[float, ...]]:
        if self.points is not None:
            return list(self.points)
        k = len(self.variables)
        out = []
        while len(out) < n:
            p = tuple(rng.uniform(*self.domain, size=k))
            # away from kinks and ties of the kinked primitives: x == 0, x == y, integers
            if all(abs(v) > 0.05 and abs(v - round(v)) > 0.05 for v in p) and \
                    (k < 2 or abs(p[0] - p[1]) > 0.05):
                out.append(p)
        return out


TEXTBOOK = [
    Case("x**2 - 3*x - 2"), Case("x**3 + 2*x**2 - x + 7"), Case("(x**2 + 1)**5"),
    Case("sqrt(1 + x**2)"), Case("1/x", POS), Case("x**(1/2)", POS), Case("x**(-3/2)", POS),
    Case("exp(2*x)"), Case("exp(-x^2/2)"), Case("x*exp(x)"), Case("x**2*exp(-x)"),
    Case("log(x)", POS), Case("log(x**2 + 1)"), Case("x*log(x) - x", POS),
    Case("log(log(x))", (1.5, 4.0)), Case("sin(x)*cos(x)"), Case("sin(x)**2 + cos(x)**2"),
    Case("tan(x)", (-1.2, 1.2)), Case("sin(3*x + 1)"), Case("cos(x**2)"),
    Case("sin(x)/x", (0.5, 3.0)), Case("exp(sin(x))"), Case("sin(sin(sin(x)))"),
    Case("arctan(x)"), Case("arcsin(x)", (-0.9, 0.9)), Case("arccos(x/2)", (-1.5, 1.5)),
    Case("sinh(x)*cosh(x)"), Case("tanh(x)**2"), Case("1/(1 + exp(-x))"),
    Case("log(1 + exp(x))"), Case("x**x", POS), Case("2**x"), Case("x**sin(x)", POS),
    Case("(x + 1)/(x - 1)", (1.5, 3.0)), Case("(x**2 - 1)/(x**2 + 1)"),
    Case("sqrt(x)*log(x)", POS), Case("exp(x)/x", POS), Case("x/sqrt(1 - x**2)", (-0.9, 0.9)),
    Case("erf(x)"), Case("sigmoid(x)*(1 - sigmoid(x))"), Case("softplus(x)"),
    Case("log(cosh(x))"), Case("cbrt(x)", POS), Case("log2(x) + log10(x)", POS),
    Case("expm1(x)/x", (0.5, 2.0)), Case("log1p(x**2)"), Case("arcsinh(x) + arctanh(x/2)"),
    Case("x*tanh(softplus(x))"), Case("x*sigmoid(x)"), Case("abs(x)**3"), Case("relu(x)**2"),
    Case("maximum(x**2, 2*x)", points=((-1.0,), (0.5,), (1.3,), (2.5,))),
    Case("minimum(sin(x), cos(x))", points=((0.2,), (1.0,), (-1.0,))),
    Case("where(x > 1, x**2, 2*x - 1)", points=((0.3,), (1.7,), (-2.0,))),
    Case("clip(x**3, -1, 1)", points=((0.5,), (-0.7,), (1.5,), (-1.4,))),
    Case("exp(x)*sin(x)*cos(x)"), Case("(sin(x) + cos(x))**3"), Case("1/(x**2 + 1)**2"),
    Case("sqrt(x + sqrt(x))", POS), Case("x**4 - 4*x**3 + 6*x**2 - 4*x + 1"),
    Case("x^2*y + y^3"), Case("sin(x*y)"), Case("exp(x - y)"), Case("log(x**2 + y**2)"),
    Case("x/y", POS), Case("arctan2(y, x)", POS), Case("sqrt(x**2 + y**2)"),
    Case("x*exp(-x**2 - y**2)"), Case("maximum(x, y)*minimum(x, y)"), Case("(x + y)**3"),
    Case("x**y", POS), Case("sin(x)**cos(y)", POS), Case("x*y/(x + y)", POS),
]

# one case per primitive the parser knows (a test checks that none is missing)
PRIMITIVE_CASES = {
    "add": Case("x + y"), "subtract": Case("x - y"), "multiply": Case("x*y"),
    "divide": Case("x/y", POS), "negative": Case("-x"), "power": Case("power(x, y)", POS),
    "reciprocal": Case("reciprocal(x)", POS), "square": Case("square(x)"),
    "exp": Case("exp(x)"), "expm1": Case("expm1(x)"), "log": Case("log(x)", POS),
    "log1p": Case("log1p(x)", (-0.8, 2.0)), "log2": Case("log2(x)", POS),
    "log10": Case("log10(x)", POS), "sqrt": Case("sqrt(x)", POS), "cbrt": Case("cbrt(x)", POS),
    "sin": Case("sin(x)"), "cos": Case("cos(x)"), "tan": Case("tan(x)", (-1.2, 1.2)),
    "arcsin": Case("arcsin(x)", (-0.9, 0.9)), "arccos": Case("arccos(x)", (-0.9, 0.9)),
    "arctan": Case("arctan(x)"), "arctan2": Case("arctan2(y, x)", POS),
    "sinh": Case("sinh(x)"), "cosh": Case("cosh(x)"), "tanh": Case("tanh(x)"),
    "arcsinh": Case("arcsinh(x)"), "arctanh": Case("arctanh(x)", (-0.9, 0.9)),
    "sigmoid": Case("sigmoid(x)", (-8.0, 8.0)), "softplus": Case("softplus(x)", (-8.0, 8.0)),
    "erf": Case("erf(x)"), "where": Case("where(x > y, x**2, sin(y))"),
    "relu": Case("relu(x)"), "abs": Case("abs(x)"), "sign": Case("sign(x)*x**2"),
    "maximum": Case("maximum(x, y)"), "minimum": Case("minimum(x, y)"),
    "clip": Case("clip(x, -1, 1) + clip(x, y, 2)", (-3.0, 3.0)),
    "floor": Case("floor(x)*x"), "ceil": Case("ceil(x)*x"), "round": Case("round(x)*x"),
    "equal": Case("where(x == y, 1, x*y)"), "not_equal": Case("where(x != y, x*y, 1)"),
    "less": Case("where(x < y, x, y**2)"), "less_equal": Case("where(x <= y, x, y**2)"),
    "greater": Case("where(x > y, x, y**2)"), "greater_equal": Case("where(x >= y, x, y**2)"),
    "logical_and": Case("where((x > 0) & (y > 0), x*y, x)"),
    "logical_or": Case("where((x > 0) | (y > 0), x*y, x)"),
    "logical_not": Case("where(logical_not(x - y), x, y**2)"),
    "isfinite": Case("where(isfinite(x), x**2, 0)"), "isnan": Case("where(isnan(x), 0, x**3)"),
}

ALL_CASES = TEXTBOOK + list(PRIMITIVE_CASES.values())


# ----- oracles -----

def sympy_value(expr: sympy.Expr, names: list[str], point: tuple[float, ...]) -> float:
    """SymPy's value of ``expr`` at ``point``; derivatives of step functions are 0
    away from their jumps, which is where the points are."""
    expr = expr.replace(lambda e: isinstance(e, sympy.Derivative | sympy.DiracDelta),
                        lambda e: sympy.Integer(0))
    # numpy's round (half to even) has no SymPy twin; away from halves it is floor(x + 1/2)
    expr = expr.replace(sympy.Function("round"), lambda a: sympy.floor(a + sympy.Rational(1, 2)))
    subs = {sympy.Symbol(n, real=True): sympy.Float(v, 30) for n, v in zip(names, point)}
    return float(sympy.N(expr.subs(subs), 20))


def run_with_ops(expr: sym.Expr, values: dict) -> object:
    """Evaluate ``expr`` by calling each primitive: on tensors this records a graph,
    so chainrule's reverse mode can differentiate it independently of diff."""
    done: dict[int, object] = {}
    for node in postorder([expr]):
        if node.is_symbol:
            done[id(node)] = values[node.name]
        elif node.is_number:
            done[id(node)] = float(node.value)
        else:
            done[id(node)] = node.prim(*[done[id(a)] for a in node.args])
    return done[id(expr)]


def central_difference(f, point: tuple[float, ...], i: int, h: float = 1e-6) -> float:
    up = list(point)
    down = list(point)
    up[i] += h
    down[i] -= h
    return (f(*up) - f(*down)) / (2 * h)


def assert_close(actual: float, expected: float, what: str, rtol: float = 1e-8,
                 atol: float = 1e-9) -> None:
    assert math.isfinite(actual) == math.isfinite(expected), f"{what}: {actual} vs {expected}"
    assert abs(actual - expected) <= atol + rtol * abs(expected), \
        f"{what}: {actual!r} != {expected!r}"


# ----- random expressions (bounded size, finite on [0.5, 1.5]^2) -----

def _safe_unary():
    # each maps any finite real to a finite real, with derivatives finite too
    return [
        cr.sin, cr.cos, cr.tanh, cr.arctan, cr.sigmoid, cr.softplus, cr.erf, cr.negative,
        lambda a: cr.exp(cr.tanh(a)), lambda a: cr.log(1 + a * a), lambda a: cr.sqrt(2 + a * a),
        lambda a: cr.arcsin(cr.tanh(a) / 2), lambda a: cr.arctanh(cr.tanh(a) / 2),
        lambda a: cr.log1p(a * a), lambda a: cr.cbrt(2 + cr.sin(a)), lambda a: a ** 2,
        lambda a: a ** 3, lambda a: cr.sinh(cr.tanh(a)), lambda a: cr.expm1(cr.sin(a)),
    ]


def _safe_binary():
    return [
        lambda a, b: a + b, lambda a, b: a - b, lambda a, b: a * b,
        lambda a, b: a / (2 + cr.sin(b)), lambda a, b: (1 + a * a) ** cr.sin(b),
        lambda a, b: cr.arctan2(a, 1 + b * b), lambda a, b: cr.maximum(a, b),
        lambda a, b: cr.minimum(a, b), lambda a, b: a * Fraction(1, 3) + b,
    ]


_LEAVES = st.sampled_from([sym.symbol("x"), sym.symbol("y"), sym.constant(2),
                           sym.constant(Fraction(1, 2)), sym.constant(0.75)])


def _extend(children):
    unary = st.tuples(st.sampled_from(_safe_unary()), children).map(lambda t: t[0](t[1]))
    binary = st.tuples(st.sampled_from(_safe_binary()), children, children).map(
        lambda t: t[0](t[1], t[2]))
    return unary | binary


expressions = st.recursive(_LEAVES, _extend, max_leaves=6).filter(
    lambda e: sym.tree_size(e) <= 40)
