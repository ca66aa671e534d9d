//! Key extraction, once for the whole server: which arguments of a command are keys, and with
//! which key-spec flags. It decides which segments a command locks (`Keyspace::lock_command`)
//! and answers COMMAND GETKEYS / GETKEYSANDFLAGS (`command_get_keys`).
//!
//! This is Redis 7.2's `getKeysFromCommandWithSpecs` (src/db.c): the command's key specs
//! (generated into `spec.rs` from the same JSON as the TypeScript table) when they can answer,
//! else its native callback (`sortGetKeys`, `zunionInterDiffGetKeys`, ...). The shapes of the
//! spec table live here; the table itself is generated. Nothing on the common path allocates:
//! keys come back in a `SmallVec`.

use smallvec::SmallVec;

use super::spec::{flag, key_flag, COMMANDS};
use crate::error::KsError;
use crate::number::parse_i64;

/// One command or subcommand of the spec, as the core needs it.
#[derive(Debug, Clone, Copy)]
pub struct CommandSpec {
    /// Lower-case full name (`get`, `object|encoding`).
    pub name: &'static str,
    /// Redis command group (`string`, `sorted_set`, ...).
    pub group: &'static str,
    /// Argument count including the name; negative means at least -arity.
    pub arity: i32,
    /// `spec::flag` bits.
    pub flags: u32,
    /// `spec::acl` bits, implicit categories included.
    pub acl: u32,
    /// Key specs in the spec's order.
    pub key_specs: &'static [KeyArgSpec],
    /// Redis's native key-extraction callback, used when the key specs cannot answer.
    pub getkeys: Option<NativeGetKeys>,
    /// A container of subcommands (CLIENT, OBJECT, ...).
    pub container: bool,
}

impl CommandSpec {
    /// True when `argc` (name included) satisfies the arity (Redis's `commandCheckArity`).
    pub fn arity_ok(&self, argc: usize) -> bool {
        let argc = argc as i64;
        let a = i64::from(self.arity);
        if a >= 0 {
            argc == a
        } else {
            argc >= -a
        }
    }

    /// `doesCommandHaveKeys`: a native callback or a key spec that is not NOT_KEY.
    pub fn has_keys(&self) -> bool {
        self.getkeys.is_some() || self.key_specs.iter().any(|ks| !ks.is(key_flag::NOT_KEY))
    }
}

/// One key specification (Redis's `keySpec`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyArgSpec {
    /// `spec::key_flag` bits.
    pub flags: u16,
    /// Where the search for keys starts.
    pub begin: BeginSearch,
    /// How the keys are found from there.
    pub find: FindKeys,
}

impl KeyArgSpec {
    fn is(&self, bit: u16) -> bool {
        self.flags & bit != 0
    }
}

/// `begin_search` of a key spec.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BeginSearch {
    /// The keys start at this argv index.
    Index(i32),
    /// The keys start after `keyword`, searched from `startfrom` (negative: from the end).
    Keyword {
        /// Upper-case keyword (`STREAMS`).
        keyword: &'static str,
        /// Where the search starts; negative counts from the end, searching backwards.
        startfrom: i32,
    },
    /// Only the native callback knows.
    Unknown,
}

/// `find_keys` of a key spec.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FindKeys {
    /// Keys up to `lastkey` (relative; negative counts from the end), every `step`th.
    Range {
        /// Last key, relative to the first; negative counts from the end of argv.
        lastkey: i32,
        /// Distance between keys.
        step: i32,
        /// With lastkey -1: only the first 1/limit of the remaining arguments.
        limit: i32,
    },
    /// A key count at `keynumidx` (relative), then the keys from `firstkey` (relative).
    Keynum {
        /// Index of the key count, relative to the begin index.
        keynumidx: i32,
        /// Index of the first key, relative to the begin index.
        firstkey: i32,
        /// Distance between keys.
        step: i32,
    },
    /// Only the native callback knows.
    Unknown,
}

/// Redis's native getkeys callbacks (src/db.c), named after them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NativeGetKeys {
    /// `bitfieldGetKeys`.
    Bitfield,
    /// `blmpopGetKeys`.
    Blmpop,
    /// `evalGetKeys`.
    Eval,
    /// `functionGetKeys`.
    Function,
    /// `georadiusGetKeys`.
    Georadius,
    /// `lmpopGetKeys`.
    Lmpop,
    /// `migrateGetKeys`.
    Migrate,
    /// `setGetKeys`.
    Set,
    /// `sintercardGetKeys`.
    Sintercard,
    /// `sortGetKeys`.
    Sort,
    /// `sortROGetKeys`.
    SortRo,
    /// `xreadGetKeys`.
    Xread,
    /// `zmpopGetKeys`.
    Zmpop,
    /// `zunionInterDiffGetKeys`.
    ZunionInterDiff,
    /// `zunionInterDiffStoreGetKeys`.
    ZunionInterDiffStore,
}

/// A key of a command: its argv index and the key-spec flags to print with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyRef {
    /// Index in argv (0 is the command name).
    pub pos: usize,
    /// `spec::key_flag` bits.
    pub flags: u16,
}

/// The keys of one command; inline up to 8.
pub type KeyRefs = SmallVec<[KeyRef; 8]>;

/// The spec named `name` exactly (lower-case, `container|sub`).
pub fn find(name: &str) -> Option<&'static CommandSpec> {
    COMMANDS
        .binary_search_by(|c| c.name.as_bytes().cmp(name.as_bytes()))
        .ok()
        .and_then(|i| COMMANDS.get(i))
}

/// COMMAND GETKEYS / GETKEYSANDFLAGS for the command whose spec is named `name` (resolved by
/// the caller from argv, subcommand included; an unknown name is an invalid command) with
/// `argv` starting at the command's name: `getKeysSubcommandImpl` (src/server.c, 7.2).
pub fn command_get_keys(name: &str, argv: &[&[u8]]) -> Result<KeyRefs, KsError> {
    let spec = find(name).ok_or(KsError::GetKeysInvalidCommand)?;
    if !spec.has_keys() {
        return Err(KsError::GetKeysNoKeyArguments);
    }
    if !spec.arity_ok(argv.len()) {
        return Err(KsError::GetKeysInvalidArgCount);
    }
    let keys = get_keys(spec, argv);
    if keys.is_empty() && spec.flags & flag::NO_MANDATORY_KEYS == 0 {
        return Err(KsError::GetKeysInvalidArguments);
    }
    Ok(keys)
}

/// `getKeysFromCommandWithSpecs`: the key specs when they are reliable and can answer, else
/// the native callback; no keys when neither can.
pub fn get_keys(spec: &CommandSpec, argv: &[&[u8]]) -> KeyRefs {
    let has_key_spec = spec.key_specs.iter().any(|ks| !ks.is(key_flag::NOT_KEY));
    let variable = spec
        .key_specs
        .iter()
        .any(|ks| ks.is(key_flag::VARIABLE_FLAGS));
    if has_key_spec && !variable {
        if let Some(keys) = keys_from_specs(spec, argv, false) {
            return keys;
        }
    }
    match spec.getkeys {
        Some(native) => native_keys(native, argv),
        None => KeyRefs::new(),
    }
}

/// The keys to lock for a command: `get_keys`, or, when that finds none because one spec
/// cannot answer for these arguments, what the other specs name (Redis's
/// GET_KEYSPEC_RETURN_PARTIAL). PFMERGE with a destination and no sources is valid, yet its
/// second spec starts past argv, so Redis's GETKEYS answers nothing: the destination must
/// still be locked.
pub fn lock_keys(spec: &CommandSpec, argv: &[&[u8]]) -> KeyRefs {
    let keys = get_keys(spec, argv);
    if !keys.is_empty() || !spec.has_keys() {
        return keys;
    }
    keys_from_specs(spec, argv, true).unwrap_or_default()
}

/// `getKeysUsingKeySpecs`: None when a spec cannot answer, unless `partial` (then that spec
/// adds no keys, or those it found before it proved incomplete).
fn keys_from_specs(spec: &CommandSpec, argv: &[&[u8]], partial: bool) -> Option<KeyRefs> {
    let argc = argv.len() as i64;
    let mut keys = KeyRefs::new();
    for ks in spec.key_specs {
        if ks.is(key_flag::NOT_KEY) {
            continue;
        }
        let mut first: i64 = 0;
        match ks.begin {
            BeginSearch::Index(i) => first = i64::from(i),
            BeginSearch::Keyword { keyword, startfrom } => {
                let startfrom = i64::from(startfrom);
                let (start, end) = if startfrom > 0 {
                    (startfrom, argc - 1)
                } else {
                    (argc + startfrom, 1)
                };
                // As in Redis, the search stops before `end`: the last argument cannot be
                // the keyword.
                let mut i = start;
                while i != end {
                    if i >= argc || i < 1 {
                        break;
                    }
                    if cstr_eq(arg(argv, i), keyword) {
                        first = i + 1;
                        break;
                    }
                    i = if start <= end { i + 1 } else { i - 1 };
                }
                if first == 0 {
                    // The keyword is absent: this spec has no keys here.
                    continue;
                }
            }
            BeginSearch::Unknown if partial => continue,
            BeginSearch::Unknown => return None,
        }
        let (last, step) = match ks.find {
            FindKeys::Range {
                lastkey,
                step,
                limit,
            } => {
                let lastkey = i64::from(lastkey);
                let last = if lastkey >= 0 {
                    first + lastkey
                } else if limit == 0 {
                    argc + lastkey
                } else {
                    first + ((argc - first) / i64::from(limit) + lastkey)
                };
                (last, step)
            }
            FindKeys::Keynum {
                keynumidx,
                firstkey,
                step,
            } => {
                let keynumidx = i64::from(keynumidx);
                if keynumidx >= argc || first + keynumidx >= argc {
                    if partial {
                        continue;
                    }
                    return None;
                }
                let numkeys = match parse_i64(arg(argv, first + keynumidx)).filter(|n| *n >= 0) {
                    Some(n) => n,
                    None if partial => continue,
                    None => return None,
                };
                first += i64::from(firstkey);
                (first.saturating_add(numkeys) - 1, step)
            }
            FindKeys::Unknown if partial => continue,
            FindKeys::Unknown => return None,
        };
        if last >= argc || last < first || first >= argc {
            if partial {
                continue;
            }
            return None;
        }
        let step = i64::from(step.max(1));
        let mut i = first;
        while i <= last {
            keys.push(KeyRef {
                pos: i as usize,
                flags: ks.flags,
            });
            i += step;
        }
        if ks.is(key_flag::INCOMPLETE) && !partial {
            return None;
        }
    }
    Some(keys)
}

/// argv[i], or an empty argument past either end (callers bound `i` first).
fn arg<'a>(argv: &[&'a [u8]], i: i64) -> &'a [u8] {
    usize::try_from(i)
        .ok()
        .and_then(|i| argv.get(i))
        .copied()
        .unwrap_or_default()
}

const RO_ACCESS: u16 = key_flag::RO | key_flag::ACCESS;
const OW_UPDATE: u16 = key_flag::OW | key_flag::UPDATE;
const RW_ACCESS_UPDATE: u16 = key_flag::RW | key_flag::ACCESS | key_flag::UPDATE;
const RW_ACCESS_DELETE: u16 = key_flag::RW | key_flag::ACCESS | key_flag::DELETE;

fn key(pos: usize, flags: u16) -> KeyRef {
    KeyRef { pos, flags }
}

/// Redis's native getkeys callbacks (src/db.c, 7.2).
fn native_keys(native: NativeGetKeys, argv: &[&[u8]]) -> KeyRefs {
    use NativeGetKeys as N;
    match native {
        // ZUNIONSTORE dst numkeys key ... / ZUNION numkeys key ... / EVAL script numkeys key ...
        N::ZunionInterDiffStore => generic_keys(1, 2, 3, 1, argv),
        N::ZunionInterDiff | N::Sintercard | N::Lmpop | N::Zmpop => generic_keys(0, 1, 2, 1, argv),
        N::Eval | N::Function | N::Blmpop => generic_keys(0, 2, 3, 1, argv),
        N::SortRo => smallvec::smallvec![key(1, RO_ACCESS)],
        N::Sort => sort_keys(argv),
        N::Migrate => migrate_keys(argv),
        N::Georadius => georadius_keys(argv),
        N::Xread => xread_keys(argv),
        N::Set => set_keys(argv),
        N::Bitfield => bitfield_keys(argv),
    }
}

/// `genericGetKeys`: numkeys at `count_at` (read with atoi), then the keys, then the store key.
fn generic_keys(
    store_at: usize,
    count_at: usize,
    first_at: usize,
    step: usize,
    argv: &[&[u8]],
) -> KeyRefs {
    let num = argv.get(count_at).map_or(0, |a| atoi(a));
    let mut keys = KeyRefs::new();
    // C integer division, as Redis checks it.
    let room = (argv.len() as i64 - first_at as i64) / step as i64;
    if num < 1 || i64::from(num) > room {
        return keys;
    }
    for i in 0..num as usize {
        keys.push(key(first_at + i * step, 0));
    }
    if store_at != 0 {
        keys.push(key(store_at, 0));
    }
    keys
}

/// SORT key [BY ..] [LIMIT o c] [GET ..] ... [STORE dst]: the last STORE wins, as in SORT.
fn sort_keys(argv: &[&[u8]]) -> KeyRefs {
    const SKIP: [(&str, usize); 3] = [("limit", 2), ("get", 1), ("by", 1)];
    let mut store = None;
    let mut i = 2;
    while i < argv.len() {
        let a = argv[i];
        // Redis tests STORE inside the loop over the skip list, so STORE is seen at its
        // first entry.
        for (name, n) in SKIP {
            if cstr_eq(a, name) {
                i += n;
                break;
            }
            if cstr_eq(a, "store") && i + 1 < argv.len() {
                store = Some(key(i + 1, OW_UPDATE));
                break;
            }
        }
        i += 1;
    }
    let mut keys: KeyRefs = smallvec::smallvec![key(1, RO_ACCESS)];
    keys.extend(store);
    keys
}

/// MIGRATE host port key|"" db timeout [COPY] [REPLACE] [AUTH pw | AUTH2 user pw] [KEYS key ...].
fn migrate_keys(argv: &[&[u8]]) -> KeyRefs {
    const SKIP: [(&str, usize); 4] = [("copy", 0), ("replace", 0), ("auth", 1), ("auth2", 2)];
    let argc = argv.len();
    let (mut first, mut num) = (3, 1);
    let mut i = 6;
    while i < argc {
        let a = argv[i];
        if cstr_eq(a, "keys") {
            // A key argument together with KEYS is a syntax error, left to MIGRATE itself.
            if !argv[3].is_empty() {
                num = 0;
            } else {
                first = i + 1;
                num = argc - first;
            }
            break;
        }
        for (name, n) in SKIP {
            if cstr_eq(a, name) {
                i += n;
                break;
            }
        }
        i += 1;
    }
    (first..first + num)
        .filter(|&p| p < argc)
        .map(|p| key(p, RW_ACCESS_DELETE))
        .collect()
}

/// GEORADIUS[BYMEMBER] key ... [STORE key | STOREDIST key]: the last store option wins.
fn georadius_keys(argv: &[&[u8]]) -> KeyRefs {
    let mut stored = None;
    let mut i = 5;
    while i < argv.len() {
        let a = argv[i];
        if (cstr_eq(a, "store") || cstr_eq(a, "storedist")) && i + 1 < argv.len() {
            stored = Some(key(i + 1, 0));
            i += 1;
        }
        i += 1;
    }
    let mut keys: KeyRefs = smallvec::smallvec![key(1, 0)];
    keys.extend(stored);
    keys
}

/// XREAD[GROUP] [BLOCK ms] [COUNT n] [GROUP g c] [NOACK] STREAMS key ... id ...: half the
/// arguments after STREAMS are keys.
fn xread_keys(argv: &[&[u8]]) -> KeyRefs {
    let argc = argv.len();
    let mut streams = None;
    let mut i = 1;
    while i < argc {
        let a = argv[i];
        if cstr_eq(a, "block") || cstr_eq(a, "count") {
            i += 1;
        } else if cstr_eq(a, "group") {
            i += 2;
        } else if cstr_eq(a, "noack") {
            // No option argument.
        } else if cstr_eq(a, "streams") {
            streams = Some(i);
            break;
        } else {
            break;
        }
        i += 1;
    }
    let Some(at) = streams else {
        return KeyRefs::new();
    };
    let rest = argc - at - 1;
    if rest == 0 || !rest.is_multiple_of(2) {
        return KeyRefs::new();
    }
    (at + 1..argc - rest / 2).map(|p| key(p, 0)).collect()
}

/// SET key value [... GET ...]: the key is read too when GET is given.
fn set_keys(argv: &[&[u8]]) -> KeyRefs {
    let get = argv.iter().skip(3).any(|a| cstr_eq(a, "get"));
    smallvec::smallvec![key(1, if get { RW_ACCESS_UPDATE } else { OW_UPDATE })]
}

/// BITFIELD key [GET ..] [SET ..] [INCRBY ..] [OVERFLOW ..]: read-only unless it writes (or
/// is malformed, which Redis also counts as a write, to be safe).
fn bitfield_keys(argv: &[&[u8]]) -> KeyRefs {
    let mut readonly = true;
    let mut i = 2;
    while i < argv.len() {
        let remaining = argv.len() - i - 1;
        let a = argv[i];
        if cstr_eq(a, "get") && remaining >= 2 {
            i += 2;
        } else if (cstr_eq(a, "set") || cstr_eq(a, "incrby")) && remaining >= 3 {
            readonly = false;
            break;
        } else if cstr_eq(a, "overflow") && remaining >= 1 {
            i += 1;
        } else {
            readonly = false;
            break;
        }
        i += 1;
    }
    smallvec::smallvec![key(
        1,
        if readonly {
            RO_ACCESS
        } else {
            RW_ACCESS_UPDATE
        }
    )]
}

/// `strcasecmp(arg->ptr, word)`: ASCII case-insensitive, and the argument ends at its first
/// NUL byte, as a C string does (`get\0x` equals `get` there).
fn cstr_eq(arg: &[u8], word: &str) -> bool {
    let len = arg.iter().position(|&b| b == 0).unwrap_or(arg.len());
    arg[..len].eq_ignore_ascii_case(word.as_bytes())
}

/// glibc's `atoi`: `(int) strtol(s, NULL, 10)`, saturating at the long range, then
/// truncated to 32 bits; stops at the first NUL or non-digit.
fn atoi(arg: &[u8]) -> i32 {
    let mut s = arg;
    while let Some((&c, rest)) = s.split_first() {
        if matches!(c, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r') {
            s = rest;
        } else {
            break;
        }
    }
    let neg = match s.first() {
        Some(b'-') => {
            s = &s[1..];
            true
        }
        Some(b'+') => {
            s = &s[1..];
            false
        }
        _ => false,
    };
    let mut v: i128 = 0;
    for &d in s {
        if !d.is_ascii_digit() {
            break;
        }
        v = (v * 10 + i128::from(d - b'0')).min(i128::from(i64::MAX) + 1);
    }
    let v = if neg { -v } else { v };
    let v = v.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64;
    v as i32
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Key-spec flag names by bit, as COMMAND GETKEYSANDFLAGS prints them.
    const FLAG_NAMES: [&str; 11] = [
        "RO",
        "RW",
        "OW",
        "RM",
        "access",
        "update",
        "insert",
        "delete",
        "not_key",
        "incomplete",
        "variable_flags",
    ];

    /// The spec name a client's argv runs (`lookupCommand`), or "" when none: the caller's
    /// routing, which the server does in TypeScript.
    fn resolve(argv: &[&[u8]]) -> String {
        let Some(first) = argv.first() else {
            return String::new();
        };
        let name = String::from_utf8_lossy(first).to_ascii_lowercase();
        if name.contains('|') {
            return String::new();
        }
        match (find(&name), argv.get(1)) {
            (Some(spec), Some(sub)) if spec.container => {
                format!(
                    "{name}|{}",
                    String::from_utf8_lossy(sub).to_ascii_lowercase()
                )
            }
            _ => name,
        }
    }

    /// COMMAND GETKEYSANDFLAGS as (key, "flag flag") pairs, or the error text.
    fn getkeys(argv: &[&str]) -> Result<Vec<(String, String)>, &'static str> {
        let argv: Vec<&[u8]> = argv.iter().map(|a| a.as_bytes()).collect();
        let keys = command_get_keys(&resolve(&argv), &argv).map_err(KsError::text)?;
        Ok(keys
            .iter()
            .map(|k| {
                let flags: Vec<&str> = (0..FLAG_NAMES.len())
                    .filter(|b| k.flags & (1 << b) != 0)
                    .map(|b| FLAG_NAMES[b])
                    .collect();
                (
                    String::from_utf8_lossy(argv[k.pos]).into_owned(),
                    flags.join(" "),
                )
            })
            .collect())
    }

    #[test]
    fn flag_names_follow_the_generated_bits() {
        assert_eq!(key_flag::RO, 1);
        assert_eq!(key_flag::ACCESS, 1 << 4);
        assert_eq!(key_flag::VARIABLE_FLAGS, 1 << 10);
    }

    /// Redis 7.2.6's answers (also the TypeScript COMMAND tests' table).
    #[test]
    fn getkeys_answers_as_redis() {
        type Expected = Result<&'static [(&'static str, &'static str)], &'static str>;
        let cases: &[(&[&str], Expected)] = &[
            (&["get", "k"], Ok(&[("k", "RO access")])),
            (
                &["get"],
                Err("ERR Invalid number of arguments specified for command"),
            ),
            (&["set", "k", "v"], Ok(&[("k", "OW update")])),
            (
                &["set", "k", "v", "ex", "10", "get"],
                Ok(&[("k", "RW access update")]),
            ),
            (
                &["mset", "a", "1", "", "2"],
                Ok(&[("a", "OW update"), ("", "OW update")]),
            ),
            (
                &["lcs", "a", ""],
                Ok(&[("a", "RO access"), ("", "RO access")]),
            ),
            (&["object", "encoding", "k"], Ok(&[("k", "RO")])),
            (&["object"], Err("ERR The command has no key arguments")),
            (
                &["client", "kill", "x"],
                Err("ERR The command has no key arguments"),
            ),
            (&["nosuch", "a"], Err("ERR Invalid command specified")),
            (&["ping"], Err("ERR The command has no key arguments")),
            (&["client|kill", "x"], Err("ERR Invalid command specified")),
            (
                &["zunionstore", "d", "2", "a", ""],
                Ok(&[("d", "OW update"), ("a", "RO access"), ("", "RO access")]),
            ),
            (
                &["zunionstore", "d", "x", "a", ""],
                Err("ERR Invalid arguments specified for command"),
            ),
            (
                &["zunionstore", "d", "5", "a", ""],
                Err("ERR Invalid arguments specified for command"),
            ),
            (
                &["zunion", "2", "a", ""],
                Ok(&[("a", "RO access"), ("", "RO access")]),
            ),
            (
                &["sintercard", "0", "a"],
                Err("ERR Invalid arguments specified for command"),
            ),
            (&["eval", "s", "0"], Ok(&[])),
            (
                &["eval", "s", "2", "a", "", "c"],
                Ok(&[("a", "RW access update"), ("", "RW access update")]),
            ),
            (&["eval", "s", "x"], Ok(&[])),
            (&["eval", "s", "99999999999999999999", "a"], Ok(&[])),
            (&["fcall_ro", "f", "1", "a"], Ok(&[("a", "RO access")])),
            (
                &["blmpop", "0", "2", "a", "", "left"],
                Ok(&[("a", "RW access delete"), ("", "RW access delete")]),
            ),
            (
                &["bzmpop", "1", "x", "a", "max"],
                Err("ERR Invalid arguments specified for command"),
            ),
            (&["sort", "k"], Ok(&[("k", "RO access")])),
            (
                &["sort", "k", "by", "x", "get", "y", "store", "d"],
                Ok(&[("k", "RO access"), ("d", "OW update")]),
            ),
            (
                &["sort", "k", "store", "d", "store", "e"],
                Ok(&[("k", "RO access"), ("e", "OW update")]),
            ),
            (&["sort_ro", "k", "by", "x"], Ok(&[("k", "RO access")])),
            (
                &["migrate", "h", "1", "k", "0", "10"],
                Ok(&[("k", "RW access delete")]),
            ),
            (
                &[
                    "migrate", "h", "1", "", "0", "10", "auth2", "u", "p", "keys", "a", "",
                ],
                Ok(&[("a", "RW access delete"), ("", "RW access delete")]),
            ),
            (
                &["migrate", "h", "1", "k", "0", "10", "keys", "a", ""],
                Err("ERR Invalid arguments specified for command"),
            ),
            (
                &[
                    "georadius",
                    "k",
                    "1",
                    "2",
                    "3",
                    "m",
                    "store",
                    "d",
                    "storedist",
                    "e",
                ],
                Ok(&[("k", "RO access"), ("d", "OW update"), ("e", "OW update")]),
            ),
            (
                &[
                    "xread", "count", "1", "block", "0", "streams", "a", "", "0", "0",
                ],
                Ok(&[("a", "RO access"), ("", "RO access")]),
            ),
            (
                &["xread", "streams", "a", "", "c"],
                Ok(&[("a", "RO access")]),
            ),
            (
                &[
                    "xreadgroup",
                    "group",
                    "g",
                    "c",
                    "noack",
                    "streams",
                    "s1",
                    "0",
                ],
                Ok(&[("s1", "RO access")]),
            ),
            (
                &["bitfield", "k", "get", "u8", "0"],
                Ok(&[("k", "RO access")]),
            ),
            (
                &["bitfield", "k", "set", "u8", "0", "1"],
                Ok(&[("k", "RW access update")]),
            ),
            (
                &["bitfield", "k", "bogus"],
                Ok(&[("k", "RW access update")]),
            ),
            (
                &["bitfield_ro", "k", "get", "u8", "0"],
                Ok(&[("k", "RO access")]),
            ),
            (
                &["rename", "a", ""],
                Ok(&[("a", "RW access delete"), ("", "OW update")]),
            ),
            (
                &["smove", "a", "", "m"],
                Ok(&[("a", "RW access delete"), ("", "RW insert")]),
            ),
            (
                &["blmove", "a", "", "left", "right", "0"],
                Ok(&[("a", "RW access delete"), ("", "RW insert")]),
            ),
            (
                &["copy", "a", ""],
                Ok(&[("a", "RO access"), ("", "OW update")]),
            ),
            (&["xinfo", "stream", "s"], Ok(&[("s", "RO access")])),
            (&["memory", "usage", "k"], Ok(&[("k", "RO")])),
            (
                &["sunsubscribe", "a"],
                Err("ERR The command has no key arguments"),
            ),
            (
                &["spublish", "c", "m"],
                Err("ERR The command has no key arguments"),
            ),
            (
                &["set", "k", "v", "get\0x"],
                Ok(&[("k", "RW access update")]),
            ),
            // Keyword searches: the keyword as the last argument starts nothing, and a
            // keyword search from the end stops before the name.
            (
                &["georadius", "k", "1", "2", "3", "m", "store"],
                Ok(&[("k", "RO access")]),
            ),
            (
                &["xread", "streams"],
                Err("ERR Invalid number of arguments specified for command"),
            ),
            (
                &["xread", "count", "1", "streams"],
                Err("ERR Invalid arguments specified for command"),
            ),
            (
                &["lmpop", "2", "a", "b", "left"],
                Ok(&[("a", "RW access delete"), ("b", "RW access delete")]),
            ),
            (
                &["zinterstore", "d", "1", "a", "weights", "2"],
                Ok(&[("d", "OW update"), ("a", "RO access")]),
            ),
            (
                &["fcall", "f", "2", "a", "b"],
                Ok(&[("a", "RW access update"), ("b", "RW access update")]),
            ),
        ];
        for (argv, expected) in cases {
            let want = expected.map(|keys| {
                keys.iter()
                    .map(|(k, f)| (k.to_string(), f.to_string()))
                    .collect::<Vec<_>>()
            });
            assert_eq!(getkeys(argv), want, "{}", argv.join(" "));
        }
    }

    #[test]
    fn native_callbacks_read_numbers_as_c_does() {
        assert_eq!(atoi(b" 12abc"), 12);
        assert_eq!(atoi(b"+3"), 3);
        assert_eq!(atoi(b"-7"), -7);
        assert_eq!(atoi(b"x"), 0);
        assert_eq!(atoi(b"4\x005"), 4);
        // strtol saturates at the long range, then the int cast keeps the low 32 bits.
        assert_eq!(atoi(b"99999999999999999999"), -1);
        assert_eq!(atoi(b"4294967297"), 1);
    }

    #[test]
    fn the_table_is_sorted_and_every_name_is_found() {
        for w in COMMANDS.windows(2) {
            assert!(w[0].name < w[1].name, "{} before {}", w[0].name, w[1].name);
        }
        for c in COMMANDS {
            assert_eq!(find(c.name).map(|s| s.name), Some(c.name));
        }
        assert!(find("GET").is_none(), "names are lower-case");
        assert_eq!(find("hexpire").map(|s| s.arity), Some(-6));
        assert!(find("object|encoding").is_some());
    }
}
