//! The one error type of handlers and its JSON envelope:
//! `{"error": {"code": "machine_readable", "message": "human readable"}}`.
//! Storage errors map centrally; an unexpected error is logged once, here, and the client gets an
//! opaque 500.

use axum::extract::FromRequest;
use axum::extract::rejection::JsonRejection;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use switchboard_store::StoreError;
use switchboard_store::auth::AuthError;

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    /// Every problem found, for validation errors that find more than one.
    pub problems: Vec<String>,
    /// `Content-Range` of a 416 answer (`bytes */<size>`).
    pub content_range: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    /// Machine-readable code, e.g. `not_found`, `tenant_suspended`.
    pub code: String,
    /// Human-readable explanation.
    pub message: String,
    /// Each problem of a rejected document, when validation found several.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub problems: Vec<String>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code,
            message: message.into(),
            problems: Vec::new(),
            content_range: None,
        }
    }

    /// 422 with every problem of a rejected document listed.
    pub fn invalid_document(what: &str, problems: Vec<String>) -> ApiError {
        ApiError {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            code: "invalid_config",
            message: format!(
                "{what} is invalid ({} problem{}); nothing was saved",
                problems.len(),
                if problems.len() == 1 { "" } else { "s" }
            ),
            problems,
            content_range: None,
        }
    }

    pub fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "invalid_request", message)
    }

    pub fn unauthenticated() -> ApiError {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
            "missing or invalid credentials",
        )
    }

    pub fn forbidden(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::FORBIDDEN, "forbidden", message)
    }

    pub fn not_found(what: &str) -> ApiError {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("{what} not found"),
        )
    }

    pub fn internal() -> ApiError {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "an internal error occurred; it has been logged",
        )
    }
}

impl From<StoreError> for ApiError {
    fn from(err: StoreError) -> ApiError {
        match err {
            StoreError::NotFound(what) => ApiError::not_found(what),
            StoreError::Conflict(message) => {
                ApiError::new(StatusCode::CONFLICT, "conflict", message)
            }
            StoreError::Invalid(message) => ApiError::bad_request(message),
            StoreError::Unsupported(message) => ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                message,
            ),
            StoreError::ObjectKey(err) => ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_object_name",
                err.to_string(),
            ),
            StoreError::Unavailable(err) => {
                tracing::error!(error = %err, "database unavailable");
                ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "unavailable",
                    "the service is temporarily unavailable",
                )
            }
            other => {
                tracing::error!(error = ?other, "unexpected storage error");
                ApiError::internal()
            }
        }
    }
}

impl From<AuthError> for ApiError {
    fn from(err: AuthError) -> ApiError {
        match err {
            AuthError::Unauthenticated => ApiError::unauthenticated(),
            AuthError::BadLogin => ApiError::new(
                StatusCode::UNAUTHORIZED,
                "invalid_login",
                "invalid organisation, email or password",
            ),
            AuthError::TenantSuspended => ApiError::new(
                StatusCode::FORBIDDEN,
                "tenant_suspended",
                "this organisation is suspended; contact the platform operator",
            ),
            AuthError::TenantDeleting => ApiError::new(
                StatusCode::FORBIDDEN,
                "tenant_unavailable",
                "this organisation is being deleted",
            ),
            AuthError::Store(err) => err.into(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code.to_owned(),
                message: self.message,
                problems: self.problems,
            },
        };
        let mut response = (self.status, axum::Json(body)).into_response();
        if let Some(range) = self.content_range.and_then(|r| r.parse().ok()) {
            response
                .headers_mut()
                .insert(axum::http::header::CONTENT_RANGE, range);
        }
        response
    }
}

/// `Json` whose rejections use the error envelope.
#[derive(FromRequest)]
#[from_request(via(axum::Json), rejection(ApiError))]
pub struct AppJson<T>(pub T);

impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> ApiError {
        ApiError::new(rejection.status(), "invalid_json", rejection.body_text())
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
