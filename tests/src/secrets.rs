//! The suite-wide secret check: no secret a test hands to a daemon may appear in any daemon
//! log, `exsyncctl` output or `/metrics` body the harness sees.
//!
//! Every secret is registered where a test hands it over: [`crate::daemon::Setup::env`] (the
//! `env:` credentials), [`crate::daemon::Setup::secret_file`] (`file:` credentials),
//! [`crate::daemon::Setup::integration`] (a credential written inline in an integration file)
//! or [`register`] for anything else. The harness then scans, against every secret registered
//! by any test of this process:
//!
//! - each `exsyncctl` run's stdout and stderr ([`crate::daemon::ctl`]), as it returns;
//! - each `/metrics` body ([`crate::daemon::Daemon::metrics`]), as it is fetched;
//! - the daemon's log when a test reads it ([`crate::daemon::Daemon::log`]) and when the
//!   daemon is dropped, so a test that never looks at its log is checked all the same.
//!
//! A leak fails the test loudly, naming the secret's kind (where it was handed over) and the
//! place it leaked to, never the secret itself.

use std::sync::Mutex;

/// Shorter values are not secrets worth the name and would match by chance.
pub const MIN_SECRET_LEN: usize = 8;

/// One registered secret.
#[derive(Clone)]
struct Secret {
    /// Where it was handed over: `env E2E_BINANCE_SECRET`, `file binance-main.secret`.
    kind: String,
    value: String,
}

/// A set of secrets and the scan over it.
#[derive(Default)]
pub struct Registry {
    secrets: Vec<Secret>,
}

impl Registry {
    /// Registers `value` as a secret of `kind`, and each long line of a multi-line value
    /// (a PEM key's body) on its own, so a leak of part of it is found too.
    ///
    /// # Panics
    ///
    /// If `value` is shorter than [`MIN_SECRET_LEN`]: mark a value that is no secret as such
    /// ([`crate::daemon::Setup::env_public`]).
    pub fn register(&mut self, kind: &str, value: &str) {
        assert!(
            value.len() >= MIN_SECRET_LEN,
            "secret {kind} is {} bytes long, too short to search outputs for (at least \
             {MIN_SECRET_LEN}); if it is no secret, hand it over with Setup::env_public",
            value.len()
        );
        let mut add = |kind: String, value: &str| {
            if !self.secrets.iter().any(|s| s.value == value) {
                self.secrets.push(Secret {
                    kind,
                    value: value.to_owned(),
                });
            }
        };
        add(kind.to_owned(), value);
        if value.contains('\n') {
            for line in value.lines().map(str::trim) {
                if line.len() >= 16 && !line.starts_with("-----") {
                    add(format!("{kind} (a line of it)"), line);
                }
            }
        }
    }

    /// The kinds of the secrets that appear in `text`, with the line of their first
    /// appearance.
    pub fn leaks(&self, text: &str) -> Vec<(String, usize)> {
        self.secrets
            .iter()
            .filter_map(|s| {
                let at = text.find(&s.value)?;
                let line = text[..at].matches('\n').count() + 1;
                Some((s.kind.clone(), line))
            })
            .collect()
    }

    /// Fails if any secret appears in `text`; `place` says where the text came from.
    ///
    /// # Panics
    ///
    /// On a leak, with a message naming each leaked secret's kind and the line, not its value.
    pub fn check(&self, place: &str, text: &str) {
        if let Some(report) = self.leak_report(place, text) {
            panic!("{report}");
        }
    }

    /// The message of [`Registry::check`], or `None` when nothing leaked.
    pub fn leak_report(&self, place: &str, text: &str) -> Option<String> {
        let leaks = self.leaks(text);
        if leaks.is_empty() {
            return None;
        }
        let list: Vec<String> = leaks
            .iter()
            .map(|(kind, line)| format!("  - the secret of {kind}, first on line {line}"))
            .collect();
        Some(format!(
            "SECRET LEAKED into {place}:\n{}\n(the values are not printed; search that output \
             for them to see the leak)",
            list.join("\n")
        ))
    }

    /// `text` with every secret replaced by `<secret KIND>`, for messages the harness prints.
    pub fn redact(&self, text: &str) -> String {
        let mut out = text.to_owned();
        for s in &self.secrets {
            if out.contains(&s.value) {
                out = out.replace(&s.value, &format!("<secret {}>", s.kind));
            }
        }
        out
    }
}

/// Every secret registered by any test of this process.
static REGISTRY: Mutex<Registry> = Mutex::new(Registry {
    secrets: Vec::new(),
});

fn registry() -> std::sync::MutexGuard<'static, Registry> {
    // A test that panicked while holding the lock left the registry whole: keep using it.
    REGISTRY.lock().unwrap_or_else(|e| e.into_inner())
}

/// Registers a secret a test hands to a daemon in some way the harness does not see.
pub fn register(kind: &str, value: &str) {
    registry().register(kind, value);
}

/// Fails the test if any registered secret appears in `text` (from `place`).
pub fn check(place: &str, text: &str) {
    let report = registry().leak_report(place, text);
    if let Some(report) = report {
        panic!("{report}");
    }
}

/// Like [`check`], for a `Drop`: while the thread already panics, the leak is printed
/// instead (a second panic would abort the whole test binary).
pub fn check_in_drop(place: &str, text: &str) {
    let report = registry().leak_report(place, text);
    if let Some(report) = report {
        if std::thread::panicking() {
            eprintln!("{report}");
        } else {
            panic!("{report}");
        }
    }
}

/// `text` with every registered secret replaced by its kind.
pub fn redact(text: &str) -> String {
    registry().redact(text)
}

/// Registers the credentials written inline in an integration file's `[credentials]` table.
pub fn register_inline_credentials(name: &str, toml: &str) {
    for (field, value) in inline_credentials(toml) {
        register(
            &format!("integration file {name}: credentials.{field}"),
            &value,
        );
    }
}

/// The fields of a `[credentials]` table that hold a key, secret, passphrase or token
/// written inline (`env:`, `file:` and `store` are references, not values).
fn inline_credentials(toml: &str) -> Vec<(String, String)> {
    let mut found = Vec::new();
    let mut in_credentials = false;
    for line in toml.lines().map(str::trim) {
        if line.starts_with('[') {
            in_credentials = line == "[credentials]";
            continue;
        }
        let Some((field, value)) = line.split_once('=').filter(|_| in_credentials) else {
            continue;
        };
        let field = field.trim();
        let value = value.trim().trim_matches('"');
        let secret_field = ["key", "secret", "pass", "token"]
            .iter()
            .any(|w| field.contains(w));
        let reference = value.starts_with("env:") || value.starts_with("file:") || value == "store";
        if secret_field && !reference && value.len() >= MIN_SECRET_LEN {
            found.push((field.to_owned(), value.to_owned()));
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "e2eUNITsecretQ1w2E3r4T5y6U7i8O9p0";

    fn registry_with_secret() -> Registry {
        let mut r = Registry::default();
        r.register("env E2E_UNIT_SECRET", SECRET);
        r
    }

    #[test]
    fn a_leaking_text_fails_the_check_and_names_the_kind_and_place_not_the_value() {
        let r = registry_with_secret();
        let leaking = format!("INFO exsyncd: signing with\nsecret={SECRET} ok\n");
        assert_eq!(r.leaks(&leaking), [("env E2E_UNIT_SECRET".to_owned(), 2)]);
        let failed = std::panic::catch_unwind(|| r.check("exsyncd log (unit)", &leaking))
            .expect_err("a leaking text must fail the check");
        let message = failed
            .downcast_ref::<String>()
            .expect("the check panics with a String");
        assert!(
            message.contains("SECRET LEAKED into exsyncd log (unit)"),
            "{message}"
        );
        assert!(message.contains("env E2E_UNIT_SECRET"), "{message}");
        assert!(message.contains("line 2"), "{message}");
        assert!(!message.contains(SECRET), "the report printed the secret");
    }

    #[test]
    fn a_clean_text_and_a_masked_secret_pass() {
        let r = registry_with_secret();
        r.check("ctl output (unit)", "api_secret  e2eU****O9p0\n");
        assert!(r.leaks("").is_empty());
    }

    #[test]
    fn a_line_of_a_multi_line_secret_is_found_alone() {
        let mut r = Registry::default();
        let pem = "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIIrYSSNQFaA2Hwf1duRSxKtLYX5CB04fSeQ6tF1aY\n-----END EC PRIVATE KEY-----\n";
        r.register("env E2E_PEM", pem);
        let leaks = r.leaks("error: bad key MHcCAQEEIIrYSSNQFaA2Hwf1duRSxKtLYX5CB04fSeQ6tF1aY");
        assert_eq!(leaks.len(), 1, "{leaks:?}");
        assert!(leaks[0].0.contains("E2E_PEM"));
        // The armour lines are public text, not part of the secret.
        assert!(r.leaks("-----BEGIN EC PRIVATE KEY-----").is_empty());
    }

    #[test]
    fn redact_replaces_values_by_kind() {
        let r = registry_with_secret();
        assert_eq!(
            r.redact(&format!("a {SECRET} b")),
            "a <secret env E2E_UNIT_SECRET> b"
        );
    }

    #[test]
    fn inline_credentials_are_values_of_secret_fields_only() {
        let toml = "exchange = \"binance\"\napi_key = \"not-in-credentials-table\"\n\
                    [credentials]\napi_key = \"e2eINLINEkey0123456789\"\n\
                    api_secret = \"env:E2E_SECRET\"\nsub_account = \"desk-1-long-name\"\n\
                    passphrase = \"store\"\n[streams]\ntrades = \"1h\"\n";
        assert_eq!(
            inline_credentials(toml),
            [("api_key".to_owned(), "e2eINLINEkey0123456789".to_owned())]
        );
    }

    #[test]
    #[should_panic(expected = "too short")]
    fn a_short_secret_is_refused() {
        Registry::default().register("env E2E_SHORT", "desk-1");
    }
}
