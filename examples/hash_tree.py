#!/usr/bin/python3
# hash_tree.py: hash-tree.c in Python, through the PyGObject override
#
# Copyright 2026 The Nursery authors
# SPDX-License-Identifier: LGPL-2.1-or-later
"""The SHA-256 of every file under a directory, printed like
``find DIR -type f | LC_ALL=C sort | xargs sha256sum``.

What it shows (the same job as examples/hash-tree.c):

- ``async with Nursery.Group(...) as group`` in a coroutine, on asyncio
  running GLib's main loop (python3-gbulb): leaving the block joins the
  group without blocking the loop; the supervise policy keeps one
  unreadable file from stopping the rest, and the failures it raises (one
  ExceptionGroup: a child's OSError as raised, a timeout as GLib.Error)
  are handled with ``except*``;
- ``group.spawn_in_thread(func, *args, name=...)``: one thread child per
  file, at most --jobs at once (the ``max-concurrent`` property); a child
  that returns a value succeeds with it (``task.result``), one that
  raises fails with it (``task.exception``);
- a timeout per file (``task.set_timeout``), armed on the owner context
  when the file's hashing starts;
- a live progress line on stderr, driven by notify on the group's
  ``n-finished``, ``n-running`` and ``n-failed`` properties;
- Ctrl-C: ``group.cancel_on_unix_signal(SIGINT)`` cancels the group
  gracefully (no KeyboardInterrupt in a random place); the program prints
  what it has, a summary, and exits with 130.

Usage: hash_tree.py [--jobs N] [--timeout SECONDS] [--slow MS] DIR
Exit status: 0 all hashed, 1 something failed, 2 bad usage, 130 interrupted.

Run it with Debian's /usr/bin/python3 (it has ``gi``); from the build
tree, put the uninstalled typelib, library and override on
GI_TYPELIB_PATH, LD_LIBRARY_PATH and PYTHONPATH.
"""

import argparse
import asyncio
import hashlib
import os
import select
import signal
import sys
import time

import gbulb
import gi
gi.require_version('Nursery', '1.0')
from gi.repository import Gio, GLib, Nursery  # noqa: E402

BLOCK_SIZE = 64 * 1024
PROGRESS_LOG_INTERVAL = 0.2   # seconds between progress lines in a log


class Entry:
    """One regular file: its path as printed, and its task once spawned."""

    __slots__ = ('path', 'task')

    def __init__(self, path):
        self.path = path
        self.task = None


def walk(root, entries, errors):
    """Collects the regular files under @root, like `find -type f`:
    symbolic links, pipes and devices are neither followed nor read."""
    try:
        with os.scandir(root) as it:
            for child in it:
                if child.is_dir(follow_symlinks=False):
                    walk(child.path, entries, errors)
                elif child.is_file(follow_symlinks=False):
                    entries.append(Entry(child.path))
    except OSError as error:
        errors.append('%s: %s' % (root, error.strerror))


def pause_unless_cancelled(cancellable, ms):
    """--slow: waits @ms, waking up at once when @cancellable is cancelled."""
    fd = cancellable.get_fd()
    try:
        select.select([fd], [], [], ms / 1000)
    finally:
        cancellable.release_fd()


class HashTree:
    def __init__(self, args):
        self.args = args
        self.entries = []
        self.errors = []
        self.last_progress = 0.0
        self.last_line = None
        self.tty = sys.stderr.isatty()
        self.group = Nursery.Group(name='hash-tree',
                                   policy=Nursery.Policy.SUPERVISE,
                                   max_concurrent=args.jobs)
        # Before the walk, so that an early Ctrl-C is not lost either.
        self.group.cancel_on_unix_signal(signal.SIGINT)
        for counter in ('n-finished', 'n-running', 'n-failed'):
            self.group.connect('notify::' + counter, self.on_counter_changed)

    # The thread child

    def hash_file(self, task, path):
        """Runs on a worker thread: returns the hex digest, raises on error."""
        self.arm_timeout(task)
        cancellable = task.get_cancellable()
        digest = hashlib.sha256()
        with open(path, 'rb') as f:
            while block := f.read(BLOCK_SIZE):
                digest.update(block)
                if self.args.slow:
                    pause_unless_cancelled(cancellable, self.args.slow)
                # Between two blocks: Ctrl-C makes the task cancelled, its
                # own deadline makes it fail with TIMED_OUT.
                if task.return_error_if_cancelled():
                    return None
        return digest.hexdigest()

    def arm_timeout(self, task):
        """A task's deadline belongs to the owner context and this runs on a
        worker thread: hand it over. Armed here, it counts from the start
        of hashing, not from when the file was queued behind --jobs others.
        If the file is done first, set_timeout() on the finished task does
        nothing."""
        if self.args.timeout > 0:
            self.group.get_context().invoke_full(GLib.PRIORITY_DEFAULT, self.set_timeout, task)

    def set_timeout(self, task):
        """arm_timeout() on the owner context."""
        task.set_timeout(int(self.args.timeout * GLib.USEC_PER_SEC))
        return GLib.SOURCE_REMOVE

    # Progress, on the owner context

    def on_counter_changed(self, group, pspec):
        self.print_progress(final=False)

    def print_progress(self, final):
        now = time.monotonic()
        if not self.tty and not final and now - self.last_progress < PROGRESS_LOG_INTERVAL:
            return
        line = 'hash-tree: %d/%d files, %d running, %d failed' % (
            self.group.props.n_finished, len(self.entries),
            self.group.props.n_running, self.group.props.n_failed)
        if line == self.last_line:
            return
        self.last_progress, self.last_line = now, line
        # \033[K clears what a longer previous line left on the terminal.
        sys.stderr.write('\r' + line + '\033[K' if self.tty else line + '\n')
        sys.stderr.flush()

    # Results

    def print_failure(self, entry):
        task = entry.task
        if task.error.matches(Gio.io_error_quark(), Gio.IOErrorEnum.TIMED_OUT):
            reason = 'timed out after %.1f s' % self.args.timeout
        elif isinstance(task.exception, OSError):
            reason = task.exception.strerror
        else:
            reason = task.error.message
        print('hash-tree: %s: %s' % (entry.path, reason), file=sys.stderr)

    def print_results(self):
        """Hashes in path order on stdout, failures on stderr; returns how
        many files were hashed."""
        out = sys.stdout.buffer
        n_hashed = 0
        for entry in self.entries:
            state = entry.task.state
            if state == Nursery.TaskState.SUCCEEDED:
                out.write(sha256sum_line(entry.task.result, entry.path))
                n_hashed += 1
            elif state == Nursery.TaskState.FAILED:
                sys.stdout.flush()
                self.print_failure(entry)
            # else: cancelled by Ctrl-C, before or while it was hashed.
        out.flush()
        return n_hashed

    async def run(self, root):
        walk(root, self.entries, self.errors)
        for error in self.errors:
            print('hash-tree: ' + error, file=sys.stderr)
        # Byte order, as `LC_ALL=C sort` orders whole paths.
        self.entries.sort(key=lambda entry: os.fsencode(entry.path))
        try:
            async with self.group as group:
                for entry in self.entries:
                    entry.task = group.spawn_in_thread(self.hash_file, entry.path,
                                                       name=entry.path)
        except* (OSError, GLib.Error):
            # The failures (and the cancellation by Ctrl-C) are read per
            # task below; the ExceptionGroup adds nothing here.
            pass
        interrupted = self.group.is_cancelled()
        self.print_progress(final=True)
        if self.tty:
            sys.stderr.write('\r\033[K')

        n_hashed = self.print_results()
        n_failed = self.group.props.n_failed
        if interrupted:
            print('hash-tree: interrupted: %d of %d files hashed, %d failed, %d not hashed'
                  % (n_hashed, len(self.entries), n_failed,
                     len(self.entries) - n_hashed - n_failed), file=sys.stderr)
            return 128 + signal.SIGINT
        return 1 if n_failed or self.errors else 0


def sha256sum_line(digest, path):
    """sha256sum's format: a name with a backslash, newline or carriage
    return is escaped, and its line starts with a backslash."""
    name = os.fsencode(path)
    escaped = name.replace(b'\\', b'\\\\').replace(b'\n', b'\\n').replace(b'\r', b'\\r')
    prefix = b'\\' if escaped != name else b''
    return prefix + digest.encode() + b'  ' + escaped + b'\n'


def parse_args():
    parser = argparse.ArgumentParser(description='SHA-256 of every file under DIR')
    parser.add_argument('-j', '--jobs', type=int, default=4,
                        help='hash at most N files at once (default 4)')
    parser.add_argument('-t', '--timeout', type=float, default=60,
                        help='give up on a file after SECONDS (default 60, 0 for never)')
    parser.add_argument('--slow', type=int, default=0, metavar='MS',
                        help='pause MS milliseconds after each 64 KiB block')
    parser.add_argument('dir')
    args = parser.parse_args()
    if args.jobs < 1 or args.timeout < 0 or args.slow < 0:
        parser.error('--jobs must be at least 1, --timeout and --slow not negative')
    return args


async def hash_tree(args):
    # The group belongs to the running loop's context: created in here.
    return await HashTree(args).run(args.dir)


def main():
    args = parse_args()
    gbulb.install()    # asyncio's loop runs GLib's default main context
    sys.exit(asyncio.run(hash_tree(args)))


if __name__ == '__main__':
    main()
