//! Parameter errors of the indicators.

/// An indicator parameter that TA-Lib would refuse.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum IndicatorError {
    /// An integer parameter (a period) outside TA-Lib's accepted range.
    #[error("{indicator}: {param} = {value} is out of range (TA-Lib accepts {min}..={max})")]
    PeriodOutOfRange {
        /// The indicator, e.g. `SMA`.
        indicator: &'static str,
        /// The parameter, e.g. `period`.
        param: &'static str,
        /// The value given.
        value: usize,
        /// The smallest accepted value.
        min: usize,
        /// The largest accepted value.
        max: usize,
    },
    /// A real parameter (a band width) that is NaN or infinite.
    #[error("{indicator}: {param} = {value} is not a finite number")]
    NotFinite {
        /// The indicator, e.g. `BBANDS`.
        indicator: &'static str,
        /// The parameter, e.g. `nb_dev_up`.
        param: &'static str,
        /// The value given.
        value: f64,
    },
}
