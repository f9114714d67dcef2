//! `GET /openapi.json`: the API description, generated from the handlers and core's types.

use axum::Router;
use axum::routing::get;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::AppState;
use crate::extract::Json;

#[derive(OpenApi)]
#[openapi(
    info(title = "直查 zhicha sync API", description = "The sync protocol of 直查 (docs/protocol.md)."),
    paths(
        super::auth::login,
        super::auth::logout,
        super::auth::change_password,
        super::bootstrap::bootstrap,
        super::checklists::pack,
        super::sync::push,
        super::sync::pull,
        super::sync::receipt,
        super::photos::exists,
        super::photos::upload,
        super::photos::download,
        super::findings::findings,
        super::findings::revisions,
        super::stats::stats,
        super::stats::stats_xlsx,
        super::ledger::xlsx,
        super::ledger::csv,
        super::archive::inspection_archive,
        super::admin::list_users,
        super::admin::create_user,
        super::admin::update_user,
        super::admin::reset_password,
        super::admin::sessions,
        super::admin::revoke,
        super::admin::list_orgs,
        super::admin::create_org,
        super::admin::update_org,
        super::admin::directory::list,
        super::admin::directory::import_file,
        super::admin::directory::merge,
        super::plans::list,
        super::plans::create,
        super::plans::detail,
        super::plans::draws::make,
        super::plans::draws::record,
        super::plans::draws::publication,
        super::plans::caps::get_caps,
        super::plans::caps::put_caps,
        super::plans::caps::list_conflicts,
        super::plans::caps::declare,
        super::plans::caps::code_svg,
    ),
    components(schemas(zhicha_core::protocol::ErrorResponse, zhicha_core::protocol::ErrorBody)),
    modifiers(&BearerAuth)
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

pub fn router() -> Router<AppState> {
    Router::new().route("/openapi.json", get(|| async { Json(ApiDoc::openapi()) }))
}
