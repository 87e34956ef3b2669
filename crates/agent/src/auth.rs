//! The node token: every call carries `authorization: Bearer <token>`, loopback included.

use steward_core::credential::{WeakToken, check_token_strength, constant_time_eq, to_hex};
use tonic::metadata::MetadataValue;
use tonic::service::Interceptor;
use tonic::{Request, Status};

/// A fresh random token (32 bytes from the kernel, hex).
pub fn generate_token() -> std::io::Result<String> {
    use std::io::Read;
    let mut bytes = [0u8; 32];
    std::fs::File::open("/dev/urandom")?.read_exact(&mut bytes)?;
    Ok(to_hex(&bytes))
}

/// Server side: refuses calls without the right token.
#[derive(Clone)]
pub struct CheckToken {
    expected: std::sync::Arc<str>,
}

impl CheckToken {
    /// Refuses a weak token: an empty one would let any `authorization` header through.
    pub fn new(token: &str) -> Result<Self, WeakToken> {
        check_token_strength(token)?;
        Ok(CheckToken { expected: token.into() })
    }
}

impl Interceptor for CheckToken {
    fn call(&mut self, req: Request<()>) -> Result<Request<()>, Status> {
        let Some(value) = req.metadata().get("authorization") else {
            return Err(Status::unauthenticated("no token: every call needs `authorization: Bearer <token>`"));
        };
        let Some(given) = value.to_str().ok().and_then(|v| v.strip_prefix("Bearer ")) else {
            return Err(Status::unauthenticated("the authorization header must be `Bearer <token>`"));
        };
        if constant_time_eq(given.as_bytes(), self.expected.as_bytes()) {
            Ok(req)
        } else {
            Err(Status::unauthenticated("wrong token"))
        }
    }
}

/// Client side: adds the token to every call.
#[derive(Clone)]
pub struct AddToken {
    header: MetadataValue<tonic::metadata::Ascii>,
}

impl AddToken {
    pub fn new(token: &str) -> Result<Self, crate::AgentError> {
        let header = format!("Bearer {token}").parse().map_err(|_| crate::AgentError::Unauthenticated {
            address: String::new(),
            message: "the token has characters a header cannot carry".into(),
        })?;
        Ok(AddToken { header })
    }
}

impl Interceptor for AddToken {
    fn call(&mut self, mut req: Request<()>) -> Result<Request<()>, Status> {
        req.metadata_mut().insert("authorization", self.header.clone());
        Ok(req)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOKEN: &str = "s3cret-0123456789abcdef-token";

    fn call(header: Option<&str>) -> Result<(), Status> {
        let mut req = Request::new(());
        if let Some(h) = header {
            req.metadata_mut().insert("authorization", h.parse().unwrap());
        }
        CheckToken::new(TOKEN).unwrap().call(req).map(|_| ())
    }

    #[test]
    fn only_the_right_bearer_token_passes() {
        assert!(call(Some(&format!("Bearer {TOKEN}"))).is_ok());
        assert_eq!(call(None).unwrap_err().code(), tonic::Code::Unauthenticated);
        assert_eq!(call(Some(&format!("Bearer {}", &TOKEN[1..]))).unwrap_err().code(), tonic::Code::Unauthenticated);
        assert_eq!(call(Some(TOKEN)).unwrap_err().code(), tonic::Code::Unauthenticated);
        assert_eq!(call(Some("anything")).unwrap_err().code(), tonic::Code::Unauthenticated);
        assert_eq!(call(Some(&format!("bearer {TOKEN}"))).unwrap_err().code(), tonic::Code::Unauthenticated);
    }

    #[test]
    fn a_weak_token_cannot_guard_the_agent() {
        for weak in ["", "abc", "aaaaaaaaaaaaaaaaaaaa"] {
            assert!(CheckToken::new(weak).is_err(), "{weak:?}");
        }
    }

    #[test]
    fn tokens_are_long_and_distinct() {
        let (a, b) = (generate_token().unwrap(), generate_token().unwrap());
        assert_eq!(a.len(), 64);
        assert_ne!(a, b);
    }
}
