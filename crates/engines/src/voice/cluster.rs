//! Two voices or one: the utterances of a mono recording, grouped by their voice embeddings.
//!
//! Weighted spherical 2-means (cosine), seeded deterministically with the longest utterance and
//! the longer utterance least like it; the weights are the utterances' durations, so a long
//! utterance counts more than a "Fine.". When the two groups' centroids are as alike as one
//! voice's utterances usually are, the recording has one voice.

use crate::embeddings::cosine;

/// Centroids closer than this are one voice. Resemblyzer's utterance embeddings of one speaker
/// are typically ≥ 0.85 alike; two speakers' centroids measured 0.45–0.75 on the sample calls.
pub const SAME_VOICE: f32 = 0.85;

/// A speaker index per embedding: 0 for whoever spoke first (`embeddings[0]`), 1 for the other
/// voice. All 0 when there are fewer than two utterances or one voice.
pub fn two_voices(embeddings: &[Vec<f32>], weights: &[f32]) -> Vec<usize> {
    let n = embeddings.len();
    if n < 2 || weights.len() != n {
        return vec![0; n];
    }
    let first = (0..n)
        .max_by(|a, b| weights[*a].total_cmp(&weights[*b]))
        .unwrap_or(0);
    // The other seed: the least alike of the longer half, so a short odd sound is no seed.
    let mut sorted = weights.to_vec();
    sorted.sort_by(f32::total_cmp);
    let median = sorted[n / 2];
    let second = (0..n)
        .filter(|i| weights[*i] >= median)
        .min_by(|a, b| {
            cosine(&embeddings[*a], &embeddings[first])
                .total_cmp(&cosine(&embeddings[*b], &embeddings[first]))
        })
        .unwrap_or(0);
    let mut centroids = [embeddings[first].clone(), embeddings[second].clone()];
    let mut labels = vec![0usize; n];
    for _ in 0..50 {
        let next: Vec<usize> = embeddings
            .iter()
            .map(|e| usize::from(cosine(e, &centroids[1]) > cosine(e, &centroids[0])))
            .collect();
        let settled = next == labels;
        labels = next;
        for (k, centroid) in centroids.iter_mut().enumerate() {
            if let Some(mean) = weighted_mean(embeddings, weights, &labels, k) {
                *centroid = mean;
            }
        }
        if settled {
            break;
        }
    }
    if labels.iter().all(|l| *l == labels[0]) || cosine(&centroids[0], &centroids[1]) > SAME_VOICE {
        return vec![0; n];
    }
    if labels[0] == 1 {
        labels.iter_mut().for_each(|l| *l = 1 - *l);
    }
    labels
}

fn weighted_mean(
    embeddings: &[Vec<f32>],
    weights: &[f32],
    labels: &[usize],
    k: usize,
) -> Option<Vec<f32>> {
    let dim = embeddings.first()?.len();
    let mut sum = vec![0.0f32; dim];
    let mut total = 0.0;
    for ((e, w), _) in embeddings
        .iter()
        .zip(weights)
        .zip(labels)
        .filter(|(_, l)| **l == k)
    {
        let w = w.max(1e-3);
        total += w;
        sum.iter_mut().zip(e).for_each(|(s, x)| *s += w * x);
    }
    (total > 0.0).then_some(sum)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A unit vector near axis `axis` of 8, nudged by `jitter` along another axis.
    fn voice(axis: usize, jitter: f32, other: usize) -> Vec<f32> {
        let mut v = [0.0f32; 8];
        v[axis] = 1.0;
        v[other] += jitter;
        let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        v.iter().map(|x| x / norm).collect()
    }

    #[test]
    fn two_voices_are_told_apart_and_the_first_speaker_is_zero() {
        let e = vec![
            voice(1, 0.1, 5),
            voice(0, 0.2, 6),
            voice(1, 0.2, 7),
            voice(0, 0.1, 7),
            voice(1, 0.05, 6),
        ];
        let w = vec![1.0, 3.0, 2.0, 0.5, 1.0];
        assert_eq!(two_voices(&e, &w), [0, 1, 0, 1, 0]);
    }

    #[test]
    fn one_voice_or_one_utterance_is_one_speaker() {
        let e = vec![voice(2, 0.1, 3), voice(2, 0.2, 4), voice(2, 0.15, 5)];
        assert_eq!(two_voices(&e, &[1.0, 1.0, 1.0]), [0, 0, 0]);
        assert_eq!(two_voices(&e[..1], &[1.0]), [0]);
        assert!(two_voices(&[], &[]).is_empty());
        // Mismatched weights are not a reason to panic.
        assert_eq!(two_voices(&e, &[1.0]), [0, 0, 0]);
    }

    #[test]
    fn a_short_odd_utterance_does_not_become_a_voice_of_its_own() {
        // Weighted by duration, the long utterances decide the centroids.
        let e = vec![
            voice(0, 0.0, 1),
            voice(4, 0.0, 1),
            voice(0, 0.1, 2),
            voice(4, 0.1, 3),
            voice(6, 0.0, 1),
        ];
        let labels = two_voices(&e, &[5.0, 5.0, 4.0, 4.0, 0.2]);
        assert_eq!(&labels[..4], [0, 1, 0, 1]);
    }
}
