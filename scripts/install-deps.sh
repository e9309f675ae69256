#!/bin/sh
# Installs the Debian packages yarasnoop's build, tests and benchmarks need,
# when they are missing. Non-interactive; needs root (or sudo) only when
# something is missing.
#   scripts/install-deps.sh          build and tests (make, make test, make bench)
#   scripts/install-deps.sh vm       and the kernel matrix (make vmtest): qemu, busybox, kmod
#   scripts/install-deps.sh bench    and the benchmarks' real workloads (python's tests, strace)
set -eu

# liburing-dev: the io_uring test helper (tests/helpers/uring.c)
# man-db, groff-base, bsdextrautils (col) and systemd (systemd-analyze):
# the man page and service tests
PKGS="make gcc pkg-config libc6-dev
clang llvm libclang-rt-14-dev bpftool libbpf-dev libelf-dev zlib1g-dev
libyara-dev yara uuid-dev
libcmocka-dev python3 valgrind linux-perf procps util-linux coreutils time
man-db groff-base bsdextrautils systemd
openssl libssl-dev curl gnutls-bin binutils liburing-dev"
for group in "$@"; do
	case $group in
	vm) PKGS="$PKGS qemu-system-x86 busybox-static kmod xz-utils zstd" ;;
	bench) PKGS="$PKGS libpython3.11-testsuite strace" ;;
	*) echo "install-deps: unknown group '$group' (vm, bench)" >&2; exit 2 ;;
	esac
done

missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0

echo "install-deps: installing$missing" >&2
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
