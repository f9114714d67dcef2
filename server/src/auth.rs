//! Who is asking: argon2 passwords, bearer tokens and the session extractor. What a session may
//! see is its [`Scope`](crate::scope::Scope).

use std::fmt::Write as _;
use std::sync::Arc;

use argon2::password_hash::{PasswordHasher as _, PasswordVerifier as _};
use argon2::{Algorithm, Argon2, Params, Version};
use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;
use sha2::{Digest, Sha256};
use zhicha_core::ids::{DeviceId, OrgId};
use zhicha_core::model::{OrgUnit, Role, User};

use crate::access::{Gate, Workers};
use crate::config::AuthConfig;
pub use crate::scope::{Scope, directory_scope, subtree};
use crate::{ApiError, AppState};

/// Hashes and verifies passwords with argon2id at the configured cost, a bounded number at once.
#[derive(Clone)]
pub struct Passwords {
    params: Params,
    /// A hash of no one's password, made once: an unknown user name is checked against it, so
    /// it costs exactly what a known one costs.
    dummy: Arc<str>,
    gate: Gate,
    /// As many threads as slots: the argon2 memory is bounded by them.
    workers: Workers,
}

/// The outcome of a password check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Checked {
    Match,
    NoMatch,
    /// Every hashing slot is taken and the queue is full: try again shortly.
    Busy,
}

impl Passwords {
    pub fn new(config: &AuthConfig) -> anyhow::Result<Self> {
        let params = Params::new(config.argon2_m_kib, config.argon2_t, config.argon2_p, None)
            .map_err(|e| anyhow::anyhow!("invalid argon2 parameters: {e}"))?;
        let dummy = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone())
            .hash_password(new_token().as_bytes())
            .map_err(|e| anyhow::anyhow!("hashing a password: {e}"))?
            .to_string();
        // One core is left to answer everything else while logins are being checked.
        let slots = config
            .hashing_slots
            .unwrap_or_else(|| crate::access::cores().saturating_sub(1).max(1));
        Ok(Self {
            params,
            dummy: dummy.into(),
            gate: Gate::new(slots),
            workers: Workers::new(slots, "argon2")?,
        })
    }

    fn argon2(&self) -> Argon2<'static> {
        Argon2::new(Algorithm::Argon2id, Version::V0x13, self.params.clone())
    }

    /// A PHC string (`$argon2id$v=19$m=…`), computed off the async threads. Waits its turn.
    pub async fn hash(&self, password: &str) -> anyhow::Result<String> {
        let argon2 = self.argon2();
        let password = password.to_owned();
        let _slot = self.gate.wait().await;
        self.workers
            .run(move || {
                argon2
                    .hash_password(password.as_bytes())
                    .map(|hash| hash.to_string())
                    .map_err(|e| anyhow::anyhow!("hashing a password: {e}"))
            })
            .await?
    }

    /// Whether `password` matches `hash`. With `hash` None (unknown user) the same work is done
    /// against the dummy, so response time does not reveal which user names exist. `Busy`
    /// when the hashing slots and their queue are full.
    pub async fn verify(&self, password: &str, hash: Option<&str>) -> anyhow::Result<Checked> {
        let Some(_pass) = self.gate.enter().await else {
            return Ok(Checked::Busy);
        };
        let argon2 = self.argon2();
        let password = password.to_owned();
        let known = hash.is_some();
        let hash = hash.map_or_else(|| self.dummy.to_string(), ToOwned::to_owned);
        let ok = self
            .workers
            .run(move || {
                argon2
                    .verify_password(password.as_bytes(), hash.as_str())
                    .is_ok()
            })
            .await?;
        Ok(if ok && known {
            Checked::Match
        } else {
            Checked::NoMatch
        })
    }
}

/// A fresh bearer token: 32 random bytes as hex. Only its hash is stored.
pub fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand::fill(&mut bytes);
    hex(&bytes)
}

/// What the database keeps of a token: its SHA-256, so a leaked table grants nothing.
pub fn token_hash(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

fn hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// The authenticated caller of a request, from `Authorization: Bearer <token>`.
pub struct Session {
    pub user: User,
    pub device_id: DeviceId,
    pub token_hash: String,
    pub scope: Scope,
    /// The whole org tree, loaded once per request for scope decisions.
    pub orgs: Vec<OrgUnit>,
}

impl Session {
    /// 403 unless the caller's scope covers `org`.
    pub fn require_org(&self, org: OrgId) -> Result<(), ApiError> {
        if self.scope.contains(org) {
            Ok(())
        } else {
            Err(ApiError::forbidden())
        }
    }

    /// The caller's scope plus the units above them: whose enterprise directory and org
    /// names they see.
    pub fn directory_scope(&self) -> Scope {
        directory_scope(&self.user, &self.scope, &self.orgs)
    }

    /// 403 unless the caller has one of `roles`.
    pub fn require_role(&self, roles: &[Role]) -> Result<(), ApiError> {
        if roles.contains(&self.user.role) {
            Ok(())
        } else {
            Err(ApiError::forbidden())
        }
    }
}

impl FromRequestParts<AppState> for Session {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|token| !token.is_empty())
            .ok_or(ApiError::Unauthorized)?;
        let token_hash = token_hash(token);
        let owner = state
            .store
            .token_owner(&token_hash)
            .await?
            .ok_or(ApiError::Unauthorized)?;
        let orgs = state.store.orgs().await?;
        let scope = Scope::of(&owner.user, &orgs, owner.superuser);
        Ok(Self {
            user: owner.user,
            device_id: owner.device_id,
            token_hash,
            scope,
            orgs,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_and_stored_only_as_hashes() {
        let (a, b) = (new_token(), new_token());
        assert_ne!(a, b);
        assert_eq!(a.len(), 64);
        assert_ne!(token_hash(&a), a);
        assert_eq!(token_hash(&a), token_hash(&a));
    }

    #[tokio::test]
    async fn passwords_verify_only_with_the_right_password() {
        let passwords = Passwords::new(&AuthConfig::fast_for_tests()).unwrap();
        let hash = passwords.hash("zhicha-demo").await.unwrap();
        assert!(hash.starts_with("$argon2id$"));
        let check = |password: &'static str, hash: Option<String>| {
            let passwords = passwords.clone();
            async move { passwords.verify(password, hash.as_deref()).await.unwrap() }
        };
        assert_eq!(
            check("zhicha-demo", Some(hash.clone())).await,
            Checked::Match
        );
        assert_eq!(check("wrong", Some(hash)).await, Checked::NoMatch);
        // The dummy's password is random: nothing matches an unknown user.
        assert_eq!(check("", None).await, Checked::NoMatch);
    }
}
