# Nursery.py: the PyGObject override of Nursery
#
# Copyright 2026 The Nursery authors
# SPDX-License-Identifier: LGPL-2.1-or-later

"""Structured concurrency for GLib, the Python way: ``with`` and
``async with Nursery.Group() as group``, ``group.spawn()`` of plain
functions, thread functions and coroutine functions, ``await task``,
``group.start()``, ``group.as_completed()`` and channels.

The guide is docs/bindings.md (Python); the rules it cites are
docs/rules.md.
"""

import itertools
import math
import signal
import socket
import sys
import threading
import traceback
import weakref
from types import CoroutineType as _CoroutineType
from types import coroutine as _types_coroutine
from contextvars import Context, copy_context
from functools import partial

from gi.repository import Gio, GLib, GObject

from ..module import get_introspection_module
from ..overrides import override

Nursery = get_introspection_module('Nursery')

__all__ = []

_GINT64_MIN = -2 ** 63
_GINT64_MAX = 2 ** 63 - 1
# Longer timeouts than this (about 146 000 years) mean no deadline: the C
# deadline is now + timeout in a gint64.
_MAX_TIMEOUT_USEC = 2 ** 62
# The code flags of functions whose call only makes an object (a coroutine
# or a generator) and runs nothing: CO_GENERATOR, CO_COROUTINE,
# CO_ITERABLE_COROUTINE, CO_ASYNC_GENERATOR.
_CO_LAZY = 0x20 | 0x80 | 0x100 | 0x200

_IO_ERROR = Gio.io_error_quark()

# The C methods the hot paths call without the override's wrappers.
_c_return_value = Nursery.Task.return_value
_c_return_error = Nursery.Task.return_error
_c_spawn = Nursery.Group.spawn
_c_start_soon = Nursery.Group.start_soon
_c_spawn_keyed = Nursery.Group.spawn_keyed
_c_start_soon_keyed = Nursery.Group.start_soon_keyed
_c_spawn_in_thread = Nursery.Group.spawn_in_thread
_c_cancel = Nursery.Group.cancel

# Tasks whose function runs now (plain and thread children) or whose
# coroutine has not finished: task -> True once a return_*() call went
# through the override. A dict is atomic under the GIL, from any thread.
_running = {}


def _mark_returned(task):
    if task in _running:
        _running[task] = True


def _is_plain(value):
    """True for the values kept in C as plain GValues (bool, gint64 int)."""
    return value is None or type(value) is bool or (
        type(value) is int and _GINT64_MIN <= value <= _GINT64_MAX)


def _to_gvalue(value):
    """A plain Python result as the GValue the C task stores."""
    if value is None or isinstance(value, GObject.Value):
        return value
    if isinstance(value, bool):
        return GObject.Value(GObject.TYPE_BOOLEAN, value)
    return GObject.Value(GObject.TYPE_INT64, value)


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


def _error_key(error):
    return (error.domain, error.code, error.message)


def _to_item(value):
    """A Python value as the GValue a channel carries (docs/bindings.md)."""
    if type(value) is str:
        return GObject.Value(GObject.TYPE_STRING, value)
    if type(value) is float:
        return GObject.Value(GObject.TYPE_DOUBLE, value)
    if isinstance(value, GObject.Object):
        return GObject.Value(value.__gtype__, value)
    if _is_plain(value) and value is not None or isinstance(value, GObject.Value):
        return _to_gvalue(value)
    return GObject.Value(GObject.TYPE_PYOBJECT, value)


def _running_loop():
    """The asyncio loop running on this thread, or None. asyncio is not
    imported for a program that does not use it."""
    asyncio = sys.modules.get('asyncio')
    return asyncio._get_running_loop() if asyncio is not None else None


def _is_cancelled_error(error):
    return isinstance(error, GLib.Error) and error.matches(_IO_ERROR, Gio.IOErrorEnum.CANCELLED)


def _is_timeout_error(error):
    return isinstance(error, GLib.Error) and error.matches(_IO_ERROR, Gio.IOErrorEnum.TIMED_OUT)


def _only_cancelled(group, cancelled_error):
    """The first @cancelled_error of the exception group @group if it
    holds nothing else, else None."""
    if group.split(cancelled_error)[1] is not None:
        return None
    while isinstance(group, BaseExceptionGroup):
        group = group.exceptions[0]
    return group


def _is_interrupt(exc):
    """KeyboardInterrupt, SystemExit and their subclasses: never wrapped.
    Any other BaseException (CancelledError, a user's BaseException
    subclass) is a failure like the others, in a BaseExceptionGroup, as
    asyncio.TaskGroup does (its _is_base_error())."""
    return isinstance(exc, (KeyboardInterrupt, SystemExit))


def _trim_traceback(exc, skip):
    """Starts @exc's traceback at the child's own frame (@skip frames of
    the override go) and clears the frames' locals: the exception is kept
    with its task, and a frame holding the task would make a cycle."""
    tb = exc.__traceback__
    for _ in range(skip):
        if tb is not None and tb.tb_frame.f_globals is globals():
            tb = tb.tb_next
    traceback.clear_frames(tb)
    exc.__traceback__ = tb
    # The exceptions it chains keep frames too, the override's among
    # them: a cleanup that raised over its CancelledError chains that one,
    # whose traceback goes through _await_watching(), which holds the
    # task. Their locals go the same way (trio's
    # test_cancel_scope_exit_doesnt_create_cyclic_garbage).
    seen = {id(exc)}
    chained = [exc.__cause__, exc.__context__]
    while chained:
        link = chained.pop()
        if link is not None and id(link) not in seen:
            seen.add(id(link))
            traceback.clear_frames(link.__traceback__)
            chained += (link.__cause__, link.__context__)
    return exc


def _fail(task, exc, failures):
    """Fails @task with @exc, a Python exception; @failures (a list, or
    None for a start child before started()) keeps it for the group's
    ExceptionGroup."""
    task.__dict__['_nursery_exception'] = exc
    error = _to_gerror(exc)
    if failures is not None:
        failures.append((_error_key(error), exc, task))
    _c_return_error(task, error)


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


def _future_from_async(loop, start, finish):
    """An asyncio future of a GIO-style call: ``start(callback)`` now,
    ``finish(result)`` in the callback gives the future's outcome."""
    future = loop.create_future()

    def callback(source, result, *unused):
        try:
            value = finish(result)
        except BaseException as exc:    # noqa: B036 (handed over, not lost)
            # Its traceback would only show this frame, which holds the
            # future (a cycle): the awaiting code raises it afresh.
            if not future.done():
                future.set_exception(exc.with_traceback(None))
            return
        if not future.done():
            future.set_result(value)

    start(callback)
    return future


class Task(Nursery.Task):
    """One child of a :class:`Group`, with Python-friendly accessors;
    ``await task`` inside a coroutine returns its result or raises."""

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
        return self.__dict__.get('_nursery_exception')

    def get_value(self):
        """The value the task succeeded with: a Python object is kept on
        the Python side (so the cyclic GC sees it), a plain one in C."""
        value = self.__dict__.get('_nursery_value', self)
        return super().get_value() if value is self else value

    def _returning(self, c_return, value):
        """Runs a C return_*() call; if converting @value fails, the task
        fails with that exception (and it is raised), never left running."""
        _mark_returned(self)
        try:
            c_return(self, value)
        except (TypeError, OverflowError, ValueError) as exc:
            _fail(self, exc, _group_failures(self))
            raise

    def return_value(self, value=None):
        """Succeeds with @value: any Python object (docs/bindings.md)."""
        if _is_plain(value) or isinstance(value, GObject.Value):
            self._returning(_c_return_value, _to_gvalue(value))
            return
        # Kept by the wrapper, not in a C GValue the cyclic GC cannot see.
        self.__dict__['_nursery_value'] = value
        self._returning(_c_return_value, None)

    def return_boolean(self, result):
        """Succeeds with a boolean, readable from C with get_boolean()."""
        self._returning(Nursery.Task.return_boolean, result)

    def return_int(self, result):
        """Succeeds with an integer, readable from C with get_int()."""
        self._returning(Nursery.Task.return_int, result)

    def return_error(self, error):
        """Fails with @error: a GLib.Error as it is, any other exception
        as a Nursery.Error.FAILED failure (kept in :attr:`exception`)."""
        _mark_returned(self)
        d = self.__dict__
        # A second return is refused by C (R3): keep the first story.
        if not self.is_finished() and '_nursery_exception' not in d:
            failures = _group_failures(self)
            d['_nursery_exception'] = error
            if failures is not None:
                failures.append((_error_key(_to_gerror(error)), error, self))
        _c_return_error(self, _to_gerror(error))

    def return_error_if_cancelled(self):
        """If the task was cancelled, finishes it as cancelled: True."""
        if not super().return_error_if_cancelled():
            return False
        _mark_returned(self)
        return True

    def started(self, value=None):
        """Tells the :meth:`Group.start` caller that the task is ready,
        handing it @value: any Python object (docs/bindings.md). A second
        call is a critical and is ignored (R18)."""
        d = self.__dict__
        if '_nursery_started_once' in d:
            # C refuses a second call with a critical (R18): the first
            # value stands, so this one is not stored over it.
            super().started(None)
            return
        d['_nursery_started_once'] = True
        if _is_plain(value) or isinstance(value, GObject.Value):
            d['_nursery_started'] = True
            super().started(_to_gvalue(value))
            return
        # Handed over on the Python side and dropped by start(): a value
        # that refers to its own task makes no cycle through C.
        d['_nursery_started'] = (value,)
        super().started(None)

    def _started_value(self, c_value):
        """The value of started(), once; for start() and start_finish()."""
        held = self.__dict__.pop('_nursery_started', True)
        return held[0] if type(held) is tuple else c_value

    def _outcome(self):
        """The result of a finished task, or raises what it failed with."""
        state = self.get_state()
        if state == Nursery.TaskState.SUCCEEDED:
            return self.get_value()
        exc = self.__dict__.get('_nursery_exception')
        if state == Nursery.TaskState.FAILED:
            raise exc if exc is not None else self.get_error()
        import asyncio
        raise asyncio.CancelledError(self.get_error().message)

    def __await__(self):
        """``await task``: its result, or raises its exception
        (CancelledError if it was cancelled), without blocking the loop."""
        if not self.is_finished():
            import asyncio
            future = _future_from_async(asyncio.get_running_loop(),
                                        lambda callback: self.wait_async(None, callback),
                                        _ignore_wait)
            yield from future.__await__()
        return self._outcome()


def _ignore_wait(result):
    """The wait_finish() of ``await task``: the outcome is read after."""
    return None


Task = override(Task)
__all__.append('Task')


def _run_child(task, data):
    """The NurseryTaskFunc of a plain Python child, in context or in a
    thread: ``func(task, *args)`` in a copy of the spawner's contextvars;
    its return value is the task's result. The hot path of every child.

    @data is ``(func, args, context)``, or just ``func`` for a child with
    no arguments spawned where no context variable was set: it runs in a
    new empty context, which is what a copy of the spawner's would be.
    Nothing else is kept from spawn to start then: a hundred thousand
    pending children leave no tuples and contexts for the cyclic GC to
    walk over and over (about 0.9 µs per spawn at 100k)."""
    if type(data) is tuple:
        func, args, context = data
    else:
        func, args, context = data, None, Context()
    _running[task] = False
    try:
        # Without the star when there is nothing to spread: an empty
        # *args costs some 40 ns a call (timeit), 900 instructions a child.
        result = context.run(func, task) if args is None else context.run(func, task, *args)
    except BaseException as exc:
        _child_raised(task, exc, _group_failures(task))
        # The child's frame, kept by its traceback, keeps this one as
        # f_back: leave no task in it (no cycle through the task's dict).
        task = data = func = args = context = None
        return
    if _running.pop(task):
        return
    if result is None:
        _c_return_value(task, None)
    elif type(result) is _CoroutineType:
        _returned_coroutine(task, result, context, _group_failures(task))
    else:
        Task.return_value(task, result)


# What the in-context children of spawn() and start_soon() run, by key:
# C is handed the key and one runner for every child, not a function per
# child (PyGObject would make a closure for each, about 1 µs, a third of
# a Python child). The runner is called once per key, with None for a
# child that never runs, so nothing stays here after its child is gone.
_keyed = {}
_new_key = itertools.count(1).__next__


def _run_keyed(task, key):
    """The runner's function: runs the child of @key, or forgets it."""
    data = _keyed.pop(key)
    if task is not None:
        _run_child(task, data)
        # A failed child's traceback keeps this frame too (as the f_back
        # of _run_child's): leave no task in it.
        task = data = None


_runner = Nursery.Runner.new(_run_keyed)


def _run_general(task, data):
    """The NurseryTaskFunc of start children and async_return children:
    @data also holds their failure list (or start sink) and whether the
    function's return value is ignored."""
    func, args, context, failures, async_return = data
    _running[task] = False
    try:
        result = context.run(func, task, *args)
    except BaseException as exc:
        _child_raised(task, exc, failures)
        task = data = func = args = context = failures = None
        return
    if _running.pop(task) or async_return:
        return
    if type(result) is _CoroutineType:
        _returned_coroutine(task, result, context, failures)
    else:
        Task.return_value(task, result)


def _child_raised(task, exc, failures):
    """A child's function raised @exc: it fails the task, unless the task
    returned already."""
    if _running.pop(task):
        if exc is task.__dict__.get('_nursery_exception'):
            return    # a return_*() that failed: already the outcome
        raise exc     # too late to fail the task (R3): PyGObject prints it
    _fail(task, _trim_traceback(exc, 1), failures)


def _group_failures(task):
    """The failure list of @task's group (looked up on failure only)."""
    group = task.get_group()
    return group._failure_list() if group is not None else None


def _returned_coroutine(task, coro, context, failures):
    """A plain child returned a coroutine (a lambda or partial around an
    async def): run it where a loop runs, else refuse it (never a
    coroutine object as the value)."""
    loop = _running_loop()
    if loop is None or threading.current_thread() is not threading.main_thread() \
            and loop is not _running_loop():
        coro.close()
        _fail(task, TypeError(_LAZY_MESSAGE % (coro.__qualname__,)), failures)
        return
    _start_coroutine(task, coro, context, failures, loop)


_LAZY_MESSAGE = ('%s is a coroutine function: a synchronous group cannot run it; '
                 "spawn it inside 'async with Nursery.Group() as group' on an asyncio "
                 'loop that runs on GLib (gbulb, gi.events), or pass a plain function')


def _run_coroutine(task, data):
    """The NurseryTaskFunc of a coroutine child: starts an asyncio task
    of ``func(task, *args)`` in a copy of the spawner's contextvars."""
    func, args, context, failures, loop = data
    try:
        coro = context.run(func, task, *args)
    except BaseException as exc:
        _fail(task, _trim_traceback(exc, 1), failures)
        return
    _start_coroutine(task, coro, context, failures, loop)


def _start_coroutine(task, coro, context, failures, loop):
    """Runs @coro as an asyncio task that finishes its Nursery task itself
    (no done callback: one loop iteration less per child)."""
    _running[task] = False
    # Named as the Nursery task, as asyncio.TaskGroup.create_task(name=)
    # names its asyncio task (None: asyncio's own "Task-N").
    loop.create_task(_drive_coroutine(task, coro, failures, loop), name=task.get_name(),
                     context=context)


async def _drive_coroutine(task, coro, failures, loop):
    """The asyncio task of a coroutine child: awaits @coro, then returns
    its Nursery task with the result, the exception, or as cancelled."""
    asyncio = _asyncio()
    try:
        if task.is_cancelled():
            coro.close()
            raise asyncio.CancelledError()
        result = await _await_watching(coro, task, loop)
    except BaseException as exc:    # noqa: B036 (it becomes the outcome)
        if not _running.pop(task, False):
            if isinstance(exc, asyncio.CancelledError):
                _return_cancelled(task)
            else:
                # Its own frame and _await_watching()'s.
                _fail(task, _trim_traceback(exc, 2), failures)
        # As in _run_child: the child's frame keeps this one; no task here.
        task = coro = failures = None
        return
    if _running.pop(task, False):
        return
    if result is None:
        _c_return_value(task, None)
    else:
        Task.return_value(task, result)


@_types_coroutine
def _await_watching(coro, task, loop):
    """``await coro`` that watches the Nursery task's cancellation only
    once @coro first suspends: a coroutine that finishes in its first step
    (most quick children) costs no cancellable and no signal connection.
    From then on the task's cancellation cancels the asyncio task, so
    CancelledError is raised at the coroutine's next await (section 3b)."""
    try:
        awaited = coro.send(None)
    except StopIteration as stop:
        return stop.value
    cancellable = task.get_cancellable()
    atask = _asyncio().current_task()
    handler = GObject.Object.connect(cancellable, 'cancelled', _cancel_soon, atask, loop)
    try:
        if cancellable.is_cancelled():
            atask.cancel()      # cancelled during the first step
        # Hand what it awaits to the asyncio task, and what comes back to
        # it, until the first step is over: `yield from` then does the rest
        # (the asyncio task resumes with send(None) or throw(), as yield
        # from does).
        while True:
            try:
                yield awaited
            except BaseException as exc:    # noqa: B036 (thrown in by the asyncio task)
                try:
                    awaited = coro.throw(exc)
                except StopIteration as stop:
                    return stop.value
                continue
            return (yield from coro)
    finally:
        # The handler holds the asyncio task: it goes once that is done.
        GObject.Object.disconnect(cancellable, handler)


def _asyncio():
    """The asyncio module, imported on first use (not with the override:
    a synchronous program never needs it) and then kept, for the
    per-child paths."""
    global _asyncio_module
    if _asyncio_module is None:
        import asyncio
        _asyncio_module = asyncio
    return _asyncio_module


_asyncio_module = None


def _return_cancelled(task):
    if not task.return_error_if_cancelled():
        # CancelledError, but its Nursery task was not cancelled: its
        # asyncio task was cancelled natively (asyncio's Task.cancel()).
        # That cancels this one child, never a group failure (R13), as
        # asyncio.TaskGroup ignores a cancelled child (anyio's
        # test_start_native_child_cancelled): cancelled, then returned.
        task.cancel()
        if task.return_error_if_cancelled():
            return
        _c_return_error(task, GLib.Error.new_literal(
            _IO_ERROR, 'The coroutine was cancelled', Gio.IOErrorEnum.CANCELLED))


def _cancel_soon(cancellable, atask, loop):
    """Cancels @atask from whichever thread cancelled its Nursery task."""
    if _running_loop() is loop:
        atask.cancel()
    else:
        loop.call_soon_threadsafe(atask.cancel)


class _FailureList(list):
    """The Python failures of a group, matched with get_errors() at the
    exit. A failure a task-failed handler handled (R29) is never kept by
    the group, so its entry is pruned once the list outgrows what the group
    keeps: a long-running group that handles its failures stays bounded."""

    __slots__ = ('_group', '_limit')

    def __init__(self, group):
        super().__init__()
        self._group = weakref.ref(group)   # the group holds the list
        self._limit = 64

    def append(self, item):
        super().append(item)
        if len(self) > self._limit:
            self._prune()
            self._limit = max(64, 2 * len(self))

    def _prune(self):
        group = self._group()
        if group is None:
            return
        kept = {}
        for error in group.get_errors():
            key = _error_key(error)
            kept[key] = kept.get(key, 0) + 1
        survivors = []
        for item in reversed(self):
            key, _exc, task = item
            if not task.is_finished():
                survivors.append(item)      # not reported yet
            elif kept.get(key, 0) > 0:
                kept[key] -= 1
                survivors.append(item)
        self[:] = reversed(survivors)


class _StartFailures:
    """The failure sink of a start child: before started() its failure is
    the start caller's (R18, kept in @raised), after it the group's."""

    __slots__ = ('group_failures', 'raised')

    def __init__(self, group_failures):
        self.group_failures = group_failures
        self.raised = []

    def append(self, item):
        self.raised.append(item[1])
        self.group_failures.append(item)

    def take_raised(self):
        """What the child raised before started(), and not the group's."""
        if not self.raised:
            return None
        exc = self.raised.pop()
        self.group_failures.remove(next(item for item in self.group_failures
                                        if item[1] is exc))
        return exc


def _ignore_start(group, result):
    """The callback of a start_async() nobody listens to."""
    try:
        group.start_finish(result)
    except GLib.Error:
        pass    # the caller did not ask; the child's failure is no group's


def _lazy_flags(func):
    """The _CO_LAZY flags of @func (0 for a plain one); TypeError if it
    cannot be a child."""
    try:
        return func.__code__.co_flags & _CO_LAZY
    except AttributeError:
        if not callable(func):
            raise TypeError('a Nursery child must be callable, not %r' % (func,)) from None
        return 0


def _nothing():
    return None


# (a weakref to func, its _CO_LAZY flags, its __qualname__) of the last
# function spawned: a weakref, so that the cache keeps no callable alive.
_last_child = (_nothing, 0, None)


def _remember_child(func):
    """Looks @func up for spawn() (TypeError if it is not callable)."""
    global _last_child
    found = (_nothing, _lazy_flags(func), getattr(func, '__qualname__', None))
    try:
        _last_child = (weakref.ref(func),) + found[1:]
    except TypeError:
        pass    # no weakref to it: not cached
    return found


def _refuse_lazy(func, flags, where):
    if flags & 0x80:    # CO_COROUTINE
        raise TypeError(_LAZY_MESSAGE % (getattr(func, '__qualname__', func),)
                        if where is None else
                        '%s is a coroutine function: %s runs plain functions only'
                        % (getattr(func, '__qualname__', func), where))
    raise TypeError('%s is a generator function: its call would only make a generator; '
                    'a Nursery child is a plain function or, inside '
                    "'async with Nursery.Group()', an async def"
                    % (getattr(func, '__qualname__', func),))


def _refused_off_owner(group, what):
    """A spawn the library refused without a GLib.Error: only its owner's
    thread may spawn (R23, R24), and a programmer error gets a critical
    and no task from C. Python code would go on with None; this raises
    where the mistake is."""
    raise RuntimeError('Nursery group %r refused %s: only the thread that runs its '
                       'owner context may spawn (see the critical above); from a '
                       'thread child, hand the spawn to the owner context (GLib.idle_add '
                       'on it, or loop.call_soon_threadsafe)' % (group.get_name(), what))


def _apply_options(task, shielded, usec):
    # Right after spawning: the task cannot have started yet (R1), so a
    # shield also covers a group cancelled already (R5, R15).
    if shielded:
        task.set_shielded(True)
    if usec is not None:
        task.set_timeout(usec)
    return task


def _libc_sigaction():
    """libc's sigaction(), to save and restore a C-level handler that
    Python does not know of (a GLib Unix signal source's); None if absent."""
    try:
        import ctypes
        # The process's own symbols (libc's among them): no library search.
        return ctypes.CDLL(None, use_errno=True).sigaction
    except (ImportError, OSError, AttributeError):
        return None


class _SigintCancels:
    """While a synchronous join runs on the main thread, Ctrl-C cancels
    the group instead of raising KeyboardInterrupt inside whatever Python
    callback runs next (where it would be lost, or leave a task unreturned);
    the join then raises it. A wakeup fd watched on the owner context makes
    the Python handler run even while the join sleeps in C. The C-level
    handler in place before (Python's, or GLib's for a Unix signal source
    such as cancel_on_unix_signal()'s) is put back afterwards."""

    _sigaction = None

    def __init__(self, group):
        self.group = group
        self.interrupted = False
        self.armed = False

    def __enter__(self):
        if threading.current_thread() is not threading.main_thread() or \
                signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
            return self    # someone else's Ctrl-C policy: leave it alone
        if _SigintCancels._sigaction is None:
            _SigintCancels._sigaction = _libc_sigaction() or False
        if not _SigintCancels._sigaction:
            return self
        import ctypes
        # Opaque: larger than any libc's struct sigaction.
        self.saved = ctypes.create_string_buffer(1024)
        if _SigintCancels._sigaction(signal.SIGINT, None, self.saved) != 0:
            return self
        signal.signal(signal.SIGINT, self._on_sigint)
        ours = ctypes.create_string_buffer(1024)
        _SigintCancels._sigaction(signal.SIGINT, None, ours)
        size = ctypes.sizeof(ctypes.c_void_p)
        if ours.raw[:size] != self.saved.raw[:size]:
            # The C handler was not Python's: a GLib Unix signal source
            # (cancel_on_unix_signal()) handles Ctrl-C its own way.
            signal.signal(signal.SIGINT, signal.default_int_handler)
            _SigintCancels._sigaction(signal.SIGINT, self.saved, None)
            return self
        self.rsock, self.wsock = socket.socketpair()
        self.rsock.setblocking(False)
        self.wsock.setblocking(False)
        self.old_fd = signal.set_wakeup_fd(self.wsock.fileno(), warn_on_full_buffer=False)
        channel = GLib.IOChannel.unix_new(self.rsock.fileno())
        self.source = GLib.io_create_watch(channel, GLib.IOCondition.IN)
        self.source.set_callback(self._drain)
        self.source.attach(self.group.get_context())
        self.armed = True
        return self

    def _on_sigint(self, signum, frame):
        self.interrupted = True
        _c_cancel(self.group)

    def _drain(self, *args):
        try:
            while self.rsock.recv(512):
                pass
        except BlockingIOError:
            pass
        return GLib.SOURCE_CONTINUE

    def __exit__(self, *exc_info):
        if not self.armed:
            return False
        signal.signal(signal.SIGINT, signal.default_int_handler)
        _SigintCancels._sigaction(signal.SIGINT, self.saved, None)
        signal.set_wakeup_fd(self.old_fd)
        self.source.destroy()
        self.rsock.close()
        self.wsock.close()
        self.group = self.source = None
        return False


class _AsCompleted:
    """The iterator of :meth:`Group.as_completed`: ``for`` and ``async for``."""

    def __init__(self, group, cancellable):
        self._group = group
        self._cancellable = cancellable
        self._results = []
        self._future = None
        self._request()

    def _request(self):
        self._group.next_async(self._cancellable, self._on_next)

    def _on_next(self, group, result):
        self._results.append(result)
        if self._future is not None and not self._future.done():
            self._future.set_result(None)

    def _take(self):
        task = self._group.next_finish(self._results.pop())
        if task is not None:
            self._request()
        return task

    def __iter__(self):
        return self

    def __next__(self):
        context = self._group.get_context()
        _acquire_owner(context, 'as_completed()')
        try:
            while not self._results:
                context.iteration(True)
        finally:
            context.release()
        task = self._take()
        if task is None:
            raise StopIteration
        return task

    def __aiter__(self):
        return self

    async def __anext__(self):
        if not self._results:
            self._future = _running_loop().create_future()
            try:
                await self._future
            finally:
                self._future = None
        task = self._take()
        if task is None:
            raise StopAsyncIteration
        return task


def _cancel_host(group, pspec):
    """notify::cancelled of a group in ``async with``: its cancellation
    (a failure under fail-fast, cancel(), the deadline) cancels the body
    at its next await, as asyncio.TaskGroup does."""
    d = group.__dict__
    host = d.get('_nursery_host')
    if host is None or d.get('_nursery_host_cancelled') or not group.is_cancelled():
        return
    d['_nursery_host_cancelled'] = True
    loop = d['_nursery_loop']
    if _running_loop() is loop:
        host.cancel()
    else:
        loop.call_soon_threadsafe(host.cancel)


class Group(Nursery.Group):
    """A nursery: ``with`` or ``async with Nursery.Group() as group``
    (docs/bindings.md)."""

    def __init__(self, *, timeout=None, **properties):
        """Creates a group owned by the thread-default main context.

        @timeout: seconds from now after which the group is cancelled and
        times out (R16, R17); None for no deadline. The other keywords are
        GObject properties (name, policy, max_concurrent).
        """
        usec = _timeout_usec(timeout) if timeout is not None else None
        super().__init__(**properties)
        if usec is not None:
            self.set_timeout(usec)

    def _failure_list(self):
        """The (key, exception, task) list of Python failures, for the exit."""
        d = self.__dict__
        failures = d.get('_nursery_failures')
        if failures is None:
            failures = d['_nursery_failures'] = _FailureList(self)
        return failures

    def spawn(self, func, *args, name=None, async_return=False, shielded=False, timeout=None):
        """Adds an in-context child: ``func(task, *args)`` runs on a later
        iteration of the owner context, in a copy of the caller's
        contextvars. An ``async def`` func, inside ``async with``, runs as
        an asyncio task (a coroutine child). ``name`` defaults to the
        callable's ``__qualname__``. ``shielded=True`` shields it from the
        group's cancellation (R15); ``timeout`` is its own deadline in
        seconds from now (R16, R17). Raises GLib.Error
        (Nursery.Error.CLOSED) if the group is closed.

        Returns: the :class:`Task`
        """
        # The hot path (a plain function, no option) stays inline, and
        # what is known of the last function is reused: a loop spawns one.
        last = _last_child
        if last[0]() is not func:
            last = _remember_child(func)
        if async_return or shielded or timeout is not None:
            return self._spawn_with_options(func, args, name, async_return, shielded,
                                            timeout, last[1])
        if last[1]:
            return self._spawn_coroutine(func, args, last[2] if name is None else name, last[1])
        context = copy_context()
        key = _new_key()
        _keyed[key] = func if not args and not context else (func, args, context)
        task = _c_spawn_keyed(self, last[2] if name is None else name, _runner, key)
        if task is None:
            _refused_off_owner(self, 'spawn()')
        return task

    def start_soon(self, func, *args, name=None):
        """trio's and anyio's ``start_soon()``: :meth:`spawn` without a
        handle, and cheaper for it (no task wrapper per spawn; the child
        is a small record until its turn, R28). The child runs by the same
        rules: ``func(task, *args)`` on a later iteration, in a copy of the
        caller's contextvars; an ``async def`` inside ``async with`` runs
        as an asyncio task. Its outcome still reaches the group (failures
        raise when the block is left). Raises GLib.Error
        (Nursery.Error.CLOSED) if the group is closed.
        """
        last = _last_child
        if last[0]() is not func:
            last = _remember_child(func)
        if name is None:
            name = last[2]
        if last[1]:
            self._spawn_coroutine(func, args, name, last[1], _c_start_soon)
            return
        context = copy_context()
        key = _new_key()
        _keyed[key] = func if not args and not context else (func, args, context)
        _c_start_soon_keyed(self, name, _runner, key)

    def _spawn_with_options(self, func, args, name, async_return, shielded, timeout, lazy):
        usec = _timeout_usec(timeout) if timeout is not None else None
        if name is None:
            name = _last_child[2] if _last_child[0]() is func else _remember_child(func)[2]
        if lazy:
            task = self._spawn_coroutine(func, args, name, lazy)
        else:
            task = _c_spawn(self, name, _run_general,
                            (func, args, copy_context(), self._failure_list(), async_return))
        if task is None:
            _refused_off_owner(self, 'spawn()')
        return _apply_options(task, shielded, usec)

    def _coroutine_loop(self, func, flags, what):
        """The asyncio loop a coroutine child of this group runs on;
        TypeError for what cannot be a child."""
        loop = self.__dict__.get('_nursery_loop') or _running_loop()
        if not flags & 0x80 or loop is None:
            _refuse_lazy(func, flags, None)
        return loop

    def _spawn_coroutine(self, func, args, name, flags, spawn=_c_spawn):
        """spawn() (or, with @spawn _c_start_soon, start_soon()) of an
        async def."""
        loop = self._coroutine_loop(func, flags, 'spawn()')
        task = spawn(self, name, _run_coroutine,
                     (func, args, copy_context(), self._failure_list(), loop))
        if task is None and spawn is _c_spawn:
            _refused_off_owner(self, 'spawn()')
        return task

    def spawn_in_thread(self, func, *args, name=None, shielded=False, timeout=None):
        """Adds a thread child: ``func(task, *args)`` runs on a worker
        thread, in a copy of the caller's contextvars; its return value or
        exception is the task's outcome. ``shielded`` and ``timeout`` as
        for :meth:`spawn`; a thread child only sees its deadline through
        its cancellable. An ``async def`` is refused (TypeError).

        Returns: the :class:`Task`
        """
        lazy = _lazy_flags(func)
        if lazy:
            _refuse_lazy(func, lazy, 'spawn_in_thread()')
        usec = _timeout_usec(timeout) if timeout is not None else None
        if name is None:
            name = getattr(func, '__qualname__', None)
        task = _c_spawn_in_thread(self, name, _run_child, (func, args, copy_context()))
        if task is None:
            _refused_off_owner(self, 'spawn_in_thread()')
        if shielded or usec is not None:
            _apply_options(task, shielded, usec)
        return task

    def start_async(self, func, *args, name=None, cancellable=None, callback=None,
                    async_return=False):
        """Spawns an in-context child ``func(task, *args)`` that calls
        ``task.started(value)`` once it is ready (R18); the callback form
        of :meth:`start`.

        ``callback(group, result)`` runs on the owner context once the
        child started or finished without starting; ``start_finish(result)``
        then returns ``(task, value)`` or raises. A closed group refuses
        through the callback too (Nursery.Error.CLOSED).
        """
        self._start_async(func, args, name, async_return, cancellable, callback)

    def _start_async(self, func, args, name, async_return, cancellable, callback):
        """Returns the start child's failure sink (_StartFailures)."""
        flags = _lazy_flags(func)
        if name is None:
            name = getattr(func, '__qualname__', None)
        sink = _StartFailures(self._failure_list())
        if flags:
            loop = self._coroutine_loop(func, flags, 'start()')
            run, data = _run_coroutine, (func, args, copy_context(), sink, loop)
        else:
            run, data = _run_general, (func, args, copy_context(), sink, async_return)
        if callback is None:
            callback = _ignore_start
        # PyGObject 3.42 takes a callback's data as varargs: with two
        # callbacks in one call, the first one's data must be a 1-tuple.
        Nursery.Group.start_async(self, name, run, (data,), cancellable, callback)
        return sink

    def start_finish(self, result):
        """Finishes :meth:`start_async`: ``(task, value)``, or raises."""
        task, value = super().start_finish(result)
        return task, task._started_value(value)

    def start(self, func, *args, name=None, cancellable=None, async_return=False):
        """trio's and anyio's ``start()`` (R18): spawns a child
        ``func(task, *args)`` and waits until it calls
        ``task.started(value)``. Outside a loop it iterates the owner
        context; in a coroutine it returns an awaitable
        (``task, value = await group.start(...)``).

        Returns: ``(task, value)``. Raises: GLib.Error if the child
        finished first: its own failure (``__cause__``: the exception it
        raised, if any), Nursery.Error.NOT_STARTED if it succeeded,
        CANCELLED if it was cancelled; Nursery.Error.CLOSED if the group
        is closed. Awaited, a child cancelled before started() raises
        CancelledError instead, unless @cancellable was cancelled.
        """
        loop = _running_loop()
        if loop is not None:
            return self._start_awaitable(loop, func, args, name, cancellable, async_return)
        results = []
        context = self.get_context()
        # As wait() does: refuse, before spawning anything, where another
        # thread iterates the owner context (R23).
        _acquire_owner(context, 'start()')
        try:
            sink = self._start_async(func, args, name, async_return, cancellable,
                                     lambda group, result: results.append(result))
            while not results:
                context.iteration(True)
        finally:
            context.release()
        return self._start_outcome(sink, results.pop())

    def _start_outcome(self, sink, result):
        try:
            return self.start_finish(result)
        except GLib.Error as error:
            raised = sink.take_raised()
            if raised is not None and _is_interrupt(raised):
                raise raised from None    # KeyboardInterrupt and company
            raise error from raised

    async def _start_awaitable(self, loop, func, args, name, cancellable, async_return):
        asyncio = _asyncio()
        future = loop.create_future()
        # The start caller's cancellable (R18): cancelling the coroutine
        # that awaits start() before started() cancels the child, as trio's
        # and anyio's start() do. Ours, so that the caller's own is never
        # cancelled by us; the caller's still reaches it.
        caller = Gio.Cancellable()
        handler = None
        if cancellable is not None:
            handler = GObject.Object.connect(cancellable, 'cancelled',
                                             lambda *unused: caller.cancel())
            if cancellable.is_cancelled():
                caller.cancel()
        try:
            sink = self._start_async(func, args, name, async_return, caller,
                                     lambda group, result: future.done() or
                                     future.set_result(result))
            cancelled = None
            while True:
                try:
                    # Shielded: the outcome is always waited for, so the
                    # child is never left unreported (structure first).
                    result = await asyncio.shield(future)
                    break
                except asyncio.CancelledError as exc:
                    if cancelled is None:
                        cancelled = exc
                    caller.cancel()    # a no-op once started() was called
        finally:
            if handler is not None:
                GObject.Object.disconnect(cancellable, handler)
        if cancelled is None:
            try:
                return self._start_outcome(sink, result)
            except GLib.Error as error:
                # The child was cancelled before started(), and not by this
                # caller (its task's cancel(), its asyncio task's, its
                # group's cancellation): awaiting a cancelled child raises
                # CancelledError, as `await task` does and anyio's start()
                # (test_start_native_child_cancelled). A cancellable the
                # caller passed keeps GIO's CANCELLED error.
                if not _is_cancelled_error(error) or caller.is_cancelled():
                    raise
                raise asyncio.CancelledError(error.message) from None
        try:
            outcome = self._start_outcome(sink, result)
        except GLib.Error as error:
            if _is_cancelled_error(error):
                raise cancelled from None
            raise
        # The child called started() before the cancellation came: the
        # start is over and returns its value (anyio, trio); the
        # cancellation is delivered at the caller's next await instead
        # (uncancel() and cancel(): still counted once).
        host = asyncio.current_task()
        host.uncancel()
        host.cancel()
        return outcome

    def as_completed(self, cancellable=None):
        """Python's ``as_completed()`` for children: ``for task in
        group.as_completed()`` (or ``async for``) yields each child as it
        finishes, in completion order, each exactly once, and ends once
        the group is closed and every child was handed over.

        The first ``next_async()`` is made now, so children that finish
        from this call on are all handed over. Cancelling @cancellable
        makes the loop raise CANCELLED without taking a task; the group
        itself is not cancelled.

        Returns: an iterator of :class:`Task`. Raises: RuntimeError where
        another thread runs the owner context.
        """
        context = self.get_context()
        _acquire_owner(context, 'as_completed()')
        try:
            return _AsCompleted(self, cancellable)
        finally:
            context.release()

    def _take_failures(self):
        """get_errors() as the exceptions behind them, in completion
        order: what a Python child raised, else the GLib.Error."""
        pending = self.__dict__.pop('_nursery_failures', None) or []
        failures = []
        for error in self.get_errors():
            key = _error_key(error)
            for i, (pending_key, exc, _task) in enumerate(pending):
                if pending_key == key:
                    del pending[i]
                    failures.append(exc)
                    break
            else:
                failures.append(error)
        return failures

    def _exit_exception(self, body, join_error, interrupted, outside_cancel=None):
        """What leaving the block raises (None: quiet), docs/bindings.md.
        @outside_cancel: the host's CancelledError of a cancellation from
        outside (re-raised as itself: its message survives), or None."""
        failures = self._take_failures()
        interrupt = KeyboardInterrupt() if interrupted else None
        if interrupt is None and body is not None and _is_interrupt(body):
            interrupt = body
        if interrupt is None:
            interrupt = next((exc for exc in failures if _is_interrupt(exc)), None)
        if interrupt is not None:
            for exc in failures:
                if exc is not interrupt:
                    interrupt.add_note('Nursery: a child failed: %r' % (exc,))
            return interrupt
        if join_error is None and body is None and outside_cancel is None:
            return None    # a success (under RACE: a winner, R11)
        # A cancellation caused by the group's failure never hides it.
        if body is not None and failures and _is_cancelled_error(body):
            body = None
        errors = ([body] if body is not None else []) + failures
        if errors:
            name = self.get_name()
            group = BaseExceptionGroup('%d error(s) in Nursery group%s'
                                       % (len(errors), ' %r' % name if name else ''), errors)
            # Raised while the body's exception is handled, which it holds:
            # no "During handling of the above exception" printing that one
            # twice (trio's test_nursery_exception_chaining_doesnt_make_context_loops;
            # asyncio.TaskGroup and anyio raise theirs "from None").
            group.__suppress_context__ = True
            return group
        if outside_cancel is not None:
            return outside_cancel
        if join_error is None:
            return None
        if _is_timeout_error(join_error):
            timeout = TimeoutError(join_error.message)
            timeout.__cause__ = join_error
            return timeout
        return join_error

    def __enter__(self):
        """Returns the group itself; RuntimeError inside a running asyncio
        loop, where only ``async with`` can wait without blocking it."""
        if _running_loop() is not None:
            raise RuntimeError("'with Nursery.Group()' would block the running asyncio loop: "
                               "use 'async with Nursery.Group() as group' in a coroutine")
        self._failure_list()
        return self

    def __exit__(self, exc_type, exc, tb):
        """Joins the group; raises as docs/bindings.md describes."""
        if exc is not None:
            # The body gave up: stop the children, but never leave them
            # behind (structure first), so the group is joined regardless.
            _c_cancel(self)
        with _SigintCancels(self) as sigint:
            try:
                joined = self.wait(None)
                join_error = None
            except GLib.Error as error:
                joined, join_error = True, error
        # False without an error: wait() refused with a critical (another
        # thread owns the context); the group is not joined at all.
        if not joined:
            raise RuntimeError('wait() refused to join the group (see the critical)')
        raised = self._exit_exception(exc, join_error, sigint.interrupted)
        # This frame stays alive as the f_back of a child's frame kept by a
        # traceback, and as part of what is raised: no group, no exception.
        del self, tb, join_error, sigint
        if raised is None or raised is exc:
            # Quiet, or the body's own KeyboardInterrupt, unchanged.
            del exc, raised
            return False
        try:
            raise raised
        finally:
            del exc, raised

    async def __aenter__(self):
        """``async with``: the group on the running asyncio loop, whose
        current task (the body) it cancels when it is cancelled."""
        import asyncio
        d = self.__dict__
        # One `async with` block at a time: a second one (nested in the
        # first, or in another task) would take over the first one's host
        # and notify handler. RuntimeError, as asyncio.TaskGroup's "has
        # already been entered". A closed group may be entered again: its
        # join repeats the outcome (R10), as with the synchronous `with`.
        if d.get('_nursery_in_block'):
            raise RuntimeError('Nursery group %r is already in an async with block'
                               % (self.get_name(),))
        loop = asyncio.get_running_loop()
        # The body is the current task: the group cancels it on a failure
        # and joins in it. Without one (__aenter__() driven from a loop
        # callback) there would be no body to cancel, and a failure would
        # go unnoticed until the exit: refuse, leaving the group untouched,
        # as asyncio.TaskGroup does ("cannot determine the parent task").
        host = asyncio.current_task()
        if host is None:
            raise RuntimeError('Nursery group %r cannot determine the parent task: '
                               "'async with' must run in an asyncio task"
                               % (self.get_name(),))
        d['_nursery_in_block'] = True
        d['_nursery_loop'] = loop
        d['_nursery_host'] = host
        d['_nursery_host_cancelled'] = False
        # The host's cancel count that is not this block's: one the host
        # took earlier and never uncancel()ed (a CancelledError caught and
        # not re-raised) stays counted, so it must not make this group's
        # own cancellation look like an outside one (anyio's
        # test_cancel_message_replaced; asyncio.timeout() keeps its entry
        # level so since 3.12). A cancellation still pending here is
        # delivered inside the block and is an outside one: then 0, as
        # before. (_must_cancel: asyncio's pending flag, C and Python Task.)
        d['_nursery_host_level'] = 0 if getattr(host, '_must_cancel', True) \
            else host.cancelling()
        d['_nursery_notify'] = self.connect('notify::cancelled', _cancel_host)
        self._failure_list()
        _cancel_host(self, None)
        return self

    async def __aexit__(self, exc_type, exc, tb):
        """Joins the group without blocking the loop; raises as
        docs/bindings.md describes."""
        import asyncio
        d = self.__dict__
        host = d.pop('_nursery_host', None)
        if host is None:
            # Not in a block (anyio's test_cancelscope_exit_before_enter):
            # a clear error, not a KeyError of the override's internals.
            raise RuntimeError('Nursery group %r is not in an async with block'
                               % (self.get_name(),))
        self.disconnect(d.pop('_nursery_notify'))
        # The host's CancelledError of a cancellation from outside, kept to
        # be re-raised as itself (its message too), as asyncio.TaskGroup.
        outside = None
        if isinstance(exc, BaseExceptionGroup):
            # CancelledErrors only (`except* CancelledError: raise` makes
            # one of a bare one): a cancellation all the same, as trio and
            # anyio take it (anyio's test_reraise_cancelled_in_excgroup),
            # so the group's own leaves quietly (R7).
            exc = _only_cancelled(exc, asyncio.CancelledError) or exc
        if isinstance(exc, asyncio.CancelledError):
            if not self._own_host_cancel(host):
                outside = exc
            exc = None
        # A shielded group is reached by its own cancel and deadline only
        # (R15): a cancellation of the host from outside (its parent
        # task's, asyncio's) stops the body, never the shielded children,
        # which the join still waits for (trio's test_cancel_shield_abort).
        if exc is not None or outside is not None and not self.get_shielded():
            _c_cancel(self)
        future = _future_from_async(d['_nursery_loop'], partial(self.wait_async, None),
                                    self.wait_finish)
        join_error = None
        deferred = None
        while True:
            try:
                await asyncio.shield(future)
                break
            except asyncio.CancelledError as cancelled:
                if future.cancelled() or not self._own_host_cancel(host):
                    if exc is None and outside is None and deferred is None and \
                            self.get_n_running() == 0 and self.get_n_pending() == 0:
                        # No child left, the body done: this join only
                        # waits for the next iteration (R6), no cancellation
                        # point (asyncio.TaskGroup awaits nothing then, trio
                        # and anyio deliver nothing). The cancellation is
                        # handed back below, for the host's next await
                        # (anyio's test_cancel_before_entering_task_group).
                        deferred = cancelled
                    else:
                        outside = cancelled
                        if not self.get_shielded():
                            _c_cancel(self)
                del cancelled
                if future.done() and not future.cancelled():
                    try:
                        future.result()
                    except GLib.Error as error:
                        join_error = error
                    break
            except GLib.Error as error:
                join_error = error
                break
        if deferred is not None and outside is None:
            # Pending again, its count unchanged (uncancel() then cancel()).
            host.uncancel()
            host.cancel(deferred.args[0] if deferred.args else None)
        del deferred
        if d.get('_nursery_host_cancelled'):
            # This group cancelled the host, and no CancelledError told it
            # so here: either the body never reached an await since (the
            # cancellation is still pending: take it now), or the body
            # turned it into another exception. Either way the host's
            # cancel count goes back down (asyncio.TaskGroup uncancels
            # whenever it cancelled), or a later asyncio.timeout() or
            # TaskGroup in the host would take the host for cancelled.
            try:
                await asyncio.sleep(0)
            except asyncio.CancelledError as cancelled:
                if not self._own_host_cancel(host) and outside is None:
                    outside = cancelled
                del cancelled
            else:
                self._own_host_cancel(host)
        d.pop('_nursery_in_block', None)
        raised = self._exit_exception(exc, join_error, False, outside)
        if isinstance(raised, BaseExceptionGroup) and \
                host.cancelling() > d['_nursery_host_level']:
            # Failures win over a cancellation from outside, whose
            # CancelledError this block consumed (or the body turned into
            # an error): without a new one the host would go on as if never
            # cancelled once it handled the ExceptionGroup. As
            # asyncio.TaskGroup does, cancel it again, its count unchanged
            # (uncancel() then cancel()), so the cancellation comes at its
            # next await; the group's own cancellations were taken back
            # above, what is left is from outside. Its message is kept.
            message = outside.args[0] if outside is not None and outside.args else None
            host.uncancel()
            host.cancel(message)
        # As in __exit__: what is raised keeps this frame; it keeps no group.
        del self, d, host, future, join_error, exc, tb, outside
        if raised is None:
            return True    # quiet: the body's CancelledError was the group's
        try:
            raise raised
        finally:
            del raised

    def _own_host_cancel(self, host):
        """True if the body's CancelledError came from this group alone."""
        d = self.__dict__
        if not d.get('_nursery_host_cancelled'):
            return False
        d['_nursery_host_cancelled'] = False
        return host.uncancel() <= d['_nursery_host_level']


Group = override(Group)
__all__.append('Group')


class Channel(Nursery.Channel):
    """A bounded FIFO channel of Python values (docs/bindings.md)."""

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
        thread's context, or blocking a thread that runs none. In a
        coroutine it returns an awaitable (``await channel.send(value)``),
        the send being under way already.
        Raises GLib.Error: Nursery.Error.CLOSED, or CANCELLED (the item
        was not sent)."""
        item = _to_item(value)
        loop = _running_loop()
        if loop is not None:
            return _future_from_async(
                loop, lambda callback: self.send_async(item, cancellable, callback),
                super().send_finish)
        context = _waiting_context()
        if context is None:
            super().send(item, cancellable)
            return
        super().send_finish(_call_and_wait(
            context, lambda callback: self.send_async(item, cancellable, callback)))

    def receive(self, cancellable=None):
        """The next item, waiting while the channel is empty, as send()
        waits (``await channel.receive()`` in a coroutine). Raises GLib.Error: Nursery.Error.CLOSED once closed and
        drained, or CANCELLED (no item was consumed)."""
        loop = _running_loop()
        if loop is not None:
            return _future_from_async(
                loop, lambda callback: self.receive_async(cancellable, callback),
                self.receive_finish)
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

    def __aiter__(self):
        """``async for item in channel``: receives until the channel is
        closed and drained."""
        return self._aiter()

    async def _aiter(self):
        while True:
            try:
                item = await self.receive()
            except GLib.Error as error:
                if _is_closed_error(error):
                    return
                raise
            yield item


Channel = override(Channel)
__all__.append('Channel')
