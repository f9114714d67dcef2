use super::*;
use std::collections::HashMap;

/// A copy of the reference criteria, kept in the repo so this test can run anywhere.
const CRITERIA: &str = include_str!("../../../checklists/reference/criteria.json");

#[derive(Deserialize)]
struct Criterion {
    standard: String,
    clause: String,
    prompt_zh: String,
    major: bool,
    evidence_hint_zh: String,
    check: CheckStatus,
}

fn criteria() -> Vec<Criterion> {
    serde_json::from_str(CRITERIA).unwrap()
}

/// The research notes on 矿安〔2022〕88号 (and 41号) and on the fireworks part of 121号.
const NCM_NOTES: &str = include_str!("../../../checklists/reference/non-coal-2022-2024.json");
const FIREWORKS_NOTES: &str = include_str!("../../../checklists/reference/fireworks-121.json");

#[derive(Deserialize)]
struct Notes {
    items: Vec<Note>,
}

#[derive(Deserialize)]
struct Note {
    clause: String,
    #[serde(default)]
    doc: String,
    #[serde(default)]
    subsector: String,
    prompt_zh: String,
    statement_zh: String,
    evidence_hint_zh: String,
    check: CheckStatus,
    current_pack_id: Option<String>,
}

fn ncm_notes() -> Notes {
    serde_json::from_str(NCM_NOTES).unwrap()
}

fn clause_items(p: &ChecklistPack) -> impl Iterator<Item = &ChecklistItem> {
    p.items.iter().filter(|i| i.clause.is_some())
}

/// The items of the current version of every pack.
fn all_items() -> impl Iterator<Item = (&'static ChecklistPack, &'static ChecklistItem)> {
    latest_all()
        .into_iter()
        .flat_map(|p| p.items.iter().map(move |i| (p, i)))
}

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

#[test]
fn every_sector_pack_is_embedded_and_parses() {
    let ids: Vec<&str> = all().iter().map(|p| p.id.as_str()).collect();
    for id in [
        "coal-underground",
        "coal-open-pit",
        "non-coal-mine",
        "hazardous-chemicals",
        "fire",
        "urban-gas",
        "construction",
        "industry-trade",
    ] {
        assert!(ids.contains(&id), "missing pack {id}");
    }
    for sector in Sector::ALL {
        assert!(!for_sector(sector).is_empty(), "no pack for {sector:?}");
    }
    for sub in [
        Subsector::CoalUnderground,
        Subsector::CoalOpenPit,
        Subsector::MineUnderground,
        Subsector::MineOpenPit,
        Subsector::TailingsPond,
    ] {
        assert!(
            all().iter().any(|p| p.subsectors.contains(&sub)),
            "no pack covers {sub:?}"
        );
    }
}

#[test]
fn item_and_group_ids_are_unique_across_all_packs() {
    let mut seen = HashSet::new();
    // Within the current versions; an id keeps its meaning across a pack's versions.
    for (_, item) in all_items() {
        assert!(
            seen.insert(item.id.as_str()),
            "duplicate item id {}",
            item.id
        );
        assert!(
            item.id
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'),
            "id {} is not a stable slug",
            item.id
        );
    }
    let mut groups = HashSet::new();
    for p in latest_all() {
        for g in &p.groups {
            assert!(groups.insert(g.id.as_str()), "duplicate group id {}", g.id);
        }
    }
}

#[test]
fn published_item_ids_keep_their_clauses() {
    // Ids are stored in inspections; these must never move to another clause.
    for (id, clause) in [
        ("coal-ug-4-01", "第四条（一）"),
        ("coal-ug-8-03", "第八条（三）"),
        ("coal-op-18-10", "第十八条（十）"),
        ("ncm-ug-1-1", "一（一）1"),
        ("ncm-op-7-3", "二（七）3"),
        ("hc-20", "二十"),
        ("fire-6-10", "6.10"),
        ("fire-7-3-8", "7.3.8?"),
        ("gas-9-04", "第九条（四）"),
        ("con-10", "第十条"),
        ("it-13-01", "第十三条（一）"),
    ] {
        let item = all_items()
            .map(|(_, i)| i)
            .find(|i| i.id == id)
            .unwrap_or_else(|| panic!("{id}"));
        assert_eq!(item.clause.as_deref(), Some(clause), "{id}");
    }
}

/// Version-1 items that stood for a whole article, split into its clauses in version 2.
const REFINED: [(&str, &str); 3] = [
    ("it-5-x1", "第五条"),
    ("it-6-x1", "第六条"),
    ("it-7-x1", "第七条"),
];

#[test]
fn every_criterion_appears_exactly_once_with_its_clause_and_check_status() {
    let crits = criteria();
    assert_eq!(crits.len(), 282);
    let notes = ncm_notes();
    let raised: HashSet<&str> = notes
        .items
        .iter()
        .filter(|n| n.check == CheckStatus::Verified)
        .filter_map(|n| n.current_pack_id.as_deref())
        .collect();
    let mut matched: HashMap<&str, usize> = HashMap::new();
    let v1 = get("industry-trade", 1).unwrap();
    let mut refined = 0;
    for c in &crits {
        // A criterion refined into its article's clauses stays in version 1 only.
        if let Some(item) = v1.items.iter().find(|i| {
            REFINED.iter().any(|(id, _)| *id == i.id)
                && i.clause.as_deref() == Some(c.clause.as_str())
                && i.prompt == c.prompt_zh
        }) {
            let article = REFINED.iter().find(|(id, _)| *id == item.id).unwrap().1;
            let current = latest("industry-trade").unwrap();
            assert!(
                current
                    .items
                    .iter()
                    .filter(|i| i.clause.as_deref().is_some_and(|k| k.starts_with(article)))
                    .count()
                    >= 2,
                "{} is refined into the clauses of {article}",
                item.id
            );
            refined += 1;
            continue;
        }
        let hits: Vec<_> = all_items()
            .filter(|(p, i)| {
                i.same_as.is_none()
                    && p.standard.citation == c.standard
                    && i.clause.as_deref().map(|k| k.trim_end_matches('?'))
                        == Some(c.clause.trim_end_matches('?'))
                    && i.prompt == c.prompt_zh
            })
            .collect();
        assert_eq!(
            hits.len(),
            1,
            "{} {} found {} times",
            c.standard,
            c.clause,
            hits.len()
        );
        let (_, item) = hits[0];
        assert_eq!(item.major, c.major, "{}", item.id);
        if item.check != Some(c.check) {
            // Only the 88号 research notes raise a check, and only to verified, dropping the
            // `?` of an inferred number.
            assert!(
                raised.contains(item.id.as_str()),
                "{} changed its check",
                item.id
            );
            assert_eq!(item.check, Some(CheckStatus::Verified), "{}", item.id);
            assert_eq!(
                item.clause.as_deref(),
                Some(c.clause.trim_end_matches('?')),
                "{}",
                item.id
            );
        }
        assert_eq!(item.evidence_hint, c.evidence_hint_zh, "{}", item.id);
        *matched.entry(item.id.as_str()).or_default() += 1;
    }
    assert_eq!(refined, REFINED.len());
    // Nothing with a clause exists that is not a criterion (or a re-listing of one), except
    // the clauses version 2 added from research notes, each with its statement: 工贸's from
    // 令第10号, 烟花爆竹's from 121号 and 非煤's from 88号.
    let added_to = |id: &str| -> Vec<&'static ChecklistItem> {
        let v1_ids: HashSet<&str> = get(id, 1)
            .unwrap()
            .items
            .iter()
            .map(|i| i.id.as_str())
            .collect();
        latest(id)
            .unwrap()
            .items
            .iter()
            .filter(|i| i.clause.is_some() && !v1_ids.contains(i.id.as_str()))
            .collect()
    };
    let it_added = added_to("industry-trade");
    assert!(
        it_added.len() >= 30,
        "令第10号 complete: {} added",
        it_added.len()
    );
    assert_eq!(
        added_to("hazardous-chemicals").len(),
        20,
        "烟花爆竹 一至二十"
    );
    let added: Vec<&ChecklistItem> = ["industry-trade", "hazardous-chemicals", "non-coal-mine"]
        .into_iter()
        .flat_map(added_to)
        .collect();
    assert!(
        added
            .iter()
            .all(|i| !i.statement.is_empty() && i.check.is_some())
    );
    let origin_with_clause = all_items()
        .filter(|(_, i)| i.clause.is_some() && i.same_as.is_none())
        .count();
    assert_eq!(origin_with_clause, crits.len() - refined + added.len());
    assert!(matched.values().all(|&n| n == 1));
}

#[test]
fn relisted_items_point_at_an_identical_origin_item() {
    let mut relisted = 0;
    for (p, item) in all_items() {
        let Some(origin_id) = &item.same_as else {
            continue;
        };
        relisted += 1;
        let (op, origin) = all_items()
            .find(|(_, i)| &i.id == origin_id)
            .expect("origin exists");
        assert!(origin.same_as.is_none(), "{} points at a copy", item.id);
        assert_ne!(op.id, p.id, "a pack re-lists its own item {}", item.id);
        assert_eq!(item.clause, origin.clause);
        assert_eq!(item.prompt, origin.prompt);
        assert_eq!(item.check, origin.check);
        assert_eq!(item.major, origin.major);
        assert_eq!(op.standard.citation, p.standard.citation);
    }
    assert!(
        relisted > 0,
        "open-pit coal re-lists the shared management clauses"
    );
}

#[test]
fn no_item_has_an_empty_prompt_or_a_dangling_group() {
    for p in all() {
        for item in &p.items {
            assert!(!item.prompt.trim().is_empty(), "{} empty prompt", item.id);
            assert!(
                !item.evidence_hint.trim().is_empty(),
                "{} empty evidence hint",
                item.id
            );
            assert!(
                p.group(&item.group).is_some(),
                "{} in unknown group",
                item.id
            );
        }
        for g in &p.groups {
            assert!(p.items_in(&g.id).next().is_some(), "empty group {}", g.id);
            assert!(!g.title.trim().is_empty());
        }
    }
}

#[test]
fn every_pack_has_a_common_points_group_without_clauses() {
    for p in all() {
        let common: Vec<_> = p.groups.iter().filter(|g| g.common).collect();
        assert_eq!(common.len(), 1, "{}", p.id);
        assert!(common[0].title.contains("通用要点"), "{}", p.id);
        let items: Vec<_> = p.items_in(&common[0].id).collect();
        assert!(items.len() >= 5, "{} has too few common points", p.id);
        for i in items {
            assert_eq!(i.kind, ItemKind::Common);
            assert!(
                i.clause.is_none() && i.check.is_none() && !i.major,
                "{}",
                i.id
            );
            assert_eq!(p.legal_basis(i), None);
        }
        // And only common items lack a clause.
        for i in p.items.iter().filter(|i| i.kind != ItemKind::Common) {
            assert!(i.clause.is_some() && i.check.is_some(), "{}", i.id);
        }
    }
}

#[test]
fn packs_record_their_standard_and_newer_edition_notes() {
    for p in all() {
        assert!(
            !p.standard.name.is_empty() && !p.standard.doc_number.is_empty(),
            "{}",
            p.id
        );
        assert!(
            !p.standard.edition.is_empty() && !p.standard.citation.is_empty(),
            "{}",
            p.id
        );
        assert!(p.standard.citation.contains(&p.standard.name), "{}", p.id);
        for std in p.groups.iter().filter_map(|g| g.standard.as_ref()) {
            assert!(
                !std.doc_number.is_empty() && !std.edition.is_empty(),
                "{}",
                p.id
            );
            assert!(std.citation.contains(&std.name), "{}", p.id);
            assert!(
                !std.editions.is_empty() && std.effective.is_some(),
                "{}",
                p.id
            );
        }
    }
    for id in [
        "coal-underground",
        "coal-open-pit",
        "fire",
        "construction",
        "non-coal-mine",
    ] {
        let note = latest(id).unwrap().standard.newer_edition_note.as_deref();
        assert!(
            note.is_some_and(|n| !n.is_empty()),
            "{id} lacks its newer-edition note"
        );
    }
    assert!(
        latest("fire")
            .unwrap()
            .standard
            .newer_edition_note
            .as_deref()
            .unwrap()
            .contains("GB 35181-2025")
    );
}

#[test]
fn fire_chapter_7_items_are_composite_elements_not_major() {
    let fire = latest("fire").unwrap();
    for item in fire.items.iter().filter(|i| i.kind != ItemKind::Common) {
        let ch7 = item.clause.as_deref().unwrap().starts_with('7');
        assert_eq!(item.kind == ItemKind::Composite, ch7, "{}", item.id);
        assert_eq!(item.major, !ch7, "{}", item.id);
        assert_eq!(
            item.default_level(),
            if ch7 { Level::General } else { Level::Major }
        );
    }
    // Outside fire, every criterion is a major hazard per se.
    for p in all().iter().filter(|p| p.id.as_str() != "fire") {
        for i in p.items.iter().filter(|i| i.kind != ItemKind::Common) {
            assert_eq!(i.kind, ItemKind::Major, "{}", i.id);
        }
    }
}

#[test]
fn composite_rules_reference_composite_items_only() {
    let fire = latest("fire").unwrap();
    assert_eq!(fire.composite_rules.len(), 4);
    for r in &fire.composite_rules {
        assert!(!r.items.is_empty());
        for id in &r.items {
            assert_eq!(
                fire.item(id).map(|i| i.kind),
                Some(ItemKind::Composite),
                "{} in {}",
                id,
                r.id
            );
        }
    }
    let crowded = fire
        .composite_rules
        .iter()
        .find(|r| r.id == "fire-crowded-3")
        .unwrap();
    assert_eq!(crowded.items.len(), 11); // 7.3.1–7.3.9, 7.5, 7.9.3
}

#[test]
fn composite_count_reaches_the_crowded_venue_threshold_at_three() {
    let fire = latest("fire").unwrap();
    let two = fire.evaluate_composite(&[FireVenue::Crowded], &["fire-7-3-1", "fire-7-5"]);
    let crowded = |hits: &[CompositeHit]| {
        hits.iter()
            .find(|h| h.rule_id == "fire-crowded-3")
            .cloned()
            .unwrap()
    };
    assert!(!crowded(&two).reached);
    let three = fire.evaluate_composite(
        &[FireVenue::Crowded],
        &["fire-7-3-1", "fire-7-5", "fire-7-9-3"],
    );
    assert!(crowded(&three).reached);
    assert_eq!(crowded(&three).count, 3);
    // An element outside the crowded list does not count towards that rule.
    let other = fire.evaluate_composite(
        &[FireVenue::Crowded],
        &["fire-7-3-1", "fire-7-5", "fire-7-1-1"],
    );
    assert!(!crowded(&other).reached);
    // "Other" venues need six of any chapter-7 element.
    let five: Vec<&str> = fire.composite_rules[3]
        .items
        .iter()
        .take(5)
        .map(String::as_str)
        .collect();
    assert!(!fire.evaluate_composite(&[FireVenue::Other], &five)[0].reached);
}

#[test]
fn legal_basis_marks_unverified_clauses() {
    let coal = latest("coal-underground").unwrap();
    let verified = coal.item("coal-ug-8-03").unwrap();
    assert_eq!(
        coal.legal_basis(verified).unwrap(),
        "《煤矿重大事故隐患判定标准》（应急管理部令第4号）第八条（三）"
    );
    let fire = latest("fire").unwrap();
    let pending = fire.item("fire-7-3-8").unwrap();
    assert!(pending.needs_text_check() && !pending.verified());
    let basis = fire.legal_basis(pending).unwrap();
    assert!(basis.ends_with("7.3.8（条文待核）"), "{basis}");
}

#[test]
fn subsector_groups_filter_the_non_coal_pack() {
    let ncm = latest("non-coal-mine").unwrap();
    let tailings: Vec<_> = ncm.groups_for(&[Subsector::TailingsPond]).collect();
    assert!(
        tailings
            .iter()
            .all(|g| g.subsector.is_none_or(|s| s == Subsector::TailingsPond))
    );
    assert!(tailings.iter().any(|g| g.common));
    assert!(tailings.len() < ncm.groups.len());
    assert_eq!(ncm.groups_for(&[]).count(), ncm.groups.len());
}

#[test]
fn a_grain_mill_is_asked_its_own_industry_and_risks_not_blast_furnaces() {
    let it = latest("industry-trade").unwrap();
    let mill = [Subsector::LightIndustry, Subsector::DustExplosion];
    let groups: Vec<&str> = it.groups_for(&mill).map(|g| g.id.as_str()).collect();
    assert!(groups.contains(&"it-g-light") && groups.contains(&"it-g-dust"));
    assert!(groups.contains(&"it-g-mgmt") && groups.contains(&"it-common"));
    assert!(!groups.contains(&"it-g-metal") && !groups.contains(&"it-g-ammonia"));
    // An enterprise whose industry was never recorded still gets every article.
    assert_eq!(it.groups_for(&[]).count(), it.groups.len());
    // Every sub-industry of 工贸 but 商贸 has its own article.
    for sub in Sector::IndustryTrade.subsectors() {
        assert_eq!(sub.sector(), Sector::IndustryTrade);
        let own = it.groups.iter().any(|g| g.subsector == Some(*sub));
        assert_eq!(own, *sub != Subsector::Commerce, "{sub:?}");
    }
}

#[test]
fn registry_lookup_by_version_and_latest() {
    let v1 = get("fire", 1).unwrap();
    assert_eq!(latest("fire").unwrap().version, 2);
    assert!(get("fire", 999).is_none());
    assert!(latest("nope").is_none());
    assert_eq!(v1.summary().item_count as usize, v1.items.len());
}

#[test]
fn old_versions_stay_readable_and_keep_their_item_ids() {
    for p in all().iter().filter(|p| p.version == 1) {
        let current = latest(p.id.as_str()).unwrap();
        assert!(current.version > 1, "{}", p.id);
        for item in &p.items {
            if let Some((_, article)) = REFINED.iter().find(|(id, _)| *id == item.id) {
                assert!(
                    current
                        .items
                        .iter()
                        .any(|i| i.clause.as_deref().is_some_and(|c| c.starts_with(article)))
                );
                continue;
            }
            let now = current
                .item(&item.id)
                .unwrap_or_else(|| panic!("{}", item.id));
            // A `?` dropped once the number was verified is no move.
            let bare =
                |c: &Option<String>| c.as_deref().map(|c| c.trim_end_matches('?').to_owned());
            assert_eq!(bare(&now.clause), bare(&item.clause), "{} moved", item.id);
            if now.clause != item.clause {
                assert!(now.verified() && !item.verified(), "{}", item.id);
            }
            assert_eq!(now.prompt, item.prompt, "{} changed meaning", item.id);
        }
    }
}

mod editions;
