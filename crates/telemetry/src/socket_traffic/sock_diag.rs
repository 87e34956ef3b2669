//! One dump of the kernel's TCP sockets over `NETLINK_SOCK_DIAG`, as `ss -ti` reads them: each
//! socket's inode, addresses and its `tcp_info` byte counters.

use std::io;
use std::net::IpAddr;

/// One TCP socket as the kernel reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TcpSocket {
    pub inode: u64,
    pub local: IpAddr,
    pub remote: IpAddr,
    /// `tcpi_bytes_acked`: bytes sent and acknowledged by the peer.
    pub sent: u64,
    /// `tcpi_bytes_received`.
    pub received: u64,
}

/// Offsets of `tcpi_bytes_acked` and `tcpi_bytes_received` in `struct tcp_info`
/// (linux/tcp.h, both since Linux 4.1/4.2): after 8 one-byte fields, 24 `u32`s and the two
/// `u64` pacing rates.
const BYTES_ACKED_AT: usize = 120;
const BYTES_RECEIVED_AT: usize = 128;

/// Sent (acked) and received byte counters from a raw `tcp_info`, in the host's byte order.
///
/// Read by offset rather than with the crate's typed `TcpInfo` (feature `rich_nlas`): that one
/// requires the full struct of the newest kernel it knows and fails on the shorter one older
/// kernels send, while these two fields only need the first 136 bytes.
pub fn tcp_info_bytes(info: &[u8]) -> Option<(u64, u64)> {
    let u64_at = |at: usize| Some(u64::from_ne_bytes(info.get(at..at + 8)?.try_into().ok()?));
    Some((u64_at(BYTES_ACKED_AT)?, u64_at(BYTES_RECEIVED_AT)?))
}

#[cfg(target_os = "linux")]
pub use linux::SockDiag;

#[cfg(target_os = "linux")]
mod linux {
    use netlink_packet_core::{NLM_F_DUMP, NLM_F_REQUEST, NetlinkHeader, NetlinkMessage, NetlinkPayload};
    use netlink_packet_sock_diag::SockDiagMessage;
    use netlink_packet_sock_diag::constants::{AF_INET, AF_INET6, IPPROTO_TCP};
    use netlink_packet_sock_diag::inet::{ExtensionFlags, InetRequest, SocketId, StateFlags, nlas::Nla};
    use netlink_sys::{Socket, SocketAddr, protocols::NETLINK_SOCK_DIAG};

    use super::*;

    /// An open sock_diag socket, reused for every dump.
    pub struct SockDiag {
        socket: Socket,
        buf: Vec<u8>,
    }

    impl SockDiag {
        pub fn open() -> io::Result<SockDiag> {
            let mut socket = Socket::new(NETLINK_SOCK_DIAG)?;
            socket.bind_auto()?;
            socket.connect(&SocketAddr::new(0, 0))?;
            // Dump replies come in messages of up to 32 KiB; a larger buffer never truncates one.
            Ok(SockDiag { socket, buf: vec![0; 64 * 1024] })
        }

        /// Every IPv4 and IPv6 TCP socket that can carry data (listening and TIME_WAIT ones
        /// have no byte counters), appended to `out`.
        pub fn dump(&mut self, out: &mut Vec<TcpSocket>) -> io::Result<()> {
            self.dump_family(AF_INET, SocketId::new_v4(), out)?;
            self.dump_family(AF_INET6, SocketId::new_v6(), out)
        }

        fn dump_family(&mut self, family: u8, socket_id: SocketId, out: &mut Vec<TcpSocket>) -> io::Result<()> {
            let mut header = NetlinkHeader::default();
            header.flags = NLM_F_REQUEST | NLM_F_DUMP;
            let states = StateFlags::all() - StateFlags::LISTEN - StateFlags::TIME_WAIT - StateFlags::SYN_RECV;
            let request =
                InetRequest { family, protocol: IPPROTO_TCP, extensions: ExtensionFlags::INFO, states, socket_id };
            let mut packet = NetlinkMessage::new(header, SockDiagMessage::InetRequest(request).into());
            packet.finalize();
            let mut req = vec![0; packet.buffer_len()];
            packet.serialize(&mut req);
            self.socket.send(&req, 0)?;
            loop {
                let n = self.socket.recv(&mut &mut self.buf[..], 0)?;
                let mut at = 0;
                while at < n {
                    let msg = NetlinkMessage::<SockDiagMessage>::deserialize(&self.buf[at..n])
                        .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e.to_string()))?;
                    let len = msg.header.length as usize;
                    match msg.payload {
                        NetlinkPayload::InnerMessage(SockDiagMessage::InetResponse(r)) => {
                            let counters = r.nlas.iter().find_map(|nla| match nla {
                                Nla::TcpInfo(info) => tcp_info_bytes(info),
                                _ => None,
                            });
                            if let Some((sent, received)) = counters {
                                let id = &r.header.socket_id;
                                out.push(TcpSocket {
                                    inode: u64::from(r.header.inode),
                                    local: id.source_address,
                                    remote: id.destination_address,
                                    sent,
                                    received,
                                });
                            }
                        }
                        NetlinkPayload::Done(_) => return Ok(()),
                        NetlinkPayload::Error(e) => return Err(e.to_io()),
                        _ => {}
                    }
                    if len == 0 {
                        break;
                    }
                    // Messages are 4-byte aligned in the datagram.
                    at += (len + 3) & !3;
                }
            }
        }
    }
}

/// Elsewhere there is no sock_diag: opening says so once and the table has no network rates.
#[cfg(not(target_os = "linux"))]
pub struct SockDiag;

#[cfg(not(target_os = "linux"))]
impl SockDiag {
    pub fn open() -> io::Result<SockDiag> {
        Err(io::Error::new(io::ErrorKind::Unsupported, "sock_diag is Linux-only"))
    }

    pub fn dump(&mut self, _out: &mut Vec<TcpSocket>) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_both_counters_from_a_tcp_info() {
        let mut info = vec![0u8; 232];
        info[120..128].copy_from_slice(&50_000_000u64.to_ne_bytes());
        info[128..136].copy_from_slice(&1234u64.to_ne_bytes());
        // A neighbour field (max_pacing_rate) must not leak in.
        info[112..120].copy_from_slice(&u64::MAX.to_ne_bytes());
        assert_eq!(tcp_info_bytes(&info), Some((50_000_000, 1234)));
        // An old kernel's short tcp_info (before 4.2) has no byte counters.
        assert_eq!(tcp_info_bytes(&info[..130]), None);
        assert_eq!(tcp_info_bytes(&info[..136]), Some((50_000_000, 1234)));
    }
}
