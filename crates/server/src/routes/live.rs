//! `/api/live`: one JSON snapshot per WebSocket text message, as they are sampled. The tab
//! sends `{"visible": false|true}` on the same socket when it is hidden or shown again.

use axum::extract::State;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::response::Response;
use steward_api::Steward;

pub async fn live(State(s): State<Steward>, ws: WebSocketUpgrade) -> Response {
    ws.on_upgrade(move |socket| stream(s, socket))
}

async fn stream(steward: Steward, mut socket: WebSocket) {
    let mut feed = steward.subscribe();
    // Send the latest sample at once so a new view is not empty for a second.
    if let Some(snap) = steward.snapshot()
        && send(&mut socket, &snap).await.is_err()
    {
        return;
    }
    loop {
        tokio::select! {
            snap = feed.next() => match snap {
                Some(snap) => if send(&mut socket, &snap).await.is_err() { return },
                None => return,
            },
            incoming = socket.recv() => match incoming {
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return,
                Some(Ok(Message::Text(text))) => {
                    if let Ok(v) = serde_json::from_str::<Visibility>(&text) {
                        feed.set_visible(v.visible);
                    }
                }
                Some(Ok(_)) => {}
            },
        }
    }
}

/// What a browser tab says on its live feed when it is hidden or shown again.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Visibility {
    visible: bool,
}

async fn send(socket: &mut WebSocket, snap: &steward_api::Snapshot) -> Result<(), ()> {
    let text = serde_json::to_string(snap).map_err(|_| ())?;
    socket.send(Message::Text(text.into())).await.map_err(|_| ())
}
