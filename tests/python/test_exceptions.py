# test_exceptions.py: Python exceptions in and out of a group
# (R7, R8; docs/bindings.md, Python)
#
# Copyright 2026 The Nursery authors
# SPDX-License-Identifier: LGPL-2.1-or-later

import pytest
from gi.repository import GLib, Nursery

from helpers import my_error, on_cancelled, run_until, until_cancelled

TS = Nursery.TaskState


def raiser(exc):
    def body(task):
        raise exc
    return body


def return_error_bypassing_override(task, error):
    """The bare GI method: a failure the override never sees."""
    super(Nursery.Task, task).return_error(error)


def test_exception_becomes_nursery_error_failed():
    """R8: any exception fails the task with NURSERY_ERROR_FAILED naming
    the exception; the exception object stays on the task."""
    boom = ValueError('boom')
    with pytest.raises(ExceptionGroup):
        with Nursery.Group() as group:
            task = group.spawn(raiser(boom))
    assert task.state == TS.FAILED
    assert task.error.matches(Nursery.error_quark(), Nursery.Error.FAILED)
    assert task.error.message == 'ValueError: boom'
    assert task.exception is boom


def test_exception_without_text_is_named():
    """R8: an exception with no text is named by its type alone."""
    with pytest.raises(ExceptionGroup) as info:
        with Nursery.Group() as group:
            group.spawn(raiser(RuntimeError()))
    assert type(info.value.exceptions[0]) is RuntimeError
    assert group.get_errors()[0].message == 'RuntimeError'


def test_glib_error_keeps_domain_code_and_message():
    """R7: a raised GLib.Error is the failure unchanged, in the task, in
    get_errors() and in the ExceptionGroup."""
    mine = my_error('mine', 7)
    with pytest.raises(ExceptionGroup) as info:
        with Nursery.Group() as group:
            task = group.spawn(raiser(mine))
    for error in (task.error, group.get_errors()[0], info.value.exceptions[0]):
        assert (error.domain, error.code, error.message) == ('nursery-test-error-quark', 7, 'mine')
    assert task.exception is mine


def test_exception_group_shape():
    """R8: one entry per failure in get_errors() order: the exception its
    Python child failed with, the GLib.Error of a failure made in C."""
    value_error = ValueError('first')
    glib_error = my_error('second')
    with pytest.raises(ExceptionGroup) as info:
        with Nursery.Group(name='shape', policy=Nursery.Policy.SUPERVISE) as group:
            group.spawn(raiser(value_error))
            group.spawn(lambda task: 'fine')
            group.spawn(raiser(glib_error))
            returned = group.spawn(lambda task: task.return_error(my_error('third')))
            from_c = group.spawn(return_error_bypassing_override, my_error('fourth'),
                                 async_return=True)
    eg = info.value
    assert type(eg) is ExceptionGroup
    assert 'shape' in eg.message
    assert [e.message for e in group.get_errors()] == [
        'ValueError: first', 'second', 'third', 'fourth']
    assert eg.exceptions[:2] == (value_error, glib_error)
    assert eg.exceptions[2] is returned.exception and eg.exceptions[2].message == 'third'
    assert isinstance(eg.exceptions[3], GLib.Error) and eg.exceptions[3].message == 'fourth'
    assert from_c.exception is None


def test_except_star_catches_child_failures():
    """docs/bindings.md: `except*` matches the original exception types: a
    child's KeyError by `except* KeyError`, a GLib.Error by its class."""
    caught = []
    try:
        with Nursery.Group(policy=Nursery.Policy.SUPERVISE) as group:
            group.spawn(raiser(KeyError('k')))
            group.spawn(raiser(my_error('e')))
    except* KeyError as eg:
        caught.extend(repr(e) for e in eg.exceptions)
    except* GLib.Error as eg:
        caught.extend(e.message for e in eg.exceptions)
    assert caught == ["KeyError('k')", 'e']


def test_except_star_can_split_by_domain():
    """docs/bindings.md: failures can be told apart by GLib domain."""
    ours = None
    try:
        with Nursery.Group(policy=Nursery.Policy.SUPERVISE) as group:
            group.spawn(raiser(ValueError('python')))
            group.spawn(raiser(my_error('test domain')))
    except* GLib.Error as eg:
        ours, rest = eg.split(lambda e: isinstance(e, GLib.Error) and e.domain == 'nursery-test-error-quark')
    except* ValueError as eg:
        python = eg
    assert [e.message for e in ours.exceptions] == ['test domain'] and rest is None
    assert [str(e) for e in python.exceptions] == ['python']


def test_return_error_accepts_any_exception():
    """R8: task.return_error() takes a Python exception too."""
    key_error = KeyError('missing')
    with pytest.raises(ExceptionGroup):
        with Nursery.Group() as group:
            task = group.spawn(lambda task: task.return_error(key_error))
    assert task.error.message == "KeyError: 'missing'"
    assert task.exception is key_error


def test_async_return_child_raising_before_return_fails():
    """R2/R8: with async_return=True an exception still fails the task."""
    with pytest.raises(ExceptionGroup):
        with Nursery.Group() as group:
            task = group.spawn(raiser(OSError('early')), async_return=True)
    assert task.state == TS.FAILED


def test_exception_after_return_keeps_the_result(capfd):
    """R3: once a task has returned, a later exception changes nothing; it
    is printed like any exception in a callback."""
    def body(task):
        task.return_int(1)
        raise RuntimeError('too late')

    with Nursery.Group() as group:
        task = group.spawn(body)
    assert task.state == TS.SUCCEEDED and task.result == 1
    assert task.exception is None
    assert 'RuntimeError: too late' in capfd.readouterr().err


def test_body_exception_propagates_unchanged_after_children():
    """R10 for `with`: an exception in the body cancels the group, waits
    for every child, then propagates in the block's ExceptionGroup."""
    oops = ValueError('body')
    with pytest.raises(ExceptionGroup) as info:
        with Nursery.Group() as group:
            task = group.spawn(until_cancelled, async_return=True)
            run_until(lambda: task.state == TS.RUNNING)
            raise oops
    assert info.value.exceptions == (oops,)
    assert task.state == TS.CANCELLED
    assert group.is_closed() and group.is_cancelled()


def test_body_exception_carries_child_failures_as_notes():
    """docs/bindings.md: child failures seen while the body unwinds join the
    body's exception in one ExceptionGroup, body first."""
    def fails_when_cancelled(task):
        on_cancelled(task, lambda: task.return_error(my_error('cleanup broke')))

    with pytest.raises(ExceptionGroup) as info:
        with Nursery.Group() as group:
            task = group.spawn(fails_when_cancelled, async_return=True)
            run_until(lambda: task.state == TS.RUNNING)
            1 / 0
    body, child = info.value.exceptions
    assert type(body) is ZeroDivisionError
    assert child.message == 'cleanup broke'
    assert [e.message for e in group.get_errors()] == ['cleanup broke']


def test_keyboard_interrupt_in_child_propagates_as_itself():
    """docs/bindings.md: a KeyboardInterrupt in a child fails it (the group cannot
    hang), and leaves `with` as itself once every child has finished."""
    with pytest.raises(KeyboardInterrupt):
        with Nursery.Group() as group:
            sibling = group.spawn(until_cancelled, async_return=True)
            task = group.spawn(raiser(KeyboardInterrupt()))
    assert task.state == TS.FAILED
    assert sibling.state == TS.CANCELLED
    assert group.is_closed()
