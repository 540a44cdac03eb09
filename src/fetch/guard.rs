//! The server-side request forgery guard: a schedule URL may only reach public unicast
//! addresses, unless the operator allows internal ones (`import.allow_private_addresses`).
//!
//! The check sits where the address is chosen, not where the URL is read: names are resolved
//! by [`GuardedResolver`], which hands reqwest only the addresses that passed, so the address
//! connected to is the address checked (no window for a second, different DNS answer). IP
//! literals never reach a resolver, so [`check_host`] checks them before the first request
//! and [`redirect_policy`] before every redirect hop.

#[cfg(test)]
mod fetch_tests;
#[cfg(test)]
mod tests;

use std::future::Future;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use reqwest::redirect;
use reqwest::Url;

/// Whether `ip` is a public unicast address: not loopback, private, link-local, shared
/// (CGNAT), multicast, broadcast, unspecified, reserved, documentation or benchmarking, and
/// no IPv6 form that embeds or translates to such an IPv4 address.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => is_public_v6(v6),
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    let refused = a == 0 // "this network", 0/8
        || a == 10 // RFC 1918
        || (a == 100 && (64..128).contains(&b)) // shared address space (CGNAT), 100.64/10
        || a == 127 // loopback
        || (a == 169 && b == 254) // link-local, cloud metadata
        || (a == 172 && (16..32).contains(&b)) // RFC 1918
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments, 192.0.0/24
        || (a == 192 && b == 0 && c == 2) // documentation TEST-NET-1
        || (a == 192 && b == 88 && c == 99) // deprecated 6to4 relay anycast
        || (a == 192 && b == 168) // RFC 1918
        || (a == 198 && (b == 18 || b == 19)) // benchmarking, 198.18/15
        || (a == 198 && b == 51 && c == 100) // documentation TEST-NET-2
        || (a == 203 && b == 0 && c == 113) // documentation TEST-NET-3
        || a >= 224; // multicast 224/4, reserved 240/4, broadcast
    !refused
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    let segments = ip.segments();
    // IPv4-mapped (::ffff:a.b.c.d) and the deprecated IPv4-compatible (::a.b.c.d) forms
    // reach the embedded IPv4 address: judge that one.
    if let Some(v4) = ip.to_ipv4_mapped() {
        return is_public_v4(v4);
    }
    if segments[..6].iter().all(|&s| s == 0) {
        // ::, ::1 and ::a.b.c.d; the first two are unspecified and loopback, and ::0.0.0.x
        // lands in 0/8 and is refused with them.
        let v4 = Ipv4Addr::new(
            (segments[6] >> 8) as u8,
            segments[6] as u8,
            (segments[7] >> 8) as u8,
            segments[7] as u8,
        );
        return is_public_v4(v4);
    }
    // Only global unicast, 2000::/3, is public at all; inside it, the special ranges.
    if segments[0] & 0xe000 != 0x2000 {
        // fc00::/7 ULA, fe80::/10 link-local, fec0::/10 site-local, ff00::/8 multicast,
        // 64:ff9b::/96 and 64:ff9b:1::/48 (NAT64: would translate to any IPv4 address,
        // private ones included), 100::/64 discard, and everything unallocated.
        return false;
    }
    // 2001::/23 holds the IETF protocol assignments (Teredo, 2001::/32, among them) and
    // 2001:db8::/32 is documentation.
    let refused = (segments[0] == 0x2001 && (segments[1] < 0x0200 || segments[1] == 0x0db8))
        || segments[0] == 0x2002 // 6to4: tunnels to an embedded IPv4 address (RFC 7526 deprecated it)
        || (segments[0] == 0x3fff && segments[1] < 0x1000); // documentation, 3fff::/20
    !refused
}

/// Which addresses a fetcher may connect to.
#[derive(Debug, Clone, Default)]
pub struct AddressRule {
    /// `import.allow_private_addresses`: every address.
    pub allow_private: bool,
    /// Loopback addresses that tests let stand in for public hosts, so a redirect from an
    /// "allowed" test server to a refused one can be shown without leaving loopback.
    #[cfg(test)]
    pub stand_ins: Vec<IpAddr>,
}

impl AddressRule {
    pub fn new(allow_private: bool) -> Self {
        Self {
            allow_private,
            #[cfg(test)]
            stand_ins: Vec::new(),
        }
    }

    /// Whether `ip` may be connected to.
    pub fn allows(&self, ip: IpAddr) -> bool {
        #[cfg(test)]
        if self.stand_ins.contains(&ip) {
            return true;
        }
        self.allow_private || is_public(ip)
    }
}

/// Why a fetch was refused before connecting. Its Display names no address: it is shown to
/// whoever typed the URL, and echoing what a name resolved to would make a network probe.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// The host is or resolves only to non-public addresses.
    #[error("the address is not a public internet address")]
    NotPublic,
    /// A redirect pointed to a scheme other than http(s).
    #[error("redirected to a {0}: URL")]
    Scheme(String),
    /// Too many redirects.
    #[error("too many redirects")]
    TooManyRedirects,
}

/// Refuses an IP-literal host that is not public (names are checked when they resolve).
pub fn check_host(url: &Url, rule: &AddressRule) -> Result<(), Refusal> {
    // The url crate has already normalised literals (`0x7f.1`, `2130706433` -> 127.0.0.1),
    // and writes IPv6 ones in brackets.
    let Some(ip) = url
        .host_str()
        .map(|host| host.trim_start_matches('[').trim_end_matches(']'))
        .and_then(|host| host.parse::<IpAddr>().ok())
    else {
        return Ok(());
    };
    if rule.allows(ip) {
        Ok(())
    } else {
        Err(Refusal::NotPublic)
    }
}

/// Checks a source URL when an organiser sets it, so a refusal comes at once and with a
/// reason rather than at the first sync: an IP literal as [`check_host`], a name by resolving
/// it now. Only a name that resolves, and to no address the rule allows, is refused; one
/// that does not resolve (yet), or not within `timeout`, is accepted here and left to the
/// fetch, whose resolver applies the same rule to every connection it makes.
pub async fn check_source(
    url: &Url,
    rule: &AddressRule,
    lookup: &dyn Lookup,
    timeout: std::time::Duration,
) -> Result<(), Refusal> {
    check_host(url, rule)?;
    // IPv6 literals come in brackets, and IPv4 ones were checked above.
    let Some(name) = url.host_str().filter(|host| {
        !rule.allow_private && !host.starts_with('[') && host.parse::<IpAddr>().is_err()
    }) else {
        return Ok(());
    };
    match tokio::time::timeout(timeout, lookup.lookup(name.to_owned())).await {
        Ok(Ok(found)) if !found.is_empty() && !found.iter().any(|&ip| rule.allows(ip)) => {
            Err(Refusal::NotPublic)
        }
        _ => Ok(()),
    }
}

/// Follows at most `max` redirects, each to http(s) and to no IP-literal host the rule
/// refuses (names are checked by the resolver when the hop connects).
pub fn redirect_policy(max: usize, rule: AddressRule) -> redirect::Policy {
    redirect::Policy::custom(move |attempt| {
        let next = attempt.url();
        let refusal = if !matches!(next.scheme(), "http" | "https") {
            Some(Refusal::Scheme(next.scheme().to_owned()))
        } else if attempt.previous().len() > max {
            Some(Refusal::TooManyRedirects)
        } else {
            check_host(next, &rule).err()
        };
        match refusal {
            Some(refusal) => attempt.error(refusal),
            None => attempt.follow(),
        }
    })
}

/// A future of resolved addresses.
pub type LookupFuture = Pin<Box<dyn Future<Output = io::Result<Vec<IpAddr>>> + Send>>;

/// Name resolution, behind a trait so tests can point any name at 127.0.0.1 (or record
/// what would have been dialled) without touching the network.
pub trait Lookup: Send + Sync + 'static {
    /// The addresses `host` resolves to.
    fn lookup(&self, host: String) -> LookupFuture;
}

/// The system resolver (getaddrinfo through tokio).
#[derive(Debug, Clone, Copy)]
pub struct SystemLookup;

impl Lookup for SystemLookup {
    fn lookup(&self, host: String) -> LookupFuture {
        Box::pin(async move {
            let addrs = tokio::net::lookup_host((host.as_str(), 0)).await?;
            Ok(addrs.map(|addr| addr.ip()).collect())
        })
    }
}

/// Resolves through a [`Lookup`] and passes on only the addresses the guard accepts.
#[derive(Clone)]
pub struct GuardedResolver {
    lookup: Arc<dyn Lookup>,
    rule: AddressRule,
}

impl GuardedResolver {
    pub fn new(lookup: Arc<dyn Lookup>, rule: AddressRule) -> Self {
        Self { lookup, rule }
    }

    /// The addresses of `host` that may be connected to; [`Refusal::NotPublic`] when it
    /// resolves, but to no public address.
    pub async fn resolve_checked(&self, host: &str) -> Result<Vec<IpAddr>, ResolveError> {
        let found = self
            .lookup
            .lookup(host.to_owned())
            .await
            .map_err(ResolveError::Lookup)?;
        let allowed: Vec<IpAddr> = found
            .iter()
            .copied()
            .filter(|&ip| self.rule.allows(ip))
            .collect();
        if allowed.is_empty() && !found.is_empty() {
            return Err(ResolveError::Refused(Refusal::NotPublic));
        }
        Ok(allowed)
    }
}

/// Why a name gave no address to connect to.
#[derive(Debug, thiserror::Error)]
pub enum ResolveError {
    #[error(transparent)]
    Refused(Refusal),
    #[error("the name could not be resolved: {0}")]
    Lookup(io::Error),
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let this = self.clone();
        Box::pin(async move {
            let ips = match this.resolve_checked(name.as_str()).await {
                Ok(ips) => ips,
                // Unwrapped so the fetcher finds the Refusal in the error's source chain.
                Err(ResolveError::Refused(refusal)) => return Err(refusal.into()),
                Err(error) => return Err(error.into()),
            };
            // Port 0: reqwest puts in the URL's port (or the scheme's default).
            let addrs: Addrs = Box::new(ips.into_iter().map(|ip| SocketAddr::new(ip, 0)));
            Ok(addrs)
        })
    }
}

/// The [`Refusal`] somewhere in an error's source chain, if any.
pub fn find_refusal(error: &(dyn std::error::Error + 'static)) -> Option<Refusal> {
    let mut next = Some(error);
    while let Some(error) = next {
        if let Some(refusal) = error.downcast_ref::<Refusal>() {
            return Some(refusal.clone());
        }
        next = error.source();
    }
    None
}
