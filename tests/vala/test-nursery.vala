/* test-nursery.vala: Nursery as a Vala program sees it, through the VAPI
 *
 * Copyright 2026 The Nursery authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Each case is an async method that spawns Vala lambdas, `yield`s the
 * group and checks what came back. A failed check is printed and counted;
 * the program exits non-zero if any check failed, or if a case threw an
 * error nobody expected. Output is TAP so `meson test` shows every check.
 */

int n_checks = 0;
int n_failed = 0;

void check (bool ok, string what) {
    n_checks++;
    if (!ok)
        n_failed++;
    print ("%s %d - %s\n", ok ? "ok" : "not ok", n_checks, what);
}

/* Captured by lambdas so a case can see that a lambda's closure (and what
 * it captured) was freed: that is the (scope notified) destroy notify
 * reaching Vala. Counted rather than weak-pointed: a weak pointer into an
 * async method's frame would dangle if the check failed. */
int tokens_alive = 0;

class Token : Object {
    construct {
        tokens_alive++;
    }

    ~Token () {
        tokens_alive--;
    }
}

/* A child written as an async method: it gives the main loop a turn
 * before returning, the way a real child yields to I/O. */
async void child_later (Nursery.Task task, int64 value) {
    Idle.add (child_later.callback);
    yield;
    task.return_int (value);
}

/* A child body that ends only when its task is cancelled. The handler may
 * run inside the group's cancel call (on any thread, in general), so the
 * return is deferred to the owner context instead of being made from the
 * handler; disconnecting there also breaks the task → cancellable →
 * handler → task reference cycle. */
void run_until_cancelled (Nursery.Task task) {
    var cancellable = task.get_cancellable ();
    ulong handler = 0;
    handler = cancellable.cancelled.connect (() => {
        Idle.add (() => {
            cancellable.disconnect (handler);
            task.return_error_if_cancelled ();
            return Source.REMOVE;
        });
    });
}

/* R2: a lambda child returns a value, the group joins with `yield`. */
async void test_lambda_child () throws Error {
    var group = new Nursery.Group ();
    var task = group.spawn ("answer", (task) => { task.return_int (42); });

    /* R1: spawning never runs the child inline. */
    check (task.get_state () == Nursery.TaskState.PENDING, "lambda child is pending right after spawn");

    var ok = yield group.wait_async (null);
    check (ok, "wait_async on a succeeding group returns true");
    check (task.get_state () == Nursery.TaskState.SUCCEEDED, "lambda child succeeded");
    check (task.get_int () == 42, "lambda child's int is 42");

    unowned Value? value = task.get_value ();
    check (value != null && value.holds (typeof (int64)) && value.get_int64 () == 42,
           "get_value() is a GValue holding int64 42");
    check (group.is_closed (), "group is closed after wait");
}

/* R1, R28: start_soon() adds a lambda child without a handle. */
async void test_start_soon () throws Error {
    var group = new Nursery.Group ();
    int64 seen = 0;

    check (group.start_soon ("no-handle", (task) => {
        seen = 7;
        task.return_int (seen);
    }), "start_soon returns true");
    check (seen == 0, "start_soon does not run the child inline");
    var ok = yield group.wait_async (null);
    check (ok && seen == 7 && group.get_n_succeeded () == 1, "the start_soon child ran and succeeded");
}

/* R1, R4: a runner runs each keyed child by its key, and gets the key of
 * a refused child back with a null task. */
async void test_runner () throws Error {
    var group = new Nursery.Group ();
    var calls = new GenericArray<string> ();
    var runner = new Nursery.Runner ((task, key) => {
        calls.add ("%s:%s".printf (task == null ? "drop" : "run", key.to_string ()));
        if (task != null)
            task.return_int ((int64) key);
    });

    var task = group.spawn_keyed ("keyed", runner, 5);
    check (calls.length == 0, "a keyed child does not run inline");
    yield group.wait_async (null);
    check (calls.length == 1 && calls[0] == "run:5" && task.get_int () == 5,
           "the keyed child ran by its key");

    var caught = false;
    try {
        group.start_soon_keyed (null, runner, 6);
    } catch (Nursery.Error.CLOSED e) {
        caught = true;
    }
    check (caught && calls.length == 2 && calls[1] == "drop:6",
           "a closed group refuses and hands the key back");
}

/* R4: a closed group refuses with Nursery.Error.CLOSED and frees the
 * child's closure at once. */
async void test_spawn_into_closed_group () throws Error {
    var group = new Nursery.Group ();
    yield group.wait_async (null);

    var before = tokens_alive;
    var caught = false;
    try {
        var token = new Token ();
        group.spawn ("late", (task) => { task.return_boolean (token != null); });
    } catch (Nursery.Error.CLOSED e) {
        caught = true;
        check (e.domain == Nursery.Error.quark (), "the error is in the Nursery domain");
    }
    check (caught, "spawn into a closed group throws Nursery.Error.CLOSED");
    /* The try block's scope has ended: only the closure could keep the
     * token alive now. */
    check (tokens_alive == before, "the refused lambda's closure was freed (destroy notify ran)");
}

/* R7, R8, R11: under fail-fast a child failure cancels its sibling and is
 * what wait throws, unchanged; it is also in get_errors(). */
async void test_child_failure () throws Error {
    var group = new Nursery.Group ();

    var sibling = group.spawn ("sibling", run_until_cancelled);
    group.spawn ("failing", (task) => {
        task.return_error (new IOError.PERMISSION_DENIED ("no entry"));
    });

    var caught = false;
    try {
        yield group.wait_async (null);
    } catch (IOError.PERMISSION_DENIED e) {
        caught = true;
        check (e.message == "no entry", "the child's error message is unchanged");
    }
    check (caught, "wait_async throws the child's IOError.PERMISSION_DENIED");
    check (sibling.get_state () == Nursery.TaskState.CANCELLED, "fail-fast cancelled the sibling");
    check (group.is_cancelled (), "the group is cancelled");

    var errors = group.get_errors ();
    check (errors.length == 1, "get_errors() has exactly the one failure");
    check (errors.length == 1 && errors[0].matches (IOError.quark (), IOError.PERMISSION_DENIED),
           "get_errors()[0] is IOError.PERMISSION_DENIED");
    check (group.n_failed == 1, "n-failed is 1");
}

/* R7: the owner's own cancel is quiet; a cancel from outside (here the
 * waiter's cancellable) ends with IOError.CANCELLED. */
async void test_cancelled_group () throws Error {
    var group = new Nursery.Group ();
    var task = group.spawn ("never-runs", (task) => { task.return_int (1); });
    group.cancel ();

    yield group.wait_async (null);
    /* R5: cancelled before its turn, so the function never ran. */
    check (task.get_state () == Nursery.TaskState.CANCELLED, "the queued child was cancelled");
    check (group.get_errors ().length == 0, "cancellation is not a failure");

    var outside = new Nursery.Group ();
    outside.spawn ("never-runs", (task) => { task.return_int (1); });
    var cancellable = new Cancellable ();
    cancellable.cancel ();
    var caught = false;
    try {
        yield outside.wait_async (cancellable);
    } catch (IOError.CANCELLED e) {
        caught = true;
    }
    check (caught, "wait_async with a cancelled cancellable throws IOError.CANCELLED");
}

/* Task.wait_async on an async child; the group is joined afterwards. */
async void test_task_wait () throws Error {
    var group = new Nursery.Group ();
    var task = group.spawn ("later", (task) => { child_later.begin (task, 7); });

    var ok = yield task.wait_async (null);
    check (ok && task.get_int () == 7, "Task.wait_async yields the async child's result");

    /* A failed task's own wait throws its error. */
    var failing = group.spawn ("failing", (task) => {
        task.return_error (new IOError.NOT_FOUND ("gone"));
    });
    var caught = false;
    try {
        yield failing.wait_async (null);
    } catch (IOError.NOT_FOUND e) {
        caught = true;
    }
    check (caught, "Task.wait_async throws the task's IOError.NOT_FOUND");

    try {
        yield group.wait_async (null);
    } catch (IOError.NOT_FOUND e) {
    }
    check (group.is_closed (), "the group closes after the failure");
}

/* R18: start_async completes at started() with its value; a child that
 * fails first gives its error to the caller, not to the group; one that
 * succeeds without started() is Nursery.Error.NOT_STARTED. */
async void test_start () throws Error {
    var group = new Nursery.Group ();
    Nursery.Task? server = null;

    Value ready;
    var task = yield group.start_async ("server", (task) => {
        server = task;
        task.started ("ready");
        /* Still running after started(): an ordinary child from now on. */
    }, null, out ready);
    check (task == server && task.get_state () == Nursery.TaskState.RUNNING,
           "start_async returns the running child");
    check (ready.holds (typeof (string)) && ready.get_string () == "ready",
           "start_async's out value is what the child passed to started()");

    var caught = false;
    try {
        Value unused;
        yield group.start_async ("early", (task) => {
            task.return_error (new IOError.BUSY ("busy"));
        }, null, out unused);
    } catch (IOError.BUSY e) {
        caught = true;
    }
    check (caught, "a child failing before started() throws its IOError.BUSY at the caller");

    caught = false;
    try {
        Value unused;
        yield group.start_async ("quiet", (task) => { task.return_int (1); }, null, out unused);
    } catch (Nursery.Error.NOT_STARTED e) {
        caught = true;
    }
    check (caught, "a child succeeding without started() throws Nursery.Error.NOT_STARTED");

    server.return_int (0);
    var ok = yield group.wait_async (null);
    check (ok && group.get_errors ().length == 0, "start failures are not the group's failures");
}

/* R13, R14: a group made inside a task is cancelled with that task;
 * cancelling one task is not a failure of its own group. */
async void test_nested_group () throws Error {
    var outer = new Nursery.Group ();
    Nursery.Group? inner = null;
    Nursery.Task? grandchild = null;

    var parent = outer.spawn ("parent", (task) => {
        inner = new Nursery.Group.for_task (task);
        /* A TaskFunc cannot throw: errors become the task's result. */
        try {
            grandchild = inner.spawn ("grandchild", (grandchild_task) => {
                run_until_cancelled (grandchild_task);
                /* Cancel the parent from inside the tree, once the
                 * grandchild is surely running: no timer needed. */
                task.cancel ();
            });
        } catch (Error e) {
            task.return_error (e);
            return;
        }
        /* The parent ends with whatever its own group ends with. */
        inner.wait_async.begin (null, (obj, res) => {
            try {
                inner.wait_async.end (res);
                task.return_boolean (true);
            } catch (Error e) {
                task.return_error (e);
            }
        });
    });

    var ok = yield outer.wait_async (null);
    check (ok, "cancelling one task is not a failure of its group");
    check (inner != null && inner.is_cancelled (), "the nested group was cancelled with its parent task");
    check (grandchild != null && grandchild.get_state () == Nursery.TaskState.CANCELLED,
           "the grandchild was cancelled");
    check (parent.get_state () == Nursery.TaskState.CANCELLED, "the parent task ended cancelled");
}

/* R2: lambdas on a worker thread; their closures are freed once they
 * have finished. */
async void test_thread_child () throws Error {
    var group = new Nursery.Group ();
    var before = tokens_alive;
    Nursery.Task returns;
    Nursery.Task silent;
    {
        var token = new Token ();
        returns = group.spawn_in_thread ("worker", (task) => {
            task.return_int (token != null && Thread.self<void*> () != main_thread ? 5 : -1);
        });
        /* Returns nothing: succeeds with no value. */
        silent = group.spawn_in_thread ("silent", (task) => { });
    }

    yield group.wait_async (null);
    check (returns.get_int () == 5, "the thread child ran on another thread and returned 5");
    check (silent.get_state () == Nursery.TaskState.SUCCEEDED && silent.get_value () == null,
           "a thread child that returns nothing succeeds with no value");
    check (tokens_alive == before, "thread children's closures were freed once the group closed");
}

/* Returns @value from an idle of priority Priority.LOW + n: a larger n
 * finishes later. The group's own work runs at default priority in
 * between, so the completion order is fixed without any timer. */
void return_after_idle (Nursery.Task task, int n, int64 value) {
    Idle.add_full (Priority.LOW + n, () => {
        task.return_int (value);
        return Source.REMOVE;
    });
}

/* Gives the main loop turns until @task has left PENDING: counted in
 * iterations, not time. */
async void until_running (Nursery.Task task) {
    while (task.get_state () == Nursery.TaskState.PENDING) {
        Idle.add (until_running.callback);
        yield;
    }
}

string task_names (GenericArray<Nursery.Task> tasks) {
    var names = new StringBuilder ();
    tasks.foreach ((task) => {
        names.append_printf ("%s%s", names.len > 0 ? "," : "", task.get_name ());
    });
    return names.str;
}

/* next_async: every child is handed over exactly once, in completion
 * order; the loop ends with null once the group is closed. */
async void test_next_completion_order () throws Error {
    var group = new Nursery.Group ();
    var signalled = new GenericArray<Nursery.Task> ();
    group.task_finished.connect ((task) => { signalled.add (task); });

    /* Spawned slowest first: completion order is the reverse of spawn order. */
    var slow = group.spawn ("slow", (task) => { return_after_idle (task, 6, 16); });
    var medium = group.spawn ("medium", (task) => { return_after_idle (task, 3, 13); });
    var fast = group.spawn ("fast", (task) => { return_after_idle (task, 0, 10); });

    var handed = new GenericArray<Nursery.Task> ();
    Nursery.Task? task;
    while ((task = yield group.next_async (null)) != null)
        handed.add (task);

    check (task_names (handed) == "fast,medium,slow",
           "next_async hands tasks over in completion order (got %s)".printf (task_names (handed)));
    check (handed.length == 3 && handed[0] == fast && handed[1] == medium && handed[2] == slow,
           "each spawned task object is handed over exactly once");
    check (handed.length == 3 && handed[0].get_int () == 10 && handed[1].get_int () == 13
           && handed[2].get_int () == 16,
           "every handed-over task has finished with its value");
    check (task == null && group.is_closed (), "the loop ends with null and the group is closed");
    check (task_names (signalled) == "fast,medium,slow", "task-finished agrees");
}

/* A cancelled next_async throws IOError.CANCELLED and takes no task: the
 * task goes to the next caller; neither the child nor the group is
 * cancelled. */
async void test_next_cancelled () throws Error {
    var group = new Nursery.Group ();
    var cancellable = new Cancellable ();
    var child = group.spawn ("only", (task) => { });

    var first_done = false;
    var first_cancelled = false;
    group.next_async.begin (cancellable, (obj, res) => {
        try {
            group.next_async.end (res);
        } catch (IOError.CANCELLED e) {
            first_cancelled = true;
        } catch (Error e) {
        }
        first_done = true;
    });
    Nursery.Task? second = null;
    group.next_async.begin (null, (obj, res) => {
        try {
            second = group.next_async.end (res);
        } catch (Error e) {
        }
        test_next_cancelled.callback ();
    });

    yield until_running (child);
    /* Cancel, then finish the child in the same turn: the finished task is
     * there when the cancelled call is answered, and must not go to it. */
    cancellable.cancel ();
    child.return_int (3);
    yield;

    check (first_done && first_cancelled, "a cancelled next_async throws IOError.CANCELLED");
    check (second == child, "the task went to the next caller instead");
    check (!child.is_cancelled () && !group.is_cancelled (),
           "cancelling next_async cancelled neither the child nor the group");
    check ((yield group.next_async (null)) == null && group.is_closed (), "then the loop ends with null");
}

/* list_tasks: a live ListModel of the unfinished tasks, in spawn order. */
async void test_list_tasks () throws Error {
    var group = new Nursery.Group ();
    var model = group.list_tasks ();
    check (model.get_item_type () == typeof (Nursery.Task), "list_tasks() is a ListModel of Nursery.Task");
    check (model.get_n_items () == 0, "a new group lists no task");

    uint added = 0;
    uint removed = 0;
    model.items_changed.connect ((position, n_removed, n_added) => {
        removed += n_removed;
        added += n_added;
    });

    var a = group.spawn ("a", (task) => { });
    var b = group.spawn ("b", (task) => { });
    var c = group.spawn ("c", (task) => { });
    check (model.get_n_items () == 0 && added == 0, "spawn does not change the model inline");

    yield until_running (c);
    check (model.get_n_items () == 3 && added == 3, "the three running children are listed");
    var second = model.get_item (1) as Nursery.Task;
    check (second == b, "in spawn order");

    b.return_int (2);
    yield b.wait_async (null);
    check (model.get_n_items () == 2 && removed == 1, "a finished child leaves the list");
    check (model.get_item (1) == c, "and the later ones move up");

    a.return_int (1);
    c.return_int (3);
    yield group.wait_async (null);
    check (model.get_n_items () == 0 && added == 3 && removed == 3,
           "the model is empty once the group is closed");
}

/* NurseryChannel carries GLib.Values. Vala boxes a basic value into a
 * Value wherever one is expected: `yield channel.send_async (7, null)`
 * sends a G_TYPE_INT (`(int64) 7` a G_TYPE_INT64, a string a
 * G_TYPE_STRING). The received Value is the last argument, after the
 * cancellable: `yield channel.receive_async (null, out value)`; read it
 * with a cast, `(int) value`, after `value.holds (typeof (int))`. On an
 * error the out Value is left unset. */
async void test_channel_try () throws Error {
    var channel = new Nursery.Channel (2);
    check (channel.capacity == 2 && channel.n_items == 0, "a new channel: capacity 2, no item");

    Value value;
    var caught = false;
    try {
        channel.try_receive (out value);
    } catch (IOError.WOULD_BLOCK e) {
        caught = true;
    }
    check (caught, "try_receive on an empty channel throws IOError.WOULD_BLOCK");

    check (channel.try_send (1) && channel.try_send ("two"), "try_send fills the buffer");
    caught = false;
    try {
        channel.try_send (3);
    } catch (IOError.WOULD_BLOCK e) {
        caught = true;
    }
    check (caught && channel.n_items == 2, "try_send on a full channel throws IOError.WOULD_BLOCK");

    check (channel.try_receive (out value) && value.holds (typeof (int)) && (int) value == 1,
           "try_receive gives the G_TYPE_INT 1 back");
    check (channel.try_receive (out value) && value.holds (typeof (string)) && (string) value == "two",
           "then the string, in order");
}

/* A child written as an async method: sends 0 .. n-1, then closes. Its
 * sends use the task's cancellable, so a cancelled group withdraws a send
 * that waits for room instead of waiting forever. */
async void produce (Nursery.Task task, Nursery.Channel channel, int n) {
    try {
        for (int i = 0; i < n; i++)
            yield channel.send_async (i, task.get_cancellable ());
        channel.close ();
        task.return_int (n);
    } catch (Error e) {
        task.return_error (e);
    }
}

/* Receives until the channel is closed and drained; the task's value is
 * how many items arrived in order. Anything else is the task's error. */
async void consume (Nursery.Task task, Nursery.Channel channel) {
    int next = 0;
    try {
        while (true) {
            Value value;
            yield channel.receive_async (task.get_cancellable (), out value);
            if (!value.holds (typeof (int)) || (int) value != next) {
                task.return_error (new IOError.INVALID_DATA ("got %s, expected %d",
                                                             value.strdup_contents (), next));
                return;
            }
            next++;
        }
    } catch (Nursery.Error.CLOSED e) {
        task.return_int (next);
    } catch (Error e) {
        task.return_error (e);
    }
}

/* A producer child and a consumer child through a capacity-2 channel:
 * 1000 items, in order, nothing lost; the consumer ends at CLOSED. */
async void test_channel_pipeline () throws Error {
    var group = new Nursery.Group ();
    var channel = new Nursery.Channel (2);

    var producer = group.spawn ("producer", (task) => { produce.begin (task, channel, 1000); });
    var consumer = group.spawn ("consumer", (task) => { consume.begin (task, channel); });

    var ok = yield group.wait_async (null);
    check (ok && producer.get_int () == 1000, "the producer sent 1000 items and closed the channel");
    check (consumer.get_int () == 1000,
           "the consumer received 0..999 in order, then Nursery.Error.CLOSED (got %lld)".printf (consumer.get_int ()));
}

/* close(): buffered items are still received, in order; then receives,
 * sends and waiting receivers are refused with Nursery.Error.CLOSED. */
async void test_channel_close () throws Error {
    var channel = new Nursery.Channel (2);
    yield channel.send_async ("a", null);
    yield channel.send_async ("b", null);
    channel.close ();
    check (channel.is_closed () && channel.n_items == 2, "a closed channel keeps its buffered items");

    var caught = false;
    try {
        yield channel.send_async ("c", null);
    } catch (Nursery.Error.CLOSED e) {
        caught = true;
    }
    check (caught, "send_async after close() throws Nursery.Error.CLOSED");

    Value a;
    Value b;
    yield channel.receive_async (null, out a);
    yield channel.receive_async (null, out b);
    check (a.holds (typeof (string)) && (string) a == "a" && b.holds (typeof (string)) && (string) b == "b",
           "receivers drain the closed channel in order");

    caught = false;
    try {
        Value none;
        yield channel.receive_async (null, out none);
    } catch (Nursery.Error.CLOSED e) {
        caught = true;
    }
    check (caught, "then receive_async throws Nursery.Error.CLOSED");

    /* A receiver already waiting when the channel closes is refused too. */
    var empty = new Nursery.Channel (0);
    caught = false;
    empty.receive_async.begin (null, (obj, res) => {
        try {
            Value none;
            empty.receive_async.end (res, out none);
        } catch (Nursery.Error.CLOSED e) {
            caught = true;
        } catch (Error e) {
        }
        test_channel_close.callback ();
    });
    empty.close ();
    yield;
    check (caught, "close() refuses a waiting receiver with Nursery.Error.CLOSED");
}

unowned Thread<void*> main_thread;

/* Each case in its own try, so one case's unexpected error is reported
 * as a failed check and the others still run. */
async void run_all () {
    try {
        yield test_lambda_child ();
    } catch (Error e) {
        check (false, "lambda child: unexpected error: " + e.message);
    }
    try {
        yield test_start_soon ();
    } catch (Error e) {
        check (false, "start_soon: unexpected error: " + e.message);
    }
    try {
        yield test_runner ();
    } catch (Error e) {
        check (false, "runner: unexpected error: " + e.message);
    }
    try {
        yield test_spawn_into_closed_group ();
    } catch (Error e) {
        check (false, "closed group: unexpected error: " + e.message);
    }
    try {
        yield test_child_failure ();
    } catch (Error e) {
        check (false, "child failure: unexpected error: " + e.message);
    }
    try {
        yield test_cancelled_group ();
    } catch (Error e) {
        check (false, "cancelled group: unexpected error: " + e.message);
    }
    try {
        yield test_task_wait ();
    } catch (Error e) {
        check (false, "task wait: unexpected error: " + e.message);
    }
    try {
        yield test_start ();
    } catch (Error e) {
        check (false, "start: unexpected error: " + e.message);
    }
    try {
        yield test_nested_group ();
    } catch (Error e) {
        check (false, "nested group: unexpected error: " + e.message);
    }
    try {
        yield test_thread_child ();
    } catch (Error e) {
        check (false, "thread child: unexpected error: " + e.message);
    }
    try {
        yield test_next_completion_order ();
    } catch (Error e) {
        check (false, "next completion order: unexpected error: " + e.message);
    }
    try {
        yield test_next_cancelled ();
    } catch (Error e) {
        check (false, "next cancelled: unexpected error: " + e.message);
    }
    try {
        yield test_list_tasks ();
    } catch (Error e) {
        check (false, "list tasks: unexpected error: " + e.message);
    }
    try {
        yield test_channel_try ();
    } catch (Error e) {
        check (false, "channel try: unexpected error: " + e.message);
    }
    try {
        yield test_channel_pipeline ();
    } catch (Error e) {
        check (false, "channel pipeline: unexpected error: " + e.message);
    }
    try {
        yield test_channel_close ();
    } catch (Error e) {
        check (false, "channel close: unexpected error: " + e.message);
    }
}

int main () {
    main_thread = Thread.self<void*> ();
    var loop = new MainLoop ();
    /* A failure guard, not synchronisation: every case finishes in
     * milliseconds, but a group or channel that never completes would
     * otherwise leave the program waiting for meson's timeout. */
    Timeout.add_seconds (20, () => {
        print ("Bail out! still running after 20 s: something never completed\n");
        Process.exit (1);
    });
    run_all.begin ((obj, res) => {
        run_all.end (res);
        loop.quit ();
    });
    loop.run ();

    /* TAP plan last: a crash before this line leaves the plan missing,
     * which meson reports as a failure. */
    print ("1..%d\n", n_checks);
    return n_failed == 0 ? 0 : 1;
}
