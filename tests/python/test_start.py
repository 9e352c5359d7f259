# test_start.py: the start handshake from Python (R18)
#
# Copyright 2026 The Nursery authors
# SPDX-License-Identifier: LGPL-2.1-or-later

"""group.start() (blocking, iterates the owner context) and
group.start_async()/start_finish() (callback) of the override."""

import pytest
from gi.repository import Gio, GLib, Nursery

from helpers import (IO_ERROR, is_cancelled_error, my_error, run_until, until_cancelled)

TS = Nursery.TaskState
NURSERY_ERROR = Nursery.error_quark()


def serve(task, port):
    """A server: ready at once, then serves until cancelled."""
    task.started(port)
    until_cancelled(task)


def test_start_delivers_value():
    """R18: start() returns once the child called started(), with the task
    and the value; the child keeps running as an ordinary child."""
    with Nursery.Group() as group:
        task, port = group.start(serve, 8080, name='server', async_return=True)
        assert port == 8080
        assert task.name == 'server' and task.state == TS.RUNNING
        assert isinstance(task, Nursery.Task)
        group.cancel()
    assert task.state == TS.CANCELLED


def test_start_values_are_python_objects():
    """R18: started() takes any Python object, like a result; no value
    is None."""
    marker = object()
    with Nursery.Group() as group:
        _, value = group.start(lambda task: task.started(marker))
        _, nothing = group.start(lambda task: task.started())
        _, flag = group.start(lambda task: task.started(True))
    assert value is marker and nothing is None and flag is True


def test_started_later_from_a_callback():
    """R18: with async_return=True the child may call started() later,
    from a callback; start() waits for it."""
    def slow_start(task):
        def ready():
            task.started('ready')
            until_cancelled(task)
            return GLib.SOURCE_REMOVE
        GLib.idle_add(ready)

    with Nursery.Group() as group:
        task, value = group.start(slow_start, async_return=True)
        assert value == 'ready' and task.state == TS.RUNNING
        task.cancel()
        group.cancel()


def test_start_failure_goes_to_caller_not_group():
    """R18: a child that fails before started() fails its start caller,
    with its error unchanged; the group records no failure."""
    def port_taken(task):
        raise GLib.Error.new_literal(IO_ERROR, 'port taken', Gio.IOErrorEnum.ADDRESS_IN_USE)

    with Nursery.Group() as group:
        with pytest.raises(GLib.Error) as info:
            group.start(port_taken)
    assert info.value.matches(IO_ERROR, Gio.IOErrorEnum.ADDRESS_IN_USE)
    assert info.value.message == 'port taken'
    assert group.get_n_failed() == 0 and group.get_errors() == []
    assert not group.is_cancelled()


def test_start_failure_keeps_python_cause():
    """R18: a Python exception before started() reaches the caller as a
    Nursery.Error.FAILED GLib.Error caused by that exception; the group's
    own failures keep their causes next to it."""
    def broken(task):
        raise ValueError('bad config')

    def crashes_later(task):
        task.started()
        raise KeyError('later')

    with pytest.raises(ExceptionGroup) as group_info:
        with Nursery.Group(policy=Nursery.Policy.SUPERVISE) as group:
            with pytest.raises(GLib.Error) as info:
                group.start(broken)
            group.start(crashes_later)
    assert info.value.matches(NURSERY_ERROR, Nursery.Error.FAILED)
    assert isinstance(info.value.__cause__, ValueError)
    [failure] = group_info.value.exceptions
    assert isinstance(failure, KeyError)
    assert group.get_n_failed() == 1


def test_start_interrupt_propagates_as_itself():
    """R18: a KeyboardInterrupt before started() is raised by start() as
    itself, as the with block does for children."""
    def interrupted(task):
        raise KeyboardInterrupt

    with Nursery.Group() as group:
        with pytest.raises(KeyboardInterrupt):
            group.start(interrupted)


def test_start_success_without_started_is_not_started():
    """R18: a child that succeeds without calling started() makes start()
    raise Nursery.Error.NOT_STARTED; the group is fine."""
    with Nursery.Group() as group:
        with pytest.raises(GLib.Error) as info:
            group.start(lambda task: 'done too early')
    assert info.value.matches(NURSERY_ERROR, Nursery.Error.NOT_STARTED)
    assert group.get_n_failed() == 0


def test_start_caller_cancel_cancels_child():
    """R18: cancelling the caller's cancellable before started() cancels
    the child; start() raises CANCELLED; the group is not cancelled."""
    cancellable = Gio.Cancellable()

    def never_ready(task):
        cancellable.cancel()    # the caller gives up while the child runs
        until_cancelled(task)

    with Nursery.Group() as group:
        with pytest.raises(GLib.Error) as info:
            group.start(never_ready, cancellable=cancellable, async_return=True)
    assert is_cancelled_error(info.value)
    assert not group.is_cancelled() and group.get_n_failed() == 0


def test_start_async_callback_form_and_caller_cancel():
    """R18: start_async() hides PyGObject 3.42's two-callback user data;
    callback(group, result) then start_finish(result) -> (task, value).
    Cancelling the caller before started() cancels the child."""
    results = []
    ran = []

    def on_started(group, result):
        try:
            results.append(group.start_finish(result))
        except GLib.Error as error:
            results.append(error)

    with Nursery.Group() as group:
        group.start_async(serve, 1, name='first', callback=on_started, async_return=True)
        run_until(lambda: results)
        task, value = results.pop()
        assert value == 1 and task.name == 'first'

        cancellable = Gio.Cancellable()
        group.start_async(lambda task: (ran.append(task), until_cancelled(task)),
                          cancellable=cancellable, callback=on_started, async_return=True)
        run_until(lambda: ran)
        cancellable.cancel()
        run_until(lambda: results)
        [error] = results
        assert is_cancelled_error(error)
        assert ran[0].state == TS.CANCELLED
        assert not group.is_cancelled()
        group.cancel()
    assert task.state == TS.CANCELLED


def test_start_async_without_callback():
    """R18: with nobody listening, start_async() still spawns the child,
    and its failure before started() is no failure of the group."""
    with Nursery.Group() as group:
        group.start_async(lambda task: task.started(1))
        group.start_async(lambda task: task.return_error(my_error('unheard')))
    assert group.get_n_failed() == 0
    assert group.get_n_finished() == 2


def test_after_started_failure_is_the_groups(nursery_log):
    """R18, R3: after started() the child is ordinary: its failure is the
    group's; a second started() is a critical and is ignored."""
    def started_then_crashes(task):
        task.started()
        task.started()
        raise RuntimeError('crashed later')

    nursery_log.expect('*already started*')
    with pytest.raises(ExceptionGroup) as info:
        with Nursery.Group() as group:
            task, value = group.start(started_then_crashes)
            assert value is None
    [failure] = info.value.exceptions
    assert isinstance(failure, RuntimeError)
    assert task.state == TS.FAILED


def test_start_on_closed_group_raises_closed():
    """R4, R18: a closed group refuses start() with Nursery.Error.CLOSED
    and never runs the child."""
    with Nursery.Group() as group:
        pass
    with pytest.raises(GLib.Error) as info:
        group.start(pytest.fail)
    assert info.value.matches(NURSERY_ERROR, Nursery.Error.CLOSED)


def test_start_requires_a_callable():
    """R24: a non-callable child is a TypeError before anything starts;
    the C argument order is refused the same way."""
    group = Nursery.Group()
    with pytest.raises(TypeError):
        group.start('server')
    with pytest.raises(TypeError):
        group.start_async('server', serve, None)
    with group:
        pass
    assert group.get_n_finished() == 0


def test_start_refused_off_the_owner_thread():
    """R23: start() belongs to the owner context's thread; from a thread
    child (while the owner joins the group) it raises RuntimeError before
    spawning anything."""
    def try_start(task, group):
        with pytest.raises(RuntimeError):
            group.start(pytest.fail)
        return group.get_n_pending() + group.get_n_running()

    with Nursery.Group() as group:
        task = group.spawn_in_thread(try_start, group)
    assert task.result == 1
    assert group.get_n_finished() == 1
