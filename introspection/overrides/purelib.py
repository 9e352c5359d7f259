# SPDX-License-Identifier: LGPL-2.1-or-later
"""Print where pure Python modules go for an install prefix, relative to it.

Usage: purelib.py PREFIX

Asks the interpreter running this script (the one meson uses for the
override) where `pip install --prefix=PREFIX` would put pure modules, so
that the override lands on that interpreter's sys.path for the usual
prefixes. Debian's Python installs /usr into lib/python3/dist-packages
(the deb_system scheme) and /usr/local into
local/lib/python3.X/dist-packages under /usr (posix_local); any other
prefix gets the standard lib/python3.X/site-packages, which then goes on
PYTHONPATH. meson 1.0's own python.get_install_dir() gives
lib/python3/dist-packages for every prefix, which /usr/local's Python
does not search.
"""

import os
import sys
import sysconfig


def purelib(prefix):
    schemes = sysconfig.get_scheme_names()
    prefix = os.path.normpath(prefix)
    if ("venv" in schemes and sys.prefix != sys.base_prefix
            and prefix == os.path.normpath(sys.prefix)):
        scheme, base = "venv", prefix
    elif prefix == "/usr" and "deb_system" in schemes:
        scheme, base = "deb_system", prefix
    elif prefix == "/usr/local" and "posix_local" in schemes:
        scheme, base = "posix_local", "/usr"
    else:
        scheme, base = "posix_prefix", prefix
    path = sysconfig.get_path("purelib", scheme,
                              vars={"base": base, "platbase": base})
    return os.path.relpath(path, prefix)


if __name__ == "__main__":
    print(purelib(sys.argv[1]))
