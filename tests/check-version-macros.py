#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""check-version-macros.py: the availability macros warn where they must

Usage: check-version-macros.py CC [CC-ARGS...] -- INCLUDE-FLAGS...

Compiles (-fsyntax-only) small programs against <nursery.h> with
-Werror=deprecated-declarations and checks which of them the compiler
refuses: API marked deprecated in 1.0 warns, unless
NURSERY_DISABLE_DEPRECATION_WARNINGS is defined; API marked unavailable
warns; NURSERY_VERSION_MIN_REQUIRED below 1.0 and MAX_ALLOWED below
MIN_REQUIRED are errors. The first case must compile, so a broken
command line cannot pass for a refusal. Prints TAP.
"""

import os
import subprocess
import sys
import tempfile

USE_DEPRECATED = '''
#include <nursery.h>
NURSERY_DEPRECATED_IN_1_0_FOR (nursery_group_new) NurseryGroup *old_group_new (void);
void use (void);
void use (void) { g_object_unref (old_group_new ()); }
'''

USE_UNAVAILABLE = '''
#include <nursery.h>
NURSERY_UNAVAILABLE (1, 2) void future_api (void);
void use (void);
void use (void) { future_api (); }
'''

USE_CURRENT = '''
#include <nursery.h>
NURSERY_AVAILABLE_IN_1_0 void current_api (void);
void use (void);
void use (void) { current_api (); g_object_unref (nursery_group_new ()); }
'''

CASES = [
    # (what, source, extra flags, compiles?)
    ('API available in 1.0 compiles', USE_CURRENT, [], True),
    ('API deprecated in 1.0 warns', USE_DEPRECATED, [], False),
    ('NURSERY_DISABLE_DEPRECATION_WARNINGS silences it', USE_DEPRECATED,
     ['-DNURSERY_DISABLE_DEPRECATION_WARNINGS'], True),
    ('API newer than NURSERY_VERSION_MAX_ALLOWED warns', USE_UNAVAILABLE, [], False),
    ('NURSERY_VERSION_MIN_REQUIRED below 1.0 is an error', USE_CURRENT,
     ['-DNURSERY_VERSION_MIN_REQUIRED=G_ENCODE_VERSION(0,9)'], False),
    ('NURSERY_VERSION_MAX_ALLOWED below MIN_REQUIRED is an error', USE_CURRENT,
     ['-DNURSERY_VERSION_MIN_REQUIRED=G_ENCODE_VERSION(1,2)',
      '-DNURSERY_VERSION_MAX_ALLOWED=NURSERY_VERSION_1_0'], False),
    ('pinning both to 1.0 compiles', USE_CURRENT,
     ['-DNURSERY_VERSION_MIN_REQUIRED=NURSERY_VERSION_1_0',
      '-DNURSERY_VERSION_MAX_ALLOWED=NURSERY_VERSION_1_0'], True),
]


def main():
    if '--' not in sys.argv:
        sys.exit(__doc__)
    split = sys.argv.index('--')
    cc, includes = sys.argv[1:split], sys.argv[split + 1:]
    failed = 0
    with tempfile.TemporaryDirectory() as tmp:
        for n, (what, source, flags, should_compile) in enumerate(CASES, 1):
            path = os.path.join(tmp, 'case%d.c' % n)
            with open(path, 'w') as f:
                f.write(source)
            run = subprocess.run(cc + ['-fsyntax-only', '-Werror=deprecated-declarations']
                                 + includes + flags + [path],
                                 capture_output=True, text=True)
            ok = (run.returncode == 0) == should_compile
            failed += not ok
            print('%s %d - %s' % ('ok' if ok else 'not ok', n, what))
            if not ok:
                for line in (run.stderr or 'it compiled').splitlines()[:20]:
                    print('# ' + line)
    print('1..%d' % len(CASES))
    sys.exit(1 if failed else 0)


if __name__ == '__main__':
    main()
