# test_cancel.py: cancellation (R8, R9, R11 fail-fast, R12, R13)
#
# Copyright 2026 The Nursery authors
# SPDX-License-Identifier: LGPL-2.1-or-later

import pytest
from gi.repository import Gio, GLib, Nursery

from helpers import IO_ERROR, is_cancelled_error, my_error, on_cancelled, until_cancelled

TS = Nursery.TaskState


def test_fail_fast_cancels_siblings():
    """R11: under FAIL_FAST (the default) the first failure cancels the
    siblings; they end cancelled, which is not a failure."""
    with pytest.raises(ExceptionGroup) as info:
        with Nursery.Group() as group:
            assert group.get_policy() == Nursery.Policy.FAIL_FAST
            sibling = group.spawn(until_cancelled, async_return=True)
            group.spawn(lambda task: task.return_error(my_error('fatal')))
            never = group.spawn(until_cancelled, async_return=True)
    assert [e.message for e in info.value.exceptions] == ['fatal']
    assert sibling.state == TS.CANCELLED and never.state == TS.CANCELLED
    assert group.is_cancelled()
    assert group.get_n_failed() == 1


def test_cancel_reaches_every_child_once():
    """R12: cancelling the group cancels every child; it is idempotent;
    R7: the group's own cancel() leaves quietly."""
    with Nursery.Group() as group:
        tasks = [group.spawn(until_cancelled, async_return=True) for _ in range(10)]
        group.cancel()
        group.cancel()
    assert all(task.state == TS.CANCELLED for task in tasks)
    assert group.get_n_finished() == 10 and group.get_n_failed() == 0


def test_task_cancel_is_not_a_failure():
    """R13: cancelling one task affects only that task."""
    with Nursery.Group() as group:
        victim = group.spawn(until_cancelled, async_return=True)
        other = group.spawn(lambda task: 'fine')
        victim.cancel()
    assert victim.state == TS.CANCELLED
    assert is_cancelled_error(victim.error)
    assert other.result == 'fine'
    assert not group.is_cancelled()
    assert group.get_n_failed() == 0 and group.get_errors() == []


def test_value_kept_after_cancel():
    """R9: a value returned before the group is cancelled stays a value,
    even when the cancel comes before the group reported it."""
    def cancel_group(task, group):
        group.cancel()

    with Nursery.Group() as group:
        early = group.spawn(lambda task: 5)
        group.spawn(cancel_group, group)
    assert group.is_cancelled()
    assert early.state == TS.SUCCEEDED and early.result == 5
    assert early.is_cancelled()


def test_cancelled_error_after_own_cancel_is_cancellation():
    """R8: a child that ends with G_IO_ERROR_CANCELLED because it was
    cancelled is cancelled, even when it raised the error itself."""
    def raise_when_cancelled(task):
        def check():
            task.get_cancellable().set_error_if_cancelled()
        on_cancelled(task, lambda: _raise_into(task, check))

    with Nursery.Group() as group:
        task = group.spawn(raise_when_cancelled, async_return=True)
        task.cancel()
    assert task.state == TS.CANCELLED
    assert group.get_errors() == []


def _raise_into(task, func):
    try:
        func()
    except GLib.Error as error:
        task.return_error(error)


def test_cancelled_error_without_cancel_is_failure():
    """R8: G_IO_ERROR_CANCELLED from a child nobody cancelled is a failure."""
    def lying(task):
        raise GLib.Error.new_literal(IO_ERROR, 'not really', Gio.IOErrorEnum.CANCELLED)

    with pytest.raises(ExceptionGroup) as info:
        with Nursery.Group() as group:
            task = group.spawn(lying)
    assert task.state == TS.FAILED
    assert is_cancelled_error(info.value.exceptions[0])


def test_cancel_from_task_body_stops_queued_children():
    """R5/R12: children not started yet when the group is cancelled never
    run; the running child that cancelled still finishes normally."""
    ran = []

    def canceller(task, group):
        group.cancel()
        return 'done'

    with Nursery.Group(max_concurrent=1) as group:
        first = group.spawn(canceller, group)
        queued = [group.spawn(lambda task: ran.append(1)) for _ in range(3)]
    assert ran == []
    assert first.result == 'done'
    assert all(task.state == TS.CANCELLED for task in queued)
