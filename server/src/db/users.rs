//! Accounts: organisation units, users, devices, login tokens and the login failure record.

use sqlx::{AssertSqlSafe, FromRow};
use zhicha_core::documents::DeviceCode;
use zhicha_core::ids::{DeviceId, UserId};
use zhicha_core::model::{OrgUnit, Role, User};
use zhicha_core::wire::WireName;

use super::{Store, is_unique_violation, now};

#[derive(FromRow)]
struct OrgRow {
    id: String,
    parent_id: Option<String>,
    name: String,
    doc_code: String,
    region: String,
    review_authority: String,
    court: String,
}

impl OrgRow {
    fn into_org(self) -> Result<OrgUnit, sqlx::Error> {
        Ok(OrgUnit {
            id: parse_id(&self.id)?,
            parent_id: self.parent_id.as_deref().map(parse_id).transpose()?,
            name: self.name,
            doc_code: self.doc_code,
            region: self.region,
            review_authority: self.review_authority,
            court: self.court,
        })
    }
}

#[derive(FromRow)]
pub(super) struct UserRow {
    id: String,
    username: String,
    display_name: String,
    role: String,
    org_id: String,
    certificate_no: Option<String>,
}

impl UserRow {
    pub(super) fn into_user(self) -> Result<User, sqlx::Error> {
        Ok(User {
            id: parse_id(&self.id)?,
            username: self.username,
            display_name: self.display_name,
            role: Role::from_wire(&self.role).ok_or_else(|| {
                sqlx::Error::Decode(format!("unknown role {:?}", self.role).into())
            })?,
            org_id: parse_id(&self.org_id)?,
            certificate_no: self.certificate_no,
        })
    }
}

const USER_COLUMNS: &str = "id, username, display_name, role, org_id, certificate_no";

/// A user with the stored password hash, for login only.
pub struct Credentials {
    pub user: User,
    pub password_hash: String,
}

/// The account behind a valid bearer token.
pub struct TokenOwner {
    pub user: User,
    pub device_id: DeviceId,
    /// A region-wide admin (see `Scope::of`).
    pub superuser: bool,
}

/// A session still valid, as the operator sees it.
#[derive(Debug, FromRow)]
pub struct SessionInfo {
    pub device_id: String,
    pub device_code: Option<String>,
    pub created_at: String,
    pub expires_at: String,
}

/// Why a device got no code at login.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoDeviceCode {
    /// Every code of the authority is issued.
    Exhausted,
    /// Other devices kept taking the free code while this one registered; a retry will do.
    Contended,
}

/// Distinct codes `DeviceCode::from_index` issues for one authority: 24 letters followed by
/// one, two or three digits (`A0`…`Z9`, `A00`…`Z99`, `A000`…`Z999`). From this index on it
/// repeats earlier codes, so the server stops issuing there.
pub const DEVICE_CODES: u32 = 24 * (10 + 100 + 1_000);

/// Parses an id column; a malformed id in the database is a decode error, not a panic.
pub(crate) fn parse_id<T: std::str::FromStr>(text: &str) -> Result<T, sqlx::Error> {
    text.parse()
        .map_err(|_| sqlx::Error::Decode(format!("malformed id {text:?}").into()))
}

impl Store {
    pub async fn insert_org(&self, org: &OrgUnit) -> Result<(), sqlx::Error> {
        sqlx::query(
            "INSERT INTO org_units (id, parent_id, name, doc_code, region, review_authority, \
             court, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(org.id.to_string())
        .bind(org.parent_id.map(|id| id.to_string()))
        .bind(&org.name)
        .bind(&org.doc_code)
        .bind(&org.region)
        .bind(&org.review_authority)
        .bind(&org.court)
        .bind(now())
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    /// Every organisation unit (a few hundred at most, even region-wide).
    pub async fn orgs(&self) -> Result<Vec<OrgUnit>, sqlx::Error> {
        sqlx::query_as::<_, OrgRow>(
            "SELECT id, parent_id, name, doc_code, region, review_authority, court FROM org_units \
             ORDER BY created_at, name",
        )
        .fetch_all(&self.pool)
        .await?
        .into_iter()
        .map(OrgRow::into_org)
        .collect()
    }

    /// Creates a user; `Ok(false)` when the user name is taken.
    pub async fn insert_user(&self, user: &User, password_hash: &str) -> Result<bool, sqlx::Error> {
        let result = sqlx::query(
            "INSERT INTO users (id, username, display_name, role, org_id, certificate_no, \
             password_hash, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(user.id.to_string())
        .bind(&user.username)
        .bind(&user.display_name)
        .bind(user.role.wire_name())
        .bind(user.org_id.to_string())
        .bind(user.certificate_no.clone())
        .bind(password_hash)
        .bind(now())
        .execute(&self.writer)
        .await;
        match result {
            Ok(_) => Ok(true),
            Err(e) if is_unique_violation(&e) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Replaces a password hash and revokes the user's tokens but `keep` (the session that
    /// changed it); `Ok(false)` for an unknown user.
    pub async fn set_password(
        &self,
        username: &str,
        password_hash: &str,
        keep: Option<&str>,
    ) -> Result<bool, sqlx::Error> {
        let mut tx = self.writer.begin().await?;
        let id: Option<String> = sqlx::query_scalar(
            "UPDATE users SET password_hash = $1 WHERE username = $2 RETURNING id",
        )
        .bind(password_hash)
        .bind(username)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(id) = id else { return Ok(false) };
        sqlx::query(
            "UPDATE tokens SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL \
             AND token_hash <> $3",
        )
        .bind(now())
        .bind(id)
        .bind(keep.unwrap_or(""))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Makes an admin region-wide (or no longer); `Ok(false)` for an unknown user or one who is
    /// not an admin. Only the command line does this.
    pub async fn set_superuser(&self, username: &str, on: bool) -> Result<bool, sqlx::Error> {
        let done = sqlx::query("UPDATE users SET superuser = $1 WHERE username = $2 AND role = $3")
            .bind(i32::from(on))
            .bind(username)
            .bind(Role::Admin.wire_name())
            .execute(&self.writer)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Enables or disables an account; disabling revokes every session. `Ok(false)` for an
    /// unknown user.
    pub async fn set_active(&self, username: &str, active: bool) -> Result<bool, sqlx::Error> {
        let mut tx = self.writer.begin().await?;
        let id: Option<String> =
            sqlx::query_scalar("UPDATE users SET active = $1 WHERE username = $2 RETURNING id")
                .bind(i32::from(active))
                .bind(username)
                .fetch_optional(&mut *tx)
                .await?;
        let Some(id) = id else { return Ok(false) };
        if !active {
            sqlx::query(
                "UPDATE tokens SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL",
            )
            .bind(now())
            .bind(id)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    /// A user's sessions still valid: device, its document code, when logged in, until when.
    pub async fn sessions(&self, username: &str) -> Result<Vec<SessionInfo>, sqlx::Error> {
        sqlx::query_as::<_, SessionInfo>(
            "SELECT t.device_id, \
             (SELECT MIN(c.code) FROM device_codes c WHERE c.device_id = t.device_id) AS device_code, \
             t.created_at, t.expires_at FROM tokens t JOIN users u ON u.id = t.user_id \
             WHERE u.username = $1 AND t.revoked_at IS NULL AND t.expires_at > $2 \
             ORDER BY t.created_at",
        )
        .bind(username)
        .bind(now())
        .fetch_all(&self.pool)
        .await
    }

    /// Revokes a user's sessions, all of them or those of one device (its id or its code, as
    /// `sessions` lists them); the number revoked, or None for an unknown user.
    pub async fn revoke_sessions(
        &self,
        username: &str,
        device: Option<&str>,
    ) -> Result<Option<u64>, sqlx::Error> {
        let id: Option<String> = sqlx::query_scalar("SELECT id FROM users WHERE username = $1")
            .bind(username)
            .fetch_optional(&self.writer)
            .await?;
        let Some(id) = id else { return Ok(None) };
        let result = sqlx::query(
            "UPDATE tokens SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL \
             AND ($3 = '' OR device_id = $3 OR device_id IN \
             (SELECT device_id FROM device_codes WHERE code = $3))",
        )
        .bind(now())
        .bind(id)
        .bind(device.unwrap_or(""))
        .execute(&self.writer)
        .await?;
        Ok(Some(result.rows_affected()))
    }

    pub async fn users(&self) -> Result<Vec<User>, sqlx::Error> {
        sqlx::query_as::<_, UserRow>(AssertSqlSafe(format!(
            "SELECT {USER_COLUMNS} FROM users WHERE active = 1 ORDER BY username"
        )))
        .fetch_all(&self.pool)
        .await?
        .into_iter()
        .map(UserRow::into_user)
        .collect()
    }

    pub async fn credentials(&self, username: &str) -> Result<Option<Credentials>, sqlx::Error> {
        #[derive(FromRow)]
        struct Row {
            #[sqlx(flatten)]
            user: UserRow,
            password_hash: String,
        }
        let row = sqlx::query_as::<_, Row>(AssertSqlSafe(format!(
            "SELECT {USER_COLUMNS}, password_hash FROM users WHERE username = $1 AND active = 1"
        )))
        .bind(username)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|row| {
            Ok(Credentials {
                user: row.user.into_user()?,
                password_hash: row.password_hash,
            })
        })
        .transpose()
    }

    /// The user a device was last registered to and the last seq the server applied from it.
    pub async fn device_holder(
        &self,
        device: DeviceId,
    ) -> Result<Option<(String, i64)>, sqlx::Error> {
        sqlx::query_as("SELECT user_id, last_seq FROM devices WHERE device_id = $1")
            .bind(device.to_string())
            .fetch_optional(&self.writer)
            .await
    }

    /// Registers the device for the user (or moves it to them) and returns its short code
    /// under `doc_code`, the authority code of the user's documents: issued in order
    /// (`A0`, `A1`, …) and stable for the (authority, device) pair, so devices never produce
    /// the same document number offline. A new device gets no code once the authority's
    /// [`DEVICE_CODES`] are issued (a repeated code would repeat document numbers).
    pub async fn register_device(
        &self,
        device: DeviceId,
        user: UserId,
        doc_code: &str,
    ) -> Result<Result<DeviceCode, NoDeviceCode>, sqlx::Error> {
        let device_id = device.to_string();
        sqlx::query(
            "INSERT INTO devices (device_id, user_id, created_at) VALUES ($1, $2, $3) \
             ON CONFLICT (device_id) DO UPDATE SET user_id = excluded.user_id",
        )
        .bind(&device_id)
        .bind(user.to_string())
        .bind(now())
        .execute(&self.writer)
        .await?;
        for _ in 0..20 {
            let existing: Option<String> = sqlx::query_scalar(
                "SELECT code FROM device_codes WHERE doc_code = $1 AND device_id = $2",
            )
            .bind(doc_code)
            .bind(&device_id)
            .fetch_optional(&self.writer)
            .await?;
            if let Some(code) = existing {
                return DeviceCode::parse(&code)
                    .map(Ok)
                    .map_err(|e| sqlx::Error::Decode(Box::new(e)));
            }
            let issued: i64 =
                sqlx::query_scalar("SELECT COUNT(*) FROM device_codes WHERE doc_code = $1")
                    .bind(doc_code)
                    .fetch_one(&self.writer)
                    .await?;
            let Some(index) = u32::try_from(issued).ok().filter(|n| *n < DEVICE_CODES) else {
                return Ok(Err(NoDeviceCode::Exhausted));
            };
            let code = DeviceCode::from_index(index);
            let result = sqlx::query(
                "INSERT INTO device_codes (doc_code, device_id, code, created_at) VALUES ($1, $2, $3, $4)",
            )
            .bind(doc_code)
            .bind(&device_id)
            .bind(code.as_str())
            .bind(now())
            .execute(&self.writer)
            .await;
            match result {
                Ok(_) => return Ok(Ok(code)),
                // Another device took this code (or this device registered concurrently): look again.
                Err(e) if is_unique_violation(&e) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(Err(NoDeviceCode::Contended))
    }

    pub async fn insert_token(
        &self,
        token_hash: &str,
        user: UserId,
        device: DeviceId,
        expires_at: &str,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(
            "INSERT INTO tokens (token_hash, user_id, device_id, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(token_hash)
        .bind(user.to_string())
        .bind(device.to_string())
        .bind(now())
        .bind(expires_at)
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    /// The owner of an unexpired, unrevoked token.
    pub async fn token_owner(&self, token_hash: &str) -> Result<Option<TokenOwner>, sqlx::Error> {
        #[derive(FromRow)]
        struct Row {
            #[sqlx(flatten)]
            user: UserRow,
            device_id: String,
            superuser: i32,
        }
        let row = sqlx::query_as::<_, Row>(
            "SELECT u.id, u.username, u.display_name, u.role, u.org_id, u.certificate_no, \
             t.device_id, u.superuser FROM tokens t JOIN users u ON u.id = t.user_id \
             WHERE t.token_hash = $1 AND t.revoked_at IS NULL AND t.expires_at > $2 \
             AND u.active = 1",
        )
        .bind(token_hash)
        .bind(now())
        .fetch_optional(&self.pool)
        .await?;
        row.map(|row| {
            Ok(TokenOwner {
                user: row.user.into_user()?,
                device_id: parse_id(&row.device_id)?,
                superuser: row.superuser != 0,
            })
        })
        .transpose()
    }

    pub async fn revoke_token(&self, token_hash: &str) -> Result<(), sqlx::Error> {
        sqlx::query(
            "UPDATE tokens SET revoked_at = $1 WHERE token_hash = $2 AND revoked_at IS NULL",
        )
        .bind(now())
        .bind(token_hash)
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    /// Records a login attempt before the password is checked and counts, with it, the
    /// attempts still in the window for this user name from this address and from this address
    /// alone. Each attempt counts itself and every attempt committed before it, so of N parallel
    /// attempts at most `limit` see a count within the limit.
    pub async fn begin_login_attempt(
        &self,
        attempt: &LoginAttempt<'_>,
        window_start_ms: i64,
    ) -> Result<AttemptCounts, sqlx::Error> {
        sqlx::query("DELETE FROM login_attempts WHERE at_ms <= $1")
            .bind(window_start_ms)
            .execute(&self.writer)
            .await?;
        sqlx::query(
            "INSERT INTO login_attempts (id, username, address, at_ms) VALUES ($1, $2, $3, $4)",
        )
        .bind(attempt.id)
        .bind(attempt.username)
        .bind(attempt.address)
        .bind(attempt.at_ms)
        .execute(&self.writer)
        .await?;
        let (for_user, oldest_for_user): (i64, Option<i64>) = sqlx::query_as(
            "SELECT COUNT(*), MIN(at_ms) FROM login_attempts \
             WHERE username = $1 AND address = $2 AND at_ms > $3",
        )
        .bind(attempt.username)
        .bind(attempt.address)
        .bind(window_start_ms)
        .fetch_one(&self.writer)
        .await?;
        let (for_address, oldest_for_address): (i64, Option<i64>) = sqlx::query_as(
            "SELECT COUNT(*), MIN(at_ms) FROM login_attempts WHERE address = $1 AND at_ms > $2",
        )
        .bind(attempt.address)
        .bind(window_start_ms)
        .fetch_one(&self.writer)
        .await?;
        Ok(AttemptCounts {
            for_user,
            oldest_for_user: oldest_for_user.unwrap_or(attempt.at_ms),
            for_address,
            oldest_for_address: oldest_for_address.unwrap_or(attempt.at_ms),
        })
    }

    /// Forgets one attempt: it was turned away before any password was checked.
    pub async fn drop_login_attempt(&self, id: &str) -> Result<(), sqlx::Error> {
        sqlx::query("DELETE FROM login_attempts WHERE id = $1")
            .bind(id)
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    /// After a successful login: the failures of this user name from this address are forgiven.
    pub async fn clear_login_attempts(
        &self,
        username: &str,
        address: &str,
    ) -> Result<(), sqlx::Error> {
        sqlx::query("DELETE FROM login_attempts WHERE username = $1 AND address = $2")
            .bind(username)
            .bind(address)
            .execute(&self.writer)
            .await?;
        Ok(())
    }
}

/// One login attempt as recorded.
#[derive(Debug)]
pub struct LoginAttempt<'a> {
    pub id: &'a str,
    pub username: &'a str,
    pub address: &'a str,
    pub at_ms: i64,
}

/// Attempts within the window, this one included, and the oldest of each (Unix milliseconds).
#[derive(Debug, Clone, Copy)]
pub struct AttemptCounts {
    pub for_user: i64,
    pub oldest_for_user: i64,
    pub for_address: i64,
    pub oldest_for_address: i64,
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    /// The limit is exactly where `from_index` stops issuing new codes.
    #[test]
    fn device_codes_are_distinct_up_to_the_limit_and_repeat_after_it() {
        let codes: HashSet<String> = (0..DEVICE_CODES)
            .map(|n| DeviceCode::from_index(n).as_str().to_owned())
            .collect();
        assert_eq!(codes.len(), DEVICE_CODES as usize);
        assert_eq!(DeviceCode::from_index(DEVICE_CODES - 1).as_str(), "Z999");
        assert!(codes.contains(DeviceCode::from_index(DEVICE_CODES).as_str()));
    }
}
