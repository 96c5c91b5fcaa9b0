//! Differential test against the real binary: keyword typos, random
//! lexer lines (quotes, escapes, variables, comments) and random
//! multi-proxy configurations (kinds, modes, references, timeouts) are
//! checked by `haproxy -c` and by us, and the reports must agree
//! byte for byte (minus the banner and the pid). Runs with HAProxy 2.6
//! installed (CI installs it); more cases on demand:
//!
//! ```text
//! CFGDIFF_ARGS=1 CFGDIFF_LEX=3000 cargo test -p xtests --test config_fuzz
//! ```
//!
//! Known differences (kept out of the default run): `acl` without a name
//! (HAProxy prints a message cut by a NUL), `resetenv` (refused here),
//! `ca-file`/`source` on servers (files and addresses not checked).

use engine::config;
use std::path::{Path, PathBuf};
use std::process::Command;

/// A fixed-seed generator: same cases on every run.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, n: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 33) as usize) % n
    }
}

/// A typo: drop, double or replace one character, or append a digit.
fn typo(word: &str, rng: &mut Lcg) -> String {
    let mut b: Vec<char> = word.chars().collect();
    let i = rng.next(b.len());
    match rng.next(4) {
        0 if b.len() > 2 => {
            b.remove(i);
        }
        1 => b.insert(i, b[i]),
        2 => b[i] = 'x',
        _ => b.push('3'),
    }
    b.into_iter().collect()
}

fn haproxy(binary: &Path, path: &str) -> Option<String> {
    let out = Command::new(binary)
        .args(["-c", "-f", path])
        .output()
        .ok()?;
    let stderr = String::from_utf8_lossy(&out.stderr);
    let body: String = stderr
        .lines()
        .filter(|l| !l.contains("haproxy version is") && !l.contains("path to executable is"))
        .map(|l| {
            // "[ALERT]    (1234) : ..." -> "(PID)"
            match (l.find('('), l.find(')')) {
                (Some(a), Some(z)) if a < z && l.starts_with('[') => {
                    format!("{}(PID){}\n", &l[..a], &l[z + 1..])
                }
                _ => format!("{l}\n"),
            }
        })
        .collect();
    Some(format!(
        "exit: {}\n{body}{}",
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout)
    ))
}

fn ours(path: &str) -> String {
    let rep = engine::runtime::check_paths(&[PathBuf::from(path)], 0);
    let body = format!("{}{}", rep.stderr, rep.stdout).replace("(0) : ", "(PID) : ");
    format!("exit: {}\n{body}", rep.exit_code)
}

/// How many random lexer lines to try (CFGDIFF_LEX=n to change).
fn lexer_cases() -> usize {
    std::env::var("CFGDIFF_LEX")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(300)
}

/// A random multi-proxy configuration.
fn random_config(rng: &mut Lcg) -> String {
    let names = ["a", "b", "c"];
    let kinds = ["frontend", "backend", "listen", "defaults"];
    let mut out = String::new();
    if rng.next(2) == 0 {
        out.push_str("global\n log 127.0.0.1:514 local0\n");
    }
    for _ in 0..1 + rng.next(5) {
        let kind = kinds[rng.next(kinds.len())];
        let name = if kind == "defaults" && rng.next(2) == 0 {
            ""
        } else {
            names[rng.next(3)]
        };
        out.push_str(&format!("{kind} {name}\n"));
        if rng.next(2) == 0 {
            out.push_str(["  mode http\n", "  mode tcp\n"][rng.next(2)]);
        }
        for t in ["client", "server", "connect"] {
            if rng.next(3) > 0 {
                out.push_str(&format!("  timeout {t} 5s\n"));
            }
        }
        if rng.next(3) == 0 {
            out.push_str(
                [
                    "  option httplog\n",
                    "  option forwardfor\n",
                    "  log global\n",
                    "  balance uri\n",
                ][rng.next(4)],
            );
        }
        if kind != "defaults" {
            if kind != "backend" && rng.next(3) > 0 {
                out.push_str(&format!("  bind :{}\n", 8000 + rng.next(100)));
            }
            if kind != "frontend" && rng.next(2) == 0 {
                let params = [
                    "check",
                    "inter 2s",
                    "fall 2",
                    "rise 1",
                    "weight 300",
                    "backup",
                    "cookie c1",
                    "maxconn 10",
                    "port 81",
                    "addr 1.2.3.4",
                    "slowstart 5s",
                    "verify none",
                ];
                let p1 = params[rng.next(params.len())];
                let p2 = params[rng.next(params.len())];
                out.push_str(&format!("  server s1 127.0.0.1:80 {p1} {p2}\n"));
            }
            if rng.next(4) == 0 {
                out.push_str(
                    [
                        "  default-server inter 3s\n",
                        "  default-server check\n",
                        "  cookie SRV insert\n",
                    ][rng.next(3)],
                );
            }
            if rng.next(3) == 0 {
                let acls = [
                    "acl x src 10.0.0.0/8",
                    "acl x path_beg /api",
                    "acl x hdr(host) -i a.b",
                    "acl x path_reg ^/(a|b",
                    "acl x dst_port 80:90",
                ];
                out.push_str(&format!("  {}\n", acls[rng.next(acls.len())]));
                let uses = [
                    "  use_backend a if x\n",
                    "  http-request deny if !x\n",
                    "  redirect prefix /p if x\n",
                    "  use_backend b unless x || TRUE\n",
                    "  http-request set-header X-A 1 if x\n",
                ];
                out.push_str(uses[rng.next(uses.len())]);
            }
            if rng.next(2) == 0 {
                out.push_str(&format!("  default_backend {}\n", names[rng.next(3)]));
            }
            if rng.next(3) == 0 {
                out.push_str(&format!("  use_backend {} if TRUE\n", names[rng.next(3)]));
            }
        }
    }
    out
}

/// Global keywords whose odd values (`x`, `0`, `-1`, `7s`, two words,
/// twice) still get a different `-c` report here; not run by the engine.
/// HAProxy opens Lua files, changes its environment, and crashes on some
/// `tune.bufsize` values; the rest are value checks not written yet.
/// `mworker-max-reloads` differs on purpose: HAProxy 2.6 prints a bad
/// value as a warning with "(null)" in it and runs; the engine refuses it.
const GLOBAL_ODD_VALUES_DIFFER: &[&str] = &[
    "h1-case-adjust",
    "lua-load",
    "maxsslconn",
    "mworker-max-reloads",
    "presetenv",
    "resetenv",
    "setenv",
    "ssl-default-bind-options",
    "ssl-default-server-options",
    "ssl-server-verify",
    "tune.bufsize",
    "tune.http.maxhdr",
    "tune.maxrewrite",
    "tune.ssl.cachesize",
    "tune.ssl.default-dh-param",
    "tune.ssl.lifetime",
    "unix-bind",
    "unsetenv",
];

const BASE: &str = "defaults\n timeout connect 1s\n timeout client 1s\n timeout server 1s\n";

#[test]
fn reports_match_haproxy() {
    let Some(binary) = xtests::haproxy_bin() else {
        return;
    };
    let mut rng = Lcg(2026);
    let dir = std::env::temp_dir().join(format!("cfgdiff-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut cases = vec![];
    for k in config::global::GLOBAL_KEYWORDS {
        cases.push(format!(
            "global\n {} 1\n{BASE}listen a\n bind :80\n",
            typo(k.name, &mut rng)
        ));
    }
    for k in config::listen::PROXY_KEYWORDS {
        cases.push(format!(
            "{BASE}listen a\n bind :80\n {} x\n",
            typo(k.name, &mut rng)
        ));
    }
    for o in config::options::OPTIONS {
        cases.push(format!(
            "{BASE}listen a\n bind :80\n option {}\n",
            typo(o.name, &mut rng)
        ));
    }
    for s in config::server_kw::SERVER_KEYWORDS {
        cases.push(format!(
            "{BASE}listen a\n bind :80\n server s 1.2.3.4:80 {} 1\n",
            typo(s.name, &mut rng)
        ));
    }
    // Global keywords with odd values, and twice: "already specified"
    // and value checks differ from keyword to keyword.
    let all_globals = std::env::var_os("CFGDIFF_ARGS").is_some();
    for k in config::global::GLOBAL_KEYWORDS {
        if !all_globals && GLOBAL_ODD_VALUES_DIFFER.contains(&k.name) {
            continue;
        }
        for v in ["x", "0", "-1", "7s", "1 2"] {
            cases.push(format!(
                "global\n {} {v}\n{BASE}listen a\n bind :80\n",
                k.name
            ));
        }
        cases.push(format!(
            "global\n {k} 2\n {k} 3\n{BASE}listen a\n bind :80\n",
            k = k.name
        ));
    }
    if std::env::var_os("CFGDIFF_ARGS").is_some() {
        // Wrong argument counts: noisier, run on demand.
        for k in config::listen::PROXY_KEYWORDS {
            cases.push(format!("{BASE}listen a\n bind :80\n {}\n", k.name));
            cases.push(format!(
                "{BASE}listen a\n bind :80\n {} a b c d e f\n",
                k.name
            ));
        }
        for k in config::global::GLOBAL_KEYWORDS {
            cases.push(format!("global\n {}\n{BASE}listen a\n bind :80\n", k.name));
        }
        for k in config::server_kw::SERVER_KEYWORDS {
            cases.push(format!(
                "{BASE}listen a\n bind :80\n server s 1.2.3.4:80 {}\n",
                k.name
            ));
            cases.push(format!(
                "{BASE}listen a\n bind :80\n server s 1.2.3.4:80 {} x\n",
                k.name
            ));
        }
        for (b, _, _) in config::bind::BIND_OPTIONS {
            cases.push(format!("{BASE}listen a\n bind :80 {b}\n"));
            cases.push(format!("{BASE}listen a\n bind :80 {}\n", typo(b, &mut rng)));
        }
        for o in config::options::OPTIONS {
            cases.push(format!(
                "{BASE}listen a\n bind :80\n option {} x y\n",
                o.name
            ));
        }
        for t in [
            "client",
            "server",
            "connect",
            "check",
            "queue",
            "tunnel",
            "http-request",
        ] {
            for v in [
                "",
                "0",
                "10",
                "10s",
                "1m30s",
                "2147483648",
                "24d",
                "25d",
                "100us",
                "x",
            ] {
                cases.push(format!("listen a\n bind :80\n timeout {t} {v}\n"));
            }
        }
        for f in config::acl::FETCHES.iter().map(|f| f.name) {
            cases.push(format!(
                "{BASE}frontend a\n mode http\n bind :80\n acl x {f} y\n acl z {} y\n",
                typo(f, &mut rng)
            ));
        }
    }
    // The lexer: the first word of an unknown keyword is echoed verbatim.
    let alphabet: Vec<char> = "ab \"'\\#${}x1tnr-_.\t\u{a0}(H".chars().collect();
    for _ in 0..lexer_cases() {
        let len = 1 + rng.next(12);
        let w: String = (0..len)
            .map(|_| alphabet[rng.next(alphabet.len())])
            .collect();
        cases.push(format!("{BASE}listen a\n bind :80\n {w} foo\n"));
    }
    // Whole configurations: names, kinds, modes, references and timeouts
    // drawn at random, to exercise the cross-proxy checks.
    for _ in 0..lexer_cases() / 3 {
        cases.push(random_config(&mut rng));
    }
    let mut diffs = vec![];
    // Whole files of your own: CFGDIFF_FILES=a.cfg:b.cfg
    for f in std::env::var("CFGDIFF_FILES")
        .unwrap_or_default()
        .split(':')
        .filter(|f| !f.is_empty())
    {
        let (want, got) = (haproxy(&binary, f).unwrap(), ours(f));
        if want != got {
            diffs.push(format!("--- {f}\n=== haproxy\n{want}=== ours\n{got}"));
        }
    }
    for (i, case) in cases.iter().enumerate() {
        let path = dir.join(format!("c{i}.cfg"));
        std::fs::write(&path, case).unwrap();
        let p = path.to_str().unwrap();
        let (want, got) = (haproxy(&binary, p).unwrap(), ours(p));
        if want != got {
            diffs.push(format!("--- {case}=== haproxy\n{want}=== ours\n{got}"));
        }
    }
    std::fs::remove_dir_all(&dir).ok();
    assert!(
        diffs.is_empty(),
        "{} of {} differ:\n{}",
        diffs.len(),
        cases.len(),
        diffs.join("\n")
    );
}
