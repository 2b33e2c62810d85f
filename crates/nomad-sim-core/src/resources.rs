//! CPU, memory and disk amounts, as Nomad's `ComparableResources` counts them.

use serde::Serialize;

/// An amount of the three dimensions Nomad checks for fit: CPU in MHz, memory and disk in MB.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Resources {
    /// CPU in MHz.
    pub cpu_mhz: u64,
    /// Memory in MB.
    pub memory_mb: u64,
    /// Disk in MB.
    pub disk_mb: u64,
}

/// The dimension that failed a fit check, named as Nomad names it in `DimensionExhausted`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Dimension {
    /// Not enough CPU.
    Cpu,
    /// Not enough memory.
    Memory,
    /// Not enough disk.
    Disk,
}

impl Dimension {
    /// Nomad's name for the dimension.
    pub fn as_str(self) -> &'static str {
        match self {
            Dimension::Cpu => "cpu",
            Dimension::Memory => "memory",
            Dimension::Disk => "disk",
        }
    }
}

impl Resources {
    /// Builds an amount from its three parts.
    pub const fn new(cpu_mhz: u64, memory_mb: u64, disk_mb: u64) -> Self {
        Resources {
            cpu_mhz,
            memory_mb,
            disk_mb,
        }
    }

    /// Componentwise sum; panics on overflow, which is an accounting bug.
    #[inline]
    pub fn plus(self, other: Resources) -> Resources {
        let (cpu_mhz, c) = self.cpu_mhz.overflowing_add(other.cpu_mhz);
        let (memory_mb, m) = self.memory_mb.overflowing_add(other.memory_mb);
        let (disk_mb, d) = self.disk_mb.overflowing_add(other.disk_mb);
        if c | m | d {
            overflow();
        }
        Resources {
            cpu_mhz,
            memory_mb,
            disk_mb,
        }
    }

    /// Componentwise difference; panics when `other` exceeds `self` in any dimension, because
    /// taking away more than was added is an accounting bug.
    #[inline]
    pub fn minus(self, other: Resources) -> Resources {
        // The three borrows are checked at once, so the common case takes no branch per
        // dimension; the message is built out of line.
        let (cpu_mhz, c) = self.cpu_mhz.overflowing_sub(other.cpu_mhz);
        let (memory_mb, m) = self.memory_mb.overflowing_sub(other.memory_mb);
        let (disk_mb, d) = self.disk_mb.overflowing_sub(other.disk_mb);
        if c | m | d {
            underflow(self, other);
        }
        Resources {
            cpu_mhz,
            memory_mb,
            disk_mb,
        }
    }

    /// Componentwise difference, saturating at zero (for capacity minus reserved, where a
    /// reservation larger than the node leaves nothing).
    pub fn saturating_minus(self, other: Resources) -> Resources {
        Resources {
            cpu_mhz: self.cpu_mhz.saturating_sub(other.cpu_mhz),
            memory_mb: self.memory_mb.saturating_sub(other.memory_mb),
            disk_mb: self.disk_mb.saturating_sub(other.disk_mb),
        }
    }

    /// The first dimension, in Nomad's order (cpu, memory, disk), where `self` does not cover `need`.
    pub fn first_short(self, need: Resources) -> Option<Dimension> {
        if need.cpu_mhz > self.cpu_mhz {
            Some(Dimension::Cpu)
        } else if need.memory_mb > self.memory_mb {
            Some(Dimension::Memory)
        } else if need.disk_mb > self.disk_mb {
            Some(Dimension::Disk)
        } else {
            None
        }
    }

    /// True when `self` covers `need` in every dimension.
    pub fn covers(self, need: Resources) -> bool {
        self.cpu_mhz >= need.cpu_mhz
            && self.memory_mb >= need.memory_mb
            && self.disk_mb >= need.disk_mb
    }
}

#[cold]
#[inline(never)]
fn overflow() -> ! {
    panic!("resource sum overflows")
}

#[cold]
#[inline(never)]
fn underflow(a: Resources, b: Resources) -> ! {
    let dims = [
        ("cpu", a.cpu_mhz, b.cpu_mhz),
        ("memory", a.memory_mb, b.memory_mb),
        ("disk", a.disk_mb, b.disk_mb),
    ];
    let (what, x, y) = dims
        .into_iter()
        .find(|&(_, x, y)| y > x)
        .expect("some dimension underflows");
    panic!("{what} accounting underflows: {x} - {y}")
}
