//! Stored embeddings: MiniLM's unit vectors quantised to one signed byte per component
//! (`round(x × 127)`). 384 bytes instead of 1,536 per memory keeps a million callers' memories
//! within reach of one disk and one page cache; the cosine of two quantised vectors differs from
//! the float one by well under 0.01 (tested), far below the gaps ranking relies on.

pub fn quantise(vector: &[f32]) -> Vec<u8> {
    vector
        .iter()
        .map(|x| ((x.clamp(-1.0, 1.0) * 127.0).round() as i8) as u8)
        .collect()
}

pub fn dequantise(bytes: &[u8]) -> Vec<f32> {
    bytes.iter().map(|b| (*b as i8) as f32 / 127.0).collect()
}

/// Cosine of a float query and a stored vector (0 when either is zero or the sizes differ).
pub fn cosine_stored(query: &[f32], stored: &[u8]) -> f32 {
    if query.len() != stored.len() {
        return 0.0;
    }
    let (mut dot, mut qq, mut ss) = (0f32, 0f32, 0f32);
    for (q, s) in query.iter().zip(stored) {
        let s = (*s as i8) as f32;
        dot += q * s;
        qq += q * q;
        ss += s * s;
    }
    if qq == 0.0 || ss == 0.0 {
        0.0
    } else {
        dot / (qq.sqrt() * ss.sqrt())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchboard_engines::embeddings::cosine;

    fn unit(seed: u32) -> Vec<f32> {
        // A deterministic pseudo-random unit vector of MiniLM's size.
        let mut x = seed.wrapping_mul(2_654_435_761).max(1);
        let mut v: Vec<f32> = (0..384)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                (x % 2001) as f32 / 1000.0 - 1.0
            })
            .collect();
        let n = v.iter().map(|a| a * a).sum::<f32>().sqrt();
        v.iter_mut().for_each(|a| *a /= n);
        v
    }

    #[test]
    fn quantised_cosine_stays_within_a_hundredth_of_the_float_one() {
        for seed in 1..40 {
            let a = unit(seed);
            let mut b = unit(seed + 1000);
            // Mix so that some pairs are similar.
            for (bi, ai) in b.iter_mut().zip(&a) {
                *bi = 0.6 * *ai + 0.4 * *bi;
            }
            let exact = cosine(&a, &b);
            let stored = cosine_stored(&a, &quantise(&b));
            assert!((exact - stored).abs() < 0.01, "{exact} vs {stored}");
        }
        let a = unit(7);
        let back = dequantise(&quantise(&a));
        assert!(cosine(&a, &back) > 0.999);
        assert_eq!(cosine_stored(&a, &[1, 2]), 0.0);
    }
}
