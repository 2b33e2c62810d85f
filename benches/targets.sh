#!/usr/bin/env bash
# Measures the core's performance targets (issue 8) on this machine: wall and CPU time, peak
# memory and placements per second for C2M, the busy and saturated 10,000-client clusters,
# the 1,000-client cluster at the same per-node load, and a CircleCI-like day and week.
#   bash benches/targets.sh            # everything (the week takes a few minutes)
#   bash benches/targets.sh --quick    # without the day and week
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -p nomad-sim-cli >/dev/null 2>&1
bin=${CARGO_TARGET_DIR:-target}/release/nomad-sim
timer=/usr/bin/time
if [ ! -x "$timer" ]; then
  echo "benches/targets.sh needs GNU time (apt-get install time)" >&2
  exit 2
fi
runs=(scenarios/c2m.yaml benches/scenarios/busy-10k.yaml benches/scenarios/busy-1k.yaml
      benches/scenarios/saturated-10k.yaml)
if [ "${1:-}" != "--quick" ]; then
  runs+=(benches/scenarios/ci-day-2k.yaml benches/scenarios/ci-week-2k.yaml)
fi
echo "| scenario | placements | wall s | CPU s | placements per CPU s | peak MiB |"
echo "|---|---:|---:|---:|---:|---:|"
for s in "${runs[@]}"; do
  out=$(mktemp)
  $timer -f "%e %U %S %M" -o "$out.time" "$bin" run "$s" --json >"$out"
  placed=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["allocations"]["placed"])' "$out")
  read -r wall user sys peak <"$out.time"
  python3 - "$s" "$placed" "$wall" "$user" "$sys" "$peak" <<'PY'
import sys
name, placed, wall, user, sys_s, peak = sys.argv[1:]
cpu = float(user) + float(sys_s)
print(f"| {name} | {int(placed):,} | {float(wall):.2f} | {cpu:.2f} | {int(placed) / cpu:,.0f} | {int(peak) / 1024:.0f} |")
PY
  rm -f "$out" "$out.time"
done
