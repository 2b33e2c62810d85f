//! An allocation's record, packed small because C2M holds two million of them, and what few
//! allocs have beyond it.

use crate::hardware::HardwareOffer;
use crate::ids::{AllocId, JobId, NodeId};
use crate::resources::Resources;
use crate::time::SimTime;

use super::model::{ClientStatus, DesiredStatus, EndReason};

/// An allocation: one instance of a task group placed on a node.
///
/// Two million of these are live at C2M's peak, so the record keeps to 40 bytes (44 with its
/// arena generation): what few allocs have (a predecessor, reschedules, ports, devices,
/// cores) sits in [`AllocExtra`] beside the arena, times take 48 bits and serial numbers 40,
/// the client status and end reason share a byte, and the end time uses a sentinel instead
/// of an `Option`.
#[derive(Clone, Debug)]
pub struct Alloc {
    /// The job.
    pub job: JobId,
    /// The node it was placed on.
    pub node: NodeId,
    /// The index within the task group (`<job>.<group>[index]`).
    pub index: u32,
    /// When it was placed (and started: the simulator has no image pull time).
    placed_ms: U48,
    /// When it ended, or [`U48::MAX`].
    ended_ms: U48,
    /// The serial number of the eval that placed it (the eval may be collected first).
    eval: U40,
    /// Creation number among allocs, which its UUID derives from.
    serial: U40,
    /// Desired status.
    pub desired: DesiredStatus,
    /// The client status in the low three bits, above them in four bits why it ended (0
    /// while it has not, else the reason's position in [`END_REASONS`] plus one), and in the
    /// top bit whether its end event is in the event queue.
    client_end: u8,
}

/// The end reason's bits in [`Alloc`]'s packed byte, once shifted down.
const REASON_MASK: u8 = 0b1111;

/// The packed byte's bit for an end event in the queue.
const END_QUEUED: u8 = 0b1000_0000;

/// Client statuses by their number in [`Alloc`]'s packed byte.
const CLIENT_STATUSES: [ClientStatus; 5] = [
    ClientStatus::Pending,
    ClientStatus::Running,
    ClientStatus::Complete,
    ClientStatus::Failed,
    ClientStatus::Lost,
];

/// End reasons by their number (less one) in [`Alloc`]'s packed byte.
const END_REASONS: [EndReason; 9] = [
    EndReason::Completed,
    EndReason::Failed,
    EndReason::DrainDeadline,
    EndReason::ForceDrain,
    EndReason::Migrate,
    EndReason::NodeDown,
    EndReason::NodeTerminated,
    EndReason::JobStopped,
    EndReason::Preempted,
];

/// A serial number below 2^40 in five bytes: a run creating a million allocs or evals a
/// second would take twelve days to reach it.
#[derive(Clone, Copy, PartialEq, Eq)]
struct U40([u8; 5]);

impl U40 {
    fn new(value: u64) -> U40 {
        assert!(value < 1 << 40, "serial {value} does not fit in 40 bits");
        let b = value.to_le_bytes();
        U40([b[0], b[1], b[2], b[3], b[4]])
    }

    fn get(self) -> u64 {
        let [a, b, c, d, e] = self.0;
        u64::from_le_bytes([a, b, c, d, e, 0, 0, 0])
    }
}

impl std::fmt::Debug for U40 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.get())
    }
}

/// A number below 2^48 - 1 in six bytes, aligned to two: simulated times stay below it, since
/// the clock stops at [`MAX_SIM_TIME_MS`](crate::time::MAX_SIM_TIME_MS) (8,900 years).
#[derive(Clone, Copy, PartialEq, Eq)]
struct U48([u16; 3]);

impl U48 {
    /// The largest value, which [`Alloc`] uses for "not ended".
    const MAX: U48 = U48([u16::MAX; 3]);

    fn new(value: u64) -> U48 {
        assert!(value < (1 << 48) - 1, "{value} does not fit in 48 bits");
        U48([value as u16, (value >> 16) as u16, (value >> 32) as u16])
    }

    fn get(self) -> u64 {
        let [a, b, c] = self.0;
        u64::from(a) | u64::from(b) << 16 | u64::from(c) << 32
    }
}

impl std::fmt::Debug for U48 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if *self == U48::MAX {
            f.write_str("MAX")
        } else {
            write!(f, "{}", self.get())
        }
    }
}

/// The parts of an alloc that few allocs have, kept beside the arena by
/// [`ClusterState`](super::ClusterState) while the alloc is.
#[derive(Clone, Debug, Default)]
pub struct AllocExtra {
    /// The alloc it replaces, if it is a replacement.
    pub previous: Option<AllocId>,
    /// Reschedule attempts so far in this slot.
    pub reschedules: u16,
    /// The ports, device instances and cores it holds, and its `memory_max`, when its task
    /// group asks for any of them.
    pub hardware: Option<HardwareOffer>,
}

impl AllocExtra {
    /// The extra of an alloc that has none.
    pub const NONE: AllocExtra = AllocExtra {
        previous: None,
        reschedules: 0,
        hardware: None,
    };

    /// True when there is nothing to keep.
    pub fn is_empty(&self) -> bool {
        self.previous.is_none() && self.reschedules == 0 && self.hardware.is_none()
    }

    /// What an alloc with this extra takes of its node's CPU, memory and disk: the job's ask
    /// plus the CPU of its reserved cores.
    pub fn resources(&self, job_ask: Resources) -> Resources {
        match &self.hardware {
            Some(h) => job_ask.plus(Resources::new(h.core_cpu_mhz, 0, 0)),
            None => job_ask,
        }
    }
}

impl Alloc {
    /// A running alloc placed at `placed_ms`.
    pub fn new(
        job: JobId,
        index: u32,
        node: NodeId,
        placed_ms: SimTime,
        eval: u64,
        serial: u64,
    ) -> Alloc {
        let mut alloc = Alloc {
            job,
            node,
            index,
            placed_ms: U48::new(placed_ms),
            ended_ms: U48::MAX,
            eval: U40::new(eval),
            serial: U40::new(serial),
            desired: DesiredStatus::Run,
            client_end: 0,
        };
        alloc.set_client(ClientStatus::Running);
        alloc
    }

    /// Client status.
    pub fn client(&self) -> ClientStatus {
        CLIENT_STATUSES[usize::from(self.client_end & 0b111)]
    }

    /// Sets the client status.
    pub(crate) fn set_client(&mut self, client: ClientStatus) {
        // A match, not a search of the list, so a new status fails to compile here.
        let n = match client {
            ClientStatus::Pending => 0,
            ClientStatus::Running => 1,
            ClientStatus::Complete => 2,
            ClientStatus::Failed => 3,
            ClientStatus::Lost => 4,
        };
        debug_assert_eq!(CLIENT_STATUSES[usize::from(n)], client);
        self.client_end = (self.client_end & !0b111) | n;
    }

    /// Why it ended, if it has.
    pub fn end_reason(&self) -> Option<EndReason> {
        match (self.client_end >> 3) & REASON_MASK {
            0 => None,
            n => Some(END_REASONS[usize::from(n - 1)]),
        }
    }

    /// Records why it ended.
    pub(crate) fn set_end_reason(&mut self, reason: EndReason) {
        // A match, not a search of the list, so a new reason fails to compile here.
        let n: u8 = match reason {
            EndReason::Completed => 0,
            EndReason::Failed => 1,
            EndReason::DrainDeadline => 2,
            EndReason::ForceDrain => 3,
            EndReason::Migrate => 4,
            EndReason::NodeDown => 5,
            EndReason::NodeTerminated => 6,
            EndReason::JobStopped => 7,
            EndReason::Preempted => 8,
        };
        debug_assert_eq!(END_REASONS[usize::from(n)], reason);
        self.client_end = (self.client_end & !(REASON_MASK << 3)) | (n + 1) << 3;
    }

    /// Notes that its end event was pushed to the event queue.
    pub(crate) fn set_end_queued(&mut self) {
        debug_assert!(!self.end_queued(), "one end event at a time");
        self.client_end |= END_QUEUED;
    }

    /// True while its end event is in the event queue.
    pub(crate) fn end_queued(&self) -> bool {
        self.client_end & END_QUEUED != 0
    }

    /// Forgets its end event (popped, or left behind when the alloc ended first); true when
    /// there was one.
    pub(crate) fn take_end_queued(&mut self) -> bool {
        let queued = self.end_queued();
        self.client_end &= !END_QUEUED;
        queued
    }

    /// When it was placed (and started: the simulator has no image pull time).
    pub fn placed_ms(&self) -> SimTime {
        self.placed_ms.get()
    }

    /// When it ended, if it has.
    pub fn ended_ms(&self) -> Option<SimTime> {
        (self.ended_ms != U48::MAX).then(|| self.ended_ms.get())
    }

    /// Records that it ended at `t_ms`.
    pub(crate) fn set_ended(&mut self, t_ms: SimTime) {
        self.ended_ms = U48::new(t_ms);
    }

    /// The serial number of the eval that placed it (the eval may be collected first).
    pub fn eval(&self) -> u64 {
        self.eval.get()
    }

    /// Creation number among allocs, which its UUID derives from.
    pub fn serial(&self) -> u64 {
        self.serial.get()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::ArenaId;

    #[test]
    fn an_alloc_keeps_every_client_status_with_every_end_reason() {
        use ClientStatus::Running;
        for client in CLIENT_STATUSES {
            for reason in END_REASONS {
                let mut alloc = Alloc::new(JobId::from_parts(0, 0), 0, NodeId(0), 0, 0, 0);
                assert_eq!((alloc.client(), alloc.end_reason()), (Running, None));
                alloc.set_end_reason(reason);
                alloc.set_client(client);
                assert_eq!((alloc.client(), alloc.end_reason()), (client, Some(reason)));
                alloc.set_client(Running);
                assert_eq!(
                    (alloc.client(), alloc.end_reason()),
                    (Running, Some(reason))
                );
            }
        }
    }
}
