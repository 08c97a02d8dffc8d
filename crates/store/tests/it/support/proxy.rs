//! A TCP proxy in front of the test PostgreSQL that a test can take down and bring back on the
//! same port: to the store this looks exactly like a database restart (every connection cut,
//! new ones refused), without disturbing the shared server other tests use.
use std::net::SocketAddr;

use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;

pub struct Proxy {
    pub addr: SocketAddr,
    upstream: SocketAddr,
    tasks: JoinSet<()>,
}

impl Proxy {
    pub async fn start(upstream: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let mut proxy = Self {
            addr,
            upstream,
            tasks: JoinSet::new(),
        };
        proxy.serve(listener);
        proxy
    }

    fn serve(&mut self, listener: TcpListener) {
        let upstream = self.upstream;
        self.tasks.spawn(async move {
            // Connection tasks live in their own set, so aborting this task cuts them all.
            let mut conns = JoinSet::new();
            while let Ok((mut inbound, _)) = listener.accept().await {
                conns.spawn(async move {
                    if let Ok(mut outbound) = TcpStream::connect(upstream).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
            }
        });
    }

    /// A proxy to the test PostgreSQL, and a URL through it for `schema`.
    pub async fn in_front_of_test_postgres(schema: &str) -> (Self, String) {
        let pg: tokio_postgres::Config = super::postgres_base().parse().unwrap();
        let host = match &pg.get_hosts()[0] {
            tokio_postgres::config::Host::Tcp(h) => h.clone(),
            #[allow(unreachable_patterns)]
            _ => panic!("the restart tests need a TCP address in TESSERA_TEST_POSTGRES"),
        };
        let port = pg.get_ports().first().copied().unwrap_or(5432);
        let upstream = tokio::net::lookup_host((host.as_str(), port))
            .await
            .unwrap()
            .next()
            .unwrap();
        let proxy = Self::start(upstream).await;
        let base = format!(
            "postgres://{}@{}/{}",
            pg.get_user().unwrap_or("postgres"),
            proxy.addr,
            pg.get_dbname().unwrap_or("test")
        );
        let url = super::schema_url(&base, schema);
        (proxy, url)
    }

    /// "PostgreSQL is down": every connection is cut and the port refuses new ones.
    pub async fn stop(&mut self) {
        self.tasks.abort_all();
        while self.tasks.join_next().await.is_some() {}
    }

    /// "PostgreSQL is back", on the same port.
    pub async fn restart(&mut self) {
        let listener = TcpListener::bind(self.addr).await.unwrap();
        self.serve(listener);
    }
}
