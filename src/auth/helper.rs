//! Credential helpers: the `docker-credential-<name>` programs that keep
//! registry secrets in a keychain, spoken to the way the docker CLI does.
//!
//! `get` receives the server address on stdin and answers
//! `{"ServerURL","Username","Secret"}` on stdout; a helper that has nothing
//! for the server fails with `credentials not found…`, which means
//! anonymous. The user name `<token>` marks the secret as an identity token.
//! `list` answers a map of server address → user name.

use crate::models::AuthConfig;
use crate::{Error, Result};
use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// How long a helper may take to answer unless told otherwise.
pub const DEFAULT_HELPER_TIMEOUT: Duration = Duration::from_secs(30);

/// The user name a helper answers when the secret is an identity token.
const TOKEN_USERNAME: &str = "<token>";

/// The most of a helper's stdout that is read (an answer is a few hundred bytes).
const STDOUT_LIMIT: u64 = 1024 * 1024;

/// The most of a helper's stderr that is read.
const STDERR_LIMIT: u64 = 64 * 1024;

/// The most of a failing helper's message that goes into an error.
const MESSAGE_LIMIT: usize = 300;

/// One credential helper program, `docker-credential-<name>`.
///
/// Every call runs the program once and waits for it at most the helper's
/// timeout ([`DEFAULT_HELPER_TIMEOUT`] unless set); a helper that takes
/// longer is killed and the call fails. Calls block the calling thread:
/// from async code, run them with `tokio::task::spawn_blocking` (the image
/// methods of this crate do).
///
/// ```no_run
/// use dockhand::auth::CredentialHelper;
/// let helper = CredentialHelper::new("pass")?;
/// match helper.get("registry.example.com")? {
///     Some(creds) => println!("user {:?}", creds.username),
///     None => println!("no credentials stored"),
/// }
/// # Ok::<(), dockhand::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CredentialHelper {
    program_name: String,
    program: PathBuf,
    timeout: Duration,
}

impl CredentialHelper {
    /// The helper `docker-credential-<name>`, found on `PATH` when it runs.
    /// A name with a path separator is rejected.
    ///
    /// ```
    /// let h = dockhand::auth::CredentialHelper::new("osxkeychain")?;
    /// assert_eq!(h.program_name(), "docker-credential-osxkeychain");
    /// assert!(dockhand::auth::CredentialHelper::new("../evil").is_err());
    /// # Ok::<(), dockhand::Error>(())
    /// ```
    pub fn new(name: &str) -> Result<CredentialHelper> {
        let program_name = program_name(name)?;
        Ok(CredentialHelper {
            program: PathBuf::from(&program_name),
            program_name,
            timeout: DEFAULT_HELPER_TIMEOUT,
        })
    }

    /// The helper `docker-credential-<name>` in `dir`, without searching `PATH`.
    ///
    /// ```
    /// let h = dockhand::auth::CredentialHelper::in_dir("test", "/opt/helpers")?;
    /// assert_eq!(h.program(), std::path::Path::new("/opt/helpers/docker-credential-test"));
    /// # Ok::<(), dockhand::Error>(())
    /// ```
    pub fn in_dir(name: &str, dir: impl AsRef<Path>) -> Result<CredentialHelper> {
        let program_name = program_name(name)?;
        Ok(CredentialHelper {
            program: dir.as_ref().join(&program_name),
            program_name,
            timeout: DEFAULT_HELPER_TIMEOUT,
        })
    }

    /// How long one call may take before the helper is killed.
    ///
    /// ```
    /// use std::time::Duration;
    /// let h = dockhand::auth::CredentialHelper::new("pass")?.timeout(Duration::from_secs(5));
    /// # Ok::<(), dockhand::Error>(())
    /// ```
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The program's file name, `docker-credential-<name>`.
    ///
    /// ```
    /// assert_eq!(dockhand::auth::CredentialHelper::new("pass")?.program_name(), "docker-credential-pass");
    /// # Ok::<(), dockhand::Error>(())
    /// ```
    pub fn program_name(&self) -> &str {
        &self.program_name
    }

    /// The program that runs: a bare name (searched on `PATH`) or a path.
    ///
    /// ```
    /// assert_eq!(dockhand::auth::CredentialHelper::new("pass")?.program(), std::path::Path::new("docker-credential-pass"));
    /// # Ok::<(), dockhand::Error>(())
    /// ```
    pub fn program(&self) -> &Path {
        &self.program
    }

    /// The credentials stored for `server` (`get`); `None` when the helper
    /// has none (it answered `credentials not found`, or an empty user name
    /// and secret).
    ///
    /// ```no_run
    /// let helper = dockhand::auth::CredentialHelper::new("secretservice")?;
    /// let creds = helper.get("https://index.docker.io/v1/")?;
    /// # Ok::<(), dockhand::Error>(())
    /// ```
    pub fn get(&self, server: &str) -> Result<Option<AuthConfig>> {
        let what = format!("get {server}");
        let out = self.run("get", server.as_bytes(), &what)?;
        if !out.status.success() {
            let message = failure_message(&out);
            if message
                .to_ascii_lowercase()
                .contains("credentials not found")
            {
                return Ok(None);
            }
            return Err(self.failed(&what, &out.status, &message));
        }
        #[derive(serde::Deserialize)]
        struct Answer {
            #[serde(rename = "Username", default)]
            username: String,
            #[serde(rename = "Secret", default)]
            secret: String,
        }
        // serde's message is not used: it could quote the secret.
        let answer: Answer = serde_json::from_slice(&out.stdout).map_err(|e| {
            self.error(format!(
                "{what}: the answer is not the expected JSON object {{\"ServerURL\",\"Username\",\"Secret\"}} \
                 (line {} column {})",
                e.line(),
                e.column()
            ))
        })?;
        if answer.username.is_empty() && answer.secret.is_empty() {
            return Ok(None);
        }
        let mut creds = AuthConfig {
            serveraddress: Some(server.to_owned()),
            ..Default::default()
        };
        if answer.username == TOKEN_USERNAME {
            creds.identitytoken = Some(answer.secret);
        } else {
            creds.username = Some(answer.username);
            creds.password = Some(answer.secret);
        }
        Ok(Some(creds))
    }

    /// Every server the helper has credentials for, with its user name (`list`).
    ///
    /// ```no_run
    /// let helper = dockhand::auth::CredentialHelper::new("pass")?;
    /// for (server, user) in helper.list()? {
    ///     println!("{server}: {user}");
    /// }
    /// # Ok::<(), dockhand::Error>(())
    /// ```
    pub fn list(&self) -> Result<BTreeMap<String, String>> {
        // The docker CLI sends this placeholder; some helpers read stdin.
        let out = self.run("list", b"unused", "list")?;
        if !out.status.success() {
            let message = failure_message(&out);
            return Err(self.failed("list", &out.status, &message));
        }
        serde_json::from_slice(&out.stdout).map_err(|e| {
            self.error(format!(
                "list: the answer is not a JSON object of server → user name (line {} column {})",
                e.line(),
                e.column()
            ))
        })
    }

    fn error(&self, message: String) -> Error {
        Error::config(format!(
            "credential helper {} ({}): {message}",
            self.program_name,
            self.program.display()
        ))
    }

    fn failed(&self, what: &str, status: &ExitStatus, message: &str) -> Error {
        let message = if message.is_empty() {
            "(no message)".to_owned()
        } else {
            message.to_owned()
        };
        self.error(format!("{what}: failed ({status}): {message}"))
    }

    /// Runs `program action`, writing `input` to its stdin, within the timeout.
    fn run(&self, action: &str, input: &[u8], what: &str) -> Result<Output> {
        let mut cmd = Command::new(&self.program);
        cmd.arg(action)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = spawn(&mut cmd).map_err(|e| {
            let message = if e.kind() == std::io::ErrorKind::NotFound {
                if self.program.components().count() > 1 {
                    "not found".to_owned()
                } else {
                    "not found on PATH".to_owned()
                }
            } else {
                format!("cannot be started: {e}")
            };
            Error::Config {
                message: format!(
                    "credential helper {} ({}): {what}: {message}",
                    self.program_name,
                    self.program.display()
                ),
                source: Some(Box::new(e)),
            }
        })?;
        let deadline = Instant::now() + self.timeout;
        // stdin, stdout and stderr each on a thread: a helper that does not
        // read its input or fills a pipe never blocks this one.
        if let Some(mut stdin) = child.stdin.take() {
            let input = input.to_vec();
            std::thread::spawn(move || {
                // A helper that exits without reading is judged by its exit status.
                let _ = stdin.write_all(&input);
            });
        }
        let stdout = reader(child.stdout.take(), STDOUT_LIMIT);
        let stderr = reader(child.stderr.take(), STDERR_LIMIT);
        let status = match wait_until(&mut child, deadline) {
            Ok(Some(status)) => status,
            Ok(None) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(self.error(format!(
                    "{what}: no answer within {:?}; the helper was killed",
                    self.timeout
                )));
            }
            Err(e) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(Error::Config {
                    message: format!(
                        "credential helper {} ({}): {what}: waiting for it failed",
                        self.program_name,
                        self.program.display()
                    ),
                    source: Some(Box::new(e)),
                });
            }
        };
        // The helper has exited; its output is complete unless something it
        // started still holds the pipes, which gets a short grace period.
        let grace = deadline
            .saturating_duration_since(Instant::now())
            .max(Duration::from_millis(500));
        let collect = |rx: mpsc::Receiver<std::io::Result<Vec<u8>>>, which: &str| match rx
            .recv_timeout(grace)
        {
            Ok(Ok(bytes)) => Ok(bytes),
            Ok(Err(e)) => Err(Error::Config {
                message: format!(
                    "credential helper {} ({}): {what}: reading its {which} failed",
                    self.program_name,
                    self.program.display()
                ),
                source: Some(Box::new(e)),
            }),
            Err(_) => Err(self.error(format!("{what}: its {which} stayed open after it exited"))),
        };
        Ok(Output {
            status,
            stdout: collect(stdout, "output")?,
            stderr: collect(stderr, "error output")?,
        })
    }
}

struct Output {
    status: ExitStatus,
    stdout: Vec<u8>,
    stderr: Vec<u8>,
}

fn program_name(name: &str) -> Result<String> {
    if name.is_empty()
        || name.contains(['/', '\\'])
        || name.chars().any(|c| c.is_control() || c.is_whitespace())
        || name == "."
        || name == ".."
    {
        return Err(Error::config(format!(
            "{name:?} is not a credential helper name (expected a plain name such as \"pass\")"
        )));
    }
    Ok(format!("docker-credential-{name}"))
}

/// Spawns, retrying briefly when the program file is still open for writing
/// by another thread's fork (`ETXTBSY`, seen when a helper script has just
/// been written).
fn spawn(cmd: &mut Command) -> std::io::Result<Child> {
    let mut tries = 0;
    loop {
        match cmd.spawn() {
            Err(e) if e.kind() == std::io::ErrorKind::ExecutableFileBusy && tries < 20 => {
                tries += 1;
                std::thread::sleep(Duration::from_millis(10 * tries));
            }
            other => return other,
        }
    }
}

/// Waits for the child until `deadline`; `None` when it is still running.
fn wait_until(child: &mut Child, deadline: Instant) -> std::io::Result<Option<ExitStatus>> {
    let mut pause = Duration::from_millis(1);
    loop {
        if let Some(status) = child.try_wait()? {
            return Ok(Some(status));
        }
        let now = Instant::now();
        if now >= deadline {
            return Ok(None);
        }
        std::thread::sleep(pause.min(deadline - now));
        pause = (pause * 2).min(Duration::from_millis(50));
    }
}

/// Reads a pipe to its end (at most `limit` bytes kept) on its own thread.
fn reader<R: Read + Send + 'static>(
    pipe: Option<R>,
    limit: u64,
) -> mpsc::Receiver<std::io::Result<Vec<u8>>> {
    let (tx, rx) = mpsc::channel();
    match pipe {
        Some(pipe) => {
            std::thread::spawn(move || {
                let mut buf = Vec::new();
                let mut limited = pipe.take(limit);
                let result = limited.read_to_end(&mut buf).map(|_| buf);
                // Drain the rest so the helper never blocks on a full pipe.
                let mut rest = limited.into_inner();
                let _ = std::io::copy(&mut rest, &mut std::io::sink());
                let _ = tx.send(result);
            });
        }
        None => {
            let _ = tx.send(Ok(Vec::new()));
        }
    }
    rx
}

/// A failing helper's message: its stdout (where the protocol puts errors),
/// else its stderr; one line, trimmed, bounded.
fn failure_message(out: &Output) -> String {
    let pick = |b: &[u8]| String::from_utf8_lossy(b).trim().to_owned();
    let mut text = pick(&out.stdout);
    if text.is_empty() {
        text = pick(&out.stderr);
    }
    let one_line: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if one_line.chars().count() > MESSAGE_LIMIT {
        let cut: String = one_line.chars().take(MESSAGE_LIMIT).collect();
        format!("{cut}…")
    } else {
        one_line
    }
}

#[cfg(all(test, unix))]
pub(crate) mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    /// A fresh directory for helper scripts.
    pub(crate) fn tempdir(tag: &str) -> PathBuf {
        static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let d =
            std::env::temp_dir().join(format!("dockhand-auth-{tag}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    /// Writes an executable `docker-credential-<name>` shell script.
    pub(crate) fn write_helper(dir: &Path, name: &str, body: &str) {
        let path = dir.join(format!("docker-credential-{name}"));
        {
            let mut f = std::fs::File::create(&path).unwrap();
            f.write_all(format!("#!/bin/sh\n{body}\n").as_bytes())
                .unwrap();
            f.sync_all().unwrap();
        }
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }

    /// A helper storing `user`/`secret` for `server` (and a token for `tok.example`).
    pub(crate) const STORE: &str = r#"
case "$1" in
get)
  read -r server
  case "$server" in
    127.0.0.1:5001) echo '{"ServerURL":"127.0.0.1:5001","Username":"dockhand","Secret":"p+s/w?rd>>>"}' ;;
    tok.example) echo '{"ServerURL":"tok.example","Username":"<token>","Secret":"the-identity-token"}' ;;
    empty.example) echo '{"ServerURL":"empty.example","Username":"","Secret":""}' ;;
    *) echo "credentials not found in native keychain"; exit 1 ;;
  esac ;;
list)
  echo '{"127.0.0.1:5001":"dockhand","tok.example":"<token>"}' ;;
*) echo "unknown action $1" >&2; exit 2 ;;
esac"#;

    #[test]
    fn get_and_list_speak_the_protocol() {
        let dir = tempdir("proto");
        write_helper(&dir, "store", STORE);
        let h = CredentialHelper::in_dir("store", &dir).unwrap();
        let c = h.get("127.0.0.1:5001").unwrap().expect("stored");
        assert_eq!(c.username.as_deref(), Some("dockhand"));
        assert_eq!(c.password.as_deref(), Some("p+s/w?rd>>>"));
        assert_eq!(c.serveraddress.as_deref(), Some("127.0.0.1:5001"));
        assert_eq!(c.identitytoken, None);
        // `<token>` means an identity token, not a user.
        let t = h.get("tok.example").unwrap().expect("token");
        assert_eq!(t.identitytoken.as_deref(), Some("the-identity-token"));
        assert_eq!(t.username, None);
        assert_eq!(t.password, None);
        // Not found, and an empty answer, are anonymous.
        assert_eq!(h.get("other.example").unwrap(), None);
        assert_eq!(h.get("empty.example").unwrap(), None);
        let all = h.list().unwrap();
        assert_eq!(all.len(), 2);
        assert_eq!(all["127.0.0.1:5001"], "dockhand");
    }

    #[test]
    fn the_server_address_arrives_on_stdin() {
        let dir = tempdir("stdin");
        // Echo the server back as the user name, with a newline-free read.
        write_helper(
            &dir,
            "echo",
            r#"read -r s; printf '{"ServerURL":"%s","Username":"%s","Secret":"x"}' "$s" "$s""#,
        );
        let h = CredentialHelper::in_dir("echo", &dir).unwrap();
        let c = h.get("https://index.docker.io/v1/").unwrap().unwrap();
        assert_eq!(c.username.as_deref(), Some("https://index.docker.io/v1/"));
    }

    #[test]
    fn a_crashing_helper_is_a_clear_error_naming_it() {
        let dir = tempdir("crash");
        write_helper(
            &dir,
            "crash",
            "echo 'keychain is locked' >&2; kill -SEGV $$",
        );
        let h = CredentialHelper::in_dir("crash", &dir).unwrap();
        let e = h.get("127.0.0.1:5001").unwrap_err();
        let text = e.to_string();
        assert!(matches!(e, Error::Config { .. }), "{e:?}");
        assert!(text.contains("docker-credential-crash"), "{text}");
        assert!(text.contains("get 127.0.0.1:5001"), "{text}");
        assert!(text.contains("keychain is locked"), "{text}");
        assert!(text.contains("signal"), "{text}");

        write_helper(&dir, "fail", "echo 'no such key'; exit 3");
        let e = CredentialHelper::in_dir("fail", &dir)
            .unwrap()
            .list()
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("docker-credential-fail")
                && e.contains("exit status: 3")
                && e.contains("no such key"),
            "{e}"
        );
    }

    #[test]
    fn bad_answers_are_errors_that_do_not_quote_the_secret() {
        let dir = tempdir("badjson");
        write_helper(
            &dir,
            "bad",
            r#"echo '{"ServerURL":"x","Username":"u","Secret":12345}'"#,
        );
        let e = CredentialHelper::in_dir("bad", &dir)
            .unwrap()
            .get("x")
            .unwrap_err();
        let text = format!("{e} {e:?}");
        assert!(text.contains("docker-credential-bad"), "{text}");
        assert!(!text.contains("12345"), "{text}");
        write_helper(&dir, "garbage", "echo 'hunter2 is my password'");
        let e = CredentialHelper::in_dir("garbage", &dir)
            .unwrap()
            .get("x")
            .unwrap_err();
        let text = format!("{e} {e:?}");
        assert!(!text.contains("hunter2"), "{text}");
    }

    #[test]
    fn a_missing_helper_says_where_it_looked() {
        let dir = tempdir("missing");
        let e = CredentialHelper::in_dir("nope", &dir)
            .unwrap()
            .get("x")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("docker-credential-nope") && e.contains("not found"),
            "{e}"
        );
        let e = CredentialHelper::new("dockhand-surely-not-installed")
            .unwrap()
            .get("x")
            .unwrap_err()
            .to_string();
        assert!(e.contains("not found on PATH"), "{e}");
        for bad in ["", "a/b", "..", "a b", "a\\b"] {
            assert!(CredentialHelper::new(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn a_hanging_helper_is_killed_at_the_timeout() {
        let dir = tempdir("hang");
        // Does not read stdin and never answers.
        write_helper(&dir, "hang", "exec sleep 30");
        let h = CredentialHelper::in_dir("hang", &dir)
            .unwrap()
            .timeout(Duration::from_millis(300));
        let start = Instant::now();
        let e = h.get("x").unwrap_err().to_string();
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "{:?}",
            start.elapsed()
        );
        assert!(
            e.contains("docker-credential-hang") && e.contains("killed"),
            "{e}"
        );
        // A helper that exits but leaves a child holding its stdout.
        write_helper(&dir, "orphan", "sleep 5 & echo '{}'");
        let h = CredentialHelper::in_dir("orphan", &dir)
            .unwrap()
            .timeout(Duration::from_millis(300));
        let start = Instant::now();
        let e = h.get("x").unwrap_err().to_string();
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "{:?}",
            start.elapsed()
        );
        assert!(e.contains("stayed open"), "{e}");
    }

    #[test]
    fn debug_shows_no_secret() {
        let h = CredentialHelper::new("pass").unwrap();
        let d = format!("{h:?}");
        assert!(d.contains("docker-credential-pass"), "{d}");
    }
}
