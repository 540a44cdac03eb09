//! `[web]` typed: where the web surface listens, its public address, and whether it sits
//! behind a proxy that sets `X-Forwarded-For`; and the listeners each command opens.
//!
//! `http.listen` and `interactions.listen` are the keys of the two servers the web surface
//! replaced. For one release they still work: alone, as the listener of `confbot run` and
//! of `confbot serve-interactions` respectively; beside a different `web.listen`, as a
//! second listener serving the same routes (so an old health check or compose file keeps
//! working after the image moved to `web.listen`), with a warning to remove them.

use std::net::SocketAddr;

use reqwest::Url;

use super::raw::RawWeb;
use super::{ConfigError, WebSettings};

pub(super) fn web_settings(
    raw: RawWeb,
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

/// The addresses a command listens on, each with the key that named it: `first`, then the
/// old keys' addresses that differ from it (port 0 is a new port each time, so always
/// differs), each once.
fn listeners(
    first: Option<(SocketAddr, &'static str)>,
    old: &[(Option<SocketAddr>, &'static str)],
) -> Vec<(SocketAddr, &'static str)> {
    let mut all: Vec<(SocketAddr, &'static str)> = first.into_iter().collect();
    for (addr, key) in old {
        let Some(addr) = *addr else { continue };
        let taken = all
            .iter()
            .any(|(other, _)| *other == addr && addr.port() != 0);
        if !taken {
            all.push((addr, key));
        }
    }
    all
}

impl super::Settings {
    /// Where `confbot run` serves the web surface: `web.listen`, else its old name
    /// `http.listen` (both, when both are set and differ). Empty: no web surface.
    pub fn run_listeners(&self) -> Vec<(SocketAddr, &'static str)> {
        let first = self.web.listen.map(|addr| (addr, "web.listen"));
        listeners(first, &[(self.http.listen, "http.listen")])
    }

    /// Where `confbot run` is asked whether it is healthy: its first listener.
    pub fn run_listen(&self) -> Option<(SocketAddr, &'static str)> {
        self.run_listeners().into_iter().next()
    }

    /// Where `confbot serve-interactions` serves: `--listen` (`flag`), which replaces the
    /// configured addresses as it always did, else `web.listen` (with an `interactions.listen`
    /// that was set and differs beside it), else `interactions.listen` (127.0.0.1:8080 by
    /// default); then `http.listen` where it was set and differs.
    pub fn serve_listeners(&self, flag: Option<SocketAddr>) -> Vec<(SocketAddr, &'static str)> {
        let interactions = self.interactions.listen;
        let set = self.interactions.set.then_some(interactions);
        let (first, old_interactions) = match (flag, self.web.listen) {
            (Some(addr), _) => ((addr, "--listen"), None),
            (None, Some(addr)) => ((addr, "web.listen"), set),
            (None, None) => ((interactions, "interactions.listen"), None),
        };
        listeners(
            Some(first),
            &[
                (old_interactions, "interactions.listen"),
                (self.http.listen, "http.listen"),
            ],
        )
    }
}
