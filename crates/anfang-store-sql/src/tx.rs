//! The one [`Tx`] implementation: portable SQL for every storage operation, run inside a
//! sqlx transaction that rolls back when dropped.

use crate::query::Q;
use anfang_store::*;
use async_trait::async_trait;
use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};

/// Builds a row struct from columns named like its fields.
macro_rules! decode {
    ($row:expr, $ty:ident { $($field:ident),* $(,)? }) => {
        $ty { $($field: $row.try_get(stringify!($field)).map_err(map_err)?,)* }
    };
}
pub(crate) use decode;

/// Maps a driver error to the store's error, classifying constraint violations as conflicts.
pub(crate) fn map_err(e: sqlx::Error) -> StoreError {
    use sqlx::error::ErrorKind as K;
    match e {
        sqlx::Error::Database(db) => match db.kind() {
            K::UniqueViolation | K::ForeignKeyViolation | K::NotNullViolation | K::CheckViolation => {
                StoreError::Conflict {
                    detail: db.message().to_string(),
                }
            }
            _ => StoreError::Internal(db.message().to_string()),
        },
        sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) => {
            StoreError::Unavailable(e.to_string())
        }
        sqlx::Error::RowNotFound => StoreError::NotFound { entity: "row" },
        other => StoreError::Internal(other.to_string()),
    }
}

/// A transaction on either backend.
pub(crate) struct SqlTx {
    tx: Transaction<'static, Any>,
}

impl SqlTx {
    pub(crate) fn new(tx: Transaction<'static, Any>) -> Self {
        SqlTx { tx }
    }

    pub(crate) async fn all(&mut self, q: &Q) -> StoreResult<Vec<AnyRow>> {
        q.build().fetch_all(&mut *self.tx).await.map_err(map_err)
    }

    pub(crate) async fn one(&mut self, q: &Q) -> StoreResult<Option<AnyRow>> {
        q.build().fetch_optional(&mut *self.tx).await.map_err(map_err)
    }

    pub(crate) async fn exec(&mut self, q: &Q) -> StoreResult<u64> {
        q.build()
            .execute(&mut *self.tx)
            .await
            .map(|r| r.rows_affected())
            .map_err(map_err)
    }

    /// Runs an `INSERT … RETURNING id`.
    pub(crate) async fn insert(&mut self, q: &Q, entity: &'static str) -> StoreResult<i64> {
        let row = self.one(q).await?.ok_or(StoreError::NotFound { entity })?;
        row.try_get::<i64, _>("id").map_err(map_err)
    }

    /// Runs `SELECT columns <from_where> ORDER BY … LIMIT … OFFSET …` and the matching count.
    pub(crate) async fn paged<T>(
        &mut self,
        columns: &str,
        from_where: &Q,
        order_by: &str,
        page: Page,
        decode: fn(&AnyRow) -> StoreResult<T>,
    ) -> StoreResult<Paged<T>> {
        let mut count = Q::new("SELECT COUNT(*) AS n ");
        count.sql = format!("{}{}", count.sql, from_where.sql);
        let mut count_q = from_where.clone();
        count_q.sql = count.sql;
        let total: i64 = match self.one(&count_q).await? {
            Some(row) => row.try_get("n").map_err(map_err)?,
            None => 0,
        };
        let mut items_q = from_where.clone();
        items_q.sql = format!("SELECT {columns} {}", from_where.sql);
        items_q.sql(" ORDER BY ").sql(order_by).sql(" LIMIT ");
        items_q
            .bind(page.limit.max(0))
            .sql(" OFFSET ")
            .bind(page.offset.max(0));
        let rows = self.all(&items_q).await?;
        let items = rows.iter().map(decode).collect::<StoreResult<Vec<T>>>()?;
        Ok(Paged { items, total })
    }
}

const WATCH_COLS: &str = "w.id, w.source, w.external_id, w.category, w.plate, w.title, w.status, w.begin_at, \
     w.end_at, w.body, w.image_keys, w.created_at, w.updated_at";

fn watch_entry(r: &AnyRow) -> StoreResult<WatchEntryRow> {
    Ok(decode!(
        r,
        WatchEntryRow {
            id,
            source,
            external_id,
            category,
            plate,
            title,
            status,
            begin_at,
            end_at,
            body,
            image_keys,
            created_at,
            updated_at
        }
    ))
}

const STREET_COLS: &str = "s.id, s.district_code, s.code, s.name";
const COMMITTEE_COLS: &str = "m.id, m.street_id, m.code, m.name, m.kind";
const COMMUNITY_COLS: &str = "c.id, c.committee_id, c.street_id, c.code, c.name, c.category, c.property_type, \
     c.address, c.site_width, c.site_height, c.police_area, \
     (SELECT COUNT(*) FROM buildings b WHERE b.community_id = c.id) AS building_count, \
     (SELECT COUNT(*) FROM houses h WHERE h.community_id = c.id) AS house_count, \
     (SELECT COUNT(*) FROM persons p WHERE p.community_id = c.id) AS resident_count, \
     (SELECT COUNT(*) FROM devices d WHERE d.community_id = c.id) AS device_count";
const BUILDING_COLS: &str = "b.id, b.community_id, b.number, b.name, b.floors, b.x, b.y";
const UNIT_COLS: &str = "u.id, u.building_id, b.community_id, u.number";
const HOUSE_COLS: &str =
    "h.id, h.community_id, h.building_id, h.unit_id, h.number, h.floor, h.area_m2, h.use_kind, h.address";
const PLACE_COLS: &str = "pl.id, pl.community_id, pl.kind, pl.name, pl.x, pl.y, pl.attended, pl.unit_id";
const PERSON_COLS: &str = "p.id, p.community_id, p.name, p.gender, p.id_type, p.id_number_enc, p.id_number_index, \
     p.phone_enc, p.population_type, p.tags_json, p.created_at, p.updated_at";
const VEHICLE_COLS: &str = "v.id, v.community_id, v.plate_number, v.plate_color, v.owner_person_id, \
     p.name AS owner_name, v.parking_space";
const DEVICE_COLS: &str = "d.id, d.code, d.name, d.kind, d.protocol, d.community_id, d.place_id, d.x, d.y, \
     d.install_date, d.contractor, d.secret_enc, d.created_at, d.last_seen_at, d.firmware, d.library_version, d.accepts";
const USER_COLS: &str =
    "id, username, password_hash, role, display_name, failed_logins, locked_until, created_at";
const AUDIT_COLS: &str = "seq, at, actor, action, target, detail, prev_hash, hash";

fn street(r: &AnyRow) -> StoreResult<StreetRow> {
    Ok(decode!(
        r,
        StreetRow {
            id,
            district_code,
            code,
            name
        }
    ))
}
fn committee(r: &AnyRow) -> StoreResult<CommitteeRow> {
    Ok(decode!(
        r,
        CommitteeRow {
            id,
            street_id,
            code,
            name,
            kind
        }
    ))
}
fn community(r: &AnyRow) -> StoreResult<CommunityRow> {
    Ok(decode!(
        r,
        CommunityRow {
            id,
            committee_id,
            street_id,
            code,
            name,
            category,
            property_type,
            address,
            site_width,
            site_height,
            police_area,
            building_count,
            house_count,
            resident_count,
            device_count
        }
    ))
}
fn building(r: &AnyRow) -> StoreResult<BuildingRow> {
    Ok(decode!(
        r,
        BuildingRow {
            id,
            community_id,
            number,
            name,
            floors,
            x,
            y
        }
    ))
}
fn unit(r: &AnyRow) -> StoreResult<UnitRow> {
    Ok(decode!(
        r,
        UnitRow {
            id,
            building_id,
            community_id,
            number
        }
    ))
}
fn house(r: &AnyRow) -> StoreResult<HouseRow> {
    Ok(decode!(
        r,
        HouseRow {
            id,
            community_id,
            building_id,
            unit_id,
            number,
            floor,
            area_m2,
            use_kind,
            address
        }
    ))
}
fn place(r: &AnyRow) -> StoreResult<PlaceRow> {
    // Booleans are stored as 0/1 integers: the Any driver cannot decode SQLite's BOOLEAN.
    let attended: i64 = r.try_get("attended").map_err(map_err)?;
    Ok(PlaceRow {
        id: r.try_get("id").map_err(map_err)?,
        community_id: r.try_get("community_id").map_err(map_err)?,
        kind: r.try_get("kind").map_err(map_err)?,
        name: r.try_get("name").map_err(map_err)?,
        x: r.try_get("x").map_err(map_err)?,
        y: r.try_get("y").map_err(map_err)?,
        attended: attended != 0,
        unit_id: r.try_get("unit_id").map_err(map_err)?,
    })
}
fn person(r: &AnyRow) -> StoreResult<PersonRow> {
    Ok(decode!(
        r,
        PersonRow {
            id,
            community_id,
            name,
            gender,
            id_type,
            id_number_enc,
            id_number_index,
            phone_enc,
            population_type,
            tags_json,
            created_at,
            updated_at
        }
    ))
}
fn person_house(r: &AnyRow) -> StoreResult<PersonHouseRow> {
    Ok(decode!(
        r,
        PersonHouseRow {
            person_id,
            house_id,
            role,
            lease_start,
            lease_end,
            schedule,
            address
        }
    ))
}
const ACCESS_COLS: &str = "a.id, a.community_id, a.device_id, a.event_id, a.person_id, p.name AS person_name, \
     a.credential_kind, a.outcome, a.reason, a.decided_locally, a.snapshot_key, a.at";
const FACE_COLS: &str = "id, person_id, image_key, sha256, format, width, height, size_bytes, uploaded_by, uploaded_at, removed_at";
fn face_photo(r: &AnyRow) -> StoreResult<FacePhotoRow> {
    Ok(decode!(
        r,
        FacePhotoRow {
            id,
            person_id,
            image_key,
            sha256,
            format,
            width,
            height,
            size_bytes,
            uploaded_by,
            uploaded_at,
            removed_at
        }
    ))
}
const CAPTURE_FACE_COLS: &str = "f.id, f.capture_record_id, f.community_id, f.device_id, f.shot_at, f.outcome, \
     f.person_id, f.stranger_id, f.distance, f.margin, f.template_enc, f.model, f.recognised_at, f.expires_at";
fn capture_face(r: &AnyRow) -> StoreResult<CaptureFaceRow> {
    Ok(decode!(
        r,
        CaptureFaceRow {
            id,
            capture_record_id,
            community_id,
            device_id,
            shot_at,
            outcome,
            person_id,
            stranger_id,
            distance,
            margin,
            template_enc,
            model,
            recognised_at,
            expires_at
        }
    ))
}
const STRANGER_COLS: &str =
    "s.id, s.community_id, s.template_enc, s.model, s.sightings, s.first_seen, s.last_seen, s.expires_at";
fn stranger(r: &AnyRow) -> StoreResult<StrangerRow> {
    Ok(decode!(
        r,
        StrangerRow {
            id,
            community_id,
            template_enc,
            model,
            sightings,
            first_seen,
            last_seen,
            expires_at
        }
    ))
}
const ALARM_COLS: &str = "a.id, a.community_id, a.device_id, a.place_id, a.kind, a.severity, a.state, a.zone, \
     a.source, a.source_ref, a.raised_at, a.last_at, a.repeats, a.level, a.escalated_at, a.acknowledged_at, \
     a.acknowledged_by, a.dispatched_to, a.closed_at, a.closed_by, a.cameras, a.snapshot_key";
fn alarm(r: &AnyRow) -> StoreResult<AlarmRow> {
    Ok(decode!(
        r,
        AlarmRow {
            id,
            community_id,
            device_id,
            place_id,
            kind,
            severity,
            state,
            zone,
            source,
            source_ref,
            raised_at,
            last_at,
            repeats,
            level,
            escalated_at,
            acknowledged_at,
            acknowledged_by,
            dispatched_to,
            closed_at,
            closed_by,
            cameras,
            snapshot_key
        }
    ))
}
fn alarm_action(r: &AnyRow) -> StoreResult<AlarmActionRow> {
    Ok(decode!(
        r,
        AlarmActionRow {
            id,
            alarm_id,
            at,
            actor,
            action,
            note
        }
    ))
}
const CHANNEL_COLS: &str = "c.id, c.name, c.channel, c.address_enc, c.secret_enc, c.kinds, c.min_severity, c.role, \
     c.community_id, c.active, c.created_by, c.created_at";
fn notify_channel(r: &AnyRow) -> StoreResult<NotifyChannelRow> {
    let active: i64 = r.try_get("active").map_err(map_err)?;
    Ok(NotifyChannelRow {
        id: r.try_get("id").map_err(map_err)?,
        name: r.try_get("name").map_err(map_err)?,
        channel: r.try_get("channel").map_err(map_err)?,
        address_enc: r.try_get("address_enc").map_err(map_err)?,
        secret_enc: r.try_get("secret_enc").map_err(map_err)?,
        kinds: r.try_get("kinds").map_err(map_err)?,
        min_severity: r.try_get("min_severity").map_err(map_err)?,
        role: r.try_get("role").map_err(map_err)?,
        community_id: r.try_get("community_id").map_err(map_err)?,
        active: active != 0,
        created_by: r.try_get("created_by").map_err(map_err)?,
        created_at: r.try_get("created_at").map_err(map_err)?,
    })
}
const NOTIFICATION_COLS: &str = "n.id, n.channel_id, n.event, n.idempotency_key, n.payload, n.state, n.attempts, \
     n.next_attempt_at, n.last_status, n.last_error, n.created_at, n.delivered_at";
fn notification(r: &AnyRow) -> StoreResult<NotificationRow> {
    Ok(decode!(
        r,
        NotificationRow {
            id,
            channel_id,
            event,
            idempotency_key,
            payload,
            state,
            attempts,
            next_attempt_at,
            last_status,
            last_error,
            created_at,
            delivered_at
        }
    ))
}
const PATROL_ROUTE_COLS: &str = "r.id, r.community_id, r.name, r.checkpoints, r.times, r.guard_user_id, \
     r.window_minutes, r.tolerance_minutes, r.active, r.created_at, r.created_by";
fn patrol_route(r: &AnyRow) -> StoreResult<PatrolRouteRow> {
    let active: i64 = r.try_get("active").map_err(map_err)?;
    Ok(PatrolRouteRow {
        id: r.try_get("id").map_err(map_err)?,
        community_id: r.try_get("community_id").map_err(map_err)?,
        name: r.try_get("name").map_err(map_err)?,
        checkpoints: r.try_get("checkpoints").map_err(map_err)?,
        times: r.try_get("times").map_err(map_err)?,
        guard_user_id: r.try_get("guard_user_id").map_err(map_err)?,
        window_minutes: r.try_get("window_minutes").map_err(map_err)?,
        tolerance_minutes: r.try_get("tolerance_minutes").map_err(map_err)?,
        active: active != 0,
        created_at: r.try_get("created_at").map_err(map_err)?,
        created_by: r.try_get("created_by").map_err(map_err)?,
    })
}
fn patrol_scan(r: &AnyRow) -> StoreResult<PatrolScanRow> {
    Ok(decode!(
        r,
        PatrolScanRow {
            id,
            community_id,
            checkpoint_id,
            checkpoint_ref,
            reader_id,
            guard_ref,
            guard_user_id,
            at,
            event_id
        }
    ))
}
const PATROL_ROUND_COLS: &str = "p.id, p.route_id, p.community_id, p.guard_user_id, p.start_at, p.end_at, \
     p.status, p.on_time, p.late, p.missed, p.out_of_order, p.detail, p.evaluated_at";
fn patrol_round(r: &AnyRow) -> StoreResult<PatrolRoundRow> {
    Ok(decode!(
        r,
        PatrolRoundRow {
            id,
            route_id,
            community_id,
            guard_user_id,
            start_at,
            end_at,
            status,
            on_time,
            late,
            missed,
            out_of_order,
            detail,
            evaluated_at
        }
    ))
}
const WARNING_COLS: &str = "w.id, w.community_id, w.kind, w.audience, w.subject, w.title, w.score, w.evidence, \
     w.state, w.raised_at, w.updated_at, w.handled_by, w.handled_at, w.note, w.watch_hit_id";
fn warning(r: &AnyRow) -> StoreResult<WarningRow> {
    Ok(decode!(
        r,
        WarningRow {
            id,
            community_id,
            kind,
            audience,
            subject,
            title,
            score,
            evidence,
            state,
            raised_at,
            updated_at,
            handled_by,
            handled_at,
            note,
            watch_hit_id
        }
    ))
}
const CAPTURE_COLS: &str = "c.id, c.community_id, c.device_id, c.kind, c.record_id, c.content_hash, c.shot_at, \
     c.plate, c.attributes, c.image_keys, c.received_at";
fn capture_record(r: &AnyRow) -> StoreResult<CaptureRecordRow> {
    Ok(decode!(
        r,
        CaptureRecordRow {
            id,
            community_id,
            device_id,
            kind,
            record_id,
            content_hash,
            shot_at,
            plate,
            attributes,
            image_keys,
            received_at
        }
    ))
}
const PASS_COLS: &str = "id, community_id, plate_number, holder_name, valid_from, valid_until, fee_cents, \
                         created_by, created_at, revoked_at";
fn parking_pass(r: &AnyRow) -> StoreResult<ParkingPassRow> {
    Ok(decode!(
        r,
        ParkingPassRow {
            id,
            community_id,
            plate_number,
            holder_name,
            valid_from,
            valid_until,
            fee_cents,
            created_by,
            created_at,
            revoked_at
        }
    ))
}
const DENY_COLS: &str = "id, community_id, person_id, reason, added_by, added_at, removed_at, removed_by";
fn deny_entry(r: &AnyRow) -> StoreResult<DenyEntryRow> {
    Ok(decode!(
        r,
        DenyEntryRow {
            id,
            community_id,
            person_id,
            reason,
            added_by,
            added_at,
            removed_at,
            removed_by
        }
    ))
}
fn vehicle(r: &AnyRow) -> StoreResult<VehicleRow> {
    Ok(decode!(
        r,
        VehicleRow {
            id,
            community_id,
            plate_number,
            plate_color,
            owner_person_id,
            owner_name,
            parking_space
        }
    ))
}
fn device(r: &AnyRow) -> StoreResult<DeviceRow> {
    Ok(decode!(
        r,
        DeviceRow {
            id,
            code,
            name,
            kind,
            protocol,
            community_id,
            place_id,
            x,
            y,
            install_date,
            contractor,
            secret_enc,
            created_at,
            last_seen_at,
            firmware,
            library_version,
            accepts
        }
    ))
}
fn user(r: &AnyRow) -> StoreResult<UserRow> {
    Ok(decode!(
        r,
        UserRow {
            id,
            username,
            password_hash,
            role,
            display_name,
            failed_logins,
            locked_until,
            created_at
        }
    ))
}
fn audit(r: &AnyRow) -> StoreResult<AuditRow> {
    Ok(decode!(
        r,
        AuditRow {
            seq,
            at,
            actor,
            action,
            target,
            detail,
            prev_hash,
            hash
        }
    ))
}
const CREDENTIAL_COLS: &str =
    "id, person_id, kind, value_index, value_enc, valid_from, valid_until, revoked_at, created_at";

fn credential(r: &AnyRow) -> StoreResult<CredentialRow> {
    Ok(decode!(
        r,
        CredentialRow {
            id,
            person_id,
            kind,
            value_index,
            value_enc,
            valid_from,
            valid_until,
            revoked_at,
            created_at
        }
    ))
}

fn access_record(r: &AnyRow) -> StoreResult<AccessRecordRow> {
    let decided_locally: i64 = r.try_get("decided_locally").map_err(map_err)?;
    Ok(AccessRecordRow {
        id: r.try_get("id").map_err(map_err)?,
        community_id: r.try_get("community_id").map_err(map_err)?,
        device_id: r.try_get("device_id").map_err(map_err)?,
        event_id: r.try_get("event_id").map_err(map_err)?,
        person_id: r.try_get("person_id").map_err(map_err)?,
        person_name: r.try_get("person_name").map_err(map_err)?,
        credential_kind: r.try_get("credential_kind").map_err(map_err)?,
        outcome: r.try_get("outcome").map_err(map_err)?,
        reason: r.try_get("reason").map_err(map_err)?,
        decided_locally: decided_locally != 0,
        snapshot_key: r.try_get("snapshot_key").map_err(map_err)?,
        at: r.try_get("at").map_err(map_err)?,
    })
}

const VISITOR_COLS: &str = "v.id, v.community_id, v.house_id, v.name, v.phone_enc, v.plate_number, v.valid_from, \
     v.valid_until, v.token_index, v.created_by, v.created_at, v.revoked_at";

fn visitor_pass(r: &AnyRow) -> StoreResult<VisitorPassRow> {
    Ok(decode!(
        r,
        VisitorPassRow {
            id,
            community_id,
            house_id,
            name,
            phone_enc,
            plate_number,
            valid_from,
            valid_until,
            token_index,
            created_by,
            created_at,
            revoked_at
        }
    ))
}

const PARKING_COLS: &str = "id, community_id, plate, entry_device_id, entered_at, exit_device_id, exited_at, \
     fee_cents, paid_cents, status";

fn parking_session(r: &AnyRow) -> StoreResult<ParkingSessionRow> {
    Ok(decode!(
        r,
        ParkingSessionRow {
            id,
            community_id,
            plate,
            entry_device_id,
            entered_at,
            exit_device_id,
            exited_at,
            fee_cents,
            paid_cents,
            status
        }
    ))
}

const BOOTH_COLS: &str = "id, community_id, device_id, event_id, visitor_name, id_number_enc, house_ref, house_id, \
     card_photo_key, snapshot_key, status, \
     created_at, answered_at, answered_by, note";

fn booth_call(r: &AnyRow) -> StoreResult<BoothCallRow> {
    Ok(decode!(
        r,
        BoothCallRow {
            id,
            community_id,
            device_id,
            event_id,
            visitor_name,
            id_number_enc,
            house_ref,
            house_id,
            card_photo_key,
            snapshot_key,
            status,
            created_at,
            answered_at,
            answered_by,
            note
        }
    ))
}

fn report(r: &AnyRow) -> StoreResult<ReportRow> {
    Ok(decode!(
        r,
        ReportRow {
            id,
            user_id,
            kind,
            content,
            created_at
        }
    ))
}

impl SqlTx {
    pub(crate) async fn one_as<T>(
        &mut self,
        q: &Q,
        decode: fn(&AnyRow) -> StoreResult<T>,
    ) -> StoreResult<Option<T>> {
        self.one(q).await?.as_ref().map(decode).transpose()
    }

    fn community_query(filter: &Filter) -> Q {
        let mut q = Q::new("FROM communities c WHERE 1 = 1");
        q.and_scope("c.id", filter)
            .and_in("c.street_id", filter.street_ids.as_ref())
            .and_eq("c.street_id", filter.street_id)
            .and_eq("c.committee_id", None::<i64>)
            .and_eq("c.id", filter.community_id)
            .and_eq("c.category", filter.kind.as_ref())
            .and_like("c.name", filter.q.as_ref());
        q
    }
}

#[async_trait]
impl Tx for SqlTx {
    async fn commit(self: Box<Self>) -> StoreResult<()> {
        self.tx.commit().await.map_err(map_err)
    }

    async fn insert_street(&mut self, new: &NewStreet) -> StoreResult<i64> {
        let mut q = Q::new("INSERT INTO streets (district_code, code, name) VALUES (");
        q.bind(&new.district_code)
            .sql(", ")
            .bind(&new.code)
            .sql(", ")
            .bind(&new.name)
            .sql(") RETURNING id");
        self.insert(&q, "street").await
    }

    async fn list_streets(&mut self, filter: &Filter, page: Page) -> StoreResult<Paged<StreetRow>> {
        let mut q = Q::new("FROM streets s WHERE 1 = 1");
        q.and_in("s.id", filter.street_ids.as_ref())
            .and_eq("s.id", filter.street_id);
        self.paged(STREET_COLS, &q, "s.code", page, street).await
    }

    async fn street_by_code(&mut self, code: &str) -> StoreResult<Option<StreetRow>> {
        let mut q = Q::new(&format!("SELECT {STREET_COLS} FROM streets s WHERE s.code = "));
        q.bind(code);
        self.one_as(&q, street).await
    }

    async fn insert_committee(&mut self, new: &NewCommittee) -> StoreResult<i64> {
        let mut q = Q::new("INSERT INTO committees (street_id, code, name, kind) VALUES (");
        q.bind(new.street_id)
            .sql(", ")
            .bind(&new.code)
            .sql(", ")
            .bind(&new.name)
            .sql(", ")
            .bind(&new.kind);
        q.sql(") RETURNING id");
        self.insert(&q, "committee").await
    }

    async fn list_committees(&mut self, filter: &Filter, page: Page) -> StoreResult<Paged<CommitteeRow>> {
        let mut q = Q::new("FROM committees m WHERE 1 = 1");
        q.and_in("m.street_id", filter.street_ids.as_ref())
            .and_eq("m.street_id", filter.street_id);
        if let Some(ids) = &filter.community_ids {
            q.sql(" AND m.id IN (SELECT committee_id FROM communities WHERE id IN (");
            q.bind_list(ids).sql("))");
        }
        self.paged(COMMITTEE_COLS, &q, "m.code", page, committee).await
    }

    async fn insert_community(&mut self, new: &NewCommunity) -> StoreResult<i64> {
        let mut q = Q::new(
            "INSERT INTO communities (committee_id, street_id, code, name, category, property_type, address, \
             site_width, site_height, police_area) VALUES (",
        );
        q.bind(new.committee_id)
            .sql(", ")
            .bind(new.street_id)
            .sql(", ")
            .bind(&new.code)
            .sql(", ");
        q.bind(&new.name)
            .sql(", ")
            .bind(&new.category)
            .sql(", ")
            .bind(&new.property_type)
            .sql(", ");
        q.bind(&new.address)
            .sql(", ")
            .bind(new.site_width)
            .sql(", ")
            .bind(new.site_height)
            .sql(", ");
        q.bind(&new.police_area).sql(") RETURNING id");
        self.insert(&q, "community").await
    }

    async fn community(&mut self, id: i64) -> StoreResult<Option<CommunityRow>> {
        let mut q = Q::new(&format!(
            "SELECT {COMMUNITY_COLS} FROM communities c WHERE c.id = "
        ));
        q.bind(id);
        self.one_as(&q, community).await
    }

    async fn community_by_code(&mut self, code: &str) -> StoreResult<Option<CommunityRow>> {
        let mut q = Q::new(&format!(
            "SELECT {COMMUNITY_COLS} FROM communities c WHERE c.code = "
        ));
        q.bind(code);
        self.one_as(&q, community).await
    }

    async fn list_communities(&mut self, filter: &Filter, page: Page) -> StoreResult<Paged<CommunityRow>> {
        let q = Self::community_query(filter);
        self.paged(COMMUNITY_COLS, &q, "c.code", page, community).await
    }

    async fn community_ids_of_street(&mut self, street_code: &str) -> StoreResult<Vec<i64>> {
        let mut q =
            Q::new("SELECT c.id FROM communities c JOIN streets s ON s.id = c.street_id WHERE s.code = ");
        q.bind(street_code).sql(" ORDER BY c.id");
        let rows = self.all(&q).await?;
        rows.iter()
            .map(|r| r.try_get::<i64, _>("id").map_err(map_err))
            .collect()
    }

    async fn insert_building(&mut self, new: &NewBuilding) -> StoreResult<i64> {
        let mut q = Q::new("INSERT INTO buildings (community_id, number, name, floors, x, y) VALUES (");
        q.bind(new.community_id)
            .sql(", ")
            .bind(&new.number)
            .sql(", ")
            .bind(&new.name)
            .sql(", ");
        q.bind(new.floors)
            .sql(", ")
            .bind(new.x)
            .sql(", ")
            .bind(new.y)
            .sql(") RETURNING id");
        self.insert(&q, "building").await
    }

    async fn building(&mut self, id: i64) -> StoreResult<Option<BuildingRow>> {
        let mut q = Q::new(&format!("SELECT {BUILDING_COLS} FROM buildings b WHERE b.id = "));
        q.bind(id);
        self.one_as(&q, building).await
    }

    async fn list_buildings(&mut self, filter: &Filter, page: Page) -> StoreResult<Paged<BuildingRow>> {
        let mut q = Q::new("FROM buildings b WHERE 1 = 1");
        q.and_scope("b.community_id", filter)
            .and_eq("b.community_id", filter.community_id);
        if let Some(houses) = &filter.house_ids {
            q.sql(" AND b.id IN (SELECT building_id FROM houses WHERE id IN (");
            q.bind_list(houses).sql("))");
        }
        self.paged(BUILDING_COLS, &q, "b.community_id, b.id", page, building)
            .await
    }

    async fn insert_unit(&mut self, new: &NewUnit) -> StoreResult<i64> {
        let mut q = Q::new("INSERT INTO units (building_id, number) VALUES (");
        q.bind(new.building_id)
            .sql(", ")
            .bind(&new.number)
            .sql(") RETURNING id");
        self.insert(&q, "unit").await
    }

    async fn unit(&mut self, id: i64) -> StoreResult<Option<UnitRow>> {
        let mut q = Q::new(&format!(
            "SELECT {UNIT_COLS} FROM units u JOIN buildings b ON b.id = u.building_id WHERE u.id = "
        ));
        q.bind(id);
        self.one_as(&q, unit).await
    }

    async fn list_units(&mut self, filter: &Filter, page: Page) -> StoreResult<Paged<UnitRow>> {
        let mut q = Q::new("FROM units u JOIN buildings b ON b.id = u.building_id WHERE 1 = 1");
        q.and_scope("b.community_id", filter)
            .and_eq("b.community_id", filter.community_id)
            .and_eq("u.building_id", filter.building_id);
        if let Some(houses) = &filter.house_ids {
            q.sql(" AND u.id IN (SELECT unit_id FROM houses WHERE id IN (");
            q.bind_list(houses).sql("))");
        }
        self.paged(UNIT_COLS, &q, "u.building_id, u.id", page, unit).await
    }

    async fn insert_house(&mut self, new: &NewHouse) -> StoreResult<i64> {
        // The building and community are derived from the unit in the same statement, so a
        // house can never disagree with its unit about where it is.
        let mut q = Q::new(
            "INSERT INTO houses (unit_id, building_id, community_id, number, floor, area_m2, use_kind, address) \
             SELECT u.id, u.building_id, b.community_id, ",
        );
        q.bind(&new.number)
            .sql(", ")
            .bind(new.floor)
            .sql(", ")
            .bind(new.area_m2)
            .sql(", ");
        q.bind(&new.use_kind).sql(", ").bind(&new.address);
        q.sql(" FROM units u JOIN buildings b ON b.id = u.building_id WHERE u.id = ");
        q.bind(new.unit_id).sql(" RETURNING id");
        self.insert(&q, "unit").await
    }

    async fn update_house(&mut self, id: i64, new: &NewHouse) -> StoreResult<()> {
        let mut q = Q::new("UPDATE houses SET floor = ");
        q.bind(new.floor)
            .sql(", area_m2 = ")
            .bind(new.area_m2)
            .sql(", use_kind = ")
            .bind(&new.use_kind);
        q.sql(", address = ")
            .bind(&new.address)
            .sql(" WHERE id = ")
            .bind(id);
        match self.exec(&q).await? {
            0 => Err(StoreError::NotFound { entity: "house" }),
            _ => Ok(()),
        }
    }

    async fn house(&mut self, id: i64) -> StoreResult<Option<HouseRow>> {
        let mut q = Q::new(&format!("SELECT {HOUSE_COLS} FROM houses h WHERE h.id = "));
        q.bind(id);
        self.one_as(&q, house).await
    }

    async fn find_house(
        &mut self,
        community_id: i64,
        building_no: &str,
        unit_no: &str,
        number: &str,
    ) -> StoreResult<Option<HouseRow>> {
        let mut q = Q::new(&format!(
            "SELECT {HOUSE_COLS} FROM houses h JOIN units u ON u.id = h.unit_id \
             JOIN buildings b ON b.id = h.building_id WHERE h.community_id = "
        ));
        q.bind(community_id)
            .sql(" AND b.number = ")
            .bind(building_no)
            .sql(" AND u.number = ")
            .bind(unit_no);
        q.sql(" AND h.number = ").bind(number);
        self.one_as(&q, house).await
    }

    async fn list_houses(&mut self, filter: &Filter, page: Page) -> StoreResult<Paged<HouseRow>> {
        let mut q = Q::new("FROM houses h WHERE 1 = 1");
        q.and_scope("h.community_id", filter)
            .and_in("h.id", filter.house_ids.as_ref())
            .and_eq("h.community_id", filter.community_id)
            .and_eq("h.building_id", filter.building_id)
            .and_eq("h.unit_id", filter.unit_id)
            .and_eq("h.id", filter.house_id);
        self.paged(
            HOUSE_COLS,
            &q,
            "h.community_id, h.building_id, h.unit_id, h.id",
            page,
            house,
        )
        .await
    }

    async fn insert_place(&mut self, new: &NewPlace) -> StoreResult<i64> {
        let mut q = Q::new("INSERT INTO places (community_id, kind, name, x, y, attended, unit_id) VALUES (");
        q.bind(new.community_id)
            .sql(", ")
            .bind(&new.kind)
            .sql(", ")
            .bind(&new.name)
            .sql(", ");
        q.bind(new.x)
            .sql(", ")
            .bind(new.y)
            .sql(", ")
            .bind(i64::from(new.attended))
            .sql(", ")
            .bind(new.unit_id);
        q.sql(") RETURNING id");
        self.insert(&q, "place").await
    }

    async fn list_places(&mut self, filter: &Filter, page: Page) -> StoreResult<Paged<PlaceRow>> {
        let mut q = Q::new("FROM places pl WHERE 1 = 1");
        q.and_scope("pl.community_id", filter)
            .and_eq("pl.community_id", filter.community_id)
            .and_eq("pl.kind", filter.kind.as_ref());
        self.paged(PLACE_COLS, &q, "pl.community_id, pl.id", page, place)
            .await
    }

    async fn insert_grid(&mut self, new: &NewGrid) -> StoreResult<i64> {
        let mut q = Q::new("INSERT INTO grids (community_id, code, name) VALUES (");
        q.bind(new.community_id)
            .sql(", ")
            .bind(&new.code)
            .sql(", ")
            .bind(&new.name)
            .sql(") RETURNING id");
        self.insert(&q, "grid").await
    }

    async fn list_grids(&mut self, filter: &Filter, page: Page) -> StoreResult<Paged<GridRow>> {
        let mut q = Q::new("FROM grids g WHERE 1 = 1");
        q.and_scope("g.community_id", filter)
            .and_eq("g.community_id", filter.community_id);
        self.paged("g.id, g.community_id, g.code, g.name", &q, "g.code", page, |r| {
            Ok(decode!(
                r,
                GridRow {
                    id,
                    community_id,
                    code,
                    name
                }
            ))
        })
        .await
    }

    async fn list_organisations(
        &mut self,
        filter: &Filter,
        page: Page,
    ) -> StoreResult<Paged<OrganisationRow>> {
        let mut q = Q::new("FROM organisations o WHERE 1 = 1");
        q.and_scope("o.community_id", filter)
            .and_eq("o.community_id", filter.community_id)
            .and_eq("o.house_id", filter.house_id)
            .and_like("o.name", filter.q.as_ref());
        let columns = "o.id, o.community_id, o.house_id, o.name, o.credit_code, o.kind";
        self.paged(columns, &q, "o.id", page, |r| {
            Ok(decode!(
                r,
                OrganisationRow {
                    id,
                    community_id,
                    house_id,
                    name,
                    credit_code,
                    kind
                }
            ))
        })
        .await
    }

    async fn insert_organisation(&mut self, new: &NewOrganisation) -> StoreResult<i64> {
        let mut q =
            Q::new("INSERT INTO organisations (community_id, house_id, name, credit_code, kind) VALUES (");
        q.bind(new.community_id)
            .sql(", ")
            .bind(new.house_id)
            .sql(", ")
            .bind(&new.name)
            .sql(", ");
        q.bind(&new.credit_code)
            .sql(", ")
            .bind(&new.kind)
            .sql(") RETURNING id");
        self.insert(&q, "organisation").await
    }

    async fn insert_person(&mut self, new: &NewPerson) -> StoreResult<i64> {
        let mut q = Q::new(
            "INSERT INTO persons (community_id, name, gender, id_type, id_number_enc, id_number_index, phone_enc, \
             phone_index, population_type, tags_json, created_at, updated_at) VALUES (",
        );
        q.bind(new.community_id)
            .sql(", ")
            .bind(&new.name)
            .sql(", ")
            .bind(&new.gender)
            .sql(", ");
        q.bind(&new.id_type)
            .sql(", ")
            .bind(&new.id_number_enc)
            .sql(", ")
            .bind(&new.id_number_index)
            .sql(", ");
        q.bind(&new.phone_enc)
            .sql(", ")
            .bind(&new.phone_index)
            .sql(", ")
            .bind(&new.population_type)
            .sql(", ");
        q.bind(&new.tags_json)
            .sql(", ")
            .bind(new.now_ms)
            .sql(", ")
            .bind(new.now_ms)
            .sql(") RETURNING id");
        self.insert(&q, "person").await
    }

    async fn update_person(&mut self, id: i64, new: &NewPerson) -> StoreResult<()> {
        let mut q = Q::new("UPDATE persons SET community_id = ");
        q.bind(new.community_id)
            .sql(", name = ")
            .bind(&new.name)
            .sql(", gender = ")
            .bind(&new.gender);
        q.sql(", id_type = ")
            .bind(&new.id_type)
            .sql(", id_number_enc = ")
            .bind(&new.id_number_enc);
        q.sql(", id_number_index = ")
            .bind(&new.id_number_index)
            .sql(", phone_enc = ")
            .bind(&new.phone_enc);
        q.sql(", phone_index = ")
            .bind(&new.phone_index)
            .sql(", population_type = ")
            .bind(&new.population_type);
        q.sql(", tags_json = ")
            .bind(&new.tags_json)
            .sql(", updated_at = ")
            .bind(new.now_ms);
        q.sql(" WHERE id = ").bind(id);
        match self.exec(&q).await? {
            0 => Err(StoreError::NotFound { entity: "person" }),
            _ => Ok(()),
        }
    }

    async fn person(&mut self, id: i64) -> StoreResult<Option<PersonRow>> {
        let mut q = Q::new(&format!("SELECT {PERSON_COLS} FROM persons p WHERE p.id = "));
        q.bind(id);
        self.one_as(&q, person).await
    }

    async fn person_by_id_index(&mut self, index: &str) -> StoreResult<Option<PersonRow>> {
        let mut q = Q::new(&format!(
            "SELECT {PERSON_COLS} FROM persons p WHERE p.id_number_index = "
        ));
        q.bind(index);
        self.one_as(&q, person).await
    }

    async fn list_persons(&mut self, filter: &Filter, page: Page) -> StoreResult<Paged<PersonRow>> {
        let mut q = Q::new("FROM persons p WHERE 1 = 1");
        q.and_scope("p.community_id", filter)
            .and_eq("p.community_id", filter.community_id)
            .and_eq("p.id_number_index", filter.id_number_index.as_ref())
            .and_like("p.name", filter.q.as_ref());
        if let Some(houses) = &filter.house_ids {
            q.sql(" AND p.id IN (SELECT person_id FROM person_houses WHERE house_id IN (");
            q.bind_list(houses).sql("))");
        }
        if let Some(house) = filter.house_id {
            q.sql(" AND p.id IN (SELECT person_id FROM person_houses WHERE house_id = ")
                .bind(house)
                .sql(")");
        }
        self.paged(PERSON_COLS, &q, "p.id", page, person).await
    }

    async fn upsert_person_house(&mut self, rel: &PersonHouseRow) -> StoreResult<()> {
        let mut q = Q::new(
            "INSERT INTO person_houses (person_id, house_id, role, lease_start, lease_end, schedule) VALUES (",
        );
        q.bind(rel.person_id)
            .sql(", ")
            .bind(rel.house_id)
            .sql(", ")
            .bind(&rel.role)
            .sql(", ");
        q.bind(&rel.lease_start).sql(", ").bind(&rel.lease_end);
        q.sql(", ").bind(&rel.schedule);
        q.sql(
            ") ON CONFLICT (person_id, house_id) DO UPDATE SET role = excluded.role, \
             lease_start = excluded.lease_start, lease_end = excluded.lease_end, schedule = excluded.schedule",
        );
        self.exec(&q).await.map(|_| ())
    }

    async fn person_houses(&mut self, person_ids: &[i64]) -> StoreResult<Vec<PersonHouseRow>> {
        let mut q = Q::new(
            "SELECT ph.person_id, ph.house_id, ph.role, ph.lease_start, ph.lease_end, ph.schedule, h.address \
             FROM person_houses ph JOIN houses h ON h.id = ph.house_id WHERE ph.person_id IN (",
        );
        q.bind_list(person_ids)
            .sql(") ORDER BY ph.person_id, ph.house_id");
        self.all(&q).await?.iter().map(person_house).collect()
    }

    async fn insert_vehicle(&mut self, new: &NewVehicle) -> StoreResult<i64> {
        let mut q = Q::new(
            "INSERT INTO vehicles (community_id, plate_number, plate_color, owner_person_id, parking_space) VALUES (",
        );
        q.bind(new.community_id)
            .sql(", ")
            .bind(&new.plate_number)
            .sql(", ")
            .bind(&new.plate_color)
            .sql(", ");
        q.bind(new.owner_person_id)
            .sql(", ")
            .bind(&new.parking_space)
            .sql(") RETURNING id");
        self.insert(&q, "vehicle").await
    }

    async fn update_vehicle(&mut self, id: i64, new: &NewVehicle) -> StoreResult<()> {
        let mut q = Q::new("UPDATE vehicles SET community_id = ");
        q.bind(new.community_id)
            .sql(", plate_number = ")
            .bind(&new.plate_number);
        q.sql(", plate_color = ")
            .bind(&new.plate_color)
            .sql(", owner_person_id = ")
            .bind(new.owner_person_id);
        q.sql(", parking_space = ")
            .bind(&new.parking_space)
            .sql(" WHERE id = ")
            .bind(id);
        match self.exec(&q).await? {
            0 => Err(StoreError::NotFound { entity: "vehicle" }),
            _ => Ok(()),
        }
    }

    async fn vehicle_by_plate(&mut self, plate: &str) -> StoreResult<Option<VehicleRow>> {
        let mut q = Q::new(&format!(
            "SELECT {VEHICLE_COLS} FROM vehicles v LEFT JOIN persons p ON p.id = v.owner_person_id \
             WHERE v.plate_number = "
        ));
        q.bind(plate);
        self.one_as(&q, vehicle).await
    }

    async fn vehicle(&mut self, id: i64) -> StoreResult<Option<VehicleRow>> {
        let mut q = Q::new(&format!(
            "SELECT {VEHICLE_COLS} FROM vehicles v LEFT JOIN persons p ON p.id = v.owner_person_id WHERE v.id = "
        ));
        q.bind(id);
        self.one_as(&q, vehicle).await
    }

    async fn list_vehicles(&mut self, filter: &Filter, page: Page) -> StoreResult<Paged<VehicleRow>> {
        let mut q = Q::new("FROM vehicles v LEFT JOIN persons p ON p.id = v.owner_person_id WHERE 1 = 1");
        q.and_scope("v.community_id", filter)
            .and_eq("v.community_id", filter.community_id)
            .and_eq("v.plate_number", filter.plate_number.as_ref());
        if let Some(houses) = &filter.house_ids {
            q.sql(" AND v.owner_person_id IN (SELECT person_id FROM person_houses WHERE house_id IN (");
            q.bind_list(houses).sql("))");
        }
        self.paged(VEHICLE_COLS, &q, "v.id", page, vehicle).await
    }

    async fn insert_device(&mut self, new: &NewDevice) -> StoreResult<i64> {
        let mut q = Q::new(
            "INSERT INTO devices (code, name, kind, protocol, community_id, place_id, x, y, install_date, \
             contractor, secret_enc, created_at) VALUES (",
        );
        q.bind(&new.code)
            .sql(", ")
            .bind(&new.name)
            .sql(", ")
            .bind(&new.kind)
            .sql(", ")
            .bind(&new.protocol);
        q.sql(", ")
            .bind(new.community_id)
            .sql(", ")
            .bind(new.place_id)
            .sql(", ")
            .bind(new.x)
            .sql(", ");
        q.bind(new.y)
            .sql(", ")
            .bind(&new.install_date)
            .sql(", ")
            .bind(&new.contractor)
            .sql(", ");
        q.bind(&new.secret_enc)
            .sql(", ")
            .bind(new.now_ms)
            .sql(") RETURNING id");
        self.insert(&q, "device").await
    }

    async fn device(&mut self, id: i64) -> StoreResult<Option<DeviceRow>> {
        let mut q = Q::new(&format!("SELECT {DEVICE_COLS} FROM devices d WHERE d.id = "));
        q.bind(id);
        self.one_as(&q, device).await
    }

    async fn device_by_code(&mut self, code: &str) -> StoreResult<Option<DeviceRow>> {
        let mut q = Q::new(&format!("SELECT {DEVICE_COLS} FROM devices d WHERE d.code = "));
        q.bind(code);
        self.one_as(&q, device).await
    }

    async fn list_devices(&mut self, filter: &Filter, page: Page) -> StoreResult<Paged<DeviceRow>> {
        let mut q = Q::new("FROM devices d WHERE 1 = 1");
        q.and_scope("d.community_id", filter)
            .and_eq("d.community_id", filter.community_id)
            .and_eq("d.kind", filter.kind.as_ref());
        if filter.unassigned {
            q.sql(" AND d.community_id IS NULL");
        }
        self.paged(DEVICE_COLS, &q, "d.code", page, device).await
    }

    async fn assign_device(&mut self, id: i64, community_id: i64, place_id: Option<i64>) -> StoreResult<()> {
        let mut q = Q::new("UPDATE devices SET community_id = ");
        q.bind(community_id)
            .sql(", place_id = ")
            .bind(place_id)
            .sql(" WHERE id = ")
            .bind(id);
        match self.exec(&q).await? {
            0 => Err(StoreError::NotFound { entity: "device" }),
            _ => Ok(()),
        }
    }

    async fn touch_device(
        &mut self,
        id: i64,
        at: i64,
        firmware: Option<&str>,
        library_version: Option<i64>,
    ) -> StoreResult<()> {
        // COALESCE keeps what a message without these fields does not report.
        let mut q = Q::new("UPDATE devices SET last_seen_at = ");
        q.bind(at)
            .sql(", firmware = COALESCE(")
            .bind(&firmware.map(String::from))
            .sql(", firmware)");
        q.sql(", library_version = COALESCE(")
            .bind(library_version)
            .sql(", library_version) WHERE id = ")
            .bind(id);
        match self.exec(&q).await? {
            0 => Err(StoreError::NotFound { entity: "device" }),
            _ => Ok(()),
        }
    }

    async fn place(&mut self, id: i64) -> StoreResult<Option<PlaceRow>> {
        let mut q = Q::new(&format!("SELECT {PLACE_COLS} FROM places pl WHERE pl.id = "));
        q.bind(id);
        self.one_as(&q, place).await
    }

    async fn insert_consent(&mut self, new: &NewConsent) -> StoreResult<i64> {
        let mut q = Q::new(
            "INSERT INTO consents (person_id, purpose, given_by, guardian_name, recorded_by, given_at) VALUES (",
        );
        q.bind(new.person_id)
            .sql(", ")
            .bind(&new.purpose)
            .sql(", ")
            .bind(&new.given_by)
            .sql(", ");
        q.bind(&new.guardian_name)
            .sql(", ")
            .bind(&new.recorded_by)
            .sql(", ")
            .bind(new.given_at);
        q.sql(") RETURNING id");
        self.insert(&q, "consent").await
    }

    async fn consents(&mut self, person_id: i64) -> StoreResult<Vec<ConsentRow>> {
        let mut q = Q::new(
            "SELECT id, person_id, purpose, given_by, guardian_name, recorded_by, given_at, revoked_at \
             FROM consents WHERE person_id = ",
        );
        q.bind(person_id).sql(" ORDER BY id DESC");
        self.all(&q)
            .await?
            .iter()
            .map(|r| {
                Ok(decode!(
                    r,
                    ConsentRow {
                        id,
                        person_id,
                        purpose,
                        given_by,
                        guardian_name,
                        recorded_by,
                        given_at,
                        revoked_at
                    }
                ))
            })
            .collect()
    }

    async fn revoke_consent(&mut self, id: i64, at: i64) -> StoreResult<()> {
        let mut q = Q::new("UPDATE consents SET revoked_at = ");
        q.bind(at).sql(" WHERE revoked_at IS NULL AND id = ").bind(id);
        match self.exec(&q).await? {
            0 => Err(StoreError::NotFound { entity: "consent" }),
            _ => Ok(()),
        }
    }

    async fn set_device_accepts(&mut self, id: i64, accepts: Option<&str>) -> StoreResult<()> {
        let mut q = Q::new("UPDATE devices SET accepts = ");
        q.bind(&accepts.map(String::from)).sql(" WHERE id = ").bind(id);
        match self.exec(&q).await? {
            0 => Err(StoreError::NotFound { entity: "device" }),
            _ => Ok(()),
        }
    }

    async fn insert_face_photo(&mut self, new: &NewFacePhoto) -> StoreResult<i64> {
        let mut q = Q::new(
            "INSERT INTO face_photos (person_id, image_key, sha256, format, width, height, size_bytes, \
             uploaded_by, uploaded_at) VALUES (",
        );
        q.bind(new.person_id)
            .sql(", ")
            .bind(&new.image_key)
            .sql(", ")
            .bind(&new.sha256)
            .sql(", ");
        q.bind(&new.format)
            .sql(", ")
            .bind(new.width)
            .sql(", ")
            .bind(new.height)
            .sql(", ");
        q.bind(new.size_bytes)
            .sql(", ")
            .bind(&new.uploaded_by)
            .sql(", ")
            .bind(new.uploaded_at)
            .sql(") RETURNING id");
        self.insert(&q, "face photo").await
    }

    async fn face_photo(&mut self, person_id: i64) -> StoreResult<Option<FacePhotoRow>> {
        let mut q = Q::new(&format!(
            "SELECT {FACE_COLS} FROM face_photos WHERE removed_at IS NULL AND person_id = "
        ));
        q.bind(person_id).sql(" ORDER BY id DESC LIMIT 1");
        self.one_as(&q, face_photo).await
    }

    async fn remove_face_photos(&mut self, person_id: i64, at: i64) -> StoreResult<Vec<String>> {
        let mut q = Q::new("SELECT image_key FROM face_photos WHERE removed_at IS NULL AND person_id = ");
        q.bind(person_id);
        let keys = self
            .all(&q)
            .await?
            .iter()
            .map(|r| r.try_get::<String, _>("image_key").map_err(map_err))
            .collect::<StoreResult<Vec<_>>>()?;
        let mut q = Q::new("UPDATE face_photos SET removed_at = ");
        q.bind(at)
            .sql(" WHERE removed_at IS NULL AND person_id = ")
            .bind(person_id);
        self.exec(&q).await?;
        Ok(keys)
    }

    async fn insert_capture_record(&mut self, new: &NewCaptureRecord) -> StoreResult<Option<i64>> {
        let mut q = Q::new(
            "INSERT INTO capture_records (community_id, device_id, kind, record_id, content_hash, shot_at, plate, \
             attributes, image_keys, received_at) VALUES (",
        );
        q.bind(new.community_id)
            .sql(", ")
            .bind(new.device_id)
            .sql(", ")
            .bind(&new.kind)
            .sql(", ")
            .bind(&new.record_id);
        q.sql(", ")
            .bind(&new.content_hash)
            .sql(", ")
            .bind(new.shot_at)
            .sql(", ")
            .bind(&new.plate);
        q.sql(", ")
            .bind(&new.attributes)
            .sql(", ")
            .bind(&new.image_keys)
            .sql(", ")
            .bind(new.received_at);
        // A repeat of the same upload is not an error: the batch answers it as stored.
        q.sql(") ON CONFLICT (device_id, record_id, content_hash) DO NOTHING RETURNING id");
        match self.one(&q).await? {
            Some(row) => Ok(Some(row.try_get("id").map_err(map_err)?)),
            None => Ok(None),
        }
    }

    async fn list_capture_records(
        &mut self,
        filter: &Filter,
        since: Option<i64>,
        until: Option<i64>,
        page: Page,
    ) -> StoreResult<Paged<CaptureRecordRow>> {
        let mut q = Q::new("FROM capture_records c WHERE 1 = 1");
        q.and_scope("c.community_id", filter)
            .and_eq("c.community_id", filter.community_id)
            .and_eq("c.device_id", filter.device_id)
            .and_eq("c.kind", filter.kind.as_ref())
            .and_eq("c.plate", filter.plate_number.as_ref());
        if let Some(since) = since {
            q.sql(" AND c.shot_at >= ").bind(since);
        }
        if let Some(until) = until {
            q.sql(" AND c.shot_at < ").bind(until);
        }
        self.paged(
            CAPTURE_COLS,
            &q,
            "c.shot_at DESC, c.id DESC",
            page,
            capture_record,
        )
        .await
    }

    async fn enqueue_cascade(
        &mut self,
        target: &str,
        kind: &str,
        payload: &str,
        at: i64,
        device_id: Option<i64>,
    ) -> StoreResult<i64> {
        let mut q =
            Q::new("INSERT INTO cascade_queue (target, kind, payload, created_at, device_id) VALUES (");
        q.bind(target)
            .sql(", ")
            .bind(kind)
            .sql(", ")
            .bind(payload)
            .sql(", ")
            .bind(at)
            .sql(", ")
            .bind(device_id)
            .sql(") RETURNING id");
        self.insert(&q, "cascade item").await
    }

    async fn pending_cascade(&mut self, target: &str, limit: i64) -> StoreResult<Vec<CascadeRow>> {
        let mut q = Q::new(
            "SELECT id, target, kind, payload, created_at, attempts FROM cascade_queue \
             WHERE delivered_at IS NULL AND target = ",
        );
        q.bind(target).sql(" ORDER BY id LIMIT ").bind(limit);
        self.all(&q)
            .await?
            .iter()
            .map(|r| {
                Ok(decode!(
                    r,
                    CascadeRow {
                        id,
                        target,
                        kind,
                        payload,
                        created_at,
                        attempts
                    }
                ))
            })
            .collect()
    }

    async fn mark_cascade_delivered(&mut self, ids: &[i64], at: i64) -> StoreResult<()> {
        if ids.is_empty() {
            return Ok(());
        }
        let mut q = Q::new("UPDATE cascade_queue SET delivered_at = ");
        q.bind(at).sql(" WHERE id IN (");
        q.bind_list(ids).sql(")");
        self.exec(&q).await.map(|_| ())
    }

    async fn note_cascade_failure(&mut self, ids: &[i64], error: &str) -> StoreResult<()> {
        if ids.is_empty() {
            return Ok(());
        }
        let mut q = Q::new("UPDATE cascade_queue SET attempts = attempts + 1, last_error = ");
        q.bind(error).sql(" WHERE id IN (");
        q.bind_list(ids).sql(")");
        self.exec(&q).await.map(|_| ())
    }

    async fn cascade_depth(&mut self, target: &str) -> StoreResult<CascadeDepth> {
        let mut q = Q::new(
            "SELECT COUNT(*) FILTER (WHERE delivered_at IS NULL) AS pending, MAX(delivered_at) AS last_delivered_at \
             FROM cascade_queue WHERE target = ",
        );
        q.bind(target);
        let row = self.one(&q).await?.ok_or(StoreError::NotFound {
            entity: "cascade target",
        })?;
        Ok(CascadeDepth {
            pending: row.try_get("pending").map_err(map_err)?,
            last_delivered_at: row.try_get("last_delivered_at").map_err(map_err)?,
        })
    }

    async fn capture_record(&mut self, id: i64) -> StoreResult<Option<CaptureRecordRow>> {
        let mut q = Q::new(&format!(
            "SELECT {CAPTURE_COLS} FROM capture_records c WHERE c.id = "
        ));
        q.bind(id);
        self.one_as(&q, capture_record).await
    }

    async fn upsert_viid_subscription(&mut self, new: &ViidSubscriptionRow) -> StoreResult<i64> {
        let mut q = Q::new(
            "INSERT INTO viid_subscriptions (target, subscribe_id, status, begin_at, end_at, body, updated_at) \
             VALUES (",
        );
        q.bind(&new.target)
            .sql(", ")
            .bind(&new.subscribe_id)
            .sql(", ")
            .bind(new.status)
            .sql(", ")
            .bind(new.begin_at);
        q.sql(", ")
            .bind(new.end_at)
            .sql(", ")
            .bind(&new.body)
            .sql(", ")
            .bind(new.updated_at);
        q.sql(
            ") ON CONFLICT (target, subscribe_id) DO UPDATE SET status = excluded.status, \
             begin_at = excluded.begin_at, end_at = excluded.end_at, body = excluded.body, \
             updated_at = excluded.updated_at RETURNING id",
        );
        self.insert(&q, "subscription").await
    }

    async fn set_viid_subscription_status(
        &mut self,
        target: &str,
        subscribe_id: &str,
        status: i64,
        at: i64,
    ) -> StoreResult<bool> {
        let mut q = Q::new("UPDATE viid_subscriptions SET status = ");
        q.bind(status)
            .sql(", updated_at = ")
            .bind(at)
            .sql(" WHERE target = ")
            .bind(target)
            .sql(" AND subscribe_id = ")
            .bind(subscribe_id);
        Ok(self.exec(&q).await? > 0)
    }

    async fn list_viid_subscriptions(&mut self, target: &str) -> StoreResult<Vec<ViidSubscriptionRow>> {
        let mut q = Q::new(
            "SELECT id, target, subscribe_id, status, begin_at, end_at, body, updated_at \
             FROM viid_subscriptions WHERE target = ",
        );
        q.bind(target).sql(" ORDER BY id");
        self.all(&q)
            .await?
            .iter()
            .map(|r| {
                Ok(decode!(
                    r,
                    ViidSubscriptionRow {
                        id,
                        target,
                        subscribe_id,
                        status,
                        begin_at,
                        end_at,
                        body,
                        updated_at
                    }
                ))
            })
            .collect()
    }

    async fn upsert_watch_entry(&mut self, new: &WatchEntryRow) -> StoreResult<i64> {
        let mut q = Q::new(
            "INSERT INTO watch_entries (source, external_id, category, plate, title, status, begin_at, end_at, \
             body, image_keys, created_at, updated_at) VALUES (",
        );
        q.bind(&new.source)
            .sql(", ")
            .bind(&new.external_id)
            .sql(", ")
            .bind(&new.category)
            .sql(", ")
            .bind(&new.plate);
        q.sql(", ")
            .bind(&new.title)
            .sql(", ")
            .bind(&new.status)
            .sql(", ")
            .bind(new.begin_at)
            .sql(", ")
            .bind(new.end_at);
        q.sql(", ")
            .bind(&new.body)
            .sql(", ")
            .bind(&new.image_keys)
            .sql(", ")
            .bind(new.created_at)
            .sql(", ")
            .bind(new.updated_at);
        q.sql(
            ") ON CONFLICT (source, external_id) DO UPDATE SET category = excluded.category, \
             plate = excluded.plate, title = excluded.title, status = excluded.status, \
             begin_at = excluded.begin_at, end_at = excluded.end_at, body = excluded.body, \
             image_keys = excluded.image_keys, updated_at = excluded.updated_at RETURNING id",
        );
        self.insert(&q, "watch-list entry").await
    }

    async fn set_watch_entry_status(
        &mut self,
        source: &str,
        external_id: &str,
        status: &str,
        at: i64,
    ) -> StoreResult<bool> {
        let mut q = Q::new("UPDATE watch_entries SET status = ");
        q.bind(status)
            .sql(", updated_at = ")
            .bind(at)
            .sql(" WHERE source = ")
            .bind(source)
            .sql(" AND external_id = ")
            .bind(external_id);
        Ok(self.exec(&q).await? > 0)
    }

    async fn watch_entry(&mut self, id: i64) -> StoreResult<Option<WatchEntryRow>> {
        let mut q = Q::new(&format!("SELECT {WATCH_COLS} FROM watch_entries w WHERE w.id = "));
        q.bind(id);
        self.one_as(&q, watch_entry).await
    }

    async fn list_watch_entries(
        &mut self,
        status: Option<&str>,
        page: Page,
    ) -> StoreResult<Paged<WatchEntryRow>> {
        let mut q = Q::new("FROM watch_entries w WHERE 1 = 1");
        q.and_eq("w.status", status);
        self.paged(WATCH_COLS, &q, "w.id DESC", page, watch_entry).await
    }

    async fn plate_watches(&mut self, plates: &[String], at: i64) -> StoreResult<Vec<WatchEntryRow>> {
        if plates.is_empty() {
            return Ok(Vec::new());
        }
        let mut q = Q::new(&format!(
            "SELECT {WATCH_COLS} FROM watch_entries w WHERE w.status = 'active' AND w.plate IN ("
        ));
        for (n, plate) in plates.iter().enumerate() {
            if n > 0 {
                q.sql(", ");
            }
            q.bind(plate);
        }
        q.sql(") AND w.begin_at <= ")
            .bind(at)
            .sql(" AND w.end_at > ")
            .bind(at)
            .sql(" ORDER BY w.id");
        self.all(&q).await?.iter().map(watch_entry).collect()
    }

    async fn insert_watch_hit(&mut self, new: &WatchHitRow) -> StoreResult<i64> {
        let mut q = Q::new(
            "INSERT INTO watch_hits (entry_id, capture_record_id, community_id, distance, margin, state, at) VALUES (",
        );
        q.bind(new.entry_id)
            .sql(", ")
            .bind(new.capture_record_id)
            .sql(", ")
            .bind(new.community_id)
            .sql(", ")
            .bind(new.distance)
            .sql(", ")
            .bind(new.margin)
            .sql(", ")
            .bind(&new.state)
            .sql(", ")
            .bind(new.at)
            .sql(") RETURNING id");
        self.insert(&q, "watch-list hit").await
    }

    async fn list_watch_hits(
        &mut self,
        entry_id: Option<i64>,
        page: Page,
    ) -> StoreResult<Paged<WatchHitRow>> {
        let mut q = Q::new("FROM watch_hits h WHERE 1 = 1");
        q.and_eq("h.entry_id", entry_id);
        self.paged(
            "h.id, h.entry_id, h.capture_record_id, h.community_id, h.at, h.distance, h.margin, h.state",
            &q,
            "h.at DESC, h.id DESC",
            page,
            |r| {
                Ok(decode!(
                    r,
                    WatchHitRow {
                        id,
                        entry_id,
                        capture_record_id,
                        community_id,
                        at,
                        distance,
                        margin,
                        state
                    }
                ))
            },
        )
        .await
    }

    async fn insert_notify_channel(&mut self, new: &NotifyChannelRow) -> StoreResult<i64> {
        let mut q = Q::new(
            "INSERT INTO notify_channels (name, channel, address_enc, secret_enc, kinds, min_severity, role, \
             community_id, active, created_by, created_at) VALUES (",
        );
        q.bind(&new.name)
            .sql(", ")
            .bind(&new.channel)
            .sql(", ")
            .bind(&new.address_enc)
            .sql(", ")
            .bind(&new.secret_enc)
            .sql(", ")
            .bind(&new.kinds)
            .sql(", ")
            .bind(&new.min_severity);
        q.sql(", ")
            .bind(&new.role)
            .sql(", ")
            .bind(new.community_id)
            .sql(", ")
            .bind(i64::from(new.active))
            .sql(", ")
            .bind(&new.created_by)
            .sql(", ")
            .bind(new.created_at)
            .sql(") RETURNING id");
        self.insert(&q, "notification channel").await
    }

    async fn notify_channel(&mut self, id: i64) -> StoreResult<Option<NotifyChannelRow>> {
        let mut q = Q::new(&format!(
            "SELECT {CHANNEL_COLS} FROM notify_channels c WHERE c.id = "
        ));
        q.bind(id);
        self.one_as(&q, notify_channel).await
    }

    async fn list_notify_channels(&mut self, active_only: bool) -> StoreResult<Vec<NotifyChannelRow>> {
        let mut q = Q::new(&format!(
            "SELECT {CHANNEL_COLS} FROM notify_channels c WHERE 1 = 1"
        ));
        if active_only {
            q.sql(" AND c.active = 1");
        }
        q.sql(" ORDER BY c.id");
        self.all(&q).await?.iter().map(notify_channel).collect()
    }

    async fn set_notify_channel_active(&mut self, id: i64, active: bool) -> StoreResult<()> {
        let mut q = Q::new("UPDATE notify_channels SET active = ");
        q.bind(i64::from(active)).sql(" WHERE id = ").bind(id);
        if self.exec(&q).await? == 0 {
            return Err(StoreError::NotFound {
                entity: "notification channel",
            });
        }
        Ok(())
    }

    async fn insert_notification(&mut self, new: &NotificationRow) -> StoreResult<Option<i64>> {
        let mut q = Q::new(
            "INSERT INTO notifications (channel_id, event, idempotency_key, payload, state, attempts, \
             next_attempt_at, last_status, last_error, created_at, delivered_at) VALUES (",
        );
        q.bind(new.channel_id)
            .sql(", ")
            .bind(&new.event)
            .sql(", ")
            .bind(&new.idempotency_key)
            .sql(", ")
            .bind(&new.payload)
            .sql(", ")
            .bind(&new.state)
            .sql(", ")
            .bind(new.attempts);
        q.sql(", ")
            .bind(new.next_attempt_at)
            .sql(", ")
            .bind(new.last_status)
            .sql(", ")
            .bind(&new.last_error)
            .sql(", ")
            .bind(new.created_at)
            .sql(", ")
            .bind(new.delivered_at)
            .sql(") ON CONFLICT (channel_id, idempotency_key) DO NOTHING RETURNING id");
        match self.one(&q).await? {
            Some(row) => Ok(Some(row.try_get("id").map_err(map_err)?)),
            None => Ok(None),
        }
    }

    async fn notification(&mut self, id: i64) -> StoreResult<Option<NotificationRow>> {
        let mut q = Q::new(&format!(
            "SELECT {NOTIFICATION_COLS} FROM notifications n WHERE n.id = "
        ));
        q.bind(id);
        self.one_as(&q, notification).await
    }

    async fn due_notifications(&mut self, now: i64, limit: i64) -> StoreResult<Vec<NotificationRow>> {
        let mut q = Q::new(&format!(
            "SELECT {NOTIFICATION_COLS} FROM notifications n WHERE n.state = 'pending' AND n.next_attempt_at <= "
        ));
        q.bind(now)
            .sql(" ORDER BY n.next_attempt_at, n.id LIMIT ")
            .bind(limit);
        self.all(&q).await?.iter().map(notification).collect()
    }

    async fn lease_notification(&mut self, id: i64, now: i64, until: i64) -> StoreResult<bool> {
        let mut q = Q::new("UPDATE notifications SET next_attempt_at = ");
        q.bind(until)
            .sql(" WHERE id = ")
            .bind(id)
            .sql(" AND state = 'pending' AND next_attempt_at <= ")
            .bind(now);
        Ok(self.exec(&q).await? == 1)
    }

    async fn next_notification_due(&mut self) -> StoreResult<Option<i64>> {
        let q = Q::new("SELECT MIN(n.next_attempt_at) AS due FROM notifications n WHERE n.state = 'pending'");
        match self.one(&q).await? {
            Some(row) => Ok(row.try_get("due").map_err(map_err)?),
            None => Ok(None),
        }
    }

    async fn update_notification(&mut self, row: &NotificationRow) -> StoreResult<()> {
        let mut q = Q::new("UPDATE notifications SET state = ");
        q.bind(&row.state)
            .sql(", attempts = ")
            .bind(row.attempts)
            .sql(", next_attempt_at = ")
            .bind(row.next_attempt_at)
            .sql(", last_status = ")
            .bind(row.last_status)
            .sql(", last_error = ")
            .bind(&row.last_error)
            .sql(", delivered_at = ")
            .bind(row.delivered_at)
            .sql(" WHERE id = ")
            .bind(row.id);
        if self.exec(&q).await? == 0 {
            return Err(StoreError::NotFound {
                entity: "notification",
            });
        }
        Ok(())
    }

    async fn list_notifications(
        &mut self,
        channel_id: i64,
        page: Page,
    ) -> StoreResult<Paged<NotificationRow>> {
        let mut q = Q::new("FROM notifications n WHERE n.channel_id = ");
        q.bind(channel_id);
        self.paged(NOTIFICATION_COLS, &q, "n.id DESC", page, notification)
            .await
    }

    async fn set_face_template(
        &mut self,
        photo_id: i64,
        model: &str,
        template_enc: &[u8],
    ) -> StoreResult<()> {
        let mut q = Q::new("UPDATE face_photos SET template_model = ");
        q.bind(model)
            .sql(", template_enc = ")
            .bind(template_enc)
            .sql(" WHERE id = ")
            .bind(photo_id);
        self.exec(&q).await?;
        Ok(())
    }

    async fn face_templates(&mut self, person_id: Option<i64>) -> StoreResult<Vec<FaceTemplateRow>> {
        let mut q = Q::new(
            "SELECT f.id AS photo_id, f.person_id, p.community_id, f.template_enc, f.template_model \
             FROM face_photos f JOIN persons p ON p.id = f.person_id \
             WHERE f.removed_at IS NULL AND f.template_enc IS NOT NULL",
        );
        q.and_eq("f.person_id", person_id).sql(" ORDER BY f.id");
        self.all(&q)
            .await?
            .iter()
            .map(|r| {
                Ok(decode!(
                    r,
                    FaceTemplateRow {
                        photo_id,
                        person_id,
                        community_id,
                        template_enc,
                        template_model
                    }
                ))
            })
            .collect()
    }

    async fn face_person_counts(&mut self) -> StoreResult<Vec<(i64, i64)>> {
        let q = Q::new(
            "SELECT p.community_id, COUNT(DISTINCT f.person_id) AS n FROM face_photos f \
             JOIN persons p ON p.id = f.person_id WHERE f.removed_at IS NULL \
             GROUP BY p.community_id ORDER BY p.community_id",
        );
        self.all(&q)
            .await?
            .iter()
            .map(|r| {
                Ok((
                    r.try_get::<i64, _>("community_id").map_err(map_err)?,
                    r.try_get::<i64, _>("n").map_err(map_err)?,
                ))
            })
            .collect()
    }

    async fn set_watch_template(
        &mut self,
        entry_id: i64,
        model: &str,
        template_enc: &[u8],
    ) -> StoreResult<()> {
        let mut q = Q::new("UPDATE watch_entries SET template_model = ");
        q.bind(model)
            .sql(", template_enc = ")
            .bind(template_enc)
            .sql(" WHERE id = ")
            .bind(entry_id);
        self.exec(&q).await?;
        Ok(())
    }

    async fn watch_templates(&mut self, at: i64) -> StoreResult<Vec<WatchTemplateRow>> {
        let mut q = Q::new(
            "SELECT id AS entry_id, template_enc, template_model FROM watch_entries \
             WHERE status = 'active' AND template_enc IS NOT NULL AND begin_at <= ",
        );
        q.bind(at).sql(" AND end_at > ").bind(at).sql(" ORDER BY id");
        self.all(&q)
            .await?
            .iter()
            .map(|r| {
                Ok(decode!(
                    r,
                    WatchTemplateRow {
                        entry_id,
                        template_enc,
                        template_model
                    }
                ))
            })
            .collect()
    }

    async fn pending_face_captures(&mut self, after: i64, limit: i64) -> StoreResult<Vec<CaptureRecordRow>> {
        let mut q = Q::new(&format!(
            "SELECT {CAPTURE_COLS} FROM capture_records c \
             WHERE c.kind = 'face' AND NOT EXISTS \
             (SELECT 1 FROM capture_faces f WHERE f.capture_record_id = c.id) AND c.id > "
        ));
        q.bind(after).sql(" ORDER BY c.id LIMIT ").bind(limit.max(0));
        self.all(&q).await?.iter().map(capture_record).collect()
    }

    async fn insert_capture_face(&mut self, new: &CaptureFaceRow) -> StoreResult<i64> {
        let mut q = Q::new(
            "INSERT INTO capture_faces (capture_record_id, community_id, device_id, shot_at, outcome, person_id, \
             stranger_id, distance, margin, template_enc, model, recognised_at, expires_at) VALUES (",
        );
        q.bind(new.capture_record_id)
            .sql(", ")
            .bind(new.community_id)
            .sql(", ")
            .bind(new.device_id)
            .sql(", ")
            .bind(new.shot_at);
        q.sql(", ")
            .bind(&new.outcome)
            .sql(", ")
            .bind(new.person_id)
            .sql(", ")
            .bind(new.stranger_id)
            .sql(", ")
            .bind(new.distance);
        q.sql(", ")
            .bind(new.margin)
            .sql(", ")
            .bind(&new.template_enc)
            .sql(", ")
            .bind(&new.model)
            .sql(", ")
            .bind(new.recognised_at)
            .sql(", ")
            .bind(new.expires_at)
            .sql(") RETURNING id");
        self.insert(&q, "capture face").await
    }

    async fn capture_faces_of(
        &mut self,
        stranger_id: Option<i64>,
        person_id: Option<i64>,
        limit: i64,
    ) -> StoreResult<Vec<CaptureFaceRow>> {
        let mut q = Q::new(&format!(
            "SELECT {CAPTURE_FACE_COLS} FROM capture_faces f WHERE 1 = 1"
        ));
        q.and_eq("f.stranger_id", stranger_id)
            .and_eq("f.person_id", person_id)
            .sql(" ORDER BY f.shot_at DESC, f.id DESC LIMIT ")
            .bind(limit.max(0));
        self.all(&q).await?.iter().map(capture_face).collect()
    }

    async fn capture_face_templates(
        &mut self,
        communities: Option<&[i64]>,
    ) -> StoreResult<Vec<CaptureFaceRow>> {
        let mut q = Q::new(&format!(
            "SELECT {CAPTURE_FACE_COLS} FROM capture_faces f WHERE f.template_enc IS NOT NULL"
        ));
        let ids = communities.map(|c| c.to_vec());
        q.and_in("f.community_id", ids.as_ref()).sql(" ORDER BY f.id");
        self.all(&q).await?.iter().map(capture_face).collect()
    }

    async fn insert_stranger(&mut self, new: &StrangerRow) -> StoreResult<i64> {
        let mut q = Q::new(
            "INSERT INTO strangers (community_id, template_enc, model, sightings, first_seen, last_seen, expires_at) \
             VALUES (",
        );
        q.bind(new.community_id)
            .sql(", ")
            .bind(&new.template_enc)
            .sql(", ")
            .bind(&new.model)
            .sql(", ")
            .bind(new.sightings);
        q.sql(", ")
            .bind(new.first_seen)
            .sql(", ")
            .bind(new.last_seen)
            .sql(", ")
            .bind(new.expires_at)
            .sql(") RETURNING id");
        self.insert(&q, "stranger").await
    }

    async fn update_stranger(&mut self, row: &StrangerRow) -> StoreResult<()> {
        let mut q = Q::new("UPDATE strangers SET template_enc = ");
        q.bind(&row.template_enc)
            .sql(", sightings = ")
            .bind(row.sightings)
            .sql(", last_seen = ")
            .bind(row.last_seen)
            .sql(", expires_at = ")
            .bind(row.expires_at);
        q.sql(" WHERE id = ").bind(row.id);
        if self.exec(&q).await? == 0 {
            return Err(StoreError::NotFound { entity: "stranger" });
        }
        Ok(())
    }

    async fn stranger(&mut self, id: i64) -> StoreResult<Option<StrangerRow>> {
        let mut q = Q::new(&format!("SELECT {STRANGER_COLS} FROM strangers s WHERE s.id = "));
        q.bind(id);
        self.one_as(&q, stranger).await
    }

    async fn strangers(&mut self, community_id: Option<i64>) -> StoreResult<Vec<StrangerRow>> {
        let mut q = Q::new(&format!("SELECT {STRANGER_COLS} FROM strangers s WHERE 1 = 1"));
        q.and_eq("s.community_id", community_id).sql(" ORDER BY s.id");
        self.all(&q).await?.iter().map(stranger).collect()
    }

    async fn purge_biometrics(&mut self, now: i64) -> StoreResult<BiometricPurge> {
        let mut q = Q::new(
            "UPDATE capture_faces SET template_enc = NULL WHERE template_enc IS NOT NULL AND expires_at <= ",
        );
        q.bind(now);
        let capture_templates = self.exec(&q).await?;
        let mut q = Q::new(
            "UPDATE capture_faces SET stranger_id = NULL WHERE stranger_id IN \
             (SELECT id FROM strangers WHERE expires_at <= ",
        );
        q.bind(now).sql(")");
        self.exec(&q).await?;
        let mut q = Q::new("DELETE FROM strangers WHERE expires_at <= ");
        q.bind(now);
        let strangers = self.exec(&q).await?;
        Ok(BiometricPurge {
            capture_templates,
            strangers,
        })
    }

    async fn insert_alarm(&mut self, new: &AlarmRow) -> StoreResult<i64> {
        let mut q = Q::new(
            "INSERT INTO alarms (community_id, device_id, place_id, kind, severity, state, zone, source, \
             source_ref, raised_at, last_at, repeats, level, escalated_at, acknowledged_at, acknowledged_by, \
             dispatched_to, closed_at, closed_by, cameras, snapshot_key) VALUES (",
        );
        q.bind(new.community_id)
            .sql(", ")
            .bind(new.device_id)
            .sql(", ")
            .bind(new.place_id)
            .sql(", ")
            .bind(&new.kind)
            .sql(", ")
            .bind(&new.severity)
            .sql(", ")
            .bind(&new.state)
            .sql(", ")
            .bind(&new.zone);
        q.sql(", ")
            .bind(&new.source)
            .sql(", ")
            .bind(&new.source_ref)
            .sql(", ")
            .bind(new.raised_at)
            .sql(", ")
            .bind(new.last_at)
            .sql(", ")
            .bind(new.repeats)
            .sql(", ")
            .bind(new.level)
            .sql(", ")
            .bind(new.escalated_at);
        q.sql(", ")
            .bind(new.acknowledged_at)
            .sql(", ")
            .bind(&new.acknowledged_by)
            .sql(", ")
            .bind(&new.dispatched_to)
            .sql(", ")
            .bind(new.closed_at)
            .sql(", ")
            .bind(&new.closed_by)
            .sql(", ")
            .bind(&new.cameras)
            .sql(", ")
            .bind(&new.snapshot_key)
            .sql(") RETURNING id");
        self.insert(&q, "alarm").await
    }

    async fn alarm(&mut self, id: i64) -> StoreResult<Option<AlarmRow>> {
        let mut q = Q::new(&format!("SELECT {ALARM_COLS} FROM alarms a WHERE a.id = "));
        q.bind(id);
        self.one_as(&q, alarm).await
    }

    async fn open_alarm(&mut self, device_id: i64, kind: &str) -> StoreResult<Option<AlarmRow>> {
        let mut q = Q::new(&format!(
            "SELECT {ALARM_COLS} FROM alarms a WHERE a.state NOT IN ('resolved', 'false_alarm') AND a.device_id = "
        ));
        q.bind(device_id)
            .sql(" AND a.kind = ")
            .bind(kind)
            .sql(" ORDER BY a.raised_at DESC, a.id DESC LIMIT 1");
        self.one_as(&q, alarm).await
    }

    async fn update_alarm(&mut self, row: &AlarmRow) -> StoreResult<()> {
        let mut q = Q::new("UPDATE alarms SET severity = ");
        q.bind(&row.severity)
            .sql(", state = ")
            .bind(&row.state)
            .sql(", last_at = ")
            .bind(row.last_at)
            .sql(", repeats = ")
            .bind(row.repeats)
            .sql(", level = ")
            .bind(row.level)
            .sql(", escalated_at = ")
            .bind(row.escalated_at);
        q.sql(", acknowledged_at = ")
            .bind(row.acknowledged_at)
            .sql(", acknowledged_by = ")
            .bind(&row.acknowledged_by)
            .sql(", dispatched_to = ")
            .bind(&row.dispatched_to)
            .sql(", closed_at = ")
            .bind(row.closed_at)
            .sql(", closed_by = ")
            .bind(&row.closed_by)
            .sql(", snapshot_key = ")
            .bind(&row.snapshot_key)
            .sql(" WHERE id = ")
            .bind(row.id);
        if self.exec(&q).await? == 0 {
            return Err(StoreError::NotFound { entity: "alarm" });
        }
        Ok(())
    }

    async fn list_alarms(&mut self, filter: &AlarmFilter, page: Page) -> StoreResult<Paged<AlarmRow>> {
        let mut q = Q::new("FROM alarms a WHERE 1 = 1");
        q.and_in("a.community_id", filter.community_ids.as_ref())
            .and_eq("a.state", filter.state.as_ref())
            .and_eq("a.kind", filter.kind.as_ref());
        if filter.open {
            q.sql(" AND a.state NOT IN ('resolved', 'false_alarm')");
        }
        if let Some(since) = filter.since {
            q.sql(" AND a.raised_at >= ").bind(since);
        }
        if let Some(until) = filter.until {
            q.sql(" AND a.raised_at < ").bind(until);
        }
        self.paged(
            ALARM_COLS,
            &q,
            "CASE WHEN a.state IN ('resolved', 'false_alarm') THEN 1 ELSE 0 END, \
             CASE a.severity WHEN 'critical' THEN 0 WHEN 'major' THEN 1 ELSE 2 END, a.raised_at DESC, a.id DESC",
            page,
            alarm,
        )
        .await
    }

    async fn insert_alarm_action(&mut self, new: &AlarmActionRow) -> StoreResult<i64> {
        let mut q = Q::new("INSERT INTO alarm_actions (alarm_id, at, actor, action, note) VALUES (");
        q.bind(new.alarm_id)
            .sql(", ")
            .bind(new.at)
            .sql(", ")
            .bind(&new.actor)
            .sql(", ")
            .bind(&new.action)
            .sql(", ")
            .bind(&new.note)
            .sql(") RETURNING id");
        self.insert(&q, "alarm action").await
    }

    async fn alarm_actions(&mut self, alarm_id: i64) -> StoreResult<Vec<AlarmActionRow>> {
        let mut q = Q::new(
            "SELECT x.id, x.alarm_id, x.at, x.actor, x.action, x.note FROM alarm_actions x WHERE x.alarm_id = ",
        );
        q.bind(alarm_id).sql(" ORDER BY x.at, x.id");
        self.all(&q).await?.iter().map(alarm_action).collect()
    }

    async fn insert_patrol_route(&mut self, new: &PatrolRouteRow) -> StoreResult<i64> {
        let mut q = Q::new(
            "INSERT INTO patrol_routes (community_id, name, checkpoints, times, guard_user_id, window_minutes, \
             tolerance_minutes, active, created_at, created_by) VALUES (",
        );
        q.bind(new.community_id)
            .sql(", ")
            .bind(&new.name)
            .sql(", ")
            .bind(&new.checkpoints)
            .sql(", ")
            .bind(&new.times)
            .sql(", ")
            .bind(new.guard_user_id);
        q.sql(", ")
            .bind(new.window_minutes)
            .sql(", ")
            .bind(new.tolerance_minutes)
            .sql(", ")
            .bind(i64::from(new.active))
            .sql(", ")
            .bind(new.created_at)
            .sql(", ")
            .bind(&new.created_by)
            .sql(") RETURNING id");
        self.insert(&q, "patrol route").await
    }

    async fn patrol_route(&mut self, id: i64) -> StoreResult<Option<PatrolRouteRow>> {
        let mut q = Q::new(&format!(
            "SELECT {PATROL_ROUTE_COLS} FROM patrol_routes r WHERE r.id = "
        ));
        q.bind(id);
        self.one_as(&q, patrol_route).await
    }

    async fn list_patrol_routes(
        &mut self,
        community_ids: Option<&Vec<i64>>,
        active_only: bool,
    ) -> StoreResult<Vec<PatrolRouteRow>> {
        let mut q = Q::new(&format!(
            "SELECT {PATROL_ROUTE_COLS} FROM patrol_routes r WHERE 1 = 1"
        ));
        q.and_in("r.community_id", community_ids);
        if active_only {
            q.sql(" AND r.active = 1");
        }
        q.sql(" ORDER BY r.community_id, r.name, r.id");
        self.all(&q).await?.iter().map(patrol_route).collect()
    }

    async fn set_patrol_route_active(&mut self, id: i64, active: bool) -> StoreResult<()> {
        let mut q = Q::new("UPDATE patrol_routes SET active = ");
        q.bind(i64::from(active)).sql(" WHERE id = ").bind(id);
        if self.exec(&q).await? == 0 {
            return Err(StoreError::NotFound {
                entity: "patrol route",
            });
        }
        Ok(())
    }

    async fn insert_patrol_scan(&mut self, new: &PatrolScanRow) -> StoreResult<i64> {
        let mut q = Q::new(
            "INSERT INTO patrol_scans (community_id, checkpoint_id, checkpoint_ref, reader_id, guard_ref, \
             guard_user_id, at, event_id) VALUES (",
        );
        q.bind(new.community_id)
            .sql(", ")
            .bind(new.checkpoint_id)
            .sql(", ")
            .bind(&new.checkpoint_ref)
            .sql(", ")
            .bind(new.reader_id)
            .sql(", ")
            .bind(&new.guard_ref);
        q.sql(", ")
            .bind(new.guard_user_id)
            .sql(", ")
            .bind(new.at)
            .sql(", ")
            .bind(&new.event_id)
            .sql(") RETURNING id");
        self.insert(&q, "patrol scan").await
    }

    async fn patrol_scans(
        &mut self,
        community_id: i64,
        from: i64,
        until: i64,
    ) -> StoreResult<Vec<PatrolScanRow>> {
        let mut q = Q::new(
            "SELECT s.id, s.community_id, s.checkpoint_id, s.checkpoint_ref, s.reader_id, s.guard_ref, \
             s.guard_user_id, s.at, s.event_id FROM patrol_scans s WHERE s.community_id = ",
        );
        q.bind(community_id)
            .sql(" AND s.at >= ")
            .bind(from)
            .sql(" AND s.at <= ")
            .bind(until)
            .sql(" ORDER BY s.at, s.id");
        self.all(&q).await?.iter().map(patrol_scan).collect()
    }

    async fn insert_patrol_round(&mut self, new: &PatrolRoundRow) -> StoreResult<Option<i64>> {
        let mut q = Q::new(
            "INSERT INTO patrol_rounds (route_id, community_id, guard_user_id, start_at, end_at, status, on_time, \
             late, missed, out_of_order, detail, evaluated_at) VALUES (",
        );
        q.bind(new.route_id)
            .sql(", ")
            .bind(new.community_id)
            .sql(", ")
            .bind(new.guard_user_id)
            .sql(", ")
            .bind(new.start_at)
            .sql(", ")
            .bind(new.end_at)
            .sql(", ")
            .bind(&new.status);
        q.sql(", ")
            .bind(new.on_time)
            .sql(", ")
            .bind(new.late)
            .sql(", ")
            .bind(new.missed)
            .sql(", ")
            .bind(new.out_of_order)
            .sql(", ")
            .bind(&new.detail)
            .sql(", ")
            .bind(new.evaluated_at)
            .sql(") ON CONFLICT (route_id, start_at) DO NOTHING RETURNING id");
        match self.one(&q).await? {
            Some(row) => Ok(Some(row.try_get("id").map_err(map_err)?)),
            None => Ok(None),
        }
    }

    async fn patrol_round_starts(&mut self, route_id: i64, since: i64) -> StoreResult<Vec<i64>> {
        let mut q = Q::new("SELECT p.start_at FROM patrol_rounds p WHERE p.route_id = ");
        q.bind(route_id)
            .sql(" AND p.start_at >= ")
            .bind(since)
            .sql(" ORDER BY p.start_at");
        self.all(&q)
            .await?
            .iter()
            .map(|r| r.try_get::<i64, _>("start_at").map_err(map_err))
            .collect()
    }

    async fn list_patrol_rounds(
        &mut self,
        community_ids: Option<&Vec<i64>>,
        from: i64,
        until: i64,
    ) -> StoreResult<Vec<PatrolRoundRow>> {
        let mut q = Q::new(&format!(
            "SELECT {PATROL_ROUND_COLS} FROM patrol_rounds p WHERE p.start_at >= "
        ));
        q.bind(from).sql(" AND p.start_at < ").bind(until);
        q.and_in("p.community_id", community_ids);
        q.sql(" ORDER BY p.start_at, p.id");
        self.all(&q).await?.iter().map(patrol_round).collect()
    }

    async fn insert_warning(&mut self, new: &WarningRow) -> StoreResult<i64> {
        let mut q = Q::new(
            "INSERT INTO warnings (community_id, kind, audience, subject, title, score, evidence, state, raised_at, \
             updated_at, handled_by, handled_at, note, watch_hit_id) VALUES (",
        );
        q.bind(new.community_id)
            .sql(", ")
            .bind(&new.kind)
            .sql(", ")
            .bind(&new.audience)
            .sql(", ")
            .bind(&new.subject)
            .sql(", ")
            .bind(&new.title)
            .sql(", ")
            .bind(new.score)
            .sql(", ")
            .bind(&new.evidence);
        q.sql(", ")
            .bind(&new.state)
            .sql(", ")
            .bind(new.raised_at)
            .sql(", ")
            .bind(new.updated_at)
            .sql(", ")
            .bind(&new.handled_by)
            .sql(", ")
            .bind(new.handled_at)
            .sql(", ")
            .bind(&new.note)
            .sql(", ")
            .bind(new.watch_hit_id)
            .sql(") RETURNING id");
        self.insert(&q, "warning").await
    }

    async fn warning(&mut self, id: i64) -> StoreResult<Option<WarningRow>> {
        let mut q = Q::new(&format!("SELECT {WARNING_COLS} FROM warnings w WHERE w.id = "));
        q.bind(id);
        self.one_as(&q, warning).await
    }

    async fn latest_warning(&mut self, kind: &str, subject: &str) -> StoreResult<Option<WarningRow>> {
        let mut q = Q::new(&format!("SELECT {WARNING_COLS} FROM warnings w WHERE w.kind = "));
        q.bind(kind)
            .sql(" AND w.subject = ")
            .bind(subject)
            .sql(" ORDER BY w.raised_at DESC, w.id DESC LIMIT 1");
        self.one_as(&q, warning).await
    }

    async fn update_warning(&mut self, row: &WarningRow) -> StoreResult<()> {
        let mut q = Q::new("UPDATE warnings SET title = ");
        q.bind(&row.title)
            .sql(", score = ")
            .bind(row.score)
            .sql(", evidence = ")
            .bind(&row.evidence)
            .sql(", state = ")
            .bind(&row.state)
            .sql(", updated_at = ")
            .bind(row.updated_at);
        q.sql(", handled_by = ")
            .bind(&row.handled_by)
            .sql(", handled_at = ")
            .bind(row.handled_at)
            .sql(", note = ")
            .bind(&row.note)
            .sql(" WHERE id = ")
            .bind(row.id);
        if self.exec(&q).await? == 0 {
            return Err(StoreError::NotFound { entity: "warning" });
        }
        Ok(())
    }

    async fn list_warnings(&mut self, filter: &WarningFilter, page: Page) -> StoreResult<Paged<WarningRow>> {
        let mut q = Q::new("FROM warnings w WHERE w.audience IN (");
        if filter.audiences.is_empty() {
            q.sql("NULL");
        }
        for (i, a) in filter.audiences.iter().enumerate() {
            if i > 0 {
                q.sql(", ");
            }
            q.bind(a);
        }
        q.sql(")");
        q.and_in("w.community_id", filter.community_ids.as_ref())
            .and_eq("w.kind", filter.kind.as_ref())
            .and_eq("w.state", filter.state.as_ref());
        if filter.open {
            q.sql(" AND w.state IN ('to_confirm', 'open')");
        }
        self.paged(
            WARNING_COLS,
            &q,
            "CASE WHEN w.state IN ('to_confirm', 'open') THEN 0 ELSE 1 END, w.raised_at DESC, w.id DESC",
            page,
            warning,
        )
        .await
    }

    async fn warning_rules(&mut self, community_id: i64) -> StoreResult<Option<String>> {
        let mut q = Q::new("SELECT r.rules FROM warning_rules r WHERE r.community_id = ");
        q.bind(community_id);
        match self.one(&q).await? {
            Some(row) => Ok(Some(row.try_get("rules").map_err(map_err)?)),
            None => Ok(None),
        }
    }

    async fn set_warning_rules(
        &mut self,
        community_id: i64,
        rules: &str,
        at: i64,
        by: &str,
    ) -> StoreResult<()> {
        let mut q =
            Q::new("INSERT INTO warning_rules (community_id, rules, updated_at, updated_by) VALUES (");
        q.bind(community_id)
            .sql(", ")
            .bind(rules)
            .sql(", ")
            .bind(at)
            .sql(", ")
            .bind(by)
            .sql(
                ") ON CONFLICT (community_id) DO UPDATE SET rules = excluded.rules, \
                 updated_at = excluded.updated_at, updated_by = excluded.updated_by",
            );
        self.exec(&q).await?;
        Ok(())
    }

    async fn set_watch_hit_state(&mut self, hit_id: i64, state: &str) -> StoreResult<()> {
        let mut q = Q::new("UPDATE watch_hits SET state = ");
        q.bind(state).sql(" WHERE id = ").bind(hit_id);
        if self.exec(&q).await? == 0 {
            return Err(StoreError::NotFound { entity: "watch hit" });
        }
        Ok(())
    }

    async fn stranger_sightings(&mut self, since: i64) -> StoreResult<Vec<StrangerSighting>> {
        let mut q = Q::new(
            "SELECT f.stranger_id, f.community_id, f.capture_record_id, f.shot_at FROM capture_faces f \
             WHERE f.stranger_id IS NOT NULL AND f.shot_at >= ",
        );
        q.bind(since).sql(" ORDER BY f.shot_at, f.id");
        self.all(&q)
            .await?
            .iter()
            .map(|r| {
                Ok(StrangerSighting {
                    stranger_id: r.try_get("stranger_id").map_err(map_err)?,
                    community_id: r.try_get("community_id").map_err(map_err)?,
                    capture_record_id: r.try_get("capture_record_id").map_err(map_err)?,
                    shot_at: r.try_get("shot_at").map_err(map_err)?,
                })
            })
            .collect()
    }

    async fn person_last_seen(&mut self, community_id: i64) -> StoreResult<Vec<(i64, i64)>> {
        let mut q = Q::new(
            "SELECT s.person_id, MAX(s.at) AS at FROM (SELECT a.person_id, a.at FROM access_records a \
             WHERE a.outcome = 'open' AND a.person_id IS NOT NULL AND a.community_id = ",
        );
        q.bind(community_id).sql(
            " UNION ALL SELECT f.person_id, f.shot_at AS at FROM capture_faces f \
             WHERE f.person_id IS NOT NULL AND f.community_id = ",
        );
        q.bind(community_id)
            .sql(") s GROUP BY s.person_id ORDER BY s.person_id");
        self.all(&q)
            .await?
            .iter()
            .map(|r| {
                Ok((
                    r.try_get("person_id").map_err(map_err)?,
                    r.try_get("at").map_err(map_err)?,
                ))
            })
            .collect()
    }

    async fn house_entrants(
        &mut self,
        community_id: i64,
        since: i64,
        until: i64,
    ) -> StoreResult<Vec<(i64, String)>> {
        let mut q = Q::new(
            "SELECT DISTINCT ph.house_id, 'p' || CAST(a.person_id AS TEXT) AS who FROM access_records a \
             JOIN person_houses ph ON ph.person_id = a.person_id WHERE a.outcome = 'open' AND a.community_id = ",
        );
        q.bind(community_id)
            .sql(" AND a.at >= ")
            .bind(since)
            .sql(" AND a.at <= ")
            .bind(until);
        q.sql(
            " UNION SELECT DISTINCT v.house_id, 'v' || v.name AS who FROM visitor_passes v \
             WHERE v.revoked_at IS NULL AND v.community_id = ",
        );
        q.bind(community_id)
            .sql(" AND v.valid_until >= ")
            .bind(since)
            .sql(" AND v.valid_from <= ")
            .bind(until)
            .sql(" ORDER BY 1, 2");
        self.all(&q)
            .await?
            .iter()
            .map(|r| {
                Ok((
                    r.try_get("house_id").map_err(map_err)?,
                    r.try_get("who").map_err(map_err)?,
                ))
            })
            .collect()
    }

    async fn insert_parking_pass(&mut self, new: &NewParkingPass) -> StoreResult<i64> {
        let mut q = Q::new(
            "INSERT INTO parking_passes (community_id, plate_number, holder_name, valid_from, valid_until, \
             fee_cents, created_by, created_at) VALUES (",
        );
        q.bind(new.community_id)
            .sql(", ")
            .bind(&new.plate_number)
            .sql(", ")
            .bind(&new.holder_name)
            .sql(", ");
        q.bind(new.valid_from)
            .sql(", ")
            .bind(new.valid_until)
            .sql(", ")
            .bind(new.fee_cents)
            .sql(", ");
        q.bind(&new.created_by)
            .sql(", ")
            .bind(new.created_at)
            .sql(") RETURNING id");
        self.insert(&q, "parking pass").await
    }

    async fn parking_pass(&mut self, id: i64) -> StoreResult<Option<ParkingPassRow>> {
        let mut q = Q::new(&format!("SELECT {PASS_COLS} FROM parking_passes WHERE id = "));
        q.bind(id);
        self.one_as(&q, parking_pass).await
    }

    async fn parking_passes(
        &mut self,
        community_id: i64,
        plate: Option<&str>,
    ) -> StoreResult<Vec<ParkingPassRow>> {
        let mut q = Q::new(&format!(
            "SELECT {PASS_COLS} FROM parking_passes WHERE community_id = "
        ));
        q.bind(community_id);
        if let Some(plate) = plate {
            q.sql(" AND plate_number = ").bind(plate);
        }
        q.sql(" ORDER BY id DESC");
        self.all(&q).await?.iter().map(parking_pass).collect()
    }

    async fn revoke_parking_pass(&mut self, id: i64, at: i64) -> StoreResult<()> {
        let mut q = Q::new("UPDATE parking_passes SET revoked_at = ");
        q.bind(at).sql(" WHERE revoked_at IS NULL AND id = ").bind(id);
        match self.exec(&q).await? {
            0 => Err(StoreError::NotFound {
                entity: "parking pass",
            }),
            _ => Ok(()),
        }
    }

    async fn insert_deny_entry(&mut self, new: &NewDenyEntry) -> StoreResult<i64> {
        let mut q =
            Q::new("INSERT INTO deny_list (community_id, person_id, reason, added_by, added_at) VALUES (");
        q.bind(new.community_id)
            .sql(", ")
            .bind(new.person_id)
            .sql(", ")
            .bind(&new.reason);
        q.sql(", ")
            .bind(&new.added_by)
            .sql(", ")
            .bind(new.added_at)
            .sql(") RETURNING id");
        self.insert(&q, "deny list entry").await
    }

    async fn deny_entry(&mut self, id: i64) -> StoreResult<Option<DenyEntryRow>> {
        let mut q = Q::new(&format!("SELECT {DENY_COLS} FROM deny_list WHERE id = "));
        q.bind(id);
        self.one_as(&q, deny_entry).await
    }

    async fn deny_entries(&mut self, community_id: i64, active_only: bool) -> StoreResult<Vec<DenyEntryRow>> {
        let mut q = Q::new(&format!(
            "SELECT {DENY_COLS} FROM deny_list WHERE community_id = "
        ));
        q.bind(community_id);
        if active_only {
            q.sql(" AND removed_at IS NULL");
        }
        q.sql(" ORDER BY id DESC");
        self.all(&q).await?.iter().map(deny_entry).collect()
    }

    async fn denied_communities(&mut self, person_id: i64) -> StoreResult<Vec<i64>> {
        let mut q =
            Q::new("SELECT DISTINCT community_id FROM deny_list WHERE removed_at IS NULL AND person_id = ");
        q.bind(person_id).sql(" ORDER BY community_id");
        self.all(&q)
            .await?
            .iter()
            .map(|r| r.try_get::<i64, _>("community_id").map_err(map_err))
            .collect()
    }

    async fn remove_deny_entry(&mut self, id: i64, at: i64, by: &str) -> StoreResult<()> {
        let mut q = Q::new("UPDATE deny_list SET removed_at = ");
        q.bind(at)
            .sql(", removed_by = ")
            .bind(by)
            .sql(" WHERE removed_at IS NULL AND id = ")
            .bind(id);
        match self.exec(&q).await? {
            0 => Err(StoreError::NotFound {
                entity: "deny list entry",
            }),
            _ => Ok(()),
        }
    }

    async fn insert_credential(&mut self, new: &NewCredential) -> StoreResult<i64> {
        let mut q = Q::new(
            "INSERT INTO credentials (person_id, kind, value_index, value_enc, valid_from, valid_until, created_at) \
             VALUES (",
        );
        q.bind(new.person_id)
            .sql(", ")
            .bind(&new.kind)
            .sql(", ")
            .bind(&new.value_index)
            .sql(", ");
        q.bind(&new.value_enc)
            .sql(", ")
            .bind(new.valid_from)
            .sql(", ")
            .bind(new.valid_until)
            .sql(", ");
        q.bind(new.now_ms).sql(") RETURNING id");
        self.insert(&q, "credential").await
    }

    async fn bump_library(&mut self, community_id: i64, person_id: i64, at: i64) -> StoreResult<i64> {
        // The upsert takes the community's row lock first, so versions follow commit order.
        let mut q = Q::new("INSERT INTO library_versions (community_id, version) VALUES (");
        q.bind(community_id)
            .sql(", 1) ON CONFLICT (community_id) DO UPDATE SET version = library_versions.version + 1");
        q.sql(" RETURNING version");
        let row = self.one(&q).await?.ok_or(StoreError::NotFound {
            entity: "library version",
        })?;
        let version: i64 = row.try_get("version").map_err(map_err)?;
        let mut q = Q::new("INSERT INTO library_changes (community_id, version, person_id, at) VALUES (");
        q.bind(community_id)
            .sql(", ")
            .bind(version)
            .sql(", ")
            .bind(person_id)
            .sql(", ")
            .bind(at)
            .sql(")");
        self.exec(&q).await?;
        Ok(version)
    }

    async fn library_version(&mut self, community_id: i64) -> StoreResult<i64> {
        let mut q = Q::new("SELECT version FROM library_versions WHERE community_id = ");
        q.bind(community_id);
        match self.one(&q).await? {
            Some(row) => row.try_get("version").map_err(map_err),
            None => Ok(0),
        }
    }

    async fn library_changes_since(
        &mut self,
        community_id: i64,
        after: i64,
        limit: i64,
    ) -> StoreResult<Vec<(i64, i64)>> {
        let mut q = Q::new("SELECT version, person_id FROM library_changes WHERE community_id = ");
        q.bind(community_id)
            .sql(" AND version > ")
            .bind(after)
            .sql(" ORDER BY version LIMIT ")
            .bind(limit);
        self.all(&q)
            .await?
            .iter()
            .map(|r| {
                Ok((
                    r.try_get("version").map_err(map_err)?,
                    r.try_get("person_id").map_err(map_err)?,
                ))
            })
            .collect()
    }

    async fn credentials(&mut self, person_id: i64) -> StoreResult<Vec<CredentialRow>> {
        let mut q = Q::new(&format!(
            "SELECT {CREDENTIAL_COLS} FROM credentials WHERE person_id = "
        ));
        q.bind(person_id).sql(" ORDER BY id");
        self.all(&q).await?.iter().map(credential).collect()
    }

    async fn credential_by_index(
        &mut self,
        kind: &str,
        value_index: &str,
    ) -> StoreResult<Option<CredentialRow>> {
        let mut q = Q::new(&format!(
            "SELECT {CREDENTIAL_COLS} FROM credentials WHERE kind = "
        ));
        q.bind(kind).sql(" AND value_index = ").bind(value_index);
        self.one_as(&q, credential).await
    }

    async fn revoke_credential(&mut self, id: i64, at: i64) -> StoreResult<()> {
        let mut q = Q::new("UPDATE credentials SET revoked_at = ");
        q.bind(at).sql(" WHERE revoked_at IS NULL AND id = ").bind(id);
        match self.exec(&q).await? {
            0 => Err(StoreError::NotFound { entity: "credential" }),
            _ => Ok(()),
        }
    }

    async fn device_event(&mut self, device_id: i64, event_id: &str) -> StoreResult<Option<DeviceEventRow>> {
        let mut q = Q::new(
            "SELECT device_id, event_id, kind, at, received_at, body, answer FROM device_events WHERE device_id = ",
        );
        q.bind(device_id).sql(" AND event_id = ").bind(event_id);
        self.one_as(&q, |r| {
            Ok(decode!(
                r,
                DeviceEventRow {
                    device_id,
                    event_id,
                    kind,
                    at,
                    received_at,
                    body,
                    answer
                }
            ))
        })
        .await
    }

    async fn insert_device_event(&mut self, row: &DeviceEventRow) -> StoreResult<()> {
        let mut q = Q::new(
            "INSERT INTO device_events (device_id, event_id, kind, at, received_at, body, answer) VALUES (",
        );
        q.bind(row.device_id)
            .sql(", ")
            .bind(&row.event_id)
            .sql(", ")
            .bind(&row.kind)
            .sql(", ")
            .bind(row.at);
        q.sql(", ")
            .bind(row.received_at)
            .sql(", ")
            .bind(&row.body)
            .sql(", ")
            .bind(&row.answer)
            .sql(")");
        self.exec(&q).await.map(|_| ())
    }

    async fn insert_access_record(&mut self, new: &NewAccessRecord) -> StoreResult<i64> {
        let mut q = Q::new(
            "INSERT INTO access_records (community_id, device_id, event_id, person_id, credential_kind, outcome, \
             reason, decided_locally, snapshot_key, at) VALUES (",
        );
        q.bind(new.community_id)
            .sql(", ")
            .bind(new.device_id)
            .sql(", ")
            .bind(&new.event_id)
            .sql(", ");
        q.bind(new.person_id)
            .sql(", ")
            .bind(&new.credential_kind)
            .sql(", ")
            .bind(&new.outcome)
            .sql(", ");
        q.bind(&new.reason)
            .sql(", ")
            .bind(i64::from(new.decided_locally))
            .sql(", ")
            .bind(&new.snapshot_key);
        q.sql(", ").bind(new.at).sql(") RETURNING id");
        self.insert(&q, "access record").await
    }

    async fn list_access_records(
        &mut self,
        filter: &Filter,
        page: Page,
    ) -> StoreResult<Paged<AccessRecordRow>> {
        let mut q = Q::new("FROM access_records a LEFT JOIN persons p ON p.id = a.person_id WHERE 1 = 1");
        q.and_scope("a.community_id", filter)
            .and_eq("a.community_id", filter.community_id)
            .and_eq("a.device_id", filter.device_id)
            .and_eq("a.person_id", filter.person_id)
            .and_eq("a.outcome", filter.kind.as_ref());
        if let Some(houses) = &filter.house_ids {
            q.sql(" AND a.person_id IN (SELECT person_id FROM person_houses WHERE house_id IN (");
            q.bind_list(houses).sql("))");
        }
        self.paged(ACCESS_COLS, &q, "a.at DESC, a.id DESC", page, access_record)
            .await
    }

    async fn access_record(&mut self, id: i64) -> StoreResult<Option<AccessRecordRow>> {
        let mut q = Q::new(&format!(
            "SELECT {ACCESS_COLS} FROM access_records a LEFT JOIN persons p ON p.id = a.person_id WHERE a.id = "
        ));
        q.bind(id);
        self.one_as(&q, access_record).await
    }

    async fn parking_tariff(&mut self, community_id: i64) -> StoreResult<Option<String>> {
        let mut q = Q::new("SELECT tariff_json FROM parking_tariffs WHERE community_id = ");
        q.bind(community_id);
        match self.one(&q).await? {
            Some(row) => Ok(Some(row.try_get("tariff_json").map_err(map_err)?)),
            None => Ok(None),
        }
    }

    async fn set_parking_tariff(&mut self, community_id: i64, tariff_json: &str, at: i64) -> StoreResult<()> {
        let mut q = Q::new("INSERT INTO parking_tariffs (community_id, tariff_json, updated_at) VALUES (");
        q.bind(community_id)
            .sql(", ")
            .bind(tariff_json)
            .sql(", ")
            .bind(at);
        q.sql(") ON CONFLICT (community_id) DO UPDATE SET tariff_json = excluded.tariff_json, updated_at = excluded.updated_at");
        self.exec(&q).await.map(|_| ())
    }

    async fn insert_parking_session(
        &mut self,
        community_id: i64,
        plate: &str,
        device_id: i64,
        at: i64,
    ) -> StoreResult<i64> {
        let mut q = Q::new(
            "INSERT INTO parking_sessions (community_id, plate, entry_device_id, entered_at, paid_cents, status) VALUES (",
        );
        q.bind(community_id)
            .sql(", ")
            .bind(plate)
            .sql(", ")
            .bind(device_id)
            .sql(", ")
            .bind(at);
        q.sql(", 0, 'open') RETURNING id");
        self.insert(&q, "parking session").await
    }

    async fn parking_session(&mut self, id: i64) -> StoreResult<Option<ParkingSessionRow>> {
        let mut q = Q::new(&format!(
            "SELECT {PARKING_COLS} FROM parking_sessions WHERE id = "
        ));
        q.bind(id);
        self.one_as(&q, parking_session).await
    }

    async fn unclosed_parking_sessions(&mut self, community_id: i64) -> StoreResult<Vec<ParkingSessionRow>> {
        let mut q = Q::new(&format!(
            "SELECT {PARKING_COLS} FROM parking_sessions WHERE status <> 'closed' AND community_id = "
        ));
        q.bind(community_id).sql(" ORDER BY entered_at");
        self.all(&q).await?.iter().map(parking_session).collect()
    }

    async fn update_parking_session(
        &mut self,
        id: i64,
        exit_device_id: Option<i64>,
        exited_at: Option<i64>,
        fee_cents: Option<i64>,
        status: &str,
    ) -> StoreResult<()> {
        let mut q = Q::new("UPDATE parking_sessions SET exit_device_id = ");
        q.bind(exit_device_id)
            .sql(", exited_at = ")
            .bind(exited_at)
            .sql(", fee_cents = ")
            .bind(fee_cents);
        q.sql(", status = ").bind(status).sql(" WHERE id = ").bind(id);
        match self.exec(&q).await? {
            0 => Err(StoreError::NotFound {
                entity: "parking session",
            }),
            _ => Ok(()),
        }
    }

    async fn insert_parking_payment(
        &mut self,
        session_id: i64,
        amount_cents: i64,
        method: &str,
        recorded_by: &str,
        at: i64,
    ) -> StoreResult<i64> {
        let mut q = Q::new("UPDATE parking_sessions SET paid_cents = paid_cents + ");
        q.bind(amount_cents).sql(" WHERE id = ").bind(session_id);
        if self.exec(&q).await? == 0 {
            return Err(StoreError::NotFound {
                entity: "parking session",
            });
        }
        let mut q = Q::new(
            "INSERT INTO parking_payments (session_id, amount_cents, method, recorded_by, paid_at) VALUES (",
        );
        q.bind(session_id)
            .sql(", ")
            .bind(amount_cents)
            .sql(", ")
            .bind(method)
            .sql(", ")
            .bind(recorded_by);
        q.sql(", ").bind(at).sql(") RETURNING id");
        self.insert(&q, "parking payment").await
    }

    async fn parking_payments(&mut self, session_id: i64) -> StoreResult<Vec<ParkingPaymentRow>> {
        let mut q = Q::new(
            "SELECT id, session_id, amount_cents, method, recorded_by, paid_at, refunded_at FROM parking_payments \
             WHERE session_id = ",
        );
        q.bind(session_id).sql(" ORDER BY id");
        self.all(&q)
            .await?
            .iter()
            .map(|r| {
                Ok(decode!(
                    r,
                    ParkingPaymentRow {
                        id,
                        session_id,
                        amount_cents,
                        method,
                        recorded_by,
                        paid_at,
                        refunded_at
                    }
                ))
            })
            .collect()
    }

    async fn refund_parking_payment(&mut self, payment_id: i64, at: i64) -> StoreResult<()> {
        let mut q = Q::new("UPDATE parking_payments SET refunded_at = ");
        q.bind(at)
            .sql(" WHERE refunded_at IS NULL AND id = ")
            .bind(payment_id)
            .sql(" RETURNING session_id, amount_cents");
        let row = self
            .one(&q)
            .await?
            .ok_or(StoreError::NotFound { entity: "payment" })?;
        let session: i64 = row.try_get("session_id").map_err(map_err)?;
        let amount: i64 = row.try_get("amount_cents").map_err(map_err)?;
        let mut q = Q::new("UPDATE parking_sessions SET paid_cents = paid_cents - ");
        q.bind(amount).sql(" WHERE id = ").bind(session);
        self.exec(&q).await.map(|_| ())
    }

    async fn list_parking_sessions(
        &mut self,
        filter: &Filter,
        page: Page,
    ) -> StoreResult<Paged<ParkingSessionRow>> {
        let mut q = Q::new("FROM parking_sessions WHERE 1 = 1");
        q.and_scope("community_id", filter)
            .and_eq("community_id", filter.community_id)
            .and_eq("status", filter.kind.as_ref())
            .and_eq("plate", filter.plate_number.as_ref());
        self.paged(
            PARKING_COLS,
            &q,
            "entered_at DESC, id DESC",
            page,
            parking_session,
        )
        .await
    }

    async fn insert_booth_call(&mut self, new: &NewBoothCall) -> StoreResult<i64> {
        let mut q = Q::new(
            "INSERT INTO booth_calls (community_id, device_id, event_id, visitor_name, id_number_enc, house_ref, \
             house_id, card_photo_key, snapshot_key, status, created_at) VALUES (",
        );
        q.bind(new.community_id)
            .sql(", ")
            .bind(new.device_id)
            .sql(", ")
            .bind(&new.event_id)
            .sql(", ");
        q.bind(&new.visitor_name)
            .sql(", ")
            .bind(&new.id_number_enc)
            .sql(", ")
            .bind(&new.house_ref)
            .sql(", ")
            .bind(new.house_id)
            .sql(", ")
            .bind(&new.card_photo_key)
            .sql(", ")
            .bind(&new.snapshot_key);
        q.sql(", 'ringing', ").bind(new.now_ms).sql(") RETURNING id");
        self.insert(&q, "booth call").await
    }

    async fn booth_call(&mut self, id: i64) -> StoreResult<Option<BoothCallRow>> {
        let mut q = Q::new(&format!("SELECT {BOOTH_COLS} FROM booth_calls WHERE id = "));
        q.bind(id);
        self.one_as(&q, booth_call).await
    }

    async fn set_booth_call_status(
        &mut self,
        id: i64,
        from: &str,
        to: &str,
        at: i64,
        by: Option<&str>,
        note: Option<&str>,
    ) -> StoreResult<bool> {
        let mut q = Q::new("UPDATE booth_calls SET status = ");
        q.bind(to)
            .sql(", answered_at = ")
            .bind(at)
            .sql(", answered_by = ")
            .bind(&by.map(String::from));
        q.sql(", note = ")
            .bind(&note.map(String::from))
            .sql(" WHERE id = ")
            .bind(id)
            .sql(" AND status = ")
            .bind(from);
        Ok(self.exec(&q).await? > 0)
    }

    async fn ringing_booth_calls_before(&mut self, before: i64) -> StoreResult<Vec<BoothCallRow>> {
        let mut q = Q::new(&format!(
            "SELECT {BOOTH_COLS} FROM booth_calls WHERE status = 'ringing' AND created_at < "
        ));
        q.bind(before).sql(" ORDER BY id");
        self.all(&q).await?.iter().map(booth_call).collect()
    }

    async fn list_booth_calls(&mut self, filter: &Filter, page: Page) -> StoreResult<Paged<BoothCallRow>> {
        let mut q = Q::new("FROM booth_calls WHERE 1 = 1");
        q.and_scope("community_id", filter)
            .and_in("house_id", filter.house_ids.as_ref())
            .and_eq("community_id", filter.community_id)
            .and_eq("status", filter.kind.as_ref());
        self.paged(BOOTH_COLS, &q, "id DESC", page, booth_call).await
    }

    async fn queue_command(&mut self, device_id: i64, command: &str, at: i64) -> StoreResult<i64> {
        let mut q = Q::new("INSERT INTO device_commands (device_id, command, created_at) VALUES (");
        q.bind(device_id)
            .sql(", ")
            .bind(command)
            .sql(", ")
            .bind(at)
            .sql(") RETURNING id");
        self.insert(&q, "device command").await
    }

    async fn pending_commands(
        &mut self,
        device_id: Option<i64>,
        limit: i64,
    ) -> StoreResult<Vec<DeviceCommandRow>> {
        let mut q = Q::new(
            "SELECT id, device_id, command, created_at, delivered_at FROM device_commands WHERE delivered_at IS NULL",
        );
        q.and_eq("device_id", device_id)
            .sql(" ORDER BY id LIMIT ")
            .bind(limit);
        self.all(&q)
            .await?
            .iter()
            .map(|r| {
                Ok(decode!(
                    r,
                    DeviceCommandRow {
                        id,
                        device_id,
                        command,
                        created_at,
                        delivered_at
                    }
                ))
            })
            .collect()
    }

    async fn mark_command_delivered(&mut self, id: i64, at: i64) -> StoreResult<()> {
        let mut q = Q::new("UPDATE device_commands SET delivered_at = ");
        q.bind(at).sql(" WHERE id = ").bind(id);
        self.exec(&q).await.map(|_| ())
    }

    async fn insert_visitor_pass(&mut self, new: &NewVisitorPass) -> StoreResult<i64> {
        let mut q = Q::new(
            "INSERT INTO visitor_passes (community_id, house_id, name, phone_enc, plate_number, valid_from, \
             valid_until, token_index, created_by, created_at) VALUES (",
        );
        q.bind(new.community_id)
            .sql(", ")
            .bind(new.house_id)
            .sql(", ")
            .bind(&new.name)
            .sql(", ");
        q.bind(&new.phone_enc)
            .sql(", ")
            .bind(&new.plate_number)
            .sql(", ")
            .bind(new.valid_from)
            .sql(", ");
        q.bind(new.valid_until)
            .sql(", ")
            .bind(&new.token_index)
            .sql(", ")
            .bind(&new.created_by)
            .sql(", ");
        q.bind(new.now_ms).sql(") RETURNING id");
        self.insert(&q, "visitor pass").await
    }

    async fn visitor_pass_by_token(&mut self, token_index: &str) -> StoreResult<Option<VisitorPassRow>> {
        let mut q = Q::new(&format!(
            "SELECT {VISITOR_COLS} FROM visitor_passes v WHERE v.token_index = "
        ));
        q.bind(token_index);
        self.one_as(&q, visitor_pass).await
    }

    async fn list_visitor_passes(
        &mut self,
        filter: &Filter,
        page: Page,
    ) -> StoreResult<Paged<VisitorPassRow>> {
        let mut q = Q::new("FROM visitor_passes v WHERE 1 = 1");
        q.and_scope("v.community_id", filter)
            .and_in("v.house_id", filter.house_ids.as_ref())
            .and_eq("v.community_id", filter.community_id)
            .and_eq("v.house_id", filter.house_id);
        self.paged(VISITOR_COLS, &q, "v.id DESC", page, visitor_pass)
            .await
    }

    async fn insert_user(&mut self, new: &NewUser) -> StoreResult<i64> {
        let mut q =
            Q::new("INSERT INTO users (username, password_hash, role, display_name, created_at) VALUES (");
        q.bind(&new.username)
            .sql(", ")
            .bind(&new.password_hash)
            .sql(", ")
            .bind(&new.role)
            .sql(", ");
        q.bind(&new.display_name)
            .sql(", ")
            .bind(new.now_ms)
            .sql(") RETURNING id");
        let id = self.insert(&q, "user").await?;
        for (kind, target) in &new.scopes {
            let mut q = Q::new("INSERT INTO user_scopes (user_id, kind, target) VALUES (");
            q.bind(id).sql(", ").bind(kind).sql(", ").bind(target).sql(")");
            self.exec(&q).await?;
        }
        Ok(id)
    }

    async fn user_by_name(&mut self, username: &str) -> StoreResult<Option<UserRow>> {
        let mut q = Q::new(&format!("SELECT {USER_COLS} FROM users WHERE username = "));
        q.bind(username);
        self.one_as(&q, user).await
    }

    async fn user(&mut self, id: i64) -> StoreResult<Option<UserRow>> {
        let mut q = Q::new(&format!("SELECT {USER_COLS} FROM users WHERE id = "));
        q.bind(id);
        self.one_as(&q, user).await
    }

    async fn list_users(&mut self, page: Page) -> StoreResult<Paged<UserRow>> {
        let q = Q::new("FROM users WHERE 1 = 1");
        self.paged(USER_COLS, &q, "id", page, user).await
    }

    async fn user_scopes(&mut self, user_id: i64) -> StoreResult<Vec<(String, String)>> {
        let mut q = Q::new("SELECT kind, target FROM user_scopes WHERE user_id = ");
        q.bind(user_id).sql(" ORDER BY kind, target");
        let rows = self.all(&q).await?;
        rows.iter()
            .map(|r| {
                Ok((
                    r.try_get("kind").map_err(map_err)?,
                    r.try_get("target").map_err(map_err)?,
                ))
            })
            .collect()
    }

    async fn set_password_hash(&mut self, user_id: i64, password_hash: &str) -> StoreResult<()> {
        let mut q = Q::new("UPDATE users SET password_hash = ");
        q.bind(password_hash)
            .sql(", failed_logins = 0, locked_until = NULL WHERE id = ")
            .bind(user_id);
        match self.exec(&q).await? {
            0 => Err(StoreError::NotFound { entity: "user" }),
            _ => Ok(()),
        }
    }

    async fn set_login_state(
        &mut self,
        user_id: i64,
        failed: i64,
        locked_until: Option<i64>,
    ) -> StoreResult<()> {
        let mut q = Q::new("UPDATE users SET failed_logins = ");
        q.bind(failed)
            .sql(", locked_until = ")
            .bind(locked_until)
            .sql(" WHERE id = ")
            .bind(user_id);
        self.exec(&q).await.map(|_| ())
    }

    async fn insert_session(&mut self, s: &SessionRow) -> StoreResult<()> {
        let mut q = Q::new("INSERT INTO sessions (token_hash, user_id, created_at, expires_at) VALUES (");
        q.bind(&s.token_hash)
            .sql(", ")
            .bind(s.user_id)
            .sql(", ")
            .bind(s.created_at)
            .sql(", ");
        q.bind(s.expires_at).sql(")");
        self.exec(&q).await.map(|_| ())
    }

    async fn session(&mut self, token_hash: &str) -> StoreResult<Option<SessionRow>> {
        let mut q =
            Q::new("SELECT token_hash, user_id, created_at, expires_at FROM sessions WHERE token_hash = ");
        q.bind(token_hash);
        self.one_as(&q, |r| {
            Ok(decode!(
                r,
                SessionRow {
                    token_hash,
                    user_id,
                    created_at,
                    expires_at
                }
            ))
        })
        .await
    }

    async fn delete_session(&mut self, token_hash: &str) -> StoreResult<()> {
        let mut q = Q::new("DELETE FROM sessions WHERE token_hash = ");
        q.bind(token_hash);
        self.exec(&q).await.map(|_| ())
    }

    async fn append_audit(&mut self, entry: &NewAudit, hash_fn: AuditHashFn) -> StoreResult<AuditRow> {
        // Moving the head first takes the write lock on it (row lock on PostgreSQL, the
        // database write lock on SQLite), so concurrent appends queue here.
        let head = Q::new("UPDATE audit_head SET seq = seq + 1 WHERE id = 1 RETURNING seq, hash");
        let row = self
            .one(&head)
            .await?
            .ok_or(StoreError::NotFound { entity: "audit head" })?;
        let seq: i64 = row.try_get("seq").map_err(map_err)?;
        let prev_hash: String = row.try_get("hash").map_err(map_err)?;
        let hash = hash_fn(&prev_hash, seq, entry);
        let mut q = Q::new(&format!("INSERT INTO audit_log ({AUDIT_COLS}) VALUES ("));
        q.bind(seq)
            .sql(", ")
            .bind(entry.at)
            .sql(", ")
            .bind(&entry.actor)
            .sql(", ")
            .bind(&entry.action);
        q.sql(", ")
            .bind(&entry.target)
            .sql(", ")
            .bind(&entry.detail)
            .sql(", ")
            .bind(&prev_hash)
            .sql(", ");
        q.bind(&hash).sql(")");
        self.exec(&q).await?;
        let mut q = Q::new("UPDATE audit_head SET hash = ");
        q.bind(&hash).sql(" WHERE id = 1");
        self.exec(&q).await?;
        Ok(AuditRow {
            seq,
            at: entry.at,
            actor: entry.actor.clone(),
            action: entry.action.clone(),
            target: entry.target.clone(),
            detail: entry.detail.clone(),
            prev_hash,
            hash,
        })
    }

    async fn audit_after(&mut self, after: i64, limit: i64) -> StoreResult<Vec<AuditRow>> {
        let mut q = Q::new(&format!("SELECT {AUDIT_COLS} FROM audit_log WHERE seq > "));
        q.bind(after).sql(" ORDER BY seq LIMIT ").bind(limit);
        self.all(&q).await?.iter().map(audit).collect()
    }

    async fn list_audit(&mut self, page: Page) -> StoreResult<Paged<AuditRow>> {
        let q = Q::new("FROM audit_log WHERE 1 = 1");
        self.paged(AUDIT_COLS, &q, "seq DESC", page, audit).await
    }

    async fn insert_build_project(&mut self, new: &BuildProjectRow) -> StoreResult<i64> {
        let mut q = Q::new(
            "INSERT INTO build_projects (community_id, funding_mode, planned_year, stage, stage_at, contractor, \
             created_at) VALUES (",
        );
        q.bind(new.community_id)
            .sql(", ")
            .bind(&new.funding_mode)
            .sql(", ")
            .bind(new.planned_year)
            .sql(", ")
            .bind(&new.stage)
            .sql(", ")
            .bind(new.stage_at)
            .sql(", ")
            .bind(&new.contractor)
            .sql(", ")
            .bind(new.created_at)
            .sql(") RETURNING id");
        self.insert(&q, "build project").await
    }

    async fn build_project(&mut self, id: i64) -> StoreResult<Option<BuildProjectRow>> {
        let mut q = Q::new(&format!("SELECT {PROJECT_COLS} FROM build_projects WHERE id = "));
        q.bind(id);
        self.one_as(&q, build_project).await
    }

    async fn build_projects(&mut self, community_ids: Option<&[i64]>) -> StoreResult<Vec<BuildProjectRow>> {
        let mut q = Q::new(&format!("SELECT {PROJECT_COLS} FROM build_projects WHERE 1 = 1"));
        if let Some(ids) = community_ids {
            q.sql(" AND community_id IN (").bind_list(ids).sql(")");
        }
        q.sql(" ORDER BY id");
        self.all(&q).await?.iter().map(build_project).collect()
    }

    async fn set_project_stage(
        &mut self,
        id: i64,
        stage: &str,
        at: i64,
        contractor: Option<&str>,
    ) -> StoreResult<()> {
        let mut q = Q::new("UPDATE build_projects SET stage = ");
        q.bind(stage).sql(", stage_at = ").bind(at);
        if let Some(contractor) = contractor {
            q.sql(", contractor = ").bind(contractor);
        }
        q.sql(" WHERE id = ").bind(id);
        if self.exec(&q).await? == 0 {
            return Err(StoreError::NotFound {
                entity: "build project",
            });
        }
        Ok(())
    }

    async fn insert_project_stage(&mut self, new: &ProjectStageRow) -> StoreResult<i64> {
        let mut q = Q::new("INSERT INTO project_stages (project_id, stage, at, actor, note) VALUES (");
        q.bind(new.project_id)
            .sql(", ")
            .bind(&new.stage)
            .sql(", ")
            .bind(new.at)
            .sql(", ")
            .bind(&new.actor)
            .sql(", ")
            .bind(&new.note)
            .sql(") RETURNING id");
        self.insert(&q, "project stage").await
    }

    async fn project_stages(&mut self, project_ids: Option<&[i64]>) -> StoreResult<Vec<ProjectStageRow>> {
        let mut q = Q::new("SELECT id, project_id, stage, at, actor, note FROM project_stages WHERE 1 = 1");
        if let Some(ids) = project_ids {
            q.sql(" AND project_id IN (").bind_list(ids).sql(")");
        }
        q.sql(" ORDER BY at, id");
        self.all(&q)
            .await?
            .iter()
            .map(|r| {
                Ok(decode!(
                    r,
                    ProjectStageRow {
                        id,
                        project_id,
                        stage,
                        at,
                        actor,
                        note
                    }
                ))
            })
            .collect()
    }

    async fn programme_setting(&mut self, district_code: &str, name: &str) -> StoreResult<Option<String>> {
        let mut q = Q::new("SELECT body FROM programme_settings WHERE district_code = ");
        q.bind(district_code).sql(" AND name = ").bind(name);
        match self.one(&q).await? {
            Some(row) => Ok(Some(row.try_get("body").map_err(map_err)?)),
            None => Ok(None),
        }
    }

    async fn set_programme_setting(
        &mut self,
        district_code: &str,
        name: &str,
        body: &str,
        at: i64,
        actor: &str,
    ) -> StoreResult<()> {
        let mut q = Q::new(
            "INSERT INTO programme_settings (district_code, name, body, updated_at, updated_by) VALUES (",
        );
        q.bind(district_code)
            .sql(", ")
            .bind(name)
            .sql(", ")
            .bind(body)
            .sql(", ")
            .bind(at)
            .sql(", ")
            .bind(actor)
            .sql(
                ") ON CONFLICT (district_code, name) DO UPDATE SET body = excluded.body, \
                 updated_at = excluded.updated_at, updated_by = excluded.updated_by",
            );
        self.exec(&q).await?;
        Ok(())
    }

    async fn insert_funding_entry(&mut self, new: &FundingEntryRow) -> StoreResult<i64> {
        let mut q = Q::new(
            "INSERT INTO funding_entries (project_id, source, kind, amount_fen, note, at, actor) VALUES (",
        );
        q.bind(new.project_id)
            .sql(", ")
            .bind(&new.source)
            .sql(", ")
            .bind(&new.kind)
            .sql(", ")
            .bind(new.amount_fen)
            .sql(", ")
            .bind(&new.note)
            .sql(", ")
            .bind(new.at)
            .sql(", ")
            .bind(&new.actor)
            .sql(") RETURNING id");
        self.insert(&q, "funding entry").await
    }

    async fn funding_entries(&mut self, project_ids: Option<&[i64]>) -> StoreResult<Vec<FundingEntryRow>> {
        let mut q = Q::new(
            "SELECT id, project_id, source, kind, amount_fen, note, at, actor FROM funding_entries WHERE 1 = 1",
        );
        if let Some(ids) = project_ids {
            q.sql(" AND project_id IN (").bind_list(ids).sql(")");
        }
        q.sql(" ORDER BY id");
        self.all(&q)
            .await?
            .iter()
            .map(|r| {
                Ok(decode!(
                    r,
                    FundingEntryRow {
                        id,
                        project_id,
                        source,
                        kind,
                        amount_fen,
                        note,
                        at,
                        actor
                    }
                ))
            })
            .collect()
    }

    async fn insert_award(&mut self, new: &AwardRow) -> StoreResult<bool> {
        let mut q =
            Q::new("INSERT INTO awards (project_id, amount_fen, detail, status, computed_at) VALUES (");
        q.bind(new.project_id)
            .sql(", ")
            .bind(new.amount_fen)
            .sql(", ")
            .bind(&new.detail)
            .sql(", ")
            .bind(&new.status)
            .sql(", ")
            .bind(new.computed_at)
            .sql(") ON CONFLICT (project_id) DO NOTHING");
        Ok(self.exec(&q).await? == 1)
    }

    async fn update_award(&mut self, row: &AwardRow) -> StoreResult<()> {
        let mut q = Q::new("UPDATE awards SET status = ");
        q.bind(&row.status)
            .sql(", approved_at = ")
            .bind(row.approved_at)
            .sql(", approved_by = ")
            .bind(&row.approved_by)
            .sql(", paid_at = ")
            .bind(row.paid_at)
            .sql(", paid_by = ")
            .bind(&row.paid_by)
            .sql(", voucher = ")
            .bind(&row.voucher)
            .sql(" WHERE project_id = ")
            .bind(row.project_id);
        if self.exec(&q).await? == 0 {
            return Err(StoreError::NotFound { entity: "award" });
        }
        Ok(())
    }

    async fn awards(&mut self, project_ids: Option<&[i64]>) -> StoreResult<Vec<AwardRow>> {
        let mut q = Q::new(
            "SELECT project_id, amount_fen, detail, status, computed_at, approved_at, approved_by, paid_at, \
             paid_by, voucher FROM awards WHERE 1 = 1",
        );
        if let Some(ids) = project_ids {
            q.sql(" AND project_id IN (").bind_list(ids).sql(")");
        }
        q.sql(" ORDER BY project_id");
        self.all(&q)
            .await?
            .iter()
            .map(|r| {
                Ok(decode!(
                    r,
                    AwardRow {
                        project_id,
                        amount_fen,
                        detail,
                        status,
                        computed_at,
                        approved_at,
                        approved_by,
                        paid_at,
                        paid_by,
                        voucher
                    }
                ))
            })
            .collect()
    }

    async fn insert_acceptance(&mut self, new: &AcceptanceRow) -> StoreResult<i64> {
        let mut q = Q::new(
            "INSERT INTO acceptances (project_id, status, requested_at, requested_by, checklist, items, \
             decided_at) VALUES (",
        );
        q.bind(new.project_id)
            .sql(", ")
            .bind(&new.status)
            .sql(", ")
            .bind(new.requested_at)
            .sql(", ")
            .bind(&new.requested_by)
            .sql(", ")
            .bind(&new.checklist)
            .sql(", ")
            .bind(&new.items)
            .sql(", ")
            .bind(new.decided_at)
            .sql(") RETURNING id");
        self.insert(&q, "acceptance").await
    }

    async fn acceptance(&mut self, id: i64) -> StoreResult<Option<AcceptanceRow>> {
        let mut q = Q::new(&format!("SELECT {ACCEPTANCE_COLS} FROM acceptances WHERE id = "));
        q.bind(id);
        self.one_as(&q, acceptance).await
    }

    async fn acceptances(&mut self, project_id: i64) -> StoreResult<Vec<AcceptanceRow>> {
        let mut q = Q::new(&format!(
            "SELECT {ACCEPTANCE_COLS} FROM acceptances WHERE project_id = "
        ));
        q.bind(project_id).sql(" ORDER BY id DESC");
        self.all(&q).await?.iter().map(acceptance).collect()
    }

    async fn update_acceptance(&mut self, row: &AcceptanceRow) -> StoreResult<()> {
        let mut q = Q::new("UPDATE acceptances SET status = ");
        q.bind(&row.status)
            .sql(", checklist = ")
            .bind(&row.checklist)
            .sql(", items = ")
            .bind(&row.items)
            .sql(", decided_at = ")
            .bind(row.decided_at)
            .sql(" WHERE id = ")
            .bind(row.id);
        if self.exec(&q).await? == 0 {
            return Err(StoreError::NotFound { entity: "acceptance" });
        }
        Ok(())
    }

    async fn insert_signoff(&mut self, new: &SignoffRow) -> StoreResult<()> {
        let mut q = Q::new(
            "INSERT INTO acceptance_signoffs (acceptance_id, party, decision, actor, at, note) VALUES (",
        );
        q.bind(new.acceptance_id)
            .sql(", ")
            .bind(&new.party)
            .sql(", ")
            .bind(&new.decision)
            .sql(", ")
            .bind(&new.actor)
            .sql(", ")
            .bind(new.at)
            .sql(", ")
            .bind(&new.note)
            .sql(")");
        self.exec(&q).await?;
        Ok(())
    }

    async fn signoffs(&mut self, acceptance_id: i64) -> StoreResult<Vec<SignoffRow>> {
        let mut q = Q::new(
            "SELECT acceptance_id, party, decision, actor, at, note FROM acceptance_signoffs WHERE acceptance_id = ",
        );
        q.bind(acceptance_id).sql(" ORDER BY at, party");
        self.all(&q)
            .await?
            .iter()
            .map(|r| {
                Ok(decode!(
                    r,
                    SignoffRow {
                        acceptance_id,
                        party,
                        decision,
                        actor,
                        at,
                        note
                    }
                ))
            })
            .collect()
    }

    async fn upsert_contractor(&mut self, row: &ContractorRow) -> StoreResult<()> {
        let mut q = Q::new("INSERT INTO contractors (name, sla_hours, contact, updated_at) VALUES (");
        q.bind(&row.name)
            .sql(", ")
            .bind(row.sla_hours)
            .sql(", ")
            .bind(&row.contact)
            .sql(", ")
            .bind(row.updated_at)
            .sql(
                ") ON CONFLICT (name) DO UPDATE SET sla_hours = excluded.sla_hours, contact = excluded.contact, \
                 updated_at = excluded.updated_at",
            );
        self.exec(&q).await?;
        Ok(())
    }

    async fn contractors(&mut self) -> StoreResult<Vec<ContractorRow>> {
        let q = Q::new("SELECT name, sla_hours, contact, updated_at FROM contractors ORDER BY name");
        self.all(&q)
            .await?
            .iter()
            .map(|r| {
                Ok(decode!(
                    r,
                    ContractorRow {
                        name,
                        sla_hours,
                        contact,
                        updated_at
                    }
                ))
            })
            .collect()
    }

    async fn insert_ticket(&mut self, new: &TicketRow) -> StoreResult<Option<i64>> {
        let mut q = Q::new(
            "INSERT INTO maintenance_tickets (device_id, community_id, contractor, reason, opened_at, due_at, \
             resolved_at, resolved_by, note) VALUES (",
        );
        q.bind(new.device_id)
            .sql(", ")
            .bind(new.community_id)
            .sql(", ")
            .bind(&new.contractor)
            .sql(", ")
            .bind(&new.reason)
            .sql(", ")
            .bind(new.opened_at)
            .sql(", ")
            .bind(new.due_at)
            .sql(", ")
            .bind(new.resolved_at)
            .sql(", ")
            .bind(&new.resolved_by)
            .sql(", ")
            .bind(&new.note)
            .sql(") ON CONFLICT (device_id) WHERE resolved_at IS NULL DO NOTHING RETURNING id");
        match self.one(&q).await? {
            Some(row) => Ok(Some(row.try_get("id").map_err(map_err)?)),
            None => Ok(None),
        }
    }

    async fn open_ticket(&mut self, device_id: i64) -> StoreResult<Option<TicketRow>> {
        let mut q = Q::new(&format!(
            "SELECT {TICKET_COLS} FROM maintenance_tickets WHERE resolved_at IS NULL AND device_id = "
        ));
        q.bind(device_id);
        self.one_as(&q, ticket).await
    }

    async fn ticket(&mut self, id: i64) -> StoreResult<Option<TicketRow>> {
        let mut q = Q::new(&format!(
            "SELECT {TICKET_COLS} FROM maintenance_tickets WHERE id = "
        ));
        q.bind(id);
        self.one_as(&q, ticket).await
    }

    async fn resolve_ticket(&mut self, id: i64, at: i64, by: &str, note: &str) -> StoreResult<()> {
        let mut q = Q::new("UPDATE maintenance_tickets SET resolved_at = ");
        q.bind(at)
            .sql(", resolved_by = ")
            .bind(by)
            .sql(", note = ")
            .bind(note)
            .sql(" WHERE resolved_at IS NULL AND id = ")
            .bind(id);
        if self.exec(&q).await? == 0 {
            return Err(StoreError::Conflict {
                detail: "the ticket is not open".into(),
            });
        }
        Ok(())
    }

    async fn tickets(
        &mut self,
        community_ids: Option<&[i64]>,
        since: i64,
        until: i64,
    ) -> StoreResult<Vec<TicketRow>> {
        let mut q = Q::new(&format!(
            "SELECT {TICKET_COLS} FROM maintenance_tickets WHERE opened_at < "
        ));
        q.bind(until)
            .sql(" AND (resolved_at IS NULL OR resolved_at >= ")
            .bind(since)
            .sql(")");
        if let Some(ids) = community_ids {
            q.sql(" AND community_id IN (").bind_list(ids).sql(")");
        }
        q.sql(" ORDER BY opened_at DESC, id DESC");
        self.all(&q).await?.iter().map(ticket).collect()
    }

    async fn device_days(&mut self, since: i64, until: i64) -> StoreResult<Vec<DeviceDayRow>> {
        // Days in China Standard Time: (ms + 8 h) ÷ 1 day, integer division on both backends.
        let mut q = Q::new("SELECT device_id, day, CAST(SUM(n) AS BIGINT) AS records FROM (");
        // A patrol checkpoint is a passive tag: a scan of it is its data, as the reader's.
        let parts: [(&str, &str, &str); 7] = [
            ("access_records", "device_id", "at"),
            ("capture_records", "device_id", "received_at"),
            ("parking_sessions", "entry_device_id", "entered_at"),
            ("parking_sessions", "exit_device_id", "exited_at"),
            ("patrol_scans", "reader_id", "at"),
            ("patrol_scans", "checkpoint_id", "at"),
            ("booth_calls", "device_id", "created_at"),
        ];
        for (i, (table, device, at)) in parts.iter().enumerate() {
            if i > 0 {
                q.sql(" UNION ALL ");
            }
            q.sql(&format!(
                "SELECT {device} AS device_id, ({at} + 28800000) / 86400000 AS day, COUNT(*) AS n \
                 FROM {table} WHERE {device} IS NOT NULL AND {at} >= "
            ))
            .bind(since)
            .sql(&format!(" AND {at} < "))
            .bind(until)
            .sql(&format!(" GROUP BY {device}, ({at} + 28800000) / 86400000"));
        }
        q.sql(") t GROUP BY device_id, day ORDER BY device_id, day");
        self.all(&q)
            .await?
            .iter()
            .map(|r| {
                Ok(DeviceDayRow {
                    device_id: r.try_get("device_id").map_err(map_err)?,
                    day: r.try_get("day").map_err(map_err)?,
                    records: r.try_get("records").map_err(map_err)?,
                })
            })
            .collect()
    }

    async fn acknowledged_devices(
        &mut self,
        targets: &[String],
        since: i64,
        until: i64,
    ) -> StoreResult<Vec<(i64, i64)>> {
        if targets.is_empty() {
            return Ok(Vec::new());
        }
        let mut q =
            Q::new("SELECT device_id, MAX(delivered_at) AS last_at FROM cascade_queue WHERE target IN (");
        for (i, t) in targets.iter().enumerate() {
            if i > 0 {
                q.sql(", ");
            }
            q.bind(t.as_str());
        }
        q.sql(") AND delivered_at >= ")
            .bind(since)
            .sql(" AND delivered_at < ")
            .bind(until)
            .sql(" AND device_id IS NOT NULL GROUP BY device_id ORDER BY device_id");
        self.all(&q)
            .await?
            .iter()
            .map(|r| {
                Ok((
                    r.try_get("device_id").map_err(map_err)?,
                    r.try_get("last_at").map_err(map_err)?,
                ))
            })
            .collect()
    }

    async fn insert_report(&mut self, r: &NewReport) -> StoreResult<i64> {
        let mut q = Q::new("INSERT INTO import_reports (user_id, kind, content, created_at) VALUES (");
        q.bind(r.user_id)
            .sql(", ")
            .bind(&r.kind)
            .sql(", ")
            .bind(&r.content)
            .sql(", ")
            .bind(r.now_ms);
        q.sql(") RETURNING id");
        self.insert(&q, "report").await
    }

    async fn report(&mut self, id: i64) -> StoreResult<Option<ReportRow>> {
        let mut q = Q::new("SELECT id, user_id, kind, content, created_at FROM import_reports WHERE id = ");
        q.bind(id);
        self.one_as(&q, report).await
    }
}

const PROJECT_COLS: &str =
    "id, community_id, funding_mode, planned_year, stage, stage_at, contractor, created_at";

fn build_project(r: &AnyRow) -> StoreResult<BuildProjectRow> {
    Ok(decode!(
        r,
        BuildProjectRow {
            id,
            community_id,
            funding_mode,
            planned_year,
            stage,
            stage_at,
            contractor,
            created_at
        }
    ))
}

const ACCEPTANCE_COLS: &str =
    "id, project_id, status, requested_at, requested_by, checklist, items, decided_at";

fn acceptance(r: &AnyRow) -> StoreResult<AcceptanceRow> {
    Ok(decode!(
        r,
        AcceptanceRow {
            id,
            project_id,
            status,
            requested_at,
            requested_by,
            checklist,
            items,
            decided_at
        }
    ))
}

const TICKET_COLS: &str =
    "id, device_id, community_id, contractor, reason, opened_at, due_at, resolved_at, resolved_by, note";

fn ticket(r: &AnyRow) -> StoreResult<TicketRow> {
    Ok(decode!(
        r,
        TicketRow {
            id,
            device_id,
            community_id,
            contractor,
            reason,
            opened_at,
            due_at,
            resolved_at,
            resolved_by,
            note
        }
    ))
}
