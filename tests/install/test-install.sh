#!/usr/bin/env bash
# test-install.sh: use Nursery as installed, not as built
#
# Copyright 2026 The Nursery authors
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Usage: test-install.sh BUILDDIR SRCDIR [PYTHON] [VALAC] [GJS]
#
# Installs BUILDDIR into a temporary DESTDIR, then, from a directory
# outside the source tree and with only the environment variables the
# README's "Installing" section documents (GI_TYPELIB_PATH,
# LD_LIBRARY_PATH, PYTHONPATH, PKG_CONFIG_PATH) pointing into that tree:
#   1. checks the library exports nothing but nursery_* symbols;
#   2. builds installed-smoke.c with `pkg-config libnursery-1` and runs it;
#   3. imports Nursery from PYTHON (needs `gi`) with only the installed
#      typelib and library, then again with the installed override, which
#      must sit in a directory PYTHON searches for the chosen prefix; then
#      runs every python-*.py snippet here with the override;
#   4. builds installed-smoke.vala against the installed VAPI with VALAC;
#   5. runs installed-smoke.js with GJS, checks GJS runs the installed
#      override (which must sit in a directory GJS searches for the
#      chosen prefix), and runs the installed module nursery.js (async
#      function children);
#   6. runs the installed tests (-Dinstalled_tests=true) from their .test
#      files, as gnome-desktop-testing-runner would.
# Steps 3-6 are skipped when PYTHON / VALAC / GJS is empty or no such file
# was installed. Output is TAP. The temporary tree is always removed.

set -euo pipefail

builddir=$1
srcdir=$2
python=${3:-}
valac=${4:-}
gjs=${5:-}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/nursery-install.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
dest=$tmp/root

n=0
ok () { n=$((n + 1)); echo "ok $n - $*"; }
skip () { n=$((n + 1)); echo "ok $n # SKIP $*"; }
# Bail out: TAP's way to stop the whole test with one clear reason.
fail () { echo "Bail out! $*"; exit 1; }
# Runs "$@" quietly; on failure shows its output and bails out with $what.
run () {
  local what=$1; shift
  if ! "$@" > "$tmp/last.log" 2>&1; then
    sed 's/^/# /' "$tmp/last.log"
    fail "$what"
  fi
}

# Nothing from the build tree or the caller may leak in: the point is
# that the installed files are enough on their own.
unset LD_LIBRARY_PATH GI_TYPELIB_PATH PKG_CONFIG_PATH PYTHONPATH \
      LIBRARY_PATH CPATH C_INCLUDE_PATH GJS_PATH
# Clients run from outside the source and build trees.
mkdir "$tmp/run"
cd "$tmp/run"

# --no-rebuild: a second ninja in the same build directory could race
# with a concurrent one. But `meson test` only builds what tests depend
# on, so make sure the rest (VAPI, override, examples, ...) is built too,
# asking ninja without letting it build (-n writes nothing).
if command -v ninja > /dev/null && [ -f "$builddir/build.ninja" ]; then
  if ! ninja -C "$builddir" -n | grep -q 'no work to do'; then
    fail "$builddir is not fully built: run 'meson compile -C $builddir' first"
  fi
fi
run "meson install --destdir failed" \
  meson install -C "$builddir" --no-rebuild --destdir "$dest"
ok "meson install --destdir $dest"

# The .pc file names the real prefix (/usr/local, ...). `pkg-config
# --define-variable=prefix=...` cannot relocate it: pkgconf applies the
# definition to every .pc in the Requires chain, so glib's include paths
# would move into DESTDIR too. Relocate a copy instead: only its prefix=
# line changes, so every other path in it must be relative to ${prefix}.
pc=$(find "$dest" -path '*/pkgconfig/libnursery-1.pc' -print -quit)
[ -n "$pc" ] || fail "no libnursery-1.pc was installed"
prefix=$(sed -n 's/^prefix=//p' "$pc")
mkdir "$tmp/pkgconfig"
sed "s|^prefix=.*|prefix=$dest$prefix|" "$pc" > "$tmp/pkgconfig/libnursery-1.pc"
export PKG_CONFIG_PATH=$tmp/pkgconfig

libdir=$(pkg-config --variable=libdir libnursery-1)
case $libdir in
  "$dest"/*) ;;
  *) fail "libdir=$libdir is outside DESTDIR: the .pc file must define it from \${prefix}" ;;
esac
export LD_LIBRARY_PATH=$libdir

# 1. The ABI is exactly what is annotated (hidden visibility + export macro).
# A static-only build (-Ddefault_library=static) has no dynamic symbols.
shared=$libdir/libnursery-1.so
if [ -e "$shared" ]; then
  # A -Db_coverage=true build links libgcov in, which exports its own
  # symbols (__gcov_*, mangle_path): not part of the ABI.
  foreign=$(nm -D --defined-only "$shared" |
            awk '$3 !~ /^nursery_/ && $3 !~ /^__gcov_/ && $3 != "mangle_path" { print $3 }')
  [ -z "$foreign" ] || fail "libnursery-1.so exports symbols outside nursery_*: ${foreign//$'\n'/ }"
  ok "libnursery-1.so exports only nursery_* symbols"
elif [ -e "$libdir/libnursery-1.a" ]; then
  skip "static-only build: no libnursery-1.so"
else
  fail "neither libnursery-1.so nor libnursery-1.a was installed in $libdir"
fi

# 2. A C client of the installed headers, .pc file and library.
mkdir "$tmp/c"
# $CC and pkg-config's output are unquoted on purpose: both are word
# lists ("ccache gcc", "-I... -L... -l...").
# shellcheck disable=SC2046,SC2086
run "installed-smoke.c did not build against the installed headers and .pc file" \
  ${CC:-cc} -Wall -Wextra -Werror -Wno-unused-parameter -o "$tmp/c/installed-smoke" \
    "$srcdir/installed-smoke.c" $(pkg-config --cflags --libs libnursery-1)
if [ -e "$shared" ]; then
  loaded=$(ldd "$tmp/c/installed-smoke" | awk '/libnursery-1\.so/ { print $3 }')
  case $loaded in
    "$dest"/*) ;;
    *) fail "installed-smoke would load libnursery-1 from '$loaded', not from DESTDIR" ;;
  esac
fi
run "installed-smoke (C client of the installed library) failed" "$tmp/c/installed-smoke"
ok "C client built with pkg-config libnursery-1 spawns and joins"

# 3. Python with only the installed typelib (and then the override).
typelib=$(find "$dest" -path '*/girepository-1.0/Nursery-1.0.typelib' -print -quit)
if [ -z "$python" ]; then
  skip "no Python interpreter with gi"
elif [ -z "$typelib" ]; then
  skip "no typelib was installed (introspection disabled)"
else
  run "Python could not use the installed typelib and library" \
    env GI_TYPELIB_PATH="$(dirname "$typelib")" \
      "$python" "$srcdir/installed-import.py" "$dest"
  ok "Python imports Nursery from the installed typelib"

  override=$(find "$dest" -path '*/gi/overrides/Nursery.py' -print -quit)
  if [ -z "$override" ]; then
    skip "no Python override was installed"
  else
    purelib=${override%/gi/overrides/Nursery.py}
    # Installed where this Python looks for the real prefix: on its
    # sys.path for the system prefixes (/usr, /usr/local). meson's own
    # default, lib/python3/dist-packages, is not searched under /usr/local.
    case $prefix in
      /usr|/usr/local)
        if ! "$python" -c 'import sys; sys.exit(sys.argv[1] not in sys.path)' "${purelib#"$dest"}"; then
          fail "the override went to ${purelib#"$dest"}, which $python does not search"
        fi
        ok "the override is in ${purelib#"$dest"}, on $python's sys.path" ;;
      *)
        skip "prefix $prefix is not a system prefix: its purelib goes on PYTHONPATH" ;;
    esac
    # gi.overrides is a pkgutil namespace: any gi/overrides on sys.path counts.
    run "Python could not use the installed override" \
      env GI_TYPELIB_PATH="$(dirname "$typelib")" PYTHONPATH="$purelib" \
        "$python" "$srcdir/installed-import.py" "$dest" override
    ok "Python uses the installed gi.overrides.Nursery"
    # The snippets: python-with.py, and any other python-*.py added here.
    for snippet in "$srcdir"/python-*.py; do
      run "$(basename "$snippet") failed with the installed override" \
        env GI_TYPELIB_PATH="$(dirname "$typelib")" PYTHONPATH="$purelib" \
          "$python" "$snippet"
      ok "Python snippet $(basename "$snippet") runs against the installed tree"
    done
  fi
fi

# 4. Vala with only the installed VAPI (its .deps file must add gio-2.0).
vapi=$(find "$dest" -path '*/vala/vapi/libnursery-1.vapi' -print -quit)
if [ -z "$valac" ]; then
  skip "no valac"
elif [ -z "$vapi" ]; then
  skip "no VAPI was installed"
else
  mkdir "$tmp/vala"
  run "installed-smoke.vala did not compile against the installed VAPI" \
    "$valac" -C --basedir "$srcdir" --directory "$tmp/vala" --vapidir "$(dirname "$vapi")" --pkg libnursery-1 \
      "$srcdir/installed-smoke.vala"
  # valac's C output is not warning-clean; -w keeps this about the VAPI.
  # shellcheck disable=SC2046,SC2086  # word lists, as above
  run "the C code valac generated from the installed VAPI did not build" \
    ${CC:-cc} -w -o "$tmp/vala/installed-smoke" "$tmp/vala/installed-smoke.c" \
      $(pkg-config --cflags --libs libnursery-1)
  run "installed-smoke (Vala client of the installed VAPI) failed" "$tmp/vala/installed-smoke"
  ok "Vala client built with the installed VAPI spawns and joins"
fi

# 5. GJS with only the installed typelib and library.
if [ -z "$gjs" ]; then
  skip "no gjs"
elif [ -z "$typelib" ]; then
  skip "no typelib was installed (introspection disabled)"
else
  run "installed-smoke.js (GJS client of the installed typelib) failed" \
    env GI_TYPELIB_PATH="$(dirname "$typelib")" "$gjs" -m "$srcdir/installed-smoke.js" "$dest"
  ok "GJS imports Nursery from the installed typelib"

  # The GJS override: GJS runs <dir>/gjs-1.0/overrides/Nursery.js for
  # each dir of XDG_DATA_DIRS on `import gi://Nursery`.
  gjs_override=$(find "$dest" -path '*/gjs-1.0/overrides/Nursery.js' -print -quit)
  [ -n "$gjs_override" ] || fail "the typelib was installed but not the GJS override gjs-1.0/overrides/Nursery.js"
  gjs_datadir=${gjs_override%/gjs-1.0/overrides/Nursery.js}
  # Installed where GJS looks for the real prefix: on its default search
  # path (XDG_DATA_DIRS unset) for the system prefixes.
  case $prefix in
    /usr|/usr/local)
      if ! env -u XDG_DATA_DIRS "$gjs" -c \
           'imports.system.exit(imports.searchPath.includes(ARGV[0]) ? 0 : 1)' \
           "${gjs_datadir#"$dest"}/gjs-1.0"; then
        fail "the GJS override went to ${gjs_datadir#"$dest"}/gjs-1.0, which $gjs does not search"
      fi
      ok "the GJS override is in ${gjs_datadir#"$dest"}/gjs-1.0, on GJS's default search path" ;;
    *)
      skip "prefix $prefix is not a system prefix: its datadir goes on XDG_DATA_DIRS" ;;
  esac
  # Here the real prefix is DESTDIR's: name it in XDG_DATA_DIRS.
  run "gjs did not run the installed override on import gi://Nursery" \
    env GI_TYPELIB_PATH="$(dirname "$typelib")" XDG_DATA_DIRS="$gjs_datadir" \
      "$gjs" -m "$srcdir/../gjs/installed-override.js" "$gjs_override"
  ok "GJS runs the installed override: a raw child that throws fails its task"

  # The GJS module: async function children (docs/bindings.md), with the
  # override GJS found, and without (a prefix outside XDG_DATA_DIRS): the
  # module then runs the override installed beside it.
  gjs_module=$(find "$dest" -path '*/nursery-1/gjs/nursery.js' -print -quit)
  [ -n "$gjs_module" ] || fail "the typelib was installed but not the GJS module nursery-1/gjs/nursery.js"
  for data_dirs in "$gjs_datadir" "$tmp/no-data-dir"; do
    run "gjs could not use the installed module nursery.js (XDG_DATA_DIRS=$data_dirs)" \
      env GI_TYPELIB_PATH="$(dirname "$typelib")" XDG_DATA_DIRS="$data_dirs" \
        "$gjs" -m "$srcdir/../gjs/installed-import.js" "file://$gjs_module"
  done
  ok "GJS imports the installed nursery.js and runs async children, with or without the override on XDG_DATA_DIRS"
fi

# 6. The installed tests, from their .test files: Exec names the real
# prefix, so run it from DESTDIR.
tests=$(find "$dest" -path '*/installed-tests/libnursery-1/*.test' | sort)
if [ -z "$tests" ]; then
  skip "no installed tests (-Dinstalled_tests=false)"
else
  for t in $tests; do
    exec_line=$(sed -n 's/^Exec=//p' "$t")
    [ -n "$exec_line" ] || fail "$t has no Exec= line"
    # Exec is "PROGRAM ARGS..."; word splitting is the .test format's own.
    # shellcheck disable=SC2086
    run "installed test $(basename "$t") failed" $dest$exec_line
    grep -q '^not ok' "$tmp/last.log" && fail "installed test $(basename "$t") reported a failure"
    ok "installed test $(basename "$t") passes from DESTDIR"
  done
fi

echo "1..$n"
