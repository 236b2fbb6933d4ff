//! What a real endpoint does that the embedded chain never does, against the
//! validator at `MEDSHARE_TEST_URL`, through a fault-injecting proxy in this
//! process: JSON-RPC over HTTP on one port, the websocket on the next one
//! (the Solana convention [`medshare_sdk::chain::rpc::websocket_url`] follows).
//!
//! - the endpoint rate-limits (HTTP 429): requests are retried;
//! - a transaction lands but its confirmation times out: it is reported
//!   landed and executed once, never submitted twice;
//! - a blockhash expires before the transaction lands: it is signed again
//!   and executed once;
//! - the websocket drops and new connections are refused for a while: a
//!   share still completes, and the nodes subscribe again.
//!
//! (Transaction logs that the validator truncates are covered through the
//! chain trait's fault injection in `nodes.rs`; preflight refusals in
//! `cli.rs` and `cli_consent.rs`.)
//!
//! Without `MEDSHARE_TEST_URL` every test here says it is skipped and
//! passes without running: they need a validator (`scripts/validator-e2e`).

use std::collections::HashSet;
use std::convert::Infallible;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering::SeqCst};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine as _;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use medshare::state::Role;
use medshare_sdk::chain::rpc::Rpc;
use medshare_sdk::chain::{Chain, ChainError, SharedChain};
use medshare_tests::cli_env::test_url;
use mpc_node::cluster::{ClusterOptions, LocalCluster};
use serde_json::Value;
use solana_sdk::pubkey::Pubkey;
use solana_sdk::signature::{Keypair, Signer};
use tokio::net::{TcpListener, TcpStream};

/// What the proxy does to the traffic, and what it saw.
#[derive(Default)]
struct Faults {
    /// Answer 429 to every k-th request (0: never).
    rate_limit_every: AtomicU32,
    /// 429 answers sent.
    rate_limited: AtomicU32,
    /// `getSignatureStatuses` answers 503 until then.
    statuses_down_until: Mutex<Option<Instant>>,
    /// Swallow the next this many distinct transactions (answer as if sent,
    /// forward nothing, now or when sent again).
    swallow_next: AtomicU32,
    swallowed: Mutex<HashSet<String>>,
    /// Report blockhashes as valid for 3 blocks instead of 150.
    short_blockhashes: AtomicBool,
    /// Every `sendTransaction` signature, in order (repeats included).
    sent: Mutex<Vec<String>>,
    /// Refuse websocket connections.
    refuse_ws: AtomicBool,
    /// Websocket connections accepted.
    ws_accepted: AtomicU32,
    ws_tasks: Mutex<Vec<tokio::task::JoinHandle<()>>>,
}

impl Faults {
    /// Cuts every open websocket connection.
    fn drop_websockets(&self) {
        for t in self.ws_tasks.lock().unwrap().drain(..) {
            t.abort();
        }
    }

    fn distinct_sent(&self) -> usize {
        self.sent
            .lock()
            .unwrap()
            .iter()
            .collect::<HashSet<_>>()
            .len()
    }
}

/// A proxy on `127.0.0.1:port` (HTTP) and `port + 1` (websocket) in front of
/// the validator at `upstream`.
struct Proxy {
    url: String,
    faults: Arc<Faults>,
}

impl Proxy {
    async fn start(upstream: &str) -> Proxy {
        let up = url::Url::parse(upstream).expect("MEDSHARE_TEST_URL is a URL");
        let host = up.host_str().expect("host").to_string();
        let port = up.port_or_known_default().expect("port");
        let (http, ws, p) = loop {
            let http = TcpListener::bind("127.0.0.1:0").await.expect("bind");
            let p = http.local_addr().unwrap().port();
            if let Ok(ws) = TcpListener::bind(("127.0.0.1", p + 1)).await {
                break (http, ws, p);
            }
        };
        let faults = Arc::new(Faults::default());
        let (f, rpc_up) = (faults.clone(), format!("{host}:{port}"));
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = http.accept().await else {
                    return;
                };
                let (f, rpc_up) = (f.clone(), rpc_up.clone());
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |req| {
                        handle(f.clone(), rpc_up.clone(), req)
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        let (f, ws_up) = (faults.clone(), format!("{host}:{}", port + 1));
        tokio::spawn(async move {
            loop {
                let Ok((mut down, _)) = ws.accept().await else {
                    return;
                };
                if f.refuse_ws.load(SeqCst) {
                    drop(down);
                    continue;
                }
                f.ws_accepted.fetch_add(1, SeqCst);
                let ws_up = ws_up.clone();
                let task = tokio::spawn(async move {
                    if let Ok(mut up) = TcpStream::connect(&ws_up).await {
                        let _ = tokio::io::copy_bidirectional(&mut down, &mut up).await;
                    }
                });
                f.ws_tasks.lock().unwrap().push(task);
            }
        });
        Proxy {
            url: format!("http://127.0.0.1:{p}"),
            faults,
        }
    }

    fn chain(&self) -> SharedChain {
        Arc::new(Rpc::new(&self.url))
    }
}

fn reply(status: StatusCode, body: Vec<u8>) -> Response<Full<Bytes>> {
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(body)))
        .expect("response")
}

/// The first signature of a base64 wire transaction, base58.
fn signature_of(wire_b64: &str) -> Option<String> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(wire_b64)
        .ok()?;
    // A compact-u16 count (one byte below 128), then 64-byte signatures.
    Some(bs58::encode(bytes.get(1..65)?).into_string())
}

async fn handle(
    f: Arc<Faults>,
    upstream: String,
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let (parts, body) = req.into_parts();
    let body = body
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let call: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let method = call["method"].as_str().unwrap_or_default().to_string();
    let every = f.rate_limit_every.load(SeqCst);
    if every > 0 && rand_core::RngCore::next_u32(&mut rand_core::OsRng).is_multiple_of(every) {
        f.rate_limited.fetch_add(1, SeqCst);
        return Ok(reply(
            StatusCode::TOO_MANY_REQUESTS,
            b"rate limited".to_vec(),
        ));
    }
    if method == "getSignatureStatuses"
        && f.statuses_down_until
            .lock()
            .unwrap()
            .is_some_and(|t| Instant::now() < t)
    {
        return Ok(reply(
            StatusCode::SERVICE_UNAVAILABLE,
            b"unavailable".to_vec(),
        ));
    }
    if method == "sendTransaction" {
        if let Some(sig) = call["params"][0].as_str().and_then(signature_of) {
            f.sent.lock().unwrap().push(sig.clone());
            let mut swallowed = f.swallowed.lock().unwrap();
            if !swallowed.contains(&sig)
                && f.swallow_next
                    .fetch_update(SeqCst, SeqCst, |k| k.checked_sub(1))
                    .is_ok()
            {
                swallowed.insert(sig.clone());
            }
            if swallowed.contains(&sig) {
                let answer = serde_json::json!({"jsonrpc": "2.0", "result": sig, "id": call["id"]});
                return Ok(reply(StatusCode::OK, answer.to_string().into_bytes()));
            }
        }
    }
    let forwarded = async {
        let stream = TcpStream::connect(&upstream).await.ok()?;
        let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .ok()?;
        tokio::spawn(conn);
        let mut out = Request::builder()
            .method(parts.method.clone())
            .uri(parts.uri.clone());
        for (k, v) in parts.headers.iter() {
            out = out.header(k, v);
        }
        let resp = sender
            .send_request(out.body(Full::new(body.clone())).ok()?)
            .await
            .ok()?;
        let status = resp.status();
        let bytes = resp.into_body().collect().await.ok()?.to_bytes();
        Some((status, bytes))
    }
    .await;
    let Some((status, bytes)) = forwarded else {
        return Ok(reply(
            StatusCode::BAD_GATEWAY,
            b"upstream unreachable".to_vec(),
        ));
    };
    if method == "getLatestBlockhash" && f.short_blockhashes.load(SeqCst) {
        if let Ok(mut v) = serde_json::from_slice::<Value>(&bytes) {
            if let Some(h) = v["result"]["value"]["lastValidBlockHeight"].as_u64() {
                // Valid for 150 blocks from the current height: say 3.
                v["result"]["value"]["lastValidBlockHeight"] = Value::from(h.saturating_sub(147));
                return Ok(reply(status, v.to_string().into_bytes()));
            }
        }
    }
    Ok(reply(status, bytes.to_vec()))
}

/// The validator URL, or a note naming the skipped test.
fn validator(test: &str) -> Option<String> {
    let url = test_url();
    if url.is_none() {
        eprintln!("note: skipping {test}: it needs a validator (set MEDSHARE_TEST_URL; scripts/validator-e2e does)");
    }
    url
}

/// A funded payer on the validator (funded directly, not through the proxy).
async fn payer(url: &str) -> Keypair {
    let k = Keypair::new();
    Rpc::new(url)
        .airdrop(&k.pubkey(), 2_000_000_000)
        .await
        .expect("airdrop");
    k
}

/// A proxy in front of the validator, the chain through it, a funded payer
/// and a fresh transfer destination; `None` (after a note) without a validator.
async fn transfer_setup(test: &str) -> Option<(Proxy, SharedChain, Keypair, Pubkey)> {
    let url = validator(test)?;
    let proxy = Proxy::start(&url).await;
    let chain = proxy.chain();
    let from = payer(&url).await;
    Some((proxy, chain, from, Pubkey::new_unique()))
}

fn transfer(from: &Keypair, to: &Pubkey, lamports: u64) -> solana_sdk::instruction::Instruction {
    anchor_lang::solana_program::system_instruction::transfer(&from.pubkey(), to, lamports)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_rpc_rate_limited_requests_are_retried() {
    let Some((proxy, chain, from, to)) =
        transfer_setup("test_rpc_rate_limited_requests_are_retried").await
    else {
        return;
    };
    // One request in three is refused with 429.
    proxy.faults.rate_limit_every.store(3, SeqCst);
    chain
        .send(&[transfer(&from, &to, 1_000_000)], &[&from])
        .await
        .expect("the transfer lands despite 429s");
    for _ in 0..10 {
        assert_eq!(
            chain.balance(&to).await.expect("balance despite 429s"),
            1_000_000
        );
    }
    assert!(
        proxy.faults.rate_limited.load(SeqCst) > 0,
        "the proxy refused nothing: the test proves nothing"
    );
    // An endpoint that refuses everything: one clear error, no hang.
    proxy.faults.rate_limit_every.store(1, SeqCst);
    let e = chain.balance(&to).await.unwrap_err();
    assert!(
        matches!(&e, ChainError::Endpoint(m) if m.contains("429")),
        "{e}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_rpc_confirmation_timeout_does_not_submit_twice() {
    let Some((proxy, chain, from, to)) =
        transfer_setup("test_rpc_confirmation_timeout_does_not_submit_twice").await
    else {
        return;
    };
    // Status checks fail for 5 s: the transaction lands meanwhile, and the
    // sender cannot see it.
    *proxy.faults.statuses_down_until.lock().unwrap() =
        Some(Instant::now() + Duration::from_secs(5));
    let landed = chain
        .send(&[transfer(&from, &to, 1_234_567)], &[&from])
        .await
        .expect("reported landed once confirmation answers again");
    assert_eq!(
        chain.balance(&to).await.unwrap(),
        1_234_567,
        "executed exactly once"
    );
    assert_eq!(
        proxy.faults.distinct_sent(),
        1,
        "one transaction, maybe sent again, never a second one: {:?}",
        proxy.faults.sent.lock().unwrap()
    );
    assert_eq!(
        proxy.faults.sent.lock().unwrap()[0],
        landed.signature.to_string()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_rpc_expired_blockhash_is_signed_again_and_lands_once() {
    let Some((proxy, chain, from, to)) =
        transfer_setup("test_rpc_expired_blockhash_is_signed_again_and_lands_once").await
    else {
        return;
    };
    // The first transaction never reaches the validator, and its blockhash
    // expires after 3 blocks.
    proxy.faults.swallow_next.store(1, SeqCst);
    proxy.faults.short_blockhashes.store(true, SeqCst);
    let landed = chain
        .send(&[transfer(&from, &to, 7_654_321)], &[&from])
        .await
        .expect("signed again after the expiry, and landed");
    assert_eq!(
        chain.balance(&to).await.unwrap(),
        7_654_321,
        "executed once"
    );
    let sent = proxy.faults.sent.lock().unwrap().clone();
    assert_eq!(proxy.faults.distinct_sent(), 2, "{sent:?}");
    assert_eq!(sent.last().unwrap(), &landed.signature.to_string());
    assert_ne!(
        sent[0],
        landed.signature.to_string(),
        "the lost one is not the one that landed"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_rpc_websocket_drop_share_completes_and_nodes_subscribe_again() {
    let Some(url) = validator("test_rpc_websocket_drop_share_completes_and_nodes_subscribe_again")
    else {
        return;
    };
    let proxy = Proxy::start(&url).await;
    let chain = proxy.chain();
    let opts = ClusterOptions {
        poll: Duration::from_millis(200),
        ..ClusterOptions::new(2, 3)
    };
    let lc = LocalCluster::start(chain.clone(), opts)
        .await
        .expect("cluster over the proxy");
    let patient = medshare_tests::nodes_env::funded_client(&chain).await;
    let doctor = medshare_tests::nodes_env::funded_client(&chain).await;
    patient.register(Role::Patient).await.expect("register");
    doctor.register(Role::Doctor).await.expect("register");
    let data = medshare_client::demo::sample_record();
    let (record, _) = patient
        .store_fields(&lc.address, 1, &data)
        .await
        .expect("store");
    let subscribed_before = proxy.faults.ws_accepted.load(SeqCst);
    // The websocket drops and stays refused while the share runs.
    proxy.faults.refuse_ws.store(true, SeqCst);
    proxy.faults.drop_websockets();
    let to = patient
        .resolve_recipient(&doctor.wallet.pubkey().to_string())
        .await
        .expect("doctor resolves");
    let ticket = patient
        .share(&record, 0b10, to)
        .await
        .expect("share request");
    let result = patient
        .wait(&ticket, Duration::from_secs(120), |_, _| {})
        .await
        .expect("the share completes without websockets (the nodes poll)");
    assert!(result.completed);
    let opened = doctor.decrypt(&ticket.share_result).await.expect("decrypt");
    assert_eq!(
        opened.contents.data,
        medshare_tests::nodes_env::expected_fields(&data, 0b10)
    );
    // The websocket comes back: the nodes subscribe again by themselves.
    proxy.faults.refuse_ws.store(false, SeqCst);
    let deadline = Instant::now() + Duration::from_secs(90);
    while lc
        .nodes
        .iter()
        .any(|n| n.metrics.subscription_up.get() != 1)
    {
        assert!(Instant::now() < deadline, "nodes did not subscribe again");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(proxy.faults.ws_accepted.load(SeqCst) > subscribed_before);
    lc.shutdown().await;
}
