//! The real binary over a real socket: `serve --demo` on SQLite and PostgreSQL (health, login,
//! push, the PWA, graceful shutdown), and the operator commands.

mod common;

use std::io::{BufRead as _, BufReader, Write as _};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::{Backend, drop_schema, fresh_database_url};
use serde_json::{Value, json};
use zhicha_core::ids::DeviceId;

const BIN: &str = env!("CARGO_BIN_EXE_zhicha-server");

on_both_backends!(serve_demo_answers_over_a_socket_and_shuts_down_gracefully);

/// The binary with a data folder and, for PostgreSQL, a fresh schema.
fn command(dir: &std::path::Path, database_url: Option<&str>) -> Command {
    let mut command = Command::new(BIN);
    command
        .env("ZHICHA_DATA", dir.join("data"))
        .env("ZHICHA_DIST", dir.join("dist"))
        .env("RUST_LOG", "warn")
        .env_remove("DATABASE_URL")
        .env_remove("ZHICHA_DEMO");
    if let Some(url) = database_url {
        command.env("DATABASE_URL", url);
    }
    command
}

struct Server {
    child: Child,
    base: String,
    stdout: Vec<String>,
}

/// Starts `serve --demo` on a free port and reads the address it prints.
fn start(dir: &std::path::Path, database_url: Option<&str>) -> Server {
    start_with(dir, database_url, &["serve", "--demo"], &[])
}

fn start_with(
    dir: &std::path::Path,
    database_url: Option<&str>,
    args: &[&str],
    env: &[(&str, &str)],
) -> Server {
    std::fs::create_dir_all(dir.join("dist")).unwrap();
    std::fs::write(
        dir.join("dist").join("index.html"),
        "<!doctype html><title>直查</title>",
    )
    .unwrap();
    let mut child = command(dir, database_url)
        .args(args)
        .envs(env.iter().copied())
        .env("ZHICHA_ADDR", "127.0.0.1:0")
        .stdout(Stdio::piped())
        .spawn()
        .expect("start zhicha-server");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut stdout = Vec::new();
    let base = loop {
        let line = lines
            .next()
            .expect("server exited before listening")
            .unwrap();
        stdout.push(line.clone());
        if let Some(url) = line.strip_prefix("直查 zhicha: ") {
            break url.trim_end_matches('/').to_owned();
        }
    };
    // Keep draining stdout so the server never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    Server {
        child,
        base,
        stdout,
    }
}

async fn serve_demo_answers_over_a_socket_and_shuts_down_gracefully(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let (schema, url) = fresh_database_url(&backend).await;
    let mut server = start(dir.path(), url.as_deref());
    let printed = server.stdout.join("\n");
    for account in [
        "inspector1",
        "inspector2",
        "leader1",
        "inspector3",
        "admin",
        "zhicha-demo",
    ] {
        assert!(
            printed.contains(account),
            "demo accounts not printed: {printed}"
        );
    }

    let client = reqwest::Client::new();
    let health: Value = client
        .get(format!("{}/healthz", server.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(health["status"], "ok");
    let page = client
        .get(format!("{}/inspections/new", server.base))
        .send()
        .await
        .unwrap();
    assert_eq!(page.headers()["cache-control"], "no-cache");
    assert!(page.text().await.unwrap().contains("直查"));

    let device_id = DeviceId::new();
    let login = client
        .post(format!("{}/api/v1/auth/login", server.base))
        .json(
            &json!({ "username": "inspector1", "password": "zhicha-demo", "device_id": device_id }),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), 200);
    let login: Value = login.json().await.unwrap();
    let token = login["token"].as_str().unwrap().to_owned();
    let bootstrap: Value = client
        .get(format!("{}/api/v1/bootstrap", server.base))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(bootstrap["enterprises"].as_array().unwrap().len() >= 10);
    let pull = client
        .get(format!("{}/api/v1/sync/pull", server.base))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(pull.status(), 200);

    // The demo's evidence is on the server: the receipt of every visit inspector1 recorded is
    // complete (a phone shows them 已同步, not 待同步 forever), and a finding's photo is a JPEG.
    let pull: Value = pull.json().await.unwrap();
    let changes = pull["changes"].as_array().unwrap();
    let own: Vec<&Value> = changes
        .iter()
        .filter(|c| c["entity"] == "inspection" && c["data"]["created_by"] == login["user"]["id"])
        .collect();
    assert!(!own.is_empty(), "inspector1 has demo visits");
    for visit in own {
        let receipt: Value = client
            .get(format!(
                "{}/api/v1/sync/receipt?inspection={}",
                server.base,
                visit["id"].as_str().unwrap()
            ))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert!(
            !receipt["photos_expected"].as_array().unwrap().is_empty(),
            "{receipt}"
        );
        assert_eq!(receipt["complete"], true, "{receipt}");
    }
    let finding = changes
        .iter()
        .find(|c| c["entity"] == "finding")
        .expect("a demo finding");
    let hash = finding["data"]["photos"][0].as_str().unwrap();
    let photo = client
        .get(format!("{}/api/v1/photos/{hash}", server.base))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(photo.status(), 200);
    let bytes = photo.bytes().await.unwrap();
    assert_eq!(&bytes[..2], &[0xFF, 0xD8], "a JPEG");

    let malformed = client
        .post(format!("{}/api/v1/sync/push", server.base))
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(malformed.status(), 400);
    let body: Value = malformed.json().await.unwrap();
    assert_eq!(body["error"]["code"], "malformed_json");

    // SIGTERM: graceful shutdown, exit status 0.
    let pid = server.child.id().to_string();
    let killed = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    assert!(killed.success());
    let status = wait_with_timeout(&mut server.child, Duration::from_secs(20));
    assert!(status.success(), "server exited with {status:?}");

    // A second start on the same database does not seed again.
    let mut again = start(dir.path(), url.as_deref());
    assert!(!again.stdout.join("\n").contains("演示数据已创建"));
    let _ = again.child.kill();
    let _ = again.child.wait();
    if let (Backend::Postgres(url), Some(schema)) = (&backend, &schema) {
        drop_schema(url, schema).await;
    }
}

fn wait_with_timeout(child: &mut Child, timeout: Duration) -> std::process::ExitStatus {
    let start = std::time::Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if start.elapsed() > timeout {
            let _ = child.kill();
            panic!("server did not shut down within {timeout:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Runs an operator command and returns (success, stdout, stderr).
fn run(dir: &std::path::Path, args: &[&str], stdin: Option<&str>) -> (bool, String, String) {
    let mut child = command(dir, None)
        .args(args)
        .env("ZHICHA_ARGON2_M_KIB", "64")
        .env("ZHICHA_ARGON2_T", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    if let Some(input) = stdin {
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
    }
    drop(child.stdin.take());
    let output = child.wait_with_output().unwrap();
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn operator_commands_manage_orgs_users_and_the_enterprise_directory() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    let (ok, out, err) = run(
        dir,
        &[
            "org",
            "add",
            "准格尔旗应急管理局",
            "--doc-code",
            "准旗应急",
            "--region",
            "准格尔旗",
        ],
        None,
    );
    assert!(ok, "{err}");
    assert!(out.contains("准格尔旗应急管理局"));
    let (ok, _, err) = run(
        dir,
        &["org", "add", "执法一中队", "--parent", "准格尔旗应急管理局"],
        None,
    );
    assert!(ok, "{err}");
    let (ok, _, err) = run(
        dir,
        &["org", "add", "执法一中队", "--parent", "不存在的局"],
        None,
    );
    assert!(!ok);
    assert!(err.contains("不存在的局"), "{err}");

    let (ok, _, err) = run(
        dir,
        &[
            "user",
            "add",
            "zhangsan",
            "--role",
            "inspector",
            "--org",
            "执法一中队",
            "--name",
            "张三",
            "--cert",
            "15062201",
        ],
        Some("a-long-password\n"),
    );
    assert!(ok, "{err}");
    let (ok, _, err) = run(
        dir,
        &[
            "user",
            "add",
            "zhangsan",
            "--role",
            "leader",
            "--org",
            "执法一中队",
        ],
        Some("another-password\n"),
    );
    assert!(!ok, "a duplicate user name was accepted");
    assert!(err.contains("zhangsan"), "{err}");
    let (ok, _, err) = run(
        dir,
        &[
            "user",
            "add",
            "lisi",
            "--role",
            "inspector",
            "--org",
            "执法一中队",
        ],
        Some("short\n"),
    );
    assert!(!ok, "a short password was accepted: {err}");
    let (ok, out, err) = run(
        dir,
        &["user", "passwd", "zhangsan"],
        Some("a-new-long-password\n"),
    );
    assert!(ok, "{err}");
    assert!(out.contains("zhangsan"));
    let (ok, out, _) = run(dir, &["user", "list"], None);
    assert!(ok);
    assert!(
        out.contains("zhangsan\t张三\t执法人员\t执法一中队\t15062201"),
        "{out}"
    );

    let csv = dir.join("enterprises.csv");
    std::fs::write(
        &csv,
        "name,credit_code,county,township,address,sectors,subsectors,legal_representative,contact_phone,lat,lon\n\
         准旗示例煤业有限公司,91150622DEMO000015,准格尔旗,薛家湾镇,薛家湾镇某路,煤矿,露天煤矿,王某,0477-1234567,39.86,111.23\n\
         ,91150622DEMO000023,准格尔旗,薛家湾镇,,工贸,,,,,\n\
         准旗示例化工有限公司,91150622DEMO000031,准格尔旗,大路工业园区,,危险化学品;消防,,,,,\n\
         准旗示例加油站,BADCODE,准格尔旗,薛家湾镇,,危险化学品,,,,,\n",
    )
    .unwrap();
    let (ok, out, err) = run(dir, &["enterprise", "import", csv.to_str().unwrap()], None);
    assert!(ok, "{err}");
    assert!(out.contains("导入 2 家企业"), "{out}");
    assert!(
        err.contains(":3:") && err.contains("name"),
        "line 3 not reported: {err}"
    );
    assert!(
        err.contains(":5:") && err.contains("BADCODE"),
        "line 5 not reported: {err}"
    );
    // Importing again updates by credit code instead of duplicating.
    let (ok, out, _) = run(dir, &["enterprise", "import", csv.to_str().unwrap()], None);
    assert!(ok && out.contains("导入 2 家企业"));

    // Seeding demo data refuses a database that is in use.
    let (ok, _, err) = run(dir, &["demo", "seed"], None);
    assert!(!ok);
    assert!(err.contains("已有数据"), "{err}");
    let fresh = tempfile::tempdir().unwrap();
    let (ok, out, err) = run(fresh.path(), &["demo", "seed"], None);
    assert!(ok, "{err}");
    assert!(out.contains("inspector3") && out.contains("zhicha-demo"));
}

#[test]
fn the_demo_env_var_seeds_like_the_flag() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = start_with(dir.path(), None, &["serve"], &[("ZHICHA_DEMO", "1")]);
    let printed = server.stdout.join("\n");
    assert!(
        printed.contains("leader1") && printed.contains("zhicha-demo"),
        "{printed}"
    );
    let _ = server.child.kill();
    let _ = server.child.wait();
    let mut plain = start_with(dir.path(), None, &["serve"], &[("ZHICHA_DEMO", "0")]);
    assert!(!plain.stdout.join("\n").contains("zhicha-demo"));
    let _ = plain.child.kill();
    let _ = plain.child.wait();
}
