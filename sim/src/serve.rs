//! How every simulator runs from the command line: bind, announce the URL, serve until Ctrl-C.

use std::future::Future;
use std::io::Write as _;
use std::net::SocketAddr;
use std::path::Path;

use anyhow::Context as _;
use tokio::net::TcpListener;

/// Binds `listen` (port 0 picks a free port), prints `exsync-sim NAME listening on URL` as the
/// first line of stdout (tests and scripts read it; `port_file` gets the URL too), then runs
/// `serve` on the listener until it ends or Ctrl-C. `serve` is called inside the runtime.
pub fn run<F, Fut, E>(
    name: &str,
    listen: SocketAddr,
    port_file: Option<&Path>,
    serve: F,
) -> anyhow::Result<()>
where
    F: FnOnce(TcpListener) -> Fut,
    Fut: Future<Output = Result<(), E>>,
    E: std::error::Error + Send + Sync + 'static,
{
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("Failed to build the tokio runtime")?;
    runtime.block_on(async move {
        let listener = TcpListener::bind(listen)
            .await
            .with_context(|| format!("Failed to listen on {listen}"))?;
        let addr = listener
            .local_addr()
            .context("Failed to read the listening address")?;
        let url = format!("http://{addr}");
        if let Some(path) = port_file {
            std::fs::write(path, format!("{url}\n"))
                .with_context(|| format!("Failed to write the port file {}", path.display()))?;
        }
        {
            let mut stdout = std::io::stdout().lock();
            writeln!(stdout, "exsync-sim {name} listening on {url}")
                .and_then(|()| stdout.flush())
                .context("Failed to announce the listening address on stdout")?;
        }
        tracing::info!(%addr, simulator = name, "Simulator listening.");
        tokio::select! {
            res = serve(listener) => res.context("Failed while serving HTTP"),
            _ = tokio::signal::ctrl_c() => {
                tracing::info!("Interrupted, stopping.");
                Ok(())
            }
        }
    })
}
