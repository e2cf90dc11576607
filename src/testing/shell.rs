//! The few commands the fake understands when nothing scripted a container
//! or an exec: `echo` (with `>&2`), `exit N`, `true`, `false`, `sleep N`,
//! `cat`, `tty`, alone or as `sh -c 'a; b; …'`.

use std::time::Duration;

/// One effect of an understood command.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Op {
    /// Output on stdout (1) or stderr (2).
    Out(u8, String),
    Sleep(Duration),
    /// Copies stdin to stdout until EOF.
    Cat,
    /// The process ends with this code (always the last op).
    Exit(i64),
}

/// What `path args…` does, or `None` when the fake does not understand it.
pub(crate) fn interpret(path: &str, args: &[String], tty: bool) -> Option<Vec<Op>> {
    let base = path.rsplit('/').next().unwrap_or(path);
    let statements: Vec<Vec<String>> = if matches!(base, "sh" | "bash" | "ash") {
        match args {
            [c, script] if c == "-c" => split_statements(script)?,
            _ => return None,
        }
    } else {
        let mut words = vec![base.to_string()];
        words.extend(args.iter().cloned());
        vec![words]
    };
    let top_level = !matches!(base, "sh" | "bash" | "ash");
    let mut ops = Vec::new();
    let mut status = 0;
    for words in statements {
        let Some((cmd, rest)) = words.split_first() else {
            continue;
        };
        let (rest, stream) = redirect(rest);
        match cmd.as_str() {
            "echo" => {
                let (newline, rest) = match rest.first().map(String::as_str) {
                    Some("-n") => (false, &rest[1..]),
                    _ => (true, &rest[..]),
                };
                let mut text = rest.join(" ");
                if newline {
                    text.push('\n');
                }
                if let Some(s) = stream {
                    ops.push(Op::Out(s, text));
                }
                status = 0;
            }
            "exit" => {
                let code = match rest.first() {
                    Some(n) => n.parse::<i64>().ok()? & 0xff,
                    None => status,
                };
                ops.push(Op::Exit(code));
                return Some(ops);
            }
            "true" | ":" => status = 0,
            "false" => status = 1,
            "sleep" => {
                let secs: f64 = rest.first()?.parse().ok()?;
                if !(0.0..=1e6).contains(&secs) {
                    return None;
                }
                ops.push(Op::Sleep(Duration::from_secs_f64(secs)));
                status = 0;
            }
            "cat" if rest.is_empty() => {
                ops.push(Op::Cat);
                status = 0;
            }
            "tty" => {
                if tty {
                    ops.push(Op::Out(1, "/dev/pts/0\n".into()));
                    status = 0;
                } else {
                    ops.push(Op::Out(1, "not a tty\n".into()));
                    status = 1;
                }
            }
            _ if top_level => return None,
            other => {
                ops.push(Op::Out(2, format!("sh: {other}: not found\n")));
                status = 127;
            }
        }
    }
    ops.push(Op::Exit(status));
    Some(ops)
}

/// Strips a trailing `>&2` / `1>&2` / `>/dev/null`; the stream written to
/// (`None`: discarded).
fn redirect(words: &[String]) -> (Vec<String>, Option<u8>) {
    let mut out = Vec::new();
    let mut stream = Some(1);
    for w in words {
        match w.as_str() {
            ">&2" | "1>&2" => stream = Some(2),
            ">/dev/null" | "1>/dev/null" => stream = None,
            _ => out.push(w.clone()),
        }
    }
    (out, stream)
}

/// Splits a script into statements of words (`;` and newlines separate;
/// single and double quotes group). `None` for what is beyond it (pipes,
/// `&&`, substitutions, unbalanced quotes).
fn split_statements(script: &str) -> Option<Vec<Vec<String>>> {
    let mut statements = Vec::new();
    let mut words: Vec<String> = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut chars = script.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                in_word = true;
                loop {
                    match chars.next()? {
                        '\'' => break,
                        ch => word.push(ch),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next()? {
                        '"' => break,
                        '$' | '`' => return None,
                        '\\' => word.push(chars.next()?),
                        ch => word.push(ch),
                    }
                }
            }
            '|' | '&' if !(c == '&' && word.ends_with('>')) => return None,
            '$' | '`' | '(' | ')' | '<' | '*' | '?' => return None,
            ';' | '\n' => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
                statements.push(std::mem::take(&mut words));
            }
            c if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            c => {
                in_word = true;
                word.push(c);
            }
        }
    }
    if in_word {
        words.push(word);
    }
    statements.push(words);
    Some(statements.into_iter().filter(|s| !s.is_empty()).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sh(script: &str) -> Option<Vec<Op>> {
        interpret("sh", &["-c".into(), script.into()], false)
    }

    #[test]
    fn understands_small_scripts() {
        assert_eq!(
            sh("echo out; echo err >&2; exit 3"),
            Some(vec![
                Op::Out(1, "out\n".into()),
                Op::Out(2, "err\n".into()),
                Op::Exit(3)
            ])
        );
        assert_eq!(
            sh("echo 'a  b'; sleep 0.5; false"),
            Some(vec![
                Op::Out(1, "a  b\n".into()),
                Op::Sleep(Duration::from_millis(500)),
                Op::Exit(1)
            ])
        );
        assert_eq!(
            sh("nope"),
            Some(vec![
                Op::Out(2, "sh: nope: not found\n".into()),
                Op::Exit(127)
            ])
        );
        assert_eq!(
            interpret("echo", &["hi".into()], false),
            Some(vec![Op::Out(1, "hi\n".into()), Op::Exit(0)])
        );
        assert_eq!(
            interpret("/bin/cat", &[], false),
            Some(vec![Op::Cat, Op::Exit(0)])
        );
        assert_eq!(
            interpret("tty", &[], true),
            Some(vec![Op::Out(1, "/dev/pts/0\n".into()), Op::Exit(0)])
        );
    }

    #[test]
    fn refuses_what_it_does_not_understand() {
        assert_eq!(interpret("nginx", &[], false), None);
        assert_eq!(sh("echo $HOME"), None);
        assert_eq!(sh("ls | wc -l"), None);
        assert_eq!(sh("true && echo x"), None);
        assert_eq!(sh("echo 'unbalanced"), None);
        assert_eq!(sh("exit nope"), None);
        assert_eq!(interpret("sleep", &["forever".into()], false), None);
    }
}
