"""Test-wide settings: hypothesis is derandomized so every run is the same."""

import gc
import os
import tempfile

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci", derandomize=True, deadline=None, max_examples=25,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.register_profile("dev", deadline=None, max_examples=50)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

try:  # PyTorch is the oracle; one thread keeps its double backward fast on 2 cores
    import torch

    torch.set_num_threads(1)
except ImportError:  # pragma: no cover - the test extra installs it
    pass

# jit(backend="numba") compiles kernels into a directory of the system's temporary
# folder, never the user's cache (~/.cache/chainrule); kept between sessions, so a
# second run loads the machine code numba cached instead of compiling it again
os.environ.setdefault("CHAINRULE_CACHE_DIR",
                      os.path.join(tempfile.gettempdir(), "chainrule-test-kernels"))


@pytest.fixture(autouse=True)
def _no_hooks_left_behind():
    """A test whose tensors kept a hook (retain_grad on a tensor left in a cycle, a
    docs example's namespace) must not send every later test's backward down the
    general sweep: tests then exercise the paths users get, whatever ran before."""
    yield
    from chainrule import reverse

    if reverse.node_hooks or reverse.leaf_hooks:
        gc.collect()  # the owners are garbage: their weak references clear the tables
