//! Redis Cluster hash slots: CRC16 (XMODEM) of a key, or of its `{hash tag}`, mod 16384.
//!
//! Every key lives in the segment of its slot, so keys sharing a hash tag share a segment
//! (one lock), and cluster mode later is a matter of slot ownership, not a redesign.
//! This is `keyHashSlot` from Redis's `cluster.c` and `crc16` from `crc16.c`, bit for bit.

/// Number of hash slots of Redis Cluster.
pub const SLOTS: usize = 16384;

/// CRC16-XMODEM table (poly 0x1021, init 0, no reflection), built at compile time.
const CRC16_TABLE: [u16; 256] = {
    let mut table = [0u16; 256];
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
        table[i] = crc;
        i += 1;
    }
    table
};

/// CRC16-XMODEM of `bytes` (Redis's `crc16`).
pub fn crc16(bytes: &[u8]) -> u16 {
    let mut crc: u16 = 0;
    for &b in bytes {
        crc = (crc << 8) ^ CRC16_TABLE[usize::from(((crc >> 8) as u8) ^ b)];
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
