//! Container networking, the kernel side: network namespaces pinned by bind mounts
//! ([`netns`]), bridges and veth pairs over rtnetlink ([`link`]), address management
//! ([`ipam`]), the embedded DNS server for service discovery ([`dns`]), published ports
//! through a userland proxy and kernel NAT ([`ports`], [`nft`]).
//!
//! Used by the daemon only (`daemon::networks` drives it); the client side never touches a
//! namespace. Everything here is idempotent where the daemon may repeat it after a crash.

pub mod dns;
pub mod ipam;
pub mod link;
pub mod netns;
pub mod nft;
pub mod ports;
