//! Verify: prove a port faithful — port in memory, read the result back with the target's
//! reader, compare the IR structure modulo the report's declared losses, then the traces.

pub mod check;
pub mod compare;
