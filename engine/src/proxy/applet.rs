//! Services the proxy hands a request to instead of a server (HAProxy's
//! applets): the statistics page (`stats uri`) and the Prometheus exporter
//! (`http-request use-service prometheus-exporter`). The proxy reads the
//! request and writes the answer, its framing and its log line; a service
//! only decides what the answer is. The services are built by the runtime
//! over the stats, so the request path does not know what they show.

use crate::config::StatsSettings;
use crate::http::reply::Reply;
use crate::status::Notice;

/// What a service answers.
pub enum Answer {
    /// A 200 carrying these headers and this body, written as HAProxy's
    /// applets write theirs (chunked to an HTTP/1.1 client).
    Page {
        headers: Vec<(&'static str, String)>,
        body: String,
    },
    /// A reply of its own (a redirect), written as it is.
    Reply(Reply),
    /// The proxy's page for this status (503 while the engine starts or
    /// stops, 400 for a query it cannot read).
    Error(u16),
}

/// The admin form of the statistics page, as the proxy received it.
pub enum Form {
    /// The request may not administer (`stats admin` did not hold).
    Denied,
    /// The body did not come whole, or did not fit a buffer.
    TooBig,
    Body(Vec<u8>),
}

/// The statistics page of one proxy at a time (its `stats` settings).
pub trait StatsPage: Send + Sync {
    /// Whether the statistics exist yet (not while starting or stopping).
    fn available(&self) -> bool;
    /// `stats auth`: None when the credentials pass, else the 401 to send.
    fn refuse(&self, settings: &StatsSettings, authorization: Option<&[u8]>) -> Option<Reply>;
    /// A GET or HEAD on the page; `admin`: `stats admin` holds.
    fn get(&self, settings: &StatsSettings, target: &[u8], admin: bool) -> Answer;
    /// The admin form's POST: the actions done, their messages to log,
    /// and the 303 back to the page.
    fn post(&self, settings: &StatsSettings, target: &[u8], form: Form) -> (Answer, Vec<Notice>);
}

/// The Prometheus exporter.
pub trait Exporter: Send + Sync {
    /// The metrics for `target` (its query selects scopes).
    fn get(&self, target: &[u8]) -> Answer;
}

/// The services a process's proxies may hand requests to.
pub struct Applets {
    pub stats: Box<dyn StatsPage>,
    pub metrics: Box<dyn Exporter>,
}
