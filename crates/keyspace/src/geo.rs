//! Redis's geo math, ported line by line from `geohash.c`, `geohash_helper.c` and the
//! helpers of `geo.c` (Redis 7.2): the 52-bit interleaved geohash that a position is stored
//! as (the score of a sorted set member), the nine boxes an area search scans, the
//! haversine distance, the radius and box tests, the sorts of the results (glibc's merge
//! sort for a full sort, Redis's `pqsort` for a partial one, so ties come out in Redis's
//! order) and the two number formats of the replies.
//!
//! Everything is a pure function of its arguments and follows the C operation by operation
//! (same order of floating point operations, same integer wrap-arounds, same C casts), since
//! replies must equal Redis's to the last printed digit. The commands that use this, and the
//! sorted set they read, are in `cmd/geo.rs`.

/// Bits per coordinate of a stored position (26 * 2 = 52 bits).
pub(crate) const STEP_MAX: u8 = 26;
/// The latitude range of EPSG:900913: positions closer to the poles cannot be stored.
pub(crate) const LAT_MIN: f64 = -85.05112878;
/// See `LAT_MIN`.
pub(crate) const LAT_MAX: f64 = 85.05112878;
/// Longitudes are the whole circle.
pub(crate) const LONG_MIN: f64 = -180.0;
/// See `LONG_MIN`.
pub(crate) const LONG_MAX: f64 = 180.0;

/// `D_R`: degrees to radians, computed as the C macro is (`M_PI / 180.0`).
const D_R: f64 = std::f64::consts::PI / 180.0;
/// Earth's quadratic mean radius for WGS-84, Redis's `EARTH_RADIUS_IN_METERS`.
pub(crate) const EARTH_RADIUS_IN_METERS: f64 = 6372797.560856;
/// Half the circumference of the Mercator projection, the widest a search box gets.
const MERCATOR_MAX: f64 = 20037726.37;

/// A geohash of `step` bits per coordinate (Redis's `GeoHashBits`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct HashBits {
    /// Interleaved bits: latitude in the even bits, longitude in the odd ones.
    pub(crate) bits: u64,
    /// Bits per coordinate.
    pub(crate) step: u8,
}

impl HashBits {
    /// `HASHISZERO`: the marker of a neighbour box that is not searched.
    fn is_zero(self) -> bool {
        self.bits == 0 && self.step == 0
    }
}

/// A closed interval of one coordinate (Redis's `GeoHashRange`).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct Range {
    /// Lower bound.
    pub(crate) min: f64,
    /// Upper bound.
    pub(crate) max: f64,
}

impl Range {
    /// `RANGEISZERO`.
    fn is_zero(self) -> bool {
        self.max == 0.0 && self.min == 0.0
    }
}

/// The longitude range positions are encoded in.
pub(crate) const WGS84_LONG: Range = Range {
    min: LONG_MIN,
    max: LONG_MAX,
};
/// The latitude range positions are encoded in (not the standard geohash one).
pub(crate) const WGS84_LAT: Range = Range {
    min: LAT_MIN,
    max: LAT_MAX,
};

/// The cell a geohash names (Redis's `GeoHashArea`).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct Area {
    /// The geohash.
    pub(crate) hash: HashBits,
    /// Its longitudes.
    pub(crate) longitude: Range,
    /// Its latitudes.
    pub(crate) latitude: Range,
}

/// The eight cells around a geohash (Redis's `GeoHashNeighbors`); a zero hash is one the
/// search skips.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Neighbors {
    pub(crate) north: HashBits,
    pub(crate) east: HashBits,
    pub(crate) west: HashBits,
    pub(crate) south: HashBits,
    pub(crate) north_east: HashBits,
    pub(crate) south_east: HashBits,
    pub(crate) north_west: HashBits,
    pub(crate) south_west: HashBits,
}

/// `interleave64`: the bits of `xlo` in the even positions, those of `ylo` in the odd ones.
pub(crate) fn interleave64(xlo: u32, ylo: u32) -> u64 {
    const B: [u64; 5] = [
        0x5555555555555555,
        0x3333333333333333,
        0x0F0F0F0F0F0F0F0F,
        0x00FF00FF00FF00FF,
        0x0000FFFF0000FFFF,
    ];
    const S: [u32; 5] = [1, 2, 4, 8, 16];
    let mut x = u64::from(xlo);
    let mut y = u64::from(ylo);
    for i in (0..5).rev() {
        x = (x | (x << S[i])) & B[i];
        y = (y | (y << S[i])) & B[i];
    }
    x | (y << 1)
}

/// `deinterleave64`: the even bits in the low word, the odd bits in the high word.
pub(crate) fn deinterleave64(interleaved: u64) -> u64 {
    const B: [u64; 6] = [
        0x5555555555555555,
        0x3333333333333333,
        0x0F0F0F0F0F0F0F0F,
        0x00FF00FF00FF00FF,
        0x0000FFFF0000FFFF,
        0x00000000FFFFFFFF,
    ];
    const S: [u32; 6] = [0, 1, 2, 4, 8, 16];
    let mut x = interleaved;
    let mut y = interleaved >> 1;
    for i in 0..6 {
        x = (x | (x >> S[i])) & B[i];
        y = (y | (y >> S[i])) & B[i];
    }
    x | (y << 32)
}

/// `geohashEncode`: the geohash of `step` bits per coordinate of a position, relative to the
/// given ranges; None outside the storable ranges or the given ones.
pub(crate) fn encode(
    long_range: Range,
    lat_range: Range,
    longitude: f64,
    latitude: f64,
    step: u8,
) -> Option<HashBits> {
    if step > 32 || step == 0 || lat_range.is_zero() || long_range.is_zero() {
        return None;
    }
    if !(LONG_MIN..=LONG_MAX).contains(&longitude) || !(LAT_MIN..=LAT_MAX).contains(&latitude) {
        return None;
    }
    if latitude < lat_range.min
        || latitude > lat_range.max
        || longitude < long_range.min
        || longitude > long_range.max
    {
        return None;
    }
    let mut lat_offset = (latitude - lat_range.min) / (lat_range.max - lat_range.min);
    let mut long_offset = (longitude - long_range.min) / (long_range.max - long_range.min);
    let cells = (1u64 << step) as f64;
    lat_offset *= cells;
    long_offset *= cells;
    // The C converts to uint32_t; the offsets are in [0, 2^step], so `as` truncates alike.
    Some(HashBits {
        bits: interleave64(lat_offset as u32, long_offset as u32),
        step,
    })
}

/// `geohashEncodeWGS84`.
pub(crate) fn encode_wgs84(longitude: f64, latitude: f64, step: u8) -> Option<HashBits> {
    encode(WGS84_LONG, WGS84_LAT, longitude, latitude, step)
}

/// `geohashDecode`: the cell `hash` names within the given ranges.
pub(crate) fn decode(long_range: Range, lat_range: Range, hash: HashBits) -> Option<Area> {
    if hash.is_zero() || lat_range.is_zero() || long_range.is_zero() {
        return None;
    }
    let hash_sep = deinterleave64(hash.bits);
    let lat_scale = lat_range.max - lat_range.min;
    let long_scale = long_range.max - long_range.min;
    let ilato = hash_sep as u32;
    let ilono = (hash_sep >> 32) as u32;
    let cells = (1u64 << hash.step) as f64;
    // `(ilato + 1)` is unsigned int arithmetic in C: it wraps at 2^32.
    Some(Area {
        hash,
        latitude: Range {
            min: lat_range.min + (f64::from(ilato) * 1.0 / cells) * lat_scale,
            max: lat_range.min + (f64::from(ilato.wrapping_add(1)) * 1.0 / cells) * lat_scale,
        },
        longitude: Range {
            min: long_range.min + (f64::from(ilono) * 1.0 / cells) * long_scale,
            max: long_range.min + (f64::from(ilono.wrapping_add(1)) * 1.0 / cells) * long_scale,
        },
    })
}

/// `geohashDecodeAreaToLongLat`: the centre of a cell, clamped to the storable ranges.
pub(crate) fn area_center(area: &Area) -> [f64; 2] {
    let mut lon = (area.longitude.min + area.longitude.max) / 2.0;
    lon = lon.clamp(LONG_MIN, LONG_MAX);
    let mut lat = (area.latitude.min + area.latitude.max) / 2.0;
    lat = lat.clamp(LAT_MIN, LAT_MAX);
    [lon, lat]
}

/// C's `(long long)d` on x86-64 (`cvttsd2si`): truncation, and 0x8000000000000000 for NaN
/// or a value outside the i64 range.
pub(crate) fn c_double_to_i64(d: f64) -> i64 {
    const TWO63: f64 = 9223372036854775808.0;
    if (-TWO63..TWO63).contains(&d) {
        d as i64
    } else {
        i64::MIN
    }
}

/// C's `(uint64_t)d` as GCC compiles it for x86-64: `cvttsd2si` below 2^63, else the same
/// on `d - 2^63` with the top bit flipped.
pub(crate) fn c_double_to_u64(d: f64) -> u64 {
    const TWO63: f64 = 9223372036854775808.0;
    if d < TWO63 {
        c_double_to_i64(d) as u64
    } else {
        (c_double_to_i64(d - TWO63) as u64) ^ (1 << 63)
    }
}

/// `decodeGeohash`: the position a sorted set score stands for. Any score decodes (Redis
/// never fails here: the step is never zero); scores that no GEOADD wrote give whatever the
/// bits say, clamped to the storable ranges, as in Redis.
pub(crate) fn decode_score(score: f64) -> [f64; 2] {
    let hash = HashBits {
        bits: c_double_to_u64(score),
        step: STEP_MAX,
    };
    match decode(WGS84_LONG, WGS84_LAT, hash) {
        Some(area) => area_center(&area),
        None => [0.0, 0.0],
    }
}

/// The score GEOADD stores for a valid position: its 52-bit geohash (`geohashAlign52Bits`
/// of a step-26 hash), as ZADD reads the decimal text of it into a double.
pub(crate) fn score_of(longitude: f64, latitude: f64) -> f64 {
    let bits = encode_wgs84(longitude, latitude, STEP_MAX).map_or(0, align52);
    bits as f64
}

/// True when GEOADD and the search commands accept the position (`extractLongLatOrReply`).
pub(crate) fn valid_lon_lat(longitude: f64, latitude: f64) -> bool {
    (LONG_MIN..=LONG_MAX).contains(&longitude) && (LAT_MIN..=LAT_MAX).contains(&latitude)
}

/// GEOHASH's answer for a score: the position re-encoded with the standard geohash ranges
/// ([-180,180] x [-90,90]) as 11 base-32 characters, the last always '0' (52 bits only).
pub(crate) fn geohash_string(score: f64) -> [u8; 11] {
    const ALPHABET: &[u8; 32] = b"0123456789bcdefghjkmnpqrstuvwxyz";
    let xy = decode_score(score);
    let standard_lat = Range {
        min: -90.0,
        max: 90.0,
    };
    // The decoded position is inside the storable ranges, so encoding cannot fail.
    let hash = encode(WGS84_LONG, standard_lat, xy[0], xy[1], STEP_MAX).unwrap_or_default();
    let mut buf = [b'0'; 11];
    for (i, c) in buf.iter_mut().enumerate().take(10) {
        let idx = (hash.bits >> (52 - (i + 1) * 5)) & 0x1f;
        *c = ALPHABET[idx as usize];
    }
    buf
}

fn move_x(hash: &mut HashBits, d: i8) {
    if d == 0 {
        return;
    }
    let mut x = hash.bits & 0xaaaaaaaaaaaaaaaa;
    let y = hash.bits & 0x5555555555555555;
    let zz = 0x5555555555555555u64 >> (64 - u32::from(hash.step) * 2);
    if d > 0 {
        x = x.wrapping_add(zz + 1);
    } else {
        x |= zz;
        x = x.wrapping_sub(zz + 1);
    }
    x &= 0xaaaaaaaaaaaaaaaau64 >> (64 - u32::from(hash.step) * 2);
    hash.bits = x | y;
}

fn move_y(hash: &mut HashBits, d: i8) {
    if d == 0 {
        return;
    }
    let x = hash.bits & 0xaaaaaaaaaaaaaaaa;
    let mut y = hash.bits & 0x5555555555555555;
    let zz = 0xaaaaaaaaaaaaaaaau64 >> (64 - u32::from(hash.step) * 2);
    if d > 0 {
        y = y.wrapping_add(zz + 1);
    } else {
        y |= zz;
        y = y.wrapping_sub(zz + 1);
    }
    y &= 0x5555555555555555u64 >> (64 - u32::from(hash.step) * 2);
    hash.bits = x | y;
}

/// `geohashNeighbors`: the eight cells around `hash` (wrapping around the ranges).
pub(crate) fn neighbors(hash: HashBits) -> Neighbors {
    let moved = |dx: i8, dy: i8| {
        let mut h = hash;
        move_x(&mut h, dx);
        move_y(&mut h, dy);
        h
    };
    Neighbors {
        east: moved(1, 0),
        west: moved(-1, 0),
        south: moved(0, -1),
        north: moved(0, 1),
        north_west: moved(-1, 1),
        north_east: moved(1, 1),
        south_east: moved(1, -1),
        south_west: moved(-1, -1),
    }
}

/// `geohashEstimateStepsByRadius`: the step whose cells are about as wide as the search.
pub(crate) fn estimate_steps_by_radius(mut range_meters: f64, lat: f64) -> u8 {
    if range_meters == 0.0 {
        return 26;
    }
    let mut step: i32 = 1;
    while range_meters < MERCATOR_MAX {
        range_meters *= 2.0;
        step += 1;
    }
    step -= 2;
    if !(-66.0..=66.0).contains(&lat) {
        step -= 1;
        if !(-80.0..=80.0).contains(&lat) {
            step -= 1;
        }
    }
    step.clamp(1, 26) as u8
}

/// What an area search covers (Redis's `GeoShape` without its bounds).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum ShapeKind {
    /// BYRADIUS / GEORADIUS: a radius in the shape's unit.
    Circle {
        /// The radius, in the shape's unit.
        radius: f64,
    },
    /// BYBOX: width and height in the shape's unit.
    Rect {
        /// East-west extent.
        width: f64,
        /// North-south extent.
        height: f64,
    },
}

/// An area search: its centre, its kind and the meters per unit of its sizes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Shape {
    /// The kind and size.
    pub(crate) kind: ShapeKind,
    /// The centre: longitude, latitude.
    pub(crate) xy: [f64; 2],
    /// Meters per unit (m 1, km 1000, ft 0.3048, mi 1609.34).
    pub(crate) conversion: f64,
}

/// `geohashBoundingBox`: min longitude, min latitude, max longitude, max latitude of the
/// shape (the sides bend with latitude, so the wider of top and bottom is taken).
pub(crate) fn bounding_box(shape: &Shape) -> [f64; 4] {
    let [longitude, latitude] = shape.xy;
    let (height, width) = match shape.kind {
        ShapeKind::Circle { radius } => (shape.conversion * radius, shape.conversion * radius),
        ShapeKind::Rect { width, height } => (
            shape.conversion * (height / 2.0),
            shape.conversion * (width / 2.0),
        ),
    };
    let lat_delta = rad_deg(height / EARTH_RADIUS_IN_METERS);
    let long_delta_top =
        rad_deg(width / EARTH_RADIUS_IN_METERS / deg_rad(latitude + lat_delta).cos());
    let long_delta_bottom =
        rad_deg(width / EARTH_RADIUS_IN_METERS / deg_rad(latitude - lat_delta).cos());
    let southern = latitude < 0.0;
    [
        if southern {
            longitude - long_delta_bottom
        } else {
            longitude - long_delta_top
        },
        latitude - lat_delta,
        if southern {
            longitude + long_delta_bottom
        } else {
            longitude + long_delta_top
        },
        latitude + lat_delta,
    ]
}

fn deg_rad(ang: f64) -> f64 {
    ang * D_R
}

fn rad_deg(ang: f64) -> f64 {
    ang / D_R
}

/// The cells a search scans (Redis's `GeoHashRadius`).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct SearchAreas {
    /// The cell of the centre.
    pub(crate) hash: HashBits,
    /// Its neighbours; zero ones are skipped.
    pub(crate) neighbors: Neighbors,
    /// The centre cell's extent.
    pub(crate) area: Area,
}

/// `geohashCalculateAreasByShapeWGS84`: the centre cell and the neighbours that can hold
/// points of the shape, at the step estimated from its size (one coarser when a neighbour
/// would not reach the bounding box: the 7.x edge fix).
pub(crate) fn areas_by_shape(shape: &Shape) -> SearchAreas {
    let [min_lon, min_lat, max_lon, max_lat] = bounding_box(shape);
    let [longitude, latitude] = shape.xy;
    let radius_meters = match shape.kind {
        ShapeKind::Circle { radius } => radius,
        ShapeKind::Rect { width, height } => {
            ((width / 2.0) * (width / 2.0) + (height / 2.0) * (height / 2.0)).sqrt()
        }
    } * shape.conversion;
    let mut steps = estimate_steps_by_radius(radius_meters, latitude);
    let cells = |steps| {
        let hash = encode(WGS84_LONG, WGS84_LAT, longitude, latitude, steps).unwrap_or_default();
        let area = decode(WGS84_LONG, WGS84_LAT, hash).unwrap_or_default();
        (hash, neighbors(hash), area)
    };
    let (mut hash, mut nb, mut area) = cells(steps);
    let decoded = |h| decode(WGS84_LONG, WGS84_LAT, h).unwrap_or_default();
    let decrease_step = decoded(nb.north).latitude.max < max_lat
        || decoded(nb.south).latitude.min > min_lat
        || decoded(nb.east).longitude.max < max_lon
        || decoded(nb.west).longitude.min > min_lon;
    if steps > 1 && decrease_step {
        steps -= 1;
        (hash, nb, area) = cells(steps);
    }
    if steps >= 2 {
        let zero = HashBits::default();
        if area.latitude.min < min_lat {
            nb.south = zero;
            nb.south_west = zero;
            nb.south_east = zero;
        }
        if area.latitude.max > max_lat {
            nb.north = zero;
            nb.north_east = zero;
            nb.north_west = zero;
        }
        if area.longitude.min < min_lon {
            nb.west = zero;
            nb.south_west = zero;
            nb.north_west = zero;
        }
        if area.longitude.max > max_lon {
            nb.east = zero;
            nb.south_east = zero;
            nb.north_east = zero;
        }
    }
    SearchAreas {
        hash,
        neighbors: nb,
        area,
    }
}

/// `geohashAlign52Bits`.
pub(crate) fn align52(hash: HashBits) -> u64 {
    hash.bits << (52 - u32::from(hash.step) * 2)
}

/// `scoresOfGeoHashBox`: the scores [min, max) of the members inside the cell `hash`.
pub(crate) fn scores_of_box(hash: HashBits) -> (f64, f64) {
    let min = align52(hash);
    let max = align52(HashBits {
        bits: hash.bits.wrapping_add(1),
        step: hash.step,
    });
    (min as f64, max as f64)
}

/// The score ranges `membersOfAllNeighbors` scans, in its order (centre, N, S, E, W, NE, NW,
/// SE, SW), without the zero cells and without a cell equal to the one scanned just before
/// it (huge radii make neighbours coincide). As in Redis, the centre never counts as
/// "scanned before", so a neighbour equal to it is scanned again.
pub(crate) fn search_ranges(areas: &SearchAreas) -> impl Iterator<Item = (f64, f64)> {
    let n = &areas.neighbors;
    let cells = [
        areas.hash,
        n.north,
        n.south,
        n.east,
        n.west,
        n.north_east,
        n.north_west,
        n.south_east,
        n.south_west,
    ];
    let mut last_processed = 0usize;
    let mut out = [(0.0, 0.0); 9];
    let mut len = 0;
    for (i, cell) in cells.iter().enumerate() {
        if cell.is_zero() {
            continue;
        }
        if last_processed != 0 && *cell == cells[last_processed] {
            continue;
        }
        out[len] = scores_of_box(*cell);
        len += 1;
        last_processed = i;
    }
    out.into_iter().take(len)
}

/// `geohashGetLatDistance`: meters between two latitudes on one meridian.
pub(crate) fn lat_distance(lat1d: f64, lat2d: f64) -> f64 {
    EARTH_RADIUS_IN_METERS * (deg_rad(lat2d) - deg_rad(lat1d)).abs()
}

/// `geohashGetDistance`: the haversine great circle distance in meters.
pub(crate) fn distance(lon1d: f64, lat1d: f64, lon2d: f64, lat2d: f64) -> f64 {
    let lon1r = deg_rad(lon1d);
    let lon2r = deg_rad(lon2d);
    let v = ((lon2r - lon1r) / 2.0).sin();
    if v == 0.0 {
        return lat_distance(lat1d, lat2d);
    }
    let lat1r = deg_rad(lat1d);
    let lat2r = deg_rad(lat2d);
    let u = ((lat2r - lat1r) / 2.0).sin();
    let a = u * u + lat1r.cos() * lat2r.cos() * v * v;
    2.0 * EARTH_RADIUS_IN_METERS * a.sqrt().asin()
}

/// `geohashGetDistanceIfInRectangle`: the distance from the centre (x1, y1) to the point
/// (x2, y2) when the point is inside the box of `width_m` by `height_m` meters.
fn distance_if_in_rectangle(
    width_m: f64,
    height_m: f64,
    x1: f64,
    y1: f64,
    x2: f64,
    y2: f64,
) -> Option<f64> {
    let lat_dist = lat_distance(y2, y1);
    if lat_dist > height_m / 2.0 {
        return None;
    }
    let lon_dist = distance(x2, y2, x1, y2);
    if lon_dist > width_m / 2.0 {
        return None;
    }
    Some(distance(x1, y1, x2, y2))
}

/// `geoWithinShape`: the position a score stands for and its distance in meters from the
/// shape's centre, when it lies in the shape.
pub(crate) fn within_shape(shape: &Shape, score: f64) -> Option<([f64; 2], f64)> {
    let xy = decode_score(score);
    let [cx, cy] = shape.xy;
    let dist = match shape.kind {
        ShapeKind::Circle { radius } => {
            let d = distance(cx, cy, xy[0], xy[1]);
            // A NaN distance is "not greater": Redis keeps the point.
            if d > radius * shape.conversion {
                return None;
            }
            d
        }
        ShapeKind::Rect { width, height } => distance_if_in_rectangle(
            width * shape.conversion,
            height * shape.conversion,
            cx,
            cy,
            xy[0],
            xy[1],
        )?,
    };
    Some((xy, dist))
}

/// Where a search reads members from: a sorted set, seen as its score order.
pub(crate) trait ScoreRange {
    /// Call `f(member, score)` for each member with `min <= score < max`, in sorted set
    /// order (by score, then member), until `f` returns false.
    fn each_in_range(&self, min: f64, max: f64, f: &mut dyn FnMut(&[u8], f64) -> bool);
}

/// One search result (Redis's `geoPoint`); the member's bytes are in `Points::names`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Point {
    /// Decoded longitude.
    pub(crate) lon: f64,
    /// Decoded latitude.
    pub(crate) lat: f64,
    /// Distance from the centre, in meters until the command divides it.
    pub(crate) dist: f64,
    /// The member's score (its geohash).
    pub(crate) score: f64,
    name_at: u32,
    name_len: u32,
}

/// A search's results: points, and their members' bytes in one buffer.
#[derive(Debug, Default)]
pub(crate) struct Points {
    /// The points, in the order found (then sorted).
    pub(crate) items: Vec<Point>,
    names: Vec<u8>,
}

impl Points {
    /// The member of `p`.
    pub(crate) fn name(&self, p: &Point) -> &[u8] {
        let at = p.name_at as usize;
        &self.names[at..at + p.name_len as usize]
    }

    fn push(&mut self, xy: [f64; 2], dist: f64, score: f64, member: &[u8]) {
        let name_at = u32::try_from(self.names.len()).unwrap_or(u32::MAX);
        self.names.extend_from_slice(member);
        self.items.push(Point {
            lon: xy[0],
            lat: xy[1],
            dist,
            score,
            name_at,
            name_len: u32::try_from(member.len()).unwrap_or(u32::MAX),
        });
    }
}

/// `membersOfAllNeighbors`: the members of `zset` inside `shape`, box by box in Redis's
/// order. With `limit` (COUNT n ANY) the search stops as soon as it has that many.
pub(crate) fn search(zset: &impl ScoreRange, shape: &Shape, limit: usize) -> Points {
    let mut found = Points::default();
    let areas = areas_by_shape(shape);
    for (min, max) in search_ranges(&areas) {
        if limit != 0 && found.items.len() >= limit {
            break;
        }
        zset.each_in_range(min, max, &mut |member, score| {
            if let Some((xy, dist)) = within_shape(shape, score) {
                found.push(xy, dist, score, member);
            }
            !(limit != 0 && found.items.len() >= limit)
        });
    }
    found
}

/// `sort_gp_asc`: the qsort comparator of ASC (ties and NaN distances compare as C does).
fn cmp_asc(a: &Point, b: &Point) -> i32 {
    if a.dist > b.dist {
        1
    } else if a.dist == b.dist {
        0
    } else {
        -1
    }
}

/// Sort the results by distance, ascending or descending, as Redis orders them: all of
/// them with glibc's qsort (a stable merge sort), or, when only the first `keep` are
/// returned, with Redis's `pqsort` over that range.
pub(crate) fn sort_points(items: &mut [Point], desc: bool, keep: usize) {
    let cmp = |a: &Point, b: &Point| {
        let c = cmp_asc(a, b);
        if desc {
            -c
        } else {
            c
        }
    };
    if keep >= items.len() {
        merge_sort(items, &cmp);
    } else if keep > 0 {
        crate::pqsort::pqsort(items, &cmp, 0, keep - 1);
    }
}

/// glibc's `msort_with_tmp` (what its qsort runs when memory allows): top-down merge sort,
/// the left run winning ties.
fn merge_sort<T: Copy>(v: &mut [T], cmp: &dyn Fn(&T, &T) -> i32) {
    let mut tmp = Vec::with_capacity(v.len());
    merge_sort_with(v, cmp, &mut tmp);
}

fn merge_sort_with<T: Copy>(v: &mut [T], cmp: &dyn Fn(&T, &T) -> i32, tmp: &mut Vec<T>) {
    let n = v.len();
    if n <= 1 {
        return;
    }
    let n1 = n / 2;
    merge_sort_with(&mut v[..n1], cmp, tmp);
    merge_sort_with(&mut v[n1..], cmp, tmp);
    tmp.clear();
    let (mut i, mut j) = (0, n1);
    while i < n1 && j < n {
        if cmp(&v[i], &v[j]) <= 0 {
            tmp.push(v[i]);
            i += 1;
        } else {
            tmp.push(v[j]);
            j += 1;
        }
    }
    tmp.extend_from_slice(&v[i..n1]);
    // Whatever is left of the right run is already in place.
    v[..tmp.len()].copy_from_slice(tmp);
}

/// Meters per unit of a unit argument (`extractUnitOrReply`): m, km, ft, mi in any case.
pub(crate) fn unit_to_meters(unit: &[u8]) -> Option<f64> {
    if unit.eq_ignore_ascii_case(b"m") {
        Some(1.0)
    } else if unit.eq_ignore_ascii_case(b"km") {
        Some(1000.0)
    } else if unit.eq_ignore_ascii_case(b"ft") {
        Some(0.3048)
    } else if unit.eq_ignore_ascii_case(b"mi") {
        Some(1609.34)
    } else {
        None
    }
}

/// A short number printed into a stack buffer.
pub(crate) struct NumText {
    buf: [u8; 48],
    len: usize,
}

impl NumText {
    /// The text.
    pub(crate) fn as_bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }
}

/// A distance as Redis replies with it (`addReplyDoubleDistance`: `fixedpoint_d2string`
/// with 4 decimals, rounding with `llrint`, i.e. half to even).
pub(crate) fn format_distance(d: f64) -> NumText {
    let mut t = NumText {
        buf: [0; 48],
        len: 0,
    };
    if d == 0.0 {
        t.buf[..6].copy_from_slice(b"0.0000");
        t.len = 6;
        return t;
    }
    // llrint outside the long long range (or of NaN) gives LLONG_MIN on x86-64.
    let svalue = c_double_to_i64((d * 10000.0).round_ties_even());
    let neg = svalue < 0;
    let value = svalue.unsigned_abs();
    let mut at = 0;
    if neg {
        t.buf[0] = b'-';
        at = 1;
    }
    let int_part = value / 10000;
    let frac = value % 10000;
    let mut digits = [0u8; 20];
    let mut nd = 0;
    let mut ip = int_part;
    loop {
        digits[nd] = b'0' + (ip % 10) as u8;
        nd += 1;
        ip /= 10;
        if ip == 0 {
            break;
        }
    }
    for k in (0..nd).rev() {
        t.buf[at] = digits[k];
        at += 1;
    }
    t.buf[at] = b'.';
    at += 1;
    for div in [1000, 100, 10, 1] {
        t.buf[at] = b'0' + ((frac / div) % 10) as u8;
        at += 1;
    }
    t.len = at;
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A sorted set as geo sees it: (score, member), in score then member order.
    struct Model(Vec<(f64, Vec<u8>)>);

    impl Model {
        fn new(mut v: Vec<(f64, Vec<u8>)>) -> Model {
            v.sort_by(|a, b| a.0.total_cmp(&b.0).then_with(|| a.1.cmp(&b.1)));
            Model(v)
        }
    }

    impl ScoreRange for Model {
        fn each_in_range(&self, min: f64, max: f64, f: &mut dyn FnMut(&[u8], f64) -> bool) {
            for (score, member) in &self.0 {
                if *score >= min && *score < max && !f(member, *score) {
                    return;
                }
            }
        }
    }

    fn text(t: NumText) -> String {
        String::from_utf8(t.as_bytes().to_vec()).unwrap()
    }

    fn human(x: f64) -> String {
        String::from_utf8(crate::number::HumanBuf::new().format(x).to_vec()).unwrap()
    }

    /// (lon, lat, score, GEOPOS lon, GEOPOS lat, GEOHASH), read off redis-server 7.2.6.
    const POINTS: &[(&str, &str, u64, &str, &str, &str)] = &[
        (
            "13.361389",
            "38.115556",
            3479099956230698,
            "13.36138933897018433",
            "38.11555639549629859",
            "sqc8b49rny0",
        ),
        (
            "15.087269",
            "37.502669",
            3479447370796909,
            "15.08726745843887329",
            "37.50266842333162032",
            "sqdtr74hyu0",
        ),
        (
            "180",
            "85.05112878",
            13510798882111488,
            "180",
            "85.0511287799999991",
            "bp05b5048p0",
        ),
        (
            "-180",
            "-85.05112878",
            0,
            "-179.99999731779098511",
            "-85.05112751263942528",
            "00bh0hbj200",
        ),
        (
            "0",
            "0",
            3377699720527872,
            "0.00000268220901489",
            "0.00000126736058093",
            "s0000000000",
        ),
        (
            "180",
            "0",
            10133099161583616,
            "180",
            "0.00000126736058093",
            "80000000000",
        ),
        (
            "-0.0001",
            "51.4778",
            2163546804369574,
            "-0.00009924173355103",
            "51.47780030620258174",
            "gcpuzgpzvt0",
        ),
        (
            "139.6917",
            "35.6895",
            4171231230197045,
            "139.69170123338699341",
            "35.68950126697937009",
            "xn774c06kt0",
        ),
        (
            "-73.935242",
            "40.730610",
            1791875640195835,
            "-73.93524438142776489",
            "40.73061047253818145",
            "dr5rtwccpb0",
        ),
        (
            "-58.3816",
            "-34.6037",
            887133777343301,
            "-58.38160246610641479",
            "-34.60370022923218158",
            "69y7pkxff40",
        ),
        (
            "179.9999",
            "-85",
            3002400025540839,
            "179.99990075826644897",
            "-84.99999965213439168",
            "pbzurypzje0",
        ),
        (
            "-179.9999",
            "85.05",
            1501199875707404,
            "-179.99990075826644897",
            "85.04999956172351006",
            "bp05b4bh4m0",
        ),
    ];

    #[test]
    fn positions_encode_decode_and_hash_as_redis() {
        for &(lon, lat, score, plon, plat, hash) in POINTS {
            let (lon, lat): (f64, f64) = (lon.parse().unwrap(), lat.parse().unwrap());
            assert!(valid_lon_lat(lon, lat));
            assert_eq!(score_of(lon, lat), score as f64, "{lon},{lat}");
            let xy = decode_score(score as f64);
            assert_eq!(human(xy[0]), plon, "{lon},{lat}");
            assert_eq!(human(xy[1]), plat, "{lon},{lat}");
            assert_eq!(
                &geohash_string(score as f64),
                hash.as_bytes(),
                "{lon},{lat}"
            );
        }
    }

    #[test]
    fn scores_no_geoadd_wrote_decode_as_redis() {
        // ZADD h <score> m; GEOPOS h m / GEOHASH h m on redis-server 7.2.6 (x86-64).
        let ne = ("180", "85.0511287799999991", "bp05b5048p0");
        let sw = (
            "-179.99999731779098511",
            "-85.05112751263942528",
            "00bh0hbj200",
        );
        let se = ("180", "-85.05112751263942528", "00bh0hbj200");
        for (score, want) in [
            (-1.0, ne),
            (1e19, ne),
            (2e19, sw),
            (-1e19, se),
            (
                4503599627370496.0,
                (
                    "-179.99999731779098511",
                    "85.0511287799999991",
                    "bp05b5048p0",
                ),
            ),
            (9007199254740992.0, se),
            (f64::NEG_INFINITY, se),
            (f64::INFINITY, sw),
            (1e30, sw),
            (
                1.5,
                (
                    "-179.99999731779098511",
                    "-85.05112497791824921",
                    "00bh0hbj210",
                ),
            ),
        ] {
            let xy = decode_score(score);
            assert_eq!(human(xy[0]), want.0, "{score}");
            assert_eq!(human(xy[1]), want.1, "{score}");
            assert_eq!(&geohash_string(score), want.2.as_bytes(), "{score}");
        }
        assert_eq!(c_double_to_i64(1.5), 1);
        assert_eq!(c_double_to_i64(-1e19), i64::MIN);
        assert_eq!(c_double_to_i64(f64::NAN), i64::MIN);
        assert_eq!(c_double_to_u64(-1.0), u64::MAX);
        assert_eq!(c_double_to_u64(2e19), 0);
    }

    #[test]
    fn out_of_range_positions_are_refused() {
        assert!(!valid_lon_lat(180.0001, 0.0));
        assert!(!valid_lon_lat(0.0, 85.06));
        assert!(!valid_lon_lat(0.0, -85.06));
        assert!(!valid_lon_lat(f64::INFINITY, 0.0));
        assert!(valid_lon_lat(-180.0, -85.05112878));
        assert_eq!(encode_wgs84(181.0, 0.0, 26), None);
        assert_eq!(encode_wgs84(0.0, 0.0, 0), None);
    }

    #[test]
    fn distances_as_geodist_prints_them() {
        let score = |name: &str| POINTS.iter().find(|p| p.0 == name).unwrap().2 as f64;
        let d = |a: &str, b: &str, unit: &[u8]| {
            let (p, q) = (decode_score(score(a)), decode_score(score(b)));
            text(format_distance(
                distance(p[0], p[1], q[0], q[1]) / unit_to_meters(unit).unwrap(),
            ))
        };
        // GEODIST g Palermo Catania / ne sw / tokyo nyc, in m, km, ft, mi.
        let (pal, cat, ne, sw, tok, nyc) = (
            "13.361389",
            "15.087269",
            "180",
            "-180",
            "139.6917",
            "-73.935242",
        );
        assert_eq!(d(pal, cat, b"m"), "166274.1516");
        assert_eq!(d(ne, sw, b"M"), "18919844.5891");
        assert_eq!(d(tok, nyc, b"m"), "10852812.6605");
        assert_eq!(d(pal, cat, b"km"), "166.2742");
        assert_eq!(d(ne, sw, b"KM"), "18919.8446");
        assert_eq!(d(tok, nyc, b"km"), "10852.8127");
        assert_eq!(d(pal, cat, b"ft"), "545518.8700");
        assert_eq!(d(ne, sw, b"ft"), "62072980.9353");
        assert_eq!(d(tok, nyc, b"Ft"), "35606340.7496");
        assert_eq!(d(pal, cat, b"mi"), "103.3182");
        assert_eq!(d(ne, sw, b"mi"), "11756.2756");
        assert_eq!(d(tok, nyc, b"mI"), "6743.6419");
        assert_eq!(d(pal, pal, b"m"), "0.0000");
        assert_eq!(unit_to_meters(b"yd"), None);
    }

    #[test]
    fn fixed_point_texts() {
        assert_eq!(text(format_distance(0.00005)), "0.0000");
        assert_eq!(text(format_distance(0.5)), "0.5000");
        assert_eq!(text(format_distance(12.34565)), "12.3456");
        assert_eq!(text(format_distance(-3.25)), "-3.2500");
        assert_eq!(text(format_distance(f64::NAN)), "-922337203685477.5808");
        assert_eq!(human(-0.0), "0");
        assert_eq!(human(-180.0), "-180");
        assert_eq!(human(0.5), "0.5");
    }

    #[test]
    fn interleaving_round_trips() {
        for (x, y) in [
            (0u32, 0u32),
            (1, 0),
            (0, 1),
            (u32::MAX, 0),
            (0x1234_5678, 0x9abc_def0),
        ] {
            let z = interleave64(x, y);
            assert_eq!(deinterleave64(z), u64::from(x) | (u64::from(y) << 32));
        }
        assert_eq!(interleave64(1, 0), 1);
        assert_eq!(interleave64(0, 1), 2);
    }

    #[test]
    fn neighbours_step_one_cell_and_wrap() {
        let h = encode_wgs84(13.361389, 38.115556, 10).unwrap();
        let area = decode(WGS84_LONG, WGS84_LAT, h).unwrap();
        let n = neighbors(h);
        let a = |x: HashBits| decode(WGS84_LONG, WGS84_LAT, x).unwrap();
        assert_eq!(a(n.north).latitude.min, area.latitude.max);
        assert_eq!(a(n.south).latitude.max, area.latitude.min);
        assert_eq!(a(n.east).longitude.min, area.longitude.max);
        assert_eq!(a(n.west).longitude.max, area.longitude.min);
        assert_eq!(a(n.north_east).latitude.min, area.latitude.max);
        assert_eq!(a(n.north_east).longitude.min, area.longitude.max);
        assert_eq!(a(n.south_west).longitude.max, area.longitude.min);
        // At step 1 there are two cells per axis: north and south are the same cell.
        let h = encode_wgs84(0.0, 0.0, 1).unwrap();
        let n = neighbors(h);
        assert_eq!(n.north, n.south);
        assert_eq!(n.east, n.west);
        // East of the last column wraps to the first.
        let h = encode_wgs84(179.9, 0.0, 4).unwrap();
        let e = decode(WGS84_LONG, WGS84_LAT, neighbors(h).east).unwrap();
        assert_eq!(e.longitude.min, -180.0);
    }

    #[test]
    fn step_estimate_and_boxes() {
        assert_eq!(estimate_steps_by_radius(0.0, 0.0), 26);
        assert_eq!(estimate_steps_by_radius(100_000.0, 0.0), 7);
        assert_eq!(estimate_steps_by_radius(100_000.0, 70.0), 6);
        assert_eq!(estimate_steps_by_radius(100_000.0, -81.0), 5);
        assert_eq!(estimate_steps_by_radius(1.0, 0.0), 24);
        assert_eq!(estimate_steps_by_radius(1e9, 0.0), 1);
        let shape = Shape {
            kind: ShapeKind::Circle { radius: 100.0 },
            xy: [14.0, 37.5],
            conversion: 1000.0,
        };
        let b = bounding_box(&shape);
        assert!(b[0] < 14.0 && b[2] > 14.0 && b[1] < 37.5 && b[3] > 37.5);
        // Symmetric in latitude, wider in longitude away from the equator.
        assert!(((37.5 - b[1]) - (b[3] - 37.5)).abs() < 1e-12);
        assert!(b[2] - 14.0 > b[3] - 37.5);
        let areas = areas_by_shape(&shape);
        assert_eq!(areas.hash.step, 7);
        assert!(search_ranges(&areas).count() <= 9);
        // A huge radius: step 1, two cells per axis, so N = S, E = W and NE = NW = SE = SW:
        // centre, N, E and NE are scanned, each once.
        let world = Shape {
            kind: ShapeKind::Circle { radius: 30000.0 },
            xy: [0.0, 0.0],
            conversion: 1000.0,
        };
        let areas = areas_by_shape(&world);
        assert_eq!(areas.hash.step, 1);
        let ranges: Vec<_> = search_ranges(&areas).collect();
        assert_eq!(ranges.len(), 4);
    }

    /// The 60 points of the search tests: 45 positions, the last 15 repeated (ties).
    fn sicily() -> Model {
        let mut v = Vec::new();
        for i in 0..60u32 {
            let j = i % 45;
            let lon = 13000 + (j * 373) % 2000;
            let lat = 37000 + (j * 211) % 1500;
            let lon = format!("{}.{:03}", lon / 1000, lon % 1000).parse().unwrap();
            let lat = format!("{}.{:03}", lat / 1000, lat % 1000).parse().unwrap();
            v.push((score_of(lon, lat), format!("p{i}").into_bytes()));
        }
        Model::new(v)
    }

    /// GEOSEARCH s <query> on redis-server 7.2.6: members in reply order (plus distances).
    fn run(z: &Model, shape: Shape, sort: Option<bool>, count: usize, any: bool) -> Vec<String> {
        let mut found = search(z, &shape, if any { count } else { 0 });
        let keep = if count == 0 {
            found.items.len()
        } else {
            count.min(found.items.len())
        };
        let sort = if count != 0 && sort.is_none() && !any {
            Some(false)
        } else {
            sort
        };
        if let Some(desc) = sort {
            sort_points(&mut found.items, desc, keep);
        }
        found.items[..keep]
            .iter()
            .map(|p| String::from_utf8(found.name(p).to_vec()).unwrap())
            .collect()
    }

    fn names(s: &str) -> Vec<String> {
        s.split(' ').map(str::to_string).collect()
    }

    #[test]
    fn searches_find_and_order_as_redis() {
        let z = sicily();
        let around = |radius| Shape {
            kind: ShapeKind::Circle { radius },
            xy: [14.0, 37.5],
            conversion: 1000.0,
        };
        // fromlonlat 14 37.5 byradius 100 km asc withdist
        let mut found = search(&z, &around(100.0), 0);
        let n = found.items.len();
        sort_points(&mut found.items, false, n);
        let got: Vec<String> = found
            .items
            .iter()
            .map(|p| {
                let name = String::from_utf8(found.name(p).to_vec()).unwrap();
                format!("{name}={}", text(format_distance(p.dist / 1000.0)))
            })
            .collect();
        assert_eq!(
            got[..12].join(" "),
            "p24=8.2824 p3=18.1359 p48=18.1359 p2=24.0446 p47=24.0446 p30=25.2836 \
             p54=33.4653 p9=33.4653 p53=34.7314 p8=34.7314 p23=40.6218 p18=41.6292"
        );
        assert_eq!(got.len(), 48);
        assert_eq!(got[47], "p35=98.5534");
        // frommember p0 bybox 200 100 km desc count 10
        let p0 = z.0.iter().find(|(_, m)| m == b"p0").unwrap().0;
        let boxed = Shape {
            kind: ShapeKind::Rect {
                width: 200.0,
                height: 100.0,
            },
            xy: decode_score(p0),
            conversion: 1000.0,
        };
        assert_eq!(
            run(&z, boxed, Some(true), 10, false),
            names("p53 p8 p47 p2 p29 p23 p44 p46 p1 p22")
        );
        // byradius 1000 km count 5 any
        assert_eq!(
            run(&z, around(1000.0), None, 5, true),
            names("p0 p45 p43 p22 p29")
        );
        // byradius 1000 km count 7 (ASC implied, partial sort)
        assert_eq!(
            run(&z, around(1000.0), None, 7, false),
            names("p24 p3 p48 p2 p47 p30 p9")
        );
        // byradius 1000 km count 30 desc: pqsort's tie order (p59 before p14)
        assert_eq!(
            run(&z, around(1000.0), Some(true), 30, false),
            names(
                "p21 p52 p7 p27 p42 p28 p51 p6 p59 p14 p0 p45 p35 p5 p50 p43 p20 p32 p56 p11 \
                 p16 p13 p58 p26 p22 p34 p33 p41 p57 p12"
            )
        );
        // byradius 1000 km desc: the merge sort keeps ties in found order (p14 before p59)
        let all_desc = run(&z, around(1000.0), Some(true), 0, false);
        assert_eq!(
            all_desc[..12].join(" "),
            "p21 p52 p7 p27 p42 p28 p51 p6 p14 p59 p0 p45"
        );
        assert_eq!(all_desc.len(), 60);
        // byradius 1000 km, unsorted: box order, then score order
        assert_eq!(
            run(&z, around(1000.0), None, 0, false)[..10].join(" "),
            "p0 p45 p43 p22 p29 p53 p8 p36 p15 p38"
        );
        // fromlonlat 13.5 37.2 bybox 50 80 mi asc
        let boxed = Shape {
            kind: ShapeKind::Rect {
                width: 50.0,
                height: 80.0,
            },
            xy: [13.5, 37.2],
            conversion: 1609.34,
        };
        assert_eq!(
            run(&z, boxed, Some(false), 0, false),
            names("p1 p46 p44 p23 p22 p29 p2 p47 p17 p38 p24 p39")
        );
    }

    #[test]
    fn pqsort_sorts_the_requested_prefix() {
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for n in [1usize, 2, 6, 7, 8, 40, 41, 100, 333] {
            for keep in [1usize, 2, n / 2 + 1, n] {
                let keep = keep.min(n);
                let v: Vec<i64> = (0..n).map(|_| (next() % 50) as i64).collect();
                let mut got = v.clone();
                crate::pqsort::pqsort(
                    &mut got,
                    &|a: &i64, b: &i64| (a > b) as i32 - (a < b) as i32,
                    0,
                    keep - 1,
                );
                let mut want = v.clone();
                want.sort();
                assert_eq!(got[..keep], want[..keep], "n={n} keep={keep}");
                let mut all = got.clone();
                all.sort();
                assert_eq!(all, want);
            }
        }
    }

    #[test]
    fn merge_sort_is_stable() {
        let mut v: Vec<(i32, usize)> = [3, 1, 3, 2, 1, 3, 0].iter().copied().zip(0..).collect();
        merge_sort(&mut v, &|a: &(i32, usize), b: &(i32, usize)| {
            (a.0 > b.0) as i32 - (a.0 < b.0) as i32
        });
        assert_eq!(
            v,
            vec![(0, 6), (1, 1), (1, 4), (2, 3), (3, 0), (3, 2), (3, 5)]
        );
    }

    proptest::proptest! {
        /// The nine boxes cover the shape: a search finds exactly the members a scan of every
        /// member with `within_shape` finds (what Redis's step estimate and 7.x edge fixes
        /// are there to guarantee), each once.
        #[test]
        fn search_finds_what_a_full_scan_finds(
            center in (-179.0f64..179.0, -84.0f64..84.0),
            offsets in proptest::collection::vec((-3.0f64..3.0, -3.0f64..3.0), 1..80),
            size in 1.0f64..400_000.0,
            aspect in 0.2f64..5.0,
            rect in proptest::bool::ANY,
        ) {
            let members: Vec<(f64, Vec<u8>)> = offsets
                .iter()
                .enumerate()
                .filter_map(|(i, (dx, dy))| {
                    let (lon, lat) = (center.0 + dx, center.1 + dy);
                    valid_lon_lat(lon, lat).then(|| (score_of(lon, lat), format!("m{i}").into_bytes()))
                })
                .collect();
            let z = Model::new(members);
            let shape = Shape {
                kind: if rect {
                    ShapeKind::Rect { width: size, height: size * aspect }
                } else {
                    ShapeKind::Circle { radius: size }
                },
                xy: [center.0, center.1],
                conversion: 1.0,
            };
            let found = search(&z, &shape, 0);
            let mut got: Vec<Vec<u8>> = found.items.iter().map(|p| found.name(p).to_vec()).collect();
            got.sort();
            let n = got.len();
            got.dedup();
            proptest::prop_assert_eq!(got.len(), n, "a member found twice");
            let mut want: Vec<Vec<u8>> = z
                .0
                .iter()
                .filter(|(score, _)| within_shape(&shape, *score).is_some())
                .map(|(_, m)| m.clone())
                .collect();
            want.sort();
            proptest::prop_assert_eq!(got, want);
        }

        /// A partial sort puts the `keep` nearest first, in order, whatever the ties.
        #[test]
        fn partial_sort_keeps_the_nearest(
            dists in proptest::collection::vec(0u8..20, 1..120),
            keep in 1usize..120,
            desc in proptest::bool::ANY,
        ) {
            let mut items: Vec<Point> = dists
                .iter()
                .map(|&d| Point { lon: 0.0, lat: 0.0, dist: f64::from(d), score: 0.0, name_at: 0, name_len: 0 })
                .collect();
            let keep = keep.min(items.len());
            let mut want: Vec<f64> = items.iter().map(|p| p.dist).collect();
            want.sort_by(f64::total_cmp);
            if desc {
                want.reverse();
            }
            sort_points(&mut items, desc, keep);
            let got: Vec<f64> = items[..keep].iter().map(|p| p.dist).collect();
            proptest::prop_assert_eq!(&got[..], &want[..keep]);
        }
    }
}
