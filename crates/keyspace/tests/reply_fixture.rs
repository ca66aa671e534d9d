//! The shared reply fixture (`fixtures/replies.txt`): the core's RESP sink writes every case
//! and must give exactly the bytes listed, in RESP2 and RESP3. `@shrike/resp3`'s ReplyWriter
//! is held to the same file, so the two writers of RESP agree byte for byte.

mod common;

use common::split as words;
use shrike_keyspace::ReplySink;

/// One fixture case: its name, writes, and the expected bytes per protocol.
struct Case {
    name: String,
    writes: Vec<Vec<Vec<u8>>>,
    resp2: Vec<u8>,
    resp3: Vec<u8>,
}

fn cases() -> Vec<Case> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../fixtures/replies.txt");
    let text = std::fs::read_to_string(path).unwrap();
    let mut out: Vec<Case> = Vec::new();
    for line in text.lines() {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let last = out.last_mut();
        if let Some(name) = line.strip_prefix("case ") {
            out.push(Case {
                name: name.to_string(),
                writes: Vec::new(),
                resp2: Vec::new(),
                resp3: Vec::new(),
            });
        } else if let Some(rest) = line.strip_prefix("resp2 ") {
            last.unwrap().resp2 = words(rest).remove(0);
        } else if let Some(rest) = line.strip_prefix("resp3 ") {
            last.unwrap().resp3 = words(rest).remove(0);
        } else {
            last.unwrap().writes.push(words(line));
        }
    }
    out
}

fn text(w: &[u8]) -> &str {
    std::str::from_utf8(w).unwrap()
}

fn num<T: std::str::FromStr>(w: &[u8]) -> T
where
    T::Err: std::fmt::Debug,
{
    text(w).parse().unwrap()
}

fn write(sink: &mut ReplySink, w: &[Vec<u8>]) {
    let arg = |i: usize| w[i].as_slice();
    match text(arg(0)) {
        "simple" => sink.simple(arg(1)),
        "error" => sink.error(arg(1)),
        "int" => sink.int(num(arg(1))),
        "bulk" => sink.bulk(arg(1)),
        "null" => sink.null(),
        "null_array" => sink.null_array(),
        "array" => sink.array(num(arg(1))),
        "map" => sink.map(num(arg(1))),
        "set" => sink.set(num(arg(1))),
        "push" => sink.push(num(arg(1))),
        "double" => sink.double(num(arg(1))),
        "boolean" => sink.boolean(text(arg(1)) == "true"),
        "verbatim" => sink.verbatim(arg(1).try_into().unwrap(), arg(2)),
        "big_number" => sink.big_number(arg(1)),
        other => panic!("unknown write {other}"),
    }
}

#[test]
fn the_core_writes_the_fixture_bytes() {
    let cases = cases();
    assert!(cases.len() >= 10, "fixture not found or empty");
    for c in &cases {
        for (resp3, want) in [(false, &c.resp2), (true, &c.resp3)] {
            let mut sink = ReplySink::resp(Vec::new(), resp3);
            for w in &c.writes {
                write(&mut sink, w);
            }
            assert_eq!(
                String::from_utf8_lossy(sink.as_bytes()),
                String::from_utf8_lossy(want),
                "{} (RESP{})",
                c.name,
                if resp3 { 3 } else { 2 }
            );
            assert_eq!(sink.as_bytes(), want.as_slice(), "{}", c.name);
        }
    }
}

#[test]
fn a_deferred_array_gets_its_count_in_both_protocols() {
    for resp3 in [false, true] {
        let mut sink = ReplySink::resp(b"+before\r\n".to_vec(), resp3);
        let pos = sink.array_start();
        for i in 0..12 {
            sink.int(i);
        }
        sink.array_end(pos, 12);
        let mut want = b"+before\r\n*12\r\n".to_vec();
        for i in 0..12 {
            want.extend_from_slice(format!(":{i}\r\n").as_bytes());
        }
        assert_eq!(sink.as_bytes(), want.as_slice());
    }
}
