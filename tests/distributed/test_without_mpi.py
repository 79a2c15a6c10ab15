"""What works without MPI: importing, the missing-mpi4py error, bucket plans, the hook."""

import subprocess
import sys

import numpy as np
import pytest

import chainrule as cr
from chainrule import reverse
from chainrule.distributed.collectives import plan_buckets
from tests.distributed import mpi_run


def test_importing_the_package_does_not_import_mpi4py():
    code = ("import sys, chainrule, chainrule.distributed as d, chainrule.data; "
            "assert 'mpi4py' not in sys.modules, 'imported'; print(d.__all__[:3])")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=mpi_run.environment(), timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert "['init', 'is_initialized', 'rank']" in done.stdout


def test_without_mpi4py_the_error_says_what_to_install(monkeypatch):
    import chainrule.distributed as dist

    monkeypatch.setitem(sys.modules, "mpi4py", None)  # an import of it raises ImportError
    with pytest.raises(ImportError, match=r"needs mpi4py and an MPI library .*chainrule\[mpi\]"):
        dist.runtime.mpi()


def test_buckets_keep_one_dtype_respect_the_size_and_skip_empty_arrays():
    arrays = [np.zeros(3), np.zeros(0), np.zeros(5, np.float32), np.zeros(2, np.float32),
              np.zeros(100), np.zeros(1), np.zeros((4, 0))]
    assert plan_buckets(arrays, 64) == [[0], [2, 3], [4], [5]]
    assert plan_buckets(arrays, 1 << 20) == [[0], [2, 3], [4, 5]]
    assert plan_buckets([], 64) == []
    with pytest.raises(ValueError, match="bucket_bytes must be a positive integer"):
        plan_buckets(arrays, 0)


class _Recorder:
    """A sweep observer that records what the backward sweep tells it."""

    def __init__(self):
        self.seen, self.ended = [], None
        self.on_node = lambda node, found: self.seen.append((node.seq, len(found)))

    def begin(self, root, create_graph):
        return True

    def end(self, found):
        self.ended = {id(x): g for x, g in found.values()}
        for key, (x, g) in list(found.items()):
            found[key] = (x, g * 0 + 7.0)  # observers may replace the cotangents


def test_sweep_observers_see_every_node_newest_first_and_may_replace_gradients():
    x = cr.tensor(np.arange(3.0), requires_grad=True)
    w = cr.tensor(2.0, requires_grad=True)
    recorder = _Recorder()
    reverse.sweep_observers.append(recorder)
    try:
        (cr.sin(x * w) * w).sum().backward()
    finally:
        reverse.sweep_observers.remove(recorder)
    seqs = [s for s, _ in recorder.seen]
    assert len(seqs) == 4 and seqs == sorted(seqs, reverse=True)
    np.testing.assert_allclose(recorder.ended[id(w)], (np.sin(2 * x.data)
                                                        + 2 * x.data * np.cos(2 * x.data)).sum())
    np.testing.assert_allclose(x.grad.numpy(), [7.0, 7.0, 7.0])
    assert float(w.grad) == 7.0
    # gone from the list: nothing is told any more
    ((x * w).sum()).backward()
    assert len(recorder.seen) == 4
