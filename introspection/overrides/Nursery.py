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
    ``group.spawn(func, *args, name=None, async_return=False,
    shielded=False, timeout=None)`` and ``group.spawn_in_thread(func,
    *args, name=None, shielded=False, timeout=None)`` take any callable and
    call it as ``func(task, *args)``: on the owner context, or on a worker
    thread of the GTask pool. ``name`` defaults to the callable's
    ``__qualname__``. ``shielded=True`` and ``timeout`` (seconds, see
    Deadlines) are applied before the child can start (R1).

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

Deadlines and shields
    Timeouts are in seconds (``float``) in Python and count from the call:
    ``Nursery.Group(timeout=5)`` and ``spawn(..., timeout=0.5)``; 0 expires
    on the next iteration, ``math.inf`` means no deadline, a negative or
    NaN timeout raises ``ValueError``. The C methods keep their units:
    ``set_timeout()`` takes microseconds and ``set_deadline()`` an absolute
    ``GLib.get_monotonic_time()``, both on groups and tasks, so deadlines
    can be moved or cleared later (R16). A child whose own deadline
    passes is cancelled and, if it ends cancelled, fails with
    ``Gio.IOErrorEnum.TIMED_OUT`` (R17): a failure, so it appears in the
    ``ExceptionGroup``. A group whose deadline passes is cancelled and
    raises a single TIMED_OUT ``GLib.Error`` unless a child failed (R7).
    A shielded child (``shielded=True`` or ``task.set_shielded(True)``) is
    passed by the group's cancellation and deadline, but not by its own
    ``cancel()`` or deadline; the group still waits for it (R15).

Start handshake
    ``task, value = group.start(func, *args, name=None, cancellable=None,
    async_return=False)`` is trio's and anyio's ``start()`` (R18):
    it spawns an in-context child and iterates the owner context until the
    child calls ``task.started(value)`` (any value, as for results), then
    returns the task and that value. If the child finishes first, ``start``
    raises: the child's own failure as a ``GLib.Error`` (whose
    ``__cause__`` is what the child raised, if it raised), or
    ``Nursery.Error.NOT_STARTED`` if it succeeded without calling
    ``started()``, or CANCELLED if ``cancellable`` was cancelled first
    (which cancels the child). Such a failure belongs to the caller, not to
    the group. After ``started()`` the child is an ordinary child.

    A child that should keep running after ``started()`` (the usual case:
    a server) needs ``async_return=True``, since a plain function's return
    ends its task; it then finishes with a ``task.return_*()`` call, for
    instance from a callback or once cancelled. Such a child may also call
    ``started()`` later, from a callback. Under the default, a child that
    returns before calling ``started()`` makes ``start`` raise NOT_STARTED.
    The child can shield itself or set its own timeout in its body.

    The callback form is ``group.start_async(func, *args, name=None,
    cancellable=None, callback=None, async_return=False)``; ``callback(group,
    result)`` runs on the owner context and ``group.start_finish(result)``
    returns ``(task, value)`` or raises.

Nested groups
    ``Nursery.Group.new_for_task(task)`` and
    ``Nursery.Group.new_with_cancellable(cancellable)`` return groups of
    this class, usable with ``with``; they are cancelled with their parent
    (R14) unless shielded (``set_shielded(True)``, R15). Inside an
    in-context child, prefer ``inner.wait_async()`` with a callback that
    finishes the parent task over a ``with`` block, which iterates the
    context from inside the parent's function.

Completion order
    ``for task in group.as_completed(cancellable=None):`` yields each
    child as it finishes, each exactly once, in completion order (Python's
    ``asyncio.as_completed()``, Tokio's ``JoinSet::join_next()``), and
    ends once the group is closed and every finished child was handed
    over. Iterating it runs the owner context until the next child
    finishes, so it belongs on the owner context's thread, like
    ``start()`` (RuntimeError where another thread runs that context). It is ``next_async()`` and
    ``next_finish()`` in a loop: like ``wait()`` it joins the group, and
    it hands over the children that finish from its first call on, which
    ``as_completed()`` makes at once, so call it right after spawning.
    ``cancellable`` gives up the loop only: it raises CANCELLED and takes
    no task; the group is not cancelled and a later ``as_completed()``
    carries on. The callback form works as is:
    ``group.next_async(cancellable, callback)`` and, in
    ``callback(group, result)``, ``group.next_finish(result)``: a task, or
    None at the end.

    ``group.list_tasks()`` is a live ``Gio.ListModel`` of the unfinished
    children: ``len()``, indexing, iteration and ``items-changed``.

Channels
    ``Nursery.Channel(capacity=0)`` (or ``Nursery.Channel.new(capacity)``)
    carries Python values from producers to consumers, in FIFO order,
    each item exactly once or handed back to its sender as an error:

    * ``channel.try_send(value)`` and ``channel.try_receive()`` never
      wait: they return None and the item, or raise ``GLib.Error``
      (``Gio.IOErrorEnum.WOULD_BLOCK`` when full or empty,
      ``Nursery.Error.CLOSED`` once closed, and drained for receivers).
    * ``channel.send(value, cancellable=None)`` and
      ``channel.receive(cancellable=None)`` wait, and raise the same way
      (CANCELLED instead of WOULD_BLOCK; a cancelled receive consumes no
      item). On a thread that runs its thread-default context (the main
      thread, a thread that pushed a context, any code dispatched by a
      context) they use the async form and iterate that context until it
      completes, so children on that context keep running meanwhile; on
      any other thread (a ``spawn_in_thread()`` child) they call the
      blocking C form. Iterating the context from inside an in-context
      child nests the loop: fine for one such child, but two in-context
      children that wait on each other this way deadlock, as the inner
      one must finish first; give them callbacks or put one in a thread.
    * ``for item in channel:`` (or ``channel.iter(cancellable)``)
      receives until the channel is closed and drained; any other error
      (a cancel) is raised.
    * ``send_async(value, cancellable, callback)`` /
      ``send_finish(result)`` and ``receive_async(cancellable, callback)``
      / ``receive_finish(result)`` are the callback forms;
      ``receive_finish()`` returns the item.

    Values go through a GValue: ``str``, ``float`` and GObjects as
    G_TYPE_STRING, G_TYPE_DOUBLE and their own type, so C, GJS and Vala
    receivers read them directly; ``bool`` and ``int`` as for results
    (G_TYPE_BOOLEAN, and G_TYPE_INT64 within gint64: C reads it with
    ``g_value_get_int64()``); a ``GObject.Value`` as given (for a
    G_TYPE_INT, say); anything else, ``None`` included, as
    ``GObject.TYPE_PYOBJECT``. A Python receiver gets back an equal
    ``int``, ``str``, ``float`` or ``bool``, the contents of a
    ``GObject.Value``, and the very object otherwise.

Task helpers
    ``task.result``, ``task.error``, ``task.exception``, ``task.state``,
    ``task.name``; ``task.cancel()`` and everything else of the C API.

Versions
    Written for PyGObject 3.42, where the pattern is callbacks plus a
    ``GLib.MainLoop`` (or the blocking ``group.wait()``, which iterates the
    owner context). Where PyGObject >= 3.50 is present, ``await
    group.wait_async()`` should work too, through its asyncio integration
    and the ``wait_async``/``wait_finish`` pair (untested here). The
    override's ``start_async()`` is not awaitable: use ``start()`` or its
    callback.
"""

import math
import threading

from gi.repository import GLib, GObject

from ..module import get_introspection_module
from ..overrides import override

Nursery = get_introspection_module('Nursery')

__all__ = []

_GINT64_MIN = -2 ** 63
_GINT64_MAX = 2 ** 63 - 1
# Longer timeouts than this (about 146 000 years) mean no deadline: the C
# deadline is now + timeout in a gint64.
_MAX_TIMEOUT_USEC = 2 ** 62


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


def _timeout_usec(seconds):
    """A Python timeout in seconds as C microseconds, None for no deadline.

    Rounded up, so a deadline never comes early; ValueError for a negative
    or NaN timeout (as trio's fail_after()).
    """
    if not seconds >= 0:
        raise ValueError('a timeout is a number of seconds >= 0, not %r' % (seconds,))
    if math.isinf(seconds):
        return None
    usec = math.ceil(seconds * 1_000_000)
    return usec if usec < _MAX_TIMEOUT_USEC else None


def _to_gerror(exc):
    """The GLib.Error a task fails with when its child raised @exc."""
    if isinstance(exc, GLib.Error):
        return exc
    text = str(exc)
    message = type(exc).__name__ + (': ' + text if text else '')
    return GLib.Error.new_literal(Nursery.error_quark(), message, Nursery.Error.FAILED)


def _to_item(value):
    """A Python value as the GValue a channel carries (module doc: Channels)."""
    if type(value) is str:
        return GObject.Value(GObject.TYPE_STRING, value)
    if type(value) is float:
        return GObject.Value(GObject.TYPE_DOUBLE, value)
    if isinstance(value, GObject.Object):
        return GObject.Value(value.__gtype__, value)
    if value is None:
        return GObject.Value(GObject.TYPE_PYOBJECT, None)
    return _to_gvalue(value)


def _iterate_until(context, results):
    """Iterates @context, acquired by the caller, until @results holds
    something; releases it. An async call's callback fills @results."""
    try:
        while not results:
            context.iteration(True)
    finally:
        context.release()
    return results.pop()


def _call_and_wait(context, start):
    """Calls ``start(callback)``, an async call, then iterates @context,
    acquired by the caller, until it completes; releases @context.

    Returns: the call's GAsyncResult
    """
    results = []
    try:
        start(lambda source, result: results.append(result))
    except BaseException:
        context.release()
        raise
    return _iterate_until(context, results)


def _acquire_owner(context, what):
    """Acquires the owner context of a group, or raises RuntimeError: where
    another thread iterates it, waiting here would never end (R23)."""
    if not context.acquire():
        raise RuntimeError("%s must run on the thread of the group's owner context" % what)


def _waiting_context():
    """The context a waiting channel call iterates, acquired; None if the
    call must block in C instead.

    That is the thread-default context if this thread runs it (it pushed
    it, or is dispatching it now), and the default context on the main
    thread unless another thread runs it. Elsewhere, iterating the default
    context would run its owner's callbacks on the wrong thread.
    """
    context = GLib.MainContext.ref_thread_default()
    if context.is_owner() or threading.current_thread() is threading.main_thread():
        if context.acquire():
            return context
    return None


def _is_closed_error(error):
    return error.matches(Nursery.error_quark(), Nursery.Error.CLOSED)


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
        # A second return is refused by C (R3): keep the first story.
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

    def started(self, value=None):
        """Tells the :meth:`Group.start` caller that the task is ready,
        handing it @value: any Python object (see the module doc). A
        second call is a critical and is ignored (R18)."""
        super().started(_to_gvalue(value))


Task = override(Task)
__all__.append('Task')


class _Child:
    """A Python child: the user data its C task holds until it finished."""

    __slots__ = ('func', 'args', 'async_return', 'raised')

    def __init__(self, func, args, async_return, keep_raised=False):
        self.func = func
        self.args = args
        self.async_return = async_return
        # For start(): what func raised, as the start error's __cause__.
        self.raised = [] if keep_raised else None


def _run_child(task, child):
    """The NurseryTaskFunc of every Python child, in context or in a thread."""
    record = _record(task)
    try:
        result = child.func(task, *child.args)
    except BaseException as exc:
        # Too late to fail the task (R3): let PyGObject print it.
        if record.returned:
            raise
        if child.raised is not None:
            child.raised.append(exc)
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
    # A start child that failed before started() failed its start caller,
    # not the group (R18): get_n_failed() did not count it.
    if task.get_state() == Nursery.TaskState.FAILED and len(log) < group.get_n_failed():
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


def _ignore_start(group, result):
    """The callback of a start_async() nobody listens to."""
    try:
        group.start_finish(result)
    except GLib.Error:
        pass    # the caller did not ask; the child's failure is no group's


def _check_child(func, name):
    """The name a Python child gets; TypeError if @func cannot be one."""
    if not callable(func):
        raise TypeError('a Nursery child must be callable, not %r' % (func,))
    return name if name is not None else getattr(func, '__qualname__', None)


class Group(Nursery.Group):
    """A nursery: ``with Nursery.Group() as group:`` (see the module doc)."""

    def __init__(self, *, timeout=None, **properties):
        """Creates a group owned by the thread-default main context.

        @timeout: seconds from now after which the group is cancelled and
        times out (R16, R17); None for no deadline. The other
        keywords are GObject properties (name, policy, max_concurrent).
        """
        usec = _timeout_usec(timeout) if timeout is not None else None
        super().__init__(**properties)
        if usec is not None:
            self.set_timeout(usec)

    def spawn(self, func, *args, name=None, async_return=False, shielded=False, timeout=None):
        """Adds an in-context child: ``func(task, *args)`` runs on a later
        iteration of the owner context. See the module doc for when it
        finishes. ``shielded=True`` shields it from the group's
        cancellation (R15); ``timeout`` is its own deadline in
        seconds from now (R16, R17). Raises GLib.Error
        (Nursery.Error.CLOSED) if the group is closed.

        Returns: the :class:`Task`
        """
        return self._spawn(Nursery.Group.spawn, func, args, name, async_return,
                           shielded, timeout)

    def spawn_in_thread(self, func, *args, name=None, shielded=False, timeout=None):
        """Adds a thread child: ``func(task, *args)`` runs on a worker
        thread; its return value or exception is the task's outcome.
        ``shielded`` and ``timeout`` as for :meth:`spawn`; a thread child
        only sees its deadline through its cancellable.

        Returns: the :class:`Task`
        """
        return self._spawn(Nursery.Group.spawn_in_thread, func, args, name, False,
                           shielded, timeout)

    def _spawn(self, c_spawn, func, args, name, async_return, shielded, timeout):
        # The one place for per-task spawn options, applied to the task
        # right after spawning: it cannot have started yet (R1), so
        # a shield also covers a group cancelled already (R5, R15).
        name = _check_child(func, name)
        usec = _timeout_usec(timeout) if timeout is not None else None
        _failure_log(self)
        task = c_spawn(self, name, _run_child, _Child(func, args, async_return))
        if shielded:
            task.set_shielded(True)
        if usec is not None:
            task.set_timeout(usec)
        return task

    def start_async(self, func, *args, name=None, cancellable=None, callback=None,
                    async_return=False):
        """Spawns an in-context child ``func(task, *args)`` that calls
        ``task.started(value)`` once it is ready (R18); the callback
        form of :meth:`start`.

        ``callback(group, result)`` runs on the owner context once the
        child started or finished without starting; ``start_finish(result)``
        then returns ``(task, value)`` or raises. A closed group refuses
        through the callback too (Nursery.Error.CLOSED).
        """
        self._start_async(_Child(func, args, async_return), _check_child(func, name),
                          cancellable, callback)

    def _start_async(self, child, name, cancellable, callback):
        _failure_log(self)
        if callback is None:
            callback = _ignore_start
        # PyGObject 3.42 takes a callback's data as varargs: with two
        # callbacks in one call, the first one's data must be a 1-tuple.
        Nursery.Group.start_async(self, name, _run_child, (child,), cancellable, callback)

    def start(self, func, *args, name=None, cancellable=None, async_return=False):
        """trio's and anyio's ``start()`` (R18): spawns an
        in-context child ``func(task, *args)`` and iterates the owner
        context until it calls ``task.started(value)``.

        A child that keeps running after started() needs
        ``async_return=True`` (see the module doc). Cancelling
        @cancellable before started() cancels the child.

        Returns: ``(task, value)``, value being what the child passed to
        started(). Raises: GLib.Error if the child finished first: its own
        failure (``__cause__``: the exception it raised, if any),
        Nursery.Error.NOT_STARTED if it succeeded, CANCELLED if it was
        cancelled; Nursery.Error.CLOSED if the group is closed.
        """
        name = _check_child(func, name)
        child = _Child(func, args, async_return, keep_raised=True)
        results = []
        context = self.get_context()
        # As wait() does: refuse, before spawning anything, where another
        # thread iterates the owner context (R23).
        if not context.acquire():
            raise RuntimeError("start() must run on the thread of the group's owner context")
        try:
            self._start_async(child, name, cancellable,
                              lambda group, result: results.append(result))
            while not results:
                context.iteration(True)
        finally:
            context.release()
        try:
            return self.start_finish(results.pop())
        except GLib.Error as error:
            raised = child.raised.pop() if child.raised else None
            if raised is not None and not isinstance(raised, Exception):
                raise raised from None    # KeyboardInterrupt and company
            raise error from raised

    def as_completed(self, cancellable=None):
        """Python's ``as_completed()`` for children: yields each
        child as it finishes, in completion order, each exactly once, and
        ends once the group is closed and every child was handed over.

        The first ``next_async()`` is made now, so children that finish
        from this call on are all handed over; iterating runs the owner
        context. Cancelling @cancellable makes the loop raise CANCELLED
        without taking a task; the group itself is not cancelled.

        Returns: an iterator of :class:`Task`. Raises: RuntimeError where
        another thread runs the owner context.
        """
        context = self.get_context()
        _acquire_owner(context, 'as_completed()')
        results = []
        try:
            self.next_async(cancellable, lambda group, result: results.append(result))
        finally:
            context.release()
        return self._as_completed(context, results, cancellable)

    def _as_completed(self, context, results, cancellable):
        while True:
            _acquire_owner(context, 'as_completed()')
            task = self.next_finish(_iterate_until(context, results))
            if task is None:
                return
            yield task
            self.next_async(cancellable, lambda group, result: results.append(result))

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


class Channel(Nursery.Channel):
    """A bounded FIFO channel of Python values (module doc: Channels)."""

    def __init__(self, capacity=0, **properties):
        """A channel buffering @capacity items; 0 for a rendezvous."""
        super().__init__(capacity=capacity, **properties)

    def try_send(self, value):
        """Sends @value if that needs no waiting. Raises GLib.Error:
        WOULD_BLOCK if the channel is full, Nursery.Error.CLOSED if closed."""
        super().try_send(_to_item(value))

    def try_receive(self):
        """The next item, if one is there. Raises GLib.Error: WOULD_BLOCK if
        the channel is empty, Nursery.Error.CLOSED if closed and drained."""
        return super().try_receive()[1]

    def send_async(self, value, cancellable=None, callback=None, *user_data):
        """Sends @value; ``callback(channel, result, *user_data)`` runs on
        the thread-default context once it was taken or refused."""
        super().send_async(_to_item(value), cancellable, callback, *user_data)

    def receive_finish(self, result):
        """Finishes receive_async(): the item, or raises GLib.Error
        (Nursery.Error.CLOSED once closed and drained, or CANCELLED)."""
        return super().receive_finish(result)[1]

    def send(self, value, cancellable=None):
        """Sends @value, waiting while the channel is full: iterating this
        thread's context, or blocking a thread that runs none (module doc).
        Raises GLib.Error: Nursery.Error.CLOSED, or CANCELLED (the item
        was not sent)."""
        item = _to_item(value)
        context = _waiting_context()
        if context is None:
            super().send(item, cancellable)
            return
        super().send_finish(_call_and_wait(
            context, lambda callback: self.send_async(item, cancellable, callback)))

    def receive(self, cancellable=None):
        """The next item, waiting while the channel is empty, as send()
        waits. Raises GLib.Error: Nursery.Error.CLOSED once closed and
        drained, or CANCELLED (no item was consumed)."""
        context = _waiting_context()
        if context is None:
            return super().receive(cancellable)[1]
        return self.receive_finish(_call_and_wait(
            context, lambda callback: self.receive_async(cancellable, callback)))

    def iter(self, cancellable=None):
        """Receives until the channel is closed and drained: a generator.
        Other errors (CANCELLED) are raised."""
        while True:
            try:
                item = self.receive(cancellable)
            except GLib.Error as error:
                if _is_closed_error(error):
                    return
                raise
            yield item

    def __iter__(self):
        """``for item in channel``: iter() without a cancellable."""
        return self.iter()


Channel = override(Channel)
__all__.append('Channel')
