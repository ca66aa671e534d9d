//! The op table — the only dispatch — and the context a handler runs in.
//!
//! Each row names a command (lower-case, subcommands as `object|encoding`), its handler, its
//! Redis arity and where its keys are in argv (Redis's first/last/step key positions, or
//! "every segment"). The row index is the op id that `Keyspace::run` takes; the binding maps
//! names to ids once at startup with `Keyspace::op_names`. Arity is checked by the TypeScript
//! side before a command gets here; the copy in this table only keeps a buggy caller from
//! reaching a handler with too few arguments.
//!
//! Handlers are plain `fn(&mut Ctx, &[&[u8]]) -> Result<(), KsError>`: they write one reply
//! value into `ctx.out` or return an error, which `Keyspace::run_locked` turns into the error
//! reply in one place (dropping anything the handler wrote first). A handler must not change
//! data before it returns an error, as in Redis.

pub(crate) mod generic;
pub(crate) mod geo;
pub(crate) mod server;
pub(crate) mod string;

use crate::error::KsError;
use crate::keys::Keys;
use crate::reply::ReplySink;
use crate::segment::Tx;
use crate::{Keyspace, Session};

/// Where a command's keys are, and so which segments it locks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KeySpec {
    /// No keys (OBJECT HELP).
    None,
    /// argv[first], argv[first+step], ... up to argv[last]; a negative `last` counts from
    /// the end (-1 is the last argument), as in Redis's legacy key specs.
    Range { first: u8, last: i8, step: u8 },
    /// The whole db, atomically: every segment is locked in order (DBSIZE, FLUSHDB, SWAPDB).
    All,
    /// The whole db, one segment at a time: Redis's guarantees for KEYS, SCAN and RANDOMKEY
    /// hold without stopping every other command.
    Iter,
}

impl KeySpec {
    /// The argv indexes of the keys, in order.
    pub(crate) fn key_indexes(self, argc: usize) -> impl Iterator<Item = usize> {
        let (first, last, step) = match self {
            KeySpec::Range { first, last, step } => {
                let last = if last < 0 {
                    argc as isize + isize::from(last)
                } else {
                    isize::from(last)
                };
                (usize::from(first), last, usize::from(step.max(1)))
            }
            _ => (1, 0, 1),
        };
        let end = if last < 0 {
            0
        } else {
            (last as usize + 1).min(argc)
        };
        (first..end.max(first)).step_by(step)
    }
}

/// A handler: runs one command against the locked keys, writing one reply value.
pub(crate) type Handler = for<'a, 'ks> fn(&mut Ctx<'a, 'ks>, &[&[u8]]) -> Result<(), KsError>;

/// One row of the op table.
pub(crate) struct OpSpec {
    pub(crate) name: &'static str,
    pub(crate) handler: Handler,
    /// Redis's arity: N means exactly N arguments (name included), -N at least N.
    pub(crate) arity: i8,
    pub(crate) keys: KeySpec,
}

impl OpSpec {
    /// True when `argc` satisfies the arity.
    pub(crate) fn arity_ok(&self, argc: usize) -> bool {
        let a = isize::from(self.arity);
        if a >= 0 {
            argc as isize == a
        } else {
            argc as isize >= -a
        }
    }
}

/// What a handler gets: the keyspace, the locks its command holds, the client's session and
/// the reply buffer.
pub(crate) struct Ctx<'a, 'ks> {
    pub(crate) ks: &'ks Keyspace,
    pub(crate) tx: &'a mut Tx<'ks>,
    pub(crate) sess: &'a mut Session,
    pub(crate) out: &'a mut ReplySink,
    /// False when the client is in NO-TOUCH mode and the command is not TOUCH.
    pub(crate) touch: bool,
}

impl<'a, 'ks> Ctx<'a, 'ks> {
    /// The session's db and the reply buffer, borrowed apart so a handler can hold an entry
    /// while it writes the reply.
    pub(crate) fn split(&mut self) -> (Keys<'_, 'ks>, &mut ReplySink) {
        (
            Keys {
                tx: &mut *self.tx,
                ks: self.ks,
                db: self.sess.db as usize,
                now_ms: self.sess.now_ms,
                touch: self.touch,
                fx: &mut self.sess.fx,
            },
            &mut *self.out,
        )
    }
}

/// Run `op` on argv `head` plus a last argument the caller owns (see `Keyspace::run_owned`):
/// the SET family may keep it as the stored value; every other command borrows it.
pub(crate) fn run_owned(
    ctx: &mut Ctx<'_, '_>,
    op: Op,
    head: &[&[u8]],
    last: &mut Option<Vec<u8>>,
) -> Result<(), KsError> {
    match op {
        Op::Set | Op::SetNx | Op::SetEx | Op::PSetEx | Op::GetSet => {
            string::set_adopt(ctx, head, last, op)
        }
        _ => run_borrowed(ctx, op, head, last),
    }
}

/// Run `op`'s own handler on `head` plus the owned last argument, borrowed.
pub(crate) fn run_borrowed(
    ctx: &mut Ctx<'_, '_>,
    op: Op,
    head: &[&[u8]],
    last: &Option<Vec<u8>>,
) -> Result<(), KsError> {
    (OPS[op as usize].handler)(ctx, &crate::with_last(head, last))
}

const fn keys(first: u8, last: i8, step: u8) -> KeySpec {
    KeySpec::Range { first, last, step }
}

/// The first argument is the only key.
const K1: KeySpec = keys(1, 1, 1);

macro_rules! op_table {
    ($( $variant:ident = $name:literal, $handler:path, $arity:expr, $keys:expr; )*) => {
        /// Op ids: the index of each command in the op table, as `Keyspace::run` takes it.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        #[repr(u16)]
        pub enum Op { $( #[doc = $name] $variant, )* }

        /// The op table; row i is op id i.
        pub(crate) static OPS: &[OpSpec] = &[
            $( OpSpec { name: $name, handler: $handler, arity: $arity, keys: $keys }, )*
        ];

        /// Command names by op id.
        pub(crate) static NAMES: &[&str] = &[ $( $name, )* ];

        /// Every op, by op id.
        static ALL_OPS: &[Op] = &[ $( Op::$variant, )* ];
    };
}

op_table! {
    // string
    Get = "get", string::get, 2, K1;
    Set = "set", string::set, -3, K1;
    GetEx = "getex", string::getex, -2, K1;
    GetDel = "getdel", string::getdel, 2, K1;
    GetSet = "getset", string::getset, 3, K1;
    MGet = "mget", string::mget, -2, keys(1, -1, 1);
    MSet = "mset", string::mset, -3, keys(1, -1, 2);
    MSetNx = "msetnx", string::msetnx, -3, keys(1, -1, 2);
    SetNx = "setnx", string::setnx, 3, K1;
    SetEx = "setex", string::setex, 4, K1;
    PSetEx = "psetex", string::psetex, 4, K1;
    Append = "append", string::append, 3, K1;
    StrLen = "strlen", string::strlen, 2, K1;
    GetRange = "getrange", string::getrange, 4, K1;
    SubStr = "substr", string::getrange, 4, K1;
    SetRange = "setrange", string::setrange, 4, K1;
    Incr = "incr", string::incr, 2, K1;
    Decr = "decr", string::decr, 2, K1;
    IncrBy = "incrby", string::incrby, 3, K1;
    DecrBy = "decrby", string::decrby, 3, K1;
    IncrByFloat = "incrbyfloat", string::incrbyfloat, 3, K1;
    Lcs = "lcs", string::lcs, -3, keys(1, 2, 1);
    // generic
    Del = "del", generic::del, -2, keys(1, -1, 1);
    Unlink = "unlink", generic::del, -2, keys(1, -1, 1);
    Exists = "exists", generic::exists, -2, keys(1, -1, 1);
    Type = "type", generic::type_, 2, K1;
    Keys = "keys", generic::keys, 2, KeySpec::Iter;
    Scan = "scan", generic::scan, -2, KeySpec::Iter;
    RandomKey = "randomkey", generic::randomkey, 1, KeySpec::Iter;
    Rename = "rename", generic::rename, 3, keys(1, 2, 1);
    RenameNx = "renamenx", generic::renamenx, 3, keys(1, 2, 1);
    Copy = "copy", generic::copy, -3, keys(1, 2, 1);
    Move = "move", generic::move_, 3, K1;
    Expire = "expire", generic::expire, -3, K1;
    PExpire = "pexpire", generic::pexpire, -3, K1;
    ExpireAt = "expireat", generic::expireat, -3, K1;
    PExpireAt = "pexpireat", generic::pexpireat, -3, K1;
    Ttl = "ttl", generic::ttl, 2, K1;
    PTtl = "pttl", generic::pttl, 2, K1;
    ExpireTime = "expiretime", generic::expiretime, 2, K1;
    PExpireTime = "pexpiretime", generic::pexpiretime, 2, K1;
    Persist = "persist", generic::persist, 2, K1;
    Touch = "touch", generic::touch, -2, keys(1, -1, 1);
    ObjectEncoding = "object|encoding", generic::object_encoding, 3, keys(2, 2, 1);
    ObjectIdleTime = "object|idletime", generic::object_idletime, 3, keys(2, 2, 1);
    ObjectFreq = "object|freq", generic::object_freq, 3, keys(2, 2, 1);
    ObjectRefCount = "object|refcount", generic::object_refcount, 3, keys(2, 2, 1);
    ObjectHelp = "object|help", generic::object_help, 2, KeySpec::None;
    // server
    DbSize = "dbsize", server::dbsize, 1, KeySpec::All;
    FlushDb = "flushdb", server::flushdb, -1, KeySpec::All;
    FlushAll = "flushall", server::flushall, -1, KeySpec::All;
    SwapDb = "swapdb", server::swapdb, 3, KeySpec::All;
    // geo
    GeoAdd = "geoadd", geo::geoadd, -5, K1;
    GeoPos = "geopos", geo::geopos, -2, K1;
    GeoDist = "geodist", geo::geodist, -4, K1;
    GeoHash = "geohash", geo::geohash, -2, K1;
    // keys by STORE/STOREDIST: precise once the generated spec lands
    GeoRadius = "georadius", geo::georadius, -6, KeySpec::All;
    GeoRadiusByMember = "georadiusbymember", geo::georadiusbymember, -5, KeySpec::All;
    GeoRadiusRo = "georadius_ro", geo::georadius_ro, -6, K1;
    GeoRadiusByMemberRo = "georadiusbymember_ro", geo::georadiusbymember_ro, -5, K1;
    GeoSearch = "geosearch", geo::geosearch, -7, K1;
    GeoSearchStore = "geosearchstore", geo::geosearchstore, -8, keys(1, 2, 1);
}

impl Op {
    /// The op with id `id`, if any.
    pub fn from_id(id: u16) -> Option<Op> {
        ALL_OPS.get(usize::from(id)).copied()
    }

    /// The op named `name` (`get`, `object|encoding`), if any.
    pub fn from_name(name: &str) -> Option<Op> {
        NAMES
            .iter()
            .position(|n| *n == name)
            .and_then(|i| ALL_OPS.get(i).copied())
    }

    /// The command name (`get`, `object|encoding`).
    pub fn name(self) -> &'static str {
        NAMES[self as usize]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::{key_hash, Entry};
    use crate::reply::{decode, Reply};
    use crate::{Config, Session};

    /// A keyspace where `list` holds a non-string value.
    fn with_list() -> Keyspace {
        let ks = Keyspace::new(Config::default());
        let h = key_hash(&ks.hasher, b"list");
        let seg = ks.segment_of(b"list");
        ks.cells[seg].lock.lock().dbs[0].insert_new(
            h,
            Entry::new_obj(
                b"list",
                crate::db::Obj::List(crate::types::list::List::of(&[b"x"])),
                0,
            ),
            &ks.hasher,
        );
        ks
    }

    fn run(ks: &Keyspace, line: &str) -> Reply {
        let argv: Vec<&[u8]> = line.split(' ').map(str::as_bytes).collect();
        let mut name = line.split(' ').next().unwrap_or("").to_string();
        if name == "object" {
            name = format!("object|{}", argv[1].escape_ascii());
        }
        let op = Op::from_name(&name).unwrap_or_else(|| panic!("no op {name}"));
        let mut out = ReplySink::new();
        let mut sess = Session::new(1_700_000_000_000);
        ks.run(&mut sess, op as u16, &argv, &mut out);
        decode(out.as_bytes()).unwrap().remove(0)
    }

    #[test]
    fn string_commands_refuse_other_types() {
        let ks = with_list();
        let wrong = Reply::error(KsError::WrongType.text());
        for line in [
            "get list",
            "getex list",
            "getex list ex 10",
            "getdel list",
            "getset list v",
            "set list v get",
            "append list x",
            "strlen list",
            "getrange list 0 1",
            "substr list 0 1",
            "setrange list 0 x",
            "incr list",
            "decr list",
            "incrby list 2",
            "decrby list 2",
            "incrbyfloat list 1.5",
        ] {
            assert_eq!(run(&ks, line), wrong, "{line}");
        }
        assert_eq!(
            run(&ks, "lcs list list"),
            Reply::error(KsError::LcsNotString.text())
        );
        // Nothing above changed the value.
        assert_eq!(run(&ks, "type list"), Reply::simple("list"));
        assert_eq!(
            run(&ks, "mget list nokey"),
            Reply::Array(vec![Reply::Null, Reply::Null])
        );
        assert_eq!(run(&ks, "exists list"), Reply::Int(1));
        assert_eq!(run(&ks, "object encoding list"), Reply::bulk(b"listpack"));
        // Key commands work on any type; SET without GET replaces whatever was there.
        assert_eq!(run(&ks, "copy list list2"), Reply::Int(1));
        assert_eq!(run(&ks, "type list2"), Reply::simple("list"));
        assert_eq!(run(&ks, "rename list2 list3"), Reply::simple("OK"));
        assert_eq!(run(&ks, "expire list3 100"), Reply::Int(1));
        assert_eq!(run(&ks, "msetnx list3 v"), Reply::Int(0));
        assert_eq!(run(&ks, "set list3 v"), Reply::simple("OK"));
        assert_eq!(run(&ks, "type list3"), Reply::simple("string"));
        assert_eq!(run(&ks, "ttl list3"), Reply::Int(-1));
        assert_eq!(run(&ks, "del list"), Reply::Int(1));
    }

    #[test]
    fn scan_type_filter_sees_other_types() {
        let ks = with_list();
        run(&ks, "set s v");
        assert_eq!(
            run(&ks, "scan 0 type list count 1000"),
            Reply::Array(vec![
                Reply::bulk(b"0"),
                Reply::Array(vec![Reply::bulk(b"list")])
            ])
        );
    }

    #[test]
    fn key_indexes_follow_the_spec() {
        let ix = |spec: KeySpec, argc| spec.key_indexes(argc).collect::<Vec<_>>();
        assert_eq!(ix(K1, 2), vec![1]);
        assert_eq!(ix(keys(1, -1, 2), 7), vec![1, 3, 5]);
        assert_eq!(ix(keys(1, -1, 1), 4), vec![1, 2, 3]);
        assert_eq!(ix(keys(1, 2, 1), 5), vec![1, 2]);
        assert_eq!(ix(keys(2, 2, 1), 3), vec![2]);
        // Too few arguments never index past argv.
        assert_eq!(ix(keys(2, 2, 1), 2), Vec::<usize>::new());
        assert_eq!(ix(keys(1, -1, 2), 1), Vec::<usize>::new());
        assert_eq!(ix(KeySpec::All, 3), Vec::<usize>::new());
    }

    const T0: i64 = 1_700_000_000_000;

    /// Run `line` plus `last` as an owned last argument (`Keyspace::run_owned`).
    fn run_owned(ks: &Keyspace, line: &str, last: Vec<u8>) -> Reply {
        let head: Vec<&[u8]> = line.split(' ').map(str::as_bytes).collect();
        let op = Op::from_name(line.split(' ').next().unwrap_or("")).expect("op");
        let mut out = ReplySink::new();
        let mut sess = Session::new(T0);
        ks.run_owned(&mut sess, op as u16, &head, last, &mut out);
        decode(out.as_bytes()).unwrap().remove(0)
    }

    /// Where the string value of `key` in db 0 lives, and its length.
    fn value_at(ks: &Keyspace, key: &[u8]) -> Option<(*const u8, usize)> {
        let h = key_hash(&ks.hasher, key);
        let seg = ks.segment_of(key);
        let mut cell = ks.cells[seg].lock.lock();
        match cell.dbs[0].lookup(h, key, T0, &ks.hasher) {
            crate::db::Lookup::Found(e) => e.str_value().map(|v| (v.as_ptr(), v.len())),
            _ => None,
        }
    }

    #[test]
    fn set_family_keeps_an_owned_value_without_a_copy() {
        let ks = with_list();
        for (line, reply) in [
            ("set k", Reply::simple("OK")),
            ("setnx n", Reply::Int(1)),
            ("setex e 100", Reply::simple("OK")),
            ("psetex p 100000", Reply::simple("OK")),
            ("getset g", Reply::Null),
        ] {
            let mut big = Vec::with_capacity(70_002);
            big.resize(70_000, b'v');
            let at = big.as_ptr();
            let key = line.split(' ').nth(1).unwrap();
            assert_eq!(run_owned(&ks, line, big), reply, "{line}");
            assert_eq!(value_at(&ks, key.as_bytes()), Some((at, 70_000)), "{line}");
            assert_eq!(
                run(&ks, &format!("object encoding {key}")),
                Reply::bulk(b"raw")
            );
            assert_eq!(run(&ks, &format!("strlen {key}")), Reply::Int(70_000));
        }
        assert_eq!(run(&ks, "ttl e"), Reply::Int(100));
        assert_eq!(run(&ks, "ttl p"), Reply::Int(100));
        // Replacing an adopted value frees it and keeps Redis's SET semantics (TTL dropped).
        assert_eq!(
            run_owned(&ks, "set e", b"x".repeat(50)),
            Reply::simple("OK")
        );
        assert_eq!(run(&ks, "ttl e"), Reply::Int(-1));
        assert_eq!(run(&ks, "append e y"), Reply::Int(51));
    }

    #[test]
    fn an_owned_value_gets_the_encoding_redis_gives_it() {
        let ks = with_list();
        for (val, enc) in [
            (&b"123"[..], &b"int"[..]),
            (b"-7", b"int"),
            (b"short", b"embstr"),
            (&[b'x'; 44], b"embstr"),
            (&[b'x'; 45], b"raw"),
        ] {
            assert_eq!(run_owned(&ks, "set k", val.to_vec()), Reply::simple("OK"));
            assert_eq!(run(&ks, "object encoding k"), Reply::bulk(enc));
            assert_eq!(run(&ks, "get k"), Reply::bulk(val));
        }
    }

    #[test]
    fn owned_and_borrowed_last_arguments_answer_alike() {
        let cases: &[&[&str]] = &[
            &["set k v"],
            &["set k old", "setnx k v", "get k"],
            &["setnx k v", "get k"],
            &["set k old", "expire k 100", "set k v", "ttl k"],
            &["set k old", "expire k 100", "set k v keepttl", "ttl k"],
            &["set k old", "set k v nx", "set k v xx", "get k"],
            &["set k v ex 10", "ttl k"],
            &["set k v ex 0"],
            &["set k v px"],
            &["set k v get", "set k w get"],
            &["setex k 0 v", "exists k"],
            &["setex k x v"],
            &["psetex k -5 v"],
            &["set k old", "getset k v", "get k"],
            &["getset list v", "type list"],
            &["set list v get", "type list"],
            &["append k v", "get k"],
            &["get v"],
            &["mset a 1 b v", "mget a b"],
            &["del k v"],
        ];
        for script in cases {
            let (owned, borrowed) = (with_list(), with_list());
            for line in *script {
                let expect = run(&borrowed, line);
                let (head, last) = line.rsplit_once(' ').unwrap();
                let got = run_owned(&owned, head, last.as_bytes().to_vec());
                assert_eq!(got, expect, "{line} in {script:?}");
            }
            for key in ["k", "list", "a", "b"] {
                assert_eq!(
                    run(&owned, &format!("get {key}")),
                    run(&borrowed, &format!("get {key}")),
                    "{key} after {script:?}"
                );
            }
        }
    }
}
