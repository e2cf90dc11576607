//! Building requests without doing any I/O.
//!
//! Everything that decides what goes on the wire lives here, so it can be
//! unit-tested exactly: the versioned path with percent-encoded, validated
//! path arguments; the query string (one encoder for every operation); the
//! headers; the body.

use crate::operations::{HeaderText, Operation, ParamSink};
use crate::transport::RequestBody;
use crate::{ApiVersion, Error, Result};
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

/// Characters escaped in a query name or value: everything but RFC 3986
/// unreserved characters, as Go's `url.QueryEscape` does (a space is `%20`).
const QUERY: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// Characters escaped in a path segment: as in a query, except that `:` and
/// `@` stay (they are valid in a segment and appear in image references such
/// as `busybox@sha256:…` and `localhost:5000/app`).
const SEGMENT: &AsciiSet = &QUERY.remove(b':').remove(b'@');

/// What a `{name}` path parameter holds, which decides what it may contain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PathArg {
    /// An image, plugin or distribution reference: `localhost:5000/team/app:1`
    /// has slashes, each `/`-separated part is checked and encoded on its own.
    Reference,
    /// A container id or name. The daemon hands names out with a leading `/`
    /// (`/web` in a container list), and `docker inspect /web` works: one
    /// leading `/` is dropped; any other `/` is refused.
    Container,
    /// Any other identifier (exec, network, volume, node, service, task,
    /// secret and config ids, names): one path segment, a `/` is refused.
    Segment,
}

impl PathArg {
    /// What the path parameters of `op` hold.
    pub(crate) fn of(op: &Operation) -> PathArg {
        match op.group {
            "Image" | "Plugin" | "Distribution" => PathArg::Reference,
            "Container" => PathArg::Container,
            _ => PathArg::Segment,
        }
    }
}

/// [`encode_path_arg_into`], as a string of its own.
#[cfg(test)]
pub(crate) fn encode_path_arg(name: &'static str, kind: PathArg, value: &str) -> Result<String> {
    let mut out = String::with_capacity(value.len());
    encode_path_arg_into(&mut out, name, kind, value)?;
    Ok(out)
}

/// Checks an identifier or reference given for a `{name}` path parameter and
/// appends it to `out`, percent-encoded (an error may leave part of it).
/// Rejected before anything is sent: empty values and parts, `.` and `..`
/// parts, control characters, and a `/` in a value that is one path segment
/// (it would address another endpoint).
fn encode_path_arg_into(
    out: &mut String,
    name: &'static str,
    kind: PathArg,
    value: &str,
) -> Result<()> {
    let invalid = |message: String| Error::InvalidArgument { name, message };
    let value = match kind {
        PathArg::Container => value.strip_prefix('/').unwrap_or(value),
        _ => value,
    };
    if value.is_empty() {
        return Err(invalid("must not be empty".into()));
    }
    if let Some(c) = value.chars().find(|c| c.is_control()) {
        return Err(invalid(format!("contains the control character {:?}", c)));
    }
    if kind != PathArg::Reference && value.contains('/') {
        return Err(invalid(format!(
            "{value:?} contains a '/', which no {} can hold",
            if kind == PathArg::Container {
                "container id or name (after one leading '/')"
            } else {
                "identifier of this kind"
            }
        )));
    }
    out.reserve(value.len());
    for (i, part) in value.split('/').enumerate() {
        match part {
            "" => return Err(invalid(format!("{value:?} has an empty path segment"))),
            "." | ".." => {
                return Err(invalid(format!(
                    "{value:?} has a {part:?} segment, which would change the request path"
                )))
            }
            _ => {}
        }
        if i > 0 {
            out.push('/');
        }
        out.extend(utf8_percent_encode(part, SEGMENT));
    }
    Ok(())
}

/// Appends `name=value` pairs to `out` as a query string (with the leading `?`).
pub(crate) fn encode_query<K: AsRef<str>>(out: &mut String, pairs: &[(K, String)]) {
    for (i, (k, v)) in pairs.iter().enumerate() {
        out.push(if i == 0 { '?' } else { '&' });
        out.extend(utf8_percent_encode(k.as_ref(), QUERY));
        out.push('=');
        out.extend(utf8_percent_encode(v, QUERY));
    }
}

/// Substitutes path arguments into an operation's template, in order,
/// appended to `out`.
fn render_path_into(out: &mut String, op: &'static Operation, args: &[&str]) -> Result<()> {
    let has_path_params = op
        .params
        .iter()
        .any(|p| p.location == crate::operations::ParamLocation::Path);
    if !has_path_params && args.is_empty() && !op.path.contains('{') {
        out.push_str(op.path);
        return Ok(());
    }
    let names = op
        .params
        .iter()
        .filter(|p| p.location == crate::operations::ParamLocation::Path)
        .map(|p| p.name);
    render_template_into(out, op.id, op.path, names, PathArg::of(op), args)
}

/// Substitutes `args`, checked and encoded as `kind`, for the `{…}`
/// placeholders of `template`, in order; `names` names them in errors.
pub(crate) fn render_template(
    what: &str,
    template: &str,
    names: impl Iterator<Item = &'static str>,
    kind: PathArg,
    args: &[&str],
) -> Result<String> {
    let mut out = String::with_capacity(template.len() + 32);
    render_template_into(&mut out, what, template, names, kind, args)?;
    Ok(out)
}

/// [`render_template`], appended to `out`.
fn render_template_into(
    out: &mut String,
    what: &str,
    template: &str,
    mut names: impl Iterator<Item = &'static str>,
    kind: PathArg,
    args: &[&str],
) -> Result<()> {
    let mut rest = template;
    let mut args = args.iter();
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        let end =
            rest[start..]
                .find('}')
                .map(|e| start + e)
                .ok_or_else(|| Error::InvalidArgument {
                    name: "path",
                    message: format!("{what}: {template:?} has a '{{' without '}}'"),
                })?;
        let pname = names.next().unwrap_or("path");
        let value = args.next().ok_or_else(|| Error::InvalidArgument {
            name: pname,
            message: format!("{what} needs a value for {}", &rest[start..=end]),
        })?;
        encode_path_arg_into(out, pname, kind, value)?;
        rest = &rest[end + 1..];
    }
    out.push_str(rest);
    if args.next().is_some() {
        return Err(Error::InvalidArgument {
            name: "path",
            message: format!("{what}: more path arguments than {template:?} has placeholders"),
        });
    }
    Ok(())
}

/// Appends `n` in decimal (what `format!` does, without its machinery:
/// this is on every request's path).
fn push_number(out: &mut String, n: u16) {
    let mut digits = [0u8; 5];
    let mut i = digits.len();
    let mut n = n;
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    for &d in &digits[i..] {
        out.push(char::from(d));
    }
}

/// Builds the request for `op` at API `version`.
///
/// `sink` holds the query and header parameters (already checked against the
/// version); `content_type` goes with a non-empty body.
pub(crate) fn build(
    op: &'static Operation,
    version: ApiVersion,
    path_args: &[&str],
    sink: ParamSink,
    body: RequestBody,
    content_type: Option<&str>,
) -> Result<http::Request<RequestBody>> {
    op.check_version(version)?;
    let (query, headers) = sink.finish()?;
    let mut uri = String::with_capacity(8 + op.path.len() + 32 * (path_args.len() + query.len()));
    uri.push_str("/v");
    push_number(&mut uri, version.major);
    uri.push('.');
    push_number(&mut uri, version.minor);
    render_path_into(&mut uri, op, path_args)?;
    encode_query(&mut uri, &query);
    let mut req = http::Request::new(body);
    *req.method_mut() = op.method.as_http();
    *req.uri_mut() = http::Uri::from_maybe_shared(bytes::Bytes::from(uri)).map_err(|e| {
        Error::InvalidArgument {
            name: "request",
            message: format!("{}: {e}", op.id),
        }
    })?;
    let h = req.headers_mut();
    if let Some(ct) = content_type {
        h.insert(
            http::header::CONTENT_TYPE,
            http::HeaderValue::from_str(ct).map_err(|_| Error::InvalidArgument {
                name: "content type",
                message: format!("{ct:?} is not a valid HTTP header value"),
            })?,
        );
    }
    for (name, value) in headers {
        let (text, sensitive) = match &value {
            HeaderText::Plain(s) => (s.as_str(), false),
            HeaderText::Secret(s) => (s.expose(), true),
        };
        let mut hv = http::HeaderValue::from_str(text).map_err(|_| Error::InvalidArgument {
            name,
            // Never echo the value: it may be a credential.
            message: "is not a valid HTTP header value".into(),
        })?;
        hv.set_sensitive(sensitive);
        let name =
            http::HeaderName::from_bytes(name.as_bytes()).map_err(|_| Error::InvalidArgument {
                name,
                message: "is not a valid HTTP header name".into(),
            })?;
        h.append(name, hv);
    }
    Ok(req)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::operations::{self as ops, ContainerListOptions, Filters};

    #[test]
    fn path_args_are_validated_and_encoded() {
        assert_eq!(
            encode_path_arg("id", PathArg::Segment, "abc123").unwrap(),
            "abc123"
        );
        assert_eq!(
            encode_path_arg("name", PathArg::Reference, "localhost:5000/team/app:1").unwrap(),
            "localhost:5000/team/app:1"
        );
        assert_eq!(
            encode_path_arg("name", PathArg::Reference, "busybox@sha256:ab").unwrap(),
            "busybox@sha256:ab"
        );
        assert_eq!(
            encode_path_arg("id", PathArg::Segment, "a b?c#d%").unwrap(),
            "a%20b%3Fc%23d%25"
        );
        for bad in ["", "..", "a/../b", "./x", "a//b", "x/", "a\nb", "a\u{7f}"] {
            let e = encode_path_arg("id", PathArg::Reference, bad).expect_err(bad);
            assert!(
                matches!(e, Error::InvalidArgument { name: "id", .. }),
                "{bad:?}: {e}"
            );
        }
    }

    #[test]
    fn query_encoding() {
        let mut s = String::new();
        encode_query(
            &mut s,
            &[
                ("filters", r#"{"label":["a=b c"]}"#.into()),
                ("all", "true".into()),
            ],
        );
        assert_eq!(
            s,
            "?filters=%7B%22label%22%3A%5B%22a%3Db%20c%22%5D%7D&all=true"
        );
    }

    #[test]
    fn builds_versioned_request_with_query() {
        let mut f = Filters::new();
        f.insert("status".into(), vec!["running".into()]);
        let opts = ContainerListOptions::default().all(true).filters(f);
        let mut sink = ParamSink::new(&ops::CONTAINER_LIST, ApiVersion::new(1, 41));
        opts.write_params(&mut sink);
        let b = build(
            &ops::CONTAINER_LIST,
            ApiVersion::new(1, 41),
            &[],
            sink,
            crate::transport::empty_body(),
            None,
        )
        .unwrap();
        assert_eq!(b.method(), http::Method::GET);
        assert_eq!(
            b.uri().to_string(),
            "/v1.41/containers/json?all=true&filters=%7B%22status%22%3A%5B%22running%22%5D%7D"
        );
    }

    #[test]
    fn too_new_operation_or_parameter_is_refused() {
        let sink = ParamSink::new(&ops::IMAGE_ATTESTATIONS, ApiVersion::new(1, 41));
        let e = build(
            &ops::IMAGE_ATTESTATIONS,
            ApiVersion::new(1, 41),
            &["busybox"],
            sink,
            crate::transport::empty_body(),
            None,
        )
        .expect_err("refused");
        assert!(
            matches!(e, Error::UnsupportedByVersion { ref what, needs, negotiated }
                if what == "ImageAttestations" && needs == ApiVersion::new(1, 55) && negotiated == ApiVersion::new(1, 41)),
            "{e}"
        );
        let mut sink = ParamSink::new(&ops::CONTAINER_STOP, ApiVersion::new(1, 41));
        ops::ContainerStopOptions::default()
            .signal("SIGINT")
            .write_params(&mut sink);
        let e = build(
            &ops::CONTAINER_STOP,
            ApiVersion::new(1, 41),
            &["x"],
            sink,
            crate::transport::empty_body(),
            None,
        )
        .expect_err("refused");
        assert!(e.to_string().contains("`signal`"), "{e}");
    }

    #[test]
    fn secret_headers_are_marked_sensitive() {
        let mut sink = ParamSink::new(&ops::IMAGE_CREATE, ApiVersion::new(1, 41));
        ops::ImageCreateOptions::default()
            .from_image("busybox")
            .x_registry_auth("c2VjcmV0")
            .write_params(&mut sink);
        let b = build(
            &ops::IMAGE_CREATE,
            ApiVersion::new(1, 41),
            &[],
            sink,
            crate::transport::empty_body(),
            None,
        )
        .unwrap();
        let h = b.headers().get("X-Registry-Auth").expect("header");
        assert!(h.is_sensitive());
        assert!(!format!("{:?}", b.headers()).contains("c2VjcmV0"));
    }
}
