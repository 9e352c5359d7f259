# test_defects.py: regression tests of the override's Python defects: a
# failed return_*(), Ctrl-C during a join, cycles through C, lazy
# (async def, generator) functions given to the synchronous API
#
# Copyright 2026 The Nursery authors
# SPDX-License-Identifier: LGPL-2.1-or-later

import asyncio
import gc
import subprocess
import sys
import textwrap
import weakref

import pytest
from gi.repository import GLib, Nursery

from helpers import Finalized, return_from_idle, run_until, until_cancelled

TS = Nursery.TaskState


def drain():
    """Lets the default context finish its work: no gc.collect() here."""
    context = GLib.MainContext.default()
    while context.pending():
        context.iteration(False)


@pytest.fixture
def no_gc():
    """Objects must be freed by reference counting alone."""
    gc.collect()
    gc.disable()
    yield
    gc.enable()


# R3, R8: a return_*() whose value cannot be converted fails the task

def finishes_failed(group, task, exc_type):
    """Waits (bounded) for @task, then joins @group: one @exc_type entry."""
    run_until(task.is_finished, 10)
    assert task.state == TS.FAILED and isinstance(task.exception, exc_type)
    with pytest.raises(ExceptionGroup) as info:
        with group:
            pass
    assert info.value.exceptions == (task.exception,)


def test_failed_return_int_fails_in_context_child():
    """R3/R8: return_int(2**70) fails the task with the OverflowError
    instead of leaving it running for ever."""
    group = Nursery.Group()
    task = group.spawn(lambda task: task.return_int(2 ** 70))
    finishes_failed(group, task, OverflowError)


def test_failed_return_in_thread_child_is_not_a_success():
    """R3/R8: a thread child whose return_int('x') raises fails with the
    TypeError instead of succeeding and losing it."""
    group = Nursery.Group()
    task = group.spawn_in_thread(lambda task: task.return_int('x'))
    finishes_failed(group, task, TypeError)


def test_failed_return_from_a_callback_fails_the_task():
    """R3/R8: an async_return child whose later return_int() raises in a
    callback fails with that exception (no hang)."""
    raised = []

    def later(task):
        def idle():
            try:
                task.return_int(-2 ** 80)
            except OverflowError as exc:
                raised.append(exc)
            return GLib.SOURCE_REMOVE
        GLib.idle_add(idle)

    group = Nursery.Group()
    task = group.spawn(later, async_return=True)
    finishes_failed(group, task, OverflowError)
    assert raised == [task.exception]


# Ctrl-C while a synchronous `with` joins: cancel, join, KeyboardInterrupt

def run_python(source, timeout=20):
    """Runs @source in a new interpreter (same environment); bounded."""
    return subprocess.run([sys.executable, '-c', PRELUDE + textwrap.dedent(source)],
                          capture_output=True, text=True, timeout=timeout)


PRELUDE = '''
import os, signal, time
import gi
gi.require_version('Nursery', '1.0')
from gi.repository import GLib, Nursery
'''


def test_ctrl_c_with_thread_children_propagates():
    """R12: SIGINT while the with block joins thread children cancels the
    group, joins it, then raises KeyboardInterrupt (not swallowed)."""
    result = run_python('''
    def child(task):
        os.kill(os.getpid(), signal.SIGINT)
        deadline = time.monotonic() + 20
        while not task.is_cancelled() and time.monotonic() < deadline:
            time.sleep(0.005)
        task.return_error_if_cancelled()

    try:
        with Nursery.Group() as group:
            task = group.spawn_in_thread(child)
    except KeyboardInterrupt:
        print('interrupted', task.state.value_nick)
    else:
        print('not interrupted')
    ''')
    assert result.stdout.split() == ['interrupted', 'cancelled'], result.stderr


def test_ctrl_c_in_the_callback_that_returns_a_task_does_not_hang():
    """R12: SIGINT arriving while a GLib callback returns an async_return
    child still lets that return happen; the join ends and raises
    KeyboardInterrupt."""
    result = run_python('''
    def child(task):
        def idle():
            os.kill(os.getpid(), signal.SIGINT)
            task.return_value(5)
            return GLib.SOURCE_REMOVE
        GLib.idle_add(idle)

    try:
        with Nursery.Group() as group:
            task = group.spawn(child, async_return=True)
    except KeyboardInterrupt:
        print('interrupted', task.state.value_nick, task.result)
    ''')
    assert result.stdout.split() == ['interrupted', 'succeeded', '5'], result.stderr


def test_ctrl_c_restores_the_python_handler():
    """After the join, Ctrl-C raises KeyboardInterrupt again as usual."""
    result = run_python('''
    with Nursery.Group() as group:
        group.spawn(lambda task: None)
    try:
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(5)
    except KeyboardInterrupt:
        print('usual')
    ''')
    assert result.stdout.split() == ['usual'], result.stderr


# No cycles: closed groups and finished tasks are freed by refcount alone

def test_value_referring_to_its_task_is_collectable():
    """R20: a result that refers back to its own task is seen by the
    cyclic GC (it was kept in C, and the task never freed)."""
    with Nursery.Group() as group:
        task = group.spawn(lambda task: {'me': task})
    assert task.result['me'] is task
    finalized = Finalized(task)
    del task, group
    gc.collect()
    drain()
    gc.collect()
    assert finalized


def test_started_value_referring_to_its_task_is_freed(no_gc):
    """R18, R20: a started() value that refers to its own task is handed
    over on the Python side only: nothing keeps it once dropped."""
    def serve(task):
        task.started([task])

    with Nursery.Group() as group:
        task, value = group.start(serve)
        assert value == [task]
    finalized = [Finalized(task), Finalized(group)]
    del task, value, group
    drain()
    assert all(finalized)


def run_group(body_raises, child_fails):
    """A closed group, its tasks watched by weakrefs (a GObject weak_ref
    callback must not run while the block's exception propagates)."""
    class Oops(Exception):
        pass

    def fail(task):
        raise Oops('child')

    # A failing in-context child: its traceback keeps the frames that were
    # on the stack (this one included), so this one drops its group.
    watched = []
    try:
        with Nursery.Group() as group:
            try:
                for _ in range(3):
                    watched.append(weakref.ref(group.spawn(lambda task: 'ok')))
                watched.append(weakref.ref(group.spawn_in_thread(lambda task: 1)))
                if child_fails:
                    watched.append(weakref.ref(group.spawn(fail)))
                watched.append(weakref.ref(group))
                run_until(lambda g=group: g.get_n_finished() == len(watched) - 1)
                if body_raises:
                    raise Oops('body')
            finally:
                del group
    except* Oops as eg:
        assert len(eg.exceptions) == int(body_raises) + int(child_fails)
    return watched


@pytest.mark.parametrize('body_raises, child_fails',
                         [(False, False), (False, True), (True, False), (True, True)])
def test_closed_group_and_tasks_freed_by_refcount(no_gc, body_raises, child_fails):
    """R20: a closed group and its finished tasks are freed by reference
    counting alone, also when children failed or the body raised (a
    group <-> traceback cycle)."""
    watched = run_group(body_raises, child_fails)
    drain()
    assert [ref() for ref in watched] == [None] * len(watched)


def test_child_traceback_starts_at_the_child(no_gc):
    """R8: a child's exception starts at its own frame, not the
    override's, and keeps no frame (and so no task) alive."""
    def broken_child(task):
        raise KeyError('x')

    with pytest.raises(ExceptionGroup) as info:
        with Nursery.Group() as group:
            task = group.spawn(broken_child)
    exc = info.value.exceptions[0]
    assert exc.__traceback__.tb_frame.f_code.co_name == 'broken_child'
    watched = Finalized(task)
    del task, group, info, exc
    drain()
    assert watched


# Lazy functions given to the synchronous API

async def coroutine_child(task):
    return 1


def generator_child(task):
    yield 1


@pytest.mark.parametrize('func', [coroutine_child, generator_child])
def test_lazy_function_refused_by_synchronous_spawn(func):
    """R1: an async def or generator function never runs as a plain child
    (it would "succeed" with a coroutine object): TypeError, nothing
    spawned."""
    with Nursery.Group() as group:
        with pytest.raises(TypeError, match='async with' if func is coroutine_child
                           else 'generator function'):
            group.spawn(func)
        with pytest.raises(TypeError):
            group.spawn_in_thread(func)
        with pytest.raises(TypeError):
            group.start(func)
    assert group.get_n_finished() == 0


def test_returned_coroutine_fails_the_child():
    """R1: a plain child that returns a coroutine (a lambda around an
    async def) fails with TypeError, the coroutine closed, never a
    value."""
    with pytest.raises(ExceptionGroup) as info:
        with Nursery.Group() as group:
            task = group.spawn(lambda task: coroutine_child(task))
    assert isinstance(info.value.exceptions[0], TypeError)
    assert task.state == TS.FAILED


def test_synchronous_with_refused_in_a_running_loop():
    """docs/bindings.md: a synchronous with inside a running asyncio loop would
    block it: RuntimeError pointing to async with, nothing joined."""
    async def main():
        group = Nursery.Group()
        with pytest.raises(RuntimeError, match='async with'):
            with group:
                pass
        return group

    loop = asyncio.new_event_loop()
    try:
        group = loop.run_until_complete(main())
    finally:
        loop.close()
    assert not group.is_closed()
    group.cancel()
    assert group.wait(None)


def test_async_return_child_still_finishes_later():
    """R1: async_return children keep their C semantics."""
    with Nursery.Group() as group:
        task = group.spawn(return_from_idle, 7, async_return=True)
        other = group.spawn(until_cancelled, async_return=True)
        run_until(task.is_finished)
        other.cancel()
    assert task.result == 7


def test_weakref_to_child_exception_dies_with_its_task(no_gc):
    """R20: the exception a task keeps dies with the task."""
    class Boom(Exception):
        pass

    def fail(task):
        raise Boom()

    try:
        with Nursery.Group() as group:
            task = group.spawn(fail)
    except* Boom as eg:
        ref = weakref.ref(eg.exceptions[0])
    assert ref() is task.exception
    del task, group
    drain()
    assert ref() is None
