//! `[web]` and the two keys it replaced (`http.listen`, `interactions.listen`).

use super::*;

#[test]
fn the_ops_endpoint_is_off_by_default_and_listens_where_configured() {
    let defaults = Settings::load(None, &[]).unwrap();
    let vars = env(&[("CONFBOT__HTTP__LISTEN", "0.0.0.0:9090")]);
    let configured = Settings::load(None, &vars).unwrap();

    assert_eq!(defaults.http.listen, None);
    assert_eq!(
        configured.http.listen,
        Some("0.0.0.0:9090".parse().unwrap())
    );
}

#[test]
fn an_ops_address_without_a_port_is_refused_with_its_key() {
    let vars = env(&[("CONFBOT__HTTP__LISTEN", "localhost")]);

    let message = error_of(Settings::load(None, &vars));

    assert!(
        message.starts_with("http.listen: expected an address and port"),
        "{message}"
    );
    assert!(message.contains("CONFBOT__HTTP__LISTEN"), "{message}");
}

#[test]
fn the_interactions_endpoint_listens_on_loopback_unless_configured() {
    let settings = Settings::load(None, &env(&[])).unwrap();
    assert_eq!(settings.interactions.listen.to_string(), "127.0.0.1:8080");

    let vars = [("CONFBOT__INTERACTIONS__LISTEN", "0.0.0.0:8443")];
    let settings = Settings::load(None, &env(&vars)).unwrap();
    assert_eq!(settings.interactions.listen.to_string(), "0.0.0.0:8443");

    let vars = [("CONFBOT__INTERACTIONS__LISTEN", "everywhere")];
    let error = Settings::load(None, &env(&vars)).unwrap_err().to_string();
    assert!(error.contains("interactions.listen"), "{error}");
}

#[test]
fn the_web_surface_listens_where_configured_and_the_old_keys_still_work() {
    let web = Settings::load(None, &env(&[("CONFBOT__WEB__LISTEN", "0.0.0.0:8080")])).unwrap();
    let old = Settings::load(None, &env(&[("CONFBOT__HTTP__LISTEN", "0.0.0.0:9090")])).unwrap();
    let both = [
        ("CONFBOT__WEB__LISTEN", "0.0.0.0:8080"),
        ("CONFBOT__HTTP__LISTEN", "0.0.0.0:8080"),
    ];
    let same = Settings::load(None, &env(&both)).unwrap();

    assert_eq!(Settings::load(None, &[]).unwrap().run_listen(), None);
    assert_eq!(
        web.run_listen(),
        Some(("0.0.0.0:8080".parse().unwrap(), "web.listen"))
    );
    assert_eq!(
        old.run_listen(),
        Some(("0.0.0.0:9090".parse().unwrap(), "http.listen"))
    );
    assert_eq!(same.run_listen().map(|(_, key)| key), Some("web.listen"));
}

#[test]
fn an_old_key_that_disagrees_with_web_listen_is_refused_by_name() {
    for (old, var) in [
        ("http.listen", "CONFBOT__HTTP__LISTEN"),
        ("interactions.listen", "CONFBOT__INTERACTIONS__LISTEN"),
    ] {
        let vars = [
            ("CONFBOT__WEB__LISTEN", "0.0.0.0:8080"),
            (var, "0.0.0.0:9999"),
        ];
        let message = error_of(Settings::load(None, &env(&vars)));
        assert!(
            message.starts_with(&format!("{old}: is the old name of web.listen")),
            "{message}"
        );
        assert!(message.contains("keep only web.listen"), "{message}");
    }
}

#[test]
fn the_public_url_is_an_http_base_without_credentials_query_or_fragment() {
    let vars = [(
        "CONFBOT__WEB__PUBLIC_URL",
        "https://confbot.example.org/bot/",
    )];
    let settings = Settings::load(None, &env(&vars)).unwrap();
    assert_eq!(
        settings
            .web
            .public_url
            .map(|url| url.to_string())
            .as_deref(),
        Some("https://confbot.example.org/bot/")
    );
    assert!(!settings.web.trust_forwarded_for);
    for bad in [
        "confbot.example.org",
        "ftp://confbot.example.org",
        "https://user:secret@confbot.example.org",
        "https://confbot.example.org/?a=1",
        "https://confbot.example.org/#top",
    ] {
        let vars = [("CONFBOT__WEB__PUBLIC_URL", bad)];
        let message = error_of(Settings::load(None, &env(&vars)));
        assert!(message.starts_with("web.public_url: "), "{bad}: {message}");
        assert!(!message.contains("secret"), "{message}");
    }
}
