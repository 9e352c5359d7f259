# Nursery.py: the PyGObject override of Nursery
#
# Copyright 2026 The Nursery authors
# SPDX-License-Identifier: LGPL-2.1-or-later

"""Structured concurrency for GLib, the Python way.

A :class:`Group` is a nursery (trio) or task group (anyio, asyncio)::

    from gi.repository import GLib, Nursery

    def fetch(task, url):
        return download(url, task.get_cancellable())   # becomes task.result

    try:
        with Nursery.Group(name='fetch') as group:
            for url in urls:
                group.spawn(fetch, url)
    except* GLib.Error as failures:
        ...

Leaving the ``with`` block joins the group: it iterates the owner context
(the thread-default ``GLib.MainContext`` when the group was created) until
every child has finished and the group is closed.

Children
    ``group.spawn(func, *args, name=None, async_return=False)`` and
    ``group.spawn_in_thread(func, *args, name=None)`` take any callable and
    call it as ``func(task, *args)``: on the owner context, or on a worker
    thread of the GTask pool. ``name`` defaults to the callable's
    ``__qualname__``.

    A Python child behaves like a plain function: when ``func`` returns,
    the task succeeds with the returned value (``None`` for none); when it
    raises, the task fails. ``func`` may instead finish the task itself
    with one of the ``task.return_*()`` methods (for instance
    ``task.return_int()`` so C code can read ``get_int()``); then its
    return value is ignored.

    The C semantics, where an in-context child finishes only when it calls
    ``task.return_*()``, possibly much later from a callback, are one
    keyword away: with ``spawn(..., async_return=True)`` the return value
    of ``func`` is ignored and the task runs until a ``return_*()`` call
    (an exception raised by ``func`` before that still fails it). Call the
    return methods through the task object, so the override sees them.

    An exception raised after the task has returned cannot change the
    outcome any more; it is printed like any exception in a callback.

Values
    ``None``, ``bool`` and ``int`` (within gint64) are stored as plain
    GValues, so C code can read them with ``get_boolean()``/``get_int()``;
    a ``GObject.Value`` is stored as given; any other object travels as a
    ``GObject.TYPE_PYOBJECT`` value and ``task.result`` is that very object.

Failures
    A child that raises ``GLib.Error`` fails with that error's domain, code
    and message. Any other exception becomes a ``Nursery.Error.FAILED``
    failure whose message names the exception type and text.
    ``task.return_error()`` takes either kind too. The exception object a
    task failed with from Python is ``task.exception`` (None for failures
    made in C); it lives exactly as long as the task.

Leaving ``with``
    * Success (under ``Nursery.Policy.RACE``: a winner) leaves quietly.
    * If children failed, an ``ExceptionGroup`` of ``GLib.Error`` is raised,
      one entry per ``group.get_errors()`` failure, in the order they
      happened, so ``except* GLib.Error`` works; each entry's
      ``__cause__`` is the exception its child raised, if it raised one.
    * Without failures, a cancelled or timed-out group raises its single
      ``GLib.Error`` (``Gio.IOErrorEnum.CANCELLED`` / ``TIMED_OUT``).
    * If the body of the ``with`` raises, the group is cancelled and still
      joined (no child outlives it), then the body's exception propagates
      unchanged, so ``except ValueError`` around the block keeps working;
      child failures are attached to it as notes (``add_note``) and stay
      readable from ``group.get_errors()``.
    * ``KeyboardInterrupt``, ``SystemExit`` and other ``BaseException``
      that are not ``Exception`` are never wrapped: raised by a child, it
      fails the task like any exception (so the group cannot hang), and
      once the group is closed the first one propagates as itself.

Task helpers
    ``task.result``, ``task.error``, ``task.exception``, ``task.state``,
    ``task.name``; ``task.cancel()`` and everything else of the C API.

Versions
    Written for PyGObject 3.42, where the pattern is callbacks plus a
    ``GLib.MainLoop`` (or the blocking ``group.wait()``, which iterates the
    owner context). Where PyGObject >= 3.50 is present, ``await
    group.wait_async()`` should work too, through its asyncio integration
    and the ``wait_async``/``wait_finish`` pair (untested here).
"""

from gi.repository import GLib, GObject

from ..module import get_introspection_module
from ..overrides import override

Nursery = get_introspection_module('Nursery')

__all__ = []

_GINT64_MIN = -2 ** 63
_GINT64_MAX = 2 ** 63 - 1


class _Record:
    """What the override knows of a task beyond its C state."""

    __slots__ = ('returned', 'exception')

    def __init__(self):
        self.returned = False    # a return_*() went through the override
        self.exception = None    # the Python exception the task failed with


def _record(task):
    """The task's record, created on first use, from any thread.

    It lives in the wrapper's instance dict rather than in a dict keyed by
    the wrapper: PyGObject creates a new wrapper whenever the old one was
    dropped, so a WeakKeyDictionary would lose records; an instance dict
    makes PyGObject keep the one wrapper (a toggle reference) exactly as
    long as the task exists, and leaves cycles through a stored traceback
    to Python's GC. setdefault() is atomic under the GIL.
    """
    return task.__dict__.setdefault('_nursery_record', _Record())


def _to_gvalue(value):
    """A Python result as the GValue the C task stores."""
    if value is None or isinstance(value, GObject.Value):
        return value
    if isinstance(value, bool):
        return GObject.Value(GObject.TYPE_BOOLEAN, value)
    if isinstance(value, int) and _GINT64_MIN <= value <= _GINT64_MAX:
        return GObject.Value(GObject.TYPE_INT64, value)
    return GObject.Value(GObject.TYPE_PYOBJECT, value)


def _to_gerror(exc):
    """The GLib.Error a task fails with when its child raised @exc."""
    if isinstance(exc, GLib.Error):
        return exc
    text = str(exc)
    message = type(exc).__name__ + (': ' + text if text else '')
    return GLib.Error.new_literal(Nursery.error_quark(), message, Nursery.Error.FAILED)


class Task(Nursery.Task):
    """One child of a :class:`Group`, with Python-friendly accessors."""

    @property
    def name(self):
        """The name given at spawn time, or None."""
        return self.get_name()

    @property
    def state(self):
        """The task's :class:`Nursery.TaskState`."""
        return self.get_state()

    @property
    def result(self):
        """The value the task succeeded with, or None."""
        return self.get_value()

    @property
    def error(self):
        """The GLib.Error the task failed or was cancelled with, or None."""
        return self.get_error()

    @property
    def exception(self):
        """The Python exception the task failed with, or None."""
        record = getattr(self, '_nursery_record', None)
        return record.exception if record is not None else None

    def return_value(self, value=None):
        """Succeeds with @value: any Python object (see the module doc)."""
        _record(self).returned = True
        super().return_value(_to_gvalue(value))

    def return_boolean(self, result):
        """Succeeds with a boolean, readable from C with get_boolean()."""
        _record(self).returned = True
        super().return_boolean(result)

    def return_int(self, result):
        """Succeeds with an integer, readable from C with get_int()."""
        _record(self).returned = True
        super().return_int(result)

    def return_error(self, error):
        """Fails with @error: a GLib.Error as it is, any other exception
        as a Nursery.Error.FAILED failure (kept in :attr:`exception`)."""
        record = _record(self)
        # A second return is refused by C (DESIGN R3): keep the first story.
        if not record.returned:
            record.returned = True
            record.exception = error
        super().return_error(_to_gerror(error))

    def return_error_if_cancelled(self):
        """If the task was cancelled, finishes it as cancelled: True."""
        if not super().return_error_if_cancelled():
            return False
        _record(self).returned = True
        return True


Task = override(Task)
__all__.append('Task')


class _Child:
    """A Python child: the user data its C task holds until it finished."""

    __slots__ = ('func', 'args', 'async_return')

    def __init__(self, func, args, async_return):
        self.func = func
        self.args = args
        self.async_return = async_return


def _run_child(task, child):
    """The NurseryTaskFunc of every Python child, in context or in a thread."""
    record = _record(task)
    try:
        result = child.func(task, *child.args)
    except BaseException as exc:
        # Too late to fail the task (R3): let PyGObject print it.
        if record.returned:
            raise
        task.return_error(exc)
        return
    if not record.returned and not child.async_return:
        task.return_value(result)


def _failure_log(group):
    """The exceptions behind the group's failures, in completion order
    (None where a failure did not come from Python)."""
    log = getattr(group, '_nursery_failures', None)
    if log is None:
        log = group.__dict__.setdefault('_nursery_failures', [])
        # The signal comes in completion order, the order of get_errors().
        group.connect('task-finished', _log_failure, log)
    return log


def _log_failure(group, task, log):
    """task-finished handler of _failure_log()."""
    if task.get_state() == Nursery.TaskState.FAILED:
        log.append(task.exception)


def _add_failure_notes(exc, failures):
    """Tells about child failures on an exception that propagates instead."""
    for failure in failures:
        exc.add_note('Nursery: a child failed: %s (%s, %d)'
                     % (failure.message, failure.domain, failure.code))


def _first_interrupt(failures):
    """The first KeyboardInterrupt-like exception a child raised, or None."""
    for failure in failures:
        cause = failure.__cause__
        if cause is not None and not isinstance(cause, Exception):
            return cause
    return None


class Group(Nursery.Group):
    """A nursery: ``with Nursery.Group() as group:`` (see the module doc)."""

    def spawn(self, func, *args, name=None, async_return=False):
        """Adds an in-context child: ``func(task, *args)`` runs on a later
        iteration of the owner context. See the module doc for when it
        finishes. Raises GLib.Error (Nursery.Error.CLOSED) if the group is
        closed.

        Returns: the :class:`Task`
        """
        return self._spawn(Nursery.Group.spawn, func, args, name, async_return)

    def spawn_in_thread(self, func, *args, name=None):
        """Adds a thread child: ``func(task, *args)`` runs on a worker
        thread; its return value or exception is the task's outcome.

        Returns: the :class:`Task`
        """
        return self._spawn(Nursery.Group.spawn_in_thread, func, args, name, False)

    def _spawn(self, c_spawn, func, args, name, async_return):
        # The one place for per-task spawn options: shielded= and timeout=
        # (set_shielded(), set_timeout()) belong here, applied to the task
        # right after spawning: it cannot have started yet (DESIGN R1).
        if not callable(func):
            raise TypeError('a Nursery child must be callable, not %r' % (func,))
        if name is None:
            name = getattr(func, '__qualname__', None)
        _failure_log(self)
        return c_spawn(self, name, _run_child, _Child(func, args, async_return))

    def _failures(self):
        """get_errors(), each caused by what its child raised, if known."""
        errors = self.get_errors()
        causes = _failure_log(self)
        # Equal lengths unless children finished before the log existed.
        if len(causes) == len(errors):
            for error, cause in zip(errors, causes):
                error.__cause__ = cause
        return errors

    def _join(self):
        """Waits for the group to close: None, or wait()'s GLib.Error."""
        try:
            joined = self.wait(None)
        except GLib.Error as error:
            return error
        # False without an error: wait() refused with a critical (another
        # thread owns the context); the group is not joined at all.
        if not joined:
            raise RuntimeError('wait() refused to join the group (see the critical)')
        return None

    def __enter__(self):
        """Returns the group itself, ready to record its failures."""
        _failure_log(self)
        return self

    def __exit__(self, exc_type, exc, tb):
        """Joins the group; raises as the module doc describes."""
        if exc is not None:
            # The body gave up: stop the children, but never leave them
            # behind (structure first), so the group is joined regardless.
            self.cancel()
        outcome = self._join()
        if outcome is None:
            return False
        failures = self._failures()
        if exc is not None:
            _add_failure_notes(exc, failures)
            return False
        if not failures:
            raise outcome
        interrupt = _first_interrupt(failures)
        if interrupt is not None:
            _add_failure_notes(interrupt, failures)
            raise interrupt
        name = self.get_name()
        raise ExceptionGroup('%d child task(s) of %s failed'
                             % (len(failures), 'group %r' % name if name else 'a group'),
                             failures)


Group = override(Group)
__all__.append('Group')
