//! The agent's self-signed certificate and the client side that pins it by fingerprint, as SSH
//! pins host keys: no certificate authority to run, and a changed key is refused, not trusted.

use std::path::Path;
use std::sync::{Arc, Mutex};

use sha2::{Digest, Sha256};
use steward_core::credential::normalize_fingerprint;
use tokio_rustls::rustls;
use tokio_rustls::rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use tokio_rustls::rustls::crypto::{CryptoProvider, verify_tls12_signature, verify_tls13_signature};
use tokio_rustls::rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use tokio_rustls::rustls::{DigitallySignedStruct, SignatureScheme};

use crate::AgentError;

/// The name the certificate is issued to and the client asks for; identity comes from the pin.
pub const SERVER_NAME: &str = "steward-agent";

/// A PEM certificate and key.
#[derive(Clone)]
pub struct Identity {
    pub cert_pem: String,
    pub key_pem: String,
    pub fingerprint: String,
}

/// `sha256:<64 hex digits>` of a DER certificate.
pub fn fingerprint(der: &[u8]) -> String {
    let digest = Sha256::digest(der);
    format!("sha256:{}", steward_core::credential::to_hex(&digest))
}

/// Fingerprints compare in their canonical form (any case, `:` separators, optional `sha256:`
/// prefix); a malformed one matches nothing.
pub fn same_fingerprint(a: &str, b: &str) -> bool {
    matches!((normalize_fingerprint(a), normalize_fingerprint(b)), (Ok(a), Ok(b)) if a == b)
}

/// Loads `cert.pem`/`key.pem` from `dir`, or generates them; `true` when they are new.
pub fn load_or_generate(dir: &Path) -> Result<(Identity, bool), AgentError> {
    let state = |source| AgentError::State { path: dir.to_owned(), source };
    let (cert_path, key_path) = (dir.join("cert.pem"), dir.join("key.pem"));
    if cert_path.exists() && key_path.exists() {
        let cert_pem = std::fs::read_to_string(&cert_path).map_err(state)?;
        let key_pem = std::fs::read_to_string(&key_path).map_err(state)?;
        let der = pem_to_der(&cert_pem)?;
        return Ok((Identity { fingerprint: fingerprint(&der), cert_pem, key_pem }, false));
    }
    let key = rcgen::KeyPair::generate().map_err(|e| AgentError::Certificate(e.to_string()))?;
    let params = rcgen::CertificateParams::new(vec![SERVER_NAME.to_string()])
        .map_err(|e| AgentError::Certificate(e.to_string()))?;
    let cert = params.self_signed(&key).map_err(|e| AgentError::Certificate(e.to_string()))?;
    let identity =
        Identity { fingerprint: fingerprint(cert.der()), cert_pem: cert.pem(), key_pem: key.serialize_pem() };
    std::fs::create_dir_all(dir).map_err(state)?;
    write_private(&key_path, &identity.key_pem).map_err(state)?;
    std::fs::write(&cert_path, &identity.cert_pem).map_err(state)?;
    Ok((identity, true))
}

pub(crate) fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new().write(true).create(true).truncate(true).mode(0o600).open(path)?;
    f.write_all(text.as_bytes())
}

fn pem_to_der(pem: &str) -> Result<Vec<u8>, AgentError> {
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    decode_base64(&body).ok_or_else(|| AgentError::Certificate("cert.pem is not a PEM certificate".into()))
}

fn decode_base64(s: &str) -> Option<Vec<u8>> {
    let val = |c: u8| -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32)
    };
    let bytes: Vec<u8> = s.bytes().filter(|c| !c.is_ascii_whitespace() && *c != b'=').collect();
    let mut out = Vec::with_capacity(bytes.len() * 3 / 4);
    for chunk in bytes.chunks(4) {
        let mut n = 0u32;
        for (i, c) in chunk.iter().enumerate() {
            n |= val(*c)? << (18 - 6 * i);
        }
        let take = chunk.len().saturating_sub(1);
        out.extend_from_slice(&n.to_be_bytes()[1..1 + take]);
    }
    Some(out)
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// What the client does with the certificate it is shown.
#[derive(Debug)]
enum Pin {
    /// Accept only this fingerprint.
    Expect(String),
    /// Accept anything and remember what was seen (the "probe" before the user confirms).
    Record(Mutex<Option<String>>),
}

#[derive(Debug)]
struct PinnedVerifier {
    pin: Pin,
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for PinnedVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let actual = fingerprint(end_entity);
        match &self.pin {
            Pin::Expect(expected) if same_fingerprint(expected, &actual) => Ok(ServerCertVerified::assertion()),
            Pin::Expect(expected) => {
                Err(rustls::Error::General(format!("fingerprint mismatch: expected {expected}, got {actual}")))
            }
            Pin::Record(seen) => {
                *seen.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = Some(actual);
                Ok(ServerCertVerified::assertion())
            }
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider.signature_verification_algorithms.supported_schemes()
    }
}

fn client_config(pin: Pin) -> (Arc<rustls::ClientConfig>, Arc<PinnedVerifier>) {
    let provider = provider();
    let verifier = Arc::new(PinnedVerifier { pin, provider: provider.clone() });
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("ring supports the default protocol versions")
        .dangerous()
        .with_custom_certificate_verifier(verifier.clone())
        .with_no_client_auth();
    config.alpn_protocols = vec![b"h2".to_vec()];
    (Arc::new(config), verifier)
}

/// A client config that accepts only the certificate with `fingerprint`.
pub fn pinned_client_config(fingerprint: &str) -> Arc<rustls::ClientConfig> {
    client_config(Pin::Expect(fingerprint.to_string())).0
}

/// Connects to `address` over TLS and returns the certificate's fingerprint, trusting nothing.
pub async fn probe_fingerprint(address: &str) -> Result<String, AgentError> {
    let (config, verifier) = client_config(Pin::Record(Mutex::new(None)));
    let unreachable = |reason: String| AgentError::Unreachable { address: address.to_string(), reason };
    let tcp = tokio::time::timeout(std::time::Duration::from_secs(5), tokio::net::TcpStream::connect(address))
        .await
        .map_err(|_| unreachable("timed out".into()))?
        .map_err(|e| unreachable(e.to_string()))?;
    let name = ServerName::try_from(SERVER_NAME).expect("static server name");
    let handshake = tokio_rustls::TlsConnector::from(config).connect(name, tcp);
    tokio::time::timeout(std::time::Duration::from_secs(5), handshake)
        .await
        .map_err(|_| unreachable("TLS handshake timed out".into()))?
        .map_err(|e| unreachable(format!("TLS handshake failed ({e}): is it a stewardd with TLS on?")))?;
    let Pin::Record(seen) = &verifier.pin else { unreachable!() };
    let seen = seen.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone();
    seen.ok_or_else(|| unreachable("no certificate presented".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_identity_is_reloaded_with_the_same_fingerprint() {
        let dir = tempfile::tempdir().unwrap();
        let (a, new_a) = load_or_generate(dir.path()).unwrap();
        let (b, new_b) = load_or_generate(dir.path()).unwrap();
        assert!(new_a && !new_b);
        assert_eq!(a.fingerprint, b.fingerprint);
        assert!(a.fingerprint.starts_with("sha256:") && a.fingerprint.len() == 7 + 64);
    }

    #[test]
    fn fingerprints_compare_in_their_canonical_form() {
        let hex = "ab".repeat(31) + "cd";
        let colons: Vec<&str> = (0..32).map(|i| &hex[2 * i..2 * i + 2]).collect();
        assert!(same_fingerprint(&format!("SHA256:{}", hex.to_uppercase()), &hex));
        assert!(same_fingerprint(&colons.join(":"), &format!("sha256:{hex}")));
        assert!(!same_fingerprint(&format!("sha256:{}ce", &hex[..62]), &format!("sha256:{hex}")));
        assert!(!same_fingerprint("sha256:abcd", "abcd"), "malformed ones match nothing");
    }
}
