#!/usr/bin/env bash
# The engine benchmark: latency of starting a container that runs `true`, side by side in one
# run, and the resident memory each engine needs per running container and when idle.
# A benchmark, not a test: it asserts nothing; it prints the issue's targets beside the figures.
#
#   bench/run.sh [RUNS]        (default 20 runs per command; a minute or two in all)
#
# Latency (hyperfine -N, warm-up runs, median and p90):
#   berth run --rm IMAGE true                 berth's CLI → daemon → shim → container
#   docker run --rm --network none IMAGE true  the docker CLI against a private dockerd
#   crun run                                  the raw floor: an OCI bundle of the same rootfs
#   berth __run DIR                           berth's runtime alone (DIR/init.json), no daemon
# Memory (VmRSS): `berth __shim` per running `sleep` container (5 of them) against
# containerd-shim-runc-v2 under the private dockerd; berth's daemon idle against dockerd plus
# its containerd idle.
#
# Everything gets a fresh root in a temporary directory: berth's daemon its own state root and
# socket, dockerd its own data/exec roots, socket and containerd, crun its own state root. The
# image is busybox-static (/bin/busybox) with a few applets, imported into both daemons.
# dockerd (docker.io) is optional: without it its rows say "not installed". crun and hyperfine
# are installed when missing (as root). berth is built in release mode unless BERTH=path names
# a binary. Needs root.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-20}

if [ "$(id -u)" -ne 0 ]; then
    echo "bench/run.sh: needs root (containers)" >&2
    exit 1
fi
need=()
command -v crun >/dev/null || need+=(crun)
command -v hyperfine >/dev/null || need+=(hyperfine)
dpkg -s busybox-static >/dev/null 2>&1 || need+=(busybox-static)
if [ ${#need[@]} -gt 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >&2
fi
if [ -z "${BERTH:-}" ]; then
    cargo build --release --quiet
    BERTH=$PWD/target/release/berth
fi
have_docker=0
command -v dockerd >/dev/null && command -v docker >/dev/null && have_docker=1

# Short path: unix socket paths are limited to 108 bytes.
work=$(mktemp -d /tmp/brb.XXXXXX)
berth_pid=
dockerd_pid=
cleanup() {
    set +e
    if [ -S "$work/b.sock" ]; then
        ids=$("$BERTH" -H "unix://$work/b.sock" ps -a -q 2>/dev/null)
        [ -n "$ids" ] && "$BERTH" -H "unix://$work/b.sock" rm -f $ids >/dev/null 2>&1
    fi
    if [ -S "$work/d.sock" ]; then
        ids=$(docker -H "unix://$work/d.sock" ps -a -q 2>/dev/null)
        [ -n "$ids" ] && docker -H "unix://$work/d.sock" rm -f $ids >/dev/null 2>&1
    fi
    for pid in $berth_pid $dockerd_pid; do
        kill "$pid" 2>/dev/null
        for _ in $(seq 200); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
    done
    # Whatever is still mounted below the work directory (deepest first).
    awk -v w="$work/" 'index($5, w) == 1 { print length($5), $5 }' /proc/self/mountinfo |
        sort -rn | cut -d' ' -f2- | while read -r m; do umount -l "$m"; done
    for d in /sys/fs/cgroup/*/brb-bench; do [ -d "$d" ] && rmdir "$d"; done
    rm -rf "$work"
}
trap cleanup EXIT

# Waits (up to 60 s) until the command succeeds.
wait_for() {
    for _ in $(seq 600); do
        "$@" >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    echo "bench/run.sh: timed out waiting for: $*" >&2
    return 1
}

# VmRSS in KiB of a PID (0 when gone).
rss_kib() {
    awk '/^VmRSS:/ { print $2; found = 1 } END { if (!found) print 0 }' "/proc/$1/status" 2>/dev/null || echo 0
}

# PIDs whose command line contains every argument.
pids_with() {
    local pid cmd arg ok
    for dir in /proc/[0-9]*; do
        pid=${dir#/proc/}
        cmd=$( { tr '\0' ' ' <"$dir/cmdline"; } 2>/dev/null) || continue
        ok=1
        for arg in "$@"; do
            case "$cmd" in *"$arg"*) ;; *) ok=0 ;; esac
        done
        [ "$ok" -eq 1 ] && echo "$pid"
    done
    return 0
}

# The image: busybox-static and its applets; as a tar for the daemons and a bundle for crun.
rootfs=$work/bundle/rootfs
mkdir -p "$rootfs/bin" "$rootfs/etc" "$rootfs/tmp" "$rootfs/proc" "$rootfs/sys" "$rootfs/dev"
cp /bin/busybox "$rootfs/bin/busybox"
for applet in sh true sleep cat echo; do ln -s busybox "$rootfs/bin/$applet"; done
printf 'root:x:0:0:root:/root:/bin/sh\n' >"$rootfs/etc/passwd"
printf 'root:x:0:\n' >"$rootfs/etc/group"
tar -C "$rootfs" -cf "$work/rootfs.tar" .
image=brb-bench:latest

# crun's bundle: its default spec (all namespaces but user, no network) running /bin/true.
(cd "$work/bundle" && crun spec)
python3 - "$work/bundle/config.json" <<'PY'
import json, sys
path = sys.argv[1]
spec = json.load(open(path))
spec["process"]["args"] = ["/bin/true"]
spec["process"]["terminal"] = False
spec["root"]["readonly"] = False
json.dump(spec, open(path, "w"), indent=2)
PY

# berth's daemon on a fresh root.
B=(env -u BERTH_HOST "$BERTH" -H "unix://$work/b.sock")
"$BERTH" daemon --root "$work/berth" --host "unix://$work/b.sock" >"$work/berth.log" 2>&1 &
berth_pid=$!
wait_for "${B[@]}" version
"${B[@]}" import "$work/rootfs.tar" "$image" >/dev/null
sleep 1
berth_idle=$(rss_kib "$berth_pid")

# berth's runtime alone: the init.json the daemon wrote when it started a container.
run_dir=
if cid=$("${B[@]}" run -d --network none "$image" true 2>/dev/null); then
    "${B[@]}" wait "$cid" >/dev/null 2>&1 || true
    if [ -f "$work/berth/containers/$cid/init.json" ]; then
        run_dir=$work/run
        mkdir -p "$run_dir"
        cp "$work/berth/containers/$cid/init.json" "$run_dir/init.json"
    fi
fi

# A private dockerd: its own roots, socket and containerd; no bridge, no iptables.
D=(docker -H "unix://$work/d.sock")
docker_idle=
if [ "$have_docker" -eq 1 ]; then
    dockerd --data-root "$work/docker" --exec-root "$work/dx" --pidfile "$work/dockerd.pid" \
        -H "unix://$work/d.sock" --iptables=false --ip6tables=false --bridge=none \
        --cgroup-parent=brb-bench >"$work/dockerd.log" 2>&1 &
    dockerd_pid=$!
    wait_for "${D[@]}" version
    "${D[@]}" import "$work/rootfs.tar" "$image" >/dev/null
    sleep 1
    containerd_pid=$(pids_with containerd "$work/dx/containerd" | head -n 1)
    docker_idle=$(( $(rss_kib "$dockerd_pid") + $(rss_kib "${containerd_pid:-0}") ))
fi

# crun refuses cgroup v1 "hybrid" machines whose cgroup2 hierarchy holds a controller (this
# one's has hugetlb): the latency runs happen in a private mount namespace without
# /sys/fs/cgroup/unified, so crun sees plain v1 (berth's daemon and dockerd run outside it).
floor=(unshare -m --propagation private -- sh -c 'umount -l /sys/fs/cgroup/unified 2>/dev/null; exec "$@"' _)

# Latency, of the commands that work (one trial run each first: hyperfine -i would time
# failures too).
cmds=()
add_if_works() {
    local name=$1
    shift
    if "$@" >"$work/trial.out" 2>&1; then
        [ "$1" = unshare ] && shift ${#floor[@]}
        cmds+=(-n "$name" "$*")
    else
        echo "bench/run.sh: $name does not work here: $(head -c 300 "$work/trial.out")" >&2
    fi
}
add_if_works berth "${B[@]}" run --rm "$image" true
if [ "$have_docker" -eq 1 ]; then
    add_if_works docker "${D[@]}" run --rm --network none "$image" true
fi
add_if_works crun "${floor[@]}" crun --root "$work/crun-state" run -b "$work/bundle" brb-crun
if [ -n "$run_dir" ]; then
    add_if_works "berth __run" "$BERTH" __run "$run_dir"
fi
"${floor[@]}" hyperfine -N -w 3 -r "$runs" --export-json "$work/latency.json" "${cmds[@]}" >"$work/hyperfine.txt" 2>&1 ||
    { cat "$work/hyperfine.txt" >&2; exit 1; }

# Memory per running container: five `sleep` containers each.
for i in 1 2 3 4 5; do
    "${B[@]}" run -d --network none --name "rss$i" "$image" sleep 1000 >/dev/null 2>&1 || break
done
sleep 1
shim_rss=()
for pid in $(pids_with __shim "$work/berth/containers/"); do shim_rss+=("$(rss_kib "$pid")"); done
containerd_shim_rss=()
if [ "$have_docker" -eq 1 ]; then
    for i in 1 2 3 4 5; do
        "${D[@]}" run -d --network none --name "rss$i" "$image" sleep 1000 >/dev/null
    done
    sleep 1
    for pid in $(pids_with containerd-shim "$work/dx/containerd"); do
        containerd_shim_rss+=("$(rss_kib "$pid")")
    done
fi

python3 - "$work/latency.json" "$berth_idle" "${docker_idle:-}" \
    "${shim_rss[*]:-}" "${containerd_shim_rss[*]:-}" "$runs" <<'PY'
import json, statistics, sys
results = {r["command"]: r["times"] for r in json.load(open(sys.argv[1]))["results"]}
berth_idle, docker_idle = sys.argv[2], sys.argv[3]
shims = [int(x) for x in sys.argv[4].split()]
cshims = [int(x) for x in sys.argv[5].split()]
runs = sys.argv[6]

def pct(times, p):
    times = sorted(times)
    k = (len(times) - 1) * p
    lo, hi = int(k), min(int(k) + 1, len(times) - 1)
    return (times[lo] + (times[hi] - times[lo]) * (k - lo)) * 1000

print(f"{'start a container running true':<36} {'median (ms)':>12} {'p90 (ms)':>10}")
for name in ["berth", "docker", "crun", "berth __run"]:
    t = results.get(name)
    if t is None:
        why = "not installed" if name == "docker" else "not available"
        print(f"{name:<36} {why:>12}")
        continue
    print(f"{name:<36} {statistics.median(t) * 1000:12.2f} {pct(t, 0.9):10.2f}")

med = {n: statistics.median(t) * 1000 for n, t in results.items()}
print()
print("targets")
if "berth" in med and "crun" in med:
    r = med["berth"] / med["crun"]
    print(f"  berth run within 2x of crun run:        {r:6.1f}x   {'met' if r <= 2 else 'NOT met'}")
if "berth __run" in med and "crun" in med:
    r = med["berth __run"] / med["crun"]
    print(f"  berth __run against crun run:           {r:6.1f}x")
if "berth" in med and "docker" in med:
    r = med["docker"] / med["berth"]
    print(f"  at least 10x faster than docker run:    {r:6.1f}x   {'met' if r >= 10 else 'NOT met'}")

def mib(kib):
    return kib / 1024

print()
print(f"{'resident memory (VmRSS)':<36} {'berth':>12} {'docker':>12}")
avg = lambda xs: sum(xs) / len(xs) if xs else None
b, d = avg(shims), avg(cshims)
fmt = lambda v: f"{mib(v):9.2f} MiB" if v is not None else f"{'n/a':>13}"
print(f"{'shim per container (5 running)':<36} {fmt(b)} {fmt(d)}")
bi = int(berth_idle) if berth_idle else None
di = int(docker_idle) if docker_idle else None
print(f"{'daemon idle (dockerd + containerd)':<36} {fmt(bi)} {fmt(di)}")
print()
if b is not None:
    print(f"  shim under 2 MiB:                       {mib(b):6.2f}    {'met' if mib(b) < 2 else 'NOT met'}")
if bi is not None:
    mb = bi * 1024 / 1e6
    print(f"  daemon idle under 20 MB:                {mb:6.1f}    {'met' if mb < 20 else 'NOT met'}")
print(f"(hyperfine -N, {runs} runs after 3 warm-up runs each; shims counted: berth {len(shims)}, containerd {len(cshims)})")
PY
