//! QA evaluation (SPEC §4.4): each rule of the tenant's rubric gives `passed`, `failed` or
//! `not_applicable`, a reason, and evidence (the utterances behind the verdict, with times).
//! Overall: with `all_required`, the call passes when no required rule failed; with `weighted`,
//! when the weighted share of passed rules among applicable ones reaches the threshold. The
//! score is that weighted share in both modes (1.0 when no rule applied).

use serde::{Deserialize, Serialize};
use switchboard_engines::embeddings::{EmbedError, Embedder, cosine};
use switchboard_engines::llm::{LanguageModel, LlmError, Message};

use crate::config::qa::{
    Check, MetricName, Must, PassRule, QaConfig, Rule, SentimentAt, SentimentValue,
    SpeakerSelector, label_rank,
};
use crate::metrics::ConversationMetrics;
use crate::record::{EnrichedUtterance, Speaker};
use crate::sentiment::{SentimentAggregate, aggregate, quarter_of};
use crate::summary::capitalise;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Passed,
    Failed,
    NotApplicable,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Evidence {
    pub utterance_index: usize,
    pub speaker: Speaker,
    pub start_ms: u64,
    pub end_ms: u64,
    pub text: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RuleResult {
    pub rule_id: String,
    pub rule_name: String,
    pub kind: String,
    pub required: bool,
    pub weight: f64,
    pub verdict: Verdict,
    pub reason: String,
    pub evidence: Vec<Evidence>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct QaResult {
    pub pass_mode: String,
    pub overall_pass: bool,
    pub score: f64,
    pub rules: Vec<RuleResult>,
}

#[derive(Debug, thiserror::Error)]
pub enum QaError {
    #[error(transparent)]
    Embedding(#[from] EmbedError),
    #[error(transparent)]
    LanguageModel(#[from] LlmError),
}

/// What a rubric is evaluated against.
pub struct CallView<'a> {
    pub utterances: &'a [EnrichedUtterance],
    pub metrics: &'a ConversationMetrics,
    pub duration_ms: u64,
    pub embedder: Option<&'a dyn Embedder>,
    /// Embeds the rubric's example phrases (the analyse stage passes one whose vectors outlive
    /// the call); `embedder` when `None`.
    pub rubric_embedder: Option<&'a dyn Embedder>,
    /// A hosted model for `llm` rules; `None` on the embedded default, whose local model is
    /// too weak to give verdicts.
    pub language_model: Option<&'a dyn LanguageModel>,
}

/// Tokens the language model used, for usage counters.
pub fn evaluate(config: &QaConfig, call: &CallView<'_>) -> Result<(QaResult, u64), QaError> {
    let mut tokens = 0;
    let mut rules = Vec::with_capacity(config.rules.len());
    for rule in &config.rules {
        let (verdict, reason, evidence) = evaluate_rule(rule, call, &mut tokens)?;
        rules.push(RuleResult {
            rule_id: rule.id.clone(),
            rule_name: rule.name.clone(),
            kind: kind_name(&rule.check).into(),
            required: rule.required,
            weight: rule.weight,
            verdict,
            reason,
            evidence,
        });
    }
    let applicable: f64 = rules
        .iter()
        .filter(|r| r.verdict != Verdict::NotApplicable)
        .map(|r| r.weight)
        .sum();
    let passed: f64 = rules
        .iter()
        .filter(|r| r.verdict == Verdict::Passed)
        .map(|r| r.weight)
        .sum();
    let score = if applicable > 0.0 {
        passed / applicable
    } else {
        1.0
    };
    let (pass_mode, overall_pass) = match &config.pass {
        PassRule::AllRequired => (
            "all_required",
            rules
                .iter()
                .all(|r| !(r.required && r.verdict == Verdict::Failed)),
        ),
        PassRule::Weighted { threshold } => ("weighted", score + 1e-9 >= *threshold),
    };
    Ok((
        QaResult {
            pass_mode: pass_mode.into(),
            overall_pass,
            score,
            rules,
        },
        tokens,
    ))
}

fn kind_name(check: &Check) -> &'static str {
    match check {
        Check::Keyword { .. } => "keyword",
        Check::Semantic { .. } => "semantic",
        Check::Metric { .. } => "metric",
        Check::Sentiment { .. } => "sentiment",
        Check::Llm { .. } => "llm",
    }
}

fn evidence(u: &EnrichedUtterance) -> Evidence {
    Evidence {
        utterance_index: u.utterance.index,
        speaker: u.utterance.speaker,
        start_ms: u.utterance.start_ms,
        end_ms: u.utterance.end_ms,
        text: u.utterance.text.clone(),
    }
}

fn selects(selector: SpeakerSelector, speaker: Speaker) -> bool {
    match selector {
        SpeakerSelector::Any => true,
        SpeakerSelector::Agent => speaker == Speaker::Agent,
        SpeakerSelector::Customer => speaker == Speaker::Customer,
    }
}

fn who(selector: SpeakerSelector) -> &'static str {
    match selector {
        SpeakerSelector::Any => "anyone",
        SpeakerSelector::Agent => "the agent",
        SpeakerSelector::Customer => "the customer",
    }
}

fn window_text(within: Option<f64>, last: Option<f64>) -> String {
    match (within, last) {
        (Some(s), _) => format!(" in the first {s} s"),
        (_, Some(s)) => format!(" in the last {s} s"),
        _ => String::new(),
    }
}

/// The selected speaker's utterances inside the window; `None` when that speaker never spoke.
fn in_scope<'a>(
    call: &CallView<'a>,
    speaker: SpeakerSelector,
    within: Option<f64>,
    last: Option<f64>,
) -> Option<Vec<&'a EnrichedUtterance>> {
    let theirs: Vec<&EnrichedUtterance> = call
        .utterances
        .iter()
        .filter(|u| selects(speaker, u.utterance.speaker))
        .collect();
    if theirs.is_empty() {
        return None;
    }
    let from_ms = last.map_or(0, |s| call.duration_ms.saturating_sub((s * 1000.0) as u64));
    let to_ms = within.map_or(u64::MAX, |s| (s * 1000.0) as u64);
    Some(
        theirs
            .into_iter()
            .filter(|u| u.utterance.start_ms < to_ms && u.utterance.end_ms > from_ms)
            .collect(),
    )
}

/// Lower case, letters and digits only, words separated by single spaces, padded with spaces.
fn words_of(text: &str) -> String {
    let cleaned: String = text
        .to_lowercase()
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || c == '\'' {
                c
            } else {
                ' '
            }
        })
        .collect();
    format!(
        " {} ",
        cleaned.split_whitespace().collect::<Vec<_>>().join(" ")
    )
}

type Outcome = (Verdict, String, Vec<Evidence>);

fn evaluate_rule(rule: &Rule, call: &CallView<'_>, tokens: &mut u64) -> Result<Outcome, QaError> {
    Ok(match &rule.check {
        Check::Keyword {
            phrases,
            speaker,
            must,
            within_seconds,
            in_last_seconds,
        } => {
            let place = window_text(*within_seconds, *in_last_seconds);
            let Some(scope) = in_scope(call, *speaker, *within_seconds, *in_last_seconds) else {
                return Ok((
                    Verdict::NotApplicable,
                    format!("{} did not speak in this call", capitalise(who(*speaker))),
                    Vec::new(),
                ));
            };
            let wanted: Vec<String> = phrases
                .iter()
                .filter(|p| !p.trim().is_empty())
                .map(|p| words_of(p))
                .collect();
            let hit = scope.iter().find_map(|u| {
                let said = words_of(&u.utterance.text);
                wanted
                    .iter()
                    .find(|p| said.contains(p.as_str()))
                    .map(|p| (*u, p.trim().to_owned()))
            });
            let who = capitalise(who(*speaker));
            // A hit passes `say` and fails `not_say`; no hit the other way round.
            let verdict = if hit.is_some() == (*must == Must::Say) {
                Verdict::Passed
            } else {
                Verdict::Failed
            };
            match hit {
                Some((u, phrase)) => (
                    verdict,
                    format!("{who} said \"{phrase}\"{place}"),
                    vec![evidence(u)],
                ),
                None => {
                    let none = match must {
                        Must::Say => "never said any of",
                        Must::NotSay => "said none of",
                    };
                    (
                        verdict,
                        format!("{who} {none}: {}{place}", phrases.join(", ")),
                        Vec::new(),
                    )
                }
            }
        }
        Check::Semantic {
            examples,
            speaker,
            threshold,
            within_seconds,
            in_last_seconds,
        } => {
            let place = window_text(*within_seconds, *in_last_seconds);
            let Some(embedder) = call.embedder else {
                return Ok((
                    Verdict::NotApplicable,
                    "no embedding model is configured".into(),
                    Vec::new(),
                ));
            };
            let Some(scope) = in_scope(call, *speaker, *within_seconds, *in_last_seconds) else {
                return Ok((
                    Verdict::NotApplicable,
                    format!("{} did not speak in this call", capitalise(who(*speaker))),
                    Vec::new(),
                ));
            };
            if scope.is_empty() {
                return Ok((
                    Verdict::Failed,
                    format!("{} said nothing{place}", capitalise(who(*speaker))),
                    Vec::new(),
                ));
            }
            let examples: Vec<&str> = examples.iter().map(String::as_str).collect();
            let example_vectors = call
                .rubric_embedder
                .unwrap_or(embedder)
                .embed_batch(&examples)?;
            let texts: Vec<&str> = scope.iter().map(|u| u.utterance.text.as_str()).collect();
            let vectors = embedder.embed_batch(&texts)?;
            let (best, similarity) = vectors
                .iter()
                .enumerate()
                .map(|(i, v)| {
                    let s = example_vectors
                        .iter()
                        .map(|e| cosine(v, e))
                        .fold(f32::MIN, f32::max);
                    (i, s)
                })
                .max_by(|a, b| a.1.total_cmp(&b.1).then(b.0.cmp(&a.0)))
                .unwrap_or((0, 0.0));
            let similarity = f64::from(similarity);
            if similarity >= *threshold {
                (
                    Verdict::Passed,
                    format!(
                        "{} said something like the examples (similarity {similarity:.2} ≥ {threshold}){place}",
                        capitalise(who(*speaker))
                    ),
                    vec![evidence(scope[best])],
                )
            } else {
                (
                    Verdict::Failed,
                    format!(
                        "nothing {} said{place} is close to the examples (best similarity {similarity:.2} < {threshold})",
                        who(*speaker)
                    ),
                    vec![evidence(scope[best])],
                )
            }
        }
        Check::Metric { metric, op, value } => match metric_value(*metric, call) {
            None => (
                Verdict::NotApplicable,
                format!(
                    "{} is not known for this call (one speaker or no speech)",
                    metric_name(*metric)
                ),
                Vec::new(),
            ),
            Some(actual) => {
                let holds = op.holds(actual, *value);
                (
                    if holds {
                        Verdict::Passed
                    } else {
                        Verdict::Failed
                    },
                    format!(
                        "{} is {} ({} {} {value} {})",
                        metric_name(*metric),
                        round(actual),
                        round(actual),
                        op.symbol(),
                        if holds { "holds" } else { "does not hold" }
                    ),
                    Vec::new(),
                )
            }
        },
        Check::Sentiment {
            speaker,
            at,
            op,
            value,
        } => {
            let (found, supporting) = sentiment_at(call, *speaker, *at);
            let Some(found) = found else {
                return Ok((
                    Verdict::NotApplicable,
                    format!("{} did not speak in this call", capitalise(who(*speaker))),
                    Vec::new(),
                ));
            };
            let (holds, compared) = match value {
                SentimentValue::Label(label) => {
                    let mine = label_rank(found.label.as_str()).unwrap_or(0);
                    let theirs = label_rank(label).unwrap_or(0);
                    (
                        op.holds(f64::from(mine), f64::from(theirs)),
                        format!("{} {} {}", found.label.as_str(), op.symbol(), label.to_uppercase()),
                    )
                }
                SentimentValue::Score(score) => (
                    op.holds(found.score, *score),
                    format!("{} {} {score}", round(found.score), op.symbol()),
                ),
            };
            (
                if holds {
                    Verdict::Passed
                } else {
                    Verdict::Failed
                },
                format!(
                    "{}'s sentiment {} is {} (score {}): {compared} {}",
                    who(*speaker),
                    match at {
                        SentimentAt::Start => "at the start",
                        SentimentAt::End => "at the end",
                        SentimentAt::Overall => "overall",
                    },
                    found.label.as_str(),
                    round(found.score),
                    if holds { "holds" } else { "does not hold" }
                ),
                supporting.into_iter().map(evidence).collect(),
            )
        }
        Check::Llm { question } => match call.language_model {
            None => (
                Verdict::NotApplicable,
                "needs a hosted language model: set the tenant's ai-config model.engine to \"platform\" and LLM_PROVIDER to openai or anthropic".into(),
                Vec::new(),
            ),
            Some(model) => ask(model, question, call, tokens)?,
        },
    })
}

fn round(value: f64) -> String {
    let rounded = (value * 1000.0).round() / 1000.0;
    rounded.to_string()
}

/// The speaker's sentiment at the start (the first quarter they spoke in), at the end (the last
/// such quarter) or overall, with the utterances it was computed from.
fn sentiment_at<'a>(
    call: &CallView<'a>,
    speaker: SpeakerSelector,
    at: SentimentAt,
) -> (Option<SentimentAggregate>, Vec<&'a EnrichedUtterance>) {
    let theirs: Vec<&EnrichedUtterance> = call
        .utterances
        .iter()
        .filter(|u| selects(speaker, u.utterance.speaker))
        .collect();
    if theirs.is_empty() {
        return (None, Vec::new());
    }
    let quarter = |u: &EnrichedUtterance| quarter_of(u, call.duration_ms);
    let chosen: Vec<&EnrichedUtterance> = match at {
        SentimentAt::Overall => theirs,
        SentimentAt::Start | SentimentAt::End => {
            let target = if at == SentimentAt::Start {
                theirs.iter().map(|u| quarter(u)).min()
            } else {
                theirs.iter().map(|u| quarter(u)).max()
            };
            theirs
                .into_iter()
                .filter(|u| Some(quarter(u)) == target)
                .collect()
        }
    };
    (aggregate(chosen.iter().copied()), chosen)
}

fn metric_name(metric: MetricName) -> String {
    serde_json::to_value(metric)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

fn metric_value(metric: MetricName, call: &CallView<'_>) -> Option<f64> {
    let m = call.metrics;
    let speaker = |name: &str| m.speakers.get(name);
    Some(match metric {
        MetricName::AgentTalkRatio => m.agent_talk_ratio?,
        MetricName::CustomerTalkRatio => 1.0 - m.agent_talk_ratio?,
        MetricName::Interruptions => m.interruptions as f64,
        MetricName::AgentInterruptions => speaker("agent")?.interruptions as f64,
        MetricName::NonTalkRatio => m.non_talk_ratio,
        MetricName::NonTalkSeconds => m.non_talk_ms as f64 / 1000.0,
        MetricName::DurationSeconds => m.duration_ms as f64 / 1000.0,
        MetricName::WordsPerMinute => m.words_per_minute?,
        MetricName::AgentWordsPerMinute => speaker("agent")?.words_per_minute?,
        MetricName::CustomerWordsPerMinute => speaker("customer")?.words_per_minute?,
        MetricName::WordCount => m.word_count as f64,
        MetricName::UtteranceCount => m.utterance_count as f64,
    })
}

/// The transcript as the model sees it: `[index] Speaker (m:ss): text`.
pub fn transcript_text(utterances: &[EnrichedUtterance]) -> String {
    utterances
        .iter()
        .map(|u| {
            let s = u.utterance.start_ms / 1000;
            format!(
                "[{}] {} ({}:{:02}): {}",
                u.utterance.index,
                u.utterance.speaker.title(),
                s / 60,
                s % 60,
                u.utterance.text
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn ask(
    model: &dyn LanguageModel,
    question: &str,
    call: &CallView<'_>,
    tokens: &mut u64,
) -> Result<Outcome, QaError> {
    let schema = serde_json::json!({
        "type": "object",
        "required": ["answer", "reason", "evidence"],
        "properties": {
            "answer": {"type": "string", "enum": ["yes", "no", "not_applicable"]},
            "reason": {"type": "string"},
            "evidence": {"type": "array", "items": {"type": "integer"}}
        }
    });
    let messages = [
        Message::system(
            "You review call-centre calls for quality assurance. Answer the question about the call \
             with yes, no, or not_applicable, give a one-sentence reason, and list the [index] numbers \
             of the utterances that support your answer.",
        ),
        Message::user(format!(
            "Transcript:\n{}\n\nQuestion: {question}",
            transcript_text(call.utterances)
        )),
    ];
    let (value, usage) = match model.json(&messages, &schema) {
        Ok(answer) => answer,
        // The model kept replying with something else: no verdict, not a failed call.
        Err(LlmError::InvalidJson(why)) => {
            return Ok((
                Verdict::NotApplicable,
                format!("the language model gave no valid answer ({why})"),
                Vec::new(),
            ));
        }
        Err(other) => return Err(other.into()),
    };
    *tokens += usage.input_tokens + usage.output_tokens;
    let verdict = match value["answer"].as_str() {
        Some("yes") => Verdict::Passed,
        Some("no") => Verdict::Failed,
        _ => Verdict::NotApplicable,
    };
    let cited: Vec<Evidence> = value["evidence"]
        .as_array()
        .map(|items| {
            items
                .iter()
                .filter_map(|i| i.as_u64())
                .filter_map(|i| {
                    call.utterances
                        .iter()
                        .find(|u| u.utterance.index as u64 == i)
                })
                .map(evidence)
                .collect()
        })
        .unwrap_or_default();
    let reason = value["reason"].as_str().unwrap_or("").trim().to_owned();
    Ok((verdict, reason, cited))
}
