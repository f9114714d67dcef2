//! China Standard Time (UTC+8, no daylight saving): the offset, the calendar date a deadline or
//! a statistic counts in, and every way the app and the server show a time.

use chrono::{DateTime, FixedOffset, NaiveDate, Utc};

/// China Standard Time.
pub fn china_offset() -> FixedOffset {
    FixedOffset::east_opt(8 * 3600).expect("UTC+8 is a valid offset")
}

fn local(at: DateTime<Utc>) -> DateTime<FixedOffset> {
    at.with_timezone(&china_offset())
}

/// The calendar date in China at `at`.
pub fn china_date(at: DateTime<Utc>) -> NaiveDate {
    local(at).date_naive()
}

/// `2026-11-26 09:30`.
pub fn minute(at: DateTime<Utc>) -> String {
    local(at).format("%Y-%m-%d %H:%M").to_string()
}

/// `09:30:05`, for "saved at" notes of the day.
pub fn clock(at: DateTime<Utc>) -> String {
    local(at).format("%H:%M:%S").to_string()
}

/// `11-26 09:30:05`, for the last sync.
pub fn short(at: DateTime<Utc>) -> String {
    local(at).format("%m-%d %H:%M:%S").to_string()
}

/// `2026年11月26日9时30分`, on documents: official dates carry no leading zeros (the minute
/// keeps two digits, as clocks read).
pub fn document_minute(at: DateTime<Utc>) -> String {
    local(at).format("%Y年%-m月%-d日%-H时%M分").to_string()
}

/// `2026年7月5日`, on documents.
pub fn document_date(at: DateTime<Utc>) -> String {
    document_day(china_date(at))
}

/// A calendar date as documents print it, without leading zeros: `2026年7月5日`.
pub fn document_day(day: NaiveDate) -> String {
    day.format("%Y年%-m月%-d日").to_string()
}

/// `20261126`, for file names.
pub fn compact_date(at: DateTime<Utc>) -> String {
    local(at).format("%Y%m%d").to_string()
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[test]
    fn times_are_shown_in_china_standard_time() {
        // 17:30 UTC on 25 Nov is 01:30 on 26 Nov in China.
        let at = Utc.with_ymd_and_hms(2026, 11, 25, 17, 30, 5).unwrap();
        assert_eq!(minute(at), "2026-11-26 01:30");
        assert_eq!(clock(at), "01:30:05");
        assert_eq!(short(at), "11-26 01:30:05");
        assert_eq!(compact_date(at), "20261126");
        assert_eq!(document_minute(at), "2026年11月26日1时30分");
        assert_eq!(document_date(at), "2026年11月26日");
        assert_eq!(
            china_date(at),
            NaiveDate::from_ymd_opt(2026, 11, 26).unwrap()
        );
    }

    #[test]
    fn document_dates_have_no_leading_zeros() {
        // 01:05 UTC on 5 July is 09:05 in China.
        let at = Utc.with_ymd_and_hms(2026, 7, 5, 1, 5, 0).unwrap();
        assert_eq!(document_date(at), "2026年7月5日");
        assert_eq!(document_minute(at), "2026年7月5日9时05分");
        let day = NaiveDate::from_ymd_opt(2026, 10, 1).unwrap();
        assert_eq!(document_day(day), "2026年10月1日");
    }
}
