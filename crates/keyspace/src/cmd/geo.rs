//! The geo group: GEOADD, GEOPOS, GEODIST, GEOHASH, GEORADIUS(BYMEMBER)(_RO), GEOSEARCH and
//! GEOSEARCHSTORE, after Redis 7.2's `geo.c` (same checks in the same order, same replies).
//!
//! A geo key is a sorted set whose scores are 52-bit geohashes; the math (encoding, the
//! nine-box scan, distances, result order, number formats) is in `crate::geo`, and the
//! sorted set is read through its score order (`ScoreRange`, implemented here for `ZSet`).

use crate::cmd::sorted_set::{build_result, store_result};
use crate::cmd::{is, Ctx};
use crate::error::KsError;
use crate::geo::{self, Points, ScoreRange, Shape, ShapeKind};
use crate::notify::{Event, ZSET};
use crate::number::{arg_i64, parse_f64};
use crate::types::zset::ZSet;

/// GEOADD adds through ZADD in Redis, and notifies as ZADD does.
const ZADD: Event = Event::new(ZSET, "zadd");
const GEORADIUSSTORE: Event = Event::new(ZSET, "georadiusstore");
const GEOSEARCHSTORE: Event = Event::new(ZSET, "geosearchstore");

impl ScoreRange for ZSet {
    fn each_in_range(&self, min: f64, max: f64, f: &mut dyn FnMut(&[u8], f64) -> bool) {
        let start = self.partition_point(|s, _| s < min);
        let end = self.partition_point(|s, _| s < max);
        let mut more = true;
        self.for_range(start, end, false, |m, s| {
            if more {
                more = f(m, s);
            }
        });
    }
}

/// `extractLongLatOrReply`: both numbers parse before the range is checked.
fn lon_lat(lon: &[u8], lat: &[u8]) -> Result<[f64; 2], KsError> {
    let lon = parse_f64(lon).ok_or(KsError::NotFloat)?;
    let lat = parse_f64(lat).ok_or(KsError::NotFloat)?;
    if !geo::valid_lon_lat(lon, lat) {
        return Err(KsError::GeoInvalidLonLat {
            lon: lon.to_bits(),
            lat: lat.to_bits(),
        });
    }
    Ok([lon, lat])
}

/// `extractUnitOrReply`: meters per unit.
fn unit(arg: &[u8]) -> Result<f64, KsError> {
    geo::unit_to_meters(arg).ok_or(KsError::GeoUnsupportedUnit)
}

/// `extractDistanceOrReply`: a radius and its unit's meters.
fn radius(num: &[u8], unit_arg: &[u8]) -> Result<(ShapeKind, f64), KsError> {
    let radius = parse_f64(num).ok_or(KsError::GeoNeedNumericRadius)?;
    if radius < 0.0 {
        return Err(KsError::GeoNegativeRadius);
    }
    Ok((ShapeKind::Circle { radius }, unit(unit_arg)?))
}

/// `extractBoxOrReply`: width, height and their unit's meters.
fn rect(w: &[u8], h: &[u8], unit_arg: &[u8]) -> Result<(ShapeKind, f64), KsError> {
    let width = parse_f64(w).ok_or(KsError::GeoNeedNumericWidth)?;
    let height = parse_f64(h).ok_or(KsError::GeoNeedNumericHeight)?;
    if height < 0.0 || width < 0.0 {
        return Err(KsError::GeoNegativeBox);
    }
    Ok((ShapeKind::Rect { width, height }, unit(unit_arg)?))
}

/// GEOADD key [NX | XX] [CH] longitude latitude member [longitude latitude member ...]
pub(crate) fn geoadd(ctx: &mut Ctx<'_, '_>, argv: &[&[u8]]) -> Result<(), KsError> {
    let key = argv[1];
    let (mut nx, mut xx, mut ch) = (false, false, false);
    let mut at = 2;
    while at < argv.len() {
        let opt = argv[at];
        if is(opt, "nx") {
            nx = true;
        } else if is(opt, "xx") {
            xx = true;
        } else if is(opt, "ch") {
            ch = true;
        } else {
            break;
        }
        at += 1;
    }
    let triples = &argv[at..];
    if !triples.len().is_multiple_of(3) || (xx && nx) {
        return Err(KsError::Syntax);
    }
    // Redis rewrites the command as ZADD and runs it: no element at all is ZADD's syntax
    // error, after every position was checked (there are none then).
    for t in triples.chunks_exact(3) {
        lon_lat(t[0], t[1])?;
    }
    if triples.is_empty() {
        return Err(KsError::Syntax);
    }
    let elements = triples.len() / 3;
    let limits = ctx.ks.encoding_limits();
    let (mut keys, out) = ctx.split();
    // From here on this is `zaddGenericCommand` with NX/XX/CH and the geohash scores.
    let z = match keys.write_as::<ZSet>(key)? {
        Some(z) => {
            z.maybe_convert(elements, &limits);
            z
        }
        None if xx => {
            out.int(0);
            return Ok(());
        }
        None => {
            keys.write_or_create(key, || ZSet::with_hint(elements, triples[2].len(), &limits))?
        }
    };
    let (mut added, mut updated) = (0i64, 0i64);
    for t in triples.chunks_exact(3) {
        let [lon, lat] = lon_lat(t[0], t[1])?;
        let (score, member) = (geo::score_of(lon, lat), t[2]);
        match z.score(member) {
            Some(cur) => {
                if !nx && cur != score {
                    z.insert(member, score, &limits);
                    updated += 1;
                }
            }
            None => {
                if !xx {
                    z.insert(member, score, &limits);
                    added += 1;
                }
            }
        }
    }
    if added + updated > 0 {
        keys.changed(key, ZADD);
    }
    out.int(if ch { added + updated } else { added });
    Ok(())
}

/// GEOPOS key [member [member ...]]
pub(crate) fn geopos(ctx: &mut Ctx<'_, '_>, argv: &[&[u8]]) -> Result<(), KsError> {
    let (mut keys, out) = ctx.split();
    let z = keys.read_as::<ZSet>(argv[1])?;
    out.array(argv.len() - 2);
    for member in &argv[2..] {
        match z.as_deref().and_then(|z| z.score(member)) {
            Some(score) => {
                let [lon, lat] = geo::decode_score(score);
                out.array(2);
                out.human_double(lon);
                out.human_double(lat);
            }
            None => out.null_array(),
        }
    }
    Ok(())
}

/// GEOHASH key [member [member ...]]
pub(crate) fn geohash(ctx: &mut Ctx<'_, '_>, argv: &[&[u8]]) -> Result<(), KsError> {
    let (mut keys, out) = ctx.split();
    let z = keys.read_as::<ZSet>(argv[1])?;
    out.array(argv.len() - 2);
    for member in &argv[2..] {
        match z.as_deref().and_then(|z| z.score(member)) {
            Some(score) => out.bulk(&geo::geohash_string(score)),
            None => out.null(),
        }
    }
    Ok(())
}

/// GEODIST key member1 member2 [M | KM | FT | MI]
pub(crate) fn geodist(ctx: &mut Ctx<'_, '_>, argv: &[&[u8]]) -> Result<(), KsError> {
    let to_meters = match argv.len() {
        5 => unit(argv[4])?,
        n if n > 5 => return Err(KsError::Syntax),
        _ => 1.0,
    };
    let (mut keys, out) = ctx.split();
    let Some(z) = keys.read_as::<ZSet>(argv[1])? else {
        out.null();
        return Ok(());
    };
    match (z.score(argv[2]), z.score(argv[3])) {
        (Some(s1), Some(s2)) => {
            let [x1, y1] = geo::decode_score(s1);
            let [x2, y2] = geo::decode_score(s2);
            let d = geo::distance(x1, y1, x2, y2) / to_meters;
            out.bulk(geo::format_distance(d).as_bytes());
        }
        _ => out.null(),
    }
    Ok(())
}

/// Which command `georadius_generic` runs (Redis's RADIUS_* / GEOSEARCH* flags).
#[derive(Debug, Clone, Copy)]
struct Flags {
    /// Centre given as longitude latitude (GEORADIUS).
    coords: bool,
    /// Centre given as a member (GEORADIUSBYMEMBER).
    member: bool,
    /// No STORE/STOREDIST (the _RO variants).
    nostore: bool,
    /// GEOSEARCH syntax (FROM*/BY* options).
    search: bool,
    /// GEOSEARCHSTORE: the destination comes first, STOREDIST is a flag.
    searchstore: bool,
}

const RADIUS_COORDS: Flags = Flags {
    coords: true,
    member: false,
    nostore: false,
    search: false,
    searchstore: false,
};
const RADIUS_MEMBER: Flags = Flags {
    coords: false,
    member: true,
    ..RADIUS_COORDS
};
const SEARCH: Flags = Flags {
    coords: false,
    search: true,
    ..RADIUS_COORDS
};

/// GEORADIUS key longitude latitude radius M | KM | FT | MI [WITHCOORD] [WITHDIST]
/// [WITHHASH] [COUNT count [ANY]] [ASC | DESC] [STORE key | STOREDIST key]
pub(crate) fn georadius(ctx: &mut Ctx<'_, '_>, argv: &[&[u8]]) -> Result<(), KsError> {
    georadius_generic(ctx, argv, 1, RADIUS_COORDS)
}

/// GEORADIUSBYMEMBER key member radius M | KM | FT | MI [WITHCOORD] [WITHDIST] [WITHHASH]
/// [COUNT count [ANY]] [ASC | DESC] [STORE key | STOREDIST key]
pub(crate) fn georadiusbymember(ctx: &mut Ctx<'_, '_>, argv: &[&[u8]]) -> Result<(), KsError> {
    georadius_generic(ctx, argv, 1, RADIUS_MEMBER)
}

/// GEORADIUS_RO key longitude latitude radius M | KM | FT | MI [WITHCOORD] [WITHDIST]
/// [WITHHASH] [COUNT count [ANY]] [ASC | DESC]
pub(crate) fn georadius_ro(ctx: &mut Ctx<'_, '_>, argv: &[&[u8]]) -> Result<(), KsError> {
    let flags = Flags {
        nostore: true,
        ..RADIUS_COORDS
    };
    georadius_generic(ctx, argv, 1, flags)
}

/// GEORADIUSBYMEMBER_RO key member radius M | KM | FT | MI [WITHCOORD] [WITHDIST]
/// [WITHHASH] [COUNT count [ANY]] [ASC | DESC]
pub(crate) fn georadiusbymember_ro(ctx: &mut Ctx<'_, '_>, argv: &[&[u8]]) -> Result<(), KsError> {
    let flags = Flags {
        nostore: true,
        ..RADIUS_MEMBER
    };
    georadius_generic(ctx, argv, 1, flags)
}

/// GEOSEARCH key FROMMEMBER member | FROMLONLAT longitude latitude
/// BYRADIUS radius M | KM | FT | MI | BYBOX width height M | KM | FT | MI [ASC | DESC]
/// [COUNT count [ANY]] [WITHCOORD] [WITHDIST] [WITHHASH]
pub(crate) fn geosearch(ctx: &mut Ctx<'_, '_>, argv: &[&[u8]]) -> Result<(), KsError> {
    georadius_generic(ctx, argv, 1, SEARCH)
}

/// GEOSEARCHSTORE destination source FROMMEMBER member | FROMLONLAT longitude latitude
/// BYRADIUS radius M | KM | FT | MI | BYBOX width height M | KM | FT | MI [ASC | DESC]
/// [COUNT count [ANY]] [STOREDIST]
pub(crate) fn geosearchstore(ctx: &mut Ctx<'_, '_>, argv: &[&[u8]]) -> Result<(), KsError> {
    let flags = Flags {
        searchstore: true,
        ..SEARCH
    };
    georadius_generic(ctx, argv, 2, flags)
}

/// A parsed area search.
struct Query<'a> {
    shape: Shape,
    withdist: bool,
    withhash: bool,
    withcoords: bool,
    /// None: as found; Some(false): ASC; Some(true): DESC.
    sort: Option<bool>,
    any: bool,
    /// 0: no COUNT.
    count: usize,
    store: Option<&'a [u8]>,
    storedist: bool,
}

/// The arguments of a search, parsed and checked in `georadiusGeneric`'s order: the centre
/// and radius of GEORADIUS(BYMEMBER) first, then the options one by one (FROMMEMBER looks
/// its member up as it goes), then the combinations. `z` is the source, when it exists.
fn parse_query<'a>(
    argv: &[&'a [u8]],
    flags: Flags,
    z: Option<&ZSet>,
) -> Result<Query<'a>, KsError> {
    let mut q = Query {
        shape: Shape {
            kind: ShapeKind::Circle { radius: 0.0 },
            xy: [0.0, 0.0],
            conversion: 0.0,
        },
        withdist: false,
        withhash: false,
        withcoords: false,
        sort: None,
        any: false,
        count: 0,
        store: None,
        storedist: false,
    };
    let base_args = if flags.coords {
        q.shape.xy = lon_lat(argv[2], argv[3])?;
        (q.shape.kind, q.shape.conversion) = radius(argv[4], argv[5])?;
        6
    } else if flags.member {
        // Without a source Redis parses the options only to know which empty reply to give.
        if let Some(z) = z {
            let score = z.score(argv[2]).ok_or(KsError::GeoMemberNotFound)?;
            q.shape.xy = geo::decode_score(score);
            (q.shape.kind, q.shape.conversion) = radius(argv[3], argv[4])?;
        }
        5
    } else if flags.searchstore {
        q.store = Some(argv[1]);
        3
    } else {
        2
    };
    let (mut frommember, mut fromloc, mut byradius, mut bybox) = (false, false, false, false);
    let rest = &argv[base_args.min(argv.len())..];
    let remaining = rest.len();
    let mut i = 0;
    while i < remaining {
        let arg = rest[i];
        if is(arg, "withdist") {
            q.withdist = true;
        } else if is(arg, "withhash") {
            q.withhash = true;
        } else if is(arg, "withcoord") {
            q.withcoords = true;
        } else if is(arg, "any") {
            q.any = true;
        } else if is(arg, "asc") {
            q.sort = Some(false);
        } else if is(arg, "desc") {
            q.sort = Some(true);
        } else if is(arg, "count") && i + 1 < remaining {
            let count = arg_i64(rest[i + 1])?;
            if count <= 0 {
                return Err(KsError::GeoCountNotPositive);
            }
            q.count = usize::try_from(count).unwrap_or(usize::MAX);
            i += 1;
        } else if (is(arg, "store") || is(arg, "storedist"))
            && i + 1 < remaining
            && !flags.nostore
            && !flags.search
        {
            q.store = Some(rest[i + 1]);
            q.storedist = is(arg, "storedist");
            i += 1;
        } else if is(arg, "storedist") && flags.search && flags.searchstore {
            q.storedist = true;
        } else if is(arg, "frommember") && i + 1 < remaining && flags.search && !fromloc {
            if let Some(z) = z {
                let score = z.score(rest[i + 1]).ok_or(KsError::GeoMemberNotFound)?;
                q.shape.xy = geo::decode_score(score);
            }
            frommember = true;
            i += 1;
        } else if is(arg, "fromlonlat") && i + 2 < remaining && flags.search && !frommember {
            q.shape.xy = lon_lat(rest[i + 1], rest[i + 2])?;
            fromloc = true;
            i += 2;
        } else if is(arg, "byradius") && i + 2 < remaining && flags.search && !bybox {
            (q.shape.kind, q.shape.conversion) = radius(rest[i + 1], rest[i + 2])?;
            byradius = true;
            i += 2;
        } else if is(arg, "bybox") && i + 3 < remaining && flags.search && !byradius {
            (q.shape.kind, q.shape.conversion) = rect(rest[i + 1], rest[i + 2], rest[i + 3])?;
            bybox = true;
            i += 3;
        } else {
            return Err(KsError::Syntax);
        }
        i += 1;
    }
    if q.store.is_some() && (q.withdist || q.withhash || q.withcoords) {
        return Err(if flags.searchstore {
            KsError::GeoSearchStoreWith
        } else {
            KsError::GeoRadiusStoreWith
        });
    }
    if flags.search && !(frommember || fromloc) {
        return Err(KsError::GeoNeedFrom);
    }
    if flags.search && !(byradius || bybox) {
        return Err(KsError::GeoNeedBy);
    }
    if q.any && q.count == 0 {
        return Err(KsError::GeoAnyNeedsCount);
    }
    // COUNT without an order returns the closest ones (but ANY returns the first found).
    if q.count != 0 && q.sort.is_none() && !q.any {
        q.sort = Some(false);
    }
    Ok(q)
}

/// `georadiusGeneric`: every area search, with the source key at `argv[src]`.
fn georadius_generic(
    ctx: &mut Ctx<'_, '_>,
    argv: &[&[u8]],
    src: usize,
    flags: Flags,
) -> Result<(), KsError> {
    let limits = ctx.ks.encoding_limits();
    let (mut keys, out) = ctx.split();
    let z = keys.read_as::<ZSet>(argv[src])?;
    let z = z.as_deref();
    let q = parse_query(argv, flags, z)?;
    let ev = if flags.search {
        GEOSEARCHSTORE
    } else {
        GEORADIUSSTORE
    };
    let Some(z) = z else {
        match q.store {
            Some(dst) => store_result(&mut keys, out, dst, None, ev),
            None => out.array(0),
        }
        return Ok(());
    };
    let mut found = geo::search(z, &q.shape, if q.any { q.count } else { 0 });
    if found.items.is_empty() && q.store.is_none() {
        out.array(0);
        return Ok(());
    }
    let returned = if q.count == 0 {
        found.items.len()
    } else {
        q.count.min(found.items.len())
    };
    if let Some(desc) = q.sort {
        geo::sort_points(&mut found.items, desc, returned);
    }
    let conversion = q.shape.conversion;
    match q.store {
        None => reply_points(out, &found, returned, conversion, &q),
        Some(dst) => {
            let items = found.items[..returned].iter().map(|p| {
                let score = if q.storedist {
                    p.dist / conversion
                } else {
                    p.score
                };
                (found.name(p), score)
            });
            let res = build_result(returned, items, &limits);
            store_result(&mut keys, out, dst, res, ev);
        }
    }
    Ok(())
}

/// The reply of a search without STORE: members, or per member an array of the member
/// and what WITHDIST, WITHHASH and WITHCOORD asked for, in that order.
fn reply_points(
    out: &mut crate::ReplySink,
    found: &Points,
    returned: usize,
    conversion: f64,
    q: &Query<'_>,
) {
    let options = usize::from(q.withdist) + usize::from(q.withhash) + usize::from(q.withcoords);
    out.array(returned);
    for p in &found.items[..returned] {
        if options > 0 {
            out.array(options + 1);
        }
        out.bulk(found.name(p));
        if q.withdist {
            out.bulk(geo::format_distance(p.dist / conversion).as_bytes());
        }
        if q.withhash {
            out.int(geo::c_double_to_i64(p.score));
        }
        if q.withcoords {
            out.array(2);
            out.human_double(p.lon);
            out.human_double(p.lat);
        }
    }
}
