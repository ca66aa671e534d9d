//! The process's open-file limit: raise RLIMIT_NOFILE for `maxclients` as Redis's
//! adjustOpenFilesLimit (server.c) does, and say how far it got. What to do with a shortfall
//! (cap maxclients, log, refuse CONFIG SET) is decided in TypeScript.

use napi::{Error, Result, Status};
use napi_derive::napi;

/// Redis lowers its request this many descriptors at a time until setrlimit accepts it.
const DECR_STEP: u64 = 16;

/// What `adjustOpenFilesLimit` got.
#[napi(object)]
pub struct OpenFilesLimit {
    /// RLIMIT_NOFILE's soft limit before the call.
    pub old_limit: f64,
    /// The soft limit in force after the call: `want`, or less when the OS refused.
    pub limit: f64,
    /// strerror of the last refused setrlimit, '' when none was refused.
    pub error: String,
}

/// Make RLIMIT_NOFILE at least `want` if the OS allows, else the most Redis would get, and
/// report it. A limit already at or above `want` is left alone.
#[napi(catch_unwind)]
pub fn adjust_open_files_limit(want: f64) -> Result<OpenFilesLimit> {
    let want = want as u64;
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes one plain struct we own.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } != 0 {
        let err = std::io::Error::last_os_error();
        return Err(Error::new(
            Status::GenericFailure,
            format!("getrlimit(RLIMIT_NOFILE): {err}"),
        ));
    }
    let old = lim.rlim_cur;
    let done = |limit: u64, error: String| OpenFilesLimit {
        old_limit: old as f64,
        limit: limit as f64,
        error,
    };
    if old >= want {
        return Ok(done(old, String::new()));
    }
    let mut errno = match set_limit(want) {
        Ok(()) => return Ok(done(want, String::new())),
        Err(e) => e,
    };
    // Redis tries want, want-16, want-32, ... down to the old limit, one setrlimit each
    // (62 million calls for maxclients 1e9). The kernel refuses exactly the values above the
    // hard limit, or above fs.nr_open for a privileged process, so trying the first step at or
    // below each of those, highest first, lands where Redis's loop would stop.
    let mut ceilings = [nr_open().unwrap_or(0), lim.rlim_max];
    ceilings.sort_unstable_by(|a, b| b.cmp(a));
    for ceiling in ceilings {
        if ceiling >= want {
            continue;
        }
        let best = want.saturating_sub((want - ceiling).div_ceil(DECR_STEP) * DECR_STEP);
        if best <= old {
            break;
        }
        match set_limit(best) {
            Ok(()) => return Ok(done(best, strerror(errno))),
            Err(e) => errno = e,
        }
    }
    Ok(done(old, strerror(errno)))
}

/// setrlimit(RLIMIT_NOFILE) with soft and hard both `n`, as Redis sets them; Err is the errno.
fn set_limit(n: u64) -> std::result::Result<(), i32> {
    let lim = libc::rlimit {
        rlim_cur: n,
        rlim_max: n,
    };
    // SAFETY: setrlimit reads one plain struct we own.
    if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &lim) } == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error().raw_os_error().unwrap_or(0))
    }
}

/// fs.nr_open: the most open files any process may be allowed.
fn nr_open() -> Option<u64> {
    std::fs::read_to_string("/proc/sys/fs/nr_open")
        .ok()?
        .trim()
        .parse()
        .ok()
}

/// The C library's text for `errno`, as Redis logs it (no " (os error N)" suffix).
fn strerror(errno: i32) -> String {
    let text = std::io::Error::from_raw_os_error(errno).to_string();
    match text.rfind(" (os error ") {
        Some(end) => text.get(..end).unwrap_or(&text).to_string(),
        None => text,
    }
}
