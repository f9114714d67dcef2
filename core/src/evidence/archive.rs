//! The 案卷 of one inspection: a zip that anyone can check offline, with no database and no
//! network (protocol.md § "案卷 archive").
//!
//! `manifest.json` ([`Manifest`]) lists every other file with its SHA-256 and size, the events of
//! the inspection, its findings and their photos (whole [`Event`]s), the chain links from the
//! first of them to the last, the device keys that signed them and the server's public key;
//! `manifest.sig` is the server's ECDSA P-256 signature (`r‖s`, hex) over the exact bytes of
//! `manifest.json`. [`verify`] checks all of it and names every failure by the file it is in.
//!
//! Pure: the server's `verify-archive`, its tests and any other checker share it; reading the zip
//! is the caller's.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::{Event, key_id, sha256_hex, unhex, verify_signature};

/// The manifest's `format`.
pub const FORMAT: &str = "zhicha-archive";
/// The manifest's `version`: this module reads this version and the ones before it.
pub const VERSION: u32 = 1;
/// The manifest's name in the archive.
pub const MANIFEST: &str = "manifest.json";
/// The server's signature over the manifest's bytes.
pub const SIGNATURE: &str = "manifest.sig";
/// The inspection as stored.
pub const INSPECTION: &str = "inspection.json";
/// What a report names for a failure in the events and links of the manifest.
pub const EVENTS: &str = "events";

/// One chain link: `(seq, prev_hash, hash)`.
pub type Link = (i64, String, String);

/// `manifest.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// [`FORMAT`] and [`VERSION`].
    pub format: String,
    pub version: u32,
    /// The inspection's id.
    pub inspection: String,
    /// When the server made the archive (RFC 3339, UTC).
    pub exported_at: String,
    /// Every file of the archive but the manifest and its signature.
    pub files: Vec<FileEntry>,
    /// The events of the inspection, its findings and their photos, in chain order.
    pub events: Vec<Event>,
    /// Every link of the chain from the first of `events` to the last, in order.
    pub links: Vec<Link>,
    /// The device keys the signed events name.
    pub device_keys: Vec<DeviceKey>,
    /// Photos attached by an event that the server did not hold when it made the archive
    /// (their upload had not finished): named, not included.
    #[serde(default)]
    pub missing_photos: Vec<String>,
    /// The server's signing key: uncompressed SEC1 P-256, hex.
    pub server_key: String,
}

/// A file of the archive.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileEntry {
    pub path: String,
    pub sha256: String,
    pub bytes: u64,
}

impl FileEntry {
    /// The entry of `bytes` stored at `path`.
    pub fn of(path: impl Into<String>, bytes: &[u8]) -> Self {
        Self {
            path: path.into(),
            sha256: sha256_hex(bytes),
            bytes: bytes.len() as u64,
        }
    }
}

/// A device's public key, as registered at its login.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceKey {
    pub key_id: String,
    pub device_id: String,
    /// Uncompressed SEC1 P-256, hex.
    pub public_key: String,
}

/// The path of a finding's record.
pub fn finding_path(id: &str) -> String {
    format!("findings/{id}.json")
}

/// The path of a photo or other evidence file (a recorded 告知): its SHA-256, and an extension
/// for its type so that it opens as what it is.
pub fn photo_path(hash: &str, mime: &str) -> String {
    let ext = match mime {
        "image/png" => "png",
        "image/webp" => "webp",
        "audio/webm" => "webm",
        "audio/ogg" => "ogg",
        "audio/mp4" => "m4a",
        _ => "jpg",
    };
    format!("photos/{hash}.{ext}")
}

/// One thing that does not hold, and the file it is in ([`EVENTS`] for the manifest's events
/// and links).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub file: String,
    pub message: String,
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}：{}", self.file, self.message)
    }
}

/// What [`verify`] found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ArchiveReport {
    /// The inspection the manifest names, when it could be read.
    pub inspection: Option<String>,
    /// The key id ([`key_id`]) of the server key the manifest was checked with.
    pub server_key_id: Option<String>,
    /// What was checked and holds, one line each.
    pub passed: Vec<String>,
    pub failures: Vec<Failure>,
}

impl ArchiveReport {
    /// True when nothing failed.
    pub fn holds(&self) -> bool {
        self.failures.is_empty()
    }

    /// Records a failure in `file`.
    pub fn fail(&mut self, file: &str, message: impl Into<String>) {
        self.failures.push(Failure {
            file: file.to_owned(),
            message: message.into(),
        });
    }

    /// True when a failure names `file`.
    pub fn names(&self, file: &str) -> bool {
        self.failures.iter().any(|f| f.file == file)
    }

    fn pass(&mut self, line: impl Into<String>) {
        self.passed.push(line.into());
    }
}

/// The key id of a public key given in hex, or the hex itself when it is not hex.
fn key_id_of(public_key_hex: &str) -> String {
    unhex(public_key_hex).map_or_else(|| public_key_hex.to_owned(), |bytes| key_id(&bytes))
}

/// Checks an archive given as its files by path (`manifest.json`, `manifest.sig` and the rest).
/// With `pinned_server_key` (hex), the manifest must be signed by that key, not merely by the
/// key it names itself.
pub fn verify(files: &BTreeMap<String, Vec<u8>>, pinned_server_key: Option<&str>) -> ArchiveReport {
    let mut report = ArchiveReport::default();
    let Some(manifest_bytes) = files.get(MANIFEST) else {
        report.fail(MANIFEST, "案卷中没有清单文件");
        return report;
    };
    let manifest: Manifest = match serde_json::from_slice(manifest_bytes) {
        Ok(manifest) => manifest,
        Err(error) => {
            report.fail(
                MANIFEST,
                format!("清单无法读取（{error}），内容已被改动或损坏"),
            );
            if let Some(pinned) = pinned_server_key {
                check_signature(&mut report, files, manifest_bytes, pinned, None, true);
            }
            return report;
        }
    };
    report.inspection = Some(manifest.inspection.clone());
    if manifest.format != FORMAT {
        report.fail(
            MANIFEST,
            format!("不是直查案卷（格式为 {}）", manifest.format),
        );
        return report;
    }
    if manifest.version > VERSION {
        report.fail(
            MANIFEST,
            format!(
                "案卷格式版本 {} 较新，本程序只能校验到版本 {VERSION}",
                manifest.version
            ),
        );
        return report;
    }
    let key = pinned_server_key.unwrap_or(&manifest.server_key);
    let pinned = pinned_server_key.is_some();
    check_signature(
        &mut report,
        files,
        manifest_bytes,
        key,
        Some(&manifest.server_key),
        pinned,
    );
    check_files(&mut report, files, &manifest);
    check_events(&mut report, &manifest);
    check_records(&mut report, files, &manifest);
    check_photos(&mut report, files, &manifest);
    report
}

/// The server's signature over the manifest's bytes, by `key` (the pinned key, else the
/// manifest's own), and the manifest's key against the pinned one.
fn check_signature(
    report: &mut ArchiveReport,
    files: &BTreeMap<String, Vec<u8>>,
    manifest_bytes: &[u8],
    key: &str,
    named: Option<&str>,
    pinned: bool,
) {
    if let Some(named) = named
        && !named.eq_ignore_ascii_case(key)
    {
        report.fail(
            MANIFEST,
            format!(
                "清单中的服务器公钥（{}）不是指定的公钥（{}）",
                key_id_of(named),
                key_id_of(key)
            ),
        );
    }
    report.server_key_id = Some(key_id_of(key));
    let Some(signature) = files.get(SIGNATURE) else {
        report.fail(SIGNATURE, "案卷中没有服务器签名");
        return;
    };
    let Some(key_bytes) = unhex(key) else {
        report.fail(MANIFEST, "服务器公钥不是十六进制");
        return;
    };
    // Exactly as written: 128 lowercase hex digits, so no byte of it can change unnoticed.
    let lowercase_hex = signature.len() == 128
        && signature
            .iter()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(b));
    let Some(value) =
        unhex(std::str::from_utf8(signature).unwrap_or_default()).filter(|_| lowercase_hex)
    else {
        report.fail(SIGNATURE, "签名不是 128 位小写十六进制文本，已被改动或损坏");
        return;
    };
    match verify_signature(&key_bytes, manifest_bytes, &value) {
        Ok(()) => report.pass(format!(
            "服务器签名有效（公钥 {}{}）",
            key_id_of(key),
            if pinned {
                "，即指定的公钥"
            } else {
                "，为清单自带的公钥：只证明签名后未被改动，指定服务器公钥校验才能证明出自哪台服务器"
            }
        )),
        Err(super::SignatureError::BadKey) => report.fail(MANIFEST, "服务器公钥无法读取"),
        Err(super::SignatureError::BadSignature) => {
            report.fail(SIGNATURE, "签名格式不对，已被改动或损坏");
        }
        Err(super::SignatureError::Mismatch) => {
            // Either file may be the changed one: both are named.
            report.fail(
                MANIFEST,
                "与服务器签名不符：清单（manifest.json）或签名（manifest.sig）被改动",
            );
            report.fail(
                SIGNATURE,
                "与清单不符：清单（manifest.json）或签名（manifest.sig）被改动",
            );
        }
    }
}

/// Every listed file present with its size and hash; nothing unlisted.
fn check_files(report: &mut ArchiveReport, files: &BTreeMap<String, Vec<u8>>, manifest: &Manifest) {
    let mut listed = BTreeSet::new();
    let mut held = 0;
    for entry in &manifest.files {
        if !listed.insert(entry.path.as_str()) {
            report.fail(&entry.path, "在清单中出现两次");
            continue;
        }
        if entry.path == MANIFEST || entry.path == SIGNATURE {
            report.fail(&entry.path, "清单不应列出清单或签名本身");
            continue;
        }
        let Some(bytes) = files.get(&entry.path) else {
            report.fail(&entry.path, "清单列出的文件不在案卷中（被删除）");
            continue;
        };
        let mut ok = true;
        if bytes.len() as u64 != entry.bytes {
            report.fail(
                &entry.path,
                format!(
                    "大小为 {} 字节，清单记录为 {} 字节",
                    bytes.len(),
                    entry.bytes
                ),
            );
            ok = false;
        }
        let hash = sha256_hex(bytes);
        if !hash.eq_ignore_ascii_case(&entry.sha256) {
            report.fail(
                &entry.path,
                format!(
                    "SHA-256 为 {hash}，与清单记录的 {} 不符（内容被改动）",
                    entry.sha256
                ),
            );
            ok = false;
        }
        held += usize::from(ok);
    }
    for path in files.keys() {
        if path != MANIFEST && path != SIGNATURE && !listed.contains(path.as_str()) {
            report.fail(path, "清单中没有这个文件（被加入）");
        }
    }
    if !listed.contains(INSPECTION) {
        report.fail(INSPECTION, "清单中没有检查记录");
    }
    report.pass(format!(
        "文件 {held}/{} 个与清单记录的大小和 SHA-256 相符",
        manifest.files.len()
    ));
}

/// The events' hashes, their place in the links, the links' continuity and the device
/// signatures.
fn check_events(report: &mut ArchiveReport, manifest: &Manifest) {
    let events = &manifest.events;
    let mut edited = 0;
    for event in events {
        if event.compute_hash() != event.hash {
            report.fail(
                EVENTS,
                format!("第 {} 号事件的内容与其哈希不符（被改动）", event.seq),
            );
            edited += 1;
        }
    }
    if events.windows(2).any(|w| w[0].seq >= w[1].seq) {
        report.fail(EVENTS, "事件不是按链上顺序排列的");
    }
    // The links: contiguous, and covering the events from the first to the last.
    let links = &manifest.links;
    let mut linked = true;
    for pair in links.windows(2) {
        let ((seq, _, hash), (next, prev, _)) = (&pair[0], &pair[1]);
        if *next != seq + 1 {
            report.fail(
                EVENTS,
                format!("链接在第 {seq} 号之后不连续（接着是第 {next} 号）"),
            );
            linked = false;
        } else if prev != hash {
            report.fail(
                EVENTS,
                format!("第 {next} 号链接不接在第 {seq} 号之后（上一哈希不符）"),
            );
            linked = false;
        }
    }
    match (events.first(), events.last(), links.first(), links.last()) {
        (None, ..) => report.fail(EVENTS, "案卷中没有事件"),
        (Some(first), Some(last), Some(from), Some(to)) => {
            if from.0 != first.seq || to.0 != last.seq {
                report.fail(
                    EVENTS,
                    format!(
                        "链接为第 {}–{} 号，事件为第 {}–{} 号，两者应当首尾一致",
                        from.0, to.0, first.seq, last.seq
                    ),
                );
                linked = false;
            }
        }
        _ => {
            report.fail(EVENTS, "清单中没有链接");
            linked = false;
        }
    }
    let at: BTreeMap<i64, &Link> = links.iter().map(|l| (l.0, l)).collect();
    for event in events {
        match at.get(&event.seq) {
            None => {
                report.fail(EVENTS, format!("第 {} 号事件不在链接之中", event.seq));
                linked = false;
            }
            Some((_, prev, hash)) if *prev != event.prev_hash || *hash != event.hash => {
                report.fail(
                    EVENTS,
                    format!("第 {} 号事件的哈希与该位置的链接不符", event.seq),
                );
                linked = false;
            }
            Some(_) => {}
        }
    }
    if edited == 0 && linked && !events.is_empty() {
        report.pass(format!(
            "事件 {} 条，哈希均可复算，且在第 {}–{} 号链接中首尾相接",
            events.len(),
            links.first().map_or(0, |l| l.0),
            links.last().map_or(0, |l| l.0),
        ));
    }
    // Every event is about the inspection, one of its findings, or a photo of either.
    let findings: BTreeSet<String> = manifest
        .files
        .iter()
        .filter_map(|f| finding_id(&f.path).map(str::to_owned))
        .collect();
    for event in events {
        let ours = event.entity_id == manifest.inspection || findings.contains(&event.entity_id);
        if !ours {
            let what = if event.entity == "finding" {
                format!("隐患 {}，其记录不在案卷中", event.entity_id)
            } else {
                format!("{} {}，不属于本次检查", event.entity, event.entity_id)
            };
            report.fail(EVENTS, format!("第 {} 号事件记录的是{what}", event.seq));
        }
    }
    check_device_signatures(report, manifest);
}

fn check_device_signatures(report: &mut ArchiveReport, manifest: &Manifest) {
    let keys: BTreeMap<&str, &DeviceKey> = manifest
        .device_keys
        .iter()
        .map(|k| (k.key_id.as_str(), k))
        .collect();
    for key in &manifest.device_keys {
        if key_id_of(&key.public_key) != key.key_id {
            report.fail(EVENTS, format!("设备公钥 {} 与其编号不符", key.key_id));
        }
    }
    let (mut signed, mut valid) = (0, 0);
    for event in &manifest.events {
        let Some(key_id) = &event.key_id else {
            if event.signature.is_some() {
                report.fail(
                    EVENTS,
                    format!("第 {} 号事件有签名却没有签名密钥", event.seq),
                );
            }
            continue;
        };
        signed += 1;
        let Some(key) = keys.get(key_id.as_str()) else {
            report.fail(
                EVENTS,
                format!("第 {} 号事件的签名密钥 {key_id} 不在清单中", event.seq),
            );
            continue;
        };
        if event.device_id.as_deref() != Some(key.device_id.as_str()) {
            report.fail(
                EVENTS,
                format!("第 {} 号事件的签名密钥属于另一台设备", event.seq),
            );
            continue;
        }
        match event.verify_signature(&key.public_key) {
            Ok(true) => valid += 1,
            Ok(false) => report.fail(
                EVENTS,
                format!("第 {} 号事件的签名不完整（缺少签名时间或内容）", event.seq),
            ),
            Err(error) => report.fail(
                EVENTS,
                format!("第 {} 号事件的设备签名无效：{error}", event.seq),
            ),
        }
    }
    if signed == valid {
        report.pass(format!(
            "设备签名 {valid} 个有效（未签名事件 {} 条）",
            manifest.events.len() - signed
        ));
    }
}

/// `findings/<id>.json` → `<id>`.
fn finding_id(path: &str) -> Option<&str> {
    path.strip_prefix("findings/")?
        .strip_suffix(".json")
        .filter(|id| !id.is_empty() && !id.contains('/'))
}

/// `inspection.json` and every `findings/<id>.json` hash to the state their latest event
/// recorded, and name the inspection.
fn check_records(
    report: &mut ArchiveReport,
    files: &BTreeMap<String, Vec<u8>>,
    manifest: &Manifest,
) {
    let latest = |entity: &str, id: &str| {
        manifest
            .events
            .iter()
            .rev()
            .find(|e| e.entity == entity && e.entity_id == id)
    };
    let mut records = vec![(
        INSPECTION.to_owned(),
        "inspection",
        manifest.inspection.clone(),
    )];
    let mut seen: BTreeSet<&str> = BTreeSet::new();
    for path in files
        .keys()
        .map(String::as_str)
        .chain(manifest.files.iter().map(|f| f.path.as_str()))
    {
        if let Some(id) = finding_id(path)
            && seen.insert(path)
        {
            records.push((path.to_owned(), "finding", id.to_owned()));
        }
    }
    let mut ok = 0;
    for (path, entity, id) in &records {
        let Some(bytes) = files.get(path) else {
            continue; // named by check_files
        };
        let Some(event) = latest(entity, id) else {
            report.fail(path, "没有记录这条记录的事件");
            continue;
        };
        let hash = sha256_hex(bytes);
        if event.state_hash.as_deref() != Some(hash.as_str()) {
            report.fail(
                path,
                format!("内容与第 {} 号事件记录的状态（state_hash）不符", event.seq),
            );
            continue;
        }
        let value: serde_json::Value = serde_json::from_slice(bytes).unwrap_or_default();
        let named = |field: &str| value.get(field).and_then(|v| v.as_str()).unwrap_or("");
        if named("id") != id {
            report.fail(path, format!("记录的编号不是 {id}"));
            continue;
        }
        if *entity == "finding" && named("inspection_id") != manifest.inspection {
            report.fail(path, "这条隐患不属于本次检查");
            continue;
        }
        ok += 1;
    }
    if ok == records.len() {
        report.pass(format!(
            "检查记录与隐患记录 {ok} 份与其最后一个事件记录的状态相符"
        ));
    }
}

/// Every `photos/<sha256>.<ext>` hashes to its name and was attached by an event; every attached
/// photo is in the archive or named as not held.
fn check_photos(
    report: &mut ArchiveReport,
    files: &BTreeMap<String, Vec<u8>>,
    manifest: &Manifest,
) {
    let attached: BTreeMap<&str, i64> = manifest
        .events
        .iter()
        .filter(|e| e.entity == "photo")
        .filter_map(|e| Some((e.detail.as_deref()?, e.seq)))
        .collect();
    let (mut photos, mut ok) = (0, 0);
    let mut present = BTreeSet::new();
    for (path, bytes) in files {
        let Some(name) = path
            .strip_prefix("photos/")
            .and_then(|p| p.split_once('.').map(|(name, _)| name))
        else {
            continue;
        };
        photos += 1;
        present.insert(name.to_ascii_lowercase());
        let hash = sha256_hex(bytes);
        if !hash.eq_ignore_ascii_case(name) {
            report.fail(
                path,
                format!("内容的 SHA-256 为 {hash}，与文件名不符（内容被改动）"),
            );
            continue;
        }
        if !attached.contains_key(hash.as_str()) {
            report.fail(path, "没有附加这张照片的事件");
            continue;
        }
        ok += 1;
    }
    let missing: BTreeSet<&str> = manifest.missing_photos.iter().map(String::as_str).collect();
    for (hash, seq) in &attached {
        if !present.contains(*hash) && !missing.contains(hash) {
            report.fail(
                &format!("photos/{hash}"),
                format!("第 {seq} 号事件附加的照片不在案卷中"),
            );
        }
    }
    if ok == photos {
        let note = if missing.is_empty() {
            String::new()
        } else {
            format!("；服务器导出时尚未收到的照片 {} 张", missing.len())
        };
        report.pass(format!(
            "照片 {ok} 张与其文件名（SHA-256）和附加事件相符{note}"
        ));
    }
}

/// The text of a [`verify`] report for a person: what holds, then each failure by file.
pub fn report_text(report: &ArchiveReport) -> String {
    use std::fmt::Write as _;
    let mut text = String::new();
    if let Some(inspection) = &report.inspection {
        let _ = writeln!(text, "案卷：检查 {inspection}");
    }
    for line in &report.passed {
        let _ = writeln!(text, "✓ {line}");
    }
    for failure in &report.failures {
        let _ = writeln!(text, "✗ {failure}");
    }
    let _ = writeln!(
        text,
        "{}",
        if report.holds() {
            "案卷校验通过".to_owned()
        } else {
            format!("案卷校验未通过：{} 处不符", report.failures.len())
        }
    );
    text
}

#[cfg(test)]
mod tests;
