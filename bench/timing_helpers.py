"""Shared timing helper for the bench/torch_*.py references: warm up, then repeat for at least
min_time seconds and return seconds per call (wall clock, as the Google Benchmarks use)."""
import time


def timeit(fn, min_time=0.5, warmup=1):
    for _ in range(warmup):
        fn()
    n, start = 0, time.perf_counter()
    while time.perf_counter() - start < min_time:
        fn()
        n += 1
    return (time.perf_counter() - start) / n
