//! `smoke`: HTTP requests to the migrated application (the base URL granted
//! as `app`, `[hosts.NAME]` in the project) that must answer with an
//! expected status and, optionally, contain a text. A quick "does the app
//! still start and serve" after a rehearsal.

use godwit_sdk::caps::http;
use godwit_sdk::params::Configured;
use godwit_sdk::validator::{
    CapabilityKind, CapabilityRequest, Finding, PluginInfo, Severity, TablePair, Validator,
};
use godwit_sdk::Error;

#[derive(serde::Deserialize, Clone)]
#[serde(deny_unknown_fields)]
struct Check {
    path: String,
    #[serde(default = "default_method")]
    method: String,
    #[serde(default = "default_status")]
    status: u16,
    #[serde(default)]
    contains: Option<String>,
    #[serde(default)]
    body: Option<String>,
    #[serde(default)]
    headers: Vec<(String, String)>,
}

fn default_method() -> String {
    "GET".into()
}

fn default_status() -> u16 {
    200
}

#[derive(serde::Deserialize, Clone, Default)]
#[serde(deny_unknown_fields)]
struct Params {
    checks: Vec<Check>,
}

static PARAMS: Configured<Params> = Configured::new();

struct Smoke;

impl Validator for Smoke {
    fn describe() -> PluginInfo {
        PluginInfo {
            name: "smoke".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            description: "Requests pages of the migrated application and checks status and text.".into(),
            requests: vec![CapabilityRequest {
                kind: CapabilityKind::Http,
                label: "app".into(),
                purpose: "request the application's pages".into(),
            }],
            params_doc: "- `checks` (list, required): `{ path = \"/healthz\", status = 200, contains = \"ok\", method = \"GET\", body = \"...\", headers = [[\"accept\", \"application/json\"]] }`"
                .into(),
        }
    }

    fn configure(params: String) -> Result<(), Error> {
        let p: Params = godwit_sdk::params::parse(&params)?;
        if p.checks.is_empty() {
            return Err(Error::InvalidInput("`checks` must not be empty".into()));
        }
        PARAMS.set(p);
        Ok(())
    }

    fn validate(_tables: Vec<TablePair>) -> Result<Vec<Finding>, Error> {
        let p = PARAMS.get_or_default();
        let mut findings = Vec::new();
        for c in &p.checks {
            let subject = format!("{} {}", c.method, c.path);
            let req = http::Request {
                method: c.method.clone(),
                path: c.path.clone(),
                headers: c.headers.clone(),
                body: c.body.clone().map(String::into_bytes).unwrap_or_default(),
            };
            let (severity, message, observed) = match http::send("app", &req) {
                Err(e) => (Severity::Error, format!("request failed: {e:?}"), None),
                Ok(resp) => {
                    let text = String::from_utf8_lossy(&resp.body);
                    if resp.status != c.status {
                        (
                            Severity::Error,
                            format!("answered {} (expected {})", resp.status, c.status),
                            Some(resp.status.to_string()),
                        )
                    } else if let Some(want) = c.contains.as_deref().filter(|w| !text.contains(*w))
                    {
                        (
                            Severity::Error,
                            format!(
                                "answered {} but the body does not contain {want:?}",
                                resp.status
                            ),
                            Some(resp.status.to_string()),
                        )
                    } else {
                        (
                            Severity::Info,
                            format!(
                                "answered {}{}",
                                resp.status,
                                c.contains
                                    .as_deref()
                                    .map(|w| format!(" containing {w:?}"))
                                    .unwrap_or_default()
                            ),
                            Some(resp.status.to_string()),
                        )
                    }
                }
            };
            findings.push(Finding {
                check: "smoke".into(),
                severity,
                subject,
                message,
                expected: Some(c.status.to_string()),
                observed,
            });
        }
        Ok(findings)
    }
}

godwit_sdk::validator::export_validator!(Smoke);
