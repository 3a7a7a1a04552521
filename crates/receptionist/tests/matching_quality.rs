//! Matching quality on labelled caller utterances (`tests/labelled/<template>.txt`, about 90 per
//! template): each utterance names what should answer it — a scenario, a knowledge entry, urgent
//! escalation, or nothing (the language model / fallback). Accuracy is measured lexical-only and
//! with MiniLM embeddings, and across thresholds, to justify the defaults; run with
//! `--nocapture` to see the table (BENCHMARKS.md quotes it). Needs the MiniLM model
//! (`SWITCHBOARD_TEST_MODELS`); skips without it unless `SWITCHBOARD_REQUIRE_MODEL_TESTS=1`.

use switchboard_engines::embeddings::Embedder;
use switchboard_engines::embeddings::minilm::MiniLm;
use switchboard_receptionist::ReceptionistSettings;
use switchboard_receptionist::responder::{KnowledgeEntry, Prepared, Source};
use switchboard_receptionist::template::builtin;

#[path = "../../engines/tests/support/mod.rs"]
mod support;

struct Labelled {
    template: &'static str,
    knowledge: Vec<KnowledgeEntry>,
    cases: Vec<(String, String)>,
}

fn load() -> Vec<Labelled> {
    [
        ("universal", include_str!("labelled/universal.txt")),
        (
            "insurance-agency",
            include_str!("labelled/insurance-agency.txt"),
        ),
        (
            "real-estate-agency",
            include_str!("labelled/real-estate-agency.txt"),
        ),
        ("plumbing-hvac", include_str!("labelled/plumbing-hvac.txt")),
    ]
    .into_iter()
    .map(|(template, raw)| {
        let mut knowledge = Vec::new();
        let mut cases = Vec::new();
        for line in raw
            .lines()
            .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        {
            let parts: Vec<&str> = line.split(" | ").map(str::trim).collect();
            if let Some(id) = parts[0].strip_prefix("K ") {
                knowledge.push(KnowledgeEntry {
                    id: id.to_owned(),
                    question: parts[1].to_owned(),
                    answer: parts[2].to_owned(),
                });
            } else {
                cases.push((parts[0].to_owned(), parts[1].to_owned()));
            }
        }
        Labelled {
            template,
            knowledge,
            cases,
        }
    })
    .collect()
}

fn settings(template: &str) -> ReceptionistSettings {
    let template = builtin().into_iter().find(|t| t.id == template).unwrap();
    ReceptionistSettings::clone_template(&template, 0)
}

fn predict(prepared: &Prepared, text: &str, embedding: Option<&[f32]>) -> String {
    match prepared.decide(text, embedding) {
        None => "none".into(),
        Some(d) => match d.source {
            Source::Urgent => "urgent".into(),
            Source::Knowledge => format!("k:{}", d.matched.unwrap()),
            _ => d.matched.unwrap(),
        },
    }
}

/// One template's matcher with every utterance embedded once, so a threshold sweep only re-runs
/// the decisions.
struct Prepared1 {
    prepared: Prepared,
    cases: Vec<(String, String, Option<Vec<f32>>)>,
    template: &'static str,
}

fn prepare(sets: &[Labelled], embedder: Option<&dyn Embedder>) -> Vec<Prepared1> {
    sets.iter()
        .map(|set| {
            let prepared =
                Prepared::new(settings(set.template), set.knowledge.clone(), embedder).unwrap();
            let cases = set
                .cases
                .iter()
                .map(|(expected, text)| {
                    let e = embedder.map(|e| e.embed(&prepared.normalize(text)).unwrap());
                    (expected.clone(), text.clone(), e)
                })
                .collect();
            Prepared1 {
                prepared,
                cases,
                template: set.template,
            }
        })
        .collect()
}

/// (correct, total, mistakes) over every template.
fn accuracy(
    sets: &mut [Prepared1],
    knowledge_threshold: f32,
    scenario_threshold: f32,
) -> (usize, usize, Vec<String>) {
    let mut correct = 0;
    let mut total = 0;
    let mut mistakes = Vec::new();
    for set in sets.iter_mut() {
        set.prepared.settings.knowledge_threshold = knowledge_threshold;
        set.prepared
            .set_scenario_semantic_threshold(scenario_threshold);
        for (expected, text, embedding) in &set.cases {
            let got = predict(&set.prepared, text, embedding.as_deref());
            total += 1;
            if &got == expected {
                correct += 1;
            } else {
                mistakes.push(format!(
                    "{}: {text:?} expected {expected}, got {got}",
                    set.template
                ));
            }
        }
    }
    (correct, total, mistakes)
}

#[test]
fn lexical_matching_alone_is_a_usable_floor() {
    let mut sets = prepare(&load(), None);
    let (correct, total, mistakes) = accuracy(&mut sets, 0.8, 1.1);
    let share = correct as f32 / total as f32;
    println!("lexical only: {correct}/{total} = {:.1} %", share * 100.0);
    for m in &mistakes {
        println!("  {m}");
    }
    assert!(total >= 360, "the labelled set shrank: {total}");
    assert!(share >= 0.70, "lexical accuracy fell to {share:.3}");
}

#[test]
fn embeddings_lift_accuracy_over_lexical_matching() {
    let Some(dir) = support::models_data_dir() else {
        return;
    };
    let embedder = MiniLm::load(&dir.join("models/all-MiniLM-L6-v2")).unwrap();
    let mut sets = prepare(&load(), Some(&embedder));
    println!("knowledge threshold × scenario threshold → accuracy (MiniLM)");
    let mut best = (0, 0.0f32, 0.0f32);
    for knowledge in [0.65f32, 0.70, 0.75, 0.80, 0.85] {
        let mut row = format!("  k≥{knowledge:.2}:");
        for scenario in [0.50f32, 0.55, 0.60, 0.62, 0.65, 0.70, 0.75] {
            let (correct, total, _) = accuracy(&mut sets, knowledge, scenario);
            row.push_str(&format!(
                "  s≥{scenario:.2} {:.1}%",
                100.0 * correct as f32 / total as f32
            ));
            if correct > best.0 {
                best = (correct, knowledge, scenario);
            }
        }
        println!("{row}");
    }
    let default = accuracy(
        &mut sets,
        switchboard_receptionist::settings::DEFAULT_KNOWLEDGE_THRESHOLD,
        switchboard_receptionist::responder::SCENARIO_SEMANTIC_THRESHOLD,
    );
    let share = default.0 as f32 / default.1 as f32;
    println!(
        "defaults: {}/{} = {:.1} %; best measured: {} at k≥{:.2} s≥{:.2}",
        default.0,
        default.1,
        share * 100.0,
        best.0,
        best.1,
        best.2
    );
    for m in &default.2 {
        println!("  {m}");
    }
    let (lexical, _, _) = accuracy(&mut prepare(&load(), None), 0.8, 1.1);
    assert!(default.0 > lexical, "embeddings must beat lexical matching");
    assert!(share >= 0.85, "accuracy with embeddings fell to {share:.3}");
}
