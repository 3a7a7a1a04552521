//! The OpenAPI document's frame; paths and schemas come from the handlers (`routes::api`).

use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

#[derive(OpenApi)]
#[openapi(
    info(title = "Switchboard API", description = "Multi-tenant voice-AI platform. Every tenant route acts on the tenant of the credential; errors use {\"error\":{\"code\",\"message\"}}."),
    modifiers(&Security),
    security(("bearer" = []), ("session" = [])),
    tags(
        (name = "tenant", description = "Routes scoped to the credential's tenant"),
        (name = "platform", description = "Platform administration"),
        (name = "auth", description = "Sessions"),
        (name = "receptionist", description = "The tenant's AI receptionist: templates, settings, knowledge, readiness, live-call log (scoped to the credential's tenant). The Twilio webhooks (`POST /twilio/voice`, `/twilio/gather?turn=N`, `/twilio/status`) are authenticated by `X-Twilio-Signature` and answer TwiML; they are not listed here."),
        (name = "memory", description = "Caller memory (SPEC §7): memories, call summaries, caller profiles with quick bios, personality metrics, the enriched context for a caller, and processing a conversation into memory. Scoped to the credential's tenant (the receptionist uses a service token); no credential is `401 tenant_required`, naming another tenant is `403 tenant_mismatch`."),
    )
)]
pub struct ApiDoc;

struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "An API token (sbt_…, sbp_…) or a JWT from a configured OIDC issuer",
                    ))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new("sb_session"))),
        );
    }
}
