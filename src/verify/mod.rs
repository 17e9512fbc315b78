//! `orchmig verify`: prove a port faithful — port in memory, read the result back with the
//! target's reader, compare the IR structure modulo the report's declared losses, then the traces.

pub mod cmd;
pub mod compare;
