//! http(s) schedule sources for `confbot import URL`: one GET with a connect and total
//! timeout, a size cap enforced while the body streams in, and conditional requests
//! (ETag / Last-Modified) so an unchanged schedule costs a 304 instead of a download.

pub mod guard;
#[cfg(test)]
mod tests;

use std::sync::Arc;
use std::time::Duration;

use reqwest::header::{
    HeaderValue, CONTENT_TYPE, ETAG, IF_MODIFIED_SINCE, IF_NONE_MATCH, LAST_MODIFIED, LOCATION,
};
use reqwest::{StatusCode, Url};

use self::guard::{AddressRule, GuardedResolver, Lookup, Refusal, SystemLookup};

use crate::config::ImportSettings;
use crate::domain::source_url;

/// How many redirects a fetch follows before giving up.
pub const MAX_REDIRECTS: usize = 5;

/// The cache validators of a fetched body, sent back on the next fetch of the same URL.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Validators {
    /// The `ETag` header, sent back as `If-None-Match`.
    pub etag: Option<String>,
    /// The `Last-Modified` header, sent back as `If-Modified-Since`.
    pub last_modified: Option<String>,
}

/// The outcome of a successful fetch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fetched {
    /// The server says the body has not changed since the validators were issued (304).
    NotModified,
    /// A fresh body, at most the configured number of bytes.
    Body {
        bytes: Vec<u8>,
        validators: Validators,
        content_type: Option<String>,
    },
}

/// Why a fetch failed. The Display is safe to show: URLs appear without user:password.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// The text is not a URL at all.
    #[error("not a valid URL: {0}")]
    InvalidUrl(String),
    /// Only http and https are fetched (no file://, ftp://, ...).
    #[error("{url}: only http and https URLs can be fetched")]
    UnsupportedScheme { url: String },
    /// The host, or a redirect hop, is not a public internet address and
    /// `import.allow_private_addresses` is off. Names no address: see [`Refusal`].
    #[error(
        "{url}: refused, {reason} (loopback, private, link-local and other internal \
         addresses are not fetched unless the operator sets import.allow_private_addresses)"
    )]
    Refused { url: String, reason: Refusal },
    /// A redirect to a scheme other than http(s) (file:, ftp:, ...).
    #[error("{url} redirected to a {scheme}: URL; only http and https redirects are followed")]
    RedirectScheme { url: String, scheme: String },
    /// No connection could be made.
    #[error("could not connect to {url}: {reason}")]
    Connect { url: String, reason: String },
    /// Connecting plus downloading took longer than the configured limit.
    #[error("{url} did not answer within {} ms", timeout.as_millis())]
    Timeout { url: String, timeout: Duration },
    /// The server answered with a status other than 2xx or 304.
    #[error("{url} answered HTTP {status}")]
    Status { url: String, status: StatusCode },
    /// More than [`MAX_REDIRECTS`] redirects.
    #[error("{url} redirected more than {MAX_REDIRECTS} times")]
    TooManyRedirects { url: String },
    /// The body is larger than the configured cap; the download was abandoned.
    #[error("{url} is larger than the limit of {max_bytes} bytes")]
    TooLarge { url: String, max_bytes: usize },
    /// Any other transport failure (TLS, a broken connection, a bad encoding).
    #[error("fetching {url} failed: {reason}")]
    Transport { url: String, reason: String },
    /// The HTTP client could not be set up.
    #[error("cannot set up the HTTP client: {0}")]
    Client(String),
}

impl FetchError {
    /// The message for Discord, `/status` and the organiser log: what went wrong, but no
    /// transport detail (which would make the bot a probe of the network it runs in). The
    /// operator's log keeps the full Display.
    pub fn public_message(&self) -> String {
        match self {
            Self::Connect { url, .. } => format!("could not connect to {url}"),
            Self::Transport { url, .. } => format!("fetching {url} failed"),
            Self::Client(_) => "cannot set up the HTTP client".to_owned(),
            other => other.to_string(),
        }
    }
}

/// Downloads schedule sources over http(s), within the limits of [`ImportSettings`].
#[derive(Debug, Clone)]
pub struct Fetcher {
    client: reqwest::Client,
    max_bytes: usize,
    timeout: Duration,
    rule: AddressRule,
}

impl Fetcher {
    /// A fetcher with the timeout, size cap, User-Agent and address guard of `settings`,
    /// resolving names with the system resolver.
    pub fn new(settings: &ImportSettings) -> Result<Self, FetchError> {
        Self::with_lookup(settings, Arc::new(SystemLookup))
    }

    /// [`Fetcher::new`] resolving names through `lookup` (tests point names at 127.0.0.1).
    pub fn with_lookup(
        settings: &ImportSettings,
        lookup: Arc<dyn Lookup>,
    ) -> Result<Self, FetchError> {
        let rule = AddressRule::new(settings.allow_private_addresses);
        Self::with_rule(settings, lookup, rule)
    }

    fn with_rule(
        settings: &ImportSettings,
        lookup: Arc<dyn Lookup>,
        rule: AddressRule,
    ) -> Result<Self, FetchError> {
        let client = reqwest::Client::builder()
            // An HTTP_PROXY from the environment would connect on our behalf to addresses
            // the guard never saw.
            .no_proxy()
            .dns_resolver(Arc::new(GuardedResolver::new(lookup, rule.clone())))
            .connect_timeout(settings.fetch_timeout)
            // The total timeout also covers reading the body, so a server that trickles
            // bytes forever is cut off too.
            .timeout(settings.fetch_timeout)
            .user_agent(settings.user_agent.as_str())
            .redirect(guard::redirect_policy(MAX_REDIRECTS, rule.clone()))
            .build()
            .map_err(|error| FetchError::Client(reason(&error.without_url())))?;
        Ok(Self {
            client,
            max_bytes: settings.max_bytes,
            timeout: settings.fetch_timeout,
            rule,
        })
    }

    /// GETs `url`, sending `validators` as a conditional request, and reads the body up to
    /// the size cap.
    // The caller reports a failed fetch (the CLI prints it, a sync logs a warning): logged
    // here at debug only, so it is not printed twice.
    #[tracing::instrument(skip_all, fields(url = tracing::field::Empty), err(level = "debug"))]
    pub async fn fetch(&self, url: &str, validators: &Validators) -> Result<Fetched, FetchError> {
        let url = parse_http_url(url)?;
        let shown = redacted(&url);
        tracing::Span::current().record("url", shown.as_str());
        // IP literals never pass through the resolver: checked here (and at each redirect).
        guard::check_host(&url, &self.rule).map_err(|reason| FetchError::Refused {
            url: shown.clone(),
            reason,
        })?;

        let mut request = self.client.get(url);
        // A validator that is no valid header value is skipped: the worst outcome is a
        // full download instead of a 304.
        if let Some(etag) = header_value(validators.etag.as_deref()) {
            request = request.header(IF_NONE_MATCH, etag);
        }
        if let Some(date) = header_value(validators.last_modified.as_deref()) {
            request = request.header(IF_MODIFIED_SINCE, date);
        }

        let mut response = request
            .send()
            .await
            .map_err(|error| self.classify(&shown, error))?;
        let status = response.status();
        if status == StatusCode::NOT_MODIFIED {
            return Ok(Fetched::NotModified);
        }
        if status.is_redirection() {
            // reqwest hands back a redirect it cannot follow (a file: or ftp: Location)
            // instead of calling the redirect policy: say what it pointed to.
            let location = response
                .headers()
                .get(LOCATION)
                .and_then(|value| value.to_str().ok())
                .and_then(|location| response.url().join(location).ok());
            if let Some(location) = location.filter(|l| !matches!(l.scheme(), "http" | "https")) {
                let scheme = location.scheme().to_owned();
                return Err(FetchError::RedirectScheme { url: shown, scheme });
            }
        }
        if !status.is_success() {
            return Err(FetchError::Status { url: shown, status });
        }
        let too_large = || FetchError::TooLarge {
            url: shown.clone(),
            max_bytes: self.max_bytes,
        };
        // An honest Content-Length over the cap fails before any download; a missing or
        // lying one is caught below, while streaming.
        let announced = response.content_length();
        if announced.is_some_and(|length| length > self.max_bytes as u64) {
            return Err(too_large());
        }

        let headers = response.headers();
        let text = |name| {
            headers
                .get(name)
                .and_then(|value: &HeaderValue| value.to_str().ok())
                .map(str::to_owned)
        };
        let validators = Validators {
            etag: text(ETAG),
            last_modified: text(LAST_MODIFIED),
        };
        let content_type = text(CONTENT_TYPE);

        let capacity = announced.map_or(0, |length| usize::try_from(length).unwrap_or(0));
        let mut bytes = Vec::with_capacity(capacity.min(self.max_bytes));
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|error| self.classify(&shown, error))?
        {
            if bytes.len().saturating_add(chunk.len()) > self.max_bytes {
                // Returning drops the response and with it the connection: nothing more
                // is read.
                return Err(too_large());
            }
            bytes.extend_from_slice(&chunk);
        }
        Ok(Fetched::Body {
            bytes,
            validators,
            content_type,
        })
    }

    fn classify(&self, url: &str, error: reqwest::Error) -> FetchError {
        let url = url.to_owned();
        match guard::find_refusal(&error) {
            Some(Refusal::Scheme(scheme)) => return FetchError::RedirectScheme { url, scheme },
            Some(Refusal::TooManyRedirects) => return FetchError::TooManyRedirects { url },
            Some(reason @ Refusal::NotPublic) => return FetchError::Refused { url, reason },
            None => {}
        }
        if error.is_timeout() {
            FetchError::Timeout {
                url,
                timeout: self.timeout,
            }
        } else if error.is_redirect() {
            FetchError::TooManyRedirects { url }
        } else if error.is_connect() {
            let reason = reason(&error.without_url());
            FetchError::Connect { url, reason }
        } else {
            let reason = reason(&error.without_url());
            FetchError::Transport { url, reason }
        }
    }
}

/// Whether an import source is a URL rather than a file path: anything shaped like
/// `scheme://...`. `ftp://host/x` counts, so that it is refused as a URL with a clear message
/// instead of being looked up as a file.
pub fn is_url(source: &str) -> bool {
    let Some((scheme, _)) = source.trim().split_once("://") else {
        return false;
    };
    scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
}

fn parse_http_url(url: &str) -> Result<Url, FetchError> {
    // The parse error is shown, not the text: it may hold credentials.
    let parsed =
        Url::parse(url.trim()).map_err(|error| FetchError::InvalidUrl(error.to_string()))?;
    match parsed.scheme() {
        "http" | "https" => Ok(parsed),
        _ => Err(FetchError::UnsupportedScheme {
            url: redacted(&parsed),
        }),
    }
}

/// The URL without credentials, for messages and logs (see [`source_url`]).
fn redacted(url: &Url) -> String {
    source_url::redacted(url)
}

/// A source URL as logs and messages may show it: see [`source_url::shown`].
pub fn shown_url(url: &str) -> String {
    source_url::shown(url)
}

fn header_value(text: Option<&str>) -> Option<HeaderValue> {
    text.and_then(|text| HeaderValue::from_str(text).ok())
}

/// The error and its causes on one line ("error sending request: dns error: ...").
fn reason(error: &(dyn std::error::Error + 'static)) -> String {
    let mut parts = vec![error.to_string()];
    let mut source = error.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        // hyper and reqwest often repeat the cause's text in the wrapper's.
        if !parts.last().is_some_and(|last| last.contains(&text)) {
            parts.push(text);
        }
        source = cause.source();
    }
    parts.join(": ")
}
