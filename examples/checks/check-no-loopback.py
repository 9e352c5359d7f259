#!/usr/bin/env python3
# check-no-loopback.py: the networked example tests skip without loopback
#
# Copyright 2026 The Nursery authors
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Usage: check-no-loopback.py CHECK PROGRAM [CHECK PROGRAM ...]

Runs each networked example test (check-echo-server.py, check-race.py)
inside a new network namespace, where loopback is down, as a package
builder's sandbox does: each must report a TAP skip with status 0, not a
failure. Exits 77 (skipped) where `unshare -rn` is not permitted.
"""

import shutil
import subprocess
import sys


def main():
    pairs = list(zip(sys.argv[1::2], sys.argv[2::2]))
    if not pairs or len(sys.argv) % 2 != 1:
        sys.exit(__doc__)
    unshare = shutil.which('unshare')
    if unshare is None or subprocess.run([unshare, '-rn', 'true'],
                                         capture_output=True).returncode != 0:
        print('unshare -rn (a user and network namespace) is not permitted here')
        sys.exit(77)
    failed = False
    for check, program in pairs:
        run = subprocess.run([unshare, '-rn', sys.executable, check, program],
                             capture_output=True, text=True, timeout=60)
        skipped = run.returncode == 0 and run.stdout.startswith('1..0 # SKIP')
        print('%s: %s (status %d)' % (check, 'skipped' if skipped else 'NOT skipped',
                                      run.returncode))
        if not skipped:
            print(run.stdout[-2000:], run.stderr[-2000:])
            failed = True
    sys.exit(1 if failed else 0)


if __name__ == '__main__':
    main()
