//! Who may do what through the control socket.
//!
//! The socket file is mode 0660 and belongs to the socket group (`socket_group` in
//! `exsyncd.toml`, default `exsync`, a name or a numeric gid), so only root, the daemon's
//! user and that group can connect at all. Each connection's peer is read with
//! `SO_PEERCRED` (uid, gid, pid) plus its supplementary groups (`SO_PEERGROUPS`: the groups
//! the peer had when it connected, from the kernel, with no race against pid reuse and no
//! need to read other processes' `/proc` entries, which the unit's `ProtectProc=invisible`
//! hides; `/proc/<pid>/status` only where the kernel predates 4.13), and gets one [`Right`]:
//!
//! - root and the daemon's own user: [`Right::Change`], everything;
//! - a member of the socket group (primary or supplementary): [`Right::Read`];
//! - anyone else: [`Right::None`].
//!
//! Which right a verb needs is the protocol's [`exsync_protocol::Request::needs`]; the control
//! server compares the two for every request.

use std::ffi::{CStr, CString};
use std::path::Path;

use exsync_protocol::Right;
use tokio::net::UnixStream;

/// The peer of one control connection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Peer {
    pub uid: u32,
    pub gid: u32,
    /// 0 when the kernel did not say.
    pub pid: u32,
    /// Supplementary groups of the peer's process, where they could be read.
    pub groups: Vec<u32>,
}

impl Peer {
    /// Reads the peer's credentials; `None` if the kernel does not give them.
    pub fn of(stream: &UnixStream) -> Option<Peer> {
        let cred = stream.peer_cred().ok()?;
        let pid = cred.pid().and_then(|p| u32::try_from(p).ok()).unwrap_or(0);
        Some(Peer {
            uid: cred.uid(),
            gid: cred.gid(),
            pid,
            groups: match socket_groups(stream) {
                Some(groups) => groups,
                None if pid != 0 => process_groups(pid),
                None => Vec::new(),
            },
        })
    }

    /// The peer's user name, where the uid resolves.
    pub fn user(&self) -> Option<String> {
        user_name(self.uid)
    }
}

/// The access policy of the running daemon.
#[derive(Clone, Debug)]
pub struct Access {
    /// The daemon's effective uid: its own user may change anything.
    pub own_uid: u32,
    /// The socket group's gid, if known.
    pub group: Option<u32>,
    /// How the group was named (for messages).
    pub group_name: String,
}

impl Access {
    /// What `peer` may do.
    pub fn right(&self, peer: &Peer) -> Right {
        if peer.uid == 0 || peer.uid == self.own_uid {
            Right::Change
        } else if self
            .group
            .is_some_and(|g| peer.gid == g || peer.groups.contains(&g))
        {
            Right::Read
        } else {
            Right::None
        }
    }

    /// Who may hold `right`, for the message of a refusal.
    pub fn who_may(&self, right: Right) -> String {
        match right {
            Right::Change | Right::None => "root and the daemon's own user".to_owned(),
            Right::Read => format!(
                "root, the daemon's own user and members of the socket group `{}`",
                self.group_name
            ),
        }
    }
}

/// Gives the socket file its group and returns the policy. A group that does not exist is
/// a warning: the socket keeps the group it was created with (the daemon's), and members of
/// that group read.
pub fn apply_socket_group(socket: &Path, spec: &str) -> Access {
    let own_uid = unsafe { libc::geteuid() };
    let current = std::fs::metadata(socket).ok().map(|m| {
        use std::os::unix::fs::MetadataExt;
        m.gid()
    });
    let group = match resolve_group(spec) {
        Some(gid) => match std::os::unix::fs::chown(socket, None, Some(gid)) {
            Ok(()) => Some(gid),
            Err(e) => {
                tracing::warn!(
                    group = spec,
                    gid,
                    socket = %socket.display(),
                    error = %e,
                    "Could not give the control socket its group; it keeps the daemon's group."
                );
                current
            }
        },
        None => {
            tracing::warn!(
                group = spec,
                socket = %socket.display(),
                "The control socket's group does not exist; the socket keeps the daemon's \
                 group. Create the group (systemd-sysusers) or set socket_group in exsyncd.toml."
            );
            current
        }
    };
    Access {
        own_uid,
        group,
        group_name: spec.to_owned(),
    }
}

/// A group name or a numeric gid as a gid; `None` if no such group name exists.
pub fn resolve_group(spec: &str) -> Option<u32> {
    if let Ok(gid) = spec.parse::<u32>() {
        return Some(gid);
    }
    let name = CString::new(spec).ok()?;
    let mut group: libc::group = unsafe { std::mem::zeroed() };
    let mut result: *mut libc::group = std::ptr::null_mut();
    let mut buf = vec![0u8; 16 * 1024];
    let rc = unsafe {
        libc::getgrnam_r(
            name.as_ptr(),
            &mut group,
            buf.as_mut_ptr().cast(),
            buf.len(),
            &mut result,
        )
    };
    (rc == 0 && !result.is_null()).then_some(group.gr_gid)
}

/// The user name of `uid`, if the user database knows it.
pub fn user_name(uid: u32) -> Option<String> {
    let mut pw: libc::passwd = unsafe { std::mem::zeroed() };
    let mut result: *mut libc::passwd = std::ptr::null_mut();
    let mut buf = vec![0u8; 16 * 1024];
    let rc = unsafe {
        libc::getpwuid_r(
            uid,
            &mut pw,
            buf.as_mut_ptr().cast(),
            buf.len(),
            &mut result,
        )
    };
    if rc != 0 || result.is_null() || pw.pw_name.is_null() {
        return None;
    }
    let name = unsafe { CStr::from_ptr(pw.pw_name) };
    Some(name.to_string_lossy().into_owned())
}

/// The peer's supplementary groups as the kernel recorded them at connect (`SO_PEERGROUPS`,
/// Linux 4.13 and later); `None` if the kernel does not support it.
pub fn socket_groups(stream: &UnixStream) -> Option<Vec<u32>> {
    use std::os::fd::AsRawFd;
    let fd = stream.as_raw_fd();
    let mut groups: Vec<libc::gid_t> = vec![0; 64];
    loop {
        let mut len = (groups.len() * std::mem::size_of::<libc::gid_t>()) as libc::socklen_t;
        // SAFETY: `groups` has room for `len` bytes; the kernel writes at most that many and
        // sets `len` to what it wrote (or, with ERANGE, to what it needs).
        let rc = unsafe {
            libc::getsockopt(
                fd,
                libc::SOL_SOCKET,
                libc::SO_PEERGROUPS,
                groups.as_mut_ptr().cast(),
                &mut len,
            )
        };
        let count = len as usize / std::mem::size_of::<libc::gid_t>();
        if rc == 0 {
            groups.truncate(count);
            return Some(groups);
        }
        let err = std::io::Error::last_os_error();
        if err.raw_os_error() == Some(libc::ERANGE) && count > groups.len() && count <= 65_536 {
            groups.resize(count, 0);
            continue;
        }
        return None;
    }
}

/// The supplementary groups of a process (`Groups:` of `/proc/<pid>/status`); empty if the
/// process is gone or the file cannot be read.
pub fn process_groups(pid: u32) -> Vec<u32> {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .map(|status| parse_groups(&status))
        .unwrap_or_default()
}

fn parse_groups(status: &str) -> Vec<u32> {
    status
        .lines()
        .find_map(|l| l.strip_prefix("Groups:"))
        .map(|g| {
            g.split_whitespace()
                .filter_map(|n| n.parse().ok())
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn peer(uid: u32, gid: u32, groups: &[u32]) -> Peer {
        Peer {
            uid,
            gid,
            pid: 1,
            groups: groups.to_vec(),
        }
    }

    #[test]
    fn root_and_own_user_change_group_members_read_others_nothing() {
        let access = Access {
            own_uid: 990,
            group: Some(991),
            group_name: "exsync".into(),
        };
        assert_eq!(access.right(&peer(0, 0, &[])), Right::Change);
        assert_eq!(access.right(&peer(990, 990, &[])), Right::Change);
        assert_eq!(access.right(&peer(1000, 991, &[])), Right::Read);
        assert_eq!(access.right(&peer(1000, 1000, &[4, 991])), Right::Read);
        assert_eq!(access.right(&peer(1000, 1000, &[4, 27])), Right::None);
        let no_group = Access {
            group: None,
            ..access
        };
        assert_eq!(no_group.right(&peer(1000, 991, &[991])), Right::None);
    }

    #[test]
    fn groups_line_of_proc_status() {
        let status = "Name:\tcat\nUid:\t1000\t1000\t1000\t1000\nGroups:\t4 27 991 \nNgid:\t0\n";
        assert_eq!(parse_groups(status), [4, 27, 991]);
        assert!(parse_groups("Groups:\t\n").is_empty());
        // Our own process: the same groups getgroups(2) gives.
        let mut own = vec![0 as libc::gid_t; 256];
        let n = unsafe { libc::getgroups(own.len() as i32, own.as_mut_ptr()) };
        own.truncate(n as usize);
        let mut read = process_groups(std::process::id());
        own.sort_unstable();
        read.sort_unstable();
        assert_eq!(read, own);
    }

    #[test]
    fn socket_group_setting_takes_a_name_or_a_number_and_defaults_to_exsync() {
        use crate::config::{Overrides, Settings};
        let dir = tempfile::tempdir().unwrap();
        let load = |text: &str| {
            std::fs::write(dir.path().join("exsyncd.toml"), text).unwrap();
            Settings::load(dir.path(), Overrides::default())
        };
        assert_eq!(load("").unwrap().socket_group, "exsync");
        assert_eq!(load("socket_group = 990\n").unwrap().socket_group, "990");
        assert_eq!(
            load("socket_group = \"ops\"\n").unwrap().socket_group,
            "ops"
        );
        let err = load("socket_group = \"\"\n").unwrap_err();
        assert!(err.message.contains("socket_group"), "{err}");
        assert!(load("socket_group = true\n").is_err());
    }

    #[test]
    fn numeric_groups_resolve_without_a_lookup_and_root_resolves() {
        assert_eq!(resolve_group("61234"), Some(61234));
        assert_eq!(resolve_group("root"), Some(0));
        assert_eq!(resolve_group("no-such-group-exsync-test"), None);
        assert_eq!(user_name(0).as_deref(), Some("root"));
    }
}
