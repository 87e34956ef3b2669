//! What one sample of per-process TCP traffic costs with many sockets: the dump alone (first
//! sample), the dump plus the `/proc` scan that finds the owners of every socket at once (all
//! new and busy: the worst case), and the steady state with every owner cached.
//!
//! `cargo run --release -p steward-telemetry --example socket_traffic_cost -- 1000`

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::Instant;

use steward_telemetry::socket_traffic::{Interfaces, SockDiag, SocketTraffic};

fn raise_fd_limit() {
    let mut lim = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: plain get/set of this process's own limit.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) == 0 {
            lim.rlim_cur = lim.rlim_max;
            libc::setrlimit(libc::RLIMIT_NOFILE, &lim);
        }
    }
}

fn main() {
    let connections: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(1000);
    raise_fd_limit();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let pairs: Vec<(TcpStream, TcpStream)> = (0..connections)
        .map(|_| {
            let c = TcpStream::connect(addr).unwrap();
            (c, listener.accept().unwrap().0)
        })
        .collect();
    // 100 KB per connection and sample: over a synthetic second, every socket is busy.
    let chunk = vec![1u8; 100_000];
    let mut sink = vec![0u8; 100_000];
    let push = |pairs: &[(TcpStream, TcpStream)], sink: &mut [u8]| {
        for (c, s) in pairs {
            (&*c).write_all(&chunk).unwrap();
            (&*s).read_exact(sink).unwrap();
        }
        // Let the last ACKs arrive.
        std::thread::sleep(std::time::Duration::from_millis(100));
    };
    let mut t = SocketTraffic::new("/");
    let time = |t: &mut SocketTraffic, ms: i64| {
        let start = Instant::now();
        let out = t.sample(ms, 5_000);
        (start.elapsed(), out.map_or(0, |p| p.len()))
    };
    let (seed, _) = time(&mut t, 0);
    push(&pairs, &mut sink);
    let (first, procs) = time(&mut t, 1_000);
    let mut steady = Vec::new();
    for i in 2..22 {
        push(&pairs, &mut sink);
        steady.push(time(&mut t, i * 1_000).0);
    }
    steady.sort();
    let median = |f: &mut dyn FnMut()| {
        let mut d: Vec<_> = (0..21)
            .map(|_| {
                let start = Instant::now();
                f();
                start.elapsed()
            })
            .collect();
        d.sort();
        d[10]
    };
    let mut diag = SockDiag::open().unwrap();
    let mut dump = Vec::new();
    let dump_alone = median(&mut || {
        dump.clear();
        diag.dump(&mut dump).unwrap();
    });
    let getifaddrs = median(&mut || drop(Interfaces::read().unwrap()));
    println!("{} TCP sockets ({connections} loopback connections), {procs} process(es) attributed", 2 * connections);
    println!("dump only (first sample):               {seed:?}");
    println!("dump + /proc scan for all owners:       {first:?}");
    println!("dump + cached owners, median of 20:     {:?} (min {:?}, max {:?})", steady[10], steady[0], steady[19]);
    println!(
        "of which the netlink dump alone:        {dump_alone:?} (median of 21, {} sockets with counters)",
        dump.len()
    );
    println!("of which getifaddrs alone:              {getifaddrs:?} (median of 21)");
}
