# test_peer_anyio_trio.py: anyio's task group tests and trio's nursery tests,
# scenario by scenario, on Nursery's asyncio face (docs/rules.md section 3b)
#
# Copyright 2026 The Nursery authors
# SPDX-License-Identifier: LGPL-2.1-or-later

"""Each test names the scenario it ports (anyio's tests/test_taskgroups.py,
trio's src/trio/_core/_tests/test_run.py). The facts are theirs, adapted to
Nursery's API: a child is ``func(task, *args)``, ``start()`` returns
``(task, value)``, a group's own cancel() is anyio's
``tg.cancel_scope.cancel()``, ``Group(timeout=)`` is ``fail_after()``.
Where Nursery's contract differs (R5: a child cancelled before its turn
never runs), the test checks the contract and says so."""

import asyncio
import contextvars
import functools
import gc
import math
import sys
import time
import traceback
import types
import weakref

import pytest
from gi.repository import Gio, GLib, Nursery

from helpers import GUARD_SECONDS, IO_ERROR

TS = Nursery.TaskState
NURSERY_ERROR = Nursery.error_quark()


async def forever(task):
    await asyncio.Event().wait()


async def fail_in_finally(task, text, delay=0.01):
    """anyio's async_error: raises @text even when cancelled."""
    try:
        if delay:
            await asyncio.sleep(delay)
    finally:
        raise Exception(text)


def host_cancelling():
    return asyncio.current_task().cancelling()


# Spawning: closed groups, spawning while joining

def test_anyio_already_closed(run):
    # anyio test_already_closed, trio test_nursery_closure: a closed group
    # refuses start_soon() and spawn() of a coroutine, and makes no coroutine.
    async def main():
        async with Nursery.Group() as group:
            pass
        for spawn in (group.start_soon, group.spawn):
            with pytest.raises(GLib.Error) as info:
                spawn(fail_in_finally, 'fail')
            assert info.value.matches(NURSERY_ERROR, Nursery.Error.CLOSED)

    run(main())


def test_anyio_success(run):
    # anyio test_success: two start_soon() coroutine children both run.
    results = set()

    async def add(task, value):
        results.add(value)

    async def main():
        async with Nursery.Group() as group:
            group.start_soon(add, 'a')
            group.start_soon(add, 'b')

    run(main())
    assert results == {'a', 'b'}


def test_trio_nursery_closure_spawn_while_joining(run):
    # anyio test_start_soon_while_running, trio test_nursery_closure: a child
    # may spawn into its group while the block joins; once left, it is closed.
    ran = []

    async def second(task):
        await asyncio.sleep(0)
        ran.append('second')

    async def first(task, group):
        await asyncio.sleep(0)
        group.start_soon(second)
        ran.append('first')

    async def main():
        async with Nursery.Group() as group:
            group.start_soon(first, group)
        with pytest.raises(GLib.Error) as info:
            group.start_soon(second)
        assert info.value.matches(NURSERY_ERROR, Nursery.Error.CLOSED)

    run(main())
    assert ran == ['first', 'second']


def test_anyio_start_soon_after_error(run):
    # anyio test_start_soon_after_error: a body error raises an
    # ExceptionGroup and closes the group; a later spawn is refused.
    async def main():
        with pytest.raises(ExceptionGroup) as info:
            async with Nursery.Group() as group:
                1 / 0
        assert [type(exc) for exc in info.value.exceptions] == [ZeroDivisionError]
        with pytest.raises(GLib.Error) as closed:
            group.start_soon(forever)
        assert closed.value.matches(NURSERY_ERROR, Nursery.Error.CLOSED)

    run(main())


def test_trio_spawn_name(run):
    # trio test_spawn_name: a child is named after its function's qualname
    # unless named; a functools.partial child runs too.
    seen = []

    async def func1(task, expected):
        seen.append((task.name, expected))

    async def main():
        async with Nursery.Group() as group:
            group.spawn(func1, 'qualname')
            group.spawn(func1, 'given', name='func3')
            group.spawn(functools.partial(func1, expected='partial'))

    run(main())
    assert sorted(seen, key=lambda item: item[1]) == [
        ('func3', 'given'), (None, 'partial'),
        ('test_trio_spawn_name.<locals>.func1', 'qualname')]


# start() and started()

def test_anyio_start_no_value(run):
    # anyio test_start_no_value: started() without a value hands over None.
    async def taskfunc(task):
        task.started()

    async def main():
        async with Nursery.Group() as group:
            task, value = await group.start(taskfunc)
        return task, value

    task, value = run(main())
    assert value is None and task.state == TS.SUCCEEDED


def test_anyio_start_with_value(run):
    # anyio test_start_with_value, trio test_nursery_start: start() returns
    # the value given to started() once the child called it, and the
    # group then waits for the child.
    steps = []

    async def sleep_then_start(task, value):
        await asyncio.sleep(0.01)
        steps.append('started')
        task.started(value)
        await asyncio.sleep(0.01)
        steps.append('finished')

    async def main():
        async with Nursery.Group() as group:
            task, value = await group.start(sleep_then_start, 'foo')
            steps.append(('start returned', value, task.state))
        steps.append('left')

    run(main())
    assert steps == ['started', ('start returned', 'foo', TS.RUNNING), 'finished', 'left']


def test_anyio_start_called_twice(run, nursery_log):
    # anyio test_start_called_twice, trio test_nursery_start: a second
    # started() is refused (a critical, R18, where anyio raises) and the
    # first value stands.
    nursery_log.expect('*already started*')

    async def taskfunc(task):
        task.started('first')
        task.started('second')

    async def main():
        async with Nursery.Group() as group:
            task, value = await group.start(taskfunc)
        return task, value

    task, value = run(main())
    assert value == 'first' and task.state == TS.SUCCEEDED


def test_anyio_start_crash_before_started_call(run):
    # anyio test_start_crash_before_started_call, trio test_nursery_start and
    # test_trio_run_strict_before_started: a failure before started() is
    # start()'s (a GLib.Error caused by the very exception, R18), not the group's.
    raised = Exception('foo')

    async def taskfunc(task):
        raise raised

    async def main():
        async with Nursery.Group() as group:
            with pytest.raises(GLib.Error) as info:
                await group.start(taskfunc)
        return info.value, group

    error, group = run(main())
    assert error.matches(NURSERY_ERROR, Nursery.Error.FAILED)
    assert error.__cause__ is raised
    assert group.get_n_failed() == 0 and not group.is_cancelled()


def test_trio_run_strict_before_started_exception_group(run):
    # trio test_trio_run_strict_before_started: an ExceptionGroup raised
    # before started() reaches start() unwrapped (as the GLib.Error's cause).
    raised = ExceptionGroup('my group', [ValueError()])

    async def raiser(task):
        raise raised

    async def main():
        async with Nursery.Group() as group:
            with pytest.raises(GLib.Error) as info:
                await group.start(raiser)
        return info.value

    assert run(main()).__cause__ is raised


def test_anyio_start_crash_after_started_call(run):
    # anyio test_start_crash_after_started_call: after started() a failure
    # is the group's; start() still returned the value.
    async def taskfunc(task):
        task.started(2)
        raise Exception('foo')

    values = []

    async def main():
        with pytest.raises(ExceptionGroup) as info:
            async with Nursery.Group() as group:
                task, value = await group.start(taskfunc)
                values.append(value)
        return info.value

    eg = run(main())
    assert [str(exc) for exc in eg.exceptions] == ['foo'] and values == [2]


def test_anyio_start_no_started_call(run):
    # anyio test_start_no_started_call, trio test_nursery_start: a child
    # that returns without started() makes start() raise NOT_STARTED.
    async def taskfunc(task):
        pass

    async def main():
        async with Nursery.Group() as group:
            with pytest.raises(GLib.Error) as info:
                await group.start(taskfunc)
        return info.value

    assert run(main()).matches(NURSERY_ERROR, Nursery.Error.NOT_STARTED)


def test_anyio_start_cancelled(run):
    # anyio test_start_cancelled: start() in a cancelled group is cancelled
    # with the body; the block leaves quietly and the child never finishes
    # (R5: it never even runs, where anyio starts it).
    finished = []

    async def taskfunc(task):
        await asyncio.sleep(GUARD_SECONDS)
        finished.append(True)

    async def main():
        async with Nursery.Group() as group:
            group.cancel()
            await group.start(taskfunc)
            finished.append('body')
        return host_cancelling()

    assert run(main()) == 0
    assert finished == []


def test_anyio_start_native_host_cancelled(run):
    # anyio test_start_native_host_cancelled: the asyncio task awaiting
    # start() is cancelled from outside: the child is cancelled, the block
    # joins it and re-raises CancelledError.
    started, finished = [], []

    async def taskfunc(task):
        started.append(True)
        await asyncio.sleep(GUARD_SECONDS)
        finished.append(True)

    async def start_another():
        async with Nursery.Group() as group:
            await group.start(taskfunc)

    async def main():
        host = asyncio.get_running_loop().create_task(start_another())
        while not started:
            await asyncio.sleep(0)
        host.cancel()
        with pytest.raises(asyncio.CancelledError):
            await host

    run(main())
    assert started == [True] and finished == []


def test_anyio_start_cancel_after_error(run):
    # anyio test_start_cancel_after_error (#517): a failure in an inner
    # group cancels the body awaiting the outer group's start(); the start
    # child is cancelled too; the outer block raises the inner group.
    sleep_completed = []

    async def sleep_and_raise(task):
        await asyncio.sleep(0.01)
        raise RuntimeError('This should cancel the second start() call')

    async def sleep_only(task):
        await asyncio.sleep(GUARD_SECONDS)
        sleep_completed.append(True)
        task.started()

    async def main():
        with pytest.raises(ExceptionGroup) as info:
            async with Nursery.Group() as outer:
                async with Nursery.Group() as inner:
                    inner.start_soon(sleep_and_raise)
                    await outer.start(sleep_only)
        return info.value

    eg = run(main())
    assert isinstance(eg.exceptions[0], ExceptionGroup)
    assert isinstance(eg.exceptions[0].exceptions[0], RuntimeError)
    assert sleep_completed == []


def test_anyio_start_caller_cancelled_cancels_the_child(run):
    # anyio test_start_native_child_cancelled and trio's start(): cancelling
    # the coroutine awaiting start() before started() cancels the child
    # (R18); the group itself is not cancelled.
    ready = asyncio.Event()
    children = []

    async def never_ready(task):
        children.append(task)
        ready.set()
        await asyncio.sleep(GUARD_SECONDS)
        task.started()

    async def starter(task, group):
        await group.start(never_ready)

    async def main():
        async with Nursery.Group() as group:
            waiting = group.spawn(starter, group)
            await ready.wait()
            await asyncio.sleep(0)
            waiting.cancel()
        return group, waiting

    group, waiting = run(main())
    assert waiting.state == TS.CANCELLED
    assert children[0].state == TS.CANCELLED
    assert not group.is_cancelled()


def test_trio_nursery_start_with_cancelled_nursery(run):
    # trio test_nursery_start_with_cancelled_nursery: the target group of
    # start() is cancelled just before (or just after) started(); the
    # start child's own children are cancelled and nothing hangs.
    async def setup_group(task):
        async with Nursery.Group(name='target') as target:
            task.started(target)
            await forever(task)

    async def sleeping_children(task, fn):
        async with Nursery.Group() as group:
            group.start_soon(forever)
            group.start_soon(forever)
            await asyncio.sleep(0.01)
            fn()
            task.started()

    async def main():
        async with Nursery.Group() as group:
            setup, target = await group.start(setup_group)
            child, _ = await target.start(sleeping_children, target.cancel)
        results = [(setup.state, child.state)]
        async with Nursery.Group() as group:
            setup, target = await group.start(setup_group)
            child, _ = await target.start(sleeping_children, lambda: None)
            target.cancel()
        results.append((setup.state, child.state))
        return results

    assert run(main()) == [(TS.SUCCEEDED, TS.CANCELLED)] * 2


def test_trio_nursery_start_keeps_nursery_open(run):
    # trio test_nursery_start_keeps_nursery_open: start() calls made from
    # another group's children keep the target group open until they are
    # done, including one that crashes before started().
    steps = []

    async def sleep_a_bit(task, name):
        steps.append(name + ' running')
        await asyncio.sleep(0.01)
        task.started()
        await asyncio.sleep(0.01)
        steps.append(name + ' done')

    async def starter(task, group, name):
        await group.start(sleep_a_bit, name)

    async def sleep_then_crash(task):
        await asyncio.sleep(0.01)
        raise KeyError('crash')

    async def start_crashing(task, group):
        with pytest.raises(GLib.Error) as info:
            await group.start(sleep_then_crash)
        steps.append(type(info.value.__cause__))

    async def main():
        async with Nursery.Group() as group1:
            async with Nursery.Group() as group2:
                group1.start_soon(starter, group2, 'a')
                while not steps:
                    await asyncio.sleep(0)
                group1.start_soon(starter, group2, 'b')
            steps.append('group2 closed')
        async with Nursery.Group() as group1:
            async with Nursery.Group() as group2:
                group1.start_soon(start_crashing, group2)
                await asyncio.sleep(0)
                await asyncio.sleep(0)
            steps.append('group2 closed')

    run(main())
    assert steps == ['a running', 'b running', 'a done', 'b done', 'group2 closed',
                     KeyError, 'group2 closed']


# Failures and the body

def test_trio_nursery_main_block_error_basic(run):
    # trio test_nursery_main_block_error_basic, test_nursery_explicit_exception:
    # the body's exception, itself, in the ExceptionGroup.
    raised = ValueError('whoops')

    async def main():
        with pytest.raises(ExceptionGroup) as info:
            async with Nursery.Group():
                raise raised
        return info.value

    assert run(main()).exceptions == (raised,)


def test_trio_child_crash_basic(run):
    # trio test_child_crash_basic, test_child_crash_wakes_parent: a coroutine
    # child's exception, itself, in the ExceptionGroup.
    raised = ValueError('uh oh')

    async def erroring(task):
        raise raised

    async def main():
        with pytest.raises(ExceptionGroup) as info:
            async with Nursery.Group() as group:
                group.start_soon(erroring)
                await forever(None)
        return info.value

    assert run(main()).exceptions == (raised,)


def test_anyio_host_exception(run):
    # anyio test_host_exception, test_failing_host_task_cancels_children:
    # the body raises; its blocked child is cancelled; only the body's
    # exception is raised.
    result = []

    async def set_result(task, value):
        await asyncio.sleep(GUARD_SECONDS)
        result.append(value)

    async def main():
        with pytest.raises(ExceptionGroup) as info:
            async with Nursery.Group() as group:
                child = group.spawn(set_result, 'a')
                await asyncio.sleep(0.01)
                raise Exception('dummy error')
        return info.value, child

    eg, child = run(main())
    assert [str(exc) for exc in eg.exceptions] == ['dummy error']
    assert result == [] and child.state == TS.CANCELLED


def test_anyio_exception_cancels_siblings(run):
    # anyio test_exception_cancels_siblings, trio test_task_crash_propagation:
    # a child failure cancels a blocked sibling, which sees its cancellation.
    record = []

    async def child(task, fail):
        if fail:
            raise Exception('foo')
        try:
            await asyncio.sleep(GUARD_SECONDS)
        except asyncio.CancelledError:
            record.append('cancelled')
            raise
        record.append('completed')

    async def main():
        with pytest.raises(ExceptionGroup) as info:
            async with Nursery.Group() as group:
                group.start_soon(child, False)
                await asyncio.sleep(0.01)
                group.start_soon(child, True)
        return info.value

    eg = run(main())
    assert [str(exc) for exc in eg.exceptions] == ['foo'] and record == ['cancelled']


def test_anyio_exception_group_children(run):
    # anyio test_exception_group_children: a second child that fails while
    # being cancelled is reported too (R7, R8: errors win over cancellation).
    async def main():
        with pytest.raises(ExceptionGroup) as info:
            async with Nursery.Group() as group:
                group.start_soon(fail_in_finally, 'task1')
                group.start_soon(fail_in_finally, 'task2', GUARD_SECONDS)
        return info.value

    eg = run(main())
    assert [str(exc) for exc in eg.exceptions] == ['task1', 'task2']


def test_anyio_exception_group_host(run):
    # anyio test_exception_group_host: the body's exception first, then the
    # child that failed while cancelled by it.
    async def main():
        with pytest.raises(ExceptionGroup) as info:
            async with Nursery.Group() as group:
                group.start_soon(fail_in_finally, 'child', GUARD_SECONDS)
                await asyncio.sleep(0.01)
                raise Exception('host')
        return info.value

    eg = run(main())
    assert [str(exc) for exc in eg.exceptions] == ['host', 'child']


def test_trio_main_and_task_both_crash(run):
    # trio test_main_and_task_both_crash: the body, cancelled by a child's
    # failure, raises instead: both are reported, the body's first.
    async def crasher(task):
        raise ValueError

    async def main():
        with pytest.raises(ExceptionGroup) as info:
            async with Nursery.Group() as group:
                group.start_soon(crasher)
                try:
                    await forever(None)
                finally:
                    raise KeyError
        return info.value

    assert [type(exc) for exc in run(main()).exceptions] == [KeyError, ValueError]


def test_anyio_exception_group_filtering(run):
    # anyio test_exception_group_filtering, trio test_nursery_collapse: an
    # inner group in the body, cancelled by the outer failure while its own
    # child fails, is reported as its ExceptionGroup with no CancelledError.
    async def main():
        with pytest.raises(ExceptionGroup) as info:
            async with Nursery.Group() as outer:
                outer.start_soon(fail_in_finally, 'parent')
                async with Nursery.Group() as inner:
                    inner.start_soon(fail_in_finally, 'child', GUARD_SECONDS)
                    await asyncio.sleep(GUARD_SECONDS)
        return info.value, host_cancelling()

    eg, cancelling = run(main())
    nested, parent = eg.exceptions
    assert str(parent) == 'parent'
    assert isinstance(nested, ExceptionGroup)
    assert [str(exc) for exc in nested.exceptions] == ['child']
    assert cancelling == 0


def test_trio_nursery_stop_iteration(run):
    # trio test_nursery_stop_iteration: a StopIteration from the body is an
    # entry of the ExceptionGroup, not a RuntimeError.
    async def fail(task):
        raise ValueError

    async def main():
        with pytest.raises(ExceptionGroup) as info:
            async with Nursery.Group(policy=Nursery.Policy.SUPERVISE) as group:
                child = group.spawn(fail)
                with pytest.raises(ValueError):
                    await child
                raise StopIteration
        return info.value

    assert [type(exc) for exc in run(main()).exceptions] == [StopIteration, ValueError]


def test_trio_nursery_stop_async_iteration(run):
    # trio test_nursery_stop_async_iteration: children that raise
    # StopAsyncIteration inside an async iterator's __anext__ come out as
    # ExceptionGroup entries the iterator can unwrap.
    class Counter:
        def __init__(self, count):
            self.count, self.value = count, 0

        async def __anext__(self):
            await asyncio.sleep(0)
            if self.value >= self.count:
                raise StopAsyncIteration
            self.value += 1
            return self.value - 1

    class Zip:
        def __init__(self, *iterators):
            self.nexts = [it.__anext__ for it in iterators]

        def __aiter__(self):
            return self

        async def __anext__(self):
            items = [None] * len(self.nexts)

            async def accumulate(task, f, i):
                items[i] = await f()

            try:
                async with Nursery.Group() as group:
                    for i, f in enumerate(self.nexts):
                        group.start_soon(accumulate, f, i)
            except ExceptionGroup as eg:
                # raise in an except* block would wrap it again
                if all(isinstance(exc, StopAsyncIteration) for exc in eg.exceptions):
                    raise StopAsyncIteration from None
                raise
            return items

    async def main():
        return [items async for items in Zip(Counter(4), Counter(2))]

    assert run(main()) == [[0, 0], [1, 1]]


def test_anyio_keyboard_interrupt_from_a_nested_coroutine_child(run):
    # anyio test_unhandled_exception_group: a KeyboardInterrupt in a nested
    # group's coroutine child propagates as itself through both blocks.
    async def crash(task):
        await asyncio.sleep(0)
        raise KeyboardInterrupt

    async def nested(task):
        async with Nursery.Group() as group:
            group.start_soon(crash)
            await asyncio.sleep(GUARD_SECONDS)

    async def main():
        with pytest.raises(KeyboardInterrupt):
            async with Nursery.Group() as group:
                group.start_soon(nested)
                await asyncio.sleep(GUARD_SECONDS)

    run(main())


def test_trio_system_exit_from_a_coroutine_child(run):
    # trio/anyio BaseException handling: SystemExit from a coroutine child
    # propagates as itself, its sibling cancelled.
    async def leave(task):
        await asyncio.sleep(0)
        raise SystemExit(3)

    async def main():
        with pytest.raises(SystemExit) as info:
            async with Nursery.Group() as group:
                sibling = group.spawn(forever)
                group.start_soon(leave)
        return info.value, sibling

    exc, sibling = run(main())
    assert exc.code == 3 and sibling.state == TS.CANCELLED


# Cancellation

def test_anyio_level_cancellation(run):
    # anyio test_level_cancellation, trio test_precancelled_task: a child
    # cancelled before its turn never runs (R5, where anyio and trio run it
    # to its first await); one cancelled after its first step stops at its
    # next await.
    marker = []

    async def dummy(task):
        marker.append(1)
        await asyncio.sleep(0)
        marker.append(2)

    async def main():
        async with Nursery.Group() as group:
            before = group.spawn(dummy)
            group.cancel()
        async with Nursery.Group() as group:
            after = group.spawn(dummy)
            while not marker:
                await asyncio.sleep(0)
            group.cancel()
        return before, after

    before, after = run(main())
    assert marker == [1]
    assert before.state == after.state == TS.CANCELLED


def test_anyio_cancel_scope_in_child_task(run):
    # anyio test_cancel_scope_in_another_task, test_cancel_scope_in_child_task:
    # the body cancels a group a child opened; the child goes on, the
    # outer group is not cancelled.
    inner = []
    steps = []

    async def child(task):
        async with Nursery.Group() as local:
            inner.append(local)
            await asyncio.sleep(GUARD_SECONDS)
            steps.append('inner sleep completed')
        steps.append('child after inner group')

    async def main():
        async with Nursery.Group() as group:
            task = group.spawn(child)
            while not inner:
                await asyncio.sleep(0)
            inner[0].cancel()
            await asyncio.sleep(0.01)
            steps.append('host done')
        return group, task

    group, task = run(main())
    assert steps == ['child after inner group', 'host done']
    assert task.state == TS.SUCCEEDED and not group.is_cancelled()


def test_anyio_cancel_propagation(run):
    # anyio test_cancel_propagation, test_cancel_propagation_with_inner_spawn,
    # test_cancel_cascade: cancelling the outer group cancels a child blocked
    # in its own group; the child stops there, the outer block is quiet.
    reached = []

    async def g(task):
        async with Nursery.Group() as group:
            group.start_soon(forever)
            await asyncio.sleep(GUARD_SECONDS)
        reached.append('after inner group')
        raise Exception('foo')

    async def main():
        async with Nursery.Group() as group:
            task = group.spawn(g)
            await asyncio.sleep(0.01)
            group.cancel()
        return task

    assert run(main()).state == TS.CANCELLED
    assert reached == []


def test_trio_cancel_inheritance(run):
    # trio test_cancel_inheritance: cancelling a group reaches every leaf
    # of the nested groups its children opened.
    record = set()

    async def leaf(task, ident):
        try:
            await asyncio.sleep(GUARD_SECONDS)
        except asyncio.CancelledError:
            record.add(ident)
            raise

    async def worker(task, ident):
        async with Nursery.Group() as group:
            group.start_soon(leaf, ident + '-l1')
            group.start_soon(leaf, ident + '-l2')

    async def main():
        async with Nursery.Group() as group:
            group.start_soon(worker, 'w1')
            group.start_soon(worker, 'w2')
            await asyncio.sleep(0.01)
            group.cancel()

    run(main())
    assert record == {'w1-l1', 'w1-l2', 'w2-l1', 'w2-l2'}


def test_anyio_cancel_twice(run):
    # anyio test_cancel_twice: the same host task is cancelled by a group
    # twice in a row; each block leaves quietly and the host is left with
    # no pending cancellation.
    async def cancel_group(task, group):
        await asyncio.sleep(0)
        group.cancel()

    async def main():
        for _ in range(2):
            async with Nursery.Group() as group:
                group.start_soon(cancel_group, group)
                await asyncio.sleep(GUARD_SECONDS)
                pytest.fail('the body was not cancelled')
        return host_cancelling()

    assert run(main()) == 0


def test_anyio_cancel_exiting_task_group(run):
    # anyio test_cancel_exiting_task_group: a group cancelled while a child
    # joins its own group cancels that group's children; the join goes on.
    cancel_received = []

    async def waiter(task):
        try:
            await asyncio.sleep(GUARD_SECONDS)
        finally:
            cancel_received.append(True)

    async def subgroup(task):
        async with Nursery.Group() as group:
            group.start_soon(waiter)

    async def main():
        async with Nursery.Group() as group:
            group.start_soon(subgroup)
            await asyncio.sleep(0.01)
            group.cancel()

    run(main())
    assert cancel_received == [True]


def test_anyio_cancel_before_entering_group(run):
    # anyio test_cancel_before_entering_scope: a group cancelled before its
    # block is entered cancels the body at its first await, quietly.
    async def main():
        group = Nursery.Group()
        group.cancel()
        async with group:
            await asyncio.sleep(GUARD_SECONDS)
            pytest.fail('the body was not cancelled')
        return host_cancelling()

    assert run(main()) == 0


def test_anyio_escaping_cancelled_exception(run):
    # anyio test_escaping_cancelled_exception, test_cancel_counter_nested_scopes,
    # TestUncancel.test_uncancel_after_scope_cancel: the group's own cancel
    # leaves quietly, and the host task is not left "cancelling".
    async def main():
        async with Nursery.Group() as group:
            group.cancel()
            await asyncio.sleep(0)
        first = host_cancelling()
        async with Nursery.Group() as group:
            async with Nursery.Group():
                group.cancel()
                await asyncio.sleep(GUARD_SECONDS)
        return first, host_cancelling()

    assert run(main()) == (0, 0)


def test_anyio_uncancel_after_native_cancel(run):
    # anyio TestUncancel.test_uncancel_after_native_cancel: the host cancels
    # itself in the body: CancelledError comes out, the host still
    # "cancelling" once.
    async def main():
        task = asyncio.current_task()
        with pytest.raises(asyncio.CancelledError):
            async with Nursery.Group() as group:
                group.start_soon(forever)
                task.cancel()
                await asyncio.sleep(0)
        cancelling = task.cancelling()
        task.uncancel()
        return cancelling

    assert run(main()) == 1


def test_anyio_uncancel_after_scope_and_native_cancel(run):
    # anyio TestUncancel.test_uncancel_after_scope_and_native_cancel: the
    # group's cancel and an outside one together: CancelledError comes out,
    # counted once.
    async def main():
        task = asyncio.current_task()
        with pytest.raises(asyncio.CancelledError):
            async with Nursery.Group() as group:
                group.cancel()
                task.cancel()
                await asyncio.sleep(0)
        cancelling = task.cancelling()
        task.uncancel()
        return cancelling

    assert run(main()) == 1


def test_anyio_cancel_native_future_tasks(run):
    # anyio test_cancel_native_future_tasks: a child awaiting a bare asyncio
    # future is cancelled with its group.
    running = asyncio.Event()

    async def wait_native_future(task):
        running.set()
        await asyncio.get_running_loop().create_future()

    async def main():
        async with Nursery.Group() as group:
            task = group.spawn(wait_native_future)
            await running.wait()
            group.cancel()
        return task

    assert run(main()).state == TS.CANCELLED


def test_anyio_cancel_completed_task(run):
    # anyio test_cancel_completed_task: cancelling a group whose child has
    # already finished reports nothing to the loop's exception handler.
    exceptions = []

    async def noop(task):
        pass

    async def main():
        loop = asyncio.get_running_loop()
        loop.set_exception_handler(lambda loop, context: exceptions.append(context))
        try:
            async with Nursery.Group() as group:
                task = group.spawn(noop)
                await task
                group.cancel()
        finally:
            loop.set_exception_handler(None)
        return task

    assert run(main()).state == TS.SUCCEEDED
    assert exceptions == []


def test_anyio_cancelled_parent(run):
    # anyio test_cancelled_parent: a child spawned into a cancelled group by
    # a sibling never runs (R5); the block leaves quietly.
    ran = []

    async def child(task):
        ran.append(True)
        raise Exception('foo')

    running = asyncio.Event()
    spawned = []

    async def parent(task, group):
        try:
            running.set()
            await asyncio.sleep(GUARD_SECONDS)
        finally:
            group.start_soon(child)
            spawned.append(True)

    async def main():
        async with Nursery.Group() as group:
            group.start_soon(parent, group)
            await running.wait()
            group.cancel()

    run(main())
    assert spawned == [True] and ran == []


# Deadlines (Group(timeout=) is anyio's fail_after)

def test_anyio_fail_after_instant(run):
    # anyio test_fail_after[instant]: a deadline of 0 times the body out at
    # its first await: TimeoutError.
    async def main():
        with pytest.raises(TimeoutError):
            async with Nursery.Group(timeout=0):
                await asyncio.sleep(GUARD_SECONDS)
        return host_cancelling()

    assert run(main()) == 0


def test_anyio_fail_after_no_timeout(run):
    # anyio test_fail_after_no_timeout: math.inf is no deadline.
    async def main():
        async with Nursery.Group(timeout=math.inf) as group:
            await asyncio.sleep(0.01)
        return group.is_cancelled()

    assert run(main()) is False


def test_anyio_fail_after_after_cancellation(run):
    # anyio test_fail_after_after_cancellation: a group cancelled and left
    # does not stop the next group's deadline from firing.
    async def main():
        async with Nursery.Group() as group:
            group.cancel()
            await asyncio.Event().wait()
        reached = []
        with pytest.raises(TimeoutError):
            async with Nursery.Group(timeout=0.01):
                await asyncio.sleep(GUARD_SECONDS)
                reached.append(True)
        return reached

    assert run(main()) == []


def test_anyio_fail_after_cancelled_before_deadline(run):
    # anyio test_fail_after_cancelled_before_deadline: a group cancelled
    # before its deadline leaves quietly, no TimeoutError.
    async def main():
        async with Nursery.Group(timeout=GUARD_SECONDS) as group:
            group.cancel()
            await asyncio.sleep(0)

    run(main())


def test_anyio_nested_fail_after(run):
    # anyio test_nested_move_on_after: the outer deadline fires first; the
    # inner block is cancelled with it and the outer raises TimeoutError.
    steps = []

    async def main():
        with pytest.raises(TimeoutError):
            async with Nursery.Group(timeout=0.01):
                async with Nursery.Group(timeout=GUARD_SECONDS):
                    await asyncio.sleep(GUARD_SECONDS)
                    steps.append('sleep completed')
                steps.append('inner completed')
        return host_cancelling()

    cancelling = run(main())
    assert steps == [] and cancelling == 0


def test_anyio_timeout_error_with_multiple_cancellations(run):
    # anyio test_timeout_error_with_multiple_cancellations: a deadline that
    # cancels the body and a child at once raises one TimeoutError, for a
    # group deadline and for asyncio.timeout() around the block.
    async def main():
        with pytest.raises(TimeoutError):
            async with Nursery.Group(timeout=0.01) as group:
                group.start_soon(forever)
                await asyncio.sleep(GUARD_SECONDS)
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(0.01):
                async with Nursery.Group() as group:
                    group.start_soon(forever)
                    await asyncio.sleep(GUARD_SECONDS)
        return host_cancelling()

    assert run(main()) == 0


# Shielding (a shielded child; anyio's and trio's shielded scopes)

def test_anyio_shielding(run):
    # anyio test_shielding: shielded work completes though its group is
    # cancelled; the unshielded rest is cancelled.
    steps = []

    async def shielded(task):
        await asyncio.sleep(0.02)
        steps.append('shielded sleep completed')

    async def main():
        async with Nursery.Group() as group:
            task = group.spawn(shielded, shielded=True)
            other = group.spawn(forever)
            await asyncio.sleep(0)
            group.cancel()
        return task, other

    task, other = run(main())
    assert steps == ['shielded sleep completed']
    assert task.state == TS.SUCCEEDED and other.state == TS.CANCELLED


def test_anyio_shielding_mutate(run):
    # anyio test_shielding_mutate, trio test_cancel_shield_abort: a start
    # child shields itself, survives the group's cancel, then unshields and
    # is cancelled at its next await (R15).
    steps = []

    async def child(task):
        await asyncio.sleep(0.01)
        task.set_shielded(True)
        task.started()
        await asyncio.sleep(0.01)
        steps.append('completed')
        task.set_shielded(False)
        await asyncio.sleep(GUARD_SECONDS)
        steps.append('not cancelled')

    async def main():
        async with Nursery.Group() as group:
            task, _ = await group.start(child)
            group.cancel()
        return task

    assert run(main()).state == TS.CANCELLED
    assert steps == ['completed']


# contextvars, awaiting tasks after the block, garbage

VAR = contextvars.ContextVar('var', default='hmmm')


def test_trio_contextvar_multitask(run):
    # trio test_contextvar_multitask: a child's set() stays its own; a child
    # spawned after the body's set() sees it.
    seen = []

    async def t1(task):
        seen.append(VAR.get())
        VAR.set('hmmmm')
        await asyncio.sleep(0)
        seen.append(VAR.get())

    async def t2(task):
        seen.append(VAR.get())

    async def main():
        async with Nursery.Group() as group:
            group.start_soon(t1)
            await asyncio.sleep(0.01)
            seen.append(('body', VAR.get()))
            VAR.set('hmmmm')
            group.start_soon(t2)
            VAR.set('later')

    run(main())
    assert seen == ['hmmm', 'hmmmm', ('body', 'hmmm'), 'hmmmm']


def test_anyio_start_runs_in_a_copy_of_the_caller_context(run):
    # anyio's rule for start(): the start child runs in a copy of the start
    # caller's context, before and after started().
    seen = []

    async def child(task):
        seen.append(VAR.get())
        task.started()
        await asyncio.sleep(0)
        seen.append(VAR.get())
        VAR.set('child')

    async def main():
        async with Nursery.Group() as group:
            VAR.set('caller')
            await group.start(child)
            VAR.set('changed')
        return VAR.get()

    assert run(main()) == 'changed'
    assert seen == ['caller', 'caller']


def test_trio_tasks_awaited_after_the_block(run):
    # trio/anyio: a child's outcome stays readable after the block: await
    # gives the value, the exception, or CancelledError.
    async def value(task):
        return 'v'

    async def broken(task):
        raise KeyError('k')

    async def main():
        with pytest.raises(ExceptionGroup):
            async with Nursery.Group() as group:
                ok = group.spawn(value)
                await ok
                cancelled = group.spawn(forever)
                failed = group.spawn(broken)
        results = [await ok]
        with pytest.raises(KeyError):
            await failed
        with pytest.raises(asyncio.CancelledError):
            await cancelled
        return results, host_cancelling()

    assert run(main()) == (['v'], 0)


def test_trio_locals_destroyed_promptly_on_cancel(run):
    # trio test_locals_destroyed_promptly_on_cancel: a cancelled coroutine
    # child's locals are gone once the block is left.
    destroyed = []

    class A:
        pass

    running = asyncio.Event()

    async def child(task):
        a = A()
        weakref.finalize(a, destroyed.append, True)
        running.set()
        await asyncio.sleep(GUARD_SECONDS)

    async def main():
        async with Nursery.Group() as group:
            group.start_soon(child)
            await running.wait()
            group.cancel()
        return list(destroyed)

    assert run(main()) == [True]


def test_trio_nursery_cancel_doesnt_create_cyclic_garbage(run):
    # trio test_nursery_cancel_doesnt_create_cyclic_garbage,
    # test_simple_cancel_scope_usage_doesnt_create_cyclic_garbage: a
    # cancelled group and a crashed one leave no cyclic garbage.
    async def crasher(task):
        raise ValueError('this is a crash')

    async def main():
        async with Nursery.Group() as group:
            group.start_soon(forever)
            await asyncio.sleep(0)
            group.cancel()
        collected = []
        weakref.finalize(group, collected.append, True)
        del group
        try:
            async with Nursery.Group() as group:
                group.start_soon(crasher)
        except* ValueError:
            pass
        del group
        await asyncio.sleep(0)
        return collected

    gc.collect()
    old_flags = gc.get_debug()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        collected = run(main())
        context = GLib.MainContext.default()
        while context.pending():
            context.iteration(False)
        gc.collect()
        garbage = [obj for obj in gc.garbage
                   if isinstance(obj, (Nursery.Group, Nursery.Task, BaseException))]
    finally:
        gc.set_debug(old_flags)
        gc.garbage.clear()
    assert collected == [True]
    assert garbage == []


# Scenarios the first port left out (a second pass over both files)

# start() edge cases

def test_anyio_no_called_started_twice(run):
    # anyio test_no_called_started_twice: start() is called (its awaitable
    # made), the group cancelled, then awaited: the block leaves quietly and
    # the host is not left cancelling.
    async def taskfunc(task):
        task.started()

    async def main():
        async with Nursery.Group() as group:
            awaitable = group.start(taskfunc)
            group.cancel()
            await awaitable
        return host_cancelling()

    assert run(main()) == 0


def test_anyio_start_native_child_cancelled(run):
    # anyio test_start_native_child_cancelled: the start child's own asyncio
    # task is cancelled natively before started(). That cancels that one
    # child (R13, as asyncio.TaskGroup ignores a cancelled child): start()
    # raises CancelledError, as awaiting any cancelled child does; the
    # starter, whose inner block re-raises it, ends cancelled; no failure.
    child_tasks, finished = [], []

    async def taskfunc(task):
        child_tasks.append((task, asyncio.current_task()))
        await asyncio.sleep(GUARD_SECONDS)
        finished.append(True)

    async def start_another(task):
        async with Nursery.Group() as inner:
            await inner.start(taskfunc)

    async def main():
        async with Nursery.Group() as group:
            starter = group.spawn(start_another)
            while not child_tasks:
                await asyncio.sleep(0)
            await asyncio.sleep(0)
            child_tasks[0][1].cancel()
        return group, starter

    group, starter = run(main())
    assert finished == []
    assert child_tasks[0][0].state == TS.CANCELLED
    assert starter.state == TS.CANCELLED
    assert group.get_n_failed() == 0


def test_anyio_native_cancel_of_a_coroutine_child(run):
    # The same rule outside start() (anyio test_start_native_child_cancelled,
    # asyncio.TaskGroup): a coroutine child whose asyncio task is cancelled
    # natively ends CANCELLED; it is no failure and its siblings go on.
    handles = []

    async def child(task):
        handles.append(asyncio.current_task())
        await asyncio.sleep(GUARD_SECONDS)

    async def sibling(task):
        while not handles:
            await asyncio.sleep(0)
        await asyncio.sleep(0.01)
        return 'done'

    async def main():
        async with Nursery.Group() as group:
            cancelled = group.spawn(child)
            other = group.spawn(sibling)
            while not handles:
                await asyncio.sleep(0)
            await asyncio.sleep(0)
            handles[0].cancel()
        return group, cancelled, other

    group, cancelled, other = run(main())
    assert cancelled.state == TS.CANCELLED
    assert (other.state, other.result) == (TS.SUCCEEDED, 'done')
    assert group.get_n_failed() == 0 and not group.is_cancelled()


def test_anyio_propagate_native_cancellation_from_taskgroup(run):
    # anyio test_propagate_native_cancellation_from_taskgroup: the asyncio
    # task running a block with a child is cancelled from outside: the
    # child is cancelled and CancelledError comes out of the task.
    running = asyncio.Event()
    children = []

    async def sleeper(task):
        children.append(task)
        running.set()
        await asyncio.sleep(GUARD_SECONDS)

    async def taskfunc():
        async with Nursery.Group() as group:
            group.start_soon(sleeper)

    async def main():
        host = asyncio.get_running_loop().create_task(taskfunc())
        await running.wait()
        host.cancel()
        with pytest.raises(asyncio.CancelledError):
            await host

    run(main())
    assert children[0].state == TS.CANCELLED


def test_trio_nursery_start_calling_convention_and_closed(run):
    # trio test_nursery_start: a child whose call fails (it takes no task)
    # makes start() raise, the TypeError as the cause (R18), and the group
    # is not failed; a closed group refuses start() at once (R4).
    async def no_args():
        pass    # pragma: no cover

    async def main():
        async with Nursery.Group() as group:
            with pytest.raises(GLib.Error) as info:
                await group.start(no_args)
        with pytest.raises(GLib.Error) as closed:
            await group.start(forever)
        return info.value, closed.value, group

    error, closed, group = run(main())
    assert isinstance(error.__cause__, TypeError)
    assert closed.matches(NURSERY_ERROR, Nursery.Error.CLOSED)
    assert group.get_n_failed() == 0


def test_anyio_start_cancels_parent_scope(run):
    # anyio test_start_cancels_parent_scope (#685): start() awaited in a
    # block whose own group cancelled it cancels the start child, not the
    # target group; the inner block leaves quietly. (Whether the child got
    # to run before the cancellation came depends on the loop's order; if
    # not, R5 applies.)
    ran = []

    async def in_task_group(task):
        ran.append(True)
        await forever(task)

    async def main():
        async with Nursery.Group() as group:
            async with Nursery.Group() as inner:
                inner.cancel()
                await group.start(in_task_group)
        return group

    group = run(main())
    assert not group.is_cancelled() and ran in ([], [True])
    assert (group.get_n_finished(), group.get_n_failed()) == (1, 0)


def test_trio_nursery_start_with_a_cancelled_cancellable(run):
    # trio test_nursery_start (start() in a cancelled scope): a start()
    # whose cancellable is already cancelled raises CANCELLED, the
    # GLib.Error of a GIO cancellable, and the group is neither failed nor
    # cancelled. (R5: the child never runs, where trio runs it until its
    # first checkpoint.)
    ran = []

    async def just_started(task):
        ran.append(True)
        task.started('hi')
        await asyncio.sleep(0)

    async def main():
        cancellable = Gio.Cancellable()
        cancellable.cancel()
        async with Nursery.Group() as group:
            with pytest.raises(GLib.Error) as info:
                await group.start(just_started, cancellable=cancellable)
        return info.value, group

    error, group = run(main())
    assert error.matches(IO_ERROR, Gio.IOErrorEnum.CANCELLED)
    assert ran == [] and group.get_n_failed() == 0 and not group.is_cancelled()


# Cancellation counts of the host (asyncio's cancelling())

def test_anyio_cancel_message_replaced(run):
    # anyio TestUncancel.test_cancel_message_replaced: the host took an
    # outside cancellation and kept going (cancelling() stays 1); a group
    # in it cancels itself and the body raises a new CancelledError: the
    # group takes it as its own and leaves quietly.
    async def main():
        task = asyncio.current_task()
        try:
            task.cancel()
            await asyncio.sleep(0)
        except asyncio.CancelledError:
            async with Nursery.Group() as group:
                group.cancel()
                try:
                    await asyncio.sleep(0)
                except asyncio.CancelledError:
                    raise asyncio.CancelledError from None
        return task.cancelling()

    assert run(main()) == 1


def test_anyio_deadline_in_a_cancelled_host(run):
    # The same count in cleanup code: a host that caught its cancellation
    # runs a group with a deadline; the deadline raises TimeoutError, not
    # the host's old CancelledError (asyncio.timeout() does so since 3.12).
    async def main():
        task = asyncio.current_task()
        try:
            task.cancel()
            await asyncio.sleep(0)
        except asyncio.CancelledError:
            with pytest.raises(TimeoutError):
                async with Nursery.Group(timeout=0.01) as group:
                    group.start_soon(forever)
                    await asyncio.sleep(GUARD_SECONDS)
        return task.cancelling()

    assert run(main()) == 1


def test_anyio_failure_in_a_cancelled_host_is_no_new_cancellation(run):
    # The same count when a child fails in such cleanup code: the
    # ExceptionGroup is raised, and the host is not cancelled again at its
    # next await (only a cancellation from outside that came during the
    # block is handed back so).
    async def crasher(task):
        raise KeyError

    async def main():
        task = asyncio.current_task()
        try:
            task.cancel()
            await asyncio.sleep(0)
        except asyncio.CancelledError:
            with pytest.raises(ExceptionGroup):
                async with Nursery.Group() as group:
                    group.start_soon(crasher)
                    await asyncio.sleep(GUARD_SECONDS)
            await asyncio.sleep(0)
        return task.cancelling()

    assert run(main()) == 1


def test_anyio_cancel_pending_at_entry_still_wins(run):
    # The other side of that count (anyio TestUncancel.test_uncancel_after_scope_and_native_cancel
    # with the native cancel made just before the block): a cancellation
    # still pending when the block is entered is delivered inside it and
    # is no cancellation of the group's, though the group cancelled too.
    steps = []

    async def main():
        task = asyncio.current_task()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            async with Nursery.Group() as group:
                group.cancel()
                await asyncio.sleep(GUARD_SECONDS)
        steps.append('after the block')
        cancelling = task.cancelling()
        task.uncancel()
        return cancelling

    assert run(main()) == 1
    assert steps == ['after the block']


def test_trio_cancel_scope_nesting(run):
    # trio test_cancel_scope_nesting: two nested groups cancelled at once,
    # the inner first: the outer of the two takes the cancellation, the
    # innermost re-raises it, the outermost block goes on.
    steps = []

    async def main():
        async with Nursery.Group() as scope1:
            async with Nursery.Group() as scope2:
                try:
                    async with Nursery.Group() as scope3:
                        scope3.cancel()
                        scope2.cancel()
                        await asyncio.sleep(GUARD_SECONDS)
                except asyncio.CancelledError:
                    steps.append('scope3 re-raised')
                    raise
                steps.append('after scope3')
            steps.append('after scope2')
        return scope1.is_cancelled(), host_cancelling()

    assert run(main()) == (False, 0)
    assert steps == ['scope3 re-raised', 'after scope2']


def test_anyio_cancelled_not_caught(run):
    # anyio test_cancelled_not_caught, trio test_cancel_scope_nesting (a
    # pending cancellation popped off the stack is not delivered): a group
    # cancelled with no await after it leaves quietly, and nothing is
    # left pending in the host.
    async def main():
        async with Nursery.Group() as group:
            group.cancel()
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        return group.is_cancelled(), host_cancelling()

    assert run(main()) == (True, 0)


def test_anyio_cancel_before_entering_task_group(run):
    # anyio test_cancel_before_entering_task_group, trio test_trivial_yields
    # (closing a nursery is no checkpoint unless something in it is): an
    # empty block inside a cancelled group does not take the cancellation,
    # though its join waits for the next iteration (R6); the next await
    # does, and the cancelled group leaves quietly. So with a block whose
    # children all finished before its end.
    steps = []

    async def quick(task):
        steps.append('child')

    async def main():
        async with Nursery.Group() as group:
            group.cancel()
            async with Nursery.Group():
                pass
            steps.append('after empty block')
            await asyncio.sleep(GUARD_SECONDS)
            steps.append('not cancelled')    # pragma: no cover
        async with Nursery.Group() as group:
            async with Nursery.Group() as inner:
                inner.start_soon(quick)
                await asyncio.sleep(0.01)
                group.cancel()
            steps.append('after finished block')
            await asyncio.sleep(GUARD_SECONDS)
        return host_cancelling()

    assert run(main()) == 0
    assert steps == ['after empty block', 'child', 'after finished block']


def test_anyio_reraise_cancelled_in_excgroup(run):
    # anyio test_reraise_cancelled_in_excgroup: the group's CancelledError,
    # caught with except* and re-raised (Python 3.11 wraps it in a
    # BaseExceptionGroup), is still the group's own: quiet (R7), as trio
    # and anyio take it. A cancellation from outside so re-raised comes out
    # as the CancelledError it is.
    async def reraise(group):
        try:
            await asyncio.sleep(GUARD_SECONDS)
        except* asyncio.CancelledError:
            raise

    async def main():
        async with Nursery.Group() as group:
            group.cancel()
            await reraise(group)
        quiet = host_cancelling()
        task = asyncio.current_task()
        with pytest.raises(asyncio.CancelledError):
            async with Nursery.Group() as group:
                task.cancel()
                await reraise(group)
        cancelling = task.cancelling()
        task.uncancel()
        return quiet, cancelling, group.is_cancelled()

    assert run(main()) == (0, 1, True)


def test_trio_cancel_edge_cases_idempotent(run):
    # trio test_cancel_edge_cases: two cancels in a row are one; the block
    # leaves quietly. (Level-triggering is trio's and anyio's, not asyncio's:
    # a child may catch CancelledError and await its cleanup, docs/bindings.md.)
    async def main():
        async with Nursery.Group() as group:
            group.cancel()
            group.cancel()
            await asyncio.sleep(GUARD_SECONDS)
        return group.is_cancelled(), host_cancelling()

    assert run(main()) == (True, 0)


def test_anyio_single_cancellation_exc(run):
    # anyio test_single_cancellation_exc: an outer group cancels the body
    # while an inner block with a child waits: the inner block raises one
    # bare CancelledError (no group of them), the outer leaves quietly.
    raised = []

    async def main():
        async with Nursery.Group() as outer:
            try:
                async with Nursery.Group() as group:
                    group.start_soon(forever)
                    await asyncio.sleep(0.01)
                    outer.cancel()
                    await asyncio.sleep(GUARD_SECONDS)
            except BaseException as exc:
                raised.append(type(exc))
                raise
        return host_cancelling()

    assert run(main()) == 0
    assert raised == [asyncio.CancelledError]


def test_anyio_cancel_host_asyncgen(run):
    # anyio test_cancel_host_asyncgen: the host is a task running an async
    # generator's __anext__; the group's cancel reaches the body there and
    # the block leaves quietly.
    done = []

    async def host_task():
        async with Nursery.Group() as group:
            group.cancel()
            with pytest.raises(asyncio.CancelledError):
                await asyncio.sleep(0)
        done.append(host_cancelling())

    async def host_agen():
        await host_task()
        yield
        pytest.fail('__anext__ once only')    # pragma: no cover

    async def main():
        agen = host_agen()
        try:
            await asyncio.get_running_loop().create_task(agen.__anext__())
        finally:
            await agen.aclose()

    run(main())
    assert done == [0]


# Deadlines

def test_anyio_fail_after_delayed(run):
    # anyio test_fail_after[delayed]: a deadline that fires later cancels
    # the body (cancel_called) and raises TimeoutError.
    async def main():
        with pytest.raises(TimeoutError):
            async with Nursery.Group(timeout=0.01) as group:
                await asyncio.sleep(GUARD_SECONDS)
        return group.is_cancelled(), host_cancelling()

    assert run(main()) == (True, 0)


def test_anyio_fail_after_scope_cancelled_before_timeout(run):
    # anyio test_fail_after_scope_cancelled_before_timeout (an xfail there:
    # anyio cannot tell): the group is cancelled, then its deadline passes
    # before the next await: the cancel came first, so no TimeoutError (R7).
    async def main():
        async with Nursery.Group(timeout=0.01) as group:
            group.cancel()
            time.sleep(0.02)
            await asyncio.sleep(0)
        return host_cancelling()

    assert run(main()) == 0


def test_anyio_deadline_moved(run):
    # anyio test_deadline_moved, trio test_basic_timeout and
    # test_cancel_scope_deadline_duplicates: a deadline moved later (many
    # times) does not fire at its old time; one moved into the past fires.
    async def main():
        async with Nursery.Group(timeout=0.01) as group:
            for _ in range(100):
                group.set_timeout(GUARD_SECONDS * 1_000_000)
                group.set_timeout(GUARD_SECONDS * 1_000_000 + 1)
            await asyncio.sleep(0.03)
        later = group.is_cancelled()
        with pytest.raises(TimeoutError):
            async with Nursery.Group(timeout=GUARD_SECONDS) as group:
                await asyncio.sleep(0)
                group.set_timeout(0)
                await asyncio.sleep(GUARD_SECONDS)
        return later, host_cancelling()

    assert run(main()) == (False, 0)


def test_anyio_nested_fail_after_outer_cancelled(run):
    # anyio test_nested_fail_after: an outer group cancelled by a child
    # while an inner block with a deadline waits: no TimeoutError, the
    # outer block leaves quietly.
    steps = []

    async def killer(task, group):
        await asyncio.sleep(0.01)
        group.cancel()

    async def main():
        async with Nursery.Group() as group:
            group.start_soon(killer, group)
            async with Nursery.Group(timeout=GUARD_SECONDS):
                await asyncio.sleep(GUARD_SECONDS)
                steps.append('inner body')
            steps.append('after inner')
        return group.is_cancelled(), host_cancelling()

    assert run(main()) == (True, 0)
    assert steps == []


def test_anyio_cancel_scope_cleared(run):
    # anyio test_cancel_scope_cleared, test_escaping_cancelled_error_from_cancelled_task:
    # after a timed-out group nothing is left pending in the host; an outer
    # group cancelled after it, with no await, leaves quietly.
    async def main():
        with pytest.raises(TimeoutError):
            async with Nursery.Group(timeout=0.01):
                await asyncio.sleep(GUARD_SECONDS)
        await asyncio.sleep(0)
        async with Nursery.Group() as outer:
            with pytest.raises(TimeoutError):
                async with Nursery.Group(timeout=0.01):
                    await asyncio.sleep(GUARD_SECONDS)
            outer.cancel()
        await asyncio.sleep(0)
        return host_cancelling()

    assert run(main()) == 0


def test_trio_cancel_scope_validation(run):
    # trio test_cancel_scope_validation: a NaN or negative timeout is a
    # ValueError, for a group and for a child; nothing is spawned.
    async def main():
        async with Nursery.Group() as group:
            for bad in (math.nan, -3):
                with pytest.raises(ValueError):
                    group.spawn(forever, timeout=bad)
        return group.get_n_finished()

    for bad in (math.nan, -3):
        with pytest.raises(ValueError):
            Nursery.Group(timeout=bad)
    assert run(main()) == 0


# Shielding

def test_anyio_nested_shield(run):
    # anyio test_nested_shield: a shielded child outlives its group's
    # cancel, but its own deadline still fires: TIMED_OUT, a failure
    # raised in the ExceptionGroup though the group was cancelled (R7, R15, R17).
    async def killer(task, group):
        await asyncio.sleep(0.01)
        group.cancel()

    async def shielded(task):
        await asyncio.sleep(GUARD_SECONDS)

    async def main():
        with pytest.raises(ExceptionGroup) as info:
            async with Nursery.Group() as group:
                group.start_soon(killer, group)
                task = group.spawn(shielded, shielded=True, timeout=0.05)
        return info.value, task

    eg, task = run(main())
    [error] = eg.exceptions
    assert error.matches(IO_ERROR, Gio.IOErrorEnum.TIMED_OUT)
    assert task.state == TS.FAILED


def test_anyio_cancel_shielded_scope(run):
    # anyio test_cancel_shielded_scope, test_shielding_immediate_scope_cancelled,
    # trio test_cancel_shielding (a shield does not protect from itself): a
    # shielded child's own cancel reaches it (R15).
    running = asyncio.Event()

    async def shielded(task):
        running.set()
        await asyncio.sleep(GUARD_SECONDS)

    async def main():
        async with Nursery.Group() as group:
            task = group.spawn(shielded, shielded=True)
            await running.wait()
            task.cancel()
        return group, task

    group, task = run(main())
    assert task.state == TS.CANCELLED and not group.is_cancelled()


@pytest.mark.parametrize('body_waits', [True, False], ids=['in-body', 'joining'])
def test_trio_cancel_shield_abort(run, body_waits):
    # trio test_cancel_shield_abort: a shielded nested group (R14, R15) in a
    # child whose group is cancelled: the parent's cancellation stops the
    # body (asyncio cannot shield a running coroutine) but not the shielded
    # group's child, which sleeps on until the shield is dropped; then it
    # is cancelled (R15: unshielding in a cancelled parent cancels), and
    # the join ends. Whether the parent's cancellation came while the body
    # awaited or while the block joined.
    record, inners = [], []

    async def sleeper(task):
        record.append('sleeping')
        try:
            await asyncio.sleep(GUARD_SECONDS)
        except asyncio.CancelledError:
            record.append('cancelled')
            raise

    async def parent(task):
        async with Nursery.Group.new_for_task(task) as inner:
            inner.set_shielded(True)
            inners.append(inner)
            inner.start_soon(sleeper)
            if body_waits:
                await asyncio.sleep(GUARD_SECONDS)

    def unshield():
        record.append('unshield')
        inners[0].set_shielded(False)

    async def main():
        async with Nursery.Group() as group:
            task = group.spawn(parent)
            while not record:
                await asyncio.sleep(0)
            group.cancel()
            asyncio.get_running_loop().call_later(0.02, unshield)
        return task

    assert run(main()).state == TS.CANCELLED
    assert record == ['sleeping', 'unshield', 'cancelled']


# Failures

def test_trio_two_child_crashes(run):
    # trio test_two_child_crashes: two children that fail at once are both
    # in the ExceptionGroup.
    async def crasher(task, etype):
        raise etype

    async def main():
        with pytest.raises(ExceptionGroup) as info:
            async with Nursery.Group() as group:
                group.start_soon(crasher, KeyError)
                group.start_soon(crasher, ValueError)
        return info.value

    assert sorted(type(exc).__name__ for exc in run(main()).exceptions) == \
        ['KeyError', 'ValueError']


def test_trio_nursery_exception_chaining_doesnt_make_context_loops(run):
    # trio test_nursery_exception_chaining_doesnt_make_context_loops: the
    # ExceptionGroup holding the body's exception does not also show it as
    # its context ("During handling of the above exception..."): it is
    # suppressed, as asyncio.TaskGroup's and anyio's `raise ... from None`.
    async def crasher(task):
        raise KeyError

    async def main():
        with pytest.raises(ExceptionGroup) as info:
            async with Nursery.Group() as group:
                group.start_soon(crasher)
                raise ValueError
        return info.value

    eg = run(main())
    assert [type(exc) for exc in eg.exceptions] == [ValueError]
    assert eg.__suppress_context__ and eg.__cause__ is None
    text = ''.join(traceback.format_exception(eg))
    assert 'During handling of the above exception' not in text


def test_trio_nursery_exception_chaining_sync(nursery_log):
    # The same for the synchronous `with`.
    def crasher(task):
        raise KeyError

    with pytest.raises(ExceptionGroup) as info:
        with Nursery.Group() as group:
            group.spawn(crasher)
            raise ValueError
    eg = info.value
    assert eg.__suppress_context__
    assert 'During handling of the above exception' not in \
        ''.join(traceback.format_exception(eg))


def test_trio_traceback_frame_removal(run):
    # trio test_traceback_frame_removal: a child's exception traceback
    # starts at the child's own frame, none of the override's.
    async def my_child_task(task):
        raise KeyError()

    async def main():
        with pytest.raises(ExceptionGroup) as info:
            async with Nursery.Group() as group:
                group.start_soon(my_child_task)
                group.start_soon(my_child_task)
        return info.value

    eg = run(main())
    assert len(eg.exceptions) == 2
    for exc in eg.exceptions:
        assert exc.__traceback__.tb_frame.f_code is my_child_task.__code__


def test_trio_cancel_scope_no_cancellederror(run):
    # trio test_cancel_scope_no_cancellederror: a cancelled group whose body
    # raises an ExceptionGroup of its own (no CancelledError in it) raises
    # it, whole, as an entry of the group's ExceptionGroup.
    raised = ExceptionGroup('test', [RuntimeError(), RuntimeError()])

    async def main():
        with pytest.raises(ExceptionGroup) as info:
            async with Nursery.Group() as group:
                group.cancel()
                raise raised
        return info.value

    assert run(main()).exceptions == (raised,)


def test_trio_trivial_yields_error_in_cancelled_block(run):
    # trio test_trivial_yields: in a host with a pending cancellation, a
    # block whose body raises raises its ExceptionGroup, not CancelledError.
    async def main():
        async with Nursery.Group() as outer:
            outer.cancel()
            with pytest.raises(ExceptionGroup) as info:
                async with Nursery.Group():
                    raise KeyError
        return info.value, host_cancelling()

    eg, cancelling = run(main())
    assert [type(exc) for exc in eg.exceptions] == [KeyError]
    assert cancelling == 0


def test_trio_handled_exception_is_not_kept(run):
    # trio test_ki_protection_doesnt_leave_cyclic_garbage: an exception a
    # child raised and handled itself is referred to by nothing of Nursery's.
    class MyException(Exception):
        pass

    async def demo():
        exceptions = []

        async def handle_error(task):
            try:
                raise MyException
            except MyException as e:
                exceptions.append(e)

        try:
            async with Nursery.Group() as group:
                group.start_soon(handle_error)
            raise ExceptionGroup('errors', exceptions)
        finally:
            exceptions = []

    async def main():
        exc = None
        try:
            await demo()
        except ExceptionGroup as excs:
            exc = excs.exceptions[0]
        assert isinstance(exc, MyException)
        gc.collect()
        me = sys._getframe().f_code
        # What refers to it, but for this coroutine, whose local it is.
        return [ref for ref in gc.get_referrers(exc)
                if not (isinstance(ref, types.CoroutineType) and ref.cr_code is me)]

    assert run(main()) == []


# Spawning

def test_trio_basic_interleave(run):
    # trio test_basic_interleave: two coroutine children take turns at
    # each await.
    record = []

    async def looper(task, whoami):
        for i in range(3):
            record.append((whoami, i))
            await asyncio.sleep(0)

    async def main():
        async with Nursery.Group() as group:
            group.start_soon(looper, 'a')
            group.start_soon(looper, 'b')

    run(main())
    assert [set(record[i:i + 2]) for i in (0, 2, 4)] == \
        [{('a', i), ('b', i)} for i in range(3)]


def test_anyio_task_in_sync_spawn_callback(run):
    # anyio test_task_in_sync_spawn_callback: a plain child that returns a
    # coroutine runs it as its own asyncio task, not in the host's. (R1:
    # the plain function runs on a later iteration, where anyio calls it
    # in the spawner's task.)
    tasks = []

    def task_wrap(task):
        async def corofn():
            tasks.append(asyncio.current_task())
        return corofn()

    async def main():
        async with Nursery.Group() as group:
            group.start_soon(task_wrap)
        return asyncio.current_task()

    host = run(main())
    assert len(tasks) == 1 and tasks[0] is not None and tasks[0] is not host


def test_trio_nice_error_on_bad_calls_to_spawn(run):
    # trio test_nice_error_on_bad_calls_to_run_or_spawn: a coroutine object
    # (not a function) and an async generator function are refused at the
    # call with a TypeError; nothing is spawned.
    async def f(task):
        pass    # pragma: no cover

    async def async_gen(task, arg):
        yield arg    # pragma: no cover

    async def main():
        async with Nursery.Group() as group:
            coro = f(None)
            try:
                with pytest.raises(TypeError):
                    group.start_soon(coro)
            finally:
                coro.close()
            with pytest.raises(TypeError):
                group.start_soon(async_gen, 0)
        return group.get_n_finished()

    assert run(main()) == 0


def test_trio_nursery_warn_use_async_with(run):
    # trio test_nursery_warn_use_async_with: the synchronous `with` inside a
    # running loop is refused with a RuntimeError naming `async with`; the
    # group still works with `async with` afterwards.
    async def main():
        group = Nursery.Group()
        with pytest.raises(RuntimeError, match='async with'):
            with group:
                pass    # pragma: no cover
        async with group:
            pass
        return group.is_closed()

    assert run(main()) is True


def test_anyio_cancelscope_exit_before_enter(run):
    # anyio test_cancelscope_exit_before_enter: leaving a block never
    # entered (or left already) is a RuntimeError; the group is untouched
    # and still works.
    async def main():
        group = Nursery.Group()
        with pytest.raises(RuntimeError, match='not in an async with block'):
            await group.__aexit__(None, None, None)
        async with group:
            pass
        with pytest.raises(RuntimeError, match='not in an async with block'):
            await group.__aexit__(None, None, None)
        return group.is_closed()

    assert run(main()) is True


def test_trio_cancel_scope_exit_doesnt_create_cyclic_garbage(run):
    # trio test_cancel_scope_exit_doesnt_create_cyclic_garbage: an inner
    # block whose child crashes while an outer group's cancellation comes,
    # and an empty block that hands a cancellation back, leave no cyclic
    # garbage.
    async def main():
        with pytest.raises(ExceptionGroup):
            async with Nursery.Group() as outer:
                async with Nursery.Group() as group:
                    group.start_soon(forever)
                    group.start_soon(fail_in_finally, 'this is a crash', GUARD_SECONDS)
                    await asyncio.sleep(0.01)
                    outer.cancel()
                    await asyncio.sleep(GUARD_SECONDS)
        async with Nursery.Group() as outer:
            outer.cancel()
            async with Nursery.Group():
                pass
            await asyncio.sleep(GUARD_SECONDS)
        return host_cancelling()

    gc.collect()
    old_flags = gc.get_debug()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        cancelling = run(main())
        context = GLib.MainContext.default()
        while context.pending():
            context.iteration(False)
        gc.collect()
        garbage = [obj for obj in gc.garbage
                   if isinstance(obj, (Nursery.Group, Nursery.Task, BaseException))]
    finally:
        gc.set_debug(old_flags)
        gc.garbage.clear()
    assert cancelling == 0
    assert garbage == []
