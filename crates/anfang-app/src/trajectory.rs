//! A person's or a vehicle's trajectory (轨迹) in one community: where they were seen, in time
//! order — a person through their access records (doors they opened or were refused at), a plate
//! through the gates' reads (the car park's entries and exits) and the capture cameras' vehicle
//! records. Reading one is personal-data access: every read is audited with what was asked and
//! how many points it gave.

use crate::{App, AppError, AppResult, Permission, Principal};
use anfang_store::{Filter, Page};
use serde::Serialize;
use serde_json::json;

/// At most this many of the newest records of each source make a trajectory.
pub const MAX_POINTS_PER_SOURCE: i64 = 200;

/// Whose trajectory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Subject {
    /// A person (their access records).
    Person(i64),
    /// A plate number (gate reads and vehicle captures).
    Plate(String),
}

/// One place and time where the subject was seen.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Point {
    /// When (ms).
    pub at: i64,
    /// `access` (a door decision), `gate_in` / `gate_out` (the car park's lane), `capture` (a
    /// capture camera's vehicle record).
    pub source: &'static str,
    /// The device that saw it.
    pub device_id: i64,
    /// The record behind the point (access record, parking session or capture record id).
    pub record_id: i64,
    /// `open` or `deny` for access records; none otherwise.
    pub outcome: Option<String>,
}

impl App {
    /// The subject's trajectory in `community_id` over `[since, until)`, oldest first. Needs
    /// [`Permission::ReadPersons`] and staff scope over the community (residents see none);
    /// audited as `trajectory.read`.
    pub async fn trajectory(
        &self,
        who: &Principal,
        community_id: i64,
        subject: &Subject,
        since: i64,
        until: i64,
    ) -> AppResult<Vec<Point>> {
        who.require(Permission::ReadPersons)?;
        if who.scope.houses.is_some() {
            return Err(AppError::Forbidden("trajectories are for staff".into()));
        }
        who.scope.check_community(community_id, "community")?;
        if since >= until {
            return Err(AppError::invalid(
                "invalid_period",
                "since",
                "since must come before until",
            ));
        }
        let base = Filter {
            community_id: Some(community_id),
            ..who.scope.filter()
        };
        let newest = Page::first(MAX_POINTS_PER_SOURCE);
        let mut tx = self.store.write().await?;
        let mut points = Vec::new();
        let target = match subject {
            Subject::Person(person_id) => {
                let person = tx.person(*person_id).await?;
                if person.is_none_or(|p| p.community_id != community_id) {
                    return Err(AppError::NotFound { entity: "person" });
                }
                let filter = Filter {
                    person_id: Some(*person_id),
                    ..base
                };
                for r in tx.list_access_records(&filter, newest).await?.items {
                    points.push(Point {
                        at: r.at,
                        source: "access",
                        device_id: r.device_id,
                        record_id: r.id,
                        outcome: Some(r.outcome),
                    });
                }
                format!("person:{person_id}")
            }
            Subject::Plate(raw) => {
                let plate = anfang_domain::plate::normalize_plate(raw);
                if plate.chars().count() < 7 {
                    return Err(AppError::invalid(
                        "invalid_plate",
                        "plate",
                        "a plate number has 7 or 8 characters, e.g. 鲁C12345",
                    ));
                }
                let filter = Filter {
                    plate_number: Some(plate.clone()),
                    ..base
                };
                for s in tx.list_parking_sessions(&filter, newest).await?.items {
                    points.push(Point {
                        at: s.entered_at,
                        source: "gate_in",
                        device_id: s.entry_device_id,
                        record_id: s.id,
                        outcome: None,
                    });
                    if let (Some(device_id), Some(at)) = (s.exit_device_id, s.exited_at) {
                        points.push(Point {
                            at,
                            source: "gate_out",
                            device_id,
                            record_id: s.id,
                            outcome: None,
                        });
                    }
                }
                for c in tx
                    .list_capture_records(&filter, Some(since), Some(until), newest)
                    .await?
                    .items
                {
                    points.push(Point {
                        at: c.shot_at,
                        source: "capture",
                        device_id: c.device_id,
                        record_id: c.id,
                        outcome: None,
                    });
                }
                format!("plate:{plate}")
            }
        };
        points.retain(|p| p.at >= since && p.at < until);
        points.sort_by_key(|p| (p.at, p.record_id));
        let audit = self
            .audit(
                &mut tx,
                &who.actor(),
                "trajectory.read",
                &target,
                json!({"community_id": community_id, "since": since, "until": until, "points": points.len()}),
            )
            .await?;
        self.commit(tx, Some(&audit)).await?;
        Ok(points)
    }
}
