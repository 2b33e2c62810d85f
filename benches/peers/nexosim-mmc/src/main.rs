//! An M/M/c queue written with the nexosim discrete-event framework, for nomad-sim's peer
//! benchmark (`benches/peers/run.sh`): Poisson arrivals, `c` identical servers, exponential
//! service times, first come first served, a fixed number of jobs.
//!
//! The bench has two models. `Source` self-schedules its arrivals and sends each job through
//! an output port to `Station`, the queue in front of the `c` servers (the counterpart of
//! SimPy's `Resource` with capacity `c`). `Station` self-schedules each service completion and
//! keeps the wait statistics, which `main` reads at the end through a query port.
//!
//! ```text
//! mmc --c 10 --rho 0.8 --mean-service 300 --jobs 1000000 --seed 1 [--lambda L] [--threads 1]
//! ```

use std::collections::VecDeque;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use nexosim::model::{schedulable, Context, Model};
use nexosim::ports::{Output, QuerySource};
use nexosim::simulation::{Mailbox, SimInit};
use nexosim::time::MonotonicTime;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Exp};
use serde::{Deserialize, Serialize};

/// A job on its way from the source to the station: only its arrival time matters.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Job {
    arrived: MonotonicTime,
}

/// What the station measured, read once at the end of the run.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct WaitStats {
    /// Jobs that started service.
    pub started: u64,
    /// Jobs that found every server busy.
    pub waited: u64,
    /// Sum of the waits, in seconds.
    pub total_wait_s: f64,
}

/// Poisson arrivals: a fixed number of jobs with exponential gaps.
#[derive(Serialize, Deserialize)]
pub struct Source {
    /// Each new job -- output port.
    pub jobs: Output<Job>,
    gap: Exp<f64>,
    rng: ChaCha8Rng,
    /// Arrivals not yet scheduled.
    left: u64,
}

#[Model]
impl Source {
    /// A source of `jobs` arrivals at `rate` per second.
    pub fn new(rate: f64, jobs: u64, rng: ChaCha8Rng) -> Self {
        Self {
            jobs: Output::default(),
            gap: Exp::new(rate).expect("a positive arrival rate"),
            rng,
            left: jobs,
        }
    }

    /// Schedules the first arrival.
    #[nexosim(init)]
    async fn init(&mut self, cx: &Context<Self>) {
        self.schedule_next(cx);
    }

    /// A job arrives: send it on and schedule the next one.
    #[nexosim(schedulable)]
    async fn arrive(&mut self, _: (), cx: &Context<Self>) {
        self.jobs.send(Job { arrived: cx.time() }).await;
        self.schedule_next(cx);
    }

    fn schedule_next(&mut self, cx: &Context<Self>) {
        if self.left == 0 {
            return;
        }
        self.left -= 1;
        let gap = positive_secs(self.gap.sample(&mut self.rng));
        cx.schedule_event(gap, schedulable!(Self::arrive), ())
            .expect("a gap in the future");
    }
}

/// `c` identical servers behind one FIFO queue.
#[derive(Serialize, Deserialize)]
pub struct Station {
    servers: usize,
    busy: usize,
    /// Arrival times of the jobs waiting for a server, oldest first.
    queue: VecDeque<MonotonicTime>,
    service: Exp<f64>,
    rng: ChaCha8Rng,
    stats: WaitStats,
}

#[Model]
impl Station {
    /// A station with `servers` servers and service times of mean `mean_service_s` seconds.
    pub fn new(servers: usize, mean_service_s: f64, rng: ChaCha8Rng) -> Self {
        Self {
            servers,
            busy: 0,
            queue: VecDeque::new(),
            service: Exp::new(1.0 / mean_service_s).expect("a positive mean service time"),
            rng,
            stats: WaitStats::default(),
        }
    }

    /// A job arrives -- input port: it starts at once on a free server, or queues.
    pub async fn submit(&mut self, job: Job, cx: &Context<Self>) {
        if self.busy < self.servers {
            self.busy += 1;
            self.start(job.arrived, cx);
        } else {
            self.queue.push_back(job.arrived);
        }
    }

    /// A server finishes a job and takes the oldest waiting one, if any.
    #[nexosim(schedulable)]
    async fn finish(&mut self, _: (), cx: &Context<Self>) {
        match self.queue.pop_front() {
            Some(arrived) => self.start(arrived, cx),
            None => self.busy -= 1,
        }
    }

    /// The statistics so far -- replier port.
    pub async fn stats(&mut self) -> WaitStats {
        self.stats.clone()
    }

    /// Starts the service of a job that arrived at `arrived`, on a server already counted busy.
    fn start(&mut self, arrived: MonotonicTime, cx: &Context<Self>) {
        let wait = cx.time().duration_since(arrived);
        self.stats.started += 1;
        if !wait.is_zero() {
            self.stats.waited += 1;
            self.stats.total_wait_s += wait.as_secs_f64();
        }
        let service = positive_secs(self.service.sample(&mut self.rng));
        cx.schedule_event(service, schedulable!(Self::finish), ())
            .expect("a service time in the future");
    }
}

/// A sampled time in seconds as a `Duration`, at least one nanosecond: nexosim schedules only
/// into the strict future.
fn positive_secs(secs: f64) -> Duration {
    Duration::from_secs_f64(secs).max(Duration::from_nanos(1))
}

/// Command-line settings.
struct Args {
    servers: usize,
    rho: f64,
    lambda: Option<f64>,
    mean_service_s: f64,
    jobs: u64,
    seed: u64,
    threads: usize,
}

const USAGE: &str = "usage: nexosim-mmc [--c N] [--rho R | --lambda PER_S] [--mean-service S] \
                     [--jobs N] [--seed N] [--threads N]";

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        servers: 10,
        rho: 0.8,
        lambda: None,
        mean_service_s: 300.0,
        jobs: 1_000_000,
        seed: 1,
        threads: 1,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        if flag == "-h" || flag == "--help" {
            return Err(USAGE.to_string());
        }
        let value = it
            .next()
            .ok_or_else(|| format!("{flag} needs a value\n{USAGE}"))?;
        let bad = || format!("bad value {value:?} for {flag}");
        match flag.as_str() {
            "--c" | "-c" => args.servers = value.parse().map_err(|_| bad())?,
            "--rho" => args.rho = value.parse().map_err(|_| bad())?,
            "--lambda" => args.lambda = Some(value.parse().map_err(|_| bad())?),
            "--mean-service" => args.mean_service_s = value.parse().map_err(|_| bad())?,
            "--jobs" => args.jobs = value.parse().map_err(|_| bad())?,
            "--seed" => args.seed = value.parse().map_err(|_| bad())?,
            "--threads" => args.threads = value.parse().map_err(|_| bad())?,
            _ => return Err(format!("unknown flag {flag}\n{USAGE}")),
        }
    }
    if args.servers == 0 || args.mean_service_s <= 0.0 || args.rho <= 0.0 {
        return Err("c, rho and the mean service time must be positive".to_string());
    }
    Ok(args)
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(args) => args,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::from(2);
        }
    };
    let rate = args
        .lambda
        .unwrap_or(args.rho * args.servers as f64 / args.mean_service_s);

    let wall = Instant::now();

    // Two random streams from one seed: arrivals and service times.
    let arrivals_rng = ChaCha8Rng::seed_from_u64(args.seed);
    let mut service_rng = ChaCha8Rng::seed_from_u64(args.seed);
    service_rng.set_stream(1);

    // Bench assembly.
    let mut source = Source::new(rate, args.jobs, arrivals_rng);
    let station = Station::new(args.servers, args.mean_service_s, service_rng);
    let source_mbox = Mailbox::new();
    let station_mbox = Mailbox::new();
    source.jobs.connect(Station::submit, &station_mbox);

    let mut bench = SimInit::with_num_threads(args.threads);
    let stats_query = QuerySource::new()
        .connect(Station::stats, &station_mbox)
        .register(&mut bench);
    let mut simu = bench
        .add_model(source, source_mbox, "source")
        .add_model(station, station_mbox, "station")
        .init(MonotonicTime::EPOCH)
        .expect("the bench initialises");

    // Run until no event is left: every arrival made and every job served.
    simu.run().expect("the simulation runs");
    let stats = simu
        .process_query(&stats_query, ())
        .expect("the station answers");
    let wall_s = wall.elapsed().as_secs_f64();

    let jobs = stats.started;
    let mean_wait_s = stats.total_wait_s / jobs.max(1) as f64;
    let waited_fraction = stats.waited as f64 / jobs.max(1) as f64;
    let plural = if args.threads == 1 { "" } else { "s" };
    println!("simulator: nexosim 1.0 ({} thread{plural})", args.threads);
    println!("jobs: {jobs}");
    println!("mean_wait_s: {mean_wait_s:.4}");
    println!("waited_fraction: {waited_fraction:.6}");
    println!("wall_s: {wall_s:.3}");
    ExitCode::SUCCESS
}
