//! Arenas with typed, generational identifiers: slots of collected objects are reused.

use std::marker::PhantomData;
use std::ops::{Index, IndexMut};

use crate::ids::ArenaId;

/// Generations wrap within this many bits, so an identifier and a flag fit in an event's
/// 8-byte payload. A stale identifier could resolve again only after its slot was reused
/// 2^31 times while the identifier waited.
pub const GENERATION_BITS: u32 = 31;

/// A table of objects addressed by typed identifiers. Removing an object frees its slot for
/// the next insert and bumps the slot's generation, so old identifiers stop resolving.
///
/// Generations live beside the values rather than in them, so a slot takes exactly the size
/// of `Option<T>` (the size of `T` for the state's types, whose enums leave a niche).
#[derive(Clone, Debug)]
pub struct Arena<I, T> {
    values: Vec<Option<T>>,
    generations: Vec<u32>,
    free: Vec<u32>,
    len: usize,
    _id: PhantomData<I>,
}

impl<I, T> Default for Arena<I, T> {
    fn default() -> Self {
        Arena {
            values: Vec::new(),
            generations: Vec::new(),
            free: Vec::new(),
            len: 0,
            _id: PhantomData,
        }
    }
}

impl<I: ArenaId, T> Arena<I, T> {
    /// Stores `value` and returns its identifier; a freed slot is reused first (last freed first).
    pub fn insert(&mut self, value: T) -> I {
        self.len += 1;
        match self.free.pop() {
            Some(slot) => {
                let v = &mut self.values[slot as usize];
                debug_assert!(v.is_none(), "a free slot is empty");
                *v = Some(value);
                I::from_parts(slot, self.generations[slot as usize])
            }
            None => {
                let slot = u32::try_from(self.values.len()).expect("fewer than 2^32 live objects");
                self.values.push(Some(value));
                self.generations.push(0);
                I::from_parts(slot, 0)
            }
        }
    }

    /// Removes the object; its identifier no longer resolves.
    pub fn remove(&mut self, id: I) -> T {
        let slot = id.slot();
        assert_eq!(
            self.generations[slot],
            id.generation(),
            "removing a collected object"
        );
        let value = self.values[slot].take().expect("removing a live object");
        self.generations[slot] = (self.generations[slot] + 1) & ((1 << GENERATION_BITS) - 1);
        self.free.push(slot as u32);
        self.len -= 1;
        value
    }

    /// True when the identifier's generation is the slot's.
    fn current(&self, id: I) -> bool {
        self.generations.get(id.slot()) == Some(&id.generation())
    }

    /// The object, if the identifier still resolves.
    pub fn get(&self, id: I) -> Option<&T> {
        if !self.current(id) {
            return None;
        }
        self.values[id.slot()].as_ref()
    }

    /// The object in `slot` and its identifier, if the slot is occupied.
    pub fn at_slot(&self, slot: u32) -> Option<(I, &T)> {
        let value = self.values.get(slot as usize)?.as_ref()?;
        Some((I::from_parts(slot, self.generations[slot as usize]), value))
    }

    /// The identifier of the object in `slot`, which must be occupied.
    pub fn id_at(&self, slot: u32) -> I {
        debug_assert!(self.values[slot as usize].is_some(), "an occupied slot");
        I::from_parts(slot, self.generations[slot as usize])
    }

    /// The object, mutably, if the identifier still resolves.
    pub fn get_mut(&mut self, id: I) -> Option<&mut T> {
        if !self.current(id) {
            return None;
        }
        self.values[id.slot()].as_mut()
    }

    /// True while the identifier resolves.
    pub fn contains(&self, id: I) -> bool {
        self.get(id).is_some()
    }

    /// Live objects.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when nothing is stored.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Live objects with their identifiers, in slot order (not creation order).
    pub fn iter(&self) -> impl Iterator<Item = (I, &T)> {
        self.values
            .iter()
            .zip(&self.generations)
            .enumerate()
            .filter_map(|(i, (v, &g))| v.as_ref().map(|v| (I::from_parts(i as u32, g), v)))
    }
}

impl<I: ArenaId, T> Index<I> for Arena<I, T> {
    type Output = T;
    fn index(&self, id: I) -> &T {
        assert!(self.current(id), "a collected object was read");
        self.values[id.slot()].as_ref().expect("a live object")
    }
}

impl<I: ArenaId, T> IndexMut<I> for Arena<I, T> {
    fn index_mut(&mut self, id: I) -> &mut T {
        assert!(self.current(id), "a collected object was written");
        self.values[id.slot()].as_mut().expect("a live object")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::AllocId;

    #[test]
    fn slots_are_reused_and_old_ids_stop_resolving() {
        let mut arena: Arena<AllocId, &str> = Arena::default();
        let a = arena.insert("a");
        let b = arena.insert("b");
        assert_eq!(arena.remove(a), "a");
        assert!(arena.get(a).is_none());
        let c = arena.insert("c");
        assert_eq!(c.slot(), a.slot(), "the freed slot is reused");
        assert_ne!(c, a);
        assert!(
            arena.get(a).is_none(),
            "the old id does not reach the new object"
        );
        assert_eq!(arena[c], "c");
        assert_eq!(arena[b], "b");
        assert_eq!(arena.len(), 2);
        let live: Vec<_> = arena.iter().map(|(_, v)| *v).collect();
        assert_eq!(live, vec!["c", "b"]);
    }

    #[test]
    #[should_panic(expected = "a collected object was read")]
    fn reading_a_collected_object_panics() {
        let mut arena: Arena<AllocId, u32> = Arena::default();
        let a = arena.insert(1);
        arena.remove(a);
        arena.insert(2);
        let _ = arena[a];
    }
}
