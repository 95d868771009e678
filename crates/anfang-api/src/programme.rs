//! The district programme over HTTP (`/api/v1/programme/…`): the dashboard's figures, the
//! networking rate, the annex-style task table, progress against the targets, the street
//! assessment, build projects and their stages, acceptances with evidence and sign-offs, the
//! funding ledger and award, the district's settings, maintenance contractors and tickets.
//!
//! Wire types live here beside their handlers and are converted by hand from the
//! application's, so the wire format changes only on purpose. Every figure is computed by the
//! application on each request; nothing here stores or adjusts a number.

use crate::auth::Caller;
use crate::dto::{ItemsDto, rfc3339};
use crate::error::ApiResult;
use crate::handlers::{Body, Path, Query};
use crate::{ApiError, ApiState, ErrorBody};
use anfang_app::AppError;
use anfang_app::acceptance::{AcceptanceView, Attachment, Check, Funding, ManualItem};
use anfang_app::maintenance::{MaintenanceStats, StreetScore};
use anfang_app::programme::{
    self as prog, AcceptanceRules, AssessmentWeights, AwardFormula, CommunityFigures, FundingMode,
    FundingSource, Need, NetworkingRow, ProgressRow, ProjectDetail, Summary, Tally, TargetSpec, TaskRow,
    Window,
};
use anfang_app::store::{AwardRow, ContractorRow, FundingEntryRow, SignoffRow, TicketRow};
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::{IntoParams, ToSchema};

/// Largest acceptance attachment accepted over HTTP (the application's limit plus headroom for
/// the request itself).
pub const ATTACHMENT_BODY_LIMIT: usize = anfang_app::acceptance::MAX_ATTACHMENT + 64 * 1024;

pub(crate) fn routes() -> Router<ApiState> {
    Router::new()
        .route("/programme/districts", get(districts))
        .route("/programme/summary", get(summary))
        .route("/programme/networking", get(networking))
        .route("/programme/tasks", get(tasks))
        .route("/programme/progress", get(progress))
        .route("/programme/assessment", get(assessment))
        .route("/programme/projects", post(create_project))
        .route("/programme/projects/{id}", get(get_project))
        .route("/programme/projects/{id}/stages", post(move_project))
        .route(
            "/programme/projects/{id}/acceptances",
            get(list_acceptances).post(request_acceptance),
        )
        .route(
            "/programme/projects/{id}/funding",
            get(get_funding).post(add_funding),
        )
        .route("/programme/projects/{id}/award", put(set_award_status))
        .route("/programme/acceptances/{id}", get(get_acceptance))
        .route("/programme/acceptances/{id}/items/{code}", put(record_item))
        .route(
            "/programme/acceptances/{id}/attachments/{key}",
            get(get_attachment),
        )
        .route("/programme/acceptances/{id}/signoffs", post(sign))
        .route("/programme/settings/targets", get(get_targets).put(set_targets))
        .route(
            "/programme/settings/award-formula",
            get(get_formula).put(set_formula),
        )
        .route(
            "/programme/settings/assessment-weights",
            get(get_weights).put(set_weights),
        )
        .route(
            "/programme/settings/acceptance-rules",
            get(get_rules).put(set_rules),
        )
        .route(
            "/programme/contractors",
            get(list_contractors).post(set_contractor),
        )
        .route("/programme/tickets", get(list_tickets))
        .route("/programme/tickets/{id}/resolve", post(resolve_ticket))
        .route("/programme/maintenance", get(maintenance))
        .route("/programme/exports/{report}", get(export))
}

pub(crate) fn upload_routes() -> Router<ApiState> {
    Router::new().route(
        "/programme/acceptances/{id}/items/{code}/attachments",
        post(attach),
    )
}

// ---------------------------------------------------------------------------------------------
// Wire types
// ---------------------------------------------------------------------------------------------

/// Installed, networked (data arrived in the window and, where the police are sent it, their
/// platform acknowledged it) and active (business data in the window) devices.
#[derive(Debug, Serialize, ToSchema)]
pub struct TallyDto {
    /// Installed (registered and assigned to a community).
    pub installed: u64,
    /// Networked.
    pub networked: u64,
    /// Active.
    pub active: u64,
    /// 联网率: networked ÷ installed (percent; none when nothing is installed).
    pub networked_pct: Option<f64>,
    /// Active ÷ installed (percent).
    pub active_pct: Option<f64>,
}

impl From<&Tally> for TallyDto {
    fn from(t: &Tally) -> Self {
        TallyDto {
            installed: t.installed,
            networked: t.networked,
            active: t.active,
            networked_pct: t.networked_pct(),
            active_pct: t.active_pct(),
        }
    }
}

fn classes(map: &prog::ClassTallies) -> BTreeMap<String, TallyDto> {
    map.iter()
        .map(|(class, t)| (class.as_str().to_string(), t.into()))
        .collect()
}

/// The measuring window.
#[derive(Debug, Serialize, ToSchema)]
pub struct WindowDto {
    /// From (inclusive).
    pub since: String,
    /// To (exclusive).
    pub until: String,
    /// Door records are sent to a police platform, whose acknowledgement a door device needs
    /// to count as networked.
    pub police_door_records: bool,
    /// Captures and plate reads are sent to a police platform.
    pub police_captures: bool,
}

impl From<Window> for WindowDto {
    fn from(w: Window) -> Self {
        WindowDto {
            since: rfc3339(w.since),
            until: rfc3339(w.until),
            police_door_records: w.police_door_records,
            police_captures: w.police_captures,
        }
    }
}

/// One required thing at one place.
#[derive(Debug, Serialize, ToSchema)]
pub struct NeedDto {
    /// `face_access`, `plate_gate`, `booth`, `video_relay` …
    pub capability: String,
    /// 人脸门禁, 车牌识别道闸 …
    pub capability_label: String,
    /// The place (none when the place itself is missing from the registry).
    pub place_id: Option<i64>,
    /// Where, in words.
    pub place: String,
    /// The place's kind.
    pub place_kind: Option<String>,
    /// Devices providing it.
    pub devices: Vec<i64>,
    /// Provided by an installed device.
    pub met: bool,
    /// Provided by a networked device.
    pub networked: bool,
}

impl From<&Need> for NeedDto {
    fn from(n: &Need) -> Self {
        NeedDto {
            capability: n.capability.as_str().into(),
            capability_label: n.capability.label_zh().into(),
            place_id: n.place_id,
            place: n.place.clone(),
            place_kind: n.place_kind.map(|k| k.as_str().to_string()),
            devices: n.devices.clone(),
            met: n.met(),
            networked: n.networked,
        }
    }
}

/// Everything measured of one community.
#[derive(Debug, Serialize, ToSchema)]
pub struct CommunityFiguresDto {
    /// Community id.
    pub community_id: i64,
    /// Code.
    pub code: String,
    /// Name.
    pub name: String,
    /// Street id.
    pub street_id: i64,
    /// Street code.
    pub street_code: String,
    /// Street name.
    pub street_name: String,
    /// District code.
    pub district_code: String,
    /// `new_built`, `existing_closed`, `open_closable`, `open_video_only`, `village`.
    pub category: String,
    /// `commercial`, `old`, `village` …
    pub property_type: String,
    /// Its build project.
    pub project_id: Option<i64>,
    /// `developer`, `property_fund`, `co_funded`.
    pub funding_mode: Option<String>,
    /// The year it is planned to be finished in.
    pub planned_year: Option<i32>,
    /// Current stage.
    pub stage: Option<String>,
    /// Its label.
    pub stage_label: Option<String>,
    /// When it was reached.
    pub stage_at: Option<String>,
    /// The building contractor.
    pub contractor: Option<String>,
    /// When each stage was first reached.
    pub reached: BTreeMap<String, String>,
    /// Required places of the category's kit.
    pub required: usize,
    /// Met by an installed device.
    pub met: usize,
    /// Met by a networked device.
    pub networked_places: usize,
    /// The kit is installed (建成).
    pub kit_complete: bool,
    /// The kit is installed and networked (覆盖).
    pub covered: bool,
    /// Every need, in kit order.
    pub needs: Vec<NeedDto>,
    /// Devices per class (`access`, `vehicle`, `capture`, `video`, `alarm`, `patrol`, `booth`).
    pub devices: BTreeMap<String, TallyDto>,
    /// All devices.
    pub total: TallyDto,
    /// Days of the window with business data.
    pub data_days: i64,
}

impl From<&CommunityFigures> for CommunityFiguresDto {
    fn from(c: &CommunityFigures) -> Self {
        CommunityFiguresDto {
            community_id: c.community_id,
            code: c.code.clone(),
            name: c.name.clone(),
            street_id: c.street_id,
            street_code: c.street_code.clone(),
            street_name: c.street_name.clone(),
            district_code: c.district_code.clone(),
            category: c.category.as_str().into(),
            property_type: c.property_type.as_str().into(),
            project_id: c.project_id,
            funding_mode: c.funding_mode.map(|m| m.as_str().to_string()),
            planned_year: c.planned_year,
            stage: c.stage.map(|s| s.as_str().to_string()),
            stage_label: c.stage.map(|s| s.label_zh().to_string()),
            stage_at: c.stage_at.map(rfc3339),
            contractor: c.contractor.clone(),
            reached: c
                .reached
                .iter()
                .map(|(s, at)| (s.as_str().to_string(), rfc3339(*at)))
                .collect(),
            required: c.compliance.required(),
            met: c.compliance.met(),
            networked_places: c.compliance.networked(),
            kit_complete: c.compliance.complete(),
            covered: c.compliance.covered(),
            needs: c.compliance.needs.iter().map(NeedDto::from).collect(),
            devices: classes(&c.devices),
            total: (&c.total).into(),
            data_days: c.data_days,
        }
    }
}

/// One step of a project's history.
#[derive(Debug, Serialize, ToSchema)]
pub struct StageStepDto {
    /// Stage reached.
    pub stage: String,
    /// Its label.
    pub stage_label: String,
    /// When.
    pub at: String,
    /// Who (`user:NAME`, `system`).
    pub actor: String,
    /// Note.
    pub note: String,
}

/// A build project with its community's figures and its history.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProjectDto {
    /// Project id.
    pub id: Option<i64>,
    /// The community, measured now.
    pub community: CommunityFiguresDto,
    /// Stage history, oldest first.
    pub history: Vec<StageStepDto>,
}

impl From<ProjectDetail> for ProjectDto {
    fn from(p: ProjectDetail) -> Self {
        ProjectDto {
            id: p.figures.project_id,
            community: (&p.figures).into(),
            history: p
                .history
                .iter()
                .map(|h| StageStepDto {
                    stage: h.stage.as_str().into(),
                    stage_label: h.stage.label_zh().into(),
                    at: rfc3339(h.at),
                    actor: h.actor.clone(),
                    note: h.note.clone(),
                })
                .collect(),
        }
    }
}

/// A district the caller sees.
#[derive(Debug, Serialize, ToSchema)]
pub struct DistrictDto {
    /// Administrative code.
    pub code: String,
    /// Streets with communities.
    pub streets: u64,
}

/// A scope row of the networking report.
#[derive(Debug, Serialize, ToSchema)]
pub struct NetworkingRowDto {
    /// `district`, `street` or `community`.
    pub level: String,
    /// Code.
    pub code: String,
    /// Name.
    pub name: String,
    /// Per device class.
    pub classes: BTreeMap<String, TallyDto>,
    /// All classes.
    pub total: TallyDto,
}

impl From<&NetworkingRow> for NetworkingRowDto {
    fn from(r: &NetworkingRow) -> Self {
        NetworkingRowDto {
            level: r.level.into(),
            code: r.code.clone(),
            name: r.name.clone(),
            classes: classes(&r.classes),
            total: (&r.total).into(),
        }
    }
}

/// The networking report.
#[derive(Debug, Serialize, ToSchema)]
pub struct NetworkingDto {
    /// The window measured.
    pub window: WindowDto,
    /// Districts, then streets, then communities.
    pub items: Vec<NetworkingRowDto>,
}

/// A row of the annex-style task table.
#[derive(Debug, Serialize, ToSchema)]
pub struct TaskRowDto {
    /// Street.
    pub street: String,
    /// Community code.
    pub code: String,
    /// Community.
    pub community: String,
    /// Community id.
    pub community_id: i64,
    /// Category.
    pub category: String,
    /// Category label.
    pub category_label: String,
    /// Funding mode.
    pub funding_mode: Option<String>,
    /// Planned year.
    pub planned_year: Option<i32>,
    /// Stage.
    pub stage: Option<String>,
    /// Stage label.
    pub stage_label: Option<String>,
    /// Date the stage was reached (CST, `YYYY-MM-DD`).
    pub stage_date: Option<String>,
    /// Required places.
    pub required: u64,
    /// Met.
    pub met: u64,
    /// Met by a networked device.
    pub networked: u64,
    /// What is missing where (`南门：智能岗亭`).
    pub gaps: Vec<String>,
    /// Devices networked ÷ installed (percent).
    pub networked_pct: Option<f64>,
    /// Project id.
    pub project_id: Option<i64>,
}

impl From<&TaskRow> for TaskRowDto {
    fn from(r: &TaskRow) -> Self {
        TaskRowDto {
            street: r.street.clone(),
            code: r.code.clone(),
            community: r.community.clone(),
            community_id: r.community_id,
            category: r.category.as_str().into(),
            category_label: r.category.label_zh().into(),
            funding_mode: r.funding_mode.map(|m| m.as_str().to_string()),
            planned_year: r.planned_year,
            stage: r.stage.map(|s| s.as_str().to_string()),
            stage_label: r.stage.map(|s| s.label_zh().to_string()),
            stage_date: r.stage_date.clone(),
            required: r.required,
            met: r.met,
            networked: r.networked,
            gaps: r.gaps.clone(),
            networked_pct: r.networked_pct,
            project_id: r.project_id,
        }
    }
}

/// A row of the progress report: a target against what was reached by the year's end.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProgressRowDto {
    /// `district` or `street`.
    pub level: String,
    /// Scope code.
    pub code: String,
    /// Scope name.
    pub name: String,
    /// Year.
    pub year: i32,
    /// Segment (`all`, `property_type:commercial+village`, `category:new_built`).
    pub segment: String,
    /// Its label.
    pub segment_label: String,
    /// `built` (accepted) or `networked`.
    pub metric: String,
    /// The stated target (percent).
    pub target_pct: Option<f64>,
    /// `own`, or the district code it is inherited from.
    pub target_from: Option<String>,
    /// For `all` rows: what the segment targets add up to (Σ partᵢ × nᵢ ÷ N).
    pub sum_of_parts_pct: Option<f64>,
    /// Communities in the segment.
    pub communities: u64,
    /// Planned to be finished by that year.
    pub planned: u64,
    /// Reached the metric's stage by the year's end.
    pub reached: u64,
    /// Reached ÷ communities (percent).
    pub reached_pct: Option<f64>,
    /// Communities still needed for the stated target.
    pub short_of_target: Option<u64>,
    /// The current year only, measured now: `built` rows count communities whose kit is
    /// installed, `networked` rows those whose kit is installed and networked.
    pub covered_now: Option<u64>,
}

impl From<&ProgressRow> for ProgressRowDto {
    fn from(r: &ProgressRow) -> Self {
        ProgressRowDto {
            level: r.level.into(),
            code: r.code.clone(),
            name: r.name.clone(),
            year: r.year,
            segment: r.segment.clone(),
            segment_label: r.segment_label.clone(),
            metric: r.metric.as_str().into(),
            target_pct: r.target_pct,
            target_from: r.target_from.clone(),
            sum_of_parts_pct: r.sum_of_parts_pct,
            communities: r.communities,
            planned: r.planned,
            reached: r.reached,
            reached_pct: r.reached_pct,
            short_of_target: r.short_of_target,
            covered_now: r.covered_now,
        }
    }
}

/// The district dashboard's figures.
#[derive(Debug, Serialize, ToSchema)]
pub struct SummaryDto {
    /// District code.
    pub district_code: String,
    /// The window of the live figures.
    pub window: WindowDto,
    /// Communities.
    pub communities: u64,
    /// By category.
    pub by_category: BTreeMap<String, u64>,
    /// By stage (`none`: no project yet).
    pub by_stage: BTreeMap<String, u64>,
    /// Kit installed now (建成).
    pub kit_complete: u64,
    /// Kit installed and networked now (覆盖).
    pub covered: u64,
    /// Devices per class.
    pub devices: BTreeMap<String, TallyDto>,
    /// All devices.
    pub total: TallyDto,
    /// This year's rows for the district.
    pub progress: Vec<ProgressRowDto>,
    /// Devices online now (heard from within the last two minutes).
    pub online: u64,
    /// Projects by their latest acceptance's status: `open`, `accepted`, `rejected`, `none`
    /// (never requested).
    pub acceptances: BTreeMap<String, u64>,
    /// Awards (subsidies) by status: `computed`, `approved`, `paid`.
    pub awards: BTreeMap<String, AwardTallyDto>,
    /// The projects' funding ledgers: planned (fen).
    pub funding_planned_fen: i64,
    /// Actual (fen).
    pub funding_actual_fen: i64,
}

/// Awards of one status.
#[derive(Debug, Serialize, ToSchema)]
pub struct AwardTallyDto {
    /// Projects.
    pub projects: u64,
    /// Amount (fen).
    pub amount_fen: i64,
}

impl From<Summary> for SummaryDto {
    fn from(s: Summary) -> Self {
        SummaryDto {
            district_code: s.district_code,
            window: s.window.into(),
            communities: s.communities,
            by_category: s
                .by_category
                .iter()
                .map(|(c, n)| (c.as_str().to_string(), *n))
                .collect(),
            by_stage: s.by_stage,
            kit_complete: s.kit_complete,
            covered: s.covered,
            devices: classes(&s.devices),
            total: (&s.total).into(),
            progress: s.progress.iter().map(ProgressRowDto::from).collect(),
            online: s.online,
            acceptances: s.acceptances,
            awards: s
                .awards
                .into_iter()
                .map(|(k, t)| {
                    (
                        k,
                        AwardTallyDto {
                            projects: t.projects,
                            amount_fen: t.amount_fen,
                        },
                    )
                })
                .collect(),
            funding_planned_fen: s.funding_planned_fen,
            funding_actual_fen: s.funding_actual_fen,
        }
    }
}

/// A street's assessment for a month: indicators are fractions 0–1, none when there was
/// nothing to measure (its weight then carries no part of the score).
#[derive(Debug, Serialize, ToSchema)]
pub struct StreetScoreDto {
    /// Street code.
    pub street_code: String,
    /// Street name.
    pub street_name: String,
    /// `YYYY-MM`.
    pub month: String,
    /// Built share against the year's target, at most 1.
    pub coverage: Option<f64>,
    /// Networked ÷ installed devices.
    pub networking: Option<f64>,
    /// Alarms handled within their SLA.
    pub alarm_sla: Option<f64>,
    /// Tickets repaired within their SLA.
    pub maintenance_sla: Option<f64>,
    /// Devices located on the site plan ÷ installed.
    pub data_quality: Option<f64>,
    /// The weighted score (0–100).
    pub score: Option<f64>,
    /// Communities.
    pub communities: u64,
    /// Built by the month's end.
    pub built: u64,
    /// The target applied (percent).
    pub target_pct: Option<f64>,
    /// Devices.
    pub devices: TallyDto,
    /// Alarms raised.
    pub alarms: u64,
    /// Within SLA.
    pub alarms_in_sla: u64,
    /// Tickets due.
    pub tickets: u64,
    /// Repaired in time.
    pub tickets_in_sla: u64,
    /// Devices located on the site plan.
    pub located: u64,
}

impl From<&StreetScore> for StreetScoreDto {
    fn from(s: &StreetScore) -> Self {
        StreetScoreDto {
            street_code: s.street_code.clone(),
            street_name: s.street_name.clone(),
            month: s.month.clone(),
            coverage: s.indicators.coverage,
            networking: s.indicators.networking,
            alarm_sla: s.indicators.alarm_sla,
            maintenance_sla: s.indicators.maintenance_sla,
            data_quality: s.indicators.data_quality,
            score: s.score,
            communities: s.communities,
            built: s.built,
            target_pct: s.target_pct,
            devices: (&s.devices).into(),
            alarms: s.alarms,
            alarms_in_sla: s.alarms_in_sla,
            tickets: s.tickets,
            tickets_in_sla: s.tickets_in_sla,
            located: s.located,
        }
    }
}

/// A new build project.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateProjectRequest {
    /// The community (one project each).
    pub community_id: i64,
    /// `developer`, `property_fund` or `co_funded` (default: the category's).
    pub funding_mode: Option<String>,
    /// The year it is to be finished in.
    pub planned_year: i32,
    /// Note for the first step.
    pub note: Option<String>,
}

/// A stage move, one step forward (the acceptance stages are set by the acceptance).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MoveStageRequest {
    /// `designed`, `tendered`, `under_construction`, `self_checked` (or the label).
    pub stage: String,
    /// Note.
    pub note: Option<String>,
    /// The building contractor (when tendered).
    pub contractor: Option<String>,
}

/// A live check of an acceptance.
#[derive(Debug, Serialize, ToSchema)]
pub struct CheckDto {
    /// `kit_complete`, `networked_share`, `data_flowing`, `non_face_credential`, `consent`.
    pub code: String,
    /// Label.
    pub label: String,
    /// Passed.
    pub passed: bool,
    /// What was measured.
    pub detail: String,
}

impl From<&Check> for CheckDto {
    fn from(c: &Check) -> Self {
        CheckDto {
            code: c.code.clone(),
            label: c.label.clone(),
            passed: c.passed,
            detail: c.detail.clone(),
        }
    }
}

/// An attachment (its bytes at `url`; each read is audited).
#[derive(Debug, Serialize, ToSchema)]
pub struct AttachmentDto {
    /// Key.
    pub key: String,
    /// File name.
    pub name: String,
    /// Content type.
    pub content_type: String,
    /// Where to read it.
    pub url: String,
}

/// A manual item of an acceptance.
#[derive(Debug, Serialize, ToSchema)]
pub struct ManualItemDto {
    /// `signage`, `no_private_space`, `as_built_documents`.
    pub code: String,
    /// Label.
    pub label: String,
    /// Verdict (none until recorded).
    pub passed: Option<bool>,
    /// Note.
    pub note: String,
    /// Evidence.
    pub attachments: Vec<AttachmentDto>,
    /// Who recorded it.
    pub by: Option<String>,
    /// When.
    pub at: Option<String>,
}

/// A party's sign-off.
#[derive(Debug, Serialize, ToSchema)]
pub struct SignoffDto {
    /// `public_security` or `housing_construction`.
    pub party: String,
    /// `approve` or `reject`.
    pub decision: String,
    /// Who.
    pub actor: String,
    /// When.
    pub at: String,
    /// Note.
    pub note: String,
}

impl From<&SignoffRow> for SignoffDto {
    fn from(s: &SignoffRow) -> Self {
        SignoffDto {
            party: s.party.clone(),
            decision: s.decision.clone(),
            actor: s.actor.clone(),
            at: rfc3339(s.at),
            note: s.note.clone(),
        }
    }
}

/// An acceptance (验收).
#[derive(Debug, Serialize, ToSchema)]
pub struct AcceptanceDto {
    /// Id.
    pub id: i64,
    /// Project.
    pub project_id: i64,
    /// `open`, `accepted`, `rejected`.
    pub status: String,
    /// Requested.
    pub requested_at: String,
    /// By.
    pub requested_by: String,
    /// Live checks as last evaluated (re-evaluated at each sign-off).
    pub checks: Vec<CheckDto>,
    /// Manual items.
    pub items: Vec<ManualItemDto>,
    /// Sign-offs.
    pub signoffs: Vec<SignoffDto>,
    /// Decided.
    pub decided_at: Option<String>,
}

fn attachment_key(acceptance: i64, key: &str) -> String {
    key.strip_prefix(&format!("acceptance/{acceptance}/"))
        .unwrap_or(key)
        .to_string()
}

impl From<AcceptanceView> for AcceptanceDto {
    fn from(v: AcceptanceView) -> Self {
        let id = v.id;
        AcceptanceDto {
            id,
            project_id: v.project_id,
            status: v.status,
            requested_at: rfc3339(v.requested_at),
            requested_by: v.requested_by,
            checks: v.checks.iter().map(CheckDto::from).collect(),
            items: v
                .items
                .iter()
                .map(|i: &ManualItem| ManualItemDto {
                    code: i.code.clone(),
                    label: i.label.clone(),
                    passed: i.passed,
                    note: i.note.clone(),
                    attachments: i
                        .attachments
                        .iter()
                        .map(|(key, name, content_type)| {
                            let key = attachment_key(id, key);
                            AttachmentDto {
                                url: format!("/api/v1/programme/acceptances/{id}/attachments/{key}"),
                                key,
                                name: name.clone(),
                                content_type: content_type.clone(),
                            }
                        })
                        .collect(),
                    by: i.by.clone(),
                    at: i.at.map(rfc3339),
                })
                .collect(),
            signoffs: v.signoffs.iter().map(SignoffDto::from).collect(),
            decided_at: v.decided_at.map(rfc3339),
        }
    }
}

/// A manual item's verdict and note (either may be left out to keep what was recorded).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordItemRequest {
    /// Passed on site (a pass needs evidence uploaded to the item first).
    pub passed: Option<bool>,
    /// Note (≤ 500 characters).
    pub note: Option<String>,
}

/// Where to put an attachment.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct AttachParams {
    /// The file's name (1–100 characters).
    pub name: String,
}

/// A sign-off.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignRequest {
    /// `approve` or `reject`.
    pub decision: String,
    /// Note (a rejection says why).
    pub note: Option<String>,
}

/// A funding ledger line.
#[derive(Debug, Serialize, ToSchema)]
pub struct FundingLineDto {
    /// Id.
    pub id: i64,
    /// `county_finance`, `street_community`, `property_company`, `maintenance_fund`,
    /// `contractor_concession`, `developer`.
    pub source: String,
    /// `planned` or `actual`.
    pub kind: String,
    /// Amount (fen).
    pub amount_fen: i64,
    /// Note.
    pub note: String,
    /// When.
    pub at: String,
    /// Who.
    pub actor: String,
}

impl From<&FundingEntryRow> for FundingLineDto {
    fn from(l: &FundingEntryRow) -> Self {
        FundingLineDto {
            id: l.id,
            source: l.source.clone(),
            kind: l.kind.clone(),
            amount_fen: l.amount_fen,
            note: l.note.clone(),
            at: rfc3339(l.at),
            actor: l.actor.clone(),
        }
    }
}

/// The award (以奖代补), computed once at acceptance.
#[derive(Debug, Serialize, ToSchema)]
pub struct AwardDto {
    /// Amount (fen).
    pub amount_fen: i64,
    /// `computed`, `approved`, `paid`.
    pub status: String,
    /// The formula, inputs and lines it was computed with.
    #[schema(value_type = Object)]
    pub detail: serde_json::Value,
    /// Computed.
    pub computed_at: String,
    /// Approved.
    pub approved_at: Option<String>,
    /// By.
    pub approved_by: Option<String>,
    /// Paid.
    pub paid_at: Option<String>,
    /// By.
    pub paid_by: Option<String>,
    /// Payment voucher.
    pub voucher: Option<String>,
}

impl From<&AwardRow> for AwardDto {
    fn from(a: &AwardRow) -> Self {
        AwardDto {
            amount_fen: a.amount_fen,
            status: a.status.clone(),
            detail: serde_json::from_str(&a.detail).unwrap_or(serde_json::Value::Null),
            computed_at: rfc3339(a.computed_at),
            approved_at: a.approved_at.map(rfc3339),
            approved_by: a.approved_by.clone(),
            paid_at: a.paid_at.map(rfc3339),
            paid_by: a.paid_by.clone(),
            voucher: a.voucher.clone(),
        }
    }
}

/// A project's funding ledger and award.
#[derive(Debug, Serialize, ToSchema)]
pub struct FundingDto {
    /// Project.
    pub project_id: i64,
    /// Planned per source (fen).
    pub planned: BTreeMap<String, i64>,
    /// Actual per source (fen).
    pub actual: BTreeMap<String, i64>,
    /// Ledger lines.
    pub lines: Vec<FundingLineDto>,
    /// The award, once accepted.
    pub award: Option<AwardDto>,
}

fn by_source(map: &BTreeMap<FundingSource, i64>) -> BTreeMap<String, i64> {
    map.iter().map(|(s, v)| (s.as_str().to_string(), *v)).collect()
}

impl From<Funding> for FundingDto {
    fn from(f: Funding) -> Self {
        FundingDto {
            project_id: f.project_id,
            planned: by_source(&f.planned),
            actual: by_source(&f.actual),
            lines: f.lines.iter().map(FundingLineDto::from).collect(),
            award: f.award.as_ref().map(AwardDto::from),
        }
    }
}

/// A funding ledger line to add.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddFundingRequest {
    /// Source (see [`FundingLineDto::source`]).
    pub source: String,
    /// `planned` or `actual`.
    pub kind: String,
    /// Amount (fen; an actual correction may be negative).
    pub amount_fen: i64,
    /// Note (voucher number, what it paid for).
    pub note: Option<String>,
}

/// An award's payment status.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AwardStatusRequest {
    /// `approved` or `paid`.
    pub status: String,
    /// The payment voucher (when paid).
    pub voucher: Option<String>,
}

/// Which district.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct DistrictParam {
    /// The district's 6-digit code, e.g. 370303.
    pub district: String,
}

/// Which district, optionally.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct OptionalDistrictParam {
    /// The district's 6-digit code (default: every district the caller sees).
    pub district: Option<String>,
}

/// Which district and month.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct AssessmentParams {
    /// The district's 6-digit code.
    pub district: String,
    /// `YYYY-MM` (default: this month).
    pub month: Option<String>,
}

/// The networking window.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct WindowParams {
    /// Days, ending now (1–90, default 7).
    pub days: Option<i64>,
}

/// A period.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct PeriodParams {
    /// From (RFC 3339; default 30 days before `until`).
    pub since: Option<String>,
    /// To (RFC 3339; default now).
    pub until: Option<String>,
    /// Only tickets still open.
    pub open: Option<bool>,
}

/// A yearly target as entered.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TargetDto {
    /// District or street code.
    pub scope: String,
    /// Year.
    pub year: i32,
    /// `all`, `property_type:commercial+village`, `category:new_built`.
    pub segment: String,
    /// `built` (accepted) or `networked`.
    pub metric: String,
    /// Percent.
    pub percent: f64,
    /// Where it comes from (document and article).
    #[serde(default)]
    pub source: String,
}

/// A district's targets.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TargetsDto {
    /// The targets, validated as a set (one per scope, year, segment and metric; segments of
    /// one kind may not overlap).
    pub items: Vec<TargetDto>,
}

/// The award formula (amounts in fen; shares in basis points).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AwardFormulaDto {
    /// Funding modes that receive an award.
    pub modes: Vec<String>,
    /// Fixed amount per accepted project.
    pub base_fen: i64,
    /// Amount per required place of the kit.
    pub per_place_fen: i64,
    /// Share of the eligible sources' actual spending (basis points).
    pub share_bp: i64,
    /// The eligible sources.
    pub share_of: Vec<String>,
    /// Bonus when accepted by the end of the planned year (basis points of the subtotal).
    pub on_time_bonus_bp: i64,
    /// The most one project receives.
    pub cap_fen: i64,
}

impl From<AwardFormula> for AwardFormulaDto {
    fn from(f: AwardFormula) -> Self {
        AwardFormulaDto {
            modes: f.modes.iter().map(|m| m.as_str().to_string()).collect(),
            base_fen: f.base_fen,
            per_place_fen: f.per_place_fen,
            share_bp: f.share_bp,
            share_of: f.share_of.iter().map(|s| s.as_str().to_string()).collect(),
            on_time_bonus_bp: f.on_time_bonus_bp,
            cap_fen: f.cap_fen,
        }
    }
}

impl AwardFormulaDto {
    fn to_formula(&self) -> ApiResult<AwardFormula> {
        let modes = self
            .modes
            .iter()
            .map(|m| FundingMode::parse(m).map_err(|e| AppError::field("modes", e)))
            .collect::<Result<Vec<_>, _>>()?;
        let share_of = self
            .share_of
            .iter()
            .map(|s| FundingSource::parse(s).map_err(|e| AppError::field("share_of", e)))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(AwardFormula {
            modes,
            base_fen: self.base_fen,
            per_place_fen: self.per_place_fen,
            share_bp: self.share_bp,
            share_of,
            on_time_bonus_bp: self.on_time_bonus_bp,
            cap_fen: self.cap_fen,
        })
    }
}

/// The street assessment's weights (non-negative integers; the score is the weighted mean of
/// the indicators × 100).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WeightsDto {
    /// Built share against the year's target.
    pub coverage: u32,
    /// 联网率.
    pub networking: u32,
    /// Alarms handled within their SLA.
    pub alarm_sla: u32,
    /// Tickets repaired within their SLA.
    pub maintenance_sla: u32,
    /// Devices located on the site plan.
    pub data_quality: u32,
}

/// What an acceptance requires of the live data.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AcceptanceRulesDto {
    /// Least share of installed devices networked (percent).
    pub min_networked_pct: f64,
    /// Days in a row, ending at the check, with business data (1–90).
    pub data_days: i64,
}

/// A maintenance contractor.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContractorDto {
    /// Name (as on the devices' `maintainer`).
    pub name: String,
    /// Hours to repair.
    pub sla_hours: i64,
    /// Contact (duty line).
    #[serde(default)]
    pub contact: String,
    /// Updated.
    #[serde(default, skip_deserializing)]
    pub updated_at: String,
}

impl From<&ContractorRow> for ContractorDto {
    fn from(c: &ContractorRow) -> Self {
        ContractorDto {
            name: c.name.clone(),
            sla_hours: c.sla_hours,
            contact: c.contact.clone(),
            updated_at: rfc3339(c.updated_at),
        }
    }
}

/// A maintenance ticket.
#[derive(Debug, Serialize, ToSchema)]
pub struct TicketDto {
    /// Id.
    pub id: i64,
    /// The device.
    pub device_id: i64,
    /// Its community.
    pub community_id: i64,
    /// The responsible contractor (empty when the device names none).
    pub contractor: String,
    /// `offline`, `silent`, `reported`.
    pub reason: String,
    /// Opened.
    pub opened_at: String,
    /// Repair due.
    pub due_at: String,
    /// Repaired.
    pub resolved_at: Option<String>,
    /// By whom (`system` when the device came back).
    pub resolved_by: Option<String>,
    /// Note.
    pub note: String,
}

impl From<&TicketRow> for TicketDto {
    fn from(t: &TicketRow) -> Self {
        TicketDto {
            id: t.id,
            device_id: t.device_id,
            community_id: t.community_id,
            contractor: t.contractor.clone(),
            reason: t.reason.clone(),
            opened_at: rfc3339(t.opened_at),
            due_at: rfc3339(t.due_at),
            resolved_at: t.resolved_at.map(rfc3339),
            resolved_by: t.resolved_by.clone(),
            note: t.note.clone(),
        }
    }
}

/// What was repaired.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResolveTicketRequest {
    /// What was repaired (1–500 characters).
    pub note: String,
}

/// A contractor's maintenance record over a period.
#[derive(Debug, Serialize, ToSchema)]
pub struct MaintenanceDto {
    /// Contractor.
    pub contractor: String,
    /// Tickets open at some time in the period.
    pub tickets: u64,
    /// Repaired in the period.
    pub repaired: u64,
    /// Repaired late, or still open past due at the period's end.
    pub breaches: u64,
    /// Mean repair time of those repaired (hours).
    pub mean_repair_hours: Option<f64>,
}

impl From<&MaintenanceStats> for MaintenanceDto {
    fn from(m: &MaintenanceStats) -> Self {
        MaintenanceDto {
            contractor: m.name.clone(),
            tickets: m.tickets,
            repaired: m.repaired,
            breaches: m.breaches,
            mean_repair_hours: m.mean_repair_hours,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Handlers
// ---------------------------------------------------------------------------------------------

/// The districts the caller sees, with their street counts.
#[utoipa::path(get, path = "/api/v1/programme/districts", tag = "programme", security(("bearer" = [])),
    responses((status = 200, body = ItemsDto<DistrictDto>), (status = 403, body = ErrorBody)))]
pub async fn districts(State(s): State<ApiState>, c: Caller) -> ApiResult<Json<ItemsDto<DistrictDto>>> {
    let rows = s.app.programme_districts(&c.principal).await?;
    Ok(Json(ItemsDto::of(rows, |(code, streets)| DistrictDto {
        code,
        streets,
    })))
}

/// The district dashboard: communities by category and stage, kit installed and covered, devices
/// installed / networked / active per class over the last 7 days, this year's progress rows.
#[utoipa::path(get, path = "/api/v1/programme/summary", tag = "programme", security(("bearer" = [])), params(DistrictParam),
    responses((status = 200, body = SummaryDto), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn summary(
    State(s): State<ApiState>,
    c: Caller,
    Query(p): Query<DistrictParam>,
) -> ApiResult<Json<SummaryDto>> {
    Ok(Json(
        s.app.programme_summary(&c.principal, &p.district).await?.into(),
    ))
}

/// The networking rate (联网率) per district, street and community, per device class, measured
/// from the data that arrived in the window.
#[utoipa::path(get, path = "/api/v1/programme/networking", tag = "programme", security(("bearer" = [])), params(WindowParams),
    responses((status = 200, body = NetworkingDto), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn networking(
    State(s): State<ApiState>,
    c: Caller,
    Query(p): Query<WindowParams>,
) -> ApiResult<Json<NetworkingDto>> {
    if let Some(days) = p.days
        && !(1..=90).contains(&days)
    {
        return Err(AppError::invalid("invalid_value", "days", "a window is 1–90 days").into());
    }
    let (window, rows) = s.app.networking_report(&c.principal, p.days).await?;
    Ok(Json(NetworkingDto {
        window: window.into(),
        items: rows.iter().map(NetworkingRowDto::from).collect(),
    }))
}

/// The annex-style task table: street | community, with category, stage and compliance (what is
/// missing where).
#[utoipa::path(get, path = "/api/v1/programme/tasks", tag = "programme", security(("bearer" = [])), params(OptionalDistrictParam),
    responses((status = 200, body = ItemsDto<TaskRowDto>), (status = 403, body = ErrorBody)))]
pub async fn tasks(
    State(s): State<ApiState>,
    c: Caller,
    Query(p): Query<OptionalDistrictParam>,
) -> ApiResult<Json<ItemsDto<TaskRowDto>>> {
    let rows = s.app.task_table(&c.principal, p.district.as_deref()).await?;
    Ok(Json(ItemsDto::of(rows.iter(), TaskRowDto::from)))
}

/// Progress against the targets by year, for the district and each street: the stated target,
/// the sum of its parts, planned, reached, short of target.
#[utoipa::path(get, path = "/api/v1/programme/progress", tag = "programme", security(("bearer" = [])), params(DistrictParam),
    responses((status = 200, body = ItemsDto<ProgressRowDto>), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn progress(
    State(s): State<ApiState>,
    c: Caller,
    Query(p): Query<DistrictParam>,
) -> ApiResult<Json<ItemsDto<ProgressRowDto>>> {
    let rows = s.app.progress_report(&c.principal, &p.district).await?;
    Ok(Json(ItemsDto::of(rows.iter(), ProgressRowDto::from)))
}

fn month_or_now(s: &ApiState, month: Option<String>) -> String {
    month.unwrap_or_else(|| s.app.clock().today_cst().format("%Y-%m").to_string())
}

/// The street assessment (考核) for a month: weighted indicators per street.
#[utoipa::path(get, path = "/api/v1/programme/assessment", tag = "programme", security(("bearer" = [])), params(AssessmentParams),
    responses((status = 200, body = ItemsDto<StreetScoreDto>), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn assessment(
    State(s): State<ApiState>,
    c: Caller,
    Query(p): Query<AssessmentParams>,
) -> ApiResult<Json<ItemsDto<StreetScoreDto>>> {
    let month = month_or_now(&s, p.month);
    let rows = s.app.assessment(&c.principal, &p.district, &month).await?;
    Ok(Json(ItemsDto::of(rows.iter(), StreetScoreDto::from)))
}

/// Creates a community's build project at `planned`.
#[utoipa::path(post, path = "/api/v1/programme/projects", tag = "programme", security(("bearer" = [])),
    request_body = CreateProjectRequest,
    responses((status = 201, body = ProjectDto), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn create_project(
    State(s): State<ApiState>,
    c: Caller,
    Body(r): Body<CreateProjectRequest>,
) -> ApiResult<(StatusCode, Json<ProjectDto>)> {
    let req = prog::CreateProject {
        community_id: r.community_id,
        funding_mode: r.funding_mode,
        planned_year: r.planned_year,
        note: r.note,
    };
    let detail = s.app.create_project(&c.principal, &req).await?;
    Ok((StatusCode::CREATED, Json(detail.into())))
}

/// A project with its community's figures (compliance, devices) and stage history.
#[utoipa::path(get, path = "/api/v1/programme/projects/{id}", tag = "programme", security(("bearer" = [])), params(("id" = i64, Path, description = "Project id")),
    responses((status = 200, body = ProjectDto), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_project(
    State(s): State<ApiState>,
    c: Caller,
    Path(id): Path<i64>,
) -> ApiResult<Json<ProjectDto>> {
    Ok(Json(s.app.project(&c.principal, id).await?.into()))
}

/// Moves a project one stage forward (`networked` only when measured; the acceptance stages
/// through the acceptance).
#[utoipa::path(post, path = "/api/v1/programme/projects/{id}/stages", tag = "programme", security(("bearer" = [])), params(("id" = i64, Path, description = "Project id")),
    request_body = MoveStageRequest,
    responses((status = 200, body = ProjectDto), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn move_project(
    State(s): State<ApiState>,
    c: Caller,
    Path(id): Path<i64>,
    Body(r): Body<MoveStageRequest>,
) -> ApiResult<Json<ProjectDto>> {
    let req = prog::MoveStage {
        stage: r.stage,
        note: r.note,
        contractor: r.contractor,
    };
    Ok(Json(s.app.move_project(&c.principal, id, &req).await?.into()))
}

/// A project's acceptances, newest first.
#[utoipa::path(get, path = "/api/v1/programme/projects/{id}/acceptances", tag = "programme", security(("bearer" = [])), params(("id" = i64, Path, description = "Project id")),
    responses((status = 200, body = ItemsDto<AcceptanceDto>), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn list_acceptances(
    State(s): State<ApiState>,
    c: Caller,
    Path(id): Path<i64>,
) -> ApiResult<Json<ItemsDto<AcceptanceDto>>> {
    let rows = s.app.project_acceptances(&c.principal, id).await?;
    Ok(Json(ItemsDto::of(rows, AcceptanceDto::from)))
}

/// Requests acceptance of a self-checked project: the live checks are evaluated now and the
/// manual items opened.
#[utoipa::path(post, path = "/api/v1/programme/projects/{id}/acceptances", tag = "programme", security(("bearer" = [])), params(("id" = i64, Path, description = "Project id")),
    responses((status = 201, body = AcceptanceDto), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn request_acceptance(
    State(s): State<ApiState>,
    c: Caller,
    Path(id): Path<i64>,
) -> ApiResult<(StatusCode, Json<AcceptanceDto>)> {
    let view = s.app.request_acceptance(&c.principal, id).await?;
    Ok((StatusCode::CREATED, Json(view.into())))
}

/// A project's funding ledger, planned and actual per source, and its award.
#[utoipa::path(get, path = "/api/v1/programme/projects/{id}/funding", tag = "programme", security(("bearer" = [])), params(("id" = i64, Path, description = "Project id")),
    responses((status = 200, body = FundingDto), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_funding(
    State(s): State<ApiState>,
    c: Caller,
    Path(id): Path<i64>,
) -> ApiResult<Json<FundingDto>> {
    Ok(Json(s.app.project_funding(&c.principal, id).await?.into()))
}

/// Adds a funding ledger line.
#[utoipa::path(post, path = "/api/v1/programme/projects/{id}/funding", tag = "programme", security(("bearer" = [])), params(("id" = i64, Path, description = "Project id")),
    request_body = AddFundingRequest,
    responses((status = 201, body = FundingDto), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn add_funding(
    State(s): State<ApiState>,
    c: Caller,
    Path(id): Path<i64>,
    Body(r): Body<AddFundingRequest>,
) -> ApiResult<(StatusCode, Json<FundingDto>)> {
    let funding = s
        .app
        .add_funding(
            &c.principal,
            id,
            &r.source,
            &r.kind,
            r.amount_fen,
            r.note.as_deref().unwrap_or(""),
        )
        .await?;
    Ok((StatusCode::CREATED, Json(funding.into())))
}

/// Approves or pays a project's award (district level).
#[utoipa::path(put, path = "/api/v1/programme/projects/{id}/award", tag = "programme", security(("bearer" = [])), params(("id" = i64, Path, description = "Project id")),
    request_body = AwardStatusRequest,
    responses((status = 200, body = FundingDto), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn set_award_status(
    State(s): State<ApiState>,
    c: Caller,
    Path(id): Path<i64>,
    Body(r): Body<AwardStatusRequest>,
) -> ApiResult<Json<FundingDto>> {
    let funding = s
        .app
        .set_award_status(&c.principal, id, &r.status, r.voucher.as_deref())
        .await?;
    Ok(Json(funding.into()))
}

/// An acceptance with its checks, manual items, evidence and sign-offs.
#[utoipa::path(get, path = "/api/v1/programme/acceptances/{id}", tag = "programme", security(("bearer" = [])), params(("id" = i64, Path, description = "Acceptance id")),
    responses((status = 200, body = AcceptanceDto), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_acceptance(
    State(s): State<ApiState>,
    c: Caller,
    Path(id): Path<i64>,
) -> ApiResult<Json<AcceptanceDto>> {
    Ok(Json(s.app.acceptance_view(&c.principal, id).await?.into()))
}

/// Records a manual item's verdict and note.
#[utoipa::path(put, path = "/api/v1/programme/acceptances/{id}/items/{code}", tag = "programme", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Acceptance id"), ("code" = String, Path, description = "signage, no_private_space or as_built_documents")),
    request_body = RecordItemRequest,
    responses((status = 200, body = AcceptanceDto), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn record_item(
    State(s): State<ApiState>,
    c: Caller,
    Path((id, code)): Path<(i64, String)>,
    Body(r): Body<RecordItemRequest>,
) -> ApiResult<Json<AcceptanceDto>> {
    let view = s
        .app
        .record_acceptance_item(&c.principal, id, &code, r.passed, r.note.as_deref(), Vec::new())
        .await?;
    Ok(Json(view.into()))
}

/// Uploads evidence (raw body: JPEG, PNG or PDF, at most 8 MiB) to a manual item; sealed at
/// rest.
#[utoipa::path(post, path = "/api/v1/programme/acceptances/{id}/items/{code}/attachments", tag = "programme", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Acceptance id"), ("code" = String, Path, description = "The manual item"), AttachParams),
    request_body(content = Vec<u8>, content_type = "application/pdf"),
    responses((status = 201, body = AcceptanceDto), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 413, body = ErrorBody)))]
pub async fn attach(
    State(s): State<ApiState>,
    c: Caller,
    Path((id, code)): Path<(i64, String)>,
    Query(p): Query<AttachParams>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<(StatusCode, Json<AcceptanceDto>)> {
    let body = body?;
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    let attachment = Attachment {
        name: p.name,
        content_type,
        bytes: body.to_vec(),
    };
    let view = s
        .app
        .record_acceptance_item(&c.principal, id, &code, None, None, vec![attachment])
        .await?;
    Ok((StatusCode::CREATED, Json(view.into())))
}

/// An attachment's bytes (each read audited).
#[utoipa::path(get, path = "/api/v1/programme/acceptances/{id}/attachments/{key}", tag = "programme", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Acceptance id"), ("key" = String, Path, description = "Attachment key")),
    responses((status = 200, content_type = "application/octet-stream", body = Vec<u8>), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_attachment(
    State(s): State<ApiState>,
    c: Caller,
    Path((id, key)): Path<(i64, String)>,
) -> ApiResult<Response> {
    if key.is_empty() || !key.chars().all(|ch| ch.is_ascii_hexdigit()) {
        return Err(AppError::NotFound { entity: "attachment" }.into());
    }
    let (bytes, content_type) = s
        .app
        .acceptance_attachment(&c.principal, id, &format!("acceptance/{id}/{key}"))
        .await?;
    Ok((
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "private, no-store".to_string()),
        ],
        bytes,
    )
        .into_response())
}

/// A responsible party (public security, housing and construction) approves or rejects; all
/// approving with every check passed accepts the project and computes its award.
#[utoipa::path(post, path = "/api/v1/programme/acceptances/{id}/signoffs", tag = "programme", security(("bearer" = [])), params(("id" = i64, Path, description = "Acceptance id")),
    request_body = SignRequest,
    responses((status = 200, body = AcceptanceDto), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn sign(
    State(s): State<ApiState>,
    c: Caller,
    Path(id): Path<i64>,
    Body(r): Body<SignRequest>,
) -> ApiResult<Json<AcceptanceDto>> {
    let approve = match r.decision.as_str() {
        "approve" => true,
        "reject" => false,
        other => {
            return Err(AppError::invalid(
                "invalid_decision",
                "decision",
                format!("'{other}' is not approve or reject"),
            )
            .into());
        }
    };
    let view = s
        .app
        .sign_acceptance(&c.principal, id, approve, r.note.as_deref().unwrap_or(""))
        .await?;
    Ok(Json(view.into()))
}

/// A district's yearly targets as entered.
#[utoipa::path(get, path = "/api/v1/programme/settings/targets", tag = "programme", security(("bearer" = [])), params(DistrictParam),
    responses((status = 200, body = TargetsDto), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_targets(
    State(s): State<ApiState>,
    c: Caller,
    Query(p): Query<DistrictParam>,
) -> ApiResult<Json<TargetsDto>> {
    let specs = s.app.programme_targets(&c.principal, &p.district).await?;
    Ok(Json(TargetsDto {
        items: specs
            .into_iter()
            .map(|t| TargetDto {
                scope: t.scope,
                year: t.year,
                segment: t.segment,
                metric: t.metric,
                percent: t.percent,
                source: t.source,
            })
            .collect(),
    }))
}

/// Replaces a district's targets (district level; validated as a set; audited).
#[utoipa::path(put, path = "/api/v1/programme/settings/targets", tag = "programme", security(("bearer" = [])), params(DistrictParam),
    request_body = TargetsDto,
    responses((status = 200, body = TargetsDto), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn set_targets(
    State(s): State<ApiState>,
    c: Caller,
    Query(p): Query<DistrictParam>,
    Body(r): Body<TargetsDto>,
) -> ApiResult<Json<TargetsDto>> {
    let specs: Vec<TargetSpec> = r
        .items
        .iter()
        .map(|t| TargetSpec {
            scope: t.scope.clone(),
            year: t.year,
            segment: t.segment.clone(),
            metric: t.metric.clone(),
            percent: t.percent,
            source: t.source.clone(),
        })
        .collect();
    s.app
        .set_programme_targets(&c.principal, &p.district, &specs)
        .await?;
    Ok(Json(r))
}

/// A district's award formula (the default until one is entered).
#[utoipa::path(get, path = "/api/v1/programme/settings/award-formula", tag = "programme", security(("bearer" = [])), params(DistrictParam),
    responses((status = 200, body = AwardFormulaDto), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_formula(
    State(s): State<ApiState>,
    c: Caller,
    Query(p): Query<DistrictParam>,
) -> ApiResult<Json<AwardFormulaDto>> {
    Ok(Json(s.app.award_formula(&c.principal, &p.district).await?.into()))
}

/// Sets a district's award formula (district level; audited).
#[utoipa::path(put, path = "/api/v1/programme/settings/award-formula", tag = "programme", security(("bearer" = [])), params(DistrictParam),
    request_body = AwardFormulaDto,
    responses((status = 200, body = AwardFormulaDto), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn set_formula(
    State(s): State<ApiState>,
    c: Caller,
    Query(p): Query<DistrictParam>,
    Body(r): Body<AwardFormulaDto>,
) -> ApiResult<Json<AwardFormulaDto>> {
    let formula = r.to_formula()?;
    s.app
        .set_award_formula(&c.principal, &p.district, &formula)
        .await?;
    Ok(Json(formula.into()))
}

/// A district's assessment weights.
#[utoipa::path(get, path = "/api/v1/programme/settings/assessment-weights", tag = "programme", security(("bearer" = [])), params(DistrictParam),
    responses((status = 200, body = WeightsDto), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_weights(
    State(s): State<ApiState>,
    c: Caller,
    Query(p): Query<DistrictParam>,
) -> ApiResult<Json<WeightsDto>> {
    let w = s.app.assessment_weights(&c.principal, &p.district).await?;
    Ok(Json(WeightsDto {
        coverage: w.coverage,
        networking: w.networking,
        alarm_sla: w.alarm_sla,
        maintenance_sla: w.maintenance_sla,
        data_quality: w.data_quality,
    }))
}

/// Sets a district's assessment weights (district level; audited).
#[utoipa::path(put, path = "/api/v1/programme/settings/assessment-weights", tag = "programme", security(("bearer" = [])), params(DistrictParam),
    request_body = WeightsDto,
    responses((status = 200, body = WeightsDto), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn set_weights(
    State(s): State<ApiState>,
    c: Caller,
    Query(p): Query<DistrictParam>,
    Body(r): Body<WeightsDto>,
) -> ApiResult<Json<WeightsDto>> {
    let weights = AssessmentWeights {
        coverage: r.coverage,
        networking: r.networking,
        alarm_sla: r.alarm_sla,
        maintenance_sla: r.maintenance_sla,
        data_quality: r.data_quality,
    };
    s.app
        .set_assessment_weights(&c.principal, &p.district, &weights)
        .await?;
    Ok(Json(r))
}

/// A district's acceptance rules.
#[utoipa::path(get, path = "/api/v1/programme/settings/acceptance-rules", tag = "programme", security(("bearer" = [])), params(DistrictParam),
    responses((status = 200, body = AcceptanceRulesDto), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_rules(
    State(s): State<ApiState>,
    c: Caller,
    Query(p): Query<DistrictParam>,
) -> ApiResult<Json<AcceptanceRulesDto>> {
    let r = s.app.acceptance_rules(&c.principal, &p.district).await?;
    Ok(Json(AcceptanceRulesDto {
        min_networked_pct: r.min_networked_pct,
        data_days: r.data_days,
    }))
}

/// Sets a district's acceptance rules (district level; audited).
#[utoipa::path(put, path = "/api/v1/programme/settings/acceptance-rules", tag = "programme", security(("bearer" = [])), params(DistrictParam),
    request_body = AcceptanceRulesDto,
    responses((status = 200, body = AcceptanceRulesDto), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn set_rules(
    State(s): State<ApiState>,
    c: Caller,
    Query(p): Query<DistrictParam>,
    Body(r): Body<AcceptanceRulesDto>,
) -> ApiResult<Json<AcceptanceRulesDto>> {
    let rules = AcceptanceRules {
        min_networked_pct: r.min_networked_pct,
        data_days: r.data_days,
    };
    s.app
        .set_acceptance_rules(&c.principal, &p.district, &rules)
        .await?;
    Ok(Json(r))
}

/// The maintenance contractors with their repair SLAs.
#[utoipa::path(get, path = "/api/v1/programme/contractors", tag = "programme", security(("bearer" = [])),
    responses((status = 200, body = ItemsDto<ContractorDto>), (status = 403, body = ErrorBody)))]
pub async fn list_contractors(
    State(s): State<ApiState>,
    c: Caller,
) -> ApiResult<Json<ItemsDto<ContractorDto>>> {
    let rows = s.app.list_contractors(&c.principal).await?;
    Ok(Json(ItemsDto::of(rows.iter(), ContractorDto::from)))
}

/// Enters or updates a contractor's repair SLA (district level; audited).
#[utoipa::path(post, path = "/api/v1/programme/contractors", tag = "programme", security(("bearer" = [])),
    request_body = ContractorDto,
    responses((status = 200, body = ItemsDto<ContractorDto>), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn set_contractor(
    State(s): State<ApiState>,
    c: Caller,
    Body(r): Body<ContractorDto>,
) -> ApiResult<Json<ItemsDto<ContractorDto>>> {
    s.app
        .set_contractor(&c.principal, &r.name, r.sla_hours, &r.contact)
        .await?;
    list_contractors(State(s), c).await
}

fn period(s: &ApiState, p: &PeriodParams) -> ApiResult<(i64, i64)> {
    let parse = crate::handlers::ms_of;
    let until = parse("until", p.until.as_deref())?.unwrap_or(s.app.clock().now_ms() + 1);
    let since = parse("since", p.since.as_deref())?.unwrap_or(until - 30 * prog::DAY_MS);
    if since >= until {
        return Err(AppError::invalid("invalid_period", "since", "since is before until").into());
    }
    Ok((since, until))
}

/// Maintenance tickets in the caller's scope open at some time in the period.
#[utoipa::path(get, path = "/api/v1/programme/tickets", tag = "programme", security(("bearer" = [])), params(PeriodParams),
    responses((status = 200, body = ItemsDto<TicketDto>), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn list_tickets(
    State(s): State<ApiState>,
    c: Caller,
    Query(p): Query<PeriodParams>,
) -> ApiResult<Json<ItemsDto<TicketDto>>> {
    let (since, until) = period(&s, &p)?;
    let rows = s
        .app
        .list_tickets(&c.principal, since, until, p.open.unwrap_or(false))
        .await?;
    Ok(Json(ItemsDto::of(rows.iter(), TicketDto::from)))
}

/// Closes a ticket by hand with what was repaired.
#[utoipa::path(post, path = "/api/v1/programme/tickets/{id}/resolve", tag = "programme", security(("bearer" = [])), params(("id" = i64, Path, description = "Ticket id")),
    request_body = ResolveTicketRequest,
    responses((status = 200, body = TicketDto), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn resolve_ticket(
    State(s): State<ApiState>,
    c: Caller,
    Path(id): Path<i64>,
    Body(r): Body<ResolveTicketRequest>,
) -> ApiResult<Json<TicketDto>> {
    let t = s.app.resolve_ticket(&c.principal, id, &r.note).await?;
    Ok(Json((&t).into()))
}

/// Repairs, repair times and SLA breaches per contractor over the period.
#[utoipa::path(get, path = "/api/v1/programme/maintenance", tag = "programme", security(("bearer" = [])), params(PeriodParams),
    responses((status = 200, body = ItemsDto<MaintenanceDto>), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn maintenance(
    State(s): State<ApiState>,
    c: Caller,
    Query(p): Query<PeriodParams>,
) -> ApiResult<Json<ItemsDto<MaintenanceDto>>> {
    let (since, until) = period(&s, &p)?;
    let rows = s
        .app
        .maintenance_by_contractor(&c.principal, since, until)
        .await?;
    Ok(Json(ItemsDto::of(rows.iter(), MaintenanceDto::from)))
}

/// Which export.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ExportParams {
    /// The district's 6-digit code (required for `progress` and `assessment`).
    pub district: Option<String>,
    /// `YYYY-MM` (`assessment`; default this month).
    pub month: Option<String>,
}

/// A report as an Excel workbook holding the very rows of its JSON report: `tasks` (the
/// annex-style task table), `progress` (progress against the targets by street and year) or
/// `assessment` (the month's street scores). Audited.
#[utoipa::path(get, path = "/api/v1/programme/exports/{report}", tag = "programme", security(("bearer" = [])),
    params(("report" = String, Path, description = "tasks, progress or assessment"), ExportParams),
    responses((status = 200, content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", body = Vec<u8>),
        (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn export(
    State(s): State<ApiState>,
    c: Caller,
    Path(report): Path<String>,
    Query(p): Query<ExportParams>,
) -> ApiResult<Response> {
    let district = |p: &ExportParams| -> ApiResult<String> {
        p.district.clone().ok_or_else(|| {
            AppError::invalid(
                "missing_district",
                "district",
                "say which district (its 6-digit code)",
            )
            .into()
        })
    };
    let (name, bytes) = match report.as_str() {
        "tasks" => (
            format!("任务表-{}", p.district.as_deref().unwrap_or("全部")),
            s.app
                .export_task_table(&c.principal, p.district.as_deref())
                .await?,
        ),
        "progress" => {
            let d = district(&p)?;
            (
                format!("目标完成情况-{d}"),
                s.app.export_progress(&c.principal, &d).await?,
            )
        }
        "assessment" => {
            let d = district(&p)?;
            let month = month_or_now(&s, p.month.clone());
            (
                format!("街道考核-{d}-{month}"),
                s.app.export_assessment(&c.principal, &d, &month).await?,
            )
        }
        other => {
            return Err(ApiError::new(
                StatusCode::NOT_FOUND,
                "no_such_report",
                format!("no report '{other}'; there are tasks, progress and assessment"),
            ));
        }
    };
    Ok(crate::handlers::xlsx_named(
        &format!("programme-{report}"),
        Some(&name),
        bytes,
    ))
}
