#!/usr/bin/env bash
# test-subproject.sh: Nursery built as a subproject of another project
#
# Copyright 2026 The Nursery authors
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Usage: test-subproject.sh SRCROOT MESON
#
# Makes a parent project in a temporary directory (parent.meson.build,
# parent.meson_options.txt, parent.c from this directory) with
# subprojects/nursery a symbolic link to SRCROOT, forcing the fallback,
# then checks, as TAP:
#   1. it configures and builds, and its program (a Nursery client) runs;
#   2. the parent gets none of Nursery's tests, nor its examples;
#   3. Nursery's `introspection` option yields to the parent's (disabled
#      there): no GIR is built;
#   4. `-Dnursery:tests=true` still brings Nursery's tests back.
# Everything is local: no download. The temporary tree is always removed.

set -euo pipefail

srcroot=$1
meson=$2
here=$(cd "$(dirname "$0")" && pwd)

tmp=$(mktemp -d "${TMPDIR:-/tmp}/nursery-subproject.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

n=0
ok () { n=$((n + 1)); echo "ok $n - $*"; }
fail () { echo "Bail out! $*"; exit 1; }
run () {
  local what=$1; shift
  if ! "$@" > "$tmp/last.log" 2>&1; then
    sed 's/^/# /' "$tmp/last.log"
    fail "$what"
  fi
}

parent=$tmp/parent
mkdir -p "$parent/subprojects"
cp "$here/parent.meson.build" "$parent/meson.build"
cp "$here/parent.meson_options.txt" "$parent/meson_options.txt"
cp "$here/parent.c" "$parent/parent.c"
ln -s "$srcroot" "$parent/subprojects/nursery"

# --force-fallback-for: an installed libnursery-1 must not be picked.
# Static: the parent's program needs no LD_LIBRARY_PATH.
run "the parent project did not configure" \
  "$meson" setup "$tmp/build" "$parent" --force-fallback-for=libnursery-1 \
    -Ddefault_library=static
ok "a parent project configures with Nursery as a subproject"

run "the parent project did not build" "$meson" compile -C "$tmp/build"
run "the parent's program failed" "$meson" test -C "$tmp/build" --print-errorlogs
ok "the parent builds and its Nursery client runs"

"$meson" test -C "$tmp/build" --no-rebuild --list > "$tmp/tests.txt" 2> /dev/null
if [ "$(cat "$tmp/tests.txt")" != parent ]; then
  sed 's/^/# /' "$tmp/tests.txt"
  fail "the parent got tests other than its own"
fi
ok "the parent gets no Nursery tests"

"$meson" introspect --targets "$tmp/build" > "$tmp/targets.json"
targets=$(python3 -c 'import json, sys; print(" ".join(t["name"] for t in json.load(open(sys.argv[1]))))' "$tmp/targets.json")
for unwanted in demo echo-server test-group; do
  case " $targets " in
    *" $unwanted "*) fail "the parent builds Nursery's $unwanted (targets: $targets)" ;;
  esac
done
ok "the parent builds no Nursery examples or test programs"

case " $targets " in
  *"Nursery-1.0.gir"*|*"Nursery-1.0"*) fail "introspection did not yield to the parent's option (targets: $targets)" ;;
esac
ok "Nursery's introspection option yields to the parent's"

run "-Dnursery:tests=true was refused" "$meson" setup --reconfigure "$tmp/build" "$parent" -Dnursery:tests=true
"$meson" test -C "$tmp/build" --no-rebuild --list > "$tmp/tests.txt" 2> /dev/null || true
grep -q 'nursery:c / group' "$tmp/tests.txt" || fail "-Dnursery:tests=true did not bring Nursery's tests back"
ok "-Dnursery:tests=true turns Nursery's tests on"

echo "1..$n"
