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
// Importing it also makes the raw typelib methods safer, for code that
// keeps calling them:
//  - group.spawn(name, func) and group.start_async(...): a synchronous
//    throw, or a rejection of a promise the function returns, fails the
//    task (GJS would only log it); the task still ends with
//    task.return_*() as in C;
//  - group.spawn_in_thread() throws instead of recording a success for a
//    function GJS never ran;
//  - task.return_error() takes any thrown value, not only a GLib.Error;
//  - task.get_value() hands back JS values GJS cannot put in a GValue
//    (arrays, class instances...), which the module stores boxed;
//  - wait_async, start_async, next_async (and Channel send/receive)
//    return promises when called without a callback (Gio._promisify).

import GLib from 'gi://GLib';
import Gio from 'gi://Gio';
import GObject from 'gi://GObject';
import Nursery from 'gi://Nursery?version=1.0';

const THREAD_MESSAGE = 'Nursery: GJS cannot run JavaScript on a worker thread, so ' +
    'spawn_in_thread() would record a success for a function that never ran. ' +
    'Use spawn() with an async function (Gio async calls keep the work off the ' +
    'main thread), or run the blocking work in a Gio.Subprocess.';

/**
 * The GLib.Error a task fails with when its function throws `thrown`:
 * a GLib.Error as it is, anything else as Nursery.Error.FAILED with the
 * message "Name: message" (what the Python binding does, R24).
 *
 * @param {*} thrown what the child threw or rejected with
 * @returns {GLib.Error}
 */
export function toError(thrown) {
    if (thrown instanceof GLib.Error)
        return thrown;
    // String(error) is "TypeError: message" (or the name alone if the
    // message is empty); a thrown non-Error is converted as it is.
    let message;
    try {
        message = String(thrown);
    } catch {
        // A Symbol converts, but an object whose toString throws does not.
        message = Object.prototype.toString.call(thrown);
    }
    return new GLib.Error(Nursery.Error, Nursery.Error.FAILED, message);
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

// Fails `task` with what it threw. If it already returned, nothing is
// left to fail: report the exception as GJS would have.
function fail(task, thrown) {
    if (returned.has(task)) {
        logError(thrown, `Nursery: task “${task.name}” threw after it returned`);
        return;
    }
    task.return_error(thrown);
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

function isThenable(value) {
    return value !== null && (typeof value === 'object' || typeof value === 'function') &&
        typeof value.then === 'function';
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

// The raw C semantics (the task ends with task.return_*()), except that
// what GJS would only log fails the task: a synchronous throw, or the
// rejection of a promise the function returned.
function guardRaw(func) {
    if (typeof func !== 'function')
        return func;   // let the typelib call refuse it as before
    return task => {
        try {
            const result = func(task);
            if (isThenable(result))
                result.then(undefined, e => fail(task, e));
        } catch (e) {
            fail(task, e);
        }
    };
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
 * Refuses: GJS cannot run a JS function on a worker thread.
 *
 * @throws {Error} always
 */
export function spawnInThread() {
    throw new Error(THREAD_MESSAGE);
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

// Holds a JS value GJS cannot put into a GValue (an array, a class
// instance, a BigInt...): the task keeps the box, and get_value() hands
// back the value itself. The box lives as long as C holds it, so the
// value does too.
function registerValueBox() {
    return GObject.registerClass({
        GTypeName: 'NurseryGjsValueBox',
    }, class NurseryGjsValueBox extends GObject.Object {
        _init(value) {
            super._init();
            this.value = value;
        }
    });
}

// Promisifies the async methods and makes the raw ones safe (see the top
// of this file). Returns what the functions above share.
function install() {
    // Task.wait_async with a callback, before it is promisified.
    const taskWait = Nursery.Task.prototype.wait_async;

    // gobject-introspection 1.74 has no finish-func annotation, so name
    // each pair. _promisify is idempotent: a program may do it too.
    Gio._promisify(Nursery.Group.prototype, 'wait_async', 'wait_finish');
    Gio._promisify(Nursery.Group.prototype, 'start_async', 'start_finish');
    Gio._promisify(Nursery.Group.prototype, 'next_async', 'next_finish');
    Gio._promisify(Nursery.Task.prototype, 'wait_async', 'wait_finish');
    if (Nursery.Channel) {
        Gio._promisify(Nursery.Channel.prototype, 'send_async', 'send_finish');
        Gio._promisify(Nursery.Channel.prototype, 'receive_async', 'receive_finish');
    }

    const group = Nursery.Group.prototype;
    const task = Nursery.Task.prototype;
    const shared = {
        // The methods as the typelib (and _promisify) made them.
        raw: {
            spawn: group.spawn,
            startAsync: group.start_async,
            returnError: task.return_error,
            getValue: task.get_value,
            taskWait,
        },
        // The tasks that returned through a JS call (any task.return_*()):
        // the module then leaves them alone, so a child that ended its
        // task itself gets no second return (C would refuse it with a
        // critical, R3). A task's wrapper stays the same object while a
        // child holds it, so a WeakSet of wrappers is enough.
        returned: new WeakSet(),
        ValueBox: registerValueBox(),
    };
    const {raw, returned, ValueBox} = shared;

    group.spawn = function (name, func) {
        return raw.spawn.call(this, name, guardRaw(func));
    };
    group.spawn_in_thread = spawnInThread;
    // raw.startAsync is the promisified method: both the callback and the
    // promise forms keep working.
    group.start_async = function (name, func, ...rest) {
        return raw.startAsync.call(this, name, guardRaw(func), ...rest);
    };
    task.return_error = function (error) {
        raw.returnError.call(this, toError(error));
        returned.add(this);
    };
    for (const name of ['return_value', 'return_boolean', 'return_int', 'return_pointer']) {
        const method = task[name];
        if (typeof method !== 'function')
            continue;
        task[name] = function (...args) {
            method.apply(this, args);
            returned.add(this);
        };
    }
    const returnErrorIfCancelled = task.return_error_if_cancelled;
    task.return_error_if_cancelled = function () {
        const cancelledAndReturned = returnErrorIfCancelled.call(this);
        if (cancelledAndReturned)
            returned.add(this);
        return cancelledAndReturned;
    };
    task.get_value = function () {
        const value = raw.getValue.call(this);
        return value instanceof ValueBox ? value.value : value;
    };
    return shared;
}

// Once per process: a second copy of this file (another path, another
// install) must not wrap the methods twice nor register the box type
// again, so it shares the first copy's state.
const STATE_KEY = Symbol.for('nursery-1 gjs module');
globalThis[STATE_KEY] ??= install();
const {raw, returned, ValueBox} = globalThis[STATE_KEY];
