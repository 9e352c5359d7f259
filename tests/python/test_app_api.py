# test_app_api.py: what real applications need, from Python
# (R7, R15, R21, R22, R27, R29)
#
# Copyright 2026 The Nursery authors
# SPDX-License-Identifier: LGPL-2.1-or-later

import os
import signal
import threading

import pytest
from gi.repository import Gio, GLib, Nursery

from helpers import IO_ERROR, is_cancelled_error, my_error, run_until, until_cancelled

TS = Nursery.TaskState


def fail_with(task, message):
    task.return_error(my_error(message))


def test_task_failed_handler_handles_failures():
    """R29: a task-failed handler that returns True handles the failure:
    counted in n-failed, not kept, not the outcome."""
    group = Nursery.Group(policy=Nursery.Policy.SUPERVISE)
    seen = []

    def on_failed(group, task, error):
        seen.append((task.get_name(), error.message))
        return task.get_name().startswith('handled')

    group.connect('task-failed', on_failed)
    group.spawn(fail_with, 'one', name='handled 1', async_return=True)
    group.spawn(fail_with, 'two', name='kept', async_return=True)
    group.spawn(fail_with, 'three', name='handled 2', async_return=True)
    with pytest.raises(GLib.Error) as info:
        group.wait(None)
    # The first kept failure, unchanged.
    assert info.value.message == 'two' and info.value.code == 7
    assert sorted(seen) == [('handled 1', 'one'), ('handled 2', 'three'), ('kept', 'two')]
    assert group.props.n_failed == 3
    assert [error.message for error in group.get_errors()] == ['two']
    assert group.get_failed_task_names() == ['kept']


def test_handled_python_failures_stay_bounded():
    """R29: a long-running group whose handler handles the failures of
    raising Python children keeps nothing of them (the override's own
    record of exceptions included), while an unhandled one still reaches
    the exit as the exception the child raised."""
    def raises(task, i):
        raise ValueError('handled %d' % i)

    def last(task):
        raise KeyError('kept')

    group = Nursery.Group(policy=Nursery.Policy.SUPERVISE)
    group.connect('task-failed', lambda group, task, error: 'handled' in error.message)
    with pytest.raises(ExceptionGroup) as raised:
        with group:
            # In waves, as a server's connections fail over time.
            for wave in range(1, 21):
                for i in range(100):
                    group.spawn(raises, i)
                run_until(lambda: group.props.n_failed == 100 * wave)
            assert len(group.__dict__.get('_nursery_failures', ())) <= 300
            group.spawn(last)
    assert group.props.n_failed == 2001
    assert [type(exc) for exc in raised.value.exceptions] == [KeyError]


def test_handled_failure_does_not_fail_fast():
    """R29: a handled failure does not cancel a fail-fast group."""
    group = Nursery.Group()
    group.connect('task-failed', lambda group, task, error: True)
    sibling = group.spawn(until_cancelled, name='sibling', async_return=True)
    failing = group.spawn(fail_with, 'boom', name='failing', async_return=True)
    run_until(lambda: failing.get_state() == TS.FAILED)
    assert not group.props.cancelled and sibling.get_state() == TS.RUNNING
    assert failing.get_error().message == 'boom'
    sibling.cancel()
    assert group.wait(None)


def test_failed_task_names_follow_get_errors():
    """R29: every kept failure is traceable to its task's name, in the
    order of get_errors()."""
    group = Nursery.Group(policy=Nursery.Policy.SUPERVISE)
    for name in ('copy a', 'copy b'):
        group.spawn(fail_with, 'cannot ' + name, name=name, async_return=True)
    with pytest.raises(GLib.Error):
        group.wait(None)
    names = group.get_failed_task_names()
    messages = [error.message for error in group.get_errors()]
    assert list(zip(names, messages)) == [('copy a', 'cannot copy a'), ('copy b', 'cannot copy b')]


def test_counters_for_a_progress_bar():
    """R21: n-succeeded, n-cancelled and n-spawned, notified like the
    other counters."""
    notified = set()
    group = Nursery.Group(policy=Nursery.Policy.SUPERVISE)
    for name in ('n-succeeded', 'n-cancelled', 'n-spawned'):
        group.connect('notify::' + name, lambda group, pspec: notified.add(pspec.name))
    for i in range(4):
        group.spawn(lambda task: 'ok')
    group.spawn(fail_with, 'bad', async_return=True)
    waiting = [group.spawn(until_cancelled, async_return=True) for _ in range(2)]
    assert group.props.n_spawned == 7 and notified == set()
    run_until(lambda: group.props.n_succeeded == 4)
    for task in waiting:
        task.cancel()
    with pytest.raises(GLib.Error):
        group.wait(None)
    assert (group.props.n_succeeded, group.props.n_failed, group.props.n_cancelled) == (4, 1, 2)
    assert group.props.n_finished == 7
    assert notified == {'n-succeeded', 'n-cancelled', 'n-spawned'}


def test_progress_from_a_thread_is_notified_on_the_owner_thread():
    """R21: a thread child publishes progress; notify::progress comes on
    the owner context, coalesced, with the latest value."""
    main = threading.current_thread()
    notified = []

    def work(task):
        for i in range(1, 501):
            task.set_progress(i / 500)

    def on_progress(task, pspec):
        assert threading.current_thread() is main
        notified.append(task.props.progress)

    with Nursery.Group() as group:
        task = group.spawn_in_thread(work)
        assert task.props.progress == -1
        task.connect('notify::progress', on_progress)
    assert task.props.progress == 1.0 and notified[-1] == 1.0
    assert 1 <= len(notified) < 500


def test_cleanup_runs_when_the_task_is_cancelled():
    """R15: a task's cleanup runs as a shielded child once the task ended
    cancelled, may work asynchronously, and the group waits for it."""
    log = []

    def cleanup(task, path):
        log.append('cleanup %s cancelled=%s' % (path, task.is_cancelled()))

        def done():
            log.append('removed ' + path)
            task.return_boolean(True)
            return GLib.SOURCE_REMOVE
        GLib.timeout_add(5, done)

    def writer(task):
        task.add_cleanup(10 * 1000 * 1000, cleanup, 'half-written.tmp')
        until_cancelled(task)

    group = Nursery.Group()
    task = group.spawn(writer, name='writer', async_return=True)
    run_until(lambda: task.get_state() == TS.RUNNING)
    group.cancel()
    try:
        group.wait(None)
    except GLib.Error as error:
        assert is_cancelled_error(error)
    assert log == ['cleanup half-written.tmp cancelled=False', 'removed half-written.tmp']
    assert task.get_state() == TS.CANCELLED and group.props.n_spawned == 2


def test_cleanup_dropped_when_the_task_succeeds():
    """R15: a task that succeeds drops its cleanups without running them."""
    ran = []
    with Nursery.Group() as group:
        group.spawn(lambda task: task.add_cleanup(-1, lambda task: ran.append(task)))
    assert ran == [] and group.props.n_spawned == 1


def test_return_from_group():
    """R7: a task finishes with its nested group's outcome."""
    def parent(task, message):
        nested = Nursery.Group.new_for_task(task)
        nested.spawn(lambda t: 'fine')
        nested.spawn(fail_with, message, async_return=True)
        task.return_from_group(nested)

    group = Nursery.Group(policy=Nursery.Policy.SUPERVISE)
    task = group.spawn(parent, 'nested failure', name='parent', async_return=True)
    with pytest.raises(GLib.Error) as info:
        group.wait(None)
    assert info.value.message == 'nested failure'
    assert task.get_state() == TS.FAILED and task.get_error().message == 'nested failure'


def test_cancel_signal_is_readable():
    """R22: which Unix signal cancelled the group is readable and named in
    the error."""
    group = Nursery.Group(name='server')
    group.spawn(until_cancelled, async_return=True)
    group.cancel_on_unix_signal(signal.SIGHUP)
    assert group.get_cancel_signal() == 0
    run_until(lambda: group.props.n_running == 1)
    os.kill(os.getpid(), signal.SIGHUP)
    with pytest.raises(GLib.Error) as info:
        group.wait(None)
    assert info.value.matches(IO_ERROR, Gio.IOErrorEnum.CANCELLED)
    assert info.value.message == 'Group “server” was cancelled by a Unix signal (SIGHUP)'
    assert group.get_cancel_signal() == signal.SIGHUP


def test_hold_application_until_the_group_closes():
    """A Gio.Application held by a group runs until the group closes; its
    shutdown joins the group."""
    app = Gio.Application(flags=Gio.ApplicationFlags.NON_UNIQUE)
    state = {}

    def slow(task):
        GLib.timeout_add(20, lambda: task.return_int(5) or GLib.SOURCE_REMOVE)

    def activate(app):
        group = Nursery.Group()
        state['task'] = group.spawn(slow, async_return=True)
        group.hold_application(app)
        group.wait_async(None, lambda group, result: state.setdefault('joined', group.wait_finish(result)))
        state['group'] = group

    app.connect('activate', activate)
    assert app.run([]) == 0
    assert state['joined'] and state['task'].result == 5
    assert state['group'].props.closed


def test_application_shutdown_cancels_and_joins():
    """quit() while a child runs: shutdown cancels the group and joins it
    before run() returns."""
    app = Gio.Application(flags=Gio.ApplicationFlags.NON_UNIQUE)
    state = {}

    def activate(app):
        group = Nursery.Group()
        state['task'] = group.spawn(until_cancelled, async_return=True)
        group.hold_application(app)
        state['group'] = group
        GLib.idle_add(lambda: app.quit() or GLib.SOURCE_REMOVE)

    app.connect('activate', activate)
    assert app.run([]) == 0
    assert state['task'].get_state() == TS.CANCELLED
    assert state['group'].props.closed
