#!/usr/bin/python3
"""Python smoke test: Nursery through plain GObject Introspection.

Run by `meson test` (suite python) with Debian's /usr/bin/python3, which
has PyGObject; the typelib and library come from the build tree. It uses
the raw GIR API (no override), so it checks what every GI language sees.
"""

import sys
import unittest

import gi

gi.require_version("Nursery", "1.0")
from gi.repository import GLib, Gio, Nursery  # noqa: E402


def returns_value(task, value):
    task.return_int(value)


def fails(task, message):
    task.return_error(GLib.Error.new_literal(Gio.io_error_quark(), message, Gio.IOErrorEnum.NOT_FOUND))


def until_cancelled(task, _data):
    # Cancellable.connect is g_cancellable_connect (it shadows
    # GObject.connect): no arguments, and it runs at once if already cancelled.
    task.get_cancellable().connect(lambda *_: task.return_error_if_cancelled())


class Smoke(unittest.TestCase):
    def test_value_and_failure(self):
        """R7, R8: a value child and a failing child through the GIR."""
        group = Nursery.Group(name="smoke", policy=Nursery.Policy.SUPERVISE)
        ok = group.spawn("ok", returns_value, 42)
        bad = group.spawn("bad", fails, "no such thing")
        thread = group.spawn_in_thread("thread", returns_value, 7)
        with self.assertRaises(GLib.Error) as raised:
            group.wait(None)
        self.assertEqual(raised.exception.domain, "g-io-error-quark")
        self.assertEqual(raised.exception.code, Gio.IOErrorEnum.NOT_FOUND)
        self.assertEqual(raised.exception.message, "no such thing")
        self.assertEqual(ok.get_state(), Nursery.TaskState.SUCCEEDED)
        self.assertEqual(ok.get_int(), 42)
        self.assertEqual(ok.get_value(), 42)
        self.assertEqual(thread.get_int(), 7)
        self.assertEqual(bad.get_state(), Nursery.TaskState.FAILED)
        self.assertEqual([e.message for e in group.get_errors()], ["no such thing"])
        self.assertTrue(group.props.closed)
        self.assertEqual(group.props.n_finished, 3)

    def test_deadline(self):
        """R17: a task's own deadline makes it fail with TIMED_OUT."""
        group = Nursery.Group()
        task = group.spawn("slow", until_cancelled, None)
        task.set_timeout(1000)
        with self.assertRaises(GLib.Error) as raised:
            group.wait(None)
        self.assertTrue(raised.exception.matches(Gio.io_error_quark(), Gio.IOErrorEnum.TIMED_OUT))
        self.assertEqual(task.get_state(), Nursery.TaskState.FAILED)

    def test_shield(self):
        """R15: a shielded task is not reached by the group's cancel."""
        group = Nursery.Group()
        shielded = group.spawn("shielded", returns_value, 1)
        shielded.set_shielded(True)
        plain = group.spawn("plain", until_cancelled, None)
        group.cancel()
        self.assertTrue(group.wait(None))  # R7: the owner's own cancel is quiet
        self.assertEqual(shielded.get_state(), Nursery.TaskState.SUCCEEDED)
        self.assertEqual(plain.get_state(), Nursery.TaskState.CANCELLED)

    def test_start(self):
        """R18: start_async delivers the value given to started()."""
        group = Nursery.Group()
        result = {}

        def server(task, *_data):
            task.started(8080)
            until_cancelled(task, None)

        def on_started(source, res, _data):
            task, value = group.start_finish(res)
            result["task"], result["value"] = task, value
            group.cancel()

        # PyGObject 3.42 takes callback data as varargs: with two callbacks
        # in one call, the first one's data must be given as a tuple.
        group.start_async("server", server, (None,), None, on_started, None)
        self.assertTrue(group.wait(None))  # R7: the owner's own cancel is quiet
        self.assertEqual(result["value"], 8080)
        self.assertEqual(result["task"].get_name(), "server")
        self.assertEqual(result["task"].get_state(), Nursery.TaskState.CANCELLED)

    def test_limit(self):
        """R19: max-concurrent caps the running children, FIFO."""
        group = Nursery.Group(max_concurrent=2)
        seen = []

        def child(task, index):
            seen.append((index, group.props.n_running))
            task.return_int(index)

        for i in range(6):
            group.spawn(None, child, i)
        self.assertEqual(group.props.n_pending, 6)
        group.wait(None)
        self.assertEqual([i for i, _ in seen], list(range(6)))
        self.assertTrue(all(running <= 2 for _, running in seen))


if __name__ == "__main__":
    sys.exit(unittest.main(verbosity=2))
