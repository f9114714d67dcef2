//! `backup` and `restore`: a copy of the data folder taken while the server serves, and its
//! way back into an empty data folder.
//!
//! A backup folder holds `zhicha.db` (SQLite: `VACUUM INTO`, one consistent snapshot that
//! includes what is still in the WAL), the local photos in their storage layout
//! (`photos/ab/cd/<sha256>.jpg`), `backup.json` (what was backed up, by which version) and last
//! `SHA256SUMS`, in `sha256sum` format, which marks the backup complete. The photos are copied
//! after the database: a photo's row is written only once its file is durable, and photos are
//! immutable and content-addressed, so every photo the database copy records is in the folder.
//! A photo written after the snapshot may be there too; its row is not, and the device uploads
//! it again after a restore.
//!
//! PostgreSQL databases are backed up with `pg_dump` and S3 buckets by the bucket's versioning
//! or a copy (see `server/README.md`); these commands then only say so.

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::{ErrorKind, Read as _, Write as _};
use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};
use zhicha_core::ids::PhotoHash;

use crate::photos::PhotoStore;
use crate::{Config, Store};

/// The list of every file of a backup with its SHA-256, written last.
pub const MANIFEST: &str = "SHA256SUMS";
/// What was backed up, and by which version.
pub const INFO: &str = "backup.json";
/// The SQLite database copy.
pub const DATABASE: &str = "zhicha.db";

/// `backup.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BackupInfo {
    /// The server version that wrote the backup.
    pub server_version: String,
    /// When the database snapshot was taken (RFC 3339, UTC).
    pub created_at: String,
    /// `sqlite` (the database is in the folder) or `postgresql` (it is not: `pg_dump`).
    pub database: String,
    /// `local` (the photos are in the folder) or `s3` (they are not: the bucket).
    pub photos: String,
    pub photo_count: usize,
}

/// What `backup` did.
#[derive(Debug, Default)]
pub struct BackupReport {
    pub database: bool,
    pub photos: usize,
    pub bytes: u64,
    /// Files under `photos/` whose bytes no longer match their name: not copied.
    pub damaged: Vec<PathBuf>,
}

/// What `restore` did.
#[derive(Debug)]
pub struct RestoreReport {
    pub info: Option<BackupInfo>,
    pub database: bool,
    pub photos: usize,
}

/// Backs up the database (SQLite) and the local photos into `dir`, which must be new or empty.
pub async fn backup(config: &Config, dir: &Path) -> anyhow::Result<BackupReport> {
    if !is_empty_folder(dir)? {
        bail!(
            "备份目录 {} 不是空的：每次备份请用一个新目录（例如 /var/backups/zhicha/$(date +%F)）",
            dir.display()
        );
    }
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let mut sums = BTreeMap::new();
    let mut report = BackupReport::default();
    let created_at = crate::db::now();

    if let Some(file) = Store::sqlite_file(config)? {
        if !file.exists() {
            bail!(
                "没有找到数据库 {}：请检查 ZHICHA_DATA（--data）是否与 serve 所用的一致",
                file.display()
            );
        }
        let copy = dir.join(DATABASE);
        Store::sqlite_snapshot(&file, &copy).await?;
        let problems = Store::sqlite_integrity_check(&copy).await?;
        if problems != ["ok"] {
            bail!("数据库副本未通过完整性检查：{}", problems.join("；"));
        }
        let (hash, bytes) = tokio::task::spawn_blocking(move || hash_file(&copy)).await??;
        sums.insert(DATABASE.to_owned(), hash);
        report.database = true;
        report.bytes += bytes;
    }

    if config.s3.bucket.is_none() {
        let from = config.data.clone();
        let to = dir.to_owned();
        let (copied, damaged) =
            tokio::task::spawn_blocking(move || copy_photos(&from, &to)).await??;
        for (name, hash, bytes) in copied {
            sums.insert(name, hash);
            report.photos += 1;
            report.bytes += bytes;
        }
        report.damaged = damaged;
    }

    let info = BackupInfo {
        server_version: env!("CARGO_PKG_VERSION").to_owned(),
        created_at,
        database: if report.database {
            "sqlite"
        } else {
            "postgresql"
        }
        .to_owned(),
        photos: if config.s3.bucket.is_some() {
            "s3"
        } else {
            "local"
        }
        .to_owned(),
        photo_count: report.photos,
    };
    let dir = dir.to_owned();
    tokio::task::spawn_blocking(move || -> anyhow::Result<()> {
        write_durably(&dir, INFO, &serde_json::to_vec_pretty(&info)?)?;
        let mut manifest = String::new();
        for (name, hash) in &sums {
            manifest.push_str(&format!("{hash}  {name}\n"));
        }
        write_durably(&dir, MANIFEST, manifest.as_bytes())
    })
    .await??;
    Ok(report)
}

/// `backup DIR`: runs it and tells the operator what it did and what is left to them.
pub async fn backup_command(config: &Config, dir: &Path) -> anyhow::Result<()> {
    let report = backup(config, dir).await?;
    if report.database {
        println!("已备份数据库：{}", dir.join(DATABASE).display());
    } else {
        println!(
            "数据库为 PostgreSQL，未包含在本备份中：请每次在运行 backup 之前用 pg_dump 备份数据库，例如\n  pg_dump --format=custom --file {}.pgdump \"$DATABASE_URL\"",
            dir.components().collect::<PathBuf>().display()
        );
    }
    match &config.s3.bucket {
        Some(bucket) => println!(
            "照片存放在 S3 存储桶 {bucket} 中，未复制：请为该存储桶开启版本控制，或定期把它复制到另一个存储桶"
        ),
        None => println!(
            "已备份照片 {} 张，共 {:.1} MB；校验清单：{}",
            report.photos,
            report.bytes as f64 / 1_048_576.0,
            dir.join(MANIFEST).display()
        ),
    }
    if !report.damaged.is_empty() {
        for path in &report.damaged {
            eprintln!(
                "照片文件已损坏（内容与文件名中的哈希不符），未备份：{}",
                path.display()
            );
        }
        bail!(
            "备份已完成，但有 {} 张照片文件已损坏，未备份",
            report.damaged.len()
        );
    }
    Ok(())
}

/// Restores the backup in `dir` into the configured data folder, which must be new or empty.
/// Every file is checked against the manifest as it is copied; on any problem what was copied
/// is removed again and the data folder is left as it was.
pub async fn restore(config: &Config, dir: &Path) -> anyhow::Result<RestoreReport> {
    let manifest = match std::fs::read_to_string(dir.join(MANIFEST)) {
        Ok(text) => text,
        Err(e) if e.kind() == ErrorKind::NotFound => bail!(
            "{} 不是完整的备份：缺少 {MANIFEST}（备份未完成，或目录有误）",
            dir.display()
        ),
        Err(e) => {
            return Err(e).with_context(|| format!("reading {}", dir.join(MANIFEST).display()));
        }
    };
    let entries = parse_manifest(&manifest)?;
    let info: Option<BackupInfo> = std::fs::read(dir.join(INFO))
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok());
    let has_database = entries.iter().any(|(name, _)| name == DATABASE);
    let photos = entries.len() - usize::from(has_database);

    let data = config.data.clone();
    if !is_empty_folder(&data)? {
        bail!(
            "数据目录 {} 不是空的，未恢复任何内容：请把 ZHICHA_DATA（--data）指向一个新的空目录",
            data.display()
        );
    }
    let database_file = Store::sqlite_file(config)?;
    match (&database_file, has_database) {
        (None, true) => bail!(
            "备份中是 SQLite 数据库，而当前配置的是 PostgreSQL（DATABASE_URL）：请去掉 DATABASE_URL 后再恢复"
        ),
        (Some(_), false) => bail!(
            "备份中没有数据库（备份时用的是 PostgreSQL）：请先用 pg_restore 恢复数据库，再以同一 DATABASE_URL 运行 restore 恢复照片"
        ),
        _ => {}
    }
    if let Some(file) = &database_file
        && !file.starts_with(&data)
    {
        bail!(
            "数据库 {} 不在数据目录 {} 中：请去掉 DATABASE_URL，恢复到数据目录中",
            file.display(),
            data.display()
        );
    }
    if config.s3.bucket.is_some() && photos > 0 {
        bail!(
            "当前配置把照片存放在 S3 存储桶中，本命令不写入存储桶：请不设 ZHICHA_S3_BUCKET 恢复到本地，或把备份中的 photos/ 目录复制到存储桶"
        );
    }

    let existed = data.exists();
    let source = dir.to_owned();
    let target = data.clone();
    let database_target = database_file.clone();
    let copied = tokio::task::spawn_blocking(move || {
        copy_verified(&source, &target, database_target.as_deref(), &entries)
    })
    .await?;
    let checked = match (&copied, &database_file) {
        (Ok(()), Some(file)) => match Store::sqlite_integrity_check(file).await {
            Ok(problems) if problems == ["ok"] => Ok(()),
            Ok(problems) => Err(anyhow::anyhow!(
                "备份中的数据库未通过完整性检查：{}",
                problems.join("；")
            )),
            Err(e) => Err(e),
        },
        _ => Ok(()),
    };
    if let Err(error) = copied.and(checked) {
        undo(&data, existed);
        return Err(error.context(format!("未恢复，数据目录 {} 保持原样", data.display())));
    }
    Ok(RestoreReport {
        info,
        database: has_database,
        photos,
    })
}

/// `restore DIR`: runs it and says what comes next.
pub async fn restore_command(config: &Config, dir: &Path) -> anyhow::Result<()> {
    let report = restore(config, dir).await?;
    if let Some(info) = &report.info {
        println!(
            "备份时间 {}，服务器版本 {}",
            info.created_at, info.server_version
        );
    }
    if report.database {
        println!("已恢复数据库");
    }
    println!(
        "已恢复照片 {} 张，均已按清单核对；数据目录：{}",
        report.photos,
        config.data.display()
    );
    println!(
        "启动 serve 时数据库会升级到当前版本。设备重新连接后会补传备份之后写入的记录和照片，请让各设备联网同步。"
    );
    Ok(())
}

/// True when `dir` does not exist or has no entries.
fn is_empty_folder(dir: &Path) -> anyhow::Result<bool> {
    match std::fs::read_dir(dir) {
        Ok(mut entries) => Ok(entries.next().is_none()),
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(true),
        Err(e) => Err(e).with_context(|| format!("reading {}", dir.display())),
    }
}

/// SHA-256 (hex) and length of a file.
fn hash_file(path: &Path) -> anyhow::Result<(String, u64)> {
    let mut file = File::open(path).with_context(|| format!("reading {}", path.display()))?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0; 1 << 16];
    let mut total = 0;
    loop {
        let n = file.read(&mut buffer)?;
        if n == 0 {
            break;
        }
        hasher.update(&buffer[..n]);
        total += n as u64;
    }
    Ok((hex(&hasher.finalize()), total))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Copies every photo under `data/photos` whose bytes match its name to the same place under
/// `to`, flushed. Returns (relative name, hash, bytes) of each, and the damaged ones. Anything
/// else in the folder (unfinished writes, the readiness probe) is not a photo and is left out.
#[allow(clippy::type_complexity)]
fn copy_photos(
    data: &Path,
    to: &Path,
) -> anyhow::Result<(Vec<(String, String, u64)>, Vec<PathBuf>)> {
    let mut copied = Vec::new();
    let mut damaged = Vec::new();
    let mut folders = vec![data.join("photos")];
    while let Some(folder) = folders.pop() {
        let entries = match std::fs::read_dir(&folder) {
            Ok(entries) => entries,
            Err(e) if e.kind() == ErrorKind::NotFound => continue,
            Err(e) => return Err(e).with_context(|| format!("reading {}", folder.display())),
        };
        for entry in entries {
            let entry = entry?;
            let path = entry.path();
            if entry.file_type()?.is_dir() {
                folders.push(path);
                continue;
            }
            let Some(hash) = photo_of(data, &path) else {
                continue;
            };
            let bytes = match std::fs::read(&path) {
                Ok(bytes) => bytes,
                // Only a concurrent writer's staging file goes away; a photo never does.
                Err(e) if e.kind() == ErrorKind::NotFound => continue,
                Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
            };
            if PhotoHash::of_bytes(&bytes) != hash {
                damaged.push(path);
                continue;
            }
            let name = PhotoStore::key(&hash).to_string();
            write_file(&to.join(&name), &bytes)?;
            copied.push((name, hash.as_str().to_owned(), bytes.len() as u64));
        }
    }
    Ok((copied, damaged))
}

/// The photo stored at `path` under `data`, when `path` is exactly where that photo belongs.
fn photo_of(data: &Path, path: &Path) -> Option<PhotoHash> {
    let stem = path.file_name()?.to_str()?.strip_suffix(".jpg")?;
    let hash = PhotoHash::parse(stem).ok()?;
    let expected = data.join(PhotoStore::key(&hash).as_ref());
    (expected == path).then_some(hash)
}

/// Writes a new file (and its missing folders) and flushes it and its folder.
fn write_file(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let folder = path.parent().context("a file without a folder")?;
    std::fs::create_dir_all(folder).with_context(|| format!("creating {}", folder.display()))?;
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .with_context(|| format!("writing {}", path.display()))?;
    file.write_all(bytes)?;
    file.sync_all()?;
    File::open(folder)?.sync_all()?;
    Ok(())
}

/// Writes `dir/name` by a flushed temporary file renamed into place, so it is whole or absent.
fn write_durably(dir: &Path, name: &str, bytes: &[u8]) -> anyhow::Result<()> {
    let temporary = dir.join(format!("{name}.partial"));
    let _ = std::fs::remove_file(&temporary);
    write_file(&temporary, bytes)?;
    std::fs::rename(&temporary, dir.join(name))?;
    File::open(dir)?.sync_all()?;
    Ok(())
}

/// The manifest's entries (name, hash): `zhicha.db` and photos at their place; anything else
/// (a path that could leave the folder) is refused.
fn parse_manifest(text: &str) -> anyhow::Result<Vec<(String, String)>> {
    let mut entries = Vec::new();
    for (n, line) in text.lines().enumerate() {
        if line.is_empty() {
            continue;
        }
        let Some((hash, name)) = line.split_once("  ") else {
            bail!("{MANIFEST} 第 {} 行格式有误", n + 1);
        };
        let known = name == DATABASE
            || PhotoHash::parse(hash).is_ok_and(|h| PhotoStore::key(&h).as_ref() == name);
        if !known || PhotoHash::parse(hash).is_err() {
            bail!("{MANIFEST} 第 {} 行不是本系统的备份文件：{name}", n + 1);
        }
        entries.push((name.to_owned(), hash.to_owned()));
    }
    Ok(entries)
}

/// Copies each manifest entry from the backup `dir` into the data folder (the database to
/// `database`), checking its SHA-256 first.
fn copy_verified(
    dir: &Path,
    data: &Path,
    database: Option<&Path>,
    entries: &[(String, String)],
) -> anyhow::Result<()> {
    for (name, expected) in entries {
        let source = dir.join(name);
        let target = match database {
            Some(file) if name == DATABASE => file.to_owned(),
            _ => data.join(name),
        };
        if name == DATABASE {
            let (actual, _) = hash_file(&source)?;
            if &actual != expected {
                bail!("备份已损坏：{} 的 SHA-256 与清单不符", source.display());
            }
            let folder = target.parent().context("a file without a folder")?;
            std::fs::create_dir_all(folder)?;
            std::fs::copy(&source, &target)
                .with_context(|| format!("copying {}", source.display()))?;
            File::open(&target)?.sync_all()?;
            File::open(folder)?.sync_all()?;
            continue;
        }
        let bytes = match std::fs::read(&source) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == ErrorKind::NotFound => {
                bail!("备份不完整：缺少清单中的 {}", source.display())
            }
            Err(e) => return Err(e).with_context(|| format!("reading {}", source.display())),
        };
        if PhotoHash::of_bytes(&bytes).as_str() != expected {
            bail!("备份已损坏：{} 的 SHA-256 与清单不符", source.display());
        }
        write_file(&target, &bytes)?;
    }
    Ok(())
}

/// Takes back a failed restore: the data folder was empty or absent before it.
fn undo(data: &Path, existed: bool) {
    if !existed {
        let _ = std::fs::remove_dir_all(data);
        return;
    }
    for entry in std::fs::read_dir(data).into_iter().flatten().flatten() {
        let path = entry.path();
        let _ = if entry.file_type().is_ok_and(|t| t.is_dir()) {
            std::fs::remove_dir_all(&path)
        } else {
            std::fs::remove_file(&path)
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_manifest_takes_only_the_database_and_photos_at_their_place() {
        let hash = PhotoHash::of_bytes(b"photo");
        let name = PhotoStore::key(&hash).to_string();
        let good = format!("{h}  {DATABASE}\n{h}  {name}\n", h = hash.as_str());
        assert_eq!(parse_manifest(&good).unwrap().len(), 2);
        for bad in [
            format!("{}  ../etc/passwd\n", hash.as_str()),
            format!("{}  photos/00/00/{}.jpg\n", hash.as_str(), hash.as_str()),
            format!("nothex  {DATABASE}\n"),
            "no separator\n".to_owned(),
        ] {
            assert!(parse_manifest(&bad).is_err(), "{bad}");
        }
    }
}
