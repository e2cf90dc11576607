//! Placeholder: replaced by `cargo run -p codegen`.
/// Newest API version known.
pub const NEWEST_API_VERSION: crate::ApiVersion = crate::ApiVersion::new(1, 56);
