//! What a run leaves behind: the console output and result files.

pub mod console;
pub mod csv;
pub mod json;
