# helpers.py: child bodies and loop helpers shared by the Python suite
#
# Copyright 2026 The Nursery authors
# SPDX-License-Identifier: LGPL-2.1-or-later

"""Helpers; none of them sleeps: they iterate the main context."""

import gc

from gi.repository import Gio, GLib, GObject

IO_ERROR = Gio.io_error_quark()
GUARD_SECONDS = 30    # turns a hang into a failure; never a synchronisation
MY_DOMAIN = GLib.quark_from_string('nursery-test-error-quark')


def run_until(predicate, timeout_seconds=30):
    """Iterates the default main context until @predicate() is true.

    The timeout is no synchronisation, only a guard that turns a hang
    into a failure.
    """
    context = GLib.MainContext.default()
    expired = []
    guard = GLib.timeout_source_new_seconds(timeout_seconds)
    guard.set_callback(lambda *args: expired.append(True))
    guard.attach(context)
    try:
        while not predicate():
            assert not expired, 'gave up waiting for %r' % (predicate,)
            context.iteration(True)
    finally:
        guard.destroy()


def on_cancelled(task, callback):
    """Calls @callback() once, as soon as @task is cancelled.

    Gio.Cancellable.connect() is g_cancellable_connect(), whose handler
    cannot disconnect itself (that deadlocks) and so would keep the task
    alive; the "cancelled" signal is connected instead, and dropped once
    it fired. It runs on the thread that cancels.
    """
    cancellable = task.get_cancellable()
    token = [True]

    def handler(*args):
        try:
            token.pop()
        except IndexError:
            return
        GObject.Object.disconnect(cancellable, handler_id)
        callback()

    handler_id = GObject.Object.connect(cancellable, 'cancelled', handler)
    if cancellable.is_cancelled():
        handler()


def until_cancelled(task):
    """Body for spawn(..., async_return=True): ends cancelled when cancelled."""
    on_cancelled(task, task.return_error_if_cancelled)


def is_cancelled_error(error):
    return error.matches(IO_ERROR, Gio.IOErrorEnum.CANCELLED)


def my_error(message, code=7):
    return GLib.Error.new_literal(MY_DOMAIN, message, code)


class Finalized:
    """Becomes true when the GObject it watches is finalized."""

    def __init__(self, obj):
        self.done = False
        obj.weak_ref(self._notify)

    def _notify(self):
        self.done = True

    def __bool__(self):
        return self.done


def collect():
    """Drops Python garbage, then lets the groups finish on the context."""
    gc.collect()
    context = GLib.MainContext.default()
    while context.pending():
        context.iteration(False)
    gc.collect()


def states(tasks):
    return [task.state for task in tasks]


def return_from_idle(task, value=5):
    """Body for spawn(..., async_return=True): returns @value from an idle,
    later but without any timer."""
    def idle():
        task.return_value(value)
        return GLib.SOURCE_REMOVE
    GLib.idle_add(idle, priority=GLib.PRIORITY_LOW)


def run_main_loop(loop, timeout_seconds=30):
    """Runs @loop until it quits; the timeout is only a guard against a
    hang, never a synchronisation."""
    expired = []

    def give_up():
        expired.append(True)
        loop.quit()
        return GLib.SOURCE_REMOVE

    guard = GLib.timeout_add_seconds(timeout_seconds, give_up)
    loop.run()
    assert not expired, 'the main loop never quit'
    GLib.source_remove(guard)
