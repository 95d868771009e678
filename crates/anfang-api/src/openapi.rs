//! The OpenAPI 3 document, generated from the handlers' annotations.

use crate::{fees, handlers, programme, trajectory, video, video_live};
use axum::Json;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

/// The API description served at `/api/v1/openapi.json`.
#[derive(OpenApi)]
#[openapi(
    info(title = "Anfang API", description = "Anfang (安防) smart-security community platform: registry, auth, devices, audit."),
    paths(
        handlers::login, handlers::logout, handlers::me, handlers::list_users, handlers::create_user,
        handlers::list_streets, handlers::create_street, handlers::list_committees, handlers::create_committee,
        handlers::list_communities, handlers::get_community, handlers::create_community,
        handlers::list_buildings, handlers::create_building, handlers::list_units, handlers::create_unit,
        handlers::list_houses, handlers::get_house, handlers::create_house, handlers::list_places, handlers::create_place,
        handlers::list_grids, handlers::create_grid, handlers::list_organisations, handlers::create_organisation,
        handlers::list_persons, handlers::get_person, handlers::create_person, handlers::set_person_house,
        handlers::list_consents, handlers::give_consent, handlers::revoke_consent, handlers::list_credentials,
        handlers::issue_credential, handlers::issue_pin, handlers::revoke_credential, handlers::qr_code, handlers::list_access_records, handlers::access_record_snapshot, handlers::booth_call_photo,
        handlers::list_deny_list, handlers::add_to_deny_list, handlers::remove_from_deny_list,
        handlers::list_visitors, handlers::invite_visitor,
        handlers::list_booth_calls, handlers::accept_booth_call, handlers::deny_booth_call,
        handlers::list_parking_sessions, handlers::list_overstays, handlers::pay_parking, handlers::refund_parking, handlers::get_tariff,
        handlers::set_tariff, handlers::list_parking_passes, handlers::sell_parking_pass, handlers::revoke_parking_pass,
        handlers::list_vehicles, handlers::get_vehicle, handlers::create_vehicle,
        handlers::list_devices, handlers::get_device, handlers::create_device, handlers::assign_device, handlers::set_device_accepts, handlers::configure_device, handlers::list_access_points,
        handlers::lane_code, handlers::list_capture_records, handlers::list_cascade_targets, handlers::list_watch_entries, handlers::list_watch_hits, handlers::face_search, handlers::list_strangers, handlers::list_alarms, handlers::get_alarm, handlers::act_on_alarm, handlers::alarm_stats, handlers::create_patrol_route, handlers::list_patrol_routes, handlers::set_patrol_route_active, handlers::list_patrol_rounds, handlers::patrol_report, handlers::live, handlers::create_channel, handlers::list_channels, handlers::set_channel_active, handlers::channel_deliveries, handlers::list_warnings, handlers::get_warning, handlers::act_on_warning, handlers::get_warning_rules, handlers::set_warning_rules, handlers::no_plate_entry, handlers::no_plate_ticket, handlers::no_plate_exit,
        crate::device_push::device_push, crate::device_push::device_face,
        handlers::get_face, handlers::enroll_face, handlers::remove_face,
        handlers::import_template, handlers::import_sheet, handlers::import_report, handlers::export_sheet,
        handlers::list_audit, handlers::verify_audit,
        programme::districts, programme::summary, programme::networking, programme::tasks, programme::progress,
        programme::assessment, programme::create_project, programme::get_project, programme::move_project,
        programme::list_acceptances, programme::request_acceptance, programme::get_funding, programme::add_funding,
        programme::set_award_status, programme::get_acceptance, programme::record_item, programme::attach,
        programme::get_attachment, programme::sign, programme::get_targets, programme::set_targets,
        programme::get_formula, programme::set_formula, programme::get_weights, programme::set_weights,
        programme::get_rules, programme::set_rules, programme::list_contractors, programme::set_contractor,
        programme::list_tickets, programme::resolve_ticket, programme::maintenance, programme::export,
        fees::list_items, fees::create_item, fees::set_price, fees::set_item_active, fees::get_settings,
        fees::set_settings, fees::house_account, fees::set_terms, fees::subscribe, fees::add_discount,
        fees::record_reading, fees::generate_bills, fees::list_bills, fees::get_bill, fees::adjust_bill,
        fees::list_payments, fees::take_payment, fees::get_receipt, fees::refund, fees::create_order,
        fees::get_order, fees::payment_callback, fees::arrears, fees::send_reminders, fees::collection,
        fees::parking_income, fees::cash_book, fees::close_cash_book, fees::export,
        video::presence, video::community_video,
        trajectory::trajectory,
        video_live::live_ticket, video_live::live,
    ),
    modifiers(&BearerAuth),
    tags(
        (name = "auth", description = "Login and sessions"),
        (name = "users", description = "User administration"),
        (name = "registry", description = "Streets, committees, communities, buildings, units, houses, places"),
        (name = "persons", description = "Real population (实有人口)"),
        (name = "access", description = "Consents, credentials, access records"),
        (name = "vehicles", description = "Vehicles"),
        (name = "devices", description = "Device registry"),
        (name = "alarms", description = "Alarm centre: alarms, their handling, escalation and statistics"),
        (name = "warnings", description = "Early warning: rule-raised warnings with their evidence, watch-list hits to confirm, per-community thresholds"),
        (name = "patrol", description = "Electronic patrol: routes, judged rounds and daily reports per guard"),
        (name = "import", description = "Spreadsheet import and export"),
        (name = "audit", description = "Audit log"),
        (name = "fees", description = "Property fees (物业费): fee items and prices, bills per house and period, payments with receipts, refunds, online payment by signed provider callbacks, arrears and reminders, collection and parking-income reports, the cashier's day. Fees never affect door access."),
        (name = "video", description = "GB/T 28181 video networking: registered devices and online cameras per community, each device's and camera's state now, live view of a camera"),
        (name = "programme", description = "District programme (智慧安防小区建设): build projects and stages, compliance, networking rate measured from live data, targets, acceptance, funding and award, street assessment, maintenance"),
    )
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

pub(crate) async fn serve() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
