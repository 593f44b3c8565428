//! `erratum editor add|list|disable|enable|password`, run as the binary.

use std::io::Write;
use std::process::{Command, Output, Stdio};

fn erratum(dir: &std::path::Path, args: &[&str], stdin: Option<&str>) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_erratum"));
    cmd.current_dir(dir).env_remove("RUST_LOG");
    for (k, _) in std::env::vars() {
        if k.starts_with("ERRATUM__") {
            cmd.env_remove(k);
        }
    }
    cmd.env("ERRATUM__DATABASE__URL", "sqlite://data/cli.db")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    let mut input = child.stdin.take().unwrap();
    if let Some(text) = stdin {
        input.write_all(text.as_bytes()).unwrap();
    }
    drop(input);
    child.wait_with_output().unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stored_hash(dir: &std::path::Path, email: &str) -> (String, bool) {
    use diesel::prelude::*;
    use erratum::db::schema::editors;
    let (pool, _) = erratum::db::connect(
        &format!("sqlite://{}", dir.join("data/cli.db").display()),
        1,
        std::time::Duration::from_secs(5),
    )
    .unwrap();
    editors::table
        .filter(editors::email.eq(email))
        .select((editors::password_hash, editors::disabled))
        .first(&mut *pool.get().unwrap())
        .unwrap()
}

#[test]
fn editors_are_managed_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let add = [
        "editor",
        "add",
        "--email",
        "Ana@News.Example",
        "--name",
        "Ana Martin",
        "--role",
        "editor",
        "--desk",
        "international",
        "--desk",
        "politique",
    ];
    let o = erratum(d, &add, Some("une phrase de passe solide\n"));
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(stdout(&o).contains("created editor ana@news.example"));
    let (hash, disabled) = stored_hash(d, "ana@news.example");
    assert!(hash.starts_with("$argon2id$") && !disabled);
    assert!(erratum::auth::password::verify(
        "une phrase de passe solide",
        Some(&hash)
    ));
    assert!(
        !stdout(&o).contains("une phrase"),
        "the password is never echoed"
    );

    // The same address again, a short password, a password as an argument.
    let o = erratum(d, &add, Some("une phrase de passe solide\n"));
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("already exists"));
    let mut other = add;
    other[3] = "bob@news.example";
    let o = erratum(d, &other, Some("court\n"));
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("at least 12"));
    let mut with_arg: Vec<&str> = other.to_vec();
    with_arg.extend(["--password", "une phrase de passe solide"]);
    let o = erratum(d, &with_arg, None);
    assert_eq!(o.status.code(), Some(2), "no --password argument");
    let o = erratum(
        d,
        &[
            "editor",
            "add",
            "--email",
            "x@news.example",
            "--name",
            "X",
            "--role",
            "root",
        ],
        Some("une phrase de passe solide\n"),
    );
    assert_eq!(o.status.code(), Some(2));

    let o = erratum(d, &["editor", "list"], None);
    let out = stdout(&o);
    let line = out
        .lines()
        .find(|l| l.contains("ana@news.example"))
        .unwrap();
    assert!(
        line.contains("Ana Martin\teditor\tinternational,politique\tactive"),
        "{line}"
    );
    assert!(!out.contains("bob@"));

    let o = erratum(d, &["editor", "disable", "ana@news.example"], None);
    assert!(o.status.success());
    assert!(stored_hash(d, "ana@news.example").1);
    assert!(stdout(&erratum(d, &["editor", "list"], None)).contains("\tdisabled"));
    let o = erratum(d, &["editor", "enable", "ANA@news.example"], None);
    assert!(o.status.success());
    assert!(!stored_hash(d, "ana@news.example").1);
    let o = erratum(d, &["editor", "disable", "nobody@news.example"], None);
    assert_eq!(o.status.code(), Some(1));

    let o = erratum(
        d,
        &["editor", "password", "ana@news.example"],
        Some("une autre phrase secrète\n"),
    );
    assert!(o.status.success());
    let (hash, _) = stored_hash(d, "ana@news.example");
    assert!(erratum::auth::password::verify(
        "une autre phrase secrète",
        Some(&hash)
    ));
}

#[test]
fn bad_auth_settings_stop_the_start_naming_the_key() {
    let dir = tempfile::tempdir().unwrap();
    for (key, value, named) in [
        ("ERRATUM__AUTH__SESSION_HOURS", "0", "auth.session_hours"),
        (
            "ERRATUM__AUTH__SESSION_HOURS",
            "100000",
            "auth.session_hours",
        ),
        (
            "ERRATUM__AUTH__COOKIE_SECURE",
            "sometimes",
            "auth.cookie_secure",
        ),
        (
            "ERRATUM__AUTH__LOGIN_PER_IP_PER_MINUTE",
            "0",
            "auth.login_per_ip_per_minute",
        ),
    ] {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_erratum"));
        cmd.current_dir(dir.path()).env_remove("RUST_LOG");
        for (k, _) in std::env::vars() {
            if k.starts_with("ERRATUM__") {
                cmd.env_remove(k);
            }
        }
        let out = cmd
            .args(["editor", "list"])
            .env(key, value)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{key}={value}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
        assert!(stderr.contains(named), "{key}: {stderr}");
    }
}
