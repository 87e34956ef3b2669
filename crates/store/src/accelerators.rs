//! Accelerators registered through the API and the latest characterization of each adapter,
//! both kept as JSON of core's types (one schema, the one the UI sees).

use rusqlite::params;
use steward_core::accel::{AcceleratorSpec, Characterization};

use crate::allocations::{from_json, to_json};
use crate::{Store, StoreError};

impl Store {
    /// Every registered accelerator, by node then id.
    pub fn accelerators(&self) -> Result<Vec<AcceleratorSpec>, StoreError> {
        let mut stmt = self.conn.prepare("SELECT spec FROM accelerators ORDER BY node, id")?;
        let rows = stmt.query_map([], |r| from_json::<AcceleratorSpec>(&r.get::<_, String>(0)?))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Registers `spec`, replacing the one with its node and id; true when it replaced one.
    pub fn put_accelerator(&mut self, spec: &AcceleratorSpec, now_ms: i64) -> Result<bool, StoreError> {
        let tx = self.conn.transaction()?;
        let existed =
            tx.execute("DELETE FROM accelerators WHERE node = ?1 AND id = ?2", params![spec.node, spec.id])?;
        tx.execute(
            "INSERT INTO accelerators (node, id, spec, registered_ms) VALUES (?1, ?2, ?3, ?4)",
            params![spec.node, spec.id, to_json(spec)?, now_ms],
        )?;
        tx.commit()?;
        Ok(existed > 0)
    }

    /// Keeps `c` as the latest characterization of its adapter on its node.
    pub fn put_characterization(&mut self, c: &Characterization) -> Result<(), StoreError> {
        self.conn.execute(
            "INSERT OR REPLACE INTO accel_characterizations (node, adapter, measured_ms, result) VALUES (?1, ?2, ?3, ?4)",
            params![c.node, c.adapter.key(), c.measured_at_ms, to_json(c)?],
        )?;
        Ok(())
    }

    /// The latest characterization of every adapter, by node then adapter.
    pub fn characterizations(&self) -> Result<Vec<Characterization>, StoreError> {
        let mut stmt = self.conn.prepare("SELECT result FROM accel_characterizations ORDER BY node, adapter")?;
        let rows = stmt.query_map([], |r| from_json::<Characterization>(&r.get::<_, String>(0)?))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

#[cfg(test)]
mod tests {
    use steward_core::Reading;
    use steward_core::accel::{
        AcceleratorKind, Kernel, KernelMeasurement, KernelResult, MeasuredAdapter, SpecPrecision,
    };

    use super::*;

    fn fpga(id: &str, memory_bytes: u64) -> AcceleratorSpec {
        AcceleratorSpec {
            id: id.into(),
            node: "local".into(),
            kind: AcceleratorKind::Fpga,
            model: "Alveo U250".into(),
            memory_bytes,
            precisions: vec![SpecPrecision::Int8],
            peak_tflops: [(SpecPrecision::Int8, 33.3)].into(),
            memory_bandwidth_gbps: Some(77.0),
            health_check: Some(vec!["xbutil".into(), "validate".into()]),
        }
    }

    fn measured(at: i64, gflops: f64) -> Characterization {
        Characterization {
            node: "local".into(),
            adapter: MeasuredAdapter {
                name: "llvmpipe (LLVM 15.0.6, 256 bits)".into(),
                backend: "vulkan".into(),
                device_type: "cpu".into(),
                driver: "llvmpipe".into(),
                driver_info: "Mesa 22.3.6".into(),
                vendor_id: 0x10005,
                device_id: 0,
                is_software: true,
            },
            measured_at_ms: at,
            kernels: vec![
                KernelResult {
                    kernel: Kernel::MatmulF32,
                    result: Reading::from(KernelMeasurement {
                        value: gflops,
                        unit: "GFLOP/s".into(),
                        problem: "64×64×64".into(),
                        runs: 5,
                        max_error: 0.0,
                        checked_elements: 257,
                    }),
                },
                KernelResult {
                    kernel: Kernel::MatmulF16,
                    result: Reading::unavailable("the adapter lacks SHADER_F16"),
                },
            ],
            nvml: None,
            published: None,
        }
    }

    #[test]
    fn registrations_and_characterizations_survive_reopening_and_replace_their_own() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.db");
        {
            let mut s = Store::open(&path).unwrap();
            assert!(!s.put_accelerator(&fpga("f1", 64 << 30), 1).unwrap());
            assert!(!s.put_accelerator(&fpga("f0", 8 << 30), 2).unwrap());
            // The same id again replaces it.
            assert!(s.put_accelerator(&fpga("f1", 32 << 30), 3).unwrap());
            s.put_characterization(&measured(10, 1.5)).unwrap();
            s.put_characterization(&measured(20, 2.5)).unwrap();
        }
        let s = Store::open(&path).unwrap();
        assert_eq!(s.accelerators().unwrap(), vec![fpga("f0", 8 << 30), fpga("f1", 32 << 30)]);
        assert_eq!(s.characterizations().unwrap(), vec![measured(20, 2.5)]);
    }
}
