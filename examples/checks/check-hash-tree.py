#!/usr/bin/env python3
# check-hash-tree.py: the test of the hash-tree examples (C, Python, GJS)
#
# Copyright 2026 The Nursery authors
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Usage: check-hash-tree.py COMMAND...

COMMAND is how to start one hash-tree example (`hash-tree`,
`/usr/bin/python3 hash_tree.py`, `gjs -m hash-tree.js`); the options and
the directory are appended. The check builds a tree of its own in a
temporary directory and runs the example four times, printing TAP:

1. on the whole tree: stdout must be byte for byte what
   `find tree -type f | LC_ALL=C sort | xargs sha256sum` prints, in the
   caller's locale and under LC_ALL=C;
2. with a per-file timeout shorter than the big file needs (--slow makes
   every 64 KiB block cost 50 ms): that file alone fails, the others
   are still printed, exit status 1;
3. interrupted with SIGINT once its first progress line has appeared:
   exit status 130, an `interrupted:` summary, and only correct lines.

Any python3 runs it (no `gi` needed).
"""

import os
import select
import signal
import subprocess
import sys
import tempfile
import time

RUN_TIMEOUT = 20      # seconds: a failure guard, never a synchronisation
N_SMALL = 40
BIG_SIZE = 3 * 1024 * 1024

results = []


def check(ok, what, detail=''):
    results.append(ok)
    print('%s %d - %s' % ('ok' if ok else 'not ok', len(results), what))
    if not ok and detail:
        for line in str(detail).splitlines():
            print('# ' + line)


def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'wb') as f:
        f.write(data)


def make_tree(root):
    """Files of every kind hash-tree meets, and some it must skip."""
    write(os.path.join(root, 'hello.txt'), b'hello\n')
    write(os.path.join(root, 'empty'), b'')
    write(os.path.join(root, 'with space.txt'), b'space')
    write(os.path.join(root, 'back\\slash'), b'escaped by sha256sum')
    write(os.path.join(root, 'new\nline'), b'escaped too')
    write(os.path.join(root, 'unicodé', 'ñame.txt'), 'ü'.encode())
    write(os.path.join(root, 'a', 'b', 'c', 'd', 'deep.txt'), b'deep')
    write(os.path.join(root, 'big', 'big.bin'), os.urandom(BIG_SIZE))
    # Byte order matters: 'a.txt' < 'a/...' in C order, not in others.
    write(os.path.join(root, 'a.txt'), b'a dot')
    for i in range(N_SMALL):
        write(os.path.join(root, 'many', 'f%03d' % i), b'%d\n' % i * (i + 1))
    os.makedirs(os.path.join(root, 'empty-dir'))
    # Not regular files: not listed by find -type f, never to be read.
    os.symlink('hello.txt', os.path.join(root, 'link-to-file'))
    os.symlink('..', os.path.join(root, 'a', 'loop'))
    os.mkfifo(os.path.join(root, 'fifo'))


def reference(cwd, root):
    out = subprocess.run(
        ['sh', '-c', 'find "$1" -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum --',
         'sh', root],
        cwd=cwd, check=True, stdout=subprocess.PIPE,
        env=dict(os.environ, LC_ALL='C')).stdout
    return out


def run(command, cwd, *args, env=None):
    return subprocess.run(command + list(args), cwd=cwd, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, timeout=RUN_TIMEOUT, env=env)


def lines_of(data):
    """sha256sum lines; a file name with a newline is escaped, so one a line."""
    return data.decode('utf-8', 'surrogateescape').splitlines()


def check_whole_tree(command, cwd, ref):
    proc = run(command, cwd, 'tree')
    check(proc.returncode == 0, 'exit status 0 on the whole tree',
          'status %d, stderr:\n%s' % (proc.returncode, proc.stderr.decode()))
    check(proc.stdout == ref, 'output is exactly sha256sum\'s',
          'expected:\n%s\ngot:\n%s' % (ref.decode(errors='replace'),
                                        proc.stdout.decode(errors='replace')))
    check(b'files' in proc.stderr, 'a progress line on stderr', proc.stderr.decode())
    # File names are bytes: no conversion to the locale's charset.
    proc = run(command, cwd, 'tree', env=dict(os.environ, LC_ALL='C'))
    check(proc.returncode == 0 and proc.stdout == ref, 'the same output under LC_ALL=C',
          proc.stdout.decode(errors='replace') + proc.stderr.decode(errors='replace'))


def check_timeout(command, cwd, ref):
    # big.bin is 48 blocks (2.4 s at 50 ms each); a small file needs one.
    proc = run(command, cwd, '--slow', '50', '--timeout', '1', 'tree')
    err = proc.stderr.decode()
    expected = [line for line in lines_of(ref) if not line.endswith('big.bin')]
    check(proc.returncode == 1, 'exit status 1 when a file timed out',
          'status %d, stderr:\n%s' % (proc.returncode, err))
    check('tree/big/big.bin: timed out' in err, 'the big file is reported as timed out', err)
    check(lines_of(proc.stdout) == expected, 'every other file is still hashed',
          proc.stdout.decode(errors='replace'))


def read_line_within(stream, seconds):
    """One line from a pipe, or b'' if none came within @seconds."""
    deadline = time.monotonic() + seconds
    line = b''
    while not line.endswith(b'\n'):
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([stream], [], [], left)[0]:
            return b''
        byte = os.read(stream.fileno(), 1)
        if not byte:
            return line
        line += byte
    return line


def check_interrupt(command, cwd, ref):
    # 300 ms a file, two at a time: about 8 s of work, interrupted early.
    proc = subprocess.Popen(command + ['--slow', '300', '--jobs', '2', 'tree'], cwd=cwd,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    first = read_line_within(proc.stderr, RUN_TIMEOUT)
    check(b'running' in first, 'a progress line before the interrupt', first)
    proc.send_signal(signal.SIGINT)
    try:
        out, err = proc.communicate(timeout=RUN_TIMEOUT)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        check(False, 'exits after SIGINT', 'still running %d s after SIGINT' % RUN_TIMEOUT)
        return
    err = (first + err).decode()
    check(proc.returncode == 130, 'exit status 130 after SIGINT',
          'status %d, stderr:\n%s' % (proc.returncode, err))
    summary = [line for line in err.splitlines() if 'interrupted:' in line]
    check(len(summary) == 1, 'one "interrupted:" summary', err)
    printed = lines_of(out)
    expected = lines_of(ref)
    total = len(expected)
    positions = [expected.index(line) if line in expected else -1 for line in printed]
    check(-1 not in positions and positions == sorted(positions),
          'what was printed is correct and in order', out.decode(errors='replace'))
    check(summary and summary[0].endswith('not hashed') and
          ('%d of %d files hashed' % (len(printed), total)) in summary[0] and len(printed) < total,
          'the summary counts the printed files, and not all were hashed', err)


def main():
    # The example runs in a temporary directory: meson passes paths
    # relative to the build directory.
    command = [os.path.abspath(arg) if os.sep in arg and os.path.exists(arg) else arg
               for arg in sys.argv[1:]]
    if not command:
        sys.exit(__doc__)
    with tempfile.TemporaryDirectory(prefix='nursery-hash-tree-') as cwd:
        make_tree(os.path.join(cwd, 'tree'))
        ref = reference(cwd, 'tree')
        check_whole_tree(command, cwd, ref)
        check_timeout(command, cwd, ref)
        check_interrupt(command, cwd, ref)
    print('1..%d' % len(results))
    sys.exit(0 if all(results) else 1)


if __name__ == '__main__':
    main()
