# conftest.py: fixtures shared by the Python suite
#
# Copyright 2026 The Nursery authors
# SPDX-License-Identifier: LGPL-2.1-or-later

"""Every test runs on the default main context of the main thread, with
Nursery's warnings and criticals turned into test failures."""

import asyncio
import fnmatch
import gc
import threading

import gi

gi.require_version('Nursery', '1.0')
from gi.repository import GLib, Nursery  # noqa: E402

import gbulb  # noqa: E402
import pytest  # noqa: E402

from helpers import GUARD_SECONDS  # noqa: E402

LOUD_LEVELS = (GLib.LogLevelFlags.LEVEL_ERROR |
               GLib.LogLevelFlags.LEVEL_CRITICAL |
               GLib.LogLevelFlags.LEVEL_WARNING)


class LogCatcher:
    """Collects Nursery's warnings and criticals, from any thread."""

    def __init__(self):
        self._lock = threading.Lock()
        self._expected = []
        self.unexpected = []

    def expect(self, pattern):
        """Allows one message matching the fnmatch @pattern."""
        self._expected.append(pattern)

    def __call__(self, domain, level, message, user_data):
        with self._lock:
            for pattern in self._expected:
                if fnmatch.fnmatchcase(message, pattern):
                    self._expected.remove(pattern)
                    return
            self.unexpected.append(message)

    def check(self):
        assert self.unexpected == [], 'unexpected Nursery messages'
        assert self._expected == [], 'expected Nursery messages did not come'


def _drain(context):
    while context.pending():
        context.iteration(False)


@pytest.fixture(autouse=True)
def nursery_log():
    """Fails the test on any unexpected Nursery warning or critical; the
    test may announce the ones it provokes with nursery_log.expect()."""
    catcher = LogCatcher()
    handler = GLib.log_set_handler('Nursery', LOUD_LEVELS, catcher, None)
    yield catcher
    # Let groups dropped by the test finish and finalize (and warn) now.
    gc.collect()
    _drain(GLib.MainContext.default())
    GLib.log_remove_handler('Nursery', handler)
    catcher.check()


def pytest_report_header(config):
    return 'Nursery override: %s' % Nursery.Group.__module__


def _policies():
    policies = [pytest.param(gbulb.GLibEventLoopPolicy, id='gbulb')]
    try:
        from gi.events import GLibEventLoopPolicy    # PyGObject >= 3.50
    except ImportError:
        pass
    else:
        policies.append(pytest.param(GLibEventLoopPolicy, id='gi.events'))
    return policies


@pytest.fixture(params=_policies())
def run(request):
    """run(coro): runs @coro on a GLib-backed asyncio loop, on the default
    main context; its result, or raises. Shared by the asyncio tests."""
    policy = request.param()
    loop = policy.new_event_loop()
    assert isinstance(loop, asyncio.AbstractEventLoop)

    def run_coroutine(coro):
        async def guarded():
            async with asyncio.timeout(GUARD_SECONDS):
                return await coro
        return loop.run_until_complete(guarded())

    yield run_coroutine
    loop.run_until_complete(loop.shutdown_asyncgens())
    loop.close()
