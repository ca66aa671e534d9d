//! SORT and SORT_RO, after Redis 7.2's `sort.c`: sort the elements of a list, set or sorted
//! set numerically or (ALPHA) as strings, by themselves or by the values other keys hold
//! (BY pattern, with `*` replaced by the element and `->field` reading a hash field), return
//! them or other keys' values (GET pattern, `#` for the element itself), or STORE the result
//! as a list.
//!
//! A BY or GET pattern with a `*` reads keys SORT did not declare, so such a SORT locks every
//! segment (`Keyspace::lock_command`), as Redis runs it alone.

use smallvec::SmallVec;

use crate::cmd::Ctx;
use crate::entry::Kind;
use crate::error::KsError;
use crate::keys::Keys;
use crate::notify::{self, Event, LIST};
use crate::number::{arg_i64, parse_f64_sort};
use crate::types::hash::Hash;
use crate::types::list::{End, List};
use crate::types::set::Set;
use crate::types::zset::ZSet;

const SORTSTORE: Event = Event::new(LIST, "sortstore");

/// SORT key [BY pattern] [LIMIT offset count] [GET pattern [GET pattern ...]] [ASC | DESC]
/// [ALPHA] [STORE destination]
pub(crate) fn sort(ctx: &mut Ctx<'_, '_>, argv: &[&[u8]]) -> Result<(), KsError> {
    sort_generic(ctx, argv, false)
}

/// SORT_RO key [BY pattern] [LIMIT offset count] [GET pattern [GET pattern ...]]
/// [ASC | DESC] [ALPHA]
pub(crate) fn sort_ro(ctx: &mut Ctx<'_, '_>, argv: &[&[u8]]) -> Result<(), KsError> {
    sort_generic(ctx, argv, true)
}

/// True when a SORT's arguments hold a pattern that reads other keys (one with a `*`): it
/// then needs every segment locked.
pub(crate) fn reads_other_keys(argv: &[&[u8]]) -> bool {
    argv.iter().skip(2).any(|a| a.contains(&b'*'))
}

/// What SORT was asked for.
struct Options<'a> {
    desc: bool,
    alpha: bool,
    limit_start: i64,
    limit_count: i64,
    store: Option<&'a [u8]>,
    by: Option<&'a [u8]>,
    /// BY names no key (no `*`): the elements keep their order.
    dontsort: bool,
    gets: SmallVec<[&'a [u8]; 4]>,
}

fn parse<'a>(argv: &[&'a [u8]], readonly: bool) -> Result<Options<'a>, KsError> {
    let mut o = Options {
        desc: false,
        alpha: false,
        limit_start: 0,
        limit_count: -1,
        store: None,
        by: None,
        dontsort: false,
        gets: SmallVec::new(),
    };
    let mut j = 2;
    while j < argv.len() {
        let left = argv.len() - j - 1;
        let a = argv[j];
        if a.eq_ignore_ascii_case(b"asc") {
            o.desc = false;
        } else if a.eq_ignore_ascii_case(b"desc") {
            o.desc = true;
        } else if a.eq_ignore_ascii_case(b"alpha") {
            o.alpha = true;
        } else if a.eq_ignore_ascii_case(b"limit") && left >= 2 {
            o.limit_start = arg_i64(argv[j + 1])?;
            o.limit_count = arg_i64(argv[j + 2])?;
            j += 2;
        } else if !readonly && a.eq_ignore_ascii_case(b"store") && left >= 1 {
            o.store = Some(argv[j + 1]);
            j += 1;
        } else if a.eq_ignore_ascii_case(b"by") && left >= 1 {
            o.by = Some(argv[j + 1]);
            // A constant BY (no '*') means "don't sort"; a later BY does not undo it.
            if !c_str(argv[j + 1]).contains(&b'*') {
                o.dontsort = true;
            }
            j += 1;
        } else if a.eq_ignore_ascii_case(b"get") && left >= 1 {
            o.gets.push(argv[j + 1]);
            j += 1;
        } else {
            return Err(KsError::Syntax);
        }
        j += 1;
    }
    Ok(o)
}

/// The bytes C sees of `s`: up to its first NUL (patterns and scores go through strchr,
/// strstr and strtod in Redis).
fn c_str(s: &[u8]) -> &[u8] {
    s.iter().position(|&b| b == 0).map_or(s, |n| &s[..n])
}

/// One element being sorted: the element, and what it sorts by.
struct Item {
    elem: Vec<u8>,
    score: f64,
    /// The BY value of an ALPHA sort by pattern (None when the key was missing).
    cmp: Option<Vec<u8>>,
}

/// `sortCommandGeneric`.
fn sort_generic(ctx: &mut Ctx<'_, '_>, argv: &[&[u8]], readonly: bool) -> Result<(), KsError> {
    let mut o = parse(argv, readonly)?;
    let (mut keys, out) = ctx.split();
    let kind = match keys.read(argv[1]) {
        None => None,
        Some(e) => match e.kind() {
            k @ (Kind::List | Kind::Set | Kind::ZSet) => Some(k),
            _ => return Err(KsError::WrongType),
        },
    };
    // A set in no particular order must still give one order to STORE (replicas and AOF
    // replay must agree), so it is sorted as strings.
    if o.dontsort && kind == Some(Kind::Set) && o.store.is_some() {
        o.dontsort = false;
        o.alpha = true;
        o.by = None;
    }
    if kind == Some(Kind::ZSet) {
        if let Some(z) = keys.write_as::<ZSet>(argv[1])? {
            z.convert_to_skiplist();
        }
    }
    let len = match kind {
        Some(Kind::List) => keys.read_as::<List>(argv[1])?.map_or(0, |l| l.len()),
        Some(Kind::Set) => keys.read_as::<Set>(argv[1])?.map_or(0, |s| s.len()),
        Some(Kind::ZSet) => keys.read_as::<ZSet>(argv[1])?.map_or(0, |z| z.len()),
        _ => 0,
    } as i64;

    // LIMIT's sanity checks, in Redis's order and arithmetic.
    let mut start = o.limit_start.max(0).min(len);
    let limit_count = o.limit_count.max(-1).min(len);
    let mut end = if limit_count < 0 {
        len - 1
    } else {
        start + limit_count - 1
    };
    if start >= len {
        start = len - 1;
        end = len - 2;
    }
    if end >= len {
        end = len - 1;
    }
    let ranged = matches!(kind, Some(Kind::List | Kind::ZSet))
        && o.dontsort
        && (start != 0 || end != len - 1);
    let take = if ranged { end - start + 1 } else { len };

    let mut items = load(&mut keys, argv[1], kind, &o, start, take)?;
    // A list or sorted set read in order was read from `start` on: output starts at 0.
    match kind {
        Some(Kind::List) if o.dontsort && end >= start => {
            end -= start;
            start = 0;
        }
        Some(Kind::ZSet) if o.dontsort => {
            end -= start;
            start = 0;
        }
        _ => {}
    }

    let mut bad_score = false;
    if !o.dontsort {
        for it in &mut items {
            let by = match o.by {
                Some(pattern) => match lookup_by_pattern(&mut keys, pattern, &it.elem) {
                    Some(v) => v,
                    None => continue,
                },
                None => it.elem.clone(),
            };
            if o.alpha {
                if o.by.is_some() {
                    it.cmp = Some(by);
                }
            } else {
                match parse_f64_sort(&by) {
                    Some(s) => it.score = s,
                    None => bad_score = true,
                }
            }
        }
        let (alpha, by_pattern, store, desc) = (o.alpha, o.by.is_some(), o.store.is_some(), o.desc);
        let cmp = |a: &Item, b: &Item| -> i32 {
            let c = compare(a, b, alpha, by_pattern, store);
            if desc {
                -c
            } else {
                c
            }
        };
        let n = items.len() as i64;
        if by_pattern && (start != 0 || end != n - 1) && start >= 0 && end >= start {
            crate::pqsort::pqsort(&mut items, &cmp, start as usize, end as usize);
        } else {
            // glibc's qsort is a merge sort for arrays this size: stable, as this is.
            items.sort_by(|a, b| cmp(a, b).cmp(&0));
        }
    }

    if bad_score {
        return Err(KsError::SortScoreNotDouble);
    }
    let rows = if end >= start {
        (end - start + 1) as usize
    } else {
        0
    };
    let picked = items
        .get(start.max(0) as usize..)
        .map_or(&[][..], |s| &s[..rows.min(s.len())]);
    match o.store {
        None => {
            let per = o.gets.len().max(1);
            out.array(rows * per);
            for it in picked {
                if o.gets.is_empty() {
                    out.bulk(&it.elem);
                }
                for pattern in &o.gets {
                    match lookup_by_pattern(&mut keys, pattern, &it.elem) {
                        Some(v) => out.bulk(&v),
                        None => out.null(),
                    }
                }
            }
        }
        Some(dst) => {
            let fill = keys.ks.encoding_limits().list_max_listpack_size;
            let mut list = List::new_quicklist(fill);
            let mut n = 0i64;
            for it in picked {
                if o.gets.is_empty() {
                    list.push(End::Tail, &it.elem);
                    n += 1;
                }
                for pattern in &o.gets {
                    let v = lookup_by_pattern(&mut keys, pattern, &it.elem).unwrap_or_default();
                    list.push(End::Tail, &v);
                    n += 1;
                }
            }
            if n > 0 {
                list.settle(fill);
                keys.set_typed(dst, list);
                keys.changed(dst, SORTSTORE);
            } else if keys.write(dst).is_some() {
                keys.deleted(dst, notify::DEL);
            }
            out.int(n);
        }
    }
    Ok(())
}

/// The elements to sort: all of them, or (a list or sorted set that is not sorted) just
/// the `take` from `start`, in DESC order when asked.
fn load(
    keys: &mut Keys<'_, '_>,
    key: &[u8],
    kind: Option<Kind>,
    o: &Options<'_>,
    start: i64,
    take: i64,
) -> Result<Vec<Item>, KsError> {
    let mut items = Vec::with_capacity(take.max(0) as usize);
    let mut push = |e: &[u8]| {
        items.push(Item {
            elem: e.to_vec(),
            score: 0.0,
            cmp: None,
        })
    };
    let take = take.max(0) as usize;
    match kind {
        Some(Kind::List) => {
            if let Some(l) = keys.read_as::<List>(key)? {
                if o.dontsort {
                    if take > 0 {
                        let len = l.len();
                        let from = if o.desc {
                            len - start as usize - 1
                        } else {
                            start as usize
                        };
                        for e in l.iter_from(from, o.desc).take(take) {
                            push(e);
                        }
                    }
                } else {
                    for e in l.iter() {
                        push(e);
                    }
                }
            }
        }
        Some(Kind::Set) => {
            if let Some(s) = keys.read_as::<Set>(key)? {
                s.for_each(|m| push(m));
            }
        }
        Some(Kind::ZSet) => {
            if let Some(z) = keys.read_as::<ZSet>(key)? {
                if o.dontsort {
                    if take > 0 {
                        let len = z.len();
                        let s = start as usize;
                        if o.desc {
                            z.for_range(len - s - take, len - s, true, |m, _| push(m));
                        } else {
                            z.for_range(s, s + take, false, |m, _| push(m));
                        }
                    }
                } else {
                    z.for_range(0, z.len(), false, |m, _| push(m));
                }
            }
        }
        _ => {}
    }
    Ok(items)
}

/// `sortCompare` without DESC: by score then bytes, or as strings (`strcoll` in the C
/// locale, so up to the first NUL; plain bytes when storing).
fn compare(a: &Item, b: &Item, alpha: bool, by_pattern: bool, store: bool) -> i32 {
    let ord = if !alpha {
        match a.score.partial_cmp(&b.score) {
            Some(std::cmp::Ordering::Equal) | None => a.elem.cmp(&b.elem),
            Some(o) => o,
        }
    } else {
        let (x, y) = if by_pattern {
            match (&a.cmp, &b.cmp) {
                (Some(x), Some(y)) => (&x[..], &y[..]),
                (None, None) => return 0,
                (None, Some(_)) => return -1,
                (Some(_), None) => return 1,
            }
        } else {
            (&a.elem[..], &b.elem[..])
        };
        if store {
            x.cmp(y)
        } else {
            c_str(x).cmp(c_str(y))
        }
    };
    ord as i32
}

/// `lookupKeyByPattern`: the value `pattern` names for `elem` (`#` is the element, `*` is
/// replaced by it, `key->field` reads a hash field), or None when there is none.
fn lookup_by_pattern(keys: &mut Keys<'_, '_>, pattern: &[u8], elem: &[u8]) -> Option<Vec<u8>> {
    if pattern == b"#" {
        return Some(elem.to_vec());
    }
    let star = c_str(pattern).iter().position(|&b| b == b'*')?;
    let after = &c_str(pattern)[star + 1..];
    let field_len = match after.windows(2).position(|w| w == b"->") {
        Some(at) if star + 1 + at + 2 < c_str(pattern).len() => pattern.len() - (star + 1 + at) - 2,
        _ => 0,
    };
    let postfix_len = pattern.len() - (star + 1) - if field_len > 0 { field_len + 2 } else { 0 };
    let mut key = Vec::with_capacity(star + elem.len() + postfix_len);
    key.extend_from_slice(&pattern[..star]);
    key.extend_from_slice(elem);
    key.extend_from_slice(&pattern[star + 1..star + 1 + postfix_len]);
    let now = keys.now_ms;
    let e = keys.read(&key)?;
    if field_len > 0 {
        let field = &pattern[pattern.len() - field_len..];
        e.typed::<Hash>().ok()?.get(field, now).map(<[u8]>::to_vec)
    } else {
        e.string().ok().map(<[u8]>::to_vec)
    }
}
