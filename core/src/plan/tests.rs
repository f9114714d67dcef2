use chrono::{NaiveDate, TimeZone, Utc};
use uuid::Uuid;

use super::draw::{self, Candidate, DrawInput, Exclusion, ExclusionKind};
use super::scan::{self, ScannedCode};
use super::*;
use crate::model::Enterprise;

fn enterprise_id(n: u128) -> EnterpriseId {
    EnterpriseId(Uuid::from_u128(0x1000 + n))
}

fn user_id(n: u128) -> UserId {
    UserId(Uuid::from_u128(0x2000 + n))
}

fn staffing(officers: u32, other: u32, non: u32, per: u32) -> Staffing {
    Staffing {
        officers,
        workdays_per_officer: WORKDAYS_PER_OFFICER,
        other_enforcement_days: other,
        non_enforcement_days: non,
        days_per_inspection: per,
    }
}

#[test]
fn the_150_arithmetic_gives_the_county_example_414_of_1984_days() {
    // 8 officers × 248 = 1,984 days; 1,570 go to other enforcement and non-enforcement work.
    let f = figures(&staffing(8, 900, 670, 2), 40, 70);
    assert_eq!(f.total_days, 1984);
    assert_eq!(f.inspection_days, 414);
    assert_eq!(f.capacity, 207);
    assert_eq!(f.random_places, 167);
    assert!(f.warnings.is_empty(), "{:?}", f.warnings);
}

#[test]
fn the_arithmetic_warns_when_key_enterprises_or_a_low_random_share_break_the_plan() {
    let f = figures(&staffing(2, 100, 100, 2), 200, 70);
    assert_eq!(f.capacity, 148);
    assert_eq!(f.random_places, 0);
    assert!(
        f.warnings[0].contains("超过可检查企业数 148 家"),
        "{:?}",
        f.warnings
    );

    let f = figures(&staffing(2, 100, 100, 2), 60, 70);
    assert_eq!(f.random_places, 88);
    assert!(f.warnings[0].contains("低于 70%"), "{:?}", f.warnings);

    let f = figures(&staffing(1, 300, 0, 0), 0, 0);
    assert_eq!(f.inspection_days, 0, "never below zero");
    assert_eq!(f.capacity, 0, "no division by zero");
    assert_eq!(f.warnings.len(), 2, "{:?}", f.warnings);
}

fn graded(sectors: Vec<Sector>, grade: Option<Grade>) -> Enterprise {
    let mut e = crate::protocol::tests::enterprise();
    e.sectors = sectors;
    e.grade = grade;
    e
}

#[test]
fn caps_follow_sector_and_class_and_take_the_strictest_sector() {
    let caps = default_caps();
    assert!(validate_caps(&caps).is_ok());
    let cap = |sectors, grade| cap_for(&caps, &graded(sectors, grade));
    assert_eq!(cap(vec![Sector::Coal], Some(Grade::A)), Some(2));
    assert_eq!(cap(vec![Sector::Coal], Some(Grade::C)), Some(6));
    assert_eq!(cap(vec![Sector::Coal], Some(Grade::D)), Some(4));
    assert_eq!(cap(vec![Sector::NonCoalMine], Some(Grade::B)), Some(1));
    assert_eq!(
        cap(vec![Sector::HazardousChemicals], Some(Grade::Unrated)),
        Some(12)
    );
    assert_eq!(cap(vec![Sector::Fire], Some(Grade::D)), Some(6));
    // A chemical plant graded A–D has no rule: the chemicals caps go by 标准化 level.
    assert_eq!(cap(vec![Sector::HazardousChemicals], Some(Grade::A)), None);
    assert_eq!(cap(vec![Sector::Coal], None), None, "no class, no cap");
    assert_eq!(
        cap(vec![Sector::Coal, Sector::NonCoalMine], Some(Grade::C)),
        Some(2),
        "the strictest of its sectors"
    );

    let mut edited = caps.clone();
    edited.push(CapRule {
        sector: Sector::Coal,
        grade: Grade::A,
        per_year: 0,
    });
    let errors = validate_caps(&edited).unwrap_err();
    assert_eq!(errors.len(), 2, "{errors:?}");
}

#[test]
fn an_inspection_past_the_cap_needs_a_reason() {
    assert_eq!(cap_warning(1, Some(2)), None);
    let warning = cap_warning(2, Some(2)).unwrap();
    assert!(warning.contains("已检查 2 次") && warning.contains("上限 2 次"));
    assert_eq!(cap_warning(50, None), None);

    let scanned = Entry {
        no_scan_reason: NO_SCAN_REASONS[0].to_owned(),
        ..Entry::default()
    };
    let fields = |e: &Entry, unannounced, visits| -> Vec<String> {
        entry_blockers(e, unannounced, visits, Some(2))
            .into_iter()
            .map(|f| f.field)
            .collect()
    };
    assert!(fields(&scanned, false, 1).is_empty());
    assert_eq!(fields(&scanned, false, 2), ["entry.over_cap"]);
    let over = Entry {
        over_cap: Some(OverCap {
            visits: 2,
            cap: 2,
            reason: OverCapReason::Complaint,
        }),
        ..scanned.clone()
    };
    assert!(fields(&over, false, 2).is_empty());
}

#[test]
fn an_entry_needs_a_scan_or_a_reason_and_a_four_nos_visit_its_approval_and_no_notice() {
    let fields = |e: &Entry, unannounced| -> Vec<String> {
        entry_blockers(e, unannounced, 0, None)
            .into_iter()
            .map(|f| f.field)
            .collect()
    };
    assert_eq!(
        fields(&Entry::default(), true),
        ["entry.scan", "entry.approval"]
    );
    let day = NaiveDate::from_ymd_opt(2026, 12, 6).unwrap();
    let entry = Entry {
        scan: Some(EntryScan {
            at: Utc.with_ymd_and_hms(2026, 12, 6, 1, 0, 0).unwrap(),
            text: "ZHICHA:ENT:x".to_owned(),
            location: None,
            matches: false,
        }),
        approval: Some(Approval {
            by: "王队长".to_owned(),
            on: day,
            reference: String::new(),
        }),
        notice: Some(Notice {
            on: day,
            method: "电话".to_owned(),
        }),
        ..Entry::default()
    };
    assert_eq!(fields(&entry, true), ["entry.notice"]);
    assert!(
        fields(&entry, false).is_empty(),
        "a planned visit may be announced"
    );
}

fn input(seed: &str, n: u128, count: u32, officers: u128) -> DrawInput {
    DrawInput {
        seed: seed.to_owned(),
        candidates: (0..n)
            .map(|i| Candidate {
                enterprise_id: enterprise_id(i),
                key: false,
            })
            .collect(),
        count,
        officers: (0..officers).map(user_id).collect(),
        team_size: 2,
        exclusions: vec![],
    }
}

#[test]
fn the_same_seed_and_inputs_give_the_same_draw_and_another_seed_another() {
    let a = draw::draw(&input("2026-12-06 福彩3D 517", 30, 6, 8));
    let b = draw::draw(&input("2026-12-06 福彩3D 517", 30, 6, 8));
    assert_eq!(a, b);
    assert_eq!(a.picks.len(), 6);
    assert!(a.picks.iter().all(|p| p.officers.len() == 2));
    let c = draw::draw(&input("2026-12-07 福彩3D 108", 30, 6, 8));
    assert_ne!(a.picks, c.picks);

    // The order the candidates and officers are listed in does not matter.
    let mut shuffled = input("2026-12-06 福彩3D 517", 30, 6, 8);
    shuffled.candidates.reverse();
    shuffled.officers.reverse();
    assert_eq!(draw::draw(&shuffled), a);

    // The recorded result verifies; a swapped officer does not.
    let recorded = input("2026-12-06 福彩3D 517", 30, 6, 8);
    assert!(draw::verify(&recorded, &a).is_ok());
    let mut forged = a.clone();
    forged.picks[3].officers[0] = user_id(7);
    if forged != a {
        assert!(
            draw::verify(&recorded, &forged)
                .unwrap_err()
                .contains("第 4 家")
        );
    }
    let mut forged = a.clone();
    forged.picks[0].enterprise_id = enterprise_id(29);
    assert!(draw::verify(&recorded, &forged).is_err());
}

#[test]
fn the_rank_is_sha256_of_seed_domain_and_id_as_documented() {
    use sha2::{Digest, Sha256};
    let id = enterprise_id(5);
    let by_hand: String = Sha256::digest(format!("s\u{1f}enterprise\u{1f}{}", id.0).as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(draw::enterprise_rank("s", id), by_hand);
    let result = draw::draw(&input("s", 10, 3, 4));
    let mut by_rank: Vec<EnterpriseId> = (0..10).map(enterprise_id).collect();
    by_rank.sort_by_key(|e| draw::enterprise_rank("s", *e));
    let picked: Vec<EnterpriseId> = result.picks.iter().map(|p| p.enterprise_id).collect();
    assert_eq!(picked, by_rank[..3]);
}

#[test]
fn key_enterprises_are_all_taken_and_exclusions_are_honoured() {
    let mut i = input("seed", 12, 3, 5);
    for c in i.candidates.iter_mut().take(4) {
        c.key = true;
    }
    // Officer 0 declared a conflict with every enterprise; officer 1 inspected enterprise 5
    // last time.
    for e in 0..12 {
        i.exclusions.push(Exclusion {
            user_id: user_id(0),
            enterprise_id: enterprise_id(e),
            why: ExclusionKind::Conflict,
        });
    }
    i.exclusions.push(Exclusion {
        user_id: user_id(1),
        enterprise_id: enterprise_id(5),
        why: ExclusionKind::LastTime,
    });
    for seed in 0..200 {
        i.seed = format!("seed-{seed}");
        let r = draw::draw(&i);
        assert_eq!(r.picks.len(), 7, "4 key + 3 random");
        assert_eq!(r.picks.iter().filter(|p| p.key).count(), 4);
        assert!(r.picks[..4].iter().all(|p| p.key), "key picks come first");
        for p in &r.picks {
            assert!(!p.officers.contains(&user_id(0)), "回避 honoured");
            if p.enterprise_id == enterprise_id(5) {
                assert!(!p.officers.contains(&user_id(1)), "last time's officer");
            }
            assert_ne!(p.officers[0], p.officers[1]);
        }
        // Load is spread: 14 places over 4 eligible officers.
        let mut load = [0; 5];
        for p in &r.picks {
            for o in &p.officers {
                load[(o.0.as_u128() - 0x2000) as usize] += 1;
            }
        }
        assert!(load[1..].iter().all(|&l| (3..=4).contains(&l)), "{load:?}");
        assert!(r.short_staffed.is_empty());
    }

    // With one officer left, every pick is short-staffed and named.
    let mut few = input("seed", 3, 3, 2);
    for e in 0..3 {
        few.exclusions.push(Exclusion {
            user_id: user_id(0),
            enterprise_id: enterprise_id(e),
            why: ExclusionKind::Conflict,
        });
    }
    let r = draw::draw(&few);
    assert_eq!(r.short_staffed.len(), 3);
    assert!(r.picks.iter().all(|p| p.officers == [user_id(1)]));
}

#[test]
fn every_eligible_enterprise_is_equally_likely_over_many_seeds() {
    const SEEDS: u32 = 6000;
    let mut hits = [0u32; 12];
    let mut officer_hits = [0u32; 6];
    for seed in 0..SEEDS {
        let r = draw::draw(&input(&format!("公开种子-{seed}"), 12, 4, 6));
        for p in &r.picks {
            hits[(p.enterprise_id.0.as_u128() - 0x1000) as usize] += 1;
            // The first pick's team is drawn from all officers at equal load.
        }
        for o in &r.picks[0].officers {
            officer_hits[(o.0.as_u128() - 0x2000) as usize] += 1;
        }
    }
    // Expected 6000 × 4/12 = 2000 per enterprise (σ ≈ 37); 6000 × 2/6 = 2000 per officer.
    for (n, &h) in hits.iter().enumerate() {
        assert!((1880..=2120).contains(&h), "enterprise {n}: {h} of {SEEDS}");
    }
    for (n, &h) in officer_hits.iter().enumerate() {
        assert!((1880..=2120).contains(&h), "officer {n}: {h}");
    }
}

#[test]
fn the_input_hash_changes_with_any_input() {
    let a = input("s", 5, 2, 3);
    let mut b = a.clone();
    b.count = 3;
    assert_eq!(draw::input_hash(&a), draw::input_hash(&a.clone()));
    assert_ne!(draw::input_hash(&a), draw::input_hash(&b));
    assert_eq!(draw::input_hash(&a).len(), 64);
}

/// A code with a correct GB 32100 check character (made by the rule, not a real company).
fn valid_code() -> String {
    let body = "91150621MA0N1234X";
    (0..31)
        .map(|n| {
            format!(
                "{body}{}",
                "0123456789ABCDEFGHJKLMNPQRTUWXY".as_bytes()[n] as char
            )
        })
        .find(|c| scan::credit_code_checks(c))
        .unwrap()
}

#[test]
fn a_licence_qr_gives_its_credit_code_and_a_bureau_code_its_enterprise() {
    let code = valid_code();
    assert!(scan::credit_code_checks(&code));
    let mut wrong = code.clone();
    wrong.replace_range(17.., if code.ends_with('0') { "1" } else { "0" });
    assert!(!scan::credit_code_checks(&wrong));

    let licence = format!("http://www.gsxt.gov.cn/index.html?uniscid={code}&entname=x");
    assert_eq!(
        scan::read_code(&licence),
        ScannedCode::CreditCode(code.clone())
    );
    let id = enterprise_id(3);
    assert_eq!(
        scan::read_code(&scan::bureau_code(id)),
        ScannedCode::Enterprise(id)
    );
    assert_eq!(scan::read_code("hello"), ScannedCode::Unknown);

    let mut e = graded(vec![Sector::Coal], None);
    e.credit_code = Some(code.clone());
    assert!(scan::scan_matches(&e, &licence));
    assert!(scan::scan_message(&e, &licence).starts_with("已核验"));
    assert!(scan::scan_matches(&e, &scan::bureau_code(e.id)));
    assert!(!scan::scan_matches(&e, &scan::bureau_code(id)));
    e.credit_code = Some("91150621MA0N9999XX".to_owned());
    assert!(!scan::scan_matches(&e, &licence));
    assert!(scan::scan_message(&e, &licence).contains("不一致"));
    assert!(scan::scan_message(&e, "hello").contains("未识别"));
    // A directory code with a wrong check character matches when the text carries it whole.
    e.credit_code = Some(wrong.clone());
    assert!(scan::scan_matches(&e, &format!("uniscid={wrong}")));
}

#[test]
fn grades_read_as_written_in_an_import_or_a_form() {
    assert_eq!(Grade::parse_zh("A"), Some(Grade::A));
    assert_eq!(Grade::parse_zh("c类"), None);
    assert_eq!(Grade::parse_zh("C类"), Some(Grade::C));
    assert_eq!(Grade::parse_zh("d"), Some(Grade::D));
    assert_eq!(Grade::parse_zh("二级"), Some(Grade::Level2));
    assert_eq!(Grade::parse_zh("标准化一级"), Some(Grade::Level1));
    assert_eq!(Grade::parse_zh(""), None);
    for g in Grade::ALL {
        assert_eq!(Grade::from_wire(g.wire_name()), Some(g));
        let json = serde_json::to_value(g).unwrap();
        assert_eq!(json.as_str(), Some(g.wire_name()));
    }
}

#[test]
fn a_task_starts_an_entry_carrying_its_plan_draw_approval_and_campaign() {
    let day = NaiveDate::from_ymd_opt(2026, 12, 6).unwrap();
    let task = Task {
        id: TaskId::new(),
        plan_id: PlanId::new(),
        draw_id: DrawId::new(),
        org_id: OrgId::new(),
        enterprise_id: enterprise_id(1),
        officers: vec![user_id(1), user_id(2)],
        key: false,
        due: day,
        campaign: "安全生产月".to_owned(),
        approval: Some(Approval {
            by: "局长".to_owned(),
            on: day,
            reference: "审批〔2026〕1号".to_owned(),
        }),
        inspection_id: None,
    };
    let entry = task.entry();
    assert_eq!(entry.task_id, Some(task.id));
    assert_eq!(entry.draw_id, Some(task.draw_id));
    assert_eq!(entry.campaign, "安全生产月");
    assert_eq!(entry.approval, task.approval);
    assert!(!task.is_overdue(day));
    assert!(task.is_overdue(day.succ_opt().unwrap()));
    // An empty entry is not written at all, so records of older apps keep their bytes.
    let json = serde_json::to_value(crate::protocol::tests::inspection()).unwrap();
    assert!(json.get("entry").is_none());
}

#[test]
fn a_plan_needs_a_title_officers_and_sane_days() {
    let plan = Plan {
        id: PlanId::new(),
        org_id: OrgId::new(),
        year: 2027,
        title: "2027年度执法检查计划".to_owned(),
        campaign: String::new(),
        staffing: staffing(8, 900, 670, 2),
        min_random_pct: 70,
        approval: None,
        created_by: user_id(1),
        created_at: Utc::now(),
    };
    assert!(validate_plan(&plan).is_ok());
    let bad = Plan {
        title: " ".to_owned(),
        year: 27,
        staffing: staffing(0, 0, 0, 0),
        min_random_pct: 101,
        ..plan
    };
    let fields: Vec<String> = validate_plan(&bad)
        .unwrap_err()
        .into_iter()
        .map(|f| f.field)
        .collect();
    assert_eq!(
        fields,
        [
            "title",
            "year",
            "staffing.officers",
            "staffing.days_per_inspection",
            "min_random_pct"
        ]
    );
}
