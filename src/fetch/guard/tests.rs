//! The address rule, literal checks and the resolver, without a network: names resolve
//! through an injected lookup (the fetches themselves are in `fetch_tests`).

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::*;

pub(super) const REFUSED: &[&str] = &[
    // IPv4
    "0.0.0.0",
    "0.1.2.3",
    "10.0.0.1",
    "10.255.255.255",
    "100.64.0.1",
    "100.127.255.254",
    "127.0.0.1",
    "127.255.0.9",
    "169.254.169.254",
    "172.16.0.1",
    "172.31.255.255",
    "192.0.0.8",
    "192.0.2.10",
    "192.88.99.1",
    "192.168.1.1",
    "198.18.0.1",
    "198.19.255.255",
    "198.51.100.7",
    "203.0.113.5",
    "224.0.0.1",
    "239.255.255.250",
    "240.0.0.1",
    "255.255.255.255",
    // IPv6
    "::",
    "::1",
    "fc00::1",
    "fd12:3456::1",
    "fe80::1",
    "febf::1",
    "fec0::1",
    "ff02::1",
    "64:ff9b::a9fe:a9fe",
    "64:ff9b:1::1",
    "100::1",
    "2001::1",
    "2001:db8::1",
    "2002:0a00:0001::1",
    "3fff::1",
    // IPv4 inside IPv6: mapped and compatible forms of refused IPv4 addresses
    "::ffff:127.0.0.1",
    "::ffff:169.254.169.254",
    "::ffff:10.0.0.1",
    "::ffff:192.168.0.1",
    "::127.0.0.1",
    "::10.0.0.1",
];

const PUBLIC: &[&str] = &[
    "1.1.1.1",
    "8.8.8.8",
    "100.63.255.255",
    "100.128.0.1",
    "172.15.255.255",
    "172.32.0.1",
    "192.169.0.1",
    "198.20.0.1",
    "223.255.255.254",
    "2606:4700:4700::1111",
    "2a00:1450::1",
    "::ffff:8.8.8.8",
];

pub(super) fn ip(text: &str) -> IpAddr {
    text.parse().unwrap()
}

#[test]
fn every_non_public_range_is_refused_in_both_families_and_in_mapped_form() {
    for &text in REFUSED {
        assert!(!is_public(ip(text)), "{text} should be refused");
    }
}

#[test]
fn public_unicast_addresses_next_to_the_refused_ranges_are_allowed() {
    for &text in PUBLIC {
        assert!(is_public(ip(text)), "{text} should be allowed");
    }
}

#[test]
fn allow_private_addresses_lets_every_address_through() {
    let rule = AddressRule::new(true);
    for &text in REFUSED {
        assert!(rule.allows(ip(text)), "{text}");
    }
}

#[test]
fn ip_literals_are_checked_after_the_url_parser_normalised_them() {
    let rule = AddressRule::new(false);
    for url in [
        "http://169.254.169.254/latest/meta-data/",
        "http://2130706433/",
        "http://0x7f.1/",
        "http://[::ffff:7f00:1]/",
        "http://[fd00::1]:8080/x",
    ] {
        let parsed = Url::parse(url).unwrap();
        assert_eq!(check_host(&parsed, &rule), Err(Refusal::NotPublic), "{url}");
    }
    let public = Url::parse("https://8.8.8.8/schedule.ics").unwrap();
    assert_eq!(check_host(&public, &rule), Ok(()));
    let name = Url::parse("https://schedule.example/x.ics").unwrap();
    assert_eq!(
        check_host(&name, &rule),
        Ok(()),
        "names are checked when resolved"
    );
}

/// Resolves names from a table and records every name asked.
#[derive(Default)]
pub(super) struct TableLookup {
    table: HashMap<String, Vec<IpAddr>>,
    pub(super) asked: Mutex<Vec<String>>,
}

impl TableLookup {
    pub(super) fn with(entries: &[(&str, &[&str])]) -> Arc<Self> {
        let table = entries
            .iter()
            .map(|(name, ips)| ((*name).to_owned(), ips.iter().map(|t| ip(t)).collect()))
            .collect();
        Arc::new(Self {
            table,
            asked: Mutex::default(),
        })
    }
}

impl Lookup for TableLookup {
    fn lookup(&self, host: String) -> LookupFuture {
        self.asked.lock().unwrap().push(host.clone());
        let found = self.table.get(&host).cloned();
        Box::pin(async move {
            found.ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "no such name"))
        })
    }
}

#[tokio::test]
async fn the_resolver_hands_reqwest_only_the_public_addresses_of_a_name() {
    let lookup = TableLookup::with(&[
        ("mixed.example", &["10.0.0.1", "93.184.215.14", "::1"]),
        ("internal.example", REFUSED),
    ]);
    let resolver = GuardedResolver::new(lookup.clone(), AddressRule::new(false));

    let addrs: Vec<SocketAddr> = resolver
        .resolve("mixed.example".parse().unwrap())
        .await
        .unwrap()
        .collect();
    assert_eq!(addrs, vec![SocketAddr::new(ip("93.184.215.14"), 0)]);

    let error = resolver
        .resolve("internal.example".parse().unwrap())
        .await
        .err()
        .expect("a name with only internal addresses is refused");
    assert_eq!(find_refusal(&*error), Some(Refusal::NotPublic));
}

#[tokio::test]
async fn a_source_set_by_an_organiser_is_refused_at_once_when_its_name_is_internal() {
    let lookup = TableLookup::with(&[
        ("internal.example", REFUSED),
        ("mixed.example", &["10.0.0.1", "93.184.215.14"]),
        ("public.example", &["93.184.215.14"]),
    ]);
    let check = |url: &str, allow_private: bool| {
        let url = Url::parse(url).unwrap();
        let lookup = Arc::clone(&lookup);
        async move {
            let rule = AddressRule::new(allow_private);
            check_source(&url, &rule, &*lookup, Duration::from_secs(5)).await
        }
    };

    assert_eq!(
        check("https://internal.example/s.ics", false).await,
        Err(Refusal::NotPublic)
    );
    assert_eq!(
        check("http://127.0.0.1:8080/s.ics", false).await,
        Err(Refusal::NotPublic),
        "literals without a lookup"
    );
    assert_eq!(check("https://internal.example/s.ics", true).await, Ok(()));
    assert_eq!(check("https://public.example/s.ics", false).await, Ok(()));
    // The fetch connects only to the public address of a mixed name.
    assert_eq!(check("https://mixed.example/s.ics", false).await, Ok(()));
    // Not resolvable now: left to the fetch, whose resolver checks every connection.
    assert_eq!(check("https://unknown.example/s.ics", false).await, Ok(()));
    assert_eq!(
        *lookup.asked.lock().unwrap(),
        [
            "internal.example",
            "public.example",
            "mixed.example",
            "unknown.example"
        ],
        "one lookup per name, none for literals or when internal addresses are allowed"
    );
}

#[tokio::test(start_paused = true)]
async fn a_lookup_that_hangs_does_not_hold_up_the_organiser() {
    struct Hanging;
    impl Lookup for Hanging {
        fn lookup(&self, _host: String) -> LookupFuture {
            Box::pin(std::future::pending())
        }
    }
    let url = Url::parse("https://slow.example/s.ics").unwrap();

    let checked = check_source(
        &url,
        &AddressRule::new(false),
        &Hanging,
        Duration::from_secs(2),
    )
    .await;

    assert_eq!(checked, Ok(()), "left to the fetch-time guard");
}
