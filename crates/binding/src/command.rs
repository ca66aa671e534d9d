//! COMMAND GETKEYS / GETKEYSANDFLAGS: the core's key extraction (the same that decides which
//! segments a command locks), asked from TypeScript, which owns routing by name and the reply.

use napi::bindgen_prelude::Buffer;
use napi_derive::napi;
use shrike_keyspace::command_spec;

/// The keys of a command as COMMAND GETKEYS finds them, or Redis's error text.
#[napi(object)]
pub struct CommandKeys {
    /// The error reply's text (`ERR Invalid command specified`, ...) when there are no keys to give.
    pub error: Option<String>,
    /// argv index of each key, in order.
    pub positions: Vec<u32>,
    /// Key-spec flag bits of each key (bit i is `KEY_SPEC_FLAG_NAMES[i]` of the TS spec table).
    pub flags: Vec<u32>,
}

/// COMMAND GETKEYS for the command whose spec is named `name` (its full name, '' when the
/// caller's table has none), `argv` starting at the command's name.
#[napi(catch_unwind)]
pub fn command_get_keys(name: String, argv: Vec<Buffer>) -> CommandKeys {
    let args: Vec<&[u8]> = argv.iter().map(|b| &b[..]).collect();
    match command_spec::command_get_keys(&name, &args) {
        Ok(keys) => CommandKeys {
            error: None,
            positions: keys.iter().map(|k| k.pos as u32).collect(),
            flags: keys.iter().map(|k| u32::from(k.flags)).collect(),
        },
        Err(e) => CommandKeys {
            error: Some(e.text().to_owned()),
            positions: Vec::new(),
            flags: Vec::new(),
        },
    }
}
