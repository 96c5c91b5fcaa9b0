//! The HTTP/1 wire layer, as HAProxy 2.6's H1 mux sees it.
//!
//! - [`head`]: request and response heads: original bytes plus spans;
//! - [`body`]: body framing decided from a head (length, chunked, close);
//! - [`chunked`]: the streaming chunked-body validator;
//! - [`errors`]: the built-in error responses, byte for byte.
//! - [`forward`]: copying one body source → sink with bounded buffers;
//! - [`message`]: a head being edited on its way to the other side;
//! - [`connection`]: keep-alive or close on each side;
//! - [`policy`]: a proxy's HTTP settings (mode, forwardfor, error pages);
//! - [`reply`]: responses the proxy writes itself;
//! - [`client_side`]: a client connection: waiting for a request head,
//!   reading a body the proxy looks at;
//! - [`server_side`]: a server's response head, its 1xx passed on.

pub mod body;
pub mod chunked;
pub mod client_side;
pub mod connection;
pub mod cookie;
pub mod errors;
pub mod forward;
pub mod head;
pub mod message;
pub mod policy;
pub mod reply;
pub mod server_side;
