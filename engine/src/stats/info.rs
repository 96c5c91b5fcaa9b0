//! `show info`: the process-wide figures, with HAProxy 2.6's field names in
//! its order, so that tools reading them by name find every one.
//!
//! The engine names itself (`Name`, `Version`, as `-v` does); figures of
//! machinery it does not have (SSL, pipes, compression, peers, memory
//! pools) are 0, as HAProxy shows them when unused.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use tokio::time::Instant;

use super::Registry;
use crate::counters::Traffic;
use crate::proxy::Process;

/// What `show info` needs beyond the proxies.
pub struct Info {
    pub pid: u32,
    pub nbthread: usize,
    /// The global `maxconn` in force.
    pub maxconn: usize,
    /// Listening sockets: the frontends' and the stats sockets.
    pub listeners: usize,
    /// `node`, or the host name.
    pub node: String,
    pub started: Instant,
    /// The start, in seconds since the epoch (from the network seam).
    pub started_wall_secs: u64,
    pub process: Arc<Process>,
}

impl Info {
    /// `show info`: one `Name: value` line per field.
    pub fn render(&self, registry: &Registry) -> String {
        let mut out = String::new();
        for (name, value) in self.fields(registry) {
            out.push_str(&format!("{name}: {value}\n"));
        }
        out.push('\n');
        out
    }

    /// The fields, named as HAProxy names them, in its order.
    pub fn fields(&self, registry: &Registry) -> Vec<(&'static str, String)> {
        let frontends: Vec<_> = registry
            .proxies
            .iter()
            .filter_map(|p| p.frontend.as_ref())
            .collect();
        let sum = |f: &dyn Fn(&crate::proxy::Frontend) -> u64| -> u64 {
            frontends.iter().map(|fe| f(fe)).sum()
        };
        let cum_conns = sum(&|f| f.total_conns.load(Ordering::Relaxed))
            + registry.api_conns.load(Ordering::Relaxed);
        let cum_req = sum(&|f| Traffic::get(&f.traffic.requests));
        let rate = sum(&|f| f.traffic.rate.value());
        let max_rate = sum(&|f| f.traffic.rate.max());
        let bytes_out = sum(&|f| Traffic::get(&f.traffic.bytes_out));
        let current = self.process.global.in_use();
        let uptime = self.started.elapsed().as_secs();
        let stopping = u8::from(registry.stopping.load(Ordering::Relaxed));
        let ulimit = open_files_limit();
        let version = env!("CARGO_PKG_VERSION");
        vec![
            ("Name", "engine".into()),
            ("Version", version.into()),
            ("Release_date", "-".into()),
            ("Nbthread", self.nbthread.to_string()),
            ("Nbproc", "1".into()),
            ("Process_num", "1".into()),
            ("Pid", self.pid.to_string()),
            ("Uptime", uptime_text(uptime)),
            ("Uptime_sec", uptime.to_string()),
            ("Memmax_MB", "0".into()),
            ("PoolAlloc_MB", "0".into()),
            ("PoolUsed_MB", "0".into()),
            ("PoolFailed", "0".into()),
            ("Ulimit-n", ulimit.to_string()),
            ("Maxsock", ulimit.to_string()),
            ("Maxconn", self.maxconn.to_string()),
            ("Hard_maxconn", self.maxconn.to_string()),
            ("CurrConns", current.to_string()),
            ("CumConns", cum_conns.to_string()),
            ("CumReq", cum_req.to_string()),
            ("MaxSslConns", "0".into()),
            ("CurrSslConns", "0".into()),
            ("CumSslConns", "0".into()),
            ("Maxpipes", "0".into()),
            ("PipesUsed", "0".into()),
            ("PipesFree", "0".into()),
            ("ConnRate", rate.to_string()),
            ("ConnRateLimit", "0".into()),
            ("MaxConnRate", max_rate.to_string()),
            ("SessRate", rate.to_string()),
            ("SessRateLimit", "0".into()),
            ("MaxSessRate", max_rate.to_string()),
            ("SslRate", "0".into()),
            ("SslRateLimit", "0".into()),
            ("MaxSslRate", "0".into()),
            ("SslFrontendKeyRate", "0".into()),
            ("SslFrontendMaxKeyRate", "0".into()),
            ("SslFrontendSessionReuse_pct", "0".into()),
            ("SslBackendKeyRate", "0".into()),
            ("SslBackendMaxKeyRate", "0".into()),
            ("SslCacheLookups", "0".into()),
            ("SslCacheMisses", "0".into()),
            ("CompressBpsIn", "0".into()),
            ("CompressBpsOut", "0".into()),
            ("CompressBpsRateLim", "0".into()),
            ("Tasks", alive_tasks().to_string()),
            ("Run_queue", "0".into()),
            ("Idle_pct", "100".into()),
            ("node", self.node.clone()),
            ("Stopping", stopping.to_string()),
            ("Jobs", (self.listeners + current).to_string()),
            ("Unstoppable Jobs", "0".into()),
            ("Listeners", self.listeners.to_string()),
            ("ActivePeers", "0".into()),
            ("ConnectedPeers", "0".into()),
            ("DroppedLogs", "0".into()),
            ("BusyPolling", "0".into()),
            ("FailedResolutions", "0".into()),
            ("TotalBytesOut", bytes_out.to_string()),
            ("TotalSplicdedBytesOut", "0".into()),
            ("BytesOutRate", "0".into()),
            ("DebugCommandsIssued", "0".into()),
            ("CumRecvLogs", "0".into()),
            ("Build info", version.into()),
            ("Memmax_bytes", "0".into()),
            ("PoolAlloc_bytes", "0".into()),
            ("PoolUsed_bytes", "0".into()),
            ("Start_time_sec", self.started_wall_secs.to_string()),
            ("Tainted", "0".into()),
        ]
    }
}

/// HAProxy's `0d 0h00m00s`.
fn uptime_text(secs: u64) -> String {
    format!(
        "{}d {}h{:02}m{:02}s",
        secs / 86400,
        secs / 3600 % 24,
        secs / 60 % 60,
        secs % 60
    )
}

/// The process's open-files limit.
fn open_files_limit() -> u64 {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes into the struct it is given.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } == 0 {
        limit.rlim_cur
    } else {
        0
    }
}

/// Tasks alive in the runtime (HAProxy counts its own tasks).
fn alive_tasks() -> usize {
    tokio::runtime::Handle::try_current().map_or(0, |h| h.metrics().num_alive_tasks())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uptime_reads_like_haproxys() {
        assert_eq!(uptime_text(0), "0d 0h00m00s");
        assert_eq!(uptime_text(90061), "1d 1h01m01s");
    }
}
