//! The scenario keys of issue 12: a workload's restart, reschedule, migrate and disconnect
//! blocks, and the `scheduler:`, `client:`, `server:` and `limits:` settings of the run.
//!
//! Keys left out keep Nomad's defaults (for the job type, where Nomad's differ by type), and
//! Nomad's own checks of these blocks apply, each problem located at its key.

use nomad_sim_core::config::{
    ClientConfig, DelayFunction, DisconnectPolicy, HeartbeatConfig, JobType, ReschedulePolicy,
    RestartMode, RestartPolicy, SchedulerConfig, DEFAULT_MAX_TIME_PAST_HORIZON_MS,
};
use nomad_sim_core::time::{format_duration_ms, SECOND_MS};
use nomad_sim_core::NomadVersion;

use crate::schema::{
    ClientFile, DisconnectFile, Dur, MigrateFile, RescheduleFile, RestartFile, SchedulerFile,
    ServerFile, WorkloadFile,
};
use crate::Builder;

/// Nomad's shortest restart interval (`minRestartInterval`).
const MIN_RESTART_INTERVAL_MS: u64 = 5 * SECOND_MS;

/// Nomad's shortest reschedule delay (`minDelay`).
const MIN_RESCHEDULE_DELAY_MS: u64 = 5 * SECOND_MS;

/// A workload's migrate settings: `max_parallel`, `min_healthy_time`, `healthy_deadline`.
pub(crate) struct Migrate {
    pub(crate) max_parallel: u32,
    pub(crate) min_healthy_time_ms: u64,
    pub(crate) healthy_deadline_ms: u64,
}

impl Builder {
    /// The workload's `restart:` block over Nomad's default for its type.
    pub(crate) fn restart_policy(
        &mut self,
        path: &str,
        job_type: JobType,
        file: Option<&RestartFile>,
    ) -> Option<RestartPolicy> {
        let f = file?;
        let path = format!("{path}.restart");
        let mut p = RestartPolicy::default_for(job_type);
        if let Some(a) = f.attempts {
            p.attempts = a;
        }
        if let Some(d) = f.interval {
            p.interval_ms = d.0;
        }
        if let Some(d) = f.delay {
            p.delay_ms = d.0;
        }
        if let Some(m) = f.mode.as_deref() {
            p.mode = match m {
                "fail" => RestartMode::Fail,
                "delay" => RestartMode::Delay,
                _ => {
                    self.problem(
                        &format!("{path}.mode"),
                        format!("unknown restart mode {m:?} (Nomad's are fail and delay)"),
                    );
                    RestartMode::Fail
                }
            };
        }
        if p.attempts == 0 && p.mode != RestartMode::Fail {
            self.problem(
                &format!("{path}.attempts"),
                "a restart policy with 0 attempts and mode delay is ambiguous (Nomad refuses it)",
            );
        }
        if p.interval_ms < MIN_RESTART_INTERVAL_MS {
            self.problem(
                &format!("{path}.interval"),
                format!(
                    "must be at least {} (Nomad's shortest)",
                    format_duration_ms(MIN_RESTART_INTERVAL_MS)
                ),
            );
        } else if u64::from(p.attempts).saturating_mul(p.delay_ms) > p.interval_ms {
            self.problem(
                &path,
                format!(
                    "Nomad can't restart {} times in an interval of {} with a delay of {}",
                    p.attempts,
                    format_duration_ms(p.interval_ms),
                    format_duration_ms(p.delay_ms)
                ),
            );
        }
        Some(p)
    }

    /// The workload's `reschedule:` block over Nomad's default for its type.
    pub(crate) fn reschedule_policy(
        &mut self,
        path: &str,
        job_type: JobType,
        file: Option<&RescheduleFile>,
    ) -> Option<ReschedulePolicy> {
        let f = file?;
        let path = format!("{path}.reschedule");
        if job_type == JobType::System {
            self.problem_at_key(
                &path,
                "the reschedule block does not apply to system jobs (they run on every node)",
            );
            return None;
        }
        let mut p = ReschedulePolicy::default_for(job_type);
        if let Some(a) = f.attempts {
            p.attempts = a;
        }
        if let Some(d) = f.interval {
            p.interval_ms = d.0;
        }
        if let Some(d) = f.delay {
            p.delay_ms = d.0;
        }
        if let Some(d) = f.max_delay {
            p.max_delay_ms = d.0;
        }
        if let Some(u) = f.unlimited {
            p.unlimited = u;
        }
        if let Some(name) = f.delay_function.as_deref() {
            p.delay_function = DelayFunction::parse(name).unwrap_or_else(|| {
                self.problem(
                    &format!("{path}.delay_function"),
                    format!(
                        "unknown delay function {name:?} (Nomad's are constant, exponential and fibonacci)"
                    ),
                );
                DelayFunction::Constant
            });
        }
        if p.enabled() {
            if p.delay_ms < MIN_RESCHEDULE_DELAY_MS {
                self.problem(
                    &format!("{path}.delay"),
                    format!(
                        "must be at least {} (Nomad's shortest)",
                        format_duration_ms(MIN_RESCHEDULE_DELAY_MS)
                    ),
                );
            }
            if p.delay_function != DelayFunction::Constant && p.max_delay_ms < p.delay_ms {
                self.problem(
                    &format!("{path}.max_delay"),
                    format!(
                        "must be at least the delay ({}) for the {} delay function",
                        format_duration_ms(p.delay_ms),
                        if p.delay_function == DelayFunction::Exponential {
                            "exponential"
                        } else {
                            "fibonacci"
                        }
                    ),
                );
            }
            if !p.unlimited && p.interval_ms == 0 {
                self.problem(
                    &format!("{path}.interval"),
                    "a limited reschedule policy needs an interval",
                );
            }
        }
        Some(p)
    }

    /// The workload's migrate settings: the `migrate:` block, or the older top-level
    /// `max_parallel`.
    pub(crate) fn migrate(
        &mut self,
        path: &str,
        w: &WorkloadFile,
        job_type: JobType,
        file: Option<&MigrateFile>,
    ) -> Migrate {
        let mut m = Migrate {
            max_parallel: w.max_parallel.unwrap_or(1),
            min_healthy_time_ms: nomad_sim_core::ops::MIGRATE_MIN_HEALTHY_MS,
            healthy_deadline_ms: nomad_sim_core::ops::MIGRATE_HEALTHY_DEADLINE_MS,
        };
        let Some(f) = file else {
            return m;
        };
        let path = format!("{path}.migrate");
        if job_type != JobType::Service {
            self.problem_at_key(
                &path,
                "the migrate block applies to service jobs (batch and system allocs are not migrated)",
            );
        }
        if let Some(n) = f.max_parallel {
            if w.max_parallel.is_some() {
                self.problem(
                    &format!("{path}.max_parallel"),
                    "given twice: here and as the workload's max_parallel",
                );
            }
            if n == 0 {
                self.problem(&format!("{path}.max_parallel"), "must be at least 1");
            }
            m.max_parallel = n;
        }
        if let Some(d) = f.min_healthy_time {
            m.min_healthy_time_ms = d.0;
        }
        if let Some(d) = f.healthy_deadline {
            m.healthy_deadline_ms = d.0;
        }
        if m.healthy_deadline_ms <= m.min_healthy_time_ms {
            self.problem(
                &format!("{path}.healthy_deadline"),
                format!(
                    "must be longer than min_healthy_time ({})",
                    format_duration_ms(m.min_healthy_time_ms)
                ),
            );
        }
        m
    }

    /// The workload's `disconnect:` block (Nomad 1.8 on) or `max_client_disconnect` (1.3 on).
    pub(crate) fn disconnect_policy(
        &mut self,
        path: &str,
        version: NomadVersion,
        block: Option<&DisconnectFile>,
        max_client_disconnect: Option<Dur>,
    ) -> Option<DisconnectPolicy> {
        match (block, max_client_disconnect) {
            (None, None) => None,
            (Some(_), Some(_)) => {
                self.problem_at_key(
                    &format!("{path}.max_client_disconnect"),
                    "give either disconnect.lost_after or max_client_disconnect, not both",
                );
                None
            }
            (Some(d), None) => {
                if !version.has_disconnect_block() {
                    self.problem_at_key(
                        &format!("{path}.disconnect"),
                        format!(
                            "the disconnect block is Nomad 1.8 and later (nomad_version is {version}); use max_client_disconnect"
                        ),
                    );
                }
                if d.lost_after.0 == 0 {
                    self.problem(
                        &format!("{path}.disconnect.lost_after"),
                        "must be longer than zero",
                    );
                }
                Some(DisconnectPolicy {
                    lost_after_ms: d.lost_after.0,
                    replace: d.replace.unwrap_or(true),
                })
            }
            (None, Some(d)) => {
                if !version.has_max_client_disconnect() {
                    self.problem(
                        &format!("{path}.max_client_disconnect"),
                        format!("max_client_disconnect is Nomad 1.3 and later (nomad_version is {version})"),
                    );
                }
                if d.0 == 0 {
                    self.problem(
                        &format!("{path}.max_client_disconnect"),
                        "must be longer than zero",
                    );
                }
                Some(DisconnectPolicy {
                    lost_after_ms: d.0,
                    replace: true,
                })
            }
        }
    }

    /// `scheduler:` beyond the algorithm: workers, eval time, plan apply time, preemption.
    pub(crate) fn scheduler_config(&mut self, f: Option<&SchedulerFile>) -> SchedulerConfig {
        let mut c = SchedulerConfig::default();
        let Some(f) = f else {
            return c;
        };
        if let Some(n) = f.num_schedulers {
            if n == 0 {
                self.problem("scheduler.num_schedulers", "must be at least 1");
            }
            c.num_schedulers = n.max(1);
        }
        if let Some(d) = &f.eval_time {
            c.eval_time = self.duration_dist("scheduler.eval_time", d);
        }
        if let Some(d) = &f.plan_apply_time {
            c.plan_apply_time = self.duration_dist("scheduler.plan_apply_time", d);
        }
        c.memory_oversubscription = f.memory_oversubscription.unwrap_or(false);
        if let Some(p) = &f.preemption {
            let d = c.preemption;
            c.preemption.system = p.system.unwrap_or(d.system);
            c.preemption.batch = p.batch.unwrap_or(d.batch);
            c.preemption.service = p.service.unwrap_or(d.service);
            c.preemption.sysbatch = p.sysbatch.unwrap_or(d.sysbatch);
        }
        c
    }

    /// `client:`.
    pub(crate) fn client_config(&mut self, f: Option<&ClientFile>) -> ClientConfig {
        let mut c = ClientConfig::default();
        if let Some(d) = f.and_then(|f| f.task_start.as_ref()) {
            c.task_start = self.duration_dist("client.task_start", d);
        }
        c
    }

    /// `server:`'s heartbeat settings.
    pub(crate) fn heartbeat_config(&mut self, f: Option<&ServerFile>) -> HeartbeatConfig {
        let mut c = HeartbeatConfig::default();
        let Some(f) = f else {
            return c;
        };
        if let Some(d) = f.heartbeat_grace {
            c.heartbeat_grace_ms = d.0;
        }
        if let Some(d) = f.min_heartbeat_ttl {
            if d.0 == 0 {
                self.problem("server.min_heartbeat_ttl", "must be longer than zero");
            }
            c.min_heartbeat_ttl_ms = d.0.max(1);
        }
        if let Some(n) = f.max_heartbeats_per_second {
            if n == 0 {
                self.problem("server.max_heartbeats_per_second", "must be at least 1");
            }
            c.max_heartbeats_per_second = n.max(1);
        }
        c
    }

    /// `limits.max_time_past_horizon`.
    pub(crate) fn max_time_past_horizon(&mut self, d: Option<Dur>) -> u64 {
        match d {
            None => DEFAULT_MAX_TIME_PAST_HORIZON_MS,
            Some(Dur(0)) => {
                self.problem("limits.max_time_past_horizon", "must be longer than zero");
                DEFAULT_MAX_TIME_PAST_HORIZON_MS
            }
            Some(Dur(ms)) => ms,
        }
    }
}
