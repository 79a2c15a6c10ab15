"""Data-parallel training over MPI on this machine: steps per second and all-reduce cost.

    python benchmarks/bench_distributed.py [--quick] [--btl tcp|vader] [--ranks 2]

1. Steps per second of the digits MLP and CNN of ``chainrule train`` (global
   batch 32, Adam) in one plain process and under ``mpirun -n 1`` and
   ``-n P`` (GlobalBatch + DistributedDataParallel, as ``--distributed``).
2. The time of one all-reduce (the gradient average of a step) against the
   gradient's size, beside the ring all-reduce cost model of
   docs/distributed.md, 2 (p - 1) alpha + 2 (p - 1) / p * n / B, with the
   latency alpha and bandwidth B measured by a ping-pong between two ranks
   (the fastest of repeated runs: the link's cost without other work).

Needs Open MPI and mpi4py (``make mpi``). Each part runs ``mpirun`` on this
script with ``--worker``; loopback TCP by default (as the tests), or
shared memory with ``--btl vader``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def mpirun(n: int, btl: str) -> list[str]:
    command = [shutil.which("mpirun") or "mpirun", "-n", str(n), "--oversubscribe",
               "--mca", "btl", f"self,{btl}"]
    if btl == "tcp":
        command += ["--mca", "btl_tcp_if_include", "lo"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.insert(1, "--allow-run-as-root")
    return command


def launch(n: int | None, btl: str, args: list[str]) -> dict:
    """Run this script's worker (under mpirun -n n, or alone when n is None); its JSON."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT / "src"),
                                                       os.environ.get("PYTHONPATH", "")]),
               OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1",
               PYTHONWARNINGS="ignore")
    prefix = [] if n is None else mpirun(n, btl)
    done = subprocess.run(prefix + [sys.executable, __file__, "--worker", *args],
                          capture_output=True, text=True, env=env, timeout=900, check=False)
    if done.returncode != 0:
        raise SystemExit(f"worker {args} failed:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


# ----- workers (run under mpirun) -----

def work_train(model_name: str, steps: int, mode: str) -> dict:
    import chainrule as cr
    from chainrule.cli_train import TASKS

    task = TASKS[model_name]
    split = task.data()
    cr.random.seed(0)
    model = task.model()
    net, shard, rank, part = model, None, 0, None
    if mode == "nocomm":  # this rank's rows of each batch, but no communication at all
        import chainrule.distributed as dist

        rank, part = dist.rank(), slice(dist.rank(), None, dist.world_size())
    if mode == "mpi":
        import chainrule.distributed as dist

        dist.init()
        rank = dist.rank()
        shard = dist.GlobalBatch(model)
        net = dist.DistributedDataParallel(model)
    loader = cr.data.DataLoader(split.train, batch_size=32, shuffle=True, seed=0)
    optimizer = cr.optim.Adam(model.parameters(), lr=task.lr)
    F = cr.nn.functional

    def batches():
        while True:
            yield from loader

    source = batches()

    def step() -> None:
        x, y = next(source)
        optimizer.zero_grad()
        if part is not None:
            x, y = x[part], y[part]
        if shard is None:
            loss = F.cross_entropy(net(x), y, label_smoothing=task.label_smoothing)
        else:
            x, y = shard.split(x, y)
            loss = F.cross_entropy(net(x), y, reduction="sum",
                                   label_smoothing=task.label_smoothing) * shard.scale
        loss.backward()
        optimizer.step()

    for _ in range(5):
        step()
    if mode != "plain":
        dist.barrier()
    start = time.perf_counter()
    for _ in range(steps):
        step()
    if mode != "plain":
        dist.barrier()
    seconds = time.perf_counter() - start
    grad_bytes = sum(p.data.nbytes for p in model.parameters())
    return {"rank": rank, "steps_per_s": steps / seconds, "grad_bytes": grad_bytes}


def work_allreduce(sizes: list[int], budget: float) -> dict:
    import numpy as np

    import chainrule.distributed as dist
    from chainrule.distributed.runtime import mpi

    MPI = mpi()
    c = dist.init()
    rank, p = c.Get_rank(), c.Get_size()

    def timed(fn, reps: int, median: bool = False) -> float:
        """Seconds of one call: the fastest of ``reps`` (what the link can do), or their
        median (what a step gets on a busy machine); the slowest rank's figure."""
        times = []
        for _ in range(reps):
            c.Barrier()
            t = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t)
        local = np.array([np.median(times) if median else min(times)])
        c.Allreduce(MPI.IN_PLACE, local, op=MPI.MAX)
        return float(local[0])

    def ping_pong(nbytes: int) -> float:
        buf = np.zeros(max(nbytes, 1), dtype=np.uint8)

        def once() -> None:
            if rank == 0:
                c.Send(buf, dest=1)
                c.Recv(buf, source=1)
            elif rank == 1:
                c.Recv(buf, source=0)
                c.Send(buf, dest=0)
        return timed(once, 30) / 2

    alpha = ping_pong(1)
    big = 16 << 20
    bandwidth = big / max(ping_pong(big) - alpha, 1e-9)
    rows = []
    for n in sizes:
        grads = np.ones(n // 4, dtype=np.float32)
        probe = timed(lambda g=grads: dist.all_reduce([g], op="mean"), 3)
        reps = int(min(200, max(5, budget / max(probe, 1e-6))))
        fastest = timed(lambda g=grads: dist.all_reduce([g], op="mean"), reps)
        median = timed(lambda g=grads: dist.all_reduce([g], op="mean"), reps, median=True)
        model = 2 * (p - 1) * alpha + 2 * (p - 1) / p * n / bandwidth
        rows.append({"bytes": n, "measured_s": fastest, "median_s": median, "model_s": model})
    return {"rank": rank, "ranks": p, "alpha_s": alpha, "bandwidth_Bps": bandwidth,
            "rows": rows}


def worker(argv: list[str]) -> None:
    kind = argv[0]
    if kind == "train":
        result = work_train(argv[1], int(argv[2]), argv[3])
    else:
        result = work_allreduce([int(s) for s in argv[1].split(",")], float(argv[2]))
    if result["rank"] == 0:
        print(json.dumps(result))


# ----- the report -----

def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer steps and sizes")
    parser.add_argument("--btl", choices=["tcp", "vader"], default="tcp",
                        help="MPI transport between the ranks (default: loopback TCP)")
    parser.add_argument("--ranks", type=int, default=2)
    args = parser.parse_args()
    if shutil.which("mpirun") is None:
        raise SystemExit("needs Open MPI's mpirun (make mpi) and mpi4py")
    steps = {"mlp": 60 if args.quick else 200, "cnn": 30 if args.quick else 100}
    print(f"# steps per second, global batch 32, Adam (mpirun --mca btl self,{args.btl}; "
          f"{os.cpu_count()} cores)")
    print(f"{'model':6} {'grad KB':>8} {'1 process':>10} {'mpirun -n 1':>12} "
          f"{f'-n {args.ranks}, no comm':>15} {f'mpirun -n {args.ranks}':>12} {'speed-up':>9}")
    for name, k in steps.items():
        alone = launch(None, args.btl, ["train", name, str(k), "plain"])
        one = launch(1, args.btl, ["train", name, str(k), "mpi"])
        apart = launch(args.ranks, args.btl, ["train", name, str(k), "nocomm"])
        many = launch(args.ranks, args.btl, ["train", name, str(k), "mpi"])
        print(f"{name:6} {alone['grad_bytes'] / 1e3:8.1f} {alone['steps_per_s']:10.1f} "
              f"{one['steps_per_s']:12.1f} {apart['steps_per_s']:15.1f} "
              f"{many['steps_per_s']:12.1f} {many['steps_per_s'] / alone['steps_per_s']:8.2f}x")
    print(f"(no comm: each rank trains on its {32 // args.ranks} rows of every batch with no "
          f"all-reduce, the most {args.ranks} ranks could do here)")
    sizes = [1 << k for k in range(10, 23 if args.quick else 25, 2)]
    sizes += [6186 * 4, 19210 * 4]  # the CNN's and MLP's gradients (float32)
    result = launch(args.ranks, args.btl, ["allreduce", ",".join(map(str, sorted(sizes))),
                                           "0.05" if args.quick else "0.3"])
    print(f"\n# all-reduce (mean, float32) on {result['ranks']} ranks; ping-pong: "
          f"alpha = {result['alpha_s'] * 1e6:.1f} us, B = {result['bandwidth_Bps'] / 1e9:.2f} "
          f"GB/s")
    print(f"{'bytes':>10} {'fastest us':>11} {'median us':>10} {'model us':>9} "
          f"{'fastest/model':>14}")
    for row in result["rows"]:
        print(f"{row['bytes']:10d} {row['measured_s'] * 1e6:11.1f} {row['median_s'] * 1e6:10.1f} "
              f"{row['model_s'] * 1e6:9.1f} {row['measured_s'] / row['model_s']:14.2f}")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        worker(sys.argv[2:])
    else:
        main()
