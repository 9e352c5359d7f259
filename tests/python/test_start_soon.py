# test_start_soon.py: children without a handle, group.start_soon() (R1, R4,
# R5, R8, R28)
#
# Copyright 2026 The Nursery authors
# SPDX-License-Identifier: LGPL-2.1-or-later

import contextvars

import pytest
from gi.repository import GLib, Nursery

TS = Nursery.TaskState


def test_start_soon_returns_nothing_and_runs_later():
    """R1: never inline, in spawn order with spawn()'s children."""
    order = []
    with Nursery.Group() as group:
        assert group.start_soon(lambda task: order.append('a')) is None
        group.spawn(lambda task: order.append('b'))
        group.start_soon(lambda task, x: order.append(x), 'c')
        assert order == []
    assert order == ['a', 'b', 'c']
    assert group.get_n_succeeded() == 3


def test_start_soon_names_the_child():
    """The name defaults to the function's __qualname__, as for spawn()."""
    names = []

    def hello(task):
        names.append(task.get_name())

    with Nursery.Group() as group:
        group.start_soon(hello)
        group.start_soon(hello, name='explicit')
    assert names == ['test_start_soon_names_the_child.<locals>.hello', 'explicit']


def test_start_soon_failure_raises_at_exit():
    """R8: a child that raises fails the group; the exception is kept."""
    def boom(task):
        raise ValueError('boom')

    with pytest.raises(ExceptionGroup) as info:
        with Nursery.Group() as group:
            group.start_soon(boom)
    assert isinstance(info.value.exceptions[0], ValueError)
    assert group.get_failed_task_names() == ['test_start_soon_failure_raises_at_exit.<locals>.boom']


def test_start_soon_into_closed_group_refuses():
    """R4: a closed group refuses with Nursery.Error.CLOSED."""
    with Nursery.Group() as group:
        pass
    with pytest.raises(GLib.Error) as info:
        group.start_soon(lambda task: None)
    assert info.value.matches(Nursery.error_quark(), Nursery.Error.CLOSED)


def test_start_soon_into_cancelled_group_never_runs():
    """R5: cancelled before its turn, its function never runs."""
    ran = []
    group = Nursery.Group()
    group.cancel()
    group.start_soon(lambda task: ran.append(True))
    with group:
        pass
    assert ran == []
    assert group.get_n_cancelled() == 1


def test_start_soon_copies_the_context():
    """Every Python child runs in a copy of the spawner's contextvars."""
    var = contextvars.ContextVar('var', default='unset')
    seen = []
    var.set('spawner')
    with Nursery.Group() as group:
        group.start_soon(lambda task: seen.append(var.get()))
    assert seen == ['spawner']


def test_start_soon_children_share_a_task_object():
    """R28: children that succeed within their turn, with a task nothing
    else kept, lend it on: a batch of them does not make a task each."""
    seen = set()
    with Nursery.Group() as group:
        for _ in range(200):
            group.start_soon(lambda task: seen.add(hash(task)))
    assert group.get_n_succeeded() == 200
    assert len(seen) < 200


def test_start_soon_task_finished_sees_each_child():
    """R21: task-finished still hands over a task per child."""
    heard = []
    with Nursery.Group() as group:
        group.connect('task-finished', lambda g, task: heard.append((task.get_name(), task.result)))
        group.start_soon(lambda task: 1, name='one')
        group.start_soon(lambda task: 2, name='two')
    assert heard == [('one', 1), ('two', 2)]



def test_start_soon_children_come_out_of_as_completed():
    """R25: as_completed() hands over a task for each child started
    without a handle, with its result, once each."""
    with Nursery.Group() as group:
        for value in range(5):
            group.start_soon(lambda task, v: v * 10, value, name=f'child {value}')
        finished = list(group.as_completed())
    assert [task.name for task in finished] == [f'child {v}' for v in range(5)]
    assert [task.result for task in finished] == [0, 10, 20, 30, 40]
    assert all(task.state == TS.SUCCEEDED for task in finished)
