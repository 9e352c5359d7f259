// installed-smoke.js: a GJS client of the installed typelib
//
// Copyright 2026 The Nursery authors
// SPDX-License-Identifier: LGPL-2.1-or-later
//
// Usage: gjs -m installed-smoke.js DESTDIR
//
// test-install.sh runs it from outside the source tree with only
// GI_TYPELIB_PATH and LD_LIBRARY_PATH pointing into DESTDIR: the typelib
// in use must be the installed one, and a group spawns and joins through
// the promisified wait_async.
import Gio from 'gi://Gio';
import GIRepository from 'gi://GIRepository?version=2.0';
import Nursery from 'gi://Nursery?version=1.0';
import System from 'system';

Gio._promisify(Nursery.Group.prototype, 'wait_async', 'wait_finish');

const destdir = Gio.File.new_for_path(ARGV[0]);
const typelib = GIRepository.Repository.get_default().get_typelib_path('Nursery');
if (!Gio.File.new_for_path(typelib).has_prefix(destdir)) {
    printerr(`not ok - the Nursery typelib came from ${typelib}, not from ${ARGV[0]}`);
    System.exit(1);
}

const group = new Nursery.Group();
const task = group.spawn('answer', t => t.return_int(42));
await group.wait_async(null);
if (task.get_int() !== 42 || Nursery.get_major_version() !== Nursery.MAJOR_VERSION) {
    printerr(`not ok - the child returned ${task.get_int()}`);
    System.exit(1);
}
print(`ok - GJS imports Nursery ${Nursery.get_major_version()}.${Nursery.get_minor_version()} from ${typelib}`);
