"""No memory growth over 10,000 training-like iterations.

Each iteration records a graph, sweeps it and drops it. If anything from an
iteration survived (a node, a saved array, a cotangent, a reference cycle
waiting for the collector), retained memory would grow with the iteration
count. The garbage collector is off throughout, so a reference cycle would
count as growth too; ``gc.collect`` is called only to empty the interpreter's
free lists before a measurement (and must find nothing to collect).
"""

import gc
import sys
import tracemalloc

import numpy as np

import chainrule as cr

ITERATIONS = 10_000
WINDOW = 1_000  # traced iterations at the start and at the end
# Bytes a traced window may retain: interpreter and NumPy caches that replace
# entries made before the window was traced show up as some KiB of churn. A
# leaked tensor per iteration is ~200 KiB per window, a leaked graph megabytes;
# smaller leaks are caught by counting memory blocks over the untraced stretch.
BOUND = 64 * 1024


class LinearRegression:
    """y = X w + b fitted by plain gradient descent on the mean squared error."""

    def __init__(self) -> None:
        rng = np.random.default_rng(0)
        self.X = cr.tensor(rng.standard_normal((16, 3)))
        self.y = cr.tensor(self.X.data @ np.array([1.0, -2.0, 0.5]) + 0.3)
        self.w = cr.zeros(3, requires_grad=True)
        self.b = cr.zeros((), requires_grad=True)

    def step(self) -> None:
        loss = cr.mean((self.X @ self.w + self.b - self.y) ** 2)
        loss.backward()
        with cr.no_grad():
            for p in (self.w, self.b):
                p.data = p.data - 0.05 * p.grad.data
                p.grad = None


def _collect() -> int:
    found = gc.collect()  # with the collector off, only a cycle made since the last call
    return found


def _traced_growth(step, n: int) -> tuple[int, int]:
    """Bytes still held after ``n`` steps that were allocated during them."""
    _collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for _ in range(n):
            step()
        cycles = _collect()
        return tracemalloc.get_traced_memory()[0] - before, cycles
    finally:
        tracemalloc.stop()


def test_training_loop_retains_no_memory_over_10000_iterations():
    model = LinearRegression()
    gc.disable()
    try:
        early, cycles_early = _traced_growth(model.step, WINDOW)
        blocks_before = sys.getallocatedblocks()
        for _ in range(ITERATIONS - 2 * WINDOW):  # untraced, so the test stays fast
            model.step()
        cycles_middle = _collect()
        blocks_after = sys.getallocatedblocks()
        late, cycles_late = _traced_growth(model.step, WINDOW)
    finally:
        gc.enable()
    np.testing.assert_allclose(model.w.data, [1.0, -2.0, 0.5], atol=1e-6)  # it did train
    assert cycles_early == cycles_middle == cycles_late == 0, "an iteration made a cycle"
    assert late <= BOUND, f"the last {WINDOW} iterations retained {late} bytes"
    assert late <= max(early, 0) + BOUND, f"growth: early window {early} B, late {late} B"
    # 8,000 untraced iterations: a leak of one object per iteration is 8,000 blocks
    assert blocks_after - blocks_before < 1_000, (
        f"{blocks_after - blocks_before} memory blocks more after "
        f"{ITERATIONS - 2 * WINDOW} iterations")


def test_transform_loop_retains_no_memory():
    model = LinearRegression()
    X, y = model.X.data, model.y.data

    def loss(w, b):
        return cr.mean((X @ w + b - y) ** 2)

    params = [np.zeros(3), np.zeros(())]
    value_and_grad = cr.value_and_grad(loss, argnums=(0, 1))

    def step():
        _, grads = value_and_grad(*params)
        params[:] = [p - 0.05 * g for p, g in zip(params, grads)]

    gc.disable()
    try:
        for _ in range(200):
            step()  # warm up
        growth, cycles = _traced_growth(step, WINDOW)
    finally:
        gc.enable()
    np.testing.assert_allclose(params[0], [1.0, -2.0, 0.5], atol=1e-3)
    assert cycles == 0, "a transform call made a reference cycle"
    assert growth <= BOUND, f"{WINDOW} calls of value_and_grad retained {growth} bytes"
