//! `show stat`: HAProxy 2.6's CSV, column for column.
//!
//! A line is a set of named cells; a column the line does not set stays
//! empty, as HAProxy leaves empty what does not apply to a line's type
//! (a frontend has no `qcur`, a server no `slim` unless it has `maxconn`).
//! The engine leaves empty the columns it does not measure yet (queue and
//! response times, HTTP and compression counters) rather than print a
//! made-up value; HTTP/2, SSL and cache counters are 0 where HAProxy
//! prints 0, as the engine has none of those.

/// The columns of HAProxy 2.6.12's `show stat`, in order.
pub const COLUMNS: [&str; 128] = [
    "pxname",
    "svname",
    "qcur",
    "qmax",
    "scur",
    "smax",
    "slim",
    "stot",
    "bin",
    "bout",
    "dreq",
    "dresp",
    "ereq",
    "econ",
    "eresp",
    "wretr",
    "wredis",
    "status",
    "weight",
    "act",
    "bck",
    "chkfail",
    "chkdown",
    "lastchg",
    "downtime",
    "qlimit",
    "pid",
    "iid",
    "sid",
    "throttle",
    "lbtot",
    "tracked",
    "type",
    "rate",
    "rate_lim",
    "rate_max",
    "check_status",
    "check_code",
    "check_duration",
    "hrsp_1xx",
    "hrsp_2xx",
    "hrsp_3xx",
    "hrsp_4xx",
    "hrsp_5xx",
    "hrsp_other",
    "hanafail",
    "req_rate",
    "req_rate_max",
    "req_tot",
    "cli_abrt",
    "srv_abrt",
    "comp_in",
    "comp_out",
    "comp_byp",
    "comp_rsp",
    "lastsess",
    "last_chk",
    "last_agt",
    "qtime",
    "ctime",
    "rtime",
    "ttime",
    "agent_status",
    "agent_code",
    "agent_duration",
    "check_desc",
    "agent_desc",
    "check_rise",
    "check_fall",
    "check_health",
    "agent_rise",
    "agent_fall",
    "agent_health",
    "addr",
    "cookie",
    "mode",
    "algo",
    "conn_rate",
    "conn_rate_max",
    "conn_tot",
    "intercepted",
    "dcon",
    "dses",
    "wrew",
    "connect",
    "reuse",
    "cache_lookups",
    "cache_hits",
    "srv_icur",
    "src_ilim",
    "qtime_max",
    "ctime_max",
    "rtime_max",
    "ttime_max",
    "eint",
    "idle_conn_cur",
    "safe_conn_cur",
    "used_conn_cur",
    "need_conn_est",
    "uweight",
    "agg_server_status",
    "agg_server_check_status",
    "agg_check_status",
    "-",
    "ssl_sess",
    "ssl_reused_sess",
    "ssl_failed_handshake",
    "h2_headers_rcvd",
    "h2_data_rcvd",
    "h2_settings_rcvd",
    "h2_rst_stream_rcvd",
    "h2_goaway_rcvd",
    "h2_detected_conn_protocol_errors",
    "h2_detected_strm_protocol_errors",
    "h2_rst_stream_resp",
    "h2_goaway_resp",
    "h2_open_connections",
    "h2_backend_open_streams",
    "h2_total_connections",
    "h2_backend_total_streams",
    "h1_open_connections",
    "h1_open_streams",
    "h1_total_connections",
    "h1_total_streams",
    "h1_bytes_in",
    "h1_bytes_out",
    "h1_spliced_bytes_in",
    "h1_spliced_bytes_out",
];

/// One line of the CSV: the cells it sets, by column name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Line {
    cells: Vec<(&'static str, String)>,
}

impl Line {
    pub fn set(&mut self, column: &'static str, value: impl ToString) -> &mut Self {
        debug_assert!(COLUMNS.contains(&column), "unknown column {column}");
        self.cells.push((column, value.to_string()));
        self
    }

    /// Sets several columns to 0 (counters the engine has, and that are 0).
    pub fn zeros(&mut self, columns: &[&'static str]) -> &mut Self {
        for c in columns {
            self.set(c, 0);
        }
        self
    }

    pub fn cell(&self, column: &str) -> &str {
        self.cells
            .iter()
            .rev()
            .find(|(c, _)| *c == column)
            .map_or("", |(_, v)| v.as_str())
    }

    /// The line in column order, with HAProxy's trailing comma.
    pub fn render(&self) -> String {
        let mut out = String::new();
        for c in COLUMNS {
            out.push_str(self.cell(c));
            out.push(',');
        }
        out
    }
}

/// The header line: `# pxname,svname,...,` as HAProxy prints it.
pub fn header() -> String {
    let mut out = String::from("# ");
    for c in COLUMNS {
        out.push_str(c);
        out.push(',');
    }
    out
}

/// Protocol counters HAProxy prints as 0 on frontend and backend lines of
/// a TCP proxy (the engine speaks neither HTTP/2 nor TLS yet): the last
/// 21 columns, `h2_headers_rcvd` to `h1_spliced_bytes_out`.
pub const PROTOCOL_ZEROS: &[&str] = COLUMNS.split_at(COLUMNS.len() - 21).1;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_header_is_haproxys() {
        let h = header();
        assert!(h.starts_with("# pxname,svname,qcur,qmax,scur,smax,slim,stot,bin,bout,"));
        assert!(h.ends_with("h1_spliced_bytes_in,h1_spliced_bytes_out,"));
        assert_eq!(h.matches(',').count(), 128);
    }

    #[test]
    fn protocol_counters_are_the_h2_and_h1_columns() {
        assert_eq!(PROTOCOL_ZEROS.first(), Some(&"h2_headers_rcvd"));
        assert_eq!(PROTOCOL_ZEROS.last(), Some(&"h1_spliced_bytes_out"));
    }

    #[test]
    fn unset_cells_are_empty() {
        let mut l = Line::default();
        l.set("pxname", "be")
            .set("svname", "s1")
            .set("status", "UP");
        let r = l.render();
        assert!(r.starts_with("be,s1,,,"));
        assert_eq!(r.split(',').nth(17), Some("UP"));
    }
}
