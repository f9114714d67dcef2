//! Document numbers allocated offline: the device code the server issues, the number format, and
//! the device's counter.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::model::DocumentKind;

/// Why a device code is not acceptable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("设备编码须为 1–4 位大写字母或数字，且以字母开头（不含 I、O）")]
pub struct InvalidDeviceCode;

/// Letters that cannot be mistaken for digits when read off paper.
const CODE_LETTERS: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ";

/// A short per-org device code issued by the server at login (e.g. `A7`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(value_type = String))]
pub struct DeviceCode(String);

impl DeviceCode {
    pub fn parse(s: &str) -> Result<Self, InvalidDeviceCode> {
        let b = s.as_bytes();
        let ok = (1..=4).contains(&b.len())
            && CODE_LETTERS.contains(&b[0])
            && b[1..]
                .iter()
                .all(|c| CODE_LETTERS.contains(c) || c.is_ascii_digit());
        if ok {
            Ok(Self(s.to_owned()))
        } else {
            Err(InvalidDeviceCode)
        }
    }

    /// The n-th code of an org, for the server to hand out in order: `A0`…`Z9` (240 codes),
    /// then `A00`…`Z99`, then `A000`…`Z999`: distinct for the first 26,640 indexes, far more
    /// devices than one authority has.
    pub fn from_index(n: u32) -> Self {
        let letters = CODE_LETTERS.len() as u32;
        let (mut n, mut digits) = (n, 1u32);
        loop {
            let block = letters * 10u32.pow(digits);
            if n < block || digits == 3 {
                break;
            }
            n -= block;
            digits += 1;
        }
        let pow = 10u32.pow(digits);
        let letter = CODE_LETTERS[((n / pow) % letters) as usize] as char;
        Self(format!(
            "{letter}{:0width$}",
            n % pow,
            width = digits as usize
        ))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for DeviceCode {
    type Error = InvalidDeviceCode;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<DeviceCode> for String {
    fn from(c: DeviceCode) -> String {
        c.0
    }
}

impl fmt::Display for DeviceCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A document number; see the module docs for the format.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DocumentNumber {
    pub org_code: String,
    pub kind: DocumentKind,
    pub year: i32,
    pub device: DeviceCode,
    pub seq: u32,
}

impl fmt::Display for DocumentNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}{}〔{}〕{}-{:04}号",
            self.org_code,
            self.kind.code(),
            self.year,
            self.device,
            self.seq
        )
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("文书编号格式不正确")]
pub struct InvalidDocumentNumber;

impl FromStr for DocumentNumber {
    type Err = InvalidDocumentNumber;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.strip_suffix('号').ok_or(InvalidDocumentNumber)?;
        let (head, rest) = s.split_once('〔').ok_or(InvalidDocumentNumber)?;
        let (year, tail) = rest.split_once('〕').ok_or(InvalidDocumentNumber)?;
        let (device, seq) = tail.rsplit_once('-').ok_or(InvalidDocumentNumber)?;
        let kind = DocumentKind::ALL
            .into_iter()
            .find(|k| head.ends_with(k.code()))
            .ok_or(InvalidDocumentNumber)?;
        let org_code = head
            .strip_suffix(kind.code())
            .ok_or(InvalidDocumentNumber)?;
        if org_code.is_empty() {
            return Err(InvalidDocumentNumber);
        }
        Ok(Self {
            org_code: org_code.to_owned(),
            kind,
            year: year.parse().map_err(|_| InvalidDocumentNumber)?,
            device: DeviceCode::parse(device).map_err(|_| InvalidDocumentNumber)?,
            seq: seq.parse().map_err(|_| InvalidDocumentNumber)?,
        })
    }
}

/// The last sequence used in one year on this device. Earlier versions counted per type; their
/// entries are read as the year's and replaced by one entry (kind 检记) at the next number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CounterEntry {
    pub kind: DocumentKind,
    pub year: i32,
    pub last: u32,
}

/// The device's document counters, persisted on the device with the documents they number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocumentCounter {
    pub device: DeviceCode,
    #[serde(default)]
    pub entries: Vec<CounterEntry>,
}

impl DocumentCounter {
    pub fn new(device: DeviceCode) -> Self {
        Self {
            device,
            entries: Vec::new(),
        }
    }

    /// Allocates a new sequence number N for the year of `at` (China Standard Time) and returns
    /// it as a number of `kind`. One sequence per device and year serves every type (reference
    /// §3: one inspection, one N); it continues past any number this device issued per type
    /// before, so no number is ever issued twice.
    pub fn allocate(
        &mut self,
        org_code: &str,
        kind: DocumentKind,
        at: DateTime<Utc>,
    ) -> DocumentNumber {
        use chrono::Datelike;
        let year = crate::time::china_date(at).year();
        let last = self
            .entries
            .iter()
            .filter(|e| e.year == year)
            .map(|e| e.last)
            .max()
            .unwrap_or(0)
            + 1;
        self.entries.retain(|e| e.year != year);
        self.entries.push(CounterEntry {
            kind: DocumentKind::InspectionRecord,
            year,
            last,
        });
        DocumentNumber {
            org_code: org_code.to_owned(),
            kind,
            year,
            device: self.device.clone(),
            seq: last,
        }
    }

    /// The number of a `kind` document of an inspection that already holds `issued`: the N of
    /// its first parseable number under the new type code, or a new N when it holds none.
    pub fn number_for(
        &mut self,
        org_code: &str,
        issued: &[crate::model::IssuedDocument],
        kind: DocumentKind,
        at: DateTime<Utc>,
    ) -> DocumentNumber {
        match issued
            .iter()
            .find_map(|d| d.number.parse::<DocumentNumber>().ok())
        {
            Some(first) => first.with_kind(kind),
            None => self.allocate(org_code, kind, at),
        }
    }
}

impl DocumentNumber {
    /// The same N under another type code (a 复查 takes its 责改's number this way).
    pub fn with_kind(&self, kind: DocumentKind) -> Self {
        Self {
            kind,
            ..self.clone()
        }
    }
}
