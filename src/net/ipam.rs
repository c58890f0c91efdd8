//! IP address management, pure: default address pools split into subnets (Docker's
//! 172.17.0.0/16, 172.18-31.0.0/16, 192.168.0.0/16 in /20s), skipping subnets in use or
//! routed on the host; per-network address allocation (gateway, `--ip-range`, static
//! addresses, never two live endpoints with one address).
//!
//! The network-manager helper owns this file.
