# The isolation probes tests/engine_isolation.rs runs inside a container with default
# settings (`run --rm --network none IMAGE sh -c "$(cat probes.sh)"`), under berth and under
# the real dockerd. Each probe prints ONE line `name: value`, normalized so that two engines
# giving the same isolation print the same line (the test replaces the container's hostname
# by <hostname>). Needs busybox applets and /bin/probe (tests/support/probe.c).

# Capability sets, no_new_privs and the seccomp mode of the container's process.
for f in CapInh CapPrm CapEff CapBnd CapAmb NoNewPrivs Seccomp; do
    echo "status $f: $(grep "^$f:" /proc/self/status | cut -f2)"
done

# Docker's masked paths: nothing readable (files are /dev/null binds, dirs empty tmpfs).
for p in /proc/asound /proc/acpi /proc/kcore /proc/keys /proc/latency_stats /proc/timer_list \
    /proc/timer_stats /proc/sched_debug /proc/scsi /sys/firmware /proc/interrupts \
    /sys/devices/virtual/powercap; do
    if [ ! -e "$p" ]; then
        r=absent
    elif [ -d "$p" ]; then
        r="dir entries=$(ls -A "$p" 2>/dev/null | wc -l)"
    else
        r="bytes=$(head -c 4096 "$p" 2>/dev/null | wc -c)"
    fi
    echo "masked $p: $r"
done

# Docker's read-only paths, /sys and /proc/sys: writes fail.
for p in /proc/sys/kernel/hostname /proc/sysrq-trigger /proc/sys/vm/drop_caches \
    /proc/irq/default_smp_affinity /sys/kernel/uevent_helper /sys/fs/cgroup/probe; do
    r=$( (echo x >"$p") 2>&1 | sed 's/.*: //')
    echo "write $p: ${r:-ok}"
done

# Namespace and mount tools from busybox.
r=$(unshare -U true 2>&1 | sed 's/.*: //'); echo "unshare -U: ${r:-ok}"
r=$(unshare -m true 2>&1 | sed 's/.*: //'); echo "unshare -m: ${r:-ok}"
mkdir -p /mnt
r=$(mount -t tmpfs none /mnt 2>&1 | sed 's/^mount: //'); echo "mount tmpfs: ${r:-ok}"

# Syscalls from the C probe: errno names.
probe sec | sed 's/^/syscall /'

# Processes: only this shell and its own children (no host process).
# (Into files first: a pipeline's forked shells may not have exec'ed yet when ps reads.)
ps -o comm >/tmp/probe-ps
echo "ps: $(tail -n +2 /tmp/probe-ps | sort | tr '\n' ' ')"
echo "pid1: $(cat /proc/1/comm)"
ls -d /proc/[0-9]* >/tmp/probe-pids
echo "pids visible: $(wc -l </tmp/probe-pids)"

# Mounts: mount point, type and ro/rw, sorted (no host mount visible).
mounts=$(awk '{ for (i = 7; $i != "-"; i++) {} ; split($6, o, ","); print $5, $(i + 1), o[1] }' \
    /proc/self/mountinfo | sort)
echo "mount count: $(echo "$mounts" | wc -l)"
echo "$mounts" | sed 's/^/mount: /'

# Identity of the container.
echo "hostname: $(hostname)"
echo "hostname length: $(hostname | tr -d '\n' | wc -c)"
echo "etc/hostname: $(cat /etc/hostname)"
echo "etc/hosts: $(grep -v '^#' /etc/hosts | grep -v '^$' | tr -s '\t ' ' ' | tr '\n' '|')"
echo "id: $(id)"
echo "env names: $(env | cut -d= -f1 | sort | tr '\n' ' ')"
echo "env PATH: $PATH"
echo "env HOME: $HOME"
echo "pwd: $(pwd)"
echo "umask: $(umask)"
echo "oom_score_adj: $(cat /proc/self/oom_score_adj)"

# /dev: Docker's default device nodes and /dev/shm of 64 MiB.
echo "dev: $(ls -A /dev | sort | tr '\n' ' ')"
for d in null zero full random urandom tty console ptmx; do
    [ -e /dev/$d ] && echo "dev $d: $(stat -c '%F %t,%T %a' /dev/$d)"
done
echo "dev/shm: $(df -k /dev/shm | tail -n 1 | awk '{ print $2 }') KiB"
echo "dev/pts ptmx: $(stat -c '%F' /dev/pts/ptmx 2>&1)"

# Limits and the cgroup file (controllers only: paths are engine-specific).
ulimit -a | tr -s ' \t' ' ' | sed 's/^/ulimit /'
echo "cgroup controllers: $(cut -d: -f1,2 /proc/self/cgroup | sort | tr '\n' ' ')"
