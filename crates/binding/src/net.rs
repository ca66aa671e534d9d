//! Listening sockets made natively, because Node 20 ignores `listen({ reusePort })`: each
//! worker opens its own SO_REUSEPORT socket on the same address and hands the fd to
//! `net.Server.listen({ fd })`, so the kernel spreads connections over workers. And the
//! options an accepted client's socket gets (`tcp-keepalive`), on either transport.

use std::net::{IpAddr, SocketAddr};

use napi::{Error, Result, Status};
use napi_derive::napi;

fn os_err(what: &str, addr: &SocketAddr) -> Error {
    let err = std::io::Error::last_os_error();
    Error::new(Status::GenericFailure, format!("{what} {addr}: {err}"))
}

/// Create, bind and listen a non-blocking TCP socket with SO_REUSEADDR and SO_REUSEPORT set;
/// returns its fd. `host` is an IP literal (`127.0.0.1`, `0.0.0.0`, `::1`, `::`).
#[napi(catch_unwind)]
pub fn listen_reuseport(host: String, port: u32, backlog: i32) -> Result<i32> {
    let addr = socket_addr(&host, port)?;
    let fd = bound_socket(&addr, true)?;
    // SAFETY: listen, or close on failure, on the fd bound_socket just made.
    unsafe {
        if libc::listen(fd, backlog) != 0 {
            let e = os_err("listen", &addr);
            libc::close(fd);
            return Err(e);
        }
    }
    Ok(fd)
}

/// Fail, as `bind: <reason>`, when `host:port` is taken: bound by a socket without SO_REUSEPORT
/// (another server), or by one with it (another Shrike, which would otherwise share the port
/// and split the clients between two keyspaces). Called before any worker listens, with a
/// socket that does not join the port's reuse group; it is closed at once.
#[napi(catch_unwind)]
pub fn check_port_free(host: String, port: u32) -> Result<()> {
    let addr = socket_addr(&host, port)?;
    let fd = bound_socket(&addr, false)?;
    // SAFETY: closing the fd bound_socket just made.
    unsafe {
        libc::close(fd);
    }
    Ok(())
}

fn socket_addr(host: &str, port: u32) -> Result<SocketAddr> {
    let ip: IpAddr = host.parse().map_err(|_| {
        Error::new(
            Status::InvalidArg,
            format!("bind address is not an IP: {host}"),
        )
    })?;
    let port =
        u16::try_from(port).map_err(|_| Error::new(Status::InvalidArg, "port out of range"))?;
    Ok(SocketAddr::new(ip, port))
}

/// A non-blocking TCP socket with SO_REUSEADDR (and SO_REUSEPORT when `reuse_port`), bound
/// to `addr`; IPv6 sockets are v6-only.
fn bound_socket(addr: &SocketAddr, reuse_port: bool) -> Result<i32> {
    let family = if addr.is_ipv4() {
        libc::AF_INET
    } else {
        libc::AF_INET6
    };
    // SAFETY: plain socket syscalls on an fd we own; the sockaddr structs are fully initialised
    // and their sizes passed match their types. On any failure the fd is closed before returning.
    unsafe {
        let fd = libc::socket(
            family,
            libc::SOCK_STREAM | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC,
            0,
        );
        if fd < 0 {
            return Err(os_err("socket", addr));
        }
        let fail = |what: &str| {
            let e = os_err(what, addr);
            libc::close(fd);
            e
        };
        let one: libc::c_int = 1;
        let one_ptr = &one as *const libc::c_int as *const libc::c_void;
        let one_len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
        if libc::setsockopt(fd, libc::SOL_SOCKET, libc::SO_REUSEADDR, one_ptr, one_len) != 0 {
            return Err(fail("SO_REUSEADDR"));
        }
        if reuse_port
            && libc::setsockopt(fd, libc::SOL_SOCKET, libc::SO_REUSEPORT, one_ptr, one_len) != 0
        {
            return Err(fail("SO_REUSEPORT"));
        }
        let rc = match addr {
            SocketAddr::V4(a) => {
                let mut sa: libc::sockaddr_in = std::mem::zeroed();
                sa.sin_family = libc::AF_INET as libc::sa_family_t;
                sa.sin_port = a.port().to_be();
                sa.sin_addr.s_addr = u32::from_ne_bytes(a.ip().octets());
                libc::bind(
                    fd,
                    &sa as *const libc::sockaddr_in as *const libc::sockaddr,
                    std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t,
                )
            }
            SocketAddr::V6(a) => {
                if libc::setsockopt(fd, libc::IPPROTO_IPV6, libc::IPV6_V6ONLY, one_ptr, one_len)
                    != 0
                {
                    return Err(fail("IPV6_V6ONLY"));
                }
                let mut sa: libc::sockaddr_in6 = std::mem::zeroed();
                sa.sin6_family = libc::AF_INET6 as libc::sa_family_t;
                sa.sin6_port = a.port().to_be();
                sa.sin6_addr.s6_addr = a.ip().octets();
                libc::bind(
                    fd,
                    &sa as *const libc::sockaddr_in6 as *const libc::sockaddr,
                    std::mem::size_of::<libc::sockaddr_in6>() as libc::socklen_t,
                )
            }
        };
        if rc != 0 {
            return Err(fail("bind"));
        }
        Ok(fd)
    }
}

/// The local port a listening fd is bound to (useful when asked for port 0).
#[napi(catch_unwind)]
pub fn local_port(fd: i32) -> Result<u32> {
    // SAFETY: getsockname fills at most `len` bytes of a zeroed sockaddr_storage.
    unsafe {
        let mut ss: libc::sockaddr_storage = std::mem::zeroed();
        let mut len = std::mem::size_of::<libc::sockaddr_storage>() as libc::socklen_t;
        if libc::getsockname(fd, &mut ss as *mut _ as *mut libc::sockaddr, &mut len) != 0 {
            let err = std::io::Error::last_os_error();
            return Err(Error::new(
                Status::GenericFailure,
                format!("getsockname: {err}"),
            ));
        }
        let port = if ss.ss_family as i32 == libc::AF_INET {
            u16::from_be((*(&ss as *const _ as *const libc::sockaddr_in)).sin_port)
        } else {
            u16::from_be((*(&ss as *const _ as *const libc::sockaddr_in6)).sin6_port)
        };
        Ok(u32::from(port))
    }
}

/// Turn on TCP keepalive on a client's socket as Redis's `anetKeepAlive` does for
/// `tcp-keepalive <interval>`: the first probe after `interval` idle seconds, then one every
/// interval/3 seconds (at least 1), and the peer is dropped after 3 unanswered probes, so a
/// client that vanished without a FIN is found in about twice the interval. 0: leave it off.
pub fn keepalive(fd: i32, interval: u32) -> std::io::Result<()> {
    if interval == 0 {
        return Ok(());
    }
    let idle = interval.min(i32::MAX as u32) as libc::c_int;
    let opts: [(libc::c_int, libc::c_int, libc::c_int); 4] = [
        (libc::SOL_SOCKET, libc::SO_KEEPALIVE, 1),
        (libc::IPPROTO_TCP, libc::TCP_KEEPIDLE, idle),
        (libc::IPPROTO_TCP, libc::TCP_KEEPINTVL, (idle / 3).max(1)),
        (libc::IPPROTO_TCP, libc::TCP_KEEPCNT, 3),
    ];
    for (level, name, value) in opts {
        set_int_option(fd, level, name, value)?;
    }
    Ok(())
}

/// One integer socket option (`setsockopt`) on a client's socket.
pub fn set_int_option(
    fd: i32,
    level: libc::c_int,
    name: libc::c_int,
    value: libc::c_int,
) -> std::io::Result<()> {
    // SAFETY: setsockopt on a caller's fd with a live c_int of the size given.
    let rc = unsafe {
        libc::setsockopt(
            fd,
            level,
            name,
            (&value as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

/// `keepalive` for a socket Node accepted (the Node-socket transport), by its fd.
#[napi(catch_unwind)]
pub fn socket_keepalive(fd: i32, interval: u32) -> Result<()> {
    keepalive(fd, interval)
        .map_err(|e| Error::new(Status::GenericFailure, format!("tcp-keepalive: {e}")))
}
