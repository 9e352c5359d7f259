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

/* DESIGN R2: a lambda child returns a value, the group joins with `yield`. */
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

/* R7: a cancelled group with no failure ends with IOError.CANCELLED. */
async void test_cancelled_group () throws Error {
    var group = new Nursery.Group ();
    var task = group.spawn ("never-runs", (task) => { task.return_int (1); });
    group.cancel ();

    var caught = false;
    try {
        yield group.wait_async (null);
    } catch (IOError.CANCELLED e) {
        caught = true;
    }
    check (caught, "wait_async on a cancelled group throws IOError.CANCELLED");
    /* R5: cancelled before its turn, so the function never ran. */
    check (task.get_state () == Nursery.TaskState.CANCELLED, "the queued child was cancelled");
    check (group.get_errors ().length == 0, "cancellation is not a failure");
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
}

int main () {
    main_thread = Thread.self<void*> ();
    var loop = new MainLoop ();
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
