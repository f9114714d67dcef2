//! The domain model: sectors, organisations, users, enterprises, inspections, findings, photos.
//!
//! These are plain data. The rules over them live next door: `lifecycle` (who may move a
//! finding where), `validation` (what a complete record needs), `documents` (which 执法文书 an
//! inspection requires). Fields added after v1 carry `#[serde(default)]` so records written by
//! an older app stay readable.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::ids::{EnterpriseId, FindingId, InspectionId, OrgId, PackId, PhotoHash, UserId};

/// What a user may do (design.md): inspectors record, leaders review, admins manage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Role {
    /// 执法人员
    Inspector,
    /// 队长 / 科室负责人
    Leader,
    /// 管理员
    Admin,
}

impl Role {
    pub fn label_zh(self) -> &'static str {
        match self {
            Role::Inspector => "执法人员",
            Role::Leader => "队长/科室负责人",
            Role::Admin => "管理员",
        }
    }
}

/// 行业领域: the sectors the statistics are broken down by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Sector {
    /// 煤矿
    Coal,
    /// 非煤矿山（金属非金属矿山）
    NonCoalMine,
    /// 危险化学品
    HazardousChemicals,
    /// 消防
    Fire,
    /// 城镇燃气
    UrbanGas,
    /// 建筑施工（房屋市政工程）
    Construction,
    /// 工贸
    IndustryTrade,
}

impl Sector {
    pub const ALL: [Sector; 7] = [
        Sector::Coal,
        Sector::NonCoalMine,
        Sector::HazardousChemicals,
        Sector::Fire,
        Sector::UrbanGas,
        Sector::Construction,
        Sector::IndustryTrade,
    ];

    pub fn label_zh(self) -> &'static str {
        match self {
            Sector::Coal => "煤矿",
            Sector::NonCoalMine => "非煤矿山",
            Sector::HazardousChemicals => "危险化学品",
            Sector::Fire => "消防",
            Sector::UrbanGas => "城镇燃气",
            Sector::Construction => "建筑施工",
            Sector::IndustryTrade => "工贸",
        }
    }

    /// The subtypes a sector is divided into (empty for undivided sectors).
    pub fn subsectors(self) -> &'static [Subsector] {
        match self {
            Sector::Coal => &[Subsector::CoalUnderground, Subsector::CoalOpenPit],
            Sector::NonCoalMine => &[
                Subsector::MineUnderground,
                Subsector::MineOpenPit,
                Subsector::TailingsPond,
            ],
            // 令第10号: the industry, then the cross-industry risks (第十一至十三条).
            Sector::IndustryTrade => &[
                Subsector::Metallurgy,
                Subsector::NonFerrous,
                Subsector::BuildingMaterials,
                Subsector::Machinery,
                Subsector::LightIndustry,
                Subsector::Textile,
                Subsector::Tobacco,
                Subsector::Commerce,
                Subsector::DustExplosion,
                Subsector::AmmoniaRefrigeration,
                Subsector::ConfinedSpace,
            ],
            // 安监总管三〔2017〕121号 also holds the fireworks standard: its groups are shown
            // only to an enterprise that declares 烟花爆竹.
            Sector::HazardousChemicals => &[Subsector::Fireworks],
            _ => &[],
        }
    }
}

/// Subtypes of a sector (mines by kind, 工贸 by industry and special risk, 烟花爆竹 within
/// 危险化学品); each decides which checklist groups apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Subsector {
    /// 煤矿 · 井工
    CoalUnderground,
    /// 煤矿 · 露天
    CoalOpenPit,
    /// 非煤矿山 · 地下矿山
    MineUnderground,
    /// 非煤矿山 · 露天矿山
    MineOpenPit,
    /// 非煤矿山 · 尾矿库
    TailingsPond,
    /// 工贸 · 冶金
    Metallurgy,
    /// 工贸 · 有色
    NonFerrous,
    /// 工贸 · 建材
    BuildingMaterials,
    /// 工贸 · 机械
    Machinery,
    /// 工贸 · 轻工
    LightIndustry,
    /// 工贸 · 纺织
    Textile,
    /// 工贸 · 烟草
    Tobacco,
    /// 工贸 · 商贸
    Commerce,
    /// 工贸 · 存在粉尘爆炸危险
    DustExplosion,
    /// 工贸 · 使用液氨制冷
    AmmoniaRefrigeration,
    /// 工贸 · 有限空间作业
    ConfinedSpace,
    /// 危险化学品 · 烟花爆竹（生产、批发、零售）
    Fireworks,
}

impl Subsector {
    pub fn sector(self) -> Sector {
        match self {
            Subsector::CoalUnderground | Subsector::CoalOpenPit => Sector::Coal,
            Subsector::MineUnderground | Subsector::MineOpenPit | Subsector::TailingsPond => {
                Sector::NonCoalMine
            }
            Subsector::Metallurgy
            | Subsector::NonFerrous
            | Subsector::BuildingMaterials
            | Subsector::Machinery
            | Subsector::LightIndustry
            | Subsector::Textile
            | Subsector::Tobacco
            | Subsector::Commerce
            | Subsector::DustExplosion
            | Subsector::AmmoniaRefrigeration
            | Subsector::ConfinedSpace => Sector::IndustryTrade,
            Subsector::Fireworks => Sector::HazardousChemicals,
        }
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            Subsector::CoalUnderground => "井工煤矿",
            Subsector::CoalOpenPit => "露天煤矿",
            Subsector::MineUnderground => "地下矿山",
            Subsector::MineOpenPit => "露天矿山",
            Subsector::TailingsPond => "尾矿库",
            Subsector::Metallurgy => "冶金",
            Subsector::NonFerrous => "有色",
            Subsector::BuildingMaterials => "建材",
            Subsector::Machinery => "机械",
            Subsector::LightIndustry => "轻工",
            Subsector::Textile => "纺织",
            Subsector::Tobacco => "烟草",
            Subsector::Commerce => "商贸",
            Subsector::DustExplosion => "粉尘涉爆",
            Subsector::AmmoniaRefrigeration => "涉氨制冷",
            Subsector::ConfinedSpace => "有限空间作业",
            Subsector::Fireworks => "烟花爆竹",
        }
    }
}

/// An organisation unit: a bureau (局), a department (科室) or an enforcement team (执法队).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OrgUnit {
    pub id: OrgId,
    /// None for the root of the tree.
    #[serde(default)]
    pub parent_id: Option<OrgId>,
    pub name: String,
    /// The authority's short name used in document numbers, e.g. `达旗应急`.
    #[serde(default)]
    pub doc_code: String,
    /// The region it covers (旗县 / 苏木镇 / 街道 / 园区), for statistics.
    #[serde(default)]
    pub region: String,
    /// 行政复议机关 named in the rights notice of its documents, e.g. `达拉特旗人民政府`; empty
    /// means: take the nearest ancestor's.
    #[serde(default)]
    pub review_authority: String,
    /// The court named in the rights notice, e.g. `达拉特旗人民法院`; empty as above.
    #[serde(default)]
    pub court: String,
}

/// A user account as the device and the roster see it (never with credentials).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct User {
    pub id: UserId,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub org_id: OrgId,
    /// 执法证号; inspectors must have one to appear on a document.
    #[serde(default)]
    pub certificate_no: Option<String>,
}

/// A position fix from the browser, with its accuracy: corroborating evidence, not proof
/// (the browser cannot detect mocked GPS).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct GeoPoint {
    pub lat: f64,
    pub lon: f64,
    /// Radius of the 68% confidence circle in metres, as reported by the Geolocation API.
    #[serde(default)]
    pub accuracy_m: Option<f64>,
}

impl GeoPoint {
    pub fn is_valid(&self) -> bool {
        (-90.0..=90.0).contains(&self.lat)
            && (-180.0..=180.0).contains(&self.lon)
            && self.accuracy_m.is_none_or(|a| a.is_finite() && a >= 0.0)
    }
}

/// 生产经营单位.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Enterprise {
    pub id: EnterpriseId,
    /// The authority whose directory it belongs to (scoping).
    pub org_id: OrgId,
    pub name: String,
    /// 统一社会信用代码 (18 characters); absent for unlicensed operations found on site.
    #[serde(default)]
    pub credit_code: Option<String>,
    #[serde(default)]
    pub address: String,
    /// 旗县, e.g. 达拉特旗.
    #[serde(default)]
    pub county: String,
    /// 苏木镇 / 街道 / 园区.
    #[serde(default)]
    pub township: String,
    #[serde(default)]
    pub sectors: Vec<Sector>,
    #[serde(default)]
    pub subsectors: Vec<Subsector>,
    /// 法定代表人 / 负责人.
    #[serde(default)]
    pub legal_representative: String,
    #[serde(default)]
    pub contact_phone: String,
    #[serde(default)]
    pub location: Option<GeoPoint>,
    /// Made on site by an inspector (not from the directory); an admin may later merge it.
    #[serde(default)]
    pub ad_hoc: bool,
    /// Set when an admin merged this on-site entry into a directory entry: its inspections and
    /// findings now name that entry, and pickers no longer offer this one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merged_into: Option<EnterpriseId>,
    /// 重点企业: inspected every year, outside the 双随机 draw.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub key: bool,
    /// Its class for the yearly inspection cap (分级 A–D or 标准化 level).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grade: Option<crate::plan::Grade>,
}

/// 检查类型.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum InspectionKind {
    /// 四不两直暗访
    Unannounced,
    /// 日常检查
    Routine,
    /// 专项检查
    Special,
    /// 复查
    Reinspection,
}

impl InspectionKind {
    pub fn label_zh(self) -> &'static str {
        match self {
            InspectionKind::Unannounced => "四不两直暗访",
            InspectionKind::Routine => "日常检查",
            InspectionKind::Special => "专项检查",
            InspectionKind::Reinspection => "复查",
        }
    }
}

/// One enforcement officer on an inspection (执法人员及证号).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct InspectorRef {
    pub user_id: UserId,
    pub name: String,
    /// 执法证号.
    pub certificate_no: String,
}

/// Proof of 直插现场: when and where the team arrived.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CheckIn {
    pub at: DateTime<Utc>,
    /// Absent when no fix could be had (underground, indoors); the reason goes in `note`.
    #[serde(default)]
    pub location: Option<GeoPoint>,
    #[serde(default)]
    pub gate_photo: Option<PhotoHash>,
    #[serde(default)]
    pub note: String,
}

/// The checklist pack (id + version) an inspection was made with.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PackRef {
    pub id: PackId,
    pub version: u32,
}

/// 符合 / 不符合 / 不涉及.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Outcome {
    Compliant,
    NonCompliant,
    NotApplicable,
}

impl Outcome {
    pub fn label_zh(self) -> &'static str {
        match self {
            Outcome::Compliant => "符合",
            Outcome::NonCompliant => "不符合",
            Outcome::NotApplicable => "不涉及",
        }
    }
}

/// The answer to one checklist item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ItemResult {
    /// A stable checklist item id, e.g. `coal-ug-4-01`.
    pub item_id: String,
    pub outcome: Outcome,
    #[serde(default)]
    pub finding_ids: Vec<FindingId>,
    #[serde(default)]
    pub note: String,
}

/// 消防 venue types of GB 35181 composite judgement (综合判定): the count of composite elements
/// present that makes a major fire hazard depends on them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum FireVenue {
    /// 人员密集场所
    Crowded,
    /// 易燃易爆危险品场所
    FlammableExplosive,
    /// 重要场所
    Important,
    /// 其他场所
    Other,
}

impl FireVenue {
    pub fn label_zh(self) -> &'static str {
        match self {
            FireVenue::Crowded => "人员密集场所",
            FireVenue::FlammableExplosive => "易燃易爆危险品场所",
            FireVenue::Important => "重要场所",
            FireVenue::Other => "其他场所",
        }
    }
}

/// The inspected party's response to the inspection record (被检查单位负责人签名 / 拒签记录).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum EnterpriseSignature {
    Signed {
        signer_name: String,
        at: DateTime<Utc>,
        /// A photo of the signed page or a drawn signature.
        #[serde(default)]
        image: Option<PhotoHash>,
    },
    /// The law requires the refusal to be recorded, ideally with a witness.
    Refused {
        #[serde(default)]
        witness_name: String,
        #[serde(default)]
        note: String,
        at: DateTime<Utc>,
    },
}

/// 执法文书 kinds; see `documents`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum DocumentKind {
    /// 现场检查记录
    InspectionRecord,
    /// 责令限期整改指令书
    RectificationOrder,
    /// 现场处理措施决定书
    OnSiteMeasures,
    /// 整改复查意见书
    ReinspectionOpinion,
    /// 文书送达回执: made from the service records of the others, never numbered on its own.
    ServiceReceipt,
}

/// A document number issued for an inspection, kept on the record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct IssuedDocument {
    pub kind: DocumentKind,
    /// The formatted number, e.g. `达旗应急检记〔2026〕A7-0003号`.
    pub number: String,
    pub issued_at: DateTime<Utc>,
    /// How it was served on site (指令书 and 决定书); None until then.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<Service>,
}

/// How a document was served (送达) on site; either way a 文书送达回执 records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Service {
    /// 直接送达: the person in charge signed receipt (签收) on the device.
    Signed {
        recipient: String,
        at: DateTime<Utc>,
        #[serde(default)]
        image: Option<PhotoHash>,
    },
    /// 留置送达: receipt refused; the document was left at the premises before a witness, and
    /// the refusal recorded.
    Left {
        recipient: String,
        witness: String,
        #[serde(default)]
        note: String,
        at: DateTime<Utc>,
    },
}

impl Service {
    pub fn at(&self) -> DateTime<Utc> {
        match self {
            Service::Signed { at, .. } | Service::Left { at, .. } => *at,
        }
    }

    pub fn method_zh(&self) -> &'static str {
        match self {
            Service::Signed { .. } => "直接送达",
            Service::Left { .. } => "留置送达",
        }
    }
}

/// 检查: one visit to one enterprise by a team of at least two officers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Inspection {
    pub id: InspectionId,
    /// The team (org unit) the inspection belongs to; decides who may see and review it.
    pub org_id: OrgId,
    pub enterprise_id: EnterpriseId,
    pub kind: InspectionKind,
    #[serde(default)]
    pub packs: Vec<PackRef>,
    #[serde(default)]
    pub inspectors: Vec<InspectorRef>,
    pub created_by: UserId,
    pub started_at: DateTime<Utc>,
    #[serde(default)]
    pub check_in: Option<CheckIn>,
    /// 检查场所: the workshops, faces, sites visited.
    #[serde(default)]
    pub places: String,
    #[serde(default)]
    pub item_results: Vec<ItemResult>,
    /// 检查情况 beyond the item results.
    #[serde(default)]
    pub summary: String,
    #[serde(default)]
    pub finished_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub enterprise_signature: Option<EnterpriseSignature>,
    #[serde(default)]
    pub documents: Vec<IssuedDocument>,
    /// Findings of earlier inspections re-inspected during this one (复查).
    #[serde(default)]
    pub reinspected_findings: Vec<FindingId>,
    /// GB 35181 venue types of the site, for composite fire-hazard counting.
    #[serde(default)]
    pub fire_venues: Vec<FireVenue>,
    /// Signatures the inspectors drew on the device at the end of the inspection.
    #[serde(default)]
    pub inspector_signatures: Vec<InspectorSignature>,
    /// 全过程记录: the body-worn recorder and the announcement recorded on the phone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recording: Option<Recording>,
    /// Changes made after the inspection's documents were issued (see `finality`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub corrections: Vec<Correction>,
    /// How it came to be: task, plan and draw, 扫码入企, approval, notice, campaign, cap.
    #[serde(default, skip_serializing_if = "crate::plan::Entry::is_empty")]
    pub entry: crate::plan::Entry,
}

/// 全过程记录 (行政处罚法 第四十七条): the body-worn recorder (执法记录仪) that ran through the
/// visit, and optionally the entry announcement (告知) recorded with the phone's microphone.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Recording {
    /// The recorder's serial number (执法记录仪编号), as typed or read off the device.
    #[serde(default)]
    pub recorder: String,
    /// When its clip of this visit starts and ends.
    #[serde(default)]
    pub started_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub ended_at: Option<DateTime<Utc>>,
    /// The 告知 recorded on the phone: an evidence file of the inspection (role `announcement`),
    /// content-addressed and synced like a photo.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub announcement: Option<PhotoHash>,
}

/// A change to a record after its documents were issued, kept with the record: who, when, why,
/// and which fields it changed. Nothing changes silently once documents exist.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Correction {
    pub at: DateTime<Utc>,
    pub by: UserId,
    pub reason: String,
    #[serde(default)]
    pub fields: Vec<String>,
}

/// An inspector's signature drawn on the device (检查人员签名), stored as a photo.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct InspectorSignature {
    pub user_id: UserId,
    pub name: String,
    pub image: PhotoHash,
    pub at: DateTime<Utc>,
}

/// 一般 / 重大.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Level {
    /// 一般事故隐患
    General,
    /// 重大事故隐患
    Major,
}

impl Level {
    pub fn label_zh(self) -> &'static str {
        match self {
            Level::General => "一般隐患",
            Level::Major => "重大隐患",
        }
    }
}

/// 处理措施.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Measure {
    /// 立即整改 (当场整改)
    Immediate,
    /// 限期整改
    Deadline,
    /// 停产停业整顿
    SuspendOperations,
    /// 责令暂时停止作业 (撤出作业人员)
    StopWork,
    /// 立案查处
    FileCase,
}

impl Measure {
    pub fn label_zh(self) -> &'static str {
        match self {
            Measure::Immediate => "立即整改",
            Measure::Deadline => "限期整改",
            Measure::SuspendOperations => "停产停业整顿",
            Measure::StopWork => "责令暂时停止作业",
            Measure::FileCase => "立案查处",
        }
    }

    /// Measures after which the enterprise has a period to rectify, so a deadline is needed.
    pub fn needs_deadline(self) -> bool {
        matches!(
            self,
            Measure::Deadline | Measure::SuspendOperations | Measure::StopWork
        )
    }
}

/// Where a finding stands in the 查→改→复查→销号 loop; see `lifecycle`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum FindingStatus {
    /// 草稿
    Draft,
    /// 待审核
    Submitted,
    /// 已退回
    Returned,
    /// 整改中
    Rectifying,
    /// 复查合格（待销号）
    Verified,
    /// 已销号
    Closed,
}

impl FindingStatus {
    pub const ALL: [FindingStatus; 6] = [
        FindingStatus::Draft,
        FindingStatus::Submitted,
        FindingStatus::Returned,
        FindingStatus::Rectifying,
        FindingStatus::Verified,
        FindingStatus::Closed,
    ];

    pub fn label_zh(self) -> &'static str {
        match self {
            FindingStatus::Draft => "草稿",
            FindingStatus::Submitted => "待审核",
            FindingStatus::Returned => "已退回",
            FindingStatus::Rectifying => "整改中",
            FindingStatus::Verified => "复查合格",
            FindingStatus::Closed => "已销号",
        }
    }

    /// Open = not yet closed out; the ledger's 动态清零 target counts these.
    pub fn is_open(self) -> bool {
        self != FindingStatus::Closed
    }
}

/// One entry of a finding's append-only history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HistoryEntry {
    pub at: DateTime<Utc>,
    pub by: UserId,
    /// The action's stable name, e.g. `submit`, `reinspect_failed` (see `FindingAction::name`).
    pub action: String,
    pub from: FindingStatus,
    pub to: FindingStatus,
    #[serde(default)]
    pub comment: String,
}

/// 隐患.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Finding {
    pub id: FindingId,
    pub inspection_id: InspectionId,
    pub enterprise_id: EnterpriseId,
    /// The team the finding belongs to (that of its inspection).
    pub org_id: OrgId,
    /// The checklist item it answers; None for a free finding.
    #[serde(default)]
    pub item_id: Option<String>,
    pub description: String,
    /// 隐患部位 / 场所.
    #[serde(default)]
    pub place: String,
    pub level: Level,
    /// 依据: the clause, e.g. `《煤矿重大事故隐患判定标准》第八条（三）`.
    #[serde(default)]
    pub legal_basis: String,
    /// The clause has not been checked against the official text (条文待核); documents must
    /// carry the same mark.
    #[serde(default)]
    pub basis_unverified: bool,
    pub measure: Measure,
    /// 整改期限 (a calendar date in China Standard Time; rectify by the end of that day).
    #[serde(default)]
    pub deadline: Option<NaiveDate>,
    /// Evidence photos.
    #[serde(default)]
    pub photos: Vec<PhotoHash>,
    /// Photos after rectification (立即整改 on site, or at re-inspection).
    #[serde(default)]
    pub after_photos: Vec<PhotoHash>,
    pub status: FindingStatus,
    /// 挂牌督办: a leader's flag on a major hazard.
    #[serde(default)]
    pub supervised: bool,
    pub created_by: UserId,
    pub created_at: DateTime<Utc>,
    #[serde(default)]
    pub history: Vec<HistoryEntry>,
    /// Changes made after its inspection's documents were issued (see `finality`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub corrections: Vec<Correction>,
}

impl Finding {
    /// Measured as fixed on site: 立即整改 with at least one after-photo.
    pub fn rectified_on_site(&self) -> bool {
        self.measure == Measure::Immediate && !self.after_photos.is_empty()
    }
}

mod photo;
pub use photo::*;

#[cfg(test)]
mod tests;
