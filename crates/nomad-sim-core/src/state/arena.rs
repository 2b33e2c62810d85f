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
/// A slot holds its generation beside its value, so resolving an identifier reads one place
/// (one cache line, or two when the slot straddles them), not two tables: on a large cluster
/// each of those reads is a miss. For the state's types, whose enums leave a niche, a slot
/// takes four bytes more than `T`: 44 for a 40-byte [`Alloc`](super::model::Alloc).
#[derive(Clone, Debug)]
pub struct Arena<I, T> {
    slots: Vec<Slot<T>>,
    free: Vec<u32>,
    len: usize,
    _id: PhantomData<I>,
}

/// A slot of an arena: the generation of its current or next object, and the object.
#[derive(Clone, Debug)]
struct Slot<T> {
    generation: u32,
    value: Option<T>,
}

impl<I, T> Default for Arena<I, T> {
    fn default() -> Self {
        Arena {
            slots: Vec::new(),
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
                let s = &mut self.slots[slot as usize];
                debug_assert!(s.value.is_none(), "a free slot is empty");
                s.value = Some(value);
                I::from_parts(slot, s.generation)
            }
            None => {
                let slot = u32::try_from(self.slots.len()).expect("fewer than 2^32 live objects");
                self.slots.push(Slot {
                    generation: 0,
                    value: Some(value),
                });
                I::from_parts(slot, 0)
            }
        }
    }

    /// Removes the object; its identifier no longer resolves.
    pub fn remove(&mut self, id: I) -> T {
        let s = &mut self.slots[id.slot()];
        assert_eq!(s.generation, id.generation(), "removing a collected object");
        let value = s.value.take().expect("removing a live object");
        s.generation = (s.generation + 1) & ((1 << GENERATION_BITS) - 1);
        self.free.push(id.slot() as u32);
        self.len -= 1;
        value
    }

    /// Frees an object where it lies: [`Arena::remove`] without moving it out first (a job
    /// is over 200 bytes, and the garbage collector drops every one it frees).
    pub fn delete(&mut self, id: I) {
        let s = &mut self.slots[id.slot()];
        assert_eq!(s.generation, id.generation(), "deleting a collected object");
        assert!(s.value.is_some(), "deleting an empty slot");
        s.value = None;
        s.generation = (s.generation + 1) & ((1 << GENERATION_BITS) - 1);
        self.free.push(id.slot() as u32);
        self.len -= 1;
    }

    /// Starts loading the identifier's slot into the cache, without waiting (a hint that
    /// reads nothing: see `crate::prefetch`).
    #[inline]
    pub fn prefetch(&self, id: I) {
        if let Some(s) = self.slots.get(id.slot()) {
            crate::prefetch::prefetch(s);
        }
    }

    /// The slot's object, if the identifier's generation is the slot's.
    fn current(&self, id: I) -> Option<&Option<T>> {
        let s = self.slots.get(id.slot())?;
        (s.generation == id.generation()).then_some(&s.value)
    }

    /// The object, if the identifier still resolves.
    pub fn get(&self, id: I) -> Option<&T> {
        self.current(id)?.as_ref()
    }

    /// The object in `slot` and its identifier, if the slot is occupied.
    pub fn at_slot(&self, slot: u32) -> Option<(I, &T)> {
        let s = self.slots.get(slot as usize)?;
        Some((I::from_parts(slot, s.generation), s.value.as_ref()?))
    }

    /// The identifier of the object in `slot`, which must be occupied.
    pub fn id_at(&self, slot: u32) -> I {
        let s = &self.slots[slot as usize];
        debug_assert!(s.value.is_some(), "an occupied slot");
        I::from_parts(slot, s.generation)
    }

    /// The object, mutably, if the identifier still resolves.
    pub fn get_mut(&mut self, id: I) -> Option<&mut T> {
        let s = self.slots.get_mut(id.slot())?;
        if s.generation != id.generation() {
            return None;
        }
        s.value.as_mut()
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
        self.slots.iter().enumerate().filter_map(|(i, s)| {
            s.value
                .as_ref()
                .map(|v| (I::from_parts(i as u32, s.generation), v))
        })
    }
}

impl<I: ArenaId, T> Index<I> for Arena<I, T> {
    type Output = T;
    fn index(&self, id: I) -> &T {
        self.current(id)
            .expect("a collected object was read")
            .as_ref()
            .expect("a live object")
    }
}

impl<I: ArenaId, T> IndexMut<I> for Arena<I, T> {
    fn index_mut(&mut self, id: I) -> &mut T {
        let s = &mut self.slots[id.slot()];
        assert_eq!(
            s.generation,
            id.generation(),
            "a collected object was written"
        );
        s.value.as_mut().expect("a live object")
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
    fn delete_frees_in_place_as_remove_does() {
        let mut arena: Arena<AllocId, String> = Arena::default();
        let a = arena.insert("a".to_string());
        let b = arena.insert("b".to_string());
        arena.delete(a);
        assert!(arena.get(a).is_none());
        assert_eq!(arena.len(), 1);
        let c = arena.insert("c".to_string());
        assert_eq!(c.slot(), a.slot(), "the freed slot is reused");
        assert!(
            arena.get(a).is_none(),
            "the old id does not reach the new object"
        );
        assert_eq!(arena[c], "c");
        assert_eq!(arena[b], "b");
    }

    #[test]
    #[should_panic(expected = "deleting a collected object")]
    fn deleting_twice_panics() {
        let mut arena: Arena<AllocId, u32> = Arena::default();
        let a = arena.insert(1);
        arena.delete(a);
        arena.delete(a);
    }

    #[test]
    fn an_alloc_slot_takes_44_bytes() {
        // C2M keeps two million allocs live: each byte of a slot is 2 MB at its peak.
        assert_eq!(std::mem::size_of::<Slot<crate::state::model::Alloc>>(), 44);
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
