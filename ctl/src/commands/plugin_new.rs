//! Invoked when calling `exsyncctl plugin new NAME [--dir DIR] [--api-path PATH]`.
//!
//! Writes a new connector crate made from `examples/template/` (embedded in this binary, so an
//! installed exsyncctl makes one without the source tree) with the name replaced exactly as
//! `examples/template/new-plugin.sh` does: `acme` gives the crate `exsync-plugin-acme`
//! (`libexsync_plugin_acme.so`), `AcmeConnector` and the simulator `exsync-sim-acme`. The copy
//! is its own workspace and starts from the `Cargo.lock` exsync itself is built with. It
//! depends on `exsync-plugin-api = "1"`, or with `--api-path` on a plugin-api checkout by
//! path. Needs no daemon.

use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};
use exsync_protocol::ErrorInfo;

use super::Failure;
use crate::Exit;

/// The template's files, by their path in the copy.
const TEMPLATE: [(&str, &str); 9] = [
    (
        "Cargo.toml",
        include_str!("../../../examples/template/Cargo.toml"),
    ),
    (
        "src/lib.rs",
        include_str!("../../../examples/template/src/lib.rs"),
    ),
    (
        "src/endpoints.rs",
        include_str!("../../../examples/template/src/endpoints.rs"),
    ),
    (
        "src/signing.rs",
        include_str!("../../../examples/template/src/signing.rs"),
    ),
    (
        "src/pagination.rs",
        include_str!("../../../examples/template/src/pagination.rs"),
    ),
    (
        "src/parsing.rs",
        include_str!("../../../examples/template/src/parsing.rs"),
    ),
    (
        "src/connector.rs",
        include_str!("../../../examples/template/src/connector.rs"),
    ),
    (
        "src/tests.rs",
        include_str!("../../../examples/template/src/tests.rs"),
    ),
    (
        "sim/main.rs",
        include_str!("../../../examples/template/sim/main.rs"),
    ),
];

/// The versions exsync itself is built and tested with.
const LOCK: &str = include_str!("../../../Cargo.lock");

/// The template's dependency on plugin-api, replaced in the copy.
const API_DEPENDENCY: &str = r#"exsync-plugin-api = { path = "../../plugin-api", version = "1" }"#;

#[derive(Args, Debug)]
pub struct PluginArgs {
    #[command(subcommand)]
    pub command: PluginCommand,
}

#[derive(Subcommand, Debug)]
pub enum PluginCommand {
    /// Make a new connector crate from the template (endpoints, signing with a test vector
    /// stub, pagination, parsing, connector, a simulator skeleton).
    New(PluginNewArgs),
}

#[derive(Args, Debug)]
pub struct PluginNewArgs {
    /// The exchange id: lowercase letters, digits and '-' (`acme`, `acme-pro`).
    pub name: String,
    /// Where to write the crate; it must not exist. Default: `exsync-plugin-NAME`.
    #[arg(long)]
    pub dir: Option<PathBuf>,
    /// Depend on this plugin-api checkout by path instead of `exsync-plugin-api = "1"`.
    #[arg(long, value_name = "PATH")]
    pub api_path: Option<PathBuf>,
}

pub fn plugin(args: &PluginArgs) -> Result<Exit, Failure> {
    match &args.command {
        PluginCommand::New(args) => plugin_new(args),
    }
}

fn usage(message: String, hint: &str) -> Failure {
    Failure::Daemon(ErrorInfo::new("usage", message).with_hint(hint))
}

/// Whether `name` is a usable exchange id: `^[a-z][a-z0-9-]*[a-z0-9]$`.
fn valid_name(name: &str) -> bool {
    let b = name.as_bytes();
    b.len() >= 2
        && b[0].is_ascii_lowercase()
        && b[b.len() - 1] != b'-'
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
}

/// `acme-pro` → `AcmePro`.
fn camel(name: &str) -> String {
    name.split('-')
        .map(|part| {
            let mut chars = part.chars();
            match chars.next() {
                Some(first) => first.to_ascii_uppercase().to_string() + chars.as_str(),
                None => String::new(),
            }
        })
        .collect()
}

/// One template file with the name replaced, in `new-plugin.sh`'s order.
fn instantiate(text: &str, name: &str, api: &str) -> String {
    let snake = name.replace('-', "_");
    text.replace("exsync_plugin_template", &format!("exsync_plugin_{snake}"))
        .replace("Template", &camel(name))
        .replace("TEMPLATE", &snake.to_ascii_uppercase())
        .replace("template", name)
        .replace(API_DEPENDENCY, api)
}

pub fn plugin_new(args: &PluginNewArgs) -> Result<Exit, Failure> {
    let name = args.name.as_str();
    if !valid_name(name) {
        return Err(usage(
            format!("plugin name {name:?} is not an exchange id"),
            "use lowercase letters, digits and '-' (not first or last), e.g. `acme` or `acme-pro`",
        ));
    }
    let dir = args
        .dir
        .clone()
        .unwrap_or_else(|| PathBuf::from(format!("exsync-plugin-{name}")));
    if dir.exists() {
        return Err(usage(
            format!("{} already exists", dir.display()),
            "pass a --dir that does not exist yet: nothing is overwritten",
        ));
    }
    let api = match &args.api_path {
        Some(path) => {
            let path = std::fs::canonicalize(path).map_err(|e| {
                usage(
                    format!("while reading --api-path {}: {e}", path.display()),
                    "pass the plugin-api directory of an exsync checkout",
                )
            })?;
            if !path.join("Cargo.toml").is_file() {
                return Err(usage(
                    format!("--api-path {} holds no Cargo.toml", path.display()),
                    "pass the plugin-api directory of an exsync checkout",
                ));
            }
            format!(
                "exsync-plugin-api = {{ path = {:?}, version = \"1\" }}",
                path.display().to_string()
            )
        }
        None => r#"exsync-plugin-api = "1""#.to_owned(),
    };
    write_crate(&dir, name, &api).map_err(|e| {
        usage(
            format!("while writing the new crate into {}: {e}", dir.display()),
            "pass a --dir you may write to",
        )
    })?;
    println!(
        "created {} (exsync-plugin-{name}): cargo build --manifest-path {}",
        dir.display(),
        dir.join("Cargo.toml").display()
    );
    Ok(Exit::Ok)
}

fn write_crate(dir: &Path, name: &str, api: &str) -> std::io::Result<()> {
    for (path, text) in TEMPLATE {
        let file = dir.join(path);
        if let Some(parent) = file.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(file, instantiate(text, name, api))?;
    }
    std::fs::write(dir.join("Cargo.lock"), LOCK)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_replaced_as_new_plugin_sh_does() {
        assert_eq!(camel("acme-pro"), "AcmePro");
        let out = instantiate(
            "exsync_plugin_template TemplateConnector TEMPLATE_KEY x-template-sign",
            "acme-pro",
            "",
        );
        assert_eq!(
            out,
            "exsync_plugin_acme_pro AcmeProConnector ACME_PRO_KEY x-acme-pro-sign"
        );
        assert!(
            TEMPLATE[0].1.contains(API_DEPENDENCY),
            "the template's dependency line moved"
        );
    }

    #[test]
    fn bad_names_and_existing_directories_are_usage_errors() {
        for bad in ["", "a", "Acme", "1acme", "acme-", "ac me", "acme_pro"] {
            assert!(!valid_name(bad), "{bad}");
        }
        assert!(valid_name("acme") && valid_name("acme-pro2"));
        let dir = tempfile::tempdir().unwrap();
        let err = plugin_new(&PluginNewArgs {
            name: "acme".into(),
            dir: Some(dir.path().to_path_buf()),
            api_path: None,
        })
        .unwrap_err();
        assert_eq!(err.exit(), Exit::Usage);
        assert!(err.render().contains("already exists"));
    }
}
