//! The reschedule policy: the reschedule tracker, the delay function, the attempt window.
//!
//! Nomad keeps on each replacement of a failed alloc a *reschedule tracker*: the reschedules
//! that led to it, each with its time, the node the failed alloc ran on and the delay used.
//! The tracker decides whether a failure may be rescheduled (attempts within the interval),
//! how long to wait (the delay function from the last delay, with its ceiling and reset), and
//! which nodes the replacement avoids (the reschedule penalty). Replacements of lost or
//! migrated allocs are not reschedules and start without a tracker.

use crate::config::{DelayFunction, ReschedulePolicy};
use crate::ids::NodeId;
use crate::time::SimTime;

/// How many past events a tracker keeps under an unlimited policy (Nomad's
/// `maxPastRescheduleEvents`); a limited policy keeps those within its interval.
pub const MAX_PAST_RESCHEDULE_EVENTS: usize = 5;

/// One reschedule: when the replacement was placed, where the failed alloc ran, the delay.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RescheduleEvent {
    /// When the replacement was placed.
    pub time_ms: SimTime,
    /// The node the failed alloc ran on.
    pub prev_node: NodeId,
    /// The delay that was waited.
    pub delay_ms: SimTime,
}

/// True when an alloc that failed at `fail_ms`, with this tracker, may be rescheduled: the
/// policy is unlimited, or fewer than `attempts` reschedules fall within `interval` before the
/// failure.
pub fn eligible(policy: &ReschedulePolicy, events: &[RescheduleEvent], fail_ms: SimTime) -> bool {
    if policy.unlimited {
        return true;
    }
    if policy.attempts == 0 {
        return false;
    }
    let attempted = events
        .iter()
        .filter(|e| fail_ms.saturating_sub(e.time_ms) < policy.interval_ms)
        .count();
    attempted < policy.attempts as usize
}

/// The delay before the replacement of an alloc that failed at `fail_ms` with this tracker.
///
/// Constant: `delay`. Exponential: twice the last delay. Fibonacci: the sum of the last two
/// (a new series after a reset). Capped at `max_delay`; at the cap, if the alloc ran longer
/// than the cap since the last reschedule, the delay goes back to the base.
pub fn next_delay(
    policy: &ReschedulePolicy,
    events: &[RescheduleEvent],
    fail_ms: SimTime,
) -> SimTime {
    let Some(last) = events.last() else {
        return policy.delay_ms;
    };
    let mut delay = match policy.delay_function {
        DelayFunction::Constant => return policy.delay_ms,
        DelayFunction::Exponential => last.delay_ms.saturating_mul(2),
        DelayFunction::Fibonacci => match events.len() {
            1 => policy.delay_ms,
            n => {
                let before = events[n - 2].delay_ms;
                if before == policy.max_delay_ms && last.delay_ms == policy.delay_ms {
                    // The series was reset: it starts again.
                    last.delay_ms
                } else {
                    last.delay_ms.saturating_add(before)
                }
            }
        },
    };
    if policy.max_delay_ms > 0 && delay > policy.max_delay_ms {
        delay = policy.max_delay_ms;
        if fail_ms.saturating_sub(last.time_ms) > delay {
            delay = policy.delay_ms;
        }
    }
    delay
}

/// The events a replacement placed at `now` inherits from the failed alloc's tracker: the
/// last few under an unlimited policy, those within the interval otherwise.
pub fn carried(
    policy: &ReschedulePolicy,
    events: &[RescheduleEvent],
    now: SimTime,
) -> Vec<RescheduleEvent> {
    if policy.attempts > 0 {
        events
            .iter()
            .filter(|e| {
                policy.interval_ms > 0 && now.saturating_sub(e.time_ms) <= policy.interval_ms
            })
            .copied()
            .collect()
    } else {
        let start = events.len().saturating_sub(MAX_PAST_RESCHEDULE_EVENTS);
        events[start..].to_vec()
    }
}
