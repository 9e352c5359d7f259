# test_properties.py: properties, notify and signals (R21)
#
# Copyright 2026 The Nursery authors
# SPDX-License-Identifier: LGPL-2.1-or-later

import threading

import pytest
from gi.repository import GLib, Nursery

from helpers import my_error, run_until

TS = Nursery.TaskState


def test_construct_properties():
    """R21: name, policy and max-concurrent are construct-friendly
    properties."""
    group = Nursery.Group(name='props', policy=Nursery.Policy.SUPERVISE, max_concurrent=3)
    assert group.props.name == 'props' and group.get_name() == 'props'
    assert group.props.policy == Nursery.Policy.SUPERVISE
    assert group.props.max_concurrent == 3
    assert group.props.context == GLib.MainContext.default()
    assert not group.props.cancelled and not group.props.closed
    with group:
        pass
    assert group.props.closed and group.props.state == Nursery.GroupState.CLOSED


def test_counters_are_notified_after_the_call_that_changed_them():
    """R21: notify comes on the owner context, never from inside the
    call that caused it (here: spawn)."""
    notified = []
    group = Nursery.Group()
    group.connect('notify::n-pending', lambda group, pspec: notified.append(group.props.n_pending))
    group.spawn(lambda task: None)
    assert notified == []
    with group:
        pass
    # A batch notifies each changed property once, with its latest value.
    assert notified and notified[-1] == 0


def test_counters_and_flags_match_the_outcome():
    """R21: n-running, n-finished, n-failed, cancelled and closed are
    notified with their final values."""
    seen = {}

    def record(group, pspec):
        seen[pspec.name] = group.get_property(pspec.name)

    group = Nursery.Group(policy=Nursery.Policy.SUPERVISE)
    for name in ('n-running', 'n-finished', 'n-failed', 'cancelled', 'closed'):
        group.connect('notify::' + name, record)
    group.spawn(lambda task: 'fine')
    group.spawn(lambda task: task.return_error(my_error('bad')))
    with pytest.raises(ExceptionGroup):
        with group:
            pass
    assert seen == {'n-running': 0, 'n-finished': 2, 'n-failed': 1, 'closed': True}


def test_cancelled_is_notified():
    """R21: the cancelled flag is notified once the group is cancelled."""
    seen = []
    group = Nursery.Group()
    group.connect('notify::cancelled', lambda group, pspec: seen.append(group.props.cancelled))
    group.cancel()
    assert seen == []
    with group:
        pass
    assert seen == [True]


def test_task_finished_signal_in_completion_order():
    """R21: task-finished comes once per child, in completion order, after
    the group counted it."""
    finished = []

    def on_finished(group, task):
        finished.append((task.name, task.state, group.get_n_finished()))

    with Nursery.Group() as group:
        group.connect('task-finished', on_finished)
        a, b, c = (group.spawn(lambda task: None, name=n, async_return=True) for n in 'abc')
        run_until(lambda: group.get_n_running() == 3)
        c.return_value(None)
        a.cancel()
        run_until(lambda: group.get_n_finished() == 1)
        b.return_value(None)
        a.return_error_if_cancelled()
    assert finished == [('c', TS.SUCCEEDED, 1), ('b', TS.SUCCEEDED, 2), ('a', TS.CANCELLED, 3)]


def test_task_state_is_notified():
    """R21: a task's state changes are notified on the owner context."""
    states = []
    with Nursery.Group() as group:
        task = group.spawn(lambda task: 'value')
        task.connect('notify::state', lambda task, pspec: states.append(task.state))
    assert states[-1] == TS.SUCCEEDED


def test_signals_of_thread_children_come_on_the_owner_thread():
    """R21/R23: signals and notifies of thread children are dispatched on
    the owner context's thread, never on a worker."""
    threads = set()
    group = Nursery.Group()
    group.connect('task-finished', lambda group, task: threads.add(threading.get_ident()))
    group.connect('notify::n-finished', lambda group, pspec: threads.add(threading.get_ident()))
    for _ in range(4):
        group.spawn_in_thread(lambda task: threading.get_ident())
    with group:
        pass
    assert threads == {threading.get_ident()}
