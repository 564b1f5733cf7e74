//! Errors of building a strategy (unknown names, bad parameters, inconsistent configuration).

/// Why a strategy could not be built. Every message names the strategy and the parameter, and
/// lists what is accepted where a list exists.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StrategyError {
    /// No strategy of that name.
    #[error("unknown strategy {name:?}; available: {available}")]
    UnknownStrategy {
        /// The name given.
        name: String,
        /// The registered names, comma-separated.
        available: String,
    },
    /// A parameter the strategy does not have.
    #[error("{strategy}: unknown parameter {param:?}; accepted: {accepted}")]
    UnknownParam {
        /// The strategy.
        strategy: &'static str,
        /// The parameter given.
        param: String,
        /// The accepted parameters, comma-separated.
        accepted: String,
    },
    /// A parameter value that does not parse as the expected type.
    #[error("{strategy}: parameter {param} = {value:?} is not {expected}")]
    BadValue {
        /// The strategy.
        strategy: &'static str,
        /// The parameter.
        param: String,
        /// The text given.
        value: String,
        /// What was expected, e.g. `an integer`.
        expected: &'static str,
    },
    /// Values that parse but do not make a valid strategy (e.g. `fast >= slow`).
    #[error("{strategy}: {reason}")]
    InvalidConfig {
        /// The strategy.
        strategy: &'static str,
        /// What is wrong, with the values.
        reason: String,
    },
}
