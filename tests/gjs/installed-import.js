// installed-import.js: the installed GJS module works on its own
//
// Copyright 2026 The Nursery authors
// SPDX-License-Identifier: LGPL-2.1-or-later
//
// Usage: gjs -m installed-import.js MODULE_URI
//
// Run by tests/install/test-install.sh with GI_TYPELIB_PATH and
// LD_LIBRARY_PATH pointing into the installed tree, MODULE_URI being
// file://<DESTDIR><datadir>/nursery-1/gjs/nursery.js. Imports the module
// by that URI, as a program would, checks that the override in use is
// the one installed beside it (whether GJS found it through XDG_DATA_DIRS
// or the module ran it), and runs an async child that succeeds and one
// that throws. Exit status 0 if both settled as they should.

import GLib from 'gi://GLib';
import Gio from 'gi://Gio';
import Nursery from 'gi://Nursery?version=1.0';
import System from 'system';

const [uri] = System.programArgs;
if (!uri?.startsWith('file://')) {
    printerr('Usage: gjs -m installed-import.js file:///.../nursery-1/gjs/nursery.js');
    System.exit(2);
}

async function main() {
    const NurseryJS = await import(uri);
    // The override GJS ran, or the module ran if GJS did not find it:
    // the one installed with this module, in the same <datadir>.
    const override = Gio.File.new_for_uri(GLib.uri_resolve_relative(uri,
        '../../gjs-1.0/overrides/Nursery.js', GLib.UriFlags.NONE)).get_path();
    const loaded = globalThis[Symbol.for('nursery-1 gjs module')]?.file;
    if (loaded !== override)
        throw new Error(`the override in use is ${loaded ?? '(none)'}, not ${override}`);
    const group = new Nursery.Group({policy: Nursery.Policy.SUPERVISE});
    const answer = NurseryJS.spawn(group, 'answer', async () => 42);
    const failing = NurseryJS.spawn(group, 'failing', () => {
        throw new Error('thrown');
    });
    try {
        await NurseryJS.wait(group);
    } catch (e) {
        // The failing child's error, checked below.
    }
    const error = failing.get_error();
    if (answer.get_int() !== 42 || error?.message !== 'Error: thrown')
        throw new Error(`unexpected outcome: ${answer.get_state()}, ${error?.message}`);
    print(`${uri}: an async child succeeded and a throwing one failed`);
}

let status = 1;
const loop = new GLib.MainLoop(null, false);
main().then(() => {
    status = 0;
}, e => printerr(`installed-import.js: ${e}\n${e?.stack ?? ''}`)).finally(() => loop.quit());
loop.run();
System.exit(status);
