#!/bin/sh
# Builds the file tree that the grit image holds beside the application's jars:
#   /opt/java        a Java runtime cut down by jlink to the modules the jars use
#   /lib*, /usr/lib* the host's shared libraries that runtime and the jars' native code link to
#                    (rocksdbjni needs libstdc++; sqlite-jdbc, jffi and netty extract their
#                    native code to /tmp at run time and load it from there)
#   /bin/sh, /usr/bin/setsid
#                    busybox: grit runs every step as `setsid sh -c SCRIPT`, and steps use the
#                    usual tools (cat, tr, sort, awk, ...), which busybox's shell finds as applets
#   /usr/lib/locale/C.utf8
#                    the UTF-8 locale, so that file names and output are not read as ASCII
#   /usr/bin/fusermount, libfuse.so.2
#                    FUSE output capture, when the build host has them (else plain output dirs)
# Jib then lays this tree onto an image "from scratch" (the "image" profile of node/pom.xml).
# Libraries come from the build host, so the image is for the host's architecture (amd64 here).
#
# usage: rootfs.sh OUT_DIR LIB_DIR [APP...]
#   OUT_DIR  removed, then filled
#   LIB_DIR  the node's runtime jars (node/target/lib)
#   APP      the application's own jars or class directories, for jdeps
# Needs a JDK with jmods (JAVA_HOME, else the JDK of the jlink on PATH), ldd and busybox.
set -eu

usage="usage: rootfs.sh OUT_DIR LIB_DIR [APP...]"
[ $# -ge 2 ] || { echo "$usage" >&2; exit 2; }
fail() { echo "rootfs.sh: $*" >&2; exit 1; }
mkdir -p "$1"
out=$(cd "$1" && pwd)
lib_dir=$(cd "$2" && pwd) || fail "no directory $2"
shift 2

if [ -z "${JAVA_HOME:-}" ]; then
  jlink_bin=$(command -v jlink) || fail "no jlink on PATH; set JAVA_HOME to a JDK"
  JAVA_HOME=$(dirname "$(dirname "$(readlink -f "$jlink_bin")")")
fi
[ -f "$JAVA_HOME/jmods/java.base.jmod" ] ||
  fail "$JAVA_HOME has no jmods: install the full JDK (Debian: openjdk-17-jdk-headless)"
command -v ldd >/dev/null || fail "ldd is missing (Debian: libc-bin)"
busybox=$(command -v busybox) || fail "busybox is missing (Debian: apt-get install busybox-static)"
ls "$lib_dir"/*.jar >/dev/null 2>&1 || fail "no jars in $lib_dir: run mvn package first"

rm -rf "$out"
mkdir -p "$out"
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

# 1. The Java runtime. jdeps finds the modules the jars link to; jdk.crypto.ec is looked up by name
#    at run time (TLS to the Kubernetes API server, and the members' ECDSA certificates), so
#    jdeps cannot see it.
modules=$("$JAVA_HOME/bin/jdeps" --ignore-missing-deps --print-module-deps --multi-release 17 -q \
  --class-path "$lib_dir/*" "$@" "$lib_dir"/*.jar)
modules="$modules,jdk.crypto.ec"
echo "rootfs.sh: jlink $modules" >&2
"$JAVA_HOME/bin/jlink" --module-path "$JAVA_HOME/jmods" --add-modules "$modules" \
  --strip-debug --no-man-pages --no-header-files --output "$out/opt/java"
# java.desktop is there only for java.beans (Jackson): its AWT, font and sound libraries would
# pull in X11 and more, and a headless server never loads them.
"$JAVA_HOME/bin/jmod" list "$JAVA_HOME/jmods/java.desktop.jmod" | sed -n 's#^lib/##p' |
  while read -r f; do rm -f "$out/opt/java/lib/$f"; done

# 2. Native code shipped in jars, only to ask ldd what it links to (it is extracted again at run
#    time): the glibc x86-64 variants.
mkdir "$scratch/natives"
for jar in "$lib_dir"/*.jar; do
  entries=$("$JAVA_HOME/bin/jar" tf "$jar" | grep -E '\.so$' | grep -i linux |
    grep -iE 'x86_64|amd64|linux64' | grep -iv musl || true)
  [ -n "$entries" ] || continue
  (cd "$scratch/natives" && "$JAVA_HOME/bin/jar" xf "$jar" $entries)
done

# 3. busybox as sh and setsid; FUSE's user-space parts when the host has them; the locale.
install -D -m 755 "$busybox" "$out/bin/sh"
install -D -m 755 "$busybox" "$out/usr/bin/setsid"
fusermount=$(command -v fusermount3 || command -v fusermount || true)
ldconfig=$(command -v ldconfig || echo /sbin/ldconfig)
libfuse=$("$ldconfig" -p 2>/dev/null | sed -n 's#.*libfuse\.so\.2 .*=> ##p' | head -n 1)
if [ -n "$fusermount" ] && [ -n "$libfuse" ]; then
  # Image layers carry no setuid bit: the FUSE overlay runs the node as root.
  install -D -m 755 "$fusermount" "$out/usr/bin/fusermount"
  install -D -m 644 "$libfuse" "$out$libfuse"
else
  echo "rootfs.sh: no libfuse2/fusermount3 here: the image captures outputs in plain directories" >&2
  libfuse=
fi

# The C.UTF-8 locale (the image's LANG): without it the JVM falls back to ASCII for file names
# and output. Newer glibc has it built in; Debian's reads it from here.
if [ -d /usr/lib/locale/C.utf8 ]; then
  mkdir -p "$out/usr/lib/locale"
  cp -R /usr/lib/locale/C.utf8 "$out/usr/lib/locale/"
fi

# 4. Every shared library those link to, at the path the host's loader found it (the image's
#    loader searches the same default directories), plus the loader itself. "not found" lines are
#    the runtime's own libraries, which it finds next to itself.
{
  find "$out/opt/java" "$scratch/natives" "$out/bin" "$out/usr/bin" -type f \
    \( -name '*.so' -o -perm -u+x \) -exec ldd {} \; 2>/dev/null
  [ -z "$libfuse" ] || ldd "$libfuse"
} | sed -n -e 's#.*=> \(/[^ ]*\) (0x.*#\1#p' -e 's#^[[:space:]]*\(/[^ ]*\) (0x.*#\1#p' |
  grep -vF "$out/" | sort -u > "$scratch/libs"
[ -s "$scratch/libs" ] || fail "ldd found no libraries: is this a glibc host?"
while read -r lib; do
  install -D -m 755 "$(readlink -f "$lib")" "$out$lib"
done < "$scratch/libs"

# 5. Directories the image must have: /tmp for the extracted native code and the JVM's files (an
#    emptyDir under Kubernetes, since the root file system is read-only there) and the data mount.
mkdir -p "$out/tmp" "$out/var/lib/grit"

echo "rootfs.sh: $(du -sh "$out" | cut -f1) in $out ($(wc -l < "$scratch/libs") host libraries)" >&2
