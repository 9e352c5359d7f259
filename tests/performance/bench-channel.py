#!/usr/bin/python3
# bench-channel.py: a NurseryChannel in one context against asyncio.Queue
#
# Copyright 2026 The Nursery authors
# SPDX-License-Identifier: LGPL-2.1-or-later
#
#   bench-channel.py PATH/TO/bench-channel [--quick]
#
# Per item, a producer and a consumer in one event loop, at capacity 16
# and 1024. The asyncio side: `await queue.put(i)` in one coroutine,
# `await queue.get()` in another, on the default asyncio event loop
# (asyncio.Queue(maxsize=capacity)); the clock runs from the start of both
# coroutines until the consumer has every item. The Nursery side is C
# (`bench-channel --one-context CAPACITY`): send_pointer_async() and
# receive_async(), each started again from its own completion, in one
# GMainContext; that program warms up, then prints ns/item.
#
# The two sides alternate, several rounds (the order rotates each round);
# a figure is the median over the rounds, the ratio the median of the
# per-round ratios. Rows go to stdout and, when NURSERY_BENCH_RESULTS names
# a file, as JSON lines to it (see tests/performance/run-benchmarks).

import asyncio
import gc
import json
import os
import statistics
import subprocess
import sys
import time

TARGET_RATIO = 1.0
CAPACITIES = (16, 1024)


async def queue_pipe(n, capacity):
    queue = asyncio.Queue(maxsize=capacity)

    async def producer():
        put = queue.put
        for i in range(n):
            await put(i)

    async def consumer():
        get = queue.get
        for i in range(n):
            if await get() != i:
                raise AssertionError('out of order')

    start = time.perf_counter_ns()
    await asyncio.gather(producer(), consumer())
    return (time.perf_counter_ns() - start) / n


def run_asyncio(n, capacity):
    """ns per item through an asyncio.Queue (a warm-up round first)."""
    asyncio.run(queue_pipe(max(n // 10, 100), capacity))
    gc.collect()
    return asyncio.run(queue_pipe(n, capacity))


def run_nursery(program, n, capacity):
    """ns per item through a NurseryChannel, measured by the C program."""
    out = subprocess.run([program, '--one-context', str(capacity), '--n', str(n)],
                         check=True, capture_output=True, text=True).stdout
    return float(out.split()[-1])


def report(row):
    path = os.environ.get('NURSERY_BENCH_RESULTS')
    if path:
        with open(path, 'a', encoding='utf-8') as f:
            f.write(json.dumps(dict(suite='python', **row), ensure_ascii=False) + '\n')
    print(f"{row['scenario']:<48} {row['nursery']:.0f} ns/item{'':<10} "
          f"{row['baseline']:.0f} ns/item{'':<10} {row['ratio']:.2f}×    "
          f"{row['target']:<18} {row['status']}")


def main():
    program = sys.argv[1]
    quick = '--quick' in sys.argv[2:]
    runs = int(os.environ.get('NURSERY_BENCH_RUNS', '5'))
    n = 20000 if quick else 200000
    missed = False

    for capacity in CAPACITIES:
        nursery, baseline = [], []
        for run in range(runs):
            sides = [lambda: nursery.append(run_nursery(program, n, capacity)),
                     lambda: baseline.append(run_asyncio(n, capacity))]
            for k in range(2):
                sides[(run + k) % 2]()
        ratio = statistics.median(a / b for a, b in zip(nursery, baseline))
        missed |= ratio > TARGET_RATIO
        report({
            'id': f'channel-one-context-{capacity}',
            'scenario': f'channel, one context, capacity {capacity}',
            'unit': 'ns/item',
            'nursery': statistics.median(nursery),
            'baseline': statistics.median(baseline),
            'baseline_name': f'asyncio.Queue({capacity}), Python {sys.version.split()[0]}',
            'ratio': ratio,
            'target': f'≤ {TARGET_RATIO:.2f}×',
            'status': 'PASS' if ratio <= TARGET_RATIO else 'MISS',
            'note': None,
        })
    if missed and os.environ.get('NURSERY_BENCH_STRICT'):
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
