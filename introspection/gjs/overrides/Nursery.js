// Nursery.js: GJS override for the Nursery namespace
//
// Copyright 2026 The Nursery authors
// SPDX-License-Identifier: LGPL-2.1-or-later
//
// Installed as <datadir>/gjs-1.0/overrides/Nursery.js. GJS runs _init()
// of an override (a legacy script, like its own GLib.js and Gio.js) the
// first time a program imports the namespace, `import Nursery from
// 'gi://Nursery'` or `imports.gi.Nursery`, looking in the gjs-1.0
// directory of every XDG data directory and in every GJS_PATH entry. So
// a program that uses the typelib alone gets these changes too (R2, R3,
// R24, docs/bindings.md):
//  - group.spawn(name, func) and group.start_async(...): a synchronous
//    throw, or the rejection of a promise the function returns, fails the
//    task with that error (GJS would only log it and the group would
//    never close). This covers task.return_new_error(): a varargs
//    function, it is not in the typelib, so calling it throws. The task
//    still ends with task.return_*() as in C;
//  - group.spawn_in_thread() throws Gio.IOErrorEnum.NOT_SUPPORTED: GJS
//    cannot run JS on a worker thread, so the child would "succeed"
//    without having run;
//  - task.return_error() takes any thrown value, not only a GLib.Error
//    (see toError());
//  - task.get_value() hands back the JS values the nursery.js module
//    stores boxed (arrays, class instances...);
//  - wait_async, start_async, next_async (and Channel send/receive)
//    return promises when called without a callback (Gio._promisify).
//
// The module nursery.js (spawn(), wait()... for async children) builds on
// the state this leaves at globalThis[Symbol.for('nursery-1 gjs module')]:
// the typelib's own methods, the tasks returned from JS, the box type and
// the helpers both need. The patches run once per process: a second copy
// of this file finds that state and changes nothing.

const {GLib, Gio, GObject} = imports.gi;

const STATE_KEY = Symbol.for('nursery-1 gjs module');

const THREAD_MESSAGE = 'Nursery: GJS cannot run JavaScript on a worker thread, so ' +
    'spawn_in_thread() would record a success for a function that never ran. ' +
    'Use spawn() with an async function (Gio async calls keep the work off the ' +
    'main thread), or run the blocking work in a Gio.Subprocess.';

// The GLib.Error a task fails with when its function throws `thrown`: a
// GLib.Error as it is, anything else as Nursery.Error.FAILED with the
// message "Name: message" (what the Python binding does, R24).
function makeToError(Nursery) {
    return function toError(thrown) {
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
    };
}

// What spawn_in_thread() throws: the error C's own refusal reports.
function threadError() {
    return new GLib.Error(Gio.IOErrorEnum, Gio.IOErrorEnum.NOT_SUPPORTED, THREAD_MESSAGE);
}

function isThenable(value) {
    return value !== null && (typeof value === 'object' || typeof value === 'function') &&
        typeof value.then === 'function';
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

// Promisifies the async methods. gobject-introspection 1.74 has no
// finish-func annotation, so each pair is named. _promisify is
// idempotent: a program may do it too.
function promisify(Nursery) {
    Gio._promisify(Nursery.Group.prototype, 'wait_async', 'wait_finish');
    Gio._promisify(Nursery.Group.prototype, 'start_async', 'start_finish');
    Gio._promisify(Nursery.Group.prototype, 'next_async', 'next_finish');
    Gio._promisify(Nursery.Task.prototype, 'wait_async', 'wait_finish');
    if (Nursery.Channel) {
        Gio._promisify(Nursery.Channel.prototype, 'send_async', 'send_finish');
        Gio._promisify(Nursery.Channel.prototype, 'receive_async', 'receive_finish');
    }
}

// The state nursery.js shares; `raw` holds the methods as the typelib
// (and _promisify) made them, before the patches below.
function makeState(Nursery, taskWait) {
    const group = Nursery.Group.prototype;
    const task = Nursery.Task.prototype;
    const state = {
        raw: {
            spawn: group.spawn,
            spawnInThread: group.spawn_in_thread,
            startAsync: group.start_async,
            returnError: task.return_error,
            getValue: task.get_value,
            taskWait,
        },
        // The tasks that returned through a JS call (any task.return_*()):
        // fail() then leaves them alone, so a child that ended its task
        // itself gets no second return (C would refuse it with a critical,
        // R3). A task's wrapper stays the same object while a child holds
        // it, so a WeakSet of wrappers is enough.
        returned: new WeakSet(),
        ValueBox: registerValueBox(),
        toError: makeToError(Nursery),
        threadError,
        isThenable,
    };

    // Fails `task` with what it threw. If it already returned, nothing
    // is left to fail: report the exception as GJS would have.
    state.fail = (failing, thrown) => {
        if (state.returned.has(failing)) {
            logError(thrown, `Nursery: task “${failing.name}” threw after it returned`);
            return;
        }
        failing.return_error(thrown);
    };

    // The raw C semantics (the task ends with task.return_*()), except
    // that what GJS would only log fails the task: a synchronous throw,
    // or the rejection of a promise the function returned.
    state.guardRaw = func => {
        if (typeof func !== 'function')
            return func;   // let the typelib call refuse it as before
        return child => {
            try {
                const result = func(child);
                if (isThenable(result))
                    result.then(undefined, e => state.fail(child, e));
            } catch (e) {
                state.fail(child, e);
            }
        };
    };
    return state;
}

function patchGroup(Nursery, state) {
    const {raw, guardRaw} = state;
    const group = Nursery.Group.prototype;

    group.spawn = function (name, func) {
        return raw.spawn.call(this, name, guardRaw(func));
    };
    group.spawn_in_thread = function () {
        throw threadError();
    };
    // raw.startAsync is the promisified method: both the callback and the
    // promise forms keep working.
    group.start_async = function (name, func, ...rest) {
        return raw.startAsync.call(this, name, guardRaw(func), ...rest);
    };
}

function patchTask(Nursery, state) {
    const {raw, returned, ValueBox, toError} = state;
    const task = Nursery.Task.prototype;

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
}

// Called by GJS with `this` the Nursery namespace, once per process; also
// called by nursery.js when GJS did not find this file (see there).
// `file` is where the state came from, for tests and debugging.
var _init = function () {
    if (globalThis[STATE_KEY])
        return;
    // Task.wait_async with a callback, before it is promisified.
    const taskWait = this.Task.prototype.wait_async;
    promisify(this);
    const state = makeState(this, taskWait);
    patchGroup(this, state);
    patchTask(this, state);
    // eslint-disable-next-line no-undef
    state.file = typeof __file__ === 'string' ? __file__ : null;
    globalThis[STATE_KEY] = state;
};
