//! `.dockerignore` rules, applied the way the docker CLI applies them.
//!
//! No maintained crate implements Docker's rules (`glob` and `globset`
//! follow shell or gitignore conventions: their `**`, `[!…]` and parent
//! directory handling differ), so the matcher is written here, after the
//! documented behaviour of moby's `patternmatcher` and the CLI's ignore-file
//! reader:
//!
//! - One pattern per line. A line *starting* with `#` is a comment; blank
//!   lines are skipped; leading and trailing whitespace is trimmed (also after
//!   a leading `!`). A UTF-8 byte order mark at the start is dropped.
//! - Each pattern is normalised like Go's `filepath.Clean` (`./a//b/` is
//!   `a/b`, `a/../b` is `b`) and a leading `/` is dropped.
//! - `*` matches any run of characters except `/`, `?` one character except
//!   `/`, `[…]` a character class (`[^…]` negated, `a-z` ranges, `\` escapes
//!   inside), `\x` the character `x`. `**` matches any number of directories,
//!   including none (`**/x`, `a/**/x`), and a trailing `**` matches anything.
//! - A pattern matches a path when it matches the path itself or one of its
//!   parent directories, so `logs` excludes everything below `logs/`.
//! - `!pattern` is an exception that re-includes what it matches; the last
//!   matching line decides.
//!
//! Known differences from the Go implementation, all for patterns nobody
//! writes on purpose: `*` and `?` inside `[…]` are class members here (Go
//! turns them into a broken regular expression), and `^` outside a class is an
//! ordinary character (Go passes it to its regular expression as an anchor).
//! On Windows `\` in a pattern is a path separator, as it is for the CLI there.

use crate::{Error, Result};

/// The patterns of a `.dockerignore` file.
///
/// ```
/// use dockhand::build::Dockerignore;
/// let rules = Dockerignore::parse("# build output\ntarget\n*.log\n!important.log\n")?;
/// assert!(rules.is_excluded("target/debug/app"));
/// assert!(rules.is_excluded("server.log"));
/// assert!(!rules.is_excluded("important.log"));
/// assert!(!rules.is_excluded("src/server.log")); // `*` does not cross `/`
/// # Ok::<(), dockhand::Error>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct Dockerignore {
    patterns: Vec<Pattern>,
}

/// One cleaned pattern.
#[derive(Debug, Clone)]
struct Pattern {
    /// The cleaned pattern text, without the `!`.
    text: String,
    exception: bool,
    matcher: Matcher,
}

/// How a pattern matches, chosen like moby does: plain strings compare
/// directly, everything else goes through the token matcher.
#[derive(Debug, Clone)]
enum Matcher {
    /// No wildcard: the path equals the pattern.
    Exact,
    /// Literal text then a trailing `**`: the path starts with the text.
    Prefix(String),
    /// A leading `**` then literal text: the path ends with the text (or, for
    /// `**/x`, is `x`).
    Suffix(String),
    Tokens(Vec<Token>),
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Char(char),
    /// `?`: one character other than `/`.
    AnyChar,
    /// `*`: any run of characters other than `/`.
    Star,
    /// `**` before more pattern: nothing, or anything ending in `/`.
    AnyDirs,
    /// A trailing `**`: anything.
    Rest,
    /// `[…]`.
    Class {
        negated: bool,
        ranges: Vec<(char, char)>,
    },
}

impl Dockerignore {
    /// Parses the text of a `.dockerignore` file.
    ///
    /// Fails with [`Error::InvalidArgument`] naming the line for a pattern the
    /// docker CLI refuses too: a bare `!`, an unterminated or empty `[…]`, a
    /// range running backwards, a trailing `\`.
    ///
    /// ```
    /// use dockhand::build::Dockerignore;
    /// assert!(Dockerignore::parse("[a-").is_err());
    /// let rules = Dockerignore::parse("/docs/**\n! docs/README.md")?;
    /// assert!(rules.is_excluded("docs/guide/intro.md"));
    /// assert!(!rules.is_excluded("docs/README.md"));
    /// # Ok::<(), dockhand::Error>(())
    /// ```
    pub fn parse(text: &str) -> Result<Self> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let mut rules = Dockerignore::default();
        for (n, line) in text.lines().enumerate() {
            if line.starts_with('#') {
                continue;
            }
            rules
                .push_line(line)
                .map_err(|message| Error::InvalidArgument {
                    name: "dockerignore",
                    message: format!("line {}: {message}", n + 1),
                })?;
        }
        Ok(rules)
    }

    /// Reads `DIR/.dockerignore`; no such file means no patterns.
    ///
    /// ```no_run
    /// let rules = dockhand::build::Dockerignore::read_dir("./app")?;
    /// # Ok::<(), dockhand::Error>(())
    /// ```
    pub fn read_dir(dir: impl AsRef<std::path::Path>) -> Result<Self> {
        let path = dir.as_ref().join(".dockerignore");
        match std::fs::read(&path) {
            Ok(bytes) => Self::parse(&String::from_utf8_lossy(&bytes)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Self::default()),
            Err(source) => Err(Error::Io {
                context: format!("cannot read {}", path.display()),
                source,
            }),
        }
    }

    /// Adds one line as a `.dockerignore` line (without the comment rule).
    fn push_line(&mut self, line: &str) -> std::result::Result<(), String> {
        #[cfg(windows)]
        let line = &line.replace('\\', "/");
        let mut p = line.trim();
        if p.is_empty() {
            return Ok(());
        }
        let exception = p.starts_with('!');
        if exception {
            p = p[1..].trim();
            if p.is_empty() {
                return Err("illegal exclusion pattern \"!\"".to_owned());
            }
        }
        let mut cleaned = clean(p);
        if cleaned.len() > 1 && cleaned.starts_with('/') {
            cleaned.remove(0);
        }
        let matcher = compile(&cleaned).map_err(|e| format!("pattern {cleaned:?}: {e}"))?;
        self.patterns.push(Pattern {
            text: cleaned,
            exception,
            matcher,
        });
        Ok(())
    }

    /// Appends the exception `!path` (the CLI's way of always sending the
    /// Dockerfile and `.dockerignore`).
    pub(crate) fn push_exception(&mut self, path: &str) {
        // A cleaned path of ordinary characters compiles; if it had
        // wildcards, it is the pattern the CLI would have added as well.
        let _ = self.push_line(&format!("!{path}"));
    }

    /// Whether any pattern is an exception (`!…`).
    pub fn has_exceptions(&self) -> bool {
        self.patterns.iter().any(|p| p.exception)
    }

    /// Whether the context path `path` (relative to the context root,
    /// `/`-separated; cleaned first) is left out of the build context.
    /// The context root itself is never excluded.
    ///
    /// ```
    /// use dockhand::build::Dockerignore;
    /// let rules = Dockerignore::parse("**/*.tmp\n!keep.tmp")?;
    /// assert!(rules.is_excluded("a/b/c.tmp"));
    /// assert!(rules.is_excluded("c.tmp"));
    /// assert!(!rules.is_excluded("keep.tmp"));
    /// # Ok::<(), dockhand::Error>(())
    /// ```
    pub fn is_excluded(&self, path: &str) -> bool {
        let path = clean(path);
        let path = path.strip_prefix('/').unwrap_or(&path);
        if path == "." || path.is_empty() {
            return false;
        }
        let mut excluded = false;
        for p in &self.patterns {
            // Only a pattern that can change the verdict needs a look.
            if p.exception != excluded {
                continue;
            }
            if p.matches_or_parent_matches(path) {
                excluded = !p.exception;
            }
        }
        excluded
    }

    /// Whether there are no patterns.
    ///
    /// ```
    /// use dockhand::build::Dockerignore;
    /// assert!(Dockerignore::parse("# only a comment\n")?.is_empty());
    /// assert!(!Dockerignore::parse("target")?.is_empty());
    /// # Ok::<(), dockhand::Error>(())
    /// ```
    pub fn is_empty(&self) -> bool {
        self.patterns.is_empty()
    }

    /// Whether a pattern that is not an exception matches `path` itself
    /// (not through a parent directory).
    #[cfg(feature = "buildkit")]
    pub(crate) fn matches_exactly(&self, path: &str) -> bool {
        self.patterns
            .iter()
            .any(|p| !p.exception && p.matches(path))
    }

    /// Whether an exception could re-include something below the excluded
    /// directory `dir`: the CLI then walks into it instead of skipping it. As
    /// in the CLI, this is a plain prefix test on the exception's text, so
    /// `!dir/keep` re-includes `dir/keep` but `!**/keep` does not reach into
    /// an excluded `dir`.
    pub(crate) fn may_reinclude_below(&self, dir: &str) -> bool {
        let dir_slash = format!("{dir}/");
        self.patterns
            .iter()
            .filter(|p| p.exception)
            .any(|p| format!("{}/", p.text).starts_with(&dir_slash))
    }
}

impl Pattern {
    fn matches_or_parent_matches(&self, path: &str) -> bool {
        if self.matches(path) {
            return true;
        }
        path.match_indices('/')
            .any(|(at, _)| self.matches(&path[..at]))
    }

    fn matches(&self, path: &str) -> bool {
        match &self.matcher {
            Matcher::Exact => path == self.text,
            Matcher::Prefix(prefix) => path.starts_with(prefix.as_str()),
            Matcher::Suffix(suffix) => {
                path.ends_with(suffix.as_str())
                    || suffix.strip_prefix('/').is_some_and(|rest| path == rest)
            }
            Matcher::Tokens(tokens) => match_tokens(tokens, path),
        }
    }
}

/// Go's `filepath.Clean` for `/`-separated paths: one `/` between elements,
/// no `.` elements, `..` cancelling the element before it (and dropped right
/// after a leading `/`), no trailing `/`; the empty path is `.`.
pub(crate) fn clean(path: &str) -> String {
    let rooted = path.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => match parts.last() {
                Some(&last) if last != ".." => {
                    parts.pop();
                }
                _ if rooted => {}
                _ => parts.push(".."),
            },
            _ => parts.push(part),
        }
    }
    let joined = parts.join("/");
    match (rooted, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".to_owned(),
        (false, false) => joined,
    }
}

/// Turns a cleaned pattern into a matcher, refusing what Go's
/// `filepath.Match` (or moby's regular expression) refuses.
fn compile(pattern: &str) -> std::result::Result<Matcher, String> {
    #[derive(PartialEq)]
    enum Kind {
        Exact,
        Prefix,
        Suffix,
        Tokens,
    }
    let chars: Vec<char> = pattern.chars().collect();
    let mut tokens = Vec::new();
    let mut kind = Kind::Exact;
    let mut i = 0;
    let mut first = true;
    while i < chars.len() {
        let c = chars[i];
        i += 1;
        match c {
            '*' if chars.get(i) == Some(&'*') => {
                i += 1;
                if chars.get(i) == Some(&'/') {
                    i += 1;
                }
                if i == chars.len() {
                    tokens.push(Token::Rest);
                    kind = if kind == Kind::Exact {
                        Kind::Prefix
                    } else {
                        Kind::Tokens
                    };
                } else {
                    tokens.push(Token::AnyDirs);
                    kind = Kind::Tokens;
                }
                if first {
                    kind = Kind::Suffix;
                }
            }
            '*' => {
                tokens.push(Token::Star);
                kind = Kind::Tokens;
            }
            '?' => {
                tokens.push(Token::AnyChar);
                kind = Kind::Tokens;
            }
            '\\' => {
                let Some(&next) = chars.get(i) else {
                    return Err("trailing backslash".to_owned());
                };
                i += 1;
                tokens.push(Token::Char(next));
                kind = Kind::Tokens;
            }
            '[' => {
                let (class, used) = parse_class(&chars[i..])?;
                i += used;
                tokens.push(class);
                kind = Kind::Tokens;
            }
            ']' => {
                tokens.push(Token::Char(']'));
                kind = Kind::Tokens;
            }
            c => tokens.push(Token::Char(c)),
        }
        first = false;
    }
    Ok(match kind {
        Kind::Exact => Matcher::Exact,
        // Literal text before the trailing `**`.
        Kind::Prefix => Matcher::Prefix(pattern[..pattern.len() - 2].to_owned()),
        // Literal text after the leading `**`.
        Kind::Suffix => Matcher::Suffix(pattern[2..].to_owned()),
        Kind::Tokens => Matcher::Tokens(tokens),
    })
}

/// Parses a class after its `[`; returns it and the characters used
/// (including the closing `]`).
fn parse_class(chars: &[char]) -> std::result::Result<(Token, usize), String> {
    let unterminated = || "unterminated character class".to_owned();
    let mut i = 0;
    let negated = chars.first() == Some(&'^');
    if negated {
        i += 1;
    }
    let mut ranges = Vec::new();
    // One (possibly escaped) class character.
    let escaped = |i: &mut usize| -> std::result::Result<char, String> {
        match chars.get(*i) {
            None => Err(unterminated()),
            Some('-') | Some(']') => Err("bad character in class".to_owned()),
            Some('\\') => {
                let c = *chars.get(*i + 1).ok_or_else(unterminated)?;
                *i += 2;
                Ok(c)
            }
            Some(&c) => {
                *i += 1;
                Ok(c)
            }
        }
    };
    loop {
        if chars.get(i) == Some(&']') && !ranges.is_empty() {
            i += 1;
            break;
        }
        let lo = escaped(&mut i)?;
        let mut hi = lo;
        if chars.get(i) == Some(&'-') {
            i += 1;
            hi = escaped(&mut i)?;
            if hi < lo {
                return Err(format!("character class range {lo}-{hi} runs backwards"));
            }
        }
        ranges.push((lo, hi));
    }
    Ok((Token::Class { negated, ranges }, i))
}

/// Whether `tokens` match all of `path`: dynamic programming over (token,
/// position), so time is bounded by their product whatever the pattern.
fn match_tokens(tokens: &[Token], path: &str) -> bool {
    let s: Vec<char> = path.chars().collect();
    let m = s.len();
    // next[j]: tokens[i+1..] match s[j..]; starts as "no tokens left".
    let mut next: Vec<bool> = (0..=m).map(|j| j == m).collect();
    let mut cur = vec![false; m + 1];
    for tok in tokens.iter().rev() {
        match tok {
            Token::Char(c) => {
                for j in 0..=m {
                    cur[j] = j < m && s[j] == *c && next[j + 1];
                }
            }
            Token::AnyChar => {
                for j in 0..=m {
                    cur[j] = j < m && s[j] != '/' && next[j + 1];
                }
            }
            Token::Class { negated, ranges } => {
                for j in 0..=m {
                    cur[j] = j < m
                        && ranges.iter().any(|&(lo, hi)| lo <= s[j] && s[j] <= hi) != *negated
                        && next[j + 1];
                }
            }
            Token::Star => {
                cur[m] = next[m];
                for j in (0..m).rev() {
                    cur[j] = next[j] || (s[j] != '/' && cur[j + 1]);
                }
            }
            Token::Rest => {
                // Go's `.` stops at a newline.
                cur[m] = next[m];
                for j in (0..m).rev() {
                    cur[j] = next[j] || (s[j] != '\n' && cur[j + 1]);
                }
            }
            Token::AnyDirs => {
                // Nothing, or a run without newlines ending in `/`.
                let mut ends_here = false; // some k > j with s[j..k] valid and next[k]
                cur[m] = next[m];
                for j in (0..m).rev() {
                    ends_here = s[j] != '\n' && ((s[j] == '/' && next[j + 1]) || ends_here);
                    cur[j] = next[j] || ends_here;
                }
            }
        }
        std::mem::swap(&mut cur, &mut next);
    }
    next[0]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clean_is_go_filepath_clean() {
        for (input, want) in [
            ("", "."),
            (".", "."),
            ("./", "."),
            ("a/", "a"),
            ("./a", "a"),
            ("a//b", "a/b"),
            ("a/./b/", "a/b"),
            ("a/../b", "b"),
            ("a/b/../..", "."),
            ("../a", "../a"),
            ("a/../../b", "../b"),
            ("/", "/"),
            ("/../a", "/a"),
            ("//a/b/", "/a/b"),
            ("!./a", "!./a"),
        ] {
            assert_eq!(clean(input), want, "clean({input:?})");
        }
    }

    /// (patterns, path, excluded?)
    const TABLE: &[(&str, &str, bool)] = &[
        // Plain names match themselves and everything below, only at the root.
        ("foo", "foo", true),
        ("foo", "foo/bar/baz", true),
        ("foo", "foobar", false),
        ("foo", "a/foo", false),
        // `*` stays within one element.
        ("*.go", "main.go", true),
        ("*.go", "cmd/main.go", false),
        ("*/*.go", "cmd/main.go", true),
        ("*", "anything/at/all", true),
        ("a*b", "a/b", false),
        ("a*b", "axxb", true),
        // `?` is one character, never `/`.
        ("fo?", "foo", true),
        ("fo?", "fo", false),
        ("a?b", "a/b", false),
        // `**` spans directories, including none.
        ("**/*.tmp", "x.tmp", true),
        ("**/*.tmp", "a/b/x.tmp", true),
        ("**/*.tmp", "a/b/x.tmpl", false),
        ("**/node_modules", "node_modules", true),
        ("**/node_modules", "web/app/node_modules/x/y.js", true),
        ("a/**/z", "a/z", true),
        ("a/**/z", "a/b/c/z", true),
        ("a/**/z", "a/bz", false),
        ("logs/**", "logs/2024/x.log", true),
        ("logs/**", "logs", false),
        ("**", "a/b", true),
        ("a**", "abc", true),
        ("**/b/**", "a/b/c", true),
        // A leading `**` before plain text compares the end of the path, as
        // in moby (its suffix shortcut), so this also crosses `/`.
        ("**.log", "a/b.log", true),
        ("**.log", "a/b.txt", false),
        // Character classes, negation, ranges, escapes inside.
        ("file[0-9].txt", "file7.txt", true),
        ("file[0-9].txt", "filex.txt", false),
        ("file[^0-9].txt", "filex.txt", true),
        ("file[^0-9].txt", "file7.txt", false),
        ("[ab]c", "bc", true),
        ("[ab]c", "cc", false),
        ("[!a]c", "!c", true),   // `!` is a member, not a negation
        ("a[^x]b", "a/b", true), // a negated class matches `/`, as in moby
        ("x[\\]]y", "x]y", true),
        ("x[a\\-z]y", "x-y", true),
        ("x[a\\-z]y", "xby", false),
        // Escapes outside classes.
        ("\\*.txt", "*.txt", true),
        ("\\*.txt", "a.txt", false),
        ("a\\?", "a?", true),
        ("a\\?", "ab", false),
        // Regular-expression characters are plain.
        ("a.b", "axb", false),
        ("a+b(c)|{d}$", "a+b(c)|{d}$", true),
        // Cleaning: leading `/`, `./`, trailing `/`, `..`.
        ("/secret", "secret", true),
        ("./secret", "secret", true),
        ("secret/", "secret/key", true),
        ("a/../secret", "secret", true),
        ("  spaced  ", "spaced", true),
        // Comments and blank lines.
        ("# secret", "secret", false),
        ("\n\n", "x", false),
        (" # not a comment", "# not a comment", true),
        // Exceptions, last match wins.
        ("*.md\n!README.md", "README.md", false),
        ("*.md\n!README.md", "CHANGES.md", true),
        ("!README.md\n*.md", "README.md", true),
        ("*.tmp\n!keep.tmp", "keep.tmp", false),
        ("*.tmp\n!keep.tmp", "other.tmp", true),
        ("*.tmp\n! /keep.tmp", "keep.tmp", false),
        // Re-including a file inside an excluded directory.
        ("docs\n!docs/README.md", "docs/README.md", false),
        ("docs\n!docs/README.md", "docs/other.md", true),
        ("docs\n!docs/README.md", "docs", true),
        (
            "docs\n!docs/keep\ndocs/keep/secret",
            "docs/keep/secret",
            true,
        ),
        (
            "docs\n!docs/keep\ndocs/keep/secret",
            "docs/keep/other",
            false,
        ),
        // Paths given to is_excluded are cleaned too.
        ("a/b", "./a//b/", true),
    ];

    #[test]
    fn pattern_table() {
        for &(patterns, path, want) in TABLE {
            // On Windows a backslash is a path separator, never an escape
            // (as in the docker CLI there): the escaping rows are Unix only.
            if cfg!(windows) && patterns.contains('\\') {
                continue;
            }
            let rules = Dockerignore::parse(patterns).expect(patterns);
            assert_eq!(
                rules.is_excluded(path),
                want,
                "patterns {patterns:?}, path {path:?}"
            );
        }
        if cfg!(windows) {
            // Written with the Windows separator, matched like `/`.
            let rules = Dockerignore::parse("docs\\drafts\\*.md").expect("windows pattern");
            assert!(rules.is_excluded("docs/drafts/a.md"));
            assert!(!rules.is_excluded("docs/a.md"));
        }
    }

    #[test]
    fn bad_patterns_are_refused_naming_the_line() {
        for bad in [
            "ok\n!", "ok\n! ", "[", "a[b", "[]", "[]a]", "[-a]", "[a-]", "[z-a]", "a\\",
        ] {
            // A trailing backslash is a separator on Windows, not an escape.
            if cfg!(windows) && bad.contains('\\') {
                continue;
            }
            let e = Dockerignore::parse(bad).expect_err(bad);
            let text = e.to_string();
            assert!(matches!(e, Error::InvalidArgument { .. }), "{bad}: {e}");
            let line = if bad.starts_with("ok") {
                "line 2"
            } else {
                "line 1"
            };
            assert!(text.contains(line), "{bad}: {text}");
        }
        // An escaped `]` and `-` in a class are fine (escapes are Unix only).
        if cfg!(unix) {
            Dockerignore::parse("[\\]\\-]").expect("escaped class members");
        }
    }

    #[test]
    fn byte_order_mark_and_crlf() {
        let rules = Dockerignore::parse("\u{feff}secret\r\n*.tmp\r\n").unwrap();
        assert!(rules.is_excluded("secret"));
        assert!(rules.is_excluded("x.tmp"));
    }

    #[test]
    fn root_is_never_excluded() {
        let rules = Dockerignore::parse("*\n**\n.").unwrap();
        assert!(!rules.is_excluded("."));
        assert!(!rules.is_excluded(""));
        assert!(rules.is_excluded("x"));
    }

    #[test]
    fn walking_into_excluded_directories() {
        let rules = Dockerignore::parse("docs\nlogs\n!docs/README.md\n!**/keep").unwrap();
        assert!(rules.has_exceptions());
        assert!(rules.may_reinclude_below("docs"));
        // `!**/keep` is not a prefix of `logs/`: the CLI skips `logs` whole.
        assert!(!rules.may_reinclude_below("logs"));
        assert!(!rules.may_reinclude_below("doc"));
        assert!(!Dockerignore::parse("docs").unwrap().has_exceptions());
    }

    #[test]
    fn pathological_patterns_stay_fast() {
        let pattern = "*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b\n**/**/**/**/**/**/**/**/**/c";
        let rules = Dockerignore::parse(pattern).unwrap();
        let long = "a".repeat(2000);
        let deep = "x/".repeat(200) + "d";
        let start = std::time::Instant::now();
        assert!(!rules.is_excluded(&long));
        assert!(!rules.is_excluded(&deep));
        // Polynomial, not exponential: far below a second even in debug builds.
        assert!(start.elapsed() < std::time::Duration::from_secs(20));
    }
}
