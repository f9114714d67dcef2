//! What the operator runs by hand: the command line, the demo seed, the enterprise import,
//! backups and the 案卷 archives.

pub mod archive;
pub mod backup;
pub mod cli;
pub mod demo_guard;
mod demo_hazards;
mod demo_photos;
pub mod demo_plans;
pub mod import;
pub mod seed;
