//! The protocol checks as HAProxy 2.6 builds them: fixed tcp-check
//! sequences (`option smtpchk`, `redis-check`, `pgsql-check`,
//! `mysql-check`, `ldap-check`), with the MySQL and LDAP answers read by
//! their own parsers.

use regex::bytes::Regex;

use super::tcp_check::{Action, Custom, Expect, Pattern, Step, TcpCheck, Text};
use crate::config::HealthCheck;
use crate::server::CheckStatus;

/// The built-in sequence of a protocol check; None for the others.
pub fn sequence(check: &HealthCheck) -> Option<TcpCheck> {
    let steps = match check {
        HealthCheck::Smtp { verb, domain } => smtp(&format!("{verb} {domain}")),
        HealthCheck::Redis => redis(),
        HealthCheck::Pgsql { user } => pgsql(user),
        HealthCheck::Mysql { user, pre41 } => mysql(user.as_deref(), *pre41),
        HealthCheck::Ldap => ldap(),
        _ => return None,
    };
    let steps = steps
        .into_iter()
        .enumerate()
        .map(|(index, action)| Step {
            index,
            comment: None,
            action,
        })
        .collect();
    Some(TcpCheck::new(steps, true))
}

fn regex(re: &str) -> Regex {
    Regex::new(re).expect("a built-in pattern")
}

/// A connect with `linger` (no effect on the outcome).
fn connect() -> Action {
    Action::Connect {
        port: None,
        addr: None,
        implicit: false,
    }
}

/// `res.payload(offset,0),ltrim(' '),cut_crlf` and friends.
fn payload(offset: usize, ltrim_spaces: bool) -> Text {
    Text::Payload {
        offset,
        ltrim_spaces,
        cut_crlf: true,
    }
}

/// HAProxy 2.6.12's: the banner, the greeting (a multi-line reply is
/// read whole), then `QUIT` and its reply, whose words tell success.
fn smtp(command: &str) -> Vec<Action> {
    let reply = |re: &str| Expect {
        min_recv: Some(4),
        error_status: Some(CheckStatus::L7Sts),
        on_error: Some(payload(4, true)),
        status_code: Some(Text::Slice { offset: 0, len: 3 }),
        ..Expect::new(Pattern::Regex(regex(re)))
    };
    vec![
        connect(),
        Action::Expect(Expect {
            min_recv: Some(4),
            error_status: Some(CheckStatus::L7Rsp),
            on_error: Some(payload(0, false)),
            ..Expect::new(Pattern::Regex(regex("^[0-9]{3}[ \r]")))
        }),
        Action::Expect(reply("^2[0-9]{2}[ \r]")),
        Action::Send(format!("{command}\r\n").into_bytes()),
        Action::Expect(Expect {
            min_recv: None,
            on_success: Some(payload(4, true)),
            ..reply("^(2[0-9]{2}-[^\r]*\r\n)*2[0-9]{2}[ \r]")
        }),
        Action::Send(b"QUIT\r\n".to_vec()),
        Action::Expect(Expect {
            on_success: Some(payload(4, true)),
            ..reply("^2[0-9]{2}[- \r]")
        }),
    ]
}

fn redis() -> Vec<Action> {
    vec![
        Action::Send(b"*1\r\n$4\r\nPING\r\n".to_vec()),
        Action::Expect(Expect {
            error_status: Some(CheckStatus::L7Sts),
            on_error: Some(payload(0, false)),
            on_success: Some(Text::Literal("Redis server is ok".into())),
            ..Expect::new(Pattern::String(b"+PONG\r\n".to_vec()))
        }),
    ]
}

fn pgsql(user: &str) -> Vec<Action> {
    let mut startup = Vec::new();
    startup.extend_from_slice(&(15 + user.len() as u32).to_be_bytes());
    startup.extend_from_slice(&[0, 3, 0, 0]);
    startup.extend_from_slice(b"user\0");
    startup.extend_from_slice(user.as_bytes());
    startup.extend_from_slice(b"\0\0");
    vec![
        connect(),
        Action::Send(startup),
        Action::Expect(Expect {
            negate: true,
            min_recv: Some(5),
            error_status: Some(CheckStatus::L7Rsp),
            on_error: Some(Text::Payload {
                offset: 6,
                ltrim_spaces: false,
                cut_crlf: false,
            }),
            ..Expect::new(Pattern::Regex(regex("^E")))
        }),
        Action::Expect(Expect {
            min_recv: Some(9),
            error_status: Some(CheckStatus::L7Sts),
            on_success: Some(Text::Literal("PostgreSQL server is ok".into())),
            on_error: Some(Text::Literal("PostgreSQL unknown error".into())),
            ..Expect::new(Pattern::BinaryRegex(regex(
                "^52000000[A-Z0-9]{2}000000(00|02|03|04|05|06|07|09|0A)",
            )))
        }),
    ]
}

fn mysql(user: Option<&str>, pre41: bool) -> Vec<Action> {
    let mut steps = vec![connect()];
    if let Some(user) = user {
        // A client authentication packet then COM_QUIT, as HAProxy's.
        let mut fields = Vec::new();
        let len = if pre41 {
            // capabilities, max packet
            fields.extend_from_slice(&[0x00, 0x80, 0x00, 0x00, 0x01]);
            user.len() + 7
        } else {
            // capabilities, max packet, charset utf8, 23 reserved bytes
            fields.extend_from_slice(&[0x00, 0x82, 0x00, 0x00, 0x00, 0x80, 0x00, 0x01, 0x21]);
            fields.extend_from_slice(&[0; 23]);
            user.len() + 7 + 27
        };
        let mut login = vec![len as u8, (len >> 8) as u8, (len >> 16) as u8, 1];
        login.extend_from_slice(&fields);
        login.extend_from_slice(user.as_bytes());
        login.extend_from_slice(&[0, 0, 0x01, 0, 0, 0, 0x01]);
        steps.push(Action::Send(login));
    }
    steps.push(Action::Expect(Expect::new(Pattern::Custom(
        Custom::MysqlHandshake,
    ))));
    if user.is_some() {
        steps.push(Action::Expect(Expect::new(Pattern::Custom(
            Custom::MysqlOk,
        ))));
    }
    steps
}

fn ldap() -> Vec<Action> {
    let bind = [
        0x30, 0x0C, 0x02, 0x01, 0x01, 0x60, 0x07, 0x02, 0x01, 0x03, 0x04, 0x00, 0x80, 0x00,
    ];
    vec![
        Action::Send(bind.to_vec()),
        Action::Expect(Expect {
            min_recv: Some(14),
            on_error: Some(Text::Literal("Not LDAPv3 protocol".into())),
            ..Expect::new(Pattern::BinaryRegex(regex("^30")))
        }),
        Action::Expect(Expect::new(Pattern::Custom(Custom::LdapBind))),
    ]
}

/// What a protocol parser made of the data so far.
#[derive(Debug, PartialEq, Eq)]
pub enum Judged {
    Wait,
    Pass,
    Fail {
        status: CheckStatus,
        code: u16,
        info: String,
    },
}

fn fail(status: CheckStatus, code: u16, info: &str) -> Judged {
    Judged::Fail {
        status,
        code,
        info: info.to_string(),
    }
}

/// A MySQL packet at `offset`: an error packet (0xff) fails with its
/// error number and message.
pub fn mysql_packet(buf: &[u8], offset: usize, last_read: bool) -> Judged {
    let short = || {
        if last_read {
            fail(CheckStatus::L7Rsp, 0, "")
        } else {
            Judged::Wait
        }
    };
    let Some(header) = buf.get(offset..offset + 4) else {
        return short();
    };
    let len = u32::from_le_bytes([header[0], header[1], header[2], 0]) as usize;
    if buf.len() < offset + len + 4 {
        return short();
    }
    if buf.get(offset + 4) == Some(&0xff) {
        let code = buf
            .get(offset + 5..offset + 7)
            .map_or(0, |c| u16::from_le_bytes([c[0], c[1]]));
        let message = buf.get(offset + 7..).unwrap_or_default();
        // HAProxy prints it as a C string.
        let end = message
            .iter()
            .position(|&b| b == 0)
            .unwrap_or(message.len());
        let info = String::from_utf8_lossy(&message[..end]).into_owned();
        return Judged::Fail {
            status: CheckStatus::L7Sts,
            code,
            info,
        };
    }
    Judged::Pass
}

/// An LDAPv3 bind response (RFC 4511): result code 0 passes.
pub fn ldap_bind(buf: &[u8], last_read: bool) -> Judged {
    const NOT_LDAP: &str = "Not LDAPv3 protocol";
    let short = || {
        if last_read {
            fail(CheckStatus::L7Rsp, 0, "")
        } else {
            Judged::Wait
        }
    };
    let at = |i: usize| buf.get(i).copied();
    let Some(size) = at(1) else { return short() };
    let (nbytes, len) = if size & 0x80 != 0 {
        let n = usize::from(size & 0x7f);
        if buf.len() < 1 + n {
            return short();
        }
        let field = |k: usize| buf.get(2..2 + k);
        match (n, field(n)) {
            (4, Some(b)) => (n, u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize),
            (2, Some(b)) => (n, usize::from(u16::from_be_bytes([b[0], b[1]]))),
            (4 | 2, None) => return short(),
            _ => return fail(CheckStatus::L7Rsp, 0, NOT_LDAP),
        }
    } else {
        (0, usize::from(size))
    };
    if buf.len() < 2 + nbytes + len {
        return short();
    }
    let mut p = 2 + nbytes;
    // messageID 1, then a bindResponse.
    if buf.get(p..p + 4) != Some(&[0x02, 0x01, 0x01, 0x61][..]) {
        return fail(CheckStatus::L7Rsp, 0, NOT_LDAP);
    }
    p += 4;
    let skip = at(p).map_or(0, |b| {
        if b & 0x80 != 0 {
            usize::from(b & 0x7f)
        } else {
            0
        }
    });
    p += 1 + skip;
    if buf.get(p..p + 2) != Some(&[0x0a, 0x01][..]) {
        return fail(CheckStatus::L7Rsp, 0, NOT_LDAP);
    }
    match at(p + 2) {
        Some(0) => Judged::Pass,
        Some(code) => fail(
            CheckStatus::L7Sts,
            u16::from(code),
            "See RFC: http://tools.ietf.org/html/rfc4511#section-4.1.9",
        ),
        None => short(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ldap_bind_responses() {
        let ok = [
            0x30, 0x0c, 0x02, 0x01, 0x01, 0x61, 0x07, 0x0a, 0x01, 0x00, 0x04, 0x00, 0x04, 0x00,
        ];
        assert_eq!(ldap_bind(&ok, true), Judged::Pass);
        let mut refused = ok;
        refused[9] = 49;
        assert_eq!(
            ldap_bind(&refused, true),
            fail(
                CheckStatus::L7Sts,
                49,
                "See RFC: http://tools.ietf.org/html/rfc4511#section-4.1.9"
            )
        );
        assert_eq!(ldap_bind(&ok[..8], false), Judged::Wait);
        assert_eq!(ldap_bind(&ok[..8], true), fail(CheckStatus::L7Rsp, 0, ""));
        let mut other = ok;
        other[5] = 0x65;
        assert_eq!(
            ldap_bind(&other, true),
            fail(CheckStatus::L7Rsp, 0, "Not LDAPv3 protocol")
        );
    }

    #[test]
    fn mysql_packets() {
        let handshake = b"\x0b\x00\x00\x00\x0a5.7.0-x\x00\x01\x02";
        assert_eq!(mysql_packet(handshake, 0, false), Judged::Pass);
        assert_eq!(mysql_packet(&handshake[..6], 0, false), Judged::Wait);
        let error = b"\x0b\x00\x00\x00\xff\x15\x04Denied!\x00";
        assert_eq!(
            mysql_packet(error, 0, true),
            fail(CheckStatus::L7Sts, 1045, "Denied!")
        );
    }
}
