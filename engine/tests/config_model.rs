//! What `config::load` puts in the model: defaults inheritance, `no
//! option`, `default-server`, `-f` directories and order, and the
//! `unimplemented` list the runtime relies on.

use engine::config::{self, Balance, HealthCheck, Mode, ServerPort};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Writes `files` (name, text) into a fresh directory and returns it.
fn scratch(test: &str, files: &[(&str, &str)]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("cfgmodel-{}-{test}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    for (name, text) in files {
        std::fs::write(dir.join(name), text).unwrap();
    }
    dir
}

fn load_text(test: &str, text: &str) -> config::Loaded {
    let dir = scratch(test, &[("h.cfg", text)]);
    config::load(&[dir.join("h.cfg")]).unwrap_or_else(|e| panic!("{:?}", e.diagnostics))
}

const TIMEOUTS: &str = "defaults\n timeout connect 1s\n timeout client 2s\n timeout server 3s\n";

#[test]
fn proxies_inherit_the_last_defaults_and_override_it() {
    let l = load_text(
        "inherit",
        &format!(
            "{TIMEOUTS} retries 5\n option redispatch\n mode tcp\n\
             listen a\n bind :80\n timeout server 15s\n no option redispatch\n server s 1.1.1.1:80\n\
             defaults\n mode tcp\n timeout client 9s\n\
             listen b\n bind :81\n"
        ),
    );
    let a = &l.config.proxies[0];
    assert_eq!(a.retries, 5);
    assert_eq!(a.timeouts.connect, Some(Duration::from_secs(1)));
    assert_eq!(a.timeouts.server, Some(Duration::from_secs(15)));
    assert_eq!(a.redispatch, None, "no option redispatch");
    let b = &l.config.proxies[1];
    assert_eq!(b.retries, 3, "a new defaults section starts from scratch");
    assert_eq!(b.timeouts.connect, None);
    assert_eq!(b.timeouts.client, Some(Duration::from_secs(9)));
}

#[test]
fn from_picks_a_named_defaults_section() {
    let l = load_text(
        "from",
        &format!(
            "defaults web\n{}\n mode http\n\
             defaults\n mode tcp\n timeout client 1s\n\
             frontend f from web\n bind :80\n default_backend b\n\
             backend b from web\n server s 1.1.1.1:80\n",
            TIMEOUTS.trim_start_matches("defaults\n").trim_end()
        ),
    );
    assert!(l.config.proxies.iter().all(|p| p.mode == Mode::Http));
}

#[test]
fn default_server_is_the_template_of_later_servers() {
    let l = load_text(
        "defsrv",
        &format!(
            "{TIMEOUTS}backend b\n default-server inter 1s fall 5 weight 7\n\
             server s1 10.0.0.1:80 check\n server s2 10.0.0.2 check weight 2 backup\n\
             server s3 10.0.0.3:+1 addr 10.0.0.9 port 8080\n"
        ),
    );
    let s = &l.config.proxies[0].servers;
    assert_eq!(
        (s[0].weight, s[0].check.fall, s[0].check.inter),
        (7, 5, Duration::from_secs(1))
    );
    assert!(s[0].check.enabled);
    assert_eq!(
        (s[1].weight, s[1].backup, s[1].port),
        (2, true, ServerPort::SameAsClient)
    );
    assert_eq!(s[2].port, ServerPort::Offset(1));
    assert_eq!(s[2].check_target(), Some("10.0.0.9:8080".parse().unwrap()));
}

#[test]
fn seed_listen_fills_the_http_model() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let l = config::load(&[root.join("examples/seed-listen.cfg")]).unwrap();
    let g = &l.config.global;
    assert_eq!(
        (g.maxconn, g.daemon, g.spread_checks_pct),
        (Some(204800), true, 3)
    );
    assert_eq!(
        Some(g.log[0].facility),
        engine::log::syslog::facility("local0")
    );
    assert_eq!(g.stats_sockets.len(), 1);
    let t = &l.config.proxies[0];
    assert_eq!(t.mode, Mode::Http);
    assert_eq!(t.stats.uri.as_deref(), Some("/admin?stats"));
    assert_eq!(t.stats.auth, [("admin".to_string(), "admin".to_string())]);
    assert!(t.options.httpclose && !t.options.splice_response);
    assert_eq!(
        t.options.forwardfor.as_ref().unwrap().except,
        None,
        "listen's own forwardfor wins"
    );
    assert_eq!(t.timeouts.connect, Some(Duration::from_secs(15)));
    assert_eq!(t.timeouts.queue, Some(Duration::from_secs(60)));
    assert_eq!(t.maxconn, Some(3000));
    assert_eq!(t.balance, Balance::RoundRobin);
}

#[test]
fn seed_checks_keep_the_probe_settings() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let l = config::load(&[root.join("examples/seed-checks.cfg")]).unwrap();
    let by_name = |n: &str| l.config.proxies.iter().find(|p| p.name == n).unwrap();
    assert!(
        matches!(&by_name("test").health_check, HealthCheck::Http { method, .. } if method == "HEAD")
    );
    assert_eq!(
        by_name("smtp-ehlo").health_check,
        HealthCheck::Smtp {
            verb: "EHLO".into(),
            domain: "mail.mydomain.com".into()
        }
    );
    assert_eq!(
        by_name("mysql").health_check,
        HealthCheck::Mysql {
            user: Some("haproxy".into()),
            pre41: false
        }
    );
    let web2 = &by_name("test").servers[1];
    assert_eq!(
        (web2.maxqueue, web2.cookie.as_deref()),
        (Some(50), Some("web2"))
    );
}

#[test]
fn directories_load_their_cfg_files_in_name_order_after_earlier_f() {
    let dir = scratch(
        "dir",
        &[
            ("20-backend.cfg", "backend b\n server s 1.1.1.1:80\n"),
            (
                "10-front.cfg",
                "frontend f\n bind :80\n default_backend b\n",
            ),
            ("notes.txt", "not a config"),
        ],
    );
    let first = scratch("dir-first", &[("defaults.cfg", TIMEOUTS)]);
    let l = config::load(&[first.join("defaults.cfg"), dir.clone()]).unwrap();
    let names: Vec<&str> = l.config.proxies.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["f", "b"]);
    assert!(l.diagnostics.is_empty(), "{:?}", l.diagnostics);
}

#[test]
fn http_timeouts_inherited_by_tcp_proxies_are_harmless() {
    let l = load_text(
        "harmless",
        &format!("{TIMEOUTS} timeout tarpit 5s\n option http-server-close\nlisten a\n bind :80\n server s 1.1.1.1:80\n"),
    );
    assert!(
        l.config.unimplemented.is_empty(),
        "{:?}",
        l.config.unimplemented
    );
    let l = load_text(
        "harmful",
        &format!("{TIMEOUTS} timeout tarpit 5s\nlisten a\n mode http\n bind :80\n"),
    );
    let kws: Vec<&str> = l
        .config
        .unimplemented
        .iter()
        .map(|u| u.keyword.as_str())
        .collect();
    assert_eq!(kws, ["timeout tarpit"]);
    assert_eq!(l.config.unimplemented[0].section, "defaults");
}

#[test]
fn backlog_is_kept_per_bind_and_per_proxy_and_runs() {
    let l = load_text(
        "backlog",
        &format!(
            "{TIMEOUTS} backlog 9\n\
             listen a\n bind :80 backlog 4\n bind :81 backlog 0\n server s 1.1.1.1:80\n\
             listen b\n backlog 0\n bind :82\n server s 1.1.1.1:80\n"
        ),
    );
    let (a, b) = (&l.config.proxies[0], &l.config.proxies[1]);
    assert_eq!(a.backlog, Some(9), "inherited from defaults");
    let binds: Vec<Option<u32>> = a.binds.iter().map(|b| b.backlog).collect();
    assert_eq!(binds, [Some(4), None], "0 leaves the choice to the proxy");
    assert_eq!(b.backlog, None);
    assert!(
        l.config.unimplemented.is_empty(),
        "{:?}",
        l.config.unimplemented
    );
}

#[test]
fn errors_name_file_line_and_keyword() {
    let dir = scratch("err", &[("e.cfg", "listen a\n bind :80\n balance foo\n")]);
    let e = config::load(&[dir.join("e.cfg")]).unwrap_err();
    let msg = &e.diagnostics[0].message;
    assert!(msg.contains("e.cfg:3") && msg.contains("balance"), "{msg}");
}

#[test]
fn anonymous_acls_become_named_acls_of_the_proxy() {
    let l = config::load_str(
        "anon.cfg",
        &format!(
            "{TIMEOUTS}frontend f\n mode http\n bind :80\n\
             http-request deny if !{{ src 10.0.0.0/8 }}\n default_backend b\n\
             backend b\n mode http\n server s 1.1.1.1:80\n"
        ),
    )
    .unwrap_or_else(|e| panic!("{:?}", e.diagnostics));
    let f = &l.config.proxies[0];
    let rule = &f.http_request[0];
    let term = &rule.condition.as_ref().unwrap().any_of[0][0];
    assert!(term.negate);
    assert_eq!(term.acl, "{ src 10.0.0.0/8 }");
    let acl = f.acls.iter().find(|a| a.name == term.acl).unwrap();
    assert_eq!((acl.fetch.as_str(), acl.at.line), ("src", 8));
}

#[test]
fn each_file_starts_outside_any_section_and_reports_its_own_errors() {
    // Pinned on haproxy 2.6.12 with `-c -f <dir>`.
    let dir = scratch(
        "multi",
        &[
            ("10-a.cfg", &format!("{TIMEOUTS}listen a\n bind :80\n")),
            (
                "20-b.cfg",
                " server s 1.1.1.1:80\nlisten b\n bind :81\n foo\n",
            ),
        ],
    );
    let rep = config::check_paths(std::slice::from_ref(&dir), 7);
    let b = format!("{}/20-b.cfg", dir.display());
    assert_eq!(
        rep.stderr,
        format!(
            "[ALERT]    (7) : config : parsing [{b}:1]: unknown keyword 'server' out of section.\n\
             [ALERT]    (7) : config : parsing [{b}:4] : unknown keyword 'foo' in 'listen' section\n\
             [ALERT]    (7) : config : Error(s) found in configuration file : {b}\n\
             [ALERT]    (7) : config : Fatal errors found in configuration.\n"
        )
    );
    assert_eq!(rep.exit_code, 1);
}

/// HAProxy copies `load-server-state-from-file` from a defaults section
/// but not `server-state-file-name`: a backend's own state file is named
/// after the backend unless it names one itself.
#[test]
fn the_state_file_name_is_not_inherited() {
    let loaded = load_text(
        "state_file_name",
        "defaults\n    load-server-state-from-file local\n    server-state-file-name shared\n\
         backend b1\n    server s 127.0.0.1:1\n\
         backend b2\n    server-state-file-name mine\n    server s 127.0.0.1:1\n",
    );
    let b = |name: &str| {
        loaded
            .config
            .proxies
            .iter()
            .find(|p| p.name == name)
            .unwrap()
            .clone()
    };
    assert_eq!(
        b("b1").load_server_state,
        Some(config::LoadServerState::Local)
    );
    assert_eq!(b("b1").server_state_file_name, None);
    assert_eq!(b("b2").server_state_file_name.as_deref(), Some("mine"));
}
