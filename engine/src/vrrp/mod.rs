//! VIP failover with VRRPv3 (RFC 5798), the protocol keepalived speaks:
//! the advertisements on the wire ([`packet`]) and the state machine that
//! elects a master among the nodes sharing a virtual address
//! ([`machine`]). Both are pure: the driver that owns sockets, timers and
//! the addresses (netlink in production, the address table in the
//! simulator) comes on top.

pub mod machine;
pub mod packet;
pub mod router;

pub use machine::{Action, Event, Machine, Settings, State};
pub use packet::{Advert, Refused};
pub use router::{Link, Owner, Router};
