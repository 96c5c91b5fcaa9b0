//! The statistics page and the Prometheus exporter as the proxy's
//! services ([`crate::proxy::applet`]): what each answers, from one
//! snapshot of the registry.

use std::sync::{Arc, Weak};

use crate::config::StatsSettings;
use crate::http::reply::Reply;
use crate::proxy::applet::{Answer, Exporter, Form, StatsPage};
use crate::status::Notice;

use super::page::{self, Ask};
use super::prometheus::{self, Query};
use super::{Filter, Registry};

/// Where the services find the registry: built with the process, which
/// the registry's `show info` holds, so held weakly.
#[derive(Clone)]
pub struct Handle(Weak<Registry>);

impl Handle {
    pub fn new(registry: Weak<Registry>) -> Handle {
        Handle(registry)
    }

    /// None only once the engine is dropped.
    fn get(&self) -> Option<Arc<Registry>> {
        self.0.upgrade()
    }
}

/// The statistics page.
pub struct Page(pub Handle);

impl StatsPage for Page {
    fn available(&self) -> bool {
        self.0.get().is_some()
    }

    fn refuse(&self, settings: &StatsSettings, authorization: Option<&[u8]>) -> Option<Reply> {
        (!page::authorized(settings, authorization)).then(|| page::unauthorized(settings))
    }

    fn get(&self, settings: &StatsSettings, target: &[u8], admin: bool) -> Answer {
        let Some(registry) = self.0.get() else {
            return Answer::Error(503);
        };
        let ask = Ask::parse(settings, target);
        let node = registry
            .info
            .as_ref()
            .map(|i| i.node.clone())
            .unwrap_or_default();
        let (content_type, body) = page::render(settings, &ask, &registry, admin, &node);
        let mut headers = vec![
            ("cache-control", "no-cache".to_string()),
            ("content-type", content_type.to_string()),
        ];
        if let (Some(r), false) = (settings.refresh, ask.norefresh) {
            headers.push(("refresh", r.as_secs().to_string()));
        }
        Answer::Page { headers, body }
    }

    fn post(&self, settings: &StatsSettings, target: &[u8], form: Form) -> (Answer, Vec<Notice>) {
        let Some(registry) = self.0.get() else {
            return (Answer::Error(503), vec![]);
        };
        let ask = Ask::parse(settings, target);
        let mut notices = vec![];
        let code = match form {
            Form::Denied => "DENY",
            Form::TooBig => "EXCD",
            Form::Body(body) => page::post(&body, &registry, &mut notices),
        };
        (Answer::Reply(page::redirect(settings, &ask, code)), notices)
    }
}

/// The Prometheus exporter.
pub struct Metrics(pub Handle);

impl Exporter for Metrics {
    fn get(&self, target: &[u8]) -> Answer {
        let Some(registry) = self.0.get() else {
            return Answer::Error(503);
        };
        let target = String::from_utf8_lossy(target);
        let query = target.split_once('?').map_or("", |(_, q)| q);
        let Ok(query) = Query::parse(query) else {
            return Answer::Error(400);
        };
        let info = registry
            .info
            .as_ref()
            .map(|i| i.fields(&registry))
            .unwrap_or_default();
        // Unfiltered: a backend's aggregated states count every server.
        let proxies = registry.snapshot(&Filter::default());
        let body = prometheus::render(&info, &proxies, query);
        let headers = prometheus::HEADERS
            .iter()
            .map(|(n, v)| (*n, v.to_string()))
            .collect();
        Answer::Page { headers, body }
    }
}
