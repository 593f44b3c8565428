//! The binary's command line: configuration errors, import, version.

use std::process::Command;

fn erratum(dir: &std::path::Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_erratum"));
    cmd.current_dir(dir).env_remove("RUST_LOG");
    for (k, _) in std::env::vars() {
        if k.starts_with("ERRATUM__") {
            cmd.env_remove(k);
        }
    }
    cmd
}

#[test]
fn invalid_settings_stop_with_one_line_and_exit_code_2() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        ("ERRATUM__SERVER__PORT", "abc", "server.port"),
        ("ERRATUM__DATABASE__URL", "mysql://x", "database.url"),
        (
            "ERRATUM__INTAKE__RATE_LIMIT__PER_IP_PER_MINUTE",
            "0",
            "intake.rate_limit.per_ip_per_minute",
        ),
        (
            "ERRATUM__SERVER__PUBLIC_URL",
            "ftp://x",
            "server.public_url",
        ),
        ("ERRATUM__LOG__FORMAT", "xml", "log.format"),
        ("ERRATUM__UI__TIME_ZONE", "Europe/Atlantis", "ui.time_zone"),
        ("ERRATUM__SERVER__NO_SUCH_KEY", "1", "no_such_key"),
    ];
    for (key, value, named) in cases {
        let out = erratum(dir.path())
            .arg("serve")
            .env(key, value)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{key}={value}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(stderr.trim().lines().count(), 1, "{key}: {stderr}");
        assert!(stderr.contains(named), "{key}: {stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
    let out = erratum(dir.path())
        .args(["--config", "/no/such/file.toml", "migrate"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let file = dir.path().join("bad.toml");
    std::fs::write(&file, "[database]\npool_size = 0\n").unwrap();
    let out = erratum(dir.path())
        .args(["--config", file.to_str().unwrap(), "migrate"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("database.pool_size"));
}

#[test]
fn a_config_file_and_the_environment_override_defaults() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("from-file.db");
    let file = dir.path().join("erratum.toml");
    std::fs::write(
        &file,
        format!("[database]\nurl = \"sqlite://{}\"\n", db.display()),
    )
    .unwrap();
    let out = erratum(dir.path())
        .args(["--config", file.to_str().unwrap(), "migrate"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(db.exists(), "the file's database.url was used");
    let env_db = dir.path().join("sub/from-env.db");
    let out = erratum(dir.path())
        .args(["--config", file.to_str().unwrap(), "migrate"])
        .env(
            "ERRATUM__DATABASE__URL",
            format!("sqlite://{}", env_db.display()),
        )
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(
        env_db.exists(),
        "the environment overrides the file, and the folder is created"
    );
}

#[test]
fn import_takes_the_first_paragraph_as_title_and_is_idempotent() {
    let dir = tempfile::tempdir().unwrap();
    let fixture = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/article-fr-coree-du-nord.txt"
    );
    let import = || {
        erratum(dir.path())
            .args([
                "article",
                "import",
                fixture,
                "--external-id",
                "coree",
                "--lang",
                "fr",
                "--url",
                "https://news.example/coree",
            ])
            .output()
            .unwrap()
    };
    let out = import();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "coree created: revision 1, 12 sentences"
    );
    assert!(
        dir.path().join("data/erratum.db").exists(),
        "default database under ./data"
    );
    let out = import();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "coree unchanged: revision 1, 12 sentences"
    );

    let out = erratum(dir.path())
        .args([
            "article",
            "import",
            fixture,
            "--external-id",
            "bad id",
            "--lang",
            "fr",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("external_id"));
}

#[test]
fn version_and_help() {
    let dir = tempfile::tempdir().unwrap();
    let out = erratum(dir.path()).arg("--version").output().unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        format!("erratum {}", env!("CARGO_PKG_VERSION"))
    );
    let out = erratum(dir.path()).arg("--help").output().unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    for cmd in ["serve", "migrate", "article"] {
        assert!(help.contains(cmd), "{help}");
    }
}

/// `erratum outbox list | head -1`: a reader that closes the pipe ends the
/// listing quietly (it panicked on EPIPE).
#[test]
fn outbox_list_into_a_closed_pipe_ends_quietly() {
    use std::process::Stdio;
    let dir = tempfile::tempdir().unwrap();
    let out = erratum(dir.path()).arg("migrate").output().unwrap();
    assert!(out.status.success(), "{out:?}");
    let mut child = erratum(dir.path())
        .args(["outbox", "list"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Close the reading end before the command writes anything.
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(out.status.success(), "{:?}: {stderr}", out.status);
}
