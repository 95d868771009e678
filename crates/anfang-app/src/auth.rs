//! Users, passwords (argon2id), bearer-token sessions and lockout after repeated failures.
//!
//! Tokens are 256-bit random values shown to the client once; only their SHA-256 is stored, so
//! a database leak yields no usable session.

use crate::{App, AppError, AppResult, Permission, Principal};
use anfang_domain::model::Role;
use anfang_domain::scope::ScopeEntry;
use anfang_store::{NewUser, Page, Paged, SessionRow, UserRow};
use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString, rand_core::OsRng};
use base64::Engine;
use serde_json::json;
use sha2::{Digest, Sha256};

/// A successful login.
#[derive(Debug, Clone)]
pub struct LoginOutcome {
    /// The bearer token (shown once).
    pub token: String,
    /// When it expires (ms).
    pub expires_at: i64,
    /// Who logged in.
    pub principal: Principal,
}

/// A request to create a user.
#[derive(Debug, Clone)]
pub struct CreateUser {
    /// Login name: 3–32 of `[a-z0-9_.-]`.
    pub username: String,
    /// Role name.
    pub role: String,
    /// Scope list, e.g. `community:370323001001001`.
    pub scope: String,
    /// Display name (defaults to the username).
    pub display_name: Option<String>,
}

/// Hashes a password with argon2id and a random salt (PHC string).
pub fn hash_password(password: &str) -> AppResult<String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| AppError::Internal(format!("password hashing failed: {e}")))
}

fn verify_password(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc).is_ok_and(|h| Argon2::default().verify_password(password.as_bytes(), &h).is_ok())
}

/// The stored form of a token.
fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

fn validate_username(username: &str) -> AppResult<()> {
    let ok = (3..=32).contains(&username.len())
        && username
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "_.-".contains(c));
    if ok {
        Ok(())
    } else {
        Err(AppError::invalid(
            "invalid_username",
            "username",
            "3 to 32 characters of a-z, 0-9, '_', '.', '-'",
        ))
    }
}

impl App {
    /// Creates a user with a generated password, which is returned once and never stored.
    /// `actor` is recorded in the audit log.
    pub async fn create_user(&self, actor: &str, req: &CreateUser) -> AppResult<(UserRow, String)> {
        validate_username(&req.username)?;
        let role = Role::parse(&req.role).map_err(|e| AppError::field("role", e))?;
        let entries = ScopeEntry::parse_list(&req.scope).map_err(|e| AppError::field("scope", e))?;
        let password = anfang_base::random_password(20);
        let new = NewUser {
            username: req.username.clone(),
            password_hash: hash_password(&password)?,
            role: role.as_str().to_string(),
            display_name: req.display_name.clone().unwrap_or_else(|| req.username.clone()),
            scopes: entries
                .iter()
                .map(|e| (e.kind().to_string(), e.target()))
                .collect(),
            now_ms: self.clock.now_ms(),
        };
        let mut tx = self.store.write().await?;
        if tx.user_by_name(&new.username).await?.is_some() {
            return Err(AppError::Conflict {
                code: "duplicate_username",
                message: format!("user '{}' already exists", new.username),
            });
        }
        let id = tx.insert_user(&new).await?;
        let scope_text = entries
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(",");
        let audit = self
            .audit(
                &mut tx,
                actor,
                "user.create",
                &format!("user:{}", new.username),
                json!({"role": new.role, "scope": scope_text}),
            )
            .await?;
        let row = tx.user(id).await?.ok_or(AppError::NotFound { entity: "user" })?;
        self.commit(tx, Some(&audit)).await?;
        Ok((row, password))
    }

    /// Replaces a user's password with a generated one (returned once) and clears any lockout.
    pub async fn reset_password(&self, actor: &str, username: &str) -> AppResult<String> {
        let password = anfang_base::random_password(20);
        let hash = hash_password(&password)?;
        let mut tx = self.store.write().await?;
        let user = tx
            .user_by_name(username)
            .await?
            .ok_or(AppError::NotFound { entity: "user" })?;
        tx.set_password_hash(user.id, &hash).await?;
        let audit = self
            .audit(
                &mut tx,
                actor,
                "user.reset_password",
                &format!("user:{username}"),
                json!({}),
            )
            .await?;
        self.commit(tx, Some(&audit)).await?;
        Ok(password)
    }

    /// Creates a user on behalf of an API caller (district admins with district scope only).
    pub async fn create_user_as(&self, who: &Principal, req: &CreateUser) -> AppResult<(UserRow, String)> {
        who.require(Permission::ManageUsers)?;
        if !who.scope.all {
            return Err(AppError::Forbidden(
                "only a district-wide administrator creates users".into(),
            ));
        }
        self.create_user(&who.actor(), req).await
    }

    /// Lists users (district admins).
    pub async fn list_users(&self, who: &Principal, page: Page) -> AppResult<Paged<UserRow>> {
        who.require(Permission::ManageUsers)?;
        if !who.scope.all {
            return Err(AppError::Forbidden(
                "only a district-wide administrator lists users".into(),
            ));
        }
        let mut tx = self.store.read().await?;
        Ok(tx.list_users(page).await?)
    }

    /// Checks a password and opens a session. Failed attempts count towards a lockout; a
    /// locked account is refused without checking the password.
    pub async fn login(&self, username: &str, password: &str) -> AppResult<LoginOutcome> {
        let now = self.clock.now_ms();
        let mut tx = self.store.write().await?;
        let Some(user) = tx.user_by_name(username).await? else {
            // Spend the same time as a real check so that response time does not reveal
            // which usernames exist.
            static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
            let dummy = DUMMY.get_or_init(|| hash_password("not-a-real-password").unwrap_or_default());
            let _ = verify_password(password, dummy);
            let audit = self
                .audit(
                    &mut tx,
                    "anonymous",
                    "auth.login_failed",
                    &format!("user:{username}"),
                    json!({"reason": "unknown user"}),
                )
                .await?;
            self.commit(tx, Some(&audit)).await?;
            return Err(AppError::InvalidCredentials);
        };
        if let Some(until) = user.locked_until.filter(|until| *until > now) {
            return Err(AppError::Locked {
                retry_after_secs: (until - now + 999) / 1000,
            });
        }
        if !verify_password(password, &user.password_hash) {
            let failed = user.failed_logins + 1;
            let locked =
                (failed >= self.config.lockout_threshold).then(|| now + self.config.lockout_secs * 1000);
            tx.set_login_state(user.id, if locked.is_some() { 0 } else { failed }, locked)
                .await?;
            let audit = self
                .audit(
                    &mut tx,
                    "anonymous",
                    "auth.login_failed",
                    &format!("user:{username}"),
                    json!({"failed": failed, "locked": locked.is_some()}),
                )
                .await?;
            self.commit(tx, Some(&audit)).await?;
            return Err(match locked {
                Some(_) => AppError::Locked {
                    retry_after_secs: self.config.lockout_secs,
                },
                None => AppError::InvalidCredentials,
            });
        }
        tx.set_login_state(user.id, 0, None).await?;
        let mut raw = [0u8; 32];
        raw.copy_from_slice(&anfang_base::random_bytes(32));
        let token = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw);
        let expires_at = now + self.config.session_ttl_secs * 1000;
        tx.insert_session(&SessionRow {
            token_hash: token_hash(&token),
            user_id: user.id,
            created_at: now,
            expires_at,
        })
        .await?;
        let principal = Self::principal_for(&mut tx, user).await?;
        let audit = self
            .audit(
                &mut tx,
                &principal.actor(),
                "auth.login",
                &format!("user:{username}"),
                json!({}),
            )
            .await?;
        self.commit(tx, Some(&audit)).await?;
        Ok(LoginOutcome {
            token,
            expires_at,
            principal,
        })
    }

    /// Resolves a bearer token to its principal.
    pub async fn authenticate(&self, token: &str) -> AppResult<Principal> {
        let mut tx = self.store.read().await?;
        let session = tx
            .session(&token_hash(token))
            .await?
            .ok_or(AppError::Unauthenticated)?;
        if session.expires_at <= self.clock.now_ms() {
            return Err(AppError::Unauthenticated);
        }
        let user = tx.user(session.user_id).await?.ok_or(AppError::Unauthenticated)?;
        Self::principal_for(&mut tx, user).await
    }

    /// Ends the session of `token`.
    pub async fn logout(&self, who: &Principal, token: &str) -> AppResult<()> {
        let mut tx = self.store.write().await?;
        tx.delete_session(&token_hash(token)).await?;
        let audit = self
            .audit(
                &mut tx,
                &who.actor(),
                "auth.logout",
                &format!("user:{}", who.username),
                json!({}),
            )
            .await?;
        self.commit(tx, Some(&audit)).await
    }

    async fn principal_for(tx: &mut Box<dyn anfang_store::Tx>, user: UserRow) -> AppResult<Principal> {
        let role = Role::parse(&user.role).map_err(|e| AppError::Internal(format!("stored role: {e}")))?;
        let mut entries = Vec::new();
        for (kind, target) in tx.user_scopes(user.id).await? {
            entries.push(ScopeEntry::from_parts(&kind, &target).map_err(|e| AppError::Internal(e.message))?);
        }
        let scope = Self::resolve_scope(tx, &entries).await?;
        Ok(Principal {
            user_id: user.id,
            username: user.username,
            display_name: user.display_name,
            role,
            scope_entries: entries,
            scope,
        })
    }
}
