// test-nursery.js: Nursery as a GJS program sees it, through the typelib
//
// Copyright 2026 The Nursery authors
// SPDX-License-Identifier: LGPL-2.1-or-later
//
// Run as an ES module: `gjs -m test-nursery.js`. Each case is an async
// function whose children are JS functions, joined with `await`. Only
// in-context children (spawn, not spawn_in_thread): GJS refuses to run JS
// on another thread. This file uses the typelib alone, as a program that
// does not import Nursery's GJS module; test-children.js tests the module
// (introspection/gjs/nursery.js). Output is TAP; the exit status is
// non-zero if any check failed or a case threw something unexpected.

import GLib from 'gi://GLib';
import Gio from 'gi://Gio';
import GObject from 'gi://GObject';
import Nursery from 'gi://Nursery?version=1.0';
import {check, isError, nextIteration, runCases} from './tap.js';

// gobject-introspection 1.74 has no finish-func annotation: _promisify
// pairs wait_async with wait_finish by the name we give it.
Gio._promisify(Nursery.Group.prototype, 'wait_async', 'wait_finish');
Gio._promisify(Nursery.Group.prototype, 'start_async', 'start_finish');
Gio._promisify(Nursery.Task.prototype, 'wait_async', 'wait_finish');
Gio._promisify(Nursery.Group.prototype, 'next_async', 'next_finish');
// receive_finish returns (true, value): _promisify drops a leading `true`
// from such an array, so `await channel.receive_async(null)` resolves to
// `[value]`, while try_receive() (not promisified) returns `[true, value]`.
Gio._promisify(Nursery.Channel.prototype, 'send_async', 'send_finish');
Gio._promisify(Nursery.Channel.prototype, 'receive_async', 'receive_finish');

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

// Resolves once `task` has left PENDING: counted in iterations, not time.
async function untilRunning(task) {
    while (task.get_state() === Nursery.TaskState.PENDING)
        await nextIteration();
}

// A child body that returns `value` from an idle of priority
// GLib.PRIORITY_LOW + n: a larger n finishes later. The group's own work
// runs at default priority in between, so the completion order is fixed
// without any timer.
function returnAfterIdle(n, value) {
    return task => {
        GLib.idle_add(GLib.PRIORITY_LOW + n, () => {
            task.return_int(value);
            return GLib.SOURCE_REMOVE;
        });
    };
}

// A child body written as an async function. Whatever it throws becomes
// the task's error: a JS exception inside a child is otherwise only
// logged, and the group would never close (see the watchdog).
function asyncChild(body) {
    return task => {
        body(task).catch(e => {
            task.return_error(e instanceof GLib.Error ? e
                : new GLib.Error(Gio.IOErrorEnum, Gio.IOErrorEnum.FAILED, `${e}`));
        });
    };
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

// R1, R2: JS children return values; the group is joined with await.
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

// R1, R21, R28: start_soon() from JavaScript: no handle, spawn order with
// spawn()'s children, and task-finished still hands over a task.
async function testStartSoon() {
    const group = new Nursery.Group();
    const order = [];
    const heard = [];
    group.connect('task-finished', (_group, task) => heard.push(task.get_name()));
    const added = group.start_soon('first', task => {
        order.push('first');
        task.return_boolean(true);
    });
    group.spawn('second', task => {
        order.push('second');
        task.return_boolean(true);
    });
    check(added === true && order.length === 0, 'start_soon returns true and runs nothing inline');
    check(await group.wait_async(null) === true, 'wait_async resolves');
    check(order.join() === 'first,second', `spawn order across both calls (got ${order})`);
    check(heard.join() === 'first,second' && group.n_succeeded === 2,
        `task-finished heard each child (got ${heard})`);
}

// R1, R5: a runner from JavaScript runs each keyed child by its key, and
// gets the key of a child that never runs back with a null task.
async function testRunner() {
    const group = new Nursery.Group();
    const calls = [];
    const runner = Nursery.Runner.new((task, key) => {
        calls.push(task === null ? `drop:${key}` : `run:${key}`);
        if (task !== null)
            task.return_int(key);
    });
    const task = group.spawn_keyed('keyed', runner, 5);
    check(group.start_soon_keyed(null, runner, 6) === true, 'start_soon_keyed returns true');
    check(calls.length === 0, 'keyed children do not run inline');
    check(await group.wait_async(null) === true, 'wait_async resolves');
    check(calls.join() === 'run:5,run:6' && task.get_int() === 5,
        `keyed children ran by key (got ${calls})`);

    const cancelled = new Nursery.Group();
    cancelled.cancel();
    cancelled.start_soon_keyed(null, runner, 7);
    await cancelled.wait_async(null);
    check(calls.join() === 'run:5,run:6,drop:7', `an unstarted key came back (got ${calls})`);
}

// R2, R24: the typelib alone (no nursery.js) refuses a JavaScript thread
// child at the call: GJS could not run it on a worker, and the child
// would have succeeded without running. (The override refuses it before
// C does, with the same error; test-override.js checks C's own refusal.)
async function testSpawnInThreadRefused() {
    const group = new Nursery.Group();
    let ran = false;
    let error = null;
    try {
        group.spawn_in_thread('thread', task => {
            ran = true;
            task.return_int(1);
        });
    } catch (e) {
        error = e;
    }
    check(isError(error, Gio.IOErrorEnum, Gio.IOErrorEnum.NOT_SUPPORTED) && /worker thread/.test(error.message),
        `spawn_in_thread throws IOErrorEnum.NOT_SUPPORTED that says why (got ${error})`);
    check(await group.wait_async(null) === true && !ran && group.get_n_spawned() === 0,
        'no child was made, and the function never ran');
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

// R5, R7: the owner's own cancel is quiet and the queued child never
// runs; a cancel from outside (the waiter's cancellable) rejects with
// CANCELLED.
async function testCancelledGroup() {
    const group = new Nursery.Group();
    let ran = false;
    const task = group.spawn('never-runs', t => {
        ran = true;
        t.return_int(1);
    });
    group.cancel();

    check(await group.wait_async(null) === true, 'own cancel(): wait_async resolves');
    check(!ran && task.get_state() === Nursery.TaskState.CANCELLED,
        'the queued child was cancelled without running');
    check(group.get_errors().length === 0, 'cancellation is not a failure');

    const outside = new Nursery.Group();
    outside.spawn('never-runs', t => t.return_int(1));
    const cancellable = new Gio.Cancellable();
    cancellable.cancel();
    const error = await rejection(outside.wait_async(cancellable));
    check(isError(error, Gio.IOErrorEnum, Gio.IOErrorEnum.CANCELLED),
        `wait_async with a cancelled cancellable rejects with CANCELLED (got ${error})`);
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

// next_async: every child is handed over exactly once, in completion
// order, and the loop ends with null once the group is closed.
async function testNextCompletionOrder() {
    const group = new Nursery.Group();
    const signalled = [];
    group.connect('task-finished', (_group, task) => signalled.push(task.name));

    // Spawned slowest first: completion order is the reverse of spawn order.
    const spawned = new Map();
    for (const [name, n] of [['slow', 6], ['medium', 3], ['fast', 0]])
        spawned.set(name, group.spawn(name, returnAfterIdle(n, 10 + n)));

    const handed = [];
    let task;
    while ((task = await group.next_async(null)) !== null)
        handed.push(task);

    check(handed.map(t => t.name).join() === 'fast,medium,slow',
        `next_async hands tasks over in completion order (got ${handed.map(t => t.name)})`);
    check(handed.length === 3 && new Set(handed).size === 3 &&
        handed.every(t => t === spawned.get(t.name)),
    'each spawned task object is handed over exactly once');
    check(handed.every(t => t.get_state() === Nursery.TaskState.SUCCEEDED),
        'every handed-over task has finished');
    check(handed.map(t => t.get_int()).join() === '10,13,16', 'and carries its value');
    check(task === null && group.is_closed() && group.state === Nursery.GroupState.CLOSED,
        'the loop ends with null and the group is closed');
    check(signalled.join() === 'fast,medium,slow', `task-finished agrees (got ${signalled})`);
    check(await group.next_async(null) === null, 'next_async on the closed group resolves to null again');
}

// next_async does not throw a child's failure: it hands over the failed
// task (its error is on the task and in get_errors()), and under
// fail-fast the cancelled sibling follows.
async function testNextHandsOverFailures() {
    const group = new Nursery.Group();
    group.spawn('sibling', runUntilCancelled);
    group.spawn('failing', task => {
        task.return_error(new GLib.Error(Gio.IOErrorEnum, Gio.IOErrorEnum.NOT_FOUND, 'gone'));
    });

    const handed = [];
    let task;
    while ((task = await group.next_async(null)) !== null)
        handed.push(task);

    check(handed.map(t => t.name).join() === 'failing,sibling',
        `the failed task first, then its cancelled sibling (got ${handed.map(t => t.name)})`);
    check(handed[0]?.get_state() === Nursery.TaskState.FAILED &&
        isError(handed[0].get_error(), Gio.IOErrorEnum, Gio.IOErrorEnum.NOT_FOUND),
    'the failed task carries its NOT_FOUND');
    check(handed[1]?.get_state() === Nursery.TaskState.CANCELLED, 'fail-fast cancelled the sibling');
    check(group.get_errors().length === 1 && group.is_closed(),
        'the failure is in get_errors() of the closed group');
}

// A cancelled next_async rejects with CANCELLED and takes no task: the
// task goes to the next caller, and neither the child nor the group is
// cancelled.
async function testNextCancelled() {
    const group = new Nursery.Group();
    const cancellable = new Gio.Cancellable();
    const child = group.spawn('only', () => {});

    const first = rejection(group.next_async(cancellable));
    const second = group.next_async(null);
    await untilRunning(child);
    // Cancel, then finish the child in the same turn: the finished task
    // is there when the cancelled call is answered, and must not go to it.
    cancellable.cancel();
    child.return_int(3);

    const error = await first;
    check(isError(error, Gio.IOErrorEnum, Gio.IOErrorEnum.CANCELLED),
        `a cancelled next_async rejects with Gio.IOErrorEnum.CANCELLED (got ${error})`);
    check(await second === child, 'the task went to the next caller instead');
    check(child.get_int() === 3 && !child.is_cancelled() && !group.is_cancelled(),
        'cancelling next_async cancelled neither the child nor the group');
    check(await group.next_async(null) === null && group.is_closed(), 'then the loop ends with null');
}

// list_tasks: a Gio.ListModel of the unfinished tasks, in spawn order,
// kept up to date with items-changed on the owner context.
async function testListTasks() {
    const group = new Nursery.Group();
    const model = group.list_tasks();
    check(model instanceof Gio.ListModel && model.get_item_type() === Nursery.Task.$gtype,
        'list_tasks() is a Gio.ListModel of Nursery.Task');
    check(model.get_n_items() === 0, 'a new group lists no task');

    // Replays every items-changed onto a plain array: if the signals are
    // right, the array always equals the model.
    const mirror = [];
    const changes = [];
    model.connect('items-changed', (m, position, removed, added) => {
        changes.push([position, removed, added]);
        const items = [];
        for (let i = position; i < position + added; i++)
            items.push(m.get_item(i));
        mirror.splice(position, removed, ...items);
    });
    const items = () => Array.from({length: model.get_n_items()}, (_, i) => model.get_item(i));
    const mirrored = () => items().length === mirror.length && items().every((t, i) => t === mirror[i]);

    // Children that run until the test returns them.
    const [a, b, c] = ['a', 'b', 'c'].map(name => group.spawn(name, () => {}));
    check(changes.length === 0 && model.get_n_items() === 0, 'spawn does not change the model inline');

    await untilRunning(c);
    check(items().map(t => t.name).join() === 'a,b,c' && items()[1] === b,
        `the running children are listed in spawn order (got ${items().map(t => t.name)})`);
    check(model.get_item(3) === null, 'get_item past the end is null');
    check(mirrored() && changes.every(([, removed]) => removed === 0),
        'items-changed announced the three additions');

    const before = changes.length;
    b.return_int(2);
    await b.wait_async(null);
    check(items().map(t => t.name).join() === 'a,c', 'a finished child leaves the list');
    check(changes.length === before + 1 && changes[before].join() === '1,1,0',
        `with one items-changed (1, 1, 0) (got ${changes.slice(before).map(ch => `(${ch})`)})`);

    a.return_int(1);
    c.return_int(3);
    check(await group.wait_async(null) === true && model.get_n_items() === 0 && mirrored(),
        'the model is empty once the group is closed');
    const totals = changes.reduce(([r, ad], [, removed, added]) => [r + removed, ad + added], [0, 0]);
    check(totals.join() === '3,3', `3 additions and 3 removals in all (got ${totals})`);
}

// NurseryChannel carries GValues. GJS 1.74 packs a plain JS value into a
// GValue in-argument by guessing its type: an int32-valued number is
// G_TYPE_INT (so 7.0 too), any other number G_TYPE_DOUBLE, a string
// G_TYPE_STRING, a boolean G_TYPE_BOOLEAN, a GObject its own type, null a
// NULL G_TYPE_POINTER. For a fixed type (gint64, guint, ...) pass a
// GObject.Value: `const v = new GObject.Value(); v.init(GObject.TYPE_INT64);
// v.set_int64(n); channel.try_send(v)`. Received GValues come back as
// plain JS values (no GObject.Value): numbers, strings, booleans, the same
// wrapper object, null.
async function testChannelTry() {
    const channel = Nursery.Channel.new(2);
    check(channel.capacity === 2 && channel.get_n_items() === 0, 'a new channel: capacity 2, no item');

    let error = null;
    try {
        channel.try_receive();
    } catch (e) {
        error = e;
    }
    check(isError(error, Gio.IOErrorEnum, Gio.IOErrorEnum.WOULD_BLOCK),
        `try_receive on an empty channel throws WOULD_BLOCK (got ${error})`);

    check(channel.try_send(1) === true && channel.try_send('two') === true, 'try_send fills the buffer');
    error = null;
    try {
        channel.try_send(3);
    } catch (e) {
        error = e;
    }
    check(isError(error, Gio.IOErrorEnum, Gio.IOErrorEnum.WOULD_BLOCK),
        `try_send on a full channel throws WOULD_BLOCK (got ${error})`);
    check(channel.n_items === 2, 'the refused item was not added');

    const [ok, first] = channel.try_receive();
    check(ok === true && first === 1, `try_receive returns [true, 1] (got [${ok}, ${first}])`);
    check(channel.try_receive()[1] === 'two', 'then the string, in order');

    // Round trips through the channel, one kind of value each.
    const cancellable = new Gio.Cancellable();
    const int64 = new GObject.Value();
    int64.init(GObject.TYPE_INT64);
    int64.set_int64(2 ** 53 - 1);
    const trip = value => {
        channel.try_send(value);
        return channel.try_receive()[1];
    };
    check(trip(-7) === -7 && trip(2.5) === 2.5 && trip(2 ** 40) === 2 ** 40,
        'JS numbers come back as the same numbers');
    check(trip(false) === false && trip('') === '' && trip(null) === null,
        'booleans, strings and null come back unchanged');
    check(trip(cancellable) === cancellable, 'a GObject comes back as the same wrapper');
    check(trip(int64) === 2 ** 53 - 1, 'a GObject.Value of gint64 comes back as a JS number');
    check(channel.n_items === 0, 'nothing was left behind');
}

// A cancelled receive rejects with CANCELLED and consumes nothing: the
// item goes to the next receiver.
async function testChannelCancelledReceive() {
    const channel = Nursery.Channel.new(1);
    const cancellable = new Gio.Cancellable();

    const first = rejection(channel.receive_async(cancellable));
    const second = channel.receive_async(null);
    cancellable.cancel();
    channel.try_send(5);

    const error = await first;
    check(isError(error, Gio.IOErrorEnum, Gio.IOErrorEnum.CANCELLED),
        `a cancelled receive_async rejects with CANCELLED (got ${error})`);
    const [value] = await second;
    check(value === 5 && channel.n_items === 0, 'the item went to the next receiver');
}

// close(): waiting receivers and new sends are refused with
// Nursery.Error.CLOSED; buffered items are still received, in order,
// then receives are refused too.
async function testChannelClose() {
    const waiting = Nursery.Channel.new(0);
    const receivers = [rejection(waiting.receive_async(null)), rejection(waiting.receive_async(null))];
    waiting.close();
    const refused = await Promise.all(receivers);
    check(refused.every(e => isError(e, Nursery.Error, Nursery.Error.CLOSED)),
        `close() refuses the waiting receivers with Nursery.Error.CLOSED (got ${refused})`);

    const channel = Nursery.Channel.new(2);
    await channel.send_async('a', null);
    await channel.send_async('b', null);
    channel.close();
    check(channel.is_closed() && channel.closed && channel.n_items === 2,
        'a closed channel keeps its buffered items');

    const sent = await rejection(channel.send_async('c', null));
    check(isError(sent, Nursery.Error, Nursery.Error.CLOSED),
        `send_async after close() rejects with CLOSED (got ${sent})`);
    let error = null;
    try {
        channel.try_send('d');
    } catch (e) {
        error = e;
    }
    check(isError(error, Nursery.Error, Nursery.Error.CLOSED), `so does try_send (got ${error})`);

    const [a] = await channel.receive_async(null);
    const [b] = await channel.receive_async(null);
    check(a === 'a' && b === 'b', `receivers drain the closed channel in order (got ${a}, ${b})`);
    const drained = await rejection(channel.receive_async(null));
    check(isError(drained, Nursery.Error, Nursery.Error.CLOSED),
        `then receive_async rejects with Nursery.Error.CLOSED (got ${drained})`);
    error = null;
    try {
        channel.try_receive();
    } catch (e) {
        error = e;
    }
    check(isError(error, Nursery.Error, Nursery.Error.CLOSED), `and try_receive throws CLOSED (got ${error})`);
}

// A producer child and a consumer child, both JS, through a capacity-2
// channel: 1000 items, nothing lost, nothing twice, order kept; the
// producer closes the channel, the consumer drains it and stops at CLOSED.
// Both pass their task's cancellable, so if one of them fails the other's
// pending send or receive is withdrawn and the group still closes.
async function testChannelPipeline() {
    const N = 1000;
    const group = new Nursery.Group();
    const channel = Nursery.Channel.new(2);
    const received = [];
    let maxBuffered = 0;
    let sendResults = 0;
    let endError = null;

    group.spawn('producer', asyncChild(async task => {
        for (let i = 0; i < N; i++) {
            if (await channel.send_async(i, task.get_cancellable()) === true)
                sendResults++;
        }
        channel.close();
        task.return_int(N);
    }));
    const consumer = group.spawn('consumer', asyncChild(async task => {
        for (;;) {
            let value;
            try {
                [value] = await channel.receive_async(task.get_cancellable());
            } catch (e) {
                endError = e;
                break;
            }
            maxBuffered = Math.max(maxBuffered, channel.n_items);
            received.push(value);
        }
        task.return_int(received.length);
    }));

    check(await group.wait_async(null) === true, 'producer and consumer both succeeded');
    check(sendResults === N, `every send_async resolved to true (${sendResults} of ${N})`);
    check(received.length === N && received.every((v, i) => v === i),
        `the consumer got 0..${N - 1} in order as JS numbers (got ${received.length} items)`);
    check(consumer.get_int() === N, `the consumer child returned ${N}`);
    check(isError(endError, Nursery.Error, Nursery.Error.CLOSED),
        `the drained channel ended the consumer with Nursery.Error.CLOSED (got ${endError})`);
    check(maxBuffered <= 2, `never more than the capacity buffered (max ${maxBuffered})`);
}

// Each case gets this long: a case that runs out (a group that never
// closed, a child that never returned) is a failed check, and the other
// cases still run. Every case takes milliseconds.
const CASE_SECONDS = 10;

const cases = [
    testJsChildren,
    testStartSoon,
    testRunner,
    testSpawnInThreadRefused,
    testSpawnIntoClosedGroup,
    testChildFailure,
    testCancelledGroup,
    testTaskWait,
    testStart,
    testNestedGroup,
    testNextCompletionOrder,
    testNextHandsOverFailures,
    testNextCancelled,
    testListTasks,
    testChannelTry,
    testChannelCancelledReceive,
    testChannelClose,
    testChannelPipeline,
];

runCases(cases, CASE_SECONDS);
