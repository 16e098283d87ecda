//! The baseline: axum's hello world on the same runtime settings latchkey uses
//! (`#[tokio::main]`, i.e. the multi-thread runtime with one worker per core).
//!
//! Usage: `hello 127.0.0.1:18080`

use axum::Router;
use axum::routing::get;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let addr = std::env::args().nth(1).unwrap_or_else(|| "127.0.0.1:3000".to_owned());
    let app = Router::new().route("/", get(|| async { "Hello, World!" }));
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    eprintln!("hello: listening on http://{addr}");
    axum::serve(listener, app).await?;
    Ok(())
}
