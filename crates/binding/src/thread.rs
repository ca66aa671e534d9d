//! Per-thread placement: pin the calling worker thread to one CPU and report where it runs.

use napi::{Error, Result, Status};
use napi_derive::napi;

/// Pin the calling OS thread (a worker's JS thread) to `cpu`, as `sched_setaffinity(0, ...)` does.
#[napi(catch_unwind)]
pub fn pin_current_thread(cpu: u32) -> Result<()> {
    let cpu = cpu as usize;
    if cpu >= libc::CPU_SETSIZE as usize {
        return Err(Error::new(
            Status::InvalidArg,
            format!("cpu {cpu} out of range"),
        ));
    }
    // SAFETY: cpu_set_t is plain data; CPU_SET is bounds-checked above; pid 0 = calling thread.
    let rc = unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_SET(cpu, &mut set);
        libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set)
    };
    if rc != 0 {
        let err = std::io::Error::last_os_error();
        return Err(Error::new(
            Status::GenericFailure,
            format!("sched_setaffinity({cpu}): {err}"),
        ));
    }
    Ok(())
}

/// The CPU the calling thread is running on right now (`sched_getcpu`), or -1.
#[napi(catch_unwind)]
pub fn current_cpu() -> i32 {
    // SAFETY: no arguments, no memory.
    unsafe { libc::sched_getcpu() }
}

/// The kernel thread id of the calling thread, as shown under /proc/<pid>/task.
#[napi(catch_unwind)]
pub fn current_tid() -> i32 {
    // SAFETY: gettid has no arguments and cannot fail.
    unsafe { libc::gettid() }
}

/// CPUs this process may run on (its affinity mask at start), in ascending order.
#[napi(catch_unwind)]
pub fn allowed_cpus() -> Vec<u32> {
    // SAFETY: the set is zeroed plain data, filled by the kernel for pid 0 (this thread).
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        if libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut set) != 0 {
            return Vec::new();
        }
        (0..libc::CPU_SETSIZE as usize)
            .filter(|&c| libc::CPU_ISSET(c, &set))
            .map(|c| c as u32)
            .collect()
    }
}
