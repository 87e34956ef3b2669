//! Which interface a socket's bytes cross, from its addresses and the host's interface
//! addresses (`getifaddrs`).

use std::collections::HashMap;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// The host's addresses by interface name, and the loopback interface's name.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Interfaces {
    by_addr: HashMap<IpAddr, String>,
    loopback: Option<String>,
}

impl Interfaces {
    /// From `(interface, address, is_loopback)` triples.
    pub fn from_addrs(addrs: impl IntoIterator<Item = (String, IpAddr, bool)>) -> Interfaces {
        let mut out = Interfaces::default();
        for (name, addr, loopback) in addrs {
            if loopback {
                out.loopback.get_or_insert_with(|| name.clone());
            }
            out.by_addr.insert(addr.to_canonical(), name);
        }
        out
    }

    /// The current interfaces of this host.
    pub fn read() -> io::Result<Interfaces> {
        let mut head: *mut libc::ifaddrs = std::ptr::null_mut();
        // SAFETY: getifaddrs fills `head` with a list we free below with freeifaddrs.
        if unsafe { libc::getifaddrs(&mut head) } != 0 {
            return Err(io::Error::last_os_error());
        }
        let mut addrs = Vec::new();
        let mut cur = head;
        while !cur.is_null() {
            // SAFETY: `cur` is a node of the list getifaddrs returned, valid until freeifaddrs.
            let ifa = unsafe { &*cur };
            // SAFETY: ifa_name is a NUL-terminated string; ifa_addr, when not null, points to a
            // sockaddr whose family says which struct it is.
            let name = unsafe { std::ffi::CStr::from_ptr(ifa.ifa_name) }.to_string_lossy().into_owned();
            // SAFETY: as above, ifa_addr is null or a sockaddr of the family it names.
            if let Some(addr) = unsafe { ip_of(ifa.ifa_addr) } {
                addrs.push((name, addr, ifa.ifa_flags & libc::IFF_LOOPBACK as u32 != 0));
            }
            cur = ifa.ifa_next;
        }
        // SAFETY: `head` came from getifaddrs and is freed once.
        unsafe { libc::freeifaddrs(head) };
        Ok(Interfaces::from_addrs(addrs))
    }

    /// The interface a connection between `local` and `remote` crosses. Traffic between two of
    /// this host's own addresses stays on loopback whatever interface holds them, as the kernel
    /// routes it; `None` for an address no interface holds (it went away since the last read).
    pub fn of(&self, local: IpAddr, remote: IpAddr) -> Option<&str> {
        let (local, remote) = (local.to_canonical(), remote.to_canonical());
        if local.is_loopback() || remote.is_loopback() || self.by_addr.contains_key(&remote) {
            return self.loopback.as_deref();
        }
        self.by_addr.get(&local).map(String::as_str)
    }
}

/// # Safety
/// `sa` is null or points to a sockaddr of the size its family implies.
unsafe fn ip_of(sa: *const libc::sockaddr) -> Option<IpAddr> {
    if sa.is_null() {
        return None;
    }
    // SAFETY: per the contract, the family tells which struct `sa` points to.
    unsafe {
        match i32::from((*sa).sa_family) {
            libc::AF_INET => {
                let sin = &*(sa as *const libc::sockaddr_in);
                Some(IpAddr::V4(Ipv4Addr::from(u32::from_be(sin.sin_addr.s_addr))))
            }
            libc::AF_INET6 => {
                let sin6 = &*(sa as *const libc::sockaddr_in6);
                Some(IpAddr::V6(Ipv6Addr::from(sin6.sin6_addr.s6_addr)))
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn host() -> Interfaces {
        Interfaces::from_addrs([
            ("lo".to_string(), ip("127.0.0.1"), true),
            ("lo".to_string(), ip("::1"), true),
            ("eth0".to_string(), ip("192.168.1.5"), false),
            ("wlan0".to_string(), ip("2001:db8::5"), false),
        ])
    }

    #[test]
    fn a_socket_maps_to_the_interface_holding_its_local_address() {
        let h = host();
        assert_eq!(h.of(ip("192.168.1.5"), ip("10.0.0.9")), Some("eth0"));
        assert_eq!(h.of(ip("2001:db8::5"), ip("2001:db8::9")), Some("wlan0"));
        // IPv4 peers of a dual-stack socket appear as IPv4-mapped IPv6 addresses.
        assert_eq!(h.of(ip("::ffff:192.168.1.5"), ip("::ffff:10.0.0.9")), Some("eth0"));
        assert_eq!(h.of(ip("10.9.9.9"), ip("10.0.0.9")), None, "an address no interface holds");
    }

    #[test]
    fn local_traffic_is_loopback_even_on_an_external_address() {
        let h = host();
        assert_eq!(h.of(ip("127.0.0.1"), ip("127.0.0.1")), Some("lo"));
        assert_eq!(h.of(ip("::1"), ip("::1")), Some("lo"));
        assert_eq!(h.of(ip("::ffff:127.0.0.1"), ip("::ffff:127.0.0.1")), Some("lo"));
        assert_eq!(h.of(ip("192.168.1.5"), ip("192.168.1.5")), Some("lo"), "to our own address: routed over lo");
    }

    #[test]
    fn this_host_has_a_loopback_interface() {
        let h = Interfaces::read().unwrap();
        assert!(h.of(ip("127.0.0.1"), ip("127.0.0.1")).is_some(), "{h:?}");
    }
}
