//! Photo bytes in object storage (a local folder or S3-compatible), content-addressed by
//! SHA-256 and written create-only; and the verified upload path that gets them there.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context as _;
use axum::body::Body;
use bytes::Bytes;
use futures_util::TryStreamExt as _;
use object_store::aws::AmazonS3Builder;
use object_store::local::LocalFileSystem;
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, ObjectStoreExt as _, PutMode, PutOptions, PutPayload};
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt as _;
use zhicha_core::ids::PhotoHash;
use zhicha_core::protocol::MAX_PHOTO_BYTES;

use crate::{ApiError, Config};

/// Where photo bytes live.
#[derive(Clone)]
pub struct PhotoStore {
    objects: Arc<dyn ObjectStore>,
    /// Uploads are streamed here and verified before they reach `objects`.
    tmp: PathBuf,
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
        let tmp = config.data.join("tmp");
        std::fs::create_dir_all(&tmp).with_context(|| format!("creating {}", tmp.display()))?;
        // Uploads cut off by a crash: never verified, never recorded, safe to drop.
        for entry in std::fs::read_dir(&tmp)?.flatten() {
            if entry.file_name().to_string_lossy().ends_with(".part") {
                let _ = std::fs::remove_file(entry.path());
            }
        }
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
                // fsync files and folders: a photo the receipt reports as held must survive a
                // power cut, because the device may then prune its copy.
                Arc::new(LocalFileSystem::new_with_prefix(root)?.with_fsync(true))
            }
        };
        Ok(Self { objects, tmp })
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
    pub async fn put(&self, hash: &PhotoHash, bytes: Bytes) -> Result<Stored, ApiError> {
        let options = PutOptions {
            mode: PutMode::Create,
            ..PutOptions::default()
        };
        match self
            .objects
            .put_opts(&Self::key(hash), PutPayload::from(bytes), options)
            .await
        {
            Ok(_) => Ok(Stored::Created),
            Err(object_store::Error::AlreadyExists { .. }) => Ok(Stored::AlreadyHeld),
            Err(e) => Err(e.into()),
        }
    }

    /// Streams an upload to a temporary file while hashing it, then checks size, hash and
    /// image type before anything reaches storage. Returns the verified bytes.
    pub async fn receive(&self, claimed: &PhotoHash, body: Body) -> Result<Bytes, ApiError> {
        let tmp = TempFile::new(&self.tmp);
        let mut file = tokio::fs::File::create(&tmp.path).await?;
        let mut hasher = Sha256::new();
        let mut size = 0usize;
        let mut stream = body.into_data_stream();
        while let Some(chunk) = stream.try_next().await.map_err(|e| body_error(&e))? {
            size += chunk.len();
            if size > MAX_PHOTO_BYTES {
                return Err(ApiError::TooLarge {
                    limit: MAX_PHOTO_BYTES,
                });
            }
            hasher.update(&chunk);
            file.write_all(&chunk).await?;
        }
        file.flush().await?;
        drop(file);
        let actual = PhotoHash::from_digest(hasher.finalize().into());
        if &actual != claimed {
            return Err(ApiError::BadRequest {
                code: "hash_mismatch",
                message: format!("照片内容与哈希不符：收到内容的 SHA-256 为 {actual}"),
                field: Some("sha256".to_owned()),
            });
        }
        let bytes = Bytes::from(tokio::fs::read(&tmp.path).await?);
        if image_type(&bytes).is_none() {
            return Err(ApiError::UnsupportedMediaType(
                "只接受 JPEG、PNG 或 WebP 图片".to_owned(),
            ));
        }
        Ok(bytes)
    }
}

/// The axum body limit reports itself as an error inside the stream.
fn body_error(error: &axum::Error) -> ApiError {
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

/// A file removed when dropped, whatever happened to the upload.
struct TempFile {
    path: PathBuf,
}

impl TempFile {
    fn new(dir: &std::path::Path) -> Self {
        let mut name = [0u8; 12];
        rand::fill(&mut name);
        let name: String = name.iter().map(|b| format!("{b:02x}")).collect();
        Self {
            path: dir.join(format!("upload-{name}.part")),
        }
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
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
        assert_eq!(image_type(b""), None);
    }
}
