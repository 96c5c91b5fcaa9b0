//! A streaming chunked-body validator/decoder, sans I/O.
//!
//! HAProxy decodes a chunked body and encodes it again on the way out
//! (its chunks are the data of each read, sizes in uppercase hex, no
//! extensions, trailer names lowercase): this machine yields the data and
//! the trailer fields, tells where the body ends, and refuses what HAProxy
//! refuses (400 for a request, 502 for a response), as
//! `h1_parse_chunk_size`, `h1_skip_chunk_crlf` and `h1_parse_msg_tlrs` do:
//! - a size is one or more hex digits, below 2^52 (leading zeros are
//!   free), then optional SP/HTAB, then an optional `;` extension of any
//!   bytes but CR and LF, then CRLF or a bare LF;
//! - chunk data is followed by CRLF or a bare LF;
//! - trailers are header lines, read by the head parser's rules;
//! - nothing is held without bound: a size line or a trailer section
//!   longer than a buffer ([`BUFFER_ROOM`]) is refused.

use super::head::{parse_trailers, HeadError, BUFFER_ROOM};

/// The first chunk size HAProxy refuses: it reads at most 13 significant
/// hex digits, so that no size reaches a language that counts in doubles.
pub const CHUNK_SIZE_LIMIT: u64 = 1 << 52;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChunkError {
    #[error("invalid chunk size")]
    Size,
    #[error("chunk size line longer than a buffer")]
    SizeLine,
    #[error("missing CRLF after chunk data")]
    DataEnd,
    #[error("invalid trailers: {0}")]
    Trailers(HeadError),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Reading hex digits; (value, digits seen).
    Size(u64, usize),
    /// Blanks after the size.
    SizeBlank(u64),
    /// In an extension, up to CR or LF.
    Ext(u64),
    /// A CR ended the size line: LF must follow.
    SizeLf(u64),
    /// Chunk data left.
    Data(u64),
    /// Expecting CR or LF after data.
    DataCr,
    DataLf,
    /// In the trailer section: at the start of a line, after a CR there,
    /// or inside a line.
    TrailerLineStart,
    TrailerCr,
    TrailerLine,
    Done,
}

/// Where a chunked body is in its life.
#[derive(Debug, Clone)]
pub struct ChunkedDecoder {
    state: State,
    /// Bytes of the current chunk-size line.
    line: usize,
    /// The trailer section's raw bytes, bounded by a buffer.
    trailer_bytes: Vec<u8>,
    /// The trailer fields, once the section is whole.
    trailers: Vec<(Vec<u8>, Vec<u8>)>,
}

impl Default for ChunkedDecoder {
    fn default() -> Self {
        ChunkedDecoder {
            state: State::Size(0, 0),
            line: 0,
            trailer_bytes: Vec::new(),
            trailers: Vec::new(),
        }
    }
}

impl ChunkedDecoder {
    pub fn is_done(&self) -> bool {
        self.state == State::Done
    }

    /// The trailer fields received, as (lowercase name, value), once the
    /// body is done.
    pub fn trailers(&self) -> &[(Vec<u8>, Vec<u8>)] {
        &self.trailers
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
            if let State::Data(left) = self.state {
                let n = usize::try_from(left)
                    .unwrap_or(usize::MAX)
                    .min(input.len() - i);
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
            let c = input[i];
            i += 1;
            if matches!(
                self.state,
                State::Size(..) | State::SizeBlank(_) | State::Ext(_) | State::SizeLf(_)
            ) {
                self.line += 1;
                if self.line > BUFFER_ROOM {
                    return Err(ChunkError::SizeLine);
                }
            }
            self.state = match self.state {
                State::Size(v, n) => match (c as char).to_digit(16) {
                    Some(h) => {
                        let v = v << 4 | u64::from(h);
                        if v >= CHUNK_SIZE_LIMIT {
                            return Err(ChunkError::Size);
                        }
                        State::Size(v, n + 1)
                    }
                    None if n == 0 => return Err(ChunkError::Size),
                    None => self.after_blanks(v, c)?,
                },
                State::SizeBlank(v) => self.after_blanks(v, c)?,
                State::Ext(v) => match c {
                    b'\r' => State::SizeLf(v),
                    b'\n' => self.after_size(v),
                    _ => State::Ext(v),
                },
                State::SizeLf(v) if c == b'\n' => self.after_size(v),
                State::SizeLf(_) => return Err(ChunkError::Size),
                State::DataCr if c == b'\r' => State::DataLf,
                State::DataCr | State::DataLf if c == b'\n' => State::Size(0, 0),
                State::DataCr | State::DataLf => return Err(ChunkError::DataEnd),
                State::TrailerLineStart | State::TrailerCr | State::TrailerLine => {
                    self.trailer_byte(c)?
                }
                State::Data(_) | State::Done => unreachable!("handled above"),
            };
        }
        Ok(i)
    }

    /// After a size's digits (and blanks): more blanks, an extension, or
    /// the line's end.
    fn after_blanks(&mut self, v: u64, c: u8) -> Result<State, ChunkError> {
        Ok(match c {
            b' ' | b'\t' => State::SizeBlank(v),
            b';' => State::Ext(v),
            b'\r' => State::SizeLf(v),
            b'\n' => self.after_size(v),
            _ => return Err(ChunkError::Size),
        })
    }

    fn after_size(&mut self, v: u64) -> State {
        self.line = 0;
        if v == 0 {
            State::TrailerLineStart
        } else {
            State::Data(v)
        }
    }

    /// One byte of the trailer section; at its empty line, the section is
    /// parsed as header lines.
    fn trailer_byte(&mut self, c: u8) -> Result<State, ChunkError> {
        self.trailer_bytes.push(c);
        if self.trailer_bytes.len() > BUFFER_ROOM {
            return Err(ChunkError::Trailers(HeadError::TooLarge));
        }
        let next = match (self.state, c) {
            (State::TrailerLineStart, b'\r') => State::TrailerCr,
            (State::TrailerLineStart | State::TrailerCr, b'\n') => State::Done,
            (State::TrailerCr, _) => {
                return Err(ChunkError::Trailers(HeadError::HeaderName));
            }
            (_, b'\n') => State::TrailerLineStart,
            _ => State::TrailerLine,
        };
        if next == State::Done {
            let bytes = std::mem::take(&mut self.trailer_bytes);
            let parsed = parse_trailers(&bytes).map_err(ChunkError::Trailers)?;
            let Some((_, fields)) = parsed.filter(|(len, _)| *len == bytes.len()) else {
                return Err(ChunkError::Trailers(HeadError::HeaderName));
            };
            self.trailers = fields
                .iter()
                .map(|h| {
                    let value = h
                        .value
                        .of(&bytes)
                        .iter()
                        .map(|&b| if b == b'\r' || b == b'\n' { b' ' } else { b })
                        .collect();
                    (h.name.of(&bytes).to_ascii_lowercase(), value)
                })
                .collect();
        }
        Ok(next)
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

    fn whole(raw: &[u8]) -> Result<(usize, Vec<u8>, ChunkedDecoder), ChunkError> {
        let mut d = ChunkedDecoder::default();
        let mut out = Vec::new();
        let n = d.feed(raw, Some(&mut out))?;
        Ok((n, out, d))
    }

    #[test]
    fn extensions_and_trailers() {
        let raw = b"3;ext=1\r\nabc\r\n0\r\nX-T: 1\r\n\r\nNEXT";
        let (n, out, d) = whole(raw).unwrap();
        assert_eq!(&raw[n..], b"NEXT");
        assert_eq!(out, b"abc");
        assert!(d.is_done());
        assert_eq!(d.trailers(), &[(b"x-t".to_vec(), b"1".to_vec())]);
    }

    /// h1_parse_chunk_size's grammar: what it takes and what it refuses.
    #[test]
    fn chunk_size_lines() {
        for ok in [
            &b"5\r\nhello\r\n0\r\n\r\n"[..],
            b"5\nhello\n0\n\n",
            b"5 \t;x=\"a b\"\r\nhello\r\n0\r\n\r\n",
            b"5;\x00\x7f\xff\r\nhello\r\n0\r\n\r\n",
            b"00000000000000000005\r\nhello\r\n0\r\n\r\n",
            b"000\r\n\r\n",
        ] {
            let (_, _, d) = whole(ok).unwrap_or_else(|e| panic!("{ok:?}: {e}"));
            assert!(d.is_done(), "{ok:?}");
        }
        for bad in [
            &b"zz\r\n"[..],
            b"\r\n",
            b" 5\r\n",
            b"-5\r\n",
            b"0x5\r\n",
            b"+5\r\n",
            b"5 x\r\n",
            b"5\rx",
            b"5;a\rb\r\n",
            b"10000000000000\r\n",
            b"11111111111111111\r\n",
            b"3\r\nabcX",
            b"3\r\nabc\rX",
        ] {
            assert!(whole(bad).is_err(), "{bad:?}");
        }
        // 2^52 - 1 is a size; the data need not follow to know it.
        assert!(whole(b"fffffffffffff\r\n").is_ok());
    }

    #[test]
    fn trailers_follow_the_header_rules() {
        for bad in [
            &b"0\r\nx-t a\r\n\r\n"[..],
            b"0\r\nx-t: a\rSet-Cookie: evil=1\r\n\r\n",
            b"0\r\n x-t: a\r\n\r\n",
            b"0\r\nx t: a\r\n\r\n",
            b"0\r\nContent-Length: x\r\n\r\n",
            b"0\r\nTransfer-Encoding: gzip\r\n\r\n",
            b"0\r\n\rX",
        ] {
            assert!(
                matches!(whole(bad), Err(ChunkError::Trailers(_))),
                "{bad:?}"
            );
        }
        let (_, _, d) = whole(b"0\r\nA: x\r\n  y\r\nB:\r\n\r\n").unwrap();
        assert_eq!(
            d.trailers(),
            &[
                (b"a".to_vec(), b"x    y".to_vec()),
                (b"b".to_vec(), Vec::new())
            ]
        );
    }

    /// An endless extension or trailer section is refused after a
    /// buffer's worth, not held.
    #[test]
    fn nothing_grows_without_bound() {
        let mut d = ChunkedDecoder::default();
        d.feed(b"5;", None).unwrap();
        let ext = vec![b'a'; 1024];
        let r = (0..32).try_for_each(|_| d.feed(&ext, None).map(drop));
        assert_eq!(r, Err(ChunkError::SizeLine));

        let mut d = ChunkedDecoder::default();
        d.feed(b"5\r\nhello\r\n0\r\n", None).unwrap();
        let line = [b"X-T: ".to_vec(), vec![b'a'; 8000], b"\r\n".to_vec()].concat();
        let r = (0..4).try_for_each(|_| d.feed(&line, None).map(drop));
        assert_eq!(r, Err(ChunkError::Trailers(HeadError::TooLarge)));
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

        /// Any input fed at any split gets the verdict it gets whole.
        #[test]
        fn splits_never_change_the_verdict(
            raw in proptest::collection::vec(
                prop_oneof![Just(b'0'), Just(b'5'), Just(b'a'), Just(b'\r'), Just(b'\n'),
                            Just(b';'), Just(b' '), Just(b':'), Just(b'x')], 0..64),
            cut in 0usize..64,
        ) {
            let mut a = ChunkedDecoder::default();
            let whole = a.feed(&raw, None);
            let cut = cut.min(raw.len());
            let mut b = ChunkedDecoder::default();
            let split = b.feed(&raw[..cut], None).and_then(|n| {
                if b.is_done() { Ok(n) } else { b.feed(&raw[cut..], None).map(|m| n + m) }
            });
            prop_assert_eq!(whole.is_ok(), split.is_ok());
            if let (Ok(x), Ok(y)) = (whole, split) {
                prop_assert_eq!(x, y);
                prop_assert_eq!(a.is_done(), b.is_done());
            }
        }
    }
}
