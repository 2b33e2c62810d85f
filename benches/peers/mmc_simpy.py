"""An M/M/c queue in SimPy, for nomad-sim's peer benchmark (benches/peers/run.sh).

Poisson arrivals, c identical servers (one simpy.Resource with capacity c), exponential
service times, first come first served, a fixed number of jobs. Prints the jobs served, the
mean wait, the share of jobs that waited and the wall time, one "key: value" a line.

    python mmc_simpy.py --c 10 --rho 0.8 --mean-service 300 --jobs 1000000 --seed 1
"""

import argparse
import random
import sys
import time

import simpy


class Stats:
    """Wait statistics over every job that started service."""

    def __init__(self):
        self.started = 0
        self.waited = 0
        self.total_wait = 0.0


def job(env, servers, service_time, stats):
    """One job: queue for a server, record the wait, hold the server for its service time."""
    arrived = env.now
    with servers.request() as request:
        yield request
        wait = env.now - arrived
        stats.started += 1
        if wait > 0:
            stats.waited += 1
            stats.total_wait += wait
        yield env.timeout(service_time)


def source(env, servers, jobs, rate, mean_service, arrivals_rng, service_rng, stats):
    """Poisson arrivals: `jobs` jobs with exponential gaps of mean 1/rate."""
    for _ in range(jobs):
        yield env.timeout(arrivals_rng.expovariate(rate))
        service_time = service_rng.expovariate(1.0 / mean_service)
        env.process(job(env, servers, service_time, stats))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--c", type=int, default=10, help="servers (default 10)")
    parser.add_argument("--rho", type=float, default=0.8, help="utilisation (default 0.8)")
    parser.add_argument("--lambda", dest="rate", type=float, default=None,
                        help="arrival rate per second (overrides --rho)")
    parser.add_argument("--mean-service", type=float, default=300.0,
                        help="mean service time in seconds (default 300)")
    parser.add_argument("--jobs", type=int, default=1_000_000, help="jobs (default 1000000)")
    parser.add_argument("--seed", type=int, default=1, help="seed (default 1)")
    args = parser.parse_args(argv)
    if args.c <= 0 or args.rho <= 0 or args.mean_service <= 0 or args.jobs < 0:
        parser.error("c, rho and the mean service time must be positive")
    rate = args.rate if args.rate is not None else args.rho * args.c / args.mean_service

    wall = time.perf_counter()
    # Two random streams from one seed: arrivals and service times.
    arrivals_rng = random.Random(args.seed)
    service_rng = random.Random(args.seed + 1_000_003)
    env = simpy.Environment()
    servers = simpy.Resource(env, capacity=args.c)
    stats = Stats()
    env.process(source(env, servers, args.jobs, rate, args.mean_service,
                       arrivals_rng, service_rng, stats))
    env.run()
    wall_s = time.perf_counter() - wall

    jobs = stats.started
    print(f"simulator: SimPy {simpy.__version__} (Python {sys.version.split()[0]})")
    print(f"jobs: {jobs}")
    print(f"mean_wait_s: {stats.total_wait / max(jobs, 1):.4f}")
    print(f"waited_fraction: {stats.waited / max(jobs, 1):.6f}")
    print(f"wall_s: {wall_s:.3f}")


if __name__ == "__main__":
    main()
