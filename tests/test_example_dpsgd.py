"""The DP-SGD example: its per-example gradients equal a loop's, and it learns."""

import importlib.util
from pathlib import Path

import numpy as np

import chainrule as cr

PATH = Path(__file__).resolve().parents[1] / "examples" / "dpsgd_digits.py"


def _example():
    spec = importlib.util.spec_from_file_location("example_dpsgd", PATH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_per_example_gradients_equal_a_loop_in_float64():
    example = _example()
    model = cr.nn.Sequential(cr.nn.Linear(64, 32), cr.nn.Tanh(), cr.nn.Linear(32, 10))
    params = {n: p.numpy().astype(np.float64) for n, p in model.named_parameters()}
    train, _ = cr.data.load_digits(layout="flat")
    x, y = (t.numpy() for t in train.tensors)
    assert example.check_against_loop(example.make_loss(model), params,
                                      x[:12].astype(np.float64), y[:12]) < 1e-13


def test_clipping_bounds_each_example():
    example = _example()
    rng = np.random.default_rng(0)
    grads = {"w": rng.standard_normal((5, 3, 2)) * 10, "b": rng.standard_normal((5, 2))}
    out = example.clipped_noisy_gradient(grads, clip=1.0, sigma=0.0, rng=rng)
    norms = np.sqrt((grads["w"].reshape(5, -1) ** 2).sum(1) + (grads["b"] ** 2).sum(1))
    scale = np.minimum(1.0, 1.0 / norms)
    np.testing.assert_allclose(out["w"], np.tensordot(scale, grads["w"], axes=1) / 5)


def test_it_learns(capsys):
    assert _example().main(["--quick"]) > 0.5  # 10 classes: chance is 0.1
    assert "max difference" in capsys.readouterr().out
