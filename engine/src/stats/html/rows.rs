//! A proxy's rows: the frontend's, one per server, the backend's, each
//! with HAProxy's cells and tooltips in its order.

use std::fmt::Write;

use super::text::{human_time, limit, num, percent, value, Esc, Plain};
use super::Page;
use crate::stats::csv::Line;
use crate::stats::ProxyLines;

pub(super) fn frontend(out: &mut String, page: &Page, px: &ProxyLines, l: &Line) {
    let http = px.mode == "http";
    let name = Esc(&px.name);
    out.push_str("<tr class=\"frontend\">");
    if page.admin {
        out.push_str("<td></td>");
    }
    put!(
        out,
        "<td class=ac><a name=\"{name}/Frontend\"></a>\
         <a class=lfsb href=\"#{name}/Frontend\">Frontend</a></td><td colspan=3></td>"
    );
    // Session rate: current and max, with connections and requests.
    for (now, word) in [("", "Current"), ("_max", "Max")] {
        let rate = |col: &str| num(l.cell(&format!("{col}{now}")));
        put!(
            out,
            "<td><u>{}<div class=tips><table class=det>\
             <tr><th>{word} connection rate:</th><td>{}/s</td></tr>\
             <tr><th>{word} session rate:</th><td>{}/s</td></tr>",
            rate("rate"),
            rate("conn_rate"),
            rate("rate"),
        );
        if http {
            put!(
                out,
                "<tr><th>{word} request rate:</th><td>{}/s</td></tr>",
                rate("req_rate")
            );
        }
        out.push_str("</table></div></u></td>");
    }
    put!(
        out,
        "<td>{}</td><td>{}</td><td>{}</td><td>{}</td>\
         <td><u>{}<div class=tips><table class=det>\
         <tr><th>Cum. connections:</th><td>{}</td></tr>\
         <tr><th>Cum. sessions:</th><td>{}</td></tr>",
        limit(l.cell("rate_lim")),
        num(l.cell("scur")),
        num(l.cell("smax")),
        num(l.cell("slim")),
        num(l.cell("stot")),
        num(l.cell("conn_tot")),
        num(l.cell("stot")),
    );
    if http {
        responses(out, l, Side::Frontend);
    }
    put!(
        out,
        "</table></div></u></td><td></td><td></td><td>{}</td>",
        num(l.cell("bin"))
    );
    bytes_out(out, l);
    put!(
        out,
        "<td>{}</td><td>{}</td><td>{}</td><td></td><td></td><td></td><td></td>\
         <td class=ac>{}</td><td class=ac colspan=8></td></tr>",
        num(l.cell("dreq")),
        num(l.cell("dresp")),
        num(l.cell("ereq")),
        Esc(l.cell("status")),
    );
}

/// Whose HTTP counters a tooltip lists: each side words them its way.
#[derive(Clone, Copy, PartialEq)]
enum Side {
    Frontend,
    Server,
    Backend,
}

/// The HTTP rows of the Total tooltip.
fn responses(out: &mut String, l: &Line, side: Side) {
    let c = |col| l.cell(col);
    if side != Side::Frontend {
        put!(
            out,
            "<tr><th>New connections:</th><td>{}</td></tr>\
             <tr><th>Reused connections:</th><td>{}</td><td>({}%)</td></tr>",
            num(c("connect")),
            num(c("reuse")),
            percent(c("reuse"), value(c("connect")) + value(c("reuse"))),
        );
    }
    put!(
        out,
        "<tr><th>Cum. HTTP requests:</th><td>{}</td></tr>",
        num(c("req_tot"))
    );
    for class in ["1xx", "2xx", "3xx", "4xx", "5xx", "other"] {
        let col = format!("hrsp_{class}");
        let what = if class == "other" {
            "- other responses:".to_string()
        } else {
            format!("- HTTP {class} responses:")
        };
        put!(out, "<tr><th>{what}</th><td>{}</td>", num(l.cell(&col)));
        if side == Side::Server {
            // A server's share of its requests.
            put!(
                out,
                "<td>({}%)</td>",
                percent(l.cell(&col), value(c("req_tot")))
            );
        }
        out.push_str("</tr>");
        if class == "2xx" && side != Side::Server {
            put!(
                out,
                "<tr><th>&nbsp;&nbsp;Compressed 2xx:</th><td>{}</td><td>({}%)</td></tr>",
                num(c("comp_rsp")),
                percent(c("comp_rsp"), value(c("hrsp_2xx"))),
            );
        }
    }
    if side == Side::Frontend {
        put!(
            out,
            "<tr><th>Intercepted requests:</th><td>{}</td></tr>",
            num(c("intercepted"))
        );
    }
    if side != Side::Server {
        put!(
            out,
            "<tr><th>Cache lookups:</th><td>{}</td></tr>\
             <tr><th>Cache hits:</th><td>{}</td><td>({}%)</td></tr>",
            num(c("cache_lookups")),
            num(c("cache_hits")),
            percent(c("cache_hits"), value(c("cache_lookups"))),
        );
    }
    // HAProxy words a server's singular.
    let errors = if side == Side::Server {
        "error"
    } else {
        "errors"
    };
    put!(
        out,
        "<tr><th>Failed hdr rewrites:</th><td>{}</td></tr>\
         <tr><th>Internal {errors}:</th><td>{}</td></tr>",
        num(c("wrew")),
        num(c("eint")),
    );
}

/// The timing rows of a server's or a backend's Total tooltip.
fn timings(out: &mut String, l: &Line, http: bool) {
    out.push_str("<tr><th colspan=3>Max / Avg over last 1024 success. conn.</th></tr>");
    let mut rows = vec![("Queue", "qtime"), ("Connect", "ctime")];
    if http {
        rows.push(("Responses", "rtime"));
    }
    rows.push(("Total", "ttime"));
    for (what, col) in rows {
        put!(
            out,
            "<tr><th>- {what} time:</th><td>{} / {}</td><td>ms</td></tr>",
            num(l.cell(&format!("{col}_max"))),
            num(l.cell(col)),
        );
    }
}

/// The Bytes Out cell and its compression tooltip, underlined only when
/// compression saw something.
fn bytes_out(out: &mut String, l: &Line) {
    let c = |col| l.cell(col);
    let comp = value(c("comp_in")) != 0 || value(c("comp_byp")) != 0;
    let saved = value(c("comp_in")).saturating_sub(value(c("comp_out")));
    put!(
        out,
        "<td>{}{}<div class=tips><table class=det>\
         <tr><th>Response bytes in:</th><td>{}</td></tr>\
         <tr><th>Compression in:</th><td>{}</td></tr>\
         <tr><th>Compression out:</th><td>{}</td><td>({}%)</td></tr>\
         <tr><th>Compression bypass:</th><td>{}</td></tr>\
         <tr><th>Total bytes saved:</th><td>{}</td><td>({}%)</td></tr>\
         </table></div>{}</td>",
        if comp { "<u>" } else { "" },
        num(c("bout")),
        num(c("bout")),
        num(c("comp_in")),
        num(c("comp_out")),
        percent(c("comp_out"), value(c("comp_in"))),
        num(c("comp_byp")),
        num(&saved.to_string()),
        percent(&saved.to_string(), value(c("bout"))),
        if comp { "</u>" } else { "" },
    );
}

/// The connection resets tooltip of the Errors Resp cell, then Warnings.
fn resets_and_warnings(out: &mut String, l: &Line) {
    put!(
        out,
        "<td><u>{}<div class=tips>Connection resets during transfers: {} client, {} server</div></u></td>\
         <td>{}</td><td>{}</td>",
        num(l.cell("eresp")),
        Plain(l.cell("cli_abrt")),
        Plain(l.cell("srv_abrt")),
        Plain(l.cell("wretr")),
        Plain(l.cell("wredis")),
    );
}

/// The row class HAProxy gives a server: its state, and how close its
/// health is to the next transition.
fn server_class(l: &Line) -> String {
    let status = l.cell("status");
    if status.starts_with("MAINT") {
        return "maintain".to_string();
    }
    let style = match status {
        "DOWN" | "DOWN (agent)" => "down",
        s if s.starts_with("DOWN ") => "going_up",
        "DRAIN" => "draining",
        s if s.starts_with("NOLB ") => "going_down",
        "NOLB" => "nolb",
        "no check" => "no_check",
        _ if l.cell("chkfail").is_empty() || health(l) == full_health(l) => {
            if value(l.cell("weight")) != 0 {
                "up"
            } else {
                "draining"
            }
        }
        _ => "going_down",
    };
    let side = if value(l.cell("bck")) != 0 {
        "backup"
    } else {
        "active"
    };
    format!("{side}_{style}")
}

fn health(l: &Line) -> u32 {
    l.cell("check_health").parse().unwrap_or(0)
}

/// rise + fall - 1, in HAProxy's unsigned arithmetic: without checks it
/// wraps, which is why an unchecked NOLB or DRAIN server shows `&darr;`.
fn full_health(l: &Line) -> u32 {
    let n = |col| l.cell(col).parse::<u32>().unwrap_or(0);
    n("check_rise")
        .wrapping_add(n("check_fall"))
        .wrapping_sub(1)
}

pub(super) fn server(out: &mut String, page: &Page, px: &ProxyLines, l: &Line) {
    let (pxname, svname) = (Esc(&px.name), Esc(l.cell("svname")));
    put!(out, "<tr class=\"{}\">", server_class(l));
    if page.admin {
        put!(
            out,
            "<td><input class='{pxname}-checkbox' type=\"checkbox\" name=\"s\" value=\"{svname}\"></td>"
        );
    }
    put!(
        out,
        "<td class=ac><a name=\"{pxname}/{svname}\"></a>{}<a class=lfsb href=\"#{pxname}/{svname}\">{svname}</a>",
        if page.show_legends { "<u>" } else { "" },
    );
    if page.show_legends {
        server_legend(out, l);
    }
    server_traffic(out, px, l);
    server_state(out, l);
    out.push_str("</tr>\n");
}

/// A listening socket's row (`option socket-stats`): sessions, bytes,
/// denied and invalid requests, and its state.
pub(super) fn socket(out: &mut String, page: &Page, px: &ProxyLines, l: &Line) {
    let (pxname, name) = (Esc(&px.name), Esc(l.cell("svname")));
    out.push_str("<tr class=socket>");
    if page.admin {
        out.push_str("<td></td>");
    }
    put!(
        out,
        "<td class=ac><a name=\"{pxname}/+{name}\"></a>{}<a class=lfsb href=\"#{pxname}/+{name}\">{name}</a>",
        if page.show_legends { "<u>" } else { "" },
    );
    if page.show_legends {
        server_legend(out, l);
    }
    put!(
        out,
        "</td><td colspan=3></td><td colspan=3>&nbsp;</td>\
         <td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>&nbsp;</td><td>&nbsp;</td>\
         <td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>\
         <td></td><td></td><td></td><td></td>\
         <td class=ac>{}</td><td class=ac colspan=8></td></tr>",
        num(l.cell("scur")),
        num(l.cell("smax")),
        num(l.cell("slim")),
        num(l.cell("stot")),
        num(l.cell("bin")),
        num(l.cell("bout")),
        num(l.cell("dreq")),
        num(l.cell("dresp")),
        num(l.cell("ereq")),
        Esc(l.cell("status")),
    );
}

/// Address, id and cookie, as HAProxy's tooltip words them.
fn server_legend(out: &mut String, l: &Line) {
    out.push_str("<div class=tips>");
    let addr = l.cell("addr");
    match addr.chars().next() {
        Some(c) if c.is_ascii_digit() => put!(out, "IPv4: {}, ", Esc(addr)),
        Some('[') => put!(out, "IPv6: {}, ", Esc(addr)),
        Some(_) => put!(out, "{}, ", Esc(addr)),
        None => {}
    }
    put!(out, "id: {}", Esc(l.cell("sid")));
    if !l.cell("cookie").is_empty() {
        put!(out, ", cookie: '{}'", Esc(l.cell("cookie")));
    }
    out.push_str("</div></u>");
}

/// From Queue to Warnings.
fn server_traffic(out: &mut String, px: &ProxyLines, l: &Line) {
    let c = |col| l.cell(col);
    let idle_limit = if c("src_ilim").is_empty() {
        "-".to_string()
    } else {
        num(c("src_ilim"))
    };
    put!(
        out,
        "</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td></td>\
         <td><u>{}<div class=tips><table class=det>\
         <tr><th>Current active connections:</th><td>{}</td></tr>\
         <tr><th>Current used connections:</th><td>{}</td></tr>\
         <tr><th>Current idle connections:</th><td>{}</td></tr>\
         <tr><th>- unsafe:</th><td>{}</td></tr>\
         <tr><th>- safe:</th><td>{}</td></tr>\
         <tr><th>Estimated need of connections:</th><td>{}</td></tr>\
         <tr><th>Active connections limit:</th><td>{}</td></tr>\
         <tr><th>Idle connections limit:</th><td>{idle_limit}</td></tr>\
         </table></div></u></td><td>{}</td><td>{}</td>\
         <td><u>{}<div class=tips><table class=det><tr><th>Cum. sessions:</th><td>{}</td></tr>",
        num(c("qcur")),
        num(c("qmax")),
        limit(c("qlimit")),
        num(c("rate")),
        num(c("rate_max")),
        num(c("scur")),
        num(c("scur")),
        num(c("used_conn_cur")),
        num(c("srv_icur")),
        num(c("idle_conn_cur")),
        num(c("safe_conn_cur")),
        num(c("need_conn_est")),
        limit(c("slim")),
        num(c("smax")),
        limit(c("slim")),
        num(c("stot")),
        num(c("stot")),
    );
    let http = px.mode == "http";
    if http {
        responses(out, l, Side::Server);
    }
    timings(out, l, http);
    put!(
        out,
        "</table></div></u></td><td>{}</td><td>{}</td>\
         <td>{}</td><td>{}</td><td></td><td>{}</td><td></td><td>{}</td>",
        num(c("lbtot")),
        human_time(c("lastsess")),
        num(c("bin")),
        num(c("bout")),
        num(c("dresp")),
        num(c("econ")),
    );
    resets_and_warnings(out, l);
}

/// From Status to Thrtle.
fn server_state(out: &mut String, l: &Line) {
    let c = |col| l.cell(col);
    let status = c("status");
    out.push_str("<td class=ac>");
    if status.starts_with("MAINT") {
        put!(out, "{} MAINT", human_time(c("lastchg")));
    } else if status == "no check" {
        out.push_str("<i>no check</i>");
    } else {
        put!(out, "{} {}", human_time(c("lastchg")), Esc(status));
        if status.starts_with("DOWN") {
            if health(l) != 0 {
                out.push_str(" &uarr;");
            }
        } else if health(l) < full_health(l) {
            out.push_str(" &darr;");
        }
    }
    let agent_down = !c("agent_status").is_empty() && value(c("agent_health")) == 0;
    if status.starts_with("DOWN") && agent_down {
        last_check(out, l, "agent", "last_agt");
    } else if !c("check_status").is_empty() {
        last_check(out, l, "check", "last_chk");
    } else {
        out.push_str("</td><td>");
    }
    put!(
        out,
        "</td><td class=ac>{}/{}</td><td class=ac>{}</td><td class=ac>{}</td>",
        Plain(c("weight")),
        Plain(c("uweight")),
        if value(c("bck")) != 0 { "-" } else { "Y" },
        if value(c("bck")) != 0 { "Y" } else { "-" },
    );
    if status == "MAINT (resolution)" {
        out.push_str("<td class=ac colspan=3>resolution</td>");
    } else if !c("chkfail").is_empty() {
        let analyses = !c("hanafail").is_empty();
        put!(out, "<td><u>{}", Plain(c("chkfail")));
        if analyses {
            put!(out, "/{}", Plain(c("hanafail")));
        }
        put!(
            out,
            "<div class=tips>Failed Health Checks{}</div></u></td><td>{}</td><td>{}</td>",
            if analyses { "/Health Analyses" } else { "" },
            Plain(c("chkdown")),
            human_time(c("downtime")),
        );
    } else if status != "MAINT" && !c("tracked").is_empty() {
        let t = Esc(c("tracked"));
        put!(
            out,
            "<td class=ac colspan=3><a class=lfsb href=\"#{t}\">via {t}</a></td>"
        );
    } else {
        out.push_str("<td colspan=3></td>");
    }
    if c("throttle").is_empty() {
        out.push_str("<td class=ac>-</td>");
    } else {
        put!(out, "<td class=ac>{} %</td>\n", Plain(c("throttle")));
    }
}

/// The LastChk cell: `check` or `agent`, status/code in duration, and the
/// description with the last output as the tooltip.
fn last_check(out: &mut String, l: &Line, kind: &str, last: &str) {
    let cell = |field: &str| kind_cell(l, kind, field);
    put!(out, "</td><td class=ac><u> {}", Esc(cell("status")));
    if !cell("code").is_empty() {
        put!(out, "/{}", Esc(cell("code")));
    }
    if !cell("duration").is_empty() {
        put!(out, " in {}ms", Esc(cell("duration")));
    }
    put!(out, "<div class=tips>{}", Esc(cell("desc")));
    if !l.cell(last).is_empty() {
        put!(out, ": {}", Esc(l.cell(last)));
    }
    out.push_str("</div></u>");
}

/// `check_status`, `agent_code`...
fn kind_cell<'l>(l: &'l Line, kind: &str, field: &str) -> &'l str {
    l.cell(&format!("{kind}_{field}"))
}

pub(super) fn backend(out: &mut String, page: &Page, px: &ProxyLines, l: &Line) {
    let c = |col| l.cell(col);
    let name = Esc(&px.name);
    out.push_str("<tr class=\"backend\">");
    if page.admin {
        out.push_str("<td></td>");
    }
    put!(
        out,
        "<td class=ac>{}<a name=\"{name}/Backend\"></a><a class=lfsb href=\"#{name}/Backend\">Backend</a>",
        if page.show_legends { "<u>" } else { "" },
    );
    if page.show_legends {
        put!(out, "<div class=tips>balancing: {}", Esc(c("algo")));
        if !c("cookie").is_empty() {
            put!(out, ", cookie: '{}'", Esc(c("cookie")));
        }
        out.push_str("</div></u>");
    }
    put!(
        out,
        "</td><td>{}</td><td>{}</td><td></td><td>{}</td><td>{}</td><td></td>\
         <td>{}</td><td>{}</td><td>{}</td>\
         <td><u>{}<div class=tips><table class=det><tr><th>Cum. sessions:</th><td>{}</td></tr>",
        num(c("qcur")),
        num(c("qmax")),
        num(c("rate")),
        num(c("rate_max")),
        num(c("scur")),
        num(c("smax")),
        num(c("slim")),
        num(c("stot")),
        num(c("stot")),
    );
    let http = px.mode == "http";
    if http {
        responses(out, l, Side::Backend);
    }
    timings(out, l, http);
    put!(
        out,
        "</table></div></u></td><td>{}</td><td>{}</td><td>{}</td>",
        num(c("lbtot")),
        human_time(c("lastsess")),
        num(c("bin")),
    );
    bytes_out(out, l);
    put!(
        out,
        "<td>{}</td><td>{}</td><td></td><td>{}</td>",
        num(c("dreq")),
        num(c("dresp")),
        num(c("econ")),
    );
    resets_and_warnings(out, l);
    let status = match c("status") {
        "DOWN" => "<font color=\"red\"><b>DOWN</b></font>".to_string(),
        s => Esc(s).to_string(),
    };
    let downtime = match c("downtime") {
        "" => "&nbsp;".to_string(),
        d => human_time(d),
    };
    put!(
        out,
        "<td class=ac>{} {status}</td><td class=ac>&nbsp;</td><td class=ac>{}/{}</td>\
         <td class=ac>{}</td><td class=ac>{}</td>\
         <td class=ac>&nbsp;</td><td>{}</td><td>{downtime}</td><td></td></tr>",
        human_time(c("lastchg")),
        Plain(c("weight")),
        Plain(c("uweight")),
        Plain(c("act")),
        Plain(c("bck")),
        Plain(c("chkdown")),
    );
}
