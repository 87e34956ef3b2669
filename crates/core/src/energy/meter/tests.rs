use super::*;
use crate::energy::model::CpuModel;
use crate::energy::{PowerSensor, PowerSensorKind};
use crate::{CpuStats, GpuMig, GpuStats, RaplDomain};

fn rapl(name: &str, zone: &str, j: f64, w: Option<f64>) -> RaplDomain {
    RaplDomain { zone: zone.into(), name: name.into(), energy_j: j, max_energy_j: 1000.0, power_w: w }
}

fn gpu(power: Reading<f64>, energy: Reading<f64>) -> GpuStats {
    GpuStats {
        index: 0,
        uuid: "GPU-0".into(),
        name: "Fake".into(),
        utilization_pct: Reading::from(50.0),
        memory_utilization_pct: Reading::unavailable("n/a"),
        memory_used_bytes: Reading::unavailable("n/a"),
        memory_total_bytes: Reading::unavailable("n/a"),
        power_w: power,
        power_limit_w: Reading::unavailable("n/a"),
        energy_j: energy,
        temperature_c: Reading::unavailable("n/a"),
        sm_clock_mhz: Reading::unavailable("n/a"),
        memory_clock_mhz: Reading::unavailable("n/a"),
        throttle_reasons: Reading::unavailable("n/a"),
        processes: Reading::unavailable("n/a"),
        mig: Reading::<GpuMig>::unavailable("n/a"),
    }
}

fn cpu(pct: f64) -> Reading<CpuStats> {
    Reading::from(CpuStats {
        total_pct: pct,
        per_core_pct: vec![pct; 4],
        load_avg: [0.0; 3],
        frequency_mhz: Reading::unavailable("n/a"),
    })
}

fn source<'a>(e: &'a NodeEnergy, id: &str) -> &'a EnergySource {
    e.sources.iter().find(|s| s.id == id).unwrap_or_else(|| panic!("no {id} in {e:?}"))
}

#[test]
fn counters_are_differenced_across_a_wrap_and_subzones_are_not_counted() {
    let mut m = Meter::new(Err("unused".into()));
    let mut s = Snapshot::empty(0);
    s.rapl = Reading::from(vec![
        rapl("package-0", "intel-rapl:0", 990.0, None),
        rapl("core", "intel-rapl:0:0", 500.0, None),
        rapl("dram", "intel-rapl:0:2", 10.0, None),
    ]);
    let e = m.step(s.ts_ms, &s);
    assert_eq!(e.sources.len(), 2, "core is inside the package: {e:?}");
    assert_eq!(source(&e, "cpu.package-0").energy_j, Some(0.0));
    assert!(e.total_w.reason().unwrap().contains("needs two samples"));

    let mut s = Snapshot::empty(2_000);
    s.rapl = Reading::from(vec![
        rapl("package-0", "intel-rapl:0", 10.0, Some(10.0)),
        rapl("dram", "intel-rapl:0:2", 14.0, Some(2.0)),
    ]);
    let e = m.step(s.ts_ms, &s);
    // 990 → 10 wraps at 1000: 20 J.
    assert_eq!(source(&e, "cpu.package-0").energy_j, Some(20.0));
    assert_eq!(source(&e, "dram.intel-rapl:0:2").energy_j, Some(4.0));
    assert_eq!(e.total_w, Reading::from(12.0));
    assert_eq!(e.total_provenance, Provenance::Measured { meter: "RAPL".into() });
    assert_eq!(e.since_ms, 0);
}

#[test]
fn gpu_energy_from_the_counter_else_integrated_power() {
    let mut m = Meter::new(Err("no model".into()));
    let mut s = Snapshot::empty(0);
    s.gpus = Reading::from(vec![gpu(Reading::from(100.0), Reading::from(5_000.0))]);
    m.step(s.ts_ms, &s);
    s.ts_ms = 1_000;
    s.gpus = Reading::from(vec![gpu(Reading::from(120.0), Reading::from(5_110.0))]);
    let e = m.step(s.ts_ms, &s);
    let g = source(&e, "gpu.0");
    assert_eq!(g.energy_j, Some(110.0), "the counter, not 110 W × 1 s by chance");
    assert_eq!(g.provenance, Provenance::Measured { meter: "NVML".into() });

    // Without the counter: trapezoid of power over time.
    let mut m = Meter::new(Err("no model".into()));
    s.ts_ms = 0;
    s.gpus = Reading::from(vec![gpu(Reading::from(100.0), Reading::unavailable("not supported"))]);
    m.step(s.ts_ms, &s);
    s.ts_ms = 2_000;
    s.gpus = Reading::from(vec![gpu(Reading::from(140.0), Reading::unavailable("not supported"))]);
    assert_eq!(source(&m.step(s.ts_ms, &s), "gpu.0").energy_j, Some(240.0));
}

#[test]
fn no_rapl_means_the_model_with_its_assumptions_or_a_reason_never_zero() {
    let model = CpuModel::for_cpu("i7-8650U", None);
    let mut m = Meter::new(model);
    let mut s = Snapshot::empty(0);
    s.rapl = Reading::unavailable("RAPL energy_uj is readable only by root");
    s.cpu = cpu(50.0);
    let e = m.step(s.ts_ms, &s);
    let c = source(&e, "cpu.model");
    assert_eq!(c.power_w, Reading::from(9.75));
    let Provenance::Modelled { assumptions } = &e.total_provenance else { panic!("{e:?}") };
    assert!(assumptions.contains("TDP 15 W"), "{assumptions}");

    let mut m = Meter::new(CpuModel::for_cpu("QEMU Virtual CPU", None));
    let e = m.step(s.ts_ms, &s);
    let why = e.total_w.reason().expect("no meter and no model: unavailable, not 0 W");
    assert!(why.contains("only by root") && why.contains("cpu_tdp_w"), "{why}");
    assert_eq!(source(&e, "cpu.model").energy_j, None);
}

#[test]
fn sensors_and_batteries_are_shown_beside_the_total() {
    let mut m = Meter::new(Err("no model".into()));
    let mut s = Snapshot::empty(0);
    s.power_sensors = Reading::from(vec![PowerSensor {
        id: "battery.BAT0".into(),
        label: "BAT0 (discharging)".into(),
        kind: PowerSensorKind::Battery,
        power_w: Reading::from(8.5),
        energy_j: None,
    }]);
    let e = m.step(s.ts_ms, &s);
    let b = source(&e, "battery.BAT0");
    assert_eq!((b.kind, b.in_total), (SourceKind::Battery, false));
    assert!(e.total_w.reason().is_some(), "a battery overlaps everything: not added to the total");
}

#[test]
fn the_total_is_as_measured_as_what_it_sums() {
    // A GPU measured, the CPU with neither meter nor model: the total is the GPU, measured,
    // and says what it leaves out.
    let mut m = Meter::new(Err("no TDP known".into()));
    let mut s = Snapshot::empty(0);
    s.rapl = Reading::unavailable("no /sys/class/powercap on this machine");
    s.gpus = Reading::from(vec![gpu(Reading::from(100.0), Reading::from(1.0))]);
    let e = m.step(0, &s);
    assert_eq!(e.total_w, Reading::from(100.0));
    assert_eq!(e.total_provenance, Provenance::Measured { meter: "NVML".into() });
    assert!(e.left_out[0].starts_with("cpu.model: no CPU power meter"), "{:?}", e.left_out);
}
