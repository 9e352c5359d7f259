# test_join.py: joining a group and its outcome (R6, R7, R10)
#
# Copyright 2026 The Nursery authors
# SPDX-License-Identifier: LGPL-2.1-or-later

import pytest
from gi.repository import Gio, GLib, Nursery

from helpers import is_cancelled_error, my_error, on_cancelled, run_until, until_cancelled

TS = Nursery.TaskState


def test_empty_group_joins_and_closes():
    """R6: joining an empty group succeeds and closes it."""
    with Nursery.Group() as group:
        assert group.get_state() == Nursery.GroupState.OPEN
    assert group.get_state() == Nursery.GroupState.CLOSED
    assert group.is_closed() and not group.is_cancelled()


def test_wait_async_on_empty_group_is_never_synchronous():
    """R6: wait on an empty group completes on a later iteration."""
    group = Nursery.Group()
    done = []
    group.wait_async(None, lambda group, result: done.append(group.wait_finish(result)))
    assert done == []
    run_until(lambda: done)
    assert done == [True]


def test_wait_completes_only_when_every_child_finished():
    """R6: the join waits for children that finish much later."""
    order = []

    def slow(task, steps):
        def step():
            order.append(task.name)
            if len(order) < steps:
                return GLib.SOURCE_CONTINUE
            task.return_value(None)
            return GLib.SOURCE_REMOVE
        GLib.idle_add(step)

    with Nursery.Group() as group:
        task = group.spawn(slow, 5, name='slow', async_return=True)
    assert order == ['slow'] * 5
    assert task.state == TS.SUCCEEDED


def test_first_failure_is_wait_result_unchanged():
    """R7: wait's error is the first failure, domain/code/message kept."""
    group = Nursery.Group()
    group.spawn(lambda task: task.return_error(my_error('first', 3)))
    with pytest.raises(GLib.Error) as info:
        group.wait(None)
    assert info.value.domain == 'nursery-test-error-quark'
    assert (info.value.code, info.value.message) == (3, 'first')


def test_own_cancel_without_failures_is_quiet():
    """R7: the group's own cancel() with no failure leaves quietly."""
    with Nursery.Group(name='stopped') as group:
        task = group.spawn(until_cancelled, async_return=True)
        group.cancel()
    assert task.state == TS.CANCELLED
    assert group.get_errors() == []


def test_errors_win_over_cancellation():
    """R7: a failure that happens while the group is being cancelled is
    the outcome, not the cancellation."""
    def fails_on_cancel(task):
        def fail():
            task.return_error(my_error('cleanup failed'))
        on_cancelled(task, fail)

    with pytest.raises(ExceptionGroup) as info:
        with Nursery.Group() as group:
            task = group.spawn(fails_on_cancel, async_return=True)
            run_until(lambda: task.state == TS.RUNNING)
            group.cancel()
    assert [e.message for e in info.value.exceptions] == ['cleanup failed']
    assert task.state == TS.FAILED
    assert group.is_cancelled()


def test_multiple_waiters_get_the_same_outcome():
    """R10: every waiter gets the same outcome."""
    group = Nursery.Group()
    group.spawn(lambda task: task.return_error(my_error('shared')))
    outcomes = []

    def finished(group, result):
        try:
            group.wait_finish(result)
        except GLib.Error as error:
            outcomes.append(error.message)

    group.wait_async(None, finished)
    group.wait_async(None, finished)
    with pytest.raises(GLib.Error) as info:
        group.wait(None)
    outcomes.append(info.value.message)
    run_until(lambda: len(outcomes) == 3)
    assert outcomes == ['shared'] * 3


def test_waiter_cancellable_cancels_group_but_waits_for_children():
    """R10: cancelling a waiter's cancellable cancels the group; the wait
    still completes only after every child has finished."""
    events = []
    group = Nursery.Group()

    def child(task):
        def finish():
            events.append('child finished')
            task.return_error_if_cancelled()
        # Finishes one iteration after the cancel, not inside it.
        on_cancelled(task, lambda: GLib.idle_add(finish))

    task = group.spawn(child, async_return=True)
    cancellable = Gio.Cancellable()

    def finished(group, result):
        try:
            group.wait_finish(result)
        except GLib.Error as error:
            events.append(('waiter', is_cancelled_error(error)))

    group.wait_async(cancellable, finished)
    run_until(lambda: task.state == TS.RUNNING)
    cancellable.cancel()
    assert group.is_cancelled()
    run_until(lambda: len(events) == 2)
    assert events == ['child finished', ('waiter', True)]
    assert task.state == TS.CANCELLED


def test_with_on_a_closed_group_repeats_the_outcome():
    """R6/R10: a later join of a closed group gets the same outcome."""
    group = Nursery.Group()
    group.spawn(lambda task: 'fine')
    with group:
        pass
    with group:
        pass
    assert group.get_n_finished() == 1
