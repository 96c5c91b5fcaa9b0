//! The HTML page `stats uri` serves, in HAProxy 2.6's layout: the head and
//! its CSS (the status colours are what people read the page by), the
//! process block with the legend and the links, then per proxy one table
//! with its frontend, server and backend rows.
//!
//! A pure function of what the CSV prints: every figure in a table is a
//! cell of a [`Line`], so the page and `show stat` agree. A cell the engine
//! leaves empty in the CSV (it does not measure it) stays empty here where
//! HAProxy would print a number; cells HAProxy itself leaves empty show
//! as HAProxy shows them (`-` for no limit, `&nbsp;`, nothing).
//!
//! The HTTP side (auth, `;csv`, the admin POST, the `Refresh:` header)
//! is the caller's. Names are HTML-escaped (HAProxy relies on its name
//! rules instead); the tooltips keep HAProxy's rows and order.

use std::fmt::{self, Display, Write};

use super::ProxyLines;
use text::{Esc, JsEsc};

/// What one request for the page shows.
pub struct Page<'a> {
    /// The `stats uri` prefix as configured (`/admin?stats`): every link
    /// is built from it (`;up`, `;norefresh`, `;csv`, `;json`).
    pub uri: &'a str,
    /// `stats hide-version`: the title line shows the product name only.
    pub hide_version: bool,
    /// `stats refresh`, in seconds: with it the page offers to disable
    /// (or enable) refreshing, and the export links carry `;norefresh`.
    /// The seconds go into the caller's `Refresh:` header, not the page.
    pub refresh: Option<u64>,
    /// The request had `;norefresh`.
    pub norefresh: bool,
    /// The request had `;up`: the caller's filter hid DOWN and MAINT
    /// servers; the page links back to all servers.
    pub up_only: bool,
    /// `stats admin` matched: a checkbox per server and an action form
    /// per backend with servers, posted back to the page's URL.
    pub admin: bool,
    /// `stats show-legends`: tooltips with the proxy's capability, mode
    /// and id, each server's address and id, each backend's algorithm.
    pub show_legends: bool,
    /// `stats show-node`: the node name, shown in the title and heading.
    pub show_node: Option<&'a str>,
    /// `stats show-desc`: the description, shown in the heading.
    pub show_desc: Option<&'a str>,
    /// The request's `;st=` code, the result of the last admin action
    /// (`DONE`, `NONE`, `PART`, `ERRP`, `EXCD`, `DENY`, `IVAL`; anything
    /// else reads as an unexpected result): a coloured message box.
    pub status: Option<&'a str>,
    /// The request's `;scope=` text (the caller keeps only the proxies
    /// whose name contains it): shown in the Scope box, kept by the links.
    pub scope: Option<&'a str>,
    /// `show info`'s fields, by HAProxy's names (`Name`, `Version`, `Pid`...).
    pub info: &'a [(&'static str, String)],
    /// The proxies to show, in declaration order.
    pub proxies: &'a [ProxyLines],
}

/// The whole page.
pub fn render(page: &Page) -> String {
    let mut out = String::with_capacity(16 * 1024 + 8 * 1024 * page.proxies.len());
    head(&mut out, page);
    process(&mut out, page);
    links(&mut out, page);
    status_box(&mut out, page);
    for px in page.proxies {
        proxy(&mut out, page, px);
    }
    out.push_str("</body></html>\n");
    out
}

/// `write!` into a String cannot fail.
macro_rules! put {
    ($out:expr, $($arg:tt)*) => {{
        let _ = write!($out, $($arg)*);
    }};
}

mod rows;
mod text;

pub use text::human_secs;

/// HAProxy 2.6's style sheet, as it serves it (light and dark schemes).
const CSS: &str = include_str!("html/style.css");

fn head(out: &mut String, page: &Page) {
    put!(
        out,
        "<!DOCTYPE HTML PUBLIC \"-//W3C//DTD HTML 4.01 Transitional//EN\"\n\
         \"http://www.w3.org/TR/html4/loose.dtd\">\n\
         <html><head><title>Statistics Report for {}{}</title>\n\
         <link rel=\"icon\" href=\"data:,\">\n\
         <meta http-equiv=\"content-type\" content=\"text/html; charset=iso-8859-1\">\n\
         <style type=\"text/css\"><!--\n{CSS}-->\n</style></head>\n",
        Esc(info(page, "Name")),
        OnNode(page.show_node),
    );
}

/// The title line, the process figures and the legend.
fn process(out: &mut String, page: &Page) {
    let f = |name| info(page, name);
    let num = |name| f(name).parse::<u64>().unwrap_or(0);
    let mut version = String::new();
    if !page.hide_version && !f("Version").is_empty() {
        put!(version, " version {}", Esc(f("Version")));
        // The engine has no release date ("-"); HAProxy always has one.
        if !matches!(f("Release_date"), "" | "-") {
            put!(version, ", released {}", Esc(f("Release_date")));
        }
    }
    let desc = page.show_desc.map(|d| format!(": {}", Esc(d)));
    // The engine has no web site of its own: its name links to the page.
    let memmax = match num("Memmax_MB") {
        0 => "unlimited".to_string(),
        mb => format!("{mb} MB"),
    };
    put!(
        out,
        "<body><h1><a href=\"{uri}\" style=\"text-decoration: none;\">{name}{version}</a></h1>\n\
         <h2>Statistics Report for pid {pid}{node}{desc}</h2>\n\
         <hr width=\"100%\" class=\"hr\">\n\
         <h3>&gt; General process information</h3>\n\
         <table border=0><tr><td align=\"left\" nowrap width=\"1%\">\n\
         <p><b>pid = </b> {pid} (process #{procnum}, nbproc = {nbproc}, nbthread = {nbthread})<br>\n\
         <b>uptime = </b> {uptime}<br>\n\
         <b>system limits:</b> memmax = {memmax}; ulimit-n = {ulimit}<br>\n\
         <b>maxsock = </b> {maxsock}; <b>maxconn = </b> {maxconn}; <b>maxpipes = </b> {maxpipes}<br>\n\
         current conns = {conns}; current pipes = {pipes}/{pipes_max}; conn rate = {rate}/sec; bit rate = {bits}<br>\n\
         Running tasks: {runq}/{tasks}; idle = {idle} %<br>\n\
         </td><td align=\"center\" nowrap>\n{LEGEND}",
        uri = Esc(page.uri),
        name = Esc(f("Name")),
        pid = num("Pid"),
        node = OnNode(page.show_node),
        desc = desc.as_deref().unwrap_or(""),
        procnum = num("Process_num"),
        nbproc = num("Nbproc"),
        nbthread = num("Nbthread"),
        uptime = uptime(num("Uptime_sec")),
        ulimit = num("Ulimit-n"),
        maxsock = num("Maxsock"),
        maxconn = num("Maxconn"),
        maxpipes = num("Maxpipes"),
        conns = num("CurrConns"),
        pipes = num("PipesUsed"),
        pipes_max = num("PipesUsed") + num("PipesFree"),
        rate = num("ConnRate"),
        bits = bit_rate(num("BytesOutRate")),
        runq = num("Run_queue"),
        tasks = num("Tasks"),
        idle = num("Idle_pct"),
    );
}

/// The status colours, explained.
const LEGEND: &str = "<table class=\"lgd\"><tr>\n\
<td class=\"active_up\">&nbsp;</td><td class=\"noborder\">active UP </td>\
<td class=\"backup_up\">&nbsp;</td><td class=\"noborder\">backup UP </td></tr><tr>\n\
<td class=\"active_going_down\"></td><td class=\"noborder\">active UP, going down </td>\
<td class=\"backup_going_down\"></td><td class=\"noborder\">backup UP, going down </td></tr><tr>\n\
<td class=\"active_going_up\"></td><td class=\"noborder\">active DOWN, going up </td>\
<td class=\"backup_going_up\"></td><td class=\"noborder\">backup DOWN, going up </td></tr><tr>\n\
<td class=\"active_down\"></td><td class=\"noborder\">active or backup DOWN &nbsp;</td>\
<td class=\"active_no_check\"></td><td class=\"noborder\">not checked </td></tr><tr>\n\
<td class=\"maintain\"></td><td class=\"noborder\" colspan=\"3\">active or backup DOWN for maintenance (MAINT) &nbsp;</td></tr><tr>\n\
<td class=\"active_draining\"></td><td class=\"noborder\" colspan=\"3\">active or backup SOFT STOPPED for maintenance &nbsp;</td></tr></table>\n\
Note: \"NOLB\"/\"DRAIN\" = UP with load-balancing disabled.</td>";

/// The Scope box and the display links, each keeping the request's other
/// options as HAProxy's do.
fn links(out: &mut String, page: &Page) {
    let uri = Esc(page.uri);
    let scope = ScopeSuffix(page.scope);
    let up = if page.up_only { ";up" } else { "" };
    let norefresh = if page.norefresh { ";norefresh" } else { "" };
    let refresh = page.refresh.is_some_and(|s| s > 0);
    put!(
        out,
        "<td align=\"left\" valign=\"top\" nowrap width=\"1%\"><b>Display option:</b>\
         <ul style=\"margin-top: 0.25em;\"><li><form method=\"GET\">Scope : <input value=\"{}\" \
         name=\"scope\" size=\"8\" maxlength=\"20\" tabindex=\"1\"/></form>\n",
        Esc(page.scope.unwrap_or("")),
    );
    if page.up_only {
        put!(
            out,
            "<li><a href=\"{uri}{norefresh}{scope}\">Show all servers</a><br>\n"
        );
    } else {
        put!(
            out,
            "<li><a href=\"{uri};up{norefresh}{scope}\">Hide 'DOWN' servers</a><br>\n"
        );
    }
    if refresh && page.norefresh {
        put!(
            out,
            "<li><a href=\"{uri}{up}{scope}\">Enable refresh</a><br>\n"
        );
    } else if refresh {
        put!(
            out,
            "<li><a href=\"{uri}{up};norefresh{scope}\">Disable refresh</a><br>\n"
        );
    }
    put!(
        out,
        "<li><a href=\"{uri}{up}{norefresh}{scope}\">Refresh now</a><br>\n"
    );
    // Otherwise the export would come with the page's `Refresh:` header.
    let export = if refresh { ";norefresh" } else { "" };
    put!(
        out,
        "<li><a href=\"{uri};csv{export}{scope}\">CSV export</a><br>\n\
         <li><a href=\"{uri};json{export}{scope}\">JSON export</a> \
         (<a href=\"{uri};json-schema\">schema</a>)<br>\n\
         </ul></td><td align=\"left\" valign=\"top\" nowrap width=\"1%\">\
         <b>External resources:</b><ul style=\"margin-top: 0.25em;\">\n\
         <li><a href=\"{MANUAL}\">Configuration manual (HAProxy 2.6)</a><br>\n\
         </ul></td></tr></table>\n"
    );
}

/// The engine reads HAProxy's configuration language: its manual is the
/// one external resource that applies (HAProxy links its own site here).
const MANUAL: &str = "http://docs.haproxy.org/2.6/configuration.html";

/// `;st=` codes: the box's class and message, as HAProxy words them.
const STATUS_BOXES: [(&str, &str, &str); 7] = [
    ("DONE", "active_up", "Action processed successfully."),
    ("NONE", "active_going_down", "Nothing has changed."),
    (
        "PART",
        "active_going_down",
        "Action partially processed.<br>Some server names are probably unknown or \
         ambiguous (duplicated names in the backend).",
    ),
    (
        "ERRP",
        "active_down",
        "Action not processed because of invalid parameters.<ul>\
         <li>The action is maybe unknown.</li>\
         <li>Invalid key parameter (empty or too long).</li>\
         <li>The backend name is probably unknown or ambiguous (duplicated names).</li>\
         <li>Some server names are probably unknown or ambiguous (duplicated names in the backend).</li>\
         </ul>",
    ),
    (
        "EXCD",
        "active_down",
        "<b>Action not processed : the buffer couldn't store all the data.<br>\
         You should retry with less servers at a time.</b>",
    ),
    ("DENY", "active_down", "<b>Action denied.</b>"),
    (
        "IVAL",
        "active_down",
        "<b>Invalid requests (unsupported method or chunked encoded request).</b>",
    ),
];

fn status_box(out: &mut String, page: &Page) {
    let Some(code) = page.status else { return };
    // HAProxy compares the first four characters only.
    let (class, message) = STATUS_BOXES
        .iter()
        .find(|(c, ..)| code.starts_with(c))
        .map_or(("active_no_check", "Unexpected result."), |(_, c, m)| {
            (c, m)
        });
    put!(
        out,
        "<p><div class={class}><a class=lfsb href=\"{}{}{}{}\" title=\"Remove this message\">[X]</a> \
         {message}</div>\n<p>\n",
        Esc(page.uri),
        if page.up_only { ";up" } else { "" },
        if page.norefresh { ";norefresh" } else { "" },
        ScopeSuffix(page.scope),
    );
}

/// One proxy: its title table, then its lines under the two header rows.
fn proxy(out: &mut String, page: &Page, px: &ProxyLines) {
    let form = page.admin && has_servers(px);
    let name = Esc(&px.name);
    if form {
        out.push_str("<form method=\"post\">");
    }
    put!(
        out,
        "<table class=\"tbl\" width=\"100%\">\n<tr class=\"titre\">\
         <th class=\"pxname\" width=\"10%\"><a name=\"{name}\"></a>{}<a class=px href=\"#{name}\">{name}</a>",
        if page.show_legends { "<u>" } else { "" },
    );
    if page.show_legends {
        put!(
            out,
            "<div class=tips>cap: {}, mode: {}, id: {}</div></u>",
            capability(px),
            Esc(px.mode),
            Esc(px.lines().next().map_or("", |l| l.cell("iid"))),
        );
    }
    out.push_str(
        "</th><th class=\"empty\" width=\"90%\"></th></tr>\n</table>\n\
         <table class=\"tbl\" width=\"100%\">\n<tr class=\"titre\">",
    );
    if form {
        let js = JsEsc(&px.name);
        put!(
            out,
            "<th rowspan=2 width=1><input type=\"checkbox\" onclick=\"for(c in \
             document.getElementsByClassName('{js}-checkbox')) \
             document.getElementsByClassName('{js}-checkbox').item(c).checked = this.checked\"></th>"
        );
    } else if page.admin {
        out.push_str("<th rowspan=2></th>");
    }
    out.push_str(HEADER);
    if let Some(f) = &px.frontend {
        rows::frontend(out, page, px, f);
    }
    for l in &px.sockets {
        rows::socket(out, page, px, l);
    }
    for s in &px.servers {
        rows::server(out, page, px, s);
    }
    if let Some(b) = &px.backend {
        rows::backend(out, page, px, b);
    }
    out.push_str("</table>");
    if form {
        put!(
            out,
            "{ACTIONS}<input type=\"hidden\" name=\"b\" value=\"#{}\">",
            backend_id(px)
        );
        out.push_str("&nbsp;<input type=\"submit\" value=\"Apply\"></form>");
    }
    out.push_str("<p>\n");
}

/// The two header rows after the admin column's heading.
const HEADER: &str = "<th rowspan=2></th><th colspan=3>Queue</th>\
<th colspan=3>Session rate</th><th colspan=6>Sessions</th>\
<th colspan=2>Bytes</th><th colspan=2>Denied</th>\
<th colspan=3>Errors</th><th colspan=2>Warnings</th>\
<th colspan=9>Server</th></tr>\n\
<tr class=\"titre\"><th>Cur</th><th>Max</th><th>Limit</th>\
<th>Cur</th><th>Max</th><th>Limit</th><th>Cur</th><th>Max</th>\
<th>Limit</th><th>Total</th><th>LbTot</th><th>Last</th><th>In</th><th>Out</th>\
<th>Req</th><th>Resp</th><th>Req</th><th>Conn</th>\
<th>Resp</th><th>Retr</th><th>Redis</th>\
<th>Status</th><th>LastChk</th><th>Wght</th><th>Act</th>\
<th>Bck</th><th>Chk</th><th>Dwn</th><th>Dwntme</th>\
<th>Thrtle</th>\n</tr>";

/// The admin actions HAProxy's POST handler knows, by their form values.
const ACTIONS: &str = "Choose the action to perform on the checked servers : \
<select name=action><option value=\"\"></option>\
<option value=\"ready\">Set state to READY</option>\
<option value=\"drain\">Set state to DRAIN</option>\
<option value=\"maint\">Set state to MAINT</option>\
<option value=\"dhlth\">Health: disable checks</option>\
<option value=\"ehlth\">Health: enable checks</option>\
<option value=\"hrunn\">Health: force UP</option>\
<option value=\"hnolb\">Health: force NOLB</option>\
<option value=\"hdown\">Health: force DOWN</option>\
<option value=\"dagent\">Agent: disable checks</option>\
<option value=\"eagent\">Agent: enable checks</option>\
<option value=\"arunn\">Agent: force UP</option>\
<option value=\"adown\">Agent: force DOWN</option>\
<option value=\"shutdown\">Kill Sessions</option></select>";

/// HAProxy's form goes with a backend that has servers, shown or not:
/// `;up` may hide them all, and then the backend's status, which the
/// snapshot suffixes with `(up/total)`, still counts them.
fn has_servers(px: &ProxyLines) -> bool {
    let Some(b) = &px.backend else { return false };
    let hidden_total = b
        .cell("status")
        .rsplit_once('/')
        .and_then(|(_, t)| t.strip_suffix(')'))
        .and_then(|t| t.parse::<u32>().ok())
        .unwrap_or(0);
    !px.servers.is_empty() || hidden_total > 0
}

/// The backend's `iid`, which the admin form posts as `b=#<iid>`.
fn backend_id(px: &ProxyLines) -> Esc<'_> {
    Esc(px.backend.as_ref().map_or("", |b| b.cell("iid")))
}

/// HAProxy's proxy_cap_str: a `listen` section reads as "proxy".
fn capability(px: &ProxyLines) -> &'static str {
    match (px.frontend.is_some(), px.backend.is_some()) {
        (true, true) => "proxy",
        (true, false) => "frontend",
        _ => "backend",
    }
}

fn info<'a>(page: &'a Page, name: &str) -> &'a str {
    page.info
        .iter()
        .find(|(n, _)| *n == name)
        .map_or("", |(_, v)| v.as_str())
}

/// HAProxy's `%dd %dh%02dm%02ds`.
fn uptime(secs: u64) -> String {
    format!(
        "{}d {}h{:02}m{:02}s",
        secs / 86_400,
        secs / 3600 % 24,
        secs / 60 % 60,
        secs % 60
    )
}

/// Bytes out per second as the line rate of a link: bits, with the
/// Ethernet overhead of full TCP segments (1538 bytes on the wire for
/// 1448 of payload), as HAProxy estimates it.
fn bit_rate(bytes_per_sec: u64) -> String {
    let bps = bytes_per_sec.saturating_mul(8 * 1538) / 1448;
    let (scaled, unit) = match bps {
        b if b >= 1_000_000_000 => (b as f64 / 1e9, 'G'),
        b if b >= 1_000_000 => (b as f64 / 1e6, 'M'),
        b => (b as f64 / 1e3, 'k'),
    };
    format!("{scaled:.3} {unit}bps")
}

/// ` on <node>` after the product name, with `show-node`.
struct OnNode<'a>(Option<&'a str>);

impl Display for OnNode<'_> {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match self.0 {
            Some(node) => write!(f, " on {}", Esc(node)),
            None => Ok(()),
        }
    }
}

/// `;scope=<text>` for links, when the request has a scope.
struct ScopeSuffix<'a>(Option<&'a str>);

impl Display for ScopeSuffix<'_> {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match self.0 {
            Some(s) if !s.is_empty() => write!(f, ";scope={}", Esc(s)),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::text::{human_time, limit, num};
    use super::*;
    use crate::stats::csv::{Line, COLUMNS};
    use regex::Regex;

    const HAPROXY_PAGE: &str = include_str!("testdata/haproxy-2.6-page.html");
    const HAPROXY_CSV: &str = include_str!("testdata/haproxy-2.6-page.csv");
    const HAPROXY_INFO: &str = include_str!("testdata/haproxy-2.6-page.info");

    /// `show stat` lines, grouped per proxy as the snapshot groups them.
    fn proxies_from_csv(csv: &str) -> Vec<ProxyLines> {
        let mut proxies: Vec<ProxyLines> = Vec::new();
        for row in csv.lines().filter(|r| !r.is_empty() && !r.starts_with('#')) {
            let mut line = Line::default();
            for (col, value) in COLUMNS.iter().zip(row.split(',')) {
                if !value.is_empty() {
                    line.set(col, value);
                }
            }
            let name = line.cell("pxname").to_string();
            if proxies.last().is_none_or(|p| p.name != name) {
                proxies.push(ProxyLines {
                    sockets: Vec::new(),
                    name,
                    mode: if line.cell("mode") == "http" {
                        "http"
                    } else {
                        "tcp"
                    },
                    frontend: None,
                    servers: Vec::new(),
                    backend: None,
                });
            }
            let px = proxies.last_mut().unwrap();
            match line.cell("svname") {
                "FRONTEND" => px.frontend = Some(line),
                "BACKEND" => px.backend = Some(line),
                _ => px.servers.push(line),
            }
        }
        proxies
    }

    fn info_from(text: &str) -> Vec<(&'static str, String)> {
        text.lines()
            .filter_map(|l| l.split_once(": "))
            .map(|(n, v)| (&*Box::leak(n.to_string().into_boxed_str()), v.to_string()))
            .collect()
    }

    fn page<'a>(info: &'a [(&'static str, String)], proxies: &'a [ProxyLines]) -> Page<'a> {
        Page {
            uri: "/admin?stats",
            hide_version: false,
            refresh: None,
            norefresh: false,
            up_only: false,
            admin: false,
            show_legends: false,
            show_node: None,
            show_desc: None,
            status: None,
            scope: None,
            info,
            proxies,
        }
    }

    /// Each `<tr>` of the proxy tables: its class and its cells, tooltips
    /// left out, as (attributes, text).
    fn rows(html: &str) -> Vec<(String, Vec<(String, String)>)> {
        let tips = Regex::new(r"(?s)<div class=tips>.*?</div>").unwrap();
        let row = Regex::new(r#"(?s)<tr class="?([a-z_]+)"?>(.*?)</tr>"#).unwrap();
        let cell = Regex::new(r"(?s)<t[dh]([^>]*)>(.*?)</t[dh]>").unwrap();
        let html = tips.replace_all(html, "");
        row.captures_iter(&html)
            .map(|r| {
                let cells = cell
                    .captures_iter(&r[2])
                    .map(|c| (c[1].trim().to_string(), c[2].to_string()))
                    .collect();
                (r[1].to_string(), cells)
            })
            .collect()
    }

    /// Our page for the CSV and `show info` HAProxy printed with its own,
    /// under its fixture's settings (refresh, admin, show-legends).
    fn fixture_page() -> String {
        let info = info_from(HAPROXY_INFO);
        let proxies = proxies_from_csv(HAPROXY_CSV);
        let mut p = page(&info, &proxies);
        p.refresh = Some(30);
        p.admin = true;
        p.show_legends = true;
        render(&p)
    }

    #[test]
    fn the_tables_are_shaped_like_haproxys() {
        // Same rows with the same classes, the same cells with the same
        // attributes, in the same order, as HAProxy 2.6.12 for the same CSV.
        let ours = rows(&fixture_page());
        let theirs = rows(HAPROXY_PAGE);
        let shape = |rows: &[(String, Vec<(String, String)>)]| -> Vec<(String, Vec<String>)> {
            rows.iter()
                .map(|(class, cells)| (class.clone(), cells.iter().map(|c| c.0.clone()).collect()))
                .collect()
        };
        assert_eq!(shape(&ours), shape(&theirs));
    }

    #[test]
    fn the_cells_read_like_haproxys() {
        // Apart from the stats proxy itself (it served the page while the
        // CSV was read), every cell's text is HAProxy's.
        let ours = rows(&fixture_page());
        let theirs = rows(HAPROXY_PAGE);
        assert_eq!(ours.len(), theirs.len());
        for (o, t) in ours.iter().zip(&theirs) {
            let stats = t.1.iter().any(|c| c.1.contains("\"stats/"));
            if !stats {
                assert_eq!(o, t);
            }
        }
    }

    #[test]
    fn the_head_legend_and_links_are_haproxys() {
        let ours = fixture_page();
        let between = |html: &'static str, from: &str, to: &str| {
            let start = html.find(from).unwrap();
            &html[start..start + html[start..].find(to).unwrap()]
        };
        let css = between(HAPROXY_PAGE, "<style", "</style>");
        assert!(ours.contains(css));
        let legend = between(HAPROXY_PAGE, "<table class=\"lgd\">", "</td><td align");
        assert!(ours.contains(legend));
        for label in [
            "Hide 'DOWN' servers",
            "Disable refresh",
            "Refresh now",
            "CSV export",
            "JSON export",
            "schema",
        ] {
            assert_eq!(href(&ours, label), href(HAPROXY_PAGE, label), "{label}");
            assert!(href(&ours, label).is_some(), "{label}");
        }
        for figure in [
            "<b>pid = </b> ",
            "<b>maxsock = </b> 20000; <b>maxconn = </b> 9979; <b>maxpipes = </b> 0<br>",
        ] {
            assert!(
                ours.contains(figure) && HAPROXY_PAGE.contains(figure),
                "{figure}"
            );
        }
    }

    /// A line from column/value pairs.
    fn line(cells: &[(&'static str, &str)]) -> Line {
        let mut l = Line::default();
        for (col, v) in cells {
            l.set(col, v);
        }
        l
    }

    /// A server line as the engine prints one: checked, UP, idle.
    fn server_line(name: &str, extra: &[(&'static str, &str)]) -> Line {
        let mut l = line(&[
            ("pxname", "app"),
            ("svname", name),
            ("qcur", "0"),
            ("qmax", "0"),
            ("scur", "0"),
            ("smax", "0"),
            ("stot", "0"),
            ("bin", "0"),
            ("bout", "0"),
            ("status", "UP"),
            ("weight", "1"),
            ("uweight", "1"),
            ("act", "1"),
            ("bck", "0"),
            ("chkfail", "0"),
            ("chkdown", "0"),
            ("lastchg", "5"),
            ("downtime", "0"),
            ("iid", "3"),
            ("sid", "1"),
            ("lastsess", "-1"),
            ("check_status", "L4OK"),
            ("check_duration", "0"),
            ("check_desc", "Layer4 check passed"),
            ("check_rise", "2"),
            ("check_fall", "3"),
            ("check_health", "4"),
            ("addr", "127.0.0.1:8080"),
        ]);
        for (col, v) in extra {
            l.set(col, v);
        }
        l
    }

    fn backend_line(extra: &[(&'static str, &str)]) -> Line {
        let mut l = line(&[
            ("pxname", "app"),
            ("svname", "BACKEND"),
            ("status", "UP"),
            ("weight", "1"),
            ("uweight", "1"),
            ("act", "1"),
            ("bck", "0"),
            ("chkdown", "0"),
            ("lastchg", "5"),
            ("downtime", "0"),
            ("iid", "3"),
            ("algo", "roundrobin"),
        ]);
        for (col, v) in extra {
            l.set(col, v);
        }
        l
    }

    fn app(servers: Vec<Line>) -> ProxyLines {
        ProxyLines {
            sockets: Vec::new(),
            name: "app".into(),
            mode: "http",
            frontend: None,
            servers,
            backend: Some(backend_line(&[])),
        }
    }

    fn frontend_only(name: &str) -> ProxyLines {
        ProxyLines {
            sockets: Vec::new(),
            name: name.into(),
            mode: "tcp",
            frontend: Some(line(&[
                ("pxname", "fe"),
                ("svname", "FRONTEND"),
                ("status", "OPEN"),
            ])),
            servers: Vec::new(),
            backend: None,
        }
    }

    fn engine_info() -> Vec<(&'static str, String)> {
        vec![
            ("Name", "engine".into()),
            ("Version", "0.1.0".into()),
            ("Release_date", "-".into()),
            ("Pid", "4242".into()),
            ("Uptime_sec", "90061".into()),
        ]
    }

    /// How many columns each row spans: the first header row and every
    /// line's row must agree for the values to sit under their headings.
    fn widths(html: &str) -> Vec<usize> {
        let span = Regex::new(r"colspan=(\d+)").unwrap();
        rows(html)
            .iter()
            .filter(|(class, cells)| class != "titre" || cells[0].0.starts_with("rowspan=2"))
            .map(|(_, cells)| {
                let span_of =
                    |attrs: &str| span.captures(attrs).map_or(1, |c| c[1].parse().unwrap());
                cells.iter().map(|(attrs, _)| span_of(attrs)).sum()
            })
            .collect()
    }

    /// The text of a cell, its markup left out.
    fn text(cell: &str) -> String {
        Regex::new("<[^>]*>")
            .unwrap()
            .replace_all(cell, "")
            .into_owned()
    }

    /// The cells' texts of the row whose anchor is `anchor` (`app/s1`).
    fn row_of(html: &str, anchor: &str) -> (String, Vec<String>) {
        let (class, cells) = rows(html)
            .into_iter()
            .find(|(_, cells)| {
                cells
                    .iter()
                    .any(|c| c.1.contains(&format!("name=\"{anchor}\"")))
            })
            .unwrap_or_else(|| panic!("no row {anchor}"));
        (class, cells.iter().map(|c| text(&c.1)).collect())
    }

    #[test]
    fn a_socket_row_is_haproxys() {
        // HAProxy 2.6.12's row for `bind ... name first` with one session.
        let mut px = app(vec![]);
        px.sockets.push(line(&[
            ("pxname", "app"),
            ("svname", "first"),
            ("scur", "1"),
            ("smax", "1"),
            ("slim", "0"),
            ("stot", "1"),
            ("bin", "0"),
            ("bout", "0"),
            ("dreq", "0"),
            ("dresp", "0"),
            ("ereq", "0"),
            ("status", "OPEN"),
            ("type", "3"),
        ]));
        let page = render_with(&[px], |_| {});
        assert!(page.contains(
            "<tr class=socket><td class=ac><a name=\"app/+first\"></a><a class=lfsb href=\"#app/+first\">first</a></td><td colspan=3></td><td colspan=3>&nbsp;</td><td>1</td><td>1</td><td>0</td><td>1</td><td>&nbsp;</td><td>&nbsp;</td><td>0</td><td>0</td><td>0</td><td>0</td><td>0</td><td></td><td></td><td></td><td></td><td class=ac>OPEN</td><td class=ac colspan=8></td></tr>"
        ));
    }

    fn render_with(proxies: &[ProxyLines], tweak: impl Fn(&mut Page)) -> String {
        let info = engine_info();
        let mut p = page(&info, proxies);
        tweak(&mut p);
        render(&p)
    }

    #[test]
    fn a_table_per_proxy_in_declaration_order() {
        let proxies = [
            frontend_only("zeta"),
            app(vec![server_line("s1", &[])]),
            frontend_only("alpha"),
        ];
        let html = render_with(&proxies, |_| {});
        let names: Vec<_> = Regex::new(r##"<a class=px href="#([^"]*)">"##)
            .unwrap()
            .captures_iter(&html)
            .map(|c| c[1].to_string())
            .collect();
        assert_eq!(names, ["zeta", "app", "alpha"]);
        assert_eq!(html.matches("<th>Thrtle</th>").count(), 3);
        assert!(html.ends_with("</body></html>\n"));
    }

    #[test]
    fn each_server_row_is_coloured_by_its_status() {
        let cases: [(&[(&'static str, &str)], &str); 14] = [
            (&[], "active_up"),
            (&[("status", "DOWN"), ("check_health", "0")], "active_down"),
            (
                &[("status", "UP 1/3"), ("check_health", "3")],
                "active_going_down",
            ),
            (
                &[("status", "DOWN 1/2"), ("check_health", "1")],
                "active_going_up",
            ),
            (&[("status", "MAINT")], "maintain"),
            (
                &[("status", "MAINT (via app/s2)"), ("bck", "1")],
                "maintain",
            ),
            (&[("bck", "1"), ("act", "0")], "backup_up"),
            (
                &[("bck", "1"), ("status", "DOWN"), ("check_health", "0")],
                "backup_down",
            ),
            (
                &[("status", "no check"), ("chkfail", "")],
                "active_no_check",
            ),
            (&[("status", "NOLB")], "active_nolb"),
            (
                &[("status", "NOLB 2/3"), ("check_health", "3")],
                "active_going_down",
            ),
            (&[("status", "DRAIN")], "active_draining"),
            // Weight 0 takes no traffic: drawn as draining.
            (&[("weight", "0")], "active_draining"),
            (&[("status", "DRAIN"), ("bck", "1")], "backup_draining"),
        ];
        for (extra, class) in cases {
            let proxies = [app(vec![server_line("s1", extra)])];
            let html = render_with(&proxies, |_| {});
            assert_eq!(row_of(&html, "app/s1").0, class, "{extra:?}");
        }
    }

    #[test]
    fn the_status_cell_reads_like_haproxys() {
        let cases: [(&[(&'static str, &str)], &str); 7] = [
            (&[], "5s UP"),
            (
                &[
                    ("status", "UP 1/3"),
                    ("check_health", "3"),
                    ("lastchg", "3720"),
                ],
                "1h2m UP 1/3 &darr;",
            ),
            (
                &[("status", "DOWN 1/2"), ("check_health", "1")],
                "5s DOWN 1/2 &uarr;",
            ),
            (&[("status", "DOWN"), ("check_health", "0")], "5s DOWN"),
            (&[("status", "MAINT (via app/s2)")], "5s MAINT"),
            (&[("status", "no check"), ("chkfail", "")], "no check"),
            // Without checks HAProxy's unsigned health limit wraps: the
            // arrow shows on an unchecked DRAIN server, as in HAProxy.
            (
                &[
                    ("status", "DRAIN"),
                    ("check_rise", ""),
                    ("check_fall", ""),
                    ("check_health", ""),
                ],
                "5s DRAIN &darr;",
            ),
        ];
        for (extra, status) in cases {
            let proxies = [app(vec![server_line("s1", extra)])];
            let html = render_with(&proxies, |_| {});
            assert_eq!(row_of(&html, "app/s1").1[22], status, "{extra:?}");
        }
    }

    #[test]
    fn the_cells_are_the_lines_cells() {
        let s1 = server_line(
            "s1",
            &[
                ("qcur", "2"),
                ("qmax", "9"),
                ("qlimit", "50"),
                ("scur", "7"),
                ("smax", "11"),
                ("slim", "100"),
                ("stot", "1234567"),
                ("lbtot", "1234"),
                ("lastsess", "3725"),
                ("bin", "12000800"),
                ("bout", "999"),
                ("econ", "3"),
                ("eresp", "4"),
                ("wretr", "5"),
                ("wredis", "6"),
                ("chkfail", "8"),
                ("chkdown", "2"),
                ("downtime", "180005"),
                ("check_code", "200"),
                ("check_duration", "12"),
                ("weight", "3"),
                ("uweight", "4"),
                ("throttle", "40"),
            ],
        );
        let proxies = [app(vec![s1])];
        let html = render_with(&proxies, |_| {});
        let cells = row_of(&html, "app/s1").1;
        assert_eq!(&cells[1..4], ["2", "9", "50"]);
        assert_eq!(
            &cells[7..14],
            ["7", "11", "100", "1234567", "1234", "1h2m", "12000800"]
        );
        assert_eq!(&cells[18..22], ["3", "4", "5", "6"]);
        assert_eq!(cells[23], " L4OK/200 in 12ms");
        assert_eq!(&cells[24..], ["3/4", "Y", "-", "8", "2", "2d2h", "40 %"]);
        assert!(html
            .contains("<td>1<span class=\"rls\">2</span>00<span class=\"rls\">0</span>800</td>"));
    }

    #[test]
    fn the_backend_row_shows_its_totals() {
        let mut px = app(vec![server_line("s1", &[])]);
        px.backend = Some(backend_line(&[
            ("status", "DOWN"),
            ("weight", "0"),
            ("uweight", "0"),
            ("act", "0"),
            ("chkdown", "7"),
            ("downtime", "65"),
            ("stot", "42"),
        ]));
        let html = render_with(&[px], |_| {});
        let cells = row_of(&html, "app/Backend").1;
        assert_eq!(cells[10], "42");
        assert_eq!(
            &cells[22..],
            ["5s DOWN", "&nbsp;", "0/0", "0", "0", "&nbsp;", "7", "1m5s", ""]
        );
        assert!(html.contains("<font color=\"red\"><b>DOWN</b></font>"));
    }

    #[test]
    fn names_are_escaped() {
        let mut px = app(vec![server_line("s\"1<&>", &[])]);
        px.name = "a<b>'c".into();
        let html = render_with(&[px], |p| p.admin = true);
        assert!(!html.contains("<b>'c") && !html.contains("s\"1<"));
        assert!(html.contains("<a class=px href=\"#a&lt;b&gt;&#39;c\">a&lt;b&gt;&#39;c</a>"));
        assert!(html.contains("value=\"s&quot;1&lt;&amp;&gt;\""));
        // In the select-all script the name is a JavaScript string.
        assert!(html.contains("getElementsByClassName('a\\u003cb\\u003e\\u0027c-checkbox')"));
    }

    #[test]
    fn the_engine_names_itself_and_hide_version_keeps_only_the_name() {
        let html = render_with(&[], |_| {});
        assert!(html.contains("<title>Statistics Report for engine</title>"));
        assert!(html.contains(">engine version 0.1.0</a></h1>"));
        assert!(html.contains("<b>uptime = </b> 1d 1h01m01s<br>"));
        assert!(html.contains("<p><b>pid = </b> 4242 "));
        let hidden = render_with(&[], |p| p.hide_version = true);
        assert!(hidden.contains(">engine</a></h1>"));
        assert!(!hidden.contains("0.1.0"));
        assert!(hidden.contains("<p><b>pid = </b> 4242 "));
    }

    #[test]
    fn node_and_description_head_the_page() {
        let html = render_with(&[], |p| {
            p.show_node = Some("lb-1");
            p.show_desc = Some("edge & more");
        });
        assert!(html.contains("<title>Statistics Report for engine on lb-1</title>"));
        assert!(html.contains("<h2>Statistics Report for pid 4242 on lb-1: edge &amp; more</h2>"));
    }

    /// The href of the link whose text is `label`.
    fn href(html: &str, label: &str) -> Option<String> {
        let re = Regex::new(&format!(
            r#"<a href="([^"]*)">{}</a>"#,
            regex::escape(label)
        ))
        .unwrap();
        re.captures(html).map(|c| c[1].to_string())
    }

    #[test]
    fn refresh_links_follow_the_request() {
        let html = render_with(&[], |p| p.refresh = Some(30));
        assert_eq!(
            href(&html, "Disable refresh").as_deref(),
            Some("/admin?stats;norefresh")
        );
        assert_eq!(href(&html, "Enable refresh"), None);
        assert_eq!(href(&html, "Refresh now").as_deref(), Some("/admin?stats"));
        assert_eq!(
            href(&html, "CSV export").as_deref(),
            Some("/admin?stats;csv;norefresh")
        );

        let html = render_with(&[], |p| {
            p.refresh = Some(30);
            p.norefresh = true;
        });
        assert_eq!(
            href(&html, "Enable refresh").as_deref(),
            Some("/admin?stats")
        );
        assert_eq!(
            href(&html, "Refresh now").as_deref(),
            Some("/admin?stats;norefresh")
        );
        assert_eq!(
            href(&html, "Hide 'DOWN' servers").as_deref(),
            Some("/admin?stats;up;norefresh")
        );

        let html = render_with(&[], |_| {});
        assert_eq!(href(&html, "Disable refresh"), None);
        assert_eq!(href(&html, "Enable refresh"), None);
        assert_eq!(
            href(&html, "CSV export").as_deref(),
            Some("/admin?stats;csv")
        );
    }

    #[test]
    fn up_only_links_back_to_all_servers_and_keeps_up_elsewhere() {
        let html = render_with(&[], |p| {
            p.up_only = true;
            p.refresh = Some(5);
            p.scope = Some("app");
        });
        assert_eq!(
            href(&html, "Show all servers").as_deref(),
            Some("/admin?stats;scope=app")
        );
        assert_eq!(href(&html, "Hide 'DOWN' servers"), None);
        assert_eq!(
            href(&html, "Disable refresh").as_deref(),
            Some("/admin?stats;up;norefresh;scope=app")
        );
        assert_eq!(
            href(&html, "Refresh now").as_deref(),
            Some("/admin?stats;up;scope=app")
        );
        assert!(html.contains("<input value=\"app\" name=\"scope\""));
    }

    #[test]
    fn only_admins_get_checkboxes_and_the_action_form() {
        let proxies = [frontend_only("fe"), app(vec![server_line("s1", &[])])];
        let html = render_with(&proxies, |p| p.admin = true);
        assert_eq!(html.matches("<form method=\"post\">").count(), 1);
        assert!(
            html.contains("<input class='app-checkbox' type=\"checkbox\" name=\"s\" value=\"s1\">")
        );
        assert!(html.contains("<select name=action>"));
        assert!(html.contains("<option value=\"maint\">Set state to MAINT</option>"));
        assert!(html.contains("<input type=\"hidden\" name=\"b\" value=\"#3\">"));
        // The checkboxes add a column to every row, headers included.
        assert!(
            widths(&html).iter().all(|w| *w == 32),
            "{:?}",
            widths(&html)
        );

        let html = render_with(&proxies, |_| {});
        for absent in [
            "<form method=\"post\">",
            "name=\"s\"",
            "name=action",
            "name=\"b\"",
        ] {
            assert!(!html.contains(absent), "{absent}");
        }
        assert!(
            widths(&html).iter().all(|w| *w == 31),
            "{:?}",
            widths(&html)
        );
    }

    #[test]
    fn a_backend_whose_servers_up_hides_keeps_its_form() {
        let mut px = app(Vec::new());
        px.backend = Some(backend_line(&[("status", "DOWN (0/2)")]));
        let html = render_with(&[px], |p| p.admin = true);
        assert!(html.contains("<form method=\"post\">"));
    }

    #[test]
    fn the_last_action_shows_in_a_coloured_box() {
        let html = render_with(&[], |p| {
            p.status = Some("DONE");
            p.up_only = true;
        });
        assert!(html.contains(
            "<p><div class=active_up><a class=lfsb href=\"/admin?stats;up\" \
             title=\"Remove this message\">[X]</a> Action processed successfully.</div>"
        ));
        let html = render_with(&[], |p| p.status = Some("DENY"));
        assert!(html.contains("<div class=active_down>") && html.contains("<b>Action denied.</b>"));
        let html = render_with(&[], |p| p.status = Some("what"));
        assert!(
            html.contains("<div class=active_no_check>") && html.contains("Unexpected result.")
        );
        let html = render_with(&[], |_| {});
        assert!(!html.contains("Remove this message"));
    }

    #[test]
    fn legends_tell_capability_address_and_algorithm() {
        let mut px = app(vec![server_line("s1", &[])]);
        px.frontend = Some(line(&[("svname", "FRONTEND"), ("iid", "3")]));
        let html = render_with(&[px], |p| p.show_legends = true);
        assert!(html.contains("<div class=tips>cap: proxy, mode: http, id: 3</div>"));
        assert!(html.contains("<div class=tips>IPv4: 127.0.0.1:8080, id: 1</div>"));
        assert!(html.contains("<div class=tips>balancing: roundrobin</div>"));
        let plain = render_with(&[app(vec![server_line("s1", &[])])], |_| {});
        assert!(
            !plain.contains("cap: ") && !plain.contains("IPv4: ") && !plain.contains("balancing: ")
        );
    }

    #[test]
    fn durations_read_like_haproxys_human_time() {
        for (secs, text) in [
            ("0", "0s"),
            ("5", "5s"),
            ("60", "1m"),
            ("3725", "1h2m"),
            ("3600", "1h"),
            ("86405", "1d5s"),
            ("183600", "2d3h"),
            ("-1", "?"),
            ("", ""),
        ] {
            assert_eq!(human_time(secs), text, "{secs}");
        }
    }

    #[test]
    fn counts_are_grouped_by_thousands() {
        assert_eq!(num("0"), "0");
        assert_eq!(num("999"), "999");
        assert_eq!(num("9981"), "<span class=\"rls\">9</span>981");
        assert_eq!(
            num("1234567"),
            "<span class=\"rls\">1</span>23<span class=\"rls\">4</span>567"
        );
        // Not measured: as empty as in the CSV.
        assert_eq!(num(""), "");
        assert_eq!(limit(""), "-");
        assert_eq!(limit("0"), "-");
        assert_eq!(limit("1234567"), "1234567");
    }
}
