use super::*;

fn row(found: &str, closed: Option<&str>, n: i64) -> MonthRow {
    MonthRow {
        found_month: Some(found.to_owned()),
        closed_month: closed.map(str::to_owned),
        n,
    }
}

#[test]
fn month_series_counts_found_closed_and_open_at_month_end() {
    let rows = [
        row("2026-01", None, 2),
        row("2026-01", Some("2026-02"), 3),
        row("2026-03", Some("2026-03"), 1),
    ];
    let to = NaiveDate::from_ymd_opt(2026, 3, 15).unwrap();
    let series = month_series(&rows, None, to);
    let got: Vec<(&str, u64, u64, u64)> = series
        .iter()
        .map(|p| (p.month.as_str(), p.found, p.closed, p.open_at_end))
        .collect();
    assert_eq!(
        got,
        vec![
            ("2026-01", 5, 0, 5),
            ("2026-02", 0, 3, 2),
            ("2026-03", 1, 1, 2)
        ]
    );
}

#[test]
fn month_series_starts_at_from_and_is_capped() {
    let from = NaiveDate::from_ymd_opt(2025, 11, 30);
    let to = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
    let months: Vec<String> = month_series(&[], from, to)
        .into_iter()
        .map(|p| p.month)
        .collect();
    assert_eq!(months, ["2025-11", "2025-12", "2026-01"]);
    let from = NaiveDate::from_ymd_opt(1990, 1, 1);
    assert_eq!(month_series(&[], from, to).len(), MAX_MONTHS);
    assert!(month_series(&[], None, to).is_empty());
}

#[test]
fn like_patterns_escape_wildcards() {
    assert_eq!(escape_like("50%_a\\b"), "50\\%\\_a\\\\b");
}
