//! Call records. Later stages (transcribe … publish) move `status`; ingest creates the row.

use sqlx::Row;
use sqlx::any::AnyRow;

use crate::db::{AnyQuery, list_sql};
use crate::{StoreError, StoreResult, TenantTx};

#[derive(Clone, Debug, serde::Serialize)]
pub struct Call {
    pub id: String,
    /// `upload`, `import`, `provider:<name>` or `live`.
    pub source: String,
    pub provider_recording_id: Option<String>,
    pub content_sha256: String,
    /// The stored audio's extension (`wav`, `mp3`, `flac`, `ogg`).
    pub audio_format: String,
    pub audio_bytes: i64,
    /// Provider metadata as received (a JSON object).
    pub meta: serde_json::Value,
    /// `received`, `transcribed`, `enriched`, `analysed`, `published` or `failed`.
    pub status: String,
    pub failure_stage: Option<String>,
    pub failure_reason: Option<String>,
    /// Attempts made by the stage that failed.
    pub failure_attempts: Option<i64>,
    /// The current result version: 1, bumped by each re-analysis.
    pub result_version: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

impl Call {
    /// Where the recording lives, relative to the tenant's input area.
    pub fn audio_name(&self) -> String {
        format!("audio/{}.{}", self.id, self.audio_format)
    }

    pub fn meta_name(&self) -> String {
        format!("meta/{}.json", self.id)
    }
}

const COLUMNS: &str = "id, source, provider_recording_id, content_sha256, audio_format, audio_bytes, \
                       meta, status, failure_stage, failure_reason, failure_attempts, result_version, \
                       created_at, updated_at";

fn from_row(row: &AnyRow) -> StoreResult<Call> {
    let meta: String = row.try_get("meta")?;
    Ok(Call {
        id: row.try_get("id")?,
        source: row.try_get("source")?,
        provider_recording_id: row.try_get("provider_recording_id")?,
        content_sha256: row.try_get("content_sha256")?,
        audio_format: row.try_get("audio_format")?,
        audio_bytes: row.try_get("audio_bytes")?,
        meta: serde_json::from_str(&meta)
            .map_err(|_| StoreError::Invalid("corrupt call metadata".into()))?,
        status: row.try_get("status")?,
        failure_stage: row.try_get("failure_stage")?,
        failure_reason: row.try_get("failure_reason")?,
        failure_attempts: row.try_get("failure_attempts")?,
        result_version: row.try_get("result_version")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

pub(crate) async fn insert(tx: &mut TenantTx, call: &Call) -> StoreResult<()> {
    let tenant = tx.tenant().clone();
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "INSERT INTO calls (tenant_id, {COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)"
    )))
    .bind(tenant.as_str())
    .bind(&call.id)
    .bind(&call.source)
    .bind(call.provider_recording_id.as_deref())
    .bind(&call.content_sha256)
    .bind(&call.audio_format)
    .bind(call.audio_bytes)
    .bind(call.meta.to_string())
    .bind(&call.status)
    .bind(call.failure_stage.as_deref())
    .bind(call.failure_reason.as_deref())
    .bind(call.failure_attempts)
    .bind(call.result_version)
    .bind(call.created_at)
    .bind(call.updated_at)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// The call that already holds this provider recording id or these audio bytes.
pub async fn find_duplicate(
    tx: &mut TenantTx,
    provider_recording_id: Option<&str>,
    content_sha256: &str,
) -> StoreResult<Option<String>> {
    let tenant = tx.tenant().clone();
    let row = sqlx::query(
        "SELECT id FROM calls WHERE tenant_id = $1 AND (content_sha256 = $2 OR provider_recording_id = $3) \
         ORDER BY created_at LIMIT 1",
    )
    .bind(tenant.as_str())
    .bind(content_sha256)
    .bind(provider_recording_id)
    .fetch_optional(tx.conn())
    .await?;
    Ok(row.map(|row| row.try_get("id")).transpose()?)
}

/// The call created from this provider recording id, if any.
pub async fn find_by_recording_id(
    tx: &mut TenantTx,
    provider_recording_id: &str,
) -> StoreResult<Option<String>> {
    let tenant = tx.tenant().clone();
    let row =
        sqlx::query("SELECT id FROM calls WHERE tenant_id = $1 AND provider_recording_id = $2")
            .bind(tenant.as_str())
            .bind(provider_recording_id)
            .fetch_optional(tx.conn())
            .await?;
    Ok(row.map(|row| row.try_get("id")).transpose()?)
}

pub async fn get(tx: &mut TenantTx, id: &str) -> StoreResult<Option<Call>> {
    let tenant = tx.tenant().clone();
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM calls WHERE tenant_id = $1 AND id = $2"
    )))
    .bind(tenant.as_str())
    .bind(id)
    .fetch_optional(tx.conn())
    .await?;
    row.as_ref().map(from_row).transpose()
}

#[derive(Clone, Debug, Default)]
pub struct CallFilter {
    pub status: Option<String>,
    /// Published calls only: the agent id of their result.
    pub agent: Option<String>,
    /// Published calls only: inbound, outbound, internal, unknown.
    pub direction: Option<String>,
    /// Published calls only: start time bounds, Unix milliseconds, `from` inclusive.
    pub started_from: Option<i64>,
    pub started_before: Option<i64>,
    /// Published calls only: the overall sentiment label (POSITIVE, NEUTRAL, NEGATIVE, MIXED).
    pub sentiment: Option<String>,
    /// Published calls only: the overall QA verdict.
    pub qa_passed: Option<bool>,
    /// Calls whose id, parties, agent or summary contain this text (case-insensitive).
    pub search: Option<String>,
    pub limit: i64,
    pub offset: i64,
}

/// A call with its published result row, when it has one.
#[derive(Clone, Debug, serde::Serialize)]
pub struct CallListing {
    pub call: Call,
    pub result: Option<super::results::CallResultRow>,
}

/// A value of the filter, bound in order from `$2` (`$1` is the tenant).
enum Value {
    Text(String),
    Int(i64),
}

/// The `FROM … WHERE …` of a filter, with only the conditions it sets (a `($n IS NULL OR …)`
/// condition keeps the planners from using an index for it).
///
/// A filter on the published row (agent, direction, start time, sentiment, QA) is driven by
/// `call_results`, whose `(tenant, started_at)` and `(tenant, agent, started_at)` indexes give
/// the newest matching rows without reading the rest; other filters by `calls`, with each
/// call's published row when it has one.
struct FilterSql {
    from_where: String,
    values: Vec<Value>,
    /// Whether the rows come from `call_results` joined to their calls.
    published: bool,
}

impl FilterSql {
    fn new(filter: &CallFilter, join_calls: bool) -> FilterSql {
        let published = filter.agent.is_some()
            || filter.direction.is_some()
            || filter.started_from.is_some()
            || filter.started_before.is_some()
            || filter.sentiment.is_some()
            || filter.qa_passed.is_some();
        let mut sql = FilterSql {
            from_where: String::new(),
            values: Vec::new(),
            published,
        };
        sql.from_where = if !published {
            "FROM calls c LEFT JOIN call_results r ON r.tenant_id = c.tenant_id AND r.call_id = c.id \
             WHERE c.tenant_id = $1"
                .to_owned()
        } else if join_calls || filter.status.is_some() {
            "FROM call_results r JOIN calls c ON c.tenant_id = r.tenant_id AND c.id = r.call_id \
             WHERE r.tenant_id = $1"
                .to_owned()
        } else {
            "FROM call_results r WHERE r.tenant_id = $1".to_owned()
        };
        if let Some(status) = &filter.status {
            sql.condition("c.status = ", Value::Text(status.clone()));
        }
        if let Some(agent) = &filter.agent {
            sql.condition("r.agent_id = ", Value::Text(agent.clone()));
        }
        if let Some(direction) = &filter.direction {
            sql.condition("r.direction = ", Value::Text(direction.clone()));
        }
        if let Some(from) = filter.started_from {
            sql.condition("r.started_at >= ", Value::Int(from));
        }
        if let Some(before) = filter.started_before {
            sql.condition("r.started_at < ", Value::Int(before));
        }
        if let Some(label) = &filter.sentiment {
            sql.condition("r.sentiment_label = ", Value::Text(label.clone()));
        }
        if let Some(passed) = filter.qa_passed {
            sql.condition("r.qa_overall_pass = ", Value::Int(i64::from(passed)));
        }
        if let Some(search) = filter
            .search
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            sql.values.push(Value::Text(like_pattern(search)));
            let n = sql.values.len() + 1;
            // A published row's call_id is its call's id, so the id is searched on whichever
            // table drives the query.
            let id = if published { "r.call_id" } else { "c.id" };
            sql.from_where.push_str(&format!(
                " AND (LOWER({id}) LIKE ${n} ESCAPE '\\' OR LOWER(r.calling_party) LIKE ${n} ESCAPE '\\' \
                 OR LOWER(r.called_party) LIKE ${n} ESCAPE '\\' OR LOWER(r.agent_id) LIKE ${n} ESCAPE '\\' \
                 OR LOWER(r.summary) LIKE ${n} ESCAPE '\\')"
            ));
        }
        sql
    }

    fn condition(&mut self, column: &str, value: Value) {
        self.values.push(value);
        self.from_where
            .push_str(&format!(" AND {column}${}", self.values.len() + 1));
    }

    /// `SELECT columns …` in `order`, the filter's page of it.
    async fn page(
        &self,
        tx: &mut TenantTx,
        filter: &CallFilter,
        columns: &str,
        order: &str,
    ) -> StoreResult<Vec<AnyRow>> {
        let tenant = tx.tenant().clone();
        let limit = self.values.len() + 2;
        let text = format!(
            "SELECT {columns} {} ORDER BY {order} LIMIT ${limit} OFFSET ${}",
            self.from_where,
            limit + 1
        );
        Ok(self
            .bind(tenant.as_str(), text)
            .bind(filter.limit.clamp(1, 500))
            .bind(filter.offset.max(0))
            .fetch_all(tx.conn())
            .await?)
    }

    fn bind<'q>(&'q self, tenant: &'q str, sql: String) -> AnyQuery<'q> {
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(tenant);
        for value in &self.values {
            query = match value {
                Value::Text(text) => query.bind(text.as_str()),
                Value::Int(int) => query.bind(*int),
            };
        }
        query
    }
}

/// `%text%` for `LIKE … ESCAPE '\'`, lower-cased, with the pattern characters escaped.
pub(crate) fn like_pattern(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len() + 2);
    out.push('%');
    for c in raw.to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}

/// `alias.column, …` of a comma-separated column list.
fn prefixed(columns: &str, alias: &str) -> String {
    columns
        .split(',')
        .map(|c| format!("{alias}.{}", c.trim()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Newest first. Filters on agent, direction, start time, sentiment or QA look at the published
/// result, so they only ever match published calls.
pub async fn list(tx: &mut TenantTx, filter: &CallFilter) -> StoreResult<Vec<Call>> {
    let sql = FilterSql::new(filter, true);
    let rows = sql
        .page(
            tx,
            filter,
            &prefixed(COLUMNS, "c"),
            "c.created_at DESC, c.id",
        )
        .await?;
    rows.iter().map(from_row).collect()
}

/// Like [`list`], with each call's published row; newest start first (a call not yet
/// published counts from when it was received).
pub async fn list_with_results(
    tx: &mut TenantTx,
    filter: &CallFilter,
) -> StoreResult<Vec<CallListing>> {
    let sql = FilterSql::new(filter, true);
    let order = if sql.published {
        "r.started_at DESC, r.call_id"
    } else {
        "COALESCE(r.started_at, c.created_at) DESC, c.id"
    };
    let columns = format!(
        "{}, {}",
        prefixed(COLUMNS, "c"),
        prefixed(super::results::CALL_COLUMNS, "r")
    );
    let rows = sql.page(tx, filter, &columns, order).await?;
    rows.iter()
        .map(|row| {
            let has_result: Option<String> = row.try_get("call_id")?;
            Ok(CallListing {
                call: from_row(row)?,
                result: has_result
                    .map(|_| super::results::call_from_row(row))
                    .transpose()?,
            })
        })
        .collect()
}

/// How many calls match the filter (its limit and offset aside).
pub async fn count(tx: &mut TenantTx, filter: &CallFilter) -> StoreResult<i64> {
    let tenant = tx.tenant().clone();
    let sql = FilterSql::new(filter, false);
    let text = format!("SELECT COUNT(*) AS n {}", sql.from_where);
    let row = sql.bind(tenant.as_str(), text).fetch_one(tx.conn()).await?;
    Ok(row.try_get("n")?)
}

/// Ids of the tenant's calls in `status`, oldest first.
pub async fn ids_with_status(
    tx: &mut TenantTx,
    status: &str,
    limit: i64,
) -> StoreResult<Vec<String>> {
    let tenant = tx.tenant().clone();
    let rows = sqlx::query(
        "SELECT id FROM calls WHERE tenant_id = $1 AND status = $2 ORDER BY created_at, id LIMIT $3",
    )
    .bind(tenant.as_str())
    .bind(status)
    .bind(limit)
    .fetch_all(tx.conn())
    .await?;
    rows.iter().map(|row| Ok(row.try_get("id")?)).collect()
}

/// Calls per statement in the bulk functions below.
const BULK_CHUNK: usize = 500;

/// Where each of `ids` stands, for a bulk action (re-analysis): `(id, status, failure stage)`
/// of those that exist, in no particular order.
pub async fn states(
    tx: &mut TenantTx,
    ids: &[String],
) -> StoreResult<Vec<(String, String, Option<String>)>> {
    let tenant = tx.tenant().clone();
    let mut states = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(BULK_CHUNK) {
        let sql = format!(
            "SELECT id, status, failure_stage FROM calls WHERE tenant_id = $1 AND id IN ({})",
            list_sql(2, chunk.len())
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(tenant.as_str());
        for id in chunk {
            query = query.bind(id);
        }
        for row in query.fetch_all(tx.conn()).await? {
            states.push((
                row.try_get("id")?,
                row.try_get("status")?,
                row.try_get("failure_stage")?,
            ));
        }
    }
    Ok(states)
}

/// Sends existing calls back to `status` for a new result version (re-analysis): each call's
/// result version goes up by one and any earlier failure is cleared, in one statement per 500.
pub async fn send_back_for_new_version(
    tx: &mut TenantTx,
    ids: &[String],
    status: &str,
) -> StoreResult<()> {
    let tenant = tx.tenant().clone();
    let now = crate::clock::now_ms();
    for chunk in ids.chunks(BULK_CHUNK) {
        let sql = format!(
            "UPDATE calls SET result_version = result_version + 1, status = $1, failure_stage = NULL, \
             failure_reason = NULL, failure_attempts = NULL, updated_at = $2 \
             WHERE tenant_id = $3 AND id IN ({})",
            list_sql(4, chunk.len())
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(status)
            .bind(now)
            .bind(tenant.as_str());
        for id in chunk {
            query = query.bind(id);
        }
        let done = query.execute(tx.conn()).await?;
        if done.rows_affected() != chunk.len() as u64 {
            return Err(StoreError::NotFound("call"));
        }
    }
    Ok(())
}

/// Moves a call to `status` (a pipeline stage finished), clearing any earlier failure.
pub async fn set_status(tx: &mut TenantTx, id: &str, status: &str) -> StoreResult<()> {
    let tenant = tx.tenant().clone();
    let done = sqlx::query(
        "UPDATE calls SET status = $1, failure_stage = NULL, failure_reason = NULL, failure_attempts = NULL, \
         updated_at = $2 WHERE tenant_id = $3 AND id = $4",
    )
    .bind(status)
    .bind(crate::clock::now_ms())
    .bind(tenant.as_str())
    .bind(id)
    .execute(tx.conn())
    .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound("call"));
    }
    Ok(())
}

/// Marks a call `failed` at `stage`, with the reason and the attempts made.
pub async fn set_failed(
    tx: &mut TenantTx,
    id: &str,
    stage: &str,
    reason: &str,
    attempts: i64,
) -> StoreResult<()> {
    let tenant = tx.tenant().clone();
    sqlx::query(
        "UPDATE calls SET status = 'failed', failure_stage = $1, failure_reason = $2, failure_attempts = $3, \
         updated_at = $4 WHERE tenant_id = $5 AND id = $6",
    )
    .bind(stage)
    .bind(reason)
    .bind(attempts)
    .bind(crate::clock::now_ms())
    .bind(tenant.as_str())
    .bind(id)
    .execute(tx.conn())
    .await?;
    Ok(())
}
