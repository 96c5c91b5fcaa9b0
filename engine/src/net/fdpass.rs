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

/// Lets `fd` survive exec (a child or a re-executed master takes it).
pub fn keep_across_exec(fd: RawFd) -> io::Result<()> {
    // SAFETY: fcntl on a descriptor number; an invalid one yields EBADF.
    let flags = unsafe { libc::fcntl(fd, libc::F_GETFD) };
    if flags < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: as above.
    if unsafe { libc::fcntl(fd, libc::F_SETFD, flags & !libc::FD_CLOEXEC) } < 0 {
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
    // SAFETY: fcntl on the descriptor we now own.
    if unsafe { libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC) } < 0 {
        return Err(io::Error::last_os_error());
    }
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
    let mut byte = [b'c'];
    let mut iov = libc::iovec {
        iov_base: byte.as_mut_ptr().cast(),
        iov_len: 1,
    };
    // SAFETY: CMSG_SPACE is a pure computation.
    let space = unsafe { libc::CMSG_SPACE(std::mem::size_of::<RawFd>() as u32) } as usize;
    let mut control = vec![0u8; space];
    // SAFETY: msghdr is plain data; zero is a valid empty value.
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.as_mut_ptr().cast();
    msg.msg_controllen = space as _;
    // SAFETY: the control buffer has room for one header and one fd, as
    // CMSG_SPACE computed; CMSG_FIRSTHDR and CMSG_DATA point inside it.
    unsafe {
        let cmsg = libc::CMSG_FIRSTHDR(&msg);
        (*cmsg).cmsg_level = libc::SOL_SOCKET;
        (*cmsg).cmsg_type = libc::SCM_RIGHTS;
        (*cmsg).cmsg_len = libc::CMSG_LEN(std::mem::size_of::<RawFd>() as u32) as _;
        std::ptr::write_unaligned(libc::CMSG_DATA(cmsg).cast::<RawFd>(), fd.as_raw_fd());
    }
    // SAFETY: msg points at live buffers for the duration of the call.
    let n = unsafe { libc::sendmsg(channel, &msg, libc::MSG_NOSIGNAL) };
    if n < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
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
    let mut iov = libc::iovec {
        iov_base: byte.as_mut_ptr().cast(),
        iov_len: 1,
    };
    // SAFETY: CMSG_SPACE is a pure computation.
    let space = unsafe { libc::CMSG_SPACE(std::mem::size_of::<RawFd>() as u32) } as usize;
    let mut control = vec![0u8; space];
    // SAFETY: msghdr is plain data; zero is a valid empty value.
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.as_mut_ptr().cast();
    msg.msg_controllen = space as _;
    // SAFETY: msg points at live buffers for the duration of the call.
    let n = unsafe { libc::recvmsg(channel, &mut msg, libc::MSG_CMSG_CLOEXEC) };
    if n < 0 {
        return Err(io::Error::last_os_error());
    }
    if n == 0 {
        return Ok(Received::End);
    }
    // SAFETY: the kernel filled msg_control; the macros walk inside it.
    unsafe {
        let cmsg = libc::CMSG_FIRSTHDR(&msg);
        if !cmsg.is_null()
            && (*cmsg).cmsg_level == libc::SOL_SOCKET
            && (*cmsg).cmsg_type == libc::SCM_RIGHTS
        {
            let fd = std::ptr::read_unaligned(libc::CMSG_DATA(cmsg).cast::<RawFd>());
            return Ok(Received::Fd(OwnedFd::from_raw_fd(fd)));
        }
    }
    Ok(Received::Byte)
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
                        return Ok(Accepted {
                            stream: into_stream(fd)?,
                            peer: None,
                            local: None,
                            family: Family::Unix,
                        })
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

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

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
