//! Downloading klines into aurum's CSV format: paginated (up to 1000 candles a request),
//! resumable (a second run continues after the last candle of the file), gaps reported.
//!
//! Each page is appended to the file as soon as it arrives (formatted by
//! [`aurum_data::write_csv`]), so an interrupted download keeps what it fetched; a last line cut
//! short by a crash is removed before resuming. Only closed candles are written (close time
//! before the venue's clock), so the bar still forming is never stored half-made.

use crate::error::ExchangeError;
use crate::exchange::Exchange;
use crate::types::KlineQuery;
use aurum_core::{Candle, Symbol, Timeframe};
use aurum_data::{DataError, Format, GapReport, LoadOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Binance's largest page of klines.
pub const MAX_PAGE: u16 = 1000;

/// What to download.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DownloadSpec {
    /// The pair.
    pub symbol: Symbol,
    /// Bar length.
    pub timeframe: Timeframe,
    /// First open time wanted (ms, inclusive).
    pub since_ms: i64,
    /// Last open time wanted (ms, inclusive); `None`: up to the last closed candle.
    pub until_ms: Option<i64>,
    /// The aurum CSV file to create or extend.
    pub out: PathBuf,
    /// Candles per request (1..=1000).
    pub page_limit: u16,
}

impl DownloadSpec {
    /// The conventional file name in `dir`: `BTC_USDT-5m.csv`.
    pub fn default_path(dir: &Path, symbol: &Symbol, timeframe: Timeframe) -> PathBuf {
        dir.join(format!("{}-{}.csv", symbol.file_stem(), timeframe))
    }
}

/// Progress of a download, for the caller's progress bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progress {
    /// About to fetch: at most `candles` candles are expected (fewer when the venue has gaps).
    Planned {
        /// Expected new candles.
        candles: u64,
    },
    /// A page was written.
    Page {
        /// New candles written so far.
        candles: u64,
        /// Open time of the newest candle written.
        last_open_ms: i64,
    },
}

/// What a download did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DownloadReport {
    /// The file written.
    pub path: PathBuf,
    /// Candles the file had before.
    pub existing: usize,
    /// The last open time of the file before, when it was resumed.
    pub resumed_after_ms: Option<i64>,
    /// Bytes of a cut-off last line removed before resuming.
    pub repaired_bytes: u64,
    /// New candles written.
    pub fetched: usize,
    /// Requests made for pages of klines (besides one for the venue's newest bar).
    pub requests: usize,
    /// Candles in the file now.
    pub total: usize,
    /// First and last open time in the file now.
    pub range_ms: Option<(i64, i64)>,
    /// Missing candles inside the file's range.
    pub gaps: GapReport,
}

/// Why a download failed.
#[derive(Debug, thiserror::Error)]
pub enum DownloadError {
    /// The venue failed.
    #[error("download: {0}")]
    Exchange(#[from] ExchangeError),
    /// The existing file could not be read as aurum CSV.
    #[error("download: cannot resume: {0}")]
    Data(#[from] DataError),
    /// Writing failed.
    #[error("download: {path}: {source}")]
    Io {
        /// The file or directory.
        path: String,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// The request makes no sense (an empty range, a bad page size).
    #[error("download: {0}")]
    Invalid(String),
    /// The venue sent candles that do not move forward (a page repeating itself).
    #[error("download: the venue returned no candle after {after_ms} although more were asked for")]
    Stuck {
        /// The open time the page should have started after.
        after_ms: i64,
    },
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> DownloadError + '_ {
    move |source| DownloadError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// Removes a last line without its `\n` (a write cut short); returns the bytes removed.
fn repair_tail(path: &Path) -> Result<u64, DownloadError> {
    let bytes = std::fs::read(path).map_err(io_err(path))?;
    if bytes.is_empty() || bytes.last() == Some(&b'\n') {
        return Ok(0);
    }
    let keep = bytes
        .iter()
        .rposition(|b| *b == b'\n')
        .map(|i| i + 1)
        .unwrap_or(0);
    let file = std::fs::OpenOptions::new()
        .write(true)
        .open(path)
        .map_err(io_err(path))?;
    let keep = u64::try_from(keep).unwrap_or(0);
    file.set_len(keep).map_err(io_err(path))?;
    Ok(u64::try_from(bytes.len()).unwrap_or(0) - keep)
}

/// The candles already in `path` (none when it does not exist or holds no candle).
fn existing_candles(
    path: &Path,
    timeframe: Timeframe,
) -> Result<(Vec<Candle>, u64), DownloadError> {
    if !path.exists() {
        return Ok((Vec::new(), 0));
    }
    let repaired = repair_tail(path)?;
    let opts = LoadOptions {
        format: Some(Format::AurumCsv),
        timeframe: Some(timeframe),
    };
    match aurum_data::load(path, &opts) {
        Ok(l) => Ok((l.candles, repaired)),
        // Empty or header only: start the file again.
        Err(DataError::Empty { .. }) => {
            std::fs::remove_file(path).map_err(io_err(path))?;
            Ok((Vec::new(), repaired))
        }
        Err(e) => Err(e.into()),
    }
}

/// Appends candles to the file, with the header when the file is new.
fn append(path: &Path, candles: &[Candle]) -> Result<(), DownloadError> {
    let new = !path.exists();
    if new
        && let Some(dir) = path.parent()
        && !dir.as_os_str().is_empty()
    {
        std::fs::create_dir_all(dir).map_err(io_err(dir))?;
    }
    let mut text = Vec::with_capacity(candles.len() * 64);
    aurum_data::write_csv(candles, &mut text).map_err(io_err(path))?;
    let rows = if new {
        &text[..]
    } else {
        // Drop the header line write_csv starts with.
        let start = text
            .iter()
            .position(|b| *b == b'\n')
            .map(|i| i + 1)
            .unwrap_or(0);
        &text[start..]
    };
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(io_err(path))?;
    file.write_all(rows).map_err(io_err(path))?;
    file.sync_data().map_err(io_err(path))
}

/// Downloads the candles of `spec` into `spec.out`, page by page, calling `progress` as it
/// goes. A file that already holds candles is continued after its last one.
pub async fn download<E: Exchange>(
    exchange: &E,
    spec: &DownloadSpec,
    mut progress: impl FnMut(Progress),
) -> Result<DownloadReport, DownloadError> {
    if spec.page_limit == 0 || spec.page_limit > MAX_PAGE {
        return Err(DownloadError::Invalid(format!(
            "page size {} is outside 1..={MAX_PAGE}",
            spec.page_limit
        )));
    }
    let tf = spec.timeframe.millis();
    let now = exchange.server_time().await?;
    // The last open time of a closed candle: open + tf - 1 < now.
    let last_closed_open = now - tf;
    // The venue's newest bar bounds the plan (and the progress bar) for old data.
    let newest = exchange
        .klines(&KlineQuery {
            symbol: spec.symbol.clone(),
            timeframe: spec.timeframe,
            start_ms: None,
            end_ms: None,
            limit: Some(1),
        })
        .await?
        .last()
        .map(|k| k.candle.open_time_ms)
        .unwrap_or(i64::MIN);
    let end = spec
        .until_ms
        .unwrap_or(i64::MAX)
        .min(last_closed_open)
        .min(newest);
    let (mut candles, repaired_bytes) = existing_candles(&spec.out, spec.timeframe)?;
    let existing = candles.len();
    let resumed_after_ms = candles.last().map(|c| c.open_time_ms);
    let mut start = match resumed_after_ms {
        Some(last) => spec.since_ms.max(last + tf),
        None => spec.since_ms,
    };
    if spec.until_ms.is_some_and(|u| u < spec.since_ms) {
        return Err(DownloadError::Invalid(format!(
            "until {} is before since {}",
            spec.until_ms.unwrap_or(0),
            spec.since_ms
        )));
    }
    let planned = if end >= start {
        u64::try_from((end - start) / tf + 1).unwrap_or(0)
    } else {
        0
    };
    progress(Progress::Planned { candles: planned });

    let mut fetched = 0usize;
    let mut requests = 0usize;
    while start <= end {
        let query = KlineQuery {
            symbol: spec.symbol.clone(),
            timeframe: spec.timeframe,
            start_ms: Some(start),
            end_ms: Some(end),
            limit: Some(spec.page_limit),
        };
        let page = exchange.klines(&query).await?;
        requests += 1;
        let received = page.len();
        let new: Vec<Candle> = page
            .into_iter()
            .filter(|k| k.candle.open_time_ms >= start && k.candle.open_time_ms <= end)
            .map(|k| k.candle)
            .collect();
        let Some(last) = new.last().map(|c| c.open_time_ms) else {
            if received >= usize::from(spec.page_limit) {
                return Err(DownloadError::Stuck { after_ms: start });
            }
            break;
        };
        append(&spec.out, &new)?;
        fetched += new.len();
        candles.extend_from_slice(&new);
        progress(Progress::Page {
            candles: u64::try_from(fetched).unwrap_or(u64::MAX),
            last_open_ms: last,
        });
        if received < usize::from(spec.page_limit) {
            break;
        }
        start = last + tf;
    }
    let gaps = aurum_data::detect_gaps(&candles, spec.timeframe);
    Ok(DownloadReport {
        path: spec.out.clone(),
        existing,
        resumed_after_ms,
        repaired_bytes,
        fetched,
        requests,
        total: candles.len(),
        range_ms: candles
            .first()
            .zip(candles.last())
            .map(|(a, b)| (a.open_time_ms, b.open_time_ms)),
        gaps,
    })
}
