//! Redis glob patterns (KEYS, SCAN MATCH, later PSUBSCRIBE): a line-by-line port of
//! `stringmatchlen` from Redis's `util.c`.
//!
//! Supported: `*`, `?`, `[abc]`, `[^abc]`, `[a-z]` (reversed ranges allowed), `\x` escapes,
//! and Redis's quirks at the edges (an unterminated `[` matches what it has seen). The C code
//! reads the NUL terminator of its sds pattern in a few look-aheads; `at()` returns 0 past the
//! end to read the same thing.

/// True when `string` matches the glob `pattern` (case-sensitive unless `nocase`).
pub fn matches(pattern: &[u8], string: &[u8], nocase: bool) -> bool {
    let mut skip_longer = false;
    match_impl(pattern, 0, string, 0, nocase, &mut skip_longer, 0)
}

fn at(p: &[u8], i: usize) -> u8 {
    p.get(i).copied().unwrap_or(0)
}

fn lower(b: u8) -> u8 {
    b.to_ascii_lowercase()
}

fn match_impl(
    pat: &[u8],
    mut pi: usize,
    s: &[u8],
    mut si: usize,
    nocase: bool,
    skip_longer: &mut bool,
    nesting: u32,
) -> bool {
    // Protection against abusive patterns, as in Redis.
    if nesting > 1000 {
        return false;
    }
    let mut plen = pat.len() as isize - pi as isize;
    let mut slen = s.len() - si;
    while plen > 0 && slen > 0 {
        match at(pat, pi) {
            b'*' => {
                while plen > 0 && at(pat, pi + 1) == b'*' {
                    pi += 1;
                    plen -= 1;
                }
                if plen == 1 {
                    return true;
                }
                while slen > 0 {
                    if match_impl(pat, pi + 1, s, si, nocase, skip_longer, nesting + 1) {
                        return true;
                    }
                    // A later `*` already failed on every suffix: a longer match here cannot
                    // help (Redis's skipLongerMatches, which keeps `a*a*a*...b` linear).
                    if *skip_longer {
                        return false;
                    }
                    si += 1;
                    slen -= 1;
                }
                *skip_longer = true;
                return false;
            }
            b'?' => {
                si += 1;
                slen -= 1;
            }
            b'[' => {
                pi += 1;
                plen -= 1;
                let not = at(pat, pi) == b'^';
                if not {
                    pi += 1;
                    plen -= 1;
                }
                let mut matched = false;
                let c = s[si];
                loop {
                    if at(pat, pi) == b'\\' && plen >= 2 {
                        pi += 1;
                        plen -= 1;
                        if at(pat, pi) == c {
                            matched = true;
                        }
                    } else if at(pat, pi) == b']' {
                        break;
                    } else if plen == 0 {
                        // Unterminated class: step back so the shared advance below ends
                        // exactly at the pattern's end, as the C code does.
                        pi -= 1;
                        plen += 1;
                        break;
                    } else if plen >= 3 && at(pat, pi + 1) == b'-' {
                        let mut start = at(pat, pi);
                        let mut end = at(pat, pi + 2);
                        let mut ch = c;
                        if start > end {
                            std::mem::swap(&mut start, &mut end);
                        }
                        if nocase {
                            start = lower(start);
                            end = lower(end);
                            ch = lower(ch);
                        }
                        pi += 2;
                        plen -= 2;
                        if ch >= start && ch <= end {
                            matched = true;
                        }
                    } else if !nocase {
                        if at(pat, pi) == c {
                            matched = true;
                        }
                    } else if lower(at(pat, pi)) == lower(c) {
                        matched = true;
                    }
                    pi += 1;
                    plen -= 1;
                }
                if not {
                    matched = !matched;
                }
                if !matched {
                    return false;
                }
                si += 1;
                slen -= 1;
            }
            first => {
                let mut p0 = first;
                if first == b'\\' && plen >= 2 {
                    pi += 1;
                    plen -= 1;
                    p0 = at(pat, pi);
                }
                let equal = if nocase {
                    lower(p0) == lower(s[si])
                } else {
                    p0 == s[si]
                };
                if !equal {
                    return false;
                }
                si += 1;
                slen -= 1;
            }
        }
        pi += 1;
        plen -= 1;
        if slen == 0 {
            while at(pat, pi) == b'*' && plen > 0 {
                pi += 1;
                plen -= 1;
            }
            break;
        }
    }
    plen == 0 && slen == 0
}

#[cfg(test)]
mod tests {
    use super::matches;

    fn m(p: &str, s: &str) -> bool {
        matches(p.as_bytes(), s.as_bytes(), false)
    }

    #[test]
    fn basics() {
        // Redis's quirk: "*" does not match the empty string (KEYS special-cases "*").
        assert!(!m("*", ""));
        assert!(m("*", "anything"));
        assert!(m("h?llo", "hello"));
        assert!(!m("h?llo", "hllo"));
        assert!(m("h*llo", "hllo"));
        assert!(m("h*llo", "heeeello"));
        assert!(m("h[ae]llo", "hallo"));
        assert!(!m("h[ae]llo", "hillo"));
        assert!(m("h[^e]llo", "hallo"));
        assert!(!m("h[^e]llo", "hello"));
        assert!(m("h[a-b]llo", "hbllo"));
        assert!(m("h[b-a]llo", "hallo"));
        assert!(!m("h[a-b]llo", "hcllo"));
        assert!(m("a\\*b", "a*b"));
        assert!(!m("a\\*b", "axb"));
        assert!(m("[\\]]", "]"));
        assert!(m("key:*", "key:1"));
        assert!(!m("key:*", "kez:1"));
        assert!(!m("", "a"));
        assert!(m("", ""));
        assert!(m("a**", "a"));
        assert!(m("*a*", "banana"));
    }

    #[test]
    fn redis_edge_cases() {
        // Unterminated class matches what it has seen.
        assert!(m("[abc", "a"));
        assert!(!m("[abc", "d"));
        // Trailing backslash is a literal backslash.
        assert!(m("a\\", "a\\"));
        // `[` as the last pattern byte: an empty class that never matches... unless negated.
        assert!(!m("[", "a"));
        assert!(m("[^", "a"));
        assert!(matches(b"H*", b"hello", true));
        assert!(matches(b"[A-C]x", b"bx", true));
    }

    #[test]
    fn abusive_pattern_is_fast() {
        let pat = "a*".repeat(30) + "b";
        let s = "a".repeat(60);
        let t = std::time::Instant::now();
        assert!(!m(&pat, &s));
        assert!(t.elapsed().as_millis() < 500);
    }

    #[test]
    fn binary_bytes() {
        assert!(matches(b"\x00*\xff", b"\x00abc\xff", false));
        assert!(matches(b"?", b"\x00", false));
    }
}
