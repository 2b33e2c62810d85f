//! The examples at the end of each `nomad-sim-report` command's `--help`.

/// `nomad-sim-report --help`.
pub const SWEEP: &str = "\
Examples:
  nomad-sim-report --scenarios scenarios/circleci-weekday.yaml --out out/report
  nomad-sim-report --scenarios scenarios/circleci-weekday.yaml --algorithms binpack,spread,best-fit --seeds 10
  nomad-sim-report --scenarios scenarios/circleci-weekday.yaml --seeds 5 --no-timing --save-baseline out/baseline.json
  nomad-sim-report --scenarios scenarios/circleci-weekday.yaml --seeds 5 --no-timing --baseline out/baseline.json
  for i in 0 1 2 3; do nomad-sim-report --scenarios scenarios/circleci-weekday.yaml --seeds 5 --shard $i/4 --out shards; done

Without --scenarios it runs the five quick shipped scenarios with every algorithm (about a
second); name scenarios, such as scenarios/*.yaml, to run others.

Nomad's single-dash spellings work too: -seeds 5, -out=DIR.
Exit codes: 0 success, 1 a regression against the baseline or a failed write, 2 bad input.";

/// `nomad-sim-report merge --help`.
pub const MERGE: &str = "\
Examples:
  nomad-sim-report merge shards/shard-*-of-4.json --out out/report";

/// `nomad-sim-report capacity --help`.
pub const CAPACITY: &str = "\
Knobs (--vary KNOB=VALUES; VALUES is LO..HI, LO..HI:STEP or A,B,C):
  pool.NAME.count                     a pool's node count (not a pool the autoscaler owns)
  scale_up.I.count, scale_up@TIME.count           the I-th scale_up (0-based), or the one at TIME
  scale_down.I.count, scale_down@TIME.count       the same for scale_down
  scale_down.I.drain_deadline, node_drain.I.deadline   a drain deadline (also @TIME)
  autoscaler.min, autoscaler.max, autoscaler.target
  workload.NAME.share.CLASS           the share of NAME's arrivals that ask for CLASS instead
Knobs joined by commas take the same values: scale_up.0.count,scale_down.0.count=6..16:2

Examples:
  nomad-sim-report capacity scenarios/circleci-weekday.yaml --pool linux --target 'p95_pending_s<=60' --min 4 --max 30
  nomad-sim-report capacity scenarios/circleci-scale-down.yaml --vary 'scale_down@20h.count=4..12' \\
      --target 'p95_pending_s<=60' --target 'workload=integration-xlarge:p99_pending_s<=300'
  nomad-sim-report capacity scenarios/circleci-scale-down.yaml --vary 'pool.linux.count=4..12:2' \\
      --vary 'scale_up.0.count,scale_down.0.count=6..16:2' --target 'p95_pending_s<=30' --out out/grid
  nomad-sim-report capacity scenarios/mixed-cluster.yaml --vary 'pool.rack-a.count,pool.rack-b.count=4..12' \\
      --seeds 1 --features";
