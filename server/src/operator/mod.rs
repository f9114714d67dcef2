//! What the operator runs by hand: the command line, the demo seed, the enterprise import and
//! backups.

pub mod backup;
pub mod cli;
pub mod demo_guard;
pub mod import;
pub mod seed;
