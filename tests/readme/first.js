// SPDX-License-Identifier: LGPL-2.1-or-later
import Gio from 'gi://Gio';
import Nursery from 'gi://Nursery?version=1.0';
Gio._promisify(Nursery.Group.prototype, 'wait_async', 'wait_finish');

const group = new Nursery.Group();
const a = group.spawn('answer', task => task.return_int(42));
const b = group.spawn('count', task => task.return_int([...Array(1000).keys()].reduce((x, y) => x + y)));
await group.wait_async(null);   // rejects with the first failure, a GLib.Error
print(a.get_int(), b.get_int());
