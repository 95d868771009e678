//! The notification worker: takes due items from the outbox, sends each — a webhook as signed
//! JSON, SMS and e-mail through the operator's HTTP message gateway — and reports every answer
//! back, so the application's retry policy decides what happens next. Several items go out at
//! once (`[notify] concurrency`), each with a timeout, so one dead receiver cannot hold up the
//! others. The worker sleeps until something is queued (the application rings it after the
//! commit) or the next retry is due.
//!
//! Headers of every POST: `Content-Type: application/json`, `X-Anfang-Event`,
//! `X-Anfang-Delivery` and `Idempotency-Key` (the same on every attempt), `X-Anfang-Timestamp`
//! (Unix seconds) and `X-Anfang-Signature: v1=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>`
//! (`docs/design/notifications.md`).

use crate::config::NotifySettings;
use anfang_app::App;
use anfang_app::notify::{Attempt, Message, MessageSender, Outgoing};
use anfang_domain::notify::ChannelKind;
use futures_util::StreamExt;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

/// Items taken from the outbox at a time.
const BATCH: i64 = 64;
/// The longest sleep when nothing is due (a safety net; commits ring the worker).
const IDLE: Duration = Duration::from_secs(30);

/// One signed POST: the receiver's answer as an [`Attempt`].
async fn post(
    client: &reqwest::Client,
    url: &str,
    secret: &str,
    event: &str,
    key: &str,
    body: String,
) -> Attempt {
    let timestamp = chrono::Utc::now().timestamp();
    let signature = anfang_app::notify::sign(secret, timestamp, body.as_bytes());
    let sent = client
        .post(url)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .header("X-Anfang-Event", event)
        .header("X-Anfang-Delivery", key)
        .header("Idempotency-Key", key)
        .header("X-Anfang-Timestamp", timestamp.to_string())
        .header("X-Anfang-Signature", signature)
        .body(body)
        .send()
        .await;
    match sent {
        Ok(response) => {
            let status = response.status();
            let retry_after_ms = response
                .headers()
                .get(reqwest::header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<i64>().ok())
                .map(|s| s.saturating_mul(1000));
            Attempt {
                status: Some(status.as_u16()),
                retry_after_ms,
                error: (!status.is_success()).then(|| status.to_string()),
            }
        }
        Err(e) => Attempt {
            status: None,
            retry_after_ms: None,
            error: Some(if e.is_timeout() {
                "timed out".to_string()
            } else if e.is_connect() {
                "could not connect".to_string()
            } else {
                // Without the URL: paths and queries often carry tokens, and this text is
                // logged and shown in the delivery log.
                e.without_url().to_string()
            }),
        },
    }
}

/// An HTTP message gateway (the operator's SMS or mail relay): one signed JSON POST per
/// message, `{"channel", "to", "subject", "text", "id"}`, judged like a webhook.
#[derive(Debug)]
pub struct HttpGateway {
    client: reqwest::Client,
    url: String,
    secret: String,
}

#[async_trait::async_trait]
impl MessageSender for HttpGateway {
    async fn send(&self, message: &Message) -> Attempt {
        let body = serde_json::json!({
            "channel": message.channel.as_str(),
            "to": message.to,
            "subject": message.subject,
            "text": message.text,
            "id": message.idempotency_key,
        });
        post(
            &self.client,
            &self.url,
            &self.secret,
            "message",
            &message.idempotency_key,
            body.to_string(),
        )
        .await
    }
}

/// Sends one item.
async fn deliver(
    client: &reqwest::Client,
    senders: &HashMap<ChannelKind, Arc<dyn MessageSender>>,
    item: &Outgoing,
) -> Attempt {
    match item.channel {
        ChannelKind::Webhook => {
            let Some(secret) = item.secret.as_deref() else {
                return Attempt {
                    status: Some(400),
                    retry_after_ms: None,
                    error: Some("webhook without a secret".into()),
                };
            };
            post(
                client,
                &item.address,
                secret,
                &item.event,
                &item.idempotency_key,
                item.payload.clone(),
            )
            .await
        }
        kind => {
            let Some(sender) = senders.get(&kind) else {
                // The sender was removed from the configuration: wait for it to come back.
                return Attempt {
                    status: Some(503),
                    retry_after_ms: Some(600_000),
                    error: Some(format!("no {kind} sender configured")),
                };
            };
            let payload: serde_json::Value = serde_json::from_str(&item.payload).unwrap_or_default();
            let message = Message {
                channel: kind,
                to: item.address.clone(),
                subject: payload["subject"].as_str().unwrap_or_default().to_string(),
                text: payload["text"].as_str().unwrap_or_default().to_string(),
                idempotency_key: item.idempotency_key.clone(),
            };
            sender.send(&message).await
        }
    }
}

/// Starts the worker.
pub fn spawn(app: &App, settings: &NotifySettings) -> anyhow::Result<()> {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(settings.timeout_secs.clamp(1, 120)))
        .connect_timeout(Duration::from_secs(5))
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("anfang/", env!("CARGO_PKG_VERSION")))
        .build()?;
    let mut senders: HashMap<ChannelKind, Arc<dyn MessageSender>> = HashMap::new();
    for kind in settings.senders()? {
        let url = match kind {
            ChannelKind::Sms => settings.sms_gateway.clone(),
            _ => settings.email_gateway.clone(),
        };
        if let (Some(url), Some(secret)) = (url, settings.gateway_secret.clone()) {
            let gateway = HttpGateway {
                client: client.clone(),
                url,
                secret,
            };
            senders.insert(kind, Arc::new(gateway));
        }
    }
    let app = app.clone();
    let concurrency = settings.concurrency.clamp(1, 64);
    tokio::spawn(async move { run(app, client, senders, concurrency).await });
    Ok(())
}

async fn run(
    app: App,
    client: reqwest::Client,
    senders: HashMap<ChannelKind, Arc<dyn MessageSender>>,
    concurrency: usize,
) {
    let signal = app.outbox_signal();
    loop {
        let items = match app.take_deliveries(BATCH).await {
            Ok(items) => items,
            Err(e) => {
                tracing::warn!(error = %e, "could not read the notification outbox");
                tokio::time::sleep(Duration::from_secs(5)).await;
                continue;
            }
        };
        let full = items.len() as i64 == BATCH;
        futures_util::stream::iter(items)
            .for_each_concurrent(concurrency, |item| {
                let (app, client, senders) = (&app, &client, &senders);
                async move {
                    let attempt = deliver(client, senders, &item).await;
                    if let Some(error) = &attempt.error {
                        tracing::info!(id = item.id, event = %item.event, error, "notification not delivered");
                    }
                    if let Err(e) = app.delivery_result(item.id, &attempt).await {
                        tracing::warn!(id = item.id, error = %e, "could not record a notification attempt");
                    }
                }
            })
            .await;
        if full {
            continue;
        }
        let wait = match app.next_delivery_due().await {
            Ok(Some(due)) => {
                let now = app.clock().now_ms();
                Duration::from_millis(u64::try_from(due - now).unwrap_or(0)).min(IDLE)
            }
            _ => IDLE,
        };
        if wait.is_zero() {
            // Due now but leased by another worker, or just retried: do not spin.
            tokio::time::sleep(Duration::from_millis(200)).await;
            continue;
        }
        tokio::select! {
            _ = signal.notified() => {}
            _ = tokio::time::sleep(wait) => {}
        }
    }
}
