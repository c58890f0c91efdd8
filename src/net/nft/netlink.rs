//! The nfnetlink socket: nftables messages sent as one atomic batch (all applied or none),
//! acks awaited for each, and rule handles read from the kernel's echo of new rules.

use std::io;
use std::os::fd::OwnedFd;

use nix::sys::socket::{
    self, sockopt, AddressFamily, MsgFlags, NetlinkAddr, SockFlag, SockProtocol, SockType,
};
use nix::sys::time::TimeVal;

use super::attr::{find, Attrs};

const NLM_F_REQUEST: u16 = 0x1;
const NLM_F_ACK: u16 = 0x4;
const NLM_F_ECHO: u16 = 0x8;
pub(super) const NLM_F_CREATE: u16 = 0x400;
pub(super) const NLM_F_APPEND: u16 = 0x800;
const NLMSG_ERROR: u16 = 2;
const NFNL_SUBSYS_NFTABLES: u16 = 10;
const NFNL_MSG_BATCH_BEGIN: u16 = 0x10;
const NFNL_MSG_BATCH_END: u16 = 0x11;

pub(super) const MSG_NEWTABLE: u16 = 0;
pub(super) const MSG_DELTABLE: u16 = 2;
pub(super) const MSG_NEWCHAIN: u16 = 3;
pub(super) const MSG_NEWRULE: u16 = 6;
pub(super) const MSG_DELRULE: u16 = 8;
const NFTA_RULE_HANDLE: u16 = 3;

/// One nftables message of a batch.
pub(super) struct Msg {
    pub(super) kind: u16,
    pub(super) flags: u16,
    pub(super) attrs: Attrs,
}

pub(super) struct Nfnl {
    fd: OwnedFd,
    seq: u32,
}

impl Nfnl {
    pub(super) fn open() -> io::Result<Nfnl> {
        let fd = socket::socket(
            AddressFamily::Netlink,
            SockType::Raw,
            SockFlag::SOCK_CLOEXEC,
            SockProtocol::NetlinkNetFilter,
        )?;
        socket::bind(
            std::os::fd::AsRawFd::as_raw_fd(&fd),
            &NetlinkAddr::new(0, 0),
        )?;
        // A kernel that never answers must not hang the daemon.
        let timeout = TimeVal::new(5, 0);
        socket::setsockopt(&fd, sockopt::ReceiveTimeout, &timeout)?;
        let _ = socket::setsockopt(&fd, sockopt::RcvBuf, &(1 << 20));
        Ok(Nfnl { fd, seq: 1 })
    }

    /// Sends `msgs` for table family `family` as one batch; returns, per message, the
    /// handle the kernel echoed for a new rule. An error is the first errno reported.
    pub(super) fn batch(&mut self, family: u8, msgs: Vec<Msg>) -> io::Result<Vec<Option<u64>>> {
        let mut buf = Vec::new();
        let first = self.seq;
        self.put_header(
            &mut buf,
            NFNL_MSG_BATCH_BEGIN,
            NLM_F_REQUEST,
            0,
            NFNL_SUBSYS_NFTABLES,
            &[],
        );
        for m in &msgs {
            let mut flags = NLM_F_REQUEST | NLM_F_ACK | m.flags;
            if m.kind == MSG_NEWRULE {
                flags |= NLM_F_ECHO;
            }
            let kind = (NFNL_SUBSYS_NFTABLES << 8) | m.kind;
            self.put_header(&mut buf, kind, flags, family, 0, &m.attrs.0);
        }
        self.put_header(
            &mut buf,
            NFNL_MSG_BATCH_END,
            NLM_F_REQUEST,
            0,
            NFNL_SUBSYS_NFTABLES,
            &[],
        );
        let kernel = NetlinkAddr::new(0, 0);
        socket::sendto(
            std::os::fd::AsRawFd::as_raw_fd(&self.fd),
            &buf,
            &kernel,
            MsgFlags::empty(),
        )?;
        // Sequence numbers of the messages proper: first + 1 ..= first + n.
        let n = msgs.len();
        let mut acked = vec![false; n];
        let mut handles = vec![None; n];
        let wants_echo: Vec<bool> = msgs.iter().map(|m| m.kind == MSG_NEWRULE).collect();
        let mut rbuf = vec![0u8; 1 << 16];
        while !(acked.iter().all(|a| *a)
            && handles
                .iter()
                .zip(&wants_echo)
                .all(|(h, w)| h.is_some() || !w))
        {
            let len = socket::recv(
                std::os::fd::AsRawFd::as_raw_fd(&self.fd),
                &mut rbuf,
                MsgFlags::empty(),
            )?;
            let mut rest = &rbuf[..len];
            while rest.len() >= 16 {
                let mlen = u32::from_ne_bytes([rest[0], rest[1], rest[2], rest[3]]) as usize;
                if mlen < 16 || mlen > rest.len() {
                    break;
                }
                let kind = u16::from_ne_bytes([rest[4], rest[5]]);
                let seq = u32::from_ne_bytes([rest[8], rest[9], rest[10], rest[11]]);
                let body = &rest[16..mlen];
                rest = &rest[((mlen + 3) & !3).min(rest.len())..];
                if kind == NLMSG_ERROR
                    && body.len() >= 4
                    && (seq == first || seq == first + n as u32 + 1)
                {
                    // An error about the batch itself (begin or end marker).
                    let err = i32::from_ne_bytes([body[0], body[1], body[2], body[3]]);
                    if err != 0 {
                        return Err(io::Error::from_raw_os_error(-err));
                    }
                }
                let Some(i) = seq
                    .checked_sub(first + 1)
                    .map(|i| i as usize)
                    .filter(|&i| i < n)
                else {
                    continue; // left over from an earlier batch that failed
                };
                if kind == NLMSG_ERROR && body.len() >= 4 {
                    let err = i32::from_ne_bytes([body[0], body[1], body[2], body[3]]);
                    if err != 0 {
                        return Err(io::Error::from_raw_os_error(-err));
                    }
                    acked[i] = true;
                } else if kind == (NFNL_SUBSYS_NFTABLES << 8) | MSG_NEWRULE && body.len() >= 4 {
                    if let Some(h) = find(&body[4..], NFTA_RULE_HANDLE) {
                        if let Ok(b) = <[u8; 8]>::try_from(h) {
                            handles[i] = Some(u64::from_be_bytes(b));
                        }
                    }
                }
            }
        }
        Ok(handles)
    }

    fn put_header(
        &mut self,
        buf: &mut Vec<u8>,
        kind: u16,
        flags: u16,
        family: u8,
        res_id: u16,
        attrs: &[u8],
    ) {
        let len = (16 + 4 + attrs.len()) as u32;
        buf.extend_from_slice(&len.to_ne_bytes());
        buf.extend_from_slice(&kind.to_ne_bytes());
        buf.extend_from_slice(&flags.to_ne_bytes());
        buf.extend_from_slice(&self.seq.to_ne_bytes());
        buf.extend_from_slice(&0u32.to_ne_bytes());
        self.seq = self.seq.wrapping_add(1);
        // struct nfgenmsg: family, version (NFNETLINK_V0), resource id (big endian)
        buf.push(family);
        buf.push(0);
        buf.extend_from_slice(&res_id.to_be_bytes());
        buf.extend_from_slice(attrs);
    }
}
