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
# The override (gi.overrides.Nursery) is measured as users write it, in
# the same rounds: `with Nursery.Group() as g: g.spawn(f)` with
# `def f(task): return None`, against asyncio.TaskGroup and against the
# plain introspection above; and `async with Nursery.Group() as g:
# g.spawn(f)` in a coroutine on python3-gbulb's GLib event loop, against
# asyncio.TaskGroup on asyncio's own loop (the strongest baseline). Coroutine
# children (`g.spawn(async_f)`) are compared with asyncio.TaskGroup on the
# same GLib loop, since both then pay for the GLib-backed loop.
#
# Rows go to stdout and, when NURSERY_BENCH_RESULTS names a file, as JSON
# lines to it (see tests/performance/run-benchmarks).
#
# Instruction counts, repeatable on a busy machine:
#   valgrind --tool=callgrind --callgrind-out-file=/dev/null \
#       /usr/bin/python3 bench-python.py --one override 10000   (and 0)

import asyncio
import gc
import json
import os
import statistics
import subprocess
import sys
import time

import gi

gi.require_version('Nursery', '1.0')
import gi.module  # noqa: E402

Nursery = gi.module.get_introspection_module('Nursery')


def _find_override():
    """The uninstalled override sits beside the uninstalled typelib
    (GI_TYPELIB_PATH, set by the benchmark's environment)."""
    for entry in os.environ.get('GI_TYPELIB_PATH', '').split(os.pathsep):
        path = os.path.join(entry, 'overrides', 'overrides-path')
        if os.path.isfile(os.path.join(path, 'gi', 'overrides', 'Nursery.py')):
            if path not in sys.path:
                sys.path.insert(0, path)
            gi.overrides.__path__.insert(0, os.path.join(path, 'gi', 'overrides'))
            return


import gi.overrides  # noqa: E402

_find_override()
from gi.repository import Nursery as NurseryOverride  # noqa: E402

TARGET_RATIO = 1.0
OVERRIDE_VS_TASKGROUP = 0.8
OVERRIDE_VS_INTROSPECTION = 1.1
COROUTINES_VS_TASKGROUP = 1.0
SMALL_N = 10000


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


def plain_child(task):
    return None


def run_override(n, method='spawn'):
    """ns per child: the override's `with` form, each child added with
    group.spawn() (a handle each) or group.start_soon() (none, trio's and
    anyio's form)."""
    start = time.perf_counter_ns()
    with NurseryOverride.Group() as group:
        add = getattr(group, method)
        for _ in range(n):
            add(plain_child)
    elapsed = time.perf_counter_ns() - start
    assert group.get_n_finished() == n
    return elapsed / n


def run_override_soon(n):
    return run_override(n, 'start_soon')


async def override_async(n, child):
    start = time.perf_counter_ns()
    async with NurseryOverride.Group() as group:
        spawn = group.spawn
        for _ in range(n):
            spawn(child)
    elapsed = time.perf_counter_ns() - start
    assert group.get_n_finished() == n
    return elapsed / n


async def coroutine_child(task):
    return None


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


def row(row_id, scenario, nursery, baseline, baseline_name, target):
    """Reports one row: medians, and the median of the per-round ratios."""
    ratio = statistics.median(a / b for a, b in zip(nursery, baseline))
    report({
        'id': row_id,
        'scenario': scenario,
        'unit': 'ns/child',
        'nursery': statistics.median(nursery),
        'baseline': statistics.median(baseline),
        'baseline_name': baseline_name,
        'ratio': ratio,
        'target': f'≤ {target:.2f}×',
        'status': 'PASS' if ratio <= target else 'MISS',
        'note': None,
    })
    return ratio <= target


def synchronous_sides(loop):
    """The sides measured at every count: plain introspection, the
    override's `with` form with spawn() and start_soon(), and
    asyncio.TaskGroup on @loop."""
    return {
        'introspection': run_nursery,
        'override': run_override,
        'override-soon': run_override_soon,
        'taskgroup': lambda k: run_asyncio(loop, k),
    }


def measure_small_count(runs):
    """The samples of the SMALL_N rounds, measured in a process of their
    own: in this one, after rounds of 100k pending children, glibc's heap
    stays fragmented and every allocation of both Nursery sides costs more
    for the rest of the process (about +20 % per child at 10k, undone by
    malloc_trim()). Each count measures its own rounds, not the other's."""
    env = dict(os.environ, NURSERY_BENCH_RUNS=str(runs))
    out = subprocess.run([sys.executable, __file__, '--samples', str(SMALL_N)], env=env,
                         check=True, stdout=subprocess.PIPE, text=True).stdout
    return json.loads(out)


def run_samples(n, runs):
    """--samples N: the synchronous sides' samples at N, as JSON on stdout."""
    loop = asyncio.new_event_loop()
    try:
        sides = synchronous_sides(loop)
        json.dump(dict(zip(sides, measure(list(sides.values()), n, runs))), sys.stdout)
    finally:
        loop.close()
    return 0


def measure_counts(n, runs):
    """Every side in the same rounds, so that the ratios are paired."""
    import gbulb
    loop = asyncio.new_event_loop()
    glib_loop = gbulb.GLibEventLoopPolicy().new_event_loop()
    sides = synchronous_sides(loop)
    sides['override-async'] = lambda k: glib_loop.run_until_complete(
        override_async(k, plain_child))
    try:
        # The override's targets hold at 10k as well as at 100k.
        small = measure_small_count(runs) if n > SMALL_N else None
        samples = dict(zip(sides, measure(list(sides.values()), n, runs)))
        # Coroutines are ten times dearer on a GLib-backed loop: fewer.
        n_coro = max(n // 10, 100)
        coro = measure([lambda k: glib_loop.run_until_complete(override_async(k, coroutine_child)),
                        lambda k: run_asyncio(glib_loop, k)], n_coro, runs)
    finally:
        loop.close()
    return samples, small, coro, n_coro


def run_one(side, n):
    """--one SIDE N: one warm-up round and one run of one side, nothing
    else, for an instruction count under callgrind (run it with N and with
    0; the difference over N is the cost per child)."""
    sides = {
        'introspection': run_nursery,
        'override': run_override,
        'override-soon': run_override_soon,
        'taskgroup': lambda k: run_asyncio(asyncio.new_event_loop(), k),
    }
    sides[side](100)
    if n:
        sides[side](n)
    return 0


def main():
    if sys.argv[1:2] == ['--one']:
        return run_one(sys.argv[2], int(sys.argv[3]))
    quick = '--quick' in sys.argv[1:]
    runs = int(os.environ.get('NURSERY_BENCH_RUNS', '5'))
    if sys.argv[1:2] == ['--samples']:
        return run_samples(int(sys.argv[2]), runs)
    n = int(os.environ.get('NURSERY_BENCH_PY_N', '10000' if quick else '100000'))

    samples, small, coro, n_coro = measure_counts(n, runs)
    count = human_count(n)
    python = f'Python {sys.version.split()[0]}'
    taskgroup = f'asyncio.TaskGroup, {python}'
    ok = [
        row(f'python-{count}', f'Python: {count} children vs asyncio.TaskGroup',
            samples['introspection'], samples['taskgroup'], taskgroup, TARGET_RATIO),
        row(f'python-override-{count}', f'Python override, with: {count} vs TaskGroup',
            samples['override'], samples['taskgroup'], taskgroup, OVERRIDE_VS_TASKGROUP),
        row(f'python-override-gi-{count}', f'Python override, with: {count} vs plain GI',
            samples['override'], samples['introspection'],
            'plain introspection: group.spawn(name, func, None)', OVERRIDE_VS_INTROSPECTION),
        row(f'python-override-soon-{count}', f'Python override, start_soon: {count} vs TaskGroup',
            samples['override-soon'], samples['taskgroup'], taskgroup, OVERRIDE_VS_TASKGROUP),
        row(f'python-async-{count}', f'Python override, async with: {count} vs TaskGroup',
            samples['override-async'], samples['taskgroup'], taskgroup, OVERRIDE_VS_TASKGROUP),
        row(f'python-coroutines-{human_count(n_coro)}',
            f'Python coroutine children: {human_count(n_coro)} vs TaskGroup, GLib loop',
            coro[0], coro[1], f'asyncio.TaskGroup on gbulb, {python}', COROUTINES_VS_TASKGROUP),
    ]
    if small is not None:
        small_count = human_count(SMALL_N)
        ok += [
            row(f'python-override-{small_count}', f'Python override, with: {small_count} vs TaskGroup',
                small['override'], small['taskgroup'], taskgroup, OVERRIDE_VS_TASKGROUP),
            row(f'python-override-gi-{small_count}', f'Python override, with: {small_count} vs plain GI',
                small['override'], small['introspection'],
                'plain introspection: group.spawn(name, func, None)', OVERRIDE_VS_INTROSPECTION),
            row(f'python-override-soon-{small_count}',
                f'Python override, start_soon: {small_count} vs TaskGroup',
                small['override-soon'], small['taskgroup'], taskgroup, OVERRIDE_VS_TASKGROUP),
        ]
    if not all(ok) and os.environ.get('NURSERY_BENCH_STRICT'):
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
