#!/usr/bin/env bash
# The network benchmark: per-container network setup time, side by side with dockerd.
# A benchmark, not a test: it asserts nothing; it prints the issue's target beside the figures.
#
#   bench/net.sh [RUNS]        (default 20 runs per command)
#
# For each engine, hyperfine -N times `run --rm IMAGE true` twice: with `--network none` and
# with `--network <user bridge network>`; the difference of the medians is what the engine
# spends per container on network setup and teardown (netns, veth on the bridge, addresses,
# routes, DNS; for berth also removing the pin). Issue 5's figures: dockerd about 70 ms,
# berth's target under 5 ms.
#
# Everything gets a fresh root in a temporary directory: berth's daemon its own state root
# and socket, dockerd its own data/exec roots, socket and containerd, started with
# --iptables=false --ip6tables=false --bridge=none (its user network makes its own bridge).
# Each engine's network has a random 10.x subnet and is removed at the end. dockerd
# (docker.io) is optional: without it its rows say "not installed". hyperfine is installed
# when missing (as root). berth is built in release mode unless BERTH=path names a binary.
# Needs root.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-20}

if [ "$(id -u)" -ne 0 ]; then
    echo "bench/net.sh: needs root (containers, bridges)" >&2
    exit 1
fi
need=()
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
work=$(mktemp -d /tmp/brn.XXXXXX)
net=brn$$
berth_pid=
dockerd_pid=
B=(env -u BERTH_HOST "$BERTH" -H "unix://$work/b.sock")
D=(docker -H "unix://$work/d.sock")
cleanup() {
    set +e
    if [ -S "$work/b.sock" ]; then
        ids=$("${B[@]}" ps -a -q 2>/dev/null)
        [ -n "$ids" ] && "${B[@]}" rm -f $ids >/dev/null 2>&1
        "${B[@]}" network rm "$net" >/dev/null 2>&1
    fi
    if [ -S "$work/d.sock" ]; then
        ids=$("${D[@]}" ps -a -q 2>/dev/null)
        [ -n "$ids" ] && "${D[@]}" rm -f $ids >/dev/null 2>&1
        "${D[@]}" network rm "$net" >/dev/null 2>&1
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
    for d in /sys/fs/cgroup/*/brn-bench; do [ -d "$d" ] && rmdir "$d"; done
    rm -rf "$work"
}
trap cleanup EXIT

# Waits (up to 60 s) until the command succeeds.
wait_for() {
    for _ in $(seq 600); do
        "$@" >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    echo "bench/net.sh: timed out waiting for: $*" >&2
    return 1
}

# A random /24 in 10.200-250.x that the host does not route yet.
free_subnet() {
    local s
    for _ in $(seq 50); do
        s="10.$((200 + RANDOM % 51)).$((RANDOM % 256)).0/24"
        ip route show | grep -q "^${s%.0/24}\." || { echo "$s"; return 0; }
    done
    echo "bench/net.sh: no free 10.x subnet" >&2
    return 1
}

# The image: busybox-static and a few applets.
rootfs=$work/rootfs
mkdir -p "$rootfs/bin" "$rootfs/etc" "$rootfs/tmp"
cp /bin/busybox "$rootfs/bin/busybox"
for applet in sh true sleep; do ln -s busybox "$rootfs/bin/$applet"; done
printf 'root:x:0:0:root:/root:/bin/sh\n' >"$rootfs/etc/passwd"
printf 'root:x:0:\n' >"$rootfs/etc/group"
tar -C "$rootfs" -cf "$work/rootfs.tar" .
image=brn-bench:latest

"$BERTH" daemon --root "$work/berth" --host "unix://$work/b.sock" >"$work/berth.log" 2>&1 &
berth_pid=$!
wait_for "${B[@]}" version
"${B[@]}" import "$work/rootfs.tar" "$image" >/dev/null
"${B[@]}" network create --subnet "$(free_subnet)" "$net" >/dev/null

if [ "$have_docker" -eq 1 ]; then
    dockerd --data-root "$work/docker" --exec-root "$work/dx" --pidfile "$work/dockerd.pid" \
        -H "unix://$work/d.sock" --iptables=false --ip6tables=false --bridge=none \
        --cgroup-parent=brn-bench >"$work/dockerd.log" 2>&1 &
    dockerd_pid=$!
    wait_for "${D[@]}" version
    "${D[@]}" import "$work/rootfs.tar" "$image" >/dev/null
    "${D[@]}" network create --subnet "$(free_subnet)" "$net" >/dev/null
fi

# One trial run of each command first: hyperfine -i would time failures too.
cmds=()
add_if_works() {
    local name=$1
    shift
    if "$@" >"$work/trial.out" 2>&1; then
        cmds+=(-n "$name" "$*")
    else
        echo "bench/net.sh: $name does not work here: $(head -c 300 "$work/trial.out")" >&2
    fi
}
add_if_works "berth none" "${B[@]}" run --rm --network none "$image" true
add_if_works "berth bridge" "${B[@]}" run --rm --network "$net" "$image" true
if [ "$have_docker" -eq 1 ]; then
    add_if_works "docker none" "${D[@]}" run --rm --network none "$image" true
    add_if_works "docker bridge" "${D[@]}" run --rm --network "$net" "$image" true
fi
hyperfine -N -w 3 -r "$runs" --export-json "$work/net.json" "${cmds[@]}" >"$work/hyperfine.txt" 2>&1 ||
    { cat "$work/hyperfine.txt" >&2; exit 1; }

python3 - "$work/net.json" "$runs" "$have_docker" <<'PY'
import json, statistics, sys
results = {r["command"]: r["times"] for r in json.load(open(sys.argv[1]))["results"]}
runs, have_docker = sys.argv[2], sys.argv[3] == "1"
med = {n: statistics.median(t) * 1000 for n, t in results.items()}

print(f"run --rm IMAGE true ({runs} runs)   {'--network none':>15} {'user bridge':>12} {'network setup':>14}")
for engine in ["berth", "docker"]:
    none, bridge = med.get(f"{engine} none"), med.get(f"{engine} bridge")
    if none is None or bridge is None:
        why = "not installed" if engine == "docker" and not have_docker else "not available"
        print(f"{engine:<34} {why:>15}")
        continue
    print(f"{engine:<34} {none:12.2f} ms {bridge:9.2f} ms {bridge - none:11.2f} ms")
print()
print("target (issue 5): network setup under 5 ms per container (dockerd: about 70 ms)")
if "berth none" in med and "berth bridge" in med:
    d = med["berth bridge"] - med["berth none"]
    print(f"  berth: {d:.2f} ms   {'met' if d < 5 else 'NOT met'}")
PY
