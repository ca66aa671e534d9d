//! WATCH and the lock set of a MULTI/EXEC: what WATCH records of a key, how EXEC checks it
//! under the locks it runs with, and the union lock set of a transaction's commands.
//!
//! Redis marks a watching client dirty when a watched key is touched (`touchWatchedKey`).
//! Here WATCH reads the version of the key's hash slot instead, and EXEC compares it while
//! it holds the key's segment: any write, delete, flush or swap of a key of that slot (in
//! any db) moves it, so EXEC may fail for a write to a neighbour of the key, never miss one.
//! Expiry deletes without moving versions; the key's state (alive, absent, or present but
//! past its TTL) covers it instead, which is how Redis 7.2 treats expiry (`watchedKey.expired`,
//! `isWatchedKeyExpired` in multi.c): a key alive at WATCH that expired by EXEC fails it, and
//! a key already expired at WATCH may be deleted by its expiry without failing it.

use smallvec::SmallVec;

use crate::cmd::{getkeys, sort, Lock, OPS};
use crate::db::key_hash;
use crate::segment::Segment;
use crate::{slot, Keyspace, Tx};

/// A watched key's state as Redis's `keyIsExpired` and `dictFind` see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum KeyState {
    /// Not in the db.
    Absent = 0,
    /// In the db and not past its TTL.
    Alive = 1,
    /// In the db but past its TTL, not yet deleted (Redis's `wk->expired`).
    Stale = 2,
}

impl KeyState {
    /// The state numbered `n` (as `KeyState as u8`); unknown numbers read as `Absent`.
    pub fn from_u8(n: u8) -> KeyState {
        match n {
            1 => KeyState::Alive,
            2 => KeyState::Stale,
            _ => KeyState::Absent,
        }
    }
}

/// What WATCH recorded of a key: its slot's version and its state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WatchMark {
    /// The key's slot version (`Keyspace::key_version`).
    pub version: u64,
    /// Whether the key was there, and alive.
    pub state: KeyState,
}

impl Keyspace {
    /// WATCH key in database `db` at `now_ms`: the key's version and state, read together
    /// under its segment's lock.
    pub fn watch_key(&self, db: u32, key: &[u8], now_ms: i64) -> WatchMark {
        let s = self.segment_of(key);
        let cell = &self.cells[s];
        let seg = cell.lock.lock();
        WatchMark {
            version: cell.version(slot::key_hash_slot(key)),
            state: self.key_state(&seg, db, key, now_ms),
        }
    }

    /// EXEC's check of a key watched with `mark`, under `tx`, which must hold the key's
    /// segment: false when the key's slot was written since, or when the key was alive then
    /// and is gone or past its TTL now (deleted by its expiry, or about to be).
    pub fn watch_intact(
        &self,
        tx: &mut Tx<'_>,
        db: u32,
        key: &[u8],
        mark: WatchMark,
        now_ms: i64,
    ) -> bool {
        let s = self.segment_of(key);
        if self.cells[s].version(slot::key_hash_slot(key)) != mark.version {
            return false;
        }
        mark.state != KeyState::Alive || self.key_state(tx.seg(s), db, key, now_ms) == mark.state
    }

    fn key_state(&self, seg: &Segment, db: u32, key: &[u8], now_ms: i64) -> KeyState {
        let Some(table) = seg.dbs.get(db as usize) else {
            return KeyState::Absent;
        };
        match table.find(key_hash(&self.hasher, key), key) {
            None => KeyState::Absent,
            Some(e) if e.is_expired(now_ms) => KeyState::Stale,
            Some(_) => KeyState::Alive,
        }
    }

    /// The locks a MULTI/EXEC runs under: the union of its commands' keys' segments (as
    /// COMMAND GETKEYS finds them) and of `keys` (the watched ones), or every segment when
    /// one of the commands spans the db.
    pub fn lock_exec<'a>(
        &self,
        cmds: impl IntoIterator<Item = (u16, &'a [&'a [u8]])>,
        keys: impl IntoIterator<Item = &'a [u8]>,
    ) -> Tx<'_> {
        let mut segs: SmallVec<[usize; 8]> = keys.into_iter().map(|k| self.segment_of(k)).collect();
        for (op, argv) in cmds {
            let Some(row) = OPS.get(usize::from(op)) else {
                continue;
            };
            match row.lock {
                Lock::Single(i) => {
                    segs.extend(argv.get(usize::from(i)).map(|k| self.segment_of(k)))
                }
                Lock::Sort if sort::reads_other_keys(argv) => return self.lock_all(),
                Lock::Keys | Lock::Sort => {
                    for k in getkeys::lock_keys(row.spec(), argv) {
                        segs.extend(argv.get(k.pos).map(|k| self.segment_of(k)));
                    }
                }
                Lock::All | Lock::Iter => return self.lock_all(),
                Lock::None => {}
            }
        }
        segs.sort_unstable();
        segs.dedup();
        Tx::lock_sorted(&self.cells, &segs)
    }
}
