//! What the home screen lists and in which order: today's visits, then unfinished ones from
//! earlier days, then the recent finished ones, a page at a time (the list on a phone that has
//! pulled a team's year of work would otherwise grow without end).

use chrono::NaiveDate;

use crate::model::Inspection;
use crate::time::china_date;

/// Rows shown on the home screen at first, and added by each 显示更多.
pub const HOME_PAGE: usize = 10;

/// The section of the home list an inspection falls in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum HomeSection {
    /// Started today (China time), finished or not.
    Today,
    /// Started on an earlier day and not finished: work left open.
    Unfinished,
    /// Finished on an earlier day.
    Recent,
}

impl HomeSection {
    pub fn label_zh(self) -> &'static str {
        match self {
            Self::Today => "今天",
            Self::Unfinished => "未完成",
            Self::Recent => "最近完成",
        }
    }

    pub fn of(inspection: &Inspection, today: NaiveDate) -> Self {
        if china_date(inspection.started_at) == today {
            Self::Today
        } else if inspection.finished_at.is_none() {
            Self::Unfinished
        } else {
            Self::Recent
        }
    }
}

/// `inspections` in home order with their section: today (unfinished first, then the newest),
/// then earlier unfinished ones (newest first), then finished ones (last finished first).
pub fn home_order(
    inspections: Vec<Inspection>,
    today: NaiveDate,
) -> Vec<(HomeSection, Inspection)> {
    let mut rows: Vec<(HomeSection, Inspection)> = inspections
        .into_iter()
        .map(|i| (HomeSection::of(&i, today), i))
        .collect();
    rows.sort_by(|(sa, a), (sb, b)| {
        sa.cmp(sb)
            .then_with(|| a.finished_at.is_some().cmp(&b.finished_at.is_some()))
            .then_with(|| {
                let last = |i: &Inspection| i.finished_at.unwrap_or(i.started_at);
                last(b).cmp(&last(a))
            })
            .then_with(|| b.id.0.cmp(&a.id.0))
    });
    rows
}

/// How many rows a home screen shows after `pages` pages, of `total`.
pub fn shown(pages: usize, total: usize) -> usize {
    pages.max(1).saturating_mul(HOME_PAGE).min(total)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::{EnterpriseId, InspectionId, OrgId, UserId};
    use crate::model::InspectionKind;
    use chrono::{DateTime, Duration, TimeZone, Utc};

    fn at(day: u32, hour: u32) -> DateTime<Utc> {
        // 08:00 China time is 00:00 UTC.
        Utc.with_ymd_and_hms(2026, 12, day, hour, 0, 0).unwrap()
    }

    fn visit(started: DateTime<Utc>, finished: Option<DateTime<Utc>>) -> Inspection {
        Inspection {
            entry: Default::default(),
            id: InspectionId::new(),
            org_id: OrgId::new(),
            enterprise_id: EnterpriseId::new(),
            kind: InspectionKind::Routine,
            packs: vec![],
            inspectors: vec![],
            created_by: UserId::new(),
            started_at: started,
            check_in: None,
            places: String::new(),
            item_results: vec![],
            summary: String::new(),
            finished_at: finished,
            enterprise_signature: None,
            documents: vec![],
            reinspected_findings: vec![],
            fire_venues: vec![],
            inspector_signatures: vec![],
            recording: None,
            corrections: vec![],
        }
    }

    #[test]
    fn today_comes_first_then_unfinished_then_recent() {
        let today = NaiveDate::from_ymd_opt(2026, 12, 6).unwrap();
        let old_done = visit(at(1, 1), Some(at(1, 3)));
        let newer_done = visit(at(3, 1), Some(at(3, 2)));
        let old_open = visit(at(2, 1), None);
        let newer_open = visit(at(4, 1), None);
        let today_done = visit(at(6, 1), Some(at(6, 2)));
        let today_open = visit(at(6, 0), None);
        let ids =
            |rows: &[(HomeSection, Inspection)]| rows.iter().map(|(_, i)| i.id).collect::<Vec<_>>();
        let rows = home_order(
            vec![
                old_done.clone(),
                today_done.clone(),
                old_open.clone(),
                newer_done.clone(),
                today_open.clone(),
                newer_open.clone(),
            ],
            today,
        );
        assert_eq!(
            ids(&rows),
            vec![
                today_open.id,
                today_done.id,
                newer_open.id,
                old_open.id,
                newer_done.id,
                old_done.id
            ]
        );
        let sections: Vec<HomeSection> = rows.iter().map(|(s, _)| *s).collect();
        assert_eq!(
            sections,
            vec![
                HomeSection::Today,
                HomeSection::Today,
                HomeSection::Unfinished,
                HomeSection::Unfinished,
                HomeSection::Recent,
                HomeSection::Recent
            ]
        );
    }

    #[test]
    fn today_is_the_china_day_not_the_utc_day() {
        // 2026-12-05 23:00 UTC is 2026-12-06 07:00 in China.
        let late = Utc.with_ymd_and_hms(2026, 12, 5, 23, 0, 0).unwrap();
        let today = NaiveDate::from_ymd_opt(2026, 12, 6).unwrap();
        assert_eq!(
            HomeSection::of(&visit(late, Some(late + Duration::hours(1))), today),
            HomeSection::Today
        );
        assert_eq!(
            HomeSection::of(&visit(late - Duration::hours(9), Some(late)), today),
            HomeSection::Recent
        );
    }

    #[test]
    fn a_page_at_a_time_never_past_the_end() {
        assert_eq!(shown(1, 25), HOME_PAGE);
        assert_eq!(shown(2, 25), 2 * HOME_PAGE);
        assert_eq!(shown(3, 25), 25);
        assert_eq!(shown(0, 25), HOME_PAGE);
        assert_eq!(shown(1, 3), 3);
    }
}
