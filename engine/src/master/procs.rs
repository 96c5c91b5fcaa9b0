//! The master's list of processes: itself and its workers, current and
//! leaving, as `show proc` prints them and as a re-executed master finds
//! them again in its environment (HAProxy's HAPROXY_PROCESSES).

/// One worker the master started.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Worker {
    pub pid: u32,
    /// The master's end of the worker's channel (a descriptor number,
    /// kept across the master's re-execution).
    pub channel: i32,
    /// Reloads since it started: 0 for the current worker.
    pub reloads: u32,
    /// When it started, in seconds since the epoch.
    pub started: u64,
    /// Told to finish (an old worker).
    pub leaving: bool,
    pub version: String,
}

/// The master itself and its workers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Procs {
    pub reloads: u32,
    /// Failed reloads since the last one that worked.
    pub failed: u32,
    /// When the first master of this lineage started (seconds since the
    /// epoch): a reload does not reset the master's uptime.
    pub started: u64,
    pub workers: Vec<Worker>,
}

/// `0d00h00m05s`.
fn uptime(now: u64, since: u64) -> String {
    let up = now.saturating_sub(since);
    format!(
        "{}d{:02}h{:02}m{:02}s",
        up / 86400,
        (up % 86400) / 3600,
        (up % 3600) / 60,
        up % 60
    )
}

impl Procs {
    /// `show proc`, laid out as HAProxy's cli_io_handler_show_proc.
    pub fn show(&self, master_pid: u32, now: u64, version: &str) -> String {
        let mut out = format!(
            "#{:<14} {:<15} {:<15} {:<15} {:<15}\n",
            "<PID>", "<type>", "<reloads>", "<uptime>", "<version>"
        );
        out.push_str(&format!(
            "{:<15} {:<15} {:<15} {:<15} {:<15}\n",
            master_pid,
            "master",
            format!("{} [failed: {}]", self.reloads, self.failed),
            uptime(now, self.started),
            version
        ));
        let line = |w: &Worker| {
            format!(
                "{:<15} {:<15} {:<15} {:<15} {:<15}\n",
                w.pid,
                "worker",
                w.reloads,
                uptime(now, w.started),
                w.version
            )
        };
        out.push_str("# workers\n");
        for w in self.workers.iter().filter(|w| !w.leaving) {
            out.push_str(&line(w));
        }
        if self.workers.iter().any(|w| w.leaving) {
            out.push_str("# old workers\n");
            // Newest first, as HAProxy's list puts each new worker first.
            let mut old: Vec<&Worker> = self.workers.iter().filter(|w| w.leaving).collect();
            old.sort_by_key(|w| w.reloads);
            for w in old {
                out.push_str(&line(w));
            }
        }
        out.push_str("# programs\n");
        out.push('\n');
        out
    }

    /// The current worker: the one with the fewest reloads (HAProxy's
    /// `@1`).
    pub fn current(&self) -> Option<&Worker> {
        self.workers
            .iter()
            .filter(|w| !w.leaving)
            .min_by_key(|w| w.reloads)
            .or_else(|| self.workers.iter().min_by_key(|w| w.reloads))
    }

    /// The environment value a re-executed master reads back.
    pub fn encode(&self) -> String {
        let mut out = format!("{} {} {}", self.reloads, self.failed, self.started);
        for w in &self.workers {
            out.push_str(&format!(
                ";{} {} {} {} {} {}",
                w.pid,
                w.channel,
                w.reloads,
                w.started,
                u8::from(w.leaving),
                w.version
            ));
        }
        out
    }

    /// Reads [`Procs::encode`]'s value; None when it is not one.
    pub fn decode(text: &str) -> Option<Procs> {
        let mut parts = text.split(';');
        let head: Vec<&str> = parts.next()?.split(' ').collect();
        let [reloads, failed, started] = head[..] else {
            return None;
        };
        let mut procs = Procs {
            reloads: reloads.parse().ok()?,
            failed: failed.parse().ok()?,
            started: started.parse().ok()?,
            workers: vec![],
        };
        for w in parts {
            let f: Vec<&str> = w.splitn(6, ' ').collect();
            let [pid, channel, reloads, started, leaving, version] = f[..] else {
                return None;
            };
            procs.workers.push(Worker {
                pid: pid.parse().ok()?,
                channel: channel.parse().ok()?,
                reloads: reloads.parse().ok()?,
                started: started.parse().ok()?,
                leaving: leaving == "1",
                version: version.to_string(),
            });
        }
        Some(procs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn procs() -> Procs {
        Procs {
            reloads: 2,
            failed: 1,
            started: 1000,
            workers: vec![
                Worker {
                    pid: 12,
                    channel: 7,
                    reloads: 1,
                    started: 1010,
                    leaving: true,
                    version: "0.1.0".into(),
                },
                Worker {
                    pid: 14,
                    channel: 9,
                    reloads: 0,
                    started: 1020,
                    leaving: false,
                    version: "0.1.0".into(),
                },
            ],
        }
    }

    #[test]
    fn show_proc_is_laid_out_as_haproxy() {
        let text = procs().show(10, 1000 + 86400 + 3661, "0.1.0");
        let expected = "\
#<PID>          <type>          <reloads>       <uptime>        <version>      \n\
10              master          2 [failed: 1]   1d01h01m01s     0.1.0          \n\
# workers\n\
14              worker          0               1d01h00m41s     0.1.0          \n\
# old workers\n\
12              worker          1               1d01h00m51s     0.1.0          \n\
# programs\n\
\n";
        assert_eq!(text, expected);
    }

    #[test]
    fn the_list_survives_the_environment() {
        let p = procs();
        assert_eq!(Procs::decode(&p.encode()), Some(p));
        assert_eq!(Procs::decode("x"), None);
        assert_eq!(Procs::decode("1 0 5;12 7"), None);
    }

    #[test]
    fn the_current_worker_has_the_fewest_reloads() {
        assert_eq!(procs().current().map(|w| w.pid), Some(14));
    }
}
