//! How the dashboard writes numbers, durations, times and links.

use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use serde::Serialize;

/// `HH:mm` of a total duration (hours may exceed 24).
pub fn hours_minutes(seconds: f64) -> String {
    let minutes = (seconds.max(0.0) / 60.0).round() as i64;
    format!("{:02}:{:02}", minutes / 60, minutes % 60)
}

/// `m:ss` of one call's duration.
pub fn minutes_seconds(seconds: f64) -> String {
    let total = seconds.max(0.0).round() as i64;
    format!("{}:{:02}", total / 60, total % 60)
}

/// `mm:ss` of a position in a recording.
pub fn timestamp(ms: u64) -> String {
    let total = ms / 1000;
    format!("{:02}:{:02}", total / 60, total % 60)
}

pub fn percent(rate: Option<f64>) -> String {
    rate.map(|r| format!("{:.0}%", r * 100.0))
        .unwrap_or_else(|| "–".into())
}

/// A signed score with two decimals (`+0.25`, `−0.10`).
pub fn score(value: Option<f64>) -> String {
    match value {
        Some(v) if v < -0.005 => format!("−{:.2}", -v),
        Some(v) => format!("+{:.2}", v.abs()),
        None => "–".into(),
    }
}

/// `2026-11-20 14:03 UTC` of Unix milliseconds.
pub fn datetime(ms: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(ms.div_euclid(1000))
        .ok()
        .and_then(|t| {
            t.format(time::macros::format_description!(
                "[year]-[month]-[day] [hour]:[minute] UTC"
            ))
            .ok()
        })
        .unwrap_or_default()
}

/// A path segment, percent-encoded (agent ids hold `@` and `+`).
pub fn segment(raw: &str) -> String {
    utf8_percent_encode(raw, NON_ALPHANUMERIC).to_string()
}

/// `?query` of a form's fields, blanks left out, for pagination and export links.
pub fn query_string<T: Serialize>(query: &T) -> String {
    let encoded = serde_urlencoded::to_string(query).unwrap_or_default();
    let kept: Vec<&str> = encoded
        .split('&')
        .filter(|pair| !pair.is_empty() && !pair.ends_with('='))
        .collect();
    if kept.is_empty() {
        String::new()
    } else {
        format!("?{}", kept.join("&"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_and_scores_read_naturally() {
        assert_eq!(hours_minutes(3_660.0), "01:01");
        assert_eq!(hours_minutes(90_000.0), "25:00");
        assert_eq!(minutes_seconds(75.4), "1:15");
        assert_eq!(timestamp(61_900), "01:01");
        assert_eq!(score(Some(-0.104)), "−0.10");
        assert_eq!(score(Some(0.0)), "+0.00");
        assert_eq!(percent(Some(0.666)), "67%");
        assert_eq!(percent(None), "–");
        assert_eq!(datetime(1_795_305_600_000), "2026-11-22 00:00 UTC");
        assert_eq!(segment("ana+1@acme.example"), "ana%2B1%40acme%2Eexample");
    }
}
