//! Composition of the MQTT transport: devices authenticate with their code and secret, their
//! up messages go through the shared pipeline, and each ack (with its open/deny command) is
//! published back on the device's down topic.

use crate::config::MqttConfig;
use anfang_app::App;
use anfang_mqtt::{Access, BrokerConfig, ClientConfig, MqttTransport, QoS, TransportConfig};
use anfang_pipeline::{GatewayError, Pipeline, PipelineError};
use anyhow::Context;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

/// Compares two secrets without an early exit on the first differing byte.
fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Starts the configured MQTT transport (or nothing for `off`) and the loop that feeds the
/// pipeline. `listen` overrides `mqtt.listen` (the demo passes a free port). Returns a line
/// describing where devices connect.
pub async fn start(
    app: &App,
    pipeline: &Pipeline,
    config: &MqttConfig,
    listen: Option<SocketAddr>,
) -> anyhow::Result<Option<String>> {
    let transport_config = match config.mode.as_str() {
        "off" => return Ok(None),
        "embedded" => {
            let addr: SocketAddr = match listen {
                Some(addr) => addr,
                None => config
                    .listen
                    .parse()
                    .with_context(|| format!("mqtt.listen = {:?} is not an address:port", config.listen))?,
            };
            let auth_app = app.clone();
            let access = Access::new(move |_client_id: String, username: String, password: String| {
                let app = auth_app.clone();
                async move {
                    match app.device_credentials(&username).await {
                        Ok((_, secret)) => same_secret(&secret, &password),
                        Err(_) => false,
                    }
                }
            });
            TransportConfig::Embedded(BrokerConfig::new(addr, access))
        }
        "external" => {
            let (host, port) = config
                .broker
                .rsplit_once(':')
                .and_then(|(h, p)| p.parse::<u16>().ok().map(|p| (h.to_string(), p)))
                .with_context(|| format!("mqtt.broker = {:?} is not host:port", config.broker))?;
            let mut client = ClientConfig::new(host, port, format!("anfang-platform-{}", std::process::id()));
            client.username = config.username.clone();
            client.password = config.password.clone();
            TransportConfig::External(client)
        }
        other => anyhow::bail!("mqtt.mode = {other:?}: use embedded, external or off"),
    };
    let mut transport = MqttTransport::start(transport_config).await.map_err(|e| match e {
        anfang_mqtt::MqttError::Bind { addr, source } => {
            anyhow::anyhow!("cannot listen for MQTT on {addr} ({source}): change mqtt.listen (or set mqtt.mode = \"off\")")
        }
        other => anyhow::anyhow!("MQTT: {other}: check mqtt.broker"),
    })?;
    let where_ = match transport.local_addr() {
        Some(addr) => format!("mqtt://{addr} (embedded broker)"),
        None => format!("mqtt://{} (external broker)", config.broker),
    };
    let downlink = transport.downlink();
    // Queued commands (booth answers) go out as soon as they exist: poll the outbox.
    {
        let (app, downlink) = (app.clone(), downlink.clone());
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(std::time::Duration::from_millis(300));
            loop {
                tick.tick().await;
                let commands = match app.take_pending_commands(50).await {
                    Ok(c) => c,
                    Err(e) => {
                        tracing::warn!(error = %e, "could not read queued device commands");
                        continue;
                    }
                };
                for command in commands {
                    let message = anfang_pipeline::command_message(&command, app.clock().now_ms());
                    if let Err(e) = downlink
                        .publish_down(&command.device_code, message.encode(), QoS::AtLeastOnce)
                        .await
                    {
                        tracing::warn!(device = %command.device_code, error = %e, "could not send a queued command");
                    }
                }
            }
        });
    }
    let app = app.clone();
    let pipeline = pipeline.clone();
    // Whether a device is a barrier gate decides the open command's target; kinds do not change
    // once registered, so each device is looked up once.
    let barriers: Arc<Mutex<HashMap<String, bool>>> = Arc::default();
    tokio::spawn(async move {
        while let Some(up) = transport.recv_up().await {
            let (app, pipeline, downlink, barriers) =
                (app.clone(), pipeline.clone(), downlink.clone(), barriers.clone());
            // One task per message: a slow decision for one device does not hold up the others;
            // the pipeline's bounded queue answers busy when too many wait.
            tokio::spawn(async move {
                let known = barriers
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .get(&up.device_code)
                    .copied();
                let barrier = match known {
                    Some(b) => b,
                    None => {
                        let b = app
                            .device_credentials(&up.device_code)
                            .await
                            .is_ok_and(|(d, _)| d.kind == "barrier_gate");
                        barriers
                            .lock()
                            .unwrap_or_else(|e| e.into_inner())
                            .insert(up.device_code.clone(), b);
                        b
                    }
                };
                let ack = match pipeline.handle_up(&up.device_code, &up.payload, barrier).await {
                    Ok(ack) => ack,
                    Err(GatewayError::Pipeline(PipelineError::Busy)) => {
                        let Some(id) = anfang_protocol::peek_event_id(&up.payload) else {
                            return;
                        };
                        let mut ack = anfang_protocol::Ack::stored(id);
                        ack.status = anfang_protocol::AckStatus::Rejected;
                        ack.error = Some(anfang_protocol::AckError {
                            code: "busy".into(),
                            message: "the platform is busy; resend shortly".into(),
                        });
                        ack
                    }
                    Err(e) => {
                        tracing::warn!(device = %up.device_code, error = %e, "MQTT message refused");
                        return;
                    }
                };
                if let Err(e) = downlink
                    .publish_down(&up.device_code, ack.encode(), QoS::AtLeastOnce)
                    .await
                {
                    tracing::warn!(device = %up.device_code, error = %e, "could not send the ack");
                }
            });
        }
    });
    Ok(Some(where_))
}

#[cfg(test)]
mod tests {
    #[test]
    fn secrets_compare_exactly() {
        assert!(super::same_secret("abc", "abc"));
        assert!(!super::same_secret("abc", "abd"));
        assert!(!super::same_secret("abc", "abcd"));
    }
}
