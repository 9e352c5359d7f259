// installed-override.js: GJS runs the installed override on its own
//
// Copyright 2026 The Nursery authors
// SPDX-License-Identifier: LGPL-2.1-or-later
//
// Usage: gjs -m installed-override.js OVERRIDE_PATH
//
// Run by tests/install/test-install.sh with GI_TYPELIB_PATH and
// LD_LIBRARY_PATH pointing into the installed tree and XDG_DATA_DIRS
// naming its <datadir>, OVERRIDE_PATH being
// <DESTDIR><datadir>/gjs-1.0/overrides/Nursery.js. Imports the typelib
// alone, as a program that never imports nursery.js: GJS must have run
// that override, so a child that throws fails its task and the group
// closes instead of hanging. Exit status 0 if it did.

import GLib from 'gi://GLib';
import Nursery from 'gi://Nursery?version=1.0';
import System from 'system';

const [overridePath] = System.programArgs;
if (!overridePath?.endsWith('/gjs-1.0/overrides/Nursery.js')) {
    printerr('Usage: gjs -m installed-override.js DESTDIR/.../gjs-1.0/overrides/Nursery.js');
    System.exit(2);
}

// A failure guard, not synchronisation: without the override the group
// never closes.
const DEADLINE_SECONDS = 10;

async function main() {
    const loaded = globalThis[Symbol.for('nursery-1 gjs module')]?.file;
    if (loaded !== overridePath)
        throw new Error(`importing gi://Nursery ran the override ${loaded ?? '(none)'}, not ${overridePath}`);

    const group = new Nursery.Group();
    const child = group.spawn('throws', () => {
        throw new Error('thrown');
    });
    await new Promise((resolve, reject) => {
        const deadline = GLib.timeout_add_seconds(GLib.PRIORITY_DEFAULT, DEADLINE_SECONDS, () => {
            reject(new Error(`the group was still open after ${DEADLINE_SECONDS} s`));
            return GLib.SOURCE_REMOVE;
        });
        group.wait_async(null, () => {
            GLib.source_remove(deadline);
            const message = child.get_error()?.message;
            if (message === 'Error: thrown')
                resolve();
            else
                reject(new Error(`the throwing child ended ${child.get_state()}, ${message}`));
        });
    });
}

let status = 1;
const loop = new GLib.MainLoop(null, false);
main().then(() => {
    status = 0;
    print(`${overridePath}: a raw child that threw failed its task`);
}, e => printerr(`installed-override.js: ${e}\n${e?.stack ?? ''}`)).finally(() => loop.quit());
loop.run();
System.exit(status);
