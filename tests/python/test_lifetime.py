# test_lifetime.py: nothing leaks, nothing outlives its group (R4,
# R5, R20)
#
# Copyright 2026 The Nursery authors
# SPDX-License-Identifier: LGPL-2.1-or-later

import weakref

import pytest
from gi.repository import GLib, Nursery

from helpers import Finalized, collect, my_error, run_until, until_cancelled

TS = Nursery.TaskState


class Body:
    """A callable child body that can be watched with a weakref."""

    def __call__(self, task, payload):
        return len(payload.items)


class Payload:
    def __init__(self):
        self.items = [1, 2, 3]


class Boom(Exception):
    """Unlike ValueError, a subclass can be watched with a weakref."""


def test_callable_and_args_released_when_children_finish():
    """R20: a finished child drops its callable and arguments, even while
    its task handle is kept."""
    body, payload, thread_payload = Body(), Payload(), Payload()
    refs = [weakref.ref(o) for o in (body, payload, thread_payload)]
    with Nursery.Group() as group:
        tasks = [group.spawn(body, payload), group.spawn_in_thread(body, thread_payload)]
    del body, payload, thread_payload
    collect()
    assert [ref() for ref in refs] == [None, None, None]
    assert [task.result for task in tasks] == [3, 3]


def test_failing_child_releases_everything_once_dropped():
    """R20: the exception a child raised keeps its traceback as long as the
    task lives, and nothing longer."""
    payload = Payload()

    def body(task, payload):
        raise Boom(len(payload.items))

    refs = [weakref.ref(payload)]
    with pytest.raises(ExceptionGroup) as info:
        with Nursery.Group() as group:
            task = group.spawn(body, payload)
    refs.append(weakref.ref(task.exception))
    finalized = [Finalized(group), Finalized(task)]
    del payload, task, group, info
    collect()
    assert [ref() for ref in refs] == [None, None]
    assert all(finalized)


class NoArgBody:
    """A child body that takes no argument (kept without a tuple)."""

    def __call__(self, task):
        return 1


def bodies(with_payload):
    """A body and what it is called with, and weakrefs to each."""
    objects = (Body(), Payload()) if with_payload else (NoArgBody(),)
    return objects, [weakref.ref(o) for o in objects]


@pytest.mark.parametrize('method', ['spawn', 'start_soon'])
@pytest.mark.parametrize('with_payload', [False, True])
def test_refused_spawn_releases_callable(method, with_payload):
    """R4: a closed group refuses the child and drops it at once."""
    with Nursery.Group() as group:
        pass
    objects, refs = bodies(with_payload)
    with pytest.raises(GLib.Error):
        getattr(group, method)(*objects)
    del objects
    collect()
    assert [ref() for ref in refs] == [None] * len(refs)


@pytest.mark.parametrize('method', ['spawn', 'start_soon'])
@pytest.mark.parametrize('with_payload', [False, True])
def test_unrun_child_releases_callable(method, with_payload):
    """R5: a child that never runs still drops its callable."""
    objects, refs = bodies(with_payload)
    group = Nursery.Group()
    group.cancel()
    getattr(group, method)(*objects)
    del objects
    with group:
        pass
    collect()
    assert group.get_n_cancelled() == 1
    assert [ref() for ref in refs] == [None] * len(refs)


def test_keyed_children_leave_nothing_behind():
    """R4, R5, R8: spawn() and start_soon() keep each child under a key
    until the runner hands it back: after children that succeeded,
    failed, were cancelled before their turn or were refused, no key is
    left (gi.overrides.Nursery's own map, read directly)."""
    import gi.overrides.Nursery as override
    keyed = len(override._keyed)

    def fail(task):
        raise Boom()

    with pytest.raises(ExceptionGroup):
        with Nursery.Group() as group:
            for i in range(20):
                group.spawn(lambda task: i)
                group.start_soon(lambda task, x: x, i)
            group.spawn(fail)
    cancelled = Nursery.Group()
    cancelled.cancel()
    for i in range(20):
        cancelled.spawn(lambda task: None)
        cancelled.start_soon(lambda task: None)
    with cancelled:
        pass
    with pytest.raises(GLib.Error):
        group.spawn(lambda task: None)
    assert cancelled.get_n_cancelled() == 40
    assert len(override._keyed) == keyed


def test_group_and_task_objects_are_freed():
    """R20: groups and tasks are finalized once nothing holds them."""
    with Nursery.Group() as group:
        tasks = [group.spawn(lambda task: 1), group.spawn_in_thread(lambda task: 2)]
    finalized = [Finalized(group)] + [Finalized(task) for task in tasks]
    del group, tasks
    collect()
    assert all(finalized)


def test_task_exception_survives_new_wrappers():
    """R21, docs/bindings.md: the exception record belongs to the task, not to
    one Python wrapper: it is found from any handle, e.g. task-finished."""
    seen = []
    with pytest.raises(ExceptionGroup):
        with Nursery.Group() as group:
            group.connect('task-finished', lambda group, task: seen.append(task))
            group.spawn(lambda task: 1 / 0)
    collect()
    assert isinstance(seen[0].exception, ZeroDivisionError)


def test_dropping_group_cancels_children():
    """R20: dropping the last reference to a group with children cancels
    them; the group is finalized once they have finished."""
    group = Nursery.Group()
    task = group.spawn(until_cancelled, async_return=True)
    run_until(lambda: task.state == TS.RUNNING)
    group_finalized = Finalized(group)
    del group
    collect()
    run_until(task.is_finished)
    assert task.state == TS.CANCELLED
    run_until(lambda: group_finalized.done)
    assert task.get_group() is None


def test_unobserved_failures_are_warned_about(nursery_log):
    """R20: failures nobody read are logged when the group is finalized."""
    nursery_log.expect('*failure*nobody read*')
    group = Nursery.Group(policy=Nursery.Policy.SUPERVISE)
    task = group.spawn(lambda task: task.return_error(my_error('unseen')))
    run_until(task.is_finished)
    group_finalized = Finalized(group)
    del group, task
    collect()
    run_until(lambda: group_finalized.done)


def _one_by_one(group, bodies):
    """Spawns each body once the previous child has been reported."""
    context = GLib.MainContext.default()
    for i, body in enumerate(bodies):
        group.spawn(body)
        while group.get_n_finished() < i + 1:
            context.iteration(True)


def test_unseen_python_task_is_reused():
    """R28: a Python child's task that nothing holds any more (its wrapper
    is gone) is reset and reused by the group's next spawn."""
    seen = []

    def body(task):
        seen.append((hash(task), task.get_state(), task.get_progress()))

    with Nursery.Group() as group:
        _one_by_one(group, [body, body, body])
    assert [state for _, state, _ in seen] == [TS.RUNNING] * 3
    assert [progress for _, _, progress in seen] == [-1.0] * 3
    assert seen[0][0] == seen[1][0] == seen[2][0]


def test_python_task_with_state_is_never_reused():
    """R28: a task whose Python wrapper carries state (an attribute keeps
    the wrapper alive with the object) is never handed to another child."""
    marks = []

    def marking(task):
        task.mark = 'first'

    def reading(task):
        marks.append(getattr(task, 'mark', None))

    with Nursery.Group() as group:
        _one_by_one(group, [marking, reading])
    assert marks == [None]
