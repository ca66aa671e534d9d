//! The op table — the only dispatch — and the context a handler runs in.
//!
//! Each row names a command (lower-case, subcommands as `object|encoding`) and its handler;
//! nothing else. Arity, flags and key positions come from the generated spec (`spec.rs`, made
//! by scripts/gen-command-table.mjs from the same JSON as the TypeScript table), joined to the
//! row by name at compile time: a row whose name the spec lacks does not build. The row index
//! is the op id that `Keyspace::run` takes; the binding maps names to ids once at startup with
//! `Keyspace::op_names`. Arity is checked by the TypeScript side before a command gets here;
//! the core checks it again only so a buggy caller cannot reach a handler with too few
//! arguments.
//!
//! Handlers are plain `fn(&mut Ctx, &[&[u8]]) -> Result<(), KsError>`: they write one reply
//! value into `ctx.out` or return an error, which `Keyspace::run_locked` turns into the error
//! reply in one place (dropping anything the handler wrote first). A handler must not change
//! data before it returns an error, as in Redis.

pub(crate) mod bitmap;
pub(crate) mod generic;
pub(crate) mod geo;
pub(crate) mod getkeys;
pub(crate) mod hash;
pub(crate) mod hyperloglog;
pub(crate) mod list;
pub(crate) mod pubsub;
pub(crate) mod server;
pub(crate) mod set;
pub(crate) mod sort;
pub(crate) mod sorted_set;
// Generated: its layout is the generator's, not rustfmt's.
#[rustfmt::skip]
pub(crate) mod spec;
pub(crate) mod string;

use crate::error::KsError;
use crate::keys::Keys;
use crate::reply::ReplySink;
use crate::segment::Tx;
use crate::{Keyspace, Session};
use getkeys::{BeginSearch, CommandSpec, FindKeys};
use spec::{key_flag, COMMANDS};

/// Which segments a command locks, decided once per op from its spec (and `LOCK_OVERRIDES`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Lock {
    /// No keys (OBJECT HELP).
    None,
    /// argv[i] is the only key (GET, SET, INCR...): locked with no key extraction, no sorting
    /// and no set to build, which is what keeps the common case fast.
    Single(u8),
    /// The keys `getkeys::get_keys` finds (MGET, MSET, LCS, RENAME...).
    Keys,
    /// The whole db, atomically: every segment is locked in order (DBSIZE, FLUSHDB, SWAPDB).
    All,
    /// The whole db, one segment at a time: Redis's guarantees for KEYS, SCAN and RANDOMKEY
    /// hold without stopping every other command.
    Iter,
    /// SORT: its keys, or every segment when a BY or GET pattern reads other keys.
    Sort,
}

/// Commands whose locking Redis's key specs cannot express (they have no keys in the spec
/// but touch the whole db).
const LOCK_OVERRIDES: &[(&str, Lock)] = &[
    ("dbsize", Lock::All),
    ("flushdb", Lock::All),
    ("flushall", Lock::All),
    ("swapdb", Lock::All),
    ("keys", Lock::Iter),
    ("scan", Lock::Iter),
    ("randomkey", Lock::Iter),
    ("sort", Lock::Sort),
    ("sort_ro", Lock::Sort),
    // A shard channel is a key in the spec (for cluster routing) but no data is touched.
    ("spublish", Lock::None),
];

const fn str_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// The row of `name` in the spec table; a name the spec lacks stops the build.
const fn spec_index(name: &str) -> u16 {
    let mut i = 0;
    while i < COMMANDS.len() {
        if str_eq(COMMANDS[i].name, name) {
            return i as u16;
        }
        i += 1;
    }
    panic!("the op table names a command the spec lacks");
}

/// How the command `name` (spec row `spec`) locks.
const fn lock_of(name: &str, spec: u16) -> Lock {
    let mut i = 0;
    while i < LOCK_OVERRIDES.len() {
        if str_eq(LOCK_OVERRIDES[i].0, name) {
            return LOCK_OVERRIDES[i].1;
        }
        i += 1;
    }
    let s = &COMMANDS[spec as usize];
    if s.key_specs.is_empty() && s.getkeys.is_none() {
        return Lock::None;
    }
    if let [ks] = s.key_specs {
        if ks.flags & (key_flag::NOT_KEY | key_flag::INCOMPLETE) == 0 {
            if let (BeginSearch::Index(i), FindKeys::Range { lastkey: 0, .. }) = (ks.begin, ks.find)
            {
                if i > 0 && i <= u8::MAX as i32 {
                    return Lock::Single(i as u8);
                }
            }
        }
    }
    Lock::Keys
}

/// A handler: runs one command against the locked keys, writing one reply value.
pub(crate) type Handler = for<'a, 'ks> fn(&mut Ctx<'a, 'ks>, &[&[u8]]) -> Result<(), KsError>;

/// One row of the op table.
pub(crate) struct OpSpec {
    pub(crate) name: &'static str,
    pub(crate) handler: Handler,
    /// Its row in the generated spec table.
    spec: u16,
    /// The spec's arity, copied at compile time so the per-command check reads this row only.
    arity: i32,
    pub(crate) lock: Lock,
}

impl OpSpec {
    /// The command's spec: arity, flags, key specs.
    pub(crate) fn spec(&self) -> &'static CommandSpec {
        &COMMANDS[usize::from(self.spec)]
    }

    /// True when `argc` (name included) satisfies the spec's arity.
    #[inline]
    pub(crate) fn arity_ok(&self, argc: usize) -> bool {
        let (argc, a) = (argc as i64, i64::from(self.arity));
        if a >= 0 {
            argc == a
        } else {
            argc >= -a
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

/// Whether the argument `arg` is the option `name`, in any case.
pub(crate) fn is(arg: &[u8], name: &str) -> bool {
    arg.eq_ignore_ascii_case(name.as_bytes())
}

/// The value that `word` names in `table`, compared as Redis's `strcasecmp` does.
pub(crate) fn keyword<T: Copy>(word: &[u8], table: &[(&[u8], T)]) -> Option<T> {
    table
        .iter()
        .find(|(name, _)| word.eq_ignore_ascii_case(name))
        .map(|&(_, v)| v)
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

macro_rules! op_table {
    ($( $variant:ident = $name:literal, $handler:path; )*) => {
        /// Op ids: the index of each command in the op table, as `Keyspace::run` takes it.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        #[repr(u16)]
        pub enum Op { $( #[doc = $name] $variant, )* }

        /// The op table; row i is op id i.
        pub(crate) static OPS: &[OpSpec] = &[
            $( OpSpec {
                name: $name,
                handler: $handler,
                spec: spec_index($name),
                arity: COMMANDS[spec_index($name) as usize].arity,
                lock: lock_of($name, spec_index($name)),
            }, )*
        ];

        /// Command names by op id.
        pub(crate) static NAMES: &[&str] = &[ $( $name, )* ];

        /// Every op, by op id.
        static ALL_OPS: &[Op] = &[ $( Op::$variant, )* ];
    };
}

op_table! {
    // string
    Get = "get", string::get;
    Set = "set", string::set;
    GetEx = "getex", string::getex;
    GetDel = "getdel", string::getdel;
    GetSet = "getset", string::getset;
    MGet = "mget", string::mget;
    MSet = "mset", string::mset;
    MSetNx = "msetnx", string::msetnx;
    SetNx = "setnx", string::setnx;
    SetEx = "setex", string::setex;
    PSetEx = "psetex", string::psetex;
    Append = "append", string::append;
    StrLen = "strlen", string::strlen;
    GetRange = "getrange", string::getrange;
    SubStr = "substr", string::getrange;
    SetRange = "setrange", string::setrange;
    Incr = "incr", string::incr;
    Decr = "decr", string::decr;
    IncrBy = "incrby", string::incrby;
    DecrBy = "decrby", string::decrby;
    IncrByFloat = "incrbyfloat", string::incrbyfloat;
    Lcs = "lcs", string::lcs;
    // generic
    Sort = "sort", sort::sort;
    SortRo = "sort_ro", sort::sort_ro;
    Del = "del", generic::del;
    Unlink = "unlink", generic::del;
    Exists = "exists", generic::exists;
    Type = "type", generic::type_;
    Keys = "keys", generic::keys;
    Scan = "scan", generic::scan;
    RandomKey = "randomkey", generic::randomkey;
    Rename = "rename", generic::rename;
    RenameNx = "renamenx", generic::renamenx;
    Copy = "copy", generic::copy;
    Move = "move", generic::move_;
    Expire = "expire", generic::expire;
    PExpire = "pexpire", generic::pexpire;
    ExpireAt = "expireat", generic::expireat;
    PExpireAt = "pexpireat", generic::pexpireat;
    Ttl = "ttl", generic::ttl;
    PTtl = "pttl", generic::pttl;
    ExpireTime = "expiretime", generic::expiretime;
    PExpireTime = "pexpiretime", generic::pexpiretime;
    Persist = "persist", generic::persist;
    Touch = "touch", generic::touch;
    ObjectEncoding = "object|encoding", generic::object_encoding;
    ObjectIdleTime = "object|idletime", generic::object_idletime;
    ObjectFreq = "object|freq", generic::object_freq;
    ObjectRefCount = "object|refcount", generic::object_refcount;
    ObjectHelp = "object|help", generic::object_help;
    MemoryUsage = "memory|usage", generic::memory_usage;
    // server
    DbSize = "dbsize", server::dbsize;
    FlushDb = "flushdb", server::flushdb;
    FlushAll = "flushall", server::flushall;
    SwapDb = "swapdb", server::swapdb;
    // hash
    HSet = "hset", hash::hset;
    HSetNx = "hsetnx", hash::hsetnx;
    HGet = "hget", hash::hget;
    HMSet = "hmset", hash::hmset;
    HMGet = "hmget", hash::hmget;
    HDel = "hdel", hash::hdel;
    HExists = "hexists", hash::hexists;
    HLen = "hlen", hash::hlen;
    HKeys = "hkeys", hash::hkeys;
    HVals = "hvals", hash::hvals;
    HGetAll = "hgetall", hash::hgetall;
    HIncrBy = "hincrby", hash::hincrby;
    HIncrByFloat = "hincrbyfloat", hash::hincrbyfloat;
    HStrLen = "hstrlen", hash::hstrlen;
    HRandField = "hrandfield", hash::hrandfield;
    HScan = "hscan", hash::hscan;
    HExpire = "hexpire", hash::hexpire;
    HPExpire = "hpexpire", hash::hpexpire;
    HExpireAt = "hexpireat", hash::hexpireat;
    HPExpireAt = "hpexpireat", hash::hpexpireat;
    HTtl = "httl", hash::httl;
    HPTtl = "hpttl", hash::hpttl;
    HExpireTime = "hexpiretime", hash::hexpiretime;
    HPExpireTime = "hpexpiretime", hash::hpexpiretime;
    HPersist = "hpersist", hash::hpersist;
    // sorted_set
    ZAdd = "zadd", sorted_set::zadd;
    ZIncrBy = "zincrby", sorted_set::zincrby;
    ZRem = "zrem", sorted_set::zrem;
    ZRemRangeByScore = "zremrangebyscore", sorted_set::zremrangebyscore;
    ZRemRangeByRank = "zremrangebyrank", sorted_set::zremrangebyrank;
    ZRemRangeByLex = "zremrangebylex", sorted_set::zremrangebylex;
    ZUnionStore = "zunionstore", sorted_set::zunionstore;
    ZInterStore = "zinterstore", sorted_set::zinterstore;
    ZDiffStore = "zdiffstore", sorted_set::zdiffstore;
    ZUnion = "zunion", sorted_set::zunion;
    ZInter = "zinter", sorted_set::zinter;
    ZInterCard = "zintercard", sorted_set::zintercard;
    ZDiff = "zdiff", sorted_set::zdiff;
    ZMPop = "zmpop", sorted_set::zmpop;
    ZRange = "zrange", sorted_set::zrange;
    ZRangeStore = "zrangestore", sorted_set::zrangestore;
    ZRangeByScore = "zrangebyscore", sorted_set::zrangebyscore;
    ZRevRangeByScore = "zrevrangebyscore", sorted_set::zrevrangebyscore;
    ZRangeByLex = "zrangebylex", sorted_set::zrangebylex;
    ZRevRangeByLex = "zrevrangebylex", sorted_set::zrevrangebylex;
    ZCount = "zcount", sorted_set::zcount;
    ZLexCount = "zlexcount", sorted_set::zlexcount;
    ZRevRange = "zrevrange", sorted_set::zrevrange;
    ZCard = "zcard", sorted_set::zcard;
    ZScore = "zscore", sorted_set::zscore;
    ZMScore = "zmscore", sorted_set::zmscore;
    ZRank = "zrank", sorted_set::zrank;
    ZRevRank = "zrevrank", sorted_set::zrevrank;
    ZScan = "zscan", sorted_set::zscan;
    ZPopMin = "zpopmin", sorted_set::zpopmin;
    ZPopMax = "zpopmax", sorted_set::zpopmax;
    ZRandMember = "zrandmember", sorted_set::zrandmember;
    BZPopMin = "bzpopmin", sorted_set::bzpopmin;
    BZPopMax = "bzpopmax", sorted_set::bzpopmax;
    BZMPop = "bzmpop", sorted_set::bzmpop;
    // bitmap
    SetBit = "setbit", bitmap::setbit;
    GetBit = "getbit", bitmap::getbit;
    BitCount = "bitcount", bitmap::bitcount;
    BitPos = "bitpos", bitmap::bitpos;
    BitOp = "bitop", bitmap::bitop;
    BitField = "bitfield", bitmap::bitfield;
    BitFieldRo = "bitfield_ro", bitmap::bitfield_ro;
    // hyperloglog
    PfAdd = "pfadd", hyperloglog::pfadd;
    PfCount = "pfcount", hyperloglog::pfcount;
    PfMerge = "pfmerge", hyperloglog::pfmerge;
    PfDebug = "pfdebug", hyperloglog::pfdebug;
    PfSelfTest = "pfselftest", hyperloglog::pfselftest;
    // set
    SAdd = "sadd", set::sadd;
    SRem = "srem", set::srem;
    SMove = "smove", set::smove;
    SIsMember = "sismember", set::sismember;
    SMIsMember = "smismember", set::smismember;
    SCard = "scard", set::scard;
    SMembers = "smembers", set::smembers;
    SPop = "spop", set::spop;
    SRandMember = "srandmember", set::srandmember;
    SInter = "sinter", set::sinter;
    SInterCard = "sintercard", set::sintercard;
    SInterStore = "sinterstore", set::sinterstore;
    SUnion = "sunion", set::sunion;
    SUnionStore = "sunionstore", set::sunionstore;
    SDiff = "sdiff", set::sdiff;
    SDiffStore = "sdiffstore", set::sdiffstore;
    SScan = "sscan", set::sscan;
    // list
    LPush = "lpush", list::lpush;
    RPush = "rpush", list::rpush;
    LPushX = "lpushx", list::lpushx;
    RPushX = "rpushx", list::rpushx;
    LPop = "lpop", list::lpop;
    RPop = "rpop", list::rpop;
    LLen = "llen", list::llen;
    LRange = "lrange", list::lrange;
    LIndex = "lindex", list::lindex;
    LSet = "lset", list::lset;
    LInsert = "linsert", list::linsert;
    LRem = "lrem", list::lrem;
    LTrim = "ltrim", list::ltrim;
    LPos = "lpos", list::lpos;
    LMove = "lmove", list::lmove;
    RPopLPush = "rpoplpush", list::rpoplpush;
    LMPop = "lmpop", list::lmpop;
    BLPop = "blpop", list::blpop;
    BRPop = "brpop", list::brpop;
    BRPopLPush = "brpoplpush", list::brpoplpush;
    BLMove = "blmove", list::blmove;
    BLMPop = "blmpop", list::blmpop;
    // geo
    GeoAdd = "geoadd", geo::geoadd;
    GeoPos = "geopos", geo::geopos;
    GeoDist = "geodist", geo::geodist;
    GeoHash = "geohash", geo::geohash;
    GeoRadius = "georadius", geo::georadius;
    GeoRadiusByMember = "georadiusbymember", geo::georadiusbymember;
    GeoRadiusRo = "georadius_ro", geo::georadius_ro;
    GeoRadiusByMemberRo = "georadiusbymember_ro", geo::georadiusbymember_ro;
    GeoSearch = "geosearch", geo::geosearch;
    GeoSearchStore = "geosearchstore", geo::geosearchstore;
    // pubsub
    Publish = "publish", pubsub::publish;
    SPublish = "spublish", pubsub::spublish;
    PubsubChannels = "pubsub|channels", pubsub::channels;
    PubsubNumSub = "pubsub|numsub", pubsub::numsub;
    PubsubNumPat = "pubsub|numpat", pubsub::numpat;
    PubsubShardChannels = "pubsub|shardchannels", pubsub::shardchannels;
    PubsubShardNumSub = "pubsub|shardnumsub", pubsub::shardnumsub;
    PubsubHelp = "pubsub|help", pubsub::help;
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

    /// True when Redis's spec flags the command `write` (it may change the keyspace).
    pub fn writes(self) -> bool {
        OPS[self as usize].spec().flags & spec::flag::WRITE != 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::key_hash;
    use crate::entry::Entry;
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
                crate::entry::Obj::List(crate::types::list::List::of(&[b"x"])),
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
    fn bit_and_hll_commands_refuse_other_types() {
        let ks = with_list();
        let wrong = Reply::error(KsError::WrongType.text());
        for line in [
            "setbit list 0 1",
            "getbit list 0",
            "bitcount list",
            "bitcount list 0 -1 bit",
            "bitpos list 1",
            "bitpos list 0 1 2",
            "bitop and dest list",
            "bitop or dest nokey list",
            "bitfield list get u8 0",
            "bitfield list set u8 0 1",
            "bitfield_ro list get u8 0",
            "pfadd list a",
            "pfcount list",
            "pfcount nokey list",
            "pfmerge dest list",
            "pfmerge list nokey",
            "pfdebug encoding list",
        ] {
            assert_eq!(run(&ks, line), wrong, "{line}");
        }
        // Argument errors come first where Redis checks them first.
        assert_eq!(
            run(&ks, "setbit list x 1"),
            Reply::error(KsError::BitOffset.text())
        );
        assert_eq!(
            run(&ks, "bitfield_ro list set u8 0 1"),
            Reply::error(KsError::BitfieldReadOnly.text())
        );
        assert_eq!(
            run(&ks, "bitfield list get u64 0"),
            Reply::error(KsError::BitfieldType.text())
        );
        assert_eq!(
            run(&ks, "pfdebug encoding nokey"),
            Reply::error(KsError::HllNoKey.text())
        );
        assert_eq!(
            run(&ks, "pfdebug what list"),
            Reply::error(KsError::WrongType.text())
        );
        assert_eq!(run(&ks, "exists dest"), Reply::Int(0));
        assert_eq!(run(&ks, "object encoding list"), Reply::bulk(b"listpack"));
    }

    #[test]
    fn pfdebug_echoes_an_unknown_subcommand() {
        let ks = with_list();
        run(&ks, "pfadd h a");
        assert_eq!(
            run(&ks, "pfdebug what h"),
            Reply::error("ERR Unknown PFDEBUG subcommand 'what'")
        );
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
    fn every_op_is_joined_to_its_spec_and_locks_as_redis_keys_say() {
        for (i, row) in OPS.iter().enumerate() {
            // The join is by name at compile time; a row the spec lacks does not build.
            assert_eq!(row.spec().name, row.name, "op {i}");
            assert_eq!(row.arity, row.spec().arity, "op {i}");
        }
        let lock = |op: Op| OPS[op as usize].lock;
        assert_eq!(lock(Op::Get), Lock::Single(1));
        assert_eq!(lock(Op::Set), Lock::Single(1));
        assert_eq!(lock(Op::GetEx), Lock::Single(1));
        assert_eq!(lock(Op::ObjectEncoding), Lock::Single(2));
        assert_eq!(lock(Op::ObjectHelp), Lock::None);
        for op in [Op::MGet, Op::MSet, Op::Lcs, Op::Rename, Op::Copy, Op::Del] {
            assert_eq!(lock(op), Lock::Keys, "{op:?}");
        }
        for op in [Op::DbSize, Op::FlushDb, Op::FlushAll, Op::SwapDb] {
            assert_eq!(lock(op), Lock::All, "{op:?}");
        }
        for op in [Op::Keys, Op::Scan, Op::RandomKey] {
            assert_eq!(lock(op), Lock::Iter, "{op:?}");
        }
    }

    #[test]
    fn arity_comes_from_the_spec_and_its_error_names_the_command() {
        let ks = Keyspace::new(crate::Config::default());
        for (line, name) in [("get", "get"), ("object encoding", "object|encoding")] {
            let argv: Vec<&[u8]> = line.split(' ').map(str::as_bytes).collect();
            let op = Op::from_name(name).expect("op");
            let mut out = ReplySink::new();
            ks.run(&mut Session::new(T0), op as u16, &argv, &mut out);
            assert_eq!(
                decode(out.as_bytes()).unwrap(),
                vec![Reply::error(&format!(
                    "ERR wrong number of arguments for '{name}' command"
                ))]
            );
        }
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
