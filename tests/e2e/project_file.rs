//! Bad project files exit 2 naming file, line and column; secrets never show.

use super::common::*;

fn expect_error_at(toml: &str, line: usize, col: usize, needle: &str) {
    let f = Fixture::example("quickstart");
    f.write("godwit.toml", toml);
    for cmd in ["plan", "run", "validate"] {
        let r = f.godwit(&[cmd, &f.arg()]);
        assert_eq!(r.code, 2, "{cmd}: {}", r.all());
        let at = format!("godwit.toml:{line}:{col}:");
        assert!(
            r.stderr.contains(&at),
            "{cmd}: expected {at} in {}",
            r.stderr
        );
        assert!(
            r.stderr.contains(needle),
            "{cmd}: expected {needle:?} in {}",
            r.stderr
        );
    }
}

#[test]
fn unknown_key_is_reported_with_line_and_column() {
    expect_error_at(
        "[project]\nname = \"x\"\n\n[connections.app]\ndsn = \"sqlite://a.db\"\ndsm = \"typo\"\n",
        6,
        1,
        "unknown field `dsm`",
    );
}

#[test]
fn syntax_error_is_reported_with_line_and_column() {
    expect_error_at("[project]\nname = \"x\"\n[[steps]\n", 3, 8, "");
}

#[test]
fn dangling_reference_is_reported_with_line_and_column() {
    let toml = "[project]\nname = \"x\"\n\n[plugins.a]\npath = \"builtin:sqlite-source\"\n\n[[steps]]\nname = \"s\"\nsource = \"a\"\ntarget = \"nope\"\n";
    expect_error_at(toml, 10, 10, "no plugin named \"nope\"");
}

#[test]
fn unknown_builtin_and_bad_mode_are_reported() {
    expect_error_at(
        "[project]\nname = \"x\"\n[plugins.a]\npath = \"builtin:nope\"\n",
        4,
        8,
        "unknown built-in plugin",
    );
    let toml = "[project]\nname = \"x\"\n[plugins.a]\npath = \"builtin:sqlite-source\"\n[[steps]]\nname = \"s\"\nsource = \"a\"\ntarget = \"a\"\nmode = \"overwrite\"\n";
    expect_error_at(toml, 9, 8, "unknown variant `overwrite`");
}

#[test]
fn params_a_plugin_refuses_are_a_usage_error() {
    let f = Fixture::example("quickstart");
    let toml = std::fs::read_to_string(f.path().join("godwit.toml")).unwrap();
    f.write(
        "godwit.toml",
        &toml.replace(", to = \"s3://meetings/uploads/\"", ", too = 1"),
    );
    let r = f.godwit(&["run", &f.arg()]);
    assert_eq!(r.code, 2, "{}", r.all());
    assert!(
        r.stderr.contains("plugin audio-path refused its params"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("unknown field `too`"), "{}", r.stderr);
}

#[test]
fn missing_project_file_is_a_usage_error() {
    let f = Fixture::empty();
    let r = f.godwit(&["plan", &f.arg()]);
    assert_eq!(r.code, 2, "{}", r.all());
    assert!(r.stderr.contains("godwit.toml"), "{}", r.stderr);
}

#[test]
fn bad_command_line_is_a_usage_error() {
    let f = Fixture::empty();
    assert_eq!(f.godwit(&["frobnicate"]).code, 2);
    let help = f.godwit(&["--help"]);
    assert_eq!(help.code, 0);
    assert!(
        help.stdout.contains("Exit codes:") && help.stdout.contains("3  runtime failure"),
        "{}",
        help.stdout
    );
}

/// A password reaches godwit only through the environment and must not appear
/// in any output, at any log level, nor in any file godwit writes.
#[test]
fn dsn_passwords_never_appear() {
    const PW: &str = "Sup3r-S3cret-pw";
    let f = Fixture::example("quickstart");
    let toml = std::fs::read_to_string(f.path().join("godwit.toml")).unwrap();
    // An extra connection with a password, granted to the validator (so it is
    // resolved and used) and a malformed one in a DSN parameter.
    let toml = toml
        .replace(
            "[connections.copy]",
            "[connections.remote]\ndsn = \"postgres://app:${GODWIT_TEST_PW}@127.0.0.1:9/app?password=${GODWIT_TEST_PW}\"\n\n[connections.copy]",
        )
        .replace(
            "grants.sql = { source = \"app\", target = \"copy\" }",
            "grants.sql = { source = \"remote\", target = \"copy\" }",
        )
        // A store and an HTTP host whose credentials are the same secret.
        .replace(
            "[plugins.app-source]",
            "[stores.bucket]\ntype = \"s3\"\nbucket = \"b\"\nendpoint = \"http://127.0.0.1:9\"\n\
             access_key_env = \"GODWIT_TEST_KEY\"\nsecret_key_env = \"GODWIT_TEST_PW\"\n\n\
             [hosts.app]\nurl = \"http://127.0.0.1:9/\"\nheaders_env = { authorization = \"GODWIT_TEST_PW\" }\n\n\
             [plugins.app-source]",
        );
    f.write("godwit.toml", &toml);
    let env = [
        ("GODWIT_TEST_PW", PW),
        ("GODWIT_TEST_KEY", "AKID"),
        ("GODWIT_LOG", "trace"),
    ];
    let mut seen_redacted = false;
    // Every command that reads a project (init writes one: run it on a subfolder).
    for args in [
        vec!["-vvv", "plan"],
        vec!["-vvv", "--json", "plan"],
        vec!["-vvv", "run"],
        vec!["-vvv", "--json", "run"],
        vec!["-vvv", "validate"],
        vec!["-vvv", "--json", "validate"],
        vec!["plugins", "list", "--dir"],
        vec!["plugins", "inspect", "row-count", "--dir"],
        vec!["--json", "plugins", "inspect", "row-count", "--dir"],
    ] {
        let mut a: Vec<&str> = args.clone();
        let dir = f.arg();
        a.push(&dir);
        let r = f.godwit_env(&a, &env);
        assert!(
            !r.all().contains(PW),
            "password leaked by {args:?}:\n{}",
            r.all()
        );
        seen_redacted |= r.all().contains("app:***@127.0.0.1");
    }
    assert!(seen_redacted, "the redacted DSN should be shown somewhere");
    let init = f.godwit_env(&["init", &f.path().join("new").display().to_string()], &env);
    assert_eq!(init.code, 0, "{}", init.all());
    assert!(!init.all().contains(PW));
    // A parameter the driver does not know is refused (drivers echo such
    // values into their logs), again without showing the secret.
    f.write("godwit.toml", &toml.replace("?password=", "?sslpassword="));
    let dir = f.arg();
    let r = f.godwit_env(&["-vvv", "run", &dir], &env);
    assert_eq!(r.code, 2, "{}", r.all());
    assert!(
        r.stderr.contains("unsupported parameter \"sslpassword\""),
        "{}",
        r.stderr
    );
    assert!(!r.all().contains(PW), "password leaked:\n{}", r.all());
    for (file, _) in tree_hashes(f.path()) {
        let bytes = std::fs::read(f.path().join(&file)).unwrap();
        assert!(
            !String::from_utf8_lossy(&bytes).contains(PW),
            "password written to {file}"
        );
    }
}

/// Issue 20 item 1 (the configurations that exited 0 on ccbea0b): a cast
/// naming a column that does not exist, a type cast that matches nothing,
/// `drop_columns`/`columns`/`rename` naming nothing, a grant under a label
/// the plugin does not request, and a copy from a folder that does not
/// exist are refused by `plan` and `run` (exit 2) before anything is
/// written, each with the closest name.
#[test]
fn options_that_name_nothing_are_refused_before_anything_runs() {
    let base = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../examples/quickstart/godwit.toml"),
    )
    .unwrap();
    let step_extra = |extra: &str| {
        base.replace(
            "mode = \"replace\"\n",
            &format!("mode = \"replace\"\n{extra}\n"),
        )
    };
    let cases: Vec<(String, &str)> = vec![
        (
            step_extra("casts = [{ column = \"tasks.create_at\", to = \"timestamptz\" }]"),
            "casts \"tasks.create_at\": table tasks has no column \"create_at\" (did you mean \"created_at\"?)",
        ),
        (
            step_extra("casts = [{ type = \"DATETME\", to = \"timestamptz\" }]"),
            "casts: type \"DATETME\" matches no column of the step's tables (did you mean \"DATETIME\"?)",
        ),
        (
            step_extra("drop_columns = [\"user.email\"]"),
            "drop_columns \"user.email\": table \"user\" is not copied by this step (did you mean \"users\"?)",
        ),
        (
            step_extra("rename = { taks = \"jobs\" }"),
            "rename \"taks\": table \"taks\" is not copied by this step (did you mean \"tasks\"?)",
        ),
        (
            base.replace("grants.sql = { target = \"copy\" }", "grants.sql = { targt = \"copy\" }"),
            "grants.sql names \"targt\", which plugin copy-target does not request, and it requests \"target\"",
        ),
    ];
    for (toml, needle) in cases {
        let f = Fixture::example("quickstart");
        f.write("godwit.toml", &toml);
        for cmd in ["plan", "run"] {
            let r = f.godwit(&[cmd, &f.arg()]);
            assert_eq!(r.code, 2, "{cmd}: {}", r.all());
            assert!(
                r.stderr.contains(needle),
                "{cmd}: expected {needle:?} in {}",
                r.stderr
            );
        }
        assert!(!f.path().join("out/app.db").exists(), "nothing written");
    }

    let f = Fixture::empty();
    std::fs::create_dir_all(f.path().join("uploads")).unwrap();
    folder_copy_project(&f, "");
    f.write(
        "godwit.toml",
        &std::fs::read_to_string(f.path().join("godwit.toml"))
            .unwrap()
            .replace("root = \"src\"", "root = \"upload\""),
    );
    let r = f.godwit(&["run", &f.arg()]);
    assert_eq!(r.code, 2, "{}", r.all());
    assert!(
        r.stderr
            .contains("does not exist (did you mean \"uploads\"?)"),
        "{}",
        r.stderr
    );
}

/// Issue 20 (small): `godwit plan dir/godwit.toml` failed with
/// `…/godwit.toml/godwit.toml: Not a directory`; the file's folder is the
/// project. `--help` opened with "a thin layer over godwit-host".
#[test]
fn the_project_file_itself_names_its_project_and_help_says_what_godwit_does() {
    let f = Fixture::example("quickstart");
    let file = f.path().join("godwit.toml").display().to_string();
    let by_file = f.godwit(&["--json", "plan", &file]);
    assert_eq!(by_file.code, 0, "{}", by_file.all());
    let by_dir = f.godwit(&["--json", "plan", &f.arg()]);
    assert_eq!(by_dir.code, 0, "{}", by_dir.all());
    let steps = |r: &godwit_tests::Run| -> serde_json::Value {
        serde_json::from_str::<serde_json::Value>(&r.stdout).unwrap()["steps"].clone()
    };
    assert_eq!(steps(&by_file), steps(&by_dir));
    assert_eq!(steps(&by_file)[0]["tables"].as_array().unwrap().len(), 4);
    let help = f.godwit(&["--help"]);
    assert_eq!(help.code, 0, "{}", help.all());
    let first = help.stdout.lines().next().unwrap_or_default();
    assert!(
        first.contains("moves data between databases and object stores")
            && !help.stdout.contains("thin layer"),
        "{first}"
    );
}
