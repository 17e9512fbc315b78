//! The decision matrix: data in matrix/*.toml, a rule engine over pipeline features, rankings.

mod data;
mod engine;
mod features;
pub mod render;

pub use data::{Matrix, Shape, TOOLS};
pub use engine::{Assessment, Cost, Engine, Ranking, environment, nearest, parse_weights};
pub use features::{Features, features};
