#!/usr/bin/env python3
# hash_window.py: a GTK 4 application that hashes a directory's files
#
# Copyright 2026 The Nursery authors
# SPDX-License-Identifier: LGPL-2.1-or-later
"""A Gtk.Application whose window hashes every file of a directory, one
thread child per file, a few at a time, and shows it live.

What it shows:
- the group's live task list (Group.list_tasks()) in a Gtk.ListView: the
  files being hashed or waiting, each with its own progress bar bound to
  the task's `progress`, which the worker thread sets (the notification
  comes on the GTK thread, at most once per batch);
- an overall bar bound to n-succeeded + n-failed out of n-spawned, so
  Cancel leaves it where it was instead of jumping to 100 %;
- a file that cannot be read is a failure *handled* by a task-failed
  handler: shown, counted, not raised;
- Group.hold_application(): the application lives while the group does,
  so closing the window mid-run cancels the work and the process exits
  only once every thread child has returned; quitting the application
  (Ctrl+Q) cancels and joins the group too.

Usage: hash_window.py [--jobs N] [--chunk-ms MS] [--screenshot FILE |
                      --close-at-half] DIRECTORY
With --screenshot, once half the files are done the window renders
itself to FILE (PNG), presses its own Cancel button and closes when the
group has closed. With --close-at-half it closes its window half-way, as
a user would. One line per event on stdout.
"""

import argparse
import ctypes
import ctypes.util
import hashlib
import os
import sys
import threading
import time

import gi

gi.require_version('Gtk', '4.0')
gi.require_version('Nursery', '1.0')
from gi.repository import Gio, GLib, GObject, Gtk, Nursery  # noqa: E402

CHUNK = 64 * 1024


def hash_file(task, path, chunk_ms):
    """A thread child: hashes @path, publishing its progress."""
    size = max(os.path.getsize(path), 1)
    digest = hashlib.sha256()
    done = 0
    with open(path, 'rb') as f:
        while not task.is_cancelled():
            block = f.read(CHUNK)
            if not block:
                return digest.hexdigest()
            digest.update(block)
            done += len(block)
            task.set_progress(min(done / size, 1.0))
            if chunk_ms:
                # A slow disk, for the demo and its test.
                time.sleep(chunk_ms / 1000)
    task.return_error_if_cancelled()


def _pointer(obj):
    """The C pointer of a PyGObject wrapper, for ctypes."""
    get = ctypes.pythonapi.PyCapsule_GetPointer
    get.restype = ctypes.c_void_p
    get.argtypes = [ctypes.py_object, ctypes.c_char_p]
    return get(obj.__gpointer__, None)


class HashWindow(Gtk.ApplicationWindow):
    def __init__(self, app, options):
        super().__init__(application=app, title='Nursery: hashing %s' % options.directory)
        self.options = options
        self.set_default_size(520, 420)
        self.group = Nursery.Group(name='hash-window', policy=Nursery.Policy.SUPERVISE,
                                   max_concurrent=options.jobs)
        # The application lives while the group does (close = cancel + join).
        self.group.hold_application(app)
        self.group.connect('task-failed', self.on_task_failed)
        self.screenshot_taken = False

        box = Gtk.Box(orientation=Gtk.Orientation.VERTICAL, spacing=12,
                      margin_start=18, margin_end=18, margin_top=18, margin_bottom=18)
        self.overall = Gtk.ProgressBar(show_text=True)
        for name in ('n-succeeded', 'n-failed', 'n-spawned'):
            self.group.connect('notify::' + name, self.update_overall)
        box.append(self.overall)
        self.counts = Gtk.Label()
        for name in ('n-running', 'n-pending', 'n-cancelled'):
            self.group.connect('notify::' + name, self.update_overall)
        box.append(self.counts)

        factory = Gtk.SignalListItemFactory()
        factory.connect('setup', self.setup_row)
        factory.connect('bind', self.bind_row)
        factory.connect('unbind', self.unbind_row)
        # The group's live list: files appear when spawned, leave when done.
        model = Gtk.NoSelection(model=self.group.list_tasks())
        view = Gtk.ListView(model=model, factory=factory)
        box.append(Gtk.ScrolledWindow(child=view, vexpand=True, min_content_height=200))

        self.status = Gtk.Label(label='Hashing…')
        box.append(self.status)
        self.cancel_button = Gtk.Button(label='_Cancel', use_underline=True, halign=Gtk.Align.END)
        self.cancel_button.connect('clicked', lambda button: self.group.cancel())
        self.group.bind_property('closed', self.cancel_button, 'sensitive',
                                 GObject.BindingFlags.SYNC_CREATE |
                                 GObject.BindingFlags.INVERT_BOOLEAN)
        box.append(self.cancel_button)
        self.set_child(box)
        self.connect('close-request', self.on_close_request)

    # The work

    def start(self):
        directory = self.options.directory
        for name in sorted(os.listdir(directory)):
            path = os.path.join(directory, name)
            if os.path.isdir(path):
                continue
            self.group.spawn_in_thread(hash_file, path, self.options.chunk_ms, name=name)
        self.update_overall()
        self.group.wait_async(None, self.on_group_closed)

    def on_task_failed(self, group, task, error):
        # R29: shown and counted, not kept: the run goes on, and memory
        # stays flat however many files fail.
        print('failed: %s: %s' % (task.get_name(), error.message), flush=True)
        return True

    def n_done(self):
        return self.group.props.n_succeeded + self.group.props.n_failed

    def update_overall(self, *args):
        group = self.group
        spawned = max(group.props.n_spawned, 1)
        self.overall.set_fraction(self.n_done() / spawned)
        self.overall.set_text('%d of %d files hashed' % (self.n_done(), group.props.n_spawned))
        self.counts.set_text('%d hashing, %d waiting, %d failed, %d cancelled'
                             % (group.props.n_running, group.props.n_pending,
                                group.props.n_failed, group.props.n_cancelled))
        if (self.options.screenshot or self.options.close_at_half) and not self.screenshot_taken \
                and self.n_done() >= group.props.n_spawned // 2 and group.props.n_spawned:
            self.screenshot_taken = True
            self.halfway()

    def on_group_closed(self, group, result):
        try:
            group.wait_finish(result)
        except GLib.Error as error:
            print('wait: %s' % error.message, flush=True)
        summary = '%s: %d succeeded, %d failed, %d cancelled' % (
            'Cancelled' if group.props.cancelled else 'Done', group.props.n_succeeded,
            group.props.n_failed, group.props.n_cancelled)
        print(summary, flush=True)
        self.status.set_text(summary)
        if self.options.screenshot:
            self.close()

    # Rows: a task's name and its own progress bar

    def setup_row(self, factory, item):
        row = Gtk.Box(spacing=12)
        row.append(Gtk.Label(xalign=0, hexpand=True, width_chars=16))
        row.append(Gtk.ProgressBar(valign=Gtk.Align.CENTER, hexpand=True))
        item.set_child(row)

    def bind_row(self, factory, item):
        task = item.get_item()
        label = item.get_child().get_first_child()
        bar = label.get_next_sibling()
        label.set_text(task.get_name())
        # progress is -1 while unknown: an empty bar.
        item.binding = task.bind_property('progress', bar, 'fraction',
                                          GObject.BindingFlags.SYNC_CREATE,
                                          lambda binding, value: max(value, 0.0))

    def unbind_row(self, factory, item):
        item.binding.unbind()
        item.binding = None

    # Half-way: the test modes

    def halfway(self):
        clock = self.get_frame_clock()
        if self.options.close_at_half or clock is None:
            print('closing the window while %d files are hashing' % self.group.props.n_running,
                  flush=True)
            self.close()
            return

        def after_paint(clock):
            clock.disconnect(handler)
            self.save_screenshot(self.options.screenshot)
            # Press Cancel as a user would: through the button's signal.
            self.cancel_button.emit('clicked')
        handler = clock.connect('after-paint', after_paint)
        self.queue_draw()

    def save_screenshot(self, path):
        """The window draws itself into a render node, which its own
        renderer turns into pixels: no X screen grab. PyGObject 3.42
        cannot hold a GskRenderNode, so the three calls that pass one go
        through ctypes."""
        width, height = self.get_width(), self.get_height()
        snapshot = Gtk.Snapshot()
        Gtk.WidgetPaintable.new(self).snapshot(snapshot, width, height)
        gtk = ctypes.CDLL(ctypes.util.find_library('gtk-4'))
        gtk.gtk_snapshot_to_node.restype = ctypes.c_void_p
        gtk.gtk_snapshot_to_node.argtypes = [ctypes.c_void_p]
        gtk.gsk_renderer_render_texture.restype = ctypes.c_void_p
        gtk.gsk_renderer_render_texture.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p]
        gtk.gdk_texture_save_to_png.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
        gtk.gsk_render_node_unref.argtypes = [ctypes.c_void_p]
        gtk.g_object_unref.argtypes = [ctypes.c_void_p]
        node = gtk.gtk_snapshot_to_node(_pointer(snapshot))
        rect = (ctypes.c_float * 4)(0, 0, width, height)     # a graphene_rect_t
        texture = gtk.gsk_renderer_render_texture(_pointer(self.get_renderer()), node, rect)
        gtk.gdk_texture_save_to_png(texture, os.fsencode(path))
        gtk.g_object_unref(texture)
        gtk.gsk_render_node_unref(node)
        print('screenshot: %s %dx%d' % (path, width, height), flush=True)

    def on_close_request(self, window):
        # Closing mid-run cancels; the group still holds the application,
        # which exits once the last thread child has returned.
        if not self.group.props.closed:
            print('window closed: cancelling', flush=True)
            self.group.cancel()
        return False


class HashApp(Gtk.Application):
    def __init__(self, options):
        super().__init__(flags=Gio.ApplicationFlags.NON_UNIQUE)
        self.options = options
        self.window = None
        self.connect('shutdown', self.on_shutdown)

    def do_activate(self):
        self.set_accels_for_action('app.quit', ['<Control>q'])
        quit_action = Gio.SimpleAction(name='quit')
        quit_action.connect('activate', lambda *args: self.quit())
        self.add_action(quit_action)
        self.window = HashWindow(self, self.options)
        self.window.present()
        self.window.start()

    def on_shutdown(self, app):
        # Connected before hold_application()'s handler, so it runs first;
        # the group is joined right after it.
        if self.window is not None:
            group = self.window.group
            print('shutdown: %d still running' % group.props.n_running, flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('directory')
    parser.add_argument('--jobs', type=int, default=3)
    parser.add_argument('--chunk-ms', type=int, default=0)
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument('--screenshot')
    mode.add_argument('--close-at-half', action='store_true')
    options = parser.parse_args()

    app = HashApp(options)
    status = app.run([sys.argv[0]])
    window = app.window
    if window is not None:
        group = window.group
        # No thread child outlived the application.
        print('exit: group %s, %d running, %d threads' % (
            'closed' if group.props.closed else 'open', group.props.n_running,
            threading.active_count()), flush=True)
        if not group.props.closed:
            status = 1
    return status


if __name__ == '__main__':
    sys.exit(main())
