//! Bad input, generated: random JSON, wrong types, huge strings, deep nesting, invalid UTF-8,
//! path tricks in photo hashes, SQL metacharacters, wrong content types and truncated uploads
//! against every endpoint, on SQLite and PostgreSQL. Every answer must be below 500 and every
//! error must be the protocol's `{ "error": { "code", "message" } }`; the server must still work
//! afterwards with its data intact. The generator is seeded (`ZHICHA_FUZZ_SEED` replays a run).

mod common;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use common::{Backend, Device, TestApp, jpeg};
use rand::rngs::StdRng;
use rand::{RngExt as _, SeedableRng as _};
use serde_json::{Map, Value, json};
use zhicha_core::ids::PhotoHash;
use zhicha_core::protocol::AckStatus;

on_both_backends!(every_endpoint_survives_generated_bad_input);

/// Generated requests per endpoint (14 endpoints), on top of the fixed nasty cases.
const CASES_PER_ENDPOINT: usize = 30;

/// Strings that have broken servers before.
const NASTY: &[&str] = &[
    "",
    " ",
    "'",
    "\"",
    "'; DROP TABLE users; --",
    "' OR '1'='1",
    "1; SELECT pg_sleep(5)",
    "\\",
    "%",
    "_",
    "%00",
    "\u{0}",
    "a\u{0}b",
    "\u{FEFF}",
    "\u{202E}evil",
    "../../../../etc/passwd",
    "..%2F..%2Fetc%2Fpasswd",
    "C:\\Windows\\win.ini",
    "<script>alert(1)</script>",
    "${jndi:ldap://x}",
    "{{7*7}}",
    "直查 隐患 🚒",
    "\u{1F4A9}\u{1F4A9}",
    "null",
    "NaN",
    "-1",
    "18446744073709551616",
    "1e309",
    "0192d5a0-0000-7000-8000-000000000000",
];

struct Gen {
    rng: StdRng,
}

impl Gen {
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.rng.random_range(0..items.len())]
    }

    fn string(&mut self) -> String {
        match self.rng.random_range(0..6) {
            0 | 1 => (*self.pick(NASTY)).to_owned(),
            2 => "长".repeat(self.rng.random_range(1..40_000)),
            3 => (0..self.rng.random_range(0..64))
                .map(|_| char::from_u32(self.rng.random_range(0..0x11_0000)).unwrap_or('\u{FFFD}'))
                .collect(),
            4 => format!("{}{}", self.pick(NASTY), self.pick(NASTY)),
            _ => "x".repeat(self.rng.random_range(0..300)),
        }
    }

    fn number(&mut self) -> Value {
        match self.rng.random_range(0..5) {
            0 => json!(self.rng.random::<i64>()),
            1 => json!(self.rng.random::<u64>()),
            2 => json!(self.rng.random::<f64>() * 1e300),
            3 => json!(-1),
            _ => json!(0),
        }
    }

    fn value(&mut self, depth: u32) -> Value {
        let leaf = depth > 4 || self.rng.random_bool(0.4);
        match self.rng.random_range(0..if leaf { 5 } else { 7 }) {
            0 => Value::Null,
            1 => json!(self.rng.random_bool(0.5)),
            2 => self.number(),
            3 | 4 => Value::String(self.string()),
            5 => Value::Array(
                (0..self.rng.random_range(0..5))
                    .map(|_| self.value(depth + 1))
                    .collect(),
            ),
            _ => {
                let mut map = Map::new();
                for _ in 0..self.rng.random_range(0..6) {
                    map.insert(self.string(), self.value(depth + 1));
                }
                Value::Object(map)
            }
        }
    }

    /// `valid` with one field somewhere replaced, removed, or a stranger added.
    fn mutate(&mut self, valid: &Value) -> Value {
        let mut value = valid.clone();
        self.mutate_in(&mut value);
        value
    }

    fn mutate_in(&mut self, at: &mut Value) {
        let descend = self.rng.random_bool(0.6);
        match at {
            Value::Object(map) if !map.is_empty() => {
                let keys: Vec<String> = map.keys().cloned().collect();
                let key = self.pick(&keys).clone();
                if descend && (map[&key].is_object() || map[&key].is_array()) {
                    self.mutate_in(map.get_mut(&key).unwrap());
                    return;
                }
                match self.rng.random_range(0..3) {
                    0 => {
                        map.remove(&key);
                    }
                    1 => {
                        map.insert(self.string(), self.value(2));
                    }
                    _ => {
                        map.insert(key, self.value(2));
                    }
                }
            }
            Value::Array(items) if !items.is_empty() => {
                let i = self.rng.random_range(0..items.len());
                if descend {
                    self.mutate_in(&mut items[i]);
                } else {
                    items[i] = self.value(2);
                }
            }
            other => *other = self.value(2),
        }
    }

    /// A request body: generated JSON, a mutated valid body, or bytes that are not JSON at all.
    fn body(&mut self, valid: &Value) -> Vec<u8> {
        match self.rng.random_range(0..10) {
            0..=3 => self.mutate(valid).to_string().into_bytes(),
            4 | 5 => self.value(0).to_string().into_bytes(),
            6 => {
                // Deep nesting.
                let depth = self.rng.random_range(100..5_000);
                format!("{}{}", "[".repeat(depth), "]".repeat(depth)).into_bytes()
            }
            7 => {
                // Invalid UTF-8 inside a string, or a truncated document.
                let mut text = valid.to_string().into_bytes();
                if self.rng.random_bool(0.5) {
                    let at = self.rng.random_range(0..text.len());
                    text.insert(at, *self.pick(&[0xFF_u8, 0xC3, 0xED, 0x80]));
                } else {
                    text.truncate(self.rng.random_range(0..text.len()));
                }
                text
            }
            8 => (0..self.rng.random_range(0..200))
                .map(|_| self.rng.random())
                .collect(),
            _ => {
                // A string far over the 1 MB JSON limit, or just under it.
                let n = *self.pick(&[900_000_usize, 1_100_000, 3_000_000]);
                json!({ "username": "x".repeat(n), "password": "y", "device_id": "z" })
                    .to_string()
                    .into_bytes()
            }
        }
    }

    fn content_type(&mut self) -> Option<&'static str> {
        *self.pick(&[
            Some("application/json"),
            Some("application/json"),
            Some("application/json; charset=utf-8"),
            Some("text/plain"),
            Some("application/x-www-form-urlencoded"),
            Some("multipart/form-data; boundary=x"),
            Some("application/jsonx"),
            Some("image/jpeg"),
            None,
        ])
    }

    /// A path segment for `/photos/{sha256}`: path tricks, wrong lengths, wrong case, encodings.
    fn hash_segment(&mut self, valid: &str) -> String {
        match self.rng.random_range(0..10) {
            0 => "..%2F..%2F..%2Fetc%2Fpasswd".into(),
            1 => format!("..%2F{}", &valid[..60]),
            2 => valid.to_uppercase(),
            3 => valid[..63].to_owned(),
            4 => format!("{valid}0"),
            5 => format!("{valid}.jpg"),
            6 => format!("{}%00", &valid[..63]),
            7 => format!("{}%C3%28", &valid[..60]),
            8 => format!("{}'%20OR%20'1'%3D'1", &valid[..40]),
            _ => percent_encode(&self.string()).chars().take(5_000).collect(),
        }
    }

    fn query_value(&mut self) -> String {
        match self.rng.random_range(0..4) {
            0 => self.rng.random::<i64>().to_string(),
            1 => "%FF%FE".into(),
            2 => "a&limit=-1&limit=2".into(),
            _ => percent_encode(&self.string())
                .chars()
                .take(20_000)
                .collect(),
        }
    }
}

fn percent_encode(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

struct Case {
    method: Method,
    path: String,
    token: Option<String>,
    content_type: Option<&'static str>,
    body: Body,
    what: String,
}

/// Sends the case and checks the answer's status and shape.
async fn check(t: &TestApp, case: Case, failures: &mut Vec<String>) -> StatusCode {
    let mut request = Request::builder()
        .method(case.method.clone())
        .uri(&case.path);
    if let Some(token) = &case.token {
        request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
    }
    if let Some(content_type) = case.content_type {
        request = request.header(header::CONTENT_TYPE, content_type);
    }
    let Ok(request) = request.body(case.body) else {
        // Not even a valid HTTP request (the client library refuses it): nothing to send.
        return StatusCode::BAD_REQUEST;
    };
    let reply = t.send(request).await;
    let short: String = case.what.chars().take(300).collect();
    if reply.status.is_server_error() {
        failures.push(format!(
            "{} {} → {}: {}\n  {short}",
            case.method,
            case.path.chars().take(200).collect::<String>(),
            reply.status,
            String::from_utf8_lossy(&reply.body)
        ));
    } else if reply.status.is_client_error() && case.method != Method::HEAD {
        let shaped = serde_json::from_slice::<Value>(&reply.body).is_ok_and(|body| {
            body["error"]["code"]
                .as_str()
                .is_some_and(|c| !c.is_empty())
                && body["error"]["message"]
                    .as_str()
                    .is_some_and(|m| !m.is_empty())
        });
        if !shaped {
            failures.push(format!(
                "{} {} → {} without the error shape: {}\n  {short}",
                case.method,
                case.path.chars().take(200).collect::<String>(),
                reply.status,
                String::from_utf8_lossy(&reply.body)
            ));
        }
    }
    reply.status
}

/// A body stream that breaks off after `good` bytes, like a client whose connection drops.
fn truncated(bytes: &[u8], good: usize) -> Body {
    let head = bytes::Bytes::copy_from_slice(&bytes[..good]);
    let chunks: Vec<Result<bytes::Bytes, std::io::Error>> = vec![
        Ok(head),
        Err(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "client went away",
        )),
    ];
    Body::from_stream(futures_util::stream::iter(chunks))
}

async fn every_endpoint_survives_generated_bad_input(backend: Backend) {
    let seed = std::env::var("ZHICHA_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| rand::rng().random::<u64>());
    eprintln!("bad input: ZHICHA_FUZZ_SEED={seed}");
    let mut g = Gen {
        rng: StdRng::seed_from_u64(seed),
    };
    let t = TestApp::start(backend).await;
    let device = t.login("inspector1").await;
    let enterprise = t.some_enterprise(&device).await;
    let inspection = device.inspection(enterprise);
    let finding = device.finding(&inspection);
    let photo = jpeg(5_000, 1);
    let hash = PhotoHash::of_bytes(&photo).to_string();
    let valid_push = json!({
        "device_id": device.device_id,
        "mutations": [device.save_inspection(&inspection, None), device.save_finding(&finding, None)],
    });
    let valid_login = json!({ "username": "inspector2", "password": "zhicha-demo", "device_id": device.device_id });
    let token = Some(device.token.clone());
    let mut failures = Vec::new();
    let mut seen = std::collections::BTreeMap::<u16, usize>::new();

    // The fixed cases, then the generated ones.
    let mut fixed = Vec::new();
    for (path, auth) in [("/api/v1/sync/push", true), ("/api/v1/auth/login", false)] {
        let bodies: Vec<Vec<u8>> = vec![
            json!({ "username": "x".repeat(2 << 20), "password": "y" }).to_string().into_bytes(),
            format!("{}{}", "{\"a\":".repeat(10_000), "}".repeat(10_000)).into_bytes(),
            b"{\"username\": \"\xff\xfe\", \"password\": \"x\"}".to_vec(),
            json!({ "username": "a\u{0}b", "password": "\u{0}", "device_id": device.device_id }).to_string().into_bytes(),
            json!({ "username": "' OR '1'='1' --", "password": "' OR '1'='1", "device_id": device.device_id }).to_string().into_bytes(),
            json!({ "device_id": device.device_id, "mutations": [{ "mutation_id": "'; DROP TABLE acks; --", "seq": 1 }] }).to_string().into_bytes(),
            Vec::new(),
        ];
        for body in bodies {
            for content_type in [Some("application/json"), Some("text/plain"), None] {
                fixed.push(Case {
                    method: Method::POST,
                    path: path.into(),
                    token: if auth { token.clone() } else { None },
                    content_type,
                    body: Body::from(body.clone()),
                    what: String::from_utf8_lossy(&body).chars().take(100).collect(),
                });
            }
        }
    }
    let mut huge = jpeg(11 << 20, 2);
    huge.truncate(11 << 20);
    fixed.push(Case {
        method: Method::PUT,
        path: format!("/api/v1/photos/{}", PhotoHash::of_bytes(&huge)),
        token: token.clone(),
        content_type: Some("image/jpeg"),
        body: Body::from(huge),
        what: "11 MB upload".into(),
    });
    // Valid records carrying NUL bytes, SQL and huge text in their string fields.
    for text in [
        "a\u{0}b",
        "'); DELETE FROM findings; --",
        &"隐".repeat(200_000),
    ] {
        let mut nasty_inspection = device.inspection(enterprise);
        nasty_inspection.places = text.to_owned();
        nasty_inspection.summary = text.to_owned();
        let mut nasty_finding = device.finding(&nasty_inspection);
        nasty_finding.description = text.to_owned();
        nasty_finding.place = text.to_owned();
        let body = json!({
            "device_id": device.device_id,
            "mutations": [
                device.save_inspection(&nasty_inspection, None),
                device.save_finding(&nasty_finding, None),
            ],
        });
        fixed.push(Case {
            method: Method::POST,
            path: "/api/v1/sync/push".into(),
            token: token.clone(),
            content_type: Some("application/json"),
            body: Body::from(body.to_string()),
            what: format!("records with {}", text.chars().take(40).collect::<String>()),
        });
    }
    for case in fixed {
        *seen
            .entry(check(&t, case, &mut failures).await.as_u16())
            .or_default() += 1;
    }
    for _ in 0..CASES_PER_ENDPOINT {
        let json_posts = [
            ("/api/v1/sync/push", &valid_push, true),
            ("/api/v1/auth/login", &valid_login, false),
        ];
        for (path, valid, auth) in json_posts {
            let body = g.body(valid);
            let what = String::from_utf8_lossy(&body).into_owned();
            let case = Case {
                method: Method::POST,
                path: path.into(),
                token: if auth { token.clone() } else { None },
                content_type: g.content_type(),
                body: Body::from(body),
                what,
            };
            *seen
                .entry(check(&t, case, &mut failures).await.as_u16())
                .or_default() += 1;
        }
        // Query strings and path parameters of the GET endpoints.
        let gets = [
            format!(
                "/api/v1/sync/pull?cursor={}&limit={}",
                g.query_value(),
                g.query_value()
            ),
            format!("/api/v1/sync/pull?{}", g.query_value()),
            format!("/api/v1/sync/receipt?inspection={}", g.query_value()),
            format!(
                "/api/v1/checklists/{}/{}",
                g.hash_segment(&hash),
                g.query_value()
            ),
            format!("/api/v1/bootstrap?{}={}", g.query_value(), g.query_value()),
            format!("/api/v1/findings/{}/revisions", g.hash_segment(&hash)),
            format!("/api/v1/{}", g.hash_segment(&hash)),
        ];
        for path in gets {
            let case = Case {
                method: Method::GET,
                path: path.clone(),
                token: token.clone(),
                content_type: None,
                body: Body::empty(),
                what: path,
            };
            *seen
                .entry(check(&t, case, &mut failures).await.as_u16())
                .or_default() += 1;
        }
        // Photo hashes with path tricks, under every method.
        for method in [Method::HEAD, Method::GET, Method::PUT] {
            let segment = g.hash_segment(&hash);
            let body = if method == Method::PUT {
                Body::from(photo.clone())
            } else {
                Body::empty()
            };
            let case = Case {
                method,
                path: format!("/api/v1/photos/{segment}"),
                token: token.clone(),
                content_type: Some("image/jpeg"),
                body,
                what: segment,
            };
            *seen
                .entry(check(&t, case, &mut failures).await.as_u16())
                .or_default() += 1;
        }
        // Uploads: wrong bytes, wrong content type, truncated mid-stream.
        let (body, what) = match g.rng.random_range(0..4) {
            0 => (
                truncated(&photo, g.rng.random_range(0..photo.len())),
                "truncated upload".to_owned(),
            ),
            1 => (Body::from(g.body(&valid_login)), "not an image".to_owned()),
            2 => {
                let mut bytes = photo.clone();
                let at = g.rng.random_range(0..bytes.len());
                bytes[at] ^= 0x55;
                (Body::from(bytes), "one byte flipped".to_owned())
            }
            _ => (Body::empty(), "empty upload".to_owned()),
        };
        let case = Case {
            method: Method::PUT,
            path: format!("/api/v1/photos/{hash}"),
            token: token.clone(),
            content_type: g.content_type(),
            body,
            what,
        };
        *seen
            .entry(check(&t, case, &mut failures).await.as_u16())
            .or_default() += 1;
        // Tokens: garbage, huge, SQL, other schemes; with and without a wrong method.
        let forged: String = g.string().chars().filter(|c| !c.is_control()).collect();
        let method = g
            .pick(&[Method::GET, Method::POST, Method::DELETE, Method::PATCH])
            .clone();
        let path = g.pick(&[
            "/api/v1/bootstrap",
            "/api/v1/auth/logout",
            "/api/v1/sync/pull",
            "/api/v1/openapi.json",
        ]);
        let case = Case {
            method,
            path: (*path).to_owned(),
            token: Some(forged.clone()),
            content_type: None,
            body: Body::empty(),
            what: forged,
        };
        *seen
            .entry(check(&t, case, &mut failures).await.as_u16())
            .or_default() += 1;
    }
    eprintln!("bad input: statuses {seen:?}, seed {seed}");
    // The generator reaches every layer: parsing, validation, size limits, auth, routing.
    for status in [400, 401, 404, 413, 415] {
        assert!(
            seen.contains_key(&status),
            "no {status} in {seen:?}: the generator is too tame"
        );
    }
    assert!(
        failures.is_empty(),
        "seed {seed}: {} bad answers:\n{}",
        failures.len(),
        failures.join("\n")
    );

    // The server still works, and nothing was dropped or applied by the noise.
    let other: Device = t.login("inspector3").await;
    assert_eq!(
        t.get("/api/v1/bootstrap", &other.token).await.status,
        StatusCode::OK
    );
    let response = t
        .push(&device, &[device.save_inspection(&inspection, None)])
        .await;
    assert!(
        response.acks.iter().all(|a| a.status == AckStatus::Applied) || response.gap.is_some(),
        "{response:?}"
    );
    let users = t.get("/api/v1/bootstrap", &device.token).await.json();
    assert!(
        users["team"]
            .as_array()
            .is_some_and(|team| !team.is_empty())
            || users["user"]["username"] == "inspector1",
        "{users}"
    );
    t.finish().await;
}
