//! The geo commands end to end on a keyspace, with no server: replies read off
//! redis-server 7.2.6 for the Sicily example, the STORE paths, errors that format their
//! arguments, and locking of the STORE key (a command touching an unlocked key panics).

mod common;

use common::*;
use shrike_keyspace::reply::Reply;

const T0: i64 = 1_700_000_000_000;

fn bulks(items: &[&str]) -> Reply {
    Reply::Array(items.iter().map(|s| Reply::bulk(s.as_bytes())).collect())
}

fn sicily(c: &mut Client<'_>) {
    assert_eq!(
        c.cmd("geoadd Sicily 13.361389 38.115556 Palermo 15.087269 37.502669 Catania"),
        Reply::Int(2)
    );
}

#[test]
fn the_sicily_example_answers_as_redis() {
    let ks = keyspace();
    let mut c = Client::new(&ks, T0);
    sicily(&mut c);
    assert_eq!(c.cmd("type Sicily"), Reply::simple("zset"));
    assert_eq!(
        c.cmd("geodist Sicily Palermo Catania km"),
        Reply::bulk(b"166.2742")
    );
    assert_eq!(
        c.cmd("geohash Sicily Palermo nosuch"),
        Reply::Array(vec![Reply::bulk(b"sqc8b49rny0"), Reply::Null])
    );
    // Captured values keep coordinates as doubles (the wire form is tested in reply.rs).
    assert_eq!(
        c.cmd("geopos Sicily Palermo nosuch"),
        Reply::Array(vec![
            Reply::Array(vec![
                Reply::Double(13.361389338970184),
                Reply::Double(38.1155563954963)
            ]),
            Reply::NullArray
        ])
    );
    assert_eq!(
        c.cmd("georadius Sicily 15 37 200 km asc"),
        bulks(&["Catania", "Palermo"])
    );
    assert_eq!(
        c.cmd("geosearch Sicily fromlonlat 15 37 byradius 200 km desc count 1 withdist withhash"),
        Reply::Array(vec![Reply::Array(vec![
            Reply::bulk(b"Palermo"),
            Reply::bulk(b"190.4424"),
            Reply::Int(3479099956230698),
        ])])
    );
    assert_eq!(
        c.cmd("georadiusbymember Sicily Palermo 100 km"),
        bulks(&["Palermo"])
    );
}

#[test]
fn stores_replace_or_delete_the_destination() {
    let ks = keyspace();
    let mut c = Client::new(&ks, T0);
    sicily(&mut c);
    c.cmd("set dst v");
    c.cmd("expire dst 100");
    assert_eq!(
        c.cmd("georadius Sicily 15 37 200 km storedist dst"),
        Reply::Int(2)
    );
    assert_eq!(c.cmd("type dst"), Reply::simple("zset"));
    assert_eq!(c.cmd("ttl dst"), Reply::Int(-1));
    assert_eq!(c.cmd("object encoding dst"), Reply::bulk(b"listpack"));
    // STOREDIST keeps distances in the unit asked for: GEODIST-like values.
    assert_eq!(
        c.cmd("geosearch dst fromlonlat 0 0 byradius 1 m"),
        Reply::Array(vec![])
    );
    assert_eq!(
        c.cmd("geosearchstore dst2 Sicily frommember Palermo bybox 400 400 km"),
        Reply::Int(2)
    );
    assert_eq!(
        c.cmd("geosearchstore dst2 Sicily frommember Palermo byradius 1 m"),
        Reply::Int(1)
    );
    assert_eq!(
        c.cmd("geosearchstore dst2 Sicily fromlonlat 0 0 byradius 1 m"),
        Reply::Int(0)
    );
    assert_eq!(c.cmd("exists dst2"), Reply::Int(0));
    assert_eq!(
        c.cmd("geosearchstore dst nosuch frommember x byradius 1 m"),
        Reply::Int(0)
    );
    assert_eq!(c.cmd("exists dst"), Reply::Int(0));
    // Keys in other segments than the source's: the STORE key is locked too.
    for i in 0..50 {
        let line = format!("georadius Sicily 15 37 200 km STORE out:{i}");
        assert_eq!(c.cmd(&line), Reply::Int(2), "{line}");
    }
}

#[test]
fn errors_format_and_echo_as_redis() {
    let ks = keyspace();
    let mut c = Client::new(&ks, T0);
    sicily(&mut c);
    assert_eq!(
        c.cmd("geoadd Sicily 13 38 a 200 100 b"),
        Reply::error("ERR invalid longitude,latitude pair 200.000000,100.000000")
    );
    // Nothing was added: every position is checked before any is stored.
    assert_eq!(c.cmd("geohash Sicily a"), Reply::Array(vec![Reply::Null]));
    assert_eq!(
        c.cmd("GEOSEARCH Sicily byradius 1 km withdist withhash"),
        Reply::error("ERR exactly one of FROMMEMBER or FROMLONLAT can be specified for GEOSEARCH")
    );
    assert_eq!(
        c.cmd("geosearchstore d Sicily fromlonlat 1 1 asc desc"),
        Reply::error("ERR exactly one of BYRADIUS and BYBOX can be specified for geosearchstore")
    );
    c.cmd("set s v");
    assert_eq!(
        c.cmd("geosearch s frommember x bybox 1 1 yd"),
        Reply::error("WRONGTYPE Operation against a key holding the wrong kind of value")
    );
    assert_eq!(
        c.cmd("geodist Sicily a b yd"),
        Reply::error("ERR unsupported unit provided. please use M, KM, FT, MI")
    );
}
