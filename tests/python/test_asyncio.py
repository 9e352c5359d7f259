# test_asyncio.py: `async with Nursery.Group()` on an asyncio loop that runs
# on GLib's main context (python3-gbulb; PyGObject >= 3.50's gi.events too
# where present): coroutine children, peer-consistent exits (docs/rules.md
# R7, R8, R10, R12, R14, R15, R16, R17, R18, R20)
#
# Copyright 2026 The Nursery authors
# SPDX-License-Identifier: LGPL-2.1-or-later

import asyncio
import contextvars
import gc
import weakref

import pytest
from gi.repository import GLib, Nursery

from helpers import GUARD_SECONDS, is_cancelled_error, my_error

TS = Nursery.TaskState
async def forever(task):
    """A coroutine child that runs until it is cancelled."""
    await asyncio.Event().wait()


async def value_after(task, value, delay=0):
    await asyncio.sleep(delay)
    return value


async def raise_after(task, exc, delay=0):
    await asyncio.sleep(delay)
    raise exc


# Coroutine, plain and thread children

def test_coroutine_plain_and_thread_children(run):
    """R1, R2: spawn() of an async def runs it as an asyncio task; plain
    and thread functions still work; `await task` returns each result."""
    async def main():
        async with Nursery.Group(name='mixed') as group:
            coro = group.spawn(value_after, 'coro', 0.01)
            plain = group.spawn(lambda task: 'plain')
            thread = group.spawn_in_thread(lambda task, x: x * 2, 21)
            assert await coro == 'coro'
        return coro, plain, thread, await plain, await thread

    coro, plain, thread, plain_value, thread_value = run(main())
    assert [coro.state, plain.state, thread.state] == [TS.SUCCEEDED] * 3
    assert coro.result == 'coro' and coro.name == 'value_after'
    assert (plain_value, thread_value) == ('plain', 42)


def test_start_soon_coroutine_child(run):
    """start_soon() of an async def inside `async with` runs it as an
    asyncio task too, without a handle; its failure still reaches the
    group's exit."""
    results = []

    async def child(task, x):
        await asyncio.sleep(0)
        results.append(x)

    async def main():
        async with Nursery.Group() as group:
            assert group.start_soon(child, 5) is None
        with pytest.raises(ExceptionGroup) as info:
            async with Nursery.Group() as group:
                group.start_soon(raise_after, KeyError('k'))
        return info.value

    failure = run(main())
    assert results == [5]
    assert isinstance(failure.exceptions[0], KeyError)


def test_await_task_raises_the_child_exception(run):
    """R8: `await task` raises what the coroutine child raised."""
    async def main():
        with pytest.raises(ExceptionGroup):
            async with Nursery.Group(policy=Nursery.Policy.SUPERVISE) as group:
                task = group.spawn(raise_after, KeyError('k'))
                with pytest.raises(KeyError):
                    await task
        return task

    task = run(main())
    assert task.state == TS.FAILED and isinstance(task.exception, KeyError)


def test_cancel_in_the_first_step_reaches_the_first_await(run):
    """R12, 3b: a coroutine child cancelled before it first suspends (its
    cancellation is watched from there on) gets CancelledError at that
    first await and ends CANCELLED; one that never suspends just ends."""
    seen = []

    async def cancels_itself(task):
        task.cancel()
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            seen.append('cancelled at the first await')
            raise

    async def quick(task):
        return 'quick'

    async def main():
        async with Nursery.Group() as group:
            slow = group.spawn(cancels_itself)
            fast = group.spawn(quick)
        return slow, fast

    slow, fast = run(main())
    assert seen == ['cancelled at the first await']
    assert slow.state == TS.CANCELLED
    assert fast.state == TS.SUCCEEDED and fast.result == 'quick'


def test_task_cancel_cancels_the_coroutine(run):
    """R12: task.cancel() cancels the asyncio task at its next await; the
    child ends CANCELLED, the group leaves quietly."""
    seen = []

    async def child(task):
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            seen.append('cancelled')
            raise

    async def main():
        async with Nursery.Group() as group:
            task = group.spawn(child)
            await asyncio.sleep(0.01)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
        return task

    task = run(main())
    assert task.state == TS.CANCELLED and is_cancelled_error(task.error)
    assert seen == ['cancelled']


def test_coroutine_child_cleans_up_after_cancel_and_reraises(run):
    """R12, R15: a coroutine child that catches CancelledError may await
    its cleanup before re-raising; the group waits for it."""
    steps = []

    async def child(task):
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            steps.append('caught')
            await asyncio.sleep(0.01)
            steps.append('cleaned up')
            raise

    async def main():
        async with Nursery.Group() as group:
            task = group.spawn(child)
            await asyncio.sleep(0.01)
            group.cancel()
        steps.append('joined')
        return task

    task = run(main())
    assert steps == ['caught', 'cleaned up', 'joined']
    assert task.state == TS.CANCELLED


def test_own_cancel_leaves_quietly_and_cancels_the_body(run):
    """R7: the group's own cancel() is quiet; the body is cancelled at its
    next await, as trio's cancel scope."""
    reached = []

    async def main():
        async with Nursery.Group() as group:
            tasks = [group.spawn(forever), group.spawn_in_thread(wait_cancelled)]
            await asyncio.sleep(0.01)
            group.cancel()
            await asyncio.sleep(GUARD_SECONDS)
            reached.append(True)
        return tasks

    tasks = run(main())
    assert reached == []
    assert [task.state for task in tasks] == [TS.CANCELLED] * 2


def wait_cancelled(task):
    """A thread child that ends once cancelled (bounded by the guard)."""
    cancellable = task.get_cancellable()
    context = GLib.MainContext()
    context.push_thread_default()
    try:
        source = cancellable.source_new()
        source.set_callback(lambda *args: False)
        source.attach(context)
        guard = GLib.timeout_source_new_seconds(GUARD_SECONDS)
        guard.set_callback(lambda *args: False)
        guard.attach(context)
        while not cancellable.is_cancelled() and not guard.is_destroyed():
            context.iteration(True)
        source.destroy()
        guard.destroy()
    finally:
        context.pop_thread_default()
    task.return_error_if_cancelled()


# Fail-fast: a child failure cancels the body

def test_child_failure_cancels_the_body(run):
    """R10 and asyncio.TaskGroup: under fail-fast a child failure cancels
    the body at its next await; the block raises the failure alone (the
    body's cancellation is never reported), matched by except*."""
    caught = []

    async def main():
        try:
            async with Nursery.Group() as group:
                sibling = group.spawn(forever)
                group.spawn(raise_after, ValueError('boom'), 0.01)
                await asyncio.sleep(GUARD_SECONDS)
        except* ValueError as eg:
            caught.extend(eg.exceptions)
        return sibling

    sibling = run(main())
    assert [str(exc) for exc in caught] == ['boom']
    assert sibling.state == TS.CANCELLED


def test_body_exception_and_child_failures_in_one_group(run):
    """R8, R10: the body's exception and every child failure, body first,
    in one ExceptionGroup; a C-made failure stays a GLib.Error."""
    async def main():
        with pytest.raises(ExceptionGroup) as info:
            async with Nursery.Group(policy=Nursery.Policy.SUPERVISE) as group:
                group.spawn(raise_after, KeyError('child'))
                group.spawn(lambda task: task.return_error(my_error('glib')))
                await asyncio.sleep(0.02)
                raise TypeError('body')
        return info.value

    eg = run(main())
    # Children in completion order: the plain child failed at once.
    assert [type(exc) for exc in eg.exceptions] == [TypeError, GLib.Error, KeyError]
    assert eg.exceptions[1].message == 'glib'


def test_child_keyboard_interrupt_wins_over_body_error(run):
    """R8: a child's KeyboardInterrupt propagates as itself after the
    join, even when the body raised TypeError."""
    def interrupt(task):
        raise KeyboardInterrupt

    async def main():
        with pytest.raises(KeyboardInterrupt):
            async with Nursery.Group(policy=Nursery.Policy.SUPERVISE) as group:
                task = group.spawn(interrupt)
                await asyncio.sleep(0.01)
                raise TypeError('body')
        return task

    assert run(main()).state == TS.FAILED


# Outside cancellation and deadlines

def test_wait_for_cancels_the_block(run):
    """R12, R14: asyncio.wait_for() cancelling the host cancels the group,
    joins it, and re-raises CancelledError (wait_for's TimeoutError)."""
    tasks = []

    async def block():
        async with Nursery.Group() as group:
            tasks.append(group.spawn(forever))
            tasks.append(group.spawn_in_thread(wait_cancelled))
            await asyncio.sleep(GUARD_SECONDS)

    async def main():
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(block(), 0.05)

    run(main())
    assert [task.state for task in tasks] == [TS.CANCELLED] * 2


def test_outside_cancel_during_the_join_re_raises(run):
    """R12: a host cancelled while the block joins cancels the group and
    still raises CancelledError after the join."""
    tasks = []

    async def block():
        async with Nursery.Group() as group:
            tasks.append(group.spawn(forever))

    async def main():
        host = asyncio.ensure_future(block())
        await asyncio.sleep(0.02)
        host.cancel()
        with pytest.raises(asyncio.CancelledError):
            await host

    run(main())
    assert tasks[0].state == TS.CANCELLED


def test_group_deadline_raises_timeout_error(run):
    """R16, R17: a group deadline makes the block raise TimeoutError, the
    TIMED_OUT GLib.Error being its __cause__."""
    async def main():
        with pytest.raises(TimeoutError) as info:
            async with Nursery.Group(timeout=0.02) as group:
                task = group.spawn(forever)
                await asyncio.sleep(GUARD_SECONDS)
        return task, info.value

    task, exc = run(main())
    assert exc.__cause__.matches(GLib.quark_from_string('g-io-error-quark'), 24)
    assert task.state == TS.CANCELLED


def test_nested_group_cancelled_by_the_outer_failure(run):
    """R14: an inner `async with` in the body is cancelled with the outer
    group's failure; the outer block reports the failure only."""
    inner_tasks = []

    async def main():
        with pytest.raises(ExceptionGroup) as info:
            async with Nursery.Group(name='outer') as outer:
                outer.spawn(raise_after, ValueError('outer child'), 0.02)
                async with Nursery.Group(name='inner') as inner:
                    inner_tasks.append(inner.spawn(forever))
                    await asyncio.sleep(GUARD_SECONDS)
        return info.value

    eg = run(main())
    assert [str(exc) for exc in eg.exceptions] == ['outer child']
    assert inner_tasks[0].state == TS.CANCELLED


def test_coroutine_child_hosts_a_nested_group(run):
    """R14: a coroutine child may itself use `async with`; cancelling the
    outer group cancels the inner children."""
    inner_tasks = []

    async def parent(task):
        async with Nursery.Group() as inner:
            inner_tasks.append(inner.spawn(forever))

    async def main():
        async with Nursery.Group() as group:
            task = group.spawn(parent)
            await asyncio.sleep(0.02)
            group.cancel()
        return task

    task = run(main())
    assert task.state == TS.CANCELLED
    assert inner_tasks[0].state == TS.CANCELLED


# start(), as_completed(), channels

def test_await_start(run):
    """R18: `await group.start(async_fn)` returns (task, value) once the
    child called task.started(value); it keeps running after."""
    async def serve(task, port):
        task.started(port)
        await asyncio.Event().wait()

    async def main():
        async with Nursery.Group() as group:
            task, port = await group.start(serve, 8080)
            assert task.state == TS.RUNNING
            group.cancel()
        return task, port

    task, port = run(main())
    assert port == 8080 and task.state == TS.CANCELLED


def test_await_start_raises_when_the_child_fails_first(run):
    """R18: a child failing before started() fails the start caller, not
    the group."""
    async def main():
        async with Nursery.Group() as group:
            with pytest.raises(GLib.Error) as info:
                await group.start(raise_after, KeyError('early'))
        return group, info.value

    group, error = run(main())
    assert isinstance(error.__cause__, KeyError)
    assert group.get_n_failed() == 0


def test_async_for_as_completed(run):
    """R13: `async for task in group.as_completed()` yields the children
    in completion order, each once."""
    async def main():
        async with Nursery.Group() as group:
            slow = group.spawn(value_after, 'slow', 0.05)
            fast = group.spawn(value_after, 'fast', 0.0)
            middle = group.spawn(value_after, 'middle', 0.02)
            order = [task async for task in group.as_completed()]
        return order, [fast, middle, slow]

    order, expected = run(main())
    assert order == expected


def test_channel_send_receive_and_async_for(run):
    """R26: `await channel.send()`, `await channel.receive()` and
    `async for` between coroutine children, FIFO, ended by close()."""
    async def producer(task, channel):
        for item in ['a', 1, {'x': 2}]:
            await channel.send(item)
        channel.close()

    async def consumer(task, channel):
        return [item async for item in channel]

    async def main():
        channel = Nursery.Channel(0)
        async with Nursery.Group() as group:
            group.spawn(producer, channel)
            received = group.spawn(consumer, channel)
        other = Nursery.Channel(1)
        await other.send('one')
        return received.result, await other.receive()

    received, one = run(main())
    assert received == ['a', 1, {'x': 2}] and one == 'one'


# contextvars, cycles, misuse

REQUEST = contextvars.ContextVar('request', default='none')


def test_children_run_in_a_copy_of_the_spawner_context(run):
    """docs/bindings.md (anyio's rule): sync, thread and coroutine children see
    the spawner's context; what they set stays theirs."""
    def plain(task):
        seen = REQUEST.get()
        REQUEST.set('plain')
        return seen

    async def coro(task):
        seen = REQUEST.get()
        REQUEST.set('coro')
        return seen

    async def main():
        REQUEST.set('spawner')
        async with Nursery.Group() as group:
            tasks = [group.spawn(plain), group.spawn_in_thread(plain), group.spawn(coro)]
        return [task.result for task in tasks], REQUEST.get()

    results, after = run(main())
    assert results == ['spawner'] * 3 and after == 'spawner'


def test_async_group_and_tasks_freed_by_refcount(run):
    """R20: after `async with`, the group and its finished tasks (failed
    ones included) are freed by reference counting alone."""
    class Oops(Exception):
        pass

    async def main():
        refs = []
        try:
            async with Nursery.Group(policy=Nursery.Policy.SUPERVISE) as group:
                try:
                    refs.append(weakref.ref(group.spawn(value_after, 1)))
                    refs.append(weakref.ref(group.spawn(raise_after, Oops())))
                    refs.append(weakref.ref(group.spawn_in_thread(lambda task: 2)))
                    refs.append(weakref.ref(group))
                finally:
                    del group
        except* Oops:
            pass
        await asyncio.sleep(0)
        return refs

    gc.collect()
    gc.disable()
    try:
        refs = run(main())
        context = GLib.MainContext.default()
        while context.pending():
            context.iteration(False)
        assert [ref() for ref in refs] == [None] * len(refs)
    finally:
        gc.enable()


def test_coroutine_traceback_starts_at_the_child(run):
    """R8: a coroutine child's exception starts at its own frame."""
    async def broken(task):
        raise KeyError('x')

    async def main():
        with pytest.raises(ExceptionGroup) as info:
            async with Nursery.Group() as group:
                group.spawn(broken)
        return info.value.exceptions[0]

    exc = run(main())
    assert exc.__traceback__.tb_frame.f_code.co_name == 'broken'


def test_async_def_refused_in_a_thread(run):
    """docs/bindings.md: an async def where a plain function is required is a
    TypeError; so is a generator function."""
    def generator(task):
        yield

    async def main():
        async with Nursery.Group() as group:
            with pytest.raises(TypeError, match='coroutine function'):
                group.spawn_in_thread(forever)
            with pytest.raises(TypeError, match='generator function'):
                group.spawn(generator)
        return group

    assert run(main()).get_n_finished() == 0


def test_returned_coroutine_runs_as_a_coroutine_child(run):
    """docs/bindings.md: a plain function (a lambda) returning a coroutine runs
    it as a coroutine child inside `async with`."""
    async def main():
        async with Nursery.Group() as group:
            task = group.spawn(lambda task: value_after(task, 'wrapped'))
        return task

    task = run(main())
    assert task.result == 'wrapped'
