//! What a user may see: the org units of their scope (inspector: own team; leader: own org
//! subtree; admin: everything), and the enterprise directories above them.

use std::collections::BTreeSet;

use zhicha_core::ids::OrgId;
use zhicha_core::model::{OrgUnit, Role, User};

/// The org units a user may see records of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    All,
    Orgs(BTreeSet<OrgId>),
}

impl Scope {
    /// Inspector: own team; leader and admin: own org unit and everything under it (an admin
    /// manages his bureau); a superuser (made only from the command line): all.
    pub fn of(user: &User, orgs: &[OrgUnit], superuser: bool) -> Self {
        if superuser {
            return Self::All;
        }
        match user.role {
            Role::Admin => Self::Orgs(subtree(user.org_id, orgs)),
            Role::Inspector => Self::Orgs(BTreeSet::from([user.org_id])),
            Role::Leader => Self::Orgs(subtree(user.org_id, orgs)),
        }
    }

    pub fn contains(&self, org: OrgId) -> bool {
        match self {
            Self::All => true,
            Self::Orgs(orgs) => orgs.contains(&org),
        }
    }

    /// The listed org ids, or None for all.
    pub fn org_ids(&self) -> Option<Vec<String>> {
        match self {
            Self::All => None,
            Self::Orgs(orgs) => Some(orgs.iter().map(ToString::to_string).collect()),
        }
    }
}

pub use zhicha_core::org::{ancestors, subtree};

/// `scope` plus the units above `user`: the enterprise directories they work from.
pub fn directory_scope(user: &User, scope: &Scope, orgs: &[OrgUnit]) -> Scope {
    match scope {
        Scope::All => Scope::All,
        Scope::Orgs(own) => {
            let mut all = own.clone();
            all.extend(ancestors(user.org_id, orgs));
            Scope::Orgs(all)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use zhicha_core::ids::UserId;

    fn org(id: OrgId, parent: Option<OrgId>) -> OrgUnit {
        OrgUnit {
            id,
            parent_id: parent,
            name: String::new(),
            doc_code: String::new(),
            region: String::new(),
            review_authority: String::new(),
            court: String::new(),
        }
    }

    fn user(role: Role, org_id: OrgId) -> User {
        User {
            id: UserId::new(),
            username: "u".into(),
            display_name: "u".into(),
            role,
            org_id,
            certificate_no: None,
        }
    }

    #[test]
    fn scope_follows_role_and_org_tree() {
        let (bureau, team1, team2) = (OrgId::new(), OrgId::new(), OrgId::new());
        let orgs = [
            org(bureau, None),
            org(team1, Some(bureau)),
            org(team2, Some(bureau)),
        ];
        let inspector = Scope::of(&user(Role::Inspector, team1), &orgs, false);
        assert!(
            inspector.contains(team1) && !inspector.contains(team2) && !inspector.contains(bureau)
        );
        let team_leader = Scope::of(&user(Role::Leader, team1), &orgs, false);
        assert!(team_leader.contains(team1) && !team_leader.contains(team2));
        let bureau_leader = Scope::of(&user(Role::Leader, bureau), &orgs, false);
        assert!(bureau_leader.contains(team1) && bureau_leader.contains(team2));
        let admin = Scope::of(&user(Role::Admin, bureau), &orgs, false);
        assert!(admin.contains(team1) && admin.contains(team2) && admin.contains(bureau));
        let other = OrgId::new();
        let two_bureaus = [&orgs[..], &[org(other, None)]].concat();
        let admin = Scope::of(&user(Role::Admin, bureau), &two_bureaus, false);
        assert!(
            !admin.contains(other),
            "an admin manages his own bureau only"
        );
        assert_eq!(
            Scope::of(&user(Role::Admin, bureau), &two_bureaus, true),
            Scope::All
        );
        assert_eq!(ancestors(team2, &orgs), vec![team2, bureau]);
    }
}
