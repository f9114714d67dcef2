//! The org tree (bureau → 中队 / 科室): the subtree a leader oversees, the chain of units above
//! a team, and the authority whose short name numbers a team's documents. The server scopes
//! every query with these; the app numbers documents with them.

use std::collections::BTreeSet;

use crate::ids::OrgId;
use crate::model::OrgUnit;

/// `root` and every unit below it.
pub fn subtree(root: OrgId, orgs: &[OrgUnit]) -> BTreeSet<OrgId> {
    let mut found = BTreeSet::from([root]);
    loop {
        let before = found.len();
        for org in orgs {
            if org.parent_id.is_some_and(|p| found.contains(&p)) {
                found.insert(org.id);
            }
        }
        if found.len() == before {
            return found;
        }
    }
}

/// `org` and the units above it, nearest first. A cycle in the data ends the chain.
pub fn ancestors(org: OrgId, orgs: &[OrgUnit]) -> Vec<OrgId> {
    let mut chain = vec![org];
    let mut current = org;
    while let Some(parent) = orgs
        .iter()
        .find(|o| o.id == current)
        .and_then(|o| o.parent_id)
    {
        if chain.contains(&parent) {
            break;
        }
        chain.push(parent);
        current = parent;
    }
    chain
}

/// The unit whose short name (`doc_code`) numbers the documents of `org`'s team: the team's
/// own if it has one, else the nearest unit above with one (numbers carry the issuing
/// authority, usually the bureau). None when no unit in the chain has a code.
pub fn numbering_authority(org: OrgId, orgs: &[OrgUnit]) -> Option<&OrgUnit> {
    ancestors(org, orgs).into_iter().find_map(|id| {
        orgs.iter()
            .find(|o| o.id == id && !o.doc_code.trim().is_empty())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn org(id: OrgId, parent: Option<OrgId>, code: &str) -> OrgUnit {
        OrgUnit {
            id,
            parent_id: parent,
            name: String::new(),
            doc_code: code.to_owned(),
            region: String::new(),
            review_authority: String::new(),
            court: String::new(),
        }
    }

    fn tree() -> (Vec<OrgUnit>, [OrgId; 4]) {
        let ids = [OrgId::new(), OrgId::new(), OrgId::new(), OrgId::new()];
        let [bureau, team1, team2, other] = ids;
        (
            vec![
                org(bureau, None, "达旗应急"),
                org(team1, Some(bureau), ""),
                org(team2, Some(bureau), "二中队"),
                org(other, None, ""),
            ],
            ids,
        )
    }

    #[test]
    fn a_subtree_holds_the_root_and_everything_below_it_only() {
        let (orgs, [bureau, team1, team2, other]) = tree();
        assert_eq!(
            subtree(bureau, &orgs),
            BTreeSet::from([bureau, team1, team2])
        );
        assert_eq!(subtree(team1, &orgs), BTreeSet::from([team1]));
        assert!(!subtree(bureau, &orgs).contains(&other));
    }

    #[test]
    fn ancestors_run_nearest_first_and_stop_at_a_cycle() {
        let (mut orgs, [bureau, team1, ..]) = tree();
        assert_eq!(ancestors(team1, &orgs), [team1, bureau]);
        orgs[0].parent_id = Some(team1);
        assert_eq!(ancestors(team1, &orgs), [team1, bureau]);
    }

    #[test]
    fn documents_are_numbered_by_the_nearest_unit_with_a_code() {
        let (orgs, [bureau, team1, team2, other]) = tree();
        assert_eq!(
            numbering_authority(team1, &orgs).map(|o| o.id),
            Some(bureau)
        );
        assert_eq!(numbering_authority(team2, &orgs).map(|o| o.id), Some(team2));
        assert_eq!(numbering_authority(other, &orgs), None);
    }
}
