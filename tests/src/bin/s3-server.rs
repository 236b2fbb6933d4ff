//! A real S3-compatible server for the end-to-end tests: `s3s-fs` (crates.io)
//! serving a directory over HTTP, as its own process.
//!
//! `s3-server <root> <access key> <secret key>` binds `127.0.0.1:0`, prints
//! `listening on http://127.0.0.1:<port>` on stdout, and serves until it is
//! killed. Each subdirectory of `<root>` is a bucket.

use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder;
use std::io::Write;

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() != 4 {
        eprintln!("usage: s3-server <root> <access key> <secret key>");
        std::process::exit(2);
    }
    let fs = match s3s_fs::FileSystem::new(&args[1]) {
        Ok(fs) => fs,
        Err(e) => {
            eprintln!("s3-server: {}: {e:?}", args[1]);
            std::process::exit(1);
        }
    };
    let mut b = s3s::service::S3ServiceBuilder::new(fs);
    b.set_auth(s3s::auth::SimpleAuth::from_single(
        args[2].as_str(),
        args[3].as_str(),
    ));
    let service = b.build();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind 127.0.0.1:0");
    let addr = listener.local_addr().expect("local address");
    println!("listening on http://{addr}");
    std::io::stdout().flush().expect("stdout");
    let http = Builder::new(TokioExecutor::new());
    loop {
        let Ok((sock, _)) = listener.accept().await else {
            continue;
        };
        let conn = http
            .serve_connection(TokioIo::new(sock), service.clone())
            .into_owned();
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                eprintln!("s3-server: connection: {e}");
            }
        });
    }
}
