//! Placeholder: replaced by `cargo run -p codegen`.
