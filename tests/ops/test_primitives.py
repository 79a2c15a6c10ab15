"""Every spec: value, gradient, second derivative against PyTorch; gradcheck; JVP rules."""

import importlib
import pkgutil
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import chainrule as cr
from tests.ops import harness


def _all_specs():
    """Every ``SPECS`` list in tests/ops/specs_*.py: adding a file adds its checks."""
    specs = []
    for info in sorted(pkgutil.iter_modules([str(Path(__file__).parent)]), key=lambda m: m.name):
        if info.name.startswith("specs_"):
            specs += importlib.import_module(f"tests.ops.{info.name}").SPECS
    return specs


SPECS = _all_specs()
IDS = [s.name for s in SPECS]
SEEDS = st.integers(0, 2**32 - 1)
CASES = st.integers(0, 15)


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
@given(seed=SEEDS, case=CASES)
def test_value_and_gradient_match_torch(spec, seed, case):
    harness.check_value_and_grad(spec, spec.args(np.random.default_rng(seed), case))


@pytest.mark.parametrize("spec", [s for s in SPECS if s.second_order], ids=lambda s: s.name)
@given(seed=SEEDS, case=CASES)
def test_second_derivative_matches_torch(spec, seed, case):
    harness.check_second_order(spec, spec.args(np.random.default_rng(seed), case))


@pytest.mark.parametrize("spec", [s for s in SPECS if s.numeric], ids=lambda s: s.name)
def test_gradcheck(spec):
    rng = np.random.default_rng(0)
    for case in range(len(spec.shapes)):
        assert cr.gradcheck(spec.fn, *spec.args(rng, case))


@pytest.mark.parametrize("spec", [s for s in SPECS if s.primitives and s.numeric],
                         ids=lambda s: s.name)
def test_jvp_rules(spec):
    rng = np.random.default_rng(4)
    for case in range(len(spec.shapes)):
        harness.check_jvp(spec, spec.args(rng, case))
