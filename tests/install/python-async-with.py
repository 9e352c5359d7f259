# python-async-with.py: the override's `async with` block, as installed
#
# Copyright 2026 The Nursery authors
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# One of the Python snippets test-install.sh runs (every python-*.py in
# this directory) with the installed typelib, library and override only:
# asyncio on GLib's main loop (python3-gbulb), a coroutine child and a
# thread child. Exits non-zero on failure.

import asyncio

import gbulb
import gi

gi.require_version('Nursery', '1.0')
from gi.repository import Nursery  # noqa: E402


async def answer(task):
    await asyncio.sleep(0)
    return 42


async def main():
    async with Nursery.Group() as group:
        a = group.spawn(answer)
        b = group.spawn_in_thread(lambda task: sum(range(1000)))
    return await a, b.result


gbulb.install()
results = asyncio.run(main())
if results != (42, 499500):
    raise SystemExit(f'the children returned {results!r}')
print('ok - an `async with Nursery.Group()` block awaits its children')
