# SPDX-License-Identifier: LGPL-2.1-or-later
import asyncio
import gbulb                     # asyncio on GLib's main loop (python3-gbulb)
import gi
gi.require_version("Nursery", "1.0")
from gi.repository import Nursery


async def answer(task):
    return 42


async def main():
    async with Nursery.Group() as group:   # leaving the block waits; failures raise one ExceptionGroup
        a = group.spawn(answer)                                    # a coroutine child
        b = group.spawn_in_thread(lambda task: sum(range(1000)))   # a thread child
    print(await a, b.result)

gbulb.install()
asyncio.run(main())
