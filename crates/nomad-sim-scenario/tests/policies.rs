//! The scenario keys of issue 12: restart, reschedule, migrate, disconnect; scheduler, client,
//! server heartbeat and limits settings; their defaults and Nomad's checks.

use std::path::Path;

use nomad_sim_core::config::{
    DelayFunction, DisconnectPolicy, DurationDist, JobType, ReschedulePolicy, RestartMode,
    RestartPolicy,
};
use nomad_sim_core::time::{HOUR_MS, MINUTE_MS, SECOND_MS};
use nomad_sim_scenario::parse_str;

const HEAD: &str = r#"
name: keys
horizon: 1h
node_pools:
  - { name: a, count: 2, resources: { cpu: 4000, memory: 4000 } }
"#;

fn load(body: &str) -> Result<nomad_sim_core::SimConfig, String> {
    parse_str(&format!("{HEAD}{body}"), "s.yaml", Path::new("."))
        .map(|s| s.config)
        .map_err(|e| e.to_string())
}

#[test]
fn every_new_key_reaches_the_configuration() {
    let c = load(
        r#"
scheduler: { algorithm: binpack, num_schedulers: 2, eval_time: 50ms, plan_apply_time: { uniform: { min: 1ms, max: 3ms } } }
client: { task_start: { exponential: { mean: 20s } } }
server: { heartbeat_grace: 20s, min_heartbeat_ttl: 15s, max_heartbeats_per_second: 10 }
limits: { max_time_past_horizon: 48h }
workloads:
  - name: web
    type: service
    arrivals: { at: [0] }
    count: 2
    resources: { cpu: 500, memory: 500 }
    duration: 2h
    migrate: { max_parallel: 2, min_healthy_time: 30s, healthy_deadline: 10m }
    restart: { attempts: 5, interval: 10m, delay: 20s, mode: delay }
    reschedule: { delay: 10s, delay_function: fibonacci, max_delay: 5m }
    disconnect: { lost_after: 6h, replace: false }
  - name: build
    arrivals: { at: [0] }
    resources: { cpu: 500, memory: 500 }
    duration: 5m
    reschedule: { attempts: 3, interval: 1h }
"#,
    )
    .unwrap();
    assert_eq!(c.scheduler.num_schedulers, 2);
    assert!(matches!(c.scheduler.eval_time, DurationDist::Constant(50)));
    assert!(matches!(
        c.scheduler.plan_apply_time,
        DurationDist::Uniform {
            min_ms: 1,
            max_ms: 3
        }
    ));
    assert!(matches!(
        c.client.task_start,
        DurationDist::Exponential { .. }
    ));
    assert_eq!(c.heartbeat.heartbeat_grace_ms, 20 * SECOND_MS);
    assert_eq!(c.heartbeat.min_heartbeat_ttl_ms, 15 * SECOND_MS);
    assert_eq!(c.heartbeat.max_heartbeats_per_second, 10);
    assert_eq!(c.limits.max_time_past_horizon_ms, 48 * HOUR_MS);
    let web = &c.workloads[0];
    assert_eq!(
        (
            web.max_parallel,
            web.min_healthy_time_ms,
            web.healthy_deadline_ms
        ),
        (2, 30 * SECOND_MS, 10 * MINUTE_MS)
    );
    assert_eq!(
        web.restart,
        Some(RestartPolicy {
            attempts: 5,
            interval_ms: 10 * MINUTE_MS,
            delay_ms: 20 * SECOND_MS,
            mode: RestartMode::Delay
        })
    );
    assert_eq!(
        web.reschedule,
        Some(ReschedulePolicy {
            attempts: 0,
            interval_ms: 0,
            delay_ms: 10 * SECOND_MS,
            delay_function: DelayFunction::Fibonacci,
            max_delay_ms: 5 * MINUTE_MS,
            unlimited: true,
        })
    );
    assert_eq!(
        web.disconnect,
        Some(DisconnectPolicy {
            lost_after_ms: 6 * HOUR_MS,
            replace: false
        })
    );
    // Keys left out keep Nomad's defaults for the job type.
    let build = &c.workloads[1];
    assert_eq!(build.restart, None);
    assert_eq!(
        build.restart_policy(),
        RestartPolicy::default_for(JobType::Batch)
    );
    let r = build.reschedule_policy();
    assert_eq!(
        (r.attempts, r.interval_ms, r.delay_ms),
        (3, HOUR_MS, 5 * SECOND_MS)
    );
    assert!(!r.unlimited);
}

#[test]
fn defaults_when_nothing_is_given() {
    let c = load(
        r#"
workloads:
  - { name: w, arrivals: { at: [0] }, resources: { cpu: 500, memory: 500 }, duration: 5m }
"#,
    )
    .unwrap();
    assert!(c.scheduler.is_instant());
    assert_eq!(c.scheduler.num_schedulers, 4);
    assert!(matches!(c.client.task_start, DurationDist::Constant(0)));
    assert_eq!(c.heartbeat, Default::default());
    assert_eq!(c.limits.max_time_past_horizon_ms, 30 * 24 * HOUR_MS);
    let w = &c.workloads[0];
    assert_eq!((w.restart, w.reschedule, w.disconnect), (None, None, None));
    assert_eq!(
        (w.min_healthy_time_ms, w.healthy_deadline_ms),
        (10_000, 300_000)
    );
}

#[test]
fn max_client_disconnect_is_the_older_spelling_and_versions_are_checked() {
    let c = load(
        r#"
nomad_version: "1.6"
workloads:
  - { name: w, type: service, arrivals: { at: [0] }, resources: { cpu: 500, memory: 500 }, duration: 5m, max_client_disconnect: 5m }
"#,
    )
    .unwrap();
    assert_eq!(
        c.workloads[0].disconnect,
        Some(DisconnectPolicy {
            lost_after_ms: 5 * MINUTE_MS,
            replace: true
        })
    );
    let e = load(
        r#"
nomad_version: "1.6"
workloads:
  - { name: w, type: service, arrivals: { at: [0] }, resources: { cpu: 500, memory: 500 }, duration: 5m, disconnect: { lost_after: 5m } }
"#,
    )
    .unwrap_err();
    assert!(e.contains("disconnect block is Nomad 1.8 and later"), "{e}");
    let e = load(
        r#"
nomad_version: "1.2"
workloads:
  - { name: w, type: service, arrivals: { at: [0] }, resources: { cpu: 500, memory: 500 }, duration: 5m, max_client_disconnect: 5m }
"#,
    )
    .unwrap_err();
    assert!(
        e.contains("max_client_disconnect is Nomad 1.3 and later"),
        "{e}"
    );
}

#[test]
fn nomads_checks_of_the_blocks_are_located() {
    for (block, expect) in [
        (
            "restart: { attempts: 5, interval: 1m, delay: 15s }",
            "Nomad can't restart 5 times in an interval of 1m0s with a delay of 15s",
        ),
        ("restart: { mode: sometimes }", "unknown restart mode"),
        ("restart: { attempts: 0, mode: delay }", "is ambiguous"),
        ("restart: { interval: 1s }", "must be at least 5s"),
        (
            "reschedule: { delay_function: linear }",
            "unknown delay function",
        ),
        ("reschedule: { delay: 1s }", "must be at least 5s"),
        (
            "reschedule: { delay: 1m, max_delay: 30s }",
            "must be at least the delay",
        ),
        (
            "migrate: { max_parallel: 2 }\n    max_parallel: 3",
            "given twice",
        ),
        (
            "migrate: { min_healthy_time: 5m, healthy_deadline: 1m }",
            "must be longer than min_healthy_time",
        ),
        (
            "disconnect: { lost_after: 1m }\n    max_client_disconnect: 1m",
            "not both",
        ),
    ] {
        let e = load(&format!(
            r#"
workloads:
  - name: w
    type: service
    arrivals: {{ at: [0] }}
    resources: {{ cpu: 500, memory: 500 }}
    duration: 5m
    {block}
"#
        ))
        .unwrap_err();
        assert!(e.contains(expect), "{block}: {e}");
        assert!(e.contains("s.yaml:"), "located: {e}");
    }
    let e = load(
        r#"
workloads:
  - { name: w, type: system, arrivals: { at: [0] }, resources: { cpu: 500, memory: 500 }, duration: 5m, reschedule: { attempts: 1 } }
"#,
    )
    .unwrap_err();
    assert!(e.contains("does not apply to system jobs"), "{e}");
    let e = load(
        r#"
scheduler: { num_schedulers: 0 }
workloads:
  - { name: w, arrivals: { at: [0] }, resources: { cpu: 500, memory: 500 }, duration: 5m, migrate: { max_parallel: 1 } }
"#,
    )
    .unwrap_err();
    assert!(e.contains("num_schedulers: must be at least 1"), "{e}");
    assert!(e.contains("migrate block applies to service jobs"), "{e}");
}

#[test]
fn constraints_keep_their_operator_text_and_distinct_hosts_false_is_off() {
    let c = load(
        r#"
workloads:
  - name: w
    arrivals: { at: [0] }
    resources: { cpu: 500, memory: 500 }
    duration: 5m
    constraints:
      - { attribute: "${node.class}", operator: is, value: x }
      - { attribute: "${node.datacenter}", operator: "==", value: dc1 }
      - { operator: distinct_hosts, value: "false" }
  - name: v
    arrivals: { at: [0] }
    resources: { cpu: 500, memory: 500 }
    duration: 5m
    constraints:
      - { operator: distinct_hosts, value: "true" }
"#,
    )
    .unwrap();
    let w = &c.workloads[0];
    assert_eq!(w.constraints[0].describe(), "${node.class} is x");
    assert_eq!(w.constraints[1].describe(), "${node.datacenter} == dc1");
    assert!(!w.distinct_hosts);
    assert!(c.workloads[1].distinct_hosts);
}

#[test]
fn preemption_keys_default_to_nomads_and_override_one_by_one() {
    let body = r#"
workloads:
  - { name: w, arrivals: { at: [0] }, resources: { cpu: 500, memory: 500 }, duration: 5m }
"#;
    let c = load(body).unwrap();
    let p = c.scheduler.preemption;
    assert_eq!(
        (p.system, p.batch, p.service, p.sysbatch),
        (true, false, false, false),
        "Nomad's PreemptionConfig defaults"
    );
    let c = load(&format!(
        "scheduler: {{ preemption: {{ batch: true, system: false }} }}\n{body}"
    ))
    .unwrap();
    let p = c.scheduler.preemption;
    assert_eq!(
        (p.system, p.batch, p.service, p.sysbatch),
        (false, true, false, false)
    );
    let e = load(&format!(
        "scheduler: {{ preemption: {{ batches: true }} }}\n{body}"
    ))
    .unwrap_err();
    assert!(e.contains("batches"), "{e}");
}
