//! A `mode http` connection, read top to bottom: requests one after
//! another on the client connection; for each, the head is read and
//! checked, the frontend's rules decide (deny, redirect, which backend),
//! a server connection is made or reused, the request and its response
//! cross with their bodies streamed, and one log line is written.
//!
//! Every reply the proxy writes itself goes through [`Txn::reply`], so its
//! connection header and the decision to close stay HAProxy's.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use tokio::io::AsyncWriteExt;
use tokio::time::Instant;

use super::applet::{Answer, Form};
use super::pump::{self, Early, End, Side};
use super::sessions::Entry;
use super::{Frontend, Process};
use crate::acl::Acls;
use crate::backend::{Backend, Idle};
use crate::config::{self, Timeouts};
use crate::counters::meter::Metered;
use crate::counters::{Sample, Traffic};
use crate::http::body::{self, Framing};
use crate::http::chunked::ChunkedDecoder;
use crate::http::client_side::{Arrival, ClientSide};
use crate::http::connection;
use crate::http::cookie::{RequestFlags, ServerCookie, Sticky};
use crate::http::errors::builtin;
use crate::http::forward::{forward_body, now_or_never, timed, ForwardError, Moved, Transfer};
use crate::http::head::{Head, TUNE_BUFSIZE, TUNE_MAXREWRITE};
use crate::http::message::Message;
use crate::http::policy::{self, Policy};
use crate::http::reply::Reply;
use crate::http::server_side::{read_response, Response, ResponseError};
use crate::layers;
use crate::log::httplog;
use crate::log::render::Fields;
use crate::log::syslog::Level;
use crate::log::tcplog::{connect_line, Cause, Phase};
use crate::net::{Accepted, BoxStream};
use crate::rules::{self, Verdict};
use crate::server::observe::Event;
use crate::server::{ServerState, Slot};
use crate::stream::{Counts, Record, Termination};

/// Idle server connections a client connection keeps for its next
/// requests (HAProxy keeps a session's few in its own list).
/// At a soft stop, a keep-alive connection that answered less than this
/// ago is treated as busy, not idle: its next request, which an active
/// client sends at once, is awaited and answered with `connection: close`
/// rather than raced by a close (HAProxy closes it; a client that sent in
/// that instant then sees its request lost).
const JUST_ANSWERED: Duration = Duration::from_millis(100);

const MAX_IDLE_PER_CLIENT: usize = 5;

/// What an HTTP frontend's streams need beyond a TCP one's.
pub struct HttpFrontend {
    /// The frontend's configuration: its rules (`http-request`,
    /// `redirect`, `use_backend`, `default_backend`).
    pub rules: config::Proxy,
    pub acls: Arc<Acls>,
    /// Every backend a rule may name.
    pub backends: BTreeMap<String, Arc<Backend>>,
    /// Where requests go when no rule chose: the `default_backend`, or a
    /// listen section's own servers.
    pub default: Option<Arc<Backend>>,
    pub policy: Policy,
}

/// One client connection's state between requests.
struct Conn<'a> {
    frontend: &'a Frontend,
    http: &'a HttpFrontend,
    process: &'a Process,
    /// Its line in `show sess`.
    session: &'a Entry,
    peer: Option<SocketAddr>,
    local: Option<SocketAddr>,
    client: ClientSide,
    /// Server connections kept from earlier requests, oldest first.
    idle: Vec<Idle>,
    /// The process's soft stop (see [`Conn::wait_for_request`]).
    stopping: tokio::sync::watch::Receiver<bool>,
    /// The client connection's descriptor, where there is one.
    fd: Option<std::os::fd::RawFd>,
}

/// A request whose head the HTTP/1 layer accepted.
struct Request {
    head: Head,
    /// The head as it will leave, edited on the way.
    msg: Message,
    framing: Framing,
    /// The `Connection` header's tokens, taken out of `msg`.
    tokens: connection::Tokens,
    /// The request counts as under way (`h1_open_streams`) until it ends.
    _under_way: crate::counters::meter::Under,
}

/// A request sent and its response head come.
struct Answered {
    server: Metered,
    slot: Slot,
    /// Whether the request went up whole; an error is the server side
    /// failing, or the client gone silent: its connection closes after.
    up: Result<(), ForwardError>,
    response: Response,
    /// The request counts as under way on the server side too.
    _under_way: crate::counters::meter::Under,
}

/// How a request ended, for the connection.
#[derive(PartialEq, Eq)]
enum Next {
    /// Another request may follow on this connection.
    KeepAlive,
    Close,
    /// Closed without a log line (an idle keep-alive connection).
    Silent,
}

/// One request's life, as its log line reports it: the stream's record,
/// and what only HTTP knows.
struct Txn {
    rec: Record,
    first_byte: Option<Instant>,
    head_done: Option<Instant>,
    response_at: Option<Instant>,
    status: i32,
    request_line: Option<Vec<u8>>,
    /// The request's HTTP version.
    version: (u8, u8),
    /// The client connection must close after this request.
    close: bool,
    /// The connection's first request.
    first: bool,
    /// The persistence cookie's decision, and the log's two cookie letters.
    sticky: Option<Sticky>,
    cookie: [char; 2],
    /// The server used, by its place in the backend.
    server_index: Option<usize>,
    /// The balancing hash key of the request (a retry balances again).
    key: Option<u32>,
    /// The applet that answered, as the log names it (`<STATS>`).
    applet: Option<&'static str>,
}

impl Txn {
    fn new(rec: Record) -> Txn {
        Txn {
            rec,
            first_byte: None,
            head_done: None,
            response_at: None,
            status: -1,
            request_line: None,
            version: (1, 1),
            close: false,
            first: true,
            sticky: None,
            cookie: ['-', '-'],
            server_index: None,
            key: None,
            applet: None,
        }
    }
}

pub async fn serve(
    client: Accepted,
    frontend: &Frontend,
    http: &HttpFrontend,
    process: &Process,
    session: &Entry,
) {
    frontend.total_conns.fetch_add(1, Ordering::Relaxed);
    frontend.traffic.session(frontend.limit.in_use() as u64);
    let log = &frontend.log;
    if !log.targets.is_empty() && log.format.is_none() {
        let line = connect_line(client.peer, client.local, &frontend.name, "HTTP");
        process.logger.send(&log.targets, Level::Info, &line).await;
    }
    let mut conn = Conn {
        frontend,
        http,
        process,
        session,
        peer: client.peer,
        local: client.local,
        client: ClientSide::new(Box::new(layers::client(
            client.stream,
            &frontend.traffic.h1,
        ))),
        idle: Vec::new(),
        stopping: process.stopping.clone(),
        fd: client.fd,
    };
    let mut start = (Instant::now(), process.net.wall_clock());
    let mut first = true;
    loop {
        let mut txn = Txn::new(Record::new(start.0, start.1, conn.peer, conn.local));
        txn.first = first;
        let next = conn.exchange(&mut txn, first).await;
        if next == Next::Silent {
            break;
        }
        conn.account(&txn);
        conn.log(&txn).await;
        if next == Next::Close {
            break;
        }
        start = (Instant::now(), process.net.wall_clock());
        first = false;
    }
    let _ = conn.client.stream.shutdown().await;
}

impl Conn<'_> {
    fn timeouts(&self) -> &Timeouts {
        &self.frontend.timeouts
    }

    /// One request and its response, in HAProxy's phases: wait for the
    /// request, the frontend's rules, the backend's, connect, then the
    /// request and response cross ([`Conn::relay`]).
    async fn exchange(&mut self, txn: &mut Txn, first: bool) -> Next {
        let mut req = match self.wait_for_request(txn, first).await {
            Ok(r) => r,
            Err(next) => return next,
        };
        let backend = match self.frontend_rules(txn, &mut req).await {
            Ok(b) => b,
            Err(next) => return next,
        };
        txn.rec.backend = Some(backend.clone());
        let _in_backend = backend.enter();
        let (direct, posted) = match self.backend_rules(txn, &backend, &mut req).await {
            Ok(d) => d,
            Err(next) => return next,
        };
        let (server, slot) = match self.connect(txn, &backend, &req, direct, posted).await {
            Ok(c) => c,
            Err(next) => return next,
        };
        let server_close =
            connection::server_close_for_request(self.http.policy.mode, backend.http.mode);
        if let Some(v) =
            connection::request_value(server_close, req.head.version, req.tokens.upgrade)
        {
            req.msg.add("connection", v);
        }
        self.relay(txn, &backend, req, server, slot, server_close)
            .await
    }

    /// Waits for a request head and checks it as HAProxy's HTTP/1 layer
    /// does; its own refusals (400, 408, 413, 422...) end the request
    /// here. The first request's clock starts at accept; a later one's at
    /// its first byte, after an idle wait bounded by `http-keep-alive`.
    async fn wait_for_request(&mut self, txn: &mut Txn, first: bool) -> Result<Request, Next> {
        let t = *self.timeouts();
        let request_timeout = t.http_request.or(t.client);
        let idle_timeout = if first {
            None
        } else {
            t.http_keep_alive.or(request_timeout)
        };
        // At a soft stop, a connection waiting for its next request closes
        // (HAProxy's mux releases idle front connections); one whose next
        // request has begun to arrive is served, and closed after. A
        // connection that was busy when the stop came, and whose answer
        // had promised keep-alive by then, is not idle: its client may be
        // sending the next request this instant, so that one is awaited
        // and answered with `connection: close` (as `option
        // idle-close-on-response` does for every connection) rather than
        // raced by a close.
        let busy_at_stop = *self.stopping.borrow();
        let mut idle_closes =
            !first && !busy_at_stop && !self.http.rules.options.idle_close_on_response;
        let arrival = loop {
            let read = self.client.read_head(
                txn.rec.start,
                &mut txn.first_byte,
                idle_timeout,
                request_timeout,
            );
            if !idle_closes {
                break read.await;
            }
            tokio::select! {
                biased;
                arrival = read => break arrival,
                Ok(()) = self.stopping.changed() => {
                    // Answered a moment ago: as good as busy, its client
                    // may be sending the next request now (the idle wait
                    // starts when the answer has gone). Otherwise idle:
                    // closed, unless its next request has begun to come.
                    let just_answered = txn.rec.start.elapsed() < JUST_ANSWERED;
                    if !just_answered
                        && self.client.inbuf.is_empty()
                        && self.fd.is_none_or(crate::net::close_if_idle)
                    {
                        return Err(Next::Silent);
                    }
                    // Read on (reads only append); the answer closes.
                    idle_closes = false;
                }
            }
        };
        if matches!(arrival, Arrival::Head(_)) {
            txn.head_done = Some(Instant::now());
        }
        if matches!(arrival, Arrival::Closed | Arrival::Idle) && !first {
            // An idle keep-alive connection ends without a word.
            return Err(Next::Silent);
        }
        let under_way = self.frontend.traffic.h1.stream();
        // HAProxy's own errors from its HTTP/1 layer carry no logged size.
        let head = match arrival {
            Arrival::Head(h) => h,
            Arrival::Closed => {
                txn.rec.end(Cause::ClientAbort, Phase::Request);
                txn.status = 400;
                return Err(Next::Close);
            }
            Arrival::Idle | Arrival::Timeout => {
                txn.rec.end(Cause::ClientTimeout, Phase::Request);
                self.mux_error(txn, 408).await;
                return Err(Next::Close);
            }
            Arrival::Aborted => {
                txn.rec.end(Cause::ClientAbort, Phase::Request);
                self.mux_error(txn, 400).await;
                return Err(Next::Close);
            }
            Arrival::Bad => {
                txn.rec.end(Cause::Proxy, Phase::Request);
                self.mux_error(txn, 400).await;
                return Err(Next::Close);
            }
        };
        let rest = self.client.inbuf.split_off(head.len);
        let raw = std::mem::replace(&mut self.client.inbuf, rest);
        txn.request_line = Some(head.request_line(&raw));
        txn.version = head.version;
        let mut msg = Message::request(&head, &raw);
        // Refused by the HTTP/1 layer once the head is read: the body's
        // framing is in doubt, so the connection closes after the answer.
        let framing = match (body::request(&head, &raw), refused(&msg)) {
            (Err(e), _) => Err(e.request_status()),
            (Ok(_), Some(status)) => Err(status),
            (Ok(f), None) => self.client.body_so_far_parses(f).await,
        };
        let framing = match framing {
            Ok(f) => f,
            Err(status) => {
                txn.request_line = None;
                txn.head_done = None;
                txn.rec.end(Cause::Proxy, Phase::Request);
                self.mux_error(txn, status).await;
                return Err(Next::Close);
            }
        };
        self.frontend.traffic.request();
        msg.normalize_target();
        let tokens = connection::take_tokens(&mut msg);
        // HAProxy counts the request as its HTTP/1 parser left it: lengths
        // normalised, the Connection header turned into flags.
        txn.rec.bytes_in = msg.htx_size();
        txn.close = framing.force_close
            || connection::client_wants_close(head.version, tokens)
            || *self.stopping.borrow();
        if self.http.policy.mode == connection::Mode::Close {
            txn.close = true;
        }
        Ok(Request {
            head,
            msg,
            framing: framing.framing,
            tokens,
            _under_way: under_way,
        })
    }

    /// The frontend's rules decide: an answer of the proxy's own (deny,
    /// return, redirect, a service), or the backend.
    async fn frontend_rules(
        &mut self,
        txn: &mut Txn,
        req: &mut Request,
    ) -> Result<Arc<Backend>, Next> {
        let has_body = req.framing != Framing::None;
        let verdict = rules::decide(
            &self.http.rules,
            &self.http.acls,
            &mut req.msg,
            self.peer,
            self.local,
        );
        let backend = match verdict {
            Verdict::Deny(status) => {
                txn.rec.end(Cause::Proxy, Phase::Request);
                Traffic::add(&self.frontend.traffic.denied_requests, 1);
                Traffic::add(&self.session.socket.traffic.denied_requests, 1);
                return Err(self.reply(txn, None, status, has_body).await);
            }
            Verdict::Return(reply) => {
                txn.rec.end(Cause::Local, Phase::Request);
                return Err(self.send_reply(txn, &reply, has_body).await);
            }
            Verdict::Redirect(r) => {
                txn.rec.end(Cause::Local, Phase::Request);
                Traffic::add(&self.frontend.traffic.intercepted, 1);
                let reply = r.reply();
                return Err(self.send_reply(txn, &reply, has_body).await);
            }
            Verdict::Service(crate::config::Service::PrometheusExporter) => {
                return Err(self.serve_metrics(txn, &req.msg, has_body).await);
            }
            Verdict::Stats => {
                let http = self.http;
                return Err(self
                    .serve_stats(
                        txn,
                        &http.rules.stats,
                        &http.acls,
                        &req.msg,
                        req.framing,
                        true,
                    )
                    .await);
            }
            Verdict::Backend(name) => match name {
                Some(n) => self.http.backends.get(&n).cloned(),
                None => self.http.default.clone(),
            },
        };
        let Some(backend) = backend.filter(|b| !b.disabled) else {
            txn.rec.end(Cause::ServerAbort, Phase::Connect);
            return Err(self.reply(txn, None, 503, has_body).await);
        };
        // A backend's own statistics page, once it is chosen.
        let msg = &req.msg;
        if backend.name != self.frontend.name
            && rules::stats_uri::wants(&backend.stats, &msg.start[0], &msg.start[1])
        {
            txn.rec.backend = Some(backend.clone());
            return Err(self
                .serve_stats(txn, &backend.stats, &backend.acls, msg, req.framing, false)
                .await);
        }
        Ok(backend)
    }

    /// The backend's part before a server is chosen: `option forwardfor`,
    /// the persistence cookie (the server it names, if any), and for
    /// `balance url_param` a POST's body, where the parameter may be.
    async fn backend_rules(
        &mut self,
        txn: &mut Txn,
        backend: &Arc<Backend>,
        req: &mut Request,
    ) -> Result<(Option<usize>, Option<Vec<u8>>), Next> {
        let msg = &mut req.msg;
        policy::forward_for(
            &self.http.policy,
            &backend.http,
            self.peer.map(|p| p.ip()),
            msg,
        );
        if let Some(p) = &backend.persistence {
            let now = unix_secs(self.process.net.wall_clock());
            let sticky = p.on_request(msg, &backend.candidates(), RequestFlags::default(), now);
            if p.logged() {
                txn.cookie = [sticky.client.letter(), ServerCookie::None.letter()];
            }
            txn.sticky = Some(sticky);
        }
        let direct = txn.sticky.as_ref().and_then(|s| s.server);
        // HAProxy's http_wait_for_request_body, with or without
        // `check_post`.
        let posted = if direct.is_none() && msg.start[0] == b"POST" && backend.hash.reads_body() {
            Some(self.wait_for_body(txn, backend, msg, req.framing).await?)
        } else {
            None
        };
        Ok((direct, posted))
    }

    /// The server side: a kept connection reused, or a new one (queue,
    /// retries, redispatch); a failure is the proxy's 503.
    async fn connect(
        &mut self,
        txn: &mut Txn,
        backend: &Arc<Backend>,
        req: &Request,
        direct: Option<usize>,
        posted: Option<Vec<u8>>,
    ) -> Result<(BoxStream, Slot), Next> {
        let port = self.local.map_or(0, |a| a.port());
        // A hash-based algorithm's key, from the request as it goes out.
        let view = rules::View {
            request: &req.msg,
            src: self.peer,
            dst: self.local,
        };
        let key = backend.hash.key_of(&view, posted.as_deref());
        txn.key = key;
        let connected = backend
            .connect_or_reuse(
                &*self.process.net,
                port,
                &mut txn.rec.attempt,
                &mut self.idle,
                direct,
                key,
            )
            .await;
        let (server, slot) = match connected {
            Ok(c) => c,
            Err(e) => {
                let (cause, phase) = e.termination();
                txn.rec.end(cause, phase);
                let has_body = req.framing != Framing::None;
                return Err(self.reply(txn, Some(backend), 503, has_body).await);
            }
        };
        txn.rec.connected(&slot);
        self.session
            .set_target(&backend.name, txn.rec.attempt.server.as_deref());
        txn.server_index = backend
            .servers
            .iter()
            .position(|s| Arc::ptr_eq(s, slot.server()));
        if let Some(sticky) = txn.sticky.as_mut().filter(|s| s.server.is_some()) {
            if sticky.server != txn.server_index {
                // Redispatched: persistence broke, a new cookie is due.
                sticky.redispatched(txn.server_index);
                if txn.cookie[0] != '-' {
                    txn.cookie[0] = sticky.client.letter();
                }
            }
        }
        Ok((server, slot))
    }

    /// Sends the request on, then the response back.
    async fn relay(
        &mut self,
        txn: &mut Txn,
        backend: &Arc<Backend>,
        req: Request,
        server: BoxStream,
        slot: Slot,
        server_close: bool,
    ) -> Next {
        let timeouts = Timeouts {
            client: self.timeouts().client,
            ..backend.timeouts
        };
        let answered = match self
            .wait_for_response(txn, backend, &req, server, slot, &timeouts)
            .await
        {
            Ok(a) => a,
            Err(next) => return next,
        };
        self.forward_response(txn, backend, &req, answered, server_close, &timeouts)
            .await
    }

    /// Sends the request on and waits for the response head. A body goes
    /// up while the response is awaited: a server may answer `100
    /// Continue` first, or answer before the body's end. Without one, the
    /// head goes and the response is read in turn. A failure on either
    /// side ends the request here with HAProxy's answer.
    async fn wait_for_response(
        &mut self,
        txn: &mut Txn,
        backend: &Arc<Backend>,
        req: &Request,
        server: BoxStream,
        slot: Slot,
        timeouts: &Timeouts,
    ) -> Result<Answered, Next> {
        let server = layers::server_use(server, &backend.traffic.h1, !txn.rec.attempt.reused);
        let head_bytes = req.msg.to_bytes();
        let (mut server, slot, written) = match self
            .first_write(txn, backend, server, slot, &head_bytes)
            .await
        {
            Ok(sent) => sent,
            Err(next) => return Err(next),
        };
        let srv = slot.server().clone();
        let under_way = backend.traffic.h1.stream();
        let framing = req.framing;
        let has_body = framing != Framing::None;

        // A body goes up while the response is awaited: a server may
        // answer `100 Continue` first, or answer before the body's end.
        // Without one, the head goes and the response is read in turn.
        let upload = Transfer {
            framing,
            read_timeout: timeouts.client,
            write_timeout: timeouts.server,
        };
        let mut inbuf = std::mem::take(&mut self.client.inbuf);
        let mut sent = Moved::default();
        let (up, down) = if has_body {
            let (mut crd, mut cwr) = tokio::io::split(&mut self.client.stream);
            let (mut srd, mut swr) = tokio::io::split(&mut server);
            sent.wire += written as u64;
            let up = forward_body(
                &mut crd,
                &mut swr,
                upload,
                &mut inbuf,
                &head_bytes[written..],
                &mut sent,
            );
            let down = read_response(&mut srd, &mut cwr, timeouts.server, &mut txn.rec.bytes_out);
            match upload_while_waiting(up, down).await {
                (up, Some(down)) => (up, down),
                (up, None) => {
                    // The client failed its body: the stream ends now and
                    // the server connection with it.
                    self.client.inbuf = inbuf;
                    txn.rec.release(slot);
                    return Err(self.client_body_failed(txn, backend, up).await);
                }
            }
        } else {
            if timed(timeouts.server, server.write_all(&head_bytes[written..]))
                .await
                .is_err()
            {
                self.client.inbuf = inbuf;
                txn.rec.end(Cause::ServerAbort, Phase::Headers);
                return Err(self.reply(txn, Some(backend), 502, false).await);
            }
            let down = read_response(
                &mut server,
                &mut self.client.stream,
                timeouts.server,
                &mut txn.rec.bytes_out,
            )
            .await;
            (Ok(()), down)
        };
        self.client.inbuf = inbuf;
        if up.is_ok() {
            txn.rec.bytes_in += sent.htx(framing);
        }
        if let Err(e) = &up {
            // Only the server's side failing, or a client gone silent,
            // gets here (upload_while_waiting): a silent client leaves the
            // response's outcome to the server.
            let client_silent = matches!(e, ForwardError::Read(_));
            if down.is_err() && !client_silent {
                // Neither the request went up whole nor a response came.
                let (cause, status) = if e.is_timeout() {
                    (Cause::ServerTimeout, 504)
                } else {
                    (Cause::ServerAbort, 502)
                };
                txn.rec.end(cause, Phase::Data);
                txn.rec.release(slot);
                return Err(self.reply(txn, Some(backend), status, true).await);
            }
            txn.close = true;
        }
        let response = match down {
            Ok(r) => r,
            Err(e) => {
                txn.rec.release(slot);
                return Err(self
                    .response_failed(txn, backend, &srv, e, up.is_err())
                    .await);
            }
        };
        txn.response_at = Some(Instant::now());
        Ok(Answered {
            server,
            slot,
            up,
            response,
            _under_way: under_way,
        })
    }

    /// The response, from its head on: checks, `http-response` rules,
    /// persistence, the connection's fate, then its body (or a tunnel).
    async fn forward_response(
        &mut self,
        txn: &mut Txn,
        backend: &Arc<Backend>,
        req: &Request,
        answered: Answered,
        server_close: bool,
        timeouts: &Timeouts,
    ) -> Next {
        let Answered {
            mut server,
            slot,
            up,
            response: Response { head, mut buf },
            _under_way,
        } = answered;
        let srv = slot.server().clone();
        let msg = &req.msg;
        let request = &req.head;
        let method = msg.start[0].clone();
        let websocket = msg.has("sec-websocket-key");
        let upgrade_asked = msg.lists("connection", b"upgrade");
        let status = head.status.unwrap_or(0);
        Traffic::add(&srv.traffic.requests, 1);
        srv.traffic.response(status);
        // Statuses 501 and 505 are the client's doing, not the server's.
        srv.observe(if status < 500 || status == 501 || status == 505 {
            Event::HttpOk
        } else {
            Event::HttpSts
        });
        let decision = match body::response(&head, &method) {
            Ok(d) => d,
            Err(_) => {
                srv.observe(Event::HttpHdrRsp);
                txn.rec.end(Cause::Proxy, Phase::Headers);
                txn.rec.release(slot);
                return self.reply(txn, Some(backend), 502, false).await;
            }
        };
        let mut out = Message::response(&head, &buf);
        let tokens = connection::take_tokens(&mut out);
        // A 101, or a CONNECT's 2xx: the connections carry opaque bytes.
        let tunnel = status == 101 || (method == b"CONNECT" && (200..300).contains(&status));
        // A 101 switches only what both sides asked to switch: one the
        // request did not ask for is a bad response (its bytes after are
        // never the client's).
        let unasked = status == 101 && !(upgrade_asked && tokens.upgrade);
        if unasked || (tunnel && websocket && !out.has("sec-websocket-accept")) {
            // HAProxy checks the server's half of the WebSocket handshake.
            txn.rec.end(Cause::Proxy, Phase::Headers);
            txn.rec.release(slot);
            return self.reply(txn, Some(backend), 502, false).await;
        }
        // HAProxy counts the response as it came in, before its edits.
        let counted_before = txn.rec.bytes_out;
        txn.rec.bytes_out += out.htx_size();
        let denied = self.response_rules(backend, msg, &mut out);
        if let Some(status) = denied {
            // The response is replaced, its size still counted; the server
            // connection stays when the whole response is at hand.
            txn.rec.end(Cause::Proxy, Phase::Headers);
            txn.response_at = None;
            Traffic::add(&backend.traffic.denied_responses, 1);
            txn.rec.release(slot);
            let body = buf.len() - head.len;
            // What of the body had arrived counts too.
            txn.rec.bytes_out += body as u64;
            let whole = match decision.framing {
                Framing::None => body == 0,
                Framing::Length(n) => body as u64 == n,
                _ => false,
            };
            let server_close = server_close
                || connection::server_closes(
                    head.version,
                    tokens,
                    decision.framing != Framing::Close,
                );
            if whole && !server_close && up.is_ok() {
                self.keep_idle(srv, server.into_inner());
            }
            return self.reply(txn, Some(backend), status, false).await;
        }
        if let (Some(p), Some(sticky)) = (&backend.persistence, &txn.sticky) {
            let server = txn.server_index.map(|i| backend.candidates()[i]);
            let now = unix_secs(self.process.net.wall_clock());
            let edited = p.on_response(&mut out, sticky, server, now);
            if p.logged() {
                txn.cookie[1] = edited.letter();
            }
        }
        txn.status = i32::from(status);
        let has_length = decision.framing != Framing::Close;
        // A status below 100 is no HTTP status: haproxy 2.6.12 passed
        // `HTTP/1.1 20` on and closed the connection after it.
        // A soft stop since the request came closes after this response.
        if !tunnel
            && (!has_length || decision.force_close || status < 100 || *self.stopping.borrow())
        {
            txn.close = true;
        }
        // `Transfer-Encoding` with `Content-Length` (or in HTTP/1.0)
        // closes the server connection only: the client's stays.
        let server_close = server_close
            || tunnel
            || head.body.close
            || status < 100
            || connection::server_closes(head.version, tokens, has_length);
        if let Some(v) = (!tunnel)
            .then(|| {
                connection::response_value(txn.close, head.version, request.version, tokens.upgrade)
            })
            .flatten()
        {
            out.add("connection", v);
        }
        if status == 204 {
            // Neither length header goes out with a 204 (HTX keeps them).
            out.remove("content-length");
            out.remove("transfer-encoding");
        }
        let rest = buf.split_off(head.len);
        let head_bytes = out.to_bytes();
        if tunnel {
            txn.rec.release(slot);
            if timed(timeouts.client, self.client.stream.write_all(&head_bytes))
                .await
                .is_err()
            {
                txn.rec.end(Cause::ClientAbort, Phase::Data);
                return Next::Close;
            }
            return self.tunnel(txn, Box::new(server), rest, timeouts).await;
        }
        let download = Transfer {
            framing: decision.framing,
            read_timeout: timeouts.server,
            write_timeout: timeouts.client,
        };
        let mut rest = rest;
        let mut got = Moved::default();
        let forwarded = forward_body(
            &mut server,
            &mut self.client.stream,
            download,
            &mut rest,
            &head_bytes,
            &mut got,
        );
        match forwarded.await {
            Ok(()) => txn.rec.bytes_out += got.htx(decision.framing),
            Err(ForwardError::Chunk(_)) if got.wire == 0 => {
                // A bad chunk in what came with the head: nothing reached
                // the client yet, which gets HAProxy's 502 instead.
                srv.observe(Event::HttpHdrRsp);
                Traffic::add(&srv.traffic.response_errors, 1);
                Traffic::add(&backend.traffic.response_errors, 1);
                txn.rec.bytes_out = counted_before;
                txn.response_at = None;
                txn.rec.end(Cause::Proxy, Phase::Headers);
                txn.rec.release(slot);
                return self.reply(txn, Some(backend), 502, false).await;
            }
            Err(e) => {
                let cause = match &e {
                    ForwardError::Write(_) if e.is_timeout() => Cause::ClientTimeout,
                    ForwardError::Write(_) => Cause::ClientAbort,
                    _ if e.is_timeout() => Cause::ServerTimeout,
                    _ => {
                        Traffic::add(&srv.traffic.response_errors, 1);
                        Cause::ServerAbort
                    }
                };
                txn.rec.end(cause, Phase::Data);
                return Next::Close;
            }
        }
        txn.rec.release(slot);
        if !server_close && rest.is_empty() && up.is_ok() {
            self.keep_idle(srv, server.into_inner());
        }
        if txn.close {
            Next::Close
        } else {
            Next::KeepAlive
        }
    }

    /// Writes the request's first bytes on a kept connection: one that
    /// dies after the look before its reuse (it refuses them at once) is
    /// replaced by a fresh one, a retry as HAProxy makes when its mux knew
    /// the connection dead before taking the request (back_handle_st_cer
    /// with SF_SRV_REUSED). The connection, its slot, and the bytes of
    /// `head` written.
    async fn first_write(
        &mut self,
        txn: &mut Txn,
        backend: &Arc<Backend>,
        mut server: Metered,
        slot: Slot,
        head: &[u8],
    ) -> Result<(Metered, Slot, usize), Next> {
        if !txn.rec.attempt.reused {
            return Ok((server, slot, 0));
        }
        let error = match now_or_never(server.write(head)).await {
            Some(Ok(n)) if n > 0 => return Ok((server, slot, n)),
            None => return Ok((server, slot, 0)),
            Some(outcome) => outcome
                .err()
                .unwrap_or_else(|| std::io::ErrorKind::WriteZero.into()),
        };
        drop(server);
        let port = self.local.map_or(0, |a| a.port());
        let net = &*self.process.net;
        match backend
            .reconnect(net, port, &mut txn.rec.attempt, slot, error, txn.key)
            .await
        {
            Ok((fresh, slot)) => {
                txn.rec.connected(&slot);
                Ok((
                    layers::server_use(fresh, &backend.traffic.h1, true),
                    slot,
                    0,
                ))
            }
            Err(e) => {
                // HAProxy closes without an answer here: the client's
                // request went to a reused connection (http_server_error
                // without a message).
                let (cause, phase) = e.termination();
                txn.rec.end(cause, phase);
                txn.status = 503;
                Err(Next::Close)
            }
        }
    }

    /// No response head came: the server is told (its observed health),
    /// and the client gets HAProxy's answer for the failure.
    async fn response_failed(
        &mut self,
        txn: &mut Txn,
        backend: &Arc<Backend>,
        srv: &Arc<ServerState>,
        e: ResponseError,
        up_failed: bool,
    ) -> Next {
        let observed = match e {
            ResponseError::Timeout => Some(Event::ReadTimeout),
            ResponseError::Bad => Some(Event::HttpHdrRsp),
            ResponseError::Aborted { nothing: true } if !txn.first => None,
            ResponseError::Aborted { .. } => Some(Event::BrokenPipe),
            ResponseError::Client => None,
        };
        if let Some(event) = observed {
            srv.observe(event);
        }
        let (cause, status) = match e {
            ResponseError::Timeout => (Cause::ServerTimeout, 504),
            // Not a connection's first request: the client's
            // connection ends without an answer and unlogged, as a
            // keep-alive connection may end, so the client retries.
            ResponseError::Aborted { nothing: true } if !txn.first => {
                return Next::Silent;
            }
            ResponseError::Aborted { .. } => (Cause::ServerAbort, 502),
            ResponseError::Bad => (Cause::Proxy, 502),
            ResponseError::Client => {
                txn.rec.end(Cause::ClientAbort, Phase::Headers);
                return Next::Close;
            }
        };
        txn.rec.end(cause, Phase::Headers);
        Traffic::add(&srv.traffic.response_errors, 1);
        Traffic::add(&backend.traffic.response_errors, 1);
        self.reply(txn, Some(backend), status, up_failed).await
    }

    /// `http-response` rules: the backend's, then the frontend's; the
    /// status of a `deny`, if one applied.
    fn response_rules(&self, backend: &Backend, msg: &Message, out: &mut Message) -> Option<u16> {
        rules::respond(
            &backend.http_response,
            &backend.acls,
            msg,
            out,
            self.peer,
            self.local,
        )
        .or_else(|| {
            // A listen section's rules ran already, as its backend's.
            (backend.name != self.frontend.name)
                .then(|| {
                    rules::respond(
                        &self.http.rules.http_response,
                        &self.http.acls,
                        msg,
                        out,
                        self.peer,
                        self.local,
                    )
                })
                .flatten()
        })
    }

    /// The end of a stream whose client failed its request body while it
    /// went up: a bad chunk gets the proxy's 400 (logged `PH`, as
    /// HAProxy's http_request_forward_body answers a parsing error); an
    /// abort or a silence past `timeout client` ends it without an answer
    /// (`CD`, `cD`, status -1).
    async fn client_body_failed(
        &mut self,
        txn: &mut Txn,
        backend: &Arc<Backend>,
        failed: Result<(), ForwardError>,
    ) -> Next {
        match failed {
            Err(ForwardError::Chunk(_)) => {
                txn.rec.end(Cause::Proxy, Phase::Headers);
                Traffic::add(&self.frontend.traffic.bad_requests, 1);
                Traffic::add(&self.session.socket.traffic.bad_requests, 1);
                self.reply(txn, Some(backend), 400, true).await
            }
            Err(e) if e.is_timeout() => {
                txn.rec.end(Cause::ClientTimeout, Phase::Data);
                Next::Close
            }
            _ => {
                txn.rec.end(Cause::ClientAbort, Phase::Data);
                Traffic::add(&self.frontend.traffic.client_aborts, 1);
                Traffic::add(&backend.traffic.client_aborts, 1);
                Next::Close
            }
        }
    }

    /// Keeps a server connection for the client's next requests.
    fn keep_idle(&mut self, server: Arc<ServerState>, stream: BoxStream) {
        if self.idle.len() == MAX_IDLE_PER_CLIENT {
            self.idle.remove(0);
        }
        let outages = server.outages();
        self.idle.push(Idle {
            server,
            stream,
            outages,
        });
    }

    /// A 101 answer: from now on both connections carry opaque bytes.
    async fn tunnel(
        &mut self,
        txn: &mut Txn,
        server: BoxStream,
        from_server: Vec<u8>,
        timeouts: &Timeouts,
    ) -> Next {
        if !from_server.is_empty() {
            if self.client.stream.write_all(&from_server).await.is_err() {
                txn.rec.end(Cause::ClientAbort, Phase::Data);
                return Next::Close;
            }
            txn.rec.bytes_out += from_server.len() as u64;
        }
        // The connection ends with the tunnel.
        let client = std::mem::replace(&mut self.client.stream, Box::new(tokio::io::empty()));
        let tunnel_timeouts = Timeouts {
            client: timeouts.tunnel.or(timeouts.client),
            server: timeouts.tunnel.or(timeouts.server),
            ..*timeouts
        };
        let early = Early {
            bytes: std::mem::take(&mut self.client.inbuf),
            eof: false,
        };
        let (end, volume) = pump::tunnel(client, server, &tunnel_timeouts, early).await;
        txn.rec.bytes_out += volume.to_client;
        match end {
            End::Closed => {}
            End::Timeout(Side::Client) => txn.rec.end(Cause::ClientTimeout, Phase::Data),
            End::Timeout(Side::Server) => txn.rec.end(Cause::ServerTimeout, Phase::Data),
            End::Abort(Side::Client) => txn.rec.end(Cause::ClientAbort, Phase::Data),
            End::Abort(Side::Server) => txn.rec.end(Cause::ServerAbort, Phase::Data),
        }
        Next::Close
    }

    /// Holds a request until its body is in, fills the buffer, or the
    /// client stops sending, and returns the body's data so far; answers
    /// an `Expect: 100-continue` itself first. A client too slow for the
    /// backend's `timeout http-request` (or `timeout client`) gets a 408,
    /// logged `cR` (HAProxy 2.6.12: the request is still being analysed).
    async fn wait_for_body(
        &mut self,
        txn: &mut Txn,
        backend: &Arc<Backend>,
        msg: &mut Message,
        framing: Framing,
    ) -> Result<Vec<u8>, Next> {
        // http_handle_expect_hdr: the client need not wait for the server.
        let expects = msg
            .values("expect")
            .flat_map(|v| v.split(|&c| c == b','))
            .next()
            .is_some_and(|v| v.trim_ascii().eq_ignore_ascii_case(b"100-continue"));
        if txn.version >= (1, 1) && framing != Framing::None && expects {
            let interim = Message {
                start: [b"HTTP/1.1".to_vec(), b"100".to_vec(), b"Continue".to_vec()],
                headers: vec![],
            };
            let bytes = interim.to_bytes();
            let written = timed(self.timeouts().client, self.client.stream.write_all(&bytes));
            if written.await.is_ok() {
                txn.rec.bytes_out += interim.htx_size();
            }
            msg.remove("expect");
        }
        // What HAProxy's buffer holds besides the head and its rewrite reserve.
        let room = (TUNE_BUFSIZE - TUNE_MAXREWRITE).saturating_sub(msg.htx_size() as usize);
        let t = self.timeouts();
        let wait = match (backend.timeouts.http_request, t.client) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        let deadline = wait.map(|w| Instant::now() + w);
        loop {
            let (data, complete) = match framing {
                Framing::Length(n) => {
                    let have = self
                        .client
                        .inbuf
                        .len()
                        .min(usize::try_from(n).unwrap_or(usize::MAX));
                    (self.client.inbuf[..have].to_vec(), have as u64 == n)
                }
                Framing::Chunked => {
                    let mut decoder = ChunkedDecoder::default();
                    let mut data = Vec::new();
                    // A malformed body is the forwarding's to refuse.
                    let bad = decoder.feed(&self.client.inbuf, Some(&mut data)).is_err();
                    (data, bad || decoder.is_done())
                }
                Framing::None | Framing::Close => (Vec::new(), true),
            };
            if complete || data.len() >= room {
                return Ok(data);
            }
            match self.client.read_more(deadline).await {
                Some(Ok(0) | Err(_)) => return Ok(data),
                Some(Ok(_)) => {}
                None => {
                    txn.rec.end(Cause::ClientTimeout, Phase::Request);
                    let page = policy::error_page(&self.http.policy, Some(&backend.http), 408);
                    let Some(page) = page else {
                        txn.status = 408;
                        return Err(Next::Close);
                    };
                    let next = self.send_reply(txn, &page, true).await;
                    txn.status = 408;
                    return Err(next);
                }
            }
        }
    }

    /// Answers with one of the HTTP/1 layer's own errors (400, 408, 413,
    /// 422), after which the connection closes; HAProxy logs no size for
    /// them.
    async fn mux_error(&mut self, txn: &mut Txn, status: u16) {
        txn.status = i32::from(status);
        self.frontend.traffic.request();
        Traffic::add(&self.frontend.traffic.bad_requests, 1);
        Traffic::add(&self.session.socket.traffic.bad_requests, 1);
        // Of the frontend's error files, the layer honours only an empty
        // one (`errorfile 408 /dev/null`): it closes without a word.
        if matches!(self.http.policy.errors.get(&status), Some(None)) {
            return;
        }
        let bytes = builtin(status).expect("built in").mux_h1_bytes();
        let _ = timed(self.timeouts().client, self.client.stream.write_all(&bytes)).await;
    }

    /// Answers `status` with the page the proxies configure for it.
    async fn reply(
        &mut self,
        txn: &mut Txn,
        backend: Option<&Arc<Backend>>,
        status: u16,
        body_pending: bool,
    ) -> Next {
        let page = policy::error_page(&self.http.policy, backend.map(|b| &b.http), status);
        match page {
            Some(reply) => {
                let next = self.send_reply(txn, &reply, body_pending).await;
                // The log keeps the error's status, whatever page told it.
                txn.status = i32::from(status);
                next
            }
            None => {
                txn.status = i32::from(status);
                Next::Close
            }
        }
    }

    /// Writes a reply of the proxy's own; the connection closes after it
    /// when the request's body was not read (HAProxy forces it).
    async fn send_reply(&mut self, txn: &mut Txn, reply: &Reply, body_pending: bool) -> Next {
        if body_pending || reply.closes() {
            txn.close = true;
        }
        let value = connection::response_value(txn.close, reply.version(), txn.version, false);
        let bytes = reply.to_bytes(value);
        txn.status = i32::from(reply.status());
        if timed(self.timeouts().client, self.client.stream.write_all(&bytes))
            .await
            .is_ok()
        {
            txn.rec.bytes_out += reply.head.htx_size() + reply.body.len() as u64;
        }
        if txn.close {
            Next::Close
        } else {
            Next::KeepAlive
        }
    }

    /// The statistics page: authentication, then the page (or its CSV)
    /// for a GET, the admin actions and a 303 for a POST. `intercepted`:
    /// the frontend's own page (a backend's is not counted so).
    async fn serve_stats(
        &mut self,
        txn: &mut Txn,
        settings: &config::StatsSettings,
        acls: &Acls,
        msg: &Message,
        framing: Framing,
        intercepted: bool,
    ) -> Next {
        let page = &*self.process.applets.stats;
        txn.applet = Some("<STATS>");
        txn.rec.end(Cause::Local, Phase::Request);
        let has_body = framing != Framing::None;
        let authorization = msg.values("authorization").next();
        if let Some(refusal) = page.refuse(settings, authorization) {
            txn.rec.cause = Cause::Proxy;
            return self.send_reply(txn, &refusal, has_body).await;
        }
        if intercepted {
            Traffic::add(&self.frontend.traffic.intercepted, 1);
        }
        if !page.available() {
            return self.reply(txn, None, 503, has_body).await;
        }
        let view = rules::View {
            request: msg,
            src: self.peer,
            dst: self.local,
        };
        let admin = settings.admin.iter().any(|c| acls.eval(c, &view));
        let answer = if msg.start[0] == b"POST" {
            let form = if !admin {
                Form::Denied
            } else {
                match self.client.read_body(framing, self.timeouts().client).await {
                    Some(body) => {
                        txn.rec.bytes_in += body.len() as u64;
                        Form::Body(body)
                    }
                    None => Form::TooBig,
                }
            };
            let (answer, notices) = page.post(settings, &msg.start[1], form);
            for n in &notices {
                n.publish(&self.process.logger).await;
            }
            answer
        } else {
            page.get(settings, &msg.start[1], admin)
        };
        self.send_answer(txn, msg, answer, has_body).await
    }

    /// The Prometheus exporter (`http-request use-service
    /// prometheus-exporter`): the metrics of every proxy, as HAProxy's
    /// promex serves them, `scope=` and `no-maint` read from the query.
    async fn serve_metrics(&mut self, txn: &mut Txn, msg: &Message, has_body: bool) -> Next {
        txn.applet = Some("<PROMEX>");
        txn.rec.end(Cause::Local, Phase::Request);
        Traffic::add(&self.frontend.traffic.intercepted, 1);
        let answer = self.process.applets.metrics.get(&msg.start[1]);
        self.send_answer(txn, msg, answer, has_body).await
    }

    /// Writes what a service answered.
    async fn send_answer(
        &mut self,
        txn: &mut Txn,
        msg: &Message,
        answer: Answer,
        has_body: bool,
    ) -> Next {
        match answer {
            Answer::Page { headers, body } => {
                let mut head = Message {
                    start: [b"HTTP/1.1".to_vec(), b"200".to_vec(), b"OK".to_vec()],
                    headers: vec![],
                };
                for (name, value) in headers {
                    head.add(name, value);
                }
                self.send_applet_page(txn, msg, head, &body, has_body).await
            }
            // The 303 after the admin form: its body was read.
            Answer::Reply(reply) => self.send_reply(txn, &reply, false).await,
            Answer::Error(status) => self.reply(txn, None, status, has_body).await,
        }
    }

    /// Writes an applet's 200 and its body, chunked to an HTTP/1.1 client,
    /// until the close to an HTTP/1.0 one, none to a HEAD.
    async fn send_applet_page(
        &mut self,
        txn: &mut Txn,
        msg: &Message,
        mut head: Message,
        body: &str,
        has_body: bool,
    ) -> Next {
        let head_only = msg.start[0] == b"HEAD";
        let chunked = txn.version >= (1, 1) && !head_only;
        if chunked {
            head.add("transfer-encoding", "chunked");
        } else {
            txn.close = true;
        }
        txn.status = 200;
        let value = connection::response_value(txn.close, (1, 1), txn.version, false);
        if let Some(v) = value {
            head.add("connection", v);
        }
        let mut bytes = head.to_bytes();
        if !head_only {
            if chunked {
                bytes.extend_from_slice(format!("{:x}\r\n", body.len()).as_bytes());
                bytes.extend_from_slice(body.as_bytes());
                bytes.extend_from_slice(b"\r\n0\r\n\r\n");
            } else {
                bytes.extend_from_slice(body.as_bytes());
            }
        }
        if timed(self.timeouts().client, self.client.stream.write_all(&bytes))
            .await
            .is_ok()
        {
            let data = if head_only { 0 } else { body.len() as u64 };
            txn.rec.bytes_out += head.htx_size() + data;
        } else {
            txn.close = true;
        }
        if txn.close || has_body {
            Next::Close
        } else {
            Next::KeepAlive
        }
    }

    /// Counts a finished request in its frontend, backend and server, as
    /// HAProxy does when a stream ends.
    fn account(&self, txn: &Txn) {
        let backend = txn.rec.backend.as_deref();
        let server = txn.rec.target();
        let fe = &self.frontend.traffic;
        let charged = [
            Some(fe),
            Some(&self.session.socket.traffic),
            backend.map(|b| &b.traffic),
            server.map(|s| &s.traffic),
        ];
        txn.rec.charge_bytes(charged.into_iter().flatten());
        let Ok(status) = u16::try_from(txn.status) else {
            return;
        };
        fe.response(status);
        let Some(b) = backend else {
            return;
        };
        b.traffic.response(status);
        Traffic::add(&b.traffic.requests, 1);
        // Only a stream that connected and got its response head counts
        // in the time averages.
        let (Some(head_done), Some(assigned), Some(connected), Some(response)) = (
            txn.head_done,
            txn.rec.attempt.assigned_at,
            txn.rec.connected,
            txn.response_at,
        ) else {
            return;
        };
        let ms = |a: Instant, b: Instant| b.saturating_duration_since(a).as_millis() as u32;
        let sample = Sample {
            queue: ms(head_done, assigned),
            connect: ms(assigned, connected),
            response: ms(connected, response),
            total: ms(txn.rec.start, Instant::now()),
        };
        if let Some(s) = server {
            s.traffic
                .times
                .add(Traffic::get(&s.traffic.requests), sample);
        }
        b.traffic
            .times
            .add(Traffic::get(&b.traffic.requests), sample);
    }

    async fn log(&mut self, txn: &Txn) {
        let (log, logger) = (&self.frontend.log, &self.process.logger);
        let null = txn.first_byte.is_none();
        if log.wanted(logger, null) {
            let fields = self.log_fields(txn);
            log.stream_ended(logger, null, fields).await;
        }
    }

    /// What the log line of `txn` says.
    fn log_fields(&self, txn: &Txn) -> Fields {
        let ms = |a: Option<Instant>, b: Option<Instant>| match (a, b) {
            (Some(a), Some(b)) => b.saturating_duration_since(a).as_millis() as i64,
            _ => -1,
        };
        let rec = &txn.rec;
        let first = txn.first_byte.unwrap_or(rec.start);
        let now = Instant::now();
        let timers = httplog::timers(
            ms(Some(first), txn.head_done),
            ms(txn.head_done, rec.attempt.assigned_at),
            ms(rec.attempt.assigned_at, rec.connected),
            ms(rec.connected, txn.response_at),
            ms(Some(first), Some(now)),
            ms(Some(rec.start), Some(first)),
            ms(txn.response_at, Some(now)),
        );
        let counts = Counts {
            actconn: self.process.global.in_use(),
            feconn: self.frontend.limit.in_use(),
            pid: self.process.net.pid(),
        };
        let mut fields = rec.fields(&self.frontend.name, timers, counts);
        fields.request_date = rec.start_wall + first.duration_since(rec.start);
        if let (None, Some(applet)) = (&rec.attempt.server, txn.applet) {
            fields.server = applet.to_string();
        }
        fields.status = txn.status;
        fields.cookie = txn.cookie;
        fields.request_line = txn.request_line.clone();
        fields
    }
}

/// What HAProxy's HTTP/1 layer refuses once the head has parsed (the
/// parser itself refused the rest): a WebSocket upgrade without its key.
fn refused(msg: &Message) -> Option<u16> {
    if msg.lists("connection", b"upgrade")
        && msg.lists("upgrade", b"websocket")
        && !msg.has("sec-websocket-key")
    {
        return Some(400);
    }
    None
}

/// Sends a request body up while the response is awaited (a server may
/// answer `100 Continue` first, or answer before the body's end). A
/// client that fails its body (a bad chunk, an abort) ends both at once,
/// without a response (None): HAProxy aborts the stream rather than wait
/// for a server that got half a request. A client gone silent, or a body
/// that fails on the server's side, still leaves the server its chance to
/// answer within `timeout server` (haproxy 2.6.12 answered a body cut
/// short 504, not 408).
async fn upload_while_waiting<U, D>(up: U, down: D) -> (Result<(), ForwardError>, Option<D::Output>)
where
    U: std::future::Future<Output = Result<(), ForwardError>>,
    D: std::future::Future,
{
    tokio::pin!(up, down);
    let mut uploaded = None;
    loop {
        tokio::select! {
            biased;
            r = &mut up, if uploaded.is_none() => {
                let client_failed = match &r {
                    Err(ForwardError::Chunk(_) | ForwardError::Truncated) => true,
                    Err(e @ ForwardError::Read(_)) => !e.is_timeout(),
                    _ => false,
                };
                if client_failed {
                    return (r, None);
                }
                uploaded = Some(r);
            }
            response = &mut down => {
                let up = match uploaded {
                    Some(u) => u,
                    None => up.await,
                };
                return (up, Some(response));
            }
        }
    }
}

/// Seconds since the epoch, as the cookie dates count them.
fn unix_secs(t: SystemTime) -> u32 {
    t.duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as u32)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use tokio::io::{AsyncReadExt, AsyncWriteExt, DuplexStream};

    use crate::log::Memory;
    use crate::runtime::Engine;
    use crate::testing::{Behaviour, FakeNet};

    const OK: &[u8] = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok";

    const ONE_SERVER: &str = "
defaults
    mode http
    timeout connect 1s
    timeout client 5s
    timeout server 5s
listen app
    bind 10.0.0.9:80
    server s1 10.0.0.1:80
";

    /// Sends `request` and reads until a response ending in `ok`, or
    /// until the engine closes: what arrived.
    async fn ask(client: &mut DuplexStream, request: &[u8]) -> String {
        client.write_all(request).await.unwrap();
        let mut got = Vec::new();
        let mut buf = [0u8; 4096];
        while !got.ends_with(b"ok") {
            let n = client.read(&mut buf).await.unwrap_or(0);
            if n == 0 {
                break;
            }
            got.extend_from_slice(&buf[..n]);
        }
        String::from_utf8_lossy(&got).into_owned()
    }

    /// The `wretr` column of `name`'s line in `show stat`.
    fn retries(engine: &Engine, name: &str) -> String {
        let csv = engine.show_stat();
        let header: Vec<&str> = csv.lines().next().unwrap().split(',').collect();
        let column = header.iter().position(|h| *h == "wretr").unwrap();
        let line = csv
            .lines()
            .find(|l| l.split(',').nth(1) == Some(name))
            .unwrap();
        line.split(',').nth(column).unwrap().to_string()
    }

    /// An engine over a fake network with `text` as its configuration and
    /// a `Brittle` server behind it, and a client connected to it.
    async fn brittle(text: &str) -> (Engine, Arc<FakeNet>, DuplexStream) {
        let config = crate::config::load_str("test.cfg", text)
            .expect("loads")
            .config;
        let net = FakeNet::new();
        net.set("10.0.0.1:80", Behaviour::Brittle(OK));
        let engine = Engine::start(
            &config,
            net.clone(),
            net.clone(),
            Arc::new(Memory::default()),
            "e",
        )
        .await
        .expect("starts");
        let client = net.dial("10.0.0.9:80", "10.0.0.200:40000");
        (engine, net, client)
    }

    #[tokio::test(start_paused = true)]
    async fn a_kept_connection_that_refuses_the_next_request_is_replaced_at_once() {
        let (engine, net, mut client) = brittle(ONE_SERVER).await;
        let request = b"GET /a HTTP/1.1\r\nHost: a\r\n\r\n";
        let start = tokio::time::Instant::now();
        for _ in 0..2 {
            let response = ask(&mut client, request).await;
            assert!(response.starts_with("HTTP/1.1 200 OK\r\n"), "{response}");
        }
        // No pause before the retry (HAProxy's turn-around is for
        // connections that failed to open).
        assert_eq!(start.elapsed(), std::time::Duration::ZERO);
        assert_eq!(net.attempts(), ["10.0.0.1:80", "10.0.0.1:80"]);
        let requests = net.requests();
        assert_eq!(requests.len(), 2);
        for r in &requests {
            assert!(r.starts_with(b"GET /a HTTP/1.1\r\n"), "{r:?}");
        }
        assert_eq!(retries(&engine, "s1"), "1");
        assert_eq!(retries(&engine, "BACKEND"), "1");
    }

    #[tokio::test(start_paused = true)]
    async fn without_retries_left_the_client_connection_closes_without_an_answer() {
        let text = ONE_SERVER.replace("mode http\n", "mode http\n    retries 0\n");
        let (_engine, net, mut client) = brittle(&text).await;
        let request = b"GET /a HTTP/1.1\r\nHost: a\r\n\r\n";
        assert!(ask(&mut client, request).await.ends_with("ok"));
        assert_eq!(ask(&mut client, request).await, "");
        assert_eq!(net.attempts(), ["10.0.0.1:80"]);
    }
}
