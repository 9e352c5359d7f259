// test-override.js: the GJS override keeps raw typelib users from hanging
//
// Copyright 2026 The Nursery authors
// SPDX-License-Identifier: LGPL-2.1-or-later
//
// A program that imports gi://Nursery and never the module nursery.js:
// GJS runs the override introspection/gjs/overrides/Nursery.js (found
// through GJS_PATH, set by tests/meson.build) on that import. Its child
// that throws synchronously, or whose promise rejects, or that calls the
// varargs return_new_error() GJS cannot call, must fail its task with
// that error instead of leaving the group open for ever (R2, R3, R24);
// spawn_in_thread() must refuse. Run as `gjs -m test-override.js`, under
// G_DEBUG=fatal-criticals; output is TAP.
//
// Without the override every hang case below would never finish: each
// case is bounded by CASE_SECONDS, and a case that runs out is a failed
// check. This file calls no Gio._promisify of its own: the override's is
// checked, and joins use the callback form so they work either way.

import GLib from 'gi://GLib';
import Gio from 'gi://Gio';
import Nursery from 'gi://Nursery?version=1.0';
import {check, describe, failedWith, isError, nextIteration, runCases} from './tap.js';

// Each case gets this long: a case that runs out is a failed check.
const CASE_SECONDS = 5;

const STATE_KEY = Symbol.for('nursery-1 gjs module');

// Joins `group` through the callback form of wait_async (the typelib's
// own, promisified or not): resolves to the error it failed with, or null.
function join(group) {
    return new Promise(resolve => {
        group.wait_async(null, (source, result) => {
            try {
                source.wait_finish(result);
                resolve(null);
            } catch (e) {
                resolve(e);
            }
        });
    });
}

// The override ran on `import gi://Nursery`, and it is the one of this
// source tree, not a copy installed on the machine.
function testOverrideLoaded() {
    const state = globalThis[STATE_KEY];
    const expected = GLib.build_filenamev([GLib.getenv('NURSERY_SOURCE_ROOT') ?? '',
        'introspection', 'gjs', 'overrides', 'Nursery.js']);
    check(state?.file === expected,
        `importing gi://Nursery ran the override from the source tree (got ${state?.file})`);
    return Promise.resolve();
}

// R2, R3: a raw child that throws synchronously fails its task with that
// error (a GLib.Error unchanged, anything else as Nursery.Error.FAILED);
// the fail-fast group fails with the first one.
async function testSyncThrow() {
    const group = new Nursery.Group();
    const boom = group.spawn('boom', () => {
        throw new Error('boom');
    });
    const failure = await join(group);
    check(isError(failure, Nursery.Error, Nursery.Error.FAILED) && failure.message === 'Error: boom',
        `the group fails with the thrown JS error (got ${failure})`);
    check(failedWith(boom, 'Error: boom'), `the throwing child failed: ${describe(boom)}`);

    const supervised = new Nursery.Group({policy: Nursery.Policy.SUPERVISE});
    const denied = supervised.spawn('denied', () => {
        throw new GLib.Error(Gio.IOErrorEnum, Gio.IOErrorEnum.PERMISSION_DENIED, 'denied');
    });
    const text = supervised.spawn('text', () => {
        throw 'plain text';   // eslint-disable-line no-throw-literal
    });
    await join(supervised);
    check(isError(denied.get_error(), Gio.IOErrorEnum, Gio.IOErrorEnum.PERMISSION_DENIED) &&
        denied.get_error().message === 'denied', 'a thrown GLib.Error fails the task unchanged');
    check(failedWith(text, 'plain text'), `a thrown string fails the task: ${describe(text)}`);
}

// R2, R3: a raw child whose returned promise rejects (an async function
// that throws after an await) fails its task with that error.
async function testRejectedPromise() {
    const group = new Nursery.Group({policy: Nursery.Policy.SUPERVISE});
    const later = group.spawn('later', async () => {
        await nextIteration();
        throw new TypeError('later');
    });
    const rejected = group.spawn('rejected', () => Promise.reject(new RangeError('rejected')));
    const failure = await join(group);
    check(isError(failure, Nursery.Error, Nursery.Error.FAILED),
        `the group fails (got ${failure})`);
    check(failedWith(later, 'TypeError: later'), `the async child failed: ${describe(later)}`);
    check(failedWith(rejected, 'RangeError: rejected'),
        `the child returning a rejected promise failed: ${describe(rejected)}`);
}

// R3: task.return_new_error() is varargs, so not in the typelib: calling
// it throws a TypeError, which fails the task.
async function testReturnNewError() {
    const group = new Nursery.Group();
    const child = group.spawn('varargs', task => {
        task.return_new_error(Gio.IOErrorEnum, Gio.IOErrorEnum.FAILED, 'never');
    });
    await join(group);
    const message = child.get_error()?.message ?? '';
    check(child.get_state() === Nursery.TaskState.FAILED && message.startsWith('TypeError: ') &&
        message.includes('return_new_error'),
    `calling return_new_error() fails the task with the TypeError: ${describe(child)}`);
}

// R3: a child that returned and then throws keeps its return (no second
// return reaches C: fatal-criticals), and its group closes.
async function testReturnedThenThrows() {
    const group = new Nursery.Group();
    const child = group.spawn('returned', task => {
        task.return_int(7);
        throw new Error('after the return: logged, not a second return');
    });
    check(await join(group) === null && child.get_int() === 7,
        `the first return wins: ${describe(child)}`);
}

// R24: return_error() takes any thrown value, not only a GLib.Error.
async function testReturnErrorAnyValue() {
    const group = new Nursery.Group({policy: Nursery.Policy.SUPERVISE});
    const jsError = group.spawn('js-error', task => task.return_error(new SyntaxError('bad')));
    const number = group.spawn('number', task => task.return_error(42));
    await join(group);
    check(failedWith(jsError, 'SyntaxError: bad'), `return_error(new SyntaxError()): ${describe(jsError)}`);
    check(failedWith(number, '42'), `return_error(42): ${describe(number)}`);
}

// R18: a raw start_async() child that throws before started() rejects
// the caller instead of leaving it waiting; the promise form comes from
// the override's Gio._promisify.
async function testStartThrow() {
    const group = new Nursery.Group();
    let failure = null;
    try {
        await group.start_async('start', () => {
            throw new Error('not started');
        }, null);
    } catch (e) {
        failure = e;
    }
    check(isError(failure, Nursery.Error, Nursery.Error.FAILED) && failure.message === 'Error: not started',
        `start_async() rejects with the thrown error (got ${failure})`);
    check(await group.wait_async(null) === true, 'wait_async() without a callback returns a promise');
}

// R2, R24: spawn_in_thread() with a JS function is refused at the call:
// GJS could not run it on a worker, so the child would have "succeeded".
async function testSpawnInThreadRefused() {
    const group = new Nursery.Group();
    let ran = false;
    let error = null;
    let task;
    try {
        task = group.spawn_in_thread('thread', t => {
            ran = true;
            t.return_int(1);
        });
    } catch (e) {
        error = e;
    }
    check(task === undefined && isError(error, Gio.IOErrorEnum, Gio.IOErrorEnum.NOT_SUPPORTED) &&
        /worker thread/.test(error.message),
    `spawn_in_thread() throws IOErrorEnum.NOT_SUPPORTED that says why (got ${error})`);

    // C's own refusal, for when GJS did not find the override: the
    // typelib's method as it was before the override replaced it.
    error = null;
    task = undefined;
    try {
        task = globalThis[STATE_KEY].raw.spawnInThread.call(group, 'thread', () => {
            ran = true;
        });
    } catch (e) {
        error = e;
    }
    check(task === undefined && isError(error, Gio.IOErrorEnum, Gio.IOErrorEnum.NOT_SUPPORTED),
        `the typelib's own spawn_in_thread() refuses too (got ${error})`);
    check(await join(group) === null && !ran && group.get_n_spawned() === 0,
        'no child was made, and the function never ran');
}

// Importing the module nursery.js after the override wraps nothing twice:
// the module uses the override's state.
async function testModuleAfterOverride() {
    const state = globalThis[STATE_KEY];
    const spawn = Nursery.Group.prototype.spawn;
    const returnError = Nursery.Task.prototype.return_error;
    const NurseryJS = await import('../../introspection/gjs/nursery.js');
    check(globalThis[STATE_KEY] === state && Nursery.Group.prototype.spawn === spawn &&
        Nursery.Task.prototype.return_error === returnError,
    'importing nursery.js changes no method the override patched');

    const group = new Nursery.Group();
    const child = NurseryJS.spawn(group, 'module', () => {
        throw new Error('module');
    });
    await join(group);
    check(failedWith(child, 'Error: module'), `the module's spawn() still works: ${describe(child)}`);
}

runCases([
    testOverrideLoaded,
    testSyncThrow,
    testRejectedPromise,
    testReturnNewError,
    testReturnedThenThrows,
    testReturnErrorAnyValue,
    testStartThrow,
    testSpawnInThreadRefused,
    testModuleAfterOverride,
], CASE_SECONDS);
