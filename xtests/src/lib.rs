//! Integration tests over real sockets live in tests/.
