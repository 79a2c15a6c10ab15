"""Specs of the arithmetic, elementary and kinked elementwise primitives."""

import numpy as np
import torch
import torch.nn.functional as F

import chainrule as cr
from tests.ops.harness import Spec

UNARY = [((3,),), ((2, 3),), ((),)]
BINARY = [((3,), (3,)), ((2, 3), (3,)), ((2, 1), (1, 3)), ((), (2, 2))]
POS = (0.2, 2.5)
UNIT = (-0.9, 0.9)


def unary(name, fn, torch_fn, domain=(-2.0, 2.0), **kw):
    return Spec(name, fn, torch_fn, UNARY, domain=domain, primitives=(name,), **kw)


def binary(name, fn, torch_fn, domains=((-2.0, 2.0), (-2.0, 2.0)), **kw):
    return Spec(name, fn, torch_fn, BINARY, domains=domains, primitives=(name,), **kw)


SPECS = [
    binary("add", cr.add, torch.add),
    binary("subtract", cr.subtract, torch.subtract),
    binary("multiply", cr.multiply, torch.multiply),
    binary("divide", cr.divide, torch.divide, domains=((-2.0, 2.0), POS)),
    unary("negative", cr.negative, torch.negative),
    binary("power", cr.power, torch.pow, domains=(POS, (-2.0, 2.0))),
    Spec("power_const", lambda x: cr.power(x, 3.0), lambda x: torch.pow(x, 3.0), UNARY),
    Spec("rpow", lambda x: 2.0 ** x, lambda x: 2.0 ** x, UNARY),
    unary("reciprocal", cr.reciprocal, torch.reciprocal, domain=POS),
    unary("square", cr.square, torch.square),
    unary("exp", cr.exp, torch.exp),
    unary("expm1", cr.expm1, torch.expm1),
    unary("log", cr.log, torch.log, domain=POS),
    unary("log1p", cr.log1p, torch.log1p, domain=(-0.8, 2.0)),
    unary("log2", cr.log2, torch.log2, domain=POS),
    unary("log10", cr.log10, torch.log10, domain=POS),
    unary("sqrt", cr.sqrt, torch.sqrt, domain=POS),
    unary("cbrt", cr.cbrt, lambda x: torch.sign(x) * torch.abs(x) ** (1 / 3), domain=POS,
          rtol=1e-9),
    unary("sin", cr.sin, torch.sin),
    unary("cos", cr.cos, torch.cos),
    unary("tan", cr.tan, torch.tan, domain=(-1.2, 1.2)),
    unary("arcsin", cr.arcsin, torch.arcsin, domain=UNIT),
    unary("arccos", cr.arccos, torch.arccos, domain=UNIT),
    unary("arctan", cr.arctan, torch.arctan),
    binary("arctan2", cr.arctan2, torch.arctan2, domains=(POS, POS)),
    unary("sinh", cr.sinh, torch.sinh),
    unary("cosh", cr.cosh, torch.cosh),
    unary("tanh", cr.tanh, torch.tanh),
    unary("arcsinh", cr.arcsinh, torch.arcsinh),
    unary("arctanh", cr.arctanh, torch.arctanh, domain=UNIT),
    unary("sigmoid", cr.sigmoid, torch.sigmoid, domain=(-8.0, 8.0)),
    unary("softplus", cr.softplus, F.softplus, domain=(-8.0, 8.0)),
    unary("erf", cr.erf, torch.erf),
    # kinked primitives, away from their kinks (exact conventions are tested separately)
    unary("relu", cr.relu, torch.relu, domain=(0.1, 2.0)),
    Spec("relu_negative", cr.relu, torch.relu, UNARY, domain=(-2.0, -0.1)),
    unary("abs", cr.abs, torch.abs, domain=(0.1, 2.0)),
    Spec("abs_negative", cr.abs, torch.abs, UNARY, domain=(-2.0, -0.1)),
    binary("maximum", cr.maximum, torch.maximum),
    binary("minimum", cr.minimum, torch.minimum),
    Spec("clip", lambda x: cr.clip(x, -1.0, 1.0), lambda x: torch.clamp(x, -1.0, 1.0), UNARY,
         domain=(-3.0, 3.0), primitives=("clip",)),
    Spec("where", lambda x, y: cr.where(np.asarray(cr.stop_gradient(x)) > 0, x, y),
         lambda x, y: torch.where(x > 0, x, y), BINARY, primitives=("where",)),
    Spec("where_composite", lambda x, y: cr.where(x > 0, x * 2.0, y),
         lambda x, y: torch.where(x > 0, x * 2.0, y), BINARY),
]
