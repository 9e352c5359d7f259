# test_threads.py: thread children and returns from other threads
# (R2, R23)
#
# Copyright 2026 The Nursery authors
# SPDX-License-Identifier: LGPL-2.1-or-later

import threading

import pytest
from gi.repository import GLib, Nursery

from helpers import my_error, on_cancelled, run_until

TS = Nursery.TaskState
MAIN = threading.get_ident()


def test_thread_child_runs_on_a_worker_and_returns_its_value():
    """R2: a thread child's function runs on a worker thread; what it
    returns is the task's value."""
    with Nursery.Group() as group:
        task = group.spawn_in_thread(lambda task, x: (threading.get_ident(), x * 2), 21)
    worker, value = task.result
    assert worker != MAIN
    assert value == 42


def test_thread_child_returning_none_succeeds():
    """R2: a thread child that returns without a result succeeds."""
    with Nursery.Group() as group:
        task = group.spawn_in_thread(lambda task: None)
    assert task.state == TS.SUCCEEDED
    assert task.result is None


def test_thread_child_exception_is_a_failure():
    """R2/R8: an exception raised on the worker fails the task."""
    class Broken(Exception):
        pass

    def child(task):
        raise Broken('in thread')

    with pytest.raises(ExceptionGroup) as info:
        with Nursery.Group() as group:
            task = group.spawn_in_thread(child)
    assert task.state == TS.FAILED
    assert isinstance(task.exception, Broken)
    assert info.value.exceptions[0] is task.exception
    assert group.get_errors()[0].message == 'Broken: in thread'


def test_thread_children_call_back_into_python():
    """R23: many thread children run Python concurrently, call shared
    Python code and return through the task from their worker."""
    lock = threading.Lock()
    calls = []

    def callback(i):
        with lock:
            calls.append((i, threading.get_ident()))

    def child(task, i, callback):
        callback(i)
        task.return_int(i * i)

    with Nursery.Group() as group:
        tasks = [group.spawn_in_thread(child, i, callback) for i in range(16)]
    assert sorted(i for i, _ in calls) == list(range(16))
    assert all(ident != MAIN for _, ident in calls)
    assert [task.get_int() for task in tasks] == [i * i for i in range(16)]


def test_thread_child_observes_group_cancellation():
    """R12/R23: a thread child blocked on its cancellation is released by
    a group cancel from the owner thread, and the group waits for it."""
    released = threading.Event()

    def child(task):
        on_cancelled(task, released.set)
        assert released.wait(30)
        task.get_cancellable().set_error_if_cancelled()

    with Nursery.Group() as group:
        task = group.spawn_in_thread(child)
        run_until(lambda: task.state == TS.RUNNING)
        group.cancel()
    assert task.state == TS.CANCELLED


def test_in_context_child_returned_from_another_thread():
    """R23: an in-context child may return from any thread."""
    threads = []

    def child(task):
        thread = threading.Thread(target=task.return_value, args=('from thread',))
        threads.append(thread)
        thread.start()

    with Nursery.Group() as group:
        task = group.spawn(child, async_return=True)
    threads[0].join()
    assert task.result == 'from thread'


def test_task_cancel_from_another_thread():
    """R23: cancelling a task is thread-safe and reaches its cancellable."""
    def child(task):
        on_cancelled(task, task.return_error_if_cancelled)
        threading.Thread(target=task.cancel).start()

    with Nursery.Group() as group:
        task = group.spawn(child, async_return=True)
    assert task.state == TS.CANCELLED


def test_thread_failure_under_fail_fast_cancels_in_context_siblings():
    """R11/R23: a failing thread child cancels its in-context siblings."""
    def sibling(task):
        on_cancelled(task, task.return_error_if_cancelled)

    with pytest.raises(ExceptionGroup) as info:
        with Nursery.Group() as group:
            waiting = group.spawn(sibling, async_return=True)
            group.spawn_in_thread(lambda task: task.return_error(my_error('worker failed')))
    assert [e.message for e in info.value.exceptions] == ['worker failed']
    assert waiting.state == TS.CANCELLED


def test_join_refused_when_another_thread_owns_the_context(nursery_log):
    """R23/R24: `with` never reports success for a group it could not
    join; here another thread owns the owner context."""
    nursery_log.expect('*owned by another thread*')
    context = GLib.MainContext.default()
    owned, release = threading.Event(), threading.Event()

    def owner():
        context.acquire()
        owned.set()
        release.wait(30)
        context.release()

    group = Nursery.Group()
    task = group.spawn(lambda task: 'eventually')
    thread = threading.Thread(target=owner)
    thread.start()
    assert owned.wait(30)
    with pytest.raises(RuntimeError):
        with group:
            pass
    release.set()
    thread.join()
    with group:
        pass
    assert task.result == 'eventually'


@pytest.mark.parametrize('how', ['spawn', 'spawn-options', 'spawn_in_thread'])
def test_spawn_from_a_worker_raises(nursery_log, how):
    """R23/R24: a thread child's worker may not spawn into its group. C
    refuses with a critical and no task; Python raises RuntimeError there,
    rather than handing the caller None."""
    nursery_log.expect('*_nursery_group_called_on_owner*')
    ran = []

    def worker(task, group):
        sibling = lambda task: ran.append('sibling')
        try:
            if how == 'spawn':
                group.spawn(sibling)
            elif how == 'spawn-options':
                group.spawn(sibling, shielded=True)
            else:
                group.spawn_in_thread(sibling)
        except RuntimeError as error:
            return str(error)
        return 'not refused'

    with Nursery.Group(name='refuser') as group:
        task = group.spawn_in_thread(worker, group)
    assert 'refused' in task.result and 'refuser' in task.result
    assert ran == []
