//! Invoked when calling `exsyncctl plugins`.

use exsync_protocol::{PluginsReport, Request, Response};

use super::{ignore, print_report, unexpected, Context, Failure};
use crate::output::{self, Table};
use crate::Exit;

pub fn plugins(ctx: &Context) -> Result<Exit, Failure> {
    let report = match ctx.request(&Request::Plugins, ignore)? {
        Response::Plugins(report) => report,
        other => return Err(unexpected("plugins", &other)),
    };
    print_report(ctx, &report, render)?;
    Ok(Exit::Ok)
}

/// One row per file in the plugin directory, loaded or refused.
pub fn render(report: &PluginsReport) -> String {
    if report.plugins.is_empty() {
        return "no plugins in the plugin directory\n".to_owned();
    }
    let mut table = Table::new(&[
        "id", "version", "api", "file", "sha256", "gen", "state", "error",
    ]);
    for p in &report.plugins {
        table.row([
            p.id.clone().unwrap_or_default(),
            p.version.clone().unwrap_or_default(),
            p.api_version.clone().unwrap_or_default(),
            p.file.clone(),
            output::short_hash(&p.sha256).to_owned(),
            p.generation.to_string(),
            p.state.clone(),
            p.error
                .as_ref()
                .map(|e| format!("{}: {}", e.kind, e.message))
                .unwrap_or_default(),
        ]);
    }
    table.render()
}

#[cfg(test)]
mod tests {
    use super::*;
    use exsync_protocol::PluginInfo;

    #[test]
    fn plugins_table_shortens_the_digest() {
        let report = PluginsReport {
            plugins: vec![PluginInfo {
                file: "libexsync_plugin_binance.so".into(),
                state: "loaded".into(),
                id: Some("binance".into()),
                version: Some("0.3.1".into()),
                api_version: Some("1.0.0".into()),
                sha256: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08".into(),
                generation: 2,
                ..PluginInfo::default()
            }],
        };
        assert_eq!(
            render(&report),
            "ID       VERSION  API    FILE                         SHA256        GEN  STATE   ERROR\n\
             binance  0.3.1    1.0.0  libexsync_plugin_binance.so  9f86d081884c  2    loaded  -\n"
        );
    }
}
