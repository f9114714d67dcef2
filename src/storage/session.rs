//! The signed-in session, the device id and the tokens still to revoke (the `meta` store).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use zhicha_core::ids::DeviceId;
use zhicha_core::model::User;

use super::access::key;
use super::schema::META;
use super::{Db, StorageError, to_js, write_all};

pub(crate) const SCHEMA_VERSION_KEY: &str = "schema_version";

pub(super) const DEVICE_ID_KEY: &str = "device_id";

/// The signed-in session (token, user, expiry), kept so the app opens offline.
pub(crate) const SESSION_KEY: &str = "session";

/// Tokens of sessions logged out on this device, still to be revoked on the server.
pub(super) const REVOKE_KEY: &str = "revoke_tokens";

/// The signed-in session, kept on the device so the app opens offline until it expires.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Session {
    pub token: String,
    pub expires_at: DateTime<Utc>,
    pub user: User,
    pub device_code: String,
}

impl Db {
    /// This device's id, made on first use and kept for the life of the database.
    pub async fn device_id(&self) -> Result<DeviceId, StorageError> {
        if let Some(id) = self.get_meta(DEVICE_ID_KEY).await? {
            return Ok(id);
        }
        let id = DeviceId::new();
        self.put_meta(DEVICE_ID_KEY, &id).await?;
        Ok(id)
    }

    pub async fn session(&self) -> Result<Option<Session>, StorageError> {
        self.get_meta(SESSION_KEY).await
    }

    pub async fn put_session(&self, session: &Session) -> Result<(), StorageError> {
        self.put_meta(SESSION_KEY, session).await
    }

    /// Forgets the signed-in session. Callers check first that nothing is unsynced. Its token
    /// joins the tokens still to be revoked on the server, in the same transaction, so a
    /// logout offline is finished (`revoke_pending`) on the next connection.
    pub async fn clear_session(&self) -> Result<(), StorageError> {
        let Some(session) = self.session().await? else {
            return Ok(());
        };
        let mut pending = self.pending_revocations().await?;
        if !pending.contains(&session.token) {
            pending.push(session.token);
        }
        let pending = to_js(&pending)?;
        let tx = self.write(&[META])?;
        write_all(tx, async |tx| {
            let store = tx.store(META)?;
            store.delete(key(SESSION_KEY)).await?;
            store.put(&pending, Some(&key(REVOKE_KEY))).await?;
            Ok(())
        })
        .await
    }

    /// Tokens of sessions logged out here that the server has not yet been told of.
    pub async fn pending_revocations(&self) -> Result<Vec<String>, StorageError> {
        Ok(self.get_meta(REVOKE_KEY).await?.unwrap_or_default())
    }

    /// The server revoked (or no longer knows) `token`.
    pub async fn revocation_done(&self, token: &str) -> Result<(), StorageError> {
        let mut pending = self.pending_revocations().await?;
        pending.retain(|t| t != token);
        self.put_meta(REVOKE_KEY, &pending).await
    }
}
