#!/usr/bin/env python3
# check-echo-server.py: the test of examples/echo-server.c
#
# Copyright 2026 The Nursery authors
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Usage: check-echo-server.py ECHO-SERVER

Starts the server on port 0 and waits for its "listening on" line, then
talks to it over loopback with real sockets, printing TAP:

- five clients stay connected together and take turns sending lines:
  each line is echoed to its own client (a server serving one client at
  a time would stall the second one);
- a client sends a 256 KiB line and hangs up after its echo;
- a client leaves half a line unterminated;
- two clients stop reading in the middle of a long echo, so the
  server's writes to them block;
- then SIGINT: the first of those two reads again and must get the rest
  of its echo (the shielded goodbye child sends it), then the goodbye
  line; every other client that reads gets exactly the goodbye line and
  EOF; the second never reads again and its goodbye runs into its 2 s
  deadline; the server exits 0, and the port is closed.

Before the SIGINT, 20 000 clients connect and reset their connections
(loopback, 100 at a time): every failure is logged and handled by the
server's task-failed handler, so the group keeps none of them and the
server's resident memory stays flat between 2 000 and 20 000 failed
clients (< 1 MiB growth; kept failures cost ~150 B each, ~2.7 MB here).

Every wait is bounded by a socket or process timeout; nothing sleeps.
Any python3 runs it (no `gi` needed).
"""

import os
import select
import signal
import socket
import subprocess
import struct
import sys
import threading
import time

TIMEOUT = 10            # seconds, for any one step: a failure guard only
N_CLIENTS = 5
N_ROUNDS = 4
BIG_LINE = b'x' * (256 * 1024) + b'\n'
LONG_LINE = 8 * 1024 * 1024
HUGE_LINE = 32 * 1024 * 1024
GOODBYE = b'goodbye: the server is shutting down\n'
N_RESETS = 20000
RESET_BATCH = 100
RSS_GROWTH_MAX = 1024 * 1024

results = []


def check(ok, what, detail=''):
    results.append(ok)
    print('%s %d - %s' % ('ok' if ok else 'not ok', len(results), what))
    if not ok and detail:
        for line in str(detail).splitlines():
            print('# ' + line)
    return ok


class Client:
    """A line-oriented client with a timeout on every call."""

    def __init__(self, port):
        self.sock = socket.create_connection(('127.0.0.1', port), timeout=TIMEOUT)
        self.buffer = b''

    def send(self, data):
        self.sock.sendall(data)

    def read_line(self):
        while b'\n' not in self.buffer:
            chunk = self.sock.recv(65536)
            if not chunk:
                line, self.buffer = self.buffer, b''
                return line
            self.buffer += chunk
        line, _, self.buffer = self.buffer.partition(b'\n')
        return line + b'\n'

    def read_to_eof(self):
        data = self.buffer
        while True:
            chunk = self.sock.recv(65536)
            if not chunk:
                return data
            data += chunk


class StderrLog:
    """Reads the server's stderr as it comes (a flood of clients logs
    more than a pipe holds) and counts the failed clients."""

    def __init__(self, stream):
        self.lines = []
        self.failed = 0
        self.cond = threading.Condition()
        self.thread = threading.Thread(target=self._read, args=(stream,), daemon=True)
        self.thread.start()

    def _read(self, stream):
        for raw in stream:
            line = raw.decode(errors='replace')
            with self.cond:
                self.lines.append(line)
                if ' failed: ' in line:
                    self.failed += 1
                self.cond.notify_all()

    def wait_failed(self, n):
        with self.cond:
            return self.cond.wait_for(lambda: self.failed >= n, TIMEOUT)

    def text(self):
        self.thread.join(TIMEOUT)
        with self.cond:
            return ''.join(self.lines)


def resident_kib(pid):
    with open('/proc/%d/status' % pid) as status:
        for line in status:
            if line.startswith('VmRSS:'):
                return int(line.split()[1])
    return 0


def reset_clients(port, n, log):
    """@n clients that connect and reset (RST, no FIN), RESET_BATCH at a
    time; returns once the server has logged each as failed."""
    linger = struct.pack('ii', 1, 0)
    target = log.failed + n
    for start in range(0, n, RESET_BATCH):
        socks = [socket.create_connection(('127.0.0.1', port), timeout=TIMEOUT)
                 for _ in range(min(RESET_BATCH, n - start))]
        for sock in socks:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger)
            sock.close()
        if not log.wait_failed(target - n + start + len(socks)):
            return False
    return log.wait_failed(target)


def wait_for_port(server):
    """The port from the server's first stdout line, within TIMEOUT."""
    if not select.select([server.stdout], [], [], TIMEOUT)[0]:
        return None
    line = server.stdout.readline().decode()
    if not line.startswith('listening on 127.0.0.1:'):
        return None
    return int(line.rsplit(':', 1)[1])


def talk_in_turns(clients):
    ok = True
    detail = ''
    for r in range(N_ROUNDS):
        for i, client in enumerate(clients):
            client.send(b'client %d line %d\n' % (i, r))
        # All five lines are in flight before any echo is read.
        for i, client in enumerate(clients):
            echo = client.read_line()
            if echo != b'client %d line %d\n' % (i, r):
                ok = False
                detail += 'client %d round %d got %r\n' % (i, r, echo[:80])
    return ok, detail


def big_line(port):
    client = Client(port)
    client.send(BIG_LINE)
    echo = client.read_line()
    client.sock.shutdown(socket.SHUT_WR)
    rest = client.read_to_eof()
    client.sock.close()
    return echo == BIG_LINE and rest == b''


def paused_reader(port, size, byte):
    """A client that stops reading in the middle of the echo of a line of
    @size bytes: the server's write to it stays blocked, whatever the
    kernel buffers (ours is capped at 64 KiB, the server's send buffer
    at a few MiB)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
    sock.settimeout(TIMEOUT)
    sock.connect(('127.0.0.1', port))
    sock.sendall(byte * size + b'\n')
    # The echo has begun: the server has read the whole line.
    if sock.recv(1) != byte:
        return None
    return sock


def read_to_eof(sock):
    data = b''
    while True:
        chunk = sock.recv(1 << 20)
        if not chunk:
            return data
        data += chunk


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    server = subprocess.Popen([sys.argv[1], '0'], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE)
    try:
        run_checks(server, StderrLog(server.stderr))
    finally:
        if server.poll() is None:
            server.kill()
        server.wait()
    print('1..%d' % len(results))
    sys.exit(0 if all(results) else 1)


def check_flat_memory(server, port, log):
    ok = reset_clients(port, N_RESETS // 10, log)
    before = resident_kib(server.pid)
    ok = ok and reset_clients(port, N_RESETS - N_RESETS // 10, log)
    after = resident_kib(server.pid)
    check(ok, '%d clients that reset their connection are each logged as failed' % N_RESETS,
          '%d failures logged' % log.failed)
    check(ok and (after - before) * 1024 < RSS_GROWTH_MAX,
          'handled failures keep memory flat: RSS %d KiB after %d, %d KiB after %d'
          % (before, N_RESETS // 10, after, N_RESETS))


def run_checks(server, log):
    port = wait_for_port(server)
    if not check(port is not None, 'the first stdout line names the port'):
        return

    clients = [Client(port) for _ in range(N_CLIENTS)]
    ok, detail = talk_in_turns(clients)
    check(ok, '%d clients connected at once all get their echoes' % N_CLIENTS, detail)
    check(big_line(port), 'a 256 KiB line comes back whole, then EOF after hanging up')

    half = Client(port)
    half.send(b'no newline yet')
    # One round trip more: the clients above are all being served.
    check(talk_in_turns(clients[:1])[0], 'still serving after the others came and went')

    slow = paused_reader(port, LONG_LINE, b'l')
    check(slow is not None, 'a client pauses in the middle of an 8 MiB echo')
    stuck = paused_reader(port, HUGE_LINE, b's')
    check(stuck is not None, 'a client stops reading in the middle of a 32 MiB echo')

    check_flat_memory(server, port, log)

    server.send_signal(signal.SIGINT)
    started = time.monotonic()

    rest = read_to_eof(slow) if slow is not None else b''
    check(rest == b'l' * (LONG_LINE - 1) + b'\n' + GOODBYE,
          'the paused client, reading again after SIGINT, gets the rest of its echo, then the goodbye',
          'got %d bytes ending with %r' % (len(rest), rest[-60:]))

    goodbyes = []
    for client in clients + [half]:
        try:
            goodbyes.append(client.read_to_eof())
        except OSError as error:
            goodbyes.append(repr(error).encode())
    check(all(g == GOODBYE for g in goodbyes),
          'after SIGINT every reading client gets exactly the goodbye line, then EOF',
          '\n'.join(repr(g[:100]) for g in goodbyes))

    try:
        server.wait(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        check(False, 'the server exits after SIGINT', 'still running after %d s' % TIMEOUT)
        return
    elapsed = time.monotonic() - started
    err = log.text()
    check(server.returncode == 0, 'the server exits with status 0',
          'status %d, stderr:\n%s' % (server.returncode, err[-4000:]))
    check('timed out' in err and elapsed < TIMEOUT,
          "the stuck client's goodbye ran into its deadline (%.1f s)" % elapsed, err[-4000:])
    check(err.count(': stopped') >= N_CLIENTS + 3 and err.count(': sent') == N_CLIENTS + 2,
          'the log has each connection stopped and each goodbye sent', err[-4000:])
    check('stopped after' in err and ', on SIGINT' in err,
          'the server says SIGINT stopped it', err[-400:])
    for sock in (slow, stuck):
        if sock is not None:
            sock.close()

    try:
        socket.create_connection(('127.0.0.1', port), timeout=TIMEOUT).close()
        refused = False
    except ConnectionRefusedError:
        refused = True
    check(refused, 'the port is closed after the server exited')


if __name__ == '__main__':
    main()
