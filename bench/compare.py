#!/usr/bin/env python3
"""Runs bmc's Google Benchmarks and the PyTorch references for the same names in one session and
prints bmc/PyTorch ratios (time ratio < 1 means bmc is faster).

Usage: bench/compare.py [--filter REGEX] [--min-time S] [--rounds N]
With --rounds N, bmc and PyTorch run alternately N times and each benchmark's ratio is the median
of the N same-round ratios, with their range: on a shared machine whose speed drifts between
minutes, a round's two sides see the same conditions, and the median drops the rounds that a
neighbour's load hit on one side only. The reference scripts always time all their benchmarks,
in their own order, whatever the filter: PyTorch's speed depends on what ran before it in the
process (its ResNet-20 eval in a fresh process takes 1.7-2x as long as after the training step
the script times first), and the reference stays the faster, warmed-up one.
Reference scripts: bench/torch_*.py, each printing one JSON object {benchmark_name: seconds}.
Debian's python3-torch is used through /usr/bin/python3 (installed by
`BMC_WITH_TORCH=1 scripts/install-deps.sh`).
"""
import argparse
import glob
import json
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TORCH_PYTHON = "/usr/bin/python3"


def run_bmc(bench_filter, min_time):
    cmd = [os.path.join(ROOT, "build", "bmc_bench"), f"--benchmark_min_time={min_time}", "--benchmark_format=json"]
    if bench_filter:
        cmd.append(f"--benchmark_filter={bench_filter}")
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    data = json.loads(out[out.index("{"):])
    unit = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0}
    return {b["name"].replace("/real_time", ""): b["real_time"] * unit[b["time_unit"]] for b in data["benchmarks"]}


def run_torch(bench_filter):
    results = {}
    for script in sorted(glob.glob(os.path.join(ROOT, "bench", "torch_*.py"))):
        env = dict(os.environ, OMP_NUM_THREADS=str(os.cpu_count() or 2))
        proc = subprocess.run([TORCH_PYTHON, script], capture_output=True, text=True, env=env)
        if proc.returncode != 0:
            print(f"compare: {os.path.basename(script)} failed: {proc.stderr.strip()[-300:]}", file=sys.stderr)
            continue
        results.update(json.loads(proc.stdout.strip().splitlines()[-1]))
    if bench_filter:
        results = {k: v for k, v in results.items() if re.search(bench_filter, k)}
    return results


def median(values):
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--filter", default="")
    parser.add_argument("--min-time", default="0.2")
    parser.add_argument("--rounds", type=int, default=1)
    args = parser.parse_args()
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    rounds = []
    for r in range(args.rounds):
        if args.rounds > 1:
            print(f"compare: round {r + 1} of {args.rounds}", file=sys.stderr, flush=True)
        rounds.append((run_bmc(args.filter, args.min_time), run_torch(args.filter)))
    names = sorted(set().union(*(bmc.keys() for bmc, _ in rounds)))
    width = max([len(n) for n in names] + [20])
    spread = args.rounds > 1
    header = f"{'benchmark':<{width}}  {'bmc ms':>10}  {'torch ms':>10}  {'bmc/torch':>9}"
    print(header + ("  range of the rounds" if spread else ""))
    for name in names:
        bmc_ms = median([bmc[name] for bmc, _ in rounds if name in bmc]) * 1e3
        pairs = [(bmc[name], torch[name]) for bmc, torch in rounds if name in bmc and torch.get(name)]
        if not pairs:
            print(f"{name:<{width}}  {bmc_ms:10.3f}  {'-':>10}  {'-':>9}")
            continue
        ratios = [b / t for b, t in pairs]
        torch_ms = median([t for _, t in pairs]) * 1e3
        line = f"{name:<{width}}  {bmc_ms:10.3f}  {torch_ms:10.3f}  {median(ratios):9.3f}"
        if spread:
            line += f"  {min(ratios):.3f}-{max(ratios):.3f}"
        print(line)


if __name__ == "__main__":
    main()
