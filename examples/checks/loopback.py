# loopback.py: skip a networked example test where there is no loopback
#
# Copyright 2026 The Nursery authors
# SPDX-License-Identifier: LGPL-2.1-or-later
"""A build user in a network namespace of its own (some package builders
run tests so) has no working loopback: binding or connecting to
127.0.0.1 fails with "Network is unreachable" or "Cannot assign requested
address". That says nothing about the example, so the test is skipped:
TAP's "1..0 # SKIP" (meson's TAP protocol reads a non-zero status as an
error, so the skip is in the plan, with status 0).
"""

import socket
import sys


def loopback_error():
    """None if a TCP connection over 127.0.0.1 works, else the error."""
    try:
        with socket.socket() as server:
            server.bind(('127.0.0.1', 0))
            server.listen()
            with socket.create_connection(server.getsockname(), timeout=5):
                pass
    except OSError as error:
        return error
    return None


def skip_without_loopback():
    error = loopback_error()
    if error is not None:
        print('1..0 # SKIP no loopback networking here: %s' % error)
        sys.exit(0)
