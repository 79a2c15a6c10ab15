"""chainrule.distributed under ``mpirun -n 2`` on loopback (skipped without Open MPI)."""

import numpy as np
import pytest

from tests.distributed import mpi_run, mpi_worker

pytestmark = pytest.mark.skipif(mpi_run.unavailable() is not None,
                                reason=f"needs MPI: {mpi_run.unavailable()}")
WORKER = str(mpi_run.WORKER)


def _ok(status, out, err):
    assert status == 0, f"exit status {status}\nstdout:\n{out}\nstderr:\n{err[-3000:]}"


def test_two_ranks_train_as_one_process_with_the_global_batch(tmp_path):
    # 20 Adam steps in float64, with and without overlap; small buckets (600 bytes)
    # make five of them, and the model's NaN-then-masked backward sweep makes an
    # early bucket be sent twice
    status, stdout, stderr, _ = mpi_run.run(2, [WORKER, "train", str(tmp_path / "p"), "600"])
    _ok(status, stdout, stderr)
    with np.errstate(all="ignore"):  # the reference: one process, the global batch, no MPI
        model, _ = mpi_worker.train(0, 2, None)
    want = {k: v.numpy() for k, v in model.state_dict().items()}
    start = mpi_worker.Net().double()  # the weights moved away from any start
    assert not np.allclose(want["body.4.weight"], start.state_dict()["body.4.weight"].numpy())
    for overlap in ("overlap", "after"):
        early = int(stdout.split(f"{overlap}: early=")[1].split()[0])
        if overlap == "overlap":
            assert early >= 20 * 3  # buckets started while the sweep was still running
        else:
            assert early == 0
        got = np.load(tmp_path / f"p-{overlap}.npz")
        assert sorted(got.files) == sorted(want)
        for name in want:
            assert np.isfinite(got[name]).all(), name
            np.testing.assert_allclose(got[name], want[name], rtol=0, atol=1e-6,
                                       err_msg=f"{overlap} {name}")


def test_all_reduce_of_odd_sizes_empty_buckets_and_mixed_dtypes_and_model_checks():
    status, stdout, stderr, _ = mpi_run.run(2, [WORKER, "all_reduce"])
    _ok(status, stdout, stderr)
    assert "rank 0: all_reduce ok" in stdout and "rank 1: all_reduce ok" in stdout
    # mismatched models are refused at start-up, with the same message on every rank
    for r in (0, 1):
        assert (f"rank {r} refused: broadcast_parameters: the models differ across ranks: "
                f"rank 1 has ['0.bias: (2,) float32'") in stdout


def test_a_rank_that_raises_stops_the_run_naming_it():
    status, stdout, stderr, seconds = mpi_run.run(2, [WORKER, "fail"], timeout=30)
    assert status not in (0, -9), stderr  # -9: killed by our timeout, i.e. it hung
    assert seconds < 30
    assert "rank 0 was not stopped" not in stdout
    assert "rank 1 of 2: raised ValueError: a deliberate failure on rank 1" in stderr
    assert "[rank 1] ValueError: a deliberate failure on rank 1" in stderr  # its traceback


def test_a_stuck_rank_is_stopped_by_the_collective_timeout():
    status, stdout, stderr, seconds = mpi_run.run(2, [WORKER, "hang"], timeout=30)
    assert status not in (0, -9), stderr
    assert seconds < 30
    assert "rank 0 of 2: barrier waited more than 2 s for the other ranks" in stderr
    assert "passed the barrier" not in stdout


def test_batch_norm_and_dropout_split_over_ranks_equal_one_process(tmp_path):
    # GlobalBatch: SyncBatchNorm statistics over both ranks (and their backward),
    # dropout masks drawn for the global batch; 20 steps of SGD in float64
    out = tmp_path / "conv.npz"
    status, stdout, stderr, _ = mpi_run.run(2, [WORKER, "train_conv", str(out)])
    _ok(status, stdout, stderr)
    with np.errstate(all="ignore"):
        want = {k: v.numpy() for k, v in mpi_worker.train_conv(0, 1, False).state_dict().items()}
    got = np.load(out)
    assert sorted(got.files) == sorted(want)
    for name in want:
        np.testing.assert_allclose(got[name], want[name], rtol=0, atol=1e-6, err_msg=name)
    assert want["1.num_batches_tracked"] == 20
