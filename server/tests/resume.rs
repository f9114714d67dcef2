//! Resumable photo uploads (`PUT /photos/{sha256}` with `Content-Range`): parts in order
//! complete into a verified photo; `HEAD` reports the caller's offset; a part elsewhere is
//! refused with the offset; a wrong hash leaves nothing; another user neither sees nor extends
//! someone's partial upload; the whole-body upload still works; stale and surplus staging files
//! go. And the cut: over a real socket, a part cut mid-way keeps what arrived, and the upload
//! resumes from there without sending any received byte twice. On SQLite and PostgreSQL, with
//! the local photo folder, and with S3 when the test store is there.

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use common::{Backend, TestApp, create_bucket, jpeg, s3_endpoint, use_s3};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;
use zhicha_core::ids::PhotoHash;
use zhicha_core::protocol::{ContentRange, MAX_PHOTO_BYTES, PHOTO_PART_BYTES};
use zhicha_server::photos::{STAGING_KEPT, STAGING_PER_USER};

const PART: usize = PHOTO_PART_BYTES;

on_both_backends!(
    parts_in_order_complete_and_head_follows_them,
    a_part_elsewhere_is_refused_with_the_offset,
    a_wrong_hash_at_completion_leaves_nothing,
    another_user_neither_sees_nor_extends_a_partial_upload,
    a_whole_upload_still_works_and_ends_a_partial_one,
    bad_ranges_and_oversized_photos_are_refused,
    stale_and_surplus_staging_files_go,
    a_cut_part_keeps_its_bytes_and_the_upload_resumes,
    parts_complete_into_the_bucket,
);

async fn put_part(
    t: &TestApp,
    token: &str,
    hash: &PhotoHash,
    photo: &[u8],
    start: usize,
) -> common::Reply {
    let end = (start + PART).min(photo.len());
    put_range(t, token, hash, &photo[start..end], start, photo.len()).await
}

async fn put_range(
    t: &TestApp,
    token: &str,
    hash: &PhotoHash,
    bytes: &[u8],
    start: usize,
    total: usize,
) -> common::Reply {
    let range = ContentRange::of(start as u64, (start + bytes.len()) as u64, total as u64).unwrap();
    t.send(
        Request::builder()
            .method(Method::PUT)
            .uri(format!("/api/v1/photos/{hash}"))
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .header(header::CONTENT_TYPE, "image/jpeg")
            .header(header::CONTENT_RANGE, range.to_string())
            .body(Body::from(bytes.to_vec()))
            .unwrap(),
    )
    .await
}

async fn put_whole(t: &TestApp, token: &str, hash: &PhotoHash, photo: &[u8]) -> common::Reply {
    t.send(
        Request::builder()
            .method(Method::PUT)
            .uri(format!("/api/v1/photos/{hash}"))
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .header(header::CONTENT_TYPE, "image/jpeg")
            .body(Body::from(photo.to_vec()))
            .unwrap(),
    )
    .await
}

/// `HEAD`: None when held, else the caller's offset.
async fn offset(t: &TestApp, token: &str, hash: &PhotoHash) -> Option<u64> {
    let reply = t
        .call(
            Method::HEAD,
            &format!("/api/v1/photos/{hash}"),
            Some(token),
            None,
        )
        .await;
    match reply.status {
        StatusCode::OK => None,
        StatusCode::NOT_FOUND => Some(
            reply
                .headers
                .get("upload-offset")
                .expect("a 404 of HEAD carries Upload-Offset")
                .to_str()
                .unwrap()
                .parse()
                .unwrap(),
        ),
        other => panic!("HEAD answered {other}"),
    }
}

fn header_offset(reply: &common::Reply) -> u64 {
    reply.headers["upload-offset"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap()
}

/// The staging files left in the data folder.
fn staging_files(t: &TestApp) -> Vec<String> {
    let folder = t.dir.path().join("data").join("uploads");
    let mut names: Vec<String> = std::fs::read_dir(folder)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// A photo of `size` bytes, varied so that parts differ.
fn photo(size: usize, seed: u8) -> Vec<u8> {
    let mut bytes = jpeg(size - 4, 0);
    for (i, b) in bytes.iter_mut().enumerate().skip(4) {
        *b = (i as u8).wrapping_mul(31).wrapping_add(seed);
    }
    bytes
}

/// Sends every part from the start; returns the last reply.
async fn send_all(t: &TestApp, token: &str, hash: &PhotoHash, photo: &[u8]) -> common::Reply {
    let mut start = 0;
    loop {
        let reply = put_part(t, token, hash, photo, start).await;
        start = (start + PART).min(photo.len());
        if start == photo.len() || reply.status != StatusCode::ACCEPTED {
            return reply;
        }
    }
}

async fn parts_in_order_complete_and_head_follows_them(backend: Backend) {
    let t = TestApp::start(backend).await;
    let phone = t.login("inspector1").await;
    let bytes = photo(3 * PART + 1000, 1);
    let hash = PhotoHash::of_bytes(&bytes);
    assert_eq!(offset(&t, &phone.token, &hash).await, Some(0));
    for start in (0..bytes.len()).step_by(PART) {
        let reply = put_part(&t, &phone.token, &hash, &bytes, start).await;
        let end = (start + PART).min(bytes.len());
        if end < bytes.len() {
            assert_eq!(
                reply.status,
                StatusCode::ACCEPTED,
                "{}",
                String::from_utf8_lossy(&reply.body)
            );
            assert_eq!(reply.json()["offset"], end as u64);
            assert_eq!(reply.json()["total"], bytes.len() as u64);
            assert_eq!(header_offset(&reply), end as u64);
            assert_eq!(offset(&t, &phone.token, &hash).await, Some(end as u64));
        } else {
            assert_eq!(
                reply.status,
                StatusCode::CREATED,
                "{}",
                String::from_utf8_lossy(&reply.body)
            );
            assert_eq!(reply.json()["hash"], hash.as_str());
            assert_eq!(reply.json()["bytes"], bytes.len() as u64);
            assert_eq!(reply.json()["created"], true);
        }
    }
    assert_eq!(offset(&t, &phone.token, &hash).await, None);
    let stored = t.state.photos.get(&hash).await.unwrap().unwrap();
    assert_eq!(&stored[..], &bytes[..]);
    assert!(staging_files(&t).is_empty(), "{:?}", staging_files(&t));
    // The quota counted it once, at its whole size.
    let (used, _) = t
        .state
        .store
        .photo_bytes_since(&phone.user, "2000-01-01T00:00:00.000Z")
        .await
        .unwrap();
    assert_eq!(used, bytes.len() as u64);
    // Sent again in parts, it is held: 200, created false.
    let again = send_all(&t, &phone.token, &hash, &bytes).await;
    assert_eq!(again.status, StatusCode::OK);
    assert_eq!(again.json()["created"], false);
    t.finish().await;
}

async fn a_part_elsewhere_is_refused_with_the_offset(backend: Backend) {
    let t = TestApp::start(backend).await;
    let phone = t.login("inspector1").await;
    let bytes = photo(2 * PART + 10, 2);
    let hash = PhotoHash::of_bytes(&bytes);
    // Not at 0 with nothing staged.
    let ahead = put_part(&t, &phone.token, &hash, &bytes, PART).await;
    ahead.assert_error(StatusCode::CONFLICT, "upload_offset");
    assert_eq!(ahead.json()["offset"], 0);
    assert_eq!(header_offset(&ahead), 0);
    // Answered before its body was read: the connection closes, so the client sends no more
    // of it, and its next request goes on a fresh connection rather than into a closing one.
    assert_eq!(ahead.headers[header::CONNECTION], "close");
    assert_eq!(
        put_part(&t, &phone.token, &hash, &bytes, 0).await.status,
        StatusCode::ACCEPTED
    );
    // Resending received bytes, or skipping some: refused, with where to go on.
    for start in [10, PART - 1, PART + 1, 2 * PART] {
        let reply = put_range(
            &t,
            &phone.token,
            &hash,
            &bytes[start..start + 5],
            start,
            bytes.len(),
        )
        .await;
        reply.assert_error(StatusCode::CONFLICT, "upload_offset");
        assert_eq!(reply.json()["offset"], PART as u64);
        assert_eq!(header_offset(&reply), PART as u64);
    }
    assert_eq!(offset(&t, &phone.token, &hash).await, Some(PART as u64));
    // A part at 0 starts over.
    let restart = put_range(&t, &phone.token, &hash, &bytes[..100], 0, bytes.len()).await;
    assert_eq!(restart.status, StatusCode::ACCEPTED);
    assert_eq!(offset(&t, &phone.token, &hash).await, Some(100));
    let rest = put_range(&t, &phone.token, &hash, &bytes[100..], 100, bytes.len()).await;
    assert_eq!(
        rest.status,
        StatusCode::CREATED,
        "{}",
        String::from_utf8_lossy(&rest.body)
    );
    assert_eq!(
        &t.state.photos.get(&hash).await.unwrap().unwrap()[..],
        &bytes[..]
    );
    t.finish().await;
}

async fn a_wrong_hash_at_completion_leaves_nothing(backend: Backend) {
    let t = TestApp::start(backend).await;
    let phone = t.login("inspector1").await;
    let bytes = photo(PART + 500, 3);
    let claimed = PhotoHash::of_bytes(b"something else");
    assert_eq!(
        put_part(&t, &phone.token, &claimed, &bytes, 0).await.status,
        StatusCode::ACCEPTED
    );
    let last = put_part(&t, &phone.token, &claimed, &bytes, PART).await;
    last.assert_error(StatusCode::BAD_REQUEST, "hash_mismatch");
    assert_eq!(offset(&t, &phone.token, &claimed).await, Some(0));
    assert!(staging_files(&t).is_empty(), "{:?}", staging_files(&t));
    assert!(t.state.photos.get(&claimed).await.unwrap().is_none());
    assert!(!t.state.store.photo_recorded(&claimed).await.unwrap());
    // Not an image either: refused at completion, nothing kept.
    let text = vec![b'x'; PART + 10];
    let hash = PhotoHash::of_bytes(&text);
    let reply = send_all(&t, &phone.token, &hash, &text).await;
    reply.assert_error(StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type");
    assert!(staging_files(&t).is_empty());
    assert!(!t.state.store.photo_recorded(&hash).await.unwrap());
    t.finish().await;
}

async fn another_user_neither_sees_nor_extends_a_partial_upload(backend: Backend) {
    let t = TestApp::start(backend).await;
    let (first, second) = (t.login("inspector1").await, t.login("inspector2").await);
    let bytes = photo(2 * PART + 77, 4);
    let hash = PhotoHash::of_bytes(&bytes);
    assert_eq!(
        put_part(&t, &first.token, &hash, &bytes, 0).await.status,
        StatusCode::ACCEPTED
    );
    assert_eq!(offset(&t, &second.token, &hash).await, Some(0));
    let extend = put_part(&t, &second.token, &hash, &bytes, PART).await;
    extend.assert_error(StatusCode::CONFLICT, "upload_offset");
    assert_eq!(extend.json()["offset"], 0);
    // The second user's own upload does not touch the first's.
    assert_eq!(
        put_part(&t, &second.token, &hash, &bytes, 0).await.status,
        StatusCode::ACCEPTED
    );
    assert_eq!(offset(&t, &first.token, &hash).await, Some(PART as u64));
    assert_eq!(staging_files(&t).len(), 2);
    // The first finishes; the second's staged bytes are its own (and the photo is held now).
    let mut start = PART;
    while start < bytes.len() {
        let reply = put_part(&t, &first.token, &hash, &bytes, start).await;
        assert!(
            reply.status.is_success(),
            "{}",
            String::from_utf8_lossy(&reply.body)
        );
        start += PART;
    }
    assert_eq!(offset(&t, &first.token, &hash).await, None);
    assert_eq!(offset(&t, &second.token, &hash).await, None);
    assert_eq!(staging_files(&t).len(), 1);
    t.finish().await;
}

async fn a_whole_upload_still_works_and_ends_a_partial_one(backend: Backend) {
    let t = TestApp::start(backend).await;
    let phone = t.login("inspector1").await;
    let bytes = photo(2 * PART, 5);
    let hash = PhotoHash::of_bytes(&bytes);
    assert_eq!(
        put_part(&t, &phone.token, &hash, &bytes, 0).await.status,
        StatusCode::ACCEPTED
    );
    let whole = put_whole(&t, &phone.token, &hash, &bytes).await;
    assert_eq!(
        whole.status,
        StatusCode::CREATED,
        "{}",
        String::from_utf8_lossy(&whole.body)
    );
    assert_eq!(whole.json()["bytes"], bytes.len() as u64);
    assert!(staging_files(&t).is_empty(), "{:?}", staging_files(&t));
    assert_eq!(offset(&t, &phone.token, &hash).await, None);
    t.finish().await;
}

async fn bad_ranges_and_oversized_photos_are_refused(backend: Backend) {
    let t = TestApp::start(backend).await;
    let phone = t.login("inspector1").await;
    let bytes = photo(1000, 6);
    let hash = PhotoHash::of_bytes(&bytes);
    for range in [
        "bytes 0-999",
        "bytes 5-4/1000",
        "bytes 0-1000/1000",
        "bytes */1000",
        "items 0-9/1000",
    ] {
        let reply = t
            .send(
                Request::builder()
                    .method(Method::PUT)
                    .uri(format!("/api/v1/photos/{hash}"))
                    .header(header::AUTHORIZATION, format!("Bearer {}", phone.token))
                    .header(header::CONTENT_RANGE, range)
                    .body(Body::from(bytes[..10].to_vec()))
                    .unwrap(),
            )
            .await;
        reply.assert_error(StatusCode::BAD_REQUEST, "bad_range");
    }
    // A body longer than its range.
    let long = put_range(&t, &phone.token, &hash, &bytes[..10], 0, bytes.len()).await;
    assert_eq!(long.status, StatusCode::ACCEPTED);
    let reply = t
        .send(
            Request::builder()
                .method(Method::PUT)
                .uri(format!("/api/v1/photos/{hash}"))
                .header(header::AUTHORIZATION, format!("Bearer {}", phone.token))
                .header(header::CONTENT_RANGE, "bytes 10-19/1000")
                .body(Body::from(bytes[10..40].to_vec()))
                .unwrap(),
        )
        .await;
    reply.assert_error(StatusCode::BAD_REQUEST, "bad_range");
    // A photo over the limit: 413 at the first part, before anything is staged.
    let big = PhotoHash::of_bytes(b"big");
    let reply = put_range(&t, &phone.token, &big, &bytes[..10], 0, MAX_PHOTO_BYTES + 1).await;
    reply.assert_error(StatusCode::PAYLOAD_TOO_LARGE, "too_large");
    assert_eq!(offset(&t, &phone.token, &big).await, Some(0));
    t.finish().await;
}

async fn stale_and_surplus_staging_files_go(backend: Backend) {
    let t = TestApp::start(backend).await;
    let phone = t.login("inspector1").await;
    let photos: Vec<Vec<u8>> = (0..=STAGING_PER_USER as u8)
        .map(|n| photo(2000, 10 + n))
        .collect();
    let hashes: Vec<PhotoHash> = photos.iter().map(|p| PhotoHash::of_bytes(p)).collect();
    for (n, (bytes, hash)) in photos.iter().zip(&hashes).enumerate() {
        let reply = put_range(&t, &phone.token, hash, &bytes[..100], 0, bytes.len()).await;
        assert_eq!(reply.status, StatusCode::ACCEPTED);
        if n == 0 {
            // Make the first one the oldest by its time, whatever the clock's resolution.
            set_age(&t, hash, Duration::from_secs(3600));
        }
    }
    // One more than the limit was begun: the oldest went.
    assert_eq!(staging_files(&t).len(), STAGING_PER_USER);
    assert_eq!(offset(&t, &phone.token, &hashes[0]).await, Some(0));
    assert_eq!(offset(&t, &phone.token, &hashes[1]).await, Some(100));
    // Untouched for longer than kept: gone when the next upload begins.
    set_age(&t, &hashes[1], STAGING_KEPT + Duration::from_secs(60));
    let other = t.login("inspector2").await;
    let reply = put_range(
        &t,
        &other.token,
        &hashes[0],
        &photos[0][..100],
        0,
        photos[0].len(),
    )
    .await;
    assert_eq!(reply.status, StatusCode::ACCEPTED);
    assert_eq!(offset(&t, &phone.token, &hashes[1]).await, Some(0));
    assert_eq!(offset(&t, &phone.token, &hashes[2]).await, Some(100));
    // And at start-up.
    set_age(&t, &hashes[2], STAGING_KEPT + Duration::from_secs(60));
    zhicha_server::photos::PhotoStore::open(&t.state.config).unwrap();
    assert_eq!(offset(&t, &phone.token, &hashes[2]).await, Some(0));
    assert_eq!(offset(&t, &phone.token, &hashes[3]).await, Some(100));
    t.finish().await;
}

/// Sets the time of inspector1's staging file of `hash` back by `age`.
fn set_age(t: &TestApp, hash: &PhotoHash, age: Duration) {
    let folder = t.dir.path().join("data").join("uploads");
    for entry in std::fs::read_dir(folder).unwrap().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with(hash.as_str()) {
            let file = std::fs::File::options()
                .write(true)
                .open(entry.path())
                .unwrap();
            file.set_modified(std::time::SystemTime::now() - age)
                .unwrap();
        }
    }
}

/// The router on a real socket.
async fn listen(t: &TestApp) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let service = t
        .router
        .clone()
        .into_make_service_with_connect_info::<SocketAddr>();
    tokio::spawn(async move {
        axum::serve(listener, service).await.unwrap();
    });
    addr
}

/// A part's request over a fresh connection, after the server's go-ahead.
enum Opened {
    /// `100 Continue` came and the bytes given were sent; the connection is open.
    Sending(TcpStream),
    /// The server answered before taking the body (none of it was sent): status and
    /// `Upload-Offset`.
    Answered(u16, Option<u64>),
}

/// Sends a part's request head with `Expect: 100-continue`, as a careful client on a metered
/// link would, then — once the server asks for it — `body`, which may be less than the part:
/// the rest never comes.
async fn open_part(
    addr: SocketAddr,
    token: &str,
    hash: &PhotoHash,
    range: ContentRange,
    body: &[u8],
) -> Opened {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "PUT /api/v1/photos/{hash} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: image/jpeg\r\nContent-Range: {range}\r\nContent-Length: {}\r\n\
         Expect: 100-continue\r\nConnection: close\r\n\r\n",
        range.bytes()
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let answer = read_head(&mut stream).await;
    let (status, offset) = parse_head(&answer);
    if status != 100 {
        return Opened::Answered(status, offset);
    }
    stream.write_all(body).await.unwrap();
    stream.flush().await.unwrap();
    Opened::Sending(stream)
}

/// Reads one response head (up to its blank line).
async fn read_head(stream: &mut TcpStream) -> String {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        let n = stream.read(&mut byte).await.unwrap();
        assert!(
            n > 0,
            "the connection closed mid-head: {}",
            String::from_utf8_lossy(&head)
        );
        head.push(byte[0]);
    }
    String::from_utf8(head).unwrap()
}

/// The status and `Upload-Offset` of a response head.
fn parse_head(head: &str) -> (u16, Option<u64>) {
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("{head}"));
    let offset = head
        .lines()
        .find_map(|line| line.strip_prefix("upload-offset: "))
        .map(|v| v.trim().parse().unwrap());
    (status, offset)
}

/// A whole part over the socket: the status, the answer's `Upload-Offset`, and the body bytes
/// sent (none when the server answered before asking for them).
async fn send_part(
    addr: SocketAddr,
    token: &str,
    hash: &PhotoHash,
    range: ContentRange,
    body: &[u8],
) -> (u16, Option<u64>, usize) {
    match open_part(addr, token, hash, range, body).await {
        Opened::Answered(status, offset) => (status, offset, 0),
        Opened::Sending(mut stream) => {
            let (status, offset) = parse_head(&read_head(&mut stream).await);
            (status, offset, body.len())
        }
    }
}

fn sending(opened: Opened) -> TcpStream {
    match opened {
        Opened::Sending(stream) => stream,
        Opened::Answered(status, _) => panic!("the part was refused: {status}"),
    }
}

async fn a_cut_part_keeps_its_bytes_and_the_upload_resumes(backend: Backend) {
    let t = TestApp::start(backend).await;
    let phone = t.login("inspector1").await;
    let addr = listen(&t).await;
    let bytes = photo(4 * PART + 12_345, 7);
    let total = bytes.len() as u64;
    let hash = PhotoHash::of_bytes(&bytes);
    let range =
        |start: usize, end: usize| ContentRange::of(start as u64, end as u64, total).unwrap();
    let mut sent = 0usize;

    let (status, at, n) =
        send_part(addr, &phone.token, &hash, range(0, PART), &bytes[..PART]).await;
    sent += n;
    assert_eq!((status, at, n), (202, Some(PART as u64), PART));

    // The second part is cut half-way, once the server has the half: the connection drops.
    let half = PART / 2;
    let cut = open_part(
        addr,
        &phone.token,
        &hash,
        range(PART, 2 * PART),
        &bytes[PART..PART + half],
    )
    .await;
    let cut = sending(cut);
    sent += half;
    let mut held = 0;
    for _ in 0..400 {
        held = offset(&t, &phone.token, &hash).await.unwrap();
        if held == (PART + half) as u64 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert_eq!(
        held,
        (PART + half) as u64,
        "the half received before the cut"
    );
    drop(cut);

    // The third is cut at once, without waiting: whatever arrived before the cut is kept.
    let start = PART + half;
    let quick = open_part(
        addr,
        &phone.token,
        &hash,
        range(start, start + PART),
        &bytes[start..start + PART / 3],
    )
    .await;
    let quick = sending(quick);
    sent += PART / 3;
    drop(quick);

    // The client goes on from the server's offset until the photo is whole.
    let mut offset_now = offset(&t, &phone.token, &hash).await.unwrap();
    assert!(offset_now >= start as u64, "{offset_now}");
    let mut rounds = 0;
    loop {
        rounds += 1;
        assert!(rounds < 400, "the upload did not finish");
        let from = offset_now as usize;
        let to = (from + PART).min(bytes.len());
        let (status, at, n) =
            send_part(addr, &phone.token, &hash, range(from, to), &bytes[from..to]).await;
        sent += n;
        match status {
            201 => break,
            202 => offset_now = at.unwrap(),
            // The cut request's last write still under way: try again, or go on from where
            // the server says.
            503 => tokio::time::sleep(Duration::from_millis(25)).await,
            409 => offset_now = at.unwrap(),
            other => panic!("part answered {other}"),
        }
    }
    assert_eq!(offset(&t, &phone.token, &hash).await, None);
    assert_eq!(
        &t.state.photos.get(&hash).await.unwrap().unwrap()[..],
        &bytes[..]
    );
    assert!(staging_files(&t).is_empty(), "{:?}", staging_files(&t));
    // Every body byte written to a socket counts (a refused part sent none: the server answered
    // before its `100 Continue`). Nothing received was sent again.
    assert!(
        sent < bytes.len() + PART,
        "sent {sent} bytes for a photo of {}",
        bytes.len()
    );
    t.finish().await;
}

async fn parts_complete_into_the_bucket(backend: Backend) {
    let Some(endpoint) = s3_endpoint().await else {
        return;
    };
    let bucket = create_bucket(&endpoint).await;
    let t = TestApp::start_with(backend, |config| use_s3(config, &endpoint, &bucket, true)).await;
    let phone = t.login("inspector1").await;
    let bytes = photo(2 * PART + 3, 8);
    let hash = PhotoHash::of_bytes(&bytes);
    assert_eq!(
        put_part(&t, &phone.token, &hash, &bytes, 0).await.status,
        StatusCode::ACCEPTED
    );
    assert_eq!(offset(&t, &phone.token, &hash).await, Some(PART as u64));
    let last = send_all_from(&t, &phone.token, &hash, &bytes, PART).await;
    assert_eq!(
        last.status,
        StatusCode::CREATED,
        "{}",
        String::from_utf8_lossy(&last.body)
    );
    let objects = common::bucket_objects(&endpoint, &bucket).await;
    let key = zhicha_server::photos::PhotoStore::key(&hash).to_string();
    assert_eq!(&objects[&key][..], &bytes[..]);
    assert!(staging_files(&t).is_empty());
    t.finish().await;
}

async fn send_all_from(
    t: &TestApp,
    token: &str,
    hash: &PhotoHash,
    photo: &[u8],
    mut start: usize,
) -> common::Reply {
    loop {
        let reply = put_part(t, token, hash, photo, start).await;
        start = (start + PART).min(photo.len());
        if start == photo.len() || reply.status != StatusCode::ACCEPTED {
            return reply;
        }
    }
}
