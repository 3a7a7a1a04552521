//! Which memories matter now: similarity to the query (MiniLM cosine against the stored vector,
//! or word overlap when either side has no vector) blended with recency.
//!
//! `score = 0.7 × similarity + 0.3 × recency`, `recency = 0.5^(age / 30 days)`; with no query,
//! recency alone. The weights make a clearly related memory (cosine ≥ 0.5) from last year beat
//! an unrelated one from this morning, while among equally related memories the newer wins.

use switchboard_receptionist::matching::{content_stems, lexical};
use switchboard_store::repo::memory::Memory;

use crate::vector::cosine_stored;

pub const SIMILARITY_WEIGHT: f32 = 0.7;
pub const RECENCY_WEIGHT: f32 = 0.3;
pub const HALF_LIFE_DAYS: f32 = 30.0;

/// What the memories are compared with.
pub struct Query<'a> {
    pub text: &'a str,
    /// The text's embedding, when an embedder is loaded.
    pub embedding: Option<&'a [f32]>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Scored {
    /// Index into the memories given.
    pub index: usize,
    pub similarity: Option<f32>,
    pub recency: f32,
    pub score: f32,
}

pub fn recency(created_at_ms: i64, now_ms: i64) -> f32 {
    let age_days = (now_ms - created_at_ms).max(0) as f32 / 86_400_000.0;
    0.5f32.powf(age_days / HALF_LIFE_DAYS)
}

fn similarity(memory: &Memory, query: &Query<'_>, query_stems: &[String]) -> f32 {
    match (query.embedding, memory.embedding.as_deref()) {
        (Some(q), Some(stored)) => cosine_stored(q, stored).max(0.0),
        _ => {
            // Word overlap both ways, so a short query and a long memory can still meet.
            let memory_stems = content_stems(&memory.content);
            lexical(&memory_stems, query_stems).max(lexical(query_stems, &memory_stems))
        }
    }
}

/// The `limit` best memories, best first (ties: newer first, then the given order).
pub fn rank(
    memories: &[Memory],
    query: Option<&Query<'_>>,
    now_ms: i64,
    limit: usize,
) -> Vec<Scored> {
    let query_stems = query.map(|q| content_stems(q.text)).unwrap_or_default();
    let mut scored: Vec<Scored> = memories
        .iter()
        .enumerate()
        .map(|(index, memory)| {
            let recency = recency(memory.created_at, now_ms);
            let similarity = query.map(|q| similarity(memory, q, &query_stems));
            let score = match similarity {
                Some(s) => SIMILARITY_WEIGHT * s + RECENCY_WEIGHT * recency,
                None => recency,
            };
            Scored {
                index,
                similarity,
                recency,
                score,
            }
        })
        .collect();
    scored.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then(
                memories[b.index]
                    .created_at
                    .cmp(&memories[a.index].created_at),
            )
            .then(a.index.cmp(&b.index))
    });
    scored.truncate(limit);
    scored
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: i64 = 86_400_000;

    fn memory(content: &str, age_days: i64, now: i64) -> Memory {
        Memory {
            id: content.into(),
            user_id: "+15550000000".into(),
            content: content.into(),
            source: "api".into(),
            call_id: None,
            embedding: None,
            created_at: now - age_days * DAY,
        }
    }

    #[test]
    fn a_related_old_memory_beats_an_unrelated_new_one_and_recency_breaks_ties() {
        let now = 1_000 * DAY;
        let memories = vec![
            memory("Prefers morning appointments", 0, now),
            memory("Basement flooded last spring, sump pump replaced", 300, now),
            memory("Basement flooded again in the autumn", 20, now),
        ];
        let query = Query {
            text: "my basement is flooding",
            embedding: None,
        };
        let ranked = rank(&memories, Some(&query), now, 3);
        assert_eq!(ranked[0].index, 2, "{ranked:?}");
        assert_eq!(ranked[1].index, 1, "{ranked:?}");
        assert_eq!(ranked[2].index, 0);
        let recent = rank(&memories, None, now, 2);
        assert_eq!(
            recent.iter().map(|s| s.index).collect::<Vec<_>>(),
            vec![0, 2]
        );
        assert!((recency(now - 30 * DAY, now) - 0.5).abs() < 1e-6);
    }
}
