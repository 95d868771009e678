//! Capture records: faces, persons and vehicles that capture cameras upload (GA/T 1400). Each
//! object becomes one record with its pictures sealed in the image store; identity is (camera,
//! record id, content hash), so a repeated upload is answered as stored without a second
//! record, while a reused id with other content is kept as another record. Records are
//! listed within the caller's scope.

use crate::cascade::Sends;
use crate::live::LiveEvent;
use crate::{App, AppError, AppResult, Permission, Principal};
use anfang_domain::warning::WarningKind;
use anfang_store::*;
use serde_json::json;

/// One object to store.
#[derive(Debug, Clone, PartialEq)]
pub struct NewCapture {
    /// `face`, `person`, `motor_vehicle`, `non_motor_vehicle`.
    pub kind: &'static str,
    /// The camera that captured it (its 20-digit code), when the object names a registered one.
    pub camera_code: Option<String>,
    /// Its id as uploaded.
    pub record_id: String,
    /// Capture time (ms); arrival time when absent.
    pub shot_at_ms: Option<i64>,
    /// The plate, for vehicles.
    pub plate: Option<String>,
    /// The analytics event the camera attached (GA/T 1400 `EventSort`, a behaviour), if any:
    /// an alarm when it is one (`AlarmKind::from_video_event`).
    pub event: Option<String>,
    /// Its fields without image data (JSON).
    pub attributes_json: String,
    /// Its pictures (bytes).
    pub images: Vec<Vec<u8>>,
    /// Hex SHA-256 of the object as uploaded.
    pub content_hash: String,
}

/// What became of one object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaptureOutcome {
    /// Stored now.
    Stored,
    /// The same upload was stored before.
    Duplicate,
}

/// Which records.
#[derive(Debug, Clone, Default)]
pub struct CaptureQuery {
    /// Community.
    pub community_id: Option<i64>,
    /// Camera.
    pub device_id: Option<i64>,
    /// Kind.
    pub kind: Option<String>,
    /// Plate.
    pub plate: Option<String>,
    /// From (ms, inclusive).
    pub since: Option<i64>,
    /// Until (ms, exclusive).
    pub until: Option<i64>,
}

/// The vault context of capture pictures.
pub(crate) const CAPTURE_CONTEXT: &str = "capture_image";

impl App {
    /// Stores a batch uploaded by the peer `uploader` (a camera or a lower platform): all its
    /// pictures sealed and appended to the day's image stream with one sync, then every record
    /// in one transaction, synced to disk (one more sync), and only then is the batch acknowledged.
    pub async fn ingest_captures(
        &self,
        uploader: &str,
        batch: &[NewCapture],
    ) -> AppResult<Vec<CaptureOutcome>> {
        let peer = self
            .cached_device(uploader)
            .await?
            .ok_or(AppError::NotFound { entity: "device" })?;
        let now = self.clock.now_ms();
        let mut cameras = Vec::with_capacity(batch.len());
        for capture in batch {
            // A lower platform uploads for its cameras: the record belongs to the camera when
            // we know it, to the uploader otherwise.
            let camera = match &capture.camera_code {
                Some(code) if code != uploader => {
                    self.cached_device(code).await?.unwrap_or_else(|| peer.clone())
                }
                _ => peer.clone(),
            };
            cameras.push(camera);
        }
        let stream = format!("captures/{}", self.clock.today_cst().format("%Y%m%d"));
        let mut keys = self
            .append_sealed(
                CAPTURE_CONTEXT,
                &stream,
                batch.iter().flat_map(|c| c.images.iter().map(Vec::as_slice)),
            )
            .await?
            .into_iter();
        let mut rows = Vec::with_capacity(batch.len());
        let mut snapshots = Vec::with_capacity(batch.len());
        for (capture, camera) in batch.iter().zip(cameras) {
            let own: Vec<String> = keys.by_ref().take(capture.images.len()).collect();
            snapshots.push(own.first().cloned());
            rows.push(NewCaptureRecord {
                community_id: camera.community_id,
                device_id: camera.id,
                kind: capture.kind.to_string(),
                record_id: capture.record_id.clone(),
                content_hash: capture.content_hash.clone(),
                shot_at: capture.shot_at_ms.unwrap_or(now),
                plate: capture
                    .plate
                    .as_deref()
                    .map(anfang_domain::plate::normalize_plate),
                attributes: capture.attributes_json.clone(),
                image_keys: serde_json::to_string(&own).map_err(|e| AppError::Internal(e.to_string()))?,
                received_at: now,
            });
        }
        let mut tx = self.store.write().await?;
        // Plates some police disposition is watching for right now.
        let plates: Vec<String> = rows.iter().filter_map(|r| r.plate.clone()).collect();
        let watches = tx.plate_watches(&plates, now).await?;
        let mut outcomes = Vec::with_capacity(rows.len());
        let mut hits = 0u64;
        let mut live = Vec::new();
        for (i, row) in rows.iter().enumerate() {
            outcomes.push(match tx.insert_capture_record(row).await? {
                Some(id) => {
                    // A camera's analytics (an intrusion, a fight, loitering…) is an alarm with
                    // the capture's picture; repeats within minutes merge.
                    if let Some(kind) = batch[i]
                        .event
                        .as_deref()
                        .and_then(anfang_domain::alarm::AlarmKind::from_video_event)
                    {
                        let raised = self
                            .raise_alarm(
                                &mut tx,
                                &crate::alarms::RaiseAlarm {
                                    kind,
                                    reported: None,
                                    device_id: Some(row.device_id),
                                    community_id: row.community_id,
                                    place_id: None,
                                    zone: None,
                                    source: "gat1400",
                                    source_ref: Some(row.record_id.clone()),
                                    at: row.shot_at,
                                    snapshot_key: snapshots[i].clone(),
                                },
                            )
                            .await?;
                        if let Some(camera) = tx.device(row.device_id).await? {
                            live.push(LiveEvent::alarm(&raised, kind, &camera, None, row.shot_at));
                        }
                    }
                    // Forwarded upward from the same commit: nothing acknowledged is lost.
                    self.enqueue_upward(
                        &mut tx,
                        Sends::Captures,
                        &row.kind,
                        &json!({"record": id}),
                        now,
                        Some(row.device_id),
                    )
                    .await?;
                    for entry in watches
                        .iter()
                        .filter(|w| w.plate.is_some() && w.plate == row.plate)
                    {
                        let hit = WatchHitRow {
                            id: 0,
                            entry_id: entry.id,
                            capture_record_id: Some(id),
                            community_id: row.community_id,
                            at: now,
                            distance: None,
                            margin: None,
                            // A plate read is exact, but a cloned plate is not the wanted car.
                            state: "to_confirm".into(),
                        };
                        let hit_id = tx.insert_watch_hit(&hit).await?;
                        if let Some(warning) = self.raise_watch_hit(&mut tx, hit_id, &hit).await? {
                            live.push(LiveEvent::warning(
                                warning,
                                WarningKind::WatchHit,
                                row.community_id,
                                now,
                                None,
                            ));
                        }
                        // The hit goes back to whoever placed the disposition.
                        if let Some(target) = entry.source.strip_prefix("viid:") {
                            let payload = json!({"entry": entry.id, "record": id});
                            tx.enqueue_cascade(
                                target,
                                "watch_hit",
                                &payload.to_string(),
                                now,
                                Some(row.device_id),
                            )
                            .await?;
                        }
                        hits += 1;
                    }
                    CaptureOutcome::Stored
                }
                None => CaptureOutcome::Duplicate,
            });
        }
        if hits > 0 {
            metrics::counter!("anfang_watch_hits_total").increment(hits);
            tracing::info!(hits, "captures hit the police watch-list");
        }
        tx.touch_device(peer.id, now, None, None).await?;
        self.commit_events(tx, live).await?;
        self.store.sync().await?;
        metrics::counter!("anfang_capture_records_total")
            .increment(outcomes.iter().filter(|o| **o == CaptureOutcome::Stored).count() as u64);
        Ok(outcomes)
    }

    /// Capture records in scope, newest first.
    pub async fn list_capture_records(
        &self,
        who: &Principal,
        q: &CaptureQuery,
        page: crate::registry::PageRequest,
    ) -> AppResult<Paged<CaptureRecordRow>> {
        who.require(Permission::ReadPersons)?;
        if who.scope.houses.is_some() {
            // Residents see no camera records.
            return Err(AppError::Forbidden("capture records are for staff".into()));
        }
        let mut filter = who.scope.filter();
        if let Some(id) = q.community_id {
            who.scope.check_community(id, "community")?;
        }
        filter.community_id = q.community_id;
        filter.device_id = q.device_id;
        filter.kind = q.kind.clone();
        filter.plate_number = q.plate.as_deref().map(anfang_domain::plate::normalize_plate);
        let mut tx = self.store.read().await?;
        Ok(tx
            .list_capture_records(&filter, q.since, q.until, page.to_page()?)
            .await?)
    }
}

impl App {
    /// The cameras that speak GA/T 1400 (the `APE` catalogue a VIID peer may read), with
    /// whether each was heard from within `online_ms`.
    pub async fn viid_cameras(&self, online_ms: i64) -> AppResult<Vec<(DeviceRow, bool)>> {
        let mut tx = self.store.read().await?;
        let now = self.clock.now_ms();
        Ok(tx
            .list_devices(&Filter::default(), Page::ALL)
            .await?
            .items
            .into_iter()
            .filter(|d| d.protocol == "gat1400")
            .map(|d| {
                let online = d.last_seen_at.is_some_and(|t| now - t <= online_ms);
                (d, online)
            })
            .collect())
    }

    /// A peer reports its cameras' status (`APEObject` with `IsOnline`): each known camera
    /// reported online counts as heard from now. Returns, per report, whether the camera is
    /// registered here.
    pub async fn report_camera_status(&self, reports: &[(String, bool)]) -> AppResult<Vec<bool>> {
        let now = self.clock.now_ms();
        let mut tx = self.store.write().await?;
        let mut known = Vec::with_capacity(reports.len());
        for (code, online) in reports {
            match tx.device_by_code(code).await? {
                Some(device) => {
                    if *online {
                        tx.touch_device(device.id, now, None, None).await?;
                    }
                    known.push(true);
                }
                None => known.push(false),
            }
        }
        tx.commit().await?;
        Ok(known)
    }
}
