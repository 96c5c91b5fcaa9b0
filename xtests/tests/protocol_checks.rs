//! Protocol health checks side by side with HAProxy 2.6: `option smtpchk`
//! (HELO and EHLO), `option redis-check`, `option pgsql-check`, `option
//! mysql-check` (without user, post-41 and pre-41 logins) and `option
//! ldap-check`. For servers that pass, answer an error, garbage, a short
//! reply, close or stay silent, both proxies send the same check bytes,
//! print the same state changes, and show the same check columns in
//! `show stat`.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use xtests::conversation::{write, CheckServer, Step};
use xtests::{free_port, ProxyProcess};

const SMTP_BANNER: &[u8] = b"220 mx.example.com ESMTP\r\n";

/// A whole SMTP check: the banner, `HELO localhost\r\n` (or the EHLO of
/// the option) answered `reply`, then `QUIT\r\n` (HAProxy 2.6.12 sends
/// it) answered 221.
fn smtp(reply: &[u8]) -> Vec<Step> {
    vec![
        write(SMTP_BANNER),
        Step::Line,
        write(reply),
        Step::Line,
        write(b"221 mx.example.com closing connection\r\n"),
        Step::Silent,
    ]
}

/// The banner and `HELO`/`EHLO` answered `reply`, then the steps `then`.
fn smtp_helo(reply: &[u8], then: &[Step]) -> Vec<Step> {
    let mut steps = vec![write(SMTP_BANNER), Step::Line, write(reply)];
    steps.extend_from_slice(then);
    steps
}

/// The redis-check request, `*1\r\n$4\r\nPING\r\n`, answered `reply`,
/// then the steps `then`.
fn redis(reply: &[u8], then: &[Step]) -> Vec<Step> {
    let mut steps = vec![Step::Bytes(14), write(reply)];
    steps.extend_from_slice(then);
    steps
}

/// The pgsql-check startup message for user bob: 15 + 3 bytes.
const PGSQL_STARTUP: usize = 18;

/// AuthenticationOk.
const PGSQL_OK: &[u8] = &[b'R', 0, 0, 0, 8, 0, 0, 0, 0];

/// The startup message answered `reply`, then the steps `then`.
fn pgsql(reply: &[u8], then: &[Step]) -> Vec<Step> {
    let mut steps = vec![Step::Bytes(PGSQL_STARTUP), write(reply)];
    steps.extend_from_slice(then);
    steps
}

/// An ErrorResponse: `E`, its length, then its fields.
fn pgsql_error() -> Vec<u8> {
    let fields: &[u8] = b"SFATAL\0VFATAL\0C28000\0Mno pg_hba.conf entry for user \"bob\"\0\0";
    let mut out = vec![b'E'];
    out.extend_from_slice(&(fields.len() as u32 + 4).to_be_bytes());
    out.extend_from_slice(fields);
    out
}

/// An Authentication request of this type with this data.
fn pgsql_auth(kind: u32, data: &[u8]) -> Vec<u8> {
    let mut out = vec![b'R'];
    out.extend_from_slice(&(data.len() as u32 + 8).to_be_bytes());
    out.extend_from_slice(&kind.to_be_bytes());
    out.extend_from_slice(data);
    out
}

fn mysql_packet(seq: u8, payload: &[u8]) -> Vec<u8> {
    let n = payload.len();
    let mut out = vec![n as u8, (n >> 8) as u8, (n >> 16) as u8, seq];
    out.extend_from_slice(payload);
    out
}

/// A protocol 10 initial handshake from server version `5.7.0-test`.
fn mysql_handshake() -> Vec<u8> {
    let mut p = vec![10];
    p.extend_from_slice(b"5.7.0-test\0");
    p.extend_from_slice(&[1, 0, 0, 0]); // connection id
    p.extend_from_slice(b"abcdefgh\0"); // auth data, part 1, and a filler
                                        // capabilities (low), charset, status, capabilities (high), auth length
    p.extend_from_slice(&[0xff, 0xf7, 0x21, 0x02, 0x00, 0xff, 0x81, 21]);
    p.extend_from_slice(&[0; 10]);
    p.extend_from_slice(b"ijklmnopqrst\0mysql_native_password\0");
    mysql_packet(0, &p)
}

fn mysql_ok() -> Vec<u8> {
    mysql_packet(2, &[0, 0, 0, 2, 0, 0, 0])
}

fn mysql_error(seq: u8, code: u16, text: &str) -> Vec<u8> {
    let mut p = vec![0xff];
    p.extend_from_slice(&code.to_le_bytes());
    p.extend_from_slice(text.as_bytes());
    mysql_packet(seq, &p)
}

/// The login packet and COM_QUIT HAProxy sends at once for user haproxy.
const MYSQL41_LOGIN: usize = 4 + 41 + 5;
const MYSQL40_LOGIN: usize = 4 + 14 + 5;

/// Handshake, login of `login` bytes, then `reply`.
fn mysql_login(login: usize, reply: Vec<u8>) -> Vec<Step> {
    vec![
        Step::Write(mysql_handshake()),
        Step::Bytes(login),
        Step::Write(reply),
        Step::Silent,
    ]
}

/// A bind response with this message id and result code.
fn ldap_bind_response(id: u8, result: u8) -> Vec<u8> {
    vec![
        0x30, 0x0c, 0x02, 0x01, id, 0x61, 0x07, 0x0a, 0x01, result, 0x04, 0x00, 0x04, 0x00,
    ]
}

/// The ldap-check bind request (14 bytes) answered `reply`, then the
/// steps `then`.
fn ldap(reply: &[u8], then: &[Step]) -> Vec<Step> {
    let mut steps = vec![Step::Bytes(14), write(reply)];
    steps.extend_from_slice(then);
    steps
}

/// What a backend's server does over the run.
enum Then {
    /// Passes from the start: no state change.
    Passes,
    /// Fails: DOWN.
    StaysDown,
    /// Fails, then, once DOWN, runs this passing script: UP.
    Recovers(Vec<Step>),
}

/// Each backend: its check option, its server's script, and what follows.
fn backends() -> Vec<(&'static str, &'static str, Vec<Step>, Then)> {
    use Step::Silent;
    use Then::*;
    let smtpchk = "option smtpchk";
    let ehlo = "option smtpchk EHLO mail.example.com";
    let redischk = "option redis-check";
    let pgsqlchk = "option pgsql-check user bob";
    let mysqlchk = "option mysql-check";
    let mysql41 = "option mysql-check user haproxy";
    let mysql40 = "option mysql-check user haproxy pre-41";
    let ldapchk = "option ldap-check";
    vec![
        // SMTP: banner, HELO/EHLO, QUIT.
        (
            "bsmtp",
            smtpchk,
            smtp(b"250 mx.example.com Hello localhost\r\n"),
            Passes,
        ),
        (
            "bsmtp_ehlo",
            ehlo,
            // A multi-line reply whose last line is an error, then close:
            // HAProxy reports the first line's code and text.
            smtp_helo(b"250-mx.example.com Hello\r\n550 5.7.1 no relay\r\n", &[]),
            Recovers(smtp(
                b"250-mx.example.com Hello mail.example.com\r\n250-SIZE 10240000\r\n250 HELP\r\n",
            )),
        ),
        (
            "bsmtp_helo_rejected",
            smtpchk,
            smtp_helo(b"550 mx.example.com rejected\r\n", &[]),
            StaysDown,
        ),
        (
            // The same rejection, left open: the HELO reply rule has no
            // min-recv, so HAProxy waits for more until its timeout.
            "bsmtp_helo_open",
            smtpchk,
            smtp_helo(b"550 mx.example.com rejected\r\n", &[Silent]),
            StaysDown,
        ),
        (
            "bsmtp_quit_error",
            smtpchk,
            smtp_helo(
                b"250 mx.example.com Hello localhost\r\n",
                &[Step::Line, write(b"500 5.5.1 unknown command\r\n"), Silent],
            ),
            StaysDown,
        ),
        (
            "bsmtp_quit_close",
            smtpchk,
            smtp_helo(b"250 mx.example.com Hello localhost\r\n", &[Step::Line]),
            StaysDown,
        ),
        (
            "bsmtp_banner",
            smtpchk,
            vec![write(b"554 mx.example.com no service here\r\n"), Silent],
            StaysDown,
        ),
        (
            "bsmtp_multiline",
            smtpchk,
            vec![write(b"220-mx.example.com ESMTP\r\n220 ready\r\n"), Silent],
            StaysDown,
        ),
        (
            "bsmtp_garbage",
            smtpchk,
            vec![write(b"hello there\r\n")],
            StaysDown,
        ),
        ("bsmtp_short", smtpchk, vec![write(b"22")], StaysDown),
        ("bsmtp_close", smtpchk, vec![], StaysDown),
        ("bsmtp_silent", smtpchk, vec![Silent], StaysDown),
        // Redis: PING, +PONG.
        ("bredis", redischk, redis(b"+PONG\r\n", &[Silent]), Passes),
        (
            // `string` finds +PONG anywhere in the reply.
            "bredis_later",
            redischk,
            redis(b"+OK\r\n+PONG\r\n", &[Silent]),
            Passes,
        ),
        (
            "bredis_noauth",
            redischk,
            redis(b"-NOAUTH Authentication required.\r\n", &[]),
            Recovers(redis(b"+PONG\r\n", &[Silent])),
        ),
        (
            // An error left open: a `string` rule without min-recv waits
            // for more until the timeout.
            "bredis_loading",
            redischk,
            redis(
                b"-LOADING Redis is loading the dataset in memory\r\n",
                &[Silent],
            ),
            StaysDown,
        ),
        ("bredis_close", redischk, vec![Step::Bytes(14)], StaysDown),
        (
            "bredis_silent",
            redischk,
            vec![Step::Bytes(14), Silent],
            StaysDown,
        ),
        // PostgreSQL: StartupMessage, Authentication.
        ("bpgsql", pgsqlchk, pgsql(PGSQL_OK, &[Silent]), Passes),
        (
            // HAProxy 2.6.12 accepts any length and auth types 0, 2-7, 9, 10.
            "bpgsql_scram",
            pgsqlchk,
            pgsql(&pgsql_auth(10, b"SCRAM-SHA-256\0\0"), &[Silent]),
            Passes,
        ),
        (
            "bpgsql_denied",
            pgsqlchk,
            pgsql(&pgsql_error(), &[]),
            Recovers(pgsql(PGSQL_OK, &[Silent])),
        ),
        (
            "bpgsql_sasl_continue",
            pgsqlchk,
            pgsql(&pgsql_auth(11, b"r=abc,s=def,i=4096"), &[Silent]),
            StaysDown,
        ),
        (
            "bpgsql_garbage",
            pgsqlchk,
            pgsql(b"HTTP/1.1 400 Bad Request\r\n\r\n", &[]),
            StaysDown,
        ),
        (
            // Eight bytes of nine: min-recv 9 waits until the timeout.
            "bpgsql_short",
            pgsqlchk,
            pgsql(&PGSQL_OK[..8], &[Silent]),
            StaysDown,
        ),
        (
            "bpgsql_close",
            pgsqlchk,
            vec![Step::Bytes(PGSQL_STARTUP)],
            StaysDown,
        ),
        // MySQL without user: the initial handshake only.
        (
            "bmysql",
            mysqlchk,
            vec![Step::Write(mysql_handshake()), Silent],
            Passes,
        ),
        (
            "bmysql_host",
            mysqlchk,
            vec![Step::Write(mysql_error(
                0,
                1130,
                "Host '127.0.0.1' is not allowed to connect to this MySQL server",
            ))],
            Recovers(vec![Step::Write(mysql_handshake()), Silent]),
        ),
        (
            "bmysql_short",
            mysqlchk,
            vec![Step::Write(mysql_handshake()[..10].to_vec())],
            StaysDown,
        ),
        ("bmysql_silent", mysqlchk, vec![Silent], StaysDown),
        // MySQL with a user: handshake, login and QUIT, OK.
        (
            "bmysql41",
            mysql41,
            mysql_login(MYSQL41_LOGIN, mysql_ok()),
            Passes,
        ),
        (
            "bmysql41_denied",
            mysql41,
            mysql_login(
                MYSQL41_LOGIN,
                mysql_error(
                    2,
                    1045,
                    "#28000Access denied for user 'haproxy'@'localhost' (using password: NO)",
                ),
            ),
            Recovers(mysql_login(MYSQL41_LOGIN, mysql_ok())),
        ),
        (
            "bmysql41_close",
            mysql41,
            vec![Step::Write(mysql_handshake()), Step::Bytes(MYSQL41_LOGIN)],
            StaysDown,
        ),
        (
            "bmysql40",
            mysql40,
            mysql_login(MYSQL40_LOGIN, mysql_ok()),
            Passes,
        ),
        (
            "bmysql40_denied",
            mysql40,
            mysql_login(
                MYSQL40_LOGIN,
                mysql_error(2, 1045, "Access denied for user 'haproxy'@'localhost'"),
            ),
            StaysDown,
        ),
        // LDAP: a simple bind, its response.
        (
            "bldap",
            ldapchk,
            ldap(&ldap_bind_response(1, 0), &[Silent]),
            Passes,
        ),
        (
            "bldap_invalid",
            ldapchk,
            ldap(&ldap_bind_response(1, 49), &[]),
            Recovers(ldap(&ldap_bind_response(1, 0), &[Silent])),
        ),
        (
            "bldap_garbage",
            ldapchk,
            ldap(b"HTTP/1.1 400 Bad Request\r\n\r\n", &[Silent]),
            StaysDown,
        ),
        (
            "bldap_other_id",
            ldapchk,
            ldap(&ldap_bind_response(2, 0), &[Silent]),
            StaysDown,
        ),
        (
            "bldap_short",
            ldapchk,
            ldap(&[0x30, 0x05, 0x02, 0x01, 0x01, 0x61, 0x00], &[]),
            StaysDown,
        ),
    ]
}

struct Outcome {
    /// The bytes of the first check each server got, escaped.
    requests: BTreeMap<&'static str, String>,
    /// State changes, sorted (backends check concurrently).
    messages: Vec<String>,
    /// check_status, check_code, last_chk, check_desc per server.
    stats: Vec<Vec<String>>,
}

fn session(binary: &Path) -> Outcome {
    let mut backends = backends();
    let servers: Vec<CheckServer> = backends
        .iter_mut()
        .map(|(_, _, script, _)| CheckServer::start(std::mem::take(script)))
        .collect();
    let fe = free_port();
    let socket = xtests::socket_path(&format!("protochk-{fe}"));
    let mut cfg = xtests::check_config(&socket, fe, "tcp", "", "bsmtp");
    for ((name, check, _, _), server) in backends.iter().zip(&servers) {
        cfg.push_str(&format!(
            "\nbackend {name}\n    {check}\n    server s 127.0.0.1:{} check inter 100 rise 1 fall 1\n",
            server.port
        ));
    }
    let cfg = xtests::config_file(&format!("protochk-{fe}"), &cfg);
    let proxy = ProxyProcess::start(binary, &cfg);
    let patience = Duration::from_secs(5);
    for (name, _, _, then) in &backends {
        if !matches!(then, Then::Passes) {
            proxy.wait_for_backend_down(name, "s", "DOWN", patience);
        }
    }
    for ((name, _, _, then), server) in backends.iter_mut().zip(&servers) {
        if let Then::Recovers(script) = then {
            server.set(std::mem::take(script));
            proxy.wait_for(&format!("Server {name}/s is UP"), patience);
        }
    }

    let requests = backends
        .iter()
        .zip(&servers)
        .map(|((name, _, _, _), server)| (*name, server.first_request()))
        .collect();
    let stats = xtests::settled_check_columns(&socket, "s", backends.len());
    let mut messages =
        xtests::state_changes(&proxy.stderr(), &["Server b", "has no server available"]);
    messages.sort();
    Outcome {
        requests,
        messages,
        stats,
    }
}

#[test]
fn engine_protocol_checks_match_haproxy_side_by_side() {
    let Some(haproxy) = xtests::haproxy_bin() else {
        let ours = session(&xtests::engine_bin!());
        assert!(ours.messages.iter().any(|m| m
            .contains("Layer7 wrong status, code: 554, info: \"mx.example.com no service here\"")));
        return;
    };
    let theirs = session(&haproxy);
    let ours = session(&xtests::engine_bin!());
    assert_eq!(ours.requests, theirs.requests, "check request bytes");
    assert_eq!(ours.messages, theirs.messages, "state changes");
    assert_eq!(ours.stats, theirs.stats, "show stat check columns");
}
