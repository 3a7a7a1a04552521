//! BERT's self-attention within each text of a packed batch, on plain rows, on the calling
//! thread.
//!
//! Hand-written rather than candle tensor operations: done with candle, attention gathered the
//! packed rows into a padded `[texts, longest]` batch, copied query, key and value out per head
//! (three transposes), ran two batched products through `gemm` on blocks of 32 columns, a masked
//! softmax over the padding, copied the heads back together and scattered the rows back — about
//! a quarter of MiniLM's time on a call's utterances for ~1 % of its arithmetic (profile in
//! BENCHMARKS.md). Here each text's rows are read where the fused query-key-value product left
//! them: no padding, no mask, no copies but one small transpose of each head's keys.

/// Scaled dot-product attention of every head within each text.
///
/// `qkv` holds one row per token, texts one after another (`lengths`): the token's query, key
/// and value, each `heads × size` values, head after head (as BERT's fused projection writes
/// them). Returns one row of `heads × size` per token: each head's attention-weighted values.
pub fn packed_self_attention(
    qkv: &[f32],
    lengths: &[usize],
    heads: usize,
    size: usize,
) -> Result<Vec<f32>, String> {
    let tokens: usize = lengths.iter().sum();
    if qkv.len() != tokens * 3 * heads * size {
        return Err(format!(
            "attention over {tokens} tokens of {heads} heads × {size} was given {} values",
            qkv.len()
        ));
    }
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx512f") {
            // SAFETY: this CPU has AVX-512 F, checked just above.
            return Ok(unsafe { attend_avx512(qkv, lengths, heads, size) });
        }
        if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
        {
            // SAFETY: this CPU has AVX2 and FMA, checked just above.
            return Ok(unsafe { attend_avx2(qkv, lengths, heads, size) });
        }
    }
    Ok(attend(qkv, lengths, heads, size))
}

// The same loops compiled for wider vectors (the crate is built for baseline x86-64).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
fn attend_avx512(qkv: &[f32], lengths: &[usize], heads: usize, size: usize) -> Vec<f32> {
    attend(qkv, lengths, heads, size)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn attend_avx2(qkv: &[f32], lengths: &[usize], heads: usize, size: usize) -> Vec<f32> {
    attend(qkv, lengths, heads, size)
}

/// Keys and scores are handled this many at a time, in registers.
const LANES: usize = 16;

#[inline(always)]
fn attend(qkv: &[f32], lengths: &[usize], heads: usize, size: usize) -> Vec<f32> {
    let hidden = heads * size;
    let width = 3 * hidden;
    let longest = lengths.iter().copied().max().unwrap_or(0);
    let scale = 1.0 / (size as f32).sqrt();
    let mut out = vec![0f32; qkv.len() / 3];
    // One head's keys of one text, transposed (`size` rows, each padded to whole groups of
    // `LANES`): a query's scores for `LANES` keys are then `LANES` running sums scaled row by
    // row — element-wise, in one vector register. The padding's scores are computed from
    // whatever it holds and dropped.
    let stride = longest.div_ceil(LANES) * LANES;
    let mut keys = vec![0f32; size * stride];
    let mut scores = vec![0f32; stride];
    let mut first = 0;
    for &length in lengths {
        let text = &qkv[first * width..(first + length) * width];
        let text_out = &mut out[first * hidden..(first + length) * hidden];
        let padded = length.div_ceil(LANES) * LANES;
        for head in 0..heads {
            let (query_at, key_at, value_at) =
                (head * size, hidden + head * size, 2 * hidden + head * size);
            for d in 0..size {
                let row = &mut keys[d * padded..(d + 1) * padded];
                for (k, token) in row.iter_mut().zip(text.chunks_exact(width)) {
                    *k = token[key_at + d];
                }
            }
            for (token, out_row) in text
                .chunks_exact(width)
                .zip(text_out.chunks_exact_mut(hidden))
            {
                let query = &token[query_at..query_at + size];
                for (group, scores) in scores[..padded].chunks_exact_mut(LANES).enumerate() {
                    let mut sums = [0f32; LANES];
                    for (d, &q) in query.iter().enumerate() {
                        let keys = &keys[d * padded + group * LANES..][..LANES];
                        for (sum, &k) in sums.iter_mut().zip(keys) {
                            *sum += q * k;
                        }
                    }
                    scores.copy_from_slice(&sums);
                }
                let scores = &mut scores[..length];
                softmax_scaled(scores, scale);
                weighted_sum(
                    &mut out_row[query_at..query_at + size],
                    scores,
                    text.chunks_exact(width)
                        .map(|v| &v[value_at..value_at + size]),
                );
            }
        }
        first += length;
    }
    out
}

/// `out = Σ weights[j] × values[j]`, in registers for the usual head size.
#[inline(always)]
fn weighted_sum<'a>(out: &mut [f32], weights: &[f32], values: impl Iterator<Item = &'a [f32]>) {
    const HEAD: usize = 32;
    if out.len() == HEAD {
        let mut sums = [0f32; HEAD];
        for (&w, value) in weights.iter().zip(values) {
            for (sum, &v) in sums.iter_mut().zip(&value[..HEAD]) {
                *sum += w * v;
            }
        }
        out.copy_from_slice(&sums);
    } else {
        out.fill(0.0);
        for (&w, value) in weights.iter().zip(values) {
            for (o, &v) in out.iter_mut().zip(value) {
                *o += w * v;
            }
        }
    }
}

/// `softmax(scale × scores)`, in place.
#[inline(always)]
fn softmax_scaled(scores: &mut [f32], scale: f32) {
    // The largest in `LANES` running maxima: one running maximum compares one value at a time.
    let mut maxima = [f32::NEG_INFINITY; LANES];
    let groups = scores.chunks_exact(LANES);
    let rest = groups
        .remainder()
        .iter()
        .copied()
        .fold(f32::NEG_INFINITY, f32::max);
    for group in groups {
        for (m, &s) in maxima.iter_mut().zip(group) {
            *m = m.max(s);
        }
    }
    let max = maxima.iter().copied().fold(rest, f32::max);
    let mut sum = 0.0;
    for s in scores.iter_mut() {
        *s = ((*s - max) * scale).exp();
        sum += *s;
    }
    let inverse = 1.0 / sum;
    for s in scores.iter_mut() {
        *s *= inverse;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Attention written out from its definition in f64, one text, one head, one query at a
    /// time.
    fn reference(qkv: &[f32], lengths: &[usize], heads: usize, size: usize) -> Vec<f32> {
        let (hidden, width) = (heads * size, 3 * heads * size);
        let mut out = Vec::new();
        let mut first = 0;
        for &length in lengths {
            for i in 0..length {
                for head in 0..heads {
                    let at = |token: usize, part: usize, d: usize| {
                        qkv[(first + token) * width + part * hidden + head * size + d] as f64
                    };
                    let logits: Vec<f64> = (0..length)
                        .map(|j| {
                            (0..size).map(|d| at(i, 0, d) * at(j, 1, d)).sum::<f64>()
                                / (size as f64).sqrt()
                        })
                        .collect();
                    let max = logits.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                    let weights: Vec<f64> = logits.iter().map(|l| (l - max).exp()).collect();
                    let total: f64 = weights.iter().sum();
                    for d in 0..size {
                        let value: f64 = (0..length).map(|j| weights[j] * at(j, 2, d)).sum();
                        out.push((value / total) as f32);
                    }
                }
            }
            first += length;
        }
        out
    }

    #[test]
    fn matches_attention_by_its_definition_within_each_text() {
        for (lengths, heads, size) in [
            (vec![1usize], 1usize, 4usize),
            (vec![7, 1, 23, 40], 12, 32),
            (vec![5, 128, 3], 4, 16),
        ] {
            let tokens: usize = lengths.iter().sum();
            // Values in [-4, 4): logits large enough that the softmax's max shift matters.
            let qkv: Vec<f32> = crate::embeddings::test_values(tokens * 3 * heads * size, 9)
                .into_iter()
                .map(|v| v * 8.0)
                .collect();
            let expected = reference(&qkv, &lengths, heads, size);
            for found in [
                packed_self_attention(&qkv, &lengths, heads, size).unwrap(),
                attend(&qkv, &lengths, heads, size),
            ] {
                assert_eq!(found.len(), expected.len());
                let worst = found
                    .iter()
                    .zip(&expected)
                    .map(|(a, b)| (a - b).abs())
                    .fold(0.0, f32::max);
                assert!(worst < 1e-4, "{lengths:?}: off by {worst}");
            }
        }
    }

    #[test]
    fn tokens_attend_only_within_their_own_text() {
        // Two texts of one token each: each token's output is its own value, whatever the
        // other text holds.
        let (heads, size) = (2, 2);
        let qkv = [
            1.0, 2.0, 3.0, 4.0, /* keys */ 1.0, 1.0, 1.0, 1.0, /* values */ 0.5, -0.5,
            2.0, 3.0, 9.0, 9.0, 9.0, 9.0, /* keys */ 9.0, 9.0, 9.0, 9.0,
            /* values */ -7.0, 7.0, 1.0, 0.0,
        ];
        let out = packed_self_attention(&qkv, &[1, 1], heads, size).unwrap();
        assert_eq!(out, vec![0.5, -0.5, 2.0, 3.0, -7.0, 7.0, 1.0, 0.0]);
    }

    #[test]
    fn a_mismatched_row_count_is_refused() {
        assert!(packed_self_attention(&[0.0; 23], &[2], 2, 2).is_err());
        assert!(packed_self_attention(&[0.0; 24], &[2, 1], 2, 2).is_err());
    }
}
