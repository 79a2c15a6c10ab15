"""``mpirun -n 2 chainrule train MODEL --distributed`` against one process."""

import sys

import numpy as np
import pytest

from chainrule.cli import main
from tests.distributed import mpi_run

safetensors = pytest.importorskip("safetensors.numpy")
needs_mpi = pytest.mark.skipif(mpi_run.unavailable() is not None,
                               reason=f"needs MPI: {mpi_run.unavailable()}")


def _lines(text, start):
    return [line for line in text.splitlines() if line.startswith(start)]


@needs_mpi
@pytest.mark.parametrize("model", ["mlp", "cnn", "lstm"])
def test_two_ranks_train_as_one_process(tmp_path, capsys, model):
    options = ["train", model, "--epochs", "1", "--quiet"]
    status, out, err, _ = mpi_run.run(2, ["-m", "chainrule", *options, "--distributed",
                                          "--save", str(tmp_path / "two.safetensors")],
                                      timeout=120)
    assert status == 0, err[-3000:]
    assert main([*options, "--save", str(tmp_path / "one.safetensors")]) == 0
    alone = capsys.readouterr().out
    # rank 0 alone speaks: one header, one result, one "saved" line
    for start in (f"{model}: ", "test accuracy: ", "saved the weights"):
        assert len(_lines(out, start)) == 1, out
    assert _lines(out, f"{model}: ") == _lines(alone, f"{model}: ")
    two = safetensors.load_file(str(tmp_path / "two.safetensors"))
    one = safetensors.load_file(str(tmp_path / "one.safetensors"))
    assert sorted(two) == sorted(one)
    for name in one:
        if model == "cnn" and (name in ("0.bias", "4.bias") or "running_mean" in name):
            # a convolution's bias before batch norm has a true gradient of 0: Adam
            # scales its rounding noise (different sums in a different order) up to
            # steps of size lr, and the running means follow the drifting bias
            continue
        np.testing.assert_allclose(two[name], one[name], rtol=0, atol=2e-6, err_msg=name)
    if model != "cnn":  # float32 rounding aside, the same run: the same printed figures
        assert _lines(out, "test accuracy: ")[0].split(" after")[0] == \
            _lines(alone, "test accuracy: ")[0].split(" after")[0]


@needs_mpi
def test_a_batch_that_cannot_be_split_is_refused_before_training():
    status, out, err, _ = mpi_run.run(2, ["-m", "chainrule", "train", "mlp", "--distributed",
                                          "--batch-size", "1"])
    assert status == 2, err
    assert "every batch must give each of the 2 ranks an example" in err
    assert "test accuracy" not in out


def test_without_mpi4py_distributed_training_says_what_to_install(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "mpi4py", None)
    assert main(["train", "mlp", "--epochs", "1", "--quiet", "--distributed"]) == 2
    err = capsys.readouterr().err
    assert "chainrule train: error: --distributed: chainrule.distributed needs mpi4py" in err
