#!/usr/bin/env python3
# check-pipeline.py: the test of the pipeline example
#
# Copyright 2026 The Nursery authors
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Usage: check-pipeline.py COMMAND...

COMMAND is how to start the pipeline example; the options and the
directory are appended. The check builds the hash-tree checks' tree
(odd names, symbolic links, a loop, a FIFO, a 3 MiB file) plus a deep
tree of many small files, a 2 MiB file and names sha256sum escapes or
that are not UTF-8, in a temporary directory. It then prints TAP for:

1. --workers 1, 4 and 32: stdout must be byte for byte what
   `find tree -type f | LC_ALL=C sort | xargs sha256sum` prints (under
   LC_ALL=C too, with 4 workers); 32 blocked workers must not starve the
   walker (the worker pool grows for them);
2. a directory that does not exist: exit status 1, the reason on stderr;
3. bad usage (--workers 0 or 65): exit status 2;
4. SIGINT once a few results are in (--slow makes each file cost
   300 ms): exit status 130, an `interrupted:` summary, only correct
   lines, in order, and no progress line where the walker ran further
   ahead of the collector than the two bounded channels allow.

Any python3 runs it (no `gi` needed).
"""

import importlib.util
import os
import re
import signal
import subprocess
import sys
import tempfile
import time

# The tree, the reference, TAP and the pipe helpers are the hash-tree
# checks' own: both programs must print exactly what sha256sum does.
_spec = importlib.util.spec_from_file_location(
    'check_hash_tree', os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                    'check-hash-tree.py'))
hash_tree = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(hash_tree)
check, write, run, lines_of = hash_tree.check, hash_tree.write, hash_tree.run, hash_tree.lines_of

DEPTH = 6
FILES_PER_DIR = 30
BIG_SIZE = 2 * 1024 * 1024


def make_pipeline_tree(root):
    """More files than the channels hold, at every depth, and odd names."""
    hash_tree.make_tree(root)
    d = os.path.join(root, 'deep')
    for level in range(DEPTH):
        d = os.path.join(d, 'level%d' % level)
        for i in range(FILES_PER_DIR):
            write(os.path.join(d, 'f%02d.txt' % i), b'level %d file %d\n' % (level, i))
    write(os.path.join(root, 'deep', 'two-mib.bin'), os.urandom(BIG_SIZE))
    write(os.path.join(root, 'odd', 'carriage\rreturn'), b'escaped by sha256sum 9')
    write(os.path.join(root, 'odd', 'tab\there'), b'not escaped')
    write(os.path.join(root, 'odd', '-dash-first'), b'not an option')
    write(os.path.join(root, 'odd', ' leading space'), b'kept')
    # Not UTF-8: printed as the same bytes in any locale.
    with open(os.path.join(os.fsencode(root), b'odd', b'latin1-\xe9t\xe9'), 'wb') as f:
        f.write(b'bytes')
    os.makedirs(os.path.join(root, 'odd', 'empty', 'deeper'))


def check_output(command, cwd, ref, workers, env=None, what=''):
    proc = run(command, cwd, '--workers', str(workers), 'tree', env=env)
    label = '%d worker%s%s' % (workers, '' if workers == 1 else 's', what)
    check(proc.returncode == 0, 'exit status 0 with %s' % label,
          'status %d, stderr:\n%s' % (proc.returncode, proc.stderr.decode(errors='replace')))
    check(proc.stdout == ref, 'output is exactly sha256sum\'s with %s' % label,
          'expected:\n%s\ngot:\n%s' % (ref.decode(errors='replace'),
                                        proc.stdout.decode(errors='replace')))


def check_missing_dir(command, cwd):
    proc = run(command, cwd, 'no-such-dir')
    err = proc.stderr.decode(errors='replace')
    check(proc.returncode == 1 and proc.stdout == b'' and 'no-such-dir' in err,
          'a missing directory: exit status 1 and the reason on stderr',
          'status %d, stderr:\n%s' % (proc.returncode, err))


def check_usage(command, cwd):
    for workers in ('0', '65'):
        proc = run(command, cwd, '--workers', workers, 'tree')
        check(proc.returncode == 2 and b'Usage' in proc.stderr,
              '--workers %s: exit status 2' % workers,
              'status %d, stderr:\n%s' % (proc.returncode, proc.stderr.decode(errors='replace')))


PROGRESS = re.compile(r'pipeline: (\d+) found, (\d+) hashed')
CAPACITY = 8


def wait_for_hashed(stream, n):
    """The progress lines up to the first that counts @n results, or all
    that came within the time limit."""
    lines = b''
    deadline = time.monotonic() + hash_tree.RUN_TIMEOUT
    while time.monotonic() < deadline:
        line = hash_tree.read_line_within(stream, deadline - time.monotonic())
        lines += line
        match = PROGRESS.search(line.decode(errors='replace'))
        if not line or (match and int(match.group(2)) >= n):
            break
    return lines


def check_interrupt(command, cwd, ref):
    # 300 ms a file, two workers: about 40 s of work, interrupted once a
    # few results are in.
    workers = 2
    proc = subprocess.Popen(command + ['--slow', '300', '--workers', str(workers), 'tree'],
                            cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    first = wait_for_hashed(proc.stderr, 4)
    check(b'hashed' in first, 'progress lines before the interrupt', first)
    proc.send_signal(signal.SIGINT)
    try:
        out, err = proc.communicate(timeout=hash_tree.RUN_TIMEOUT)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        check(False, 'exits after SIGINT',
              'still running %d s after SIGINT' % hash_tree.RUN_TIMEOUT)
        return
    err = (first + err).decode(errors='replace')
    check(proc.returncode == 130, 'exit status 130 after SIGINT',
          'status %d, stderr:\n%s' % (proc.returncode, err))
    summary = [line for line in err.splitlines() if 'interrupted:' in line]
    check(len(summary) == 1, 'one "interrupted:" summary', err)
    printed = lines_of(out)
    expected = lines_of(ref)
    positions = [expected.index(line) if line in expected else -1 for line in printed]
    check(len(printed) >= 4 and -1 not in positions and positions == sorted(positions),
          'what was printed is correct and in order', out.decode(errors='replace'))
    check(summary and ('%d files hashed' % len(printed)) in summary[0] and
          len(printed) < len(expected),
          'the summary counts the printed files, and not all were hashed', err)
    # Backpressure: a path is found once the paths channel took it; until
    # it is counted as hashed it sits in that channel, in a worker's hands
    # or in the results channel. The walk never runs further ahead.
    ahead = [int(m.group(1)) - int(m.group(2)) for m in PROGRESS.finditer(err)]
    check(ahead and max(ahead) <= 2 * CAPACITY + workers,
          'the walker stays at most %d files ahead of the collector' % (2 * CAPACITY + workers),
          err)


def main():
    # The example runs in a temporary directory: meson passes paths
    # relative to the build directory.
    command = [os.path.abspath(arg) if os.sep in arg and os.path.exists(arg) else arg
               for arg in sys.argv[1:]]
    if not command:
        sys.exit(__doc__)
    with tempfile.TemporaryDirectory(prefix='nursery-pipeline-') as cwd:
        make_pipeline_tree(os.path.join(cwd, 'tree'))
        ref = hash_tree.reference(cwd, 'tree')
        check_output(command, cwd, ref, 1)
        check_output(command, cwd, ref, 4)
        check_output(command, cwd, ref, 32)
        check_output(command, cwd, ref, 4, env=dict(os.environ, LC_ALL='C'),
                     what=' under LC_ALL=C')
        check_missing_dir(command, cwd)
        check_usage(command, cwd)
        check_interrupt(command, cwd, ref)
    print('1..%d' % len(hash_tree.results))
    sys.exit(0 if all(hash_tree.results) else 1)


if __name__ == '__main__':
    main()
