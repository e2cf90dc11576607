//! One handle per API group, each a cheap view of the [`crate::Docker`] client.
//!
//! Required arguments are positional; optional ones come in the generated
//! `…Options` structs of [`crate::operations`] (all `Default`, with setters).

mod containers;
mod exec;
mod images;
mod networks;
mod system;
mod volumes;

pub use containers::{Containers, PathStat};
pub use exec::Exec;
pub use images::{registry_auth_header, Images};
pub use networks::Networks;
pub use system::System;
pub use volumes::Volumes;
