//! Acceptance (验收) and money: a request evaluates a checklist from the live data (kit
//! present, networked share, data flowing for N days, a non-face way in at every door, a
//! consent behind every enrolled face) beside manual items with attachments (the public-video
//! rules: signage where cameras record, no camera on private space; the as-built documents);
//! public security and housing and construction sign it off; accepted moves the project and
//! computes its award (以奖代补) by the district's formula. The funding ledger keeps planned
//! and actual shares per source.

use crate::programme::{
    ACCEPTANCE_RULES, AWARD_FORMULA, AcceptanceRules, CommunityFigures, DEFAULT_WINDOW_DAYS,
};
use crate::{App, AppError, AppResult, Permission, Principal};
use anfang_domain::model::{DeviceKind, PlaceKind, Role};
use anfang_domain::programme::{self, AwardFormula, AwardInputs, FundingMode, FundingSource, Stage};
use anfang_store::*;
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::{BTreeMap, BTreeSet};

/// The manual items every acceptance has: (code, label, needs an attachment).
pub const MANUAL_ITEMS: &[(&str, &str)] = &[
    ("signage", "公共视频图像采集区域设置提示标识"),
    ("no_private_space", "摄像机未覆盖住宅内部等私密空间"),
    ("as_built_documents", "设计、施工、检测及竣工资料齐全"),
];

/// The parties whose sign-off accepts a project.
pub const PARTIES: &[(&str, &str)] = &[
    ("public_security", "公安机关"),
    ("housing_construction", "住房城乡建设部门"),
];

/// Largest attachment (bytes).
pub const MAX_ATTACHMENT: usize = 8 * 1024 * 1024;

/// One live check.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Check {
    /// Code: `kit_complete`, `networked_share`, `data_flowing`, `non_face_credential`, `consent`.
    pub code: String,
    /// Label.
    pub label: String,
    /// Passed.
    pub passed: bool,
    /// What was measured.
    pub detail: String,
}

/// One manual item as recorded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ManualItem {
    /// Code.
    pub code: String,
    /// Label.
    pub label: String,
    /// Passed (none until recorded).
    pub passed: Option<bool>,
    /// Note.
    pub note: String,
    /// Attachments: (image-store key, file name, content type).
    pub attachments: Vec<(String, String, String)>,
    /// Who recorded it.
    pub by: Option<String>,
    /// When (ms).
    pub at: Option<i64>,
}

/// An acceptance as shown.
#[derive(Debug, Clone, PartialEq)]
pub struct AcceptanceView {
    /// Id.
    pub id: i64,
    /// Project.
    pub project_id: i64,
    /// `open`, `accepted`, `rejected`.
    pub status: String,
    /// Requested (ms).
    pub requested_at: i64,
    /// By.
    pub requested_by: String,
    /// Live checks.
    pub checks: Vec<Check>,
    /// Manual items.
    pub items: Vec<ManualItem>,
    /// Sign-offs: (party, decision, who, when, note).
    pub signoffs: Vec<SignoffRow>,
    /// Decided (ms).
    pub decided_at: Option<i64>,
}

/// A file to attach.
#[derive(Debug, Clone)]
pub struct Attachment {
    /// File name.
    pub name: String,
    /// `image/jpeg`, `image/png`, `application/pdf`.
    pub content_type: String,
    /// Bytes.
    pub bytes: Vec<u8>,
}

/// A project's ledger and award.
#[derive(Debug, Clone, PartialEq)]
pub struct Funding {
    /// Project.
    pub project_id: i64,
    /// Planned per source (fen).
    pub planned: BTreeMap<FundingSource, i64>,
    /// Actual per source (fen).
    pub actual: BTreeMap<FundingSource, i64>,
    /// Lines.
    pub lines: Vec<FundingEntryRow>,
    /// The award, once accepted.
    pub award: Option<AwardRow>,
}

fn party_of(role: Role) -> Option<&'static str> {
    match role {
        Role::CommunityPolice | Role::StationOfficer => Some("public_security"),
        Role::HousingConstruction => Some("housing_construction"),
        _ => None,
    }
}

fn json_text<T: Serialize>(v: &T) -> AppResult<String> {
    serde_json::to_string(v).map_err(|e| AppError::Internal(e.to_string()))
}

impl App {
    /// Evaluates the live checks for a community.
    async fn live_checks(
        &self,
        tx: &mut Box<dyn Tx>,
        figures: &CommunityFigures,
        rules: &AcceptanceRules,
    ) -> AppResult<Vec<Check>> {
        let c = &figures.compliance;
        let mut checks = vec![Check {
            code: "kit_complete".into(),
            label: "按类别配齐前端设备".into(),
            passed: c.complete(),
            detail: format!("{}/{} 个点位达标", c.met(), c.required()),
        }];
        let pct = figures.total.networked_pct().unwrap_or(0.0);
        let share_met = figures.total.networked as f64 * 100.0
            >= rules.min_networked_pct * figures.total.installed as f64;
        checks.push(Check {
            code: "networked_share".into(),
            label: format!("设备联网率不低于{}%", rules.min_networked_pct),
            passed: figures.total.installed > 0 && share_met,
            detail: format!(
                "{}/{} 台联网（{pct}%）",
                figures.total.networked, figures.total.installed
            ),
        });
        checks.push(Check {
            code: "data_flowing".into(),
            label: format!("近{}天（含当天）每天有业务数据", rules.data_days),
            passed: figures.data_days >= rules.data_days,
            detail: format!("{} 天有数据", figures.data_days),
        });
        // A non-face way in at every door: a card reader, or a device known to offer a card,
        // QR code or PIN.
        let filter = Filter {
            community_id: Some(figures.community_id),
            ..Filter::default()
        };
        let places = tx.list_places(&filter, Page::ALL).await?.items;
        let devices = tx.list_devices(&filter, Page::ALL).await?.items;
        let mut doors = 0;
        let mut without = Vec::new();
        for place in places.iter().filter(|p| {
            matches!(
                PlaceKind::parse(&p.kind),
                Ok(PlaceKind::UnitDoor | PlaceKind::PedestrianEntrance)
            )
        }) {
            let at: Vec<&DeviceRow> = devices
                .iter()
                .filter(|d| d.place_id == Some(place.id))
                .filter(|d| {
                    matches!(
                        DeviceKind::parse(&d.kind),
                        Ok(DeviceKind::FaceDoorTerminal | DeviceKind::DoorController)
                    )
                })
                .collect();
            if at.is_empty() {
                continue;
            }
            doors += 1;
            let other_way = at.iter().any(|d| {
                d.kind == DeviceKind::DoorController.as_str()
                    || d.accepts
                        .as_deref()
                        .is_some_and(|a| a.split(',').any(|k| matches!(k, "card" | "qr" | "pin")))
            });
            if !other_way {
                without.push(place.name.clone());
            }
        }
        checks.push(Check {
            code: "non_face_credential".into(),
            label: "每个门禁点提供非人脸通行方式".into(),
            passed: without.is_empty(),
            detail: if without.is_empty() {
                format!("{doors} 个门禁点均可刷卡/扫码/密码通行")
            } else {
                format!(
                    "{}/{doors} 个门禁点未确认非人脸方式：{}",
                    without.len(),
                    without.join("、")
                )
            },
        });
        // Every enrolled face has an active consent behind it.
        let persons = tx.list_persons(&filter, Page::ALL).await?.items;
        let now = self.clock.now_ms();
        let (mut faces, mut missing) = (0, 0);
        for p in &persons {
            if tx.face_photo(p.id).await?.is_some() {
                faces += 1;
                let consented = tx
                    .consents(p.id)
                    .await?
                    .iter()
                    .any(|c| c.purpose == "face_access" && c.revoked_at.is_none_or(|r| r > now));
                missing += usize::from(!consented);
            }
        }
        checks.push(Check {
            code: "consent".into(),
            label: "人脸信息均有有效授权记录".into(),
            passed: missing == 0,
            detail: format!("{faces} 人录入人脸，{missing} 人缺少有效授权"),
        });
        Ok(checks)
    }

    /// The community measured over the rules' days: whole CST days, today included, so "data
    /// on every day" is `data_days` distinct days with data.
    async fn figures_for(
        &self,
        tx: &mut Box<dyn Tx>,
        community_id: i64,
        rules: &AcceptanceRules,
    ) -> AppResult<CommunityFigures> {
        let now = self.clock.now_ms();
        let today =
            (now + 28_800_000).div_euclid(crate::programme::DAY_MS) * crate::programme::DAY_MS - 28_800_000;
        let mut window = self.programme_window(DEFAULT_WINDOW_DAYS, None);
        window.since = today - (rules.data_days.max(1) - 1) * crate::programme::DAY_MS;
        self.measure(tx, Some(&BTreeSet::from([community_id])), window)
            .await?
            .communities
            .pop()
            .ok_or(AppError::NotFound { entity: "community" })
    }

    /// Requests acceptance of a self-checked project: evaluates the live checklist and opens
    /// the manual items; the project moves to `acceptance_requested`.
    pub async fn request_acceptance(&self, who: &Principal, project_id: i64) -> AppResult<AcceptanceView> {
        who.require(Permission::ManageProgramme)?;
        let mut tx = self.store.write().await?;
        let project = Self::project_in_scope(&mut tx, who, project_id).await?;
        if project.stage != Stage::SelfChecked.as_str() {
            return Err(AppError::Conflict {
                code: "invalid_stage_move",
                message: format!(
                    "acceptance is requested after the self-check; the project is at '{}'",
                    project.stage
                ),
            });
        }
        let district = Self::district_of(&mut tx, project.community_id).await?;
        let rules = self
            .programme_setting_of(&mut tx, &district, ACCEPTANCE_RULES, AcceptanceRules::default())
            .await?;
        let figures = self.figures_for(&mut tx, project.community_id, &rules).await?;
        let checks = self.live_checks(&mut tx, &figures, &rules).await?;
        let items: Vec<ManualItem> = MANUAL_ITEMS
            .iter()
            .map(|(code, label)| ManualItem {
                code: (*code).into(),
                label: (*label).into(),
                passed: None,
                note: String::new(),
                attachments: Vec::new(),
                by: None,
                at: None,
            })
            .collect();
        let now = self.clock.now_ms();
        let id = tx
            .insert_acceptance(&AcceptanceRow {
                id: 0,
                project_id,
                status: "open".into(),
                requested_at: now,
                requested_by: who.actor(),
                checklist: json_text(&checks)?,
                items: json_text(&items)?,
                decided_at: None,
            })
            .await?;
        self.set_stage(
            &mut tx,
            project_id,
            Stage::AcceptanceRequested,
            now,
            &who.actor(),
            "",
        )
        .await?;
        let audit = self
            .audit(
                &mut tx,
                &who.actor(),
                "programme.acceptance_request",
                &format!("acceptance:{id}"),
                json!({"project": project_id, "checks": checks.iter().filter(|c| c.passed).count()}),
            )
            .await?;
        self.commit(tx, Some(&audit)).await?;
        self.acceptance_view(who, id).await
    }

    async fn set_stage(
        &self,
        tx: &mut Box<dyn Tx>,
        project_id: i64,
        stage: Stage,
        at: i64,
        actor: &str,
        note: &str,
    ) -> AppResult<()> {
        tx.set_project_stage(project_id, stage.as_str(), at, None).await?;
        tx.insert_project_stage(&ProjectStageRow {
            id: 0,
            project_id,
            stage: stage.as_str().into(),
            at,
            actor: actor.into(),
            note: note.into(),
        })
        .await?;
        Ok(())
    }

    async fn open_acceptance(
        &self,
        tx: &mut Box<dyn Tx>,
        who: &Principal,
        id: i64,
    ) -> AppResult<(AcceptanceRow, BuildProjectRow)> {
        let row = tx
            .acceptance(id)
            .await?
            .ok_or(AppError::NotFound { entity: "acceptance" })?;
        let project = tx
            .build_project(row.project_id)
            .await?
            .ok_or(AppError::NotFound { entity: "acceptance" })?;
        who.scope
            .check_whole_community(project.community_id, "acceptance")?;
        Ok((row, project))
    }

    /// An acceptance with its checks, items and sign-offs.
    pub async fn acceptance_view(&self, who: &Principal, id: i64) -> AppResult<AcceptanceView> {
        who.require(Permission::ReadProgramme)?;
        let mut tx = self.store.read().await?;
        let (row, _) = self.open_acceptance(&mut tx, who, id).await?;
        let signoffs = tx.signoffs(id).await?;
        Ok(AcceptanceView {
            id: row.id,
            project_id: row.project_id,
            status: row.status,
            requested_at: row.requested_at,
            requested_by: row.requested_by,
            checks: serde_json::from_str(&row.checklist).unwrap_or_default(),
            items: serde_json::from_str(&row.items).unwrap_or_default(),
            signoffs,
            decided_at: row.decided_at,
        })
    }

    /// A project's acceptances, newest first.
    pub async fn project_acceptances(
        &self,
        who: &Principal,
        project_id: i64,
    ) -> AppResult<Vec<AcceptanceView>> {
        who.require(Permission::ReadProgramme)?;
        let ids: Vec<i64> = {
            let mut tx = self.store.read().await?;
            Self::project_in_scope(&mut tx, who, project_id).await?;
            tx.acceptances(project_id).await?.iter().map(|a| a.id).collect()
        };
        let mut out = Vec::new();
        for id in ids {
            out.push(self.acceptance_view(who, id).await?);
        }
        Ok(out)
    }

    /// Records a manual item's verdict and note and adds attachments (photos or PDF, sealed by
    /// the vault); a verdict or note left out keeps what was recorded, so evidence may be
    /// uploaded first and the verdict given later. A pass needs evidence.
    pub async fn record_acceptance_item(
        &self,
        who: &Principal,
        id: i64,
        code: &str,
        passed: Option<bool>,
        note: Option<&str>,
        attachments: Vec<Attachment>,
    ) -> AppResult<AcceptanceView> {
        if !who.role.allows(Permission::ManageProgramme) && !who.role.allows(Permission::SignAcceptance) {
            return Err(AppError::Forbidden(
                "recording acceptance items needs the programme or sign-off permission".into(),
            ));
        }
        if note.is_some_and(|n| n.chars().count() > 500) {
            return Err(AppError::invalid(
                "invalid_value",
                "note",
                "a note is at most 500 characters",
            ));
        }
        if attachments.len() > 10 {
            return Err(AppError::invalid(
                "too_many",
                "attachments",
                "at most 10 attachments per item",
            ));
        }
        for a in &attachments {
            if !matches!(
                a.content_type.as_str(),
                "image/jpeg" | "image/png" | "application/pdf"
            ) {
                return Err(AppError::invalid(
                    "invalid_attachment",
                    "attachments",
                    "attachments are JPEG, PNG or PDF",
                ));
            }
            if a.bytes.is_empty() || a.bytes.len() > MAX_ATTACHMENT {
                return Err(AppError::invalid(
                    "invalid_attachment",
                    "attachments",
                    format!("an attachment is 1 byte to {} MiB", MAX_ATTACHMENT / 1024 / 1024),
                ));
            }
            let name_ok = !a.name.trim().is_empty() && a.name.chars().count() <= 100;
            if !name_ok {
                return Err(AppError::invalid(
                    "invalid_attachment",
                    "attachments",
                    "a file name is 1–100 characters",
                ));
            }
        }
        {
            let mut tx = self.store.read().await?;
            let (row, _) = self.open_acceptance(&mut tx, who, id).await?;
            if row.status != "open" {
                return Err(AppError::Conflict {
                    code: "acceptance_closed",
                    message: format!("the acceptance is {}", row.status),
                });
            }
            let items: Vec<ManualItem> = serde_json::from_str(&row.items).unwrap_or_default();
            let item = items.iter().find(|i| i.code == code).ok_or_else(|| {
                AppError::invalid(
                    "invalid_item",
                    "code",
                    format!("'{code}' is not an item of this acceptance"),
                )
            })?;
            // Evidence attached earlier counts: a photo may come first and the verdict later.
            if passed == Some(true) && attachments.is_empty() && item.attachments.is_empty() {
                return Err(AppError::invalid(
                    "attachment_required",
                    "attachments",
                    "a passed item needs its evidence: a photo or document",
                ));
            }
        }
        // Files first (sealed), then the row: an orphan file is harmless, a row without its file is not.
        let mut stored = Vec::new();
        for a in &attachments {
            let key = format!("acceptance/{id}/{}", hex::encode(anfang_base::random_bytes(12)));
            let sealed = self.vault.encrypt_bytes(&format!("attachment:{key}"), &a.bytes)?;
            self.images
                .put(&key, &sealed)
                .await
                .map_err(|e| AppError::Unavailable {
                    code: "storage_unavailable",
                    message: e,
                })?;
            stored.push((key, a.name.trim().to_string(), a.content_type.clone()));
        }
        let mut tx = self.store.write().await?;
        let (mut row, _) = self.open_acceptance(&mut tx, who, id).await?;
        if row.status != "open" {
            return Err(AppError::Conflict {
                code: "acceptance_closed",
                message: format!("the acceptance is {}", row.status),
            });
        }
        let mut items: Vec<ManualItem> = serde_json::from_str(&row.items).unwrap_or_default();
        let item = items.iter_mut().find(|i| i.code == code).ok_or_else(|| {
            AppError::invalid(
                "invalid_item",
                "code",
                format!("'{code}' is not an item of this acceptance"),
            )
        })?;
        if let Some(passed) = passed {
            item.passed = Some(passed);
        }
        if let Some(note) = note {
            item.note = note.trim().to_string();
        }
        item.attachments.extend(stored);
        item.by = Some(who.actor());
        item.at = Some(self.clock.now_ms());
        row.items = json_text(&items)?;
        tx.update_acceptance(&row).await?;
        let audit = self
            .audit(
                &mut tx,
                &who.actor(),
                "programme.acceptance_item",
                &format!("acceptance:{id}"),
                json!({"code": code, "passed": passed, "attachments": attachments.len()}),
            )
            .await?;
        self.commit(tx, Some(&audit)).await?;
        self.acceptance_view(who, id).await
    }

    /// An attachment's bytes and content type (audited).
    pub async fn acceptance_attachment(
        &self,
        who: &Principal,
        id: i64,
        key: &str,
    ) -> AppResult<(Vec<u8>, String)> {
        let view = self.acceptance_view(who, id).await?;
        let (_, _, content_type) = view
            .items
            .iter()
            .flat_map(|i| i.attachments.iter())
            .find(|(k, _, _)| k == key)
            .cloned()
            .ok_or(AppError::NotFound { entity: "attachment" })?;
        let sealed = self
            .images
            .get(key)
            .await
            .map_err(|e| AppError::Unavailable {
                code: "storage_unavailable",
                message: e,
            })?
            .ok_or(AppError::NotFound { entity: "attachment" })?;
        let bytes = self.vault.decrypt_bytes(&format!("attachment:{key}"), &sealed)?;
        self.audit_now(
            &who.actor(),
            "programme.attachment_view",
            &format!("acceptance:{id}"),
            json!({"key": key}),
        )
        .await?;
        Ok((bytes, content_type))
    }

    /// A responsible party signs: approve or reject. All parties approving, with every live
    /// check (re-evaluated now) and manual item passed, accepts the project and computes its
    /// award; one rejection sends it back to `self_checked`.
    pub async fn sign_acceptance(
        &self,
        who: &Principal,
        id: i64,
        approve: bool,
        note: &str,
    ) -> AppResult<AcceptanceView> {
        who.require(Permission::SignAcceptance)?;
        let party = party_of(who.role)
            .ok_or_else(|| AppError::Forbidden("this role signs for no department".into()))?;
        if note.chars().count() > 500 {
            return Err(AppError::invalid(
                "invalid_value",
                "note",
                "a note is at most 500 characters",
            ));
        }
        let mut tx = self.store.write().await?;
        let (mut row, project) = self.open_acceptance(&mut tx, who, id).await?;
        if row.status != "open" {
            return Err(AppError::Conflict {
                code: "acceptance_closed",
                message: format!("the acceptance is {}", row.status),
            });
        }
        if tx.signoffs(id).await?.iter().any(|s| s.party == party) {
            return Err(AppError::Conflict {
                code: "already_signed",
                message: format!("{party} has signed this acceptance"),
            });
        }
        let now = self.clock.now_ms();
        let district = Self::district_of(&mut tx, project.community_id).await?;
        let rules = self
            .programme_setting_of(&mut tx, &district, ACCEPTANCE_RULES, AcceptanceRules::default())
            .await?;
        let figures = self.figures_for(&mut tx, project.community_id, &rules).await?;
        let checks = self.live_checks(&mut tx, &figures, &rules).await?;
        let items: Vec<ManualItem> = serde_json::from_str(&row.items).unwrap_or_default();
        if approve {
            let failing: Vec<String> = checks
                .iter()
                .filter(|c| !c.passed)
                .map(|c| c.label.clone())
                .chain(
                    items
                        .iter()
                        .filter(|i| i.passed != Some(true))
                        .map(|i| i.label.clone()),
                )
                .collect();
            if !failing.is_empty() {
                return Err(AppError::Conflict {
                    code: "checklist_incomplete",
                    message: format!("not yet passed: {}", failing.join("；")),
                });
            }
        }
        tx.insert_signoff(&SignoffRow {
            acceptance_id: id,
            party: party.into(),
            decision: if approve { "approve" } else { "reject" }.into(),
            actor: who.actor(),
            at: now,
            note: note.trim().into(),
        })
        .await?;
        row.checklist = json_text(&checks)?;
        let signed: BTreeSet<String> = tx
            .signoffs(id)
            .await?
            .into_iter()
            .filter(|s| s.decision == "approve")
            .map(|s| s.party)
            .collect();
        let mut award = None;
        if !approve {
            row.status = "rejected".into();
            row.decided_at = Some(now);
            self.set_stage(
                &mut tx,
                project.id,
                Stage::SelfChecked,
                now,
                &who.actor(),
                note.trim(),
            )
            .await?;
        } else if PARTIES.iter().all(|(p, _)| signed.contains(*p)) {
            row.status = "accepted".into();
            row.decided_at = Some(now);
            self.set_stage(&mut tx, project.id, Stage::Accepted, now, &who.actor(), "")
                .await?;
            award = Some(self.compute_award(&mut tx, &project, &figures, now).await?);
        }
        tx.update_acceptance(&row).await?;
        let audit = self
            .audit(
                &mut tx,
                &who.actor(),
                "programme.acceptance_sign",
                &format!("acceptance:{id}"),
                json!({"party": party, "approve": approve, "status": row.status, "award_fen": award}),
            )
            .await?;
        self.commit(tx, Some(&audit)).await?;
        self.acceptance_view(who, id).await
    }

    async fn compute_award(
        &self,
        tx: &mut Box<dyn Tx>,
        project: &BuildProjectRow,
        figures: &CommunityFigures,
        now: i64,
    ) -> AppResult<i64> {
        let formula = self
            .programme_setting_of(tx, &figures.district_code, AWARD_FORMULA, AwardFormula::default())
            .await?;
        let mut actual = BTreeMap::new();
        for line in tx.funding_entries(Some(&[project.id])).await? {
            if line.kind == "actual"
                && let Ok(source) = FundingSource::parse(&line.source)
            {
                *actual.entry(source).or_insert(0) += line.amount_fen;
            }
        }
        let inputs = AwardInputs {
            mode: FundingMode::parse(&project.funding_mode).unwrap_or(FundingMode::CoFunded),
            required_places: figures.compliance.required() as i64,
            actual,
            on_time: now < programme::year_end_ms(project.planned_year as i32),
        };
        let award = programme::award(&formula, &inputs);
        if award.eligible {
            tx.insert_award(&AwardRow {
                project_id: project.id,
                amount_fen: award.amount_fen,
                detail: json_text(&json!({"formula": formula, "inputs": inputs, "lines": award.lines}))?,
                status: "computed".into(),
                computed_at: now,
                approved_at: None,
                approved_by: None,
                paid_at: None,
                paid_by: None,
                voucher: None,
            })
            .await?;
        }
        Ok(award.amount_fen)
    }

    /// A project's ledger and award.
    pub async fn project_funding(&self, who: &Principal, project_id: i64) -> AppResult<Funding> {
        who.require(Permission::ReadProgramme)?;
        let mut tx = self.store.read().await?;
        Self::project_in_scope(&mut tx, who, project_id).await?;
        let lines = tx.funding_entries(Some(&[project_id])).await?;
        let mut planned = BTreeMap::new();
        let mut actual = BTreeMap::new();
        for line in &lines {
            if let Ok(source) = FundingSource::parse(&line.source) {
                let map = if line.kind == "planned" {
                    &mut planned
                } else {
                    &mut actual
                };
                *map.entry(source).or_insert(0) += line.amount_fen;
            }
        }
        Ok(Funding {
            project_id,
            planned,
            actual,
            lines,
            award: tx.awards(Some(&[project_id])).await?.pop(),
        })
    }

    /// Adds a line to a project's ledger: `planned` replaces nothing (lines add up), `actual`
    /// records a payment (a negative one corrects an earlier line).
    pub async fn add_funding(
        &self,
        who: &Principal,
        project_id: i64,
        source: &str,
        kind: &str,
        amount_fen: i64,
        note: &str,
    ) -> AppResult<Funding> {
        who.require(Permission::ManageProgramme)?;
        let source = FundingSource::parse(source).map_err(|e| AppError::field("source", e))?;
        if !matches!(kind, "planned" | "actual") {
            return Err(AppError::invalid(
                "invalid_value",
                "kind",
                "a funding line is planned or actual",
            ));
        }
        if amount_fen == 0 || amount_fen.abs() > 100_000_000_000 {
            return Err(AppError::invalid(
                "invalid_amount",
                "amount_fen",
                "an amount is non-zero fen, at most 1 000 000 000 yuan",
            ));
        }
        if note.chars().count() > 200 {
            return Err(AppError::invalid(
                "invalid_value",
                "note",
                "a note is at most 200 characters",
            ));
        }
        let mut tx = self.store.write().await?;
        Self::project_in_scope(&mut tx, who, project_id).await?;
        let id = tx
            .insert_funding_entry(&FundingEntryRow {
                id: 0,
                project_id,
                source: source.as_str().into(),
                kind: kind.into(),
                amount_fen,
                note: note.trim().into(),
                at: self.clock.now_ms(),
                actor: who.actor(),
            })
            .await?;
        let audit = self
            .audit(
                &mut tx,
                &who.actor(),
                "programme.funding",
                &format!("project:{project_id}"),
                json!({"line": id, "source": source.as_str(), "kind": kind, "amount_fen": amount_fen}),
            )
            .await?;
        self.commit(tx, Some(&audit)).await?;
        self.project_funding(who, project_id).await
    }

    /// Approves an award, then records it paid with the voucher (district level only).
    pub async fn set_award_status(
        &self,
        who: &Principal,
        project_id: i64,
        status: &str,
        voucher: Option<&str>,
    ) -> AppResult<Funding> {
        who.require(Permission::ManageProgramme)?;
        if !who.scope.all {
            return Err(AppError::Forbidden(
                "awards are approved and paid at district level".into(),
            ));
        }
        let mut tx = self.store.write().await?;
        let mut award = tx
            .awards(Some(&[project_id]))
            .await?
            .pop()
            .ok_or(AppError::NotFound { entity: "award" })?;
        let now = self.clock.now_ms();
        match (award.status.as_str(), status) {
            ("computed", "approved") => {
                award.approved_at = Some(now);
                award.approved_by = Some(who.actor());
            }
            ("approved", "paid") => {
                let voucher = voucher
                    .map(str::trim)
                    .filter(|v| !v.is_empty() && v.chars().count() <= 50);
                let Some(voucher) = voucher else {
                    return Err(AppError::invalid(
                        "invalid_value",
                        "voucher",
                        "a payment needs its voucher number (1–50 characters)",
                    ));
                };
                award.paid_at = Some(now);
                award.paid_by = Some(who.actor());
                award.voucher = Some(voucher.into());
            }
            (from, to) => {
                return Err(AppError::Conflict {
                    code: "invalid_award_step",
                    message: format!(
                        "an award goes computed → approved → paid; it is {from}, not ready for {to}"
                    ),
                });
            }
        }
        award.status = status.into();
        tx.update_award(&award).await?;
        let audit = self
            .audit(
                &mut tx,
                &who.actor(),
                "programme.award",
                &format!("project:{project_id}"),
                json!({"status": status, "amount_fen": award.amount_fen, "voucher": award.voucher}),
            )
            .await?;
        self.commit(tx, Some(&audit)).await?;
        self.project_funding(who, project_id).await
    }
}
