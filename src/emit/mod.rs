//! Writers: IR → Python for a target framework, driven by templates/<target>/.

pub mod python;
