//! Route handlers: parse, call one use-case, convert. Each carries its OpenAPI description.

use crate::auth::Caller;
use crate::dto::*;
use crate::{ApiError, ApiState, ErrorBody, error::ApiResult};
use anfang_app::excel::SheetKind;
use anfang_app::registry::{self as reg, ListQuery, PageRequest};
use anfang_app::store::Paged;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{FromRequest, FromRequestParts, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post, put};
use axum::{Json, Router};

/// JSON body with precise rejections.
#[derive(FromRequest)]
#[from_request(via(axum::Json), rejection(ApiError))]
pub struct Body<T>(pub T);

/// Query string with precise rejections.
#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(ApiError))]
pub struct Query<T>(pub T);

/// Path parameters with precise rejections.
#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(ApiError))]
pub struct Path<T>(pub T);

pub(crate) fn routes() -> Router<ApiState> {
    Router::new()
        .route("/auth/login", post(login))
        .route("/auth/logout", post(logout))
        .route("/auth/me", get(me))
        .route("/users", get(list_users).post(create_user))
        .route("/streets", get(list_streets).post(create_street))
        .route("/committees", get(list_committees).post(create_committee))
        .route("/communities", get(list_communities).post(create_community))
        .route("/communities/{id}", get(get_community))
        .route("/buildings", get(list_buildings).post(create_building))
        .route("/units", get(list_units).post(create_unit))
        .route("/houses", get(list_houses).post(create_house))
        .route("/houses/{id}", get(get_house))
        .route("/places", get(list_places).post(create_place))
        .route("/grids", get(list_grids).post(create_grid))
        .route(
            "/organisations",
            get(list_organisations).post(create_organisation),
        )
        .route("/persons", get(list_persons).post(create_person))
        .route("/persons/{id}", get(get_person))
        .route("/persons/{id}/houses", put(set_person_house))
        .route("/persons/{id}/consents", get(list_consents).post(give_consent))
        .route("/persons/{id}/consents/{consent_id}", delete(revoke_consent))
        .route(
            "/persons/{id}/credentials",
            get(list_credentials).post(issue_credential),
        )
        .route(
            "/persons/{id}/credentials/{credential_id}",
            delete(revoke_credential),
        )
        .route("/persons/{id}/qr", post(qr_code))
        .route("/persons/{id}/pin", post(issue_pin))
        .route("/deny-list", get(list_deny_list).post(add_to_deny_list))
        .route("/deny-list/{id}", delete(remove_from_deny_list))
        .route(
            "/parking-passes",
            get(list_parking_passes).post(sell_parking_pass),
        )
        .route("/parking-passes/{id}", delete(revoke_parking_pass))
        .route("/access-records", get(list_access_records))
        .route("/access-records/{id}/snapshot", get(access_record_snapshot))
        .route("/booth-calls/{id}/photos/{which}", get(booth_call_photo))
        .route("/visitors", get(list_visitors).post(invite_visitor))
        .route("/booth-calls", get(list_booth_calls))
        .route("/booth-calls/{id}/accept", post(accept_booth_call))
        .route("/booth-calls/{id}/deny", post(deny_booth_call))
        .route("/parking-sessions", get(list_parking_sessions))
        .route("/parking-sessions/overstays", get(list_overstays))
        .route("/parking-sessions/{id}/payments", post(pay_parking))
        .route(
            "/parking-sessions/{id}/payments/{payment_id}/refund",
            post(refund_parking),
        )
        .route(
            "/communities/{id}/parking-tariff",
            get(get_tariff).put(set_tariff),
        )
        .route("/vehicles", get(list_vehicles).post(create_vehicle))
        .route("/vehicles/{id}", get(get_vehicle))
        .route("/devices", get(list_devices).post(create_device))
        .route("/devices/{id}", get(get_device))
        .route("/devices/{id}/assign", post(assign_device))
        .route("/devices/{id}/accepts", put(set_device_accepts))
        .route("/devices/{id}/config", put(configure_device))
        .route("/access-points", get(list_access_points))
        .route("/capture-records", get(list_capture_records))
        .route("/cascade-targets", get(list_cascade_targets))
        .route("/watch-entries", get(list_watch_entries))
        .route("/watch-hits", get(list_watch_hits))
        .route("/face-search", post(face_search))
        .route("/strangers", get(list_strangers))
        .route("/alarms", get(list_alarms))
        .route("/alarms/stats", get(alarm_stats))
        .route("/alarms/{id}", get(get_alarm))
        .route("/alarms/{id}/actions", post(act_on_alarm))
        .route(
            "/patrol/routes",
            get(list_patrol_routes).post(create_patrol_route),
        )
        .route("/patrol/routes/{id}/active", put(set_patrol_route_active))
        .route("/patrol/rounds", get(list_patrol_rounds))
        .route("/patrol/report", get(patrol_report))
        .route("/live", get(live))
        .route("/notify/channels", get(list_channels).post(create_channel))
        .route("/notify/channels/{id}/active", put(set_channel_active))
        .route("/notify/channels/{id}/deliveries", get(channel_deliveries))
        .route("/warnings", get(list_warnings))
        .route("/warnings/{id}", get(get_warning))
        .route("/warnings/{id}/actions", post(act_on_warning))
        .route(
            "/communities/{id}/warning-rules",
            get(get_warning_rules).put(set_warning_rules),
        )
        .route("/devices/{id}/lane-code", get(lane_code))
        .route("/public/lanes/{code}/entry", post(no_plate_entry))
        .route("/public/lanes/{code}/tickets/{ticket}", get(no_plate_ticket))
        .route("/public/lanes/{code}/tickets/{ticket}/exit", post(no_plate_exit))
        .route("/import/template/{kind}", get(import_template))
        .route("/import/reports/{id}", get(import_report))
        .route("/export/{kind}", get(export_sheet))
        .route("/audit", get(list_audit))
        .route("/audit/verify", get(verify_audit))
}

pub(crate) fn upload_routes() -> Router<ApiState> {
    Router::new().route("/import/{kind}", post(import_sheet)).route(
        "/persons/{id}/face",
        get(get_face).put(enroll_face).delete(remove_face),
    )
}

fn page_of(p: &ListParams) -> PageRequest {
    PageRequest {
        page: p.page.unwrap_or(1),
        page_size: p.page_size.unwrap_or(reg::DEFAULT_PAGE_SIZE),
    }
}

fn query_of(p: &ListParams) -> ListQuery {
    ListQuery {
        street_id: p.street_id,
        community_id: p.community_id,
        building_id: p.building_id,
        unit_id: p.unit_id,
        house_id: p.house_id,
        kind: p.category.clone().or_else(|| p.kind.clone()),
        q: p.q.clone().filter(|q| !q.trim().is_empty()),
        id_number: p.id_number.clone().filter(|q| !q.trim().is_empty()),
        plate_number: p.plate_number.clone().filter(|q| !q.trim().is_empty()),
        unassigned: p.unassigned.unwrap_or(false),
    }
}

fn paged<R, D: From<R>>(rows: Paged<R>, p: &ListParams) -> Json<PageDto<D>> {
    let page = page_of(p);
    Json(PageDto {
        items: rows.items.into_iter().map(D::from).collect(),
        total: rows.total,
        page: page.page,
        page_size: page.page_size,
    })
}

fn xlsx(name: &str, bytes: Vec<u8>) -> Response {
    xlsx_named(name, None, bytes)
}

/// An .xlsx download named `ascii` (`.xlsx` added), with `display` (a Chinese name) as the
/// RFC 6266 `filename*` beside it when given.
pub(crate) fn xlsx_named(ascii: &str, display: Option<&str>, bytes: Vec<u8>) -> Response {
    let mut disposition = format!("attachment; filename=\"{ascii}.xlsx\"");
    if let Some(display) = display {
        let file = format!("{display}.xlsx");
        let encoded = percent_encoding::utf8_percent_encode(&file, percent_encoding::NON_ALPHANUMERIC);
        disposition.push_str(&format!("; filename*=UTF-8''{encoded}"));
    }
    (
        [
            (
                header::CONTENT_TYPE,
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet".to_string(),
            ),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        bytes,
    )
        .into_response()
}

fn sheet_kind(kind: &str) -> ApiResult<SheetKind> {
    SheetKind::parse(kind).ok_or_else(|| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_sheet_kind",
            "kind must be houses, persons or vehicles",
        )
    })
}

/// Log in with a username and password; returns a bearer token.
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth", request_body = LoginRequest,
    responses((status = 200, body = LoginResponse), (status = 401, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn login(
    State(s): State<ApiState>,
    Body(req): Body<LoginRequest>,
) -> ApiResult<Json<LoginResponse>> {
    let out = s.app.login(&req.username, &req.password).await?;
    Ok(Json(LoginResponse {
        token: out.token,
        expires_at: rfc3339(out.expires_at),
        user: UserDto {
            id: out.principal.user_id,
            username: out.principal.username,
            role: out.principal.role.as_str().into(),
            display_name: out.principal.display_name,
        },
    }))
}

/// End the current session.
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth", security(("bearer" = [])),
    responses((status = 204), (status = 401, body = ErrorBody)))]
pub async fn logout(State(s): State<ApiState>, c: Caller) -> ApiResult<StatusCode> {
    s.app.logout(&c.principal, &c.token).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The current user, role and scope.
#[utoipa::path(get, path = "/api/v1/auth/me", tag = "auth", security(("bearer" = [])),
    responses((status = 200, body = MeDto), (status = 401, body = ErrorBody)))]
pub async fn me(c: Caller) -> Json<MeDto> {
    let p = c.principal;
    Json(MeDto {
        id: p.user_id,
        username: p.username,
        role: p.role.as_str().into(),
        display_name: p.display_name,
        scopes: p
            .scope_entries
            .iter()
            .map(|e| ScopeDto {
                kind: e.kind().into(),
                target: e.target(),
            })
            .collect(),
    })
}

/// List users (district administrators).
#[utoipa::path(get, path = "/api/v1/users", tag = "users", security(("bearer" = [])), params(ListParams),
    responses((status = 200, body = PageDto<UserDto>), (status = 403, body = ErrorBody)))]
pub async fn list_users(
    State(s): State<ApiState>,
    c: Caller,
    Query(p): Query<ListParams>,
) -> ApiResult<Json<PageDto<UserDto>>> {
    let rows = s.app.list_users(&c.principal, page_of(&p).to_page()?).await?;
    let page = page_of(&p);
    Ok(Json(PageDto {
        items: rows.items.iter().map(UserDto::from).collect(),
        total: rows.total,
        page: page.page,
        page_size: page.page_size,
    }))
}

/// Create a user; the generated password is returned once.
#[utoipa::path(post, path = "/api/v1/users", tag = "users", security(("bearer" = [])), request_body = CreateUserRequest,
    responses((status = 201, body = CreatedUserDto), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn create_user(
    State(s): State<ApiState>,
    c: Caller,
    Body(r): Body<CreateUserRequest>,
) -> ApiResult<(StatusCode, Json<CreatedUserDto>)> {
    let req = anfang_app::auth::CreateUser {
        username: r.username,
        role: r.role,
        scope: r.scope,
        display_name: r.display_name,
    };
    let (user, password) = s.app.create_user_as(&c.principal, &req).await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedUserDto {
            user: UserDto::from(&user),
            password,
        }),
    ))
}

/// Streets containing something in the caller's scope.
#[utoipa::path(get, path = "/api/v1/streets", tag = "registry", security(("bearer" = [])), params(ListParams),
    responses((status = 200, body = PageDto<StreetDto>), (status = 403, body = ErrorBody)))]
pub async fn list_streets(
    State(s): State<ApiState>,
    c: Caller,
    Query(p): Query<ListParams>,
) -> ApiResult<Json<PageDto<StreetDto>>> {
    Ok(paged(
        s.app
            .list_streets(&c.principal, &query_of(&p), page_of(&p))
            .await?,
        &p,
    ))
}

/// Create a street (district-wide users).
#[utoipa::path(post, path = "/api/v1/streets", tag = "registry", security(("bearer" = [])), request_body = CreateStreetRequest,
    responses((status = 201, body = StreetDto), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn create_street(
    State(s): State<ApiState>,
    c: Caller,
    Body(r): Body<CreateStreetRequest>,
) -> ApiResult<(StatusCode, Json<StreetDto>)> {
    let row = s
        .app
        .create_street(
            &c.principal,
            &reg::CreateStreet {
                district_code: r.district_code,
                code: r.code,
                name: r.name,
            },
        )
        .await?;
    Ok((StatusCode::CREATED, Json(row.into())))
}

/// Residents' and village committees in scope.
#[utoipa::path(get, path = "/api/v1/committees", tag = "registry", security(("bearer" = [])), params(ListParams),
    responses((status = 200, body = PageDto<CommitteeDto>), (status = 404, body = ErrorBody)))]
pub async fn list_committees(
    State(s): State<ApiState>,
    c: Caller,
    Query(p): Query<ListParams>,
) -> ApiResult<Json<PageDto<CommitteeDto>>> {
    Ok(paged(
        s.app
            .list_committees(&c.principal, &query_of(&p), page_of(&p))
            .await?,
        &p,
    ))
}

/// Create a committee (district-wide users).
#[utoipa::path(post, path = "/api/v1/committees", tag = "registry", security(("bearer" = [])), request_body = CreateCommitteeRequest,
    responses((status = 201, body = CommitteeDto), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn create_committee(
    State(s): State<ApiState>,
    c: Caller,
    Body(r): Body<CreateCommitteeRequest>,
) -> ApiResult<(StatusCode, Json<CommitteeDto>)> {
    let req = reg::CreateCommittee {
        street_id: r.street_id,
        code: r.code,
        name: r.name,
        kind: r.kind,
    };
    Ok((
        StatusCode::CREATED,
        Json(s.app.create_committee(&c.principal, &req).await?.into()),
    ))
}

/// Communities in scope.
#[utoipa::path(get, path = "/api/v1/communities", tag = "registry", security(("bearer" = [])), params(ListParams),
    responses((status = 200, body = PageDto<CommunityDto>), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn list_communities(
    State(s): State<ApiState>,
    c: Caller,
    Query(p): Query<ListParams>,
) -> ApiResult<Json<PageDto<CommunityDto>>> {
    Ok(paged(
        s.app
            .list_communities(&c.principal, &query_of(&p), page_of(&p))
            .await?,
        &p,
    ))
}

/// One community with its places.
#[utoipa::path(get, path = "/api/v1/communities/{id}", tag = "registry", security(("bearer" = [])), params(("id" = i64, Path, description = "Community id")),
    responses((status = 200, body = CommunityDto), (status = 404, body = ErrorBody)))]
pub async fn get_community(
    State(s): State<ApiState>,
    c: Caller,
    Path(id): Path<i64>,
) -> ApiResult<Json<CommunityDto>> {
    let detail = s.app.community(&c.principal, id).await?;
    let mut dto = CommunityDto::from(detail.community);
    dto.places = Some(detail.places.into_iter().map(PlaceDto::from).collect());
    Ok(Json(dto))
}

/// Create a community (district-wide users).
#[utoipa::path(post, path = "/api/v1/communities", tag = "registry", security(("bearer" = [])), request_body = CreateCommunityRequest,
    responses((status = 201, body = CommunityDto), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn create_community(
    State(s): State<ApiState>,
    c: Caller,
    Body(r): Body<CreateCommunityRequest>,
) -> ApiResult<(StatusCode, Json<CommunityDto>)> {
    let req = reg::CreateCommunity {
        committee_id: r.committee_id,
        code: r.code,
        name: r.name,
        category: r.category,
        property_type: r.property_type,
        address: r.address,
        site_width: r.site_width,
        site_height: r.site_height,
        police_area: r.police_area,
    };
    Ok((
        StatusCode::CREATED,
        Json(s.app.create_community(&c.principal, &req).await?.into()),
    ))
}

/// Buildings in scope.
#[utoipa::path(get, path = "/api/v1/buildings", tag = "registry", security(("bearer" = [])), params(ListParams),
    responses((status = 200, body = PageDto<BuildingDto>), (status = 404, body = ErrorBody)))]
pub async fn list_buildings(
    State(s): State<ApiState>,
    c: Caller,
    Query(p): Query<ListParams>,
) -> ApiResult<Json<PageDto<BuildingDto>>> {
    Ok(paged(
        s.app
            .list_buildings(&c.principal, &query_of(&p), page_of(&p))
            .await?,
        &p,
    ))
}

/// Create a building.
#[utoipa::path(post, path = "/api/v1/buildings", tag = "registry", security(("bearer" = [])), request_body = CreateBuildingRequest,
    responses((status = 201, body = BuildingDto), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn create_building(
    State(s): State<ApiState>,
    c: Caller,
    Body(r): Body<CreateBuildingRequest>,
) -> ApiResult<(StatusCode, Json<BuildingDto>)> {
    let req = reg::CreateBuilding {
        community_id: r.community_id,
        number: r.number,
        name: r.name,
        floors: r.floors,
        x: r.x,
        y: r.y,
    };
    Ok((
        StatusCode::CREATED,
        Json(s.app.create_building(&c.principal, &req).await?.into()),
    ))
}

/// Units in scope.
#[utoipa::path(get, path = "/api/v1/units", tag = "registry", security(("bearer" = [])), params(ListParams),
    responses((status = 200, body = PageDto<UnitDto>), (status = 404, body = ErrorBody)))]
pub async fn list_units(
    State(s): State<ApiState>,
    c: Caller,
    Query(p): Query<ListParams>,
) -> ApiResult<Json<PageDto<UnitDto>>> {
    Ok(paged(
        s.app.list_units(&c.principal, &query_of(&p), page_of(&p)).await?,
        &p,
    ))
}

/// Create a unit.
#[utoipa::path(post, path = "/api/v1/units", tag = "registry", security(("bearer" = [])), request_body = CreateUnitRequest,
    responses((status = 201, body = UnitDto), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn create_unit(
    State(s): State<ApiState>,
    c: Caller,
    Body(r): Body<CreateUnitRequest>,
) -> ApiResult<(StatusCode, Json<UnitDto>)> {
    let req = reg::CreateUnit {
        building_id: r.building_id,
        number: r.number,
    };
    Ok((
        StatusCode::CREATED,
        Json(s.app.create_unit(&c.principal, &req).await?.into()),
    ))
}

/// Houses in scope.
#[utoipa::path(get, path = "/api/v1/houses", tag = "registry", security(("bearer" = [])), params(ListParams),
    responses((status = 200, body = PageDto<HouseDto>), (status = 404, body = ErrorBody)))]
pub async fn list_houses(
    State(s): State<ApiState>,
    c: Caller,
    Query(p): Query<ListParams>,
) -> ApiResult<Json<PageDto<HouseDto>>> {
    Ok(paged(
        s.app
            .list_houses(&c.principal, &query_of(&p), page_of(&p))
            .await?,
        &p,
    ))
}

/// One house.
#[utoipa::path(get, path = "/api/v1/houses/{id}", tag = "registry", security(("bearer" = [])), params(("id" = i64, Path, description = "House id")),
    responses((status = 200, body = HouseDto), (status = 404, body = ErrorBody)))]
pub async fn get_house(
    State(s): State<ApiState>,
    c: Caller,
    Path(id): Path<i64>,
) -> ApiResult<Json<HouseDto>> {
    Ok(Json(s.app.house(&c.principal, id).await?.into()))
}

/// Create a house; its standard address is derived.
#[utoipa::path(post, path = "/api/v1/houses", tag = "registry", security(("bearer" = [])), request_body = CreateHouseRequest,
    responses((status = 201, body = HouseDto), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn create_house(
    State(s): State<ApiState>,
    c: Caller,
    Body(r): Body<CreateHouseRequest>,
) -> ApiResult<(StatusCode, Json<HouseDto>)> {
    let req = reg::CreateHouse {
        unit_id: r.unit_id,
        number: r.number,
        floor: r.floor,
        area_m2: r.area_m2,
        use_kind: r.use_kind,
    };
    Ok((
        StatusCode::CREATED,
        Json(s.app.create_house(&c.principal, &req).await?.into()),
    ))
}

/// Places on site plans in scope.
#[utoipa::path(get, path = "/api/v1/places", tag = "registry", security(("bearer" = [])), params(ListParams),
    responses((status = 200, body = PageDto<PlaceDto>), (status = 404, body = ErrorBody)))]
pub async fn list_places(
    State(s): State<ApiState>,
    c: Caller,
    Query(p): Query<ListParams>,
) -> ApiResult<Json<PageDto<PlaceDto>>> {
    Ok(paged(
        s.app
            .list_places(&c.principal, &query_of(&p), page_of(&p))
            .await?,
        &p,
    ))
}

/// Create a place (entrance, lane, car park, unit door, perimeter zone, road point…).
#[utoipa::path(post, path = "/api/v1/places", tag = "registry", security(("bearer" = [])), request_body = CreatePlaceRequest,
    responses((status = 201, body = PlaceDto), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn create_place(
    State(s): State<ApiState>,
    c: Caller,
    Body(r): Body<CreatePlaceRequest>,
) -> ApiResult<(StatusCode, Json<PlaceDto>)> {
    let req = reg::CreatePlace {
        community_id: r.community_id,
        kind: r.kind,
        name: r.name,
        x: r.x,
        y: r.y,
        attended: r.attended,
        unit_id: r.unit_id,
    };
    Ok((
        StatusCode::CREATED,
        Json(s.app.create_place(&c.principal, &req).await?.into()),
    ))
}

/// Grids (网格) in scope.
#[utoipa::path(get, path = "/api/v1/grids", tag = "registry", security(("bearer" = [])), params(ListParams),
    responses((status = 200, body = PageDto<GridDto>), (status = 404, body = ErrorBody)))]
pub async fn list_grids(
    State(s): State<ApiState>,
    c: Caller,
    Query(p): Query<ListParams>,
) -> ApiResult<Json<PageDto<GridDto>>> {
    Ok(paged(
        s.app.list_grids(&c.principal, &query_of(&p), page_of(&p)).await?,
        &p,
    ))
}

/// Create a grid in a community.
#[utoipa::path(post, path = "/api/v1/grids", tag = "registry", security(("bearer" = [])), request_body = CreateGridRequest,
    responses((status = 201, body = GridDto), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn create_grid(
    State(s): State<ApiState>,
    c: Caller,
    Body(r): Body<CreateGridRequest>,
) -> ApiResult<(StatusCode, Json<GridDto>)> {
    let req = reg::CreateGrid {
        community_id: r.community_id,
        code: r.code,
        name: r.name,
    };
    Ok((
        StatusCode::CREATED,
        Json(s.app.create_grid(&c.principal, &req).await?.into()),
    ))
}

/// Real organisations (实有单位) in scope.
#[utoipa::path(get, path = "/api/v1/organisations", tag = "registry", security(("bearer" = [])), params(ListParams),
    responses((status = 200, body = PageDto<OrganisationDto>), (status = 404, body = ErrorBody)))]
pub async fn list_organisations(
    State(s): State<ApiState>,
    c: Caller,
    Query(p): Query<ListParams>,
) -> ApiResult<Json<PageDto<OrganisationDto>>> {
    Ok(paged(
        s.app
            .list_organisations(&c.principal, &query_of(&p), page_of(&p))
            .await?,
        &p,
    ))
}

/// Register a real organisation (shop, business) at an address.
#[utoipa::path(post, path = "/api/v1/organisations", tag = "registry", security(("bearer" = [])), request_body = CreateOrganisationRequest,
    responses((status = 201, body = OrganisationDto), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn create_organisation(
    State(s): State<ApiState>,
    c: Caller,
    Body(r): Body<CreateOrganisationRequest>,
) -> ApiResult<(StatusCode, Json<OrganisationDto>)> {
    let req = reg::CreateOrganisation {
        community_id: r.community_id,
        house_id: r.house_id,
        name: r.name,
        credit_code: r.credit_code,
        kind: r.kind,
    };
    Ok((
        StatusCode::CREATED,
        Json(s.app.create_organisation(&c.principal, &req).await?.into()),
    ))
}

/// Persons in scope, personal numbers masked.
#[utoipa::path(get, path = "/api/v1/persons", tag = "persons", security(("bearer" = [])), params(ListParams),
    responses((status = 200, body = PageDto<PersonDto>), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn list_persons(
    State(s): State<ApiState>,
    c: Caller,
    Query(p): Query<ListParams>,
) -> ApiResult<Json<PageDto<PersonDto>>> {
    Ok(paged(
        s.app
            .list_persons(&c.principal, &query_of(&p), page_of(&p))
            .await?,
        &p,
    ))
}

/// One person; `reveal=true` shows personal numbers to roles that may read them (audited).
#[utoipa::path(get, path = "/api/v1/persons/{id}", tag = "persons", security(("bearer" = [])), params(("id" = i64, Path, description = "Person id"), RevealParams),
    responses((status = 200, body = PersonDto), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_person(
    State(s): State<ApiState>,
    c: Caller,
    Path(id): Path<i64>,
    Query(r): Query<RevealParams>,
) -> ApiResult<Json<PersonDto>> {
    Ok(Json(
        s.app
            .person(&c.principal, id, r.reveal.unwrap_or(false))
            .await?
            .into(),
    ))
}

/// Register a person.
#[utoipa::path(post, path = "/api/v1/persons", tag = "persons", security(("bearer" = [])), request_body = CreatePersonRequest,
    responses((status = 201, body = PersonDto), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn create_person(
    State(s): State<ApiState>,
    c: Caller,
    Body(r): Body<CreatePersonRequest>,
) -> ApiResult<(StatusCode, Json<PersonDto>)> {
    let house = r.house_id.map(|house_id| reg::SetPersonHouse {
        house_id,
        role: r.role.clone().unwrap_or_else(|| "owner".into()),
        lease_start: r.lease_start.clone(),
        lease_end: r.lease_end.clone(),
        schedule: r.schedule.clone(),
    });
    let req = reg::CreatePerson {
        community_id: r.community_id,
        name: r.name,
        gender: r.gender,
        id_type: r.id_type,
        id_number: r.id_number,
        phone: r.phone,
        population_type: r.population_type,
        tags: r.tags,
        house,
    };
    Ok((
        StatusCode::CREATED,
        Json(s.app.create_person(&c.principal, &req).await?.into()),
    ))
}

/// Set a person's relation to a house (owner, family, tenant with lease, staff).
#[utoipa::path(put, path = "/api/v1/persons/{id}/houses", tag = "persons", security(("bearer" = [])), params(("id" = i64, Path, description = "Person id")),
    request_body = SetPersonHouseRequest,
    responses((status = 200, body = PersonDto), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn set_person_house(
    State(s): State<ApiState>,
    c: Caller,
    Path(id): Path<i64>,
    Body(r): Body<SetPersonHouseRequest>,
) -> ApiResult<Json<PersonDto>> {
    let req = reg::SetPersonHouse {
        house_id: r.house_id,
        role: r.role,
        lease_start: r.lease_start,
        lease_end: r.lease_end,
        schedule: r.schedule,
    };
    Ok(Json(s.app.set_person_house(&c.principal, id, &req).await?.into()))
}

/// An optional RFC 3339 time as ms (400 `invalid_time` naming `field` when malformed).
pub(crate) fn ms_of(field: &str, value: Option<&str>) -> ApiResult<Option<i64>> {
    value
        .map(|v| {
            chrono::DateTime::parse_from_rfc3339(v)
                .map(|t| t.timestamp_millis())
                .map_err(|_| {
                    ApiError::from(anfang_app::AppError::invalid(
                        "invalid_time",
                        field,
                        format!("'{v}' is not an RFC 3339 time"),
                    ))
                })
        })
        .transpose()
}

/// A person's consents (face recognition).
#[utoipa::path(get, path = "/api/v1/persons/{id}/consents", tag = "access", security(("bearer" = [])), params(("id" = i64, Path, description = "Person id")),
    responses((status = 200, body = Vec<ConsentDto>), (status = 404, body = ErrorBody)))]
pub async fn list_consents(
    State(s): State<ApiState>,
    c: Caller,
    Path(id): Path<i64>,
) -> ApiResult<Json<Vec<ConsentDto>>> {
    Ok(Json(
        s.app
            .consents(&c.principal, id)
            .await?
            .into_iter()
            .map(ConsentDto::from)
            .collect(),
    ))
}

/// Record a consent to face recognition at doors (a guardian's for persons under 14).
#[utoipa::path(post, path = "/api/v1/persons/{id}/consents", tag = "access", security(("bearer" = [])), params(("id" = i64, Path, description = "Person id")),
    request_body = ConsentRequest,
    responses((status = 201, body = ConsentDto), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn give_consent(
    State(s): State<ApiState>,
    c: Caller,
    Path(id): Path<i64>,
    Body(r): Body<ConsentRequest>,
) -> ApiResult<(StatusCode, Json<ConsentDto>)> {
    let req = anfang_app::access::GiveConsent {
        given_by: r.given_by,
        guardian_name: r.guardian_name,
    };
    Ok((
        StatusCode::CREATED,
        Json(s.app.give_face_consent(&c.principal, id, &req).await?.into()),
    ))
}

/// Revoke a consent: the person's face opens nothing from now on.
#[utoipa::path(delete, path = "/api/v1/persons/{id}/consents/{consent_id}", tag = "access", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Person id"), ("consent_id" = i64, Path, description = "Consent id")),
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn revoke_consent(
    State(s): State<ApiState>,
    c: Caller,
    Path((id, consent_id)): Path<(i64, i64)>,
) -> ApiResult<StatusCode> {
    s.app.revoke_consent(&c.principal, id, consent_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A person's enrolled face photo (its record; the image itself goes only to terminals).
#[utoipa::path(get, path = "/api/v1/persons/{id}/face", tag = "access", security(("bearer" = [])), params(("id" = i64, Path, description = "Person id")),
    responses((status = 200, body = FacePhotoDto), (status = 404, body = ErrorBody)))]
pub async fn get_face(
    State(s): State<ApiState>,
    c: Caller,
    Path(id): Path<i64>,
) -> ApiResult<Json<FacePhotoDto>> {
    Ok(Json(s.app.face_photo(&c.principal, id).await?.into()))
}

/// Enrol (or replace) a person's face photo: a JPEG or PNG of at most 2 MiB, each side
/// An uploaded photo: at most [`anfang_app::faces::MAX_PHOTO_BYTES`], else 413.
fn photo_body(body: Result<Bytes, BytesRejection>) -> ApiResult<Bytes> {
    let body = body?;
    if body.len() > anfang_app::faces::MAX_PHOTO_BYTES {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "photo_too_large",
            format!(
                "a photo is at most {} KiB",
                anfang_app::faces::MAX_PHOTO_BYTES / 1024
            ),
        ));
    }
    Ok(body)
}

/// 160–4096 px, not blank. Needs an active face-recognition consent.
#[utoipa::path(put, path = "/api/v1/persons/{id}/face", tag = "access", security(("bearer" = [])), params(("id" = i64, Path, description = "Person id")),
    request_body(content = Vec<u8>, content_type = "image/jpeg"),
    responses((status = 201, body = FacePhotoDto), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "No active consent"), (status = 413, body = ErrorBody)))]
pub async fn enroll_face(
    State(s): State<ApiState>,
    c: Caller,
    Path(id): Path<i64>,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<(StatusCode, Json<FacePhotoDto>)> {
    let body = photo_body(body)?;
    Ok((
        StatusCode::CREATED,
        Json(s.app.enroll_face(&c.principal, id, &body).await?.into()),
    ))
}

/// Remove a person's face photo; their face opens nothing afterwards.
#[utoipa::path(delete, path = "/api/v1/persons/{id}/face", tag = "access", security(("bearer" = [])), params(("id" = i64, Path, description = "Person id")),
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn remove_face(State(s): State<ApiState>, c: Caller, Path(id): Path<i64>) -> ApiResult<StatusCode> {
    s.app.remove_face(&c.principal, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A community's parking passes (月卡), newest first.
#[utoipa::path(get, path = "/api/v1/parking-passes", tag = "vehicles", security(("bearer" = [])), params(PassParams),
    responses((status = 200, body = Vec<ParkingPassDto>), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn list_parking_passes(
    State(s): State<ApiState>,
    c: Caller,
    Query(q): Query<PassParams>,
) -> ApiResult<Json<Vec<ParkingPassDto>>> {
    let passes = s
        .app
        .parking_passes(&c.principal, q.community_id, q.plate.as_deref())
        .await?;
    Ok(Json(passes.into_iter().map(ParkingPassDto::from).collect()))
}

/// Sell a parking pass: the plate opens the community's gates within its dates, no session.
#[utoipa::path(post, path = "/api/v1/parking-passes", tag = "vehicles", security(("bearer" = [])), request_body = SellPassRequest,
    responses((status = 201, body = ParkingPassDto), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn sell_parking_pass(
    State(s): State<ApiState>,
    c: Caller,
    Body(r): Body<SellPassRequest>,
) -> ApiResult<(StatusCode, Json<ParkingPassDto>)> {
    let req = anfang_app::parking::SellPass {
        community_id: r.community_id,
        plate_number: r.plate_number,
        holder_name: r.holder_name,
        valid_from: r.valid_from,
        valid_until: r.valid_until,
        fee_cents: r.fee_cents,
    };
    Ok((
        StatusCode::CREATED,
        Json(s.app.sell_parking_pass(&c.principal, &req).await?.into()),
    ))
}

/// Revoke a parking pass (the record stays).
#[utoipa::path(delete, path = "/api/v1/parking-passes/{id}", tag = "vehicles", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Pass id")),
    responses((status = 204), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn revoke_parking_pass(
    State(s): State<ApiState>,
    c: Caller,
    Path(id): Path<i64>,
) -> ApiResult<StatusCode> {
    s.app.revoke_parking_pass(&c.principal, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// An image as a response body: never cached.
fn image_response(bytes: Vec<u8>, format: &str) -> axum::response::Response {
    use axum::response::IntoResponse;
    let content_type = if format == "png" {
        "image/png"
    } else {
        "image/jpeg"
    };
    (
        [
            (axum::http::header::CONTENT_TYPE, content_type),
            (axum::http::header::CACHE_CONTROL, "no-store"),
        ],
        bytes,
    )
        .into_response()
}

/// The snapshot kept with an access record (audited).
#[utoipa::path(get, path = "/api/v1/access-records/{id}/snapshot", tag = "access", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Access record id")),
    responses((status = 200, description = "The image (image/jpeg or image/png)"), (status = 404, body = ErrorBody)))]
pub async fn access_record_snapshot(
    State(s): State<ApiState>,
    c: Caller,
    Path(id): Path<i64>,
) -> ApiResult<axum::response::Response> {
    let (bytes, format) = s.app.access_record_snapshot(&c.principal, id).await?;
    Ok(image_response(bytes, format))
}

/// A booth call's pictures of the visitor: `snapshot` (whoever may answer the call) or
/// `card_photo`, the ID card's photo (duty staff only). Audited.
#[utoipa::path(get, path = "/api/v1/booth-calls/{id}/photos/{which}", tag = "access", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Call id"), ("which" = String, Path, description = "snapshot or card_photo")),
    responses((status = 200, description = "The image (image/jpeg or image/png)"), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn booth_call_photo(
    State(s): State<ApiState>,
    c: Caller,
    Path((id, which)): Path<(i64, String)>,
) -> ApiResult<axum::response::Response> {
    let (bytes, format) = s.app.booth_call_photo(&c.principal, id, &which).await?;
    Ok(image_response(bytes, format))
}

/// The code printed at a vehicle lane for cars without plates (无牌车扫码).
#[utoipa::path(get, path = "/api/v1/devices/{id}/lane-code", tag = "vehicles", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Barrier gate id")),
    responses((status = 200, body = LaneCodeDto), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn lane_code(
    State(s): State<ApiState>,
    c: Caller,
    Path(id): Path<i64>,
) -> ApiResult<Json<LaneCodeDto>> {
    Ok(Json(LaneCodeDto {
        code: s.app.lane_code(&c.principal, id).await?,
    }))
}

/// A driver without a plate scanned the entry lane's code: a ticket, and the barrier opens.
/// Public (the ticket is the driver's only credential); a lane issues at most one ticket every
/// few seconds.
#[utoipa::path(post, path = "/api/v1/public/lanes/{code}/entry", tag = "vehicles",
    params(("code" = String, Path, description = "The lane's printed code")),
    responses((status = 201, body = TicketDto), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody, description = "The lane issued a ticket a moment ago")))]
pub async fn no_plate_entry(
    State(s): State<ApiState>,
    Path(code): Path<String>,
) -> ApiResult<(StatusCode, Json<TicketDto>)> {
    Ok((
        StatusCode::CREATED,
        Json(s.app.no_plate_entry(&code).await?.into()),
    ))
}

/// What a no-plate ticket owes now. Public.
#[utoipa::path(get, path = "/api/v1/public/lanes/{code}/tickets/{ticket}", tag = "vehicles",
    params(("code" = String, Path, description = "A lane's printed code"), ("ticket" = String, Path, description = "The ticket")),
    responses((status = 200, body = TicketDto), (status = 404, body = ErrorBody)))]
pub async fn no_plate_ticket(
    State(s): State<ApiState>,
    Path((code, ticket)): Path<(String, String)>,
) -> ApiResult<Json<TicketDto>> {
    Ok(Json(s.app.no_plate_ticket(&code, &ticket).await?.into()))
}

/// The driver scanned the exit lane's code: the barrier opens once the fee is paid. Public.
#[utoipa::path(post, path = "/api/v1/public/lanes/{code}/tickets/{ticket}/exit", tag = "vehicles",
    params(("code" = String, Path, description = "The exit lane's printed code"), ("ticket" = String, Path, description = "The ticket")),
    responses((status = 200, body = TicketExitDto), (status = 404, body = ErrorBody)))]
pub async fn no_plate_exit(
    State(s): State<ApiState>,
    Path((code, ticket)): Path<(String, String)>,
) -> ApiResult<Json<TicketExitDto>> {
    let answer = s.app.no_plate_exit(&code, &ticket).await?;
    Ok(Json(TicketExitDto {
        open: answer.open,
        ticket: answer.ticket.into(),
    }))
}

/// Capture records (GA/T 1400 faces, persons, vehicles) in scope, newest first.
#[utoipa::path(get, path = "/api/v1/capture-records", tag = "devices", security(("bearer" = [])), params(CaptureParams),
    responses((status = 200, body = PageDto<CaptureRecordDto>), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn list_capture_records(
    State(s): State<ApiState>,
    c: Caller,
    Query(p): Query<CaptureParams>,
) -> ApiResult<Json<PageDto<CaptureRecordDto>>> {
    let q = anfang_app::captures::CaptureQuery {
        community_id: p.community_id,
        device_id: p.device_id,
        kind: p.kind.clone(),
        plate: p.plate.clone(),
        since: ms_of("since", p.since.as_deref())?,
        until: ms_of("until", p.until.as_deref())?,
    };
    let page = PageRequest {
        page: p.page.unwrap_or(1),
        page_size: p.page_size.unwrap_or(reg::DEFAULT_PAGE_SIZE),
    };
    let rows = s.app.list_capture_records(&c.principal, &q, page).await?;
    Ok(Json(PageDto {
        total: rows.total,
        page: page.page,
        page_size: page.page_size,
        items: rows.items.into_iter().map(CaptureRecordDto::from).collect(),
    }))
}

/// The police watch-list (dispositions pushed by the police platform): police roles only,
/// every read audited.
#[utoipa::path(get, path = "/api/v1/watch-entries", tag = "devices", security(("bearer" = [])), params(WatchParams),
    responses((status = 200, body = PageDto<WatchEntryDto>), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn list_watch_entries(
    State(s): State<ApiState>,
    c: Caller,
    Query(p): Query<WatchParams>,
) -> ApiResult<Json<PageDto<WatchEntryDto>>> {
    let page = PageRequest {
        page: p.page.unwrap_or(1),
        page_size: p.page_size.unwrap_or(reg::DEFAULT_PAGE_SIZE),
    };
    if let Some(status) = p.status.as_deref()
        && !matches!(status, "active" | "revoked")
    {
        return Err(anfang_app::AppError::invalid("invalid_status", "status", "active or revoked").into());
    }
    let rows = s
        .app
        .list_watch_entries(&c.principal, p.status.as_deref(), page)
        .await?;
    Ok(Json(PageDto {
        total: rows.total,
        page: page.page,
        page_size: page.page_size,
        items: rows.items.into_iter().map(WatchEntryDto::from).collect(),
    }))
}

/// Hits on the police watch-list, newest first: police roles only, every read audited.
#[utoipa::path(get, path = "/api/v1/watch-hits", tag = "devices", security(("bearer" = [])), params(WatchParams),
    responses((status = 200, body = PageDto<WatchHitDto>), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn list_watch_hits(
    State(s): State<ApiState>,
    c: Caller,
    Query(p): Query<WatchParams>,
) -> ApiResult<Json<PageDto<WatchHitDto>>> {
    let page = PageRequest {
        page: p.page.unwrap_or(1),
        page_size: p.page_size.unwrap_or(reg::DEFAULT_PAGE_SIZE),
    };
    let rows = s.app.list_watch_hits(&c.principal, p.entry_id, page).await?;
    Ok(Json(PageDto {
        total: rows.total,
        page: page.page,
        page_size: page.page_size,
        items: rows.items.into_iter().map(WatchHitDto::from).collect(),
    }))
}

/// Parameters of a search by image.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
pub struct FaceSearchParams {
    /// At most this many captures (1–200, default 20).
    pub limit: Option<usize>,
}

/// Search by image (police roles): the body is a JPEG or PNG photo; the answer is the captures
/// in the caller's scope whose face is nearest it, with time and place. Every search is audited.
#[utoipa::path(post, path = "/api/v1/face-search", tag = "devices", security(("bearer" = [])), params(FaceSearchParams),
    request_body(content = Vec<u8>, content_type = "image/jpeg"),
    responses((status = 200, body = Vec<FaceSearchHitDto>), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 413, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub async fn face_search(
    State(s): State<ApiState>,
    c: Caller,
    Query(p): Query<FaceSearchParams>,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Json<Vec<FaceSearchHitDto>>> {
    let body = photo_body(body)?;
    let hits = s
        .app
        .search_by_image(&c.principal, &body, p.limit.unwrap_or(20))
        .await?;
    Ok(Json(hits.into_iter().map(FaceSearchHitDto::from).collect()))
}

/// Parameters of the strangers list.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
pub struct StrangerParams {
    /// Only strangers seen at least this often (default 1).
    pub min_sightings: Option<i64>,
}

/// Strangers (unknown faces as stable pseudo-identities) in the caller's scope, most sighted
/// first: police roles only, every read audited.
#[utoipa::path(get, path = "/api/v1/strangers", tag = "devices", security(("bearer" = [])), params(StrangerParams),
    responses((status = 200, body = Vec<StrangerDto>), (status = 403, body = ErrorBody)))]
pub async fn list_strangers(
    State(s): State<ApiState>,
    c: Caller,
    Query(p): Query<StrangerParams>,
) -> ApiResult<Json<Vec<StrangerDto>>> {
    let list = s
        .app
        .strangers(&c.principal, p.min_sightings.unwrap_or(1))
        .await?;
    Ok(Json(list.into_iter().map(StrangerDto::from).collect()))
}

/// The superior platforms records are forwarded to, with their queues (district-wide users).
#[utoipa::path(get, path = "/api/v1/cascade-targets", tag = "devices", security(("bearer" = [])),
    responses((status = 200, body = Vec<CascadeTargetDto>), (status = 403, body = ErrorBody)))]
pub async fn list_cascade_targets(
    State(s): State<ApiState>,
    c: Caller,
) -> ApiResult<Json<Vec<CascadeTargetDto>>> {
    let targets = s.app.cascade_targets(&c.principal).await?;
    Ok(Json(
        targets
            .into_iter()
            .map(|(name, depth)| CascadeTargetDto {
                name,
                pending: depth.pending,
                last_delivered_at: depth.last_delivered_at.map(rfc3339),
            })
            .collect(),
    ))
}

/// A community's door deny list (禁止通行名单), newest first.
#[utoipa::path(get, path = "/api/v1/deny-list", tag = "access", security(("bearer" = [])), params(DenyListParams),
    responses((status = 200, body = Vec<DenyEntryDto>), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn list_deny_list(
    State(s): State<ApiState>,
    c: Caller,
    Query(q): Query<DenyListParams>,
) -> ApiResult<Json<Vec<DenyEntryDto>>> {
    let entries = s
        .app
        .deny_list(&c.principal, q.community_id, q.include_removed)
        .await?;
    Ok(Json(entries.into_iter().map(DenyEntryDto::from).collect()))
}

/// Put a person on their community's deny list: no door or gate opens for them there, and
/// the terminals drop them from their libraries.
#[utoipa::path(post, path = "/api/v1/deny-list", tag = "access", security(("bearer" = [])), request_body = DenyRequest,
    responses((status = 201, body = DenyEntryDto), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn add_to_deny_list(
    State(s): State<ApiState>,
    c: Caller,
    Body(r): Body<DenyRequest>,
) -> ApiResult<(StatusCode, Json<DenyEntryDto>)> {
    let req = anfang_app::denylist::AddDenyEntry {
        person_id: r.person_id,
        reason: r.reason,
    };
    Ok((
        StatusCode::CREATED,
        Json(s.app.add_to_deny_list(&c.principal, &req).await?.into()),
    ))
}

/// Take an entry off the deny list (it stays in the history).
#[utoipa::path(delete, path = "/api/v1/deny-list/{id}", tag = "access", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Entry id")),
    responses((status = 204), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn remove_from_deny_list(
    State(s): State<ApiState>,
    c: Caller,
    Path(id): Path<i64>,
) -> ApiResult<StatusCode> {
    s.app.remove_from_deny_list(&c.principal, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A person's card and PIN credentials (values are never shown).
#[utoipa::path(get, path = "/api/v1/persons/{id}/credentials", tag = "access", security(("bearer" = [])), params(("id" = i64, Path, description = "Person id")),
    responses((status = 200, body = Vec<CredentialDto>), (status = 404, body = ErrorBody)))]
pub async fn list_credentials(
    State(s): State<ApiState>,
    c: Caller,
    Path(id): Path<i64>,
) -> ApiResult<Json<Vec<CredentialDto>>> {
    Ok(Json(
        s.app
            .credentials(&c.principal, id)
            .await?
            .into_iter()
            .map(CredentialDto::from)
            .collect(),
    ))
}

/// Issue a card or PIN: the non-face way in every person can always have.
#[utoipa::path(post, path = "/api/v1/persons/{id}/credentials", tag = "access", security(("bearer" = [])), params(("id" = i64, Path, description = "Person id")),
    request_body = CredentialRequest,
    responses((status = 201, body = CredentialDto), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn issue_credential(
    State(s): State<ApiState>,
    c: Caller,
    Path(id): Path<i64>,
    Body(r): Body<CredentialRequest>,
) -> ApiResult<(StatusCode, Json<CredentialDto>)> {
    let req = anfang_app::access::IssueCredential {
        kind: r.kind,
        value: r.value,
        valid_until: ms_of("valid_until", r.valid_until.as_deref())?,
    };
    Ok((
        StatusCode::CREATED,
        Json(s.app.issue_credential(&c.principal, id, &req).await?.into()),
    ))
}

/// Draw a fresh six-digit PIN for a person (shown once; their previous PIN is revoked): staff
/// for their community, a resident for a member of their own household.
#[utoipa::path(post, path = "/api/v1/persons/{id}/pin", tag = "access", security(("bearer" = [])), params(("id" = i64, Path, description = "Person id")),
    responses((status = 201, body = IssuedPinDto), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn issue_pin(
    State(s): State<ApiState>,
    c: Caller,
    Path(id): Path<i64>,
) -> ApiResult<(StatusCode, Json<IssuedPinDto>)> {
    let (credential, pin) = s.app.issue_pin(&c.principal, id).await?;
    Ok((
        StatusCode::CREATED,
        Json(IssuedPinDto {
            credential: credential.into(),
            pin,
        }),
    ))
}

/// Revoke a card or PIN.
#[utoipa::path(delete, path = "/api/v1/persons/{id}/credentials/{credential_id}", tag = "access", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Person id"), ("credential_id" = i64, Path, description = "Credential id")),
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn revoke_credential(
    State(s): State<ApiState>,
    c: Caller,
    Path((id, credential_id)): Path<(i64, i64)>,
) -> ApiResult<StatusCode> {
    s.app.revoke_credential(&c.principal, id, credential_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A signed dynamic QR code for a person, valid for five minutes.
#[utoipa::path(post, path = "/api/v1/persons/{id}/qr", tag = "access", security(("bearer" = [])), params(("id" = i64, Path, description = "Person id")),
    responses((status = 200, body = QrDto), (status = 404, body = ErrorBody)))]
pub async fn qr_code(State(s): State<ApiState>, c: Caller, Path(id): Path<i64>) -> ApiResult<Json<QrDto>> {
    let qr = s.app.qr_code(&c.principal, id).await?;
    Ok(Json(QrDto {
        payload: qr.payload,
        expires_at: rfc3339(qr.expires_at),
    }))
}

/// Access records in scope, newest first.
#[utoipa::path(get, path = "/api/v1/access-records", tag = "access", security(("bearer" = [])), params(AccessParams),
    responses((status = 200, body = PageDto<AccessRecordDto>), (status = 404, body = ErrorBody)))]
pub async fn list_access_records(
    State(s): State<ApiState>,
    c: Caller,
    Query(p): Query<AccessParams>,
) -> ApiResult<Json<PageDto<AccessRecordDto>>> {
    let list = ListParams {
        page: p.page,
        page_size: p.page_size,
        community_id: p.community_id,
        kind: p.outcome.clone(),
        ..ListParams::default()
    };
    let rows = s
        .app
        .list_access_records(
            &c.principal,
            &query_of(&list),
            p.person_id,
            p.device_id,
            page_of(&list),
        )
        .await?;
    Ok(paged(rows, &list))
}

/// Visitor passes in scope (residents: their own house's).
#[utoipa::path(get, path = "/api/v1/visitors", tag = "access", security(("bearer" = [])), params(ListParams),
    responses((status = 200, body = PageDto<VisitorPassDto>), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn list_visitors(
    State(s): State<ApiState>,
    c: Caller,
    Query(p): Query<ListParams>,
) -> ApiResult<Json<PageDto<VisitorPassDto>>> {
    Ok(paged(
        s.app
            .list_visitor_passes(&c.principal, &query_of(&p), page_of(&p))
            .await?,
        &p,
    ))
}

/// Invite a visitor: a QR pass for the community's entrances and the visited unit's door.
#[utoipa::path(post, path = "/api/v1/visitors", tag = "access", security(("bearer" = [])), request_body = InviteVisitorRequest,
    responses((status = 201, body = CreatedPassDto), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn invite_visitor(
    State(s): State<ApiState>,
    c: Caller,
    Body(r): Body<InviteVisitorRequest>,
) -> ApiResult<(StatusCode, Json<CreatedPassDto>)> {
    let req = anfang_app::visitors::InviteVisitor {
        house_id: r.house_id,
        name: r.name,
        phone: r.phone,
        valid_from: ms_of("valid_from", Some(&r.valid_from))?.unwrap_or_default(),
        valid_until: ms_of("valid_until", Some(&r.valid_until))?.unwrap_or_default(),
        plate_number: r.plate_number,
    };
    let (pass, qr) = s.app.invite_visitor(&c.principal, &req).await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedPassDto {
            pass: pass.into(),
            qr_payload: qr.payload,
        }),
    ))
}

/// Smart-booth calls in scope, newest first (`kind` = status, e.g. `ringing`).
#[utoipa::path(get, path = "/api/v1/booth-calls", tag = "access", security(("bearer" = [])), params(ListParams),
    responses((status = 200, body = PageDto<BoothCallDto>), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn list_booth_calls(
    State(s): State<ApiState>,
    c: Caller,
    Query(p): Query<ListParams>,
) -> ApiResult<Json<PageDto<BoothCallDto>>> {
    Ok(paged(
        s.app
            .list_booth_calls(&c.principal, &query_of(&p), page_of(&p))
            .await?,
        &p,
    ))
}

/// Accept a ringing call: the booth's gate opens.
#[utoipa::path(post, path = "/api/v1/booth-calls/{id}/accept", tag = "access", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Call id")),
    responses((status = 200, body = BoothCallDto), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn accept_booth_call(
    State(s): State<ApiState>,
    c: Caller,
    Path(id): Path<i64>,
) -> ApiResult<Json<BoothCallDto>> {
    Ok(Json(
        s.app
            .answer_booth_call(&c.principal, id, true, None)
            .await?
            .into(),
    ))
}

/// Refuse a ringing call.
#[utoipa::path(post, path = "/api/v1/booth-calls/{id}/deny", tag = "access", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Call id")), request_body = DenyCallRequest,
    responses((status = 200, body = BoothCallDto), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn deny_booth_call(
    State(s): State<ApiState>,
    c: Caller,
    Path(id): Path<i64>,
    Body(r): Body<DenyCallRequest>,
) -> ApiResult<Json<BoothCallDto>> {
    Ok(Json(
        s.app
            .answer_booth_call(&c.principal, id, false, r.message.as_deref())
            .await?
            .into(),
    ))
}

/// Temporary-parking sessions in scope (`kind` = status: open, fee_due, closed).
#[utoipa::path(get, path = "/api/v1/parking-sessions", tag = "vehicles", security(("bearer" = [])), params(ListParams),
    responses((status = 200, body = PageDto<ParkingSessionDto>), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn list_parking_sessions(
    State(s): State<ApiState>,
    c: Caller,
    Query(p): Query<ListParams>,
) -> ApiResult<Json<PageDto<ParkingSessionDto>>> {
    Ok(paged(
        s.app
            .list_parking_sessions(&c.principal, &query_of(&p), page_of(&p))
            .await?,
        &p,
    ))
}

/// Cars inside longer than `hours` (default 24), longest first, with what they owe.
#[utoipa::path(get, path = "/api/v1/parking-sessions/overstays", tag = "vehicles", security(("bearer" = [])), params(OverstayParams),
    responses((status = 200, body = Vec<ParkingSessionDto>), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn list_overstays(
    State(s): State<ApiState>,
    c: Caller,
    Query(q): Query<OverstayParams>,
) -> ApiResult<Json<Vec<ParkingSessionDto>>> {
    let rows = s
        .app
        .parking_overstays(&c.principal, q.community_id, q.hours.unwrap_or(24))
        .await?;
    Ok(Json(rows.into_iter().map(ParkingSessionDto::from).collect()))
}

/// Record a payment for a session (by default the amount due now); the gate opens at the next exit read.
#[utoipa::path(post, path = "/api/v1/parking-sessions/{id}/payments", tag = "vehicles", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Session id")), request_body = PayRequest,
    responses((status = 200, body = ParkingSessionDto), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn pay_parking(
    State(s): State<ApiState>,
    c: Caller,
    Path(id): Path<i64>,
    Body(r): Body<PayRequest>,
) -> ApiResult<Json<ParkingSessionDto>> {
    Ok(Json(
        s.app
            .pay_parking(&c.principal, id, &r.method, r.amount_cents)
            .await?
            .into(),
    ))
}

/// Refund a payment.
#[utoipa::path(post, path = "/api/v1/parking-sessions/{id}/payments/{payment_id}/refund", tag = "vehicles", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Session id"), ("payment_id" = i64, Path, description = "Payment id")),
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn refund_parking(
    State(s): State<ApiState>,
    c: Caller,
    Path((id, payment_id)): Path<(i64, i64)>,
) -> ApiResult<StatusCode> {
    s.app.refund_parking(&c.principal, id, payment_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

fn tariff_dto(t: anfang_app::parking::Tariff) -> TariffDto {
    TariffDto {
        free_minutes: t.free_minutes,
        day_start_minute: t.day_start_minute,
        night_start_minute: t.night_start_minute,
        day_rate_cents_per_hour: t.day_rate_cents_per_hour,
        night_rate_cents_per_hour: t.night_rate_cents_per_hour,
        daily_cap_cents: t.daily_cap_cents,
        billing_unit_minutes: t.billing_unit_minutes,
    }
}

/// A community's temporary-parking tariff.
#[utoipa::path(get, path = "/api/v1/communities/{id}/parking-tariff", tag = "vehicles", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Community id")),
    responses((status = 200, body = TariffDto), (status = 404, body = ErrorBody)))]
pub async fn get_tariff(
    State(s): State<ApiState>,
    c: Caller,
    Path(id): Path<i64>,
) -> ApiResult<Json<TariffDto>> {
    Ok(Json(tariff_dto(s.app.parking_tariff(&c.principal, id).await?)))
}

/// Set a community's temporary-parking tariff.
#[utoipa::path(put, path = "/api/v1/communities/{id}/parking-tariff", tag = "vehicles", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Community id")), request_body = TariffDto,
    responses((status = 200, body = TariffDto), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn set_tariff(
    State(s): State<ApiState>,
    c: Caller,
    Path(id): Path<i64>,
    Body(r): Body<TariffDto>,
) -> ApiResult<Json<TariffDto>> {
    let tariff = anfang_app::parking::Tariff {
        free_minutes: r.free_minutes,
        day_start_minute: r.day_start_minute,
        night_start_minute: r.night_start_minute,
        day_rate_cents_per_hour: r.day_rate_cents_per_hour,
        night_rate_cents_per_hour: r.night_rate_cents_per_hour,
        daily_cap_cents: r.daily_cap_cents,
        billing_unit_minutes: r.billing_unit_minutes,
    };
    Ok(Json(tariff_dto(
        s.app.set_parking_tariff(&c.principal, id, &tariff).await?,
    )))
}

/// Vehicles in scope.
#[utoipa::path(get, path = "/api/v1/vehicles", tag = "vehicles", security(("bearer" = [])), params(ListParams),
    responses((status = 200, body = PageDto<VehicleDto>), (status = 404, body = ErrorBody)))]
pub async fn list_vehicles(
    State(s): State<ApiState>,
    c: Caller,
    Query(p): Query<ListParams>,
) -> ApiResult<Json<PageDto<VehicleDto>>> {
    Ok(paged(
        s.app
            .list_vehicles(&c.principal, &query_of(&p), page_of(&p))
            .await?,
        &p,
    ))
}

/// One vehicle.
#[utoipa::path(get, path = "/api/v1/vehicles/{id}", tag = "vehicles", security(("bearer" = [])), params(("id" = i64, Path, description = "Vehicle id")),
    responses((status = 200, body = VehicleDto), (status = 404, body = ErrorBody)))]
pub async fn get_vehicle(
    State(s): State<ApiState>,
    c: Caller,
    Path(id): Path<i64>,
) -> ApiResult<Json<VehicleDto>> {
    Ok(Json(s.app.vehicle(&c.principal, id).await?.into()))
}

/// Register a vehicle (plates validated strictly).
#[utoipa::path(post, path = "/api/v1/vehicles", tag = "vehicles", security(("bearer" = [])), request_body = CreateVehicleRequest,
    responses((status = 201, body = VehicleDto), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn create_vehicle(
    State(s): State<ApiState>,
    c: Caller,
    Body(r): Body<CreateVehicleRequest>,
) -> ApiResult<(StatusCode, Json<VehicleDto>)> {
    let req = reg::CreateVehicle {
        community_id: r.community_id,
        plate_number: r.plate_number,
        plate_color: r.plate_color,
        owner_person_id: r.owner_person_id,
        parking_space: r.parking_space,
    };
    Ok((
        StatusCode::CREATED,
        Json(s.app.create_vehicle(&c.principal, &req).await?.into()),
    ))
}

/// Devices in scope.
#[utoipa::path(get, path = "/api/v1/devices", tag = "devices", security(("bearer" = [])), params(ListParams),
    responses((status = 200, body = PageDto<DeviceDto>), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn list_devices(
    State(s): State<ApiState>,
    c: Caller,
    Query(p): Query<ListParams>,
) -> ApiResult<Json<PageDto<DeviceDto>>> {
    let now = s.app.clock().now_ms();
    let rows = s
        .app
        .list_devices(&c.principal, &query_of(&p), page_of(&p))
        .await?;
    let page = page_of(&p);
    Ok(Json(PageDto {
        total: rows.total,
        page: page.page,
        page_size: page.page_size,
        items: rows
            .items
            .into_iter()
            .map(|d| {
                let seen = d.last_seen_at;
                DeviceDto::from(d).at(seen, now)
            })
            .collect(),
    }))
}

/// One device.
#[utoipa::path(get, path = "/api/v1/devices/{id}", tag = "devices", security(("bearer" = [])), params(("id" = i64, Path, description = "Device id")),
    responses((status = 200, body = DeviceDto), (status = 404, body = ErrorBody)))]
pub async fn get_device(
    State(s): State<ApiState>,
    c: Caller,
    Path(id): Path<i64>,
) -> ApiResult<Json<DeviceDto>> {
    let row = s.app.device(&c.principal, id).await?;
    let seen = row.last_seen_at;
    Ok(Json(DeviceDto::from(row).at(seen, s.app.clock().now_ms())))
}

/// Record the credential kinds a device offers (installer configuration; devices that report
/// them in their heartbeats overwrite it).
#[utoipa::path(put, path = "/api/v1/devices/{id}/accepts", tag = "devices", security(("bearer" = [])), params(("id" = i64, Path, description = "Device id")),
    request_body = AcceptsRequest,
    responses((status = 200, body = DeviceDto), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn set_device_accepts(
    State(s): State<ApiState>,
    c: Caller,
    Path(id): Path<i64>,
    Body(r): Body<AcceptsRequest>,
) -> ApiResult<Json<DeviceDto>> {
    let row = s.app.set_device_accepts(&c.principal, id, &r.accepts).await?;
    let seen = row.last_seen_at;
    Ok(Json(DeviceDto::from(row).at(seen, s.app.clock().now_ms())))
}

/// Send settings to a device: queued, delivered at once over MQTT or with the device's next
/// ack over HTTP push.
#[utoipa::path(put, path = "/api/v1/devices/{id}/config", tag = "devices", security(("bearer" = [])), params(("id" = i64, Path, description = "Device id")),
    request_body = DeviceConfigRequest,
    responses((status = 202, body = QueuedCommandDto), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn configure_device(
    State(s): State<ApiState>,
    c: Caller,
    Path(id): Path<i64>,
    Body(r): Body<DeviceConfigRequest>,
) -> ApiResult<(StatusCode, Json<QueuedCommandDto>)> {
    let settings = anfang_app::booth::DeviceSettings {
        heartbeat_secs: r.heartbeat_secs,
        resend_secs: r.resend_secs,
        offline_decisions: r.offline_decisions,
    };
    let command_id = s.app.configure_device(&c.principal, id, &settings).await?;
    Ok((StatusCode::ACCEPTED, Json(QueuedCommandDto { command_id })))
}

/// A community's pedestrian doors with the credential kinds their devices offer; doors that
/// offer only face recognition are flagged (`face_only=true` lists just those).
#[utoipa::path(get, path = "/api/v1/access-points", tag = "devices", security(("bearer" = [])), params(AccessPointParams),
    responses((status = 200, body = Vec<AccessPointDto>), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn list_access_points(
    State(s): State<ApiState>,
    c: Caller,
    Query(q): Query<AccessPointParams>,
) -> ApiResult<Json<Vec<AccessPointDto>>> {
    let points = s
        .app
        .access_points(&c.principal, q.community_id, q.face_only)
        .await?;
    Ok(Json(points.into_iter().map(AccessPointDto::from).collect()))
}

/// Register a device; its generated secret is returned once.
#[utoipa::path(post, path = "/api/v1/devices", tag = "devices", security(("bearer" = [])), request_body = CreateDeviceRequest,
    responses((status = 201, body = CreatedDeviceDto), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn create_device(
    State(s): State<ApiState>,
    c: Caller,
    Body(r): Body<CreateDeviceRequest>,
) -> ApiResult<(StatusCode, Json<CreatedDeviceDto>)> {
    let req = reg::CreateDevice {
        code: r.code,
        name: r.name,
        kind: r.kind,
        protocol: r.protocol,
        community_id: r.community_id,
        place_id: r.place_id,
        x: r.x,
        y: r.y,
        install_date: r.install_date,
        contractor: r.contractor,
    };
    let (row, secret) = s.app.create_device(Some(&c.principal), &req).await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedDeviceDto {
            device: row.into(),
            secret,
        }),
    ))
}

/// Assign a device to a community and place.
#[utoipa::path(post, path = "/api/v1/devices/{id}/assign", tag = "devices", security(("bearer" = [])), params(("id" = i64, Path, description = "Device id")),
    request_body = AssignDeviceRequest,
    responses((status = 200, body = DeviceDto), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn assign_device(
    State(s): State<ApiState>,
    c: Caller,
    Path(id): Path<i64>,
    Body(r): Body<AssignDeviceRequest>,
) -> ApiResult<Json<DeviceDto>> {
    Ok(Json(
        s.app
            .assign_device(&c.principal, id, r.community_id, r.place_id)
            .await?
            .into(),
    ))
}

/// Download the import template (.xlsx) of houses, persons or vehicles.
#[utoipa::path(get, path = "/api/v1/import/template/{kind}", tag = "import", security(("bearer" = [])), params(("kind" = String, Path, description = "houses, persons or vehicles")),
    responses((status = 200, content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", body = Vec<u8>), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn import_template(
    State(s): State<ApiState>,
    c: Caller,
    Path(kind): Path<String>,
) -> ApiResult<Response> {
    let kind = sheet_kind(&kind)?;
    Ok(xlsx(
        &format!("template-{}", kind.as_str()),
        s.app.import_template(&c.principal, kind)?,
    ))
}

/// Import an .xlsx (raw body) into a community: valid rows are committed, the rest reported.
#[utoipa::path(post, path = "/api/v1/import/{kind}", tag = "import", security(("bearer" = [])),
    params(("kind" = String, Path, description = "houses, persons or vehicles"), CommunityParam),
    request_body(content = Vec<u8>, content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    responses((status = 200, body = ImportDto), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody), (status = 413, body = ErrorBody)))]
pub async fn import_sheet(
    State(s): State<ApiState>,
    c: Caller,
    Path(kind): Path<String>,
    Query(q): Query<CommunityParam>,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Json<ImportDto>> {
    let kind = sheet_kind(&kind)?;
    let body = body?;
    let summary = s
        .app
        .import_sheet(Some(&c.principal), kind, q.community_id, &body, None)
        .await?;
    Ok(Json(ImportDto {
        total: summary.total,
        created: summary.created,
        updated: summary.updated,
        failed: summary.failed,
        errors: summary
            .errors
            .into_iter()
            .map(|e| RowErrorDto {
                row: e.row,
                field: e.field,
                code: e.code,
                message: e.message,
            })
            .collect(),
        report_id: summary.report_id,
    }))
}

/// Download an import's per-row error report (.xlsx).
#[utoipa::path(get, path = "/api/v1/import/reports/{id}", tag = "import", security(("bearer" = [])), params(("id" = i64, Path, description = "Report id")),
    responses((status = 200, content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", body = Vec<u8>), (status = 404, body = ErrorBody)))]
pub async fn import_report(State(s): State<ApiState>, c: Caller, Path(id): Path<i64>) -> ApiResult<Response> {
    Ok(xlsx(
        &format!("import-errors-{id}"),
        s.app.import_report(&c.principal, id).await?,
    ))
}

/// Export a community's houses, persons or vehicles (.xlsx, re-importable; audited).
#[utoipa::path(get, path = "/api/v1/export/{kind}", tag = "import", security(("bearer" = [])),
    params(("kind" = String, Path, description = "houses, persons or vehicles"), CommunityParam),
    responses((status = 200, content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", body = Vec<u8>), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn export_sheet(
    State(s): State<ApiState>,
    c: Caller,
    Path(kind): Path<String>,
    Query(q): Query<CommunityParam>,
) -> ApiResult<Response> {
    let kind = sheet_kind(&kind)?;
    let bytes = s
        .app
        .export_sheet(Some(&c.principal), kind, q.community_id)
        .await?;
    Ok(xlsx(&format!("{}-{}", kind.as_str(), q.community_id), bytes))
}

/// The audit log, newest first (auditors, district administrators).
#[utoipa::path(get, path = "/api/v1/audit", tag = "audit", security(("bearer" = [])), params(ListParams),
    responses((status = 200, body = PageDto<AuditDto>), (status = 403, body = ErrorBody)))]
pub async fn list_audit(
    State(s): State<ApiState>,
    c: Caller,
    Query(p): Query<ListParams>,
) -> ApiResult<Json<PageDto<AuditDto>>> {
    Ok(paged(
        s.app.list_audit(&c.principal, page_of(&p).to_page()?).await?,
        &p,
    ))
}

/// Verify the audit hash chain against its external checkpoint.
#[utoipa::path(get, path = "/api/v1/audit/verify", tag = "audit", security(("bearer" = [])),
    responses((status = 200, body = VerifyDto), (status = 403, body = ErrorBody)))]
pub async fn verify_audit(State(s): State<ApiState>, c: Caller) -> ApiResult<Json<VerifyDto>> {
    let r = s.app.verify_audit_as(&c.principal).await?;
    Ok(Json(VerifyDto {
        ok: r.ok(),
        entries: r.entries,
        last_seq: r.last_seq,
        checkpoint_seq: r.checkpoint_seq,
        problems: r.problems,
    }))
}

/// Parameters of the alarm list.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
pub struct AlarmParams {
    /// One state (`new`, `acknowledged`, `dispatched`, `resolved`, `false_alarm`).
    pub state: Option<String>,
    /// One kind.
    pub kind: Option<String>,
    /// Only alarms not closed.
    pub open: Option<bool>,
    /// Raised at or after, RFC 3339.
    pub since: Option<String>,
    /// Raised before, RFC 3339.
    pub until: Option<String>,
    /// 1-based page.
    pub page: Option<i64>,
    /// Rows per page.
    pub page_size: Option<i64>,
}

/// Alarms in the caller's scope: open ones first, most severe first, then newest.
#[utoipa::path(get, path = "/api/v1/alarms", tag = "alarms", security(("bearer" = [])), params(AlarmParams),
    responses((status = 200, body = PageDto<AlarmDto>), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn list_alarms(
    State(s): State<ApiState>,
    c: Caller,
    Query(p): Query<AlarmParams>,
) -> ApiResult<Json<PageDto<AlarmDto>>> {
    let filter = anfang_app::store::AlarmFilter {
        community_ids: None,
        state: p.state.clone(),
        open: p.open.unwrap_or(false),
        kind: p.kind.clone(),
        since: ms_of("since", p.since.as_deref())?,
        until: ms_of("until", p.until.as_deref())?,
    };
    let page = PageRequest {
        page: p.page.unwrap_or(1),
        page_size: p.page_size.unwrap_or(reg::DEFAULT_PAGE_SIZE),
    };
    let rows = s.app.list_alarms(&c.principal, filter, page).await?;
    let now = s.app.clock().now_ms();
    Ok(Json(PageDto {
        total: rows.total,
        page: page.page,
        page_size: page.page_size,
        items: rows
            .items
            .into_iter()
            .map(|r| {
                let deadline = s.app.alarm_deadline(&r, now);
                AlarmDto::with_deadline(r, deadline)
            })
            .collect(),
    }))
}

/// One alarm with its history.
#[utoipa::path(get, path = "/api/v1/alarms/{id}", tag = "alarms", security(("bearer" = [])), params(("id" = i64, Path, description = "Alarm id")),
    responses((status = 200, body = AlarmDetailDto), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_alarm(
    State(s): State<ApiState>,
    c: Caller,
    Path(id): Path<i64>,
) -> ApiResult<Json<AlarmDetailDto>> {
    let detail = s.app.alarm(&c.principal, id).await?;
    let deadline = s.app.alarm_deadline(&detail.alarm, s.app.clock().now_ms());
    Ok(Json(AlarmDetailDto {
        alarm: AlarmDto::with_deadline(detail.alarm, deadline),
        actions: detail.actions.into_iter().map(AlarmActionDto::from).collect(),
    }))
}

/// Acknowledge, dispatch, resolve an alarm or mark it false; refused with 409 when the alarm's
/// state does not allow the step (`alarm_closed`, `invalid_alarm_transition`).
#[utoipa::path(post, path = "/api/v1/alarms/{id}/actions", tag = "alarms", security(("bearer" = [])), params(("id" = i64, Path, description = "Alarm id")),
    request_body = AlarmActionRequest,
    responses((status = 200, body = AlarmDto), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn act_on_alarm(
    State(s): State<ApiState>,
    c: Caller,
    Path(id): Path<i64>,
    Body(r): Body<AlarmActionRequest>,
) -> ApiResult<Json<AlarmDto>> {
    let action = anfang_app::alarms::AlarmAction::parse(&r.action)
        .map_err(|e| ApiError::from(anfang_app::AppError::field("action", e)))?;
    let alarm = s
        .app
        .act_on_alarm(&c.principal, id, action, r.note, r.dispatched_to)
        .await?;
    let deadline = s.app.alarm_deadline(&alarm, s.app.clock().now_ms());
    Ok(Json(AlarmDto::with_deadline(alarm, deadline)))
}

/// Parameters of the alarm statistics.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
pub struct AlarmStatsParams {
    /// One community (default: the caller's whole scope).
    pub community_id: Option<i64>,
    /// From, RFC 3339 (default: 24 hours ago).
    pub since: Option<String>,
    /// Until, RFC 3339 (default: now).
    pub until: Option<String>,
}

/// Alarm statistics: by state and kind, acknowledged within the SLA, mean time to acknowledge.
#[utoipa::path(get, path = "/api/v1/alarms/stats", tag = "alarms", security(("bearer" = [])), params(AlarmStatsParams),
    responses((status = 200, body = AlarmStatsDto), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn alarm_stats(
    State(s): State<ApiState>,
    c: Caller,
    Query(p): Query<AlarmStatsParams>,
) -> ApiResult<Json<AlarmStatsDto>> {
    let now = s.app.clock().now_ms();
    let until = ms_of("until", p.until.as_deref())?.unwrap_or(now + 1);
    let since = ms_of("since", p.since.as_deref())?.unwrap_or(until - 86_400_000);
    let stats = s
        .app
        .alarm_stats(&c.principal, p.community_id, since, until)
        .await?;
    Ok(Json(stats.into()))
}

/// Which patrol routes.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
pub struct PatrolParams {
    /// One community (default: the caller's whole scope).
    pub community_id: Option<i64>,
    /// The local day, `YYYY-MM-DD` (rounds and reports; default today).
    pub date: Option<String>,
}

fn day_of(s: &ApiState, date: Option<&str>) -> ApiResult<chrono::NaiveDate> {
    match date {
        None => Ok(s.app.clock().today_cst()),
        Some(d) => chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").map_err(|_| {
            ApiError::from(anfang_app::AppError::invalid(
                "invalid_date",
                "date",
                format!("'{d}' is not a date (YYYY-MM-DD)"),
            ))
        }),
    }
}

/// Creates a patrol route: ordered checkpoints, round times, the guard.
#[utoipa::path(post, path = "/api/v1/patrol/routes", tag = "patrol", security(("bearer" = [])),
    request_body = CreateRouteRequest,
    responses((status = 201, body = RouteDto), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn create_patrol_route(
    State(s): State<ApiState>,
    c: Caller,
    Body(r): Body<CreateRouteRequest>,
) -> ApiResult<(StatusCode, Json<RouteDto>)> {
    let req = anfang_app::patrol::CreateRoute {
        community_id: r.community_id,
        name: r.name,
        checkpoints: r
            .checkpoints
            .into_iter()
            .map(|c| anfang_app::patrol::RouteCheckpoint {
                device_id: c.device_id,
                offset_minutes: c.offset_minutes,
            })
            .collect(),
        times: r.times,
        guard_user_id: r.guard_user_id,
        window_minutes: r.window_minutes,
        tolerance_minutes: r.tolerance_minutes.unwrap_or(5),
    };
    let view = s.app.create_patrol_route(&c.principal, &req).await?;
    Ok((StatusCode::CREATED, Json(view.into())))
}

/// Patrol routes in the caller's scope.
#[utoipa::path(get, path = "/api/v1/patrol/routes", tag = "patrol", security(("bearer" = [])), params(PatrolParams),
    responses((status = 200, body = ItemsDto<RouteDto>), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn list_patrol_routes(
    State(s): State<ApiState>,
    c: Caller,
    Query(p): Query<PatrolParams>,
) -> ApiResult<Json<ItemsDto<RouteDto>>> {
    let routes = s.app.patrol_routes(&c.principal, p.community_id).await?;
    Ok(Json(ItemsDto::of(routes, RouteDto::from)))
}

/// Stops or resumes a route's rounds.
#[utoipa::path(put, path = "/api/v1/patrol/routes/{id}/active", tag = "patrol", security(("bearer" = [])), params(("id" = i64, Path, description = "Route id")),
    request_body = RouteActiveRequest,
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn set_patrol_route_active(
    State(s): State<ApiState>,
    c: Caller,
    Path(id): Path<i64>,
    Body(r): Body<RouteActiveRequest>,
) -> ApiResult<StatusCode> {
    s.app.set_patrol_route_active(&c.principal, id, r.active).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The judged rounds of a day, with each checkpoint's outcome.
#[utoipa::path(get, path = "/api/v1/patrol/rounds", tag = "patrol", security(("bearer" = [])), params(PatrolParams),
    responses((status = 200, body = ItemsDto<RoundDto>), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn list_patrol_rounds(
    State(s): State<ApiState>,
    c: Caller,
    Query(p): Query<PatrolParams>,
) -> ApiResult<Json<ItemsDto<RoundDto>>> {
    let day = day_of(&s, p.date.as_deref())?;
    let rounds = s.app.patrol_rounds(&c.principal, p.community_id, day).await?;
    Ok(Json(ItemsDto::of(rounds, RoundDto::from)))
}

/// The daily completion report per guard.
#[utoipa::path(get, path = "/api/v1/patrol/report", tag = "patrol", security(("bearer" = [])), params(PatrolParams),
    responses((status = 200, body = ItemsDto<GuardDayDto>), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn patrol_report(
    State(s): State<ApiState>,
    c: Caller,
    Query(p): Query<PatrolParams>,
) -> ApiResult<Json<ItemsDto<GuardDayDto>>> {
    let day = day_of(&s, p.date.as_deref())?;
    let report = s.app.patrol_report(&c.principal, p.community_id, day).await?;
    Ok(Json(ItemsDto::of(report, GuardDayDto::from)))
}

/// Which warnings.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
pub struct WarningParams {
    /// One kind.
    pub kind: Option<String>,
    /// One state.
    pub state: Option<String>,
    /// Only those still to handle.
    pub open: Option<bool>,
    /// 1-based page.
    pub page: Option<i64>,
    /// Rows per page.
    pub page_size: Option<i64>,
}

/// Early warnings the caller may see (watch-list hits and strangers: police only), open first.
#[utoipa::path(get, path = "/api/v1/warnings", tag = "warnings", security(("bearer" = [])), params(WarningParams),
    responses((status = 200, body = PageDto<WarningDto>), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn list_warnings(
    State(s): State<ApiState>,
    c: Caller,
    Query(p): Query<WarningParams>,
) -> ApiResult<Json<PageDto<WarningDto>>> {
    let filter = anfang_app::store::WarningFilter {
        kind: p.kind,
        state: p.state,
        open: p.open.unwrap_or(false),
        ..Default::default()
    };
    let page = PageRequest {
        page: p.page.unwrap_or(1),
        page_size: p.page_size.unwrap_or(reg::DEFAULT_PAGE_SIZE),
    };
    let rows = s.app.list_warnings(&c.principal, filter, page).await?;
    Ok(Json(PageDto {
        total: rows.total,
        page: page.page,
        page_size: page.page_size,
        items: rows.items.into_iter().map(WarningDto::from).collect(),
    }))
}

/// One warning with its evidence.
#[utoipa::path(get, path = "/api/v1/warnings/{id}", tag = "warnings", security(("bearer" = [])), params(("id" = i64, Path, description = "Warning id")),
    responses((status = 200, body = WarningDto), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_warning(
    State(s): State<ApiState>,
    c: Caller,
    Path(id): Path<i64>,
) -> ApiResult<Json<WarningDto>> {
    Ok(Json(s.app.warning(&c.principal, id).await?.into()))
}

/// Confirm or reject a match, or close a warning (409 `warning_closed`,
/// `invalid_warning_transition` when its state does not allow the step).
#[utoipa::path(post, path = "/api/v1/warnings/{id}/actions", tag = "warnings", security(("bearer" = [])), params(("id" = i64, Path, description = "Warning id")),
    request_body = WarningActionRequest,
    responses((status = 200, body = WarningDto), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn act_on_warning(
    State(s): State<ApiState>,
    c: Caller,
    Path(id): Path<i64>,
    Body(r): Body<WarningActionRequest>,
) -> ApiResult<Json<WarningDto>> {
    let action = anfang_app::warnings::WarningAction::parse(&r.action)
        .map_err(|e| ApiError::from(anfang_app::AppError::field("action", e)))?;
    let row = s.app.act_on_warning(&c.principal, id, action, r.note).await?;
    Ok(Json(row.into()))
}

/// A community's early-warning thresholds (the defaults until set).
#[utoipa::path(get, path = "/api/v1/communities/{id}/warning-rules", tag = "warnings", security(("bearer" = [])), params(("id" = i64, Path, description = "Community id")),
    responses((status = 200, body = WarningRulesDto), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_warning_rules(
    State(s): State<ApiState>,
    c: Caller,
    Path(id): Path<i64>,
) -> ApiResult<Json<WarningRulesDto>> {
    Ok(Json(WarningRulesDto(
        s.app.warning_rules(&c.principal, id).await?,
    )))
}

/// Sets a community's early-warning thresholds (police and district administrators).
#[utoipa::path(put, path = "/api/v1/communities/{id}/warning-rules", tag = "warnings", security(("bearer" = [])), params(("id" = i64, Path, description = "Community id")),
    request_body = WarningRulesDto,
    responses((status = 200, body = WarningRulesDto), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn set_warning_rules(
    State(s): State<ApiState>,
    c: Caller,
    Path(id): Path<i64>,
    Body(r): Body<WarningRulesDto>,
) -> ApiResult<Json<WarningRulesDto>> {
    s.app.set_warning_rules(&c.principal, id, &r.0).await?;
    Ok(Json(r))
}

/// The live feed as Server-Sent Events: `access` (door and gate decisions), `alarm` (raised or
/// handled), `warning` (raised), `patrol` and `booth` events in the caller's scope and for their
/// role, each a JSON object; `lagged` (with how many were missed) when the caller fell behind and
/// should reload its lists. A comment every 15 s keeps proxies from closing the stream.
#[utoipa::path(get, path = "/api/v1/live", tag = "alarms", security(("bearer" = [])),
    responses((status = 200, content_type = "text/event-stream", description = "Server-Sent Events"), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn live(State(s): State<ApiState>, c: Caller) -> ApiResult<Response> {
    use axum::response::sse::{Event, KeepAlive, Sse};
    use tokio::sync::broadcast::error::RecvError;
    let receiver = s.app.subscribe_live(&c.principal)?;
    let who = c.principal;
    metrics::gauge!("anfang_live_subscribers").increment(1.0);
    let stream =
        futures_util::stream::unfold((receiver, who, Gauge), |(mut receiver, who, gauge)| async move {
            loop {
                match receiver.recv().await {
                    Ok(event) if event.visible_to(&who) => {
                        let mut data = event.data.clone();
                        if let Some(map) = data.as_object_mut() {
                            map.insert("community_id".into(), serde_json::json!(event.community_id));
                            map.insert("at".into(), serde_json::json!(rfc3339(event.at)));
                        }
                        let frame = Event::default().event(event.kind).data(data.to_string());
                        return Some((Ok::<_, std::convert::Infallible>(frame), (receiver, who, gauge)));
                    }
                    Ok(_) => continue,
                    Err(RecvError::Lagged(missed)) => {
                        let frame = Event::default()
                            .event("lagged")
                            .data(serde_json::json!({"missed": missed}).to_string());
                        return Some((Ok(frame), (receiver, who, gauge)));
                    }
                    Err(RecvError::Closed) => return None,
                }
            }
        });
    Ok(Sse::new(stream)
        .keep_alive(KeepAlive::new().interval(std::time::Duration::from_secs(15)))
        .into_response())
}

/// Counts a live subscriber while its stream lives.
struct Gauge;

impl Drop for Gauge {
    fn drop(&mut self) {
        metrics::gauge!("anfang_live_subscribers").decrement(1.0);
    }
}

/// Makes a notification channel carrying the caller's view: a webhook (its signing secret is
/// in the answer, once), an SMS number or an e-mail address.
#[utoipa::path(post, path = "/api/v1/notify/channels", tag = "alarms", security(("bearer" = [])),
    request_body = CreateChannelRequest,
    responses((status = 201, body = CreatedChannelDto), (status = 403, body = ErrorBody), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn create_channel(
    State(s): State<ApiState>,
    c: Caller,
    Body(r): Body<CreateChannelRequest>,
) -> ApiResult<(StatusCode, Json<CreatedChannelDto>)> {
    use anfang_app::notify::{ChannelKind, EventKind};
    let channel = ChannelKind::parse(&r.channel)
        .map_err(|e| ApiError::from(anfang_app::AppError::field("channel", e)))?;
    let kinds = r
        .kinds
        .iter()
        .map(|k| EventKind::parse(k).map_err(|e| ApiError::from(anfang_app::AppError::field("kinds", e))))
        .collect::<Result<Vec<_>, _>>()?;
    let min_severity = r
        .min_severity
        .as_deref()
        .map(|s| {
            anfang_app::alarms::Severity::parse(s)
                .map_err(|e| ApiError::from(anfang_app::AppError::field("min_severity", e)))
        })
        .transpose()?;
    let made = s
        .app
        .create_channel(
            &c.principal,
            &anfang_app::notify::NewChannel {
                name: r.name,
                channel,
                address: r.address,
                kinds,
                min_severity,
                community_id: r.community_id,
            },
        )
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedChannelDto {
            channel: made.channel.into(),
            secret: made.secret,
        }),
    ))
}

/// The notification channels the caller manages.
#[utoipa::path(get, path = "/api/v1/notify/channels", tag = "alarms", security(("bearer" = [])),
    responses((status = 200, body = ItemsDto<ChannelDto>), (status = 403, body = ErrorBody)))]
pub async fn list_channels(State(s): State<ApiState>, c: Caller) -> ApiResult<Json<ItemsDto<ChannelDto>>> {
    let channels = s.app.list_channels(&c.principal).await?;
    Ok(Json(ItemsDto::of(channels, ChannelDto::from)))
}

/// Stops or starts a channel.
#[utoipa::path(put, path = "/api/v1/notify/channels/{id}/active", tag = "alarms", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Channel id")), request_body = ChannelActiveRequest,
    responses((status = 200, body = ChannelDto), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn set_channel_active(
    State(s): State<ApiState>,
    c: Caller,
    Path(id): Path<i64>,
    Body(r): Body<ChannelActiveRequest>,
) -> ApiResult<Json<ChannelDto>> {
    let view = s.app.set_channel_active(&c.principal, id, r.active).await?;
    Ok(Json(view.into()))
}

/// A channel's delivery log, newest first.
#[utoipa::path(get, path = "/api/v1/notify/channels/{id}/deliveries", tag = "alarms", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Channel id"), DeliveryParams),
    responses((status = 200, body = PageDto<DeliveryDto>), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn channel_deliveries(
    State(s): State<ApiState>,
    c: Caller,
    Path(id): Path<i64>,
    Query(p): Query<DeliveryParams>,
) -> ApiResult<Json<PageDto<DeliveryDto>>> {
    let page = PageRequest {
        page: p.page.unwrap_or(1),
        page_size: p.page_size.unwrap_or(reg::DEFAULT_PAGE_SIZE),
    };
    let rows = s.app.channel_deliveries(&c.principal, id, page).await?;
    Ok(Json(PageDto {
        total: rows.total,
        page: page.page,
        page_size: page.page_size,
        items: rows.items.into_iter().map(DeliveryDto::from).collect(),
    }))
}
