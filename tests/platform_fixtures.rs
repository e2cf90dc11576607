//! Windows-shaped responses decode losslessly: container inspect, info,
//! version, stats (`StorageStats`, `NumProcs`), image inspect and events as a
//! Windows daemon sends them (`tests/fixtures/windows/`, written for these
//! tests from the specification's field lists). Each decodes into the typed
//! model and encodes back to the same JSON value.

use dockhand::models::{
    ContainerInspectResponse, ContainerStatsResponse, EventMessage, FieldPlatforms,
    HostConfigIsolation, ImageInspect, KnownFields, SystemInfo, SystemInfoIsolation, SystemVersion,
};
use serde::{de::DeserializeOwned, Serialize};
use serde_json::Value;

fn fixture(name: &str) -> String {
    let path = format!(
        "{}/tests/fixtures/windows/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Decodes `text` as `T` and checks that encoding gives the same JSON value.
fn round_trip<T: DeserializeOwned + Serialize>(what: &str, text: &str) -> T {
    let original: Value = serde_json::from_str(text).expect("fixture is JSON");
    let typed: T = serde_json::from_str(text).unwrap_or_else(|e| panic!("{what}: {e}"));
    let again = serde_json::to_value(&typed).expect("encodes");
    assert_eq!(
        again, original,
        "{what}: not the same JSON after a round trip"
    );
    typed
}

#[test]
fn container_inspect() {
    let c: ContainerInspectResponse =
        round_trip("container inspect", &fixture("container_inspect.json"));
    assert_eq!(c.platform.as_deref(), Some("windows"));
    assert_eq!(c.driver.as_deref(), Some("windowsfilter"));
    assert!(c
        .log_path
        .as_deref()
        .unwrap()
        .starts_with("C:\\ProgramData\\docker\\"));
    let hc = c.host_config.as_ref().expect("HostConfig");
    assert_eq!(hc.isolation, Some(HostConfigIsolation::Hyperv));
    assert_eq!(hc.cpu_count, Some(2));
    assert_eq!(hc.io_maximum_iops, Some(500));
    assert_eq!(hc.io_maximum_bandwidth, Some(10_485_760));
    assert_eq!(
        c.mounts.as_ref().unwrap()[0].source.as_deref(),
        Some("C:\\data")
    );
    let config = c.config.as_ref().expect("Config");
    assert_eq!(config.args_escaped, Some(true));
    assert_eq!(config.working_dir.as_deref(), Some("C:\\app"));
    // Nulls a Windows daemon sends for Linux-only settings are kept.
    assert!(hc.is_null("MemorySwappiness"));
    // The inspected HostConfig can be sent back to a Windows daemon: its
    // Linux-only settings are zero, which is what Go reads from "not set".
    assert!(hc.first_not_on("windows").is_none());
    // A Linux daemon has neither Hyper-V nor CpuCount.
    assert_eq!(hc.first_not_on("linux").unwrap().path, "CpuCount");
}

#[test]
fn info() {
    let i: SystemInfo = round_trip("info", &fixture("info.json"));
    assert_eq!(i.os_type.as_deref(), Some("windows"));
    assert_eq!(i.isolation, Some(SystemInfoIsolation::Process));
    assert_eq!(
        i.docker_root_dir.as_deref(),
        Some("C:\\ProgramData\\docker")
    );
    assert_eq!(i.os_version.as_deref(), Some("10.0.20348"));
    assert_eq!(i.driver.as_deref(), Some("windowsfilter"));
}

#[test]
fn version() {
    let v: SystemVersion = round_trip("version", &fixture("version.json"));
    assert_eq!(v.os.as_deref(), Some("windows"));
    assert_eq!(v.api_version.as_deref(), Some("1.43"));
    assert_eq!(v.components.as_ref().unwrap()[0].name, "Engine");
}

#[test]
fn stats() {
    let s: ContainerStatsResponse = round_trip("stats", &fixture("stats.json"));
    assert_eq!(s.num_procs, Some(4));
    let storage = s.storage_stats.as_ref().expect("StorageStats");
    assert_eq!(storage.read_size_bytes, Some(86_245_376));
    assert_eq!(storage.write_count_normalized, Some(812));
    let mem = s.memory_stats.as_ref().expect("memory");
    assert_eq!(mem.privateworkingset, Some(48_889_856));
    assert_eq!(mem.commitbytes, Some(71_204_864));
    assert_eq!(mem.usage, None, "Linux-only, not sent");
    let net = &s.networks.as_ref().unwrap()["e5f60718293a"];
    assert_eq!(
        net.endpoint_id.as_deref(),
        Some("e5f60718-293a-4b5c-6d7e-8f90a1b2c3d4")
    );
    let cpu = s.cpu_stats.as_ref().unwrap().cpu_usage.as_ref().unwrap();
    assert_eq!(cpu.usage_in_kernelmode, Some(93_750_000));
}

#[test]
fn image_inspect() {
    let i: ImageInspect = round_trip("image inspect", &fixture("image_inspect.json"));
    assert_eq!(i.os.as_deref(), Some("windows"));
    assert_eq!(i.os_version.as_deref(), Some("10.0.20348.2227"));
    assert_eq!(
        i.config.as_ref().unwrap().cmd.as_deref(),
        Some(&["c:\\windows\\system32\\cmd.exe".to_owned()][..])
    );
}

#[test]
fn events() {
    let text = fixture("events.jsonl");
    let mut n = 0;
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let e: EventMessage = round_trip("event", line);
        assert!(e.actor.as_ref().and_then(|a| a.id.as_ref()).is_some());
        n += 1;
    }
    assert_eq!(n, 4);
}
