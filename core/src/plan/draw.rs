//! The 双随机 draw: random enterprises, random officers, the same result for anyone who
//! re-runs it with the recorded seed and inputs.
//!
//! The algorithm (docs/plans.md states it for people who re-run a draw by hand):
//! 1. Every candidate enterprise gets the rank `SHA-256(seed ‖ 0x1F ‖ "enterprise" ‖ 0x1F ‖ id)`,
//!    the id written as a lower-case hyphenated UUID. 重点 candidates are all taken; of the
//!    others the `count` with the lowest ranks (compared as bytes) are taken.
//! 2. Picks are staffed in order: 重点 ones by rank, then the random ones by rank. For each,
//!    the officers not excluded for that enterprise (回避, or on its last inspection) are sorted
//!    by how many picks they already have, then by
//!    `SHA-256(seed ‖ 0x1F ‖ "officer" ‖ 0x1F ‖ enterprise id ‖ 0x1F ‖ user id)`; the first
//!    `team_size` are assigned. A pick with fewer eligible officers than that is short-staffed.
//!
//! Ranking by a hash of seed and id is a uniformly random permutation for an unpredictable
//! seed, depends on nothing but the recorded inputs, and needs no random generator to
//! reproduce: any SHA-256 tool does.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::ids::{EnterpriseId, UserId};

/// An enterprise the draw may pick.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Candidate {
    pub enterprise_id: EnterpriseId,
    /// 重点: always in the plan; only its officers are drawn.
    #[serde(default)]
    pub key: bool,
}

/// Why an officer may not be drawn for an enterprise.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum ExclusionKind {
    /// A declared 回避 conflict.
    Conflict,
    /// On the enterprise's last inspection (different officers each time).
    LastTime,
}

impl ExclusionKind {
    pub fn label_zh(self) -> &'static str {
        match self {
            ExclusionKind::Conflict => "回避",
            ExclusionKind::LastTime => "上次检查该单位",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Exclusion {
    pub user_id: UserId,
    pub enterprise_id: EnterpriseId,
    pub why: ExclusionKind,
}

/// Everything a draw depends on; recorded with it, so the draw can be re-run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DrawInput {
    /// Published before or with the draw (e.g. the date and a lottery number), or made by the
    /// server from its random source when the leader gives none.
    pub seed: String,
    pub candidates: Vec<Candidate>,
    /// How many of the non-key candidates to take.
    pub count: u32,
    /// The 执法人员库 the officers are drawn from.
    pub officers: Vec<UserId>,
    /// Officers per pick (two: 检查人员不少于两人).
    pub team_size: u32,
    #[serde(default)]
    pub exclusions: Vec<Exclusion>,
}

/// One enterprise of the draw and the officers drawn for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Pick {
    pub enterprise_id: EnterpriseId,
    pub key: bool,
    pub officers: Vec<UserId>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DrawResult {
    pub picks: Vec<Pick>,
    /// Picks that got fewer than `team_size` officers (too many exclusions).
    #[serde(default)]
    pub short_staffed: Vec<EnterpriseId>,
}

const SEP: u8 = 0x1F;

fn rank(seed: &str, domain: &str, parts: &[String]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(seed.as_bytes());
    h.update([SEP]);
    h.update(domain.as_bytes());
    for p in parts {
        h.update([SEP]);
        h.update(p.as_bytes());
    }
    h.finalize().into()
}

/// The rank of an enterprise under `seed` (step 1), as hex for the publication.
pub fn enterprise_rank(seed: &str, id: EnterpriseId) -> String {
    hex(&rank(seed, "enterprise", &[id.0.to_string()]))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Runs the draw. Pure: the same input gives the same result on every machine.
pub fn draw(input: &DrawInput) -> DrawResult {
    let mut ranked: Vec<(&Candidate, [u8; 32])> = input
        .candidates
        .iter()
        .map(|c| {
            (
                c,
                rank(&input.seed, "enterprise", &[c.enterprise_id.0.to_string()]),
            )
        })
        .collect();
    ranked.sort_by(|a, b| {
        a.1.cmp(&b.1)
            .then(a.0.enterprise_id.cmp(&b.0.enterprise_id))
    });
    // A candidate listed twice counts once.
    ranked.dedup_by(|a, b| a.0.enterprise_id == b.0.enterprise_id);
    let key = ranked.iter().filter(|(c, _)| c.key);
    let random = ranked
        .iter()
        .filter(|(c, _)| !c.key)
        .take(input.count as usize);
    let chosen: Vec<&Candidate> = key.chain(random).map(|(c, _)| *c).collect();

    let mut officers = input.officers.clone();
    officers.sort();
    officers.dedup();
    let mut load = vec![0u32; officers.len()];
    let mut picks = Vec::with_capacity(chosen.len());
    let mut short_staffed = Vec::new();
    for c in chosen {
        let e = c.enterprise_id;
        let mut eligible: Vec<(usize, [u8; 32])> = officers
            .iter()
            .enumerate()
            .filter(|(_, u)| {
                !input
                    .exclusions
                    .iter()
                    .any(|x| x.enterprise_id == e && x.user_id == **u)
            })
            .map(|(n, u)| {
                (
                    n,
                    rank(&input.seed, "officer", &[e.0.to_string(), u.0.to_string()]),
                )
            })
            .collect();
        eligible.sort_by(|a, b| load[a.0].cmp(&load[b.0]).then(a.1.cmp(&b.1)));
        let team: Vec<usize> = eligible
            .iter()
            .take(input.team_size as usize)
            .map(|(n, _)| *n)
            .collect();
        for &n in &team {
            load[n] += 1;
        }
        if team.len() < input.team_size as usize {
            short_staffed.push(e);
        }
        picks.push(Pick {
            enterprise_id: e,
            key: c.key,
            officers: team.into_iter().map(|n| officers[n]).collect(),
        });
    }
    DrawResult {
        picks,
        short_staffed,
    }
}

/// SHA-256 of the input's JSON as recorded: printed with the publication, so a copy of the
/// inputs can be matched to the draw.
pub fn input_hash(input: &DrawInput) -> String {
    let json = serde_json::to_vec(input).unwrap_or_default();
    hex(&Sha256::digest(&json))
}

/// Re-runs a recorded draw: `Ok` when the inputs give exactly the recorded result, else the
/// first difference in Chinese.
pub fn verify(input: &DrawInput, recorded: &DrawResult) -> Result<(), String> {
    let again = draw(input);
    if again == *recorded {
        return Ok(());
    }
    if again.picks.len() != recorded.picks.len() {
        return Err(format!(
            "重新抽取得到 {} 家单位，记录为 {} 家",
            again.picks.len(),
            recorded.picks.len()
        ));
    }
    for (n, (a, r)) in again.picks.iter().zip(&recorded.picks).enumerate() {
        if a.enterprise_id != r.enterprise_id {
            return Err(format!(
                "第 {} 家单位不同：重新抽取为 {}，记录为 {}",
                n + 1,
                a.enterprise_id.0,
                r.enterprise_id.0
            ));
        }
        if a.officers != r.officers || a.key != r.key {
            return Err(format!("第 {} 家单位的执法人员与记录不同", n + 1));
        }
    }
    Err("人员不足的单位名单与记录不同".to_owned())
}
