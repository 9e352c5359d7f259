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
# A third side, for information, shows the same children in the same
# Gtk.ListView through what a GTK developer writes without list_tasks():
# a Gio.ListStore filled after the spawns and emptied from task-finished,
# one removal per child. Most of what the list costs is GTK's: a removal
# at the head of the list moves every visible row, which GTK binds and
# lays out again (docs/performance.md has the figures).
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
    from gi.repository import Gio, GLib, Gtk, Nursery
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


def show_list(window, model):
    factory = Gtk.BuilderListItemFactory.new_from_bytes(None, GLib.Bytes.new(ROW))
    view = Gtk.ListView(model=Gtk.NoSelection(model=model), factory=factory)
    window.set_child(Gtk.ScrolledWindow(child=view))


def remove_finished(store, group, task):
    found, position = store.find(task)
    assert found
    store.remove(position)


def run_group(window, n, side):
    """Seconds for @n thread children, shown as @side says: 'list'
    (list_tasks()), 'store' (a Gio.ListStore kept by hand) or 'none'."""
    context = GLib.MainContext.default()
    group = Nursery.Group(max_concurrent=4)
    store = None
    if side == 'list':
        show_list(window, group.list_tasks())
    elif side == 'store':
        store = Gio.ListStore(item_type=Nursery.Task)
        show_list(window, store)
        group.connect('task-finished', lambda group, task: remove_finished(store, group, task))
    else:
        window.set_child(Gtk.Label(label='working'))
    start = time.perf_counter()
    spawned = []
    for i in range(n):
        task = group.spawn_in_thread(hash_block, name='file %d' % i)
        if store is not None:
            spawned.append(task)
    if store is not None:
        # One items-changed for all of them, as list_tasks() does.
        store.splice(0, 0, spawned)
        spawned.clear()
    closed = []
    group.wait_async(None, lambda group, result: closed.append(group.wait_finish(result)))
    while not closed:
        context.iteration(True)
    elapsed = time.perf_counter() - start
    assert group.props.n_finished == n and group.props.n_failed == 0
    assert store is None or store.get_n_items() == 0
    window.set_child(None)
    return elapsed


def report(row):
    path = os.environ.get('NURSERY_BENCH_RESULTS')
    if path:
        with open(path, 'a', encoding='utf-8') as f:
            f.write(json.dumps(dict(suite='gtk', **row), ensure_ascii=False) + '\n')
    print(f"{row['scenario']:<56} {row['nursery']:.2f} s{'':<6} {row['baseline']:.2f} s{'':<6} "
          f"{row['ratio']:.2f}×    {row['target'] or '–':<8} {row['status']}")


def main():
    quick = '--quick' in sys.argv[1:]
    runs = int(os.environ.get('NURSERY_BENCH_RUNS', '3' if quick else '5'))
    n = int(os.environ.get('NURSERY_BENCH_LIST_N', '900' if quick else '9000'))
    if not Gtk.init_check():
        print('skipped: no display (run under xvfb-run)')
        return 77

    window = Gtk.Window(title='list_tasks benchmark', default_width=400, default_height=600)
    window.present()
    sides = ['list', 'none', 'store']
    for side in sides:
        run_group(window, n, side)      # warm-up, also maps the window
    samples = {side: [] for side in sides}
    for r in range(runs):
        for k in range(len(sides)):
            side = sides[(r + k) % len(sides)]
            gc.collect()
            samples[side].append(run_group(window, n, side))
    window.destroy()

    def row(id_suffix, scenario, baseline, baseline_name, target):
        """The list side against @baseline, reported; returns the ratio."""
        ratio = statistics.median(a / b for a, b in zip(samples['list'], samples[baseline]))
        status = 'info' if target is None else 'PASS' if ratio <= target else 'MISS'
        report({
            'id': f'list-view-{count}{id_suffix}',
            'scenario': scenario,
            'unit': 's/run',
            'nursery': statistics.median(samples['list']),
            'baseline': statistics.median(samples[baseline]),
            'baseline_name': baseline_name,
            'ratio': ratio,
            'target': None if target is None else f'≤ {target:.1f}×',
            'status': status,
            'note': None,
        })
        return ratio

    count = f'{n // 1000}k' if n % 1000 == 0 else str(n)
    ratio = row('', f'list_tasks in a Gtk.ListView: {count} thread children, max 4',
                'none', 'the same run, same window, no list', TARGET_RATIO)
    row('-store', f'list_tasks vs a Gio.ListStore kept from task-finished, {count}',
        'store', 'the same ListView over a Gio.ListStore, one removal per child', None)
    if ratio > TARGET_RATIO and os.environ.get('NURSERY_BENCH_STRICT'):
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
