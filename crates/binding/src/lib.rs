//! The only crate that touches napi: it moves bytes between JavaScript and the keyspace
//! and maps failures to JS errors. Everything with semantics lives in `shrike-keyspace`.
//!
//! Every exported function carries `catch_unwind` as a backstop: a panic that unwinds out of
//! an `extern "C"` callback would abort the process and take every worker with it.
#![deny(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod alloc;
mod batch;
mod clock;
mod command;
mod config;
mod direct_reply;
mod expiry;
mod hot_calls;
mod limits;
mod mailbox;
mod monitor;
mod net;
mod pubsub;
mod ring_calls;
mod shared_pages;
mod spare_bufs;
mod stats;
mod thread;
mod tracking;
mod transaction;
mod uring;

pub use alloc::{memory_calm, release_free_memory, sample_memory_use};
pub use batch::*;
pub use command::*;
pub use config::*;
pub use expiry::*;
pub use limits::*;
pub use mailbox::*;
pub use monitor::*;
pub use net::*;
pub use pubsub::*;
pub use ring_calls::*;
pub use stats::*;
pub use thread::*;
pub use tracking::*;
pub use transaction::*;
pub use uring::*;
