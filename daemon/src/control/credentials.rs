//! Invoked when calling `exsyncctl credentials set NAME` and `exsyncctl credentials rotate NAME`.
//!
//! Both test the new credentials against the exchange (the plugin's `check()`, on an instance
//! of their own) before anything is stored; a failed test, a field the plugin does not take, a
//! missing required field, an unusable master key or (with `refuse_withdraw_keys`) a key that
//! can withdraw store nothing. What is stored is sealed by [`crate::credentials`]; the
//! integration is then restarted by a reload. Answers and logs show values masked only.

use std::collections::BTreeMap;
use std::sync::Arc;

use exsync_plugin_api::ErrorKind;
use exsync_protocol::{CredentialsReport, CredentialsRequest, ErrorInfo, Response};
use zeroize::Zeroize;

use super::find_integration;
use crate::daemon::Daemon;
use crate::events::{CredentialsRefused, CredentialsStored};
use crate::host::now_ms;
use crate::supervisor::{self, error_info};

/// `set` or `rotate`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    Set,
    Rotate,
}

impl Action {
    fn as_str(self) -> &'static str {
        match self {
            Action::Set => "set",
            Action::Rotate => "rotate",
        }
    }
}

pub async fn credentials(
    daemon: &Arc<Daemon>,
    request: CredentialsRequest,
    action: Action,
) -> Response {
    let name = request.integration.clone();
    match store_new(daemon, request, action).await {
        Ok(report) => Response::Credentials(report),
        Err(error) => {
            CredentialsRefused {
                integration: &name,
                action: action.as_str(),
                reason: &error.kind,
                message: &error.message,
            }
            .emit(&daemon.metrics);
            Response::Error(error)
        }
    }
}

/// Credential values by field name, wiped when dropped (on every path out).
#[derive(Default)]
struct Fields(BTreeMap<String, String>);

impl Drop for Fields {
    fn drop(&mut self) {
        for value in self.0.values_mut() {
            value.zeroize();
        }
    }
}

fn refusal(kind: &str, message: impl Into<String>, hint: &str) -> ErrorInfo {
    ErrorInfo::new(kind, message).with_hint(hint)
}

fn as_error(response: Response) -> ErrorInfo {
    match response {
        Response::Error(e) => e,
        other => ErrorInfo::new("internal", format!("unexpected answer {other:?}")),
    }
}

async fn store_new(
    daemon: &Arc<Daemon>,
    request: CredentialsRequest,
    action: Action,
) -> Result<CredentialsReport, ErrorInfo> {
    let name = request.integration.as_str();
    let it = find_integration(daemon, name).map_err(as_error)?;
    if !it.config.credentials_in_store {
        return Err(refusal(
            "config",
            format!(
                "integration {name} takes its credentials from its file ({}), not from the store",
                it.config.file.display()
            ),
            "write `credentials = \"store\"` in the integration file (instead of [credentials]), then set them",
        ));
    }
    let vault = daemon.shared.vault.clone();
    if let Some(why) = vault.unusable() {
        return Err(refusal(
            "config",
            format!("cannot store credentials of {name}: {why}"),
            "configure the master key (exsyncd keygen), then restart exsyncd",
        ));
    }
    if action == Action::Rotate && vault.stamp(name).is_none() {
        return Err(refusal(
            "not_found",
            format!("no credentials of {name} are stored, so there is nothing to rotate"),
            "use `exsyncctl credentials set` for the first ones",
        ));
    }

    // Names first: duplicates, empty values, fields the plugin does not take, missing ones.
    let mut given = Fields::default();
    for field in &request.fields {
        if field.value.expose().is_empty() {
            return Err(refusal(
                "usage",
                format!("credential `{}` is empty", field.name),
                "give every field a value",
            ));
        }
        if given
            .0
            .insert(field.name.clone(), field.value.expose().to_owned())
            .is_some()
        {
            return Err(refusal(
                "usage",
                format!("credential `{}` is given twice", field.name),
                "give each field once",
            ));
        }
    }
    let (connector, redactor, masked) = {
        let topo = daemon.topology.read().expect("topology lock");
        let Some(library) =
            supervisor::plugin_for(&topo.plugins, it.exchange()).and_then(|p| p.library.as_ref())
        else {
            return Err(error_info(
                ErrorKind::CONFIG,
                format!(
                    "no loaded plugin has the id `{}` of integration {name}",
                    it.exchange()
                ),
            ));
        };
        supervisor::check_credential_fields(library.manifest(), given.0.keys().map(String::as_str))
            .map_err(|m| {
                refusal(
                    "usage",
                    format!("{m}; nothing was stored"),
                    "give the fields `exsyncctl plugins` lists for this exchange",
                )
            })?;
        // An instance of its own, with the new credentials, for the test.
        let probe = supervisor::prepare_with_credentials(
            it.config.clone(),
            &topo.plugins,
            &daemon.shared,
            daemon.shutdown.child_token(),
            Some(given.0.clone()),
        );
        if let Some(e) = probe.error {
            return Err(e);
        }
        (
            probe
                .connector
                .expect("a prepared integration without error has a connector"),
            probe.redactor,
            probe.masked_credentials,
        )
    };
    let checked = tokio::task::spawn_blocking(move || {
        let handle = connector
            .lock()
            .map_err(|_| exsync_plugin_api::PluginError::plugin("connector lock poisoned"))?;
        handle.check()
    })
    .await
    .map_err(|e| {
        refusal(
            "internal",
            format!("the credential test task failed: {e}"),
            "see the daemon log",
        )
    })?;
    let report = checked.map_err(|e| {
        error_info(
            e.kind,
            format!(
                "the new credentials of {name} failed the test against the exchange; nothing was stored{}: {}",
                if action == Action::Rotate { " and the old ones stay" } else { "" },
                redactor.redact(&e.message)
            ),
        )
    })?;
    let can_withdraw = report.permissions.withdraw;
    let mut warnings = Vec::new();
    if can_withdraw == Some(true) {
        if daemon.settings.refuse_withdraw_keys {
            return Err(refusal(
                "permission",
                format!(
                    "the new key of {name} can withdraw funds and refuse_withdraw_keys is set; nothing was stored"
                ),
                "create a read-only API key at the exchange (no trading, no withdrawals)",
            ));
        }
        warnings.push(
            "THIS KEY CAN WITHDRAW FUNDS. exsync only reads: replace it with a read-only key, \
             or set refuse_withdraw_keys = true in exsyncd.toml to refuse such keys."
                .to_owned(),
        );
    }

    let set_ms = now_ms();
    {
        let pairs: Vec<(&str, &str)> = given
            .0
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        vault
            .store_credentials(name, &pairs, set_ms)
            .map_err(|m| refusal("internal", m, "see the daemon log"))?;
    }
    drop(given);
    CredentialsStored {
        integration: name,
        action: action.as_str(),
        can_withdraw,
    }
    .emit(&daemon.metrics);
    // Restart the integration on the new credentials (a reload restarts integrations whose
    // stored credentials changed).
    crate::reload::reload(daemon, "credentials").await;

    Ok(CredentialsReport {
        integration: name.to_owned(),
        exchange: it.exchange().to_owned(),
        action: match action {
            Action::Set => "set",
            Action::Rotate => "rotated",
        }
        .to_owned(),
        account: redactor.redact(&report.account),
        can_read: report.permissions.read,
        can_trade: report.permissions.trade,
        can_withdraw,
        credentials: masked,
        warnings,
        set_ms,
    })
}
