//! What the operator runs by hand: the command line, the demo seed and the enterprise import.

pub mod cli;
pub mod import;
pub mod seed;
