//! The artifacts each stage writes (SPEC §3, §4): `raw` (the transcript), `enriched`
//! (+ sentiment and metrics) and `final/v1.0` (the full analysed record). Their JSON shapes are
//! the public contract of the results area.

use serde::{Deserialize, Serialize};
use switchboard_engines::Sentiment;
use switchboard_engines::asr::EngineInfo;

use crate::metrics::ConversationMetrics;
use crate::qa::QaResult;
use crate::sentiment::SentimentSummary;
use crate::summary::{NextStep, Summary};

pub const FINAL_SCHEMA_VERSION: &str = "1.0";

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Speaker {
    Agent,
    Customer,
    /// A mono recording: this engine cannot tell speakers apart.
    Unknown,
}

impl Speaker {
    pub fn as_str(self) -> &'static str {
        match self {
            Speaker::Agent => "agent",
            Speaker::Customer => "customer",
            Speaker::Unknown => "unknown",
        }
    }

    /// "Agent" / "Customer" / "Speaker", for attributed text.
    pub fn title(self) -> &'static str {
        match self {
            Speaker::Agent => "Agent",
            Speaker::Customer => "Customer",
            Speaker::Unknown => "Speaker",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Utterance {
    pub index: usize,
    pub speaker: Speaker,
    pub channel: usize,
    pub start_ms: u64,
    pub end_ms: u64,
    pub text: String,
    pub confidence: f32,
}

impl Utterance {
    pub fn words(&self) -> usize {
        self.text.split_whitespace().count()
    }

    pub fn duration_ms(&self) -> u64 {
        self.end_ms.saturating_sub(self.start_ms)
    }
}

/// `results/<t>/raw/<call_id>.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RawTranscript {
    pub call_id: String,
    pub language: String,
    pub engine: EngineInfo,
    pub duration_ms: u64,
    pub channels: usize,
    pub utterances: Vec<Utterance>,
    /// How the utterances got their speakers; absent for a mono recording with one utterance
    /// or less, and for live calls (whose turns say who spoke).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub diarization: Option<Diarization>,
    /// Wall time of the stage.
    pub elapsed_ms: u64,
}

/// How speakers were told apart.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Diarization {
    /// `channels` (one speaker per channel) or `voices` (a mono recording's voices, grouped by
    /// a voice encoder).
    pub method: String,
    /// The voice encoder, for `voices`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// How many speakers were found.
    pub voices: usize,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EnrichedUtterance {
    #[serde(flatten)]
    pub utterance: Utterance,
    pub sentiment: Sentiment,
}

/// `results/<t>/enriched/<call_id>.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EnrichedCall {
    pub call_id: String,
    pub language: String,
    pub asr: EngineInfo,
    pub sentiment_engine: String,
    pub duration_ms: u64,
    pub utterances: Vec<EnrichedUtterance>,
    pub sentiment: SentimentSummary,
    pub metrics: ConversationMetrics,
    /// Wall time of the transcribe stage, carried for provenance.
    pub transcribe_ms: u64,
    pub elapsed_ms: u64,
    /// Set when the tenant redacts PII: the utterance texts above are redacted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redaction: Option<crate::redact::Applied>,
    /// How speakers were told apart (from the raw transcript).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub diarization: Option<Diarization>,
}

/// Who and when, from the provider metadata and the tenant's agent domains and numbers.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CallFacts {
    /// RFC 3339.
    pub started_at: String,
    pub ended_at: String,
    pub duration_seconds: f64,
    pub direction: String,
    pub calling_party: Option<String>,
    pub called_party: Option<String>,
    pub agent_id: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ModelUse {
    pub engine: String,
    pub model: String,
}

/// What produced the record, and how long each stage took.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Provenance {
    pub asr: EngineInfo,
    pub sentiment: String,
    pub embeddings: Option<String>,
    pub language_model: Option<ModelUse>,
    /// `extractive` (embedded default) or `language_model`.
    pub summary_method: String,
    pub pipeline_version: String,
    pub ai_config_version: u32,
    pub qa_config_version: u32,
    pub transcribe_ms: u64,
    pub enrich_ms: u64,
    pub analyse_ms: u64,
    pub model_tokens: u64,
    pub analysed_at: String,
    /// Set when the transcript was redacted (SPEC §4.3).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redaction: Option<crate::redact::Applied>,
    /// How speakers were told apart: by channel, or by voice with which model.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub diarization: Option<Diarization>,
}

/// `results/<t>/final/v1.0/<call_id>.json`: the full analysed call record.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FinalRecord {
    pub schema_version: String,
    pub call_id: String,
    pub tenant_id: String,
    pub result_version: i64,
    pub call: CallFacts,
    /// Provider metadata as received, with its `normalised` object.
    pub metadata: serde_json::Value,
    pub language: String,
    pub transcript: Vec<EnrichedUtterance>,
    pub sentiment: SentimentSummary,
    pub metrics: ConversationMetrics,
    pub summary: Summary,
    pub next_steps: Vec<NextStep>,
    pub qa: QaResult,
    pub provenance: Provenance,
}
