# test_spawn.py: spawning and running children (R1–R5)
#
# Copyright 2026 The Nursery authors
# SPDX-License-Identifier: LGPL-2.1-or-later

import contextvars

import pytest
from gi.repository import GLib, GObject, Nursery

from helpers import run_until, states, until_cancelled

TS = Nursery.TaskState


def test_override_is_loaded():
    """The suite tests the override, not the bare GI bindings."""
    assert Nursery.Group.__module__ == 'gi.overrides.Nursery'
    assert Nursery.Task.__module__ == 'gi.overrides.Nursery'


def test_child_return_value_is_task_result():
    """R2: a Python child finishes with what its function returns."""
    with Nursery.Group() as group:
        task = group.spawn(lambda task, a, b: a * b, 6, 7)
    assert task.state == TS.SUCCEEDED
    assert task.result == 42
    assert task.error is None and task.exception is None


def test_spawn_never_runs_inline():
    """R1: the child's function runs on a later iteration, not in spawn."""
    ran = []
    with Nursery.Group() as group:
        task = group.spawn(lambda task: ran.append(task.state))
        assert ran == []
        assert task.state == TS.PENDING
    assert ran == [TS.RUNNING]


def test_children_start_in_spawn_order():
    """R1: children start in spawn order (FIFO)."""
    order = []
    with Nursery.Group() as group:
        for i in range(20):
            group.spawn(lambda task, i: order.append(i), i)
    assert order == list(range(20))


def test_children_spawned_by_children_start_later():
    """R1: a child spawned by a running child waits for the next batch,
    behind every child spawned before it."""
    order = []

    def parent(task, group):
        order.append('parent')
        group.spawn(lambda task: order.append('grandchild'))

    with Nursery.Group() as group:
        group.spawn(parent, group)
        group.spawn(lambda task: order.append('sibling'))
    assert order == ['parent', 'sibling', 'grandchild']


def test_name_defaults_to_qualname():
    """R21: tasks are named, by default after the callable."""
    def body(task):
        return task.name

    with Nursery.Group() as group:
        named = group.spawn(body, name='explicit')
        default = group.spawn(body)
    assert named.result == 'explicit' and named.name == 'explicit'
    assert default.result.endswith('body')


def test_async_return_finishes_on_return_call():
    """R2: with async_return=True an in-context child finishes only when
    it calls a return method, here from a later idle callback."""
    seen = {}

    def body(task):
        def later():
            seen['state_before_return'] = task.state
            task.return_value('late')
        GLib.idle_add(later)
        return 'ignored'

    with Nursery.Group() as group:
        task = group.spawn(body, async_return=True)
    assert seen['state_before_return'] == TS.RUNNING
    assert task.result == 'late'


def test_explicit_return_wins_over_function_result():
    """R2/R3: a child that returned through the task is not returned
    again when its function returns (no R3 critical)."""
    with Nursery.Group() as group:
        task = group.spawn(lambda task: task.return_int(7) or 'ignored')
    assert task.result == 7
    assert task.get_int() == 7


def test_python_objects_keep_identity_and_c_types_stay_readable():
    """R2/R9: any Python object is kept as is; bool and int are plain
    GValues that C readers (get_boolean/get_int) understand."""
    payload = {'key': ['value']}
    value = GObject.Value(GObject.TYPE_STRING, 'gvalue')
    with Nursery.Group() as group:
        obj = group.spawn(lambda task: payload)
        flag = group.spawn(lambda task: True)
        number = group.spawn(lambda task: -2 ** 40)
        big = group.spawn(lambda task: 2 ** 70)
        none = group.spawn(lambda task: None)
        given = group.spawn(lambda task: value)
    assert obj.result is payload
    assert flag.result is True and flag.get_boolean()
    assert number.result == -2 ** 40 and number.get_int() == -2 ** 40
    assert big.result == 2 ** 70
    assert none.result is None and none.state == TS.SUCCEEDED
    assert given.result == 'gvalue'


def test_second_return_is_critical_and_ignored(nursery_log):
    """R3: every child finishes once; a second return is a critical."""
    nursery_log.expect('*already returned*')

    def body(task):
        task.return_int(1)
        task.return_int(2)

    with Nursery.Group() as group:
        task = group.spawn(body)
    assert task.result == 1


def test_closed_group_refuses_spawn():
    """R4: spawning into a closed group fails with NURSERY_ERROR_CLOSED."""
    with Nursery.Group() as group:
        pass
    assert group.is_closed()
    with pytest.raises(GLib.Error) as info:
        group.spawn(lambda task: None)
    assert info.value.matches(Nursery.error_quark(), Nursery.Error.CLOSED)


def test_spawn_requires_a_callable():
    """R24: bad input is refused at once, in Python terms."""
    with Nursery.Group() as group:
        with pytest.raises(TypeError):
            group.spawn(42)
    assert group.get_n_finished() == 0


def test_spawn_while_joining():
    """R4: a child may spawn into its group while the group is joining."""
    def parent(task, group):
        return group.spawn(lambda task: 'late child')

    with Nursery.Group() as group:
        parent_task = group.spawn(parent, group)
    child = parent_task.result
    assert child.state == TS.SUCCEEDED and child.result == 'late child'
    assert group.get_n_finished() == 2


def test_spawn_into_cancelled_group_never_runs():
    """R5: a child spawned into a cancelled group ends cancelled unrun."""
    ran = []
    group = Nursery.Group()
    group.cancel()
    task = group.spawn(lambda task: ran.append(True))
    with group:
        pass
    assert ran == []
    assert task.state == TS.CANCELLED


def test_cancelled_while_queued_never_runs():
    """R5/R19: a child cancelled while queued behind the limit ends
    cancelled without running, even though the slot is still taken."""
    ran = []
    with Nursery.Group(max_concurrent=1) as group:
        first = group.spawn(until_cancelled, async_return=True)
        queued = group.spawn(lambda task: ran.append(True))
        run_until(lambda: first.state == TS.RUNNING)
        queued.cancel()
        run_until(queued.is_finished)
        assert first.state == TS.RUNNING
        first.cancel()
    assert ran == []
    assert states([first, queued]) == [TS.CANCELLED, TS.CANCELLED]


REQUEST = contextvars.ContextVar('nursery_test_request', default='none')


def _record_then_set(seen):
    def child(task):
        seen.append(REQUEST.get())
        REQUEST.set('set by a child')
    return child


def _spawn_two(seen):
    with Nursery.Group() as group:
        group.spawn(_record_then_set(seen))
        group.spawn(_record_then_set(seen))
    return REQUEST.get()


def test_children_run_in_their_own_context():
    """Section 3b: each child runs in a copy of its spawner's contextvars
    context, whether or not anything was set there: it sees what was set,
    and what it sets stays its own (no sibling or spawner sees it). The
    first scene runs in a new empty context (pytest may have set
    variables in the test's): children spawned where nothing is set take
    a path of their own."""
    seen = []
    assert contextvars.Context().run(_spawn_two, seen) == 'none'
    assert seen == ['none', 'none']

    seen.clear()
    token = REQUEST.set('set by the spawner')
    try:
        assert _spawn_two(seen) == 'set by the spawner'
        assert seen == ['set by the spawner'] * 2
    finally:
        REQUEST.reset(token)
