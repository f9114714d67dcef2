//! Photo bytes in object storage (a local folder or S3-compatible), content-addressed by
//! SHA-256 and written create-only; and the verified upload path that gets them there.
//!
//! Some S3-compatible stores (Aliyun OSS, Tencent COS) reject or ignore the create-only header
//! `If-None-Match: *`. With `ZHICHA_S3_CREATE_ONLY=false` a photo is looked up first and
//! written plainly when absent: two uploads of one name may then both write, but a name is the
//! hash of its bytes, so both write the same bytes and either outcome is the photo.
//!
//! A local photo is written by [`write_local`] rather than through `object_store`: the same
//! staging file published by a hard link, but linked *before* its data is flushed, so that one
//! flush of the file (which on a journalling file system commits the new names with it) and a
//! folder sync that then finds nothing left to write make it durable — about half the disk
//! flushes of syncing the file, then publishing it, then syncing the folder.
//!
//! A photo may also arrive in parts (`Content-Range`), resumable after a cut: each uploader's
//! received bytes wait in a staging file `<data>/uploads/<sha256>.<user-id>.part`, written
//! chunk by chunk as they arrive, so what reached the server before a cut is kept. Once the
//! file holds the whole photo it is verified like a whole upload and stored the same way. A
//! staging file untouched for [`STAGING_KEPT`] goes (at start-up, and whenever an upload
//! begins), and a user keeps at most [`STAGING_PER_USER`] (beyond that the oldest goes).

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{ErrorKind, Read as _, Seek as _, SeekFrom, Write as _};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use anyhow::Context as _;
use axum::body::Body;
use bytes::{Bytes, BytesMut};
use futures_util::TryStreamExt as _;
use object_store::aws::AmazonS3Builder;
use object_store::local::LocalFileSystem;
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, ObjectStoreExt as _, PutMode, PutOptions, PutPayload};
use sha2::{Digest, Sha256};
use zhicha_core::ids::{PhotoHash, UserId};
use zhicha_core::protocol::{ContentRange, MAX_PHOTO_BYTES};

use crate::{ApiError, Config};

/// The most an upload's buffer reserves before its bytes arrive.
const RESERVE_AT_MOST: usize = 1024 * 1024;

/// An unfinished upload's staging file is removed once untouched this long.
pub const STAGING_KEPT: Duration = Duration::from_secs(24 * 60 * 60);
/// Unfinished uploads one user may have at once; a new one beyond this replaces the oldest.
pub const STAGING_PER_USER: usize = 8;

/// Where photo bytes live.
#[derive(Clone)]
pub struct PhotoStore {
    objects: Arc<dyn ObjectStore>,
    /// `<data>/uploads`: the staging files of unfinished uploads in parts (whatever the store).
    staging: PathBuf,
    /// The data folder when photos are stored locally (under `photos/`): they are then written
    /// by [`write_local`], and read through `objects`.
    local: Option<PathBuf>,
    /// Write to the bucket with the create-only header; otherwise look up, then write.
    create_only: bool,
}

/// The outcome of a create-only write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stored {
    Created,
    AlreadyHeld,
}

impl PhotoStore {
    /// S3 when a bucket is configured, else `ZHICHA_DATA/photos`.
    pub fn open(config: &Config) -> anyhow::Result<Self> {
        // Earlier versions streamed uploads to `tmp/` first; what a crash left there was never
        // verified nor recorded, and is safe to drop.
        let tmp = config.data.join("tmp");
        for entry in std::fs::read_dir(&tmp).into_iter().flatten().flatten() {
            if entry.file_name().to_string_lossy().ends_with(".part") {
                let _ = std::fs::remove_file(entry.path());
            }
        }
        let staging = config.data.join("uploads");
        let swept = sweep_staging(&staging, None);
        if swept > 0 {
            tracing::info!(files = swept, "removed stale unfinished uploads");
        }
        let mut local = None;
        let objects: Arc<dyn ObjectStore> = match &config.s3.bucket {
            Some(bucket) => {
                let mut builder = AmazonS3Builder::from_env()
                    .with_bucket_name(bucket)
                    .with_region(&config.s3.region)
                    .with_allow_http(config.s3.allow_http);
                if let Some(endpoint) = &config.s3.endpoint {
                    builder = builder.with_endpoint(endpoint);
                }
                if let Some(key) = &config.s3.access_key_id {
                    builder = builder.with_access_key_id(key);
                }
                if let Some(secret) = &config.s3.secret_access_key {
                    builder = builder.with_secret_access_key(secret);
                }
                Arc::new(builder.build().context("configuring S3 photo storage")?)
            }
            None => {
                std::fs::create_dir_all(&config.data)?;
                let root = config.data.canonicalize()?;
                let swept = sweep_staging_files(&root.join("photos"));
                if swept > 0 {
                    tracing::info!(files = swept, "removed unfinished photo writes");
                }
                local = Some(root.clone());
                Arc::new(LocalFileSystem::new_with_prefix(root)?)
            }
        };
        Ok(Self {
            objects,
            staging,
            local,
            create_only: config.s3.create_only,
        })
    }

    /// Answers when the store can be used: the local folder takes a file, or the bucket
    /// answers a lookup (a missing probe object is an answer; a missing bucket is not).
    pub async fn ping(&self) -> Result<(), ApiError> {
        if let Some(root) = &self.local {
            let probe = root.join("photos").join(".ready-probe");
            return tokio::task::spawn_blocking(move || {
                std::fs::create_dir_all(probe.parent().unwrap_or(&probe))?;
                std::fs::write(&probe, b"ok")?;
                std::fs::remove_file(&probe)
            })
            .await
            .map_err(|e| ApiError::Internal(anyhow::Error::new(e)))?
            .map_err(ApiError::from);
        }
        // A GET rather than a HEAD: only the body of its 404 tells a missing probe object
        // (`NoSuchKey`) from a missing bucket (`NoSuchBucket`), which would otherwise look
        // ready until the first upload failed.
        match self
            .objects
            .get(&ObjectPath::from("zhicha-ready-probe"))
            .await
        {
            Ok(_) => Ok(()),
            Err(e @ object_store::Error::NotFound { .. }) if !names_missing_bucket(&e) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// `photos/ab/cd/<sha>.jpg`: two fan-out levels keep folders small on a plain file system.
    pub fn key(hash: &PhotoHash) -> ObjectPath {
        let h = hash.as_str();
        ObjectPath::from(format!("photos/{}/{}/{h}.jpg", &h[0..2], &h[2..4]))
    }

    pub async fn contains(&self, hash: &PhotoHash) -> Result<bool, ApiError> {
        match self.objects.head(&Self::key(hash)).await {
            Ok(_) => Ok(true),
            Err(object_store::Error::NotFound { .. }) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    /// The bytes, or None when not held.
    pub async fn get(&self, hash: &PhotoHash) -> Result<Option<Bytes>, ApiError> {
        match self.objects.get(&Self::key(hash)).await {
            Ok(result) => Ok(Some(result.bytes().await?)),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// Writes create-only; "already exists" is success (the bytes are the same by their hash).
    /// When this returns, the bytes survive a power cut: a photo the receipt reports as held
    /// may then be pruned from the device. `recorded` says whether the photo's database row
    /// existed before this upload: only then may a local file already at its name be trusted
    /// (an object in a bucket exists only once its write has completed).
    pub async fn put(
        &self,
        hash: &PhotoHash,
        bytes: Bytes,
        recorded: bool,
    ) -> Result<Stored, ApiError> {
        let key = Self::key(hash);
        if let Some(root) = &self.local {
            let path = root.join(key.as_ref());
            return tokio::task::spawn_blocking(move || write_local(&path, &bytes, recorded))
                .await
                .map_err(|e| ApiError::Internal(anyhow::Error::new(e)))?
                .map_err(ApiError::from);
        }
        if !self.create_only {
            return self.check_then_put(&key, bytes).await;
        }
        let options = PutOptions {
            mode: PutMode::Create,
            ..PutOptions::default()
        };
        match self
            .objects
            .put_opts(&key, PutPayload::from(bytes), options)
            .await
        {
            Ok(_) => Ok(Stored::Created),
            Err(object_store::Error::AlreadyExists { .. }) => Ok(Stored::AlreadyHeld),
            Err(e) => Err(e.into()),
        }
    }

    /// For stores without create-only writes: a lookup, then a plain write when absent. Safe
    /// without the header because a name is the hash of its bytes: a concurrent writer of the
    /// same name writes the same bytes.
    async fn check_then_put(&self, key: &ObjectPath, bytes: Bytes) -> Result<Stored, ApiError> {
        match self.objects.head(key).await {
            Ok(_) => return Ok(Stored::AlreadyHeld),
            Err(object_store::Error::NotFound { .. }) => {}
            Err(e) => return Err(e.into()),
        }
        self.objects.put(key, PutPayload::from(bytes)).await?;
        Ok(Stored::Created)
    }

    /// Takes in an upload while hashing it, then checks size, hash and image type before
    /// anything reaches storage. Returns the verified bytes. The whole photo is held in memory
    /// (at most `MAX_PHOTO_BYTES`), as it is on its way to storage anyway.
    pub async fn receive(
        &self,
        claimed: &PhotoHash,
        declared: Option<u64>,
        body: Body,
    ) -> Result<Bytes, ApiError> {
        // Reserved from the declared length, but not beyond what a photo from the app needs
        // (≤1600 px JPEG, a few hundred KB): a client that declares 10 MB and then trickles
        // bytes must not pin 10 MB; a larger upload grows the buffer as its bytes arrive.
        let capacity = declared
            .and_then(|n| usize::try_from(n).ok())
            .unwrap_or(0)
            .min(RESERVE_AT_MOST);
        let mut bytes = BytesMut::with_capacity(capacity);
        let mut hasher = Sha256::new();
        let mut stream = body.into_data_stream();
        while let Some(chunk) = stream.try_next().await.map_err(|e| body_error(&e))? {
            if bytes.len() + chunk.len() > MAX_PHOTO_BYTES {
                return Err(ApiError::TooLarge {
                    limit: MAX_PHOTO_BYTES,
                });
            }
            hasher.update(&chunk);
            bytes.extend_from_slice(&chunk);
        }
        let actual = PhotoHash::from_digest(hasher.finalize().into());
        verify(claimed, &actual, &bytes)?;
        Ok(bytes.freeze())
    }

    fn staging_path(&self, hash: &PhotoHash, user: UserId) -> PathBuf {
        self.staging.join(format!("{hash}.{user}.part"))
    }

    /// Bytes of `user`'s unfinished upload of the photo the server holds (0 when none).
    pub async fn staged_offset(&self, hash: &PhotoHash, user: UserId) -> Result<u64, ApiError> {
        match tokio::fs::metadata(self.staging_path(hash, user)).await {
            Ok(meta) => Ok(meta.len()),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(0),
            Err(e) => Err(e.into()),
        }
    }

    /// Drops `user`'s unfinished upload of the photo, if any (the photo arrived whole).
    pub async fn remove_staged(&self, hash: &PhotoHash, user: UserId) {
        let _ = tokio::fs::remove_file(self.staging_path(hash, user)).await;
    }

    /// Appends one part of `user`'s upload to its staging file, each chunk written as it
    /// arrives: a cut or a body error keeps every chunk received before it. The part must
    /// start at the bytes already staged, or at 0 (which starts the upload over). When the
    /// file then holds `range.total` bytes, they are read back and verified like a whole
    /// upload (a failure removes the file).
    pub async fn receive_part(
        &self,
        claimed: &PhotoHash,
        user: UserId,
        range: ContentRange,
        body: Body,
    ) -> Result<Part, PartError> {
        let path = self.staging_path(claimed, user);
        let (folder, mine) = (self.staging.clone(), format!(".{user}.part"));
        let opening = {
            let path = path.clone();
            blocking(move || open_staging(&folder, &path, &mine, range.start)).await?
        };
        let mut file = match opening {
            Opening::Ready(file) => file,
            Opening::Offset(held) => return Err(PartError::Offset(held)),
            Opening::Locked => {
                return Err(PartError::Api(ApiError::Busy {
                    code: "upload_in_progress",
                    message: "这张照片的上一次上传仍在进行，请稍后重试".to_owned(),
                    retry_after_secs: 5,
                }));
            }
        };
        let mut received = 0u64;
        let mut stream = body.into_data_stream();
        while let Some(chunk) = stream.try_next().await.map_err(|e| body_error(&e))? {
            received += chunk.len() as u64;
            if received > range.bytes() {
                return Err(PartError::Api(ApiError::bad_request(
                    "bad_range",
                    "上传内容长于 Content-Range 所述范围",
                )));
            }
            // Moved to the blocking pool and back: if this request is dropped meanwhile (the
            // client went away), the write still completes and the file closes (unlocks) after.
            file = blocking(move || {
                file.write_all(&chunk)?;
                Ok(file)
            })
            .await?;
        }
        let offset = range.start + received;
        if offset < range.total {
            return Ok(Part::Partial(offset));
        }
        let (file, bytes) = blocking(move || {
            let mut bytes = Vec::with_capacity(usize::try_from(range.total).unwrap_or(0));
            file.seek(SeekFrom::Start(0))?;
            file.read_to_end(&mut bytes)?;
            Ok((file, bytes))
        })
        .await?;
        let staged = Staged { path, _file: file };
        let actual = PhotoHash::of_bytes(&bytes);
        if let Err(error) = verify(claimed, &actual, &bytes) {
            staged.remove().await;
            return Err(PartError::Api(error));
        }
        Ok(Part::Complete(staged, Bytes::from(bytes)))
    }
}

/// What a part of an upload came to.
#[derive(Debug)]
pub enum Part {
    /// Stored; the next part starts at this offset.
    Partial(u64),
    /// The photo is whole and verified; its staging file (still locked) goes once stored.
    Complete(Staged, Bytes),
}

/// Why a part was not taken.
#[derive(Debug)]
pub enum PartError {
    /// It does not start where the staged bytes end (nor at 0): the next part starts here.
    Offset(u64),
    Api(ApiError),
}

impl From<ApiError> for PartError {
    fn from(error: ApiError) -> Self {
        Self::Api(error)
    }
}

/// A completed staging file, locked against other requests until it is removed.
#[derive(Debug)]
pub struct Staged {
    path: PathBuf,
    _file: File,
}

impl Staged {
    pub async fn remove(self) {
        let _ = tokio::fs::remove_file(&self.path).await;
    }
}

/// The staging file of one request, or why not.
enum Opening {
    /// Locked, positioned at the part's start.
    Ready(File),
    /// Another request of the same upload holds it.
    Locked,
    /// The part does not start at the staged length, which is this.
    Offset(u64),
}

/// Opens (or creates) a staging file for a part starting at `start` and locks it. A new one
/// first sweeps the folder: stale files, and the oldest of this user's (`mine`: the file name
/// ending) beyond the limit. A part starting at 0 truncates what was staged.
fn open_staging(folder: &Path, path: &Path, mine: &str, start: u64) -> std::io::Result<Opening> {
    std::fs::create_dir_all(folder)?;
    if !path.exists() {
        sweep_staging(folder, Some(mine));
    }
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)?;
    match file.try_lock() {
        Ok(()) => {}
        Err(TryLockError::WouldBlock) => return Ok(Opening::Locked),
        Err(TryLockError::Error(e)) => return Err(e),
    }
    let held = file.metadata()?.len();
    if start == 0 {
        file.set_len(0)?;
    } else if start != held {
        return Ok(Opening::Offset(held));
    }
    file.seek(SeekFrom::Start(start))?;
    Ok(Opening::Ready(file))
}

/// Removes staging files untouched for [`STAGING_KEPT`]; with `mine` (a user's file name
/// ending), also that user's oldest so that a new one keeps them within [`STAGING_PER_USER`].
/// Returns how many went.
fn sweep_staging(folder: &Path, mine: Option<&str>) -> usize {
    let now = SystemTime::now();
    let mut swept = 0;
    let mut theirs = Vec::new();
    for entry in std::fs::read_dir(folder).into_iter().flatten().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if !name.ends_with(".part") {
            continue;
        }
        let Ok(modified) = entry.metadata().and_then(|m| m.modified()) else {
            continue;
        };
        let stale = now
            .duration_since(modified)
            .is_ok_and(|age| age > STAGING_KEPT);
        if stale {
            swept += usize::from(std::fs::remove_file(entry.path()).is_ok());
        } else if mine.is_some_and(|mine| name.ends_with(mine)) {
            theirs.push((modified, entry.path()));
        }
    }
    theirs.sort();
    let over = (theirs.len() + 1).saturating_sub(STAGING_PER_USER);
    for (_, path) in theirs.into_iter().take(over) {
        swept += usize::from(std::fs::remove_file(path).is_ok());
    }
    swept
}

/// Runs file work on the blocking pool.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> std::io::Result<T> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| ApiError::Internal(anyhow::Error::new(e)))?
        .map_err(ApiError::from)
}

/// The checks of a received photo before it reaches storage: its hash, and an image type.
fn verify(claimed: &PhotoHash, actual: &PhotoHash, bytes: &[u8]) -> Result<(), ApiError> {
    if actual != claimed {
        return Err(ApiError::BadRequest {
            code: "hash_mismatch",
            message: format!("照片内容与哈希不符：收到内容的 SHA-256 为 {actual}"),
            field: Some("sha256".to_owned()),
        });
    }
    if evidence_type(bytes).is_none() {
        return Err(ApiError::UnsupportedMediaType(
            "只接受 JPEG、PNG 或 WebP 图片，或 WebM、Ogg、MP4 录音".to_owned(),
        ));
    }
    Ok(())
}

/// Writes `bytes` (verified: their hash names `path`) to `path` create-only and durably.
///
/// The order is what makes it cheap: the missing folders are made, the bytes go to a staging
/// file `<path>#<random>` that is hard-linked to `path` and unlinked, and only then is the file
/// flushed and the folders synced. On ext4 and other journalling file systems the file's flush
/// commits the new names in the same journal commit, so the folder syncs that POSIX requires
/// find nothing left to write.
///
/// Publishing by a link keeps a reader from ever seeing part of a photo. Linking before the
/// flush means `path` can exist while its bytes are not on disk — a power cut or a failed flush
/// after the link, or another upload of the same photo still on its way — but never for a
/// recorded photo: the database row is written only after this returns. So a file found at
/// `path` is trusted only when the photo was `recorded` before this upload began; otherwise
/// this upload flushes its own copy first and renames it over `path` (atomic), and only then
/// returns. Staging files a crash leaves are swept at start-up.
fn write_local(path: &Path, bytes: &[u8], recorded: bool) -> std::io::Result<Stored> {
    let folder = path
        .parent()
        .ok_or_else(|| std::io::Error::other("a photo path without a folder"))?;
    let created = create_folders(folder)?;
    let mut suffix = [0u8; 8];
    rand::fill(&mut suffix);
    let mut staging = path.as_os_str().to_owned();
    staging.push(format!("#{}", u64::from_le_bytes(suffix)));
    let staging = PathBuf::from(staging);
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&staging)?;
    let written = file.write_all(bytes).and_then(|()| {
        match std::fs::hard_link(&staging, path) {
            Ok(()) => {
                std::fs::remove_file(&staging)?;
                file.sync_data()?;
                Ok(Stored::Created)
            }
            // Recorded: its writer flushed the file and its folders before the row was written.
            Err(e) if e.kind() == ErrorKind::AlreadyExists && recorded => Ok(Stored::AlreadyHeld),
            Err(e) if e.kind() == ErrorKind::AlreadyExists => {
                // Not recorded: what is at `path` may never have reached the disk. This copy is
                // made durable first, then takes the name, so whichever upload's rename lands
                // last, the name points at flushed bytes.
                let same = std::fs::read(path).is_ok_and(|held| held == bytes);
                file.sync_data()?;
                std::fs::rename(&staging, path)?;
                Ok(if same {
                    Stored::AlreadyHeld
                } else {
                    Stored::Created
                })
            }
            Err(e) => Err(e),
        }
    });
    // Gone already unless the name was trusted as it was, or the write failed.
    let _ = std::fs::remove_file(&staging);
    let stored = written?;
    drop(file);
    if stored == Stored::AlreadyHeld && recorded {
        return Ok(stored);
    }
    sync_folder(folder)?;
    // Each new folder's name is in its parent.
    for dir in &created {
        if let Some(parent) = dir.parent() {
            sync_folder(parent)?;
        }
    }
    Ok(stored)
}

/// Creates `folder` and its missing ancestors; returns those it created.
fn create_folders(folder: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut missing = Vec::new();
    let mut dir = folder;
    while !dir.is_dir() {
        missing.push(dir.to_owned());
        match dir.parent() {
            Some(parent) => dir = parent,
            None => break,
        }
    }
    for dir in missing.iter().rev() {
        match std::fs::create_dir(dir) {
            Ok(()) => {}
            // Made by a concurrent upload: its parent is synced here all the same.
            Err(e) if e.kind() == ErrorKind::AlreadyExists => {}
            Err(e) => return Err(e),
        }
    }
    Ok(missing)
}

/// Makes a change to `folder`'s entries durable.
fn sync_folder(folder: &Path) -> std::io::Result<()> {
    File::open(folder)?.sync_all()
}

/// True when an S3 error (or one of its causes) says the bucket does not exist.
fn names_missing_bucket(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut next = Some(error);
    while let Some(e) = next {
        if e.to_string().contains("NoSuchBucket") {
            return true;
        }
        next = e.source();
    }
    false
}

/// The axum body limit reports itself as an error inside the stream.
fn body_error(error: &axum::Error) -> ApiError {
    if crate::access::is_body_timeout(error) {
        return ApiError::BodyTimeout;
    }
    let too_large = std::error::Error::source(error)
        .is_some_and(|source| source.is::<http_body_util::LengthLimitError>());
    if too_large {
        ApiError::TooLarge {
            limit: MAX_PHOTO_BYTES,
        }
    } else {
        ApiError::bad_request("bad_body", "读取上传内容失败")
    }
}

/// Removes what a crash left of local photo writes: `object_store` writes `<name>#<n>` and
/// renames it into place, so a file with `#` in its name was never completed (the photo is not
/// recorded and the device uploads it again). Runs at start-up, before anything is written;
/// one server per data folder. Returns how many files went.
fn sweep_staging_files(root: &std::path::Path) -> usize {
    let mut swept = 0;
    let mut folders = vec![root.to_owned()];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder).into_iter().flatten().flatten() {
            let path = entry.path();
            if entry.file_type().is_ok_and(|t| t.is_dir()) {
                folders.push(path);
            } else if entry.file_name().to_string_lossy().contains('#')
                && std::fs::remove_file(&path).is_ok()
            {
                swept += 1;
            }
        }
    }
    swept
}

/// The MIME type of a JPEG, PNG or WebP by its magic bytes.
pub fn image_type(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("image/jpeg")
    } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if bytes.len() >= 12 && &bytes[0..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        Some("image/webp")
    } else {
        None
    }
}

/// The MIME type of an audio recording (the 告知 recorded on a phone) by its magic bytes:
/// WebM (Chromium, Firefox), Ogg, or MP4 (Safari).
pub fn audio_type(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(&[0x1A, 0x45, 0xDF, 0xA3]) {
        Some("audio/webm")
    } else if bytes.starts_with(b"OggS") {
        Some("audio/ogg")
    } else if bytes.len() >= 8 && &bytes[4..8] == b"ftyp" {
        Some("audio/mp4")
    } else {
        None
    }
}

/// The MIME type of an evidence file the server takes: an image, or an audio recording.
pub fn evidence_type(bytes: &[u8]) -> Option<&'static str> {
    image_type(bytes).or_else(|| audio_type(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_fan_out_by_the_first_hash_bytes() {
        let hash = PhotoHash::of_bytes(b"photo");
        let key = PhotoStore::key(&hash).to_string();
        let h = hash.as_str();
        assert_eq!(key, format!("photos/{}/{}/{h}.jpg", &h[..2], &h[2..4]));
    }

    #[test]
    fn s3_storage_is_configured_from_the_settings() {
        let dir = tempfile::tempdir().unwrap();
        let mut config = Config::for_tests(dir.path().join("data"), dir.path().join("dist"));
        config.s3.bucket = Some("zhicha-photos".into());
        config.s3.endpoint = Some("http://127.0.0.1:9000".into());
        config.s3.access_key_id = Some("key".into());
        config.s3.secret_access_key = Some("secret".into());
        config.s3.allow_http = true;
        let store = PhotoStore::open(&config).unwrap();
        assert!(
            store.objects.to_string().contains("zhicha-photos"),
            "{}",
            store.objects
        );
        assert!(!dir.path().join("data").join("photos").exists());
    }

    #[test]
    fn create_only_is_on_unless_turned_off() {
        #[derive(clap::Parser)]
        struct Settings {
            #[command(flatten)]
            s3: crate::config::S3Config,
        }
        let parse = |args: &[&str]| {
            <Settings as clap::Parser>::try_parse_from(
                std::iter::once("zhicha").chain(args.iter().copied()),
            )
            .unwrap()
            .s3
            .create_only
        };
        assert!(parse(&[]));
        assert!(crate::config::S3Config::default().create_only);
        assert!(!parse(&["--s3-create-only", "false"]));
        assert!(parse(&["--s3-create-only", "true"]));
    }

    #[test]
    fn unfinished_writes_are_swept_at_start_up() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        let folder = data.join("photos").join("ab").join("cd");
        std::fs::create_dir_all(&folder).unwrap();
        std::fs::create_dir_all(data.join("tmp")).unwrap();
        std::fs::write(folder.join("abcd.jpg"), b"kept").unwrap();
        std::fs::write(folder.join("abcd.jpg#1"), b"half").unwrap();
        std::fs::write(data.join("tmp").join("upload-00.part"), b"half").unwrap();
        PhotoStore::open(&Config::for_tests(data.clone(), dir.path().join("dist"))).unwrap();
        assert!(folder.join("abcd.jpg").exists());
        assert!(!folder.join("abcd.jpg#1").exists());
        assert!(!data.join("tmp").join("upload-00.part").exists());
    }

    #[test]
    fn only_images_are_recognised() {
        assert_eq!(
            image_type(&[0xFF, 0xD8, 0xFF, 0xE0, 0, 0]),
            Some("image/jpeg")
        );
        assert_eq!(image_type(b"\x89PNG\r\n\x1a\n...."), Some("image/png"));
        assert_eq!(image_type(b"RIFF\0\0\0\0WEBPVP8 "), Some("image/webp"));
        assert_eq!(image_type(b"<html>"), None);
        assert_eq!(
            evidence_type(&[0x1A, 0x45, 0xDF, 0xA3, 1]),
            Some("audio/webm")
        );
        assert_eq!(evidence_type(b"OggS\0\x02"), Some("audio/ogg"));
        assert_eq!(evidence_type(b"\0\0\0\x20ftypM4A "), Some("audio/mp4"));
        assert_eq!(evidence_type(b"<html>"), None);
        assert_eq!(image_type(b""), None);
    }
}
