//! The gallery scan's distance kernel: squared Euclidean distances from one int8 query to many
//! 128-d int8 vectors, appended to a buffer.
//!
//! With AVX2 (detected at run time) a batch loop in `std::arch` computes each distance as
//! ‖v‖² + ‖q‖² − 2·v·q with `vpmaddubsw` on 32 bytes at a time; elsewhere `simsimd`, one call
//! per vector. The call overhead is what the batch loop removes: measured here on 100,000
//! vectors, ~0.8 ms per scan against ~2.3 ms for `simsimd` per vector (docs/benchmarks.md).
//! This file holds Anfang's only `unsafe` code: two raw loads, bounded by `chunks_exact`.

use crate::face::EMBEDDING_DIM;
use simsimd::SpatialSimilarity;

const D: usize = EMBEDDING_DIM;

/// ‖v‖² of an int8 vector.
pub(crate) fn norm(v: &[i8]) -> i32 {
    v.iter().map(|&x| i32::from(x) * i32::from(x)).sum()
}

/// Appends the squared distance of `q` to each vector of `vectors` (rows of 128, whose squared
/// norms are `norms`) to `out`. Components must lie in ±127.
pub(crate) fn l2sq_all(vectors: &[i8], norms: &[i32], q: &[i8; D], out: &mut Vec<u32>) {
    debug_assert_eq!(vectors.len(), norms.len() * D);
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: AVX2 is present (checked just above).
        #[allow(unsafe_code)]
        unsafe {
            avx2::l2sq_all(vectors, norms, q, out)
        };
        return;
    }
    out.extend(
        vectors
            .chunks_exact(D)
            .map(|v| i8::l2sq(v, q).unwrap_or(f64::from(u32::MAX)) as u32),
    );
}

#[cfg(target_arch = "x86_64")]
#[allow(unsafe_code)]
mod avx2 {
    use super::D;
    use std::arch::x86_64::*;

    const _: () = assert!(D == 128, "the kernel is unrolled for 128 dimensions");

    /// See [`super::l2sq_all`].
    ///
    /// # Safety
    /// The CPU must support AVX2.
    #[target_feature(enable = "avx2")]
    pub(super) unsafe fn l2sq_all(vectors: &[i8], norms: &[i32], q: &[i8; D], out: &mut Vec<u32>) {
        // SAFETY: each load reads 32 bytes at offsets 0, 32, 64, 96 of a 128-byte array or
        // chunk, so inside it; `loadu` has no alignment requirement.
        let load = |p: *const i8, i: usize| unsafe { _mm256_loadu_si256(p.add(i * 32).cast::<__m256i>()) };
        let qv = [0, 1, 2, 3].map(|i| load(q.as_ptr(), i));
        let qn = super::norm(q);
        let ones = _mm256_set1_epi16(1);
        out.reserve(norms.len());
        for (v, &n) in vectors.chunks_exact(D).zip(norms) {
            let mut acc = _mm256_setzero_si256();
            for (i, qi) in qv.iter().enumerate() {
                let x = load(v.as_ptr(), i);
                // |x| · (q with x's sign) = x · q per byte, summed in pairs to i16 (at most
                // 2 · 127² = 32,258: no saturation), then in fours to i32.
                let pairs = _mm256_maddubs_epi16(_mm256_abs_epi8(x), _mm256_sign_epi8(*qi, x));
                acc = _mm256_add_epi32(acc, _mm256_madd_epi16(pairs, ones));
            }
            let s = _mm_add_epi32(_mm256_castsi256_si128(acc), _mm256_extracti128_si256::<1>(acc));
            let s = _mm_add_epi32(s, _mm_shuffle_epi32::<0b01_00_11_10>(s));
            let s = _mm_add_epi32(s, _mm_shuffle_epi32::<0b10_11_00_01>(s));
            let dot = _mm_cvtsi128_si32(s);
            out.push((n + qn - 2 * dot).max(0) as u32);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    #[test]
    fn the_kernel_equals_the_plain_sum() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(5);
        let n = 257;
        let vectors: Vec<i8> = (0..n * D).map(|_| rng.gen_range(-127..=127)).collect();
        let norms: Vec<i32> = vectors.chunks_exact(D).map(norm).collect();
        let mut q = [0i8; D];
        q.iter_mut().for_each(|x| *x = rng.gen_range(-127..=127));
        // The extremes too.
        q[0] = 127;
        let mut out = vec![7];
        l2sq_all(&vectors, &norms, &q, &mut out);
        assert_eq!(out.len(), n + 1);
        for (v, got) in vectors.chunks_exact(D).zip(&out[1..]) {
            let want: i32 = v
                .iter()
                .zip(&q)
                .map(|(a, b)| (i32::from(*a) - i32::from(*b)).pow(2))
                .sum();
            assert_eq!(*got, want as u32);
        }
    }
}
