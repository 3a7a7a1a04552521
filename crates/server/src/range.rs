//! The date range of the dashboard and the analytics API. `from` and `to` are calendar dates
//! (`YYYY-MM-DD`, both inclusive, UTC) or RFC 3339 times (`to` exclusive); the default is the
//! last 30 days, today included.

use axum::http::StatusCode;
use serde::Deserialize;
use switchboard_pipeline::flat::rfc3339_ms;
use switchboard_store::repo::analytics::{DAY_MS, TimeRange, day_label};
use utoipa::IntoParams;

use crate::error::{ApiError, ApiResult};

pub const DEFAULT_DAYS: i64 = 30;
/// The widest range one request may ask for (ten years).
const MAX_DAYS: i64 = 3660;

#[derive(Clone, Debug, Default, Deserialize, IntoParams)]
pub struct RangeQuery {
    /// First day (`YYYY-MM-DD`, inclusive) or time (RFC 3339); default: 29 days before today.
    pub from: Option<String>,
    /// Last day (`YYYY-MM-DD`, inclusive) or time (RFC 3339, exclusive); default: today (UTC).
    pub to: Option<String>,
}

/// A resolved range, with the dates to show in a date picker.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct DateRange {
    #[serde(skip)]
    pub range: TimeRange,
    /// First day, `YYYY-MM-DD`.
    pub from: String,
    /// Last day, `YYYY-MM-DD` (inclusive).
    pub to: String,
}

fn invalid(field: &str) -> ApiError {
    ApiError::new(
        StatusCode::BAD_REQUEST,
        "invalid_range",
        format!("{field} must be a date (2026-11-01) or an RFC 3339 time (2026-11-01T00:00:00Z)"),
    )
}

/// Midnight (UTC) starting `YYYY-MM-DD`, in Unix milliseconds.
fn date_ms(raw: &str) -> Option<i64> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    time::Date::parse(raw, format)
        .ok()
        .map(|date| date.midnight().assume_utc().unix_timestamp() * 1000)
}

/// A bound of a range: a date (midnight starting it, or ending it when `end`) or an RFC 3339
/// time; `None` when absent or blank.
pub fn bound(field: &str, raw: Option<&str>, end: bool) -> ApiResult<Option<i64>> {
    let Some(raw) = raw.map(str::trim).filter(|raw| !raw.is_empty()) else {
        return Ok(None);
    };
    if let Some(ms) = date_ms(raw) {
        return Ok(Some(if end { ms + DAY_MS } else { ms }));
    }
    rfc3339_ms(raw).map(Some).ok_or_else(|| invalid(field))
}

impl RangeQuery {
    pub fn resolve(&self, now_ms: i64) -> ApiResult<DateRange> {
        let to_ms = bound("to", self.to.as_deref(), true)?
            .unwrap_or_else(|| (now_ms.div_euclid(DAY_MS) + 1) * DAY_MS);
        let from_ms =
            bound("from", self.from.as_deref(), false)?.unwrap_or(to_ms - DEFAULT_DAYS * DAY_MS);
        if from_ms >= to_ms {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_range",
                "from must be before to",
            ));
        }
        if to_ms - from_ms > MAX_DAYS * DAY_MS {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_range",
                format!("a range spans at most {MAX_DAYS} days"),
            ));
        }
        Ok(DateRange {
            range: TimeRange { from_ms, to_ms },
            from: day_label(from_ms.div_euclid(DAY_MS)),
            to: day_label((to_ms - 1).div_euclid(DAY_MS)),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOV_22: i64 = 1_795_305_600_000; // 2026-11-22T00:00:00Z

    fn query(from: Option<&str>, to: Option<&str>) -> RangeQuery {
        RangeQuery {
            from: from.map(str::to_owned),
            to: to.map(str::to_owned),
        }
    }

    #[test]
    fn the_default_is_the_last_thirty_days_with_today() {
        let range = query(None, None).resolve(NOV_22 + 5_000).unwrap();
        assert_eq!(
            (range.from.as_str(), range.to.as_str()),
            ("2026-10-24", "2026-11-22")
        );
        assert_eq!(range.range.to_ms - range.range.from_ms, 30 * DAY_MS);
    }

    #[test]
    fn dates_are_inclusive_and_times_exact() {
        let range = query(Some("2026-11-01"), Some("2026-11-01"))
            .resolve(NOV_22)
            .unwrap();
        assert_eq!(range.range.to_ms - range.range.from_ms, DAY_MS);
        assert_eq!(range.to, "2026-11-01");
        let range = query(Some("2026-11-01T12:00:00Z"), Some("2026-11-02T00:00:00Z"))
            .resolve(NOV_22)
            .unwrap();
        assert_eq!(range.range.to_ms - range.range.from_ms, DAY_MS / 2);
    }

    #[test]
    fn bad_ranges_are_refused() {
        for (from, to) in [
            (Some("yesterday"), None),
            (Some("2026-11-05"), Some("2026-11-01")),
            (Some("2000-01-01"), Some("2026-01-01")),
        ] {
            assert_eq!(
                query(from, to).resolve(NOV_22).unwrap_err().code,
                "invalid_range"
            );
        }
    }
}
