"""chainrule.memory.keep_freed_memory: refuses bad limits, and keeps a convolution
step's freed memory (page faults per step counted in a fresh process)."""

from __future__ import annotations

import json
import platform
import subprocess
import sys
import textwrap

import pytest

from chainrule.memory import keep_freed_memory

GLIBC = platform.system() == "Linux" and platform.libc_ver()[0] == "glibc"

_STEPS = textwrap.dedent("""
    import json, resource, sys
    import numpy as np
    import chainrule as cr
    from chainrule.memory import keep_freed_memory
    kept = keep_freed_memory() if sys.argv[1] == "keep" else None
    rng = np.random.default_rng(0)
    x = cr.tensor(rng.standard_normal((32, 1, 28, 28)).astype(np.float32))
    w1 = cr.tensor(rng.standard_normal((8, 1, 3, 3)).astype(np.float32), requires_grad=True)
    w2 = cr.tensor(rng.standard_normal((16, 8, 3, 3)).astype(np.float32), requires_grad=True)

    def step():
        h = cr.relu(cr.conv2d(x, w1, padding=1))
        h = cr.relu(cr.conv2d(h, w2, padding=1))
        (h * h).mean().backward()
        w1.grad = w2.grad = None

    for _ in range(3):
        step()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(10):
        step()
    after = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    print(json.dumps({"kept": kept, "faults": (after - before) / 10}))
""")


def _faults(mode: str) -> dict:
    done = subprocess.run([sys.executable, "-c", _STEPS, mode], capture_output=True,
                          text=True, timeout=300,
                          env={"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1",
                               "PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.skipif(not GLIBC, reason="glibc's mallopt only (elsewhere the call changes nothing)")
def test_freed_memory_is_kept_between_steps():
    default = _faults("default")
    kept = _faults("keep")
    assert kept["kept"] is True
    # megabytes of activations a step: the default hands them back and faults them in
    # again (~1,500 a step here); kept, a step reuses its memory
    assert default["faults"] > 200, default
    assert kept["faults"] < default["faults"] / 10, (kept, default)


@pytest.mark.parametrize("limit", [0, -1, 1.5, "256M", True, 2**31])
def test_a_limit_must_be_a_positive_int(limit):
    with pytest.raises(ValueError, match="keep_freed_memory: limit must be a positive"):
        keep_freed_memory(limit)
