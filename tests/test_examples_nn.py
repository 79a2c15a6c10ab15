"""Each deep-learning example runs at reduced size (``--quick``) and learns something.

Full-size runs (the accuracies the examples state) are too slow for the test
suite; ``benchmarks/bench_nn.py --train`` times them.
"""

import importlib.util
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


@pytest.fixture(autouse=True)
def one_blas_thread():
    """Small matrices multiply fastest on one BLAS thread; more only contend."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        yield
        return
    with threadpool_limits(limits=1, user_api="blas"):
        yield


def load(name):
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("name,better_than", [
    ("shallow_spiral", 0.6),   # 3 classes: chance is 1/3
    ("mlp_digits", 0.8),       # 10 classes: chance is 1/10
    ("cnn_digits", 0.7),
    ("lstm_digits", 0.5),
])
def test_classifier_example_learns(name, better_than, capsys):
    accuracy = load(name).main(["--quick"])
    assert accuracy > better_than
    assert "test accuracy:" in capsys.readouterr().out


def test_rnn_sine_example_learns(capsys):
    mse = load("rnn_sine").main(["--quick"])
    # predicting the mean of a unit sine gives MSE 0.5
    assert mse < 0.05
    assert "test MSE:" in capsys.readouterr().out


def test_mlp_example_saves_a_loadable_model(tmp_path):
    import chainrule as cr
    from chainrule import nn

    path = tmp_path / "mlp.safetensors"
    load("mlp_digits").main(["--quick", "--save", str(path)])
    model = nn.Sequential(nn.Linear(64, 256), nn.ReLU(), nn.Dropout(0.3), nn.Linear(256, 10))
    cr.load(path, model=model)
    assert sorted(cr.load(path)) == ["0.bias", "0.weight", "3.bias", "3.weight"]
