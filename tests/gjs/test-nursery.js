// test-nursery.js: Nursery as a GJS program sees it, through the typelib
//
// Copyright 2026 The Nursery authors
// SPDX-License-Identifier: LGPL-2.1-or-later
//
// Run as an ES module: `gjs -m test-nursery.js`. Each case is an async
// function whose children are JS functions, joined with `await`. Only
// in-context children (spawn, not spawn_in_thread): GJS refuses to run JS
// on another thread. Output is TAP; the exit status is non-zero if any
// check failed or a case threw something unexpected.

import GLib from 'gi://GLib';
import Gio from 'gi://Gio';
import Nursery from 'gi://Nursery?version=1.0';
import System from 'system';

// gobject-introspection 1.74 has no finish-func annotation: _promisify
// pairs wait_async with wait_finish by the name we give it.
Gio._promisify(Nursery.Group.prototype, 'wait_async', 'wait_finish');
Gio._promisify(Nursery.Group.prototype, 'start_async', 'start_finish');
Gio._promisify(Nursery.Task.prototype, 'wait_async', 'wait_finish');

let nChecks = 0;
let nFailed = 0;

function check(ok, what) {
    nChecks++;
    if (!ok)
        nFailed++;
    print(`${ok ? 'ok' : 'not ok'} ${nChecks} - ${what}`);
}

// Resolves on a later iteration of the default main context, the way a
// child awaits real I/O.
function nextIteration() {
    return new Promise(resolve => {
        GLib.idle_add(GLib.PRIORITY_DEFAULT, () => {
            resolve();
            return GLib.SOURCE_REMOVE;
        });
    });
}

// A child body that ends only when its task is cancelled. (In GJS,
// Gio.Cancellable.connect is g_cancellable_connect, not the signal
// connect.) The callback may run inside the group's cancel call, so the
// return is deferred to the next iteration rather than made from the
// callback, which is also where disconnecting is allowed.
function runUntilCancelled(task) {
    const cancellable = task.get_cancellable();
    const handler = cancellable.connect(() => {
        nextIteration().then(() => {
            cancellable.disconnect(handler);
            task.return_error_if_cancelled();
        });
    });
}

// Awaits `promise` and returns what it rejects with (null if it
// resolves), so a wrong kind of rejection is a failed check, not an
// exception that skips the rest of the case.
async function rejection(promise) {
    try {
        await promise;
        return null;
    } catch (e) {
        return e;
    }
}

// Whether `e` is a GLib.Error of that domain and code.
function isError(e, domain, code) {
    return e instanceof GLib.Error && e.matches(domain, code);
}

// DESIGN R1, R2: JS children return values; the group is joined with await.
async function testJsChildren() {
    const group = new Nursery.Group();
    const order = [];
    const answer = group.spawn('answer', task => {
        order.push('answer');
        task.return_int(42);
    });
    // An async child: it finishes after it awaited, not when spawn's
    // callback returned.
    const later = group.spawn('later', task => {
        order.push('later');
        (async () => {
            await nextIteration();
            task.return_boolean(true);
        })();
    });

    check(order.length === 0 && answer.get_state() === Nursery.TaskState.PENDING,
        'spawn does not run the child inline');

    const ok = await group.wait_async(null);
    check(ok === true, 'wait_async resolves to true for a succeeding group');
    check(order.join() === 'answer,later', 'children started in spawn order');
    check(answer.get_int() === 42, 'the JS child returned 42');
    check(answer.get_value() === 42, 'get_value() unpacks the GValue to 42');
    check(later.get_state() === Nursery.TaskState.SUCCEEDED && later.get_boolean() === true,
        'the async JS child succeeded after awaiting');
    check(group.is_closed() && group.state === Nursery.GroupState.CLOSED,
        'the group is closed after wait');
}

// R4: a closed group refuses with Nursery.Error.CLOSED.
async function testSpawnIntoClosedGroup() {
    const group = new Nursery.Group();
    await group.wait_async(null);

    let error = null;
    let ran = false;
    try {
        group.spawn('late', task => {
            ran = true;
            task.return_int(1);
        });
    } catch (e) {
        error = e;
    }
    check(isError(error, Nursery.Error, Nursery.Error.CLOSED),
        `spawn into a closed group throws Nursery.Error.CLOSED (got ${error})`);

    // Give the context a turn: a refused child must never run.
    await nextIteration();
    check(!ran, 'the refused child never ran');
}

// R7, R8, R11, R21: under fail-fast a child failure cancels its sibling,
// is what wait rejects with (unchanged) and is in get_errors().
async function testChildFailure() {
    const group = new Nursery.Group();
    const finished = [];
    group.connect('task-finished', (_group, task) => finished.push(task.name));

    const sibling = group.spawn('sibling', runUntilCancelled);
    group.spawn('failing', task => {
        task.return_error(new GLib.Error(Gio.IOErrorEnum,
            Gio.IOErrorEnum.PERMISSION_DENIED, 'no entry'));
    });

    const error = await rejection(group.wait_async(null));
    check(isError(error, Gio.IOErrorEnum, Gio.IOErrorEnum.PERMISSION_DENIED),
        `wait_async rejects with the child's Gio.IOErrorEnum.PERMISSION_DENIED (got ${error})`);
    check(error instanceof GLib.Error && error.message === 'no entry', "the child's message is unchanged");
    check(sibling.get_state() === Nursery.TaskState.CANCELLED, 'fail-fast cancelled the sibling');
    check(group.is_cancelled() && group.cancelled, 'the group is cancelled');

    const errors = group.get_errors();
    check(Array.isArray(errors) && errors.length === 1 &&
        errors[0].matches(Gio.IOErrorEnum, Gio.IOErrorEnum.PERMISSION_DENIED),
    'get_errors() is an array with the one GLib.Error');
    check(group.n_failed === 1, 'n-failed is 1');
    check(finished.join() === 'failing,sibling', `task-finished in completion order (got ${finished})`);
}

// R5, R7: a cancelled group without failures rejects with CANCELLED and
// its queued child never runs.
async function testCancelledGroup() {
    const group = new Nursery.Group();
    let ran = false;
    const task = group.spawn('never-runs', t => {
        ran = true;
        t.return_int(1);
    });
    group.cancel();

    const error = await rejection(group.wait_async(null));
    check(isError(error, Gio.IOErrorEnum, Gio.IOErrorEnum.CANCELLED),
        `wait_async on a cancelled group rejects with CANCELLED (got ${error})`);
    check(!ran && task.get_state() === Nursery.TaskState.CANCELLED,
        'the queued child was cancelled without running');
    check(group.get_errors().length === 0, 'cancellation is not a failure');
}

// Task.wait_async: one child's outcome, promisified.
async function testTaskWait() {
    const group = new Nursery.Group();
    const later = group.spawn('later', task => {
        nextIteration().then(() => task.return_int(7));
    });
    check(await later.wait_async(null) === true && later.get_int() === 7,
        "Task.wait_async resolves with the async child's result");

    const failing = group.spawn('failing', task => {
        task.return_error(new GLib.Error(Gio.IOErrorEnum, Gio.IOErrorEnum.NOT_FOUND, 'gone'));
    });
    const error = await rejection(failing.wait_async(null));
    check(isError(error, Gio.IOErrorEnum, Gio.IOErrorEnum.NOT_FOUND),
        `Task.wait_async rejects with the task's NOT_FOUND (got ${error})`);

    await rejection(group.wait_async(null));
    check(group.is_closed(), 'the group closes after the failure');
}

// R18: start_async resolves at started() with [task, value]; a child that
// fails first rejects the caller, not the group; one that succeeds without
// started() is Nursery.Error.NOT_STARTED.
async function testStart() {
    const group = new Nursery.Group();
    let server = null;

    const [task, ready] = await group.start_async('server', t => {
        server = t;
        t.started('ready');
        // Still running after started(): an ordinary child from now on.
    }, null);
    check(task === server && task.get_state() === Nursery.TaskState.RUNNING,
        'start_async resolves with the running child');
    check(ready === 'ready', `the value passed to started() comes back (got ${ready})`);

    const early = await rejection(group.start_async('early', t => {
        t.return_error(new GLib.Error(Gio.IOErrorEnum, Gio.IOErrorEnum.BUSY, 'busy'));
    }, null));
    check(isError(early, Gio.IOErrorEnum, Gio.IOErrorEnum.BUSY),
        `a child failing before started() rejects the caller with BUSY (got ${early})`);

    const quiet = await rejection(group.start_async('quiet', t => t.return_int(1), null));
    check(isError(quiet, Nursery.Error, Nursery.Error.NOT_STARTED),
        `a child succeeding without started() rejects with NOT_STARTED (got ${quiet})`);

    server.return_int(0);
    check(await group.wait_async(null) === true && group.get_errors().length === 0,
        "start failures are not the group's failures");
}

// R13, R14: a group made inside a task is cancelled with that task;
// cancelling one task is not a failure of its own group.
async function testNestedGroup() {
    const outer = new Nursery.Group();
    let inner = null;
    let grandchild = null;

    const parent = outer.spawn('parent', task => {
        inner = Nursery.Group.new_for_task(task);
        grandchild = inner.spawn('grandchild', g => {
            runUntilCancelled(g);
            // Cancel the parent from inside the tree, once the grandchild
            // is surely running: no timer needed.
            task.cancel();
        });
        // The parent ends with whatever its own group ends with.
        inner.wait_async(null).then(
            () => task.return_boolean(true),
            e => task.return_error(e));
    });

    check(await outer.wait_async(null) === true, 'cancelling one task is not a failure of its group');
    check(inner?.is_cancelled(), 'the nested group was cancelled with its parent task');
    check(grandchild?.get_state() === Nursery.TaskState.CANCELLED, 'the grandchild was cancelled');
    check(parent.get_state() === Nursery.TaskState.CANCELLED, 'the parent task ended cancelled');
}

async function main() {
    const cases = [
        testJsChildren,
        testSpawnIntoClosedGroup,
        testChildFailure,
        testCancelledGroup,
        testTaskWait,
        testStart,
        testNestedGroup,
    ];
    // One case's unexpected exception is a failed check; the rest still run.
    for (const testCase of cases) {
        try {
            await testCase();
        } catch (e) {
            check(false, `${testCase.name}: unexpected exception: ${e}`);
            // TAP diagnostics: one "#" line per stack frame.
            for (const frame of (e?.stack ?? '').split('\n').filter(Boolean))
                print(`# ${frame}`);
        }
    }
}

// An explicit loop rather than top-level await: gjs 1.74 does iterate the
// default context while a module's top-level await is pending, but with
// our own loop the way out (and so the exit status) is in this file.
const loop = new GLib.MainLoop(null, false);
main().finally(() => loop.quit());

// A JS exception inside a child's function is only logged by GJS: the
// task never returns and its group never closes. Bail out with a clear
// message instead of waiting for meson's timeout. This is a failure
// guard, not synchronisation: every case finishes in milliseconds.
const WATCHDOG_SECONDS = 20;
GLib.timeout_add_seconds(GLib.PRIORITY_DEFAULT, WATCHDOG_SECONDS, () => {
    print(`Bail out! still running after ${WATCHDOG_SECONDS} s: a group never closed ` +
          '(did a child throw instead of returning?)');
    System.exit(1);
});

loop.run();

// TAP plan last: a crash before this line leaves the plan missing, which
// meson reports as a failure.
print(`1..${nChecks}`);
System.exit(nFailed === 0 ? 0 : 1);
