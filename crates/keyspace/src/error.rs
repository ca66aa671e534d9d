//! Command errors of the keyspace: every error a command can reply with, each spelled exactly
//! as Redis 7 spells it (texts copied from `server.c`'s `createSharedObjects`, `t_string.c`,
//! `db.c`, `expire.c` and `object.c`).
//!
//! What fails before a command reaches the core (unknown command, arity, protocol, NOAUTH)
//! belongs to the TypeScript side; the core's arity guard (a caller bug) and MSET's own
//! count check share `WrongArgCount`. Errors that name their command carry no name: the
//! reply writer prints the running command's spec name (`names_command`).
//!
//! Nothing here allocates: a variant maps to a `&'static str`, and the one error that echoes
//! the client's text (`Unsupported option`) carries the argument's index so the reply writer
//! can copy it from argv.

/// Why a keyspace command failed; each variant is exactly one Redis error reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KsError {
    /// `shared.wrongtypeerr`.
    WrongType,
    /// `getLongLongFromObjectOrReply` and friends.
    NotInteger,
    /// `getLongDoubleFromObjectOrReply`.
    NotFloat,
    /// A blocking command's timeout that is not a number (`getTimeoutFromObjectOrReply`).
    TimeoutNotFloat,
    /// A blocking command's timeout below zero.
    TimeoutNegative,
    /// A blocking command's timeout too large for the clock.
    TimeoutOutOfRange,
    /// The reply of a client unblocked by CLIENT UNBLOCK id ERROR.
    Unblocked,
    /// INCR/DECR/INCRBY/DECRBY leaving the i64 range.
    Overflow,
    /// DECRBY with i64::MIN, which cannot be negated.
    DecrOverflow,
    /// `shared.syntaxerr`.
    Syntax,
    /// `shared.nokeyerr` (RENAME of a missing key).
    NoSuchKey,
    /// SELECT/MOVE/COPY/SWAPDB with a db outside `0..databases`.
    DbIndexOutOfRange,
    /// SWAPDB's first index is not an integer.
    InvalidFirstDbIndex,
    /// SWAPDB's second index is not an integer.
    InvalidSecondDbIndex,
    /// `addReplyErrorExpireTime`: the reply names the running command (see `names_command`).
    InvalidExpireTime,
    /// `shared.sameobjecterr` (MOVE to the same db, COPY onto itself).
    SameObject,
    /// `checkStringLength`: the result would pass proto-max-bulk-len (512 MB).
    StringTooLong,
    /// INCRBYFLOAT reaching NaN or an infinity.
    NanOrInfinity,
    /// SETRANGE with a negative offset.
    OffsetOutOfRange,
    /// EXPIRE with NX together with XX, GT or LT.
    ExpireNxAndOthers,
    /// EXPIRE with both GT and LT.
    ExpireGtAndLt,
    /// EXPIRE with an unknown flag; holds the index in argv of the offending argument,
    /// whose text Redis appends to the message.
    UnsupportedOption(u16),
    /// SCAN with a cursor that is not an unsigned 64-bit number.
    InvalidCursor,
    /// `addReplyErrorArity`: the reply names the running command (see `names_command`). Also
    /// MSET/MSETNX with an odd number of key/value arguments (checked by the command itself in
    /// Redis, not by the arity table).
    WrongArgCount,
    /// LCS on a key holding a non-string.
    LcsNotString,
    /// LCS with both LEN and IDX.
    LcsLenAndIdx,
    /// LCS on strings of 4 GB or more.
    LcsTooLong,
    /// LCS whose table would pass proto-max-bulk-len.
    LcsTooBig,
    /// OBJECT FREQ while the maxmemory policy is not an LFU one (the default).
    LfuNotSelected,
    /// OBJECT IDLETIME while the maxmemory policy is an LFU one.
    LfuSelected,
    /// A geo position outside the storable ranges; holds the bits of the two doubles,
    /// which the reply prints with `%f` after the text (`extractLongLatOrReply`).
    GeoInvalidLonLat {
        /// `f64::to_bits` of the longitude.
        lon: u64,
        /// `f64::to_bits` of the latitude.
        lat: u64,
    },
    /// A distance unit other than m, km, ft or mi.
    GeoUnsupportedUnit,
    /// A radius that is not a float.
    GeoNeedNumericRadius,
    /// A negative radius.
    GeoNegativeRadius,
    /// A BYBOX width that is not a float.
    GeoNeedNumericWidth,
    /// A BYBOX height that is not a float.
    GeoNeedNumericHeight,
    /// A negative BYBOX width or height.
    GeoNegativeBox,
    /// GEORADIUSBYMEMBER / FROMMEMBER with a member not in the sorted set.
    GeoMemberNotFound,
    /// A geo search COUNT below 1.
    GeoCountNotPositive,
    /// GEORADIUS STORE/STOREDIST with WITHDIST, WITHHASH or WITHCOORD.
    GeoRadiusStoreWith,
    /// GEOSEARCHSTORE with WITHDIST, WITHHASH or WITHCOORD.
    GeoSearchStoreWith,
    /// GEOSEARCH(STORE) without FROMMEMBER or FROMLONLAT; Redis appends the command name as
    /// the client sent it (argv[0]).
    GeoNeedFrom,
    /// GEOSEARCH(STORE) without BYRADIUS or BYBOX; argv[0] is appended as above.
    GeoNeedBy,
    /// A geo search with ANY but no COUNT.
    GeoAnyNeedsCount,
    /// COMMAND GETKEYS of a command that does not exist.
    GetKeysInvalidCommand,
    /// COMMAND GETKEYS of a command without key arguments.
    GetKeysNoKeyArguments,
    /// COMMAND GETKEYS of a command whose arity is not met.
    GetKeysInvalidArgCount,
    /// COMMAND GETKEYS of a command whose arguments name no keys.
    GetKeysInvalidArguments,
    /// HINCRBY on a field whose value is not an integer.
    HashValueNotInteger,
    /// HINCRBYFLOAT on a field whose value is not a float.
    HashValueNotFloat,
    /// HINCRBYFLOAT with an increment that is NaN or infinite.
    ValueNanOrInfinity,
    /// HEXPIRE family (Redis 7.4): the FIELDS keyword is missing or misplaced.
    MandatoryFields,
    /// HEXPIRE family: numFields is not a positive integer.
    NumFieldsNotPositive,
    /// HTTL family and HPERSIST: numFields is not a positive integer.
    NumFieldsNotPositiveInt,
    /// HEXPIRE family: numFields does not match the fields given.
    NumFieldsMismatch,
    /// HEXPIRE family: a negative time.
    HfeNegativeTime,
    /// ZADD with both XX and NX.
    ZaddXxAndNx,
    /// ZADD with GT, LT and NX together (any two).
    ZaddGtLtNx,
    /// ZADD INCR with more than one score/member pair.
    ZaddIncrPairs,
    /// ZADD/ZINCRBY reaching NaN (inf + -inf).
    ScoreNan,
    /// A score range bound that is not a float (`zslParseRange`).
    MinMaxNotFloat,
    /// A lex range bound that is not `-`, `+`, `[x` or `(x` (`zslParseLexRange`).
    MinMaxNotLex,
    /// ZRANGE LIMIT without BYSCORE or BYLEX.
    LimitNeedsByScoreOrLex,
    /// ZRANGE BYLEX WITHSCORES.
    WithScoresByLex,
    /// `getPositiveLongFromObjectOrReply` without a message (ZPOPMIN count).
    NotPositive,
    /// ZRANDMEMBER WITHSCORES with a count past ±LONG_MAX/2.
    ValueOutOfRange,
    /// ZRANDMEMBER count of LONG_MIN (`getRangeLongFromObjectOrReply` -LONG_MAX..LONG_MAX).
    RandCountRange,
    /// WEIGHTS with a value that is not a float.
    WeightNotFloat,
    /// ZUNION/ZINTER/ZDIFF(STORE)/ZINTERCARD with numkeys below 1; the reply names the
    /// running command (see `names_command`).
    NeedInputKey,
    /// ZMPOP numkeys not a positive integer.
    NumkeysNotPositive,
    /// ZMPOP COUNT not a positive integer.
    CountNotPositive,
    /// ZINTERCARD LIMIT negative or not an integer.
    LimitNegative,
    /// A bit offset that is not an integer, negative, or past proto-max-bulk-len (bitops.c
    /// `getBitOffsetFromArgument`).
    BitOffset,
    /// SETBIT with a value other than 0 or 1.
    BitValue,
    /// BITPOS with a bit other than 0 or 1.
    BitArgument,
    /// BITOP NOT with more than one source.
    BitopNotOneKey,
    /// BITFIELD with a type other than i1..i64 or u1..u63.
    BitfieldType,
    /// BITFIELD OVERFLOW with an unknown behaviour.
    BitfieldOverflow,
    /// BITFIELD_RO with SET or INCRBY.
    BitfieldReadOnly,
    /// A string that is not an HLL (`isHLLObjectOrReply`).
    HllWrongType,
    /// A sparse HLL whose opcodes do not cover exactly the registers (`invalid_hll_err`).
    HllCorrupt,
    /// PFDEBUG on a missing key.
    HllNoKey,
    /// PFDEBUG DECODE of a dense HLL.
    HllNotSparse,
    /// PFDEBUG with an unknown subcommand; holds its argv index (the text echoes it, quoted).
    PfDebugUnknown(u16),
    /// PFSELFTEST found a discrepancy.
    HllSelfTest,
    /// PUBSUB CHANNELS/SHARDCHANNELS with too many arguments (`addReplySubcommandSyntaxError`;
    /// echoes the subcommand as typed).
    PubsubSubcommand,
    /// numkeys beyond the arguments.
    NumKeysTooMany,
    /// SORT of elements (or BY values) that are not numbers, without ALPHA.
    SortScoreNotDouble,
    /// `shared.outofrangeerr` (LSET past the end).
    IndexOutOfRange,
    /// LPOS with RANK 0.
    LposRankZero,
    /// LPOS with a COUNT that is negative or not an integer.
    LposCountNegative,
    /// LPOS with a MAXLEN that is negative or not an integer.
    LposMaxlenNegative,
}

impl KsError {
    /// The full error text, prefix included (`ERR ...`, `WRONGTYPE ...`). For
    /// `UnsupportedOption` this is the text before the echoed argument, for the errors that
    /// name their command the text before the name.
    pub fn text(self) -> &'static str {
        match self {
            KsError::WrongType => {
                "WRONGTYPE Operation against a key holding the wrong kind of value"
            }
            KsError::NotInteger => "ERR value is not an integer or out of range",
            KsError::NotFloat => "ERR value is not a valid float",
            KsError::TimeoutNotFloat => "ERR timeout is not a float or out of range",
            KsError::TimeoutNegative => "ERR timeout is negative",
            KsError::TimeoutOutOfRange => "ERR timeout is out of range",
            KsError::Unblocked => "UNBLOCKED client unblocked via CLIENT UNBLOCK",
            KsError::Overflow => "ERR increment or decrement would overflow",
            KsError::DecrOverflow => "ERR decrement would overflow",
            KsError::Syntax => "ERR syntax error",
            KsError::NoSuchKey => "ERR no such key",
            KsError::DbIndexOutOfRange => "ERR DB index is out of range",
            KsError::InvalidFirstDbIndex => "ERR invalid first DB index",
            KsError::InvalidSecondDbIndex => "ERR invalid second DB index",
            KsError::InvalidExpireTime => "ERR invalid expire time in '",
            KsError::SameObject => "ERR source and destination objects are the same",
            KsError::StringTooLong => {
                "ERR string exceeds maximum allowed size (proto-max-bulk-len)"
            }
            KsError::NanOrInfinity => "ERR increment would produce NaN or Infinity",
            KsError::OffsetOutOfRange => "ERR offset is out of range",
            KsError::ExpireNxAndOthers => {
                "ERR NX and XX, GT or LT options at the same time are not compatible"
            }
            KsError::ExpireGtAndLt => "ERR GT and LT options at the same time are not compatible",
            KsError::UnsupportedOption(_) => "ERR Unsupported option ",
            KsError::InvalidCursor => "ERR invalid cursor",
            KsError::NumKeysTooMany => "ERR Number of keys can't be greater than number of args",
            KsError::SortScoreNotDouble => "ERR One or more scores can't be converted into double",
            KsError::WrongArgCount => "ERR wrong number of arguments for '",
            KsError::LcsNotString => "ERR The specified keys must contain string values",
            KsError::LcsLenAndIdx => {
                "ERR If you want both the length and indexes, please just use IDX."
            }
            KsError::LcsTooLong => "ERR String too long for LCS",
            KsError::LcsTooBig => {
                "ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len"
            }
            KsError::LfuNotSelected => {
                "ERR An LFU maxmemory policy is not selected, access frequency not tracked. \
                 Please note that when switching between policies at runtime LRU and LFU data \
                 will take some time to adjust."
            }
            KsError::LfuSelected => {
                "ERR An LFU maxmemory policy is selected, idle time not tracked. Please note \
                 that when switching between policies at runtime LRU and LFU data will take \
                 some time to adjust."
            }
            KsError::GeoInvalidLonLat { .. } => "ERR invalid longitude,latitude pair ",
            KsError::GeoUnsupportedUnit => {
                "ERR unsupported unit provided. please use M, KM, FT, MI"
            }
            KsError::GeoNeedNumericRadius => "ERR need numeric radius",
            KsError::GeoNegativeRadius => "ERR radius cannot be negative",
            KsError::GeoNeedNumericWidth => "ERR need numeric width",
            KsError::GeoNeedNumericHeight => "ERR need numeric height",
            KsError::GeoNegativeBox => "ERR height or width cannot be negative",
            KsError::GeoMemberNotFound => "ERR could not decode requested zset member",
            KsError::GeoCountNotPositive => "ERR COUNT must be > 0",
            KsError::GeoRadiusStoreWith => {
                "ERR STORE option in GEORADIUS is not compatible with WITHDIST, WITHHASH and \
                 WITHCOORD options"
            }
            KsError::GeoSearchStoreWith => {
                "ERR GEOSEARCHSTORE is not compatible with WITHDIST, WITHHASH and WITHCOORD \
                 options"
            }
            KsError::GeoNeedFrom => {
                "ERR exactly one of FROMMEMBER or FROMLONLAT can be specified for "
            }
            KsError::GeoNeedBy => "ERR exactly one of BYRADIUS and BYBOX can be specified for ",
            KsError::GeoAnyNeedsCount => "ERR the ANY argument requires COUNT argument",
            KsError::GetKeysInvalidCommand => "ERR Invalid command specified",
            KsError::GetKeysNoKeyArguments => "ERR The command has no key arguments",
            KsError::GetKeysInvalidArgCount => {
                "ERR Invalid number of arguments specified for command"
            }
            KsError::GetKeysInvalidArguments => "ERR Invalid arguments specified for command",
            KsError::HashValueNotInteger => "ERR hash value is not an integer",
            KsError::HashValueNotFloat => "ERR hash value is not a float",
            KsError::ValueNanOrInfinity => "ERR value is NaN or Infinity",
            KsError::MandatoryFields => {
                "ERR Mandatory argument FIELDS is missing or not at the right position"
            }
            KsError::NumFieldsNotPositive => "ERR Parameter `numFields` should be greater than 0",
            KsError::NumFieldsNotPositiveInt => "ERR Number of fields must be a positive integer",
            KsError::NumFieldsMismatch => {
                "ERR The `numfields` parameter must match the number of arguments"
            }
            KsError::HfeNegativeTime => "ERR invalid expire time, must be >= 0",
            KsError::ZaddXxAndNx => "ERR XX and NX options at the same time are not compatible",
            KsError::ZaddGtLtNx => {
                "ERR GT, LT, and/or NX options at the same time are not compatible"
            }
            KsError::ZaddIncrPairs => "ERR INCR option supports a single increment-element pair",
            KsError::ScoreNan => "ERR resulting score is not a number (NaN)",
            KsError::MinMaxNotFloat => "ERR min or max is not a float",
            KsError::MinMaxNotLex => "ERR min or max not valid string range item",
            KsError::LimitNeedsByScoreOrLex => {
                "ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX"
            }
            KsError::WithScoresByLex => {
                "ERR syntax error, WITHSCORES not supported in combination with BYLEX"
            }
            KsError::NotPositive => "ERR value is out of range, must be positive",
            KsError::ValueOutOfRange => "ERR value is out of range",
            KsError::RandCountRange => {
                "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807"
            }
            KsError::WeightNotFloat => "ERR weight value is not a float",
            KsError::NeedInputKey => "ERR at least 1 input key is needed for '",
            KsError::NumkeysNotPositive => "ERR numkeys should be greater than 0",
            KsError::CountNotPositive => "ERR count should be greater than 0",
            KsError::LimitNegative => "ERR LIMIT can't be negative",
            KsError::BitOffset => "ERR bit offset is not an integer or out of range",
            KsError::BitValue => "ERR bit is not an integer or out of range",
            KsError::BitArgument => "ERR The bit argument must be 1 or 0.",
            KsError::BitopNotOneKey => "ERR BITOP NOT must be called with a single source key.",
            KsError::BitfieldType => {
                "ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not \
                 supported but i64 is."
            }
            KsError::BitfieldOverflow => "ERR Invalid OVERFLOW type specified",
            KsError::BitfieldReadOnly => "ERR BITFIELD_RO only supports the GET subcommand",
            KsError::HllWrongType => "WRONGTYPE Key is not a valid HyperLogLog string value.",
            KsError::HllCorrupt => "INVALIDOBJ Corrupted HLL object detected",
            KsError::HllNoKey => "ERR The specified key does not exist",
            KsError::HllNotSparse => "ERR HLL encoding is not sparse",
            KsError::PfDebugUnknown(_) => "ERR Unknown PFDEBUG subcommand '",
            KsError::HllSelfTest => "ERR TESTFAILED",
            KsError::PubsubSubcommand => "ERR unknown subcommand or wrong number of arguments for '",
            KsError::IndexOutOfRange => "ERR index out of range",
            KsError::LposRankZero => {
                "ERR RANK can't be zero: use 1 to start from the first match, 2 from the \
                 second ... or use negative to start from the end of the list"
            }
            KsError::LposCountNegative => "ERR COUNT can't be negative",
            KsError::LposMaxlenNegative => "ERR MAXLEN can't be negative",
        }
    }

    /// For an error that names the running command, the text after the name: the reply is
    /// `text()`, the command's spec name, then this (`ERR invalid expire time in 'set' command`).
    pub fn names_command(self) -> Option<&'static str> {
        match self {
            KsError::InvalidExpireTime | KsError::WrongArgCount | KsError::NeedInputKey => {
                Some("' command")
            }
            _ => None,
        }
    }

    /// The argv index whose text the reply echoes after `text()`, if any.
    pub fn echoed_arg(self) -> Option<usize> {
        match self {
            KsError::UnsupportedOption(i) | KsError::PfDebugUnknown(i) => Some(usize::from(i)),
            KsError::GeoNeedFrom | KsError::GeoNeedBy => Some(0),
            KsError::PubsubSubcommand => Some(1),
            _ => None,
        }
    }

    /// The text a reply prints after `text()` that the error computes itself (not an
    /// argument): for `GeoInvalidLonLat`, "<lon>,<lat>" with `%f`. Written into `buf`
    /// (room for two of the longest `%f` texts: 2 * 317 + 1 bytes); returns its length.
    pub fn formatted_tail(self, buf: &mut [u8; 640]) -> usize {
        match self {
            KsError::GeoInvalidLonLat { lon, lat } => {
                let n = crate::number::format_printf_f(f64::from_bits(lon), &mut buf[..]);
                buf[n] = b',';
                let m = crate::number::format_printf_f(f64::from_bits(lat), &mut buf[n + 1..]);
                n + 1 + m
            }
            _ => 0,
        }
    }

    /// What follows the echoed argument, if anything.
    pub fn echoed_suffix(self) -> &'static str {
        match self {
            KsError::PfDebugUnknown(_) => "'",
            KsError::PubsubSubcommand => "'. Try PUBSUB HELP.",
            _ => "",
        }
    }
}

impl AsRef<[u8]> for KsError {
    fn as_ref(&self) -> &[u8] {
        self.text().as_bytes()
    }
}

impl std::fmt::Display for KsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.text())
    }
}

impl std::error::Error for KsError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texts_have_a_redis_prefix_and_no_line_breaks() {
        let all = [
            KsError::WrongType,
            KsError::NotInteger,
            KsError::NotFloat,
            KsError::TimeoutNotFloat,
            KsError::TimeoutNegative,
            KsError::TimeoutOutOfRange,
            KsError::Unblocked,
            KsError::Overflow,
            KsError::DecrOverflow,
            KsError::Syntax,
            KsError::NoSuchKey,
            KsError::DbIndexOutOfRange,
            KsError::InvalidFirstDbIndex,
            KsError::InvalidSecondDbIndex,
            KsError::InvalidExpireTime,
            KsError::SameObject,
            KsError::StringTooLong,
            KsError::NanOrInfinity,
            KsError::OffsetOutOfRange,
            KsError::ExpireNxAndOthers,
            KsError::ExpireGtAndLt,
            KsError::UnsupportedOption(3),
            KsError::InvalidCursor,
            KsError::WrongArgCount,
            KsError::LcsNotString,
            KsError::LcsLenAndIdx,
            KsError::LcsTooLong,
            KsError::LcsTooBig,
            KsError::LfuNotSelected,
            KsError::LfuSelected,
            KsError::GeoInvalidLonLat { lon: 0, lat: 0 },
            KsError::GeoUnsupportedUnit,
            KsError::GeoNeedNumericRadius,
            KsError::GeoNegativeRadius,
            KsError::GeoNeedNumericWidth,
            KsError::GeoNeedNumericHeight,
            KsError::GeoNegativeBox,
            KsError::GeoMemberNotFound,
            KsError::GeoCountNotPositive,
            KsError::GeoRadiusStoreWith,
            KsError::GeoSearchStoreWith,
            KsError::GeoNeedFrom,
            KsError::GeoNeedBy,
            KsError::GeoAnyNeedsCount,
            KsError::GetKeysInvalidCommand,
            KsError::GetKeysNoKeyArguments,
            KsError::GetKeysInvalidArgCount,
            KsError::GetKeysInvalidArguments,
            KsError::HashValueNotInteger,
            KsError::HashValueNotFloat,
            KsError::ValueNanOrInfinity,
            KsError::MandatoryFields,
            KsError::NumFieldsNotPositive,
            KsError::NumFieldsNotPositiveInt,
            KsError::NumFieldsMismatch,
            KsError::HfeNegativeTime,
            KsError::ZaddXxAndNx,
            KsError::ZaddGtLtNx,
            KsError::ZaddIncrPairs,
            KsError::ScoreNan,
            KsError::MinMaxNotFloat,
            KsError::MinMaxNotLex,
            KsError::LimitNeedsByScoreOrLex,
            KsError::WithScoresByLex,
            KsError::NotPositive,
            KsError::ValueOutOfRange,
            KsError::RandCountRange,
            KsError::WeightNotFloat,
            KsError::NeedInputKey,
            KsError::NumkeysNotPositive,
            KsError::CountNotPositive,
            KsError::LimitNegative,
            KsError::BitOffset,
            KsError::BitValue,
            KsError::BitArgument,
            KsError::BitopNotOneKey,
            KsError::BitfieldType,
            KsError::BitfieldOverflow,
            KsError::BitfieldReadOnly,
            KsError::HllWrongType,
            KsError::HllCorrupt,
            KsError::HllNoKey,
            KsError::HllNotSparse,
            KsError::PfDebugUnknown(1),
            KsError::HllSelfTest,
            KsError::PubsubSubcommand,
            KsError::NumKeysTooMany,
            KsError::SortScoreNotDouble,
            KsError::IndexOutOfRange,
            KsError::LposRankZero,
            KsError::LposCountNegative,
            KsError::LposMaxlenNegative,
        ];
        for e in all {
            let t = e.text();
            assert!(
                t.starts_with("ERR ")
                    || t.starts_with("WRONGTYPE ")
                    || t.starts_with("INVALIDOBJ ")
                    || t.starts_with("UNBLOCKED "),
                "{t}"
            );
            assert!(!t.contains('\r') && !t.contains('\n'), "{t}");
            assert!(!t.contains("  "), "double space in {t}");
        }
    }

    #[test]
    fn lfu_text_is_redis_sentence() {
        assert_eq!(
            KsError::LfuNotSelected.text(),
            "ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust."
        );
        assert_eq!(KsError::UnsupportedOption(3).echoed_arg(), Some(3));
    }

    #[test]
    fn geo_pair_prints_as_printf_f() {
        let mut buf = [0u8; 640];
        let e = KsError::GeoInvalidLonLat {
            lon: 200f64.to_bits(),
            lat: 100f64.to_bits(),
        };
        let n = e.formatted_tail(&mut buf);
        assert_eq!(&buf[..n], b"200.000000,100.000000");
        let e = KsError::GeoInvalidLonLat {
            lon: (-f64::MAX).to_bits(),
            lat: f64::INFINITY.to_bits(),
        };
        let n = e.formatted_tail(&mut buf);
        assert_eq!(n, 317 + 4);
        assert!(buf[..n].ends_with(b".000000,inf"));
        assert_eq!(KsError::GeoNeedFrom.echoed_arg(), Some(0));
    }
}
