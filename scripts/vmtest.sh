#!/usr/bin/env bash
# vmtest.sh: runs one command under another kernel, in a throw-away VM.
#
#   scripts/vmtest.sh [-k KERNEL] [-c CPUS] [-m MEM] [-t SECONDS] [-w DIR]... [--] COMMAND [ARG]...
#
#   -k KERNEL  6.1    the newest linux-image-6.1.0-N-amd64 apt offers (Debian 12)
#              6.12   the newest linux-image-6.12.N+deb12-amd64 (bookworm-security)
#              linux-image-...-amd64   that package
#              host   no VM: COMMAND runs here, on the running kernel
#              (default 6.1)
#   -c CPUS    vCPUs (default $VM_CPUS or 2, at most the host's)
#   -m MEM     guest memory (default $VM_MEM or 4G)
#   -t SECONDS the whole run's limit, boot included (default 1800); then exit 124
#   -w DIR     shared read-write at the same path (repeatable)
#
# The package is fetched with `apt-get download` and unpacked with `dpkg-deb
# -x` into $VM_CACHE (default /var/cache/yarasnoop-vm): never installed. The
# guest boots it in qemu-system-x86_64 with an initramfs of the host's static
# busybox and that kernel's own virtio/9p modules (tests/vm/init), mounts the
# host's / read-only over 9p, tmpfs on /tmp, /run and /var/tmp, the current
# directory and each -w DIR read-write at the same path, then proc, sys, dev,
# devpts, debugfs, tracefs, bpffs and cgroup2 (tests/vm/guest.sh). COMMAND
# runs as root in the current directory with Debian's PATH (VM_PATH to
# change it) and the caller's OUTPUT, VERBOSE, POLL_LIMIT, RUN_LIMIT,
# SUITE_LIMIT, SMOKE_HOOKS and BENCH_* if set. The guest's console is this
# script's standard output, and COMMAND's exit status its exit status; 124:
# the limit passed; 123: the guest's kernel panicked (oops=panic); 125: the
# VM could not be made, or died first; 2: usage.
#
# Environment: VM_ACCEL=kvm|tcg (default kvm when kvm_intel or kvm_amd is
# loaded and /dev/kvm usable, else tcg), VM_TCG_THREAD=single|multi
# (TCG: one host thread for every vCPU, the default, or one each),
# VM_CACHE, VM_VERBOSE=1 (the kernel's boot messages, and when COMMAND
# started and ended), VM_APPEND (more kernel command line). Needs root,
# qemu-system-x86, busybox-static, kmod, xz-utils (`scripts/install-deps.sh
# vm`).
set -euo pipefail
HERE=$(cd "$(dirname "$0")/.." && pwd)
KERNEL=6.1 CPUS=${VM_CPUS:-2} MEM=${VM_MEM:-4G} LIMIT=1800
RW=("$PWD")
usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2; exit 2; }
usage_error() { echo "vmtest: $*" >&2; exit 2; }
while getopts "k:c:m:t:w:h" o; do
	case $o in
	k) KERNEL=$OPTARG ;;
	c) CPUS=$OPTARG ;;
	m) MEM=$OPTARG ;;
	t) LIMIT=$OPTARG ;;
	w) RW+=("$(cd "$OPTARG" 2>/dev/null && pwd)") || usage_error "-w: no directory '$OPTARG'" ;;
	*) usage ;;
	esac
done
shift $((OPTIND - 1))
[[ ${1:-} == -- ]] && shift
[[ $# -gt 0 ]] || usage
[[ $LIMIT =~ ^[1-9][0-9]*$ ]] || usage_error "-t wants seconds, not '$LIMIT'"
[[ $CPUS =~ ^[1-9][0-9]*$ ]] || usage_error "-c wants a number of vCPUs, not '$CPUS'"
((CPUS > $(nproc))) && CPUS=$(nproc)
case $KERNEL in
host) ;;
6.1) re='linux-image-6\.1\.0-[0-9]+-amd64' ;;
6.12) re='linux-image-6\.12\.[0-9]+\+deb12-amd64' ;;
linux-image-*) re=$(printf '%s' "$KERNEL" | sed 's/[.+]/\\&/g') ;;
*) usage_error "-k: unknown kernel '$KERNEL': 6.1, 6.12, host or a linux-image-... package" ;;
esac

say() { echo "vmtest: $*" >&2; }
fail() { say "$*"; exit 125; }
# whatever else fails while the VM is made says so, in one line
trap 'fail "making the VM failed at scripts/vmtest.sh line $LINENO: $BASH_COMMAND"' ERR

# the same limit on the host's kernel, for the matrix's third column
if [[ $KERNEL == host ]]; then
	say "$(uname -r) (host, no VM): $*"
	exec timeout -k 10 "$LIMIT" "$@"
fi

[[ $(id -u) -eq 0 ]] || fail "needs root (qemu's 9p shares the host's / as root sees it)"
for c in qemu-system-x86_64 busybox depmod modprobe xz dpkg-deb apt-get readelf; do
	command -v "$c" >/dev/null || fail "$c is missing: run 'scripts/install-deps.sh vm'"
done
CACHE=${VM_CACHE:-/var/cache/yarasnoop-vm}
mkdir -p "$CACHE"

# ---- the kernel: a package name, then an unpacked tree in the cache ----

# the newest package apt offers whose name matches the regex; none: empty
# (not a failure, which set -e would make a silent exit)
newest() {
	apt-cache pkgnames linux-image- 2>/dev/null | { grep -E "^$1\$" || true; } | sort -V | tail -n 1
}
# one preparation at a time per cache (several engineers, one download)
exec 9>"$CACHE/.lock"
flock 9
PKG=$(newest "$re")
if [[ -z $PKG ]]; then
	say "apt knows no package like $re: updating its lists"
	apt-get update -qq >&2 || true
	PKG=$(newest "$re")
fi
if [[ -z $PKG ]]; then
	# offline: the newest one already unpacked will do
	PKG=$(cd "$CACHE" && ls -d linux-image-* 2>/dev/null | grep -E "^$re\$" | sort -V | tail -n 1) || true
	[[ -n $PKG ]] || fail "no package matches $re (6.12 is in bookworm-security: is it in apt's sources?)"
	say "apt offers none; using $PKG from $CACHE"
fi
K=$CACHE/$PKG
if [[ ! -e $K/.unpacked ]]; then
	say "downloading $PKG"
	rm -rf "$K" "$CACHE/dl"
	mkdir -p "$CACHE/dl"
	(cd "$CACHE/dl" && apt-get -q -o APT::Sandbox::User=root download "$PKG" >&2) ||
		fail "apt-get download $PKG failed"
	dpkg-deb -x "$CACHE"/dl/*.deb "$K" || fail "dpkg-deb -x of $PKG failed"
	rm -rf "$CACHE/dl"
	touch "$K/.unpacked"
fi
KVER=$(basename "$(ls -d "$K"/lib/modules/*/ 2>/dev/null | head -n 1)")
[[ -n $KVER ]] || fail "$PKG has no lib/modules/"
BZIMAGE=$K/boot/vmlinuz-$KVER
[[ -r $BZIMAGE ]] || fail "$PKG has no boot/vmlinuz-$KVER"

# The kernel proper, out of its bzImage (x86 boot protocol: the payload's
# offset and length at 0x248 and 0x24c, past setup_sects + 1 sectors). Booted
# through its PVH entry it skips the decompressor, seconds under TCG.
extract_vmlinux() {
	local bz=$1 out=$2 sects off len
	sects=$(od -An -tu1 -j $((0x1f1)) -N1 "$bz" | tr -d ' ')
	((sects == 0)) && sects=4
	read -r off len < <(od -An -tu4 -j $((0x248)) -N8 "$bz")
	# head ends the pipe early: tail's SIGPIPE is no failure
	tail -c +$(((sects + 1) * 512 + off + 1)) "$bz" | head -c "$len" >"$out.z" || true
	case $(od -An -tx1 -N4 "$out.z" | tr -d ' ') in
	fd377a58) xz -dc --single-stream <"$out.z" ;;
	28b52ffd) zstd -qdc <"$out.z" ;;
	1f8b08*) gzip -dc <"$out.z" ;;
	*) false ;;
	esac >"$out.tmp" 2>/dev/null || true
	rm -f "$out.z"
	if [[ $(head -c 4 "$out.tmp" | od -An -c | tr -d ' ') == 177ELF ]] &&
		readelf -n "$out.tmp" | grep -q 'Xen.*0x00000012'; then
		mv "$out.tmp" "$out"
	else
		rm -f "$out.tmp"
		return 1
	fi
}
BOOT=$BZIMAGE
if [[ -s $K/vmlinux ]] || extract_vmlinux "$BZIMAGE" "$K/vmlinux"; then
	BOOT=$K/vmlinux
fi

# The initramfs: busybox, the modules 9p over virtio needs (in load order,
# uncompressed: busybox's insmod reads plain .ko), tests/vm/init
INITRD=$K/ysvm-initramfs.cpio
if [[ ! -s $INITRD || $HERE/tests/vm/init -nt $INITRD || /bin/busybox -nt $INITRD ]]; then
	[[ -s $K/lib/modules/$KVER/modules.dep ]] || depmod -b "$K" "$KVER" ||
		fail "depmod on $PKG failed"
	ird=$(mktemp -d)
	mkdir -p "$ird"/{bin,mods,proc,sys,dev,newroot}
	cp /bin/busybox "$ird/bin/busybox"
	cp "$HERE/tests/vm/init" "$ird/init"
	chmod 755 "$ird/init"
	mods=$(modprobe -d "$K" -S "$KVER" --show-depends -a virtio_pci 9pnet_virtio 9p) ||
		fail "$PKG lacks the virtio_pci, 9pnet_virtio or 9p module"
	: >"$ird/mods/order"
	while read -r m; do
		b=$(basename "$m")
		case $b in
		*.xz) b=${b%.xz}; xz -dc "$m" >"$ird/mods/$b" ;;
		*.zst) b=${b%.zst}; zstd -qdc "$m" >"$ird/mods/$b" ;;
		*.gz) b=${b%.gz}; gzip -dc "$m" >"$ird/mods/$b" ;;
		*) cp "$m" "$ird/mods/$b" ;;
		esac
		echo "$b" >>"$ird/mods/order"
	done < <(awk '$1 == "insmod" && !seen[$2]++ { print $2 }' <<<"$mods")
	(cd "$ird" && find . | busybox cpio -o -H newc 2>/dev/null) >"$INITRD.tmp"
	mv "$INITRD.tmp" "$INITRD"
	rm -rf "$ird"
fi
flock -u 9

# ---- the run ----

# Debian's PATH for root, not the caller's: a PATH through pyenv or cargo
# shims (shell scripts that exec the tool) costs seconds per call over 9p
GUEST_PATH=${VM_PATH:-/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin}
STATE=$(mktemp -d /tmp/ysvm.XXXXXX)
trap 'rm -rf "$STATE"' EXIT
cp "$HERE/tests/vm/guest.sh" "$STATE/guest.sh"
inner=$((LIMIT > 120 ? LIMIT - 30 : LIMIT))
{
	printf 'cd %q || exit 125\n' "$PWD"
	printf 'export PATH=%q HOME=/root TERM=dumb LC_ALL=C.UTF-8\n' "$GUEST_PATH"
	for v in OUTPUT VERBOSE POLL_LIMIT RUN_LIMIT SUITE_LIMIT SMOKE_HOOKS $(compgen -e | grep '^BENCH_' || true); do
		[[ -n ${!v+x} ]] && printf 'export %s=%q\n' "$v" "${!v}"
	done
	# inside too, so that a command that runs too long still leaves its status
	printf 'exec timeout -k 10 %d' "$inner"
	printf ' %q' "$@"
	printf '\n'
} >"$STATE/cmd"
[[ ${VM_VERBOSE:-0} == 1 ]] && touch "$STATE/verbose"
mapfile -t RW < <(printf '%s\n' "${RW[@]}" | sort -u)
printf '%s\n' "${RW[@]}" >"$STATE/rwdirs"

ACCEL=${VM_ACCEL:-}
if [[ -z $ACCEL ]]; then
	ACCEL=tcg
	# kvm_pvm (as on some cloud hosts) cannot run a stock kernel
	[[ -w /dev/kvm && ( -d /sys/module/kvm_intel || -d /sys/module/kvm_amd ) ]] && ACCEL=kvm
fi
case $ACCEL in
kvm) A=(-accel kvm -cpu host) ;;
# One host thread runs every vCPU by default: with a thread per vCPU, a
# 6.12 guest sometimes took the int3 of a jump-label patch (the syscall
# tracepoints' key, flipped as programs attach) on the other vCPU after
# the patch had ended, an oops no real CPU gives (2 runs in 7 of the
# smoke suite). VM_TCG_THREAD=multi for the faster, racier one.
tcg) A=(-accel "tcg,thread=${VM_TCG_THREAD:-single},tb-size=512" -cpu max) ;;
*) fail "VM_ACCEL is kvm or tcg, not '$ACCEL'" ;;
esac
share() { A+=(-virtfs "local,path=$1,mount_tag=$2,security_model=none,multidevs=remap$3"); }
share / hostroot ,readonly=on
share "$STATE" state ""
i=0
for d in "${RW[@]}"; do
	share "$d" "rw$i" ""
	i=$((i + 1))
done
APPEND="console=ttyS0 panic=-1 oops=panic rdinit=/init tsc=reliable random.trust_cpu=on ${VM_APPEND:-}"
[[ ${VM_VERBOSE:-0} == 1 ]] || APPEND+=" quiet loglevel=1"

say "$PKG ($KVER), $ACCEL, $CPUS vCPU, $MEM, limit ${LIMIT}s: $*"
# from here on a failure is the guest's, told below
trap - ERR
set +e
timeout -k 10 "$LIMIT" qemu-system-x86_64 "${A[@]}" -M pc -smp "$CPUS" -m "$MEM" \
	-nodefaults -no-user-config -display none -serial stdio -no-reboot \
	-kernel "$BOOT" -initrd "$INITRD" -append "$APPEND" </dev/null | tee "$STATE/console"
qrc=${PIPESTATUS[0]}
set -e
if [[ ${VM_VERBOSE:-0} == 1 && -f $STATE/started ]]; then
	say "guest $(cat "$STATE/started"): command started (uptime s); ended at $(cat "$STATE/ended" 2>/dev/null || echo '?')"
fi
if [[ -s $STATE/rc ]]; then
	rc=$(cat "$STATE/rc")
	[[ $rc -eq 124 ]] && say "the command ran past its limit (${inner}s) in the guest"
	exit "$rc"
fi
[[ $qrc -eq 124 ]] && { say "the VM ran past its limit (${LIMIT}s): killed"; exit 124; }
if oops=$(grep -a -m1 -E '^\[ *[0-9.]+\] (Oops|BUG|general protection fault|Kernel panic)' "$STATE/console") &&
	grep -aq 'Kernel panic - not syncing' "$STATE/console"; then
	say "the guest kernel panicked (${oops//$'\r'/}; its trace above)"
	exit 123
fi
fail "the guest stopped before the command finished (qemu exit $qrc; VM_VERBOSE=1 shows the boot)"
