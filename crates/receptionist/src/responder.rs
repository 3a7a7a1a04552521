//! Who answers a caller's utterance (SPEC §6), in order:
//! 0. urgency: when the summed urgency weights reach the threshold the call is escalated at once
//!    — an emergency never waits behind a knowledge answer or a scenario (our reading of "urgent
//!    → escalate");
//! 1. the tenant's knowledge Q&A (similarity ≥ `knowledge_threshold`, 0.80 by default);
//! 2. the tenant's scenarios, filler words stripped;
//! 3. the tenant's language model (the caller runs it: it is slow and may fail);
//! 4. the fallback, with escalation.
//!
//! [`Prepared`] holds one tenant's settings, knowledge and their embeddings; it is built once per
//! configuration revision and cached per tenant by the server.

use serde::Serialize;
use switchboard_engines::embeddings::{EmbedError, Embedder, cosine};
use switchboard_engines::llm::Message;

use crate::matching::{content_stems, lexical, normalize, urgency};
use crate::placeholders;
use crate::settings::ReceptionistSettings;
use crate::template::ActionHook;

/// A scenario matches when this share of a trigger's content words was said...
pub const SCENARIO_LEXICAL_THRESHOLD: f32 = 0.75;
/// ...or when the utterance's embedding is this close to a trigger's. Chosen on the labelled set
/// (`tests/matching_quality.rs`, BENCHMARKS.md): 0.55 is within a point of the best measured
/// (0.50) while leaving more room before off-topic questions start matching a scenario.
pub const SCENARIO_SEMANTIC_THRESHOLD: f32 = 0.55;
/// Without an embedder, a knowledge question matches on this share of its content words.
pub const KNOWLEDGE_LEXICAL_THRESHOLD: f32 = 0.8;

pub const FALLBACK_REPLY: &str = "I'll connect you with someone who can help.";
pub const URGENT_REPLY: &str = "That sounds urgent. Let me connect you with someone right away.";
pub const NO_SPEECH_REPLY: &str =
    "Sorry, I didn't hear anything. Please call us back any time. Goodbye.";

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct KnowledgeEntry {
    pub id: String,
    pub question: String,
    pub answer: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    Greeting,
    Urgent,
    Knowledge,
    Scenario,
    LanguageModel,
    Fallback,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Greeting => "greeting",
            Source::Urgent => "urgent",
            Source::Knowledge => "knowledge",
            Source::Scenario => "scenario",
            Source::LanguageModel => "language_model",
            Source::Fallback => "fallback",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Decision {
    pub source: Source,
    pub reply: String,
    pub action: ActionHook,
    /// The knowledge entry or scenario that answered.
    pub matched: Option<String>,
    pub score: f32,
    pub urgency: f32,
    /// Variables the reply needed but the tenant has not set.
    pub missing_variables: Vec<String>,
}

struct Trigger {
    scenario: usize,
    stems: Vec<String>,
    vector: Option<Vec<f32>>,
}

pub struct Prepared {
    pub settings: ReceptionistSettings,
    knowledge: Vec<KnowledgeEntry>,
    knowledge_stems: Vec<Vec<String>>,
    knowledge_vectors: Option<Vec<Vec<f32>>>,
    triggers: Vec<Trigger>,
    scenario_semantic_threshold: f32,
    /// Inherited and custom filler words, gathered once.
    fillers: Vec<String>,
}

impl Prepared {
    /// Overrides [`SCENARIO_SEMANTIC_THRESHOLD`] (for threshold studies).
    pub fn set_scenario_semantic_threshold(&mut self, threshold: f32) {
        self.scenario_semantic_threshold = threshold;
    }

    /// Normalises and (with an embedder) embeds the knowledge questions and scenario triggers.
    pub fn new(
        settings: ReceptionistSettings,
        knowledge: Vec<KnowledgeEntry>,
        embedder: Option<&dyn Embedder>,
    ) -> Result<Prepared, EmbedError> {
        let fillers: Vec<String> = settings.filler_words.all().cloned().collect();
        let questions: Vec<String> = knowledge
            .iter()
            .map(|k| normalize(&k.question, &fillers))
            .collect();
        let mut triggers: Vec<Trigger> = Vec::new();
        let mut trigger_texts: Vec<String> = Vec::new();
        for (i, scenario) in settings.scenarios.iter().enumerate() {
            for phrase in scenario.triggers.iter().filter(|t| !t.trim().is_empty()) {
                let text = normalize(phrase, &fillers);
                triggers.push(Trigger {
                    scenario: i,
                    stems: content_stems(&text),
                    vector: None,
                });
                trigger_texts.push(text);
            }
        }
        let knowledge_vectors = match embedder {
            Some(embedder) => {
                let refs: Vec<&str> = questions.iter().map(String::as_str).collect();
                let vectors = embed_all(embedder, &refs)?;
                let refs: Vec<&str> = trigger_texts.iter().map(String::as_str).collect();
                for (trigger, vector) in triggers.iter_mut().zip(embed_all(embedder, &refs)?) {
                    trigger.vector = Some(vector);
                }
                Some(vectors)
            }
            None => None,
        };
        Ok(Prepared {
            knowledge_stems: questions.iter().map(|q| content_stems(q)).collect(),
            settings,
            knowledge,
            knowledge_vectors,
            triggers,
            scenario_semantic_threshold: SCENARIO_SEMANTIC_THRESHOLD,
            fillers,
        })
    }

    /// Whether matching uses embeddings (else lexical only).
    pub fn semantic(&self) -> bool {
        self.knowledge_vectors.is_some()
    }

    /// The utterance as matching sees it: lower case, without filler words. This is what to embed.
    pub fn normalize(&self, utterance: &str) -> String {
        normalize(utterance, &self.fillers)
    }

    /// The summed weight of the urgency keywords in the utterance.
    pub fn urgency(&self, utterance: &str) -> f32 {
        self.urgency_of(&self.normalize(utterance))
    }

    fn urgency_of(&self, normalized: &str) -> f32 {
        urgency(normalized, self.settings.urgency_keywords.all()).0
    }

    fn fill(&self, text: &str) -> placeholders::Filled {
        placeholders::fill(text, &self.settings.reply_variables())
    }

    pub fn greeting(&self) -> Decision {
        let filled = self.fill(&self.settings.greeting);
        Decision {
            source: Source::Greeting,
            reply: filled.text,
            action: ActionHook::None,
            matched: None,
            score: 1.0,
            urgency: 0.0,
            missing_variables: filled.missing,
        }
    }

    /// Steps 0–2. `None`: ask the language model, then fall back. `embedding` is the embedding
    /// of [`Prepared::normalize`]d utterance, when an embedder is loaded.
    pub fn decide(&self, utterance: &str, embedding: Option<&[f32]>) -> Option<Decision> {
        let normalized = self.normalize(utterance);
        let urgency_score = self.urgency_of(&normalized);
        if urgency_score >= self.settings.urgency_threshold {
            return Some(Decision {
                source: Source::Urgent,
                reply: URGENT_REPLY.into(),
                action: ActionHook::Escalate,
                matched: None,
                score: urgency_score,
                urgency: urgency_score,
                missing_variables: Vec::new(),
            });
        }
        let stems = content_stems(&normalized);
        if let Some((index, score)) = self.best_knowledge(&stems, embedding) {
            let entry = &self.knowledge[index];
            let filled = self.fill(&entry.answer);
            return Some(Decision {
                source: Source::Knowledge,
                reply: filled.text,
                action: ActionHook::None,
                matched: Some(entry.id.clone()),
                score,
                urgency: urgency_score,
                missing_variables: filled.missing,
            });
        }
        let (index, score) = self.best_scenario(&stems, embedding)?;
        let scenario = &self.settings.scenarios[index];
        let filled = self.fill(&scenario.reply);
        Some(Decision {
            source: Source::Scenario,
            reply: filled.text,
            action: scenario.action,
            matched: Some(scenario.id.clone()),
            score,
            urgency: urgency_score,
            missing_variables: filled.missing,
        })
    }

    fn best_knowledge(&self, stems: &[String], embedding: Option<&[f32]>) -> Option<(usize, f32)> {
        let scores: Vec<f32> = match (&self.knowledge_vectors, embedding) {
            (Some(vectors), Some(e)) => vectors.iter().map(|v| cosine(v, e)).collect(),
            _ => self
                .knowledge_stems
                .iter()
                .map(|q| lexical(stems, q))
                .collect(),
        };
        let threshold = match (&self.knowledge_vectors, embedding) {
            (Some(_), Some(_)) => self.settings.knowledge_threshold,
            _ => KNOWLEDGE_LEXICAL_THRESHOLD,
        };
        best(scores.into_iter().enumerate()).filter(|(_, s)| *s >= threshold)
    }

    fn best_scenario(&self, stems: &[String], embedding: Option<&[f32]>) -> Option<(usize, f32)> {
        let mut best_match: Option<(usize, f32)> = None;
        for trigger in &self.triggers {
            let lexical_score = lexical(stems, &trigger.stems);
            let semantic_score = match (&trigger.vector, embedding) {
                (Some(v), Some(e)) => cosine(v, e),
                _ => 0.0,
            };
            let passes = lexical_score >= SCENARIO_LEXICAL_THRESHOLD
                || semantic_score >= self.scenario_semantic_threshold;
            if !passes {
                continue;
            }
            // Lexical coverage counts a little more per content word, so "book an appointment"
            // beats "appointment" when both are fully present.
            let score = lexical_score.max(semantic_score)
                + 0.01 * (trigger.stems.len().min(5) as f32) * lexical_score;
            if best_match.is_none_or(|(_, s)| score > s) {
                best_match = Some((trigger.scenario, score));
            }
        }
        best_match.map(|(i, s)| (i, s.min(1.0)))
    }

    /// Step 4: the fallback, escalating.
    pub fn fallback(&self, urgency: f32) -> Decision {
        Decision {
            source: Source::Fallback,
            reply: FALLBACK_REPLY.into(),
            action: ActionHook::Escalate,
            matched: None,
            score: 0.0,
            urgency,
            missing_variables: Vec::new(),
        }
    }

    /// Step 3's prompt: the tenant's persona and behaviours, what is known of the caller, the
    /// knowledge entries, and the conversation so far. `history` is `(caller, receptionist)`.
    pub fn language_model_messages(
        &self,
        caller_context: Option<&str>,
        history: &[(String, String)],
        utterance: &str,
    ) -> Vec<Message> {
        let s = &self.settings;
        let persona = self.fill(&s.personality);
        let mut system = format!(
            "{}\nTone: {}. Pace: {}. Emotion: {}.\nReply in at most two short sentences, as spoken words (no lists, no markup). If you do not know, say you will have someone call back. Never make up prices, times or policies.",
            persona.text, s.behaviours.tone, s.behaviours.pace, s.behaviours.emotion
        );
        let facts: Vec<String> = self
            .knowledge
            .iter()
            .take(20)
            .map(|k| format!("Q: {} A: {}", k.question, self.fill(&k.answer).text))
            .collect();
        if !facts.is_empty() {
            system.push_str("\nFacts you may use:\n");
            system.push_str(&facts.join("\n"));
        }
        if let Some(context) = caller_context.filter(|c| !c.trim().is_empty()) {
            system.push_str("\nAbout the caller:\n");
            system.push_str(context);
        }
        let mut messages = vec![Message::system(system)];
        for (caller, reply) in history.iter().rev().take(6).rev() {
            messages.push(Message::user(caller.clone()));
            messages.push(Message::assistant(reply.clone()));
        }
        messages.push(Message::user(utterance.to_owned()));
        messages
    }

    /// A language-model reply as the caller will hear it, or `None` when it is unusable (empty,
    /// or still holding a `{placeholder}`).
    pub fn language_model_decision(&self, text: &str, urgency: f32) -> Option<Decision> {
        let reply = text.split_whitespace().collect::<Vec<_>>().join(" ");
        let reply: String = reply.chars().take(400).collect();
        if reply.is_empty() || !placeholders::names(&reply).is_empty() {
            return None;
        }
        Some(Decision {
            source: Source::LanguageModel,
            reply,
            action: ActionHook::None,
            matched: None,
            score: 0.0,
            urgency,
            missing_variables: Vec::new(),
        })
    }
}

fn embed_all(embedder: &dyn Embedder, texts: &[&str]) -> Result<Vec<Vec<f32>>, EmbedError> {
    let mut out = Vec::with_capacity(texts.len());
    for chunk in texts.chunks(32) {
        out.extend(embedder.embed_batch(chunk)?);
    }
    Ok(out)
}

fn best(scores: impl Iterator<Item = (usize, f32)>) -> Option<(usize, f32)> {
    scores.fold(None, |acc, (i, s)| match acc {
        Some((_, best)) if best >= s => acc,
        _ => Some((i, s)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::template::builtin;

    fn plumber() -> Prepared {
        let mut settings = ReceptionistSettings::clone_template(&builtin().remove(3), 0);
        settings
            .variables
            .insert("company_name".into(), "Joe's Plumbing".into());
        settings
            .variables
            .insert("service_call_price".into(), "$125".into());
        let knowledge = vec![KnowledgeEntry {
            id: "k1".into(),
            question: "Do you offer senior discounts?".into(),
            answer: "Yes, seniors get ten percent off every job at {company_name}.".into(),
        }];
        Prepared::new(settings, knowledge, None).unwrap()
    }

    #[test]
    fn knowledge_then_scenarios_then_nothing() {
        let p = plumber();
        let d = p
            .decide("Um, do you offer any senior discounts?", None)
            .unwrap();
        assert_eq!(
            (d.source, d.matched.as_deref()),
            (Source::Knowledge, Some("k1"))
        );
        assert_eq!(
            d.reply,
            "Yes, seniors get ten percent off every job at Joe's Plumbing."
        );

        let d = p.decide("How much is a service call?", None).unwrap();
        assert_eq!(d.matched.as_deref(), Some("service_price"));
        assert!(d.reply.starts_with("Our service call is $125"));

        let d = p
            .decide("uh my kitchen drain is clogged again", None)
            .unwrap();
        assert_eq!(d.matched.as_deref(), Some("drain_clog"));
        assert_eq!(d.action, ActionHook::OfferScheduling);

        assert!(p.decide("What is the meaning of life?", None).is_none());
    }

    #[test]
    fn urgency_escalates_before_anything_else() {
        let p = plumber();
        let d = p
            .decide("My basement is flooding, it's an emergency!", None)
            .unwrap();
        assert_eq!((d.source, d.action), (Source::Urgent, ActionHook::Escalate));
        // One mild keyword alone does not escalate.
        let d = p.decide("the faucet is leaking", None).unwrap();
        assert_eq!(d.source, Source::Scenario);
    }

    #[test]
    fn a_missing_variable_is_never_spoken() {
        let p = plumber();
        let d = p.decide("Do you have a maintenance plan?", None).unwrap();
        assert_eq!(d.matched.as_deref(), Some("maintenance_plan"));
        assert!(!d.reply.contains('{'), "{}", d.reply);
        assert_eq!(d.missing_variables, ["maintenance_plan_price"]);
    }

    #[test]
    fn language_model_replies_with_placeholders_are_refused() {
        let p = plumber();
        assert!(
            p.language_model_decision("Call {company_name} now", 0.0)
                .is_none()
        );
        assert!(p.language_model_decision("   ", 0.0).is_none());
        let d = p
            .language_model_decision("We can help\nwith that.", 0.0)
            .unwrap();
        assert_eq!(d.reply, "We can help with that.");
    }
}
