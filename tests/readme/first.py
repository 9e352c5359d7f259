# SPDX-License-Identifier: LGPL-2.1-or-later
import gi
gi.require_version("Nursery", "1.0")
from gi.repository import Nursery

with Nursery.Group() as group:   # leaving the block waits; failures raise an ExceptionGroup
    a = group.spawn(lambda task: 42, name="answer")
    b = group.spawn_in_thread(lambda task: sum(range(1000)), name="count")
print(a.result, b.result)
