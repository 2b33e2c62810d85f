"""Writes a nomad-sim scenario for an M/M/c queue, for the peer benchmark (benches/peers/run.sh).

The same model as mmc_simpy.py and nexosim-mmc, built the way scenarios/mmc-10-rho80.yaml
builds it: a pool of c identical nodes that each fit exactly one allocation, Poisson arrivals
of one-allocation batch jobs, exponential run times. The horizon expects `jobs` arrivals;
the benchmark divides by the jobs actually placed.

    python mmc_scenario.py --c 10 --rho 0.8 --mean-service 300 --jobs 1000000 --seed 1 > mmc.yaml
"""

import argparse
import math


def scenario(c, rate_per_s, mean_service_s, jobs, seed):
    """The scenario as YAML text."""
    rate_per_h = rate_per_s * 3600.0
    # A horizon that expects exactly `jobs` arrivals (the count varies by about sqrt(jobs));
    # the allocation limit sits far above it and never stops the run.
    horizon_ms = round(jobs / rate_per_s * 1000)
    limit = 2 * jobs + 1000
    mean_ms = max(1, round(mean_service_s * 1000))
    rho = rate_per_s * mean_service_s / c
    return f"""\
# An M/M/{c} queue for the peer benchmark (written by benches/peers/mmc_scenario.py):
# {c} nodes that each fit exactly one allocation, Poisson arrivals at {rate_per_h!r}/h,
# exponential run times with mean {mean_ms}ms (rho = {rho:.4f}), {jobs} jobs.
name: peers-mmc-{c}
seed: {seed}
horizon: {horizon_ms}ms
limits:
  max_allocations: {limit}
node_pools:
  - name: slot
    count: {c}
    resources: {{ cpu: 1000, memory: 1000 }}
workloads:
  - name: task
    arrivals: {{ poisson: {{ rate: {rate_per_h!r}/h }} }}
    resources: {{ cpu: 1000, memory: 1000 }}
    duration: {{ exponential: {{ mean: {mean_ms}ms }} }}
"""


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--c", type=int, default=10, help="servers (nodes; default 10)")
    parser.add_argument("--rho", type=float, default=0.8, help="utilisation (default 0.8)")
    parser.add_argument("--lambda", dest="rate", type=float, default=None,
                        help="arrival rate per second (overrides --rho)")
    parser.add_argument("--mean-service", type=float, default=300.0,
                        help="mean service time in seconds (default 300)")
    parser.add_argument("--jobs", type=int, default=1_000_000, help="jobs (default 1000000)")
    parser.add_argument("--seed", type=int, default=1, help="seed (default 1)")
    args = parser.parse_args(argv)
    if args.c <= 0 or args.rho <= 0 or args.mean_service <= 0 or args.jobs <= 0:
        parser.error("c, rho, the mean service time and jobs must be positive")
    rate = args.rate if args.rate is not None else args.rho * args.c / args.mean_service
    print(scenario(args.c, rate, args.mean_service, args.jobs, args.seed), end="")


if __name__ == "__main__":
    main()
