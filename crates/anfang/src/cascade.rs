//! The cascade client: one forwarder per configured superior. A GA/T 1400 superior (the
//! police 视图库) is registered with by HTTP Digest and kept alive; queued items go up in
//! order — capture records to `/VIID/Faces`, `/VIID/MotorVehicles`, … (`direct`), or as
//! `SubscribeNotifications` to the receive address of each subscription that covers them
//! (`subscribe`); door-access records and registry changes to the community extension paths;
//! watch-list hits as `DispositionNotifications` to whoever placed the disposition. The
//! big-data centre's feed gets the same items as signed JSON batches
//! (`docs/ref/bigdata-feed.md`).
//!
//! Link loss and restarts lose nothing: the queue is durable and written with the records; an
//! item is marked delivered only once the target answered it with status 0 (a feed: 2xx). A
//! 401 makes the client register again; network errors back off (1 s doubling to 60 s)
//! without counting against the items; refusals by the target count, and an item it keeps
//! refusing is given up after a few attempts (`anfang_app::cascade::MAX_ATTEMPTS`).

use crate::config::CascadeTarget;
use anfang_app::App;
use anfang_app::cascade::{CascadeItem, Upward, UpwardTarget};
use anfang_gat1400::Challenge;
use anfang_gat1400::cascade as gat;
use serde_json::{Value, json};
use std::time::Duration;

/// Items read from the queue at a time.
const BATCH: i64 = 100;
/// Seconds between keepalives when idle.
const KEEPALIVE: Duration = Duration::from_secs(30);
/// The longest wait between attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(60);
/// How long a picture link stays valid.
const LINK_TTL_MS: i64 = 7 * 24 * 3600 * 1000;
const VIID_JSON: &str = "application/VIID+JSON;charset=UTF-8";

/// Why a step failed.
enum Failure {
    /// The superior wants us to register (again).
    Unauthorized,
    /// The link or the superior is down.
    Link(String),
}

/// Starts one forwarder per target.
pub fn spawn(app: &App, targets: &[CascadeTarget]) {
    for target in targets {
        let (app, target) = (app.clone(), target.clone());
        tokio::spawn(async move { run(app, target).await });
    }
}

/// The application's view of a configured target.
pub(crate) fn upward(t: &CascadeTarget) -> UpwardTarget {
    UpwardTarget {
        name: t.name.clone(),
        sends: t
            .sends
            .iter()
            .filter_map(|s| anfang_app::cascade::Sends::parse(s))
            .collect(),
        unmasked: t.unmasked,
        superior_id: t.superior_id.clone(),
        password: t.password.clone(),
    }
}

fn path_of(kind: &str) -> Option<(&'static str, &'static str, &'static str)> {
    Some(match kind {
        "face" => ("/VIID/Faces", "FaceListObject", "FaceObject"),
        "person" => ("/VIID/Persons", "PersonListObject", "PersonObject"),
        "motor_vehicle" => (
            "/VIID/MotorVehicles",
            "MotorVehicleListObject",
            "MotorVehicleObject",
        ),
        "non_motor_vehicle" => (
            "/VIID/NonMotorVehicles",
            "NonMotorVehicleListObject",
            "NonMotorVehicleObject",
        ),
        "image" => ("/VIID/Images", "ImageListObject", "Image"),
        _ => return None,
    })
}

async fn post_to(
    http: &reqwest::Client,
    t: &CascadeTarget,
    url: &str,
    body: &Value,
    auth: Option<String>,
) -> Result<reqwest::Response, Failure> {
    let mut request = http
        .post(url)
        .header("Content-Type", VIID_JSON)
        .header("User-Identify", &t.device_id)
        .body(body.to_string());
    if let Some(auth) = auth {
        request = request.header("Authorization", auth);
    }
    request.send().await.map_err(|e| Failure::Link(e.to_string()))
}

async fn post(
    http: &reqwest::Client,
    t: &CascadeTarget,
    path: &str,
    body: &Value,
    auth: Option<String>,
) -> Result<reqwest::Response, Failure> {
    post_to(
        http,
        t,
        &format!("{}{path}", t.url.trim_end_matches('/')),
        body,
        auth,
    )
    .await
}

fn status_ok(value: &Value) -> bool {
    anfang_gat1400::StatusCode::read(&value["ResponseStatusObject"]["StatusCode"]) == Some(0)
}

async fn register(http: &reqwest::Client, t: &CascadeTarget) -> Result<(), Failure> {
    const PATH: &str = "/VIID/System/Register";
    let body = json!({"RegisterObject": {"DeviceID": t.device_id}});
    let first = post(http, t, PATH, &body, None).await?;
    let response = if first.status() == reqwest::StatusCode::UNAUTHORIZED {
        let header = first
            .headers()
            .get("WWW-Authenticate")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        let challenge = Challenge::parse(&header).map_err(|e| Failure::Link(format!("challenge: {e}")))?;
        let cnonce = hex::encode(anfang_base::random_bytes(8));
        let auth = challenge.answer("POST", PATH, &t.device_id, &t.password, &cnonce);
        post(http, t, PATH, &body, Some(auth)).await?
    } else {
        first
    };
    match response.status() {
        s if s.is_success() => {
            let value: Value = response.json().await.unwrap_or_default();
            if status_ok(&value) {
                Ok(())
            } else {
                Err(Failure::Link(format!("registration refused: {value}")))
            }
        }
        reqwest::StatusCode::UNAUTHORIZED => Err(Failure::Link("wrong password for the superior".into())),
        s => Err(Failure::Link(format!("registration answered {s}"))),
    }
}

/// A capture record's object as the target wants it: the fields as uploaded, pictures placed
/// per the target's `image_types` and `image_form`.
fn capture_object(
    app: &App,
    t: &CascadeTarget,
    record: &anfang_app::store::CaptureRecordRow,
    images: &[Vec<u8>],
) -> Value {
    let mut object: Value = serde_json::from_str(&record.attributes).unwrap_or_default();
    let expires = app.clock().now_ms() + LINK_TTL_MS;
    let base = t
        .picture_base_url
        .as_deref()
        .unwrap_or_default()
        .trim_end_matches('/')
        .to_string();
    let link = |n: usize| {
        format!(
            "{base}/VIID/Pictures/{}/{n}?expires={expires}&signature={}",
            record.id,
            app.picture_link_signature(record.id, n, expires)
        )
    };
    let form = match t.image_form.as_str() {
        "url" => gat::PictureForm::Url(&link),
        "none" => gat::PictureForm::None,
        _ => gat::PictureForm::Base64,
    };
    gat::place_pictures(&mut object, images, &t.image_types, &form);
    object
}

/// The community stamp of an item.
fn stamp(t: &CascadeTarget, community_code: &str, status: i64) -> gat::CommunityStamp {
    gat::CommunityStamp {
        community_id: community_code.to_string(),
        data_source_id: t.device_id.chars().take(10).collect(),
        data_status: status,
    }
}

/// `PersonID` of a resident sent upward: our id's first 8 digits, `00`, type `701`, and the
/// person's number (20 digits, as in the provincial samples).
fn person_code(t: &CascadeTarget, person_id: i64) -> String {
    let prefix: String = t.device_id.chars().take(8).collect();
    format!("{prefix:0<8}00701{:07}", person_id.rem_euclid(10_000_000))
}

/// An item written in GA/T 1400: (path or absolute URL, list key, object key, object).
fn viid_object(
    app: &App,
    t: &CascadeTarget,
    item: &CascadeItem,
) -> Option<(String, &'static str, &'static str, Value)> {
    match &item.upward {
        Upward::Capture { record, images, .. } => {
            let (path, list, key) = path_of(&item.kind)?;
            Some((path.into(), list, key, capture_object(app, t, record, images)))
        }
        Upward::DoorRecord {
            record,
            device_code,
            door_name,
            community_code,
        } => {
            let door = gat::DoorRecord {
                record_id: format!(
                    "{device_code}99{}{:05}",
                    anfang_gat1400::local_time(record.at),
                    record.id.rem_euclid(100_000)
                ),
                device_id: device_code.clone(),
                door_name: door_name.clone(),
                person_id: record.person_id.map(|p| person_code(t, p)),
                credential: record.credential_kind.clone(),
                granted: record.outcome == "open",
                at_ms: record.at,
            };
            Some((
                t.door_records_path.clone(),
                "DoorRecordListObject",
                "DoorRecordObject",
                gat::door_record_object(&door, &stamp(t, community_code, 0)),
            ))
        }
        Upward::Person {
            person_id,
            change,
            person,
            community_code,
        } => {
            let info = match person {
                Some(p) => gat::PersonInfo {
                    person_id: person_code(t, *person_id),
                    id_type: match p.id_type.as_str() {
                        "resident_id" => "111",
                        "passport" => "414",
                        _ => "990",
                    }
                    .into(),
                    id_number: p.id_number.clone(),
                    name: p.name.clone(),
                    gender_code: match p.gender.as_str() {
                        "male" => "1",
                        "female" => "2",
                        _ => "0",
                    }
                    .into(),
                    phone: p.phone.clone().unwrap_or_default(),
                    population_type: match p.population_type.as_str() {
                        "registered" => "1",
                        "floating" => "2",
                        "overseas" => "3",
                        _ => "9",
                    }
                    .into(),
                    address: p.address.clone(),
                    updated_ms: p.updated_at,
                },
                None => gat::PersonInfo {
                    person_id: person_code(t, *person_id),
                    id_type: String::new(),
                    id_number: String::new(),
                    name: String::new(),
                    gender_code: String::new(),
                    phone: String::new(),
                    population_type: String::new(),
                    address: String::new(),
                    updated_ms: app.clock().now_ms(),
                },
            };
            Some((
                t.person_infos_path.clone(),
                "PersonInfoListObject",
                "PersonInfoObject",
                gat::person_info_object(&info, &stamp(t, community_code, *change)),
            ))
        }
        Upward::WatchHit {
            entry,
            record,
            images,
            ..
        } => {
            let body: Value = serde_json::from_str(&entry.body).unwrap_or_default();
            let url = body["ReceiveAddr"]
                .as_str()
                .filter(|a| gat::receive_addr_ok(a))
                .map(String::from)
                .unwrap_or_else(|| "/VIID/DispositionNotifications".into());
            let now = app.clock().now_ms();
            let notification = gat::disposition_notification(
                &gat::notification_id(&t.device_id, "02", now, item.id),
                &entry.external_id,
                &entry.title,
                &record.kind,
                &capture_object(app, t, record, images),
                now,
            );
            Some((
                url,
                "DispositionNotificationListObject",
                "DispositionNotificationObject",
                notification,
            ))
        }
    }
}

/// Reads a `ResponseStatusListObject`: one status per object in order; a single status
/// (some platforms) covers the batch.
fn statuses(value: &Value, n: usize) -> Vec<bool> {
    match &value["ResponseStatusListObject"]["ResponseStatusObject"] {
        Value::Array(list) => list
            .iter()
            .map(|s| anfang_gat1400::StatusCode::read(&s["StatusCode"]) == Some(0))
            .collect(),
        _ => vec![status_ok(value); n],
    }
}

/// Marks what the target took and what it refused.
async fn settle(app: &App, t: &CascadeTarget, items: &[&CascadeItem], ok: &[bool]) -> Result<(), Failure> {
    let (mut delivered, mut refused, mut persons) = (Vec::new(), Vec::new(), 0);
    for (n, item) in items.iter().enumerate() {
        if ok.get(n).copied().unwrap_or(false) {
            delivered.push(item.id);
            if matches!(item.upward, Upward::Person { person: Some(_), .. }) {
                persons += 1;
            }
        } else {
            refused.push(item.id);
        }
    }
    app.cascade_delivered(&t.name, &delivered, persons)
        .await
        .map_err(|e| Failure::Link(format!("marking delivered: {e}")))?;
    if !refused.is_empty() {
        let _ = app
            .cascade_failed(&t.name, &refused, "refused by the target")
            .await;
    }
    metrics::counter!("anfang_cascade_delivered_total", "target" => t.name.clone())
        .increment(delivered.len() as u64);
    Ok(())
}

/// Items going to one place: (path or URL, list key, object key, items, their objects).
type Group<'a> = (
    String,
    &'static str,
    &'static str,
    Vec<&'a CascadeItem>,
    Vec<Value>,
);

/// Posts a run of items of one kind, each written by `viid_object`, to where they go.
async fn deliver_direct(
    app: &App,
    http: &reqwest::Client,
    t: &CascadeTarget,
    items: &[&CascadeItem],
) -> Result<(), Failure> {
    // Items going to the same place in one request, in order.
    let mut groups: Vec<Group<'_>> = Vec::new();
    let mut unwritable = Vec::new();
    for item in items {
        let Some((url, list, key, object)) = viid_object(app, t, item) else {
            unwritable.push(item.id);
            continue;
        };
        match groups.last_mut() {
            Some(g) if g.0 == url => {
                g.3.push(item);
                g.4.push(object);
            }
            _ => groups.push((url, list, key, vec![item], vec![object])),
        }
    }
    if !unwritable.is_empty() {
        let _ = app
            .cascade_failed(&t.name, &unwritable, "no way to write this kind")
            .await;
    }
    for (url, list, key, group, objects) in groups {
        let body = json!({list: {key: objects}});
        let response = if url.starts_with("http") {
            post_to(http, t, &url, &body, None).await?
        } else {
            post(http, t, &url, &body, None).await?
        };
        if response.status() == reqwest::StatusCode::UNAUTHORIZED {
            return Err(Failure::Unauthorized);
        }
        if !response.status().is_success() {
            return Err(Failure::Link(format!("{url} answered {}", response.status())));
        }
        let value: Value = response.json().await.unwrap_or_default();
        settle(app, t, &group, &statuses(&value, group.len())).await?;
    }
    Ok(())
}

/// Sends capture items as `SubscribeNotifications` to each active subscription covering
/// them; items no subscription covers are settled as delivered (nobody asked for them).
async fn deliver_subscribed(
    app: &App,
    http: &reqwest::Client,
    t: &CascadeTarget,
    items: &[&CascadeItem],
) -> Result<(), Failure> {
    let subscriptions: Vec<gat::Subscription> = app
        .subscriptions(&t.name)
        .await
        .map_err(|e| Failure::Link(format!("subscriptions: {e}")))?
        .into_iter()
        .filter(|s| s.status == 0)
        .filter_map(|s| serde_json::from_str::<Value>(&s.body).ok())
        .filter_map(|body| gat::read_subscription(&body).ok())
        .collect();
    let now = app.clock().now_ms();
    let mut covered = vec![false; items.len()];
    for (seq, subscription) in subscriptions.iter().enumerate() {
        let mut objects = Vec::new();
        for (n, item) in items.iter().enumerate() {
            if let Upward::Capture {
                record,
                device_code,
                images,
            } = &item.upward
                && subscription.covers(&item.kind, Some(device_code), &t.device_id, record.shot_at)
            {
                covered[n] = true;
                objects.push((item.kind.clone(), capture_object(app, t, record, images)));
            }
        }
        if objects.is_empty() {
            continue;
        }
        let id = gat::notification_id(&t.device_id, "04", now, items[0].id + seq as i64);
        let notification = gat::subscribe_notification(&id, subscription, &objects, now);
        let body =
            json!({"SubscribeNotificationListObject": {"SubscribeNotificationObject": [notification]}});
        let response = post_to(http, t, &subscription.receive_addr, &body, None).await?;
        if response.status() == reqwest::StatusCode::UNAUTHORIZED {
            return Err(Failure::Unauthorized);
        }
        if !response.status().is_success() {
            return Err(Failure::Link(format!(
                "{} answered {}",
                subscription.receive_addr,
                response.status()
            )));
        }
        metrics::counter!("anfang_cascade_notifications_total", "target" => t.name.clone()).increment(1);
    }
    let skipped = covered.iter().filter(|c| !**c).count();
    if skipped > 0 {
        metrics::counter!("anfang_cascade_unsubscribed_total", "target" => t.name.clone())
            .increment(skipped as u64);
    }
    settle(app, t, items, &vec![true; items.len()]).await
}

/// One item of the big-data centre's feed.
fn feed_item(app: &App, t: &CascadeTarget, item: &CascadeItem) -> Value {
    use anfang_api::dto::rfc3339;
    let data = match &item.upward {
        Upward::Capture {
            record,
            device_code,
            images,
        } => json!({
            "record_id": record.record_id,
            "device": device_code,
            "community_id": record.community_id,
            "shot_at": rfc3339(record.shot_at),
            "plate": record.plate,
            "object": capture_object(app, t, record, images),
        }),
        Upward::DoorRecord {
            record,
            device_code,
            door_name,
            community_code,
        } => json!({
            "access_record_id": record.id,
            "device": device_code,
            "door": door_name,
            "community": community_code,
            "person_id": record.person_id,
            "credential": record.credential_kind,
            "outcome": record.outcome,
            "reason": record.reason,
            "at": rfc3339(record.at),
        }),
        Upward::Person {
            person_id,
            change,
            person,
            community_code,
        } => json!({
            "person_id": person_id,
            "change": match change { 0 => "added", 2 => "removed", _ => "changed" },
            "community": community_code,
            "person": person.as_ref().map(|p| json!({
                "name": p.name, "gender": p.gender, "id_type": p.id_type, "id_number": p.id_number,
                "phone": p.phone, "population_type": p.population_type, "address": p.address,
                "updated_at": rfc3339(p.updated_at),
            })),
        }),
        Upward::WatchHit { .. } => Value::Null,
    };
    json!({"seq": item.id, "type": item.kind, "data": data})
}

/// Posts a batch to the big-data centre's feed, signed with HMAC-SHA256.
async fn deliver_feed(
    app: &App,
    http: &reqwest::Client,
    t: &CascadeTarget,
    items: &[&CascadeItem],
) -> Result<(), Failure> {
    use hmac::{Hmac, Mac};
    let body = json!({
        "source": t.device_id,
        "sent_at": anfang_api::dto::rfc3339(app.clock().now_ms()),
        "items": items.iter().map(|i| feed_item(app, t, i)).collect::<Vec<_>>(),
    })
    .to_string();
    let mut mac = <Hmac<sha2::Sha256> as Mac>::new_from_slice(t.password.as_bytes())
        .map_err(|e| Failure::Link(e.to_string()))?;
    mac.update(body.as_bytes());
    let signature = hex::encode(mac.finalize().into_bytes());
    let response = http
        .post(&t.url)
        .header("Content-Type", "application/json")
        .header("X-Anfang-Source", &t.device_id)
        .header("X-Anfang-Signature", format!("sha256={signature}"))
        .body(body)
        .send()
        .await
        .map_err(|e| Failure::Link(e.to_string()))?;
    let status = response.status();
    if status.is_success() {
        return settle(app, t, items, &vec![true; items.len()]).await;
    }
    if status.is_client_error() && status != reqwest::StatusCode::TOO_MANY_REQUESTS {
        // The centre refused the batch as such: counted against its items.
        let ids: Vec<i64> = items.iter().map(|i| i.id).collect();
        let _ = app
            .cascade_failed(&t.name, &ids, &format!("the feed answered {status}"))
            .await;
        return Ok(());
    }
    Err(Failure::Link(format!("the feed answered {status}")))
}

async fn run(app: App, t: CascadeTarget) {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap_or_default();
    let target = upward(&t);
    let viid = t.protocol == "viid";
    let mut registered = !viid;
    let mut backoff = Duration::from_secs(1);
    let mut last_contact = tokio::time::Instant::now();
    loop {
        if let Ok(depth) = app.cascade_depth(&t.name).await {
            metrics::gauge!("anfang_cascade_queue_depth", "target" => t.name.clone())
                .set(depth.pending as f64);
        }
        let step = async {
            if !registered {
                register(&http, &t).await?;
                tracing::info!(target = %t.name, "registered with the superior VIID");
                registered = true;
                last_contact = tokio::time::Instant::now();
            }
            let items = app
                .cascade_batch(&target, BATCH)
                .await
                .map_err(|e| Failure::Link(format!("queue: {e}")))?;
            if items.is_empty() {
                if viid && last_contact.elapsed() >= KEEPALIVE {
                    let body = json!({"KeepaliveObject": {"DeviceID": t.device_id}});
                    let response = post(&http, &t, "/VIID/System/Keepalive", &body, None).await?;
                    if response.status() == reqwest::StatusCode::UNAUTHORIZED {
                        return Err(Failure::Unauthorized);
                    }
                    last_contact = tokio::time::Instant::now();
                }
                return Ok(false);
            }
            if !viid {
                let all: Vec<&CascadeItem> = items.iter().collect();
                deliver_feed(&app, &http, &t, &all).await?;
                return Ok(true);
            }
            // Runs of one kind, in queue order.
            let mut start = 0;
            while start < items.len() {
                let end = items[start..]
                    .iter()
                    .position(|i| i.kind != items[start].kind)
                    .map_or(items.len(), |p| start + p);
                let run: Vec<&CascadeItem> = items[start..end].iter().collect();
                let capture = matches!(run[0].upward, Upward::Capture { .. });
                if capture && t.mode == "subscribe" {
                    deliver_subscribed(&app, &http, &t, &run).await?;
                } else {
                    deliver_direct(&app, &http, &t, &run).await?;
                }
                start = end;
            }
            last_contact = tokio::time::Instant::now();
            Ok(true)
        };
        match step.await {
            Ok(busy) => {
                backoff = Duration::from_secs(1);
                if !busy {
                    tokio::time::sleep(Duration::from_millis(500)).await;
                }
            }
            Err(Failure::Unauthorized) => {
                registered = !viid;
            }
            Err(Failure::Link(e)) => {
                tracing::warn!(target = %t.name, error = %e, retry_in = ?backoff, "cascade link down");
                registered = !viid;
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(MAX_BACKOFF);
            }
        }
    }
}
