//! all-MiniLM-L6-v2 against the published reference similarities.

#![cfg(feature = "candle")]

mod support;

use switchboard_engines::embeddings::dense::Precision;
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

/// candle's own BERT, padded to the longest text, mean-pooled over the mask: what `MiniLm` did
/// before it packed its batches.
fn padded_reference(dir: &std::path::Path, texts: &[&str]) -> Vec<Vec<f32>> {
    use candle_core::{DType, Device, Tensor};
    use candle_transformers::models::bert::{BertModel, Config};
    use tokenizers::{PaddingParams, Tokenizer};
    let config: Config =
        serde_json::from_slice(&std::fs::read(dir.join("config.json")).unwrap()).unwrap();
    let mut tokenizer = Tokenizer::from_file(dir.join("tokenizer.json")).unwrap();
    tokenizer.with_padding(Some(PaddingParams::default()));
    let vb = unsafe {
        candle_nn::VarBuilder::from_mmaped_safetensors(
            &[dir.join("model.safetensors")],
            DType::F32,
            &Device::Cpu,
        )
    }
    .unwrap();
    let model = BertModel::load(vb, &config).unwrap();
    let encodings = tokenizer.encode_batch(texts.to_vec(), true).unwrap();
    let rows = |f: &dyn Fn(&tokenizers::Encoding) -> &[u32]| {
        let rows: Vec<Tensor> = encodings
            .iter()
            .map(|e| Tensor::new(f(e), &Device::Cpu).unwrap())
            .collect();
        Tensor::stack(&rows, 0).unwrap()
    };
    let (ids, types, mask) = (
        rows(&|e| e.get_ids()),
        rows(&|e| e.get_type_ids()),
        rows(&|e| e.get_attention_mask()),
    );
    let hidden = model.forward(&ids, &types, Some(&mask)).unwrap();
    let mask = mask.to_dtype(DType::F32).unwrap().unsqueeze(2).unwrap();
    let mean = hidden
        .broadcast_mul(&mask)
        .unwrap()
        .sum(1)
        .unwrap()
        .broadcast_div(&mask.sum(1).unwrap())
        .unwrap();
    mean.to_vec2::<f32>().unwrap()
}

#[test]
fn packed_batches_match_candles_padded_bert() {
    let Some(data) = support::models_data_dir() else {
        return;
    };
    let dir = ModelFiles::under(&data).minilm_dir();
    // Lengths from 3 to ~40 tokens, so most of the padded batch is padding for some texts.
    let texts = [
        "Okay.",
        "Thank you for calling Demo Insurance, my name is Sarah. How can I help you today?",
        "I moved house last month and I need to change the address on my policy, which still \
         shows my old flat on Elm Street, and the renewal letter went there too.",
        "Yes.",
        "Could you confirm your date of birth?",
    ];
    // And a large batch (a caller's memories, a knowledge base): 60 texts of 1–60 words.
    let words =
        "please call me back tomorrow about the claim on my policy and the new address ".repeat(5);
    let words: Vec<&str> = words.split_whitespace().collect();
    let many: Vec<String> = (0..60)
        .map(|i| words[i % 7..i % 7 + 1 + (i * 37) % 60].join(" "))
        .collect();
    let many: Vec<&str> = many.iter().map(String::as_str).collect();
    // In f32, packing changes nothing but float rounding. In bfloat16 on AMX (where this CPU
    // has it) every product's operands lose 16 bits of mantissa: ≥ 0.99995 measured here.
    for precision in [Precision::F32, Precision::Bf16WhereFaster] {
        let least = if precision.in_force() == "bf16-amx" {
            0.9999
        } else {
            0.99999
        };
        let model = MiniLm::load_at(&dir, precision).unwrap();
        for texts in [&texts[..], &many[..]] {
            let packed = model.embed_batch(texts).unwrap();
            let padded = padded_reference(&dir, texts);
            assert_eq!(packed.len(), texts.len());
            let mut lowest = 1.0f32;
            for ((text, packed), padded) in texts.iter().zip(&packed).zip(&padded) {
                let similarity = cosine(packed, padded);
                assert!(
                    similarity > least,
                    "{}: {text}: {similarity}",
                    precision.in_force()
                );
                lowest = lowest.min(similarity);
            }
            eprintln!(
                "{} ({}): lowest cosine to candle's f32 BERT {lowest}",
                precision.in_force(),
                texts.len()
            );
        }
    }
}

#[test]
fn a_missing_model_names_the_setting() {
    let Err(err) = MiniLm::load(std::path::Path::new("/nonexistent")) else {
        panic!("loaded")
    };
    assert!(err.to_string().contains("EMBEDDING_MODEL_DIR"), "{err}");
}
