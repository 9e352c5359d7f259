# test_scopes.py: deadlines, shields, nesting, limits, signals, cleanups,
# tree dumps from Python (R5, R7, R14–R17, R19, R21, R22)
#
# Copyright 2026 The Nursery authors
# SPDX-License-Identifier: LGPL-2.1-or-later

"""The Python face of tests/test-scopes.c, through the override's spawn
keywords (shielded=, timeout=) and Group(timeout=)."""

import math
import os
import signal
import threading

import pytest
from gi.repository import Gio, GLib, Nursery

from helpers import (IO_ERROR, is_cancelled_error, my_error, on_cancelled, return_from_idle,
                     run_main_loop, run_until, states, until_cancelled)

TS = Nursery.TaskState
HOUR_USEC = 3600 * 1_000_000


def is_timed_out_error(error):
    return error.matches(IO_ERROR, Gio.IOErrorEnum.TIMED_OUT)


def running(task):
    return lambda: task.state == TS.RUNNING


def fail_if_called(task):
    raise AssertionError('this child must never run')


# Task deadlines

def test_task_deadline_times_out():
    """R17: a child whose own deadline passes fails with TIMED_OUT; that is
    a failure, so under FAIL_FAST it cancels its sibling (R11)."""
    with pytest.raises(ExceptionGroup) as info:
        with Nursery.Group() as group:
            slow = group.spawn(until_cancelled, async_return=True, timeout=0.001)
            sibling = group.spawn(until_cancelled, async_return=True)
            assert slow.get_deadline() != -1 and sibling.get_deadline() == -1
    [error] = info.value.exceptions
    assert is_timed_out_error(error)
    assert slow.state == TS.FAILED and is_timed_out_error(slow.error)
    assert sibling.state == TS.CANCELLED
    assert group.get_n_failed() == 1


def test_task_past_deadline_fires_on_next_iteration():
    """R16: a deadline already in the past fires on the next iteration,
    not inside set_deadline()."""
    with pytest.raises(ExceptionGroup) as info:
        with Nursery.Group() as group:
            task = group.spawn(until_cancelled, async_return=True)
            run_until(running(task))
            task.set_deadline(GLib.get_monotonic_time() - 1_000_000)
            assert not task.is_cancelled()
            GLib.MainContext.default().iteration(False)
            assert task.is_cancelled()
    assert is_timed_out_error(info.value.exceptions[0])


def test_task_deadline_moved_later_is_avoided():
    """R16: a deadline moved later before it fired never fires."""
    with Nursery.Group() as group:
        task = group.spawn(return_from_idle, async_return=True, timeout=0)
        task.set_timeout(HOUR_USEC)
        assert task.get_deadline() > GLib.get_monotonic_time()
    assert task.state == TS.SUCCEEDED and task.result == 5
    assert not task.is_cancelled()


def test_task_deadline_cleared():
    """R16: only the last setting counts, and clearing removes it."""
    with Nursery.Group() as group:
        task = group.spawn(return_from_idle, async_return=True)
        for i in range(100):
            task.set_deadline(GLib.get_monotonic_time() - i)
        task.clear_deadline()
        assert task.get_deadline() == -1
    assert task.state == TS.SUCCEEDED


def test_thread_child_timeout():
    """R17, R2: a thread child sees its deadline through its cancellable;
    ending cancelled after it fired makes it fail with TIMED_OUT."""
    def wait_for_cancel(task):
        cancelled = threading.Event()
        on_cancelled(task, cancelled.set)
        assert cancelled.wait(30)
        task.get_cancellable().set_error_if_cancelled()

    with pytest.raises(ExceptionGroup) as info:
        with Nursery.Group() as group:
            task = group.spawn_in_thread(wait_for_cancel, timeout=0.001)
    assert is_timed_out_error(info.value.exceptions[0])
    assert task.state == TS.FAILED


def test_timeout_keywords_are_seconds():
    """R16: Python timeouts are seconds from the call, rounded up to
    microseconds; inf means no deadline; negative or NaN is refused before
    anything is spawned."""
    group = Nursery.Group(timeout=1.5)
    before = GLib.get_monotonic_time()
    task = group.spawn(lambda task: None, timeout=0.25)
    after = GLib.get_monotonic_time()
    assert before <= task.get_deadline() - 250_000 <= after
    assert group.get_deadline() - 1_500_000 <= before
    assert group.spawn(lambda task: None, timeout=math.inf).get_deadline() == -1
    assert group.spawn(lambda task: None, timeout=1e300).get_deadline() == -1
    assert Nursery.Group(timeout=math.inf).get_deadline() == -1
    for bad in (-1, -0.001, math.nan):
        with pytest.raises(ValueError):
            group.spawn(fail_if_called, timeout=bad)
        with pytest.raises(ValueError):
            group.spawn_in_thread(fail_if_called, timeout=bad)
        with pytest.raises(ValueError):
            Nursery.Group(timeout=bad)
    assert group.get_n_pending() + group.get_n_running() + group.get_n_finished() == 3
    group.clear_deadline()
    with group:
        pass


# Group deadlines

def test_group_deadline_times_out():
    """R7, R16, R17: a group whose deadline passes is cancelled; leaving
    the with block raises TimeoutError (the TIMED_OUT GLib.Error is its
    __cause__), never early."""
    with pytest.raises(TimeoutError) as info:
        with Nursery.Group(timeout=0.02) as group:
            task = group.spawn(until_cancelled, async_return=True)
            deadline = group.get_deadline()
            assert group.props.deadline == deadline
    returned = GLib.get_monotonic_time()
    assert is_timed_out_error(info.value.__cause__)
    assert task.state == TS.CANCELLED
    assert returned >= deadline
    assert returned - deadline < 2_000_000


def test_group_deadline_failure_wins():
    """R7: a failure wins over the group's deadline."""
    with pytest.raises(ExceptionGroup) as info:
        with Nursery.Group(policy=Nursery.Policy.SUPERVISE) as group:
            fails = group.spawn(lambda task: task.return_error(my_error('real failure')))
            group.spawn(until_cancelled, async_return=True)
            run_until(fails.is_finished)
            group.set_timeout(0)
    assert [e.message for e in info.value.exceptions] == ['real failure']
    assert group.is_cancelled()


def test_group_deadline_moved_later_is_avoided():
    """R16: a group deadline moved later before it fired never fires."""
    with Nursery.Group(timeout=0) as group:
        group.spawn(return_from_idle, async_return=True)
        group.set_timeout(HOUR_USEC)
    assert not group.is_cancelled()


# Shields

def test_shielded_task_ignores_group_cancel():
    """R15: neither the group's cancel nor its deadline reaches a shielded
    child; its own cancel does, and the group waits for it."""
    with Nursery.Group() as group:
        shielded = group.spawn(until_cancelled, async_return=True, shielded=True)
        plain = group.spawn(until_cancelled, async_return=True)
        assert shielded.get_shielded() and not plain.get_shielded()
        run_until(running(shielded))
        group.cancel()
        group.set_deadline(GLib.get_monotonic_time() - 1)
        run_until(plain.is_finished)
        assert not shielded.is_cancelled() and not shielded.is_finished()
        shielded.cancel()
    assert states([shielded, plain]) == [TS.CANCELLED, TS.CANCELLED]


def test_shielded_thread_child_ignores_group_cancel():
    """R15: shielded= works for thread children too."""
    release = threading.Event()

    def blocked(task):
        assert release.wait(30)
        return task.is_cancelled()

    with Nursery.Group() as group:
        task = group.spawn_in_thread(blocked, shielded=True)
        run_until(running(task))
        group.cancel()
        release.set()
    assert task.state == TS.SUCCEEDED and task.result is False


def test_shielded_task_keeps_own_deadline():
    """R15, R17: in a cancelled group, a shielded child's own expired
    deadline still cancels it, and it fails with TIMED_OUT."""
    with pytest.raises(ExceptionGroup) as info:
        with Nursery.Group() as group:
            task = group.spawn(until_cancelled, async_return=True, shielded=True)
            run_until(running(task))
            group.cancel()
            assert not task.is_cancelled()
            task.set_deadline(GLib.get_monotonic_time() - 1)
    assert is_timed_out_error(info.value.exceptions[0])
    assert task.state == TS.FAILED


def test_unshield_in_cancelled_group_cancels():
    """R15: unshielding a child of a cancelled group cancels it at once."""
    with Nursery.Group() as group:
        task = group.spawn(until_cancelled, async_return=True, shielded=True)
        run_until(running(task))
        group.cancel()
        assert not task.is_cancelled()
        task.set_shielded(False)
        assert task.is_cancelled()
    assert task.state == TS.CANCELLED


def test_shielded_spawn_into_cancelled_group_runs():
    """R5, R15: spawn(..., shielded=True) shields the child before its
    turn, so it runs even in a cancelled group (cleanup work)."""
    group = Nursery.Group()
    group.cancel()
    cleanup = group.spawn(return_from_idle, async_return=True, shielded=True)
    plain = group.spawn(fail_if_called)
    with group:
        pass
    assert cleanup.state == TS.SUCCEEDED and cleanup.result == 5
    assert plain.state == TS.CANCELLED


# Nested groups

def open_nested(task, nested, **child_options):
    """Parent body for spawn(..., async_return=True): opens a group for the
    task with one child, and finishes the task with the inner group's
    outcome once it closed (wait_async, no nested main loop)."""
    inner = Nursery.Group.new_for_task(task)
    inner.set_name('inner')
    nested['inner'] = inner
    nested['child'] = inner.spawn(until_cancelled, name='inner-child',
                                  async_return=True, **child_options)

    def inner_done(inner, result):
        try:
            inner.wait_finish(result)
        except GLib.Error as error:
            task.return_error(error)
        else:
            task.return_value('inner done')

    inner.wait_async(None, inner_done)


def test_nested_group_cancelled_by_parent_group():
    """R14: cancelling the outer group cancels the task, hence the group
    nested in it and that group's children."""
    nested = {}
    with Nursery.Group() as outer:
        parent = outer.spawn(open_nested, nested, async_return=True)
        run_until(lambda: 'child' in nested and nested['child'].state == TS.RUNNING)
        assert not nested['inner'].is_cancelled()
        outer.cancel()
        assert nested['inner'].is_cancelled()
    inner = nested['inner']
    assert isinstance(inner, Nursery.Group)
    assert inner.is_closed()
    assert nested['child'].state == TS.CANCELLED
    # It ended with the inner group's CANCELLED while cancelled (R8).
    assert parent.state == TS.CANCELLED
    assert outer.get_n_failed() == 0


def test_nested_group_under_cancelled_task_never_runs_children():
    """R14, R5: a group created for an already-cancelled task is cancelled
    at once, so its children never run. Group.new_for_task() gives an
    override group, usable with `with` (here inside the parent's body)."""
    nested = {}

    def parent_body(task):
        task.cancel()
        inner = Nursery.Group.new_for_task(task)
        nested['inner'] = inner
        assert inner.is_cancelled()
        with inner:
            nested['never'] = inner.spawn(fail_if_called)
        return 'not reached: leaving the block raised CANCELLED'

    with Nursery.Group() as outer:
        parent = outer.spawn(parent_body)
    assert nested['never'].state == TS.CANCELLED
    assert nested['inner'].is_closed()
    assert parent.state == TS.CANCELLED and is_cancelled_error(parent.error)
    assert not outer.is_cancelled()


def test_nested_group_with_blocking_with_in_parent():
    """R14: a `with` block on a nested group inside an in-context child
    joins the inner group (iterating the context) and the parent goes on."""
    def parent_body(task):
        with Nursery.Group.new_for_task(task) as inner:
            a = inner.spawn(lambda task: 'a')
            b = inner.spawn_in_thread(lambda task: 'b')
        return a.result + b.result

    with Nursery.Group() as outer:
        parent = outer.spawn(parent_body)
        sibling = outer.spawn(lambda task: 'sibling')
    assert parent.result == 'ab' and sibling.result == 'sibling'


def test_group_with_cancellable_is_cancelled_with_it():
    """R14: a group made from a GCancellable is cancelled when it is."""
    cancellable = Gio.Cancellable()
    with pytest.raises(GLib.Error) as info:
        with Nursery.Group.new_with_cancellable(cancellable) as group:
            task = group.spawn(until_cancelled, async_return=True)
            run_until(running(task))
            cancellable.cancel()
            assert group.is_cancelled()
    assert is_cancelled_error(info.value)
    assert task.state == TS.CANCELLED


def test_shielded_nested_group():
    """R15: a shielded nested group ignores its parent's cancellation
    until it is unshielded."""
    cancellable = Gio.Cancellable()
    with pytest.raises(GLib.Error) as info:
        with Nursery.Group.new_with_cancellable(cancellable) as group:
            group.set_shielded(True)
            assert group.props.shielded
            task = group.spawn(until_cancelled, async_return=True)
            run_until(running(task))
            cancellable.cancel()
            assert not group.is_cancelled() and not task.is_cancelled()
            group.set_shielded(False)
            assert group.is_cancelled()
    assert is_cancelled_error(info.value)


def test_dump_tree_names_groups_and_tasks():
    """R14, R21: the tree dump shows nested groups and tasks: names,
    states, shields and deadlines."""
    nested = {}
    with Nursery.Group(name='outer') as outer:
        parent = outer.spawn(open_nested, nested, name='parent', async_return=True,
                             shielded=False)
        run_until(lambda: 'child' in nested and nested['child'].state == TS.RUNNING)
        child = nested['child']
        child.set_shielded(True)
        child.set_timeout(HOUR_USEC)
        tree = outer.dump_tree()
        # Its own cancel ends the inner group, then the parent.
        child.cancel()
    assert 'group “outer” [open]' in tree
    assert 'task “parent” [running]' in tree
    assert 'group “inner” [joining]' in tree
    assert 'task “inner-child” [running, shielded]' in tree
    assert 'deadline in ' in tree
    assert parent.result == 'inner done'


# Limits

def test_limit_fifo_with_cancelled_queued_child():
    """R19, R5: children start FIFO under max-concurrent; a queued child
    that is cancelled finishes without running and frees its turn."""
    order = []

    def record_start(task):
        order.append(task.name)
        until_cancelled(task)

    with Nursery.Group(max_concurrent=1) as group:
        tasks = [group.spawn(record_start, name=name, async_return=True) for name in 'ABCDE']
        run_until(running(tasks[0]))
        assert group.props.n_pending == 4
        tasks[2].cancel()
        run_until(tasks[2].is_finished)
        assert tasks[0].state == TS.RUNNING
        assert group.get_n_pending() == 3
        for task in tasks[:2] + tasks[3:]:
            run_until(running(task))
            assert group.get_n_running() == 1
            task.cancel()
    assert ''.join(order) == 'ABDE'
    assert states(tasks) == [TS.CANCELLED] * 5


# Unix signals and cleanups

def test_unix_signal_cancels_group():
    """R22: cancel_on_unix_signal() cancels the group gracefully when the
    signal arrives; the group still waits for its children."""
    with pytest.raises(GLib.Error) as info:
        with Nursery.Group() as group:
            task = group.spawn(until_cancelled, async_return=True)
            group.cancel_on_unix_signal(signal.SIGHUP)
            run_until(running(task))
            os.kill(os.getpid(), signal.SIGHUP)
    assert is_cancelled_error(info.value)
    assert 'Unix signal' in info.value.message
    assert task.state == TS.CANCELLED


def test_cleanups_run_lifo_after_children():
    """R22: cleanups run most recent first, once every child has finished
    and before the group closes; one may spawn more children."""
    log = []

    def push(group, text):
        log.append((text, group.get_n_running(), group.is_closed()))

    def spawn_late(group):
        group.spawn(lambda task: log.append('late child'))

    with Nursery.Group() as group:
        group.spawn(lambda task: log.append('child'))
        group.add_cleanup(push, '1')
        group.add_cleanup(spawn_late)
        group.add_cleanup(push, '3')
    assert log == ['child', ('3', 0, False), ('1', 0, False), 'late child']


# The PyGObject 3.42 pattern: callbacks and a GLib.MainLoop

def test_wait_async_with_main_loop():
    """R6, R7: wait_async() with a callback and GLib.MainLoop, no asyncio:
    the callback comes once every child finished, with the outcome."""
    loop = GLib.MainLoop()
    outcome = []

    def done(group, result):
        try:
            outcome.append(group.wait_finish(result))
        except GLib.Error as error:
            outcome.append(error)
        loop.quit()

    group = Nursery.Group()
    value = group.spawn(lambda task: 1)
    thread = group.spawn_in_thread(lambda task: 2)
    later = group.spawn(return_from_idle, async_return=True)
    group.wait_async(None, done)
    run_main_loop(loop)
    assert outcome == [True]
    assert [value.result, thread.result, later.result] == [1, 2, 5]
    assert group.is_closed()

    outcome.clear()
    group = Nursery.Group(timeout=0.001)
    group.spawn(until_cancelled, async_return=True)
    group.wait_async(None, done)
    run_main_loop(loop)
    [error] = outcome
    assert is_timed_out_error(error)
