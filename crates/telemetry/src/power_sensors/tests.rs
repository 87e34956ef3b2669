use super::*;
use crate::network::tests::copy_dir;
use crate::sysfs::tests_support::fixture;

fn find<'a>(v: &'a [PowerSensor], id: &str) -> &'a PowerSensor {
    v.iter().find(|s| s.id == id).unwrap_or_else(|| panic!("no {id} in {v:?}"))
}

#[test]
fn hwmon_power_and_energy_sensors_and_batteries() {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&fixture("power_a"), dir.path());
    let mut c = PowerSensorCollector::new(dir.path());
    let v = c.sample(1_000);
    assert_eq!(find(&v, "hwmon.amdgpu.power1").power_w, Reading::from(35.0));
    assert_eq!(find(&v, "hwmon.amdgpu.power1").label, "amdgpu/PPT");
    // power1_input wins over power1_average on the same sensor.
    assert_eq!(find(&v, "hwmon.power_meter.power1").power_w, Reading::from(120.5));
    assert_eq!(v.iter().filter(|s| s.id == "hwmon.power_meter.power1").count(), 1);
    let garbage = find(&v, "hwmon.amd_energy.power2").power_w.reason().unwrap().to_string();
    assert!(garbage.contains("unreadable"), "{garbage}");
    let e = find(&v, "hwmon.amd_energy.energy1");
    assert_eq!((e.energy_j, e.power_w.reason()), (Some(1000.0), Some("needs two samples")));
    assert_eq!(find(&v, "battery.BAT0").power_w, Reading::from(8.5));
    assert_eq!(find(&v, "battery.BAT2").power_w, Reading::from(12.0));
    let charging = find(&v, "battery.BAT1").power_w.reason().unwrap().to_string();
    assert!(charging.contains("charge rate, not the draw"), "{charging}");
    assert!(!v.iter().any(|s| s.id.contains("AC")), "mains is not a battery");

    // 2 s later the counter advanced 90 J: 45 W. Then it went back (driver reload): said, not negative.
    let counter = dir.path().join("sys/class/hwmon/hwmon2/energy1_input");
    std::fs::write(&counter, "1090000000").unwrap();
    assert_eq!(find(&c.sample(3_000), "hwmon.amd_energy.energy1").power_w, Reading::from(45.0));
    std::fs::write(&counter, "5").unwrap();
    let reset = c.sample(4_000);
    assert!(find(&reset, "hwmon.amd_energy.energy1").power_w.reason().unwrap().contains("reset"));
}

#[test]
fn missing_files_are_reasons_and_no_sensor_is_unavailable() {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&fixture("power_a"), dir.path());
    std::fs::remove_file(dir.path().join("sys/class/power_supply/BAT2/voltage_now")).unwrap();
    let v = PowerSensorCollector::new(dir.path()).sample(0);
    let why = find(&v, "battery.BAT2").power_w.reason().unwrap().to_string();
    assert!(why.contains("no power_now") && why.contains("voltage_now"), "{why}");

    let mut snap = Snapshot::empty(0);
    PowerSensorCollector::new(fixture("vm_a")).collect(0, &mut snap);
    assert!(snap.power_sensors.reason().unwrap().contains("no power sensors"));
}
