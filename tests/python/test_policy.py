# test_policy.py: policies and the concurrency limit (R8, R11, R19)
#
# Copyright 2026 The Nursery authors
# SPDX-License-Identifier: LGPL-2.1-or-later

import pytest
from gi.repository import GLib, Nursery

from helpers import my_error, run_until, states, until_cancelled

TS = Nursery.TaskState


def spawn_waiting(group, count):
    """Spawns @count children that finish when the test returns them."""
    return [group.spawn(lambda task: None, name='child%d' % i, async_return=True)
            for i in range(count)]


def test_supervise_keeps_every_error_in_order():
    """R8/R11: under SUPERVISE failures are all kept, in the order they
    happened (not spawn order), and siblings keep running."""
    with pytest.raises(ExceptionGroup) as info:
        with Nursery.Group(policy=Nursery.Policy.SUPERVISE) as group:
            a, b, c, d = spawn_waiting(group, 4)
            run_until(lambda: group.get_n_running() == 4)
            c.return_error(my_error('c'))
            a.return_error(my_error('a'))
            run_until(lambda: group.get_n_failed() == 2)
            b.return_error(my_error('b'))
            d.return_value('survivor')
    messages = [error.message for error in group.get_errors()]
    assert messages == ['c', 'a', 'b']
    assert [e.message for e in info.value.exceptions] == messages
    assert d.result == 'survivor'
    assert not group.is_cancelled()


def test_supervise_single_failure_is_still_a_group():
    """R7/R8: even one failure leaves `with` as an ExceptionGroup."""
    with pytest.raises(ExceptionGroup) as info:
        with Nursery.Group(policy=Nursery.Policy.SUPERVISE) as group:
            group.spawn(lambda task: task.return_error(my_error('only')))
            ok = group.spawn(lambda task: 'fine')
    assert len(info.value.exceptions) == 1
    assert ok.result == 'fine'


def test_race_winner_cancels_the_rest():
    """R11: under RACE the first success wins, cancels the others and the
    group succeeds with the winner readable."""
    with Nursery.Group(policy=Nursery.Policy.RACE) as group:
        slow = group.spawn(until_cancelled, async_return=True)
        fast = group.spawn(lambda task: 'first!')
        slower = group.spawn(until_cancelled, async_return=True)
    assert group.get_winner() == fast
    assert group.get_winner().result == 'first!'
    assert states([slow, slower]) == [TS.CANCELLED, TS.CANCELLED]


def test_race_failures_before_the_winner_do_not_fail_the_group():
    """R11: a winner makes the race a success even after failures."""
    with Nursery.Group(policy=Nursery.Policy.RACE) as group:
        loser = group.spawn(lambda task: task.return_error(my_error('lost')))
        run_until(loser.is_finished)
        winner = group.spawn(lambda task: 1)
    assert group.get_winner() == winner
    assert [e.message for e in group.get_errors()] == ['lost']


def test_race_all_fail_raises_every_failure():
    """R11 → R7: if every racer fails, the first failure is the outcome."""
    with pytest.raises(ExceptionGroup) as info:
        with Nursery.Group(policy=Nursery.Policy.RACE) as group:
            for name in ('x', 'y'):
                group.spawn(lambda task, name: task.return_error(my_error(name)), name)
    assert [e.message for e in info.value.exceptions] == ['x', 'y']
    assert group.get_winner() is None


def test_max_concurrent_caps_running_children():
    """R19: at most max-concurrent children run; the rest wait FIFO and
    are counted as pending."""
    running = []
    peak = []
    order = []

    def child(task, i):
        order.append(i)
        running.append(task)
        peak.append(len(running))

        def finish():
            running.remove(task)
            task.return_value(i)
        GLib.idle_add(finish)

    with Nursery.Group(max_concurrent=2) as group:
        tasks = [group.spawn(child, i, async_return=True) for i in range(6)]
        run_until(lambda: group.get_n_running() == 2)
        assert group.get_n_pending() == 4
    assert max(peak) == 2
    assert order == list(range(6))
    assert [task.result for task in tasks] == list(range(6))


def test_raising_max_concurrent_starts_queued_children():
    """R19: raising the limit at run time starts queued children at once."""
    with Nursery.Group(max_concurrent=1) as group:
        tasks = spawn_waiting(group, 3)
        run_until(lambda: group.get_n_running() == 1)
        assert group.get_n_pending() == 2
        group.set_max_concurrent(0)
        run_until(lambda: group.get_n_running() == 3)
        assert group.get_n_pending() == 0
        for task in tasks:
            task.return_value(None)
    assert states(tasks) == [TS.SUCCEEDED] * 3


def test_lowering_max_concurrent_lets_running_children_finish():
    """R19: lowering the limit stops nothing; new starts wait for a slot."""
    with Nursery.Group() as group:
        first, second, third = spawn_waiting(group, 3)
        run_until(lambda: group.get_n_running() == 3)
        group.props.max_concurrent = 1
        late = group.spawn(lambda task: 'late')
        first.return_value(None)
        second.return_value(None)
        run_until(lambda: group.get_n_finished() == 2)
        assert late.state == TS.PENDING
        third.return_value(None)
    assert late.result == 'late'
