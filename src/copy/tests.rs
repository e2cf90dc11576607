//! Safe extraction against hand-made archives.
