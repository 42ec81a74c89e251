//! The address policy (SSRF guard): which addresses tidings may connect to. Targets the owner
//! named (a feed's URL, a webhook URL) are trusted at exactly that host and port; everything
//! reached from content (article links, redirects to other hosts) must resolve to public
//! addresses, checked after DNS at connect time, unless the config allows more.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

/// Extra hosts and networks the owner allows for content-chosen URLs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AddressPolicy {
    /// Host names (lower case) allowed whatever they resolve to.
    pub allow_hosts: Vec<String>,
    /// Networks allowed besides the public internet: (network address, prefix length).
    pub allow_cidrs: Vec<(IpAddr, u8)>,
}

impl AddressPolicy {
    /// Parses `a.b.c.d/n` or `x::/n` (a bare address is a /32 or /128).
    pub fn parse_cidr(text: &str) -> Result<(IpAddr, u8), String> {
        let (addr, len) = match text.split_once('/') {
            Some((a, l)) => (a, Some(l)),
            None => (text, None),
        };
        let ip: IpAddr = addr
            .trim()
            .parse()
            .map_err(|_| format!("`{text}` is not an address or CIDR range"))?;
        let max = if ip.is_ipv4() { 32 } else { 128 };
        let len = match len {
            Some(l) => l
                .trim()
                .parse::<u8>()
                .ok()
                .filter(|l| *l <= max)
                .ok_or_else(|| format!("`{text}`: prefix length must be 0..={max}"))?,
            None => max,
        };
        Ok((ip, len))
    }

    /// May a content-chosen connection go to `ip`?
    pub fn allows_ip(&self, ip: IpAddr) -> bool {
        is_public(ip)
            || self
                .allow_cidrs
                .iter()
                .any(|(net, len)| in_network(ip, *net, *len))
    }

    pub fn allows_host(&self, host: &str) -> bool {
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        self.allow_hosts.contains(&host)
    }

    /// The reason `url` may not be fetched as content-chosen, judged before DNS: scheme, and IP
    /// literals (including forms like `0x7f000001` and `[::ffff:127.0.0.1]`, which the URL
    /// parser already turned into addresses).
    pub fn refuse_url(&self, url: &url::Url) -> Option<String> {
        if !matches!(url.scheme(), "http" | "https") {
            return Some(format!("scheme `{}` is not http or https", url.scheme()));
        }
        match url.host() {
            Some(url::Host::Ipv4(ip)) if !self.allows_ip(IpAddr::V4(ip)) => {
                Some(format!("{ip} is not a public address"))
            }
            Some(url::Host::Ipv6(ip)) if !self.allows_ip(IpAddr::V6(ip)) => {
                Some(format!("{ip} is not a public address"))
            }
            None => Some("the URL has no host".into()),
            _ => None,
        }
    }
}

/// True for addresses on the public internet: not loopback, private (RFC 1918, fc00::/7),
/// link-local, CGNAT, NAT64, multicast, broadcast, unspecified, documentation, benchmarking or
/// reserved; IPv4-mapped and -compatible IPv6 forms are judged by their IPv4 address.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => is_public_v6(v6),
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_multicast()
        || ip.is_broadcast()
        || ip.is_documentation()
        || a == 0
        || (a == 100 && (64..128).contains(&b)) // CGNAT 100.64.0.0/10
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments 192.0.0.0/24
        || (a == 198 && (b == 18 || b == 19)) // benchmarking 198.18.0.0/15
        || a >= 240) // reserved 240.0.0.0/4
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return is_public_v4(v4);
    }
    let seg = ip.segments();
    // IPv4-compatible ::a.b.c.d (deprecated) is judged by its IPv4 address.
    if seg[..6].iter().all(|s| *s == 0) && !ip.is_loopback() && !ip.is_unspecified() {
        return is_public_v4(Ipv4Addr::new(
            (seg[6] >> 8) as u8,
            seg[6] as u8,
            (seg[7] >> 8) as u8,
            seg[7] as u8,
        ));
    }
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_multicast()
        || (seg[0] & 0xfe00) == 0xfc00 // unique local fc00::/7
        || (seg[0] & 0xffc0) == 0xfe80 // link-local fe80::/10
        || (seg[0] & 0xffc0) == 0xfec0 // site-local fec0::/10 (deprecated)
        || (seg[0] == 0x64 && seg[1] == 0xff9b) // NAT64 64:ff9b::/96 and 64:ff9b:1::/48
        || (seg[0] == 0x2001 && seg[1] == 0x0db8) // documentation 2001:db8::/32
        || (seg[0] == 0x2001 && seg[1] < 0x0200) // IETF protocol assignments 2001::/23 (incl. Teredo)
        || seg[0] == 0x2002) // 6to4: embeds an IPv4 address we cannot vouch for
}

fn in_network(ip: IpAddr, net: IpAddr, len: u8) -> bool {
    match (ip, net) {
        (IpAddr::V4(ip), IpAddr::V4(net)) => {
            let mask = if len == 0 {
                0
            } else {
                u32::MAX << (32 - u32::from(len))
            };
            u32::from(ip) & mask == u32::from(net) & mask
        }
        (IpAddr::V6(ip), IpAddr::V6(net)) => {
            let mask = if len == 0 {
                0
            } else {
                u128::MAX << (128 - u32::from(len))
            };
            u128::from(ip) & mask == u128::from(net) & mask
        }
        (IpAddr::V6(ip), IpAddr::V4(_)) => ip
            .to_ipv4_mapped()
            .is_some_and(|v4| in_network(IpAddr::V4(v4), net, len)),
        _ => false,
    }
}

/// A DNS resolver that drops addresses the policy refuses, so a content-chosen host name that
/// resolves to a private address is refused at connect time (no DNS rebinding window).
pub struct GuardedResolver {
    pub policy: Arc<AddressPolicy>,
}

impl reqwest::dns::Resolve for GuardedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let policy = self.policy.clone();
        let host = name.as_str().to_string();
        Box::pin(async move {
            let addrs: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            if policy.allows_host(&host) {
                return Ok(Box::new(addrs.into_iter()) as reqwest::dns::Addrs);
            }
            let allowed: Vec<SocketAddr> = addrs
                .iter()
                .copied()
                .filter(|a| policy.allows_ip(a.ip()))
                .collect();
            if allowed.is_empty() {
                let shown: Vec<String> = addrs.iter().map(|a| a.ip().to_string()).collect();
                return Err(format!(
                    "address policy: {host} resolves only to non-public addresses ({})",
                    shown.join(", ")
                )
                .into());
            }
            Ok(Box::new(allowed.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn non_public_ranges_are_refused() {
        for bad in [
            "127.0.0.1",
            "10.0.0.1",
            "172.16.5.4",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "224.0.0.1",
            "192.0.2.1",
            "198.51.100.7",
            "203.0.113.9",
            "198.18.0.1",
            "240.0.0.1",
            "::1",
            "::",
            "fc00::1",
            "fd12::1",
            "fe80::1",
            "ff02::1",
            "64:ff9b::7f00:1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "::127.0.0.1",
            "2001:db8::1",
        ] {
            assert!(!is_public(ip(bad)), "{bad} counted as public");
        }
        for good in [
            "93.184.216.34",
            "8.8.8.8",
            "2606:4700::1111",
            "::ffff:93.184.216.34",
            "1.1.1.1",
        ] {
            assert!(is_public(ip(good)), "{good} counted as private");
        }
    }

    #[test]
    fn url_literals_in_any_form_are_judged() {
        let policy = AddressPolicy::default();
        for bad in [
            "http://127.0.0.1:9/x",
            "http://0x7f000001/",
            "http://2130706433/",
            "http://[::1]/",
            "http://[::ffff:127.0.0.1]/",
            "http://10.0.0.1/",
            "http://169.254.169.254/latest/meta-data/",
            "ftp://example.org/",
            "file:///etc/passwd",
        ] {
            let url = url::Url::parse(bad).unwrap();
            assert!(policy.refuse_url(&url).is_some(), "{bad} was allowed");
        }
        assert!(
            policy
                .refuse_url(&url::Url::parse("https://example.org/a").unwrap())
                .is_none()
        );
    }

    #[test]
    fn the_config_can_allow_more() {
        let policy = AddressPolicy {
            allow_hosts: vec!["intranet.local".into()],
            allow_cidrs: vec![AddressPolicy::parse_cidr("10.1.0.0/16").unwrap()],
        };
        assert!(policy.allows_ip(ip("10.1.2.3")));
        assert!(!policy.allows_ip(ip("10.2.0.1")));
        assert!(policy.allows_host("Intranet.Local."));
        assert!(AddressPolicy::parse_cidr("10.0.0.0/33").is_err());
        assert!(AddressPolicy::parse_cidr("nonsense").is_err());
    }
}
