//! Identifiers: newtype ids made on the device (UUIDv7), pack ids and content hashes of photos.
//!
//! Ids are created offline, before the server has heard of a record (protocol.md §1), so every
//! entity id is a UUIDv7: unique without coordination and roughly time-ordered, which keeps
//! database indexes compact.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize};
use uuid::Uuid;

macro_rules! uuid_id {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(value_type = String, format = Uuid))]
        pub struct $name(pub Uuid);

        impl $name {
            /// A fresh time-ordered id (UUIDv7).
            #[allow(clippy::new_without_default)]
            pub fn new() -> Self {
                Self(Uuid::now_v7())
            }

            /// Wraps an existing uuid (e.g. read from the database).
            pub const fn from_uuid(uuid: Uuid) -> Self {
                Self(uuid)
            }

            /// The underlying uuid.
            pub const fn as_uuid(&self) -> &Uuid {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = uuid::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s).map(Self)
            }
        }

        impl From<Uuid> for $name {
            fn from(uuid: Uuid) -> Self {
                Self(uuid)
            }
        }

        impl From<$name> for Uuid {
            fn from(id: $name) -> Uuid {
                id.0
            }
        }
    };
}

uuid_id!(
    /// An inspection (检查).
    InspectionId
);
uuid_id!(
    /// A finding (隐患).
    FindingId
);
uuid_id!(
    /// An enterprise (生产经营单位), from the directory or made on site.
    EnterpriseId
);
uuid_id!(
    /// A user account.
    UserId
);
uuid_id!(
    /// An organisation unit: a bureau, a department or a team.
    OrgId
);
uuid_id!(
    /// A device (one browser profile on one phone); made by the device on first start.
    DeviceId
);
uuid_id!(
    /// One outbox mutation; the idempotency key of a push.
    MutationId
);
uuid_id!(
    /// An annual inspection plan (年度执法检查计划) of one bureau.
    PlanId
);
uuid_id!(
    /// One 双随机 draw, kept for good (append-only).
    DrawId
);
uuid_id!(
    /// An inspection task: one enterprise assigned to officers by a plan's draw (我的任务).
    TaskId
);

/// A checklist pack id such as `coal-underground`; stable across versions of the pack.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(value_type = String))]
pub struct PackId(pub String);

impl PackId {
    pub fn new(id: impl Into<String>) -> Self {
        Self(id.into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for PackId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for PackId {
    type Err = std::convert::Infallible;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(Self(s.to_owned()))
    }
}

impl From<&str> for PackId {
    fn from(s: &str) -> Self {
        Self(s.to_owned())
    }
}

/// Why a string is not a photo hash.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("照片哈希须为 64 位小写十六进制 SHA-256 值")]
pub struct InvalidPhotoHash;

/// The SHA-256 of a photo's stored bytes, as 64 lowercase hex characters.
///
/// Photos are content-addressed (protocol.md §5): the hash is the photo's name on the device,
/// on the wire and in object storage, so only a well-formed hash may ever be constructed —
/// it also becomes a storage path, which must not carry anything but hex.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(value_type = String, pattern = "^[0-9a-f]{64}$"))]
pub struct PhotoHash(String);

impl PhotoHash {
    /// Accepts exactly 64 lowercase hex characters.
    pub fn parse(s: &str) -> Result<Self, InvalidPhotoHash> {
        let ok = s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
        if ok {
            Ok(Self(s.to_owned()))
        } else {
            Err(InvalidPhotoHash)
        }
    }

    /// Hex-encodes a 32-byte digest.
    pub fn from_digest(digest: [u8; 32]) -> Self {
        use fmt::Write;
        let mut s = String::with_capacity(64);
        for b in digest {
            // Writing to a String cannot fail.
            let _ = write!(s, "{b:02x}");
        }
        Self(s)
    }

    /// Hashes bytes with SHA-256 (the device hashes the compressed JPEG, the server re-hashes
    /// the upload; both use this so they cannot disagree on encoding).
    pub fn of_bytes(bytes: &[u8]) -> Self {
        use sha2::Digest;
        Self::from_digest(sha2::Sha256::digest(bytes).into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for PhotoHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for PhotoHash {
    type Err = InvalidPhotoHash;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl<'de> Deserialize<'de> for PhotoHash {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_ids_are_uuid_v7_and_distinct() {
        let a = FindingId::new();
        let b = FindingId::new();
        assert_eq!(a.0.get_version_num(), 7);
        assert_ne!(a, b);
    }

    #[test]
    fn ids_round_trip_through_display_fromstr_and_serde() {
        let id = InspectionId::new();
        assert_eq!(id.to_string().parse::<InspectionId>().unwrap(), id);
        let json = serde_json::to_string(&id).unwrap();
        assert_eq!(json, format!("\"{id}\""));
        assert_eq!(serde_json::from_str::<InspectionId>(&json).unwrap(), id);
    }

    #[test]
    fn photo_hash_accepts_only_64_lowercase_hex() {
        let good = "a".repeat(64);
        assert!(PhotoHash::parse(&good).is_ok());
        assert!(PhotoHash::parse(&"A".repeat(64)).is_err());
        assert!(PhotoHash::parse(&"a".repeat(63)).is_err());
        assert!(PhotoHash::parse(&format!("{}g", "a".repeat(63))).is_err());
        assert!(PhotoHash::parse("../../etc/passwd").is_err());
    }

    #[test]
    fn photo_hash_serde_rejects_malformed_input() {
        assert!(serde_json::from_str::<PhotoHash>("\"abc\"").is_err());
        let h: PhotoHash = serde_json::from_str(&format!("\"{}\"", "0f".repeat(32))).unwrap();
        assert_eq!(h.as_str(), "0f".repeat(32));
    }

    #[test]
    fn photo_hash_of_bytes_is_sha256() {
        // SHA-256 of the empty string, a published test vector.
        assert_eq!(
            PhotoHash::of_bytes(b"").as_str(),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }
}
uuid_id!(
    /// A case (案件): made on the device as 预立案, numbered by the server at 立案审批.
    CaseId
);
