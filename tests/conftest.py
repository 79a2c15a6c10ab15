"""Test-wide settings: hypothesis is derandomized so every run is the same."""

import os

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
