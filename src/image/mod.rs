//! Images: the content-addressed store, references, registry pull and push, layer
//! unpacking, and image archives. Daemon side; the client side only uses `reference`.

pub mod archive;
pub mod digest;
pub mod platform;
pub mod progress;
pub mod pull;
pub mod push;
pub mod reference;
pub mod registry;
pub mod store;
pub mod unpack;
