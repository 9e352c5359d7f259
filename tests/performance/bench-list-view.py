#!/usr/bin/python3
# bench-list-view.py: list_tasks() in a Gtk.ListView costs little (R27, docs/rules.md)
#
# Copyright 2026 The Nursery authors
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The scenario of a new user's GTK 4 directory hasher: N thread children
# (each hashes 64 KiB) under max-concurrent 4, in a group whose live task
# list is shown in a Gtk.ListView of a mapped window, against the same run
# in the same window without the list. Both run in the same process under
# a private X server, alternately, several rounds; the figure is the
# median time per run, the ratio the median of the per-round ratios.
# Target: ≤ 1.5×. The clock starts before the first spawn and stops when
# the group has closed.
#
# Run through xvfb-run (see meson.build); without GTK 4 for Python or
# without a display it exits 77 (skipped). Rows go to stdout and, when
# NURSERY_BENCH_RESULTS names a file, as JSON lines to it (see
# tests/performance/run-benchmarks).

import gc
import hashlib
import json
import os
import statistics
import sys
import time

import gi

try:
    gi.require_version('Gtk', '4.0')
    gi.require_version('Nursery', '1.0')
    from gi.repository import GLib, Gtk, Nursery
except (ImportError, ValueError) as error:
    print('skipped: no GTK 4 for Python (%s)' % error)
    sys.exit(77)

TARGET_RATIO = 1.5
BLOCK = os.urandom(1024 * 1024)


def hash_block(task):
    return hashlib.sha256(BLOCK).hexdigest()


# The rows are bound in GTK itself (a GtkBuilder template with an
# expression), as a GTK 4 application would: a Python bind callback per
# row would measure the GIL, not the list.
ROW = b'''<?xml version="1.0" encoding="UTF-8"?>
<interface>
  <template class="GtkListItem">
    <property name="child">
      <object class="GtkLabel">
        <property name="xalign">0</property>
        <binding name="label">
          <lookup name="name" type="NurseryTask">
            <lookup name="item">GtkListItem</lookup>
          </lookup>
        </binding>
      </object>
    </property>
  </template>
</interface>
'''


def run_group(window, n, with_list):
    """Seconds for @n thread children, with or without the list shown."""
    context = GLib.MainContext.default()
    group = Nursery.Group(max_concurrent=4)
    if with_list:
        factory = Gtk.BuilderListItemFactory.new_from_bytes(None, GLib.Bytes.new(ROW))
        view = Gtk.ListView(model=Gtk.NoSelection(model=group.list_tasks()), factory=factory)
        window.set_child(Gtk.ScrolledWindow(child=view))
    else:
        window.set_child(Gtk.Label(label='working'))
    start = time.perf_counter()
    for i in range(n):
        group.spawn_in_thread(hash_block, name='file %d' % i)
    closed = []
    group.wait_async(None, lambda group, result: closed.append(group.wait_finish(result)))
    while not closed:
        context.iteration(True)
    elapsed = time.perf_counter() - start
    assert group.props.n_finished == n and group.props.n_failed == 0
    window.set_child(None)
    return elapsed


def report(row):
    path = os.environ.get('NURSERY_BENCH_RESULTS')
    if path:
        with open(path, 'a', encoding='utf-8') as f:
            f.write(json.dumps(dict(suite='gtk', **row), ensure_ascii=False) + '\n')
    print(f"{row['scenario']:<56} {row['nursery']:.2f} s{'':<6} {row['baseline']:.2f} s{'':<6} "
          f"{row['ratio']:.2f}×    {row['target']:<8} {row['status']}")


def main():
    quick = '--quick' in sys.argv[1:]
    runs = int(os.environ.get('NURSERY_BENCH_RUNS', '3' if quick else '5'))
    n = int(os.environ.get('NURSERY_BENCH_LIST_N', '900' if quick else '9000'))
    if not Gtk.init_check():
        print('skipped: no display (run under xvfb-run)')
        return 77

    window = Gtk.Window(title='list_tasks benchmark', default_width=400, default_height=600)
    window.present()
    sides = [lambda: run_group(window, n, True), lambda: run_group(window, n, False)]
    for side in sides:
        side()      # warm-up, also maps the window
    samples = [[], []]
    for r in range(runs):
        for k in range(2):
            i = (r + k) % 2
            gc.collect()
            samples[i].append(sides[i]())
    window.destroy()

    with_list, without = samples
    ratio = statistics.median(a / b for a, b in zip(with_list, without))
    count = f'{n // 1000}k' if n % 1000 == 0 else str(n)
    report({
        'id': f'list-view-{count}',
        'scenario': f'list_tasks in a Gtk.ListView: {count} thread children, max 4',
        'unit': 's/run',
        'nursery': statistics.median(with_list),
        'baseline': statistics.median(without),
        'baseline_name': 'the same run, same window, no list',
        'ratio': ratio,
        'target': f'≤ {TARGET_RATIO:.1f}×',
        'status': 'PASS' if ratio <= TARGET_RATIO else 'MISS',
        'note': None,
    })
    if ratio > TARGET_RATIO and os.environ.get('NURSERY_BENCH_STRICT'):
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
