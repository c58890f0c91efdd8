#!/usr/bin/env bash
# Times a pull of a ~100 MB multi-layer image from a local registry: berth against
# `skopeo copy` to a local directory (and dockerd's pull when dockerd is installed), then
# berth's layer unpacking alone against `tar -x` of the same layer blobs. A benchmark, not a
# test: it asserts nothing and prints hyperfine's tables side by side.
#
#   bench/pull.sh [RUNS]        (default 5 runs per command; a few minutes in all)
#
# The image is made by the test fixtures (`bench_fixture_write_layout` in
# tests/image_e2e.rs: six gzip layers, seeded, half incompressible), pushed into a
# `docker-registry` on 127.0.0.1 with skopeo. Before each run every tool gets a fresh, empty
# destination: berth a new daemon on a new state root, skopeo a new directory. The previous
# run's files are moved aside, not deleted, until the end: deleting ~100 MB of small files
# right before a run makes ext4 slow to create the next run's files (it scans the freshly
# freed inodes), which would charge one tool's clean-up to the other's time. Needs docker-registry, skopeo and hyperfine (installed when missing, as root).
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-5}

need=()
command -v docker-registry >/dev/null || need+=(docker-registry)
command -v skopeo >/dev/null || need+=(skopeo)
command -v hyperfine >/dev/null || need+=(hyperfine)
if [ ${#need[@]} -gt 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >&2
fi

work=$(mktemp -d /tmp/berth-bench.XXXXXX)
pids=()
cleanup() {
    for pid in "${pids[@]}"; do
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    # The berth daemon a prepare step started last (not a child of this shell).
    if [ -f "$work/berth.pid" ]; then
        pid=$(cat "$work/berth.pid")
        kill "$pid" 2>/dev/null || true
        while kill -0 "$pid" 2>/dev/null; do sleep 0.05; done
    fi
    rm -rf "$work"
}
trap cleanup EXIT

# A port nothing listens on (a refused connection), from a shuffled range.
free_port() {
    local port
    for _ in $(seq 50); do
        port=$((20000 + RANDOM % 40000))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            echo "$port"
            return
        fi
    done
    echo "no free port" >&2
    return 1
}

# Waits (up to 30 s) until the command succeeds.
wait_for() {
    for _ in $(seq 300); do
        if "$@" >/dev/null 2>&1; then return 0; fi
        sleep 0.1
    done
    echo "timed out waiting for: $*" >&2
    return 1
}

echo "== building (release)" >&2
cargo build --release --quiet
berth=$PWD/target/release/berth
unpack_bin=$(cargo test --release --quiet --test image_e2e --no-run --message-format=json 2>/dev/null |
    sed -n 's/.*"executable":"\([^"]*\)".*/\1/p' | tail -1)
[ -x "$unpack_bin" ] || { echo "could not find the image_e2e test binary" >&2; exit 1; }

echo "== writing the fixture image" >&2
BENCH_DIR=$work "$unpack_bin" --ignored --exact bench_fixture_write_layout --nocapture 2>&1 |
    grep '^bench image' >&2

echo "== starting a registry and pushing" >&2
port=$(free_port)
mkdir -p "$work/registry"
cat >"$work/registry.yml" <<EOF
version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $work/registry
  delete:
    enabled: true
http:
  addr: 127.0.0.1:$port
EOF
docker-registry serve "$work/registry.yml" >"$work/registry.log" 2>&1 &
pids+=($!)
wait_for curl -fsS "http://127.0.0.1:$port/v2/"
ref=127.0.0.1:$port/bench/big:1
skopeo copy --quiet --all --preserve-digests --dest-tls-verify=false \
    "oci:$work/layout:bench" "docker://$ref"

echo "== starting berth's daemon" >&2
sock=$work/berth.sock
export BERTH_HOST=unix://$sock
mkdir -p "$work/trash"
# Stops the running berth daemon, moves its root aside and starts a fresh one (a prepare step).
cat >"$work/fresh-berth.sh" <<EOF
#!/usr/bin/env bash
set -eu
if [ -f "$work/berth.pid" ]; then
    pid=\$(cat "$work/berth.pid")
    kill "\$pid" 2>/dev/null || true
    while kill -0 "\$pid" 2>/dev/null; do sleep 0.02; done
fi
if [ -d "$work/root" ]; then mv "$work/root" "$work/trash/root.\$RANDOM\$RANDOM"; fi
setsid "$berth" daemon --root "$work/root" --host "unix://$sock" >>"$work/daemon.log" 2>&1 </dev/null &
echo \$! >"$work/berth.pid"
for _ in \$(seq 300); do
    curl -fsS --unix-socket "$sock" http://berth/_ping >/dev/null 2>&1 && exit 0
    sleep 0.02
done
echo "berth daemon did not start" >&2
exit 1
EOF
chmod +x "$work/fresh-berth.sh"
"$work/fresh-berth.sh"
# A prepare step moving a previous run's output aside.
# (hyperfine runs it with sh, which has no $RANDOM: mktemp names the place.)
aside() { echo "if [ -e $1 ]; then mv $1 \$(mktemp -d $work/trash/XXXXXX)/; fi"; }

# skopeo's `dir:` copy only downloads; berth also unpacks every layer. The third column does
# both with the reference tools (skopeo, then `tar -xzf` of each layer blob it fetched), which
# is the like-for-like figure for "pulled and ready to run".
skopeo_untar='i=0; while read -r f; do mkdir -p '"$work"'/skopeo-x/$i && tar -xzf '"$work"'/skopeo-dir2/"$(basename "$f")" -C '"$work"'/skopeo-x/$i; i=$((i+1)); done <'"$work"'/layers.txt'
names=(--command-name "berth pull" --command-name "skopeo copy docker:// dir:"
       --command-name "skopeo copy + tar -xzf")
# Every prepare ends with `sync`, so that no run waits for the previous run's writeback.
prepares=(--prepare "$work/fresh-berth.sh; sync"
          --prepare "$(aside "$work/skopeo-dir"); sync"
          --prepare "$(aside "$work/skopeo-dir2"); $(aside "$work/skopeo-x"); sync")
commands=("$berth pull $ref >/dev/null"
          "skopeo copy --quiet --src-tls-verify=false docker://$ref dir:$work/skopeo-dir"
          "skopeo copy --quiet --src-tls-verify=false docker://$ref dir:$work/skopeo-dir2 && $skopeo_untar")

if command -v dockerd >/dev/null && command -v docker >/dev/null; then
    echo "== starting a private dockerd" >&2
    dsock=$work/docker.sock
    dockerd --data-root "$work/docker" --exec-root "$work/docker-exec" --pidfile "$work/docker.pid" \
        --host "unix://$dsock" --bridge none --iptables=false --ip6tables=false \
        >"$work/dockerd.log" 2>&1 &
    pids+=($!)
    wait_for docker -H "unix://$dsock" version
    names+=(--command-name "docker pull (dockerd)")
    prepares+=(--prepare "docker -H unix://$dsock rmi -f $ref >/dev/null 2>&1; true")
    commands+=("docker -H unix://$dsock pull -q $ref >/dev/null")
else
    echo "(dockerd is not installed: no docker pull column)" >&2
fi

echo "== pull: $ref" >&2
hyperfine --runs "$runs" --warmup 1 --style basic "${names[@]}" "${prepares[@]}" \
    --export-markdown "$work/pull.md" "${commands[@]}" >&2

echo "== unpack of the same layer blobs" >&2
tar_all='i=0; while read -r f; do mkdir -p '"$work"'/tarx/$i && tar -xzf "$f" -C '"$work"'/tarx/$i; i=$((i+1)); done <'"$work"'/layers.txt'
hyperfine --runs "$runs" --warmup 1 --style basic \
    --command-name "berth unpack" --command-name "tar -xzf" \
    --prepare "rm -rf $work/unpack" --prepare "rm -rf $work/tarx" \
    --export-markdown "$work/unpack.md" \
    "BENCH_DIR=$work BENCH_DEST=$work/unpack $unpack_bin --ignored --exact bench_unpack_layers --quiet" \
    "$tar_all" >&2

echo
echo "Pull of a ~100 MB image (6 gzip layers) from a local registry, $runs runs each:"
cat "$work/pull.md"
echo
echo "Unpacking its layers:"
cat "$work/unpack.md"
