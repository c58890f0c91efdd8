//! Output formatting shared by the engine verbs, as the docker CLI does it: a subset of Go's
//! text/template (`template`, `exec`), Docker's table layout through a Go-style tabwriter
//! (`table`), and go-units' human sizes and durations (`units`).
//!
//! Pure: no I/O beyond writing into the buffers it is handed. Values are `Data`, a JSON tree
//! that keeps object keys in the order the daemon sent them, so `{{json .Config}}` and
//! `image inspect` print fields in Docker's order (serde_json's `Value` sorts them).

pub mod data;
mod exec;
mod funcs;
mod lex;
pub mod table;
pub mod template;
pub mod units;

pub use data::Data;
pub use table::{render_list, tabwrite, ListFormat};
pub use template::{Template, TemplateError};
