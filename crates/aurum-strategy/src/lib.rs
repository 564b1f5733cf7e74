//! # aurum-strategy
//!
//! Strategy-side maths of aurum, pure (no IO, no clock). For now: [`indicators`], streaming
//! technical indicators that reproduce TA-Lib's outputs.

#![warn(missing_docs)]

pub mod indicators;
