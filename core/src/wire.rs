//! The wire names of the enums that the server also stores as text (indexed columns, the change
//! log, acks): one spelling, the serde one, so a stored value and a JSON value never drift.

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::case::Stage;
use crate::model::{FindingStatus, Level, Role, Sector};
use crate::protocol::{AckStatus, EntityKind};

/// An enum whose variants have fixed wire names.
pub trait WireName: Sized + Copy + Serialize + DeserializeOwned + 'static {
    /// Every variant.
    const ALL: &'static [Self];
    /// The variant's wire name, as serde writes it.
    fn wire_name(self) -> &'static str;
    /// The variant with this wire name.
    fn from_wire(name: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|v| v.wire_name() == name)
    }
}

macro_rules! wire_names {
    ($ty:ty { $($variant:ident => $name:literal),+ $(,)? }) => {
        impl WireName for $ty {
            const ALL: &'static [Self] = &[$(<$ty>::$variant),+];
            fn wire_name(self) -> &'static str {
                match self {
                    $(<$ty>::$variant => $name),+
                }
            }
        }
    };
}

wire_names!(FindingStatus {
    Draft => "draft",
    Submitted => "submitted",
    Returned => "returned",
    Rectifying => "rectifying",
    Verified => "verified",
    Closed => "closed",
});
wire_names!(Level { General => "general", Major => "major" });
wire_names!(Role { Inspector => "inspector", Leader => "leader", Admin => "admin" });
wire_names!(Sector {
    Coal => "coal",
    NonCoalMine => "non_coal_mine",
    HazardousChemicals => "hazardous_chemicals",
    Fire => "fire",
    UrbanGas => "urban_gas",
    Construction => "construction",
    IndustryTrade => "industry_trade",
});
wire_names!(EntityKind {
    Inspection => "inspection",
    Finding => "finding",
    Enterprise => "enterprise",
    Photo => "photo",
    User => "user",
    Org => "org",
    Case => "case",
});
wire_names!(Stage {
    PreFiled => "pre_filed",
    Filed => "filed",
    Notified => "notified",
    Heard => "heard",
    Decided => "decided",
    Served => "served",
    Executed => "executed",
    Closed => "closed",
    Dropped => "dropped",
});
wire_names!(AckStatus { Applied => "applied", Duplicate => "duplicate", Rejected => "rejected" });

#[cfg(test)]
mod tests {
    use super::*;

    fn serde_names_match<T: WireName + std::fmt::Debug + PartialEq>() {
        for v in T::ALL {
            let json = serde_json::to_value(v).unwrap();
            assert_eq!(json.as_str(), Some(v.wire_name()), "{v:?}");
            assert_eq!(T::from_wire(v.wire_name()), Some(*v));
            let back: T = serde_json::from_value(json).unwrap();
            assert_eq!(back, *v);
        }
        assert_eq!(T::from_wire("no_such_name"), None);
    }

    #[test]
    fn every_stored_name_is_the_serde_name() {
        serde_names_match::<FindingStatus>();
        serde_names_match::<Level>();
        serde_names_match::<Role>();
        serde_names_match::<Sector>();
        serde_names_match::<EntityKind>();
        serde_names_match::<Stage>();
        serde_names_match::<AckStatus>();
    }

    #[test]
    fn every_variant_is_listed() {
        // A variant added to an enum but not here fails to compile in `wire_name` (the match is
        // exhaustive); these counts catch one listed twice.
        assert_eq!(FindingStatus::ALL.len(), 6);
        assert_eq!(Sector::ALL.len(), 7);
        assert_eq!(EntityKind::ALL.len(), 7);
    }
}
