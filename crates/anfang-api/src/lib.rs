//! Anfang's HTTP API: REST JSON under `/api/v1` (axum), its OpenAPI 3 document at
//! `/api/v1/openapi.json`, Swagger UI at `/api/docs`, `/healthz`, Prometheus `/metrics`, and
//! the console's static files at `/`.
//!
//! Invariant: this is the only crate that knows HTTP and JSON; handlers parse, call one
//! [`App`] use-case and convert its result; no handler talks to storage.
//! Invariant: bad input never yields a 500: malformed JSON, wrong types, oversized bodies and
//! bad path or query values are answered with precise 4xx codes and counted in `/metrics`.

mod auth;
mod device_push;
pub mod dto;
mod error;
pub mod fees;
mod handlers;
mod openapi;
pub mod programme;
pub mod trajectory;
pub mod video;
pub mod video_live;
pub mod viid;

pub use error::{ApiError, ErrorBody, status_of};
pub use openapi::ApiDoc;

use anfang_app::App;
use axum::Router;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use std::sync::{Arc, OnceLock};

/// Largest JSON body accepted (bytes).
pub const JSON_BODY_LIMIT: usize = 256 * 1024;
/// Largest spreadsheet upload accepted (bytes).
pub const UPLOAD_LIMIT: usize = 16 * 1024 * 1024;

/// Static console files, looked up by path (without the leading `/`).
pub trait ConsoleAssets: Send + Sync {
    /// The file's bytes and content type, if it exists.
    fn get(&self, path: &str) -> Option<(std::borrow::Cow<'static, [u8]>, &'static str)>;
}

/// What handlers share.
#[derive(Clone)]
pub struct ApiState {
    /// The application.
    pub app: App,
    /// Renders the metrics registry.
    metrics: PrometheusHandle,
    /// The console, when built.
    console: Option<Arc<dyn ConsoleAssets>>,
    /// The event pipeline devices' messages go through.
    pub pipeline: anfang_pipeline::Pipeline,
    /// The GA/T 1400 (视图库) server side.
    pub viid: Arc<viid::ViidServer>,
}

/// The process-wide metrics recorder (installed once, shared by every router in the process).
pub fn metrics_handle() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new().build_recorder();
            let handle = recorder.handle();
            if metrics::set_global_recorder(recorder).is_err() {
                tracing::warn!("a metrics recorder was already installed; /metrics may be empty");
            }
            handle
        })
        .clone()
}

/// The whole HTTP surface, with its own event pipeline (must be called inside a Tokio runtime).
pub fn router(app: App, console: Option<Arc<dyn ConsoleAssets>>) -> Router {
    let pipeline = anfang_pipeline::Pipeline::start(app.clone(), anfang_pipeline::PipelineConfig::default());
    router_with(app, console, pipeline)
}

/// The HTTP surface over a pipeline shared with other transports (MQTT).
pub fn router_with(
    app: App,
    console: Option<Arc<dyn ConsoleAssets>>,
    pipeline: anfang_pipeline::Pipeline,
) -> Router {
    router_limited(app, console, pipeline, viid::DEFAULT_UPLOADS_IN_FLIGHT)
}

/// The same, storing at most `viid_uploads` GA/T 1400 upload batches at once (beyond it,
/// uploads are answered 503 with Retry-After).
pub fn router_limited(
    app: App,
    console: Option<Arc<dyn ConsoleAssets>>,
    pipeline: anfang_pipeline::Pipeline,
    viid_uploads: usize,
) -> Router {
    let state = ApiState {
        app,
        metrics: metrics_handle(),
        console,
        pipeline,
        viid: viid::ViidServer::with_upload_limit(viid::DEFAULT_SERVER_ID, viid_uploads),
    };
    let api = handlers::routes()
        .merge(programme::routes())
        .merge(trajectory::routes())
        .merge(fees::routes())
        .merge(video_live::routes())
        .merge(video::routes())
        .merge(handlers::upload_routes().layer(DefaultBodyLimit::max(UPLOAD_LIMIT)))
        .merge(programme::upload_routes().layer(DefaultBodyLimit::max(programme::ATTACHMENT_BODY_LIMIT)))
        .merge(
            Router::new()
                .route(
                    "/device-push/events",
                    axum::routing::post(device_push::device_push),
                )
                .route("/device-push/faces/{person_ref}", get(device_push::device_face))
                .layer(DefaultBodyLimit::max(device_push::PUSH_BODY_LIMIT)),
        )
        .route("/openapi.json", get(openapi::serve));
    let swagger = swagger_ui_dist::generate_routes(swagger_ui_dist::ApiDefinition {
        uri_prefix: "/api/docs",
        api_definition: swagger_ui_dist::OpenApiSource::Uri("/api/v1/openapi.json"),
        title: Some("Anfang API"),
    });
    Router::new()
        .nest("/api/v1", api)
        .merge(viid::routes())
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .fallback(serve_console)
        .with_state(state)
        .merge(swagger)
        .layer(DefaultBodyLimit::max(JSON_BODY_LIMIT))
        .layer(middleware::from_fn(count_requests))
}

/// Counts every answer by status class and route outcome.
async fn count_requests(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    let status = response.status().as_u16().to_string();
    metrics::counter!("anfang_http_responses_total", "status" => status).increment(1);
    response
}

async fn healthz(State(state): State<ApiState>) -> Response {
    match state.app.store().read().await {
        Ok(_) => (StatusCode::OK, "ok").into_response(),
        Err(e) => (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("storage unavailable: {e}"),
        )
            .into_response(),
    }
}

async fn metrics(State(state): State<ApiState>) -> Response {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.metrics.render(),
    )
        .into_response()
}

/// Serves the console's files; unknown paths that are not API paths get `index.html` so that
/// client-side routes survive a reload.
async fn serve_console(State(state): State<ApiState>, request: Request) -> Response {
    let path = request.uri().path().trim_start_matches('/');
    if path.starts_with("api/") {
        return ApiError::new(
            StatusCode::NOT_FOUND,
            "no_such_route",
            format!("no API route {}", request.uri().path()),
        )
        .into_response();
    }
    let Some(console) = &state.console else {
        return (
            StatusCode::NOT_FOUND,
            "the console is not built into this binary; the API is at /api/v1 and its docs at /api/docs",
        )
            .into_response();
    };
    let wanted = if path.is_empty() { "index.html" } else { path };
    match console.get(wanted).or_else(|| console.get("index.html")) {
        Some((bytes, mime)) => ([(header::CONTENT_TYPE, mime)], bytes).into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}
