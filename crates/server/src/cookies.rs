//! The two cookies the server sets, read and written by hand: a `Cookie` header split and two
//! `Set-Cookie` formats do not need a cookie-jar crate.

use http::HeaderMap;
use http::header::COOKIE;

/// The session credential.
pub const SESSION: &str = "sb_session";
/// The login form's double-submit CSRF token.
pub const LOGIN_CSRF: &str = "sb_login_csrf";

pub fn get(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.to_owned())
}

/// Whether this request reached us over TLS (directly configured or via a proxy).
pub fn secure(headers: &HeaderMap, behind_tls: bool) -> bool {
    behind_tls
        || headers
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|proto| proto.eq_ignore_ascii_case("https"))
}

/// `Set-Cookie` for a value; `max_age_secs = 0` clears it.
pub fn set(name: &str, value: &str, max_age_secs: i64, secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age_secs}{secure}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_one_cookie_among_many() {
        let mut headers = HeaderMap::new();
        headers.insert(COOKIE, "a=1; sb_session=sbs_x; b=2".parse().unwrap());
        assert_eq!(get(&headers, SESSION).as_deref(), Some("sbs_x"));
        assert_eq!(get(&headers, "missing"), None);
    }

    #[test]
    fn session_cookies_are_http_only_and_lax() {
        let cookie = set(SESSION, "v", 60, true);
        assert!(cookie.contains("HttpOnly"));
        assert!(cookie.contains("SameSite=Lax"));
        assert!(cookie.ends_with("; Secure"));
        assert!(!set(SESSION, "v", 60, false).contains("Secure"));
    }
}
