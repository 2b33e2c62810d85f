#!/usr/bin/env bash
# Peer benchmark: runs the same M/M/c queue in SimPy, nexosim and nomad-sim and prints a
# Markdown table of jobs, wall time, CPU time, jobs/s, mean wait, P(wait) and peak memory, with
# Erlang C's mean wait and P(wait) for the same c and rho. See docs/benchmarks.md.
#
#   bash benches/peers/run.sh [--c N] [--rho R] [--mean-service S] [--jobs N]
#                             [--simpy-jobs N] [--seed N] [--repeats N]
#
# The same settings can come from the environment: C, RHO, MEAN_SERVICE, JOBS, SIMPY_JOBS,
# SEED, REPEATS. Defaults: c=10, rho=0.8, mean service 300 s, 1,000,000 jobs for every
# simulator, seed 1, one run each (with --repeats N each simulator runs N times and the
# fastest run is reported).
set -euo pipefail

C=${C:-10}
RHO=${RHO:-0.8}
MEAN_SERVICE=${MEAN_SERVICE:-300}
JOBS=${JOBS:-1000000}
SIMPY_JOBS=${SIMPY_JOBS:-}
SEED=${SEED:-1}
REPEATS=${REPEATS:-1}
SIMPY_VERSION=${SIMPY_VERSION:-4.1.2}

usage() {
    sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'
}

while [[ $# -gt 0 ]]; do
    if [[ $1 == --* && $1 != --help && $# -lt 2 ]]; then
        echo "run.sh: $1 needs a value" >&2
        exit 2
    fi
    case "$1" in
        --c) C=$2; shift 2 ;;
        --rho) RHO=$2; shift 2 ;;
        --mean-service) MEAN_SERVICE=$2; shift 2 ;;
        --jobs) JOBS=$2; shift 2 ;;
        --simpy-jobs) SIMPY_JOBS=$2; shift 2 ;;
        --seed) SEED=$2; shift 2 ;;
        --repeats) REPEATS=$2; shift 2 ;;
        -h|--help) usage; exit 0 ;;
        *) echo "run.sh: unknown argument $1" >&2; usage >&2; exit 2 ;;
    esac
done
SIMPY_JOBS=${SIMPY_JOBS:-$JOBS}

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
PEERS=benches/peers
VENV=target/peers-venv
NEXOSIM_TARGET=target/peers
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

log() { echo "run.sh: $*" >&2; }

# --- tools -----------------------------------------------------------------------------------

if [[ ! -x /usr/bin/time ]]; then
    log "installing GNU time (/usr/bin/time is missing)"
    SUDO=""
    [[ $(id -u) -ne 0 ]] && SUDO=sudo
    $SUDO apt-get update -qq
    $SUDO apt-get install -y -qq time >&2
fi

if [[ ! -x $VENV/bin/python ]]; then
    log "creating the Python venv $VENV"
    python3 -m venv "$VENV"
fi
if ! "$VENV/bin/python" -c 'import simpy' 2>/dev/null; then
    log "installing simpy==$SIMPY_VERSION into $VENV"
    "$VENV/bin/pip" install -q "simpy==$SIMPY_VERSION" >&2
fi
PY=$VENV/bin/python

log "building nexosim-mmc (release)"
cargo build --release --quiet --manifest-path "$PEERS/nexosim-mmc/Cargo.toml" \
    --target-dir "$NEXOSIM_TARGET"
log "building nomad-sim (release)"
cargo build --release --quiet -p nomad-sim-cli

# --- runs ------------------------------------------------------------------------------------

# measure NAME CMD...: runs CMD REPEATS times with its stdout in $WORK/NAME.out and keeps the
# fastest run's "wall_s peak_kb user_s sys_s" in $WORK/NAME.time.
measure() {
    local name=$1
    shift
    local best=""
    for ((i = 1; i <= REPEATS; i++)); do
        /usr/bin/time -f '%e %M %U %S' -o "$WORK/$name.try" \
            "$@" >"$WORK/$name.try.out" 2>"$WORK/$name.err" || {
            log "$name failed:"
            cat "$WORK/$name.err" >&2
            exit 1
        }
        local wall
        wall=$(tail -n 1 "$WORK/$name.try" | cut -d' ' -f1)
        if [[ -z $best ]] || awk -v a="$wall" -v b="$best" 'BEGIN { exit !(a < b) }'; then
            best=$wall
            tail -n 1 "$WORK/$name.try" >"$WORK/$name.time"
            mv "$WORK/$name.try.out" "$WORK/$name.out"
        fi
    done
}

LOAD=$(cut -d' ' -f1 /proc/loadavg 2>/dev/null || echo unknown)
COMMON=(--c "$C" --rho "$RHO" --mean-service "$MEAN_SERVICE" --seed "$SEED")

log "SimPy: $SIMPY_JOBS jobs"
measure simpy "$PY" "$PEERS/mmc_simpy.py" "${COMMON[@]}" --jobs "$SIMPY_JOBS"

log "nexosim: $JOBS jobs"
measure nexosim "$NEXOSIM_TARGET/release/nexosim-mmc" "${COMMON[@]}" --jobs "$JOBS"

log "nomad-sim: $JOBS jobs"
"$PY" "$PEERS/mmc_scenario.py" "${COMMON[@]}" --jobs "$JOBS" >"$WORK/mmc.yaml"
measure nomad_sim "${CARGO_TARGET_DIR:-target}/release/nomad-sim" run "$WORK/mmc.yaml" --json

# --- table -----------------------------------------------------------------------------------

NOMAD_SIM_REV=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
"$PY" - "$WORK" "$C" "$RHO" "$MEAN_SERVICE" "$SEED" "$NOMAD_SIM_REV" "$LOAD" <<'EOF'
"""Reads the three runs' outputs and prints the Markdown table with Erlang C's figures."""
import json
import sys

work, c, rho, mean_service, seed, rev, load = sys.argv[1:]
c, rho, mean_service = int(c), float(rho), float(mean_service)


def key_values(path):
    """The "key: value" lines a peer program prints."""
    out = {}
    with open(path) as f:
        for line in f:
            key, _, value = line.partition(":")
            out[key.strip()] = value.strip()
    return out


def time_of(name):
    """(wall seconds, CPU seconds, peak RSS in MB) measured by /usr/bin/time."""
    with open(f"{work}/{name}.time") as f:
        wall, peak_kb, user, system = f.read().split()
    return float(wall), float(user) + float(system), int(peak_kb) / 1024


rows = []
for name in ("simpy", "nexosim"):
    out = key_values(f"{work}/{name}.out")
    rows.append((out["simulator"], int(out["jobs"]), *time_of(name),
                 float(out["mean_wait_s"]), float(out["waited_fraction"])))
with open(f"{work}/nomad_sim.out") as f:
    report = json.load(f)
rows.append((f"nomad-sim {rev} ({report['algorithm']})", report["allocations"]["placed"],
             *time_of("nomad_sim"), report["pending_s"]["mean"], report["waited_fraction"]))

# Erlang C: Erlang B by the stable recursion, then C = B / (1 - rho (1 - B)).
if rho < 1:
    a = rho * c
    b = 1.0
    for k in range(1, c + 1):
        b = a * b / (k + a * b)
    p_wait = b / (1 - rho * (1 - b))
    mean_wait = p_wait * mean_service / (c * (1 - rho))
    erlang = f"{mean_wait:.2f} | {p_wait:.4f}"
else:
    erlang = "n/a (rho >= 1: no steady state) | n/a"

print(f"M/M/{c}, rho = {rho:g}, mean service {mean_service:g} s, "
      f"lambda = {rho * c / mean_service:.6g}/s, seed {seed}; load average {load} at the start\n")
print("| simulator | jobs | wall s | CPU s | jobs/s | mean wait s | P(wait) | peak memory MB |")
print("|---|---:|---:|---:|---:|---:|---:|---:|")
for name, jobs, wall, cpu, peak_mb, wait, waited in rows:
    rate = f"{jobs / wall:,.0f}" if wall > 0 else "n/a"
    print(f"| {name} | {jobs:,} | {wall:.2f} | {cpu:.2f} | {rate} | {wait:.2f} | {waited:.4f} "
          f"| {peak_mb:.1f} |")
print(f"| Erlang C (exact) | | | | | {erlang} | |")
EOF
