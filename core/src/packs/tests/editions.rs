//! Statements, editions by date, and the packs against their research notes (88号, 烟花爆竹).

use super::*;

#[test]
fn every_item_states_its_violation_and_never_asks() {
    let mut n = 0;
    for (p, item) in all_items() {
        let s = item.statement.trim();
        assert!(!s.is_empty(), "{} {} has no statement", p.id, item.id);
        assert!(
            !s.contains('？') && !s.contains('?') && !s.contains("是否"),
            "{}: the statement is a question: {s}",
            item.id
        );
        assert_ne!(s, item.prompt.trim(), "{}", item.id);
        n += 1;
    }
    assert!(n >= 300, "only {n} items");
}

#[test]
fn a_finding_cites_the_fire_edition_in_force_on_its_date() {
    let before = in_force_in(all(), "fire", day(2025, 10, 31)).unwrap();
    let after = in_force_in(all(), "fire", day(2025, 11, 1)).unwrap();
    let item = before.item("fire-6-10").unwrap();
    let old = before.legal_basis_on(item, day(2025, 10, 31)).unwrap();
    assert_eq!(old.text, "《重大火灾隐患判定方法》（GB 35181-2017）6.10");
    assert!(!old.unverified);
    let item = after.item("fire-6-10").unwrap();
    let new = after.legal_basis_on(item, day(2025, 11, 1)).unwrap();
    assert!(
        new.text
            .starts_with("《重大火灾隐患判定规则》（GB 35181-2025）6.10（条文待核"),
        "{}",
        new.text
    );
    assert!(new.text.contains("沿用GB 35181-2017"), "{}", new.text);
    assert!(new.unverified, "the 2025 text was not checked");
    // The notice an inspector sees names the edition and its date.
    let notice = after.standard.notice_on(day(2025, 11, 1)).unwrap();
    assert!(notice.contains("GB 35181-2025") && notice.contains("2025年11月1日"));
}

#[test]
fn a_coal_finding_cites_order_21_from_2026_07_01() {
    let pack = in_force_in(all(), "coal-underground", day(2026, 6, 30)).unwrap();
    assert_eq!(
        in_force_in(all(), "coal-underground", day(2026, 7, 1))
            .unwrap()
            .version,
        pack.version
    );
    let item = pack.item("coal-ug-8-03").unwrap();
    let old = pack.legal_basis_on(item, day(2026, 6, 30)).unwrap();
    assert_eq!(
        old.text,
        "《煤矿重大事故隐患判定标准》（应急管理部令第4号）第八条（三）"
    );
    assert!(!old.unverified);
    assert_eq!(
        pack.standard.notice_on(day(2026, 6, 30)),
        pack.standard.newer_edition_note
    );
    let new = pack.legal_basis_on(item, day(2026, 7, 1)).unwrap();
    assert_eq!(
        new.text,
        "《煤矿重大事故隐患判定标准》（应急管理部令第21号）第八条（三）\
         （条文待核：应急管理部令第21号条文未核对，条款序号沿用应急管理部令第4号）"
    );
    assert!(new.unverified);
    let notice = pack.standard.notice_on(day(2026, 7, 1)).unwrap();
    assert!(
        notice.starts_with("应急管理部令第21号已于2026年7月1日施行"),
        "{notice}"
    );
}

#[test]
fn the_pack_in_force_is_chosen_by_day() {
    let pack = |y, m, d| {
        let mut v1 = get("fire", 1).unwrap().clone();
        v1.standard.editions.clear();
        v1.standard.effective = None;
        let mut v2 = v1.clone();
        v2.version = 2;
        v2.standard.editions = vec![Edition {
            name: "甲".into(),
            doc_number: "A-2030".into(),
            effective: day(2030, 1, 1),
            text_found: true,
        }];
        let packs = [v1, v2];
        in_force_in(&packs, "fire", day(y, m, d)).unwrap().version
    };
    assert_eq!(
        pack(2029, 12, 31),
        1,
        "v2 does not apply before its edition"
    );
    assert_eq!(pack(2030, 1, 1), 2);
    // A registry holding only a version that starts later still answers.
    let mut later = get("fire", 2).unwrap().clone();
    later.standard.editions[0].effective = day(2040, 1, 1);
    let packs = [later];
    assert_eq!(
        in_force_in(&packs, "fire", day(2030, 1, 1))
            .unwrap()
            .version,
        2
    );
}

#[test]
fn packs_serialize_back_to_an_equal_pack() {
    for p in all() {
        let json = serde_json::to_string(p).unwrap();
        let back: ChecklistPack = serde_json::from_str(&json).unwrap();
        assert_eq!(&back, p);
    }
}

#[test]
fn the_non_coal_pack_follows_the_88_research_notes() {
    let ncm = latest("non-coal-mine").unwrap();
    let v1 = get("non-coal-mine", 1).unwrap();
    let notes = ncm_notes();
    let mut mapped = HashSet::new();
    for n in &notes.items {
        if let Some(id) = &n.current_pack_id {
            let item = ncm.item(id).unwrap_or_else(|| panic!("{id}"));
            mapped.insert(id.as_str());
            if n.check == CheckStatus::Verified {
                // A clause the notes read in a public copy is cited without 条文待核, with
                // that copy as its source.
                assert!(item.verified(), "{id}");
                assert_eq!(item.clause.as_deref(), Some(n.clause.as_str()), "{id}");
                assert!(
                    item.source
                        .as_deref()
                        .is_some_and(|s| s.starts_with("http")),
                    "{id}"
                );
                let basis = ncm.legal_basis(item).unwrap();
                assert!(!basis.contains(PENDING_CHECK_MARK), "{basis}");
            } else {
                // Nothing is verified that the notes do not show verified.
                assert!(item.needs_text_check(), "{id}");
            }
            if item.check == Some(CheckStatus::Unverified) || n.check == CheckStatus::Unverified {
                assert_eq!(item.source, None, "{id} was not read anywhere");
            }
            continue;
        }
        // A clause the pack lacked is added when its text was found, fully or in part; not
        // when it was listed from general knowledge (nor 41号's placeholders).
        let added = ncm
            .items
            .iter()
            .find(|i| i.statement == n.statement_zh && i.prompt == n.prompt_zh);
        let found = n.doc == "88号" && n.check != CheckStatus::Unverified;
        assert_eq!(added.is_some(), found, "{}", n.clause);
        if let Some(item) = added {
            assert_eq!(
                item.clause.as_deref().map(|c| c.trim_end_matches('?')),
                Some(n.clause.as_str())
            );
            assert_eq!(item.check, Some(n.check));
            assert_eq!(item.evidence_hint, n.evidence_hint_zh);
            assert!(item.major && item.kind == ItemKind::Major);
            let sub = ncm.group(&item.group).unwrap().subsector;
            let expected = match n.subsector.as_str() {
                "underground" => Subsector::MineUnderground,
                "open_pit" => Subsector::MineOpenPit,
                _ => Subsector::TailingsPond,
            };
            assert_eq!(sub, Some(expected), "{}", item.id);
        }
    }
    // Every clause item of the pack is one of the notes' items.
    for item in clause_items(ncm) {
        let noted = mapped.contains(item.id.as_str())
            || notes.items.iter().any(|n| {
                n.current_pack_id.is_none()
                    && n.statement_zh == item.statement
                    && n.prompt_zh == item.prompt
            });
        assert!(noted, "{} is in no research note", item.id);
    }
    // The notes read 一（五）1–3 in a public copy: 条文待核 among the 88号 clause items falls
    // from 31 of 56 to 28.
    let pending = |p: &ChecklistPack| clause_items(p).filter(|i| i.needs_text_check()).count();
    assert_eq!((pending(v1), clause_items(v1).count()), (31, 56));
    assert_eq!(pending(ncm), 28);
    for (id, clause) in [
        ("ncm-ug-5-1", "一（五）1"),
        ("ncm-ug-5-2", "一（五）2"),
        ("ncm-ug-5-3", "一（五）3"),
    ] {
        let item = ncm.item(id).unwrap();
        assert!(
            item.verified()
                && !get("non-coal-mine", 1)
                    .unwrap()
                    .item(id)
                    .unwrap()
                    .verified()
        );
        assert_eq!(
            ncm.legal_basis(item).unwrap(),
            format!("《金属非金属矿山重大事故隐患判定标准》（矿安〔2022〕88号）{clause}")
        );
    }
}

#[test]
fn a_fireworks_enterprise_gets_the_fireworks_groups_and_a_chemical_plant_does_not() {
    let hc = latest("hazardous-chemicals").unwrap();
    assert_eq!(Subsector::Fireworks.sector(), Sector::HazardousChemicals);
    assert_eq!(
        Sector::HazardousChemicals.subsectors(),
        &[Subsector::Fireworks]
    );
    let fireworks: Vec<&ChecklistGroup> = hc
        .groups
        .iter()
        .filter(|g| g.subsector == Some(Subsector::Fireworks))
        .collect();
    assert!(!fireworks.is_empty());
    for g in &fireworks {
        assert!(g.only_if_declared, "{}", g.id);
        let std = g.standard.as_ref().unwrap();
        assert_eq!(
            std.name,
            "烟花爆竹生产经营单位重大生产安全事故隐患判定标准（试行）"
        );
        assert_eq!(std.doc_number, "安监总管三〔2017〕121号");
    }
    // All 20 first-level items, each as the notes have it.
    let notes: Notes = serde_json::from_str(FIREWORKS_NOTES).unwrap();
    let items: Vec<&ChecklistItem> = hc
        .items
        .iter()
        .filter(|i| fireworks.iter().any(|g| g.id == i.group))
        .collect();
    assert_eq!(items.len(), 20);
    for n in &notes.items {
        let item = items
            .iter()
            .find(|i| {
                i.clause.as_deref().map(|c| c.trim_end_matches('?')) == Some(n.clause.as_str())
            })
            .unwrap_or_else(|| panic!("{}", n.clause));
        assert_eq!(
            (
                &item.prompt,
                &item.statement,
                &item.evidence_hint,
                item.check
            ),
            (
                &n.prompt_zh,
                &n.statement_zh,
                &n.evidence_hint_zh,
                Some(n.check)
            )
        );
    }
    // Who is asked what.
    let shown =
        |subs: &[Subsector]| -> Vec<String> { hc.groups_for(subs).map(|g| g.id.clone()).collect() };
    let maker = shown(&[Subsector::Fireworks]);
    assert_eq!(
        maker.len(),
        hc.groups.len(),
        "a fireworks enterprise: every group"
    );
    let plant = shown(&[]);
    assert!(plant.iter().any(|g| g == "hc-g-mgmt") && plant.iter().any(|g| g == "hc-common"));
    assert!(fireworks.iter().all(|g| !plant.contains(&g.id)));
    assert_eq!(plant.len() + fireworks.len(), hc.groups.len());
    // Nor when the plant declared a subtype of another sector it also belongs to.
    assert!(
        fireworks
            .iter()
            .all(|g| !shown(&[Subsector::Metallurgy]).contains(&g.id))
    );
    // Both get the pack suggested; the subtype only narrows the groups.
    let enterprise = |subsectors: Vec<Subsector>| crate::model::Enterprise {
        key: false,
        grade: None,
        id: crate::ids::EnterpriseId::new(),
        org_id: crate::ids::OrgId::new(),
        name: "某烟花爆竹公司".to_owned(),
        credit_code: None,
        address: String::new(),
        county: String::new(),
        township: String::new(),
        sectors: vec![Sector::HazardousChemicals],
        subsectors,
        legal_representative: String::new(),
        contact_phone: String::new(),
        location: None,
        ad_hoc: false,
        merged_into: None,
    };
    for subs in [vec![Subsector::Fireworks], vec![]] {
        let packs = crate::fieldwork::suggested_packs(&enterprise(subs), all(), day(2026, 1, 5));
        assert!(packs.iter().any(|p| p.id.as_str() == "hazardous-chemicals"));
    }
    // A fireworks item cites the fireworks standard; a chemical item still the chemical one.
    let retail = hc.item("hc-fw-20").unwrap();
    assert_eq!(
        hc.legal_basis(retail).unwrap(),
        "《烟花爆竹生产经营单位重大生产安全事故隐患判定标准（试行）》（安监总管三〔2017〕121号）二十"
    );
    let staff = hc.item("hc-fw-01").unwrap();
    assert_eq!(
        hc.legal_basis(staff).unwrap(),
        "《烟花爆竹生产经营单位重大生产安全事故隐患判定标准（试行）》（安监总管三〔2017〕121号）一（条文待核）"
    );
    assert!(
        hc.legal_basis(hc.item("hc-20").unwrap())
            .unwrap()
            .starts_with("《化工和危险化学品生产经营单位重大生产安全事故隐患判定标准（试行）》")
    );
}

#[test]
fn only_the_fireworks_groups_are_shown_only_when_declared() {
    // Elsewhere a site that declared nothing still sees every group (mines, 工贸).
    for p in all() {
        for g in p
            .groups
            .iter()
            .filter(|g| g.only_if_declared || g.standard.is_some())
        {
            assert_eq!(g.subsector, Some(Subsector::Fireworks), "{} {}", p.id, g.id);
            assert!(g.only_if_declared && g.standard.is_some(), "{}", g.id);
        }
    }
}
