//! Redis Cluster hash slots: CRC16 (XMODEM) of a key, or of its `{hash tag}`, mod 16384.
//!
//! Every key lives in the segment of its slot, so keys sharing a hash tag share a segment
//! (one lock), and cluster mode later is a matter of slot ownership, not a redesign.
//! This is `keyHashSlot` from Redis's `cluster.c` and `crc16` from `crc16.c`, bit for bit.

/// Number of hash slots of Redis Cluster.
pub const SLOTS: usize = 16384;

/// CRC16-XMODEM tables for slice-by-8: `TABLES[k][x]` is the CRC of byte `x` followed by
/// `k` zero bytes. `TABLES[0]` is Redis's `crc16tab`. Eight bytes per step instead of one
/// matters because every command hashes every key it touches.
const TABLES: [[u16; 256]; 8] = {
    let mut t = [[0u16; 256]; 8];
    let mut i = 0;
    while i < 256 {
        let mut crc = (i as u16) << 8;
        let mut bit = 0;
        while bit < 8 {
            crc = if crc & 0x8000 != 0 {
                (crc << 1) ^ 0x1021
            } else {
                crc << 1
            };
            bit += 1;
        }
        t[0][i] = crc;
        i += 1;
    }
    let mut k = 1;
    while k < 8 {
        let mut i = 0;
        while i < 256 {
            // One more zero byte after the CRC in t[k-1][i].
            let c = t[k - 1][i];
            t[k][i] = (c << 8) ^ t[0][(c >> 8) as usize];
            i += 1;
        }
        k += 1;
    }
    t
};

/// CRC16-XMODEM of `bytes` (Redis's `crc16`).
pub fn crc16(bytes: &[u8]) -> u16 {
    let t = &TABLES;
    let mut crc: u16 = 0;
    let mut chunks = bytes.chunks_exact(8);
    for c in &mut chunks {
        // The CRC is linear: the state's two bytes fold into the first two input bytes, and
        // each byte's contribution is looked up for its distance from the end.
        let [h, l] = crc.to_be_bytes();
        crc = t[7][usize::from(h ^ c[0])]
            ^ t[6][usize::from(l ^ c[1])]
            ^ t[5][usize::from(c[2])]
            ^ t[4][usize::from(c[3])]
            ^ t[3][usize::from(c[4])]
            ^ t[2][usize::from(c[5])]
            ^ t[1][usize::from(c[6])]
            ^ t[0][usize::from(c[7])];
    }
    for &b in chunks.remainder() {
        crc = (crc << 8) ^ t[0][usize::from(((crc >> 8) as u8) ^ b)];
    }
    crc
}

/// The part of `key` that is hashed: the text between the first `{` and the next `}` when that
/// is non-empty, else the whole key.
pub fn hash_tag(key: &[u8]) -> &[u8] {
    if let Some(s) = key.iter().position(|&b| b == b'{') {
        if let Some(len) = key[s + 1..].iter().position(|&b| b == b'}') {
            if len > 0 {
                return &key[s + 1..s + 1 + len];
            }
        }
    }
    key
}

/// The cluster hash slot of `key`, in `0..16384`.
pub fn key_hash_slot(key: &[u8]) -> u16 {
    crc16(hash_tag(key)) & 0x3FFF
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The textbook one-byte-at-a-time CRC, to check the sliced one against.
    fn crc16_bytewise(bytes: &[u8]) -> u16 {
        let mut crc: u16 = 0;
        for &b in bytes {
            crc ^= u16::from(b) << 8;
            for _ in 0..8 {
                crc = if crc & 0x8000 != 0 {
                    (crc << 1) ^ 0x1021
                } else {
                    crc << 1
                };
            }
        }
        crc
    }

    #[test]
    fn sliced_crc_equals_bytewise() {
        let mut x: u32 = 1;
        let mut buf = Vec::new();
        for len in 0..100 {
            buf.clear();
            for _ in 0..len {
                x = x.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                buf.push((x >> 24) as u8);
            }
            assert_eq!(crc16(&buf), crc16_bytewise(&buf), "len {len}");
        }
    }

    #[test]
    fn crc16_check_value() {
        // The XMODEM check value, also quoted in Redis's crc16.c.
        assert_eq!(crc16(b"123456789"), 0x31C3);
        assert_eq!(crc16(b""), 0);
    }

    #[test]
    fn slots_match_redis_cluster_keyslot() {
        // Values from `CLUSTER KEYSLOT` on Redis 7.
        assert_eq!(key_hash_slot(b"foo"), 12182);
        assert_eq!(key_hash_slot(b"bar"), 5061);
        assert_eq!(key_hash_slot(b"key"), 12539);
        assert_eq!(key_hash_slot(b""), 0);
    }

    #[test]
    fn hash_tags() {
        assert_eq!(hash_tag(b"{user1000}.following"), b"user1000");
        assert_eq!(
            key_hash_slot(b"{user1000}.following"),
            key_hash_slot(b"{user1000}.followers")
        );
        // Empty tag or no closing brace: the whole key is hashed.
        assert_eq!(hash_tag(b"foo{}{bar}"), b"foo{}{bar}");
        assert_eq!(hash_tag(b"foo{bar"), b"foo{bar");
        // Only the first `{` counts, and the first `}` after it.
        assert_eq!(hash_tag(b"foo{{bar}}zap"), b"{bar");
        assert_eq!(hash_tag(b"foo{bar}{zap}"), b"bar");
    }
}
