//! The devices a mapping may use, from the allocation engine's GPU slots: each with its
//! figures (supplied or measured first, then the datasheet) and when it comes free; the rest
//! listed with why they are left out (reserved, held with no end, node down, no figures).

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::device::DeviceProfile;
use super::plan::DeviceSlot;
use super::published::published_profile;
use crate::alloc::{GpuSlot, SlotAvailability};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct Excluded {
    pub device: String,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Fleet {
    pub offered: Vec<DeviceSlot>,
    pub excluded: Vec<Excluded>,
}

/// `known` holds profiles by device id (characterization results, or supplied with the request).
pub fn fleet(slots: &[GpuSlot], known: &[DeviceProfile], now_ms: i64) -> Fleet {
    let mut f = Fleet::default();
    for s in slots {
        let free_in_s = match &s.availability {
            SlotAvailability::Free => 0.0,
            SlotAvailability::FreeAt { at_ms } => (at_ms - now_ms).max(0) as f64 / 1000.0,
            SlotAvailability::Unavailable { reason } => {
                f.excluded.push(Excluded { device: s.id.clone(), reason: reason.clone() });
                continue;
            }
        };
        match profile_of(s, known) {
            Some(profile) => f.offered.push(DeviceSlot { profile, free_in_s }),
            None => f.excluded.push(Excluded {
                device: s.id.clone(),
                reason: format!("no measured or published figures for {:?}: characterize it", s.name),
            }),
        }
    }
    f
}

fn profile_of(s: &GpuSlot, known: &[DeviceProfile]) -> Option<DeviceProfile> {
    if let Some(k) = known.iter().find(|k| k.id == s.id) {
        // The engine's memory is what an allocation gets (a MIG instance's, not the board's).
        return Some(DeviceProfile {
            node: s.node.clone(),
            memory_bytes: s.memory_bytes.min(k.memory_bytes),
            ..k.clone()
        });
    }
    published_profile(&s.id, &s.node, &s.name, s.memory_bytes).filter(|_| s.mig_profile.is_none())
}
