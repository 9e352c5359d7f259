# test_streams.py: completion order, the live task list and channels
# from Python (mirrors tests/test-streams.c)
#
# Copyright 2026 The Nursery authors
# SPDX-License-Identifier: LGPL-2.1-or-later

"""group.as_completed() and next_async()/next_finish(), list_tasks(), and
Nursery.Channel with the override's Python values, waiting forms and
iteration."""

import os
import random
import threading

import pytest
from gi.repository import Gio, GLib, GObject, Nursery

from helpers import (IO_ERROR, is_cancelled_error, my_error, run_main_loop, run_until,
                     until_cancelled)

TS = Nursery.TaskState
NURSERY_ERROR = Nursery.error_quark()


def return_after_idles(task, n):
    """Body for spawn(..., async_return=True): returns at once for 0, else
    from an idle whose priority grows with @n (a larger @n finishes later):
    completion order without timers."""
    if n == 0:
        task.return_value(task.name)
        return

    def idle():
        task.return_value(task.name)
        return GLib.SOURCE_REMOVE
    GLib.idle_add(idle, priority=GLib.PRIORITY_LOW + n)


def spawn_slow_medium_fast(group):
    return [group.spawn(return_after_idles, n, name=name, async_return=True)
            for name, n in (('slow', 6), ('medium', 3), ('fast', 0))]


def cancel_from_idle(cancellable):
    """Cancels @cancellable on a later iteration of the default context."""
    def idle():
        cancellable.cancel()
        return GLib.SOURCE_REMOVE
    GLib.idle_add(idle)


def receive_into(items):
    """A receive_async() callback that appends the item to @items."""
    return lambda channel, result: items.append(channel.receive_finish(result))


def is_closed_error(error):
    return error.matches(NURSERY_ERROR, Nursery.Error.CLOSED)


def is_would_block(error):
    return error.matches(IO_ERROR, Gio.IOErrorEnum.WOULD_BLOCK)


# next: completion order


def test_as_completed_yields_in_completion_order():
    """Streams, next: as_completed() hands over every child exactly once,
    in completion order, then ends with the group closed; task-finished
    (R21) is still emitted once per child."""
    signalled = []
    with Nursery.Group() as group:
        group.connect('task-finished', lambda group, task: signalled.append(task.name))
        tasks = spawn_slow_medium_fast(group)
        finished = list(group.as_completed())
        assert group.is_closed()
    assert [task.name for task in finished] == ['fast', 'medium', 'slow']
    assert sorted(map(id, finished)) == sorted(map(id, tasks))
    assert all(task.state == TS.SUCCEEDED for task in finished)
    assert [task.result for task in finished] == ['fast', 'medium', 'slow']
    assert signalled == ['fast', 'medium', 'slow']


def test_next_callback_form_gives_none_at_the_end():
    """Streams, next: the raw next_async()/next_finish() pair works from
    Python: tasks in completion order, then None once the group is closed."""
    group = Nursery.Group()
    spawn_slow_medium_fast(group)
    loop = GLib.MainLoop()
    names = []

    def next_cb(group, result):
        task = group.next_finish(result)
        if task is None:
            assert group.is_closed()
            loop.quit()
            return
        assert task.state == TS.SUCCEEDED
        names.append(task.name)
        group.next_async(None, next_cb)

    group.next_async(None, next_cb)
    run_main_loop(loop)
    assert names == ['fast', 'medium', 'slow']
    assert group.wait(None)


def test_cancelled_next_takes_no_task():
    """Streams, next: cancelling a next call gives up that call only: it
    raises CANCELLED, the group is not cancelled, and the child goes to the
    next caller."""
    group = Nursery.Group()
    child = group.spawn(until_cancelled, name='only', async_return=True)
    cancellable = Gio.Cancellable()
    first, second = [], []
    group.next_async(cancellable, lambda group, result: first.append(result))
    group.next_async(None, lambda group, result: second.append(result))
    run_until(lambda: child.state == TS.RUNNING)
    cancellable.cancel()
    run_until(lambda: first)
    with pytest.raises(GLib.Error) as info:
        group.next_finish(first[0])
    assert is_cancelled_error(info.value)
    assert not child.is_cancelled() and not group.is_cancelled()

    child.cancel()
    run_until(lambda: second)
    assert group.next_finish(second[0]) is child


def test_as_completed_cancelled_then_resumed():
    """Streams, next: a cancelled as_completed() raises CANCELLED without
    taking a task; a later as_completed() carries on with it."""
    group = Nursery.Group()
    child = group.spawn(until_cancelled, name='only', async_return=True)
    cancellable = Gio.Cancellable()
    completed = group.as_completed(cancellable)
    cancel_from_idle(cancellable)
    with pytest.raises(GLib.Error) as info:
        next(completed)
    assert is_cancelled_error(info.value)
    assert child.state == TS.RUNNING and not group.is_cancelled()

    child.cancel()
    assert list(group.as_completed()) == [child]
    assert child.state == TS.CANCELLED and group.is_closed()


def test_next_on_empty_group():
    """Streams, next: on an empty group next gives None, never inside the
    call, and closes the group; as_completed() yields nothing."""
    group = Nursery.Group()
    done = []
    group.next_async(None, lambda group, result: done.append(group.next_finish(result)))
    assert done == []
    run_until(lambda: done)
    assert done == [None] and group.is_closed()

    with Nursery.Group() as group:
        assert list(group.as_completed()) == []
    assert group.is_closed()


def test_as_completed_under_fail_fast():
    """Streams, next, with R8: the first failure cancels the siblings, which
    are handed over too, cancelled; leaving ``with`` raises the failure."""
    def fail(task):
        raise my_error('broken')

    with pytest.raises(ExceptionGroup) as info:
        with Nursery.Group() as group:
            waiting = [group.spawn(until_cancelled, name='w%d' % i, async_return=True)
                       for i in range(2)]
            group.spawn(fail, name='fail')
            finished = [task.name for task in group.as_completed()]
    assert finished[0] == 'fail' and sorted(finished[1:]) == ['w0', 'w1']
    assert all(task.state == TS.CANCELLED for task in waiting)
    assert [error.message for error in info.value.exceptions] == ['broken']


# list_tasks


def test_list_tasks_is_live():
    """Streams, list_tasks: a Gio.ListModel of the unfinished tasks in
    spawn order; spawns show up in the batch after spawn(), never inside
    it, and a finished task leaves from its position."""
    group = Nursery.Group()
    a = group.spawn(until_cancelled, name='a', async_return=True)
    model = group.list_tasks()
    assert model.get_item_type() == Nursery.Task.__gtype__
    assert len(model) == 1 and model[0] is a
    changes = []
    model.connect('items-changed', lambda model, *change: changes.append(change))

    b = group.spawn(until_cancelled, name='b', async_return=True)
    c = group.spawn(until_cancelled, name='c', async_return=True)
    assert changes == []
    run_until(lambda: c.state == TS.RUNNING)
    assert changes == [(1, 0, 2)]  # R27: one range per batch
    assert [task.name for task in model] == ['a', 'b', 'c'] and model[1] is b

    b.cancel()
    run_until(lambda: b.state == TS.CANCELLED)
    assert changes[1:] == [(1, 1, 0)]
    assert list(model) == [a, c]

    group.cancel()
    assert group.wait(None)    # R7: its own cancel() is no failure
    assert len(model) == 0 and changes[2:] == [(0, 2, 0)]  # both in one batch


# Channels: the basics


def test_channel_buffered_fifo_and_try_forms():
    """Streams, channel: a buffered channel keeps FIFO order; try_send()
    returns None, or raises WOULD_BLOCK when full; try_receive() returns
    the item, or raises WOULD_BLOCK when empty."""
    channel = Nursery.Channel(2)
    assert isinstance(channel, Nursery.Channel) and channel.get_capacity() == 2
    assert channel.try_send(1) is None
    channel.try_send(2)
    with pytest.raises(GLib.Error) as info:
        channel.try_send(3)
    assert is_would_block(info.value)
    assert channel.get_n_items() == 2
    assert [channel.try_receive(), channel.try_receive()] == [1, 2]
    with pytest.raises(GLib.Error) as info:
        channel.try_receive()
    assert is_would_block(info.value)


def test_channel_values_round_trip():
    """Streams, channel: Python values survive the GValue: ints beyond
    gint32 and beyond gint64, str, float, bool, None, GObjects and any
    object (as itself); a GObject.Value goes as given."""
    marker = object()
    cancellable = Gio.Cancellable()
    values = [7, 2 ** 40, -2 ** 63, 2 ** 70, 'text', 1.5, True, False, None,
              marker, cancellable, b'bytes', [1, 2]]
    channel = Nursery.Channel.new(len(values) + 1)
    assert isinstance(channel, Nursery.Channel)
    for value in values:
        channel.try_send(value)
    channel.try_send(GObject.Value(GObject.TYPE_UINT, 5))
    received = [channel.try_receive() for _ in values]
    assert received == values
    assert received[9] is marker and received[10] is cancellable
    assert type(received[6]) is bool and type(received[5]) is float
    assert channel.try_receive() == 5


def test_channel_rendezvous():
    """Streams, channel: with capacity 0 a send waits for a receiver (and
    never completes inside a call); a receive then completes both."""
    channel = Nursery.Channel()
    assert channel.get_capacity() == 0
    sent, received = [], []
    channel.send_async(7, None, lambda channel, result: sent.append(channel.send_finish(result)))
    context = GLib.MainContext.default()
    for _ in range(10):
        context.iteration(False)
    assert sent == []
    with pytest.raises(GLib.Error) as info:
        channel.try_send(8)
    assert is_would_block(info.value)

    channel.receive_async(None, receive_into(received))
    assert received == []
    run_until(lambda: sent and received)
    assert sent == [True] and received == [7]


def test_channel_fifo_receivers_and_close_drains_in_order():
    """Streams, channel: waiting receivers are served in order; after
    close() senders are refused with CLOSED, receivers drain the buffer in
    order, then get CLOSED; ``for item in channel`` ends there."""
    channel = Nursery.Channel(4)
    received = []
    for _ in range(3):
        channel.receive_async(None, receive_into(received))
    for i in range(3):
        channel.try_send(i)
    run_until(lambda: len(received) == 3)
    assert received == [0, 1, 2]

    for i in range(10, 13):
        channel.try_send(i)
    channel.close()
    assert channel.is_closed()
    with pytest.raises(GLib.Error) as info:
        channel.try_send(99)
    assert is_closed_error(info.value)
    refused = []

    def sent(channel, result):
        try:
            channel.send_finish(result)
        except GLib.Error as error:
            refused.append(error)
    channel.send_async(98, None, sent)
    run_until(lambda: refused)
    assert is_closed_error(refused[0])

    assert channel.receive() == 10
    assert list(channel) == [11, 12]
    for receive in (channel.try_receive, channel.receive):
        with pytest.raises(GLib.Error) as info:
            receive()
        assert is_closed_error(info.value)


def test_channel_close_refuses_waiting_senders():
    """Streams, channel: close() refuses a sender that waits for room
    with CLOSED; its item is never delivered."""
    channel = Nursery.Channel(0)
    refused = []

    def sent(channel, result):
        with pytest.raises(GLib.Error) as info:
            channel.send_finish(result)
        refused.append(info.value)
    channel.send_async('never', None, sent)
    GLib.MainContext.default().iteration(False)
    assert refused == []
    channel.close()
    run_until(lambda: refused)
    assert is_closed_error(refused[0])
    assert list(channel) == []


def test_cancelled_receive_never_consumes_an_item():
    """Streams, channel: a receive cancelled while it waits raises
    CANCELLED and consumes nothing: the item goes to the next receiver,
    for the callback form and for receive() on the owner thread alike."""
    channel = Nursery.Channel(1)
    cancellable = Gio.Cancellable()
    first, second = [], []
    channel.receive_async(cancellable, lambda channel, result: first.append(result))
    channel.receive_async(None, receive_into(second))
    cancellable.cancel()
    channel.try_send(5)
    run_until(lambda: first and second)
    with pytest.raises(GLib.Error) as info:
        channel.receive_finish(first[0])
    assert is_cancelled_error(info.value)
    assert second == [5]

    cancellable = Gio.Cancellable()
    cancel_from_idle(cancellable)
    with pytest.raises(GLib.Error) as info:
        channel.receive(cancellable)
    assert is_cancelled_error(info.value)
    with pytest.raises(GLib.Error) as info:
        list(channel.iter(cancellable))
    assert is_cancelled_error(info.value)
    channel.try_send(6)
    assert channel.try_receive() == 6


def test_cancel_races_send_from_another_thread():
    """Streams, channel: a receive cancelled from another thread while an
    item arrives either gets the item or leaves it in the channel, never
    both and never neither."""
    channel = Nursery.Channel(1)
    outcomes = {'received': 0, 'left': 0}
    for n in range(300):
        cancellable = Gio.Cancellable()
        results = []
        channel.receive_async(cancellable, lambda channel, result: results.append(result))
        canceller = threading.Thread(target=cancellable.cancel)
        canceller.start()
        channel.try_send(n)
        canceller.join()
        run_until(lambda: results)
        try:
            assert channel.receive_finish(results[0]) == n
        except GLib.Error as error:
            assert is_cancelled_error(error)
            assert channel.try_receive() == n
            outcomes['left'] += 1
        else:
            with pytest.raises(GLib.Error):
                channel.try_receive()
            outcomes['received'] += 1
    print('received by the receiver %(received)d times, left in the channel %(left)d times'
          % outcomes)


# Channels: waiting from Python


def test_send_on_the_owner_thread_lets_children_run():
    """Streams, channel: send() on the main thread iterates its context
    while the channel is full, so an in-context consumer child drains it."""
    def consumer(task, channel):
        got = []

        def received(channel, result):
            try:
                got.append(channel.receive_finish(result))
            except GLib.Error as error:
                assert is_closed_error(error)
                task.return_value(got)
                return
            channel.receive_async(None, received)
        channel.receive_async(task.get_cancellable(), received)

    with Nursery.Group() as group:
        channel = Nursery.Channel(1)
        task = group.spawn(consumer, channel, async_return=True)
        for i in range(20):
            channel.send(i)
        channel.close()
    assert task.result == list(range(20))


def test_waiting_on_a_thread_with_its_own_context_iterates_it():
    """Streams, channel: on a thread that pushed a context, send() waits
    by iterating that context (an idle on it runs meanwhile), and the item
    reaches a receive() on the main thread."""
    channel = Nursery.Channel(0)
    ran = []
    errors = []

    def sender():
        context = GLib.MainContext.new()
        context.push_thread_default()
        try:
            idle = GLib.idle_source_new()
            idle.set_callback(lambda *args: ran.append(threading.get_ident()))
            idle.attach(context)
            channel.send('from thread')
        except BaseException as exc:
            errors.append(exc)
        finally:
            context.pop_thread_default()

    thread = threading.Thread(target=sender)
    thread.start()
    assert channel.receive() == 'from thread'
    thread.join()
    assert errors == []
    assert ran == [thread.ident]


def test_thread_consumer_is_released_by_group_cancel():
    """Streams, channel, with R12: a thread child waiting in receive()
    with its task's cancellable is released when the group is cancelled,
    so the group can be joined."""
    channel = Nursery.Channel(0)

    def consumer(task):
        return list(channel.iter(task.get_cancellable()))

    with Nursery.Group() as group:
        task = group.spawn_in_thread(consumer)
        # A rendezvous: once send() returns, the consumer has the item.
        channel.send(1)
        group.cancel()
    assert task.state == TS.CANCELLED


# Channels: throughput


N_PIPELINE = 100_000


def test_pipeline_100k_in_context():
    """Streams, channel: 100 000 items through a capacity-16 channel from
    an in-context producer child to an in-context consumer child, both
    with callbacks: nothing lost, nothing twice, order kept."""
    def producer(task, channel):
        items = iter(range(N_PIPELINE))

        def send_next(channel=channel, result=None):
            if result is not None:
                channel.send_finish(result)
            item = next(items, None)
            if item is None:
                channel.close()
                task.return_value(N_PIPELINE)
                return
            channel.send_async(item, None, send_next)
        send_next()

    def consumer(task, channel):
        got = []

        def received(channel, result):
            try:
                got.append(channel.receive_finish(result))
            except GLib.Error as error:
                assert is_closed_error(error)
                task.return_value(got)
                return
            channel.receive_async(None, received)
        channel.receive_async(None, received)

    with Nursery.Group() as group:
        channel = Nursery.Channel(16)
        group.spawn(producer, channel, async_return=True)
        consumed = group.spawn(consumer, channel, async_return=True)
    assert consumed.result == list(range(N_PIPELINE))


def test_pipeline_thread_producer_blocking_send():
    """Streams, channel: a thread child sends with the blocking form, an
    in-context child receives with ``for`` (iterating the owner context):
    20 000 items through a capacity-16 channel, in order, none lost."""
    n_items = 20_000

    def producer(task, channel):
        for i in range(n_items):
            channel.send(i, task.get_cancellable())
        channel.close()

    with Nursery.Group() as group:
        channel = Nursery.Channel(16)
        group.spawn_in_thread(producer, channel)
        consumed = group.spawn(lambda task: list(channel.iter(task.get_cancellable())))
    assert consumed.result == list(range(n_items))


# Channels: randomized


def random_round(rng, ledger):
    """One round: random sends, receives, try_ forms, cancels and a close
    on a channel of random capacity, then a drain. Each item must end up
    received exactly once or refused to its sender."""
    channel = Nursery.Channel(rng.randrange(4))
    context = GLib.MainContext.default()
    cancellables = []
    received = []
    refused = []
    pending = [0]
    next_item = 0

    def sent(channel, result, item):
        pending[0] -= 1
        try:
            channel.send_finish(result)
        except GLib.Error as error:
            assert is_closed_error(error) or is_cancelled_error(error)
            refused.append(item)

    def got(channel, result):
        pending[0] -= 1
        try:
            received.append(channel.receive_finish(result))
        except GLib.Error as error:
            assert is_closed_error(error) or is_cancelled_error(error)

    for _ in range(60):
        cancellable = Gio.Cancellable()
        cancellables.append(cancellable)
        choice = rng.randrange(20)
        if choice < 7:
            channel.send_async(next_item, cancellable, sent, next_item)
            next_item += 1
            pending[0] += 1
        elif choice < 12:
            channel.receive_async(cancellable, got)
            pending[0] += 1
        elif choice < 15:
            rng.choice(cancellables).cancel()
        elif choice == 15:
            try:
                channel.try_send(next_item)
            except GLib.Error as error:
                assert is_would_block(error) or is_closed_error(error)
                refused.append(next_item)
            next_item += 1
        elif choice == 16:
            try:
                received.append(channel.try_receive())
            except GLib.Error as error:
                assert is_would_block(error) or is_closed_error(error)
        elif choice == 17 and rng.randrange(4) == 0:
            channel.close()
        else:
            context.iteration(False)

    channel.close()
    run_until(lambda: pending[0] == 0)
    received.extend(channel)
    assert channel.get_n_items() == 0
    assert len(received) == len(set(received)), 'an item was received twice'
    assert set(received).isdisjoint(refused), 'a refused item was received'
    assert sorted(received + refused) == list(range(next_item)), 'an item was lost'
    ledger['received'] += len(received)
    ledger['refused'] += len(refused)


def test_channel_randomized():
    """Streams, channel: random producers, consumers, cancels and closes;
    every item sent is received exactly once or reported back to its
    sender. The seed is printed; NURSERY_TEST_SEED reproduces a run."""
    seed = int(os.environ.get('NURSERY_TEST_SEED', random.randrange(2 ** 32)))
    print('seed %d (set NURSERY_TEST_SEED to reproduce)' % seed)
    rng = random.Random(seed)
    ledger = {'received': 0, 'refused': 0}
    for _ in range(300):
        random_round(rng, ledger)
    print('%(received)d items received, %(refused)d refused' % ledger)
    assert ledger['received'] > 0 and ledger['refused'] > 0
