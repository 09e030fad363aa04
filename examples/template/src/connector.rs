//! The `template` connector: the four pure modules wired to the host.

use exsync_plugin_api::{
    CheckReport, Connector, ConnectorConfig, CredentialField, ErrorKind, Host, HttpRequest,
    HttpResponse, Manifest, Page, PartitionContext, PluginError, RateLimit, Stream,
};

use crate::endpoints::{ACCOUNT, API_HOST, BALANCES, BUCKET, BUDGET_PER_MINUTE, DEFAULT_BASE_URL};
use crate::{pagination, parsing, signing};

pub struct TemplateConnector {
    host: Host,
    base_url: String,
    api_key: String,
    api_secret: String,
}

/// The kind a non-2xx answer means. Read the exchange's error codes here too: many answer
/// 200 with an error inside, or 400 for a bad signature.
fn status_error(response: &HttpResponse, what: &str) -> PluginError {
    let kind = match response.status {
        401 => ErrorKind::AUTH,
        403 => ErrorKind::PERMISSION,
        418 => ErrorKind::BANNED,
        429 => ErrorKind::RATE_LIMITED,
        500..=599 => ErrorKind::EXCHANGE_UNAVAILABLE,
        _ => ErrorKind::BAD_RESPONSE,
    };
    PluginError::new(
        kind,
        format!(
            "while {what}: HTTP {} {}",
            response.status,
            response.body_excerpt()
        ),
    )
}

impl TemplateConnector {
    /// Sends a signed GET, rebuilt (fresh timestamp and signature) for every attempt.
    fn get(&self, path_and_query: &str, what: &str) -> Result<HttpResponse, PluginError> {
        let response = self.host.http_retrying(|| {
            let headers = signing::headers(
                &self.api_key,
                &self.api_secret,
                self.host.now_ms(),
                "GET",
                path_and_query,
            );
            let mut request =
                HttpRequest::get(format!("{}{path_and_query}", self.base_url)).bucket(BUCKET);
            for (name, value) in headers {
                request = request.header(&name, value);
            }
            Ok(request)
        })?;
        if !response.is_success() {
            return Err(status_error(&response, what));
        }
        Ok(response)
    }
}

impl Connector for TemplateConnector {
    fn manifest() -> Manifest {
        let mut m = Manifest::new("template", "Template", env!("CARGO_PKG_VERSION"));
        m.credentials = vec![
            CredentialField {
                name: "api_key".into(),
                label: "API Key".into(),
                secret: true,
                optional: false,
            },
            CredentialField {
                name: "api_secret".into(),
                label: "API Secret".into(),
                secret: true,
                optional: false,
            },
        ];
        m.streams = vec![Stream::Balances, Stream::Ledger];
        m.api_hosts = vec![API_HOST.into()];
        m.default_base_url = DEFAULT_BASE_URL.into();
        m.rate_limits = vec![RateLimit {
            bucket: BUCKET.into(),
            capacity: BUDGET_PER_MINUTE,
            window_ms: 60_000,
            used_header: None,
            ban_statuses: Vec::new(),
            ..RateLimit::default()
        }];
        m
    }

    fn new(config: ConnectorConfig, host: Host) -> Result<Self, PluginError> {
        Ok(TemplateConnector {
            api_key: config.credential("api_key")?.to_owned(),
            api_secret: config.credential("api_secret")?.to_owned(),
            base_url: config.base_url,
            host,
        })
    }

    fn check(&self) -> Result<CheckReport, PluginError> {
        let response = self.get(ACCOUNT, "checking the key")?;
        Ok(CheckReport {
            account: parsing::account(&response.body)?,
            ..CheckReport::default()
        })
    }

    fn partitions(&self, stream: Stream, _: &PartitionContext) -> Result<Vec<String>, PluginError> {
        match stream {
            Stream::Balances | Stream::Ledger => Ok(vec![String::new()]),
            other => Err(PluginError::unsupported(format!(
                "Template has no {other} stream"
            ))),
        }
    }

    fn fetch(&self, stream: Stream, _: &str, cursor: Option<&str>) -> Result<Page, PluginError> {
        match stream {
            Stream::Balances => {
                let response = self.get(BALANCES, "fetching balances")?;
                let records = parsing::balances(&response.body, self.host.now_ms())?;
                Ok(Page::done(records))
            }
            Stream::Ledger => {
                let path = pagination::ledger_request(cursor);
                let response = self.get(&path, "fetching the ledger")?;
                let (records, more) = parsing::ledger(&response.body)?;
                let last = records.last().map(|r| r.id());
                Ok(Page {
                    next_cursor: pagination::next_cursor(last, cursor),
                    records,
                    more,
                    ..Page::default()
                })
            }
            other => Err(PluginError::unsupported(format!(
                "Template has no {other} stream"
            ))),
        }
    }
}
