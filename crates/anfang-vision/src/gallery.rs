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
use crate::kernel;
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
    /// ‖q‖² of each int8 vector (for the kernel).
    norms: Vec<i32>,
    floats: Vec<f32>,
    /// The largest quantisation error (norm, float units) of any template ever held: an upper
    /// bound, so removals need not recompute it.
    max_error: f32,
    slots: HashMap<u64, usize>,
}

pub(crate) fn quantise(e: &Embedding) -> ([i8; EMBEDDING_DIM], f32) {
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

    /// Bytes held by the vectors (int8 + norms + float).
    pub fn vector_bytes(&self) -> usize {
        self.quant.len() + self.norms.len() * 4 + self.floats.len() * 4
    }

    /// Adds a template, replacing one with the same key.
    pub fn insert(&mut self, key: u64, owner: u64, embedding: &Embedding) {
        self.remove(key);
        let (q, err) = quantise(embedding);
        self.slots.insert(key, self.keys.len());
        self.keys.push(key);
        self.owners.push(owner);
        self.quant.extend_from_slice(&q);
        self.norms.push(kernel::norm(&q));
        self.floats.extend_from_slice(&embedding.0);
        self.max_error = self.max_error.max(err);
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
            self.norms.swap(slot, last);
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
        self.norms.pop();
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

    /// Every template as (key, owner, embedding).
    pub fn templates(&self) -> impl ExactSizeIterator<Item = (u64, u64, Embedding)> + Clone + '_ {
        self.keys.iter().zip(&self.owners).enumerate().map(|(i, (k, o))| {
            let mut v = [0f32; EMBEDDING_DIM];
            v.copy_from_slice(&self.floats[i * EMBEDDING_DIM..(i + 1) * EMBEDDING_DIM]);
            (*k, *o, Embedding(v))
        })
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
        // Any template's true distance is within `slack` of its coarse distance.
        let slack = query_error + self.max_error;
        COARSE.with_borrow_mut(|coarse| {
            // One scan: squared int8 distances.
            coarse.clear();
            kernel::l2sq_all(&self.quant, &self.norms, &q, coarse);
            let mut want = (k * 8).max(64).min(self.len());
            loop {
                let (candidates, boundary) = nearest(coarse, want);
                let hits = best_owners(
                    candidates.into_iter().map(|slot| Hit {
                        key: self.keys[slot],
                        owner: self.owners[slot],
                        distance: self.float_distance(slot, query),
                    }),
                    k,
                );
                // Exact when every template left out is provably farther than the k-th answer
                // (or nothing was left out).
                let kth = if hits.len() == k {
                    hits[k - 1].distance
                } else {
                    f32::INFINITY
                };
                if want >= self.len() || boundary - slack >= kth {
                    return hits;
                }
                want = (want * 4).min(self.len());
            }
        })
    }
}

thread_local! {
    /// The scan's distances, kept between searches on a thread (no allocation per query).
    pub(crate) static COARSE: std::cell::RefCell<Vec<u32>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// The slots of the `want` smallest squared int8 distances and the distance (in float units)
/// below which nothing was left out.
pub(crate) fn nearest(coarse: &[u32], want: usize) -> (Vec<usize>, f32) {
    let mut heap: BinaryHeap<(u32, usize)> = BinaryHeap::with_capacity(want + 1);
    let mut worst = u32::MAX;
    for (slot, &bits) in coarse.iter().enumerate() {
        if heap.len() < want {
            heap.push((bits, slot));
            if heap.len() == want {
                worst = heap.peek().map_or(u32::MAX, |t| t.0);
            }
        } else if bits < worst {
            heap.pop();
            heap.push((bits, slot));
            worst = heap.peek().map_or(u32::MAX, |t| t.0);
        }
    }
    let boundary = if heap.len() < want {
        f32::INFINITY
    } else {
        (worst as f32).sqrt() / SCALE
    };
    (heap.into_iter().map(|(_, slot)| slot).collect(), boundary)
}

/// The best hit of each owner, the `k` nearest owners first (ties by key).
pub(crate) fn best_owners(hits: impl Iterator<Item = Hit>, k: usize) -> Vec<Hit> {
    let mut best: HashMap<u64, Hit> = HashMap::new();
    for hit in hits {
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
    hits
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
