"""The cost measurements behind ``compare-costs`` and their plots."""

import numpy as np
import pytest

import chainrule as cr
from chainrule.explainer import costs


def exact_gradient(x):
    # f = sum_i sin(x_i) x_(i+1): df/dx_i = cos(x_i) x_(i+1) + sin(x_(i-1))
    return np.cos(x) * np.roll(x, -1) + np.sin(np.roll(x, 1))


def test_cost_function_and_its_gradient():
    x = np.array([0.3, -0.7, 1.1, 0.2])
    f = costs.cost_function(4)
    assert f(x) == pytest.approx(np.sin(0.3) * -0.7 + np.sin(-0.7) * 1.1 + np.sin(1.1) * 0.2
                                 + np.sin(0.2) * 0.3, abs=1e-15)
    np.testing.assert_allclose(cr.grad(f)(x), exact_gradient(x), rtol=0, atol=1e-14)


def test_measure_one_counts_the_work_and_every_method_agrees():
    row = costs.measure_one(5, repeat=1)
    assert (row.n, row.numerical_evaluations, row.forward_sweeps, row.reverse_sweeps) == \
        (5, 10, 5, 1)
    # each partial cos(x_i)*x_(i+1) + sin(x_(i-1)) is a tree of 7 nodes; shared by all n
    # partials, the DAG has 5 per input: x_i, sin(x_i), cos(x_i), the product, the sum
    assert (row.symbolic_tree, row.symbolic_dag) == (35, 25)
    assert row.max_disagreement < 1e-8
    assert min(row.numerical_seconds, row.forward_seconds, row.batched_seconds,
               row.reverse_seconds, row.symbolic_seconds) > 0


def test_table_text_and_sizes():
    table = costs.measure_costs([2, 3], repeat=1)
    text = str(table)
    assert "central evals" in text and "rev sweeps" in text and costs.FUNCTION in text
    assert [r.n for r in table.rows] == [2, 3]
    assert costs.default_sizes(10) == [2, 4, 8, 10]
    assert costs.default_sizes(2) == [2]


@pytest.mark.parametrize("bad", [1, 0, 2.0, True])
def test_bad_sizes(bad):
    with pytest.raises(ValueError, match="must be an integer >= 2"):
        costs.default_sizes(bad)
    with pytest.raises(ValueError, match="must be an integer >= 2"):
        costs.measure_one(bad)


def test_swell_rows_tree_against_dag():
    rows = costs.swell_rows(ks=[1, 4], families=("product", "order"))
    sizes = {(r["family"], r["k"]): (r["tree"], r["dag"]) for r in rows}
    assert sizes[("product", 1)] == (7, 5)  # d(x sin x) = sin x + x cos x
    assert sizes[("product", 4)][0] > 10 * sizes[("product", 4)][1]
    text = costs.swell_text(rows)
    assert "product tree" in text and "order tree" in text


def test_step_curves_central_beats_forward_at_its_best_step():
    curves = costs.step_curves()
    forward, central = curves["forward"], curves["central"]
    assert 1e-10 < forward.best_step < 1e-6 and 1e-7 < central.best_step < 1e-4
    assert central.best_error < 1e-9 < forward.best_error < 1e-6
    assert "best step" in costs.step_text(curves)
