#![allow(clippy::disallowed_types)] // part of the production seam: it names unix sockets
//! Descriptors passed between processes, for the master-worker mode.
//!
//! A master and each of its workers share a unix socket pair, their
//! channel. The master opens a connection to a worker's runtime API by
//! making a new pair and sending one end over the channel (SCM_RIGHTS),
//! as HAProxy's master reaches `sockpair@<fd>`; the worker takes each
//! descriptor it receives as an accepted connection ([`Channel`]). The
//! worker says it serves by writing one byte the other way, and learns
//! that its master died when the channel ends.

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};

use tokio::io::Interest;
use tokio::net::UnixStream;
use tokio::sync::watch;

use super::{Accepted, BoxFuture, BoxStream, Family, Listener};

/// A connected pair of unix stream sockets, close-on-exec.
pub fn socketpair() -> io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0; 2];
    // SAFETY: socketpair(2) fills the two descriptors on success.
    let rc = unsafe {
        libc::socketpair(
            libc::AF_UNIX,
            libc::SOCK_STREAM | libc::SOCK_CLOEXEC,
            0,
            fds.as_mut_ptr(),
        )
    };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: both descriptors were just created and are owned here.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

/// Whether `fd` closes on exec: `false` lets it survive (a child or a
/// re-executed master takes it), `true` keeps it to this process.
/// Only fcntl(2): fit to call between fork and exec.
pub fn close_on_exec(fd: RawFd, on: bool) -> io::Result<()> {
    // SAFETY: fcntl on a descriptor number; an invalid one yields EBADF.
    let flags = unsafe { libc::fcntl(fd, libc::F_GETFD) };
    if flags < 0 {
        return Err(io::Error::last_os_error());
    }
    let flags = if on {
        flags | libc::FD_CLOEXEC
    } else {
        flags & !libc::FD_CLOEXEC
    };
    // SAFETY: as above.
    if unsafe { libc::fcntl(fd, libc::F_SETFD, flags) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Takes a descriptor inherited across exec (named in the environment)
/// and closes it on the next exec.
///
/// # Safety
/// `fd` must be open and owned by nothing else in this process.
pub unsafe fn inherit(fd: RawFd) -> io::Result<OwnedFd> {
    // SAFETY: the caller vouches for the descriptor.
    let owned = unsafe { OwnedFd::from_raw_fd(fd) };
    close_on_exec(fd, true)?;
    Ok(owned)
}

/// A channel end registered with the event loop (reads and writes go
/// through recvmsg/sendmsg on its descriptor).
fn registered(fd: OwnedFd) -> io::Result<UnixStream> {
    let std = std::os::unix::net::UnixStream::from(fd);
    std.set_nonblocking(true)?;
    UnixStream::from_std(std)
}

/// Sends `fd` over `channel` with one byte of payload.
fn send_fd(channel: RawFd, fd: BorrowedFd<'_>) -> io::Result<()> {
    send_with(channel, b"c", &[fd.as_raw_fd()])
}

/// What one read of a channel brought.
enum Received {
    /// A descriptor (a connection), close-on-exec.
    Fd(OwnedFd),
    /// A byte without a descriptor (a worker's "ready").
    Byte,
    /// The other side is gone.
    End,
}

fn recv(channel: RawFd) -> io::Result<Received> {
    let mut byte = [0u8];
    let (n, mut fds) = recv_with(channel, &mut byte, 1)?;
    Ok(match (n, fds.pop()) {
        (0, _) => Received::End,
        (_, Some(fd)) => Received::Fd(fd),
        (_, None) => Received::Byte,
    })
}

/// One recvmsg: the bytes into `data`, and the descriptors that came
/// with them (at most `max_fds`), close-on-exec.
fn recv_with(fd: RawFd, data: &mut [u8], max_fds: usize) -> io::Result<(usize, Vec<OwnedFd>)> {
    let mut iov = libc::iovec {
        iov_base: data.as_mut_ptr().cast(),
        iov_len: data.len(),
    };
    // SAFETY: CMSG_SPACE is a pure computation.
    let space =
        unsafe { libc::CMSG_SPACE((max_fds * std::mem::size_of::<RawFd>()) as u32) } as usize;
    let mut control = vec![0u8; space];
    // SAFETY: msghdr is plain data; zero is a valid empty value.
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.as_mut_ptr().cast();
    msg.msg_controllen = space as _;
    // SAFETY: msg points at live buffers for the duration of the call.
    let n = unsafe { libc::recvmsg(fd, &mut msg, libc::MSG_CMSG_CLOEXEC) };
    if n < 0 {
        return Err(io::Error::last_os_error());
    }
    let mut fds = vec![];
    // SAFETY: the kernel filled msg_control; the macros walk inside it,
    // and each descriptor it names is new and ours.
    unsafe {
        let mut cmsg = libc::CMSG_FIRSTHDR(&msg);
        while !cmsg.is_null() {
            if (*cmsg).cmsg_level == libc::SOL_SOCKET && (*cmsg).cmsg_type == libc::SCM_RIGHTS {
                let bytes = (*cmsg).cmsg_len as usize - libc::CMSG_LEN(0) as usize;
                let first = libc::CMSG_DATA(cmsg).cast::<RawFd>();
                for i in 0..bytes / std::mem::size_of::<RawFd>() {
                    fds.push(OwnedFd::from_raw_fd(std::ptr::read_unaligned(first.add(i))));
                }
            }
            cmsg = libc::CMSG_NXTHDR(&msg, cmsg);
        }
    }
    Ok((n as usize, fds))
}

fn into_stream(fd: OwnedFd) -> io::Result<BoxStream> {
    Ok(Box::new(registered(fd)?))
}

/// The master's end of a worker's channel.
pub struct MasterEnd {
    fd: UnixStream,
}

impl MasterEnd {
    /// Must be called inside a tokio runtime.
    pub fn new(fd: OwnedFd) -> io::Result<MasterEnd> {
        Ok(MasterEnd {
            fd: registered(fd)?,
        })
    }

    pub fn raw(&self) -> RawFd {
        self.fd.as_raw_fd()
    }

    /// A new connection to the worker's runtime API.
    pub fn connect(&self) -> io::Result<BoxStream> {
        let (ours, theirs) = socketpair()?;
        send_fd(self.raw(), std::os::fd::AsFd::as_fd(&theirs))?;
        into_stream(ours)
    }

    /// Waits for the worker's word: true once it serves, false when the
    /// channel ends first (the worker died before serving).
    pub async fn ready(&self) -> bool {
        loop {
            if self.fd.readable().await.is_err() {
                return false;
            }
            match self.fd.try_io(Interest::READABLE, || recv(self.raw())) {
                Ok(Received::Byte) => return true,
                Ok(Received::Fd(_)) => continue,
                Ok(Received::End) => return false,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                Err(_) => return false,
            }
        }
    }
}

/// The worker's end of its channel: a listener whose connections come
/// from the master, and the word that the master is gone.
pub struct Channel {
    fd: UnixStream,
    gone: watch::Sender<bool>,
}

impl Channel {
    /// Must be called inside a tokio runtime. The receiver turns true
    /// when the master's end closes.
    pub fn new(fd: OwnedFd) -> io::Result<(Channel, watch::Receiver<bool>)> {
        let (gone, rx) = watch::channel(false);
        Ok((
            Channel {
                fd: registered(fd)?,
                gone,
            },
            rx,
        ))
    }

    /// Tells the master that this worker serves.
    pub fn say_ready(&self) -> io::Result<()> {
        let byte = [b'R'];
        // SAFETY: a one-byte send from a live buffer.
        let n = unsafe {
            libc::send(
                self.fd.as_raw_fd(),
                byte.as_ptr().cast(),
                1,
                libc::MSG_NOSIGNAL,
            )
        };
        if n != 1 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }
}

impl Listener for Channel {
    fn accept(&self) -> BoxFuture<'_, io::Result<Accepted>> {
        Box::pin(async move {
            loop {
                self.fd.readable().await?;
                match self
                    .fd
                    .try_io(Interest::READABLE, || recv(self.fd.as_raw_fd()))
                {
                    Ok(Received::Fd(fd)) => {
                        let raw = fd.as_raw_fd();
                        return Ok(Accepted {
                            stream: into_stream(fd)?,
                            peer: None,
                            local: None,
                            family: Family::Unix,
                            fd: Some(raw),
                        });
                    }
                    Ok(Received::Byte) => continue,
                    Ok(Received::End) => {
                        let _ = self.gone.send(true);
                        // Nothing more will come: the worker is leaving.
                        std::future::pending::<()>().await;
                    }
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                    Err(e) => return Err(e),
                }
            }
        })
    }
}

/// HAProxy sends at most this many descriptors per message (MAX_SEND_FD).
const MAX_SEND_FD: usize = 252;

/// The `_getsocks` command of a stats socket with `expose-fd listeners`,
/// as HAProxy's: on the client connection `conn`, the number of sockets
/// (a native-endian int), then the sockets in messages of at most 252,
/// each socket with its namespace and interface names (empty here) and
/// four zero bytes, an acknowledgement awaited after each full message.
/// The connection is made blocking for the exchange, with a one-second
/// receive timeout, as HAProxy does.
pub fn send_sockets(conn: RawFd, fds: &[RawFd]) -> io::Result<()> {
    if fds.is_empty() {
        return Ok(());
    }
    // SAFETY: fcntl on the connection's descriptor, which the caller owns.
    let flags = unsafe { libc::fcntl(conn, libc::F_GETFL) };
    if flags < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: as above.
    unsafe { libc::fcntl(conn, libc::F_SETFL, flags & !libc::O_NONBLOCK) };
    set_receive_timeout(conn);
    let result = (|| {
        let count = (fds.len() as i32).to_ne_bytes();
        send_with(conn, &count, &[])?;
        let chunks: Vec<&[RawFd]> = fds.chunks(MAX_SEND_FD).collect();
        for (n, chunk) in chunks.iter().enumerate() {
            // Per socket: no namespace, no interface, the former options.
            let data = vec![0u8; chunk.len() * 6];
            send_with(conn, &data, chunk)?;
            if n + 1 < chunks.len() {
                let mut ack = [0u8; 4];
                // SAFETY: a read into a live buffer.
                if unsafe { libc::recv(conn, ack.as_mut_ptr().cast(), 4, 0) } <= 0 {
                    return Err(io::Error::other("no acknowledgement"));
                }
            }
        }
        Ok(())
    })();
    // SAFETY: as above: the flags as they were.
    unsafe { libc::fcntl(conn, libc::F_SETFL, flags) };
    result
}

fn set_receive_timeout(fd: RawFd) {
    let tv = libc::timeval {
        tv_sec: 1,
        tv_usec: 0,
    };
    // SAFETY: setsockopt with a timeval of the size given.
    unsafe {
        libc::setsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_RCVTIMEO,
            (&tv as *const libc::timeval).cast(),
            std::mem::size_of::<libc::timeval>() as libc::socklen_t,
        )
    };
}

/// One message with `data` and, when there are any, descriptors.
fn send_with(conn: RawFd, data: &[u8], fds: &[RawFd]) -> io::Result<()> {
    let mut iov = libc::iovec {
        iov_base: data.as_ptr() as *mut libc::c_void,
        iov_len: data.len(),
    };
    let bytes = std::mem::size_of_val(fds);
    // SAFETY: CMSG_SPACE is a pure computation.
    let space = unsafe { libc::CMSG_SPACE(bytes as u32) } as usize;
    let mut control = vec![0u8; space];
    // SAFETY: msghdr is plain data; zero is a valid empty value.
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    if !fds.is_empty() {
        msg.msg_control = control.as_mut_ptr().cast();
        msg.msg_controllen = space as _;
        // SAFETY: the buffer has room for the header and the descriptors.
        unsafe {
            let cmsg = libc::CMSG_FIRSTHDR(&msg);
            (*cmsg).cmsg_level = libc::SOL_SOCKET;
            (*cmsg).cmsg_type = libc::SCM_RIGHTS;
            (*cmsg).cmsg_len = libc::CMSG_LEN(bytes as u32) as _;
            std::ptr::copy_nonoverlapping(fds.as_ptr().cast::<u8>(), libc::CMSG_DATA(cmsg), bytes);
        }
    }
    // SAFETY: msg points at live buffers for the duration of the call.
    let n = unsafe { libc::sendmsg(conn, &msg, libc::MSG_NOSIGNAL) };
    if n != data.len() as isize {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Why `-x` could not take the sockets, in HAProxy's words (warnings;
/// the caller adds the alert).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TakeoverError(pub String);

/// `-x <socket>`: asks a running process (HAProxy or the engine) for its
/// listening sockets over its stats socket (`_getsocks`), as HAProxy's
/// sock_get_old_sockets. The sockets come close-on-exec.
pub fn take_sockets(path: &std::path::Path) -> Result<Vec<OwnedFd>, TakeoverError> {
    use std::io::Write;
    let count_failed =
        || TakeoverError("Failed to get the number of sockets to be transferred !".into());
    let mut conn = std::os::unix::net::UnixStream::connect(path).map_err(|_| {
        TakeoverError(format!(
            "Failed to connect to the old process socket '{}'",
            path.display()
        ))
    })?;
    let fd = conn.as_raw_fd();
    set_receive_timeout(fd);
    conn.write_all(b"_getsocks\n").map_err(|_| count_failed())?;
    let mut count = [0u8; 4];
    // SAFETY: a read of exactly 4 bytes into a live buffer.
    let n = unsafe { libc::recv(fd, count.as_mut_ptr().cast(), 4, libc::MSG_WAITALL) };
    if n != 4 {
        return Err(count_failed());
    }
    let expected = i32::from_ne_bytes(count).max(0) as usize;
    let mut got: Vec<OwnedFd> = vec![];
    let mut data = vec![0u8; 64 * 1024];
    while got.len() < expected {
        let came = match recv_with(fd, &mut data, MAX_SEND_FD) {
            Ok((0, _)) | Err(_) => break,
            Ok((_, fds)) => fds,
        };
        // The acknowledgement lets the sender go on.
        let ack = (got.len() as i32).to_ne_bytes();
        // SAFETY: a send from a live buffer.
        unsafe { libc::send(fd, ack.as_ptr().cast(), 4, libc::MSG_NOSIGNAL) };
        got.extend(came);
        if got.len() > expected {
            return Err(TakeoverError("Got to many sockets !".into()));
        }
    }
    if got.len() != expected {
        return Err(TakeoverError(format!(
            "We didn't get the expected number of sockets (expecting {expected} got {})",
            got.len()
        )));
    }
    Ok(got)
}

/// Where a taken socket listens: an address, or a unix path (HAProxy
/// binds `<path>.<pid>.tmp` and renames it, so that suffix is dropped).
pub fn local_name(fd: &OwnedFd) -> Option<super::ListenAddr> {
    // SAFETY: sockaddr_storage is plain data; getsockname fills at most len.
    let mut storage: libc::sockaddr_storage = unsafe { std::mem::zeroed() };
    let mut len = std::mem::size_of::<libc::sockaddr_storage>() as libc::socklen_t;
    // SAFETY: as above.
    let rc = unsafe {
        libc::getsockname(
            fd.as_raw_fd(),
            (&mut storage as *mut libc::sockaddr_storage).cast(),
            &mut len,
        )
    };
    if rc != 0 {
        return None;
    }
    match i32::from(storage.ss_family) {
        libc::AF_INET | libc::AF_INET6 => {
            let std = std::net::TcpListener::from(fd.try_clone().ok()?);
            std.local_addr().ok().map(super::ListenAddr::Inet)
        }
        libc::AF_UNIX => {
            let std = std::os::unix::net::UnixListener::from(fd.try_clone().ok()?);
            let addr = std.local_addr().ok()?;
            let path = addr.as_pathname()?.to_string_lossy().into_owned();
            Some(super::ListenAddr::Unix(strip_tmp(&path).into()))
        }
        _ => None,
    }
}

/// `/run/x.sock.1234.tmp` → `/run/x.sock`.
fn strip_tmp(path: &str) -> &str {
    if let Some(rest) = path.strip_suffix(".tmp") {
        if let Some(dot) = rest.rfind('.') {
            if !rest[dot + 1..].is_empty() && rest[dot + 1..].bytes().all(|b| b.is_ascii_digit()) {
                return &rest[..dot];
            }
        }
    }
    path
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[test]
    fn sockets_cross_as_haproxy_sends_them() {
        let dir = std::env::temp_dir().join(format!("engine-getsocks-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let api = dir.join("api.sock");
        let _ = std::fs::remove_file(&api);
        let server = std::os::unix::net::UnixListener::bind(&api).unwrap();
        let tcp = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = tcp.local_addr().unwrap();
        let old = std::thread::Builder::new()
            .spawn(move || {
                use std::io::Read;
                let (mut conn, _) = server.accept().unwrap();
                let mut line = [0u8; 10];
                conn.read_exact(&mut line).unwrap();
                assert_eq!(&line, b"_getsocks\n");
                send_sockets(conn.as_raw_fd(), &[tcp.as_raw_fd(), server.as_raw_fd()]).unwrap();
            })
            .unwrap();
        let taken = take_sockets(&api).unwrap();
        old.join().unwrap();
        let names: Vec<_> = taken.iter().map(local_name).collect();
        assert_eq!(
            names,
            [
                Some(super::super::ListenAddr::Inet(addr)),
                Some(super::super::ListenAddr::Unix(api.clone()))
            ]
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn haproxys_temporary_unix_names_are_its_paths() {
        assert_eq!(strip_tmp("/run/x.sock.1234.tmp"), "/run/x.sock");
        assert_eq!(strip_tmp("/run/x.sock"), "/run/x.sock");
        assert_eq!(strip_tmp("/run/x.tmp"), "/run/x.tmp");
    }

    #[tokio::test]
    async fn a_connection_crosses_the_channel_and_the_end_is_told() {
        let (m, w) = socketpair().unwrap();
        let master = MasterEnd::new(m).unwrap();
        let (channel, mut gone) = Channel::new(w).unwrap();
        let mut ours = master.connect().unwrap();
        let mut theirs = channel.accept().await.unwrap().stream;
        ours.write_all(b"show info\n").await.unwrap();
        let mut buf = [0u8; 10];
        theirs.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"show info\n");
        channel.say_ready().unwrap();
        assert!(master.ready().await);
        drop(master);
        let accepting = tokio::spawn(async move {
            let _ = channel.accept().await;
        });
        gone.changed().await.unwrap();
        assert!(*gone.borrow());
        accepting.abort();
    }
}
