//! The caller directory pages (SPEC §8 "caller profiles"): callers searchable by number or
//! quick bio, most recently heard from first, and one caller's profile, personality averages,
//! call summaries and memories. They read the same structs as `/api/v1/callers`.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query, State};
use axum::response::IntoResponse;

use super::format::{datetime, segment};
use super::session::{Nav, PageUser};
use super::{PageResult, Pager, error_page};
use crate::routes::callers::{CallersQuery, load_caller, load_callers};
use crate::state::AppState;

const PAGE_SIZE: i64 = 50;

pub struct CallerRow {
    pub user_id: String,
    pub href: String,
    pub quick_bio: String,
    pub calls: i64,
    pub first_seen: String,
    pub last_seen: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "callers.html")]
struct CallersPage {
    nav: Nav,
    q: String,
    total: i64,
    rows: Vec<CallerRow>,
    pager: Pager,
    export: String,
}

pub async fn list(
    State(state): State<AppState>,
    user: PageUser,
    Query(mut query): Query<CallersQuery>,
) -> PageResult {
    query.limit = Some(PAGE_SIZE);
    let page = load_callers(&state, &user.auth, &query)
        .await
        .map_err(|err| error_page(user.nav("callers"), err))?;
    let pager = Pager::new(
        "/callers",
        &query,
        query.offset.unwrap_or(0),
        PAGE_SIZE,
        page.total,
        |q, offset| CallersQuery {
            offset: Some(offset),
            limit: None,
            ..q.clone()
        },
    );
    Ok(CallersPage {
        nav: user.nav("callers"),
        q: query.q.clone().unwrap_or_default(),
        total: page.total,
        rows: page
            .callers
            .into_iter()
            .map(|c| CallerRow {
                href: format!("/callers/{}", segment(&c.user_id)),
                user_id: c.user_id,
                quick_bio: c.quick_bio,
                calls: c.calls,
                first_seen: datetime(c.first_seen),
                last_seen: datetime(c.last_seen),
            })
            .collect(),
        pager,
        // No CSV: a list of callers' numbers is personal data, kept to the API.
        export: String::new(),
    }
    .into_response())
}

pub struct Trait {
    pub name: &'static str,
    pub value: String,
    pub hint: &'static str,
}

pub struct SummaryRow {
    pub at: String,
    pub call_id: String,
    pub summary: String,
    pub topics: String,
}

pub struct MemoryRow {
    pub at: String,
    pub content: String,
    pub source: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "caller.html")]
struct CallerPage {
    nav: Nav,
    user_id: String,
    quick_bio: String,
    fields: Vec<(String, String)>,
    calls: i64,
    first_seen: String,
    last_seen: String,
    personality_calls: i64,
    traits: Vec<Trait>,
    summaries: Vec<SummaryRow>,
    memories: Vec<MemoryRow>,
}

pub async fn detail(
    State(state): State<AppState>,
    user: PageUser,
    Path(user_id): Path<String>,
) -> PageResult {
    let caller = load_caller(&state, &user.auth, &user_id)
        .await
        .map_err(|err| error_page(user.nav("callers"), err))?;
    let traits = caller
        .personality
        .as_ref()
        .map(|p| {
            let s = p.scores;
            vec![
                Trait {
                    name: "Sentiment",
                    value: format!("{:+.2}", s.sentiment),
                    hint: "−1 negative … +1 positive",
                },
                Trait {
                    name: "Talkativeness",
                    value: format!("{:.2}", s.talkativeness),
                    hint: "0 terse … 1 talkative",
                },
                Trait {
                    name: "Formality",
                    value: format!("{:.2}", s.formality),
                    hint: "0 casual … 1 formal",
                },
                Trait {
                    name: "Patience",
                    value: format!("{:.2}", s.patience),
                    hint: "0 impatient … 1 patient",
                },
            ]
        })
        .unwrap_or_default();
    let profile = caller.profile;
    Ok(CallerPage {
        nav: user.nav("callers"),
        quick_bio: profile.quick_bio,
        fields: profile.fields.into_iter().collect(),
        calls: profile.calls,
        first_seen: datetime(profile.first_seen),
        last_seen: datetime(profile.last_seen),
        personality_calls: caller.personality.map(|p| p.calls).unwrap_or(0),
        traits,
        summaries: caller
            .summaries
            .into_iter()
            .map(|s| SummaryRow {
                at: datetime(s.created_at),
                call_id: s.call_id,
                summary: s.summary,
                topics: s.topics.join(", "),
            })
            .collect(),
        memories: caller
            .memories
            .into_iter()
            .map(|m| MemoryRow {
                at: datetime(m.created_at),
                content: m.content,
                source: m.source,
            })
            .collect(),
        user_id: profile.user_id,
    }
    .into_response())
}
