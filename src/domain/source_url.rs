//! A schedule source URL as people may see it: in Discord, `/status`, the organiser log and
//! log files. Organisers paste private feed URLs (`https://user:token@host/...`,
//! `...?token=...`); the secret parts are replaced before a URL is shown anywhere.

use reqwest::Url;

/// What replaces a secret query value.
const HIDDEN: &str = "redacted";

/// `url` without `user:password@` and with the values of secret-looking query parameters
/// replaced; text that is no URL is not shown at all (it could be anything).
pub fn shown(url: &str) -> String {
    Url::parse(url.trim()).map_or_else(|_| "<not a URL>".to_owned(), |url| redacted(&url))
}

/// [`shown`] for a parsed URL.
pub fn redacted(url: &Url) -> String {
    let mut url = url.clone();
    // Both fail only for URLs that cannot carry credentials: nothing to remove then.
    let _ = url.set_username("");
    let _ = url.set_password(None);
    if url.query_pairs().any(|(name, _)| is_secret(&name)) {
        let pairs: Vec<(String, String)> = url
            .query_pairs()
            .map(|(name, value)| {
                let value = if is_secret(&name) {
                    HIDDEN.to_owned()
                } else {
                    value.into_owned()
                };
                (name.into_owned(), value)
            })
            .collect();
        url.query_pairs_mut().clear().extend_pairs(pairs);
    }
    // A fragment is never sent to the server, but some feeds carry tokens there too.
    if url.fragment().is_some_and(|f| !f.is_empty()) {
        url.set_fragment(Some(HIDDEN));
    }
    url.to_string()
}

/// Whether a query parameter's name suggests a credential: `token`, `access_token`, `key`,
/// `api_key`, `apikey`, `secret`, `password`, `auth`, `signature`, `session`...
fn is_secret(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    const WORDS: &[&str] = &[
        "token",
        "secret",
        "passw",
        "auth",
        "credential",
        "signature",
        "session",
        "private",
    ];
    WORDS.iter().any(|word| name.contains(word))
        || name.ends_with("key")
        || matches!(name.as_str(), "sig" | "pass" | "pwd")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_and_token_parameters_are_hidden_and_the_rest_kept() {
        let url = "https://alice:s3cret@pretalx.example.org/conf/schedule.ics?\
                   token=abc123&lang=en&api_key=k1&access_token=t2&apikey=k3&password=p&\
                   auth=a1&secret=x9&Signature=sg&key=k4";
        let shown = shown(url);
        for secret in [
            "alice", "s3cret", "abc123", "k1", "t2", "k3", "=p&", "a1", "x9", "sg", "k4",
        ] {
            assert!(!shown.contains(secret), "{secret} leaked in {shown}");
        }
        assert!(
            shown.starts_with("https://pretalx.example.org/conf/schedule.ics?"),
            "{shown}"
        );
        assert!(shown.contains("token=redacted"), "{shown}");
        assert!(shown.contains("lang=en"), "{shown}");
    }

    #[test]
    fn a_plain_url_is_shown_unchanged() {
        let url = "https://pretalx.example.org/conf/schedule.ics?lang=en";
        assert_eq!(shown(url), url);
    }

    #[test]
    fn text_that_is_no_url_is_not_shown() {
        assert_eq!(shown("pretalx.example.org/s.ics?token=x"), "<not a URL>");
    }
}
