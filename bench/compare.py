#!/usr/bin/env python3
"""Runs bmc's Google Benchmarks and the PyTorch references for the same names in one session and
prints bmc/PyTorch ratios (time ratio < 1 means bmc is faster).

Usage: bench/compare.py [--filter REGEX] [--min-time S]
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


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--filter", default="")
    parser.add_argument("--min-time", default="0.2")
    args = parser.parse_args()
    bmc = run_bmc(args.filter, args.min_time)
    torch = run_torch(args.filter)
    width = max([len(n) for n in bmc] + [20])
    print(f"{'benchmark':<{width}}  {'bmc ms':>10}  {'torch ms':>10}  {'bmc/torch':>9}")
    for name in sorted(bmc):
        ref = torch.get(name)
        ratio = f"{bmc[name] / ref:9.3f}" if ref else "        -"
        ref_text = f"{ref * 1e3:10.3f}" if ref else "         -"
        print(f"{name:<{width}}  {bmc[name] * 1e3:10.3f}  {ref_text}  {ratio}")


if __name__ == "__main__":
    main()
