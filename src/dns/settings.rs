//! The `dns:` section: whether the checks that need the network run, and how the
//! resolver behind them asks (which servers, the deadline per message, the bound on
//! lookups, the cache). Read by the CLI and the daemons; the engine only sees answers.

use std::net::SocketAddr;

use serde::{Deserialize, Serialize};

/// How the checks that need DNS are run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DnsConfig {
    /// Run the checks that need DNS (`preflight check --online` turns them on for one
    /// run). Off by default: nothing leaves the machine, and reports list those checks
    /// as not checked.
    pub enabled: bool,
    /// The recursive resolvers to ask, as `IP` or `IP:PORT` (`[IPv6]:PORT`); empty: the
    /// system's (`/etc/resolv.conf`). Blocklists refuse queries that come through big
    /// public resolvers, so a local resolver (unbound, or the MTA host's) is best.
    pub nameservers: Vec<String>,
    /// The time all of one message's lookups may take, in milliseconds. A check whose
    /// answer has not come by then is reported as not checked, never as failed.
    pub timeout_ms: u64,
    /// The most lookups one message may cause; later ones are not made (their checks are
    /// reported as not checked).
    pub max_lookups: usize,
    /// How many answers the cache keeps (positive and negative, each for its TTL).
    pub cache_size: u64,
}

impl Default for DnsConfig {
    fn default() -> Self {
        DnsConfig {
            enabled: false,
            nameservers: Vec::new(),
            timeout_ms: 2000,
            max_lookups: 60,
            cache_size: 8192,
        }
    }
}

impl DnsConfig {
    /// The resolvers' socket addresses (port 53 when none is given), or why one is not
    /// an address.
    pub fn nameserver_addrs(&self) -> Result<Vec<SocketAddr>, String> {
        self.nameservers
            .iter()
            .map(|s| {
                let s = s.trim();
                s.parse::<SocketAddr>()
                    .or_else(|_| {
                        s.parse::<std::net::IpAddr>()
                            .map(|ip| SocketAddr::new(ip, 53))
                    })
                    .or_else(|_| {
                        // `[::1]` without a port.
                        s.strip_prefix('[')
                            .and_then(|r| r.strip_suffix(']'))
                            .and_then(|ip| ip.parse::<std::net::IpAddr>().ok())
                            .map(|ip| SocketAddr::new(ip, 53))
                            .ok_or(())
                    })
                    .map_err(|_| format!("`{s}` is not an IP address or IP:PORT"))
            })
            .collect()
    }

    /// Checks the section beyond its types.
    pub(crate) fn check(&self) -> Result<(), String> {
        self.nameserver_addrs()
            .map_err(|why| format!("nameservers: {why}"))?;
        if self.timeout_ms == 0 || self.timeout_ms > 60_000 {
            return Err(format!(
                "timeout_ms: {} is outside 1..=60000 (the deadline for one message's lookups)",
                self.timeout_ms
            ));
        }
        if self.max_lookups == 0 {
            return Err("max_lookups: 0 would make every DNS check not checked; set dns.enabled: false instead".into());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nameservers_take_ports_and_default_to_53() {
        let c = DnsConfig {
            nameservers: vec![
                "127.0.0.1:5353".into(),
                "192.0.2.1".into(),
                "[::1]:53".into(),
                "[2001:db8::1]".into(),
            ],
            ..DnsConfig::default()
        };
        let a = c.nameserver_addrs().unwrap();
        assert_eq!(a[0].port(), 5353);
        assert_eq!(a[1].port(), 53);
        assert_eq!(a[2].port(), 53);
        assert_eq!(a[3].to_string(), "[2001:db8::1]:53");
        let bad = DnsConfig {
            nameservers: vec!["resolver.example".into()],
            ..DnsConfig::default()
        };
        assert!(bad.check().unwrap_err().contains("resolver.example"));
    }
}
