//! Ports, devices and reserved cores: what a pool's nodes offer, what a task group asks, and
//! how Nomad's binpack iterator assigns them (`NetworkIndex`, the device allocator, cores).
//!
//! Everything here is off unless a scenario or job asks for it: a workload without ports,
//! devices or cores never reaches this module, and a node keeps no port or device state until
//! an alloc that uses them lands on it.

use std::collections::{BTreeMap, BTreeSet};

use crate::constraint::{Constraint, NodeProperties};

/// The lowest port of Nomad's default dynamic range (`DefaultMinDynamicPort`).
pub const MIN_DYNAMIC_PORT: u16 = 20_000;
/// The highest port of Nomad's default dynamic range (`DefaultMaxDynamicPort`), inclusive.
pub const MAX_DYNAMIC_PORT: u16 = 32_000;

/// The filter reason of a node without enough matching devices (Nomad's `DeviceChecker`).
pub const MISSING_DEVICES: &str = "missing devices";

/// Reserved ports, devices and reservable cores of a pool's nodes (all empty by default).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PoolHardware {
    /// Ports no alloc may take (the client's `reserved.reserved_ports`), sorted, no duplicates.
    pub reserved_ports: Vec<u16>,
    /// Device groups, as the client fingerprints them.
    pub devices: Vec<DeviceGroup>,
    /// Cores tasks may reserve; 0 when the pool does not say, and then a `cores` ask does
    /// not fit (Nomad's usable cores are empty).
    pub cores: u32,
    /// MHz of one core: the pool's CPU divided by its cores (0 without cores).
    pub core_mhz: u64,
}

/// One group of identical device instances on a node (Nomad's `NodeDeviceResource`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DeviceGroup {
    /// `nvidia`.
    pub vendor: String,
    /// `gpu`.
    pub device_type: String,
    /// The model, `Tesla T4`.
    pub name: String,
    /// Healthy instances.
    pub count: u32,
    /// Attributes, for `${device.attr.X}`.
    pub attributes: BTreeMap<String, String>,
}

impl DeviceGroup {
    /// True when the ask's name (`type`, `vendor/type` or `vendor/type/name`) names this group.
    pub fn matches_name(&self, name: &str) -> bool {
        let mut parts = name.splitn(3, '/');
        let (a, b, c) = (parts.next(), parts.next(), parts.next());
        match (a, b, c) {
            (Some(t), None, None) => t == self.device_type,
            (Some(v), Some(t), None) => v == self.vendor && t == self.device_type,
            (Some(v), Some(t), Some(n)) => {
                v == self.vendor && t == self.device_type && n == self.name
            }
            _ => false,
        }
    }

    /// The group's properties as constraint targets: `${device.vendor}`, `${device.type}`,
    /// `${device.model}` and `${device.attr.X}`, all under the `attr.device.` prefix that
    /// [`device_constraint`] rewrites targets to.
    fn properties(&self) -> BTreeMap<String, String> {
        let mut m = BTreeMap::new();
        m.insert("device.vendor".to_string(), self.vendor.clone());
        m.insert("device.type".to_string(), self.device_type.clone());
        m.insert("device.model".to_string(), self.name.clone());
        for (k, v) in &self.attributes {
            m.insert(format!("device.attr.{k}"), v.clone());
        }
        m
    }
}

/// A static port: a label and a number.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StaticPort {
    /// The port's label, as in `port "http" { static = 7234 }`.
    pub label: String,
    /// The port number.
    pub value: u16,
}

/// A device ask of a task (Nomad's `RequestedDevice`).
#[derive(Clone, Debug)]
pub struct DeviceAsk {
    /// `type`, `vendor/type` or `vendor/type/name`.
    pub name: String,
    /// Instances wanted.
    pub count: u32,
    /// Constraints on the device (targets `${device.*}`), built with [`device_constraint`].
    pub constraints: Vec<Constraint>,
    /// Affinities on the device, each with its weight (-100..=100).
    pub affinities: Vec<(Constraint, i32)>,
}

/// Builds a device constraint or affinity: `${device.X}` targets are read from the device.
pub fn device_constraint(
    ltarget: &str,
    operator: &str,
    rtarget: &str,
) -> Result<Constraint, String> {
    let rewrite = |t: &str| match t.strip_prefix("${device.") {
        Some(rest) => format!("${{attr.device.{rest}"),
        None => t.to_string(),
    };
    Constraint::spelled(&rewrite(ltarget), operator, &rewrite(rtarget))
}

/// What one alloc of a task group asks beyond CPU, memory and disk. Empty by default.
#[derive(Clone, Debug, Default)]
pub struct GroupAsks {
    /// Static ports.
    pub static_ports: Vec<StaticPort>,
    /// Labels of dynamic ports.
    pub dynamic_ports: Vec<String>,
    /// Devices.
    pub devices: Vec<DeviceAsk>,
    /// Whole cores to reserve; each also takes the node's MHz per core of CPU.
    pub cores: u32,
    /// `memory_max` in MB, recorded on allocs only with memory oversubscription on.
    pub memory_max_mb: Option<u64>,
}

impl GroupAsks {
    /// True when the group asks for ports, devices or cores (what the binpack step checks).
    pub fn any(&self) -> bool {
        !self.static_ports.is_empty()
            || !self.dynamic_ports.is_empty()
            || !self.devices.is_empty()
            || self.cores > 0
    }
}

/// What a node's live allocs hold of its ports, devices and cores.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NodeHardwareUse {
    /// Ports held by allocs (the pool's reserved ports are not listed).
    pub ports: BTreeSet<u16>,
    /// Per device group, per instance: held by an alloc.
    pub devices: Vec<Vec<bool>>,
    /// Per core: held by an alloc.
    pub cores: Vec<bool>,
}

impl NodeHardwareUse {
    /// Nothing held, sized for the pool.
    pub fn new(pool: &PoolHardware) -> Self {
        NodeHardwareUse {
            ports: BTreeSet::new(),
            devices: pool
                .devices
                .iter()
                .map(|d| vec![false; d.count as usize])
                .collect(),
            cores: vec![false; pool.cores as usize],
        }
    }

    /// True when nothing is held.
    pub fn is_empty(&self) -> bool {
        self.ports.is_empty()
            && self.devices.iter().all(|g| g.iter().all(|u| !u))
            && self.cores.iter().all(|u| !u)
    }

    /// Takes an offer; panics if any part of it is already held, which is an accounting bug.
    pub fn take(&mut self, offer: &HardwareOffer) {
        for p in &offer.ports {
            assert!(self.ports.insert(p.1), "port {} is held twice", p.1);
        }
        for (g, instances) in &offer.devices {
            for &i in instances {
                let slot = &mut self.devices[*g as usize][i as usize];
                assert!(!*slot, "device {g}/{i} is held twice");
                *slot = true;
            }
        }
        for &c in &offer.cores {
            let slot = &mut self.cores[c as usize];
            assert!(!*slot, "core {c} is held twice");
            *slot = true;
        }
    }

    /// Gives an offer back; panics if any part of it was not held.
    pub fn give_back(&mut self, offer: &HardwareOffer) {
        for p in &offer.ports {
            assert!(self.ports.remove(&p.1), "port {} was not held", p.1);
        }
        for (g, instances) in &offer.devices {
            for &i in instances {
                let slot = &mut self.devices[*g as usize][i as usize];
                assert!(*slot, "device {g}/{i} was not held");
                *slot = false;
            }
        }
        for &c in &offer.cores {
            let slot = &mut self.cores[c as usize];
            assert!(*slot, "core {c} was not held");
            *slot = false;
        }
    }
}

/// What an alloc was given: ports, device instances and cores (Nomad's `AllocatedResources`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct HardwareOffer {
    /// (label, port): static ports first, then dynamic ones, in the ask's order.
    pub ports: Vec<(String, u16)>,
    /// (device group index, instance indexes), one entry per device ask.
    pub devices: Vec<(u16, Vec<u16>)>,
    /// Core indexes.
    pub cores: Vec<u16>,
    /// CPU the cores take: cores × the node's MHz per core.
    pub core_cpu_mhz: u64,
    /// The device affinity score (Σ matched weights / Σ |weights|), when the ask has
    /// device affinities.
    pub device_score: Option<f64>,
    /// The task group's `memory_max` in MB, recorded when memory oversubscription is on.
    pub memory_max_mb: Option<u64>,
}

/// Why a node cannot take the ask: Nomad's `DimensionExhausted` key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HardwareShort {
    /// A static port is reserved or held.
    ReservedPort(String, u16),
    /// No free port left in the dynamic range.
    DynamicPorts,
    /// No device group with enough free matching instances.
    Devices,
    /// Not enough free cores.
    Cores,
}

impl HardwareShort {
    /// Nomad's dimension string.
    pub fn dimension(&self) -> String {
        match self {
            HardwareShort::ReservedPort(label, value) => {
                format!("network: reserved port collision {label}={value}")
            }
            HardwareShort::DynamicPorts => "network: dynamic port selection failed".to_string(),
            HardwareShort::Devices => "devices: no devices match request".to_string(),
            HardwareShort::Cores => "cores".to_string(),
        }
    }
}

fn device_ok(ask: &DeviceAsk, group: &DeviceGroup, props: &BTreeMap<String, String>) -> bool {
    if !group.matches_name(&ask.name) {
        return false;
    }
    if ask.constraints.is_empty() {
        return true;
    }
    let empty = BTreeMap::new();
    let node = NodeProperties {
        id: "",
        name: "",
        datacenter: "",
        node_class: "",
        pool: "",
        attributes: props,
        meta: &empty,
    };
    ask.constraints.iter().all(|c| c.check(&node))
}

/// Nomad's `DeviceChecker`: every device ask finds a matching group with enough healthy
/// instances, each group serving one ask at most as far as its instances go. Use is ignored:
/// a node that has the devices but has lent them out is exhausted, not filtered.
pub fn devices_feasible(pool: &PoolHardware, asks: &[DeviceAsk]) -> bool {
    if asks.is_empty() {
        return true;
    }
    let mut available: Vec<u32> = pool.devices.iter().map(|d| d.count).collect();
    let props: Vec<_> = pool.devices.iter().map(DeviceGroup::properties).collect();
    'asks: for ask in asks {
        for (g, group) in pool.devices.iter().enumerate() {
            if available[g] >= ask.count && device_ok(ask, group, &props[g]) {
                available[g] -= ask.count;
                continue 'asks;
            }
        }
        return false;
    }
    true
}

/// The binpack iterator's checks for ports, devices and cores, in Nomad's order (the group
/// network, then each task's devices, then its cores), with the assignment it would make:
///
/// - static ports collide with the pool's reserved ports and the ports allocs hold;
/// - dynamic ports are the lowest free ports of 20000–32000 (Nomad draws them at random;
///   the lowest free port keeps runs reproducible without a random stream);
/// - each device ask takes the first device group (in the pool's order) with the best
///   affinity score and enough free instances that match, and its lowest free instances;
/// - cores are the lowest free core indexes, and take `cores × core_mhz` of CPU.
pub fn offer(
    pool: &PoolHardware,
    used: Option<&NodeHardwareUse>,
    ask: &GroupAsks,
) -> Result<HardwareOffer, HardwareShort> {
    let held_port = |p: u16| {
        pool.reserved_ports.binary_search(&p).is_ok() || used.is_some_and(|u| u.ports.contains(&p))
    };
    let mut out = HardwareOffer::default();
    for sp in &ask.static_ports {
        if held_port(sp.value) || out.ports.iter().any(|p| p.1 == sp.value) {
            return Err(HardwareShort::ReservedPort(sp.label.clone(), sp.value));
        }
        out.ports.push((sp.label.clone(), sp.value));
    }
    let mut next = MIN_DYNAMIC_PORT;
    for label in &ask.dynamic_ports {
        loop {
            let taken = held_port(next) || ask.static_ports.iter().any(|s| s.value == next);
            let offered = out.ports.iter().any(|p| p.1 == next);
            if !taken && !offered {
                break;
            }
            if next == MAX_DYNAMIC_PORT {
                return Err(HardwareShort::DynamicPorts);
            }
            next += 1;
        }
        out.ports.push((label.clone(), next));
    }
    if !ask.devices.is_empty() {
        let props: Vec<_> = pool.devices.iter().map(DeviceGroup::properties).collect();
        // Instances promised to earlier asks of this group count as held.
        let mut taken: Vec<Vec<bool>> = match used {
            Some(u) => u.devices.clone(),
            None => pool
                .devices
                .iter()
                .map(|d| vec![false; d.count as usize])
                .collect(),
        };
        let mut matched = 0.0;
        let mut total_weight = 0.0;
        for dask in &ask.devices {
            let mut best: Option<(usize, f64)> = None;
            for (g, group) in pool.devices.iter().enumerate() {
                let free = taken[g].iter().filter(|t| !**t).count();
                if free < dask.count as usize || !device_ok(dask, group, &props[g]) {
                    continue;
                }
                let score = affinity_sum(dask, &props[g]);
                if best.is_none_or(|(_, s)| score > s) {
                    best = Some((g, score));
                }
            }
            let Some((g, score)) = best else {
                return Err(HardwareShort::Devices);
            };
            let mut instances = Vec::with_capacity(dask.count as usize);
            for (i, t) in taken[g].iter_mut().enumerate() {
                if instances.len() == dask.count as usize {
                    break;
                }
                if !*t {
                    *t = true;
                    instances.push(i as u16);
                }
            }
            if !dask.affinities.is_empty() {
                total_weight += dask
                    .affinities
                    .iter()
                    .map(|a| f64::from(a.1.abs()))
                    .sum::<f64>();
                matched += score;
            }
            out.devices.push((g as u16, instances));
        }
        if total_weight != 0.0 {
            out.device_score = Some(matched / total_weight);
        }
    }
    if ask.cores > 0 {
        let free: Vec<u16> = (0..pool.cores as usize)
            .filter(|&c| !used.is_some_and(|u| u.cores[c]))
            .map(|c| c as u16)
            .take(ask.cores as usize)
            .collect();
        if free.len() < ask.cores as usize {
            return Err(HardwareShort::Cores);
        }
        out.cores = free;
        out.core_cpu_mhz = u64::from(ask.cores) * pool.core_mhz;
    }
    Ok(out)
}

/// Σ weights of the affinities the device group satisfies.
fn affinity_sum(ask: &DeviceAsk, props: &BTreeMap<String, String>) -> f64 {
    if ask.affinities.is_empty() {
        return 0.0;
    }
    let empty = BTreeMap::new();
    let node = NodeProperties {
        id: "",
        name: "",
        datacenter: "",
        node_class: "",
        pool: "",
        attributes: props,
        meta: &empty,
    };
    ask.affinities
        .iter()
        .filter(|(c, _)| c.check(&node))
        .map(|(_, w)| f64::from(*w))
        .sum()
}

/// Parses Nomad's port-range string (`"22,80,8000-8100"`) into sorted, distinct ports.
pub fn parse_port_ranges(text: &str) -> Result<Vec<u16>, String> {
    let mut out = BTreeSet::new();
    for part in text.split(',') {
        let part = part.trim();
        if part.is_empty() {
            continue;
        }
        let port = |s: &str| -> Result<u16, String> {
            let n: u32 = s
                .trim()
                .parse()
                .map_err(|_| format!("invalid port {s:?} in {text:?}"))?;
            u16::try_from(n).map_err(|_| format!("port {n} is above 65535"))
        };
        match part.split_once('-') {
            Some((a, b)) => {
                let (a, b) = (port(a)?, port(b)?);
                if a > b {
                    return Err(format!("invalid range {part:?}: {a} is above {b}"));
                }
                out.extend(a..=b);
            }
            None => {
                out.insert(port(part)?);
            }
        }
    }
    Ok(out.into_iter().collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gpu_pool(count: u32) -> PoolHardware {
        PoolHardware {
            devices: vec![DeviceGroup {
                vendor: "nvidia".into(),
                device_type: "gpu".into(),
                name: "Tesla T4".into(),
                count,
                attributes: [("memory_mib".to_string(), "16384".to_string())].into(),
            }],
            ..PoolHardware::default()
        }
    }

    fn gpu_ask(name: &str, count: u32) -> DeviceAsk {
        DeviceAsk {
            name: name.into(),
            count,
            constraints: Vec::new(),
            affinities: Vec::new(),
        }
    }

    #[test]
    fn port_ranges_parse_as_nomad_writes_them() {
        assert_eq!(
            parse_port_ranges("22, 80,8000-8002").unwrap(),
            vec![22, 80, 8000, 8001, 8002]
        );
        assert_eq!(parse_port_ranges("").unwrap(), Vec::<u16>::new());
        assert!(parse_port_ranges("70000").is_err());
        assert!(parse_port_ranges("9-3").is_err());
        assert!(parse_port_ranges("http").is_err());
    }

    #[test]
    fn device_names_match_at_three_depths() {
        let g = &gpu_pool(1).devices[0];
        assert!(g.matches_name("gpu"));
        assert!(g.matches_name("nvidia/gpu"));
        assert!(g.matches_name("nvidia/gpu/Tesla T4"));
        assert!(!g.matches_name("amd/gpu"));
        assert!(!g.matches_name("fpga"));
        assert!(!g.matches_name("nvidia/gpu/A100"));
    }

    #[test]
    fn dynamic_ports_are_the_lowest_free() {
        let pool = PoolHardware {
            reserved_ports: vec![20_000, 20_002],
            ..PoolHardware::default()
        };
        let ask = GroupAsks {
            dynamic_ports: vec!["a".into(), "b".into()],
            ..GroupAsks::default()
        };
        let o = offer(&pool, None, &ask).unwrap();
        assert_eq!(o.ports, vec![("a".into(), 20_001), ("b".into(), 20_003)]);
    }

    #[test]
    fn device_constraints_and_affinities() {
        let mut pool = gpu_pool(2);
        let mut small = pool.devices[0].clone();
        small.name = "Tesla K80".into();
        small.attributes.insert("memory_mib".into(), "8192".into());
        pool.devices.insert(0, small);
        let mut ask = gpu_ask("nvidia/gpu", 1);
        ask.constraints
            .push(device_constraint("${device.attr.memory_mib}", ">=", "10000").unwrap());
        let o = offer(
            &pool,
            None,
            &GroupAsks {
                devices: vec![ask],
                ..GroupAsks::default()
            },
        )
        .unwrap();
        assert_eq!(o.devices, vec![(1, vec![0])]);
        assert_eq!(o.device_score, None);
        // An affinity for the K80 (weight 50) and against the T4 (weight -25): the K80 wins
        // with 50 / 75.
        let mut ask = gpu_ask("gpu", 1);
        ask.affinities.push((
            device_constraint("${device.model}", "=", "Tesla K80").unwrap(),
            50,
        ));
        ask.affinities.push((
            device_constraint("${device.model}", "=", "Tesla T4").unwrap(),
            -25,
        ));
        let o = offer(
            &pool,
            None,
            &GroupAsks {
                devices: vec![ask],
                ..GroupAsks::default()
            },
        )
        .unwrap();
        assert_eq!(o.devices, vec![(0, vec![0])]);
        assert_eq!(o.device_score, Some(50.0 / 75.0));
    }

    #[test]
    fn devices_feasible_ignores_use_but_counts_instances() {
        let pool = gpu_pool(2);
        assert!(devices_feasible(&pool, &[gpu_ask("gpu", 2)]));
        assert!(!devices_feasible(&pool, &[gpu_ask("gpu", 3)]));
        assert!(!devices_feasible(
            &pool,
            &[gpu_ask("gpu", 1), gpu_ask("gpu", 2)]
        ));
        assert!(!devices_feasible(
            &PoolHardware::default(),
            &[gpu_ask("gpu", 1)]
        ));
        let mut used = NodeHardwareUse::new(&pool);
        used.devices[0] = vec![true, true];
        let ask = GroupAsks {
            devices: vec![gpu_ask("gpu", 1)],
            ..GroupAsks::default()
        };
        assert_eq!(offer(&pool, Some(&used), &ask), Err(HardwareShort::Devices));
        assert_eq!(
            HardwareShort::Devices.dimension(),
            "devices: no devices match request"
        );
    }
}
