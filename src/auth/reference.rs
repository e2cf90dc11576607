//! Image references (`[host[:port]/]path[:tag][@digest]`) and the registry
//! each one lives in, normalised the way the docker CLI does it.

use crate::{Error, Result};
use std::fmt;

/// The key Docker Hub's credentials are stored under in `config.json` (and
/// the server address the docker CLI sends for it).
pub const DOCKER_HUB_AUTH_KEY: &str = "https://index.docker.io/v1/";

/// Docker Hub's registry name, as the daemon reports it.
pub const DOCKER_HUB_REGISTRY: &str = "docker.io";

/// Host names that all mean Docker Hub.
const HUB_HOSTS: [&str; 3] = ["docker.io", "index.docker.io", "registry-1.docker.io"];

/// The longest repository name (host and path) the reference grammar allows.
const NAME_MAX: usize = 255;

/// A parsed image reference: where the image lives, its repository, and the
/// tag or digest that picks one image.
///
/// Normalisation follows the docker CLI:
/// - without a registry host, the image is on Docker Hub;
/// - the first `/`-separated part is a host only when it contains `.` or
///   `:`, is `localhost`, or has upper-case letters (repository paths are
///   lower case): `localhost:5000/app` is on `localhost:5000`,
///   `team/app` is `team/app` on Docker Hub;
/// - `docker.io`, `index.docker.io` and `registry-1.docker.io` all name Docker
///   Hub, whose credentials are kept under [`DOCKER_HUB_AUTH_KEY`];
/// - a digest (`@sha256:…`) picks the image even when a tag is given too.
///
/// ```
/// use dockhand::auth::ImageReference;
/// let r = ImageReference::parse("localhost:5000/team/app:1.2")?;
/// assert_eq!(r.registry(), "localhost:5000");
/// assert_eq!(r.auth_key(), "localhost:5000");
/// assert_eq!(r.repository(), "team/app");
/// assert_eq!(r.tag(), Some("1.2"));
///
/// let hub = ImageReference::parse("busybox")?;
/// assert_eq!(hub.registry(), "docker.io");
/// assert_eq!(hub.auth_key(), "https://index.docker.io/v1/");
/// assert_eq!(hub.repository(), "library/busybox");
/// assert_eq!(hub.tag_or_digest(), "latest");
/// # Ok::<(), dockhand::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ImageReference {
    /// The name as written, without tag and digest (`busybox`, `localhost:5000/app`).
    name: String,
    /// The host as written, when the name has one.
    host: Option<String>,
    /// The path after the host.
    path: String,
    tag: Option<String>,
    digest: Option<String>,
}

impl ImageReference {
    /// Parses a reference, rejecting what the daemon would reject: an empty
    /// or upper-case repository path, a bad tag or digest, spaces, control
    /// characters.
    ///
    /// ```
    /// use dockhand::auth::ImageReference;
    /// let r = ImageReference::parse("127.0.0.1:5001/app@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")?;
    /// assert_eq!(r.registry(), "127.0.0.1:5001");
    /// assert!(r.digest().is_some());
    /// assert!(ImageReference::parse("Busybox").is_err());
    /// # Ok::<(), dockhand::Error>(())
    /// ```
    pub fn parse(reference: &str) -> Result<ImageReference> {
        let fail = |why: &str| Error::InvalidArgument {
            name: "reference",
            message: format!("{reference:?} is not a valid image reference: {why}"),
        };
        if reference.is_empty() {
            return Err(fail("it is empty"));
        }
        if reference
            .chars()
            .any(|c| c.is_whitespace() || c.is_control())
        {
            return Err(fail("it contains white space or a control character"));
        }
        let (name_tag, digest) = match reference.split_once('@') {
            Some((n, d)) => {
                check_digest(d).map_err(|why| fail(&why))?;
                (n, Some(d.to_owned()))
            }
            None => (reference, None),
        };
        let last_slash = name_tag.rfind('/');
        let (name, tag) = match name_tag.rfind(':') {
            Some(colon) if last_slash.is_none_or(|s| colon > s) => {
                let tag = &name_tag[colon + 1..];
                check_tag(tag).map_err(|why| fail(&why))?;
                (&name_tag[..colon], Some(tag.to_owned()))
            }
            _ => (name_tag, None),
        };
        if name.is_empty() {
            return Err(fail("the repository name is empty"));
        }
        if name.len() > NAME_MAX {
            return Err(fail("the repository name is longer than 255 characters"));
        }
        let (host, path) = match name.split_once('/') {
            Some((first, rest))
                if first.contains(['.', ':'])
                    || first == "localhost"
                    || first.chars().any(|c| c.is_ascii_uppercase()) =>
            {
                check_host(first).map_err(|why| fail(&why))?;
                (Some(first.to_owned()), rest)
            }
            _ => (None, name),
        };
        check_path(path).map_err(|why| fail(&why))?;
        Ok(ImageReference {
            name: name.to_owned(),
            host,
            path: path.to_owned(),
            tag,
            digest,
        })
    }

    /// True when the image is on Docker Hub.
    ///
    /// ```
    /// use dockhand::auth::ImageReference;
    /// assert!(ImageReference::parse("index.docker.io/library/busybox")?.is_docker_hub());
    /// # Ok::<(), dockhand::Error>(())
    /// ```
    pub fn is_docker_hub(&self) -> bool {
        self.host.as_deref().is_none_or(is_hub_host)
    }

    /// The registry host (with its port): `docker.io` for Docker Hub in any
    /// of its spellings, else the host as written.
    ///
    /// ```
    /// use dockhand::auth::ImageReference;
    /// assert_eq!(ImageReference::parse("team/app")?.registry(), "docker.io");
    /// # Ok::<(), dockhand::Error>(())
    /// ```
    pub fn registry(&self) -> &str {
        match &self.host {
            Some(h) if !is_hub_host(h) => h,
            _ => DOCKER_HUB_REGISTRY,
        }
    }

    /// The key the registry's credentials are looked up under, and the
    /// server address sent with them: [`DOCKER_HUB_AUTH_KEY`] for Docker Hub,
    /// else the registry host.
    ///
    /// ```
    /// use dockhand::auth::ImageReference;
    /// assert_eq!(ImageReference::parse("docker.io/team/app")?.auth_key(), "https://index.docker.io/v1/");
    /// # Ok::<(), dockhand::Error>(())
    /// ```
    pub fn auth_key(&self) -> &str {
        if self.is_docker_hub() {
            DOCKER_HUB_AUTH_KEY
        } else {
            self.registry()
        }
    }

    /// The name as written, without tag and digest: what a pull sends as
    /// `fromImage` (the daemon applies the same normalisation).
    ///
    /// ```
    /// use dockhand::auth::ImageReference;
    /// assert_eq!(ImageReference::parse("localhost:5000/app:1")?.name(), "localhost:5000/app");
    /// # Ok::<(), dockhand::Error>(())
    /// ```
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The repository path within the registry; official Docker Hub images
    /// get their implicit `library/` prefix.
    ///
    /// ```
    /// use dockhand::auth::ImageReference;
    /// assert_eq!(ImageReference::parse("busybox:1")?.repository(), "library/busybox");
    /// # Ok::<(), dockhand::Error>(())
    /// ```
    pub fn repository(&self) -> String {
        if self.is_docker_hub() && !self.path.contains('/') {
            format!("library/{}", self.path)
        } else {
            self.path.clone()
        }
    }

    /// The tag, when one was written.
    ///
    /// ```
    /// use dockhand::auth::ImageReference;
    /// assert_eq!(ImageReference::parse("busybox")?.tag(), None);
    /// # Ok::<(), dockhand::Error>(())
    /// ```
    pub fn tag(&self) -> Option<&str> {
        self.tag.as_deref()
    }

    /// The digest (`sha256:…`), when one was written.
    ///
    /// ```
    /// use dockhand::auth::ImageReference;
    /// assert_eq!(ImageReference::parse("busybox:1")?.digest(), None);
    /// # Ok::<(), dockhand::Error>(())
    /// ```
    pub fn digest(&self) -> Option<&str> {
        self.digest.as_deref()
    }

    /// What picks the image within its repository, as a pull sends it in
    /// `tag`: the digest when there is one, else the tag, else `latest`.
    ///
    /// ```
    /// use dockhand::auth::ImageReference;
    /// assert_eq!(ImageReference::parse("app:2")?.tag_or_digest(), "2");
    /// # Ok::<(), dockhand::Error>(())
    /// ```
    pub fn tag_or_digest(&self) -> &str {
        self.digest
            .as_deref()
            .or(self.tag.as_deref())
            .unwrap_or("latest")
    }
}

impl fmt::Display for ImageReference {
    /// The reference as written (name, `:tag`, `@digest`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)?;
        if let Some(t) = &self.tag {
            write!(f, ":{t}")?;
        }
        if let Some(d) = &self.digest {
            write!(f, "@{d}")?;
        }
        Ok(())
    }
}

impl std::str::FromStr for ImageReference {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        ImageReference::parse(s)
    }
}

fn is_hub_host(host: &str) -> bool {
    HUB_HOSTS.iter().any(|h| h.eq_ignore_ascii_case(host))
}

/// The host a `config.json` key names, the way the docker CLI compares them:
/// a scheme and anything from the first `/` on are dropped
/// (`https://registry.example.com/v1/` → `registry.example.com`), and every
/// Docker Hub spelling becomes `docker.io`.
pub(crate) fn key_host(key: &str) -> String {
    let rest = ["https://", "http://"]
        .iter()
        .find_map(|p| {
            key.get(..p.len())
                .filter(|s| s.eq_ignore_ascii_case(p))
                .map(|_| &key[p.len()..])
        })
        .unwrap_or(key);
    let host = rest.split('/').next().unwrap_or_default();
    if is_hub_host(host) {
        DOCKER_HUB_REGISTRY.to_owned()
    } else {
        host.to_ascii_lowercase()
    }
}

/// `[\w][\w.-]{0,127}`.
fn check_tag(tag: &str) -> std::result::Result<(), String> {
    let mut chars = tag.chars();
    let ok_first = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_');
    if !ok_first
        || tag.len() > 128
        || !chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
    {
        return Err(format!(
            "the tag {tag:?} must be 1 to 128 letters, digits, `_`, `.` or `-`, not starting with `.` or `-`"
        ));
    }
    Ok(())
}

/// `algorithm:encoded`; `sha256` digests are 64 lower-case hex digits.
pub(crate) fn check_digest(digest: &str) -> std::result::Result<(), String> {
    let bad = || format!("the digest {digest:?} is not of the form algorithm:hex");
    let (alg, enc) = digest.split_once(':').ok_or_else(bad)?;
    let alg_ok = !alg.is_empty()
        && alg.chars().all(|c| {
            c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '+' | '.' | '_' | '-')
        });
    let enc_ok = !enc.is_empty()
        && enc
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '=' | '_' | '-'));
    if !alg_ok || !enc_ok {
        return Err(bad());
    }
    if alg == "sha256"
        && (enc.len() != 64
            || !enc
                .chars()
                .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c)))
    {
        return Err(format!(
            "the digest {digest:?} must have 64 lower-case hex digits after sha256:"
        ));
    }
    Ok(())
}

/// A host name or IP address with an optional port; IPv6 in brackets.
fn check_host(host: &str) -> std::result::Result<(), String> {
    let bad = |why: &str| format!("the registry host {host:?} {why}");
    let (name, port) = if let Some(inner) = host.strip_prefix('[') {
        let (addr, after) = inner
            .split_once(']')
            .ok_or_else(|| bad("has an unclosed `[`"))?;
        if addr.is_empty() || !addr.chars().all(|c| c.is_ascii_hexdigit() || c == ':') {
            return Err(bad("is not a valid IPv6 address"));
        }
        let port = match after {
            "" => None,
            p => Some(
                p.strip_prefix(':')
                    .ok_or_else(|| bad("has text after `]`"))?,
            ),
        };
        (None, port)
    } else {
        match host.split_once(':') {
            Some((n, p)) => (Some(n), Some(p)),
            None => (Some(host), None),
        }
    };
    if let Some(n) = name {
        let label_ok = |l: &str| {
            !l.is_empty()
                && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                && !l.starts_with('-')
                && !l.ends_with('-')
        };
        if !n.split('.').all(label_ok) {
            return Err(bad("is not a valid host name"));
        }
    }
    if let Some(p) = port {
        if p.is_empty() || p.len() > 5 || !p.chars().all(|c| c.is_ascii_digit()) {
            return Err(bad("has an invalid port"));
        }
    }
    Ok(())
}

/// Path components: lower-case letters and digits, separated by `.`, `_`,
/// `__` or runs of `-`.
fn check_path(path: &str) -> std::result::Result<(), String> {
    if path.chars().any(|c| c.is_ascii_uppercase()) {
        return Err(format!("the repository path {path:?} must be lower case"));
    }
    for component in path.split('/') {
        if !path_component_ok(component) {
            return Err(format!(
                "the repository path component {component:?} must be lower-case letters and digits \
                 separated by `.`, `_`, `__` or `-`"
            ));
        }
    }
    Ok(())
}

fn path_component_ok(c: &str) -> bool {
    let b = c.as_bytes();
    let alnum = |x: u8| x.is_ascii_lowercase() || x.is_ascii_digit();
    if b.is_empty() || !alnum(b[0]) || !alnum(b[b.len() - 1]) {
        return false;
    }
    let mut i = 0;
    while i < b.len() {
        if alnum(b[i]) {
            i += 1;
            continue;
        }
        // A separator run: `.`, `_`, `__`, or `-`+.
        let start = i;
        while i < b.len() && !alnum(b[i]) {
            i += 1;
        }
        let sep = &c[start..i];
        if !(sep == "." || sep == "_" || sep == "__" || sep.bytes().all(|x| x == b'-')) {
            return false;
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    const D: &str = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    /// reference | registry | auth key | repository | tag | digest | name (fromImage);
    /// `-` for none, `HUB` for the Docker Hub key, `D` for the digest.
    const TABLE: &str = "
        busybox                                     | docker.io            | HUB                  | library/busybox       | -      | - | busybox
        busybox:1.36                                | docker.io            | HUB                  | library/busybox       | 1.36   | - | busybox
        team/app                                    | docker.io            | HUB                  | team/app              | -      | - | team/app
        docker.io/library/busybox                   | docker.io            | HUB                  | library/busybox       | -      | - | docker.io/library/busybox
        docker.io/busybox:2                         | docker.io            | HUB                  | library/busybox       | 2      | - | docker.io/busybox
        index.docker.io/team/app                    | docker.io            | HUB                  | team/app              | -      | - | index.docker.io/team/app
        registry-1.docker.io/team/app:x             | docker.io            | HUB                  | team/app              | x      | - | registry-1.docker.io/team/app
        localhost/app                               | localhost            | localhost            | app                   | -      | - | localhost/app
        localhost:5000/x                            | localhost:5000       | localhost:5000       | x                     | -      | - | localhost:5000/x
        localhost:5000/team/x:tag                   | localhost:5000       | localhost:5000       | team/x                | tag    | - | localhost:5000/team/x
        127.0.0.1:5001/dockhand-test/busybox:latest | 127.0.0.1:5001       | 127.0.0.1:5001       | dockhand-test/busybox | latest | - | 127.0.0.1:5001/dockhand-test/busybox
        registry.example.com/a/b/c                  | registry.example.com | registry.example.com | a/b/c                 | -      | - | registry.example.com/a/b/c
        [::1]:5000/app                              | [::1]:5000           | [::1]:5000           | app                   | -      | - | [::1]:5000/app
        Registry/app                                | Registry             | Registry             | app                   | -      | - | Registry/app
        busybox@D                                   | docker.io            | HUB                  | library/busybox       | -      | D | busybox
        localhost:5000/app:1@D                      | localhost:5000       | localhost:5000       | app                   | 1      | D | localhost:5000/app
        localhostx/app                              | docker.io            | HUB                  | localhostx/app        | -      | - | localhostx/app
        my_team/my-app__v2                          | docker.io            | HUB                  | my_team/my-app__v2    | -      | - | my_team/my-app__v2
    ";

    #[test]
    fn normalisation_table() {
        for line in TABLE.lines().map(str::trim).filter(|l| !l.is_empty()) {
            let f: Vec<String> = line
                .split('|')
                .map(|c| c.trim().replace("@D", &format!("@{D}")))
                .map(|c| match c.as_str() {
                    "HUB" => DOCKER_HUB_AUTH_KEY.to_owned(),
                    "D" => D.to_owned(),
                    _ => c,
                })
                .collect();
            let opt = |s: &str| (s != "-").then(|| s.to_owned());
            let input = &f[0];
            let r = ImageReference::parse(input).unwrap_or_else(|e| panic!("{input}: {e}"));
            assert_eq!(r.registry(), f[1], "{input}");
            assert_eq!(r.auth_key(), f[2], "{input}");
            assert_eq!(r.repository(), f[3], "{input}");
            assert_eq!(r.tag().map(str::to_owned), opt(&f[4]), "{input}");
            assert_eq!(r.digest().map(str::to_owned), opt(&f[5]), "{input}");
            assert_eq!(r.name(), f[6], "{input}");
            assert_eq!(&r.to_string(), input, "{input}");
            assert_eq!(r.is_docker_hub(), f[2] == DOCKER_HUB_AUTH_KEY, "{input}");
            assert_eq!(input.parse::<ImageReference>().unwrap(), r);
        }
        assert_eq!(TABLE.lines().filter(|l| !l.trim().is_empty()).count(), 18);
    }

    #[test]
    fn tag_or_digest_is_what_a_pull_sends() {
        let t = |s: &str| ImageReference::parse(s).unwrap().tag_or_digest().to_owned();
        assert_eq!(t("busybox"), "latest");
        assert_eq!(t("busybox:1"), "1");
        assert_eq!(t(&format!("busybox:1@{D}")), D);
        // The port is not a tag; the tag after it is.
        assert_eq!(t("localhost:5000/app"), "latest");
        assert_eq!(t("localhost:5000/app:v1"), "v1");
    }

    #[test]
    fn bad_references_are_errors_not_panics() {
        for bad in [
            "",
            " busybox",
            "busy box",
            "bad\nref",
            "Busybox",
            "team/App",
            "app:",
            "app:-x",
            "app:.x",
            &format!("app:{}", "x".repeat(129)),
            "app@",
            "app@sha256:abc",
            "app@sha256:0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef",
            "app@:abc",
            "app@@sha256:x",
            "/app",
            "app/",
            "team//app",
            "localhost:5000/",
            "localhost:/app",
            "localhost:50x0/app",
            "host-.example.com/app",
            "[::1/app",
            "[zz]:5000/app",
            "-app",
            "app-",
            "a..b",
            "a___b",
            "a._b",
            ":tag",
            "@sha256:x",
            &"a".repeat(256),
        ] {
            let e = ImageReference::parse(bad).expect_err(bad);
            assert!(
                matches!(
                    e,
                    Error::InvalidArgument {
                        name: "reference",
                        ..
                    }
                ),
                "{bad}: {e}"
            );
        }
        // Every prefix of a valid reference either parses or is an error.
        let full = format!("localhost:5000/team/app:1@{D}");
        for i in 0..=full.len() {
            let _ = ImageReference::parse(&full[..i]);
        }
    }

    #[test]
    fn config_keys_compare_by_host() {
        assert_eq!(key_host("https://index.docker.io/v1/"), "docker.io");
        assert_eq!(key_host("index.docker.io"), "docker.io");
        assert_eq!(key_host("registry-1.docker.io"), "docker.io");
        assert_eq!(
            key_host("HTTPS://Registry.Example.com/v2/"),
            "registry.example.com"
        );
        assert_eq!(key_host("http://127.0.0.1:5001"), "127.0.0.1:5001");
        assert_eq!(key_host("127.0.0.1:5001"), "127.0.0.1:5001");
        assert_eq!(key_host(""), "");
    }
}
