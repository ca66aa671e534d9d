//! The calls JavaScript makes on every round trip (a ring turn, a core batch, a reply made in
//! JavaScript) and on every transaction, as plain Node-API callbacks. napi-rs's generated
//! glue opens a borrow scope per call with arguments (an `Arc`'d mutex allocated and freed,
//! thread-local stacks pushed and popped): on a pipelined MULTI/EXEC or WATCH round trip that
//! bookkeeping was about 4% of the server's CPU. These read their arguments with one
//! Node-API call each and hold no reference past the call.
//!
//! Their TypeScript declarations are `HotCalls` in packages/server/src/core.ts, as napi-rs
//! generates none for them.

// napi-rs registers the exports hook only outside unit tests, so there it all looks unused.
#![cfg_attr(test, allow(dead_code))]

use std::ffi::{c_char, c_void, CStr};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr;

use napi::bindgen_prelude::{Env, Object};
use napi::{sys, Error, JsError, JsValue, Result, Status};
use napi_derive::napi;

use crate::ring_calls::{ring_execute, ring_send, ring_turn};
use crate::transaction::{exec_begin, ring_exec_watched, watch_keys, WatchedExec};

/// The JavaScript arguments of one call: exactly `N` expected.
struct Args<const N: usize> {
    env: sys::napi_env,
    values: [sys::napi_value; N],
}

impl<const N: usize> Args<N> {
    /// # Safety
    /// `env` and `info` are those the callback was called with.
    unsafe fn of(env: sys::napi_env, info: sys::napi_callback_info) -> Result<Self> {
        let mut argc = N;
        let mut values = [ptr::null_mut(); N];
        // SAFETY: `values` has room for `argc` values, as the call requires.
        let status = unsafe {
            sys::napi_get_cb_info(
                env,
                info,
                &mut argc,
                values.as_mut_ptr(),
                ptr::null_mut(),
                ptr::null_mut(),
            )
        };
        if status != sys::Status::napi_ok || argc < N {
            return Err(Error::new(
                Status::InvalidArg,
                format!("expected {N} arguments"),
            ));
        }
        Ok(Self { env, values })
    }

    fn value(&self, i: usize) -> Result<sys::napi_value> {
        self.values
            .get(i)
            .copied()
            .ok_or_else(|| Error::new(Status::InvalidArg, "missing argument"))
    }

    /// Argument `i` as a u32 (a JavaScript number).
    fn u32(&self, i: usize) -> Result<u32> {
        let mut out = 0u32;
        // SAFETY: a value of this call, read into a local.
        let status = unsafe { sys::napi_get_value_uint32(self.env, self.value(i)?, &mut out) };
        if status != sys::Status::napi_ok {
            return Err(Error::new(Status::NumberExpected, "expected a number"));
        }
        Ok(out)
    }

    /// Argument `i`, a typed array (any view of an ArrayBuffer): its data pointer and length
    /// in bytes. napi_get_buffer_info, not napi_get_typedarray_info: the latter names the
    /// array's type by asking V8 type after type (a Uint32Array is the seventh asked), about
    /// 40 ns a call; the byte length makes any view safe to read as any element type.
    fn view(&self, i: usize) -> Result<(*mut c_void, usize)> {
        let mut len = 0usize;
        let mut data: *mut c_void = ptr::null_mut();
        // SAFETY: a value of this call; both out-pointers are locals.
        let status =
            unsafe { sys::napi_get_buffer_info(self.env, self.value(i)?, &mut data, &mut len) };
        if status != sys::Status::napi_ok {
            return Err(Error::new(Status::InvalidArg, "expected a typed array"));
        }
        Ok((data, len))
    }

    /// Argument `i`, a typed array read as elements `T`, mutable.
    ///
    /// # Safety
    /// The array is not aliased by another argument borrowed mutably, and the slice does not
    /// outlive the call (JavaScript's thread waits in it, so the array lives and stays put).
    unsafe fn slice_mut<'a, T>(&self, i: usize) -> Result<&'a mut [T]> {
        let (data, bytes) = self.view(i)?;
        if bytes == 0 {
            return Ok(&mut []);
        }
        if data.align_offset(std::mem::align_of::<T>()) != 0 {
            return Err(Error::new(Status::InvalidArg, "misaligned typed array"));
        }
        // SAFETY: as the caller promises; `data` is aligned and holds `bytes` bytes, of
        // which the slice covers the whole elements.
        Ok(unsafe {
            std::slice::from_raw_parts_mut(data.cast::<T>(), bytes / std::mem::size_of::<T>())
        })
    }

    /// Argument `i`, a Uint8Array (a Buffer), mutable. Safety: as `slice_mut`.
    unsafe fn bytes_mut<'a>(&self, i: usize) -> Result<&'a mut [u8]> {
        // SAFETY: as the caller promises.
        unsafe { self.slice_mut(i) }
    }

    /// Argument `i`, a Uint8Array (a Buffer). Safety: as `slice_mut`, for a shared borrow.
    unsafe fn bytes<'a>(&self, i: usize) -> Result<&'a [u8]> {
        // SAFETY: as the caller promises.
        unsafe { self.bytes_mut(i).map(|b| &*b) }
    }

    /// Argument `i`, a Uint32Array, mutable. Safety: as `slice_mut`.
    unsafe fn words_mut<'a>(&self, i: usize) -> Result<&'a mut [u32]> {
        // SAFETY: as the caller promises.
        unsafe { self.slice_mut(i) }
    }

    /// Argument `i`, a Uint32Array. Safety: as `slice_mut`, for a shared borrow.
    unsafe fn words<'a>(&self, i: usize) -> Result<&'a [u32]> {
        // SAFETY: as the caller promises.
        unsafe { self.words_mut(i).map(|w| &*w) }
    }
}

/// What a call returns to JavaScript.
enum Ret {
    U32(u32),
    Bool(bool),
    Undefined,
}

/// Run a call's body, turning its error or panic into a thrown JavaScript error.
fn finish(env: sys::napi_env, body: impl FnOnce() -> Result<Ret>) -> sys::napi_value {
    let ret = catch_unwind(AssertUnwindSafe(body))
        .unwrap_or_else(|_| Err(Error::new(Status::GenericFailure, "panic in a native call")));
    let mut out = ptr::null_mut();
    // SAFETY: `env` is the call's; `out` a local.
    unsafe {
        match ret {
            Ok(Ret::U32(n)) => sys::napi_create_uint32(env, n, &mut out),
            Ok(Ret::Bool(b)) => sys::napi_get_boolean(env, b, &mut out),
            Ok(Ret::Undefined) => sys::napi_get_undefined(env, &mut out),
            Err(e) => {
                JsError::from(e).throw_into(env);
                return ptr::null_mut();
            }
        };
    }
    out
}

/// `ringTurn(timeoutMs: number): number`
unsafe extern "C" fn ring_turn_cb(
    env: sys::napi_env,
    info: sys::napi_callback_info,
) -> sys::napi_value {
    finish(env, || {
        // SAFETY: the callback's own env and info.
        let a = unsafe { Args::<1>::of(env, info)? };
        ring_turn(a.u32(0)?).map(Ret::U32)
    })
}

/// `ringExecute(slot, gen, buf: Uint8Array, cmds: Uint32Array, len, db, flags): number`
unsafe extern "C" fn ring_execute_cb(
    env: sys::napi_env,
    info: sys::napi_callback_info,
) -> sys::napi_value {
    finish(env, || {
        // SAFETY: the callback's own env and info.
        let a = unsafe { Args::<7>::of(env, info)? };
        // SAFETY: read only, alive while JavaScript waits in this call.
        let (buf, cmds) = unsafe { (a.bytes(2)?, a.words(3)?) };
        ring_execute(
            a.u32(0)?,
            a.u32(1)?,
            buf,
            cmds,
            a.u32(4)?,
            a.u32(5)?,
            a.u32(6)?,
        )
        .map(Ret::U32)
    })
}

/// `ringSend(slot, gen, data: Uint8Array, start, end): number`
unsafe extern "C" fn ring_send_cb(
    env: sys::napi_env,
    info: sys::napi_callback_info,
) -> sys::napi_value {
    finish(env, || {
        // SAFETY: the callback's own env and info.
        let a = unsafe { Args::<5>::of(env, info)? };
        // SAFETY: read only, alive while JavaScript waits in this call.
        let data = unsafe { a.bytes(2)? };
        ring_send(a.u32(0)?, a.u32(1)?, data, a.u32(3)?, a.u32(4)?).map(Ret::U32)
    })
}

/// `ringSendExecute(slot, gen, pre: Uint8Array, preStart, preEnd, buf: Uint8Array, cmds:
/// Uint32Array, len, db, flags): number`: `ringSend` of the replies written in JavaScript,
/// then `ringExecute`, in one call; OUTPUT_OVER if either passed the high-water mark.
unsafe extern "C" fn ring_send_execute_cb(
    env: sys::napi_env,
    info: sys::napi_callback_info,
) -> sys::napi_value {
    finish(env, || {
        // SAFETY: the callback's own env and info.
        let a = unsafe { Args::<10>::of(env, info)? };
        // SAFETY: read only, alive while JavaScript waits in this call.
        let (pre, buf, cmds) = unsafe { (a.bytes(2)?, a.bytes(5)?, a.words(6)?) };
        let (slot, gen) = (a.u32(0)?, a.u32(1)?);
        let over = ring_send(slot, gen, pre, a.u32(3)?, a.u32(4)?)?;
        let ran = ring_execute(slot, gen, buf, cmds, a.u32(7)?, a.u32(8)?, a.u32(9)?)?;
        Ok(Ret::U32(ran | over))
    })
}

/// `execBegin(buf: Uint8Array, cmds: Uint32Array, len, watchBuf: Uint8Array, watch: Uint32Array, watchLen): boolean`
unsafe extern "C" fn exec_begin_cb(
    env: sys::napi_env,
    info: sys::napi_callback_info,
) -> sys::napi_value {
    finish(env, || {
        // SAFETY: the callback's own env and info.
        let a = unsafe { Args::<6>::of(env, info)? };
        // SAFETY: read only, alive while JavaScript waits in this call.
        let (buf, cmds, watch_buf, watch) =
            unsafe { (a.bytes(0)?, a.words(1)?, a.bytes(3)?, a.words(4)?) };
        exec_begin(buf, cmds, a.u32(2)?, watch_buf, watch, a.u32(5)?)
            .map(|held| Ret::Bool(held.is_some()))
    })
}

/// `ringExecWatched(slot, gen, pre: Uint8Array, preStart, preEnd, buf: Uint8Array, cmds:
/// Uint32Array, len, db, flags, watchBuf: Uint8Array, watch: Uint32Array, watchLen): number`
unsafe extern "C" fn ring_exec_watched_cb(
    env: sys::napi_env,
    info: sys::napi_callback_info,
) -> sys::napi_value {
    finish(env, || {
        // SAFETY: the callback's own env and info.
        let a = unsafe { Args::<13>::of(env, info)? };
        // SAFETY: read only, alive while JavaScript waits in this call.
        let (pre, buf, cmds, watch_buf, watch) = unsafe {
            (
                a.bytes(2)?,
                a.bytes(5)?,
                a.words(6)?,
                a.bytes(10)?,
                a.words(11)?,
            )
        };
        let exec = WatchedExec {
            buf,
            cmds,
            len: a.u32(7)?,
            db: a.u32(8)?,
            flags: a.u32(9)?,
            watch_buf,
            watch,
            watch_len: a.u32(12)?,
        };
        ring_exec_watched(a.u32(0)?, a.u32(1)?, pre, a.u32(3)?, a.u32(4)?, &exec).map(Ret::U32)
    })
}

/// `watchKeys(db, buf: Uint8Array, ranges: Uint32Array, n, marks: Uint32Array): void`
unsafe extern "C" fn watch_keys_cb(
    env: sys::napi_env,
    info: sys::napi_callback_info,
) -> sys::napi_value {
    finish(env, || {
        // SAFETY: the callback's own env and info.
        let a = unsafe { Args::<5>::of(env, info)? };
        // SAFETY: `marks` is the one array written, a different one from `ranges`; all alive
        // while JavaScript waits in this call.
        let (buf, ranges, marks) = unsafe { (a.bytes(1)?, a.words(2)?, a.words_mut(4)?) };
        watch_keys(a.u32(0)?, buf, ranges, a.u32(3)?, marks).map(|()| Ret::Undefined)
    })
}

type Callback = unsafe extern "C" fn(sys::napi_env, sys::napi_callback_info) -> sys::napi_value;

/// The hot calls by their JavaScript names.
const CALLS: [(&CStr, Callback); 7] = [
    (c"ringTurn", ring_turn_cb),
    (c"ringExecute", ring_execute_cb),
    (c"ringSend", ring_send_cb),
    (c"ringSendExecute", ring_send_execute_cb),
    (c"execBegin", exec_begin_cb),
    (c"ringExecWatched", ring_exec_watched_cb),
    (c"watchKeys", watch_keys_cb),
];

/// Add the hot calls to the addon's exports (each thread that loads the addon has its own).
#[napi(module_exports)]
pub fn hot_calls(exports: Object, env: Env) -> Result<()> {
    crate::clock::calibrate();
    for (name, cb) in CALLS {
        let mut f = ptr::null_mut();
        let name_ptr: *const c_char = name.as_ptr();
        // SAFETY: the module's env and exports object, a NUL-terminated name, a callback of
        // Node-API's signature.
        let status = unsafe {
            let s = sys::napi_create_function(
                env.raw(),
                name_ptr,
                -1,
                Some(cb),
                ptr::null_mut(),
                &mut f,
            );
            if s == sys::Status::napi_ok {
                sys::napi_set_named_property(env.raw(), exports.raw(), name_ptr, f)
            } else {
                s
            }
        };
        if status != sys::Status::napi_ok {
            return Err(Error::new(
                Status::GenericFailure,
                "cannot export a hot call",
            ));
        }
    }
    Ok(())
}
