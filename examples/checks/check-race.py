#!/usr/bin/env python3
# check-race.py: the test of examples/race.c
#
# Copyright 2026 The Nursery authors
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Usage: check-race.py RACE

Starts tiny servers on loopback ports in threads of its own and runs race
against them, printing TAP:

1. a fast server (answers at once) against a slow one (answers after
   10 s unless the client hangs up first), in both argument orders: the
   fast one wins, the slow one is reported cancelled, the slow server
   sees the client hang up, and race is done long before the slow
   answer (the loser was cancelled, not waited for);
2. a server that hangs up without answering against one that answers
   after 300 ms: a failure does not end the race, the later answer wins;
3. two servers that both hang up: exit status 1, both failures reported.

Any python3 runs it (no `gi` needed).
"""

import queue
import socket
import subprocess
import sys
import threading
import time

from loopback import skip_without_loopback  # examples/checks/loopback.py

SLOW_DELAY = 10.0     # the slow server's answer; race must not wait for it
TIMEOUT = 20          # a failure guard for every wait, never a synchronisation

results = []


def check(ok, what, detail=''):
    results.append(ok)
    print('%s %d - %s' % ('ok' if ok else 'not ok', len(results), what))
    if not ok and detail:
        for line in str(detail).splitlines():
            print('# ' + line)
    return ok


class Server:
    """A one-connection server: answers @answer after @delay seconds,
    unless the client hangs up first (recorded in self.events); with
    @answer None it hangs up at once."""

    def __init__(self, answer, delay=0.0):
        self.answer = answer
        self.delay = delay
        self.events = queue.Queue()
        self.sock = socket.socket()
        self.sock.bind(('127.0.0.1', 0))
        self.sock.listen()
        self.sock.settimeout(TIMEOUT)
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self):
        try:
            conn, _ = self.sock.accept()
        except OSError as error:
            self.events.put(('error', repr(error)))
            return
        with conn:
            if self.answer is None:
                self.events.put(('hung up', 0.0))
                return
            # Waiting for the client's EOF doubles as the delay: recv()
            # returns b'' as soon as the client hangs up.
            conn.settimeout(self.delay if self.delay > 0 else None)
            started = time.monotonic()
            try:
                data = conn.recv(100) if self.delay > 0 else None
            except socket.timeout:
                data = None
            if data == b'':
                self.events.put(('client hung up', time.monotonic() - started))
                return
            conn.sendall(self.answer + b'\n')
            self.events.put(('answered', time.monotonic() - started))

    def event(self):
        try:
            return self.events.get(timeout=TIMEOUT)
        except queue.Empty:
            return ('nothing', None)

    def close(self):
        self.sock.close()


def race(program, *servers):
    started = time.monotonic()
    proc = subprocess.run([program] + ['%d' % s.port for s in servers],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=TIMEOUT)
    return proc, time.monotonic() - started


def line_for(out, server):
    prefix = '127.0.0.1:%d: ' % server.port
    lines = [line for line in out.splitlines() if line.startswith(prefix)]
    return lines[0][len(prefix):] if len(lines) == 1 else repr(lines)


def check_fast_wins(program, fast_first):
    fast = Server(b'fast')
    slow = Server(b'slow', SLOW_DELAY)
    order = (fast, slow) if fast_first else (slow, fast)
    proc, elapsed = race(program, *order)
    out = proc.stdout.decode()
    what = 'fast server %s' % ('first' if fast_first else 'second')
    check(proc.returncode == 0, '%s: exit status 0' % what, out + proc.stderr.decode())
    check('winner: 127.0.0.1:%d answered "fast"' % fast.port in out, '%s: the fast one wins' % what, out)
    check(line_for(out, slow).startswith('cancelled'), '%s: the slow one is cancelled' % what, out)
    event = slow.event()
    check(event[0] == 'client hung up', '%s: the slow server sees the loser hang up' % what, event)
    check(elapsed < SLOW_DELAY / 2, '%s: race did not wait for the slow answer (%.2f s)' % (what, elapsed))
    fast.close()
    slow.close()


def check_failure_does_not_end_race(program):
    quitter = Server(None)
    late = Server(b'late', 0.3)
    proc, _ = race(program, quitter, late)
    out = proc.stdout.decode()
    check(proc.returncode == 0, 'a failure does not end the race: exit status 0', out)
    check('winner: 127.0.0.1:%d answered "late"' % late.port in out,
          'the later answer wins over an earlier failure', out)
    check(line_for(out, quitter).startswith('failed') and 'without answering' in out,
          'the server that hung up is reported failed', out)
    quitter.close()
    late.close()


def check_all_fail(program):
    first, second = Server(None), Server(None)
    proc, _ = race(program, first, second)
    out, err = proc.stdout.decode(), proc.stderr.decode()
    check(proc.returncode == 1, 'nobody answers: exit status 1', out + err)
    check(line_for(out, first).startswith('failed') and line_for(out, second).startswith('failed')
          and 'winner' not in out and 'nobody answered' in err,
          'both failures are reported, and no winner', out + err)
    first.close()
    second.close()


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    skip_without_loopback()
    program = sys.argv[1]
    check_fast_wins(program, fast_first=True)
    check_fast_wins(program, fast_first=False)
    check_failure_does_not_end_race(program)
    check_all_fail(program)
    print('1..%d' % len(results))
    sys.exit(0 if all(results) else 1)


if __name__ == '__main__':
    main()
