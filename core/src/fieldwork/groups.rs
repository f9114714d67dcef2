//! The checklist walked group by group: the groups of an inspection's items with their titles,
//! each group's count, and a whole group answered 不涉及 at once.
//!
//! A coal-mine checklist has close to ninety items; the runner lists these groups as its index,
//! counts each, hides answered items on request and marks what a group left open 不涉及.

use crate::model::{Inspection, ItemResult, Outcome};
use crate::packs::{ChecklistItem, ChecklistPack};

use super::{Progress, answer, progress};

/// One group of an inspection's checklist, in walking order.
#[derive(Debug, Clone, PartialEq)]
pub struct ItemGroup<'a> {
    /// `pack/group`: unique within an inspection, where two packs may both number a group `1`.
    pub key: String,
    /// `pack title · group title`, as the runner heads the group.
    pub title: String,
    /// The group's own title, where the pack goes without saying (the runner's index and bar).
    pub group_title: String,
    pub pack: &'a ChecklistPack,
    pub items: Vec<&'a ChecklistItem>,
}

impl ItemGroup<'_> {
    /// How far the group is, given the inspection's answers.
    pub fn progress(&self, inspection: &Inspection) -> Progress {
        progress(inspection, self.items.iter().copied())
    }
}

/// The items of `items_of` cut into their groups, keeping the walking order.
pub fn item_groups<'a>(items: &[(&'a ChecklistPack, &'a ChecklistItem)]) -> Vec<ItemGroup<'a>> {
    let mut groups: Vec<ItemGroup<'a>> = Vec::new();
    for &(pack, item) in items {
        let key = group_key(pack, item);
        match groups.last_mut() {
            Some(last) if last.key == key => last.items.push(item),
            _ => {
                let title = pack
                    .group(&item.group)
                    .map_or_else(|| item.group.clone(), |g| g.title.clone());
                groups.push(ItemGroup {
                    key,
                    title: format!("{} · {title}", pack.title),
                    group_title: title,
                    pack,
                    items: vec![item],
                });
            }
        }
    }
    groups
}

/// The key of the group `item` belongs to in `pack`.
pub fn group_key(pack: &ChecklistPack, item: &ChecklistItem) -> String {
    format!("{}/{}", pack.id, item.group)
}

/// The answer given to an item, if any.
pub fn outcome_of(inspection: &Inspection, item_id: &str) -> Option<Outcome> {
    inspection
        .item_results
        .iter()
        .find(|r| r.item_id == item_id)
        .map(|r| r.outcome)
}

impl Progress {
    /// Every item answered (an empty list counts as done).
    pub fn is_complete(&self) -> bool {
        self.answered >= self.total
    }

    /// Items still to answer.
    pub fn open(&self) -> usize {
        self.total.saturating_sub(self.answered)
    }
}

/// 本组全部不涉及: the answers that mark every still-unanswered item of a group 不涉及. An item
/// already answered (符合, 不符合 or 不涉及) is left as it is, so no finding loses its item; a
/// finished inspection gets nothing, its results being final.
pub fn group_not_applicable<'a>(
    inspection: &Inspection,
    items: impl IntoIterator<Item = &'a ChecklistItem>,
) -> Vec<ItemResult> {
    if inspection.finished_at.is_some() {
        return Vec::new();
    }
    items
        .into_iter()
        .filter(|item| outcome_of(inspection, &item.id).is_none())
        .map(|item| answer(inspection, &item.id, Outcome::NotApplicable))
        .collect()
}
