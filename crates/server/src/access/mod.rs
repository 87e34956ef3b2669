//! The credential every request needs (loopback is no trust boundary on a machine with other
//! users): `Authorization: Bearer <token>` from programs, or the cookie a browser got by opening
//! the printed URL once (`/?token=…`, as Jupyter does).

mod login;
mod refusal;

use axum::extract::{Request, State};
use axum::http::{HeaderMap, header};
use axum::middleware::Next;
use axum::response::Response;
use steward_core::credential::constant_time_eq;

/// The token this server accepts, and the cookie a browser keeps it in.
#[derive(Clone)]
pub struct Credential {
    token: std::sync::Arc<str>,
    cookie: std::sync::Arc<str>,
}

impl Credential {
    /// `port` names the cookie: cookies ignore ports, and two servers on one host would
    /// otherwise overwrite each other's.
    pub fn new(token: &str, port: u16) -> Self {
        Credential { token: token.into(), cookie: format!("steward_token_{port}").into() }
    }

    fn matches(&self, given: &str) -> bool {
        constant_time_eq(given.as_bytes(), self.token.as_bytes())
    }

    /// What the request presents: a bearer header wins over a cookie; `None` when neither.
    fn presented<'a>(&self, headers: &'a HeaderMap) -> Option<Presented<'a>> {
        if let Some(value) = headers.get(header::AUTHORIZATION) {
            let bearer = value.to_str().ok().and_then(|v| v.strip_prefix("Bearer "));
            return Some(bearer.map_or(Presented::Malformed, Presented::Token));
        }
        headers
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .filter_map(|pair| pair.trim().split_once('='))
            .find(|(name, _)| *name == &*self.cookie)
            .map(|(_, value)| Presented::Token(value))
    }
}

enum Presented<'a> {
    Token(&'a str),
    /// An `Authorization` header of another scheme.
    Malformed,
}

/// Lets through requests with the right credential; a browser opening `?token=…` gets the
/// cookie and a clean URL; anything else a 401 that says how to get in.
pub async fn require_credential(State(credential): State<Credential>, request: Request, next: Next) -> Response {
    if let Some(response) = login::answer(&credential, &request) {
        return response;
    }
    match credential.presented(request.headers()) {
        Some(Presented::Token(t)) if credential.matches(t) => next.run(request).await,
        Some(Presented::Token(_)) => refusal::refuse(request.uri().path(), refusal::Why::WrongToken),
        Some(Presented::Malformed) => refusal::refuse(request.uri().path(), refusal::Why::NotBearer),
        None => refusal::refuse(request.uri().path(), refusal::Why::Missing),
    }
}
