//! One module per command.

pub mod demo;
pub mod inspect;
pub mod merge;
pub mod run;
pub mod shop;
