//! The HTTP/1 wire layer, as HAProxy 2.6's H1 mux sees it.
//!
//! - [`head`]: request and response heads: original bytes plus spans;
//! - [`body`]: body framing decided from a head (length, chunked, close);
//! - [`chunked`]: the streaming chunked-body validator;
//! - [`errors`]: the built-in error responses, byte for byte.
//! - [`forward`]: copying one body source → sink with bounded buffers.

pub mod body;
pub mod chunked;
pub mod errors;
pub mod forward;
pub mod head;
