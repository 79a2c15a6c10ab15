"""Test-wide settings: hypothesis is derandomized so every run is the same."""

import os
import tempfile

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
