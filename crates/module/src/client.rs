//! One call per RPC of the module API, token on each.

use steward_core::registration::{Ack, DirectiveOrder, Registration, UsageReport};
use steward_proto::module::module_service_client::ModuleServiceClient;
use steward_proto::module::*;
use tonic::metadata::{Ascii, MetadataValue};
use tonic::service::Interceptor;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;

use crate::{ModuleError, Target};

/// Adds `authorization: Bearer <token>` to every call.
#[derive(Clone)]
pub struct Bearer(MetadataValue<Ascii>);

impl Interceptor for Bearer {
    fn call(&mut self, mut req: tonic::Request<()>) -> Result<tonic::Request<()>, tonic::Status> {
        req.metadata_mut().insert("authorization", self.0.clone());
        Ok(req)
    }
}

#[derive(Clone)]
pub struct ModuleClient {
    grpc: ModuleServiceClient<InterceptedService<Channel, Bearer>>,
}

fn json<T: serde::Serialize>(v: &T) -> Vec<u8> {
    // The contract types are plain data: serializing them cannot fail.
    serde_json::to_vec(v).unwrap_or_default()
}

impl ModuleClient {
    /// Connects (the token is checked on the first call).
    pub async fn connect(target: &Target, token: &str) -> Result<ModuleClient, ModuleError> {
        let header = format!("Bearer {token}").parse().map_err(|_| ModuleError::BadToken)?;
        let channel = target.channel().await?;
        Ok(ModuleClient { grpc: ModuleServiceClient::with_interceptor(channel, Bearer(header)) })
    }

    /// Registers (again); answers the node it is registered on.
    pub async fn register(&self, registration: &Registration) -> Result<String, ModuleError> {
        let req = RegisterRequest { registration_json: json(registration) };
        Ok(self.grpc.clone().register(req).await?.into_inner().node)
    }

    pub async fn report(&self, module: &str, report: &UsageReport) -> Result<(), ModuleError> {
        let req = ReportRequest { module: module.to_string(), report_json: json(report) };
        self.grpc.clone().report(req).await?;
        Ok(())
    }

    /// The module's directives: those not yet acknowledged, then each new one.
    pub async fn watch_directives(&self, module: &str) -> Result<Directives, ModuleError> {
        let req = WatchDirectivesRequest { module: module.to_string() };
        Ok(Directives(self.grpc.clone().watch_directives(req).await?.into_inner()))
    }

    pub async fn ack(&self, module: &str, directive_id: u64, ack: &Ack) -> Result<(), ModuleError> {
        let req = AckRequest { module: module.to_string(), directive_id, ack_json: json(ack) };
        self.grpc.clone().ack(req).await?;
        Ok(())
    }

    pub async fn deregister(&self, module: &str) -> Result<(), ModuleError> {
        self.grpc.clone().deregister(DeregisterRequest { module: module.to_string() }).await?;
        Ok(())
    }
}

/// A directive stream.
pub struct Directives(tonic::Streaming<DirectiveMessage>);

impl Directives {
    /// The next directive; `None` when Steward ended the stream (the module deregistered).
    pub async fn next(&mut self) -> Result<Option<DirectiveOrder>, ModuleError> {
        match self.0.message().await? {
            Some(m) => serde_json::from_slice(&m.order_json).map(Some).map_err(|e| ModuleError::Decode(e.to_string())),
            None => Ok(None),
        }
    }
}
