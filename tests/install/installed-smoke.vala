/* installed-smoke.vala: a Vala client of the installed VAPI
 *
 * Copyright 2026 The Nursery authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * test-install.sh builds it with `--vapidir` and pkg-config pointing into a
 * DESTDIR tree only, so it proves the installed libnursery-1.vapi and its
 * .deps file (which must pull in gio-2.0) are usable as installed.
 */

int main () {
    var group = new Nursery.Group ();
    Nursery.Task task;
    try {
        task = group.spawn ("answer", (task) => { task.return_int (42); });
        group.wait (null);
    } catch (Error e) {
        printerr ("not ok - %s\n", e.message);
        return 1;
    }
    /* GLib.Cancellable comes from gio-2.0, which only the .deps file adds. */
    Cancellable unused = task.get_cancellable ();
    if (task.get_int () != 42 || unused == null) {
        printerr ("not ok - the child returned %" + int64.FORMAT + "\n", task.get_int ());
        return 1;
    }
    print ("ok - Vala client of the installed VAPI\n");
    return 0;
}
