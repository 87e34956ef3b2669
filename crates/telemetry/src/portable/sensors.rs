//! Temperatures of the hardware sensors sysinfo finds.

use steward_core::{Reading, Snapshot, Temperature};
use sysinfo::Components;

use crate::{Collector, Cost};

pub struct PortableSensors {
    components: Result<Components, String>,
}

impl PortableSensors {
    pub fn new() -> Self {
        PortableSensors { components: Components::new_with_refreshed_list().map_err(|e| super::unopened("sensors", e)) }
    }
}

impl Collector for PortableSensors {
    fn name(&self) -> &'static str {
        "sensors"
    }
    fn cost(&self) -> Cost {
        Cost::Expensive
    }
    fn collect(&mut self, _now_ms: i64, snap: &mut Snapshot) {
        snap.temperatures = match &mut self.components {
            Ok(components) => {
                components.refresh(true);
                let temps: Vec<Temperature> = components
                    .iter()
                    .filter_map(|c| {
                        Some(Temperature {
                            sensor: c.label().to_string(),
                            celsius: f64::from(c.temperature()?),
                            max_celsius: c.max().map(f64::from),
                            critical_celsius: c.critical().map(f64::from),
                        })
                    })
                    .collect();
                if temps.is_empty() {
                    Reading::unavailable("no temperature sensors found")
                } else {
                    Reading::from(temps)
                }
            }
            Err(why) => Reading::unavailable(why.clone()),
        };
    }
}
