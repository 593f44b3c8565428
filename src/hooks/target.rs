//! Where a destination may be: the SSRF guard of every outgoing call.
//!
//! Only `http` and `https` URLs without credentials. The host is resolved
//! and every address it resolves to must be public (not loopback, private,
//! link-local, shared, unspecified, multicast, broadcast or documentation),
//! unless `webhooks.allow_private_targets` says otherwise; the connection is
//! then made to the address that was checked (pinned), so a DNS answer that
//! changes between the check and the connection cannot redirect it.
//! Redirects are not followed.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use url::Url;

/// Why a destination is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refused {
    /// Not an absolute http(s) URL with a host, or with credentials in it.
    BadUrl(&'static str),
    /// The host does not resolve (or not in time).
    Unresolved(String),
    /// It resolves to an address the guard forbids.
    Forbidden(IpAddr),
}

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refused::BadUrl(why) => write!(f, "{why}"),
            Refused::Unresolved(why) => write!(f, "the host does not resolve: {why}"),
            Refused::Forbidden(ip) => write!(
                f,
                "the host resolves to {ip}, a loopback, private, link-local or otherwise non-public address"
            ),
        }
    }
}

/// A URL's form, before any lookup.
pub fn parse(url: &str) -> Result<Url, Refused> {
    let u = Url::parse(url.trim()).map_err(|_| Refused::BadUrl("not an absolute URL"))?;
    if u.scheme() != "http" && u.scheme() != "https" {
        return Err(Refused::BadUrl("only http and https URLs"));
    }
    if !u.username().is_empty() || u.password().is_some() {
        return Err(Refused::BadUrl("no credentials in the URL"));
    }
    if u.host().is_none() {
        return Err(Refused::BadUrl("the URL has no host"));
    }
    Ok(u)
}

/// Whether an address is public enough to call.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public_v4(v4);
            }
            let seg = v6.segments();
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                // fc00::/7 unique local, fe80::/10 link-local
                || (seg[0] & 0xfe00) == 0xfc00
                || (seg[0] & 0xffc0) == 0xfe80
                // 2001:db8::/32 documentation, 64:ff9b:1::/48 local NAT64
                || (seg[0] == 0x2001 && seg[1] == 0x0db8)
                || (seg[0] == 0x0064 && seg[1] == 0xff9b && seg[2] == 1)
                // ::ffff:0:0/96 handled above; ::/96 IPv4-compatible
                || (seg[..6] == [0, 0, 0, 0, 0, 0]))
        }
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let o = ip.octets();
    !(ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || o[0] == 0
        // 100.64.0.0/10 shared address space (carrier-grade NAT)
        || (o[0] == 100 && (o[1] & 0xc0) == 64)
        // 192.0.0.0/24 protocol assignments, 198.18.0.0/15 benchmarking
        || (o[0] == 192 && o[1] == 0 && o[2] == 0)
        || (o[0] == 198 && (o[1] & 0xfe) == 18)
        // 240.0.0.0/4 reserved
        || o[0] >= 240)
}

/// A checked destination: the URL and the address to connect to.
#[derive(Debug, Clone)]
pub struct Target {
    pub url: Url,
    pub host: String,
    pub addr: SocketAddr,
}

/// Parse, resolve (within `timeout`) and check a destination.
pub async fn check(url: &str, allow_private: bool, timeout: Duration) -> Result<Target, Refused> {
    let u = parse(url)?;
    let port = u
        .port_or_known_default()
        .ok_or(Refused::BadUrl("the URL has no port"))?;
    let host = u.host_str().unwrap_or_default().to_string();
    let literal = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .parse::<IpAddr>()
        .ok();
    let addrs: Vec<SocketAddr> = match literal {
        Some(ip) => vec![SocketAddr::new(ip, port)],
        None => tokio::time::timeout(timeout, tokio::net::lookup_host((host.as_str(), port)))
            .await
            .map_err(|_| Refused::Unresolved("timed out".into()))?
            .map_err(|e| Refused::Unresolved(e.to_string()))?
            .collect(),
    };
    if addrs.is_empty() {
        return Err(Refused::Unresolved("no address".into()));
    }
    if !allow_private && let Some(bad) = addrs.iter().find(|a| !is_public(a.ip())) {
        // Every address must pass: a host with one public and one private
        // address would otherwise be a way in.
        return Err(Refused::Forbidden(bad.ip()));
    }
    Ok(Target {
        url: u,
        host,
        addr: addrs[0],
    })
}

/// An HTTP client bound to the checked address, with `timeout` on the whole
/// call, no redirects and no proxy.
pub fn client(target: &Target, timeout: Duration) -> reqwest::Result<reqwest::Client> {
    let mut b = reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(timeout)
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .user_agent(concat!("Erratum-Webhooks/", env!("CARGO_PKG_VERSION")));
    if target.host.parse::<IpAddr>().is_err() && !target.host.starts_with('[') {
        b = b.resolve(&target.host, target.addr);
    }
    b.build()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_and_special_addresses_are_not_public() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "255.255.255.255",
            "224.0.0.1",
            "::1",
            "::",
            "fe80::1",
            "fd00::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
        ] {
            assert!(!is_public(ip.parse().unwrap()), "{ip}");
        }
        for ip in ["93.184.215.14", "1.1.1.1", "2606:4700:4700::1111"] {
            assert!(is_public(ip.parse().unwrap()), "{ip}");
        }
    }

    #[test]
    fn only_http_urls_without_credentials() {
        assert!(parse("https://hooks.example/x").is_ok());
        assert!(parse("ftp://hooks.example/x").is_err());
        assert!(parse("file:///etc/passwd").is_err());
        assert!(parse("https://u:p@hooks.example/").is_err());
        assert!(parse("/relative").is_err());
    }

    #[tokio::test]
    async fn loopback_is_refused_after_resolution_unless_allowed() {
        let t = Duration::from_secs(5);
        for url in [
            "http://localhost:9/",
            "http://127.0.0.1:9/",
            "http://[::1]:9/",
        ] {
            assert!(
                matches!(check(url, false, t).await, Err(Refused::Forbidden(_))),
                "{url}"
            );
        }
        let ok = check("http://127.0.0.1:9/", true, t).await.unwrap();
        assert_eq!(ok.addr.port(), 9);
    }
}
