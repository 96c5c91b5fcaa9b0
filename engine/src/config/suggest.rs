//! "did you mean 'bind' maybe ?": HAProxy's keyword suggestions
//! (`make_word_fingerprint` / `cfg_find_best_match`).
//!
//! A word's fingerprint counts its character transitions (letter, digit,
//! other, begin, end) in a 32×32 table and also marks which classes occur;
//! the distance between two words is the sum of absolute differences. The
//! first candidate with the smallest distance wins, and it is offered only
//! if the distance is at most twice the length of both words. Lengths and
//! classes are per *byte*, as in C, so a non-breaking space counts twice.

/// Character class of one byte: 1..=26 letters, 27 digits, 28 anything
/// else (also "begin" and "end").
fn class(b: u8) -> usize {
    match b.to_ascii_lowercase() {
        c @ b'a'..=b'z' => usize::from(c - b'a') + 1,
        b'0'..=b'9' => 27,
        _ => 28,
    }
}

fn fingerprint(word: &str) -> [u8; 1024] {
    let mut fp = [0u8; 1024];
    let mut from = 28;
    for &b in word.as_bytes() {
        let to = class(b);
        fp[to] = 1;
        fp[32 * from + to] = fp[32 * from + to].wrapping_add(1);
        from = to;
    }
    fp[32 * from + 28] = fp[32 * from + 28].wrapping_add(1);
    fp
}

fn distance(a: &[u8; 1024], b: &[u8; 1024]) -> usize {
    a.iter()
        .zip(b.iter())
        .map(|(x, y)| usize::from(x.abs_diff(*y)))
        .sum()
}

/// The best suggestion for `word` among `candidates` (in priority order).
pub fn best_match<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let sig = fingerprint(word);
    let mut best: Option<(&str, usize)> = None;
    for c in candidates {
        let d = distance(&sig, &fingerprint(c));
        if best.is_none_or(|(_, bd)| d < bd) {
            best = Some((c, d));
        }
    }
    let (c, d) = best?;
    (d <= 2 * word.len() && d <= 2 * c.len()).then_some(c)
}

/// Keywords HAProxy 2.6 registers for proxy sections besides its own
/// `common_kw_list`; they take part in suggestions even where we do not
/// parse them, so that our suggestions are the binary's.
pub const LISTEN_REGISTERED: &[&str] = &[
    "external-check",
    "use-fcgi-app",
    "filter",
    "compression",
    "errorloc",
    "errorloc302",
    "errorloc303",
    "errorfile",
    "errorfiles",
    "http-error",
    "timeout",
    "clitimeout",
    "contimeout",
    "srvtimeout",
    "rate-limit",
    "max-keep-alive-queue",
    "declare",
    "retry-on",
    "clitcpka-cnt",
    "srvtcpka-cnt",
    "clitcpka-idle",
    "srvtcpka-idle",
    "clitcpka-intvl",
    "srvtcpka-intvl",
    "tcp-request",
    "tcp-response",
    "http-check",
    "tcp-check",
];

/// cfgparse-listen.c `common_kw_list`.
pub const LISTEN_COMMON: &[&str] = &[
    "listen",
    "frontend",
    "backend",
    "defaults",
    "server",
    "default-server",
    "server-template",
    "bind",
    "monitor-net",
    "monitor-uri",
    "mode",
    "id",
    "description",
    "disabled",
    "enabled",
    "bind-process",
    "acl",
    "dynamic-cookie-key",
    "cookie",
    "email-alert",
    "persist",
    "appsession",
    "load-server-state-from-file",
    "server-state-file-name",
    "max-session-srv-conns",
    "capture",
    "retries",
    "http-request",
    "http-response",
    "http-after-response",
    "http-send-name-header",
    "block",
    "redirect",
    "use_backend",
    "use-server",
    "force-persist",
    "ignore-persist",
    "force-persist",
    "stick-table",
    "stick",
    "stats",
    "option",
    "default_backend",
    "http-reuse",
    "monitor",
    "transparent",
    "maxconn",
    "backlog",
    "fullconn",
    "dispatch",
    "balance",
    "hash-type",
    "hash-balance-factor",
    "unique-id-format",
    "unique-id-header",
    "log-format",
    "log-format-sd",
    "log-tag",
    "log",
    "source",
    "usesrc",
    "error-log-format",
];

/// Global keywords HAProxy 2.6 registers through `cfg_register_keywords`
/// (SSL, Lua, HTTP/2 tuning...): candidates before `GLOBAL_COMMON`.
#[rustfmt::skip]
pub const GLOBAL_REGISTERED: &[&str] = &[
    "profiling.memory", "profiling.tasks", "tune.quic.backend.max-idle-timeou", "tune.quic.frontend.conn-tx-buffers.limit", "tune.quic.frontend.max-streams-bidi", "tune.quic.frontend.max-idle-timeout", "tune.quic.retry-threshold", "ca-base", "crt-base", "issuers-chain-path", "maxsslconn", "ssl-default-bind-options", "ssl-default-server-options", "ssl-dh-param-file", "ssl-mode-async", "ssl-engine", "ssl-propquery", "ssl-provider", "ssl-provider-path", "ssl-skip-self-issued-ca", "tune.ssl.cachesize", "tune.ssl.default-dh-param", "tune.ssl.force-private-cache", "tune.ssl.lifetime", "tune.ssl.maxrecord", "tune.ssl.hard-maxrecord", "tune.ssl.ssl-ctx-cache-size", "tune.ssl.capture-cipherlist-size", "tune.ssl.capture-buffer-size", "tune.ssl.keylog", "ssl-default-bind-ciphers", "ssl-default-server-ciphers", "ssl-default-bind-curves", "ssl-default-bind-ciphersuites", "ssl-default-server-ciphersuites", "ssl-load-extra-files", "ssl-load-extra-del-ext", "default-path", "stats", "tune.zlib.memlevel", "tune.zlib.windowsize", "pp2-never-send-local", "tune.fd.edge-triggered", "lua-prepend-path", "lua-load", "lua-load-per-thread", "tune.lua.session-timeout", "tune.lua.task-timeout", "tune.lua.service-timeout", "tune.lua.forced-yield", "tune.lua.maxmem", "httpclient.resolvers.id", "httpclient.resolvers.prefer", "httpclient.ssl.verify", "httpclient.ssl.ca-file", "tune.listener.multi-queue", "h1-accept-payload-with-any-method", "h1-case-adjust", "h1-case-adjust-file", "tune.h2.header-table-size", "tune.h2.initial-window-size", "tune.h2.max-concurrent-streams", "tune.h2.max-frame-size", "mworker-max-reloads", "tune.fail-alloc", "no-memory-trimming", "grace", "hard-stop-after", "close-spread-time", "tune.idle-pool.shared", "tune.pool-high-fd-ratio", "tune.pool-low-fd-ratio", "tune.sched.low-latency", "nbthread", "thread-group", "thread-groups", "set-var", "set-var-fmt", "tune.vars.global-max-size", "tune.vars.proc-max-size", "tune.vars.sess-max-size", "tune.vars.txn-max-size", "tune.vars.reqres-max-size", "tune.vars.check-max-size",
];

/// cfgparse-global.c `common_kw_list`.
pub const GLOBAL_COMMON: &[&str] = &[
    "global",
    "daemon",
    "master-worker",
    "noepoll",
    "nokqueue",
    "noevports",
    "nopoll",
    "busy-polling",
    "set-dumpable",
    "insecure-fork-wanted",
    "insecure-setuid-wanted",
    "nosplice",
    "nogetaddrinfo",
    "noreuseport",
    "quiet",
    "zero-warning",
    "tune.runqueue-depth",
    "tune.maxpollevents",
    "tune.maxaccept",
    "tune.recv_enough",
    "tune.buffers.limit",
    "tune.buffers.reserve",
    "tune.bufsize",
    "tune.maxrewrite",
    "tune.idletimer",
    "tune.rcvbuf.client",
    "tune.rcvbuf.server",
    "tune.sndbuf.client",
    "tune.sndbuf.server",
    "tune.pipesize",
    "tune.http.cookielen",
    "tune.http.logurilen",
    "tune.http.maxhdr",
    "tune.comp.maxlevel",
    "tune.pattern.cache-size",
    "uid",
    "gid",
    "external-check",
    "user",
    "group",
    "nbproc",
    "maxconn",
    "ssl-server-verify",
    "maxconnrate",
    "maxsessrate",
    "maxsslrate",
    "maxcomprate",
    "maxpipes",
    "maxzlibmem",
    "maxcompcpuusage",
    "ulimit-n",
    "chroot",
    "description",
    "node",
    "pidfile",
    "unix-bind",
    "log",
    "log-send-hostname",
    "server-state-base",
    "server-state-file",
    "log-tag",
    "spread-checks",
    "max-spread-checks",
    "cpu-map",
    "setenv",
    "presetenv",
    "unsetenv",
    "resetenv",
    "strict-limits",
    "localpeer",
    "numa-cpu-mapping",
    "defaults",
    "listen",
    "frontend",
    "backend",
    "peers",
    "resolvers",
    "cluster-secret",
];

/// Option names: proxy.c `cfg_opts`, `cfg_opts2`, then cfgparse-listen.c
/// `common_options`.
pub const OPTIONS: &[&str] = &[
    "abortonclose",
    "allbackups",
    "checkcache",
    "clitcpka",
    "contstats",
    "dontlognull",
    "http-buffer-request",
    "http-ignore-probes",
    "idle-close-on-response",
    "prefer-last-server",
    "logasap",
    "nolinger",
    "persist",
    "srvtcpka",
    "transparent",
    "splice-request",
    "splice-response",
    "splice-auto",
    "accept-invalid-http-request",
    "accept-invalid-http-response",
    "dontlog-normal",
    "log-separate-errors",
    "log-health-checks",
    "socket-stats",
    "tcp-smart-accept",
    "tcp-smart-connect",
    "independent-streams",
    "http-use-proxy-header",
    "http-pretend-keepalive",
    "http-no-delay",
    "h1-case-adjust-bogus-client",
    "h1-case-adjust-bogus-server",
    "disable-h2-upgrade",
    "httpclose",
    "http-server-close",
    "http-keep-alive",
    "redispatch",
    "httplog",
    "tcplog",
    "tcpka",
    "httpchk",
    "ssl-hello-chk",
    "smtpchk",
    "pgsql-check",
    "redis-check",
    "mysql-check",
    "ldap-check",
    "spop-check",
    "tcp-check",
    "external-check",
    "forwardfor",
    "original-to",
];

/// Server keywords HAProxy 2.6 knows (for `server ... foo` suggestions).
pub const SERVER: &[&str] = &[
    "addr",
    "agent-check",
    "agent-addr",
    "agent-inter",
    "agent-port",
    "agent-send",
    "allow-0rtt",
    "alpn",
    "backup",
    "ca-file",
    "check",
    "check-alpn",
    "check-proto",
    "check-send-proxy",
    "check-sni",
    "check-ssl",
    "check-via-socks4",
    "ciphers",
    "ciphersuites",
    "cookie",
    "crl-file",
    "crt",
    "disabled",
    "downinter",
    "enabled",
    "error-limit",
    "fall",
    "fastinter",
    "force-sslv3",
    "force-tlsv10",
    "force-tlsv11",
    "force-tlsv12",
    "force-tlsv13",
    "id",
    "init-addr",
    "inter",
    "log-proto",
    "maxconn",
    "maxqueue",
    "max-reuse",
    "minconn",
    "namespace",
    "no-agent-check",
    "no-backup",
    "no-check",
    "no-check-ssl",
    "no-send-proxy",
    "no-send-proxy-v2",
    "no-ssl",
    "no-tfo",
    "no-tls-tickets",
    "no-verifyhost",
    "npn",
    "observe",
    "on-error",
    "on-marked-down",
    "on-marked-up",
    "pool-low-conn",
    "pool-max-conn",
    "pool-purge-delay",
    "port",
    "proto",
    "redir",
    "resolve-net",
    "resolve-opts",
    "resolve-prefer",
    "resolvers",
    "rise",
    "send-proxy",
    "send-proxy-v2",
    "send-proxy-v2-ssl",
    "send-proxy-v2-ssl-cn",
    "slowstart",
    "sni",
    "socks4",
    "source",
    "ssl",
    "ssl-max-ver",
    "ssl-min-ver",
    "ssl-reuse",
    "stick",
    "tcp-ut",
    "tfo",
    "track",
    "verify",
    "verifyhost",
    "weight",
    "ws",
];

#[cfg(test)]
mod tests {
    use super::*;

    fn listen(word: &str) -> Option<&'static str> {
        best_match(word, LISTEN_REGISTERED.iter().chain(LISTEN_COMMON).copied())
    }

    #[test]
    fn matches_the_binary_on_the_seed() {
        assert_eq!(listen("bind*:80"), Some("bind"));
        assert_eq!(listen("foo"), None);
        assert_eq!(
            best_match("spread-checks3", GLOBAL_COMMON.iter().copied()),
            Some("spread-checks")
        );
        assert_eq!(
            best_match("forwardfor\u{a0}\u{a0}", OPTIONS.iter().copied()),
            Some("forwardfor")
        );
        assert_eq!(
            best_match("log\u{a0}\u{a0}\u{a0}\u{a0}", GLOBAL_COMMON.iter().copied()),
            None
        );
    }
}
