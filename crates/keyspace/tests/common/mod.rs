//! Helpers shared by the integration tests: a client that runs commands by name against a
//! `Keyspace`, with the clock under the test's control.

#![allow(dead_code)]

use shrike_keyspace::reply::{decode, Reply};
use shrike_keyspace::{Config, Keyspace, Op, ReplySink, Session};

/// A keyspace with the default config (16 dbs, 256 segments).
pub fn keyspace() -> Keyspace {
    Keyspace::new(Config::default())
}

/// The op id of a command line: argv[0] lower-cased, or `object|<sub>` for OBJECT (and
/// MEMORY).
pub fn op_of(argv: &[&[u8]]) -> Option<u16> {
    let name = String::from_utf8_lossy(argv.first()?).to_lowercase();
    let name = if name == "object" || name == "memory" {
        format!(
            "{name}|{}",
            String::from_utf8_lossy(argv.get(1)?).to_lowercase()
        )
    } else {
        name
    };
    Op::from_name(&name).map(|o| o as u16)
}

/// Split a command line into arguments: spaces separate, double quotes group, and inside
/// quotes `\n`, `\r`, `\t`, `\"`, `\\` and `\xHH` escape.
pub fn split(line: &str) -> Vec<Vec<u8>> {
    let b = line.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        while i < b.len() && b[i] == b' ' {
            i += 1;
        }
        if i >= b.len() {
            break;
        }
        let mut arg = Vec::new();
        if b[i] == b'"' {
            i += 1;
            while i < b.len() && b[i] != b'"' {
                if b[i] == b'\\' && i + 1 < b.len() {
                    i += 1;
                    match b[i] {
                        b'n' => arg.push(b'\n'),
                        b'r' => arg.push(b'\r'),
                        b't' => arg.push(b'\t'),
                        b'x' => {
                            let hex = std::str::from_utf8(&b[i + 1..i + 3]).unwrap();
                            arg.push(u8::from_str_radix(hex, 16).unwrap());
                            i += 2;
                        }
                        c => arg.push(c),
                    }
                } else {
                    arg.push(b[i]);
                }
                i += 1;
            }
            i += 1;
        } else {
            while i < b.len() && b[i] != b' ' {
                arg.push(b[i]);
                i += 1;
            }
        }
        out.push(arg);
    }
    out
}

/// A client of one keyspace: its own session (db, clock, NO-TOUCH).
pub struct Client<'a> {
    pub ks: &'a Keyspace,
    pub sess: Session,
    out: ReplySink,
}

impl<'a> Client<'a> {
    /// A client on db 0 at time `now_ms`.
    pub fn new(ks: &'a Keyspace, now_ms: i64) -> Client<'a> {
        Client {
            ks,
            sess: Session::new(now_ms),
            out: ReplySink::new(),
        }
    }

    /// Run one command given as byte arguments and return its one reply.
    pub fn run(&mut self, argv: &[&[u8]]) -> Reply {
        let op = op_of(argv).unwrap_or_else(|| panic!("unknown command {:?}", argv.first()));
        self.out.clear();
        self.ks.run(&mut self.sess, op, argv, &mut self.out);
        let mut v = decode(self.out.as_bytes()).expect("valid reply buffer");
        assert_eq!(v.len(), 1, "exactly one reply value");
        v.pop().unwrap()
    }

    /// Run one command line (see `split`).
    pub fn cmd(&mut self, line: &str) -> Reply {
        let args = split(line);
        let argv: Vec<&[u8]> = args.iter().map(Vec::as_slice).collect();
        self.run(&argv)
    }

    /// Advance this client's clock.
    pub fn advance(&mut self, ms: i64) {
        self.sess.now_ms += ms;
    }
}

/// Shorthands for expected replies.
pub fn ok() -> Reply {
    Reply::simple("OK")
}
pub fn int(n: i64) -> Reply {
    Reply::Int(n)
}
pub fn bulk(s: &str) -> Reply {
    Reply::Bulk(s.as_bytes().to_vec())
}
pub fn err(s: &str) -> Reply {
    Reply::error(s)
}
pub fn null() -> Reply {
    Reply::Null
}
pub fn arr(items: Vec<Reply>) -> Reply {
    Reply::Array(items)
}
pub fn bulks(items: &[&str]) -> Reply {
    Reply::Array(items.iter().map(|s| bulk(s)).collect())
}
