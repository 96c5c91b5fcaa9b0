//! A head on its way to the other side: start line and header lines that
//! rules and the connection logic edit before it is written.
//!
//! HAProxy 2.6 converts every message to its internal HTX form, where
//! header names are lowercase, and its HTTP/1 mux writes them back out
//! that way: a server sees `user-agent:`, a client `content-type:`. The
//! values keep their bytes (outer blanks trimmed, obs-folds joined).

use super::head::Head;

/// An editable head.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// Method, URI, version (request) or version, status, reason (response).
    pub start: [Vec<u8>; 3],
    /// Header lines in order: lowercase name, value.
    pub headers: Vec<(Vec<u8>, Vec<u8>)>,
}

impl Message {
    /// A request head as HTX holds it.
    pub fn request(head: &Head, buf: &[u8]) -> Message {
        Message {
            start: [
                head.first.of(buf).to_vec(),
                head.second.of(buf).to_vec(),
                version(head, buf),
            ],
            headers: lines(head, buf),
        }
    }

    /// A response head as HTX holds it.
    pub fn response(head: &Head, buf: &[u8]) -> Message {
        Message {
            start: [
                version(head, buf),
                head.second.of(buf).to_vec(),
                head.first.of(buf).to_vec(),
            ],
            headers: lines(head, buf),
        }
    }

    /// Values of the headers called `name` (lowercase), in order.
    pub fn values<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a [u8]> {
        self.headers
            .iter()
            .filter(move |(n, _)| n == name.as_bytes())
            .map(|(_, v)| v.as_slice())
    }

    /// Whether a `name` header (lowercase) lists `token`, in any case.
    pub fn lists(&self, name: &str, token: &[u8]) -> bool {
        self.values(name)
            .flat_map(|v| v.split(|&c| c == b','))
            .any(|t| t.trim_ascii().eq_ignore_ascii_case(token))
    }

    pub fn has(&self, name: &str) -> bool {
        self.values(name).next().is_some()
    }

    /// Removes every header called `name` (lowercase).
    pub fn remove(&mut self, name: &str) {
        self.headers.retain(|(n, _)| n != name.as_bytes());
    }

    /// Appends a header line after the others.
    pub fn add(&mut self, name: &str, value: impl Into<Vec<u8>>) {
        self.headers
            .push((name.to_ascii_lowercase().into_bytes(), value.into()));
    }

    /// An absolute-form target naming its scheme's default port loses it,
    /// in the target and in every `Host` (HAProxy's
    /// http_scheme_based_normalize).
    pub fn normalize_target(&mut self) {
        let Some((target, host)) = super::head::without_default_port(&self.start[1]) else {
            return;
        };
        self.start[1] = target;
        for (name, value) in &mut self.headers {
            if name == b"host" {
                value.clone_from(&host);
            }
        }
    }

    /// The head's size in HAProxy's internal representation, which its
    /// `%B` counts: a 20-byte start-line block with its three parts, each
    /// header's name and value, and one byte ending the headers.
    pub fn htx_size(&self) -> u64 {
        let start: usize = 20 + self.start.iter().map(Vec::len).sum::<usize>();
        let headers: usize = self.headers.iter().map(|(n, v)| n.len() + v.len()).sum();
        (start + headers + 1) as u64
    }

    /// The bytes on the wire, ending with the blank line.
    pub fn to_bytes(&self) -> Vec<u8> {
        let size = self.start.iter().map(Vec::len).sum::<usize>()
            + self
                .headers
                .iter()
                .map(|(n, v)| n.len() + v.len() + 4)
                .sum::<usize>()
            + 6;
        let mut out = Vec::with_capacity(size);
        out.extend_from_slice(&self.start[0]);
        out.push(b' ');
        out.extend_from_slice(&self.start[1]);
        // A response without a reason keeps its space, as HAProxy writes it.
        out.push(b' ');
        out.extend_from_slice(&self.start[2]);
        out.extend_from_slice(b"\r\n");
        for (n, v) in &self.headers {
            out.extend_from_slice(n);
            out.extend_from_slice(b": ");
            out.extend_from_slice(v);
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(b"\r\n");
        out
    }
}

/// HAProxy writes `HTTP/1.1` for any version from 1.1 on (`HTTP/1.2`
/// leaves as `HTTP/1.1`), and an older one as it came.
fn version(head: &Head, buf: &[u8]) -> Vec<u8> {
    if head.version >= (1, 1) {
        b"HTTP/1.1".to_vec()
    } else {
        head.version_text.of(buf).to_vec()
    }
}

fn lines(head: &Head, buf: &[u8]) -> Vec<(Vec<u8>, Vec<u8>)> {
    head.headers
        .iter()
        .map(|h| (h.name.of(buf).to_ascii_lowercase(), unfold(h.value.of(buf))))
        .collect()
}

/// An obs-folded value's CR and LF each become a space, as HAProxy's
/// parser rewrites them in place; the continuation's own blanks stay.
fn unfold(v: &[u8]) -> Vec<u8> {
    v.iter()
        .map(|&c| if c == b'\r' || c == b'\n' { b' ' } else { c })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::head::parse_request;
    use super::*;

    #[test]
    fn names_go_lowercase_and_values_keep_their_bytes() {
        let raw = b"GET /a?b=1 HTTP/1.1\r\nHost: x\r\nX-Mixed-Case:  V v \r\n\r\n";
        let head = parse_request(raw).unwrap().unwrap();
        let mut m = Message::request(&head, raw);
        m.add("X-Forwarded-For", "127.0.0.1");
        assert_eq!(
            m.to_bytes(),
            b"GET /a?b=1 HTTP/1.1\r\nhost: x\r\nx-mixed-case: V v\r\nx-forwarded-for: 127.0.0.1\r\n\r\n"
        );
        m.remove("host");
        assert!(!m.has("host"));
    }

    /// haproxy 2.6.12 logged 51 bytes for `HTTP/1.1 200 OK`,
    /// `Content-Length: 2` and the body `ok`.
    #[test]
    fn htx_size_is_what_haproxy_counts() {
        let raw = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n";
        let head = super::super::head::parse_response(raw).unwrap().unwrap();
        assert_eq!(Message::response(&head, raw).htx_size() + 2, 51);
    }

    /// haproxy 2.6.12 forwarded `HTTP/1.2` as `HTTP/1.1` and `HTTP/1.0`
    /// as it came; a fold's CR and LF became two spaces.
    #[test]
    fn versions_and_folds_leave_as_haproxy_writes_them() {
        let raw = b"GET / HTTP/1.2\r\nA: x\r\n\ty\r\n\r\n";
        let head = parse_request(raw).unwrap().unwrap();
        let m = Message::request(&head, raw);
        assert_eq!(m.to_bytes(), b"GET / HTTP/1.1\r\na: x  \ty\r\n\r\n");
        let raw = b"GET / HTTP/1.0\r\n\r\n";
        let head = parse_request(raw).unwrap().unwrap();
        assert_eq!(Message::request(&head, raw).start[2], b"HTTP/1.0");
    }
}
