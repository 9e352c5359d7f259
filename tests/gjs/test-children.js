// test-children.js: GJS children that always settle their task
//
// Copyright 2026 The Nursery authors
// SPDX-License-Identifier: LGPL-2.1-or-later
//
// Tests introspection/gjs/nursery.js, the module GJS programs import:
// async function children whose promise settles the task, synchronous
// throws that fail the task instead of hanging the group, and
// spawn_in_thread refused (GJS cannot run JS on a worker thread). Run as
// `gjs -m test-children.js`; output is TAP.
//
// Without the module each hang case below would never finish: every case
// is bounded by CASE_SECONDS, and a case that runs out is a failed check.

import GLib from 'gi://GLib';
import Gio from 'gi://Gio';
import Nursery from 'gi://Nursery?version=1.0';
import * as NurseryJS from '../../introspection/gjs/nursery.js';
import {check, describe, failedWith, isError, nextIteration, runCases} from './tap.js';

// Each case gets this long: a case that runs out is a failed check.
const CASE_SECONDS = 10;

Gio._promisify(Gio.SocketListener.prototype, 'accept_async', 'accept_finish');

// Resolves once `task` has left PENDING: counted in iterations, not time.
async function untilRunning(task) {
    while (task.get_state() === Nursery.TaskState.PENDING)
        await nextIteration();
}

// Awaits `promise` and returns what it rejects with (null if it resolves).
async function rejection(promise) {
    try {
        await promise;
        return null;
    } catch (e) {
        return e;
    }
}

// R2, R3: the value an async child resolves to (or a sync child returns)
// is its task's value; undefined is no value.
async function testAsyncChildValue() {
    const group = new Nursery.Group();
    const list = [1, 'two', {three: 3}];
    let ran = false;
    const answer = NurseryJS.spawn(group, 'answer', async () => {
        ran = true;
        await nextIteration();
        return 42;
    });
    const text = NurseryJS.spawn(group, 'text', () => 'sync text');
    const array = NurseryJS.spawn(group, 'array', async () => list);
    const none = NurseryJS.spawn(group, 'none', async () => {
        await nextIteration();
    });
    check(!ran && answer.get_state() === Nursery.TaskState.PENDING,
        'spawn does not run the async child inline');

    check(await NurseryJS.wait(group) === true, 'wait() resolves to true');
    check(answer.get_state() === Nursery.TaskState.SUCCEEDED && answer.get_int() === 42 &&
        answer.get_value() === 42,
    `the async child succeeded with 42, readable with get_int() too (${describe(answer)})`);
    check(text.get_value() === 'sync text', 'a sync child succeeds with what it returns');
    check(array.get_value() === list, 'an array result comes back as the same JS object');
    check(none.get_state() === Nursery.TaskState.SUCCEEDED && none.get_value() === null,
        'an async child resolving to undefined succeeds with no value');
}

// R3: the first return wins. A module child may end its task itself (as
// in C); what its function returns afterwards is ignored, without the
// critical a second C return would log (the test runs with
// G_DEBUG=fatal-criticals). Values GJS cannot put in a GValue still come
// back as themselves, and the name defaults to the function's.
async function testReturnsAndValues() {
    const group = new Nursery.Group();
    const itself = NurseryJS.spawn(group, 'itself', async task => {
        task.return_int(5);
        await nextIteration();
        return 6;
    });
    const thenThrows = NurseryJS.spawn(group, 'then-throws', task => {
        task.return_boolean(true);
        throw new Error('after the return: logged, not a second return');
    });
    class Point {
        constructor(x) {
            this.x = x;
        }
    }
    const point = new Point(3);
    const instance = NurseryJS.spawn(group, 'instance', async () => point);
    const plain = {a: 1};
    const object = NurseryJS.spawn(group, 'object', () => plain);
    const big = NurseryJS.spawn(group, 'big', () => 2n ** 70n);
    const fraction = NurseryJS.spawn(group, 'fraction', () => 0.5);
    const variant = NurseryJS.spawn(group, 'variant', () => new GLib.Variant('s', 'v'));
    const unnamed = NurseryJS.spawn(group, async function fetchSomething() {
        await nextIteration();
    });

    check(await NurseryJS.wait(group) === true, 'the group succeeds');
    check(itself.get_int() === 5, `a child's own return_int(5) wins over its return value (got ${itself.get_value()})`);
    check(thenThrows.get_state() === Nursery.TaskState.SUCCEEDED && thenThrows.get_boolean() === true,
        `a throw after the child returned does not undo the return (${describe(thenThrows)})`);
    check(instance.get_value() === point, 'a class instance comes back as the same object');
    check(object.get_value() === plain, 'a plain object comes back as the same object');
    check(big.get_value() === 2n ** 70n, 'a BigInt comes back unchanged');
    check(fraction.get_value() === 0.5, 'a fraction is a double');
    check(variant.get_value()?.unpack?.() === 'v', 'a GLib.Variant comes back (as a copy)');
    check(unnamed.name === 'fetchSomething', `spawn(group, func) names the task after func (got ${unnamed.name})`);
}

// R7: a rejected async child fails its task with the JS error's message;
// under fail-fast the group cancels its sibling and wait() rejects with it.
async function testAsyncChildRejects() {
    const group = new Nursery.Group();
    const sibling = NurseryJS.spawn(group, 'sibling', task => NurseryJS.cancelled(task));
    const failing = NurseryJS.spawn(group, 'failing', async () => {
        await nextIteration();
        throw new TypeError('boom');
    });

    const error = await rejection(NurseryJS.wait(group));
    check(isError(error, Nursery.Error, Nursery.Error.FAILED) && error.message === 'TypeError: boom',
        `wait() rejects with Nursery.Error.FAILED "TypeError: boom" (got ${error})`);
    check(failedWith(failing, 'TypeError: boom'), `the task failed with it (${describe(failing)})`);
    check(sibling.get_state() === Nursery.TaskState.CANCELLED, 'fail-fast cancelled the sibling');
    check(group.get_errors().length === 1 && group.n_failed === 1, 'one failure in the group');

    // A GLib.Error keeps its domain, code and message.
    const other = new Nursery.Group();
    const gio = NurseryJS.spawn(other, 'gio', async () => {
        await nextIteration();
        throw new GLib.Error(Gio.IOErrorEnum, Gio.IOErrorEnum.NOT_FOUND, 'gone');
    });
    const notFound = await rejection(NurseryJS.wait(other));
    check(isError(notFound, Gio.IOErrorEnum, Gio.IOErrorEnum.NOT_FOUND) && notFound.message === 'gone' &&
        isError(gio.get_error(), Gio.IOErrorEnum, Gio.IOErrorEnum.NOT_FOUND),
    `a thrown GLib.Error is the failure, unchanged (got ${notFound})`);
}

// Issue scenario: a child that throws synchronously, or calls the varargs
// return_new_error (not in the typelib), used to leave its group open for
// ever; now the task fails with the JS error. Raw group.spawn too, once
// the module is imported.
async function testSyncThrow() {
    const group = new Nursery.Group({policy: Nursery.Policy.SUPERVISE});
    const viaModule = NurseryJS.spawn(group, 'module', () => {
        throw new Error('sync');
    });
    const viaRaw = group.spawn('raw', () => {
        throw new RangeError('raw sync');
    });
    const newError = group.spawn('return_new_error', task => {
        task.return_new_error(Gio.IOErrorEnum, Gio.IOErrorEnum.FAILED, 'no varargs in GJS');
    });
    const rawAsync = group.spawn('raw async', async () => {
        await nextIteration();
        throw new Error('raw rejected');
    });
    const thrownString = NurseryJS.spawn(group, 'string', () => {
        // eslint-disable-next-line no-throw-literal
        throw 'just a string';
    });

    const error = await rejection(NurseryJS.wait(group));
    check(isError(error, Nursery.Error, Nursery.Error.FAILED),
        `the group closed and wait() rejects with the first failure (got ${error})`);
    check(failedWith(viaModule, 'Error: sync'), `module spawn, sync throw: ${describe(viaModule)}`);
    check(failedWith(viaRaw, 'RangeError: raw sync'), `raw spawn, sync throw: ${describe(viaRaw)}`);
    check(failedWith(newError, 'TypeError: task.return_new_error is not a function'),
        `raw spawn, return_new_error: ${describe(newError)}`);
    check(failedWith(rawAsync, 'Error: raw rejected'), `raw spawn, rejected promise: ${describe(rawAsync)}`);
    check(failedWith(thrownString, 'just a string'), `a thrown non-Error: ${describe(thrownString)}`);
    check(group.n_failed === 5, `n-failed is 5 (got ${group.n_failed})`);
}

// return_error works from GJS: a GLib.Error unchanged, from inside the
// child or from a later callback; any JS Error becomes Nursery.Error.FAILED.
async function testReturnError() {
    const group = new Nursery.Group({policy: Nursery.Policy.SUPERVISE});
    const denied = group.spawn('denied', task => {
        task.return_error(new GLib.Error(Gio.IOErrorEnum, Gio.IOErrorEnum.PERMISSION_DENIED, 'denied'));
    });
    const later = group.spawn('later', task => {
        GLib.idle_add(GLib.PRIORITY_DEFAULT, () => {
            task.return_error(new GLib.Error(Gio.IOErrorEnum, Gio.IOErrorEnum.BUSY, 'busy'));
            return GLib.SOURCE_REMOVE;
        });
    });
    const plain = group.spawn('plain', task => task.return_error(new Error('plain')));

    const first = await rejection(NurseryJS.wait(group));
    check(isError(first, Gio.IOErrorEnum, Gio.IOErrorEnum.PERMISSION_DENIED) && first.message === 'denied',
        `wait() rejects with the first returned error unchanged (got ${first})`);
    check(isError(denied.get_error(), Gio.IOErrorEnum, Gio.IOErrorEnum.PERMISSION_DENIED),
        'return_error() inside the child');
    check(isError(later.get_error(), Gio.IOErrorEnum, Gio.IOErrorEnum.BUSY) &&
        later.get_error().message === 'busy', 'return_error() from a later callback');
    check(failedWith(plain, 'Error: plain'), `return_error() with a JS Error: ${describe(plain)}`);
}

// Issue scenario: spawn_in_thread from GJS used to record SUCCEEDED for a
// function GJS refused to run. It is refused at the call, no task made.
async function testSpawnInThreadRefused() {
    const group = new Nursery.Group();
    let ran = false;
    const body = task => {
        ran = true;
        task.return_int(1);
    };
    for (const [what, call] of [
        ['NurseryJS.spawnInThread', () => NurseryJS.spawnInThread(group, 'thread', body)],
        ['group.spawn_in_thread', () => group.spawn_in_thread('thread', body)],
    ]) {
        let error = null;
        let task;
        try {
            task = call();
        } catch (e) {
            error = e;
        }
        check(task === undefined && isError(error, Gio.IOErrorEnum, Gio.IOErrorEnum.NOT_SUPPORTED) &&
            /worker thread/.test(error.message),
            `${what} throws IOErrorEnum.NOT_SUPPORTED that says why (got ${error})`);
    }
    check(group.list_tasks().get_n_items() === 0, 'no task was added');
    check(await NurseryJS.wait(group) === true && !ran, 'the group joins; the function never ran');
}

// R5, R7, R10: an async child sees its cancellable; cancelling the group
// ends it CANCELLED whether it awaits cancelled() or a Gio call.
async function testCancelAsyncChild() {
    const group = new Nursery.Group();
    let sawCancelled = null;
    const waiting = NurseryJS.spawn(group, 'waiting', async task => {
        try {
            await NurseryJS.cancelled(task);
        } finally {
            sawCancelled = task.get_cancellable().is_cancelled();
        }
    });
    const listener = new Gio.SocketListener();
    listener.add_any_inet_port(null);
    const accepting = NurseryJS.spawn(group, 'accepting', task =>
        listener.accept_async(task.get_cancellable()));

    await untilRunning(accepting);
    check(NurseryJS.cancelled(waiting) === NurseryJS.cancelled(waiting),
        'cancelled() hands out one promise per task');
    group.cancel();
    // R7: the group's own cancel() is quiet.
    check(await NurseryJS.wait(group) === true, 'wait() resolves after the group\'s own cancel()');
    check(waiting.get_state() === Nursery.TaskState.CANCELLED && sawCancelled === true,
        `the child awaiting cancelled() saw its cancellable cancelled and ended CANCELLED (${describe(waiting)})`);
    check(accepting.get_state() === Nursery.TaskState.CANCELLED,
        `the child in a Gio call with its cancellable ended CANCELLED (${describe(accepting)})`);
    check(group.get_errors().length === 0, 'cancellation is not a failure');
    listener.close();

    // wait()'s cancellable cancels the group, which is still joined (R10).
    const other = new Nursery.Group();
    const child = NurseryJS.spawn(other, 'child', task => NurseryJS.cancelled(task));
    const cancellable = new Gio.Cancellable();
    const joined = rejection(NurseryJS.wait(other, cancellable));
    await untilRunning(child);
    cancellable.cancel();
    check(isError(await joined, Gio.IOErrorEnum, Gio.IOErrorEnum.CANCELLED) &&
        child.get_state() === Nursery.TaskState.CANCELLED && other.is_closed(),
    "cancelling wait()'s cancellable cancels and joins the group");

    // Already cancelled: cancelled() rejects at once (on a later iteration).
    const late = new Nursery.Group();
    const lateChild = NurseryJS.spawn(late, 'late', async task => {
        task.cancel();
        await NurseryJS.cancelled(task);
    });
    await rejection(NurseryJS.wait(late));
    check(lateChild.get_state() === Nursery.TaskState.CANCELLED, 'cancelled() of a cancelled task rejects');
}

// R18: start() resolves with [task, value] once an async child called
// started(); a failure before started() rejects the caller, not the group.
async function testStart() {
    const group = new Nursery.Group();
    const [server, ready] = await NurseryJS.start(group, 'server', async task => {
        await nextIteration();
        task.started('ready');
        await NurseryJS.cancelled(task);
    });
    check(server.get_state() === Nursery.TaskState.RUNNING && ready === 'ready',
        `start() resolves with the running task and the started() value (got ${ready})`);

    const early = await rejection(NurseryJS.start(group, 'early', async () => {
        await nextIteration();
        throw new Error('not ready');
    }));
    check(isError(early, Nursery.Error, Nursery.Error.FAILED) && early.message === 'Error: not ready',
        `a throw before started() rejects start() (got ${early})`);

    const quiet = await rejection(NurseryJS.start(group, async function quietChild() {
        return 1;
    }));
    check(isError(quiet, Nursery.Error, Nursery.Error.NOT_STARTED),
        `resolving without started() is NOT_STARTED (got ${quiet})`);

    const rawEarly = await rejection(group.start_async('raw', () => {
        throw new Error('raw start');
    }, null));
    check(isError(rawEarly, Nursery.Error, Nursery.Error.FAILED) && rawEarly.message === 'Error: raw start',
        `raw start_async: a sync throw rejects the caller (got ${rawEarly})`);

    server.cancel();
    check(await NurseryJS.wait(group) === true && server.get_state() === Nursery.TaskState.CANCELLED,
        'the started task is an ordinary child: cancelling it is not a failure');
    check(isError(await rejection(NurseryJS.wait(server)), Gio.IOErrorEnum, Gio.IOErrorEnum.CANCELLED),
        'wait(task) of the cancelled task rejects with CANCELLED');
}

// Task.wait through the module: one child's outcome.
async function testTaskWait() {
    const group = new Nursery.Group();
    const seven = NurseryJS.spawn(group, 'seven', async () => 7);
    check(await NurseryJS.wait(seven) === true && seven.get_int() === 7, 'wait(task) resolves after it succeeded');
    const failing = NurseryJS.spawn(group, 'failing', () => {
        throw new Error('no');
    });
    const error = await rejection(NurseryJS.wait(failing));
    check(isError(error, Nursery.Error, Nursery.Error.FAILED) && error.message === 'Error: no',
        `wait(task) rejects with its failure (got ${error})`);
    await rejection(NurseryJS.wait(group));
}

// Two copies of the module in one process (say an installed one and an
// application's own): the second shares the first's state, so it loads
// (no second GType registration), wraps nothing twice, and values boxed
// by either come back from get_value().
async function testSecondCopy() {
    const source = Gio.File.new_for_uri(GLib.uri_resolve_relative(import.meta.url,
        '../../introspection/gjs/nursery.js', GLib.UriFlags.NONE));
    const dir = GLib.dir_make_tmp('nursery-gjs-XXXXXX');
    const copy = Gio.File.new_for_path(GLib.build_filenamev([dir, 'nursery.js']));
    source.copy(copy, Gio.FileCopyFlags.NONE, null, null);
    let other;
    try {
        other = await import(copy.get_uri());
    } finally {
        copy.delete(null);
        GLib.rmdir(dir);
    }
    check(other !== NurseryJS && typeof other.spawn === 'function', 'a second copy of the module loads');

    const group = new Nursery.Group({policy: Nursery.Policy.SUPERVISE});
    const list = [1, 2];
    const viaCopy = other.spawn(group, 'copy', async () => list);
    const viaFirst = NurseryJS.spawn(group, 'first', () => [3]);
    const raw = group.spawn('raw', () => {
        throw new Error('once');
    });
    await rejection(NurseryJS.wait(group));
    check(viaCopy.get_value() === list && viaFirst.get_value()[0] === 3,
        'values boxed by either copy come back');
    check(failedWith(raw, 'Error: once'), `the raw spawn still fails a throwing child: ${describe(raw)}`);
}

runCases([
    testAsyncChildValue,
    testReturnsAndValues,
    testAsyncChildRejects,
    testSyncThrow,
    testReturnError,
    testSpawnInThreadRefused,
    testCancelAsyncChild,
    testStart,
    testTaskWait,
    testSecondCopy,
], CASE_SECONDS);
