//! Where a key lives — its hash slot (which picks its segment and WATCH version) and its
//! table hash — worked out once per key per command. A write locks its key's segment, looks
//! the key up, and reports the change (`Keys::changed`); without this each step hashes the
//! key again (four CRC16s and two table hashes for an RPUSH, 8% of its profile at -P 16).

use crate::db::{key_hash, KeyHasher};
use crate::slot::key_hash_slot;

/// Keys longer than this are located afresh each time: comparing them is no longer cheap
/// next to hashing them, and applications' keys are mostly shorter.
const MAX: usize = 48;

/// The last key located, remembered by content: a different key never matches, wherever its
/// bytes live (SORT and GEO build keys in buffers that come and go at one address).
#[derive(Clone)]
pub(crate) struct KeyMemo {
    /// Length of the remembered key, or `u8::MAX` for none.
    len: u8,
    bytes: [u8; MAX],
    slot: u16,
    /// The table hash, once a lookup asked for it (locking needs only the slot).
    hash: Option<u64>,
}

impl KeyMemo {
    /// A memo that remembers nothing yet.
    pub(crate) const fn new() -> KeyMemo {
        KeyMemo {
            len: u8::MAX,
            bytes: [0; MAX],
            slot: 0,
            hash: None,
        }
    }

    #[inline]
    fn holds(&self, key: &[u8]) -> bool {
        usize::from(self.len) == key.len() && self.bytes.get(..key.len()) == Some(key)
    }

    #[inline]
    fn remember(&mut self, key: &[u8], slot: u16, hash: Option<u64>) {
        match self.bytes.get_mut(..key.len()) {
            Some(dst) => {
                dst.copy_from_slice(key);
                self.len = key.len() as u8;
                self.slot = slot;
                self.hash = hash;
            }
            None => self.len = u8::MAX,
        }
    }

    /// The hash slot of `key`.
    #[inline]
    pub(crate) fn slot(&mut self, key: &[u8]) -> u16 {
        if self.holds(key) {
            return self.slot;
        }
        let slot = key_hash_slot(key);
        self.remember(key, slot, None);
        slot
    }

    /// The hash slot and the table hash of `key`.
    #[inline]
    pub(crate) fn slot_and_hash(&mut self, key: &[u8], hs: &KeyHasher) -> (u16, u64) {
        if self.holds(key) {
            let h = match self.hash {
                Some(h) => h,
                None => {
                    let h = key_hash(hs, key);
                    self.hash = Some(h);
                    h
                }
            };
            return (self.slot, h);
        }
        let (slot, h) = (key_hash_slot(key), key_hash(hs, key));
        self.remember(key, slot, Some(h));
        (slot, h)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_as_the_hashes_do_for_every_key_in_any_order() {
        let hs = KeyHasher::default();
        let long = vec![b'k'; MAX + 5];
        let keys: Vec<&[u8]> = vec![b"a", b"", b"{user}:1", b"b", b"a", &long, &long, b"ab"];
        let mut memo = KeyMemo::new();
        for _ in 0..3 {
            for k in &keys {
                assert_eq!(memo.slot(k), key_hash_slot(k), "slot of {k:?}");
                assert_eq!(
                    memo.slot_and_hash(k, &hs),
                    (key_hash_slot(k), key_hash(&hs, k)),
                    "slot and hash of {k:?}"
                );
            }
        }
    }

    #[test]
    fn a_different_key_in_the_same_buffer_is_located_afresh() {
        let hs = KeyHasher::default();
        let mut memo = KeyMemo::new();
        let mut buf = b"weight_1".to_vec();
        let first = memo.slot_and_hash(&buf, &hs);
        buf[7] = b'2';
        let second = memo.slot_and_hash(&buf, &hs);
        assert_eq!(
            second,
            (key_hash_slot(b"weight_2"), key_hash(&hs, b"weight_2"))
        );
        assert_ne!(first, second);
        // A slot-only location followed by a hash request computes the hash of that key.
        let mut memo = KeyMemo::new();
        memo.slot(b"x");
        assert_eq!(memo.slot_and_hash(b"x", &hs).1, key_hash(&hs, b"x"));
    }
}
