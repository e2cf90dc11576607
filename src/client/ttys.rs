//! What the client has learned of containers' TTYs, by full ID.
//!
//! Below API 1.42 the format of a container's output (stdcopy frames, or a
//! TTY's raw bytes) is not in the response's headers: it is the container's
//! `Config.Tty`, which `logs` and `attach` otherwise ask with an inspect.
//! `Config.Tty` is fixed when the container is created and a container ID
//! is never given to another container, so what an inspect said for a full
//! 64-hex ID stays true: later calls with that ID need no inspect. A name
//! or a short ID prefix is never looked up here (a name can move to another
//! container; a prefix can become ambiguous), though the inspect made for
//! one teaches the cache the full ID it resolved to.
//!
//! Bounded: past [`MAX_KNOWN`] entries the cache starts again empty.

use std::collections::HashMap;
use std::sync::Mutex;

/// The most container IDs remembered (32 bytes and a flag each).
const MAX_KNOWN: usize = 4096;

/// A full container ID, decoded from its 64 lower-case hex digits.
type FullId = [u8; 32];

/// Container TTYs by full ID (see the module docs).
#[derive(Default)]
pub(crate) struct TtyCache {
    known: Mutex<HashMap<FullId, bool>>,
}

/// `id` as a full container ID: exactly 64 lower-case hex digits (as the
/// daemon hands them out); anything else (a name, a prefix, upper case) is
/// `None`.
fn full_id(id: &str) -> Option<FullId> {
    let b = id.as_bytes();
    if b.len() != 64 {
        return None;
    }
    let digit = |c: u8| match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        _ => None,
    };
    let mut out = [0u8; 32];
    for (o, pair) in out.iter_mut().zip(b.chunks_exact(2)) {
        *o = (digit(pair[0])? << 4) | digit(pair[1])?;
    }
    Some(out)
}

impl TtyCache {
    /// The TTY of container `id`, if `id` is a full ID an inspect answered
    /// for before.
    pub(crate) fn get(&self, id: &str) -> Option<bool> {
        let key = full_id(id)?;
        let known = self.known.lock().unwrap_or_else(|e| e.into_inner());
        known.get(&key).copied()
    }

    /// Remembers what an inspect said: container `id` (its full ID, as the
    /// answer's `Id` gives it; anything else is ignored) has a TTY or not.
    pub(crate) fn learn(&self, id: &str, tty: bool) {
        let Some(key) = full_id(id) else { return };
        let mut known = self.known.lock().unwrap_or_else(|e| e.into_inner());
        if known.len() >= MAX_KNOWN && !known.contains_key(&key) {
            known.clear();
        }
        known.insert(key, tty);
    }

    /// Forgets container `id` (a full ID; anything else is ignored): called
    /// when this client removes it, so that a container later *named* with
    /// that ID is inspected, not taken for the removed one.
    pub(crate) fn forget(&self, id: &str) {
        let Some(key) = full_id(id) else { return };
        let mut known = self.known.lock().unwrap_or_else(|e| e.into_inner());
        known.remove(&key);
    }
}

#[cfg(test)]
mod tests {
    use super::{full_id, TtyCache, MAX_KNOWN};

    const ID: &str = "e018b146e1a6e7c9b5c4d3f2a1b0c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2";

    #[test]
    fn a_removed_id_is_forgotten() {
        let c = TtyCache::default();
        c.learn(ID, true);
        assert_eq!(c.get(ID), Some(true));
        c.forget("some-name");
        assert_eq!(c.get(ID), Some(true));
        c.forget(ID);
        assert_eq!(c.get(ID), None);
    }

    #[test]
    fn only_full_lower_case_ids() {
        assert!(full_id(ID).is_some());
        assert_eq!(full_id(ID).unwrap()[0], 0xe0);
        assert!(full_id(&ID[..12]).is_none(), "a prefix");
        assert!(full_id(&ID.to_uppercase()).is_none());
        assert!(full_id(&format!("{}g", &ID[..63])).is_none());
        assert!(full_id("web").is_none());
        assert!(full_id(&format!("/{}", &ID[..63])).is_none());
    }

    #[test]
    fn learned_by_full_id_only() {
        let c = TtyCache::default();
        assert_eq!(c.get(ID), None);
        c.learn("web", true); // a name teaches nothing
        c.learn(&ID[..12], true);
        assert_eq!(c.get(ID), None);
        assert_eq!(c.get("web"), None);
        c.learn(ID, true);
        assert_eq!(c.get(ID), Some(true));
        assert_eq!(c.get(&ID[..12]), None, "a prefix is never looked up");
        let other = ID.replace('e', "0");
        c.learn(&other, false);
        assert_eq!(c.get(&other), Some(false));
        assert_eq!(c.get(ID), Some(true));
    }

    #[test]
    fn bounded() {
        let c = TtyCache::default();
        for i in 0..MAX_KNOWN + 10 {
            c.learn(&format!("{i:064x}"), true);
        }
        let n = c.known.lock().unwrap().len();
        assert!(n <= MAX_KNOWN && n > 0, "{n}");
        assert_eq!(c.get(&format!("{:064x}", MAX_KNOWN + 9)), Some(true));
    }
}
