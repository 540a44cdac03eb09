//! `[web]` typed: where the web surface listens, its public address, and whether it sits
//! behind a proxy that sets `X-Forwarded-For`. `http.listen` and `interactions.listen` are
//! the keys of the two servers the web surface replaced; they still work for one release,
//! as the listener of `confbot run` and of `confbot serve-interactions` respectively.

use std::net::SocketAddr;

use reqwest::Url;

use super::raw::RawWeb;
use super::{ConfigError, WebSettings};

pub(super) fn web_settings(
    raw: RawWeb,
    http_listen: Option<SocketAddr>,
    interactions_listen: Option<SocketAddr>,
    invalid: &impl Fn(&str, String) -> ConfigError,
) -> Result<WebSettings, ConfigError> {
    let listen = match raw.listen.filter(|listen| !listen.is_empty()) {
        None => None,
        Some(listen) => Some(listen.parse::<SocketAddr>().map_err(|_| {
            let message =
                format!("expected an address and port such as \"0.0.0.0:8080\", not {listen:?}");
            invalid("web.listen", message)
        })?),
    };
    // Both names set to different places: which one the operator meant is a guess.
    for (key, old) in [
        ("http.listen", http_listen),
        ("interactions.listen", interactions_listen),
    ] {
        if let (Some(listen), Some(old)) = (listen, old) {
            if listen != old {
                let message = format!(
                    "is the old name of web.listen and differs from it ({old} and {listen}): \
                     keep only web.listen"
                );
                return Err(invalid(key, message));
            }
        }
    }
    let public_url = match raw.public_url.filter(|url| !url.is_empty()) {
        None => None,
        Some(url) => Some(public_url(&url).map_err(|message| invalid("web.public_url", message))?),
    };
    Ok(WebSettings {
        listen,
        public_url,
        trust_forwarded_for: raw.trust_forwarded_for,
    })
}

/// The base people reach the web surface at: http(s), no credentials, query or fragment.
fn public_url(text: &str) -> Result<Url, String> {
    let url = Url::parse(text).map_err(|error| format!("not a URL ({error}): {text:?}"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!("expected an https:// address, not {text:?}"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("must not carry a user name or password".to_owned());
    }
    if url.query().is_some() || url.fragment().is_some() || url.host_str().is_none() {
        return Err(format!(
            "expected a base address such as \"https://confbot.example.org\", not {text:?}"
        ));
    }
    Ok(url)
}
