// hash-tree.js: hash-tree.c in GJS (run it as a module: gjs -m hash-tree.js DIR)
//
// Copyright 2026 The Nursery authors
// SPDX-License-Identifier: LGPL-2.1-or-later
//
// The SHA-256 of every file under a directory, printed like
//   find DIR -type f | LC_ALL=C sort | xargs sha256sum
//
// What it shows (the same job as examples/hash-tree.c):
//  - in-context children only: GJS runs JS on its main thread alone, so
//    instead of one thread per file each child is an async function that
//    reads its file with Gio's async calls (the task's cancellable on
//    each) and feeds a GLib.Checksum block by block; at most --jobs of
//    them run at once (the group's max_concurrent);
//  - Nursery's GJS module (introspection/gjs/nursery.js, installed as
//    <datadir>/nursery-1/gjs/nursery.js): the digest an async child
//    returns is its task's value, and what it throws fails the task;
//  - a timeout per file: the child calls task.set_timeout() as it starts
//    (it runs on the owner context, where deadlines belong);
//  - the supervise policy, `await NurseryJS.wait(group)` and each task's
//    own outcome: value, error, or cancelled;
//  - a live progress line on stderr, driven by notify on the group's
//    n-finished, n-running and n-failed properties;
//  - Ctrl-C: group.cancel_on_unix_signal(SIGINT) cancels the group; the
//    pending reads fail with CANCELLED, queued files never start, and the
//    program prints what it has, a summary, and exits with 130.
//
// Usage: gjs -m hash-tree.js [--jobs N] [--timeout SECONDS] [--slow MS] DIR
// Exit status: 0 all hashed, 1 something failed, 2 bad usage, 130 interrupted.

import GLib from 'gi://GLib';
import Gio from 'gi://Gio';
import Nursery from 'gi://Nursery?version=1.0';
import System from 'system';
// From the source tree; an installed program imports it by URI, e.g.
// 'file:///usr/share/nursery-1/gjs/nursery.js' (docs/bindings.md).
import * as NurseryJS from '../introspection/gjs/nursery.js';

const BLOCK_SIZE = 64 * 1024;
const PROGRESS_LOG_INTERVAL_US = 200 * 1000;
const SIGINT = 2;

// gobject-introspection 1.74 has no finish-func annotation: _promisify
// pairs each _async with its _finish by the name we give it.
Gio._promisify(Gio.File.prototype, 'read_async', 'read_finish');
Gio._promisify(Gio.InputStream.prototype, 'read_bytes_async', 'read_bytes_finish');

function usage() {
    printerr('Usage: gjs -m hash-tree.js [--jobs N] [--timeout SECONDS] [--slow MS] DIR');
    System.exit(2);
}

function parseArgs(argv) {
    const options = {jobs: 4, timeout: 60, slow: 0, dir: null};
    const names = {'-j': 'jobs', '--jobs': 'jobs', '-t': 'timeout', '--timeout': 'timeout', '--slow': 'slow'};
    for (let i = 0; i < argv.length; i++) {
        const name = names[argv[i]];
        if (name && i + 1 < argv.length)
            options[name] = Number(argv[++i]);
        else if (!argv[i].startsWith('-') && options.dir === null)
            options.dir = argv[i];
        else
            usage();
    }
    if (options.dir === null || !(options.jobs >= 1) || !(options.timeout >= 0) || !(options.slow >= 0))
        usage();
    return options;
}

// Walking the tree: the regular files under `path`, like `find -type f`
// (symbolic links, pipes and devices are neither followed nor read). It
// runs before any child; an early Ctrl-C is kept by the group's signal
// source and cancels the group as soon as the walk is over.
function walk(dir, path, paths, errors) {
    let children;
    try {
        children = dir.enumerate_children('standard::name,standard::type',
            Gio.FileQueryInfoFlags.NOFOLLOW_SYMLINKS, null);
        let info;
        while ((info = children.next_file(null)) !== null) {
            const childPath = GLib.build_filenamev([path, info.get_name()]);
            const type = info.get_file_type();
            if (type === Gio.FileType.DIRECTORY)
                walk(dir.get_child(info.get_name()), childPath, paths, errors);
            else if (type === Gio.FileType.REGULAR)
                paths.push(childPath);
        }
    } catch (e) {
        errors.push(`${path}: ${e.message}`);
    }
}

// Byte order of the UTF-8 paths, as `LC_ALL=C sort` orders them (JS's
// own string order is UTF-16's, which differs for some characters).
const encoder = new TextEncoder();
function compareBytes(a, b) {
    const x = encoder.encode(a), y = encoder.encode(b);
    for (let i = 0; i < Math.min(x.length, y.length); i++) {
        if (x[i] !== y[i])
            return x[i] - y[i];
    }
    return x.length - y.length;
}

// --slow: waits `ms`, or less if `cancellable` is cancelled meanwhile.
function pause(ms, cancellable) {
    return new Promise(resolve => {
        // Gio.Cancellable.connect is g_cancellable_connect in GJS: it runs
        // the callback at once (and returns 0) if already cancelled, else
        // inside whoever cancels. Only resolve there; the timer below
        // disconnects later, outside the callback, as GIO requires.
        const handler = cancellable.connect(() => resolve());
        GLib.timeout_add(GLib.PRIORITY_DEFAULT, ms, () => {
            if (handler !== 0)
                cancellable.disconnect(handler);
            resolve();
            return GLib.SOURCE_REMOVE;
        });
    });
}

// The body of one child: the hex digest of `path`. Every Gio call gets
// the task's cancellable, so Ctrl-C or the file's deadline makes the
// pending one fail with CANCELLED.
async function hashFile(task, path, options) {
    const cancellable = task.get_cancellable();
    const checksum = new GLib.Checksum(GLib.ChecksumType.SHA256);
    const stream = await Gio.File.new_for_path(path).read_async(GLib.PRIORITY_DEFAULT, cancellable);
    try {
        for (;;) {
            // eslint-disable-next-line no-await-in-loop
            const bytes = await stream.read_bytes_async(BLOCK_SIZE, GLib.PRIORITY_DEFAULT, cancellable);
            if (bytes.get_size() === 0)
                return checksum.get_string();
            checksum.update(bytes.toArray());
            if (options.slow > 0)
                // eslint-disable-next-line no-await-in-loop
                await pause(options.slow, cancellable);
        }
    } finally {
        stream.close(null);
    }
}

// Spawns the child of one file: its promise settles the task, with the
// digest or with what hashFile() threw (a Gio error as it is).
function spawnHash(group, path, options) {
    return NurseryJS.spawn(group, path, task => {
        // The child runs on the owner context: its timeout can be armed
        // right here, counting from the start of hashing.
        if (options.timeout > 0)
            task.set_timeout(Math.round(options.timeout * GLib.USEC_PER_SEC));
        return hashFile(task, path, options);
    });
}

class Progress {
    constructor(group, total) {
        this.group = group;
        this.total = total;
        // GLib's own isatty() test: colour support is asked of terminals only.
        this.tty = GLib.log_writer_supports_color(2);
        this.stderr = new Gio.UnixOutputStream({fd: 2, close_fd: false});
        this.lastTime = 0;
        this.lastLine = null;
        for (const counter of ['n-finished', 'n-running', 'n-failed'])
            group.connect(`notify::${counter}`, () => this.print(false));
    }

    print(final) {
        const now = GLib.get_monotonic_time();
        if (!this.tty && !final && now - this.lastTime < PROGRESS_LOG_INTERVAL_US)
            return;
        const g = this.group;
        const line = `hash-tree: ${g.n_finished}/${this.total} files, ${g.n_running} running, ${g.n_failed} failed`;
        if (line === this.lastLine)
            return;
        this.lastTime = now;
        this.lastLine = line;
        // \x1b[K clears what a longer previous line left on the terminal.
        this.write(this.tty ? `\r${line}\x1b[K` : `${line}\n`);
    }

    clear() {
        if (this.tty)
            this.write('\r\x1b[K');
    }

    write(text) {
        this.stderr.write_all(encoder.encode(text), null);
    }
}

// sha256sum's format: a name with a backslash, newline or carriage return
// is escaped, and its line starts with a backslash.
function sha256sumLine(digest, path) {
    const name = path.replace(/[\\\n\r]/g, c => ({'\\': '\\\\', '\n': '\\n', '\r': '\\r'})[c]);
    return `${name === path ? '' : '\\'}${digest}  ${name}`;
}

function describeFailure(task, options) {
    const error = task.get_error();
    if (error.matches(Gio.IOErrorEnum, Gio.IOErrorEnum.TIMED_OUT))
        return `timed out after ${options.timeout.toFixed(1)} s`;
    return error.message;
}

// Hashes in path order on stdout, failures on stderr; returns how many
// files were hashed.
function printResults(entries, options) {
    const lines = [];
    for (const {path, task} of entries) {
        const state = task.get_state();
        if (state === Nursery.TaskState.SUCCEEDED)
            lines.push(`${sha256sumLine(task.get_value(), path)}\n`);
        else if (state === Nursery.TaskState.FAILED)
            printerr(`hash-tree: ${path}: ${describeFailure(task, options)}`);
        // Otherwise cancelled by Ctrl-C, before or while it was hashed.
    }
    // UTF-8 bytes straight to fd 1: print() would convert the paths to
    // the locale's charset (and mangle them under LC_ALL=C).
    const stdout = new Gio.UnixOutputStream({fd: 1, close_fd: false});
    stdout.write_all(encoder.encode(lines.join('')), null);
    return lines.length;
}

async function main() {
    const options = parseArgs(System.programArgs);
    const group = new Nursery.Group({
        name: 'hash-tree',
        policy: Nursery.Policy.SUPERVISE,
        max_concurrent: options.jobs,
    });
    // Before the walk, so that an early Ctrl-C is not lost either.
    group.cancel_on_unix_signal(SIGINT);

    const paths = [], errors = [];
    walk(Gio.File.new_for_commandline_arg(options.dir), options.dir, paths, errors);
    errors.forEach(e => printerr(`hash-tree: ${e}`));
    paths.sort(compareBytes);

    const progress = new Progress(group, paths.length);
    const entries = paths.map(path => ({path, task: spawnHash(group, path, options)}));
    try {
        await NurseryJS.wait(group);
    } catch (e) {
        // The first failure, or CANCELLED after Ctrl-C: each task's own
        // outcome is read below instead.
        if (!(e instanceof GLib.Error))
            throw e;
    }
    progress.print(true);
    progress.clear();

    const nHashed = printResults(entries, options);
    const nFailed = group.n_failed;
    if (group.is_cancelled()) {
        printerr(`hash-tree: interrupted: ${nHashed} of ${entries.length} files hashed, ` +
            `${nFailed} failed, ${entries.length - nHashed - nFailed} not hashed`);
        return 128 + SIGINT;
    }
    return nFailed > 0 || errors.length > 0 ? 1 : 0;
}

// An explicit loop rather than top-level await, so the exit status is ours.
const loop = new GLib.MainLoop(null, false);
let status = 1;
main().then(s => {
    status = s;
}, e => {
    printerr(`hash-tree: ${e}\n${e.stack ?? ''}`);
}).finally(() => loop.quit());
loop.run();
System.exit(status);
