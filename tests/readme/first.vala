/* SPDX-License-Identifier: LGPL-2.1-or-later */
async void run () throws Error {
    var group = new Nursery.Group ();
    var a = group.spawn ("answer", (task) => task.return_int (42));
    var b = group.spawn_in_thread ("count", (task) => { int64 n = 0; for (var i = 0; i < 1000; i++) n += i; task.return_int (n); });
    yield group.wait_async (null);   // throws the first failure
    print ("%lld %lld\n", a.get_int (), b.get_int ());
}

void main () {
    var loop = new MainLoop ();
    run.begin ((obj, res) => { try { run.end (res); } catch (Error e) { error (e.message); } loop.quit (); });
    loop.run ();
}
