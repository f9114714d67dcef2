//! 举报: a hazard reported by a worker or a citizen on a public page (no login), followed with a
//! tracking code; a leader accepts (受理) or declines it and answers (反馈).
//!
//! The time limits are the bureau's practice, not a statute this project could check: 受理
//! within [`ACCEPT_WORKING_DAYS`] working days of receipt, and an answer within
//! [`ANSWER_DAYS`] days of 受理. The screens say so (时限待核).

use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::case::Calendar;
use crate::ids::OrgId;

/// Working days from receipt to 受理 (practice; not checked against a statute).
pub const ACCEPT_WORKING_DAYS: u32 = 5;
/// Days from 受理 to the answer (practice; not checked against a statute).
pub const ANSWER_DAYS: i64 = 60;
/// Shown beside every time limit of a 举报.
pub const LIMITS_UNCHECKED: &str = "时限为本局执行口径，条文待核";

/// Longest report text, in characters.
pub const MAX_TEXT_CHARS: usize = 2_000;
/// Longest place and contact, in characters.
pub const MAX_SHORT_CHARS: usize = 200;
/// At most this many photos, each at most [`MAX_PHOTO_BYTES`] once decoded.
pub const MAX_PHOTOS: usize = 3;
pub const MAX_PHOTO_BYTES: usize = 1_500_000;
/// Reports one address may send within an hour.
pub const PER_ADDRESS_PER_HOUR: i64 = 5;

/// `GET /api/v1/public/challenge`: a question a person answers before sending.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Challenge {
    pub id: Uuid,
    pub question: String,
}

/// A unit that takes reports (a bureau), for the public page's choice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportUnit {
    pub id: OrgId,
    pub name: String,
}

/// `POST /api/v1/public/reports`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewReport {
    pub unit: OrgId,
    /// What is wrong, where in the site.
    pub text: String,
    /// The enterprise or the place (address, landmark).
    pub place: String,
    /// A telephone or name to be answered at; may be empty (anonymous).
    #[serde(default)]
    pub contact: String,
    /// JPEG or PNG photos, base64.
    #[serde(default)]
    pub photos: Vec<String>,
    pub challenge_id: Uuid,
    pub challenge_answer: String,
}

/// Where a report stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReportState {
    Received,
    Accepted,
    Declined,
    Answered,
}

impl ReportState {
    pub fn label_zh(self) -> &'static str {
        match self {
            ReportState::Received => "已收到，待受理",
            ReportState::Accepted => "已受理，核查中",
            ReportState::Declined => "不予受理",
            ReportState::Answered => "已答复",
        }
    }

    pub fn from_wire(s: &str) -> Option<Self> {
        [
            ReportState::Received,
            ReportState::Accepted,
            ReportState::Declined,
            ReportState::Answered,
        ]
        .into_iter()
        .find(|v| v.wire() == s)
    }

    pub fn wire(self) -> &'static str {
        match self {
            ReportState::Received => "received",
            ReportState::Accepted => "accepted",
            ReportState::Declined => "declined",
            ReportState::Answered => "answered",
        }
    }
}

/// What the reporter sees with the tracking code (nothing of who handled it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportStatus {
    pub code: String,
    pub unit_name: String,
    pub received_at: DateTime<Utc>,
    pub state: ReportState,
    /// 受理 is due by this day.
    pub accept_due: NaiveDate,
    #[serde(default)]
    pub accepted_on: Option<NaiveDate>,
    /// The answer is due by this day, once accepted.
    #[serde(default)]
    pub answer_due: Option<NaiveDate>,
    /// The bureau's answer, or why it was declined.
    #[serde(default)]
    pub answer: String,
    #[serde(default)]
    pub answered_on: Option<NaiveDate>,
}

/// A report as the leader sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    pub id: Uuid,
    pub org_id: OrgId,
    pub text: String,
    pub place: String,
    pub contact: String,
    pub photos: u32,
    #[serde(flatten)]
    pub status: ReportStatus,
    /// Past a time limit without its act.
    pub overdue: bool,
}

/// `GET /api/v1/reports`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct ReportList {
    pub reports: Vec<Report>,
}

/// `POST /api/v1/reports/{id}/decision`: 受理, 不予受理 (with the reason the reporter sees), or
/// the answer (反馈).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "decision", rename_all = "snake_case")]
pub enum ReportDecision {
    Accept,
    Decline { reason: String },
    Answer { answer: String },
}

/// Checks a new report's fields (not the challenge or the photos' bytes): the field and why.
pub fn validate(report: &NewReport) -> Result<(), (&'static str, String)> {
    let text = report.text.trim();
    if text.chars().count() < 5 {
        return Err(("text", "请描述隐患情况（至少 5 个字）".to_owned()));
    }
    if text.chars().count() > MAX_TEXT_CHARS {
        return Err(("text", format!("隐患情况不能超过 {MAX_TEXT_CHARS} 字")));
    }
    if report.place.trim().is_empty() {
        return Err(("place", "请填写单位名称或地点".to_owned()));
    }
    if report.place.chars().count() > MAX_SHORT_CHARS {
        return Err(("place", format!("地点不能超过 {MAX_SHORT_CHARS} 字")));
    }
    if report.contact.chars().count() > MAX_SHORT_CHARS {
        return Err(("contact", format!("联系方式不能超过 {MAX_SHORT_CHARS} 字")));
    }
    if report.photos.len() > MAX_PHOTOS {
        return Err(("photos", format!("照片最多 {MAX_PHOTOS} 张")));
    }
    Ok(())
}

/// The day 受理 is due for a report received on `received` (China date).
pub fn accept_due(received: NaiveDate, calendar: &Calendar) -> NaiveDate {
    calendar.add_working_days(received, ACCEPT_WORKING_DAYS)
}

/// The day the answer is due for a report accepted on `accepted`.
pub fn answer_due(accepted: NaiveDate) -> NaiveDate {
    accepted + Duration::days(ANSWER_DAYS)
}

/// Whether a time limit passed on `today` without its act.
pub fn overdue(status: &ReportStatus, today: NaiveDate) -> bool {
    match status.state {
        ReportState::Received => today > status.accept_due,
        ReportState::Accepted => status.answer_due.is_some_and(|due| today > due),
        ReportState::Declined | ReportState::Answered => false,
    }
}

/// Applies a leader's decision to a report's status on `today`, or why not.
pub fn decide(
    status: &ReportStatus,
    decision: &ReportDecision,
    today: NaiveDate,
) -> Result<ReportStatus, String> {
    let mut next = status.clone();
    match decision {
        ReportDecision::Accept => {
            if status.state != ReportState::Received {
                return Err("只有待受理的举报可以受理".to_owned());
            }
            next.state = ReportState::Accepted;
            next.accepted_on = Some(today);
            next.answer_due = Some(answer_due(today));
        }
        ReportDecision::Decline { reason } => {
            if status.state != ReportState::Received {
                return Err("只有待受理的举报可以不予受理".to_owned());
            }
            if reason.trim().is_empty() {
                return Err("请写明不予受理的理由（举报人可见）".to_owned());
            }
            next.state = ReportState::Declined;
            next.answer = reason.trim().to_owned();
            next.answered_on = Some(today);
        }
        ReportDecision::Answer { answer } => {
            if status.state != ReportState::Accepted {
                return Err("受理后方可答复".to_owned());
            }
            if answer.trim().is_empty() {
                return Err("请填写答复内容（举报人可见）".to_owned());
            }
            next.state = ReportState::Answered;
            next.answer = answer.trim().to_owned();
            next.answered_on = Some(today);
        }
    }
    Ok(next)
}

/// A tracking code: 12 characters a person can read back over the phone (no 0/O, 1/I/L).
pub fn tracking_code(random: &[u8; 12]) -> String {
    const LETTERS: &[u8] = b"23456789ABCDEFGHJKMNPQRSTUVWXYZ";
    random
        .iter()
        .map(|b| LETTERS[usize::from(*b) % LETTERS.len()] as char)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn received(on: NaiveDate) -> ReportStatus {
        ReportStatus {
            code: "ABC".into(),
            unit_name: String::new(),
            received_at: Utc::now(),
            state: ReportState::Received,
            accept_due: accept_due(on, &Calendar::default()),
            accepted_on: None,
            answer_due: None,
            answer: String::new(),
            answered_on: None,
        }
    }

    #[test]
    fn a_report_is_accepted_within_five_working_days_and_answered_within_sixty() {
        // Received on a Friday: 受理 due the next Friday (weekends left out).
        let status = received(day(2026, 12, 4));
        assert_eq!(status.accept_due, day(2026, 12, 11));
        assert!(!overdue(&status, day(2026, 12, 11)));
        assert!(overdue(&status, day(2026, 12, 12)));
        let accepted = decide(&status, &ReportDecision::Accept, day(2026, 12, 7)).unwrap();
        assert_eq!(accepted.answer_due, Some(day(2027, 2, 5)));
        assert!(!overdue(&accepted, day(2027, 2, 5)));
        assert!(overdue(&accepted, day(2027, 2, 6)));
        assert_eq!(
            decide(&accepted, &ReportDecision::Accept, day(2026, 12, 8)).unwrap_err(),
            "只有待受理的举报可以受理"
        );
        let empty = ReportDecision::Answer { answer: " ".into() };
        assert!(decide(&accepted, &empty, day(2026, 12, 9)).is_err());
        let answered = decide(
            &accepted,
            &ReportDecision::Answer {
                answer: "经核查属实，已责令整改".into(),
            },
            day(2026, 12, 20),
        )
        .unwrap();
        assert_eq!(answered.state, ReportState::Answered);
        assert!(!overdue(&answered, day(2027, 6, 1)));
    }

    #[test]
    fn declining_needs_a_reason_and_answering_needs_acceptance() {
        let status = received(day(2026, 12, 7));
        let no_reason = ReportDecision::Decline {
            reason: String::new(),
        };
        assert!(decide(&status, &no_reason, day(2026, 12, 7)).is_err());
        let answer = ReportDecision::Answer { answer: "x".into() };
        assert_eq!(
            decide(&status, &answer, day(2026, 12, 7)).unwrap_err(),
            "受理后方可答复"
        );
    }

    #[test]
    fn new_reports_are_checked_field_by_field() {
        let good = NewReport {
            unit: OrgId::new(),
            text: "仓库安全出口被堵".into(),
            place: "某物流园 3 号库".into(),
            contact: String::new(),
            photos: vec![],
            challenge_id: Uuid::nil(),
            challenge_answer: "12".into(),
        };
        assert_eq!(validate(&good), Ok(()));
        let short = NewReport {
            text: "堵".into(),
            ..good.clone()
        };
        assert_eq!(validate(&short).unwrap_err().0, "text");
        let long = NewReport {
            text: "堵".repeat(MAX_TEXT_CHARS + 1),
            ..good.clone()
        };
        assert_eq!(validate(&long).unwrap_err().0, "text");
        let nowhere = NewReport {
            place: " ".into(),
            ..good.clone()
        };
        assert_eq!(validate(&nowhere).unwrap_err().0, "place");
        let many = NewReport {
            photos: vec![String::new(); MAX_PHOTOS + 1],
            ..good
        };
        assert_eq!(validate(&many).unwrap_err().0, "photos");
    }

    #[test]
    fn tracking_codes_avoid_look_alike_characters() {
        let code = tracking_code(&[0, 1, 7, 8, 30, 31, 200, 255, 9, 10, 11, 12]);
        assert_eq!(code.len(), 12);
        assert!(!code.contains(['0', 'O', '1', 'I', 'L']), "{code}");
    }
}
