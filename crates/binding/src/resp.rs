//! The core's reply values (keyspace `reply.rs`) written as RESP2 or RESP3, with Redis's
//! downgrade rules for RESP2, the same bytes that `@shrike/resp3`'s ReplyWriter writes.
//!
//! Doing it here hands JavaScript finished bytes to copy, instead of a value stream to walk
//! with a call per value: under pipelined load that walk was a tenth of a worker's JS time.

use std::io::Write;

/// A malformed value stream: a bug in the core, reported rather than trusted.
#[derive(Debug)]
pub struct BadReply;

struct Reader<'a> {
    src: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], BadReply> {
        let s = self.src.get(self.pos..self.pos + n).ok_or(BadReply)?;
        self.pos += n;
        Ok(s)
    }

    fn u8(&mut self) -> Result<u8, BadReply> {
        Ok(*self.take(1)?.first().ok_or(BadReply)?)
    }

    fn u32(&mut self) -> Result<u32, BadReply> {
        let b: [u8; 4] = self.take(4)?.try_into().map_err(|_| BadReply)?;
        Ok(u32::from_le_bytes(b))
    }

    fn i64(&mut self) -> Result<i64, BadReply> {
        let b: [u8; 8] = self.take(8)?.try_into().map_err(|_| BadReply)?;
        Ok(i64::from_le_bytes(b))
    }

    fn f64(&mut self) -> Result<f64, BadReply> {
        let b: [u8; 8] = self.take(8)?.try_into().map_err(|_| BadReply)?;
        Ok(f64::from_le_bytes(b))
    }

    fn bytes(&mut self) -> Result<&'a [u8], BadReply> {
        let n = self.u32()? as usize;
        self.take(n)
    }
}

/// Append every value of `src` to `out` as RESP3 (`resp3`) or RESP2.
pub fn encode(src: &[u8], resp3: bool, out: &mut Vec<u8>) -> Result<(), BadReply> {
    let mut r = Reader { src, pos: 0 };
    while r.pos < src.len() {
        value(&mut r, resp3, out)?;
    }
    Ok(())
}

fn header(out: &mut Vec<u8>, t: u8, n: usize) {
    out.push(t);
    let _ = write!(out, "{n}\r\n");
}

fn bulk(out: &mut Vec<u8>, s: &[u8]) {
    header(out, b'$', s.len());
    out.extend_from_slice(s);
    out.extend_from_slice(b"\r\n");
}

fn value(r: &mut Reader<'_>, resp3: bool, out: &mut Vec<u8>) -> Result<(), BadReply> {
    match r.u8()? {
        b'$' => bulk(out, r.bytes()?),
        b':' => {
            let v = r.i64()?;
            let _ = write!(out, ":{v}\r\n");
        }
        b'+' => {
            out.push(b'+');
            out.extend_from_slice(r.bytes()?);
            out.extend_from_slice(b"\r\n");
        }
        b'-' => {
            // An error line can never break framing: CR and LF become spaces, as in Redis.
            out.push(b'-');
            out.extend(
                r.bytes()?
                    .iter()
                    .map(|&b| if b == b'\r' || b == b'\n' { b' ' } else { b }),
            );
            out.extend_from_slice(b"\r\n");
        }
        b'_' => out.extend_from_slice(if resp3 { b"_\r\n" } else { b"$-1\r\n" }),
        b'0' => out.extend_from_slice(if resp3 { b"_\r\n" } else { b"*-1\r\n" }),
        t @ (b'*' | b'%' | b'~') => {
            let n = r.u32()? as usize;
            let items = if t == b'%' { 2 * n } else { n };
            match (t, resp3) {
                (b'%', true) => header(out, b'%', n),
                (b'~', true) => header(out, b'~', n),
                _ => header(out, b'*', items),
            }
            for _ in 0..items {
                value(r, resp3, out)?;
            }
        }
        b',' => {
            let text = format_double(r.f64()?);
            if resp3 {
                out.push(b',');
                out.extend_from_slice(&text);
                out.extend_from_slice(b"\r\n");
            } else {
                bulk(out, &text);
            }
        }
        b'#' => {
            let yes = r.u8()? != 0;
            out.extend_from_slice(match (resp3, yes) {
                (true, true) => b"#t\r\n",
                (true, false) => b"#f\r\n",
                (false, true) => b":1\r\n",
                (false, false) => b":0\r\n",
            });
        }
        b'=' => {
            let format = r.take(3)?;
            let payload = r.bytes()?;
            if resp3 {
                header(out, b'=', payload.len() + 4);
                out.extend_from_slice(format);
                out.push(b':');
                out.extend_from_slice(payload);
                out.extend_from_slice(b"\r\n");
            } else {
                bulk(out, payload);
            }
        }
        _ => return Err(BadReply),
    }
    Ok(())
}

/// `%.17g`, as Redis formats doubles, with `inf`, `-inf` and `nan` spelled as Redis does.
fn format_double(x: f64) -> Vec<u8> {
    if x.is_nan() {
        return b"nan".to_vec();
    }
    if x.is_infinite() {
        return if x > 0.0 {
            b"inf".to_vec()
        } else {
            b"-inf".to_vec()
        };
    }
    let mut buf = [0u8; 64];
    // SAFETY: snprintf writes at most buf.len() bytes, NUL included, from a valid format
    // string and one double argument; the returned length is clamped to the buffer.
    let n = unsafe { libc::snprintf(buf.as_mut_ptr().cast(), buf.len(), c"%.17g".as_ptr(), x) };
    let n = usize::try_from(n).unwrap_or(0).min(buf.len() - 1);
    buf.get(..n).unwrap_or_default().to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;
    use shrike_keyspace::ReplySink;

    fn both(b: &ReplySink) -> (String, String) {
        let mut two = Vec::new();
        let mut three = Vec::new();
        assert!(encode(b.as_bytes(), false, &mut two).is_ok());
        assert!(encode(b.as_bytes(), true, &mut three).is_ok());
        (
            String::from_utf8_lossy(&two).into_owned(),
            String::from_utf8_lossy(&three).into_owned(),
        )
    }

    #[test]
    fn scalars() {
        let mut b = ReplySink::new();
        b.simple(b"OK");
        b.int(-42);
        b.int(i64::MIN);
        b.bulk(b"a\r\nb");
        b.bulk(b"");
        b.error(b"ERR bad\r\nthing");
        let (two, three) = both(&b);
        let want =
            "+OK\r\n:-42\r\n:-9223372036854775808\r\n$4\r\na\r\nb\r\n$0\r\n\r\n-ERR bad  thing\r\n";
        assert_eq!(two, want);
        assert_eq!(three, want);
    }

    #[test]
    fn nulls_and_aggregates_downgrade_for_resp2() {
        let mut b = ReplySink::new();
        b.null();
        b.null_array();
        b.map(1);
        b.bulk(b"k");
        b.int(1);
        b.set(2);
        b.bulk(b"x");
        b.bulk(b"y");
        b.array(0);
        let (two, three) = both(&b);
        assert_eq!(
            two,
            "$-1\r\n*-1\r\n*2\r\n$1\r\nk\r\n:1\r\n*2\r\n$1\r\nx\r\n$1\r\ny\r\n*0\r\n"
        );
        assert_eq!(
            three,
            "_\r\n_\r\n%1\r\n$1\r\nk\r\n:1\r\n~2\r\n$1\r\nx\r\n$1\r\ny\r\n*0\r\n"
        );
    }

    #[test]
    fn doubles_booleans_verbatim() {
        let mut b = ReplySink::new();
        b.double(1.5);
        b.double(0.1);
        b.double(f64::INFINITY);
        b.double(f64::NEG_INFINITY);
        b.double(f64::NAN);
        b.double(-0.0);
        b.double(3.0);
        b.boolean(true);
        b.boolean(false);
        b.verbatim(*b"txt", b"hi");
        let (two, three) = both(&b);
        assert_eq!(
            three,
            ",1.5\r\n,0.10000000000000001\r\n,inf\r\n,-inf\r\n,nan\r\n,-0\r\n,3\r\n#t\r\n#f\r\n=6\r\ntxt:hi\r\n"
        );
        assert_eq!(
            two,
            "$3\r\n1.5\r\n$19\r\n0.10000000000000001\r\n$3\r\ninf\r\n$4\r\n-inf\r\n$3\r\nnan\r\n$2\r\n-0\r\n$1\r\n3\r\n:1\r\n:0\r\n$2\r\nhi\r\n"
        );
    }

    #[test]
    fn truncated_streams_are_errors() {
        let mut b = ReplySink::new();
        b.bulk(b"hello");
        let bytes = b.as_bytes();
        for cut in 1..bytes.len() {
            let mut out = Vec::new();
            assert!(encode(bytes.get(..cut).unwrap_or_default(), true, &mut out).is_err());
        }
        let mut out = Vec::new();
        assert!(encode(b"?", true, &mut out).is_err());
    }
}
