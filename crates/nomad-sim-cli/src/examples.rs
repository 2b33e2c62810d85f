//! The examples at the end of each `nomad-sim` command's `--help`.

/// `nomad-sim --help`.
pub const MAIN: &str = "\
Examples:
  nomad-sim run scenarios/circleci-weekday.yaml
  nomad-sim status scenarios/circleci-weekday.yaml --at 9h30m
  nomad-sim node-status scenarios/drain-deadline-tradeoff.yaml --at 14h5m linux-0

Nomad's single-dash spellings work too: -json, -seed=7, -help.
Exit codes: 0 success, 1 a failed write, 2 bad input (with the file, line and column).";

/// `nomad-sim run --help`.
pub const RUN: &str = "\
Examples:
  nomad-sim run scenarios/circleci-weekday.yaml
  nomad-sim run scenarios/autoscaler-weekday.yaml --verbose        # every drain and scaling action
  nomad-sim run scenarios/circleci-weekday.yaml -json -seed 7      # the report as JSON
  nomad-sim run scenarios/drain-deadline-tradeoff.yaml --trace events.jsonl --out out/run";

/// `nomad-sim validate --help`.
pub const VALIDATE: &str = "\
Examples:
  nomad-sim validate scenarios/circleci-weekday.yaml
  for f in scenarios/*.yaml; do nomad-sim validate \"$f\"; done";

/// `nomad-sim status --help`.
pub const STATUS: &str = "\
Examples:
  nomad-sim status scenarios/circleci-weekday.yaml --at 9h30m
  nomad-sim status scenarios/circleci-weekday.yaml --at 2026-01-05T09:30:00Z pr-medium-100
  nomad-sim status scenarios/circleci-weekday.yaml --at 1h -json";

/// `nomad-sim node-status --help`.
pub const NODE_STATUS: &str = "\
Examples:
  nomad-sim node-status scenarios/drain-deadline-tradeoff.yaml --at 14h5m
  nomad-sim node-status scenarios/drain-deadline-tradeoff.yaml --at 14h5m linux-0
  nomad-sim node-status scenarios/circleci-weekday.yaml --at 1d -json";

/// `nomad-sim logs --help`.
pub const LOGS: &str = "\
Examples:
  nomad-sim logs scenarios/drain-deadline-tradeoff.yaml --at 15h integration-large-559   # stopped by its drain
  nomad-sim logs scenarios/circleci-weekday.yaml --at 10h pr-medium-100 -json";

/// `nomad-sim import --help`.
pub const IMPORT: &str = "\
Examples:
  curl -s \"$NOMAD_ADDR/v1/nodes?resources=true\" > nodes.json
  nomad-sim import --nodes nodes.json --out my-cluster.yaml
  nomad job run -output build.nomad.hcl > build.json
  nomad-sim import --nodes nodes.json --jobs build.json --horizon 8h --out my-cluster.yaml";

/// `nomad-sim jobspec --help`.
pub const JOBSPEC: &str = "\
Examples:
  nomad-sim jobspec docs/jobs/nomad-sim-sweep.nomad.hcl
  nomad-sim jobspec docs/jobs/nomad-sim-sweep.nomad.hcl -var shards=4 -json";

/// `nomad-sim eval --help`.
pub const EVAL: &str = "\
Examples:
  nomad-sim eval scenarios/circleci-weekday.yaml --at 9h30m                 # like nomad eval list
  nomad-sim eval scenarios/circleci-weekday.yaml --at 9h30m list -json
  nomad-sim eval scenarios/circleci-weekday.yaml --at 9h30m pr-medium-100   # one job's evals";

/// `nomad-sim serve --help`.
pub const SERVE: &str = "\
Examples:
  nomad-sim serve scenarios/circleci-weekday.yaml --speed 60     # a simulated hour per minute
  NOMAD_ADDR=http://127.0.0.1:4646 nomad node status             # in another terminal
  nomad-sim serve scenarios/drain-deadline-tradeoff.yaml --paused --addr 127.0.0.1:4747
  curl -s -XPOST 127.0.0.1:4747/v1/sim/advance -d '{\"By\":\"14h\"}'   # move the clock by hand

It runs until stopped (Ctrl-C); docs/api.md lists the endpoints.";
