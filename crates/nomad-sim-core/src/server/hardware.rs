//! The scheduler's side of ports, devices and reserved cores: per-node checks and offers for
//! task groups that ask for them (see [`crate::hardware`] for Nomad's rules).

#[allow(unused_imports)]
use crate::prelude::*;

use crate::hardware::{self, HardwareOffer, HardwareShort, NodeHardwareUse};

impl Simulation {
    /// Nomad's `DeviceChecker` for workload `w` on `node`: false when the node lacks the
    /// devices the group asks for, whatever their use.
    pub(crate) fn devices_present(&self, w: usize, node: NodeId) -> bool {
        let asks = &self.config.workloads[w].asks.devices;
        if asks.is_empty() {
            return true;
        }
        let pool = self.state.nodes[node.index()].pool as usize;
        hardware::devices_feasible(&self.config.pools[pool].hardware, asks)
    }

    /// The ports, devices and cores workload `w`'s group would get on `node` now.
    pub(crate) fn hardware_offer(
        &self,
        w: usize,
        node: NodeId,
    ) -> Result<HardwareOffer, HardwareShort> {
        let n = &self.state.nodes[node.index()];
        hardware::offer(
            &self.config.pools[n.pool as usize].hardware,
            n.hardware.as_deref(),
            &self.config.workloads[w].asks,
        )
    }

    /// True when the group of workload `w` (asking for ports, devices or cores) fits on
    /// `node` beyond constraints: devices present, an offer, and CPU, memory and disk for
    /// `ask` plus the cores' CPU.
    pub(crate) fn hardware_fits(&self, w: usize, ask: Resources, node: NodeId) -> bool {
        if !self.devices_present(w, node) {
            return false;
        }
        match self.hardware_offer(w, node) {
            Ok(offer) => self.state.nodes[node.index()]
                .free()
                .covers(ask.plus(Resources::new(offer.core_cpu_mhz, 0, 0))),
            Err(_) => false,
        }
    }

    /// True when `job`'s next alloc has room on `node` (resources, and ports, devices and
    /// cores when its group asks for them); constraints are not checked.
    pub(crate) fn room_for(&self, job: JobId, node: NodeId) -> bool {
        let j = &self.state.jobs[job];
        let w = j.workload as usize;
        if self.sources.workloads[w].hardware {
            self.hardware_fits(w, j.ask, node)
        } else {
            self.state.nodes[node.index()].free().covers(j.ask)
        }
    }

    /// What a new alloc of `job` on `node` holds: the offer made now (for a group asking for
    /// ports, devices or cores) and its `memory_max` with oversubscription on.
    pub(crate) fn hardware_for_alloc(&self, job: JobId, node: NodeId) -> Option<HardwareOffer> {
        let w = self.state.jobs[job].workload as usize;
        let memory_max_mb = if self.config.scheduler.memory_oversubscription {
            self.config.workloads[w].asks.memory_max_mb
        } else {
            None
        };
        if !self.sources.workloads[w].hardware {
            return memory_max_mb.map(|m| HardwareOffer {
                memory_max_mb: Some(m),
                ..HardwareOffer::default()
            });
        }
        let mut offer = self
            .hardware_offer(w, node)
            .expect("a placed alloc's ports, devices and cores were checked");
        offer.memory_max_mb = memory_max_mb;
        Some(offer)
    }
}

impl ClusterState {
    /// A live alloc takes its ports, device instances and cores on `node`.
    pub(crate) fn hold_hardware(
        &mut self,
        node: NodeId,
        pool: &crate::hardware::PoolHardware,
        offer: &HardwareOffer,
    ) {
        if offer.ports.is_empty() && offer.devices.is_empty() && offer.cores.is_empty() {
            return;
        }
        let n = &mut self.nodes[node.index()];
        for (_, p) in &offer.ports {
            assert!(
                pool.reserved_ports.binary_search(p).is_err(),
                "node {}: port {p} is reserved",
                n.name
            );
        }
        n.hardware
            .get_or_insert_with(|| Box::new(NodeHardwareUse::new(pool)))
            .take(offer);
    }

    /// An ending alloc gives its ports, device instances and cores back.
    pub(crate) fn release_hardware(&mut self, node: NodeId, offer: &HardwareOffer) {
        if offer.ports.is_empty() && offer.devices.is_empty() && offer.cores.is_empty() {
            return;
        }
        self.nodes[node.index()]
            .hardware
            .as_mut()
            .expect("a node holding an alloc's ports, devices or cores tracks them")
            .give_back(offer);
    }
}
