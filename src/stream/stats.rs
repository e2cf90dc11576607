//! What `docker stats` shows, computed from one stats sample: CPU %, memory
//! used (without the page cache) and its share of the limit, network and
//! block I/O totals, process count.
//!
//! The daemon sends each sample with the previous one's CPU counters
//! (`precpu_stats`), so one sample is enough for a CPU percentage; the first
//! sample of a stream has an empty `precpu_stats` and gives 0 %, as in the CLI.

use crate::models::{ContainerBlkioStatEntry, ContainerStatsResponse};

/// One line of `docker stats`, computed from a sample.
///
/// ```
/// use dockhand::models::ContainerStatsResponse;
/// use dockhand::stream::stats::StatsSummary;
/// let sample: ContainerStatsResponse = serde_json::from_str(r#"{
///   "cpu_stats": {"cpu_usage": {"total_usage": 400}, "system_cpu_usage": 2000, "online_cpus": 2},
///   "precpu_stats": {"cpu_usage": {"total_usage": 200}, "system_cpu_usage": 1000},
///   "memory_stats": {"usage": 300, "limit": 1000, "stats": {"inactive_file": 100}}
/// }"#).unwrap();
/// let s = StatsSummary::from_sample(&sample);
/// assert_eq!(s.cpu_percent, 40.0);
/// assert_eq!(s.memory_used, 200);
/// assert_eq!(s.memory_percent, 20.0);
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct StatsSummary {
    /// CPU use since the previous sample, in percent of one CPU (so up to
    /// `100 × online CPUs`).
    pub cpu_percent: f64,
    /// Memory in use, without the inactive page cache (what the CLI shows).
    pub memory_used: u64,
    /// The memory limit (the host's memory when the container has none).
    pub memory_limit: u64,
    /// `memory_used` in percent of `memory_limit` (0 when there is no limit).
    pub memory_percent: f64,
    /// Bytes received over every network interface.
    pub network_rx: u64,
    /// Bytes sent over every network interface.
    pub network_tx: u64,
    /// Bytes read from block devices.
    pub block_read: u64,
    /// Bytes written to block devices.
    pub block_write: u64,
    /// Processes (threads) in the container.
    pub pids: u64,
}

impl StatsSummary {
    /// Computes the summary the way the docker CLI does for Linux containers.
    pub fn from_sample(s: &ContainerStatsResponse) -> StatsSummary {
        let (memory_used, memory_limit) = memory(s);
        let memory_percent = if memory_limit == 0 {
            0.0
        } else {
            memory_used as f64 / memory_limit as f64 * 100.0
        };
        let (network_rx, network_tx) = s
            .networks
            .as_ref()
            .map(|nets| {
                nets.values().fold((0u64, 0u64), |(rx, tx), n| {
                    (
                        rx.saturating_add(n.rx_bytes.unwrap_or(0)),
                        tx.saturating_add(n.tx_bytes.unwrap_or(0)),
                    )
                })
            })
            .unwrap_or_default();
        let (block_read, block_write) = block_io(
            s.blkio_stats
                .as_ref()
                .and_then(|b| b.io_service_bytes_recursive.as_deref())
                .unwrap_or_default(),
        );
        StatsSummary {
            cpu_percent: cpu_percent(s),
            memory_used,
            memory_limit,
            memory_percent,
            network_rx,
            network_tx,
            block_read,
            block_write,
            pids: s.pids_stats.as_ref().and_then(|p| p.current).unwrap_or(0),
        }
    }
}

/// CPU time used since the previous sample over the whole system's CPU time
/// in that interval, scaled by the number of CPUs.
fn cpu_percent(s: &ContainerStatsResponse) -> f64 {
    let (Some(now), Some(pre)) = (s.cpu_stats.as_ref(), s.precpu_stats.as_ref()) else {
        return 0.0;
    };
    let total = |c: &crate::models::ContainerCPUStats| {
        c.cpu_usage
            .as_ref()
            .and_then(|u| u.total_usage)
            .unwrap_or(0)
    };
    let cpu_delta = total(now) as f64 - total(pre) as f64;
    let system_delta =
        now.system_cpu_usage.unwrap_or(0) as f64 - pre.system_cpu_usage.unwrap_or(0) as f64;
    // Older daemons do not send online_cpus; the per-CPU list's length stands in.
    let cpus = match now.online_cpus {
        Some(n) if n > 0 => f64::from(n),
        _ => now
            .cpu_usage
            .as_ref()
            .and_then(|u| u.percpu_usage.as_ref())
            .map_or(0.0, |v| v.len() as f64),
    };
    if system_delta > 0.0 && cpu_delta > 0.0 {
        cpu_delta / system_delta * cpus * 100.0
    } else {
        0.0
    }
}

/// Usage less the inactive page cache: `total_inactive_file` (cgroup v1) or
/// `inactive_file` (cgroup v2), when smaller than the usage.
fn memory(s: &ContainerStatsResponse) -> (u64, u64) {
    let Some(m) = s.memory_stats.as_ref() else {
        return (0, 0);
    };
    let usage = m.usage.unwrap_or(0);
    let stat = |name: &str| {
        m.stats
            .as_ref()
            .and_then(|st| st.get(name).copied().flatten())
    };
    let cache = stat("total_inactive_file")
        .or_else(|| stat("inactive_file"))
        .filter(|&c| c < usage)
        .unwrap_or(0);
    (usage - cache, m.limit.unwrap_or(0))
}

/// Read and written bytes from `io_service_bytes_recursive` (op names are
/// `Read`/`Write` on cgroup v1 and `read`/`write` on v2).
fn block_io(entries: &[ContainerBlkioStatEntry]) -> (u64, u64) {
    entries.iter().fold((0u64, 0u64), |(r, w), e| {
        let v = e.value.unwrap_or(0);
        match e.op.as_deref().map(str::to_ascii_lowercase).as_deref() {
            Some("read") => (r.saturating_add(v), w),
            Some("write") => (r, w.saturating_add(v)),
            _ => (r, w),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(json: &str) -> ContainerStatsResponse {
        serde_json::from_str(json).expect("sample")
    }

    #[test]
    fn cgroup_v1_sample_like_the_cli() {
        let s = sample(
            r#"{
              "cpu_stats": {"cpu_usage": {"total_usage": 1500, "percpu_usage": [700, 800]},
                            "system_cpu_usage": 20000},
              "precpu_stats": {"cpu_usage": {"total_usage": 500}, "system_cpu_usage": 10000},
              "memory_stats": {"usage": 5000, "limit": 10000,
                               "stats": {"total_inactive_file": 1000, "cache": 3000}},
              "networks": {"eth0": {"rx_bytes": 10, "tx_bytes": 20},
                           "eth1": {"rx_bytes": 1, "tx_bytes": 2}},
              "blkio_stats": {"io_service_bytes_recursive": [
                  {"major": 8, "minor": 0, "op": "Read", "value": 4096},
                  {"major": 8, "minor": 0, "op": "Write", "value": 512},
                  {"major": 8, "minor": 0, "op": "Total", "value": 4608}]},
              "pids_stats": {"current": 3}
            }"#,
        );
        let sum = StatsSummary::from_sample(&s);
        // 1000 / 10000 of the system, on 2 CPUs (from the per-CPU list).
        assert!((sum.cpu_percent - 20.0).abs() < 1e-9, "{}", sum.cpu_percent);
        assert_eq!((sum.memory_used, sum.memory_limit), (4000, 10000));
        assert!((sum.memory_percent - 40.0).abs() < 1e-9);
        assert_eq!((sum.network_rx, sum.network_tx), (11, 22));
        assert_eq!((sum.block_read, sum.block_write), (4096, 512));
        assert_eq!(sum.pids, 3);
    }

    #[test]
    fn cgroup_v2_and_first_samples() {
        let s = sample(
            r#"{
              "cpu_stats": {"cpu_usage": {"total_usage": 3000}, "system_cpu_usage": 9000, "online_cpus": 4},
              "precpu_stats": {"cpu_usage": {"total_usage": 0}},
              "memory_stats": {"usage": 100, "limit": 0, "stats": {"inactive_file": 500}},
              "blkio_stats": {"io_service_bytes_recursive": [
                  {"op": "read", "value": 7}, {"op": "write", "value": 9}]}
            }"#,
        );
        let sum = StatsSummary::from_sample(&s);
        // 3000 / 9000 × 4 CPUs.
        assert!(
            (sum.cpu_percent - 133.333_333).abs() < 1e-3,
            "{}",
            sum.cpu_percent
        );
        // Cache larger than the usage is not subtracted; no limit, no percent.
        assert_eq!(sum.memory_used, 100);
        assert_eq!(sum.memory_percent, 0.0);
        assert_eq!((sum.block_read, sum.block_write), (7, 9));
        // The CLI shows 0 % when the system counter did not move.
        let idle = sample(
            r#"{"cpu_stats": {"cpu_usage": {"total_usage": 10}, "system_cpu_usage": 5},
                "precpu_stats": {"cpu_usage": {"total_usage": 5}, "system_cpu_usage": 5}}"#,
        );
        assert_eq!(StatsSummary::from_sample(&idle).cpu_percent, 0.0);
        assert_eq!(
            StatsSummary::from_sample(&sample("{}")),
            StatsSummary::default()
        );
    }
}
