//! A streaming chunked-body validator/decoder, sans I/O.
//!
//! HAProxy decodes a chunked body and encodes it again on the way out
//! (its chunks are the data of each read, sizes in uppercase hex, no
//! extensions, trailer names lowercase): this machine yields the data and
//! the trailer section, tells where the body ends, and refuses what HAProxy
//! refuses (a non-hex or over-long chunk size: 400 for a request, 502 for a
//! response).

/// Hex digits allowed in a chunk size: 16 fills a u64.
pub const MAX_CHUNK_SIZE_DIGITS: usize = 16;

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ChunkError {
    #[error("invalid chunk size")]
    Size,
    #[error("missing CRLF after chunk data")]
    DataEnd,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Reading hex digits; (value, digits seen).
    Size(u64, usize),
    /// After the size: skipping extensions up to LF.
    Ext(u64),
    /// Chunk data left.
    Data(u64),
    /// Expecting CR or LF after data.
    DataCr,
    DataLf,
    /// In the trailer section; bool: at the start of a line.
    Trailer(bool),
    Done,
}

/// Where a chunked body is in its life.
#[derive(Debug, Clone)]
pub struct ChunkedDecoder {
    state: State,
    /// The trailer section's raw bytes (without its final blank line).
    trailers: Vec<u8>,
}

impl Default for ChunkedDecoder {
    fn default() -> Self {
        ChunkedDecoder {
            state: State::Size(0, 0),
            trailers: Vec::new(),
        }
    }
}

impl ChunkedDecoder {
    pub fn is_done(&self) -> bool {
        self.state == State::Done
    }

    /// The trailer fields received, as (lowercase name, trimmed value).
    pub fn trailers(&self) -> Vec<(Vec<u8>, Vec<u8>)> {
        self.trailers
            .split(|&c| c == b'\n')
            .filter_map(|line| {
                let line = line.strip_suffix(b"\r").unwrap_or(line);
                let colon = line.iter().position(|&c| c == b':')?;
                let value = line[colon + 1..].trim_ascii();
                Some((line[..colon].to_ascii_lowercase(), value.to_vec()))
            })
            .collect()
    }

    /// Consumes body bytes from `input`, appending decoded data to `data`
    /// when given. Returns how many input bytes belong to the body (all of
    /// them unless the body ended inside `input`).
    pub fn feed(
        &mut self,
        input: &[u8],
        mut data: Option<&mut Vec<u8>>,
    ) -> Result<usize, ChunkError> {
        let mut i = 0;
        while i < input.len() && self.state != State::Done {
            let c = input[i];
            self.state = match self.state {
                State::Data(left) => {
                    let n = (left as usize).min(input.len() - i);
                    if let Some(d) = data.as_deref_mut() {
                        d.extend_from_slice(&input[i..i + n]);
                    }
                    i += n;
                    let left = left - n as u64;
                    self.state = if left == 0 {
                        State::DataCr
                    } else {
                        State::Data(left)
                    };
                    continue;
                }
                State::Size(v, n) => match (c as char).to_digit(16) {
                    Some(h) if n < MAX_CHUNK_SIZE_DIGITS => {
                        State::Size(v << 4 | u64::from(h), n + 1)
                    }
                    Some(_) => return Err(ChunkError::Size),
                    None if n == 0 => return Err(ChunkError::Size),
                    None if c == b';' || c == b' ' || c == b'\t' || c == b'\r' => State::Ext(v),
                    None if c == b'\n' => after_size(v),
                    None => return Err(ChunkError::Size),
                },
                State::Ext(v) if c == b'\n' => after_size(v),
                State::Ext(v) => State::Ext(v),
                State::DataCr if c == b'\r' => State::DataLf,
                State::DataCr | State::DataLf if c == b'\n' => State::Size(0, 0),
                State::DataCr | State::DataLf => return Err(ChunkError::DataEnd),
                State::Trailer(true) if c == b'\n' => State::Done,
                State::Trailer(true) if c == b'\r' => State::Trailer(true),
                State::Trailer(_) => {
                    self.trailers.push(c);
                    State::Trailer(c == b'\n')
                }
                State::Done => unreachable!("loop stops at Done"),
            };
            i += 1;
        }
        Ok(i)
    }
}

fn after_size(v: u64) -> State {
    if v == 0 {
        State::Trailer(true)
    } else {
        State::Data(v)
    }
}

/// Encodes `body` as chunks of at most `chunk` bytes (for tests and
/// for re-framing).
pub fn encode(body: &[u8], chunk: usize) -> Vec<u8> {
    let mut out = Vec::new();
    for c in body.chunks(chunk.max(1)) {
        out.extend_from_slice(format!("{:x}\r\n", c.len()).as_bytes());
        out.extend_from_slice(c);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"0\r\n\r\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn extensions_and_trailers() {
        let raw = b"3;ext=1\r\nabc\r\n0\r\nX-T: 1\r\n\r\nNEXT";
        let mut d = ChunkedDecoder::default();
        let mut out = Vec::new();
        let n = d.feed(raw, Some(&mut out)).unwrap();
        assert_eq!(&raw[n..], b"NEXT");
        assert_eq!(out, b"abc");
        assert!(d.is_done());
        assert_eq!(d.trailers(), vec![(b"x-t".to_vec(), b"1".to_vec())]);
    }

    #[test]
    fn bad_sizes_are_refused() {
        for bad in [
            &b"zz\r\n"[..],
            b"\r\n",
            b"11111111111111111\r\n",
            b"3\r\nabcX",
        ] {
            assert!(
                ChunkedDecoder::default().feed(bad, None).is_err(),
                "{bad:?}"
            );
        }
    }

    proptest! {
        #[test]
        fn round_trips_at_any_split(
            body in proptest::collection::vec(any::<u8>(), 0..2000),
            chunk in 1usize..300,
            cuts in proptest::collection::vec(1usize..64, 1..200),
        ) {
            let raw = encode(&body, chunk);
            let mut d = ChunkedDecoder::default();
            let mut out = Vec::new();
            let (mut pos, mut k) = (0, 0);
            while pos < raw.len() {
                let end = (pos + cuts[k % cuts.len()]).min(raw.len());
                k += 1;
                let n = d.feed(&raw[pos..end], Some(&mut out)).unwrap();
                prop_assert_eq!(n, end - pos);
                pos = end;
            }
            prop_assert!(d.is_done());
            prop_assert_eq!(out, body);
        }
    }
}
