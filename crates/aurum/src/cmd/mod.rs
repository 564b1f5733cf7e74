//! One module per subcommand.

pub mod backtest;
pub mod bench;
pub mod bench_live;
pub mod data;
pub mod db;
pub mod download;
pub mod exchange_sim;
pub mod indicators;
pub mod loadtest;
pub mod optimize;
pub mod serve;
pub mod trade;
