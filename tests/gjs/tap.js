// tap.js: what the GJS tests share: TAP output, iterations, a deadline per
// case, and the helpers that describe a task's outcome
//
// Copyright 2026 The Nursery authors
// SPDX-License-Identifier: LGPL-2.1-or-later

import GLib from 'gi://GLib';
import Nursery from 'gi://Nursery?version=1.0';
import System from 'system';

let nChecks = 0;
let nFailed = 0;

export function check(ok, what) {
    nChecks++;
    if (!ok)
        nFailed++;
    print(`${ok ? 'ok' : 'not ok'} ${nChecks} - ${what}`);
}

// Resolves on a later iteration of the default main context, the way a
// child awaits real I/O.
export function nextIteration() {
    return new Promise(resolve => {
        GLib.idle_add(GLib.PRIORITY_DEFAULT, () => {
            resolve();
            return GLib.SOURCE_REMOVE;
        });
    });
}

export function isError(e, domain, code) {
    return e instanceof GLib.Error && e.matches(domain, code);
}

// Whether `task` failed with Nursery.Error.FAILED and that message.
export function failedWith(task, message) {
    const error = task.get_state() === Nursery.TaskState.FAILED ? task.get_error() : null;
    return isError(error, Nursery.Error, Nursery.Error.FAILED) && error.message === message;
}

export function describe(task) {
    const state = task.get_state();
    return state === Nursery.TaskState.FAILED ? `FAILED: ${task.get_error().message}`
        : `state ${state}`;
}

// Resolves to true when `promise` settles, to false after `seconds`.
function withinDeadline(promise, seconds) {
    let source = 0;
    const deadline = new Promise(resolve => {
        source = GLib.timeout_add_seconds(GLib.PRIORITY_DEFAULT, seconds, () => {
            source = 0;
            resolve(false);
            return GLib.SOURCE_REMOVE;
        });
    });
    return Promise.race([promise.then(() => true), deadline]).finally(() => {
        if (source !== 0)
            GLib.source_remove(source);
    });
}

// Runs each case (a function returning a promise, or a value) in turn on
// the default main loop, then prints the TAP plan and exits. A hang is a
// failed check, not a stuck test: each case gets `seconds` (every one
// takes milliseconds).
export function runCases(cases, seconds) {
    async function main() {
        for (const testCase of cases) {
            try {
                // eslint-disable-next-line no-await-in-loop
                const finished = await withinDeadline(Promise.resolve(testCase()), seconds);
                if (!finished)
                    check(false, `${testCase.name}: still running after ${seconds} s (a group never closed)`);
            } catch (e) {
                check(false, `${testCase.name}: unexpected exception: ${e}`);
                for (const frame of (e?.stack ?? '').split('\n').filter(Boolean))
                    print(`# ${frame}`);
            }
        }
    }

    const loop = new GLib.MainLoop(null, false);
    main().finally(() => loop.quit());
    loop.run();

    // TAP plan last: a crash before this line leaves the plan missing.
    print(`1..${nChecks}`);
    System.exit(nFailed === 0 ? 0 : 1);
}
