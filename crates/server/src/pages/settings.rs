//! The admin settings page: the organisation's users and its QA rubric (read-only here; the
//! JSON API edits them). Members get 403 and never see the link.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use axum::response::IntoResponse;
use serde_json::Value;
use switchboard_store::repo::users;

use super::format::datetime;
use super::session::{Nav, PageUser};
use super::{PageResult, error_page};
use crate::error::ApiError;
use crate::routes::config::qa_document;
use crate::state::AppState;

pub struct RuleLine {
    pub id: String,
    pub name: String,
    pub kind: String,
    pub required: String,
    pub weight: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "settings.html")]
struct SettingsPage {
    nav: Nav,
    users: Vec<(String, String, String)>,
    pass_mode: String,
    rules: Vec<RuleLine>,
}

fn text(value: Option<&Value>) -> String {
    match value {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}

pub async fn page(State(state): State<AppState>, user: PageUser) -> PageResult {
    let nav = || user.nav("settings");
    let result = async {
        user.auth.admin()?;
        let mut tx = state.db.read(&user.auth.0).await?;
        let users = users::list(&mut tx).await?;
        tx.commit().await?;
        let rubric = qa_document(&state, &user.auth).await?;
        Ok::<_, ApiError>((users, rubric))
    }
    .await;
    let (users, rubric) = result.map_err(|err| error_page(nav(), err))?;
    let rules = rubric["rules"]
        .as_array()
        .map(|rules| {
            rules
                .iter()
                .map(|rule| RuleLine {
                    id: text(rule.get("id")),
                    name: text(rule.get("name")),
                    kind: text(rule.get("kind")),
                    required: text(rule.get("required")),
                    weight: text(rule.get("weight")),
                })
                .collect()
        })
        .unwrap_or_default();
    Ok(SettingsPage {
        nav: nav(),
        users: users
            .into_iter()
            .map(|u| (u.email, u.role.to_string(), datetime(u.created_at)))
            .collect(),
        pass_mode: text(rubric.get("pass_mode")),
        rules,
    }
    .into_response())
}
