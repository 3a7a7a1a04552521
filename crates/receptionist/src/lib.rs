//! The AI receptionist (SPEC §6, §8): global industry templates, the tenant's cloned copy of one
//! (its receptionist settings), the readiness score, utterance matching (knowledge Q&A, then
//! scenarios, with filler words stripped and urgency weighed), placeholder filling that never
//! speaks a raw `{placeholder}`, and TwiML. Pure logic, except the `store` feature's
//! `documents` (reading and writing them); webhooks and signatures live in the server crate.

#[cfg(feature = "store")]
pub mod documents;
pub mod matching;
pub mod placeholders;
pub mod readiness;
pub mod responder;
pub mod settings;
pub mod template;
pub mod twiml;

pub use settings::ReceptionistSettings;
pub use template::Template;
