//! The layers of a connection, innermost first: the one place their
//! order is written (HAProxy stacks the same way: the socket, its
//! transport, then the mux reading HTTP/1).
//!
//! A client connection (accepted by a frontend):
//! 1. the seam's transport ([`crate::net::Net`]'s listener; in the
//!    simulator it carries the loss of its link, `sim::net::transport`);
//! 2. (TLS, when it comes: the transport under HTTP);
//! 3. the HTTP frontend's `h1_*` meter, for the connection's life:
//!    [`client`].
//!
//! A server connection (made by a backend):
//! 1. the seam's transport (in the simulator, the loss of its link, the
//!    handshake's paid inside `connect`);
//! 2. (TLS, when it comes);
//! 3. its server's cut signal (`shutdown-sessions`, `shutdown sessions
//!    server`), for the connection's life: [`server`];
//! 4. the HTTP backend's `h1_*` meter, for one use: [`server_use`]. A
//!    connection kept idle between two requests is unmetered meanwhile
//!    ([`Metered::into_inner`]) and metered again when reused.
//!
//! TCP streams meter nothing: their bytes are counted by the stream.

use std::sync::Arc;

use crate::counters::meter::{Metered, H1};
use crate::net::BoxStream;
use crate::server::ServerState;

/// A client connection as a stream of the HTTP frontend whose meter is
/// `h1` reads and writes it.
pub fn client(transport: BoxStream, h1: &Arc<H1>) -> Metered {
    h1.meter(transport, true)
}

/// A server connection as the backend hands it out, fresh from the seam:
/// the next cut of `server` ends it.
pub fn server(transport: BoxStream, server: &ServerState) -> BoxStream {
    server.cuts.wrap(transport)
}

/// A server connection from [`server`] put to one use by an HTTP backend
/// whose meter is `h1`; `fresh`: a new connection, not an idle one taken
/// up again (only fresh ones count in `h1_total_connections`).
pub fn server_use(connection: BoxStream, h1: &Arc<H1>, fresh: bool) -> Metered {
    h1.meter(connection, fresh)
}
