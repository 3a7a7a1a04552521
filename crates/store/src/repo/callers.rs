//! The caller directory (SPEC §8 "caller profiles"): a tenant's callers, most recently heard
//! from first and searchable, and the erasure of everything caller memory keeps of one caller
//! (SPEC §7 tables) when an admin is asked to forget them.

use sqlx::Row;

use super::calls::like_pattern;
use super::memory::{CallerProfile, MAX_LIST, PROFILE_COLUMNS, profile_from_row};
use crate::scope::TenantAdmin;
use crate::{StoreResult, TenantTx};

/// One page of the directory.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct CallerPage {
    /// Callers matching the search, on every page.
    pub total: i64,
    /// Most recently heard from first.
    pub callers: Vec<CallerProfile>,
}

/// Callers whose number or quick bio contains `search` (case-insensitive), newest first.
pub async fn list(
    tx: &mut TenantTx,
    search: Option<&str>,
    limit: i64,
    offset: i64,
) -> StoreResult<CallerPage> {
    let tenant = tx.tenant().clone();
    let pattern = search
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(like_pattern);
    let condition = if pattern.is_some() {
        " AND (user_id LIKE $2 ESCAPE '\\' OR LOWER(quick_bio) LIKE $2 ESCAPE '\\')"
    } else {
        ""
    };
    let total: i64 = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT COUNT(*) AS n FROM caller_profiles WHERE tenant_id = $1{condition}"
    )))
    .bind(tenant.as_str())
    .bind(pattern.clone().unwrap_or_default())
    .fetch_one(tx.conn())
    .await?
    .try_get("n")?;
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {PROFILE_COLUMNS} FROM caller_profiles WHERE tenant_id = $1{condition} \
         ORDER BY last_seen DESC, user_id LIMIT $3 OFFSET $4"
    )))
    .bind(tenant.as_str())
    .bind(pattern.unwrap_or_default())
    .bind(limit.clamp(1, MAX_LIST))
    .bind(offset.max(0))
    .fetch_all(tx.conn())
    .await?;
    Ok(CallerPage {
        total,
        callers: rows
            .iter()
            .map(profile_from_row)
            .collect::<StoreResult<_>>()?,
    })
}

/// What forgetting a caller removed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Forgotten {
    pub memories: u64,
    pub summaries: u64,
    pub personality_metrics: u64,
    pub profile: bool,
}

impl Forgotten {
    /// Whether memory knew anything of the caller.
    pub fn any(&self) -> bool {
        self.memories + self.summaries + self.personality_metrics > 0 || self.profile
    }
}

/// Deletes every memory, summary, personality row and the profile of one caller at this tenant.
/// Call records and the live-call log are business records of the call and stay.
pub async fn forget(
    tx: &mut TenantTx,
    admin: TenantAdmin<'_>,
    user_id: &str,
) -> StoreResult<Forgotten> {
    admin.check(tx.tenant())?;
    let tenant = tx.tenant().clone();
    let mut removed = [0u64; 5];
    for (i, table) in [
        "memories",
        "call_summaries",
        "personality_metrics",
        "personality_averages",
        "caller_profiles",
    ]
    .iter()
    .enumerate()
    {
        removed[i] = sqlx::query(sqlx::AssertSqlSafe(format!(
            "DELETE FROM {table} WHERE tenant_id = $1 AND user_id = $2"
        )))
        .bind(tenant.as_str())
        .bind(user_id)
        .execute(tx.conn())
        .await?
        .rows_affected();
    }
    Ok(Forgotten {
        memories: removed[0],
        summaries: removed[1],
        personality_metrics: removed[2],
        profile: removed[4] > 0,
    })
}
