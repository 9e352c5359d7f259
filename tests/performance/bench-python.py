#!/usr/bin/python3
# bench-python.py: Python children in a Nursery group against asyncio.TaskGroup
#
# Copyright 2026 The Nursery authors
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Both sides run N trivial children in the same interpreter, alternately,
# several rounds (the order rotates each round); a figure is the median
# over the rounds, the ratio the median of the per-round ratios.
#
# Nursery is driven through plain GObject Introspection (the introspection
# module itself, so a PyGObject override cannot change what is measured):
# group.spawn(name, func, None) per child, whose func calls
# task.return_value(None), then group.wait(None). The asyncio side is
# `async with asyncio.TaskGroup()` around create_task() of a coroutine
# that returns None. The clock starts before the first spawn and stops when
# the join returns; creating the event loop is left out (one per process).
#
# Rows go to stdout and, when NURSERY_BENCH_RESULTS names a file, as JSON
# lines to it (see tests/performance/run-benchmarks).

import asyncio
import gc
import json
import os
import statistics
import sys
import time

import gi

gi.require_version('Nursery', '1.0')
import gi.module  # noqa: E402

Nursery = gi.module.get_introspection_module('Nursery')

TARGET_RATIO = 1.0


def nursery_child(task, data):
    task.return_value(None)


def run_nursery(n):
    """ns per child: spawn n Python children and wait for the group."""
    start = time.perf_counter_ns()
    group = Nursery.Group()
    spawn = group.spawn
    for _ in range(n):
        spawn('child', nursery_child, None)
    group.wait(None)
    elapsed = time.perf_counter_ns() - start
    assert group.get_n_finished() == n
    return elapsed / n


async def trivial():
    return None


async def taskgroup(n):
    start = time.perf_counter_ns()
    async with asyncio.TaskGroup() as tg:
        create_task = tg.create_task
        for _ in range(n):
            create_task(trivial())
    return (time.perf_counter_ns() - start) / n


def run_asyncio(loop, n):
    """ns per child: n coroutines in an asyncio.TaskGroup."""
    return loop.run_until_complete(taskgroup(n))


def measure(sides, n, runs):
    """Per side, its samples in round order, after one warm-up round."""
    for side in sides:
        side(max(n // 10, 100))
    samples = [[] for _ in sides]
    for run in range(runs):
        for k in range(len(sides)):
            i = (run + k) % len(sides)
            # Garbage left by the other side is not this side's cost.
            gc.collect()
            samples[i].append(sides[i](n))
    return samples


def human_count(n):
    if n >= 1_000_000 and n % 1_000_000 == 0:
        return f'{n // 1_000_000}M'
    if n >= 1000 and n % 1000 == 0:
        return f'{n // 1000}k'
    return str(n)


def report(row):
    path = os.environ.get('NURSERY_BENCH_RESULTS')
    if path:
        with open(path, 'a', encoding='utf-8') as f:
            f.write(json.dumps(dict(suite='python', **row), ensure_ascii=False) + '\n')
    print(f"{row['scenario']:<48} {row['nursery']:.0f} ns/child{'':<10} "
          f"{row['baseline']:.0f} ns/child{'':<10} {row['ratio']:.2f}×    "
          f"{row['target']:<18} {row['status']}")


def main():
    quick = '--quick' in sys.argv[1:]
    runs = int(os.environ.get('NURSERY_BENCH_RUNS', '5'))
    n = int(os.environ.get('NURSERY_BENCH_PY_N', '10000' if quick else '100000'))

    loop = asyncio.new_event_loop()
    try:
        nursery, baseline = measure([run_nursery, lambda k: run_asyncio(loop, k)], n, runs)
    finally:
        loop.close()

    ratio = statistics.median(a / b for a, b in zip(nursery, baseline))
    count = human_count(n)
    report({
        'id': f'python-{count}',
        'scenario': f'Python: {count} children vs asyncio.TaskGroup',
        'unit': 'ns/child',
        'nursery': statistics.median(nursery),
        'baseline': statistics.median(baseline),
        'baseline_name': f'asyncio.TaskGroup, Python {sys.version.split()[0]}',
        'ratio': ratio,
        'target': f'≤ {TARGET_RATIO:.2f}×',
        'status': 'PASS' if ratio <= TARGET_RATIO else 'MISS',
        'note': None,
    })
    if ratio > TARGET_RATIO and os.environ.get('NURSERY_BENCH_STRICT'):
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
