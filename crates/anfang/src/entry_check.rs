//! The HTTP client of the external status check at entry (`[entry_check]`): one POST per
//! question, `{"id_hash", "community", "at"}` with an optional bearer token, answered by
//! `{"result": "pass" | "warn" | "deny"}` (also `status` or `color`, and health-code colours
//! `green`/`yellow`/`red`, are read). Anything else — a non-2xx status, a body without a
//! verdict, no answer — is "no answer", and the gate opens or stays shut as configured. The
//! timeout, the cache and the hash live in the application (`anfang_app::entry_check`).

use crate::config::EntryCheckConfig;
use anfang_app::entry_check::{EntryCheck, EntryCheckSettings, StatusService};
use anfang_domain::access::CheckVerdict;
use std::sync::Arc;
use std::time::Duration;

/// The status service over HTTP.
#[derive(Debug)]
pub struct HttpStatus {
    client: reqwest::Client,
    url: String,
    token: Option<String>,
}

#[async_trait::async_trait]
impl StatusService for HttpStatus {
    async fn status(&self, id_hash: &str, community_code: &str) -> Result<CheckVerdict, String> {
        let body = serde_json::json!({
            "id_hash": id_hash,
            "community": community_code,
            "at": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        });
        let mut request = self.client.post(&self.url).json(&body);
        if let Some(token) = &self.token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.map_err(|e| e.to_string())?;
        if !response.status().is_success() {
            return Err(format!("the status service answered {}", response.status()));
        }
        let answer: serde_json::Value = response.json().await.map_err(|e| e.to_string())?;
        let verdict = ["result", "status", "color"]
            .iter()
            .find_map(|k| answer[*k].as_str())
            .map(CheckVerdict::parse)
            .unwrap_or(CheckVerdict::Unavailable);
        if verdict == CheckVerdict::Unavailable {
            return Err(format!("no verdict in the answer: {answer}"));
        }
        Ok(verdict)
    }
}

/// The configured check, if `[entry_check] url` is set.
pub fn from_config(config: &EntryCheckConfig) -> anyhow::Result<Option<EntryCheck>> {
    let Some(url) = &config.url else {
        return Ok(None);
    };
    anfang_domain::notify::check_address(anfang_domain::notify::ChannelKind::Webhook, url)
        .map_err(|e| anyhow::anyhow!("[entry_check] url: {}", e.message))?;
    let key = config
        .hash_key
        .as_deref()
        .map(hex::decode)
        .transpose()
        .map_err(|_| anyhow::anyhow!("[entry_check] hash_key is hexadecimal"))?
        .filter(|k| k.len() >= 16)
        .ok_or_else(|| {
            anyhow::anyhow!("[entry_check] hash_key (16 bytes or more, in hex) is required with a url")
        })?;
    let fail_open = match config.on_timeout.as_str() {
        "open" => true,
        "closed" => false,
        other => anyhow::bail!("[entry_check] on_timeout is open or closed, not {other}"),
    };
    let timeout = Duration::from_millis(config.timeout_ms.clamp(50, 10_000));
    let client = reqwest::Client::builder()
        .timeout(timeout)
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let service = HttpStatus {
        client,
        url: url.clone(),
        token: config.token.clone(),
    };
    Ok(Some(EntryCheck::new(
        Arc::new(service),
        EntryCheckSettings {
            hash_key: key,
            fail_open,
            timeout,
            cache_ttl: Duration::from_secs(config.cache_secs),
        },
    )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::{HeaderMap, StatusCode};

    /// A status service on a free port: the answer depends on the hash's first digit.
    async fn service() -> String {
        let app = axum::Router::new().route(
            "/status",
            axum::routing::post(
                |headers: HeaderMap, body: axum::Json<serde_json::Value>| async move {
                    if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some("Bearer t0ken") {
                        return (StatusCode::UNAUTHORIZED, axum::Json(serde_json::json!({})));
                    }
                    let hash = body["id_hash"].as_str().unwrap_or_default().to_string();
                    assert_eq!(body["community"], "370323001001001");
                    let answer = match hash.as_str() {
                        "a" => serde_json::json!({"result": "pass"}),
                        "b" => serde_json::json!({"color": "yellow"}),
                        "c" => serde_json::json!({"status": "red"}),
                        _ => serde_json::json!({"message": "unknown"}),
                    };
                    (StatusCode::OK, axum::Json(answer))
                },
            ),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/status", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        url
    }

    #[tokio::test]
    async fn answers_are_read_over_real_http_and_bad_ones_are_no_answer() {
        let url = service().await;
        let http = |token: Option<&str>| HttpStatus {
            client: reqwest::Client::new(),
            url: url.clone(),
            token: token.map(str::to_string),
        };
        let ok = http(Some("t0ken"));
        let community = "370323001001001";
        assert_eq!(ok.status("a", community).await, Ok(CheckVerdict::Pass));
        assert_eq!(ok.status("b", community).await, Ok(CheckVerdict::Warn));
        assert_eq!(ok.status("c", community).await, Ok(CheckVerdict::Deny));
        assert!(ok.status("z", community).await.is_err());
        assert!(
            http(None).status("a", community).await.is_err(),
            "401 is no answer"
        );
        let nobody = HttpStatus {
            client: reqwest::Client::new(),
            url: format!("http://127.0.0.1:{}/status", 1),
            token: None,
        };
        assert!(nobody.status("a", community).await.is_err());
    }

    #[test]
    fn the_configuration_is_checked() {
        let base = EntryCheckConfig {
            url: Some("https://status.example.cn/check".into()),
            hash_key: Some("00112233445566778899aabbccddeeff".into()),
            ..EntryCheckConfig::default()
        };
        assert!(from_config(&EntryCheckConfig::default()).unwrap().is_none());
        assert!(from_config(&base).unwrap().is_some());
        let no_key = EntryCheckConfig {
            hash_key: None,
            ..base.clone()
        };
        assert!(from_config(&no_key).is_err());
        let short = EntryCheckConfig {
            hash_key: Some("0011".into()),
            ..base.clone()
        };
        assert!(from_config(&short).is_err());
        let odd = EntryCheckConfig {
            on_timeout: "maybe".into(),
            ..base.clone()
        };
        assert!(from_config(&odd).is_err());
        let plain = EntryCheckConfig {
            url: Some("http://status.example.cn/check".into()),
            ..base
        };
        assert!(
            from_config(&plain).is_err(),
            "plain http only on the local network"
        );
    }
}
