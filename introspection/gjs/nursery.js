// nursery.js: Nursery for GJS, with async functions as children
//
// Copyright 2026 The Nursery authors
// SPDX-License-Identifier: LGPL-2.1-or-later
//
// Installed as <datadir>/nursery-1/gjs/nursery.js. GJS 1.74 resolves no
// bare module names outside its own, so import it by URI:
//
//   import Nursery from 'gi://Nursery?version=1.0';
//   import * as NurseryJS from 'file:///usr/share/nursery-1/gjs/nursery.js';
//
//   const group = new Nursery.Group();
//   const task = NurseryJS.spawn(group, 'size', async t => (await load(t)).length);
//   await NurseryJS.wait(group);   // rejects with the first failure
//   print(task.get_value());
//
// What it gives (docs/bindings.md, R2, R3, R24):
//  - spawn() and start() take sync or async functions: the value the
//    function returns (or its promise resolves to) is the task's result,
//    and what it throws (or its promise rejects with) fails the task: a
//    GLib.Error as it is, anything else as Nursery.Error.FAILED whose
//    message is "Name: message". A child never leaves its group hanging.
//    If the child ends its task itself (task.return_*()), that wins.
//  - wait(), cancelled(): promises for joining and for a task's cancel.
//  - spawnInThread() refuses: GJS cannot run JS on a worker thread.
//
// The raw typelib methods are made safer by Nursery's GJS override
// (<datadir>/gjs-1.0/overrides/Nursery.js, overrides/Nursery.js here),
// which GJS runs when a program imports gi://Nursery, with or without
// this module: a child that throws fails its task, spawn_in_thread()
// throws, return_error() takes any thrown value, the *_async methods
// return promises. This module builds on what the override leaves: the
// typelib's own methods, the boxed values, the error conversion. If GJS
// did not find the override (a prefix outside XDG_DATA_DIRS), importing
// this module runs it from its installed place.

import GLib from 'gi://GLib';
import Gio from 'gi://Gio';
import GObject from 'gi://GObject';
// Importing the namespace runs the override, when GJS finds it.
import Nursery from 'gi://Nursery?version=1.0';

/**
 * The GLib.Error a task fails with when its function throws `thrown`:
 * a GLib.Error as it is, anything else as Nursery.Error.FAILED with the
 * message "Name: message" (what the Python binding does, R24).
 *
 * @param {*} thrown what the child threw or rejected with
 * @returns {GLib.Error}
 */
export function toError(thrown) {
    return shared.toError(thrown);
}

// Ends `task` successfully with `value`, unless it already returned.
// Numbers that are integers go in as gint64 (so C's get_int() reads
// them), booleans as gboolean, undefined as no value (R2); what GJS can
// marshal (strings, doubles, GObjects, boxed, variants, plain objects)
// goes in as is; anything else goes in a ValueBox. A value that still
// fails to convert fails the task instead.
function succeed(task, value) {
    if (returned.has(task))
        return;
    try {
        if (value === undefined)
            task.return_value(null);
        else if (typeof value === 'boolean')
            task.return_boolean(value);
        else if (Number.isSafeInteger(value))
            task.return_int(value);
        else if (isMarshallable(value))
            task.return_value(value);
        else
            task.return_value(new ValueBox(value));
    } catch (e) {
        fail(task, e);
    }
}

// Whether GJS 1.74 guesses a GValue type for `value` (it throws "Could
// not guess unspecified GValue type" otherwise).
function isMarshallable(value) {
    if (value === null || typeof value === 'string' || typeof value === 'number')
        return true;
    if (typeof value !== 'object')
        return false;
    // GObjects, boxed types (GLib.Variant, GLib.Bytes...) and plain
    // objects: GJS knows their GType from their constructor.
    return value instanceof GObject.Object || value.constructor?.$gtype !== undefined;
}

// Settles `task` with the outcome of `func(task)`: its value, or a failure
// with what it threw. An async function's promise settles it later. (A
// thenable whose `then` throws fails the task too.)
function runChild(task, func) {
    try {
        const result = func(task);
        if (isThenable(result))
            result.then(value => succeed(task, value), e => fail(task, e));
        else
            succeed(task, result);
    } catch (e) {
        fail(task, e);
    }
}

/**
 * Adds an in-context child whose function may be async (R1, R2). The
 * value it returns, or its promise resolves to, is the task's result:
 * undefined is no value, an integer is read with get_int(), any value
 * comes back from get_value(). What it throws, or its promise rejects
 * with, fails the task (see toError()). If the child ends its task
 * itself with task.return_*(), that return wins and what the function
 * returns afterwards is ignored.
 *
 * @param {Nursery.Group} group a group that is not closed
 * @param {string|null} [name] a name for logs and errors; leave it out
 *   (spawn(group, func)) for the function's own name
 * @param {function(Nursery.Task): *} func the child's body
 * @returns {Nursery.Task} the child's handle
 * @throws {GLib.Error} Nursery.Error.CLOSED if the group is closed
 */
export function spawn(group, name, func) {
    if (typeof name === 'function' && func === undefined)
        [name, func] = [name.name || null, name];
    checkFunction(func, 'spawn');
    return raw.spawn.call(group, name, task => runChild(task, func));
}

/**
 * Starts a child and resolves once it called task.started(value), like
 * trio's nursery.start() (R18). The function may be async; after
 * started(), its return value or throw settles the task as with spawn().
 *
 * @param {Nursery.Group} group a group that is not closed
 * @param {string|null} [name] a name for logs and errors; leave it out
 *   (start(group, func, cancellable)) for the function's own name
 * @param {function(Nursery.Task): *} func the child's body; it calls
 *   task.started(value) once ready
 * @param {Gio.Cancellable|null} [cancellable] cancels the start: the
 *   child is cancelled until it called started()
 * @returns {Promise<Array>} [task, value]; rejects with the child's failure
 *   before started(), or Nursery.Error.NOT_STARTED
 */
export function start(group, name, func, cancellable = null) {
    if (typeof name === 'function')
        [name, func, cancellable] = [name.name || null, name, func ?? null];
    checkFunction(func, 'start');
    return raw.startAsync.call(group, name, task => runChild(task, func), cancellable);
}

/**
 * Joins a group (or waits for one task): resolves to true, or rejects
 * with the first failure unchanged, CANCELLED or TIMED_OUT (R6, R7).
 *
 * @param {Nursery.Group|Nursery.Task} groupOrTask what to wait for
 * @param {Gio.Cancellable|null} [cancellable] for a group, cancelling it
 *   cancels the group, which is still joined (R10)
 * @returns {Promise<boolean>}
 */
export function wait(groupOrTask, cancellable = null) {
    return groupOrTask.wait_async(cancellable);
}

/**
 * Refuses, as group.spawn_in_thread() does: GJS cannot run a JS function
 * on a worker thread.
 *
 * @throws {GLib.Error} Gio.IOErrorEnum.NOT_SUPPORTED, always
 */
export function spawnInThread() {
    throw shared.threadError();
}

// One promise per task: calling cancelled() again adds no handler.
const cancelledPromises = new WeakMap();

/**
 * A promise that rejects with Gio.IOErrorEnum.CANCELLED once `task` is
 * cancelled (at once if it already is), and never resolves. Race it with
 * work that takes no cancellable: `await Promise.race([work, cancelled(task)])`.
 * The rejection comes on a later iteration of the owner context, never
 * inside the call that cancelled, whichever thread that was.
 *
 * @param {Nursery.Task} task a task of a group owned by this thread's
 *   context (every task a JS child gets)
 * @returns {Promise<never>}
 */
export function cancelled(task) {
    let promise = cancelledPromises.get(task);
    if (promise)
        return promise;
    promise = new Promise((_resolve, reject) => {
        // A cancellable source, not g_cancellable_connect(): a handler
        // runs on the thread that cancels, where GJS refuses to run JS (a
        // C library or a worker thread may cancel a group); the source
        // is dispatched here, on the owner context.
        const source = task.get_cancellable().source_new();
        source.set_callback(() => {
            reject(new GLib.Error(Gio.IOErrorEnum, Gio.IOErrorEnum.CANCELLED, 'Task was cancelled'));
            return GLib.SOURCE_REMOVE;
        });
        source.attach(GLib.MainContext.ref_thread_default());
        // Once the task has finished, nobody is left to tell.
        raw.taskWait.call(task, null, () => source.destroy());
    });
    // Nobody may be listening when the task is cancelled: do not report
    // an unhandled rejection for that.
    promise.catch(() => {});
    cancelledPromises.set(task, promise);
    return promise;
}

function checkFunction(func, what) {
    if (typeof func !== 'function')
        throw new TypeError(`Nursery ${what}(): the child must be a function, got ${typeof func}`);
}

// Where the override is, relative to this file: installed, both are under
// the same <datadir>; in the source tree it is overrides/Nursery.js.
const OVERRIDE_DIRS = ['../../gjs-1.0/overrides', 'overrides'];

// GJS runs the override only from its search path: the gjs-1.0 directory
// of each XDG data directory, and GJS_PATH. Nursery installed to another
// prefix, with neither variable naming it, still gets it through this
// module, loaded the way GJS loads it: as a legacy module (through the
// importer, its search path restored), _init() called on the namespace.
function runOverride() {
    const here = Gio.File.new_for_uri(import.meta.url).get_parent();
    const dir = OVERRIDE_DIRS.map(path => here.resolve_relative_path(path))
        .find(candidate => candidate.get_child('Nursery.js').query_exists(null));
    if (!dir) {
        throw new Error('nursery.js: Nursery\'s GJS override gjs-1.0/overrides/Nursery.js ' +
            'was not found: reinstall Nursery, or put its <datadir> in XDG_DATA_DIRS');
    }
    imports.searchPath.unshift(dir.get_path());
    try {
        // The root importer names a legacy module after its file.
        imports.Nursery._init.call(Nursery);
    } finally {
        imports.searchPath.shift();
    }
}

// What the override shares: the typelib's methods, the returned tasks,
// the box type and the helpers (see overrides/Nursery.js).
const STATE_KEY = Symbol.for('nursery-1 gjs module');
if (!globalThis[STATE_KEY])
    runOverride();
const shared = globalThis[STATE_KEY];
const {raw, returned, ValueBox, fail, isThenable} = shared;
