//! Sessions, CSRF, tokens.

use axum::body::Body;
use http::{Request, StatusCode};
use serde_json::json;

use crate::harness::{Auth, PASSWORD, TestApp};

#[tokio::test]
async fn session_cookie_is_http_only_lax_and_secure_behind_tls() {
    let app = TestApp::new().await;
    let a = app.tenant("tenant-a").await;
    let body =
        json!({"tenant": "tenant-a", "email": a.admin_email, "password": PASSWORD}).to_string();
    let plain = app
        .send(
            Request::post("/api/v1/auth/login")
                .header("content-type", "application/json")
                .body(Body::from(body.clone()))
                .unwrap(),
        )
        .await;
    let cookie = plain.headers["set-cookie"].to_str().unwrap();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    assert!(!cookie.contains("Secure"));
    let tls = app
        .send(
            Request::post("/api/v1/auth/login")
                .header("content-type", "application/json")
                .header("x-forwarded-proto", "https")
                .body(Body::from(body))
                .unwrap(),
        )
        .await;
    assert!(
        tls.headers["set-cookie"]
            .to_str()
            .unwrap()
            .contains("; Secure")
    );
}

#[tokio::test]
async fn cookie_changes_need_the_csrf_token_and_logout_ends_the_session() {
    let app = TestApp::new().await;
    let a = app.tenant("tenant-a").await;
    let (cookie, csrf) = app
        .login(Some("tenant-a"), &a.admin_email, PASSWORD)
        .await
        .unwrap();
    let invite = json!({"email": "new@tenant-a.test", "role": "member"});

    let without = app
        .call(
            "POST",
            "/api/v1/users",
            Auth::Session {
                cookie: &cookie,
                csrf: None,
            },
            Some(invite.clone()),
        )
        .await;
    assert_eq!(without.status, StatusCode::FORBIDDEN);
    assert_eq!(without.code(), "csrf_failed");
    let wrong = app
        .call(
            "POST",
            "/api/v1/users",
            Auth::Session {
                cookie: &cookie,
                csrf: Some("nope"),
            },
            Some(invite.clone()),
        )
        .await;
    assert_eq!(wrong.code(), "csrf_failed");
    let with = app
        .call(
            "POST",
            "/api/v1/users",
            Auth::Session {
                cookie: &cookie,
                csrf: Some(&csrf),
            },
            Some(invite),
        )
        .await;
    assert_eq!(with.status, StatusCode::CREATED, "{}", with.text);
    assert!(
        with.body["initial_password"]
            .as_str()
            .is_some_and(|p| p.len() >= 16)
    );

    let reads = app
        .call(
            "GET",
            "/api/v1/me",
            Auth::Session {
                cookie: &cookie,
                csrf: None,
            },
            None,
        )
        .await;
    assert_eq!(reads.status, StatusCode::OK, "reads need no CSRF token");

    let logout = app
        .call(
            "POST",
            "/api/v1/auth/logout",
            Auth::Session {
                cookie: &cookie,
                csrf: Some(&csrf),
            },
            None,
        )
        .await;
    assert_eq!(logout.status, StatusCode::NO_CONTENT);
    assert!(
        logout.headers["set-cookie"]
            .to_str()
            .unwrap()
            .contains("Max-Age=0")
    );
    let after = app
        .call(
            "GET",
            "/api/v1/me",
            Auth::Session {
                cookie: &cookie,
                csrf: None,
            },
            None,
        )
        .await;
    assert_eq!(after.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn wrong_passwords_unknown_users_and_unknown_tenants_look_the_same() {
    let app = TestApp::new().await;
    let a = app.tenant("tenant-a").await;
    for (tenant, email, password) in [
        (Some("tenant-a"), a.admin_email.as_str(), "wrong-password"),
        (Some("tenant-a"), "nobody@tenant-a.test", PASSWORD),
        (Some("tenant-zz"), a.admin_email.as_str(), PASSWORD),
        (Some("Not A Tenant"), a.admin_email.as_str(), PASSWORD),
        (None, a.admin_email.as_str(), PASSWORD),
    ] {
        let refused = app.login(tenant, email, password).await.unwrap_err();
        assert_eq!(
            refused.status,
            StatusCode::UNAUTHORIZED,
            "{tenant:?} {email}"
        );
        assert_eq!(refused.code(), "invalid_login");
    }
}

#[tokio::test]
async fn the_login_form_needs_its_double_submit_token() {
    let app = TestApp::new().await;
    let a = app.tenant("tenant-a").await;
    let page = app.call("GET", "/login", Auth::None, None).await;
    assert_eq!(page.status, StatusCode::OK);
    let set_cookie = page.headers["set-cookie"].to_str().unwrap();
    let token = set_cookie
        .split(';')
        .next()
        .unwrap()
        .strip_prefix("sb_login_csrf=")
        .unwrap()
        .to_owned();
    assert!(page.text.contains(&format!("value=\"{token}\"")));

    let form = |csrf: &str| {
        format!(
            "csrf={csrf}&tenant=tenant-a&email={}&password={PASSWORD}",
            a.admin_email.replace('@', "%40")
        )
    };
    let forged = app
        .send(
            Request::post("/login")
                .header("content-type", "application/x-www-form-urlencoded")
                .header("cookie", format!("sb_login_csrf={token}"))
                .body(Body::from(form("forged")))
                .unwrap(),
        )
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);

    let signed_in = app
        .send(
            Request::post("/login")
                .header("content-type", "application/x-www-form-urlencoded")
                .header("cookie", format!("sb_login_csrf={token}"))
                .body(Body::from(form(&token)))
                .unwrap(),
        )
        .await;
    assert_eq!(signed_in.status, StatusCode::SEE_OTHER);
    let session = signed_in
        .headers
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|c| c.starts_with("sb_session="))
        .unwrap();
    let cookie = session
        .split(';')
        .next()
        .unwrap()
        .strip_prefix("sb_session=")
        .unwrap()
        .to_owned();
    let home = app
        .send(
            Request::get("/")
                .header("cookie", format!("sb_session={cookie}"))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(
        home.headers["location"], "/overview",
        "tenant users land on the dashboard"
    );
    let overview = app
        .send(
            Request::get("/overview")
                .header("cookie", format!("sb_session={cookie}"))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert!(overview.text.contains("tenant-a"), "{}", overview.text);

    let logout_forged = app
        .send(
            Request::post("/logout")
                .header("content-type", "application/x-www-form-urlencoded")
                .header("cookie", format!("sb_session={cookie}"))
                .body(Body::from("csrf=forged"))
                .unwrap(),
        )
        .await;
    assert_eq!(logout_forged.status, StatusCode::FORBIDDEN);
    let still = app
        .call(
            "GET",
            "/api/v1/me",
            Auth::Session {
                cookie: &cookie,
                csrf: None,
            },
            None,
        )
        .await;
    assert_eq!(still.status, StatusCode::OK);
}

#[tokio::test]
async fn tokens_are_shown_once_stored_hashed_revocable_and_record_last_use() {
    let app = TestApp::new().await;
    let a = app.tenant("tenant-a").await;
    let made = app
        .post(
            "/api/v1/tokens",
            &a.admin_token,
            json!({"name": "ci", "role": "member"}),
        )
        .await;
    let secret = made.body["secret"].as_str().unwrap().to_owned();
    let id = made.body["token"]["id"].as_str().unwrap().to_owned();
    assert!(made.body["token"]["last_used_at"].is_null());

    assert_eq!(app.get("/api/v1/me", &secret).await.body["role"], "member");
    let listed = app.get("/api/v1/tokens", &a.admin_token).await;
    assert!(
        !listed.text.contains(&secret),
        "the list never shows a secret"
    );
    let entry = listed
        .body
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["id"] == id.as_str())
        .unwrap()
        .clone();
    assert!(entry["last_used_at"].as_i64().is_some());
    assert_eq!(app.count_rows("api_tokens", "tenant-a").await, 3);

    let revoked = app
        .call(
            "DELETE",
            &format!("/api/v1/tokens/{id}"),
            Auth::Bearer(&a.admin_token),
            None,
        )
        .await;
    assert_eq!(revoked.status, StatusCode::NO_CONTENT);
    assert_eq!(
        app.get("/api/v1/me", &secret).await.status,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn the_last_admin_cannot_be_removed_or_demoted() {
    let app = TestApp::new().await;
    let a = app.tenant("tenant-a").await;
    let admin_id = app.get("/api/v1/users", &a.admin_token).await.body[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let demote = app
        .call(
            "PATCH",
            &format!("/api/v1/users/{admin_id}"),
            Auth::Bearer(&a.admin_token),
            Some(json!({"role": "member"})),
        )
        .await;
    assert_eq!(demote.status, StatusCode::CONFLICT);
    let remove = app
        .call(
            "DELETE",
            &format!("/api/v1/users/{admin_id}"),
            Auth::Bearer(&a.admin_token),
            None,
        )
        .await;
    assert_eq!(remove.status, StatusCode::CONFLICT);
    let duplicate = app
        .post(
            "/api/v1/users",
            &a.admin_token,
            json!({"email": "ADMIN@tenant-a.test", "role": "member"}),
        )
        .await;
    assert_eq!(duplicate.status, StatusCode::CONFLICT);
}
