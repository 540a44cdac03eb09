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
fn an_old_key_beside_a_different_web_listen_is_served_too_for_one_release() {
    let addr = |text: &str| text.parse::<std::net::SocketAddr>().unwrap();
    let vars = [
        ("CONFBOT__WEB__LISTEN", "0.0.0.0:8080"),
        ("CONFBOT__HTTP__LISTEN", "0.0.0.0:9090"),
        ("CONFBOT__INTERACTIONS__LISTEN", "0.0.0.0:8443"),
    ];
    let settings = Settings::load(None, &env(&vars)).unwrap();
    assert_eq!(
        settings.run_listeners(),
        [
            (addr("0.0.0.0:8080"), "web.listen"),
            (addr("0.0.0.0:9090"), "http.listen")
        ]
    );
    assert_eq!(
        settings.serve_listeners(None),
        [
            (addr("0.0.0.0:8080"), "web.listen"),
            (addr("0.0.0.0:8443"), "interactions.listen"),
            (addr("0.0.0.0:9090"), "http.listen")
        ]
    );
    assert_eq!(
        settings.serve_listeners(Some(addr("127.0.0.1:7000"))),
        [
            (addr("127.0.0.1:7000"), "--listen"),
            (addr("0.0.0.0:9090"), "http.listen")
        ],
        "--listen replaces the configured interactions address, as before"
    );
    let defaults = Settings::load(None, &[]).unwrap();
    assert!(defaults.run_listeners().is_empty());
    assert_eq!(
        defaults.serve_listeners(None),
        [(addr("127.0.0.1:8080"), "interactions.listen")],
        "the default is not served twice"
    );
    let ephemeral = [
        ("CONFBOT__WEB__LISTEN", "127.0.0.1:0"),
        ("CONFBOT__HTTP__LISTEN", "127.0.0.1:0"),
    ];
    let twice = Settings::load(None, &env(&ephemeral)).unwrap();
    assert_eq!(
        twice.run_listeners().len(),
        2,
        "port 0 is a new port each time"
    );
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
