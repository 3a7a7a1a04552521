//! all-MiniLM-L6-v2 against the published reference similarities.

#![cfg(feature = "candle")]

mod support;

use switchboard_engines::embeddings::minilm::MiniLm;
use switchboard_engines::embeddings::{Embedder, cosine};
use switchboard_engines::models::ModelFiles;

#[test]
fn minilm_matches_reference_similarities() {
    let Some(data) = support::models_data_dir() else {
        return;
    };
    let model = MiniLm::load(&ModelFiles::under(&data).minilm_dir()).unwrap();
    assert_eq!(model.dimension(), 384);
    let texts = [
        "The new movie is awesome",
        "The new movie is so great",
        "I love pasta",
        "Do you like pizza?",
    ];
    let batch = model.embed_batch(&texts).unwrap();
    let close = cosine(&batch[0], &batch[1]);
    let loose = cosine(&batch[2], &batch[3]);
    assert!((close - 0.894).abs() < 0.01, "movie pair: {close}");
    assert!((loose - 0.510).abs() < 0.01, "food pair: {loose}");
    // Batched (padded) and single results agree, and vectors are unit length.
    for (text, batched) in texts.iter().zip(&batch) {
        let single = model.embed(text).unwrap();
        assert!(cosine(&single, batched) > 0.9999, "{text}");
        let norm: f32 = single.iter().map(|x| x * x).sum::<f32>().sqrt();
        assert!((norm - 1.0).abs() < 1e-4);
    }
    // Unrelated sentences score low (without the mask they would score ~0.6).
    let unrelated = model
        .embed_batch(&["My boiler is leaking water", "What is your favourite film?"])
        .unwrap();
    assert!(cosine(&unrelated[0], &unrelated[1]) < 0.3);
}

#[test]
fn a_missing_model_names_the_setting() {
    let Err(err) = MiniLm::load(std::path::Path::new("/nonexistent")) else {
        panic!("loaded")
    };
    assert!(err.to_string().contains("EMBEDDING_MODEL_DIR"), "{err}");
}
