//! Engine API versions: parsing, ordering and display of `major.minor` numbers.

use std::fmt;
use std::str::FromStr;

/// An Engine API version such as `1.41`.
///
/// Ordered numerically (`1.9 < 1.41`), displayed as `1.41`, parsed from `"1.41"` or `"v1.41"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ApiVersion {
    /// The major number (always 1 so far).
    pub major: u16,
    /// The minor number.
    pub minor: u16,
}

impl ApiVersion {
    /// A version from its two numbers.
    ///
    /// ```
    /// let v = dockhand::ApiVersion::new(1, 41);
    /// assert_eq!(v.to_string(), "1.41");
    /// ```
    pub const fn new(major: u16, minor: u16) -> Self {
        ApiVersion { major, minor }
    }

    /// The oldest version whose specification the generated code was built from.
    pub const OLDEST_SPEC: ApiVersion = ApiVersion::new(1, 25);

    /// The newest version this crate knows; negotiation never goes above it.
    pub const NEWEST: ApiVersion = crate::operations::NEWEST_API_VERSION;

    /// Whether a daemon speaking this version has something that first
    /// appeared in `since`.
    ///
    /// The version history starts at [`ApiVersion::OLDEST_SPEC`], so a
    /// `since` of that version means "that version or older": a client pinned
    /// at 1.24, or a daemon that sends no `Api-Version` header (the CLI then
    /// assumes 1.24), may use everything the oldest specification has.
    ///
    /// ```
    /// use dockhand::ApiVersion;
    /// let v124 = ApiVersion::new(1, 24);
    /// assert!(v124.supports(ApiVersion::OLDEST_SPEC));
    /// assert!(!v124.supports(ApiVersion::new(1, 26)));
    /// assert!(ApiVersion::new(1, 41).supports(ApiVersion::new(1, 41)));
    /// assert!(!ApiVersion::new(1, 41).supports(ApiVersion::new(1, 42)));
    /// ```
    pub const fn supports(self, since: ApiVersion) -> bool {
        let floor = Self::OLDEST_SPEC;
        let at_floor = since.major < floor.major
            || (since.major == floor.major && since.minor <= floor.minor);
        at_floor
            || self.major > since.major
            || (self.major == since.major && self.minor >= since.minor)
    }
}

impl fmt::Display for ApiVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

/// The error returned when a string is not a `major.minor` API version.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid API version {input:?}: expected MAJOR.MINOR such as 1.41")]
pub struct ParseApiVersionError {
    input: String,
}

impl FromStr for ApiVersion {
    type Err = ParseApiVersionError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || ParseApiVersionError {
            input: s.to_owned(),
        };
        let t = s.trim();
        let t = t.strip_prefix('v').unwrap_or(t);
        let (maj, min) = t.split_once('.').ok_or_else(err)?;
        let digits =
            |p: &str| !p.is_empty() && p.len() <= 5 && p.bytes().all(|b| b.is_ascii_digit());
        if !digits(maj) || !digits(min) {
            return Err(err());
        }
        Ok(ApiVersion {
            major: maj.parse().map_err(|_| err())?,
            minor: min.parse().map_err(|_| err())?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_order_display() {
        let a: ApiVersion = "1.9".parse().unwrap();
        let b: ApiVersion = "v1.41".parse().unwrap();
        assert!(a < b);
        assert_eq!(b.to_string(), "1.41");
        for bad in ["", "1", "1.", ".1", "1.x", "1.41.2", "-1.2", "1.999999"] {
            assert!(bad.parse::<ApiVersion>().is_err(), "{bad:?} parsed");
        }
    }
}
