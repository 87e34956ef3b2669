//! `stewardctl serve` as a real process wants its access token on every request; the token
//! lives in a 0600 file that `stewardctl`'s client commands find by themselves, and the printed
//! URL carries it once for the browser.

use std::os::unix::fs::PermissionsExt;
use std::process::Command;

use steward_system_tests::{Server, binary};

fn status(server: &Server, path: &str, authorization: Option<&str>) -> u16 {
    let agent = ureq::Agent::config_builder().http_status_as_error(false).build().new_agent();
    let mut req = agent.post(format!("{}{path}", server.url)).content_type("application/json");
    if let Some(a) = authorization {
        req = req.header("authorization", a);
    }
    req.send("{}").unwrap().status().as_u16()
}

fn stewardctl(server: &Server, args: &[&str], token_file: &std::path::Path) -> std::process::Output {
    Command::new(binary("stewardctl"))
        .args(args)
        .args(["--url", &server.url])
        .env("STEWARD_TOKEN_FILE", token_file)
        .env_remove("STEWARD_TOKEN")
        .output()
        .unwrap()
}

#[test]
fn requests_without_the_token_are_refused_and_the_cli_finds_it_by_itself() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&dir.path().join("s.db")).unwrap();
    assert_eq!(std::fs::metadata(&server.token_file).unwrap().permissions().mode() & 0o777, 0o600);
    assert_eq!(std::fs::read_to_string(&server.token_file).unwrap().trim(), server.token);

    // Running work without a credential, or with a wrong one, is refused.
    assert_eq!(status(&server, "/resources/distributed", None), 401);
    assert_eq!(status(&server, "/resources/distributed", Some("Bearer wrong-token-0123456789abcdef")), 401);
    assert_eq!(status(&server, "/resources/allocate", Some(&server.token)), 401, "the scheme is required");
    assert_ne!(status(&server, "/resources/allocate", Some(&server.bearer())), 401);

    // The client commands read the token file; a wrong token is refused with the way in.
    let listed = stewardctl(&server, &["node", "list"], &server.token_file);
    assert!(listed.status.success(), "{}", String::from_utf8_lossy(&listed.stderr));
    let refused = stewardctl(&server, &["node", "list", "--token", "wrong-token-0123456789abcdef"], &server.token_file);
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(!refused.status.success() && said.contains("401") && said.contains("stewardctl url"), "{said}");

    // `stewardctl url` prints what `serve` printed.
    let url = stewardctl(&server, &["url"], &server.token_file);
    assert_eq!(String::from_utf8_lossy(&url.stdout).trim(), format!("{}/?token={}", server.url, server.token));
}

#[test]
fn the_token_survives_a_restart_and_rotates_when_its_file_is_deleted() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("s.db");
    let first = Server::start(&db).unwrap();
    let token = first.token.clone();
    first.kill9().unwrap();
    let second = Server::start(&db).unwrap();
    assert_eq!(second.token, token);
    std::fs::remove_file(&second.token_file).unwrap();
    second.kill9().unwrap();
    let third = Server::start(&db).unwrap();
    assert_ne!(third.token, token);
    assert_eq!(status(&third, "/resources/allocate", Some(&format!("Bearer {token}"))), 401);
}
