//! The node token: every call carries `authorization: Bearer <token>`, loopback included.

use tonic::metadata::MetadataValue;
use tonic::service::Interceptor;
use tonic::{Request, Status};

/// A fresh random token (32 bytes from the kernel, hex).
pub fn generate_token() -> std::io::Result<String> {
    use std::io::Read;
    let mut bytes = [0u8; 32];
    std::fs::File::open("/dev/urandom")?.read_exact(&mut bytes)?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// Server side: refuses calls without the right token.
#[derive(Clone)]
pub struct CheckToken {
    expected: std::sync::Arc<str>,
}

impl CheckToken {
    pub fn new(token: &str) -> Self {
        CheckToken { expected: token.into() }
    }
}

impl Interceptor for CheckToken {
    fn call(&mut self, req: Request<()>) -> Result<Request<()>, Status> {
        let Some(value) = req.metadata().get("authorization") else {
            return Err(Status::unauthenticated("no token: every call needs `authorization: Bearer <token>`"));
        };
        let given = value.to_str().unwrap_or("").strip_prefix("Bearer ").unwrap_or("");
        if constant_time_eq(given.as_bytes(), self.expected.as_bytes()) {
            Ok(req)
        } else {
            Err(Status::unauthenticated("wrong token"))
        }
    }
}

/// Compares without an early exit, so timing does not tell how much of a guess was right.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
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

    fn call(header: Option<&str>) -> Result<(), Status> {
        let mut req = Request::new(());
        if let Some(h) = header {
            req.metadata_mut().insert("authorization", h.parse().unwrap());
        }
        CheckToken::new("s3cret").call(req).map(|_| ())
    }

    #[test]
    fn only_the_right_bearer_token_passes() {
        assert!(call(Some("Bearer s3cret")).is_ok());
        assert_eq!(call(None).unwrap_err().code(), tonic::Code::Unauthenticated);
        assert_eq!(call(Some("Bearer s3cre")).unwrap_err().code(), tonic::Code::Unauthenticated);
        assert_eq!(call(Some("s3cret")).unwrap_err().code(), tonic::Code::Unauthenticated);
    }

    #[test]
    fn tokens_are_long_and_distinct() {
        let (a, b) = (generate_token().unwrap(), generate_token().unwrap());
        assert_eq!(a.len(), 64);
        assert_ne!(a, b);
    }
}
