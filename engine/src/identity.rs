//! The process's identity: `chroot`, `user`/`uid`, `group`/`gid`.
//!
//! Names are looked up while the configuration is parsed (HAProxy calls
//! getpwnam/getgrnam there, so `-c` already fails on an unknown user).
//! The change itself happens once the listeners are bound, before the old
//! processes of a reload are told to go: chroot (then chdir "/"), drop the
//! supplementary groups, setgid, setuid, in HAProxy's order and with its
//! messages.

use std::ffi::{CStr, CString};
use std::fmt;
use std::path::Path;

/// A failed lookup, shown as HAProxy shows it: `0:Success` when the name
/// simply does not exist.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LookupError(i32);

impl fmt::Display for LookupError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // SAFETY: strerror returns a valid C string for any errno; the
        // lookup runs before the engine starts any thread that calls it.
        let text = unsafe { CStr::from_ptr(libc::strerror(self.0)) };
        write!(f, "{}:{}", self.0, text.to_string_lossy())
    }
}

/// The buffer the reentrant lookups fill (names, passwords, members).
const LOOKUP_BUFFER: usize = 16 * 1024;

/// getpwnam_r: the user's id.
pub fn user_id(name: &str) -> Result<i32, LookupError> {
    let name = CString::new(name).map_err(|_| LookupError(0))?;
    let mut buf = vec![0 as libc::c_char; LOOKUP_BUFFER];
    // SAFETY: all-zero is a valid passwd (null pointers, zero ids).
    let mut entry: libc::passwd = unsafe { std::mem::zeroed() };
    let mut found: *mut libc::passwd = std::ptr::null_mut();
    // SAFETY: every pointer is valid for the call, the buffer's length is passed.
    let rc = unsafe {
        libc::getpwnam_r(
            name.as_ptr(),
            &mut entry,
            buf.as_mut_ptr(),
            buf.len(),
            &mut found,
        )
    };
    match (rc, found.is_null()) {
        (0, false) => Ok(entry.pw_uid as i32),
        (rc, _) => Err(LookupError(rc)),
    }
}

/// getgrnam_r: the group's id.
pub fn group_id(name: &str) -> Result<i32, LookupError> {
    let name = CString::new(name).map_err(|_| LookupError(0))?;
    let mut buf = vec![0 as libc::c_char; LOOKUP_BUFFER];
    // SAFETY: all-zero is a valid group (null pointers, zero id).
    let mut entry: libc::group = unsafe { std::mem::zeroed() };
    let mut found: *mut libc::group = std::ptr::null_mut();
    // SAFETY: as above.
    let rc = unsafe {
        libc::getgrnam_r(
            name.as_ptr(),
            &mut entry,
            buf.as_mut_ptr(),
            buf.len(),
            &mut found,
        )
    };
    match (rc, found.is_null()) {
        (0, false) => Ok(entry.gr_gid as i32),
        (rc, _) => Err(LookupError(rc)),
    }
}

/// Why the identity could not be taken: HAProxy's alert text, without
/// the `[program.main()] ` prefix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChangeError {
    #[error("Cannot chroot({0}).")]
    Chroot(String),
    #[error("Cannot set gid {0}.")]
    Gid(i32),
    #[error("Cannot set uid {0}.")]
    Uid(i32),
}

/// What the change printed on its way (HAProxy's warning when the
/// supplementary groups cannot be dropped).
pub type Warnings = Vec<String>;

/// Takes the configured identity. A uid or gid of 0 means unchanged.
pub fn change(chroot: Option<&Path>, uid: i32, gid: i32) -> Result<Warnings, ChangeError> {
    let mut warnings = Vec::new();
    if let Some(dir) = chroot {
        std::os::unix::fs::chroot(dir)
            .and_then(|()| std::env::set_current_dir("/"))
            .map_err(|_| ChangeError::Chroot(dir.display().to_string()))?;
    }
    if gid != 0 {
        // SAFETY: plain system calls on integers; glibc applies them to
        // every thread of the process.
        unsafe {
            if libc::getgroups(0, std::ptr::null_mut()) > 0
                && libc::setgroups(0, std::ptr::null()) == -1
            {
                warnings.push("Failed to drop supplementary groups. Using 'gid'/'group' without 'uid'/'user' is generally useless.".to_string());
            }
            if libc::setgid(gid as libc::gid_t) == -1 {
                return Err(ChangeError::Gid(gid));
            }
        }
    }
    // SAFETY: as above.
    if uid != 0 && unsafe { libc::setuid(uid as libc::uid_t) } == -1 {
        return Err(ChangeError::Uid(uid));
    }
    Ok(warnings)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_exists_and_nonsense_does_not() {
        assert_eq!(user_id("root"), Ok(0));
        assert_eq!(group_id("root"), Ok(0));
        let missing = user_id("no-such-user-here").unwrap_err();
        assert_eq!(missing.to_string(), "0:Success");
        assert!(group_id("").is_err());
    }
}
