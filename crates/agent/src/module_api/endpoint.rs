//! `ModuleService` over any [`ModuleHub`]: decodes the JSON payloads, runs the hub's (possibly
//! blocking) calls off the async threads, and streams directives.

use std::pin::Pin;
use std::sync::Arc;

use serde::de::DeserializeOwned;
use steward_proto::module::module_service_server::ModuleService;
use steward_proto::module::*;
use tokio_stream::Stream;
use tonic::{Request, Response, Status};

use super::{HubError, ModuleHub};

/// The gRPC face of a hub.
#[derive(Clone)]
pub struct ModuleEndpoint {
    hub: Arc<dyn ModuleHub>,
}

impl ModuleEndpoint {
    pub fn new(hub: Arc<dyn ModuleHub>) -> Self {
        ModuleEndpoint { hub }
    }

    /// Runs a hub call on the blocking pool: the control center's hub writes to SQLite.
    async fn call<T: Send + 'static>(
        &self,
        f: impl FnOnce(&dyn ModuleHub) -> Result<T, HubError> + Send + 'static,
    ) -> Result<T, Status> {
        let hub = self.hub.clone();
        tokio::task::spawn_blocking(move || f(&*hub))
            .await
            .map_err(|e| Status::internal(format!("module call failed: {e}")))?
            .map_err(Status::from)
    }
}

fn decode<T: DeserializeOwned>(what: &str, json: &[u8]) -> Result<T, Status> {
    serde_json::from_slice(json).map_err(|e| Status::invalid_argument(format!("{what} is not usable JSON: {e}")))
}

type DirectiveStream = Pin<Box<dyn Stream<Item = Result<DirectiveMessage, Status>> + Send>>;

#[tonic::async_trait]
impl ModuleService for ModuleEndpoint {
    async fn register(&self, req: Request<RegisterRequest>) -> Result<Response<RegisterReply>, Status> {
        let registration = decode("registration_json", &req.into_inner().registration_json)?;
        let node = self.call(move |hub| hub.register(registration)).await?;
        Ok(Response::new(RegisterReply { node }))
    }

    async fn report(&self, req: Request<ReportRequest>) -> Result<Response<ReportReply>, Status> {
        let req = req.into_inner();
        let report = decode("report_json", &req.report_json)?;
        self.call(move |hub| hub.report(&req.module, report)).await?;
        Ok(Response::new(ReportReply {}))
    }

    type WatchDirectivesStream = DirectiveStream;

    async fn watch_directives(
        &self,
        req: Request<WatchDirectivesRequest>,
    ) -> Result<Response<Self::WatchDirectivesStream>, Status> {
        let module = req.into_inner().module;
        let mut orders = self.hub.watch(&module)?;
        let stream = async_stream(move |tx| async move {
            while let Some(order) = orders.recv().await {
                let Ok(order_json) = serde_json::to_vec(&order) else { continue };
                if tx.send(Ok(DirectiveMessage { order_json })).await.is_err() {
                    return; // the module hung up
                }
            }
        });
        Ok(Response::new(stream))
    }

    async fn ack(&self, req: Request<AckRequest>) -> Result<Response<AckReply>, Status> {
        let req = req.into_inner();
        let ack = decode("ack_json", &req.ack_json)?;
        self.call(move |hub| hub.ack(&req.module, req.directive_id, ack)).await?;
        Ok(Response::new(AckReply {}))
    }

    async fn deregister(&self, req: Request<DeregisterRequest>) -> Result<Response<DeregisterReply>, Status> {
        let module = req.into_inner().module;
        self.call(move |hub| hub.deregister(&module)).await?;
        Ok(Response::new(DeregisterReply {}))
    }
}

/// A response stream fed by `fill` on a task of its own.
fn async_stream<F, Fut>(fill: F) -> DirectiveStream
where
    F: FnOnce(tokio::sync::mpsc::Sender<Result<DirectiveMessage, Status>>) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let (tx, rx) = tokio::sync::mpsc::channel(16);
    tokio::spawn(fill(tx));
    Box::pin(tokio_stream::wrappers::ReceiverStream::new(rx))
}
