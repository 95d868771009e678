//! A face gallery searched exactly: every template is kept as int8 (for a SIMD scan through
//! `simsimd`) and as floats (for the re-rank). A query scans the int8 vectors, re-ranks the best
//! candidates in float, and — because each vector's quantisation error is known — widens the
//! re-rank until no template outside it could be closer than the k-th answer. Recall is 100 % by
//! construction, not by measurement.
//!
//! Templates belong to owners (a person, a stranger cluster, a watch-list entry); a search answers
//! the best template of each of the k nearest owners, which is what a match and its margin
//! (best owner vs second-best owner) need.

use crate::face::{EMBEDDING_DIM, Embedding};
use simsimd::SpatialSimilarity;
use std::collections::{BinaryHeap, HashMap};

/// Quantisation: value × 256, rounded, clamped to ±127 (dlib components stay well inside ±0.49).
const SCALE: f32 = 256.0;

/// One answer of a search.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Hit {
    /// The template.
    pub key: u64,
    /// Its owner.
    pub owner: u64,
    /// Euclidean distance to the query.
    pub distance: f32,
}

/// Templates searched exactly. Not synchronised: wrap it in a lock to share it.
#[derive(Debug, Default, Clone)]
pub struct Gallery {
    keys: Vec<u64>,
    owners: Vec<u64>,
    quant: Vec<i8>,
    floats: Vec<f32>,
    /// Per template: the norm of its quantisation error, in float units.
    errors: Vec<f32>,
    slots: HashMap<u64, usize>,
}

fn quantise(e: &Embedding) -> ([i8; EMBEDDING_DIM], f32) {
    let mut q = [0i8; EMBEDDING_DIM];
    let mut err = 0f32;
    for (slot, v) in q.iter_mut().zip(e.0.iter()) {
        let x = (v * SCALE).round().clamp(-127.0, 127.0);
        *slot = x as i8;
        let d = v - x / SCALE;
        err += d * d;
    }
    (q, err.sqrt())
}

impl Gallery {
    /// An empty gallery.
    pub fn new() -> Gallery {
        Gallery::default()
    }

    /// How many templates it holds.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Bytes held by the vectors (int8 + float).
    pub fn vector_bytes(&self) -> usize {
        self.quant.len() + self.floats.len() * 4
    }

    /// Adds a template, replacing one with the same key.
    pub fn insert(&mut self, key: u64, owner: u64, embedding: &Embedding) {
        self.remove(key);
        let (q, err) = quantise(embedding);
        self.slots.insert(key, self.keys.len());
        self.keys.push(key);
        self.owners.push(owner);
        self.quant.extend_from_slice(&q);
        self.floats.extend_from_slice(&embedding.0);
        self.errors.push(err);
    }

    /// Removes a template; whether it was there.
    pub fn remove(&mut self, key: u64) -> bool {
        let Some(slot) = self.slots.remove(&key) else {
            return false;
        };
        let last = self.keys.len() - 1;
        if slot != last {
            let moved = self.keys[last];
            self.keys.swap(slot, last);
            self.owners.swap(slot, last);
            self.errors.swap(slot, last);
            for i in 0..EMBEDDING_DIM {
                self.quant
                    .swap(slot * EMBEDDING_DIM + i, last * EMBEDDING_DIM + i);
                self.floats
                    .swap(slot * EMBEDDING_DIM + i, last * EMBEDDING_DIM + i);
            }
            self.slots.insert(moved, slot);
        }
        self.keys.pop();
        self.owners.pop();
        self.errors.pop();
        self.quant.truncate(last * EMBEDDING_DIM);
        self.floats.truncate(last * EMBEDDING_DIM);
        true
    }

    /// Removes every template of an owner; how many.
    pub fn remove_owner(&mut self, owner: u64) -> usize {
        let keys: Vec<u64> = self
            .keys
            .iter()
            .zip(self.owners.iter())
            .filter(|(_, o)| **o == owner)
            .map(|(k, _)| *k)
            .collect();
        keys.iter().filter(|k| self.remove(**k)).count()
    }

    /// Whether an owner has a template here.
    pub fn contains_owner(&self, owner: u64) -> bool {
        self.owners.contains(&owner)
    }

    /// A template's embedding.
    pub fn embedding(&self, key: u64) -> Option<Embedding> {
        let s = *self.slots.get(&key)?;
        let mut v = [0f32; EMBEDDING_DIM];
        v.copy_from_slice(&self.floats[s * EMBEDDING_DIM..(s + 1) * EMBEDDING_DIM]);
        Some(Embedding(v))
    }

    fn float_distance(&self, slot: usize, query: &Embedding) -> f32 {
        let v = &self.floats[slot * EMBEDDING_DIM..(slot + 1) * EMBEDDING_DIM];
        f32::l2sq(v, &query.0).unwrap_or(f64::INFINITY).max(0.0).sqrt() as f32
    }

    /// The k nearest owners (each with its closest template), nearest first — exact.
    pub fn search(&self, query: &Embedding, k: usize) -> Vec<Hit> {
        if k == 0 || self.is_empty() {
            return Vec::new();
        }
        let (q, query_error) = quantise(query);
        // Squared int8 distances, in quantised units.
        let coarse: Vec<f32> = self
            .quant
            .chunks_exact(EMBEDDING_DIM)
            .map(|v| i8::l2sq(v, &q).unwrap_or(f64::INFINITY) as f32)
            .collect();
        let max_error = self.errors.iter().copied().fold(0f32, f32::max);
        // Any template's true distance is within `slack` of its coarse distance.
        let slack = query_error + max_error;

        // The best `want` templates by coarse distance (several templates may share an owner).
        let mut want = (k * 8).max(64).min(self.len());
        loop {
            let mut heap: BinaryHeap<(u32, usize)> = BinaryHeap::with_capacity(want + 1);
            for (i, d) in coarse.iter().enumerate() {
                let bits = d.to_bits(); // non-negative floats order like their bits
                if heap.len() < want {
                    heap.push((bits, i));
                } else if heap.peek().is_some_and(|&(top, _)| bits < top) {
                    heap.pop();
                    heap.push((bits, i));
                }
            }
            let boundary = heap.peek().map(|&(b, _)| f32::from_bits(b).sqrt() / SCALE);
            let mut best: HashMap<u64, Hit> = HashMap::new();
            for (_, i) in heap.into_iter() {
                let hit = Hit {
                    key: self.keys[i],
                    owner: self.owners[i],
                    distance: self.float_distance(i, query),
                };
                best.entry(hit.owner)
                    .and_modify(|h| {
                        if hit.distance < h.distance {
                            *h = hit;
                        }
                    })
                    .or_insert(hit);
            }
            let mut hits: Vec<Hit> = best.into_values().collect();
            hits.sort_by(|a, b| a.distance.total_cmp(&b.distance).then(a.key.cmp(&b.key)));
            hits.truncate(k);
            // Exact when every template left out is provably farther than the k-th answer (or
            // nothing was left out).
            let kth = if hits.len() == k {
                hits[k - 1].distance
            } else {
                f32::INFINITY
            };
            if want >= self.len() || boundary.is_some_and(|b| b - slack >= kth) {
                return hits;
            }
            want = (want * 4).min(self.len());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vector(seed: u64) -> Embedding {
        // A deterministic pseudo-random vector of dlib-like scale (norm ~1).
        let mut s = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let mut v = [0f32; EMBEDDING_DIM];
        for x in v.iter_mut() {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            *x = ((s >> 33) as f32 / (1u64 << 31) as f32 - 0.5) * 0.3;
        }
        Embedding(v)
    }

    fn brute(g: &[(u64, u64, Embedding)], q: &Embedding, k: usize) -> Vec<u64> {
        let mut best: HashMap<u64, (f32, u64)> = HashMap::new();
        for (key, owner, e) in g {
            let d = e.distance(q);
            let entry = best.entry(*owner).or_insert((d, *key));
            if d < entry.0 {
                *entry = (d, *key);
            }
        }
        let mut v: Vec<(f32, u64)> = best.into_values().collect();
        v.sort_by(|a, b| a.0.total_cmp(&b.0));
        v.into_iter().take(k).map(|(_, key)| key).collect()
    }

    #[test]
    fn search_equals_the_exact_scan() {
        let mut g = Gallery::new();
        let mut all = Vec::new();
        for key in 0..3000u64 {
            let e = vector(key);
            g.insert(key, key / 3, &e);
            all.push((key, key / 3, e));
        }
        for probe in 0..50u64 {
            let q = vector(10_000 + probe);
            let got: Vec<u64> = g.search(&q, 10).iter().map(|h| h.key).collect();
            assert_eq!(got, brute(&all, &q, 10));
        }
        // A template's own vector finds it at distance ~0.
        let hit = g.search(&vector(42), 1)[0];
        assert_eq!((hit.key, hit.owner), (42, 14));
        assert!(hit.distance < 1e-5);
    }

    #[test]
    fn removal_is_incremental() {
        let mut g = Gallery::new();
        for key in 0..10u64 {
            g.insert(key, key, &vector(key));
        }
        assert!(g.remove(3));
        assert!(!g.remove(3));
        assert_eq!(g.len(), 9);
        assert!(g.search(&vector(3), 9).iter().all(|h| h.key != 3));
        assert_eq!(g.search(&vector(9), 1)[0].key, 9);
        assert_eq!(g.embedding(9), Some(vector(9)));
        g.insert(20, 7, &vector(20));
        assert_eq!(g.remove_owner(7), 2);
        assert_eq!(g.len(), 8);
    }
}
