//! Opening the printed URL (`…/?token=<token>`): the token moves into an HttpOnly, SameSite=Strict
//! cookie and the browser goes on to the same page without it, so it stays out of the address
//! bar, history and bookmarks.

use axum::extract::Request;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::Credential;
use super::refusal::{Why, is_api, refuse};

/// `Some` when the request carries `token=` in its query: a redirect setting the cookie, or a
/// refusal for a wrong token. Only page loads (GET, not the API) log in this way.
pub(super) fn answer(credential: &Credential, request: &Request) -> Option<Response> {
    if request.method() != Method::GET || is_api(request.uri().path()) {
        return None;
    }
    let query = request.uri().query()?;
    let given = query.split('&').find_map(|pair| pair.strip_prefix("token="))?;
    let path = request.uri().path();
    if !credential.matches(given) {
        return Some(refuse(path, Why::WrongToken));
    }
    let rest: Vec<&str> = query.split('&').filter(|pair| !pair.starts_with("token=")).collect();
    let location = if rest.is_empty() { path.to_string() } else { format!("{path}?{}", rest.join("&")) };
    let cookie = format!("{}={}; Path=/; HttpOnly; SameSite=Strict", credential.cookie, credential.token);
    let mut response = StatusCode::SEE_OTHER.into_response();
    let headers = response.headers_mut();
    headers.insert(header::LOCATION, HeaderValue::from_str(&location).ok()?);
    headers.insert(header::SET_COOKIE, HeaderValue::from_str(&cookie).ok()?);
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Some(response)
}
