//! `GET /api/v1/trajectory`: a person's or a plate's trajectory in one community — the points
//! where they were seen, oldest first, each with the device that saw it (the console draws them
//! on the community's site plan). Every read is audited as personal-data access.

use crate::auth::Caller;
use crate::dto::rfc3339;
use crate::error::ApiResult;
use crate::handlers::{Query, ms_of};
use crate::{ApiState, ErrorBody};
use anfang_app::AppError;
use anfang_app::trajectory::{Point, Subject};
use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// The default period: the last seven days.
const DEFAULT_DAYS_MS: i64 = 7 * 86_400_000;

pub(crate) fn routes() -> Router<ApiState> {
    Router::new().route("/trajectory", get(trajectory))
}

/// Whose trajectory, where and when: exactly one of `person_id` and `plate`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct TrajectoryParams {
    /// The community.
    pub community_id: i64,
    /// A person (their access records).
    pub person_id: Option<i64>,
    /// A plate number (gate reads and vehicle captures).
    pub plate: Option<String>,
    /// From, RFC 3339 (default: seven days before `until`).
    pub since: Option<String>,
    /// Until, RFC 3339, exclusive (default: now).
    pub until: Option<String>,
}

/// A trajectory.
#[derive(Debug, Serialize, ToSchema)]
pub struct TrajectoryDto {
    /// The community.
    pub community_id: i64,
    /// From, RFC 3339.
    pub since: String,
    /// Until, RFC 3339.
    pub until: String,
    /// The points, oldest first.
    pub points: Vec<TrajectoryPointDto>,
}

/// One place and time where the subject was seen.
#[derive(Debug, Serialize, ToSchema)]
pub struct TrajectoryPointDto {
    /// When, RFC 3339.
    pub at: String,
    /// `access` (a door decision), `gate_in` / `gate_out` (the car park's lane), `capture` (a
    /// capture camera's vehicle record).
    pub source: String,
    /// The device that saw it.
    pub device_id: i64,
    /// The record behind it: access record, parking session or capture record id.
    pub record_id: i64,
    /// `open` or `deny` for access records.
    pub outcome: Option<String>,
}

impl From<Point> for TrajectoryPointDto {
    fn from(p: Point) -> Self {
        TrajectoryPointDto {
            at: rfc3339(p.at),
            source: p.source.to_string(),
            device_id: p.device_id,
            record_id: p.record_id,
            outcome: p.outcome,
        }
    }
}

/// A person's or a plate's trajectory in one community over a period, oldest first (staff with
/// the community in scope; audited as `trajectory.read`).
#[utoipa::path(get, path = "/api/v1/trajectory", tag = "access", security(("bearer" = [])), params(TrajectoryParams),
    responses((status = 200, body = TrajectoryDto), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn trajectory(
    State(s): State<ApiState>,
    c: Caller,
    Query(p): Query<TrajectoryParams>,
) -> ApiResult<Json<TrajectoryDto>> {
    let subject = match (p.person_id, p.plate.as_deref().map(str::trim)) {
        (Some(id), None) => Subject::Person(id),
        (None, Some(plate)) if !plate.is_empty() => Subject::Plate(plate.to_string()),
        _ => {
            return Err(AppError::invalid(
                "invalid_subject",
                "person_id",
                "name exactly one of person_id and plate",
            )
            .into());
        }
    };
    let until = ms_of("until", p.until.as_deref())?.unwrap_or_else(|| s.app.clock().now_ms() + 1);
    let since = ms_of("since", p.since.as_deref())?.unwrap_or(until - DEFAULT_DAYS_MS);
    let points = s
        .app
        .trajectory(&c.principal, p.community_id, &subject, since, until)
        .await?;
    Ok(Json(TrajectoryDto {
        community_id: p.community_id,
        since: rfc3339(since),
        until: rfc3339(until),
        points: points.into_iter().map(TrajectoryPointDto::from).collect(),
    }))
}
