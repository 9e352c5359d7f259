# python-with.py: the override's `with` block, as installed
#
# Copyright 2026 The Nursery authors
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# One of the Python snippets test-install.sh runs (every python-*.py in
# this directory) with the installed typelib, library and override only,
# from a directory outside the source tree. Each exits non-zero on failure.

import gi

gi.require_version('Nursery', '1.0')
from gi.repository import Nursery  # noqa: E402

with Nursery.Group() as group:   # leaving the block waits for the children
    a = group.spawn(lambda task: 42, name='answer')
    b = group.spawn_in_thread(lambda task: sum(range(1000)), name='count')

if (a.result, b.result) != (42, 499500):
    raise SystemExit(f'the children returned {a.result!r} and {b.result!r}')
print('ok - a `with Nursery.Group()` block waits for its children')
