# Stage 2 of a vmtest guest: pid 1 on the host's tree (shared read-only over
# 9p), run by the host's static busybox. Mounts what yarasnoop and its tests
# use, runs the command scripts/vmtest.sh wrote into the state share, leaves
# its exit status there and powers off. Output goes to the serial console,
# which is vmtest.sh's standard output.
B=/bin/busybox
S=/run/ysvm
$B mkdir -p /dev/pts /dev/shm
$B mount -t devpts -o gid=5,mode=620,ptmxmode=666 devpts /dev/pts
$B mount -t tmpfs -o mode=1777 tmpfs /dev/shm
$B mount -t debugfs debugfs /sys/kernel/debug
$B mount -t tracefs tracefs /sys/kernel/tracing
$B mount -t bpf bpf /sys/fs/bpf
$B mount -t cgroup2 cgroup2 /sys/fs/cgroup
$B ip link set lo up
$B hostname ysvm
# the console is a serial line: no CR before LF in what the tests print
$B stty -F /dev/console -onlcr 2>/dev/null
[ -e $S/verbose ] || echo 1 >/proc/sys/kernel/printk
echo "$($B uname -r) $($B cut -d' ' -f1 /proc/uptime)" >$S/started
/bin/sh $S/cmd </dev/null >/dev/console 2>&1
echo $? >$S/rc
echo "$($B cut -d' ' -f1 /proc/uptime)" >$S/ended
$B sync
# quiet: the kernel's own "Power down" line is not the command's output
echo 0 >/proc/sys/kernel/printk
$B poweroff -f
