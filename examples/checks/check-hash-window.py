#!/usr/bin/env python3
# check-hash-window.py: the test of examples/hash_window.py
#
# Copyright 2026 The Nursery authors
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Usage: check-hash-window.py XVFB-RUN GI-PYTHON HASH_WINDOW.PY

Builds a directory of 24 files of 512 KiB and one broken symbolic link,
then runs the GTK 4 Python application on it under a private X server
(xvfb-run -a), twice, printing TAP:

- with --screenshot: half-way the window renders itself to a PNG, presses
  its own Cancel button and closes once the group has closed. The
  program exits 0 with the cancelled summary (some files hashed, the
  broken link failed and handled, the rest cancelled, every file
  accounted for), and the PNG has the window's size, is not flat, shows
  the overall bar partly filled and several rows of the task list with
  their own progress bars;
- with --close-at-half: the window is closed half-way while files are
  being hashed, as a user would. The application cancels the group and
  exits 0 only after the group closed, with no thread child running.

Only the standard library is used; the PNG reader is the one of
check-progress-window.py.
"""

import importlib.util
import os
import re
import subprocess
import sys
import tempfile

N_FILES = 24
TIMEOUT = 30          # seconds: a failure guard only

results = []


def check(ok, what, detail=''):
    results.append(ok)
    print('%s %d - %s' % ('ok' if ok else 'not ok', len(results), what))
    if not ok and detail:
        for line in str(detail).splitlines():
            print('# ' + line)
    return ok


def load_png_tools():
    here = os.path.dirname(os.path.abspath(__file__))
    spec = importlib.util.spec_from_file_location('check_progress_window',
                                                  os.path.join(here, 'check-progress-window.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def make_tree(root):
    for i in range(1, N_FILES + 1):
        with open(os.path.join(root, 'file%02d.bin' % i), 'wb') as f:
            f.write(os.urandom(512 * 1024))
    os.symlink('/nonexistent/nursery-check', os.path.join(root, 'broken-link'))


def run_app(xvfb_run, python, script, tree, *mode):
    env = dict(os.environ,
               GDK_BACKEND='x11',
               GSK_RENDERER='cairo',     # no GL needed, same pixels everywhere
               GTK_A11Y='none',          # no accessibility bus under Xvfb
               NO_AT_BRIDGE='1')
    proc = subprocess.run([xvfb_run, '-a', '-s', '-screen 0 1024x768x24', python, script,
                           '--jobs', '3', '--chunk-ms', '20', *mode, tree],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          timeout=TIMEOUT, env=env)
    return proc.returncode, proc.stdout.decode(), proc.stderr.decode()


def check_summary(out):
    summary = re.search(r'^Cancelled: (\d+) succeeded, (\d+) failed, (\d+) cancelled$', out, re.M)
    if not check(summary is not None, 'the run ends with the cancelled summary', out):
        return
    succeeded, failed, cancelled = map(int, summary.groups())
    check(failed == 1 and cancelled >= 1 and succeeded >= 1 and
          succeeded + failed + cancelled == N_FILES + 1,
          'Cancel stopped the rest: %d succeeded, %d failed, %d cancelled'
          % (succeeded, failed, cancelled))
    check(re.search(r'^failed: broken-link: ', out, re.M) is not None,
          'the unreadable entry is a handled failure, shown with its task', out)


def row_bars(rows, width, png):
    """How many separate bands of rows show blue in the right half: the
    list rows' own progress bars."""
    bands, inside = 0, False
    for row in rows:
        blue = any(png.is_accent_blue(pixel) for pixel in row[width // 2:])
        left_blue = any(png.is_accent_blue(pixel) for pixel in row[:width // 3])
        shows = blue and not left_blue
        if shows and not inside:
            bands += 1
        inside = shows
    return bands


def check_picture(png_path, out, png):
    size = re.search(r'^screenshot: .* (\d+)x(\d+)$', out, re.M)
    if not check(size is not None and os.path.exists(png_path), 'the screenshot was saved', out):
        return
    width, height, rows = png.read_png(png_path)
    reported = tuple(map(int, size.groups()))
    check((width, height) == reported and width >= 300 and height >= 200,
          'the PNG is %dx%d, the size of the window' % (width, height), 'reported %dx%d' % reported)
    colours = {pixel for row in rows for pixel in row}
    check(len(colours) >= 20, 'the picture is not flat (%d colours)' % len(colours))
    run = png.longest_blue_run(rows)
    check(0.3 * width <= run <= 0.95 * width,
          'the overall bar is partly filled (%d of %d pixels)' % (run, width))
    bands = row_bars(rows, width, png)
    check(bands >= 2, 'the task list shows %d rows with their own progress' % bands)


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    xvfb_run, python, script = sys.argv[1:]
    png = load_png_tools()
    with tempfile.TemporaryDirectory(prefix='nursery-hash-window-') as tmp:
        tree = os.path.join(tmp, 'tree')
        os.mkdir(tree)
        make_tree(tree)

        shot = os.path.join(tmp, 'window.png')
        status, out, err = run_app(xvfb_run, python, script, tree, '--screenshot', shot)
        check(status == 0, 'hash_window.py --screenshot exits 0', 'status %d\n%s%s' % (status, out, err))
        check_summary(out)
        check_picture(shot, out, png)
        keep = os.environ.get('NURSERY_KEEP_SCREENSHOT')
        if keep and os.path.exists(shot):
            with open(shot, 'rb') as src, open(keep, 'wb') as dst:
                dst.write(src.read())

        status, out, err = run_app(xvfb_run, python, script, tree, '--close-at-half')
        check(status == 0, 'hash_window.py --close-at-half exits 0', 'status %d\n%s%s' % (status, out, err))
        closing = re.search(r'^closing the window while (\d+) files are hashing$', out, re.M)
        check(closing is not None and int(closing.group(1)) >= 1,
              'the window is closed while files are being hashed', out)
        check_summary(out)
        order = [out.find(marker) for marker in ('window closed: cancelling', 'Cancelled:', 'exit:')]
        check(-1 not in order and order == sorted(order),
              'closing cancels; the process ends only after the group closed', out)
        check(re.search(r'^exit: group closed, 0 running, 1 threads$', out, re.M) is not None,
              'no thread child outlives the application', out)
    print('1..%d' % len(results))
    sys.exit(0 if all(results) else 1)


if __name__ == '__main__':
    main()
