// SPDX-License-Identifier: LGPL-2.1-or-later
// A map from the namespaces the reference links to, to their online docs.
// Copied next to the HTML by gi-docgen (see nursery.toml.in).
baseURLs = [
    ['GLib', 'https://docs.gtk.org/glib/'],
    ['GObject', 'https://docs.gtk.org/gobject/'],
    ['Gio', 'https://docs.gtk.org/gio/'],
]
