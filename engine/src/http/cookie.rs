//! Cookie-based server persistence: HAProxy 2.6's `cookie` proxy keyword.
//!
//! Sans-I/O: the caller hands in a [`Message`] and the backend's servers,
//! this module edits the head and says which server the cookie designates.
//!
//! - Request side, [`Persistence::on_request`], called in the backend
//!   before load balancing: finds the persistence cookie in the `cookie`
//!   headers, designates a server (which then overrides the balancer), and
//!   strips the cookie (insert+indirect) or its `SRV~` prefix (prefix mode)
//!   before the request is forwarded.
//! - Response side, [`Persistence::on_response`], called once a final
//!   response head has been parsed: deletes, rewrites or prefixes the
//!   server's own `set-cookie`, inserts ours, adds `cache-control: private`
//!   (`nocache`).
//! - The two letters [`ClientCookie::letter`] / [`ServerCookie::letter`] are
//!   the last two characters of `%tsc` (only when [`Persistence::logged`]).
//!
//! The parsing is a port of `http_manage_client_side_cookies` and
//! `http_manage_server_side_cookies` (HAProxy's `src/http_ana.c`), because
//! the exact bytes of the rewritten headers depend on its pointer
//! arithmetic (which spaces survive a deletion, etc.). Every test's expected
//! value was observed on haproxy 2.6.12 with a raw socket client and server.
//!
//! Not handled: `cookie ... dynamic` (dynamic-cookie-key hashing),
//! `capture cookie`, `option checkcache`.

use super::message::Message;
pub use crate::config::cookie::{Mode, Persistence};

/// A backend server as the cookie logic sees it, in configuration order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Candidate<'a> {
    /// The server's `cookie <value>`, if any.
    pub cookie: Option<&'a str>,
    /// False when the server is down or in maintenance.
    pub up: bool,
}

/// Per-request switches that come from elsewhere in the configuration.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RequestFlags {
    /// `option persist` or a matching `force-persist`: a cookie naming a
    /// down server still sends the request there.
    pub persist: bool,
    /// A matching `ignore-persist`: the cookie is parsed (and stripped) but
    /// not used, and nothing is inserted in the response.
    pub ignore: bool,
    /// A server was already chosen (`use-server`): the cookie is not used.
    pub assigned: bool,
}

/// The client-side cookie state, first cookie letter of `%tsc`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ClientCookie {
    /// `N`: no persistence cookie in the request.
    #[default]
    None,
    /// `I`: it named no server (unknown or empty value).
    Invalid,
    /// `D`: it named a down server (or the server failed and the request
    /// was redispatched, see [`Sticky::redispatched`]).
    Down,
    /// `V`: it named a usable server, which was used.
    Valid,
    /// `E`: its last-seen date is older than `maxidle` (or >1 day ahead).
    Expired,
    /// `O`: its first-seen date is older than `maxlife` (or >1 day ahead).
    Old,
    /// `U`: present but ignored (`use-server` / `ignore-persist`).
    Unused,
}

impl ClientCookie {
    pub fn letter(self) -> char {
        match self {
            ClientCookie::None => 'N',
            ClientCookie::Invalid => 'I',
            ClientCookie::Down => 'D',
            ClientCookie::Valid => 'V',
            ClientCookie::Expired => 'E',
            ClientCookie::Old => 'O',
            ClientCookie::Unused => 'U',
        }
    }
}

/// The server-side cookie state, second cookie letter of `%tsc`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ServerCookie {
    /// `N`: no persistence cookie in the response.
    #[default]
    None,
    /// `P`: the server's persistence cookie was forwarded untouched.
    Found,
    /// `D`: the server's persistence cookie was deleted.
    Deleted,
    /// `I`: HAProxy inserted one.
    Inserted,
    /// `R`: the server's cookie was rewritten (rewrite) or prefixed.
    Replaced,
    /// `U`: re-inserted for the same server (only the dates changed).
    Updated,
}

impl ServerCookie {
    pub fn letter(self) -> char {
        match self {
            ServerCookie::None => 'N',
            ServerCookie::Found => 'P',
            ServerCookie::Deleted => 'D',
            ServerCookie::Inserted => 'I',
            ServerCookie::Replaced => 'R',
            ServerCookie::Updated => 'U',
        }
    }
}

/// What the request taught us, carried to the response.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Sticky {
    /// Index in the candidates of the server the cookie designates. When
    /// set, it replaces the balancer's choice (HAProxy's SF_DIRECT|SF_ASSIGNED).
    pub server: Option<usize>,
    /// The request goes to the cookie's server (no insertion needed).
    pub direct: bool,
    pub client: ClientCookie,
    /// Dates from `NAME=SRV|last|first`, unix seconds (0 = absent).
    pub last_date: u32,
    pub first_date: u32,
    /// POST request (`postonly`).
    pub post: bool,
    /// GET/HEAD/OPTIONS/TRACE: the response may be cacheable (`nocache`).
    pub safe_method: bool,
    /// `ignore-persist` matched.
    pub ignore: bool,
}

impl Sticky {
    /// The connection to the cookie's server failed and `option redispatch`
    /// sent the request to another server: HAProxy then logs the cookie as
    /// `D` (if it was `V`) and inserts a fresh cookie in the response
    /// (observed `--DI` on 2.6.12). Without `option redispatch` it retries
    /// the same server and answers 503 (`SCVN`).
    pub fn redispatched(&mut self, new_server: Option<usize>) {
        if self.client == ClientCookie::Valid {
            self.client = ClientCookie::Down;
        }
        self.direct = false;
        self.server = new_server;
    }
}

impl Persistence {
    /// Whether `%tsc` shows the cookie letters: HAProxy's PR_CK_ANY (a mode
    /// word or `indirect`). A bare `cookie NAME` still persists but logs
    /// `--` (observed `----`).
    pub fn logged(&self) -> bool {
        self.mode != Mode::Passive || self.indirect
    }

    /// Request side. Reads and edits the `cookie` headers of `req` and
    /// returns the persistence decision. `now` is the unix time in seconds.
    pub fn on_request(
        &self,
        req: &mut Message,
        servers: &[Candidate],
        flags: RequestFlags,
        now: u32,
    ) -> Sticky {
        let method = req.start[0].as_slice();
        let mut st = Sticky {
            post: method == b"POST",
            safe_method: matches!(method, b"GET" | b"HEAD" | b"OPTIONS" | b"TRACE"),
            ignore: flags.ignore,
            ..Sticky::default()
        };
        let mut i = 0;
        while i < req.headers.len() {
            if req.headers[i].0 != b"cookie" {
                i += 1;
                continue;
            }
            let mut v = std::mem::take(&mut req.headers[i].1);
            let before = v.len();
            self.scan_cookie_line(&mut v, servers, flags, now, &mut st);
            if v.is_empty() && before != 0 {
                req.headers.remove(i);
            } else {
                req.headers[i].1 = v;
                i += 1;
            }
        }
        st
    }

    /// One `cookie` header value (http_manage_client_side_cookies's body).
    fn scan_cookie_line(
        &self,
        v: &mut Vec<u8>,
        servers: &[Candidate],
        flags: RequestFlags,
        now: u32,
        st: &mut Sticky,
    ) {
        let mut del_from: Option<usize> = None;
        let mut preserve = false;
        let mut prev = 0;
        let mut first = true;
        while prev < v.len() {
            let mut attr = Attr::after(v, prev, first, true);
            first = false;
            // `$Version`, `$Path`...: RFC 2109 attributes of the previous
            // cookie; they go away only with the cookie before them.
            if v.get(attr.att_beg) == Some(&b'$') {
                prev = attr.next;
                continue;
            }
            if attr.equal == attr.next {
                // No `=`: not ours, so the header must stay, but a pending
                // deletion of our cookie before it can be done now.
                preserve = true;
                let mut next = attr.next;
                if let Some(mut d) = del_from.take() {
                    let delta = del_hdr_value(v, &mut d, prev);
                    next = shift(next, delta);
                }
                prev = next;
                continue;
            }
            attr.tighten(v);
            let Attr {
                att_beg,
                att_end,
                val_beg,
                val_end,
                mut next,
                ..
            } = attr;
            if &v[att_beg..att_end] == self.name.as_bytes() {
                let mut delim = val_end;
                if self.mode == Mode::Prefix {
                    delim = v[val_beg..val_end]
                        .iter()
                        .position(|&c| c == b'~')
                        .map_or(val_end, |p| val_beg + p);
                } else if let Some(p) = v[val_beg..val_end].iter().position(|&c| c == b'|') {
                    // NAME=SRV|<last seen>[|<first seen>], 4-second units.
                    delim = val_beg + p;
                    let bar = delim + 1;
                    if val_end - bar >= 5 {
                        if let Some(d) = b64tos30(&v[bar..bar + 5]).filter(|&d| d > 0) {
                            st.last_date = d << 2;
                        }
                    }
                    if let Some(p2) = v[bar..val_end].iter().position(|&c| c == b'|') {
                        let bar2 = bar + p2;
                        if val_end - bar2 > 5 {
                            if let Some(d) = b64tos30(&v[bar2 + 1..bar2 + 6]).filter(|&d| d > 0) {
                                st.first_date = d << 2;
                            }
                        }
                    }
                }
                let too_far = |date: u32, max: u32| {
                    let age = i64::from(now) - i64::from(date);
                    age > i64::from(max) || -age > 86400
                };
                if st.first_date != 0 && self.maxlife != 0 && too_far(st.first_date, self.maxlife) {
                    st.client = ClientCookie::Old;
                    delim = val_beg;
                    (st.first_date, st.last_date) = (0, 0);
                } else if st.last_date != 0
                    && self.maxidle != 0
                    && too_far(st.last_date, self.maxidle)
                {
                    st.client = ClientCookie::Expired;
                    delim = val_beg;
                    (st.first_date, st.last_date) = (0, 0);
                }
                // First server with this cookie that can take the request;
                // an empty value never matches (no sticking to cookie-less
                // backups). Only the first cookie that designates one counts.
                let skip = flags.ignore || flags.assigned || st.server.is_some();
                let mut found = false;
                if delim != val_beg && !skip {
                    let want = &v[val_beg..delim];
                    for (idx, s) in servers.iter().enumerate() {
                        if s.cookie.map(str::as_bytes) != Some(want) {
                            continue;
                        }
                        if s.up || flags.persist {
                            st.client = if s.up {
                                ClientCookie::Valid
                            } else {
                                ClientCookie::Down
                            };
                            st.direct = true;
                            st.server = Some(idx);
                            found = true;
                            break;
                        }
                        st.client = ClientCookie::Down;
                    }
                }
                // HAProxy tests the state against D|E|O, whose bits cover
                // every state: any earlier verdict (even `V` from a previous
                // cookie) is kept. Observed: `SERVERID=a1; SERVERID=a2` → V.
                if !found && st.client == ClientCookie::None {
                    st.client = if flags.ignore || flags.assigned {
                        ClientCookie::Unused
                    } else {
                        ClientCookie::Invalid
                    };
                }
                if self.mode == Mode::Prefix && delim != val_end {
                    // Strip `SRV~`, keep the application's cookie.
                    v.drain(val_beg..=delim);
                    next -= delim + 1 - val_beg;
                    del_from = None;
                    preserve = true;
                } else if del_from.is_none() && self.mode == Mode::Insert && self.indirect {
                    del_from = Some(prev);
                }
            } else {
                preserve = true;
                if let Some(mut d) = del_from.take() {
                    let delta = del_hdr_value(v, &mut d, prev);
                    next = shift(next, delta);
                }
            }
            prev = next;
        }
        // Our cookie last on the line: cut from it, or drop the header.
        if let Some(d) = del_from {
            v.truncate(if preserve { d } else { 0 });
        }
    }

    /// Response side, once a final response head is parsed (HAProxy skips
    /// 1xx except 101). `server` is the server that answered (None when no
    /// server was involved). Edits `res` and returns the second letter.
    pub fn on_response(
        &self,
        res: &mut Message,
        sticky: &Sticky,
        server: Option<Candidate>,
        now: u32,
    ) -> ServerCookie {
        let status: u16 = std::str::from_utf8(&res.start[1])
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        let mut state = ServerCookie::None;
        if status < 200 && status != 101 {
            return state;
        }
        for (name, cookie2) in [("set-cookie", false), ("set-cookie2", true)] {
            let mut i = 0;
            while i < res.headers.len() {
                if res.headers[i].0 != name.as_bytes() {
                    i += 1;
                    continue;
                }
                let mut v = std::mem::take(&mut res.headers[i].1);
                let keep = self.scan_set_cookie(&mut v, cookie2, sticky, server, &mut state);
                if keep {
                    res.headers[i].1 = v;
                    i += 1;
                } else {
                    res.headers.remove(i);
                }
            }
        }
        let cacheable = self.nocache && response_cacheable(res, status, sticky.safe_method);
        let (last, first) = (sticky.last_date, sticky.first_date);
        let Some(srv) = server else { return state };
        let refresh = !sticky.direct
            || ((self.maxidle != 0 || last != 0)
                && (last == 0 || i64::from(last) < i64::from(now)))
            || (self.maxlife != 0 && first == 0)
            || (self.maxlife == 0 && first != 0);
        if self.mode != Mode::Insert
            || (state == ServerCookie::Found && self.preserve)
            || !refresh
            || (self.postonly && !sticky.post)
            || sticky.ignore
        {
            return state;
        }
        let mut c = format!("{}=", self.name);
        match srv.cookie {
            // A server without a cookie (a backup, say) asks the client to
            // forget any cookie.
            None => c.push_str("; Expires=Thu, 01-Jan-1970 00:00:01 GMT; path=/"),
            Some(val) => {
                c.push_str(val);
                if self.maxidle != 0 || self.maxlife != 0 {
                    let stamp = (now.wrapping_add(3) >> 2) as i32;
                    c.push('|');
                    c.push_str(&s30tob64(stamp));
                    if self.maxlife != 0 {
                        let f = if first != 0 {
                            (first >> 2) as i32
                        } else {
                            stamp
                        };
                        c.push('|');
                        c.push_str(&s30tob64(f));
                    }
                }
                c.push_str("; path=/");
            }
        }
        for d in &self.domains {
            c.push_str("; domain=");
            c.push_str(d);
        }
        if self.httponly {
            c.push_str("; HttpOnly");
        }
        if self.secure {
            c.push_str("; Secure");
        }
        for a in &self.attrs {
            c.push_str("; ");
            c.push_str(a);
        }
        res.add("set-cookie", c);
        state = if srv.cookie.is_some() && sticky.direct {
            ServerCookie::Updated
        } else {
            ServerCookie::Inserted
        };
        // HTTP/1.0 caches store cookies too: `private` rather than
        // `no-cache="set-cookie"`, which old caches ignore.
        if cacheable {
            res.add("cache-control", "private");
        }
        state
    }

    /// One `set-cookie`/`set-cookie2` value; false when the whole header
    /// must go. A port of http_manage_server_side_cookies's loop.
    fn scan_set_cookie(
        &self,
        v: &mut Vec<u8>,
        cookie2: bool,
        sticky: &Sticky,
        server: Option<Candidate>,
        state: &mut ServerCookie,
    ) -> bool {
        let mut prev = 0;
        let mut first = true;
        while prev < v.len() {
            let end = v.len();
            let mut attr = Attr::after(v, prev, first, cookie2);
            first = false;
            // Set-Cookie: only the first NAME=VALUE counts (Expires dates
            // hold commas); Set-Cookie2: go on after the next comma.
            if attr.next < end {
                attr.next = if cookie2 {
                    cookie_value_end(v, attr.next, end, false)
                } else {
                    end
                };
            }
            if attr.equal == attr.val_end {
                prev = attr.next;
                continue;
            }
            attr.tighten(v);
            let Attr {
                att_beg,
                att_end,
                val_beg,
                val_end,
                mut next,
                ..
            } = attr;
            if !sticky.ignore && &v[att_beg..att_end] == self.name.as_bytes() {
                *state = ServerCookie::Found;
                let srv_cookie = server.and_then(|s| s.cookie);
                if self.preserve {
                    // The application owns the cookie: leave it alone.
                } else if (server.is_some() && self.mode == Mode::Insert)
                    || (sticky.direct && self.indirect)
                {
                    // We insert our own (insert), or the client already
                    // has a valid one (indirect): the server's goes.
                    if prev == 0 && next == v.len() {
                        *state = ServerCookie::Deleted;
                        return false;
                    }
                    del_hdr_value(v, &mut prev, next);
                    next = prev;
                    *state = ServerCookie::Deleted;
                } else if let (Some(sc), Mode::Rewrite) = (srv_cookie, self.mode) {
                    v.splice(val_beg..val_end, sc.bytes());
                    next = next + sc.len() - (val_end - val_beg);
                    *state = ServerCookie::Replaced;
                } else if let (Some(sc), Mode::Prefix) = (srv_cookie, self.mode) {
                    let mut ins = sc.as_bytes().to_vec();
                    ins.push(b'~');
                    next += ins.len();
                    v.splice(val_beg..val_beg, ins);
                    *state = ServerCookie::Replaced;
                }
            }
            prev = next;
        }
        true
    }
}

/// HAProxy's cacheability verdict for a response (2.6.12: the 2.6.0 code
/// plus the backported "no freshness and no validator ⇒ not cacheable").
/// Only `nocache` uses it: `cache-control: private` goes with our cookie
/// only on a response a shared cache could otherwise store.
fn response_cacheable(res: &Message, status: u16, safe_method: bool) -> bool {
    let mut cacheable = safe_method
        && matches!(
            status,
            200 | 203 | 204 | 206 | 300 | 301 | 404 | 405 | 410 | 414 | 501
        );
    if res
        .values("pragma")
        .next()
        .is_some_and(|p| p.eq_ignore_ascii_case(b"no-cache"))
    {
        return false;
    }
    let mut fresh = false;
    for line in res.values("cache-control") {
        for item in comma_items(line) {
            let starts =
                |p: &[u8]| item.len() >= p.len() && item[..p.len()].eq_ignore_ascii_case(p);
            if item.eq_ignore_ascii_case(b"public") {
                cacheable = true;
            } else if [
                &b"private"[..],
                b"no-cache",
                b"no-store",
                b"max-age=0",
                b"s-maxage=0",
            ]
            .iter()
            .any(|w| item.eq_ignore_ascii_case(w))
            {
                cacheable = false;
            } else if starts(b"no-cache=\"set-cookie") {
                // Only the cookie is uncacheable (TX_CACHE_COOK), which
                // does not stop the `private` insertion.
            } else if starts(b"s-maxage") || starts(b"max-age") {
                fresh = true;
            }
        }
    }
    fresh = fresh || res.has("expires");
    let validator = res.has("etag") || res.has("last-modified");
    cacheable && (fresh || validator)
}

/// Comma-separated values of a header line, outer blanks trimmed, commas
/// inside quotes kept (HAProxy's http_find_header with full=0).
fn comma_items(line: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut pos = 0;
    std::iter::from_fn(move || {
        if pos > line.len() {
            return None;
        }
        let end = cookie_value_end(line, pos, line.len(), false);
        let item = trim(&line[pos..end]);
        pos = end + 1;
        Some(item)
    })
    .filter(|i| !i.is_empty())
}

fn trim(mut s: &[u8]) -> &[u8] {
    while let [f, rest @ ..] = s {
        if !sp(*f) {
            break;
        }
        s = rest;
    }
    while let [rest @ .., l] = s {
        if !sp(*l) {
            break;
        }
        s = rest;
    }
    s
}

fn sp(c: u8) -> bool {
    c == b' ' || c == b'\t'
}

fn shift(pos: usize, delta: isize) -> usize {
    pos.wrapping_add_signed(delta)
}

/// One `name[=value]` of a `Cookie` or `Set-Cookie` header, as positions
/// in it: the one cookie scanner, which both sides of persistence use.
///
/// HAProxy 2.6's rules (http_extract_cookie_value, and the loops of
/// http_manage_client_side_cookies and http_manage_server_side_cookies):
/// blanks before the name are skipped; the name runs to `=`, `;` or, in a
/// list (`Cookie`, `Set-Cookie2`), `,`, its trailing blanks excluded; the
/// value starts after the blanks that follow `=` and runs to the first `;`
/// or `,` outside double quotes (a backslash escapes inside them), its
/// trailing blanks excluded. Without `=`, the value is empty and the next
/// delimiter is where the name stopped.
struct Attr {
    /// Where the name starts, blanks skipped.
    att_beg: usize,
    /// Just past the name (blanks before `=` not included).
    att_end: usize,
    /// The `=`, or where the name stopped.
    equal: usize,
    val_beg: usize,
    val_end: usize,
    /// Where the next attribute's delimiter is.
    next: usize,
}

impl Attr {
    /// The attribute after the delimiter at `prev`; the line's `first` has
    /// none before it and starts at `prev` itself. `list`: a comma ends a
    /// name too.
    fn after(v: &[u8], prev: usize, first: bool, list: bool) -> Attr {
        let end = v.len();
        let mut att_beg = prev + usize::from(!first);
        while att_beg < end && sp(v[att_beg]) {
            att_beg += 1;
        }
        let (mut equal, mut att_end) = (att_beg, att_beg);
        while equal < end {
            let c = v[equal];
            if c == b'=' || c == b';' || (list && c == b',') {
                break;
            }
            equal += 1;
            if !sp(c) {
                att_end = equal;
            }
        }
        if equal < end && v[equal] == b'=' {
            let mut val_beg = equal + 1;
            while val_beg < end && sp(v[val_beg]) {
                val_beg += 1;
            }
            let next = cookie_value_end(v, val_beg, end, true);
            let mut val_end = next;
            while val_end > val_beg && sp(v[val_end - 1]) {
                val_end -= 1;
            }
            Attr {
                att_beg,
                att_end,
                equal,
                val_beg,
                val_end,
                next,
            }
        } else {
            Attr {
                att_beg,
                att_end,
                equal,
                val_beg: equal,
                val_end: equal,
                next: equal,
            }
        }
    }

    /// Removes the blanks around its `=` from `v`, for good, and moves
    /// the positions after them back (both sides do so before looking at
    /// the name, as HAProxy does).
    fn tighten(&mut self, v: &mut Vec<u8>) {
        if self.att_end == self.equal && self.val_beg == self.equal + 1 {
            return;
        }
        let before = self.equal - self.att_end;
        v.drain(self.att_end..self.equal);
        self.equal = self.att_end;
        self.val_beg -= before;
        let after = self.val_beg - (self.equal + 1);
        v.drain(self.equal + 1..self.val_beg);
        self.val_beg = self.equal + 1;
        self.val_end -= before + after;
        self.next -= before + after;
    }
}

/// End of a value starting at `s`, skipping quoted strings: the first
/// unquoted `,` or `;` (cookie values, `semi`) or `,` alone (header lists).
fn cookie_value_end(v: &[u8], s: usize, e: usize, semi: bool) -> usize {
    let (mut quoted, mut pair) = (false, false);
    for (i, &c) in v.iter().enumerate().take(e).skip(s) {
        if pair {
            pair = false;
        } else if quoted {
            if c == b'\\' {
                pair = true;
            } else if c == b'"' {
                quoted = false;
            }
        } else if c == b'"' {
            quoted = true;
        } else if c == b',' || (semi && c == b';') {
            return i;
        }
    }
    e
}

/// Removes the cookie between `*from` (its leading delimiter, or 0) and
/// `next` (the delimiter after it), keeping one delimiter and one space
/// between the neighbours (HAProxy's http_del_hdr_value). Returns the
/// length change; `*from` moves back over blanks before the delimiter.
fn del_hdr_value(v: &mut Vec<u8>, from: &mut usize, next: usize) -> isize {
    let end = v.len();
    let mut prev = *from;
    let mut next = next;
    if prev == 0 {
        // First value: eat the delimiter after it and the blanks.
        if next < end {
            next += 1;
        }
        while next < end && sp(v[next]) {
            next += 1;
        }
    } else {
        while prev > 0 && sp(v[prev - 1]) {
            prev -= 1;
        }
        *from = prev;
        if next < end {
            v[prev] = v[next];
            prev += 1;
            next += 1;
            if prev + 1 < next {
                v[prev] = b' ';
                prev += 1;
            }
            while next < end && sp(v[next]) {
                next += 1;
            }
        }
    }
    v.drain(prev..next);
    prev as isize - next as isize
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// HAProxy's 30-bit → 5-char base64 (no padding) for cookie dates.
fn s30tob64(v: i32) -> String {
    (0..5)
        .map(|i| B64[((v >> (24 - 6 * i)) & 0x3f) as usize] as char)
        .collect()
}

fn b64tos30(s: &[u8]) -> Option<u32> {
    s.iter().try_fold(0u32, |acc, &c| {
        let d = B64.iter().position(|&b| b == c)? as u32;
        Some((acc << 6) | d)
    })
}

#[cfg(test)]
mod tests {
    //! Every expected value below was observed on haproxy 2.6.12 (raw
    //! Python client and servers, `server s1 ... cookie a1`, `server s2 ...
    //! cookie a2`): the bytes s1/s2 received, the bytes the client received
    //! and the last two letters of `%tsc`.
    use super::super::head::{parse_request, parse_response};
    use super::*;

    const UP: [Candidate; 2] = [
        Candidate {
            cookie: Some("a1"),
            up: true,
        },
        Candidate {
            cookie: Some("a2"),
            up: true,
        },
    ];
    const S2_DOWN: [Candidate; 2] = [
        Candidate {
            cookie: Some("a1"),
            up: true,
        },
        Candidate {
            cookie: Some("a2"),
            up: false,
        },
    ];
    const NOW: u32 = 1_795_598_484;

    fn cfg(line: &str) -> Persistence {
        Persistence::parse(&line.split(' ').collect::<Vec<_>>()).unwrap()
    }

    fn request(method: &str, cookies: &[&str]) -> Message {
        let mut raw = format!("{method} / HTTP/1.1\r\nHost: x\r\n");
        for c in cookies {
            raw += &format!("Cookie: {c}\r\n");
        }
        raw += "\r\n";
        let head = parse_request(raw.as_bytes()).unwrap().unwrap();
        Message::request(&head, raw.as_bytes())
    }

    /// What the server receives and the request's decision.
    fn forward(
        p: &Persistence,
        cookies: &[&str],
        servers: &[Candidate],
        f: RequestFlags,
    ) -> (String, Sticky) {
        let mut m = request("GET", cookies);
        let st = p.on_request(&mut m, servers, f, NOW);
        (String::from_utf8(m.to_bytes()).unwrap(), st)
    }

    fn seen(cookie: Option<&str>) -> String {
        match cookie {
            Some(c) => format!("GET / HTTP/1.1\r\nhost: x\r\ncookie: {c}\r\n\r\n"),
            None => "GET / HTTP/1.1\r\nhost: x\r\n\r\n".into(),
        }
    }

    fn response(status: &str, headers: &str) -> Message {
        let raw = format!("HTTP/1.1 {status}\r\n{headers}Content-Length: 2\r\n\r\n");
        let head = parse_response(raw.as_bytes()).unwrap().unwrap();
        Message::response(&head, raw.as_bytes())
    }

    /// The response head the client receives, and the two letters.
    fn answer(
        p: &Persistence,
        st: &Sticky,
        srv: usize,
        status: &str,
        headers: &str,
    ) -> (String, String) {
        let mut m = response(status, headers);
        let sc = p.on_response(&mut m, st, Some(UP[srv]), NOW);
        let letters = format!("{}{}", st.client.letter(), sc.letter());
        (String::from_utf8(m.to_bytes()).unwrap(), letters)
    }

    fn head(status: &str, lines: &str) -> String {
        format!("HTTP/1.1 {status}\r\n{lines}\r\n")
    }

    #[test]
    fn insert_indirect_strips_our_cookie_wherever_it_is() {
        let p = cfg("SERVERID insert indirect nocache");
        let f = RequestFlags::default();
        for (sent, got) in [
            (&["SERVERID=a2"][..], None),
            (&["a=1; SERVERID=a2; b=2"], Some("a=1; b=2")),
            (&["SERVERID=a2; b=2"], Some("b=2")),
            (&["a=1; SERVERID=a2"], Some("a=1")),
            (
                &["$Version=1; SERVERID=a2; $Path=/; a=1"],
                Some("$Version=1; a=1"),
            ),
            (&["a=1; SERVERID=a2; $Path=/; b=2"], Some("a=1; b=2")),
            (&["a=1 ;  SERVERID = a2 ; b=2"], Some("a=1; b=2")),
            (&["a=1;SERVERID=a2;b=2"], Some("a=1; b=2")),
            (&["a, SERVERID=a2"], Some("a")),
            (&["noeq; SERVERID=a2; b=2"], Some("noeq; b=2")),
        ] {
            let (fwd, st) = forward(&p, sent, &UP, f);
            assert_eq!(fwd, seen(got), "{sent:?}");
            assert_eq!(
                (st.server, st.direct, st.client),
                (Some(1), true, ClientCookie::Valid)
            );
            // A valid cookie: nothing inserted (`--VN`).
            let (res, letters) = answer(&p, &st, 1, "200 OK", "");
            assert_eq!(res, head("200 OK", "content-length: 2\r\n"));
            assert_eq!(letters, "VN");
        }
        // Two cookie headers: only the one holding ours goes.
        let (fwd, _) = forward(&p, &["a=1", "SERVERID=a2"], &UP, f);
        assert_eq!(fwd, "GET / HTTP/1.1\r\nhost: x\r\ncookie: a=1\r\n\r\n");
        // Case matters in the name: not ours, forwarded, balanced (`NI`).
        let (fwd, st) = forward(&p, &["serverid=a2"], &UP, f);
        assert_eq!(fwd, seen(Some("serverid=a2")));
        assert_eq!((st.server, st.client), (None, ClientCookie::None));
    }

    #[test]
    fn first_designating_cookie_wins() {
        let p = cfg("SERVERID insert indirect nocache");
        let f = RequestFlags::default();
        for (sent, srv) in [
            ("SERVERID=a1; SERVERID=a2", 0),
            ("SERVERID=a2; SERVERID=a1", 1),
            ("SERVERID=zz; SERVERID=a1", 0),
        ] {
            let (fwd, st) = forward(&p, &[sent], &UP, f);
            assert_eq!(fwd, seen(None));
            assert_eq!(
                (st.server, st.client),
                (Some(srv), ClientCookie::Valid),
                "{sent}"
            );
        }
        // s2 in maintenance: the next cookie designates s1 (`--VN`).
        let (_, st) = forward(&p, &["SERVERID=a2; SERVERID=a1"], &S2_DOWN, f);
        assert_eq!((st.server, st.client), (Some(0), ClientCookie::Valid));
    }

    #[test]
    fn no_invalid_or_empty_cookie_is_balanced_and_gets_one() {
        let p = cfg("SERVERID insert indirect nocache");
        let f = RequestFlags::default();
        let (fwd, st) = forward(&p, &[], &UP, f);
        assert_eq!(fwd, seen(None));
        assert_eq!((st.server, st.direct), (None, false));
        let (res, letters) = answer(&p, &st, 0, "200 OK", "");
        assert_eq!(
            res,
            head(
                "200 OK",
                "content-length: 2\r\nset-cookie: SERVERID=a1; path=/\r\n"
            )
        );
        assert_eq!(letters, "NI");
        for bad in ["SERVERID=zz", "SERVERID="] {
            let (fwd, st) = forward(&p, &[bad], &UP, f);
            assert_eq!(fwd, seen(None));
            assert_eq!((st.server, st.client), (None, ClientCookie::Invalid));
            let (res, letters) = answer(&p, &st, 1, "200 OK", "");
            assert_eq!(
                res,
                head(
                    "200 OK",
                    "content-length: 2\r\nset-cookie: SERVERID=a2; path=/\r\n"
                )
            );
            assert_eq!(letters, "II");
        }
    }

    #[test]
    fn insert_deletes_the_servers_own_cookie() {
        let p = cfg("SERVERID insert indirect nocache");
        let (_, st) = forward(&p, &["SERVERID=a2"], &UP, RequestFlags::default());
        let (res, letters) = answer(&p, &st, 1, "200 OK", "Set-Cookie: SERVERID=xyz; path=/\r\n");
        assert_eq!(res, head("200 OK", "content-length: 2\r\n"));
        assert_eq!(letters, "VD");
        let (_, st) = forward(&p, &[], &UP, RequestFlags::default());
        let (res, letters) = answer(
            &p,
            &st,
            1,
            "200 OK",
            "Set-Cookie: SERVERID=xyz; path=/\r\nSet-Cookie: o=1\r\n",
        );
        assert_eq!(
            res,
            head(
                "200 OK",
                "set-cookie: o=1\r\ncontent-length: 2\r\nset-cookie: SERVERID=a2; path=/\r\n"
            )
        );
        assert_eq!(letters, "NI");
    }

    #[test]
    fn insert_without_indirect_forwards_the_cookie() {
        let p = cfg("SERVERID insert");
        let (fwd, st) = forward(&p, &["a=1; SERVERID=a2"], &UP, RequestFlags::default());
        assert_eq!(fwd, seen(Some("a=1; SERVERID=a2")));
        assert_eq!(
            answer(&p, &st, 1, "200 OK", "Set-Cookie: SERVERID=xyz; path=/\r\n").1,
            "VD"
        );
        let (fwd, st) = forward(&p, &["SERVERID=zz"], &UP, RequestFlags::default());
        assert_eq!(fwd, seen(Some("SERVERID=zz")));
        assert_eq!(answer(&p, &st, 1, "200 OK", "").1, "II");
    }

    #[test]
    fn inserted_cookie_attributes_order() {
        let p = cfg("SERVERID insert indirect nocache httponly secure domain .x.com domain .y.com attr SameSite=Lax attr Max-Age=60");
        let (_, st) = forward(&p, &[], &UP, RequestFlags::default());
        let (res, _) = answer(&p, &st, 0, "200 OK", "");
        assert_eq!(res, head("200 OK", "content-length: 2\r\nset-cookie: SERVERID=a1; path=/; domain=.x.com; domain=.y.com; HttpOnly; Secure; SameSite=Lax; Max-Age=60\r\n"));
        let p = cfg("SERVERID insert indirect nocache domain .x.com");
        let mut m = response("200 OK", "");
        let sc = p.on_response(
            &mut m,
            &st,
            Some(Candidate {
                cookie: None,
                up: true,
            }),
            NOW,
        );
        assert_eq!(
            String::from_utf8(m.to_bytes()).unwrap(),
            head("200 OK", "content-length: 2\r\nset-cookie: SERVERID=; Expires=Thu, 01-Jan-1970 00:00:01 GMT; path=/; domain=.x.com\r\n")
        );
        assert_eq!(sc, ServerCookie::Inserted);
    }

    #[test]
    fn nocache_adds_private_only_to_cacheable_responses() {
        let p = cfg("SERVERID insert indirect nocache");
        let private = "set-cookie: SERVERID=a1; path=/\r\ncache-control: private\r\n";
        let plain = "set-cookie: SERVERID=a1; path=/\r\n";
        for (method, status, hdrs, add) in [
            ("GET", "200 OK", "", false),
            (
                "GET",
                "200 OK",
                "Cache-Control: public\r\nVary: Accept\r\n",
                false,
            ),
            ("GET", "200 OK", "Cache-Control: max-age=60\r\n", true),
            (
                "GET",
                "200 OK",
                "Expires: Thu, 01 Jan 2037 00:00:00 GMT\r\n",
                true,
            ),
            ("GET", "200 OK", "ETag: \"x\"\r\n", true),
            (
                "GET",
                "200 OK",
                "Last-Modified: Thu, 01 Jan 2015 00:00:00 GMT\r\n",
                true,
            ),
            (
                "GET",
                "200 OK",
                "Cache-Control: max-age=60\r\nCache-Control: private\r\n",
                false,
            ),
            (
                "GET",
                "200 OK",
                "Cache-Control: max-age=60, Private\r\n",
                false,
            ),
            ("GET", "200 OK", "Cache-Control: max-age=0\r\n", false),
            (
                "GET",
                "200 OK",
                "Cache-Control: max-age=0, s-maxage=10\r\n",
                false,
            ),
            (
                "GET",
                "200 OK",
                "Cache-Control: no-cache=\"set-cookie\", max-age=60\r\n",
                true,
            ),
            (
                "GET",
                "200 OK",
                "Cache-Control: private=\"x\", max-age=60\r\n",
                true,
            ),
            (
                "GET",
                "200 OK",
                "Cache-Control: public\r\nETag: \"x\"\r\n",
                true,
            ),
            (
                "GET",
                "200 OK",
                "Pragma: no-cache\r\nETag: \"x\"\r\n",
                false,
            ),
            ("GET", "200 OK", "Vary: *\r\nETag: \"x\"\r\n", true),
            ("GET", "302 Found", "ETag: \"x\"\r\n", false),
            ("GET", "404 Not Found", "ETag: \"x\"\r\n", true),
            ("POST", "200 OK", "ETag: \"x\"\r\n", false),
            ("HEAD", "200 OK", "ETag: \"x\"\r\n", true),
            ("OPTIONS", "200 OK", "ETag: \"x\"\r\n", true),
            ("DELETE", "200 OK", "ETag: \"x\"\r\n", false),
            (
                "GET",
                "200 OK",
                "Cache-Control: s-maxage=0\r\nETag: \"x\"\r\n",
                false,
            ),
            (
                "GET",
                "200 OK",
                "Cache-Control: no-store\r\nETag: \"x\"\r\n",
                false,
            ),
        ] {
            let mut m = request(method, &[]);
            let st = p.on_request(&mut m, &UP, RequestFlags::default(), NOW);
            let (res, letters) = answer(&p, &st, 0, status, hdrs);
            let lower: String = hdrs
                .split("\r\n")
                .filter(|l| !l.is_empty())
                .map(|l| {
                    let (n, v) = l.split_once(": ").unwrap();
                    format!("{}: {v}\r\n", n.to_ascii_lowercase())
                })
                .collect();
            let tail = if add { private } else { plain };
            assert_eq!(
                res,
                head(status, &format!("{lower}content-length: 2\r\n{tail}")),
                "{method} {status} {hdrs}"
            );
            assert_eq!(letters, "NI");
        }
        // Without nocache, never.
        let p = cfg("SERVERID insert");
        let (_, st) = forward(&p, &[], &UP, RequestFlags::default());
        let (res, _) = answer(&p, &st, 0, "200 OK", "ETag: \"x\"\r\n");
        assert_eq!(
            res,
            head(
                "200 OK",
                &format!("etag: \"x\"\r\ncontent-length: 2\r\n{plain}")
            )
        );
    }

    #[test]
    fn preserve_and_postonly() {
        let p = cfg("SERVERID insert indirect preserve");
        let (_, st) = forward(&p, &[], &UP, RequestFlags::default());
        let (res, letters) = answer(&p, &st, 0, "200 OK", "Set-Cookie: SERVERID=own; path=/\r\n");
        assert_eq!(
            res,
            head(
                "200 OK",
                "set-cookie: SERVERID=own; path=/\r\ncontent-length: 2\r\n"
            )
        );
        assert_eq!(letters, "NP");
        let (fwd, st) = forward(&p, &["SERVERID=a2"], &UP, RequestFlags::default());
        assert_eq!(fwd, seen(None));
        assert_eq!(
            answer(&p, &st, 1, "200 OK", "Set-Cookie: SERVERID=own\r\n").1,
            "VP"
        );
        let (_, st) = forward(&p, &[], &UP, RequestFlags::default());
        assert_eq!(answer(&p, &st, 1, "200 OK", "").1, "NI");

        let p = cfg("SERVERID insert postonly");
        let (_, st) = forward(&p, &[], &UP, RequestFlags::default());
        let (res, letters) = answer(&p, &st, 0, "200 OK", "");
        assert_eq!(
            (res, letters.as_str()),
            (head("200 OK", "content-length: 2\r\n"), "NN")
        );
        let mut m = request("POST", &[]);
        let st = p.on_request(&mut m, &UP, RequestFlags::default(), NOW);
        assert_eq!(answer(&p, &st, 1, "200 OK", "").1, "NI");
    }

    #[test]
    fn rewrite_replaces_the_servers_value() {
        let p = cfg("JSESSIONID rewrite");
        let (fwd, st) = forward(&p, &[], &UP, RequestFlags::default());
        assert_eq!(fwd, seen(None));
        let (res, letters) = answer(
            &p,
            &st,
            0,
            "200 OK",
            "Set-Cookie: JSESSIONID=abc; path=/\r\n",
        );
        assert_eq!(
            res,
            head(
                "200 OK",
                "set-cookie: JSESSIONID=a1; path=/\r\ncontent-length: 2\r\n"
            )
        );
        assert_eq!(letters, "NR");
        // The request cookie is forwarded as is.
        let (fwd, st) = forward(
            &p,
            &["x=1; JSESSIONID=a2; y=2"],
            &UP,
            RequestFlags::default(),
        );
        assert_eq!(fwd, seen(Some("x=1; JSESSIONID=a2; y=2")));
        assert_eq!(st.server, Some(1));
        assert_eq!(answer(&p, &st, 1, "200 OK", "").1, "VN");
        let (res, letters) = answer(
            &p,
            &st,
            1,
            "200 OK",
            "Set-Cookie: JSESSIONID=abc; Path=/; HttpOnly\r\n",
        );
        assert_eq!(
            res,
            head(
                "200 OK",
                "set-cookie: JSESSIONID=a2; Path=/; HttpOnly\r\ncontent-length: 2\r\n"
            )
        );
        assert_eq!(letters, "VR");
        // Spaces around `=` go, the one before `;` stays.
        let (_, st) = forward(&p, &[], &UP, RequestFlags::default());
        let (res, _) = answer(
            &p,
            &st,
            0,
            "200 OK",
            "Set-Cookie: other=1\r\nSet-Cookie: JSESSIONID = abc ; path=/\r\n",
        );
        assert_eq!(res, head("200 OK", "set-cookie: other=1\r\nset-cookie: JSESSIONID=a1 ; path=/\r\ncontent-length: 2\r\n"));
        // A date-looking suffix still designates the server.
        let (fwd, st) = forward(&p, &["SERVERID=a2|AAAAB"], &UP, RequestFlags::default());
        assert_eq!((fwd, st.server), (seen(Some("SERVERID=a2|AAAAB")), None));
        let p = cfg("SERVERID rewrite");
        let (_, st) = forward(&p, &["SERVERID=a2|AAAAB"], &UP, RequestFlags::default());
        assert_eq!((st.server, st.client), (Some(1), ClientCookie::Valid));
    }

    #[test]
    fn prefix_strips_and_adds_the_server_prefix() {
        let p = cfg("JSESSIONID prefix");
        let f = RequestFlags::default();
        let (_, st) = forward(&p, &[], &UP, f);
        let (res, letters) = answer(
            &p,
            &st,
            0,
            "200 OK",
            "Set-Cookie: JSESSIONID=abc; Path=/\r\n",
        );
        assert_eq!(
            res,
            head(
                "200 OK",
                "set-cookie: JSESSIONID=a1~abc; Path=/\r\ncontent-length: 2\r\n"
            )
        );
        assert_eq!(letters, "NR");
        let (fwd, st) = forward(&p, &["x=1; JSESSIONID=a2~abc; y=2"], &UP, f);
        assert_eq!(fwd, seen(Some("x=1; JSESSIONID=abc; y=2")));
        assert_eq!((st.server, st.client), (Some(1), ClientCookie::Valid));
        let (fwd, st) = forward(&p, &["JSESSIONID=abc"], &UP, f);
        assert_eq!(
            (fwd, st.client),
            (seen(Some("JSESSIONID=abc")), ClientCookie::Invalid)
        );
        let (fwd, st) = forward(&p, &["JSESSIONID=zz~abc"], &UP, f);
        assert_eq!(
            (fwd, st.client),
            (seen(Some("JSESSIONID=abc")), ClientCookie::Invalid)
        );
        let (fwd, st) = forward(&p, &["JSESSIONID=a2~"], &UP, f);
        assert_eq!(
            (fwd, st.client),
            (seen(Some("JSESSIONID=")), ClientCookie::Valid)
        );
        let (fwd, st) = forward(&p, &["JSESSIONID=a2~abc"], &UP, f);
        assert_eq!(fwd, seen(Some("JSESSIONID=abc")));
        let (res, letters) = answer(&p, &st, 1, "200 OK", "Set-Cookie: JSESSIONID=def\r\n");
        assert_eq!(
            res,
            head(
                "200 OK",
                "set-cookie: JSESSIONID=a2~def\r\ncontent-length: 2\r\n"
            )
        );
        assert_eq!(letters, "VR");
        // prefix indirect: a client with a valid cookie keeps it, the
        // server's new one is dropped.
        let p = cfg("JSESSIONID prefix indirect");
        let (fwd, st) = forward(&p, &["JSESSIONID=a2~abc"], &UP, f);
        assert_eq!(fwd, seen(Some("JSESSIONID=abc")));
        let (res, letters) = answer(&p, &st, 1, "200 OK", "Set-Cookie: JSESSIONID=def\r\n");
        assert_eq!(
            (res, letters.as_str()),
            (head("200 OK", "content-length: 2\r\n"), "VD")
        );
        let (_, st) = forward(&p, &[], &UP, f);
        assert_eq!(
            answer(&p, &st, 0, "200 OK", "Set-Cookie: JSESSIONID=def\r\n").1,
            "NR"
        );
    }

    #[test]
    fn passive_and_indirect_only() {
        let p = cfg("SERVERID");
        assert!(!p.logged());
        let (fwd, st) = forward(&p, &["SERVERID=a2"], &UP, RequestFlags::default());
        assert_eq!((fwd, st.server), (seen(Some("SERVERID=a2")), Some(1)));
        let (res, _) = answer(&p, &st, 1, "200 OK", "Set-Cookie: SERVERID=zz\r\n");
        assert_eq!(
            res,
            head("200 OK", "set-cookie: SERVERID=zz\r\ncontent-length: 2\r\n")
        );

        let p = cfg("SERVERID indirect");
        assert!(p.logged());
        let (fwd, st) = forward(&p, &["a=1; SERVERID=a2"], &UP, RequestFlags::default());
        assert_eq!(fwd, seen(Some("a=1; SERVERID=a2")));
        let (res, letters) = answer(&p, &st, 1, "200 OK", "Set-Cookie: SERVERID=zz\r\n");
        assert_eq!(
            (res, letters.as_str()),
            (head("200 OK", "content-length: 2\r\n"), "VD")
        );
        let (_, st) = forward(&p, &[], &UP, RequestFlags::default());
        let (res, letters) = answer(&p, &st, 0, "200 OK", "Set-Cookie: SERVERID=zz\r\n");
        assert_eq!(
            (res, letters.as_str()),
            (
                head("200 OK", "set-cookie: SERVERID=zz\r\ncontent-length: 2\r\n"),
                "NP"
            )
        );
    }

    #[test]
    fn down_server_cookie() {
        // `disabled` s2, with or without `option redispatch`: balanced to
        // s1, cookie stripped, new one inserted (`--DI`).
        let p = cfg("SERVERID insert indirect nocache");
        let (fwd, st) = forward(
            &p,
            &["a=1; SERVERID=a2; b=2"],
            &S2_DOWN,
            RequestFlags::default(),
        );
        assert_eq!(fwd, seen(Some("a=1; b=2")));
        assert_eq!(
            (st.server, st.direct, st.client),
            (None, false, ClientCookie::Down)
        );
        let (res, letters) = answer(&p, &st, 0, "200 OK", "");
        assert_eq!(
            res,
            head(
                "200 OK",
                "content-length: 2\r\nset-cookie: SERVERID=a1; path=/\r\n"
            )
        );
        assert_eq!(letters, "DI");
        // `option persist`: sent to the down server anyway (`--DN`).
        let f = RequestFlags {
            persist: true,
            ..RequestFlags::default()
        };
        let (fwd, st) = forward(&p, &["SERVERID=a2"], &S2_DOWN, f);
        assert_eq!(
            (fwd, st.server, st.client),
            (seen(None), Some(1), ClientCookie::Down)
        );
        assert_eq!(answer(&p, &st, 1, "200 OK", "").1, "DN");
        // Up but unreachable, `option redispatch`: served by s1, `--DI`.
        let (_, mut st) = forward(&p, &["SERVERID=a2"], &UP, RequestFlags::default());
        st.redispatched(Some(0));
        let (res, letters) = answer(&p, &st, 0, "200 OK", "");
        assert_eq!(
            res,
            head(
                "200 OK",
                "content-length: 2\r\nset-cookie: SERVERID=a1; path=/\r\n"
            )
        );
        assert_eq!(letters, "DI");
    }

    #[test]
    fn ignored_or_already_assigned() {
        // From the source (use-server sets SF_ASSIGNED first), not observed.
        let p = cfg("SERVERID insert indirect");
        let f = RequestFlags {
            assigned: true,
            ..RequestFlags::default()
        };
        let (fwd, st) = forward(&p, &["SERVERID=a2"], &UP, f);
        assert_eq!(
            (fwd, st.server, st.client),
            (seen(None), None, ClientCookie::Unused)
        );
    }

    #[test]
    fn maxidle_maxlife_dates() {
        // now = 1795598484 → (now+3)>>2 encodes as `awaol`.
        assert_eq!(s30tob64(((NOW + 3) >> 2) as i32), "awaol");
        let p = cfg("SERVERID insert indirect maxidle 30m maxlife 1h");
        let f = RequestFlags::default();
        let (_, st) = forward(&p, &[], &UP, f);
        let (res, letters) = answer(&p, &st, 0, "200 OK", "");
        assert_eq!(
            res,
            head(
                "200 OK",
                "content-length: 2\r\nset-cookie: SERVERID=a1|awaol|awaol; path=/\r\n"
            )
        );
        assert_eq!(letters, "NI");
        // Valid, last-seen refreshed, first-seen kept (`--VU`).
        let (fwd, st) = forward(&p, &["SERVERID=a2|awamP|awaj5"], &UP, f);
        assert_eq!((fwd, st.server), (seen(None), Some(1)));
        let (res, letters) = answer(&p, &st, 1, "200 OK", "");
        assert_eq!(
            res,
            head(
                "200 OK",
                "content-length: 2\r\nset-cookie: SERVERID=a2|awaol|awaj5; path=/\r\n"
            )
        );
        assert_eq!(letters, "VU");
        // Idle too long, first-seen too old, date a day ahead.
        for (c, state) in [
            ("SERVERID=a2|AAAAB", ClientCookie::Expired),
            ("SERVERID=a2|awaol|AAAAB", ClientCookie::Old),
            ("SERVERID=a2|awm11", ClientCookie::Expired),
            ("a=1; SERVERID=a2|AAAAB; b=2", ClientCookie::Expired),
        ] {
            let (_, st) = forward(&p, &[c], &UP, f);
            assert_eq!((st.server, st.client), (None, state), "{c}");
            let (res, letters) = answer(&p, &st, 0, "200 OK", "");
            assert_eq!(
                res,
                head(
                    "200 OK",
                    "content-length: 2\r\nset-cookie: SERVERID=a1|awaol|awaol; path=/\r\n"
                )
            );
            assert_eq!(&letters[1..], "I");
        }
        // No (usable) date: valid, and updated.
        for c in ["SERVERID=a2|xx", "SERVERID=a2"] {
            let (_, st) = forward(&p, &[c], &UP, f);
            assert_eq!(answer(&p, &st, 1, "200 OK", "").1, "VU");
        }
        let p = cfg("SERVERID insert indirect maxidle 30m");
        let (_, st) = forward(&p, &["SERVERID=a2|awamP|awaj5"], &UP, f);
        let (res, _) = answer(&p, &st, 1, "200 OK", "");
        assert_eq!(
            res,
            head(
                "200 OK",
                "content-length: 2\r\nset-cookie: SERVERID=a2|awaol; path=/\r\n"
            )
        );
        // Dates without maxidle/maxlife: a past date is rewritten away.
        let p = cfg("SERVERID insert indirect");
        let (_, st) = forward(&p, &["SERVERID=a2|AAAAB"], &UP, f);
        let (res, letters) = answer(&p, &st, 1, "200 OK", "");
        assert_eq!(
            res,
            head(
                "200 OK",
                "content-length: 2\r\nset-cookie: SERVERID=a2; path=/\r\n"
            )
        );
        assert_eq!(letters, "VU");
        let future = format!("SERVERID=a2|{}", s30tob64(((NOW + 100) >> 2) as i32));
        let (_, st) = forward(&p, &[&future], &UP, f);
        assert_eq!(answer(&p, &st, 1, "200 OK", "").1, "VN");
    }

    #[test]
    fn parse_errors() {
        assert!(Persistence::parse(&[]).is_err());
        assert!(Persistence::parse(&["X", "rewrite", "indirect"]).is_err());
        assert!(Persistence::parse(&["X", "insert", "prefix"]).is_err());
        assert!(Persistence::parse(&["X", "preserve"]).is_err());
        assert!(Persistence::parse(&["X", "bogus"]).is_err());
        let p = cfg("X insert maxidle 30m maxlife 1h");
        assert_eq!((p.maxidle, p.maxlife), (1800, 3600));
    }
}
