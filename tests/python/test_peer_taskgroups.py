# test_peer_taskgroups.py: CPython's asyncio TaskGroup suite (test_taskgroups.py, 3.11-3.13 and
# later fixes), scenario by scenario, ported onto `async with Nursery.Group()`
#
# Copyright 2026 The Nursery authors
# SPDX-License-Identifier: LGPL-2.1-or-later

"""Each test is named after the CPython scenario it ports. CPython orders
events with timed sleeps; here events and sleep(0) order them, so nothing
depends on the machine's speed. `group.spawn(fn, *args)` stands for
`tg.create_task(fn(*args))`: a Nursery child receives its task first.

Every test method of CPython's file is ported, but for:

- TestEagerTaskTaskGroup, the whole suite again on a loop whose task
  factory is asyncio.eager_task_factory: that factory is Python 3.12's,
  and the suite runs on Debian's 3.11 (PyGObject 3.42, gbulb); the
  scenarios themselves are all here.
- 3.11's timed variants of 08, 11, 12, 15 and 16 that expected
  CancelledError where later versions expect the children's errors
  (the errors win): the later versions are ported.

Where Nursery keeps its own contract, the test says so and checks it:
test_taskgroup_task_context (no context=, a copy of the spawner's
context), test_taskgroup_not_entered (a group takes children before its
block, R4), test_taskgroup_double_enter and test_taskgroup_finished
(a closed group: R10, Nursery.Error.CLOSED). CPython's disabled
_test_taskgroup_21 is ported: a child's KeyboardInterrupt does not stop
the loop here."""

import asyncio
import contextlib
import contextvars
import gc
import sys
import types
import weakref

import pytest
from gi.repository import GLib, Nursery

TS = Nursery.TaskState
FOREVER = 3600    # a sleep that only a cancellation ends (the run guard bounds it)


class MyExc(Exception):
    pass


class MyBaseExc(BaseException):
    pass


def error_types(eg):
    return {type(exc) for exc in eg.exceptions}


async def forever(task):
    await asyncio.sleep(FOREVER)


async def divide_by_zero(task):
    await asyncio.sleep(0)
    1 / 0


class Gate:
    """Counts the children that reached their await; `await gate.wait()`
    returns once @count of them did."""

    def __init__(self, count):
        self.count = count
        self.event = asyncio.Event()

    def arrive(self):
        self.count -= 1
        if self.count == 0:
            self.event.set()

    async def wait(self):
        await self.event.wait()


def other_referrers(obj):
    """What refers to @obj, but for the calling coroutine, whose local it
    is (CPython's no_other_refs())."""
    caller = sys._getframe(1).f_code
    return [ref for ref in gc.get_referrers(obj)
            if not (isinstance(ref, types.CoroutineType) and ref.cr_code is caller)]


@contextlib.contextmanager
def gc_disabled():
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


# Successes

def test_taskgroup_01_results(run):
    # Two coroutine children both succeed; their results are readable after the block.
    async def foo1(task):
        await asyncio.sleep(0)
        return 42

    async def foo2(task):
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        return 11

    async def main():
        async with Nursery.Group() as g:
            t1 = g.spawn(foo1)
            t2 = g.spawn(foo2)
        return t1, t2

    t1, t2 = run(main())
    assert (t1.state, t1.result) == (TS.SUCCEEDED, 42)
    assert (t2.state, t2.result) == (TS.SUCCEEDED, 11)


def test_taskgroup_02_spawn_after_await_in_body(run):
    # A child spawned after the body awaited (and the first child finished) still runs.
    async def foo1(task):
        await asyncio.sleep(0)
        return 42

    async def foo2(task):
        await asyncio.sleep(0)
        return 11

    async def main():
        async with Nursery.Group() as g:
            t1 = g.spawn(foo1)
            assert await t1 == 42
            t2 = g.spawn(foo2)
        return t1, t2

    t1, t2 = run(main())
    assert (t1.result, t2.result) == (42, 11)


def test_taskgroup_03_cancel_one_child(run):
    # Cancelling one child is no group failure: the others go on, the block is quiet.
    async def foo2(task):
        await asyncio.sleep(0)
        return 11

    async def main():
        gate = Gate(1)

        async def foo1(task):
            gate.arrive()
            await asyncio.sleep(FOREVER)
            return 42

        async with Nursery.Group() as g:
            t1 = g.spawn(foo1)
            await gate.wait()
            t1.cancel()
            t2 = g.spawn(foo2)
        return t1, t2

    t1, t2 = run(main())
    assert t1.state == TS.CANCELLED
    assert (t2.state, t2.result) == (TS.SUCCEEDED, 11)


# A child failure cancels its siblings and the body

def test_taskgroup_04_failure_cancels_sibling(run):
    # One child's ZeroDivisionError cancels its sibling; the code after the block never runs.
    seen = {'num': 0, 't2_cancel': False}

    async def foo2(task):
        try:
            await asyncio.sleep(FOREVER)
        except asyncio.CancelledError:
            seen['t2_cancel'] = True
            raise
        seen['num'] += 1

    async def runner():
        async with Nursery.Group() as g:
            g.spawn(divide_by_zero)
            seen['t2'] = g.spawn(foo2)
        seen['num'] += 10

    async def main():
        with pytest.raises(ExceptionGroup) as info:
            await asyncio.create_task(runner())
        return info.value

    eg = run(main())
    assert error_types(eg) == {ZeroDivisionError}
    assert seen['num'] == 0 and seen['t2_cancel']
    assert seen['t2'].state == TS.CANCELLED


def test_cancel_children_on_child_error(run):
    # Failures of several children are gathered; the other child and the body are cancelled.
    seen = {'num': 0, 't2_cancel': False, 'runner_cancel': False}

    async def foo2(task):
        try:
            await asyncio.sleep(FOREVER)
        except asyncio.CancelledError:
            seen['t2_cancel'] = True
            raise
        seen['num'] += 1

    async def runner():
        async with Nursery.Group() as g:
            for _ in range(3):
                g.spawn(divide_by_zero)
            g.spawn(foo2)
            try:
                await asyncio.sleep(FOREVER)
            except asyncio.CancelledError:
                seen['runner_cancel'] = True
                raise
        seen['num'] += 10

    async def main():
        with pytest.raises(ExceptionGroup) as info:
            await asyncio.create_task(runner())
        return info.value

    eg = run(main())
    assert error_types(eg) == {ZeroDivisionError}
    assert 1 <= len(eg.exceptions) <= 3
    assert seen == {'num': 0, 't2_cancel': True, 'runner_cancel': True}


# Cancellation from outside

def _outside_cancel_runner(gate, count, body=None, child=None):
    """A runner task whose group has @count children parked on @gate."""
    async def default_child(task):
        gate.arrive()
        await asyncio.sleep(FOREVER)

    async def runner():
        async with Nursery.Group() as g:
            for _ in range(count):
                g.spawn(child or default_child)
            if body is not None:
                await body()
    return runner


def test_cancellation(run):
    # An outside cancel of the host cancels every child and re-raises the host's CancelledError.
    cancelled = []

    async def main():
        gate = Gate(5)

        async def foo(task):
            gate.arrive()
            try:
                await asyncio.sleep(FOREVER)
            except asyncio.CancelledError:
                cancelled.append(task)
                raise

        r = asyncio.create_task(_outside_cancel_runner(gate, 5, child=foo)())
        await gate.wait()
        assert not r.done()
        r.cancel('test')
        with pytest.raises(asyncio.CancelledError) as info:
            await r
        return info.value

    exc = run(main())
    assert len(cancelled) == 5
    assert all(task.state == TS.CANCELLED for task in cancelled)
    # Python 3.11's scenario: the message given to cancel() survives the group.
    assert exc.args == ('test',)


def test_taskgroup_07_outside_cancel_reaches_the_body(run):
    # An outside cancel reaches the body's await as well as the five children.
    num = [0]

    async def main():
        gate = Gate(5)

        async def foo(task):
            gate.arrive()
            try:
                await asyncio.sleep(FOREVER)
            except asyncio.CancelledError:
                num[0] += 1
                raise

        async def body():
            try:
                await asyncio.sleep(FOREVER)
            except asyncio.CancelledError:
                num[0] += 10
                raise

        r = asyncio.create_task(_outside_cancel_runner(gate, 5, body, foo)())
        await gate.wait()
        assert not r.done()
        r.cancel()
        with pytest.raises(asyncio.CancelledError):
            await r

    run(main())
    assert num[0] == 15


def test_taskgroup_08_children_fail_while_cancelled_from_outside(run):
    # Children raising while an outside cancel stops them: the errors win over CancelledError.
    async def main():
        gate = Gate(5)

        async def foo(task):
            gate.arrive()
            try:
                await asyncio.sleep(FOREVER)
            finally:
                1 / 0

        async def body():
            await asyncio.sleep(FOREVER)

        r = asyncio.create_task(_outside_cancel_runner(gate, 5, body, foo)())
        await gate.wait()
        r.cancel()
        with pytest.raises(ExceptionGroup) as info:
            await r
        return info.value

    eg = run(main())
    assert error_types(eg) == {ZeroDivisionError}
    assert len(eg.exceptions) == 5


def test_cancellation_in_body(run):
    # The body catches the outside CancelledError and re-raises it: CancelledError('test') out.
    async def main():
        gate = Gate(5)

        async def body():
            try:
                await asyncio.sleep(FOREVER)
            except asyncio.CancelledError:
                raise

        r = asyncio.create_task(_outside_cancel_runner(gate, 5, body)())
        await gate.wait()
        r.cancel('test')
        with pytest.raises(asyncio.CancelledError) as info:
            await r
        return info.value

    assert run(main()).args == ('test',)


# The body raises

def test_taskgroup_09_body_raises_after_await(run):
    # The body raising after an await cancels the running children; one ExceptionGroup.
    async def main():
        tasks = []
        gate = Gate(2)

        async def child(task):
            gate.arrive()
            await asyncio.sleep(FOREVER)

        with pytest.raises(ExceptionGroup) as info:
            async with Nursery.Group() as g:
                tasks.append(g.spawn(child))
                tasks.append(g.spawn(child))
                await gate.wait()
                1 / 0
        return info.value, tasks

    eg, tasks = run(main())
    assert error_types(eg) == {ZeroDivisionError}
    assert [t.state for t in tasks] == [TS.CANCELLED] * 2


def test_taskgroup_10_body_raises_at_once(run):
    # The body raising before any child ran: children end cancelled; one ExceptionGroup.
    async def main():
        with pytest.raises(ExceptionGroup) as info:
            async with Nursery.Group() as g:
                t1 = g.spawn(forever)
                t2 = g.spawn(forever)
                1 / 0
        return info.value, (t1, t2)

    eg, tasks = run(main())
    assert error_types(eg) == {ZeroDivisionError}
    assert [t.state for t in tasks] == [TS.CANCELLED] * 2


# Nested groups

def test_taskgroup_11_nested_children_fail_on_outside_cancel(run):
    # An outside cancel of nested groups whose inner children raise: EG(EG(ZeroDivisionError)).
    async def main():
        gate = Gate(5)

        async def foo(task):
            gate.arrive()
            try:
                await asyncio.sleep(FOREVER)
            finally:
                1 / 0

        async def runner():
            async with Nursery.Group():
                async with Nursery.Group() as g2:
                    for _ in range(5):
                        g2.spawn(foo)
                    await asyncio.sleep(FOREVER)

        r = asyncio.create_task(runner())
        await gate.wait()
        r.cancel()
        with pytest.raises(ExceptionGroup) as info:
            await r
        return info.value

    eg = run(main())
    assert error_types(eg) == {ExceptionGroup}
    assert error_types(eg.exceptions[0]) == {ZeroDivisionError}


def test_taskgroup_12_nested_with_outer_child(run):
    # As 11, the outer group having a child of its own, which ends cancelled.
    async def main():
        gate = Gate(6)
        outer = []

        async def foo(task):
            gate.arrive()
            try:
                await asyncio.sleep(FOREVER)
            finally:
                1 / 0

        async def sleeper(task):
            gate.arrive()
            await asyncio.sleep(FOREVER)

        async def runner():
            async with Nursery.Group() as g1:
                outer.append(g1.spawn(sleeper))
                async with Nursery.Group() as g2:
                    for _ in range(5):
                        g2.spawn(foo)
                    await asyncio.sleep(FOREVER)

        r = asyncio.create_task(runner())
        await gate.wait()
        r.cancel()
        with pytest.raises(ExceptionGroup) as info:
            await r
        return info.value, outer[0]

    eg, outer_child = run(main())
    assert error_types(eg) == {ExceptionGroup}
    assert error_types(eg.exceptions[0]) == {ZeroDivisionError}
    assert outer_child.state == TS.CANCELLED


def test_taskgroup_13_outer_child_fails(run):
    # The outer group's child fails: the inner group is cancelled quietly; EG(ValueError) only.
    async def crash_now(task):
        await asyncio.sleep(0)
        raise ValueError('outer')

    async def main():
        inner = []

        async def runner():
            async with Nursery.Group() as g1:
                g1.spawn(crash_now)
                async with Nursery.Group() as g2:
                    inner.append(g2.spawn(forever))
                    await asyncio.sleep(FOREVER)

        with pytest.raises(ExceptionGroup) as info:
            await asyncio.create_task(runner())
        return info.value, inner[0]

    eg, inner_child = run(main())
    assert error_types(eg) == {ValueError}
    assert inner_child.state == TS.CANCELLED


def test_taskgroup_14_inner_child_fails(run):
    # The inner group's child fails: the outer group gets it as the body's EG: EG(EG(ValueError)).
    async def crash_now(task):
        await asyncio.sleep(0)
        raise ValueError('inner')

    async def main():
        outer = []

        async def runner():
            async with Nursery.Group() as g1:
                outer.append(g1.spawn(forever))
                async with Nursery.Group() as g2:
                    g2.spawn(crash_now)

        with pytest.raises(ExceptionGroup) as info:
            await asyncio.create_task(runner())
        return info.value, outer[0]

    eg, outer_child = run(main())
    assert error_types(eg) == {ExceptionGroup}
    assert error_types(eg.exceptions[0]) == {ValueError}
    assert outer_child.state == TS.CANCELLED


# The body cleans up after an outside cancel while a child fails

def _cleanup_scenario(nest):
    steps = []
    # The child's failure cancels the host again, which cuts the body's
    # cleanup short, as asyncio.TaskGroup does: the errors still win.

    async def main():
        body_cancelled = asyncio.Event()
        crashed = asyncio.Event()

        async def crash_soon(task):
            await body_cancelled.wait()
            crashed.set()
            1 / 0

        async def nested_runner():
            async with Nursery.Group() as g1:
                g1.spawn(crash_soon)
                try:
                    steps.append('body')
                    await asyncio.sleep(FOREVER)
                except asyncio.CancelledError:
                    body_cancelled.set()
                    # The cleanup outlasts the child's crash, as CPython's
                    # sleep(0.5) outlasts its sleep(0.3).
                    await crashed.wait()
                    await asyncio.sleep(0)
                    raise

        async def runner():
            await asyncio.create_task(nested_runner())

        r = asyncio.create_task(runner() if nest else nested_runner())
        while not steps:
            await asyncio.sleep(0)
        r.cancel()
        with pytest.raises(ExceptionGroup) as info:
            await r
        return info.value
    return main, steps


def test_taskgroup_15_cleanup_after_outside_cancel(run):
    # A child fails while the body cleans up after an outside cancel: EG(ZeroDivisionError).
    main, steps = _cleanup_scenario(nest=False)
    eg = run(main())
    assert error_types(eg) == {ZeroDivisionError}
    assert steps == ['body']


def test_taskgroup_16_cleanup_after_outside_cancel_nested_task(run):
    # As 15, the group's host being awaited by another task which is cancelled.
    main, steps = _cleanup_scenario(nest=True)
    eg = run(main())
    assert error_types(eg) == {ZeroDivisionError}
    assert steps == ['body']


def test_taskgroup_17_outside_cancel_of_an_empty_group(run):
    # A group without children: the outside cancel reaches the body and is re-raised.
    num = [0]

    async def runner():
        async with Nursery.Group():
            try:
                await asyncio.sleep(FOREVER)
            except asyncio.CancelledError:
                num[0] += 10
                raise

    async def main():
        r = asyncio.create_task(runner())
        await asyncio.sleep(0)
        assert not r.done()
        r.cancel()
        with pytest.raises(asyncio.CancelledError):
            await r

    run(main())
    assert num[0] == 10


def test_taskgroup_18_body_turns_cancel_into_error(run):
    # The body catches the outside cancel and raises MyExc instead: EG(MyExc).
    num = [0]

    async def runner():
        async with Nursery.Group():
            try:
                await asyncio.sleep(FOREVER)
            except asyncio.CancelledError:
                num[0] += 10
                raise MyExc

    async def main():
        r = asyncio.create_task(runner())
        await asyncio.sleep(0)
        r.cancel()
        with pytest.raises(ExceptionGroup) as info:
            await r
        return info.value

    assert error_types(run(main())) == {MyExc}
    assert num[0] == 10


def test_taskgroup_18_cancel_still_pending_after_the_error(run):
    # As 18, the runner handling the EG and going on: the outside cancel it turned into
    # MyExc is still pending (asyncio.TaskGroup re-cancels a host whose cancelling() is
    # not 0 when it raises errors), so the next await is cancelled, the count kept at 1.
    steps = []

    async def runner():
        try:
            async with Nursery.Group():
                try:
                    await asyncio.sleep(FOREVER)
                except asyncio.CancelledError:
                    raise MyExc
        except* MyExc:
            steps.append(('except*', asyncio.current_task().cancelling()))
        await asyncio.sleep(0)
        steps.append('sleep after the group not cancelled')

    async def main():
        r = asyncio.create_task(runner())
        await asyncio.sleep(0)
        r.cancel('outside')
        with pytest.raises(asyncio.CancelledError):
            await r
        return r

    assert run(main()).cancelled()
    assert steps == [('except*', 1)]


# Exceptions raised by the body while a child fails

async def _nested_raising(exc_type):
    try:
        await asyncio.sleep(FOREVER)
    finally:
        raise exc_type


def test_taskgroup_19_body_error_while_child_fails(run):
    # The body raises MyExc when the child failure cancels it: EG of both errors.
    async def main():
        with pytest.raises(ExceptionGroup) as info:
            async with Nursery.Group() as g:
                g.spawn(divide_by_zero)
                await _nested_raising(MyExc)
        return info.value

    assert error_types(run(main())) == {MyExc, ZeroDivisionError}


def test_taskgroup_20_body_keyboard_interrupt(run):
    # The body raises KeyboardInterrupt when cancelled by a child failure: it propagates as itself.
    async def main():
        try:
            async with Nursery.Group() as g:
                g.spawn(divide_by_zero)
                await _nested_raising(KeyboardInterrupt)
        except KeyboardInterrupt as exc:
            return exc
        return None

    assert type(run(main())) is KeyboardInterrupt


def test_taskgroup_20a_body_base_exception(run):
    # A BaseException that is no KeyboardInterrupt/SystemExit goes into a BaseExceptionGroup.
    async def main():
        with pytest.raises(BaseExceptionGroup) as info:
            async with Nursery.Group() as g:
                g.spawn(divide_by_zero)
                await _nested_raising(MyBaseExc)
        return info.value

    assert error_types(run(main())) == {MyBaseExc, ZeroDivisionError}


def test_taskgroup_21a_child_base_exception(run):
    # A child's MyBaseExc and the body's TypeError: one BaseExceptionGroup of both.
    async def crash_soon(task):
        await asyncio.sleep(0)
        raise MyBaseExc

    async def main():
        with pytest.raises(BaseExceptionGroup) as info:
            async with Nursery.Group() as g:
                child = g.spawn(crash_soon)
                await _nested_raising(TypeError)
        return info.value, child

    eg, child = run(main())
    assert error_types(eg) == {MyBaseExc, TypeError}
    assert child.state == TS.FAILED


def test_taskgroup_21_child_keyboard_interrupt(run):
    # CPython keeps this one disabled (_test_taskgroup_21): a task's KeyboardInterrupt
    # stops asyncio's loop. A coroutine child's fails its Nursery task instead, and the
    # block raises it as itself after the join, the body's TypeError aside.
    async def crash_soon(task):
        await asyncio.sleep(0)
        raise KeyboardInterrupt

    async def main():
        try:
            async with Nursery.Group() as g:
                child = g.spawn(crash_soon)
                await _nested_raising(TypeError)
        except KeyboardInterrupt as exc:
            return exc, child
        return None, child

    exc, child = run(main())
    assert type(exc) is KeyboardInterrupt
    assert child.state == TS.FAILED and child.exception is exc

def test_taskgroup_22_outside_cancel_while_joining(run):
    # The host cancelled while the block joins its children: CancelledError.
    async def main():
        gate = Gate(2)
        tasks = []

        async def child(task):
            gate.arrive()
            await asyncio.sleep(FOREVER)

        async def runner():
            async with Nursery.Group() as g:
                tasks.append(g.spawn(child))
                tasks.append(g.spawn(child))

        r = asyncio.create_task(runner())
        await gate.wait()
        r.cancel()
        with pytest.raises(asyncio.CancelledError):
            await r
        return tasks

    assert [t.state for t in run(main())] == [TS.CANCELLED] * 2


# Spawning from children, counting children

def test_taskgroup_23_finished_children_leave_the_count(run):
    # Finished children stop counting as running; none is left before the block ends.
    async def main():
        releases = []

        async def do_job(task, release):
            await release.wait()

        async with Nursery.Group() as g:
            tasks = []
            for count in range(10):
                release = asyncio.Event()
                releases.append(release)
                tasks.append(g.spawn(do_job, release))
                await asyncio.sleep(0)
                if count >= 2:
                    releases[count - 2].set()
                    await tasks[count - 2]
                if count == 5:
                    assert g.get_n_running() + g.get_n_pending() < 5
            for release in releases:
                release.set()
            for task in tasks:
                await task
            assert g.get_n_running() + g.get_n_pending() == 0
        return tasks

    assert [t.state for t in run(main())] == [TS.SUCCEEDED] * 10


def test_taskgroup_24_children_spawn_children(run):
    # A child spawns more children into its own group; the block waits for them all.
    done = []

    async def main():
        async def coro1(task, n):
            await asyncio.sleep(0)
            done.append(n)

        async def root(task, g):
            await asyncio.sleep(0)
            g.spawn(coro1, 1)
            g.spawn(coro1, 2)

        async with Nursery.Group() as g:
            g.spawn(root, g)

    run(main())
    assert sorted(done) == [1, 2]


def test_taskgroup_25_hydra(run):
    # Children that keep spawning two more are all cancelled when one child fails.
    nhydras = [0]

    async def main():
        async def hydra(task, g):
            nhydras[0] += 1
            await asyncio.sleep(0)
            g.spawn(hydra, g)
            g.spawn(hydra, g)

        async def hercules(task):
            while nhydras[0] < 10:
                await asyncio.sleep(0)
            1 / 0

        with pytest.raises(ExceptionGroup) as info:
            async with Nursery.Group() as g:
                g.spawn(hydra, g)
                g.spawn(hercules)
        return info.value

    assert error_types(run(main())) == {ZeroDivisionError}
    assert nhydras[0] >= 10


# Names

def test_taskgroup_task_name(run):
    # The name given at spawn time is the task's name.
    async def coro(task):
        await asyncio.sleep(0)

    async def main():
        async with Nursery.Group() as g:
            t = g.spawn(coro, name='yolo')
            assert t.name == 'yolo'

    run(main())


def test_name(run):
    # The name given at spawn time is also the name of the child's asyncio task.
    names = []

    async def asyncfn(task):
        names.append(asyncio.current_task().get_name())

    async def main():
        async with Nursery.Group() as g:
            g.spawn(asyncfn, name='example name')

    run(main())
    assert names == ['example name']


# Context variables

def test_taskgroup_task_context(run):
    # create_task(context=ctx) has no counterpart: a child runs in a copy of the
    # spawner's context (docs/bindings.md, anyio's rule), so what it sets stays its own.
    # Spawning inside ctx.run() hands the child a copy of ctx.
    cvar = contextvars.ContextVar('cvar')
    seen = []

    async def coro(task, val):
        await asyncio.sleep(0)
        seen.append(cvar.get(None))
        cvar.set(val)

    async def main():
        async with Nursery.Group() as g:
            ctx = contextvars.copy_context()
            assert ctx.get(cvar) is None
            ctx.run(cvar.set, 0)
            t1 = ctx.run(g.spawn, coro, 1)
            await t1
            assert ctx.get(cvar) == 0
            t2 = ctx.run(g.spawn, coro, 2)
            await t2
            assert ctx.get(cvar) == 0
        assert cvar.get(None) is None

    run(main())
    assert seen == [0, 0]

# Spawning into a failing or a closed group

def test_taskgroup_no_create_task_after_failure(run):
    # A spawn into a group cancelled by a failure is allowed (R4) but never runs (R5).
    ran = []

    async def main():
        late = []

        async def coro1(task):
            await asyncio.sleep(0)
            1 / 0

        async def runs(task):
            ran.append(task)

        async def coro2(task, g):
            try:
                await asyncio.sleep(FOREVER)
            except asyncio.CancelledError:
                late.append(g.spawn(runs))

        with pytest.raises(ExceptionGroup) as info:
            async with Nursery.Group() as g:
                g.spawn(coro1)
                g.spawn(coro2, g)
        return info.value, late

    eg, late = run(main())
    assert error_types(eg) == {ZeroDivisionError}
    assert ran == [] and [t.state for t in late] == [TS.CANCELLED]


def test_taskgroup_finished(run):
    # Spawning into a closed group is refused (Nursery.Error.CLOSED); no coroutine is left unawaited.
    async def child(task):
        await asyncio.sleep(0)

    async def main():
        g = Nursery.Group()
        async with g:
            pass
        with pytest.raises(GLib.Error) as info:
            g.spawn(child)
        return info.value

    error = run(main())
    assert error.matches(Nursery.error_quark(), Nursery.Error.CLOSED)


def test_coro_closed_when_tg_closed(run):
    # A closed group refuses every way of spawning an async def, and never calls the
    # function: no coroutine is made, none is left unawaited (a RuntimeWarning fails the test).
    called = []

    async def child(task):
        called.append(task)

    async def main():
        async with Nursery.Group() as tg:
            pass
        refusals = []
        for spawn in (lambda: tg.spawn(child), lambda: tg.start_soon(child),
                      lambda: tg.spawn(child, name='named', timeout=FOREVER)):
            with pytest.raises(GLib.Error) as info:
                spawn()
            refusals.append(info.value.matches(Nursery.error_quark(), Nursery.Error.CLOSED))
        return refusals

    assert run(main()) == [True, True, True]
    assert called == []


def test_taskgroup_not_entered(run):
    # asyncio refuses create_task() before `async with`; a Nursery group is open from its
    # creation (R4), so the child runs and the block joins it. A deliberate difference.
    async def child(task):
        await asyncio.sleep(0)
        return 'ran'

    async def main():
        tg = Nursery.Group()
        t = tg.spawn(child)
        async with tg:
            pass
        return t

    t = run(main())
    assert (t.state, t.result) == (TS.SUCCEEDED, 'ran')


async def await_without_task(coro):
    """CPython's test.test_asyncio.utils.await_without_task(): drives @coro
    from a loop callback, where no asyncio task is current; raises what it
    raised."""
    loop = asyncio.get_running_loop()
    done = loop.create_future()

    def func():
        try:
            for _ in coro.__await__():
                pass
        except BaseException as err:    # noqa: B036 (handed to the awaiting task)
            done.set_exception(err)
        else:
            done.set_result(None)

    loop.call_soon(func)
    await done


def test_taskgroup_without_parent_task(run):
    # `async with` needs a current task, the body it cancels: without one __aenter__
    # raises RuntimeError and leaves the group as it was, free to be entered properly.
    async def child(task):
        await asyncio.sleep(0)
        return 'ran'

    async def main():
        tg = Nursery.Group()
        with pytest.raises(RuntimeError, match='parent task'):
            await await_without_task(tg.__aenter__())
        async with tg:
            t = tg.spawn(child)
        return t

    t = run(main())
    assert (t.state, t.result) == (TS.SUCCEEDED, 'ran')

def test_taskgroup_double_enter(run):
    # Entering a closed group again is Nursery's R10, not asyncio's RuntimeError: the same outcome.
    async def child(task):
        await asyncio.sleep(0)
        return 'fine'

    async def main():
        g = Nursery.Group()
        async with g:
            t = g.spawn(child)
        async with g:
            pass
        return g, t

    g, t = run(main())
    assert g.is_closed() and g.get_n_finished() == 1 and t.result == 'fine'


def test_taskgroup_already_entered(run):
    # A group cannot be entered again while its block runs; the first block still joins it.
    async def main():
        g = Nursery.Group()
        async with g:
            t = g.spawn(forever)
            with pytest.raises(RuntimeError):
                async with g:
                    pass
            t.cancel()
        return t

    assert run(main()).state == TS.CANCELLED


# An async context manager inside the body raises on exit

def test_taskgroup_context_manager_exit_raises(run):
    # A context manager's exit raising while a child fails: both errors, and no cancel count left.
    class CustomException(Exception):
        pass

    async def raise_exc(task):
        raise CustomException

    @contextlib.asynccontextmanager
    async def database():
        try:
            yield
        finally:
            raise CustomException

    async def inner():
        host = asyncio.current_task()
        try:
            async with Nursery.Group() as tg:
                async with database():
                    tg.spawn(raise_exc)
                    await asyncio.sleep(FOREVER)
        except* CustomException as err:
            caught = (host.cancelling(), len(err.exceptions))
        else:
            caught = None
        return caught

    async def main():
        return await asyncio.create_task(inner())

    assert run(main()) == (0, 2)


# Cancellation counts (Task.cancelling() / uncancel())

def test_cancelling_level_preserved(run):
    # A group that cancelled its host for a child failure leaves the cancel count at 0.
    async def raise_now(task):
        await asyncio.sleep(0)
        raise RuntimeError

    async def main():
        try:
            async with Nursery.Group() as tg:
                tg.spawn(raise_now)
        except* RuntimeError:
            pass
        return asyncio.current_task().cancelling()

    assert run(main()) == 0


def test_nested_groups_both_cancelled(run):
    # Inner and outer groups both failing: the count is 1 between the exits and 0 after.
    async def raise_now(task, exc_type):
        await asyncio.sleep(0)
        raise exc_type

    async def main():
        counts = []
        try:
            async with Nursery.Group() as outer_tg:
                try:
                    async with Nursery.Group() as inner_tg:
                        inner_tg.spawn(raise_now, RuntimeError)
                        outer_tg.spawn(raise_now, ValueError)
                except* RuntimeError:
                    pass
                else:
                    pytest.fail('RuntimeError not raised')
                counts.append(asyncio.current_task().cancelling())
        except* ValueError:
            pass
        else:
            pytest.fail('ValueError not raised')
        counts.append(asyncio.current_task().cancelling())
        return counts

    assert run(main()) == [1, 0]


def test_error_and_cancel(run):
    # An outside cancel arriving with a child failure survives the group's ExceptionGroup.
    steps = []

    async def main():
        event = asyncio.Event()

        async def raise_error(task):
            event.set()
            await asyncio.sleep(0)
            raise RuntimeError

        async def inner():
            try:
                async with Nursery.Group() as tg:
                    tg.spawn(raise_error)
                    await asyncio.sleep(FOREVER)
                    steps.append('body not cancelled')
            except* RuntimeError:
                steps.append(('except*', asyncio.current_task().cancelling()))
            steps.append(('after', asyncio.current_task().cancelling()))
            # The cancellation comes at the very next await (asyncio re-cancels the
            # host): sleep(0), so that a lost one fails here, not at the run guard.
            await asyncio.sleep(0)
            steps.append('sleep after the group not cancelled')

        t = asyncio.create_task(inner())
        await event.wait()
        assert t.cancelling() == 0
        t.cancel()
        assert t.cancelling() == 1
        with pytest.raises(asyncio.CancelledError):
            await t
        return t

    assert run(main()).cancelled()
    assert steps == [('except*', 1), ('after', 1)]


def test_error_and_cancel_in_one_step(run):
    # As test_error_and_cancel, the outside cancel and the failure coming in one step of a child.
    steps = []

    async def main():
        async def cancel_host_and_fail(task, host):
            await asyncio.sleep(0)
            host.cancel('outside')
            raise RuntimeError

        async def inner():
            try:
                async with Nursery.Group() as tg:
                    tg.spawn(cancel_host_and_fail, asyncio.current_task())
                    await asyncio.sleep(FOREVER)
            except* RuntimeError:
                steps.append(('except*', asyncio.current_task().cancelling()))
            await asyncio.sleep(0)    # as in test_error_and_cancel
            steps.append('sleep after the group not cancelled')

        t = asyncio.create_task(inner())
        with pytest.raises(asyncio.CancelledError) as info:
            await t
        return t, info.value

    t, cancelled = run(main())
    assert t.cancelled()
    assert steps == [('except*', 1)]
    # The cancellation delivered again after the group keeps its message.
    assert cancelled.args == ('outside',)


def test_cancellation_does_not_leak_out_of_tg(run):
    # After a group failure is handled, the host's next await is not cancelled.
    async def throw_error(task):
        raise MyExc

    async def main():
        try:
            async with Nursery.Group() as tg:
                tg.spawn(throw_error)
        except* MyExc:
            pass
        else:
            pytest.fail('MyExc not raised')
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        return asyncio.current_task().cancelling()

    assert run(main()) == 0


def test_cancels_task_if_created_during_creation(run):
    # A child spawned by a sibling fails at once: the sibling is cancelled at its next await.
    ran = []

    async def main():
        async def third_task(task):
            raise MyExc('third task failed')

        async def second_task(task, tg):
            tg.spawn(third_task)
            with pytest.raises(asyncio.CancelledError):
                await asyncio.sleep(FOREVER)
            ran.append(True)

        try:
            async with Nursery.Group() as tg:
                second = tg.spawn(second_task, tg)
        except* MyExc as excs:
            caught = excs.exceptions[0]
        else:
            caught = None
        return caught, second

    exc, second = run(main())
    assert ran == [True]
    assert isinstance(exc, MyExc)
    # It swallowed its CancelledError and returned: it succeeded (R9).
    assert second.state == TS.SUCCEEDED


# asyncio.timeout() around a group

def test_exception_refcycles_propagate_cancellation_error(run):
    # asyncio.timeout() around a group: TimeoutError from the group's CancelledError, kept by nobody.
    async def main():
        g = Nursery.Group()
        try:
            async with asyncio.timeout(-1):
                async with g:
                    await asyncio.sleep(0)
        except TimeoutError as e:
            # Python 3.11's timeout() raises it in the except clause, 3.12's from it.
            exc = e.__cause__ or e.__context__
        assert isinstance(exc, asyncio.CancelledError)
        assert other_referrers(exc) == []
        return g

    with gc_disabled():
        run(main())


# Reference cycles: nothing keeps what the block raised

def test_exception_refcycles_direct(run):
    # The group keeps no reference to the ExceptionGroup it raised: refcount frees it.
    class _Done(Exception):
        pass

    async def main():
        tg = Nursery.Group()
        try:
            async with tg:
                raise _Done
        except ExceptionGroup as e:
            ref = weakref.ref(e.exceptions[0])
            assert other_referrers(e) == []
        assert ref() is None
        return tg

    with gc_disabled():
        run(main())


def test_exception_refcycles_errors(run):
    # The group keeps no reference to the body's exception once except* handled it.
    class _Done(Exception):
        pass

    async def main():
        tg = Nursery.Group()
        try:
            async with tg:
                raise _Done
        except* _Done as excs:
            exc = excs.exceptions[0]
        assert isinstance(exc, _Done)
        assert other_referrers(exc) == []
        ref = weakref.ref(exc)
        del exc
        assert ref() is None
        return tg

    with gc_disabled():
        run(main())


def test_exception_refcycles_parent_task(run):
    # A group in a child coroutine keeps neither its host task nor the error it raised.
    class _Done(Exception):
        pass

    async def main():
        tg = Nursery.Group()

        async def coro_fn(task):
            async with tg:
                raise _Done

        try:
            async with Nursery.Group() as tg2:
                task_ref = weakref.ref(tg2.spawn(coro_fn))
        except* _Done as excs:
            exc = excs.exceptions[0].exceptions[0]
        del tg2
        assert isinstance(exc, _Done)
        ref = weakref.ref(exc)
        del exc
        return ref, task_ref, tg

    with gc_disabled():
        ref, task_ref, tg = run(main())
        assert ref() is None
        assert task_ref() is None


def test_exception_refcycles_parent_task_wr(run):
    # As test_exception_refcycles_parent_task, the cyclic GC off throughout: refcount alone
    # frees the child's task, and only the caller holds the error.
    class _Done(Exception):
        pass

    async def main():
        tg = Nursery.Group()

        async def coro_fn(task):
            async with tg:
                raise _Done

        try:
            async with Nursery.Group() as tg2:
                task_wr = weakref.ref(tg2.spawn(coro_fn))
        except* _Done as excs:
            exc = excs.exceptions[0].exceptions[0]
        del tg2
        assert task_wr() is None
        assert isinstance(exc, _Done)
        assert other_referrers(exc) == []
        return tg

    with gc_disabled():
        run(main())

def test_exception_refcycles_base_error(run):
    # A KeyboardInterrupt subclass raised by the body propagates as itself, kept by nobody.
    class MyKeyboardInterrupt(KeyboardInterrupt):
        pass

    async def main():
        tg = Nursery.Group()
        try:
            async with tg:
                raise MyKeyboardInterrupt
        except MyKeyboardInterrupt as e:
            assert other_referrers(e) == []
            ref = weakref.ref(e)
        assert ref() is None
        return tg

    with gc_disabled():
        run(main())

