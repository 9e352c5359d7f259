#!/usr/bin/env python3
# check-progress-window.py: the test of examples/progress-window.c
#
# Copyright 2026 The Nursery authors
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Usage: check-progress-window.py XVFB-RUN PROGRESS-WINDOW

Runs the GTK 4 window under a private X server (xvfb-run -a) with
--screenshot: half-way through its steps the window renders itself to a
PNG (GTK's own renderer, no X screen grab), presses its own Cancel button
and exits once the group has closed. Printing TAP, it checks that

- the program exits 0 (its own check that the group ended cancelled,
  after the screenshot) and prints the cancelled summary, with some
  steps cancelled and every step accounted for;
- the PNG exists, has the size the window reported, and really shows
  something: many colours, not one flat fill, and a partly filled
  progress bar (a run of the theme's blue accent across part of the
  window, not all of it).

Only the standard library is used (zlib decodes the PNG), so any
python3 runs it.
"""

import os
import re
import struct
import subprocess
import sys
import tempfile
import zlib

STEPS = 20
TIMEOUT = 20          # seconds: a failure guard only

results = []


def check(ok, what, detail=''):
    results.append(ok)
    print('%s %d - %s' % ('ok' if ok else 'not ok', len(results), what))
    if not ok and detail:
        for line in str(detail).splitlines():
            print('# ' + line)
    return ok


def paeth(a, b, c):
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    if pa <= pb and pa <= pc:
        return a
    return b if pb <= pc else c


def read_png(path):
    """(width, height, rows of (r, g, b) tuples) of an 8-bit RGB(A) PNG."""
    with open(path, 'rb') as f:
        data = f.read()
    if data[:8] != b'\x89PNG\r\n\x1a\n':
        raise ValueError('not a PNG')
    pos, idat, header = 8, b'', None
    while pos < len(data):
        length, kind = struct.unpack('>I4s', data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b'IHDR':
            header = struct.unpack('>IIBBBBB', body)
        elif kind == b'IDAT':
            idat += body
        pos += 12 + length
    width, height, depth, colour, _, _, interlace = header
    if depth != 8 or colour not in (2, 6) or interlace:
        raise ValueError('unexpected PNG format: depth %d, colour type %d, interlace %d'
                         % (depth, colour, interlace))
    bpp = 4 if colour == 6 else 3
    raw = zlib.decompress(idat)
    stride = width * bpp
    rows, previous = [], bytearray(stride)
    for y in range(height):
        start = y * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1:start + 1 + stride])
        for x in range(stride):
            left = line[x - bpp] if x >= bpp else 0
            up = previous[x]
            upleft = previous[x - bpp] if x >= bpp else 0
            predictor = (0, left, up, (left + up) // 2, paeth(left, up, upleft))[kind]
            line[x] = (line[x] + predictor) & 0xFF
        rows.append([tuple(line[i:i + 3]) for i in range(0, stride, bpp)])
        previous = line
    return width, height, rows


def is_accent_blue(pixel):
    r, g, b = pixel
    return b > 150 and b - r > 80 and b - g > 30


def longest_blue_run(rows):
    """The longest horizontal run of accent-blue pixels: the filled part
    of the progress bar."""
    best = 0
    for row in rows:
        run = 0
        for pixel in row:
            run = run + 1 if is_accent_blue(pixel) else 0
            best = max(best, run)
    return best


def run_window(xvfb_run, program, png):
    env = dict(os.environ,
               GDK_BACKEND='x11',
               GSK_RENDERER='cairo',     # no GL needed, same pixels everywhere
               GTK_A11Y='none',          # no accessibility bus under Xvfb
               NO_AT_BRIDGE='1')
    return subprocess.run([xvfb_run, '-a', '-s', '-screen 0 1024x768x24',
                           program, '--steps', str(STEPS), '--jobs', '3', '--step-ms', '300',
                           '--screenshot', png],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          timeout=TIMEOUT, env=env)


def check_summary(out):
    summary = re.search(r'^Cancelled: (\d+) succeeded, (\d+) failed, (\d+) cancelled$', out, re.M)
    check(summary is not None, 'the window ends with the cancelled summary', out)
    if summary:
        succeeded, failed, cancelled = map(int, summary.groups())
        check(cancelled >= 1 and succeeded >= STEPS // 2 - failed and
              succeeded + failed + cancelled == STEPS,
              'Cancel stopped the rest: %d succeeded, %d failed, %d cancelled'
              % (succeeded, failed, cancelled))


def check_picture(png, out):
    size = re.search(r'^screenshot: .* (\d+)x(\d+)$', out, re.M)
    if not check(size is not None and os.path.exists(png), 'the screenshot was saved', out):
        return
    width, height, rows = read_png(png)
    reported = tuple(map(int, size.groups()))
    check((width, height) == reported and width >= 300 and height >= 120,
          'the PNG is %dx%d, the size of the window' % (width, height), 'reported %dx%d' % reported)
    colours = {pixel for row in rows for pixel in row}
    check(len(colours) >= 20, 'the picture is not flat (%d colours)' % len(colours))
    run = longest_blue_run(rows)
    check(0.3 * width <= run <= 0.95 * width,
          'the progress bar is partly filled (%d of %d pixels)' % (run, width))


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    with tempfile.TemporaryDirectory(prefix='nursery-progress-window-') as tmp:
        png = os.path.join(tmp, 'window.png')
        proc = run_window(sys.argv[1], sys.argv[2], png)
        out = proc.stdout.decode()
        check(proc.returncode == 0, 'progress-window exits 0',
              'status %d\n%s%s' % (proc.returncode, out, proc.stderr.decode()))
        check_summary(out)
        check_picture(png, out)
        # Keep the picture for a person to look at, when asked to.
        keep = os.environ.get('NURSERY_KEEP_SCREENSHOT')
        if keep and os.path.exists(png):
            with open(png, 'rb') as src, open(keep, 'wb') as dst:
                dst.write(src.read())
    print('1..%d' % len(results))
    sys.exit(0 if all(results) else 1)


if __name__ == '__main__':
    main()
