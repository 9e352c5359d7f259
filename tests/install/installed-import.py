# installed-import.py: import Nursery from an installed (DESTDIR) tree
#
# Copyright 2026 The Nursery authors
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Usage: /usr/bin/python3 installed-import.py DESTDIR [override]
#
# test-install.sh runs this with GI_TYPELIB_PATH and LD_LIBRARY_PATH
# pointing into DESTDIR only. It checks that the typelib and the library
# that got loaded really are the installed ones (not a build directory's,
# not a system-wide copy), then spawns and joins a group. With `override`
# the installed gi.overrides.Nursery must be the one in use (PYTHONPATH is
# set by the caller); without it, no override may be loaded, so the bare
# typelib API is what is tested.

import os
import sys

import gi

gi.require_version('GIRepository', '2.0')
gi.require_version('Nursery', '1.0')
from gi.repository import GIRepository, Nursery  # noqa: E402

destdir = os.path.realpath(sys.argv[1])
use_override = len(sys.argv) > 2 and sys.argv[2] == 'override'


def fail(message):
    print(f'FAIL: {message}', file=sys.stderr)
    sys.exit(1)


def inside_destdir(path):
    return os.path.realpath(path).startswith(destdir + os.sep)


typelib = GIRepository.Repository.get_default().get_typelib_path('Nursery')
if not inside_destdir(typelib):
    fail(f'the Nursery typelib came from {typelib}, not from {destdir}')

override = sys.modules.get('gi.overrides.Nursery')
if use_override:
    if override is None or not inside_destdir(override.__file__):
        fail(f'the installed override was not used (got {override})')
    # The override's API: plain Python children and a `with` block.
    with Nursery.Group() as group:
        task = group.spawn(lambda task: 42)
    if task.result != 42:
        fail(f'the child returned {task.result!r}, not 42')
else:
    if override is not None:
        fail(f'an override was loaded from {override.__file__}; expected the bare typelib')
    # The bare C API: the child finishes when it calls a return function.
    group = Nursery.Group()
    task = group.spawn('answer', lambda task: task.return_int(42))
    if not group.wait(None):
        fail('wait() did not report success')
    if task.get_int() != 42 or not group.is_closed():
        fail(f'the child returned {task.get_int()}, the group is {group.get_state()}')

# The typelib names the library (shared-library="libnursery-1.so.0") and
# GI opens it on first use, above; the dynamic loader picks the file, so
# ask it which one it mapped.
with open('/proc/self/maps') as maps:
    libraries = {line.split()[-1] for line in maps if 'libnursery-1.so' in line}
if not libraries or not all(inside_destdir(lib) for lib in libraries):
    fail(f'libnursery-1 was loaded from {sorted(libraries)}, not from {destdir}')

print(f'ok - Nursery imported from {typelib} ({"with" if use_override else "without"} the override)')
