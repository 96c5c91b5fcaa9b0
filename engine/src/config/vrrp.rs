//! `vrrp <name>` sections: one virtual router each, the virtual addresses
//! a pair of engines (or an engine and keepalived) keep alive between
//! them with VRRPv3. A section of the engine's own, in HAProxy's style:
//!
//! ```text
//! vrrp vip1
//!     interface eth0
//!     virtual-router-id 51
//!     priority 150
//!     advert-int 1s
//!     address 192.168.10.100/24
//!     preempt-delay 30s
//!     track-backend www weight -60
//! ```
//!
//! The failover itself is not built yet: a configuration with a `vrrp`
//! section is checked keyword by keyword, then refused as not implemented
//! (see `Config::unimplemented`).

use std::net::IpAddr;
use std::time::Duration;

use super::parse::Ctx;
use super::suggest;
use super::units::parse_time_ms;
use super::Location;

/// One `vrrp` section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VrrpInstance {
    pub name: String,
    pub at: Location,
    /// `interface <dev>`: where advertisements go and the addresses live.
    pub interface: Option<String>,
    /// `virtual-router-id <1..255>`.
    pub vrid: Option<u8>,
    /// `priority <1..255>`: 255 owns the addresses. Default 100.
    pub priority: u8,
    /// `advert-int <time>`: 10 ms to 40.95 s, in steps of 10 ms. Default
    /// 1 s.
    pub advert_int: Duration,
    /// `address <ip>[/<prefix>]`: the virtual addresses, one family.
    pub addresses: Vec<(IpAddr, u8)>,
    /// `peer <ip>`: unicast advertisements to these; none: multicast.
    pub peers: Vec<IpAddr>,
    /// `preempt` (default) / `no preempt`.
    pub preempt: bool,
    /// `preempt-delay <time>`: no preemption that long after start.
    pub preempt_delay: Option<Duration>,
    /// `track-backend <name> [weight <n>]`: the priority moves by `n`
    /// (default -priority+1: the node hands over) while the backend has
    /// no usable server.
    pub track_backends: Vec<(String, Option<i16>, Location)>,
    /// `track-frontend <name> [weight <n>]`: the same while the frontend
    /// cannot accept.
    pub track_frontends: Vec<(String, Option<i16>, Location)>,
    /// `on-master|on-backup|on-fault <command...>`: run at each change.
    pub hooks: Vec<(String, Vec<String>)>,
    /// `secret <text>`: advertisements carry a MAC from it (engine pairs
    /// only: keepalived does not speak it).
    pub secret: Option<String>,
}

impl VrrpInstance {
    pub fn new(name: &str, at: &Location) -> Self {
        VrrpInstance {
            name: name.to_string(),
            at: at.clone(),
            interface: None,
            vrid: None,
            priority: 100,
            advert_int: Duration::from_secs(1),
            addresses: vec![],
            peers: vec![],
            preempt: true,
            preempt_delay: None,
            track_backends: vec![],
            track_frontends: vec![],
            hooks: vec![],
            secret: None,
        }
    }
}

type Parse = fn(&mut VrrpInstance, &mut Ctx);

/// The section's keywords, alphabetical, with their help.
pub const VRRP_KEYWORDS: &[(&str, Parse, &str)] = &[
    (
        "address",
        address,
        "address <ip>[/<prefix>]: a virtual address (repeatable).",
    ),
    (
        "advert-int",
        advert_int,
        "advert-int <time>: advertisement interval, 10ms to 40.95s (default 1s).",
    ),
    (
        "interface",
        interface,
        "interface <dev>: the link the virtual router lives on.",
    ),
    (
        "on-backup",
        hook,
        "on-backup <command...>: run when this node becomes backup.",
    ),
    (
        "on-fault",
        hook,
        "on-fault <command...>: run when this node stops serving the addresses.",
    ),
    (
        "on-master",
        hook,
        "on-master <command...>: run when this node becomes master.",
    ),
    (
        "peer",
        peer,
        "peer <ip>: send advertisements to this peer (unicast; repeatable).",
    ),
    (
        "preempt",
        preempt,
        "[no] preempt: take over from a master of lower priority (default).",
    ),
    (
        "preempt-delay",
        preempt_delay,
        "preempt-delay <time>: no preemption that long after start.",
    ),
    (
        "priority",
        priority,
        "priority <1..255>: this node's priority (default 100).",
    ),
    (
        "secret",
        secret,
        "secret <text>: authenticate advertisements (engine pairs only).",
    ),
    (
        "track-backend",
        track,
        "track-backend <name> [weight <n>]: lower the priority while it has no server.",
    ),
    (
        "track-frontend",
        track,
        "track-frontend <name> [weight <n>]: lower the priority while it cannot accept.",
    ),
    (
        "virtual-router-id",
        vrid,
        "virtual-router-id <1..255>: the virtual router's id.",
    ),
];

/// One line of a `vrrp` section.
pub fn parse(v: &mut VrrpInstance, ctx: &mut Ctx) {
    let word = ctx.arg(0).to_string();
    let Some(&(_, parse, _)) = VRRP_KEYWORDS.iter().find(|(n, _, _)| *n == word) else {
        let hint = suggest::best_match(&word, VRRP_KEYWORDS.iter().map(|(n, _, _)| *n))
            .map(|b| format!("; did you mean '{b}' maybe ?"))
            .unwrap_or_default();
        let msg = format!(
            "{} : unknown keyword '{word}' in 'vrrp' section{hint}",
            ctx.here()
        );
        ctx.alert(msg);
        return;
    };
    if ctx.kwm == super::parse::Kwm::No && word != "preempt" {
        let msg = format!("{} : 'no {word}' is not supported.", ctx.here());
        ctx.alert(msg);
        return;
    }
    parse(v, ctx);
}

fn refuse(ctx: &mut Ctx, what: &str) {
    let msg = format!("{} : '{}' {what}", ctx.here(), ctx.arg(0));
    ctx.alert(msg);
}

/// One argument exactly.
fn one(ctx: &mut Ctx, what: &str) -> Option<String> {
    if ctx.arg(1).is_empty() {
        refuse(ctx, &format!("expects {what}."));
        return None;
    }
    if !ctx.arg(2).is_empty() {
        let msg = format!(
            "{} : '{}' cannot handle unexpected argument '{}'.",
            ctx.here(),
            ctx.arg(0),
            ctx.arg(2)
        );
        ctx.alert(msg);
        return None;
    }
    Some(ctx.arg(1).to_string())
}

fn interface(v: &mut VrrpInstance, ctx: &mut Ctx) {
    if let Some(dev) = one(ctx, "an interface name") {
        v.interface = Some(dev);
    }
}

fn number(ctx: &mut Ctx, low: u32, high: u32) -> Option<u32> {
    let text = one(ctx, &format!("an integer between {low} and {high}"))?;
    match text.parse::<u32>() {
        Ok(n) if (low..=high).contains(&n) => Some(n),
        _ => {
            refuse(
                ctx,
                &format!("expects an integer between {low} and {high}, not '{text}'."),
            );
            None
        }
    }
}

fn vrid(v: &mut VrrpInstance, ctx: &mut Ctx) {
    if let Some(n) = number(ctx, 1, 255) {
        v.vrid = Some(n as u8);
    }
}

fn priority(v: &mut VrrpInstance, ctx: &mut Ctx) {
    if let Some(n) = number(ctx, 1, 255) {
        v.priority = n as u8;
    }
}

fn time(ctx: &mut Ctx) -> Option<Duration> {
    let text = one(ctx, "a time")?;
    match parse_time_ms(&text) {
        Ok(t) if t.trailing.is_none() => Some(t.duration()),
        _ => {
            refuse(
                ctx,
                &format!("expects a time (such as 1s or 500ms), not '{text}'."),
            );
            None
        }
    }
}

fn advert_int(v: &mut VrrpInstance, ctx: &mut Ctx) {
    let Some(t) = time(ctx) else { return };
    // VRRPv3 carries the interval in 12 bits of centiseconds.
    let ms = t.as_millis();
    if !(10..=40_950).contains(&ms) || ms % 10 != 0 {
        refuse(
            ctx,
            "must be 10ms to 40950ms, in steps of 10ms (VRRPv3 counts centiseconds).",
        );
        return;
    }
    v.advert_int = t;
}

fn preempt_delay(v: &mut VrrpInstance, ctx: &mut Ctx) {
    if let Some(t) = time(ctx) {
        v.preempt_delay = Some(t);
    }
}

fn preempt(v: &mut VrrpInstance, ctx: &mut Ctx) {
    if !ctx.arg(1).is_empty() {
        let msg = format!(
            "{} : 'preempt' cannot handle unexpected argument '{}'.",
            ctx.here(),
            ctx.arg(1)
        );
        ctx.alert(msg);
        return;
    }
    v.preempt = ctx.kwm != super::parse::Kwm::No;
}

fn ip(ctx: &mut Ctx, text: &str) -> Option<IpAddr> {
    match text.parse::<IpAddr>() {
        Ok(a) => Some(a),
        Err(_) => {
            refuse(
                ctx,
                &format!("expects an IPv4 or IPv6 address, not '{text}'."),
            );
            None
        }
    }
}

fn address(v: &mut VrrpInstance, ctx: &mut Ctx) {
    let Some(text) = one(ctx, "an address such as 192.168.10.100/24") else {
        return;
    };
    let (addr, prefix) = match text.split_once('/') {
        Some((a, p)) => (a, Some(p)),
        None => (text.as_str(), None),
    };
    let Some(addr) = ip(ctx, addr) else { return };
    let width = if addr.is_ipv4() { 32 } else { 128 };
    let prefix = match prefix.map(str::parse::<u8>) {
        None => width,
        Some(Ok(p)) if p <= width => p,
        Some(_) => {
            refuse(ctx, &format!("has a bad prefix length in '{text}'."));
            return;
        }
    };
    if let Some((first, _)) = v.addresses.first() {
        if first.is_ipv4() != addr.is_ipv4() {
            refuse(
                ctx,
                "mixes address families: a virtual router's addresses are all IPv4 or all IPv6.",
            );
            return;
        }
    }
    v.addresses.push((addr, prefix));
}

fn peer(v: &mut VrrpInstance, ctx: &mut Ctx) {
    let Some(text) = one(ctx, "the peer's address") else {
        return;
    };
    if let Some(a) = ip(ctx, &text) {
        v.peers.push(a);
    }
}

fn hook(v: &mut VrrpInstance, ctx: &mut Ctx) {
    if ctx.arg(1).is_empty() {
        refuse(ctx, "expects a command to run.");
        return;
    }
    v.hooks
        .push((ctx.arg(0).to_string(), ctx.args[1..].to_vec()));
}

fn secret(v: &mut VrrpInstance, ctx: &mut Ctx) {
    if let Some(s) = one(ctx, "a secret") {
        v.secret = Some(s);
    }
}

fn track(v: &mut VrrpInstance, ctx: &mut Ctx) {
    let name = ctx.arg(1).to_string();
    if name.is_empty() {
        refuse(ctx, "expects a proxy name.");
        return;
    }
    let weight = match (ctx.arg(2), ctx.arg(3), ctx.arg(4)) {
        ("", _, _) => None,
        ("weight", w, "") => match w.parse::<i16>() {
            Ok(n) if (-254..=254).contains(&n) => Some(n),
            _ => {
                refuse(
                    ctx,
                    &format!("weight expects an integer between -254 and 254, not '{w}'."),
                );
                return;
            }
        },
        (other, _, _) => {
            let msg = format!(
                "{} : '{}' cannot handle unexpected argument '{other}'.",
                ctx.here(),
                ctx.arg(0)
            );
            ctx.alert(msg);
            return;
        }
    };
    let entry = (name, weight, ctx.at.clone());
    if ctx.arg(0) == "track-backend" {
        v.track_backends.push(entry);
    } else {
        v.track_frontends.push(entry);
    }
}

/// What a finished section lacks, as error messages.
pub fn missing(v: &VrrpInstance) -> Vec<String> {
    let mut out = vec![];
    let at = format!("vrrp '{}' at [{}]", v.name, v.at);
    if v.interface.is_none() {
        out.push(format!("{at} : no 'interface' given."));
    }
    if v.vrid.is_none() {
        out.push(format!("{at} : no 'virtual-router-id' given."));
    }
    if v.addresses.is_empty() {
        out.push(format!("{at} : no 'address' given."));
    }
    out
}

/// The proxies `track-backend` and `track-frontend` name exist, with the
/// capability; true when one does not.
pub fn check_tracked(config: &super::Config, diags: &mut Vec<super::Diagnostic>) -> bool {
    let mut failed = false;
    for v in &config.vrrp {
        let tracked = v
            .track_backends
            .iter()
            .map(|t| (t, "track-backend", true))
            .chain(
                v.track_frontends
                    .iter()
                    .map(|t| (t, "track-frontend", false)),
            );
        for ((name, _, at), keyword, backend) in tracked {
            let found = config.proxies.iter().any(|p| {
                p.name == *name
                    && if backend {
                        p.kind.is_backend()
                    } else {
                        p.kind.is_frontend()
                    }
            });
            if !found {
                let kind = if backend { "backend" } else { "frontend" };
                diags.push(super::Diagnostic::alert(format!(
                    "parsing [{at}] : '{keyword}' : no {kind} named '{name}'."
                )));
                failed = true;
            }
        }
    }
    failed
}

#[cfg(test)]
mod tests {
    use crate::config::{self, load_str};

    const VALID: &str = "defaults
    timeout connect 1s
    timeout client 1s
    timeout server 1s
backend www
    server s1 127.0.0.1:80
vrrp vip1
    interface eth0
    virtual-router-id 51
    priority 150
    advert-int 500ms
    address 192.168.10.100/24
    no preempt
    preempt-delay 30s
    track-backend www weight -60
    on-master /usr/local/bin/notify master
";

    #[test]
    fn a_section_reads_into_its_model_and_is_refused_as_not_built() {
        let loaded = load_str("f", VALID).unwrap();
        let v = &loaded.config.vrrp[0];
        assert_eq!(v.name, "vip1");
        assert_eq!(v.interface.as_deref(), Some("eth0"));
        assert_eq!((v.vrid, v.priority), (Some(51), 150));
        assert_eq!(v.advert_int, std::time::Duration::from_millis(500));
        assert_eq!(v.addresses, [("192.168.10.100".parse().unwrap(), 24)]);
        assert!(!v.preempt);
        assert_eq!(v.track_backends[0].1, Some(-60));
        assert_eq!(v.hooks[0].1, ["/usr/local/bin/notify", "master"]);
        assert_eq!(loaded.config.unimplemented[0].keyword, "vrrp vip1");
        assert_eq!(loaded.config.unimplemented[0].at.line, 7);
    }

    fn errors(text: &str) -> Vec<String> {
        match load_str("f", text) {
            Ok(_) => vec![],
            Err(e) => e
                .diagnostics
                .iter()
                .filter(|d| d.level == config::Level::Alert)
                .map(|d| d.message.clone())
                .filter(|m| !m.starts_with("Error(s) found"))
                .collect(),
        }
    }

    #[test]
    fn bad_lines_name_file_line_and_keyword() {
        let bad = |line: &str| errors(&format!("{VALID}    {line}\n"));
        assert_eq!(
            bad("priority 0"),
            ["parsing [f:17] : 'priority' expects an integer between 1 and 255, not '0'."]
        );
        assert_eq!(
            bad("advert-int 15ms"),
            ["parsing [f:17] : 'advert-int' must be 10ms to 40950ms, in steps of 10ms (VRRPv3 counts centiseconds)."]
        );
        assert_eq!(
            bad("address 2001:db8::1"),
            ["parsing [f:17] : 'address' mixes address families: a virtual router's addresses are all IPv4 or all IPv6."]
        );
        assert_eq!(
            bad("prority 10"),
            ["parsing [f:17] : unknown keyword 'prority' in 'vrrp' section; did you mean 'priority' maybe ?"]
        );
        assert_eq!(
            bad("track-frontend www"),
            ["parsing [f:17] : 'track-frontend' : no frontend named 'www'."]
        );
        assert_eq!(
            errors("vrrp v\n    priority 10\n"),
            [
                "vrrp 'v' at [f:1] : no 'interface' given.",
                "vrrp 'v' at [f:1] : no 'virtual-router-id' given.",
                "vrrp 'v' at [f:1] : no 'address' given."
            ]
        );
    }
}
