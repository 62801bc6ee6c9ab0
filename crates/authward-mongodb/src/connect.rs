//! Connecting with fail-fast defaults.

use std::time::Duration;

use authward_core::DbError;
use mongodb::Client;
use mongodb::bson::doc;
use mongodb::options::ClientOptions;

use crate::error::map_error;

/// The server selection and connect timeouts [`connect`] uses unless the URL or
/// [`ConnectOptions`] say otherwise: with the server down, a call fails with
/// [`DbError::Unavailable`] after about this long (the driver's own default is 30 s).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(2);

/// How [`connect`] builds a client: fail-fast timeouts, adjustable.
///
/// Precedence for each timeout: the value set here, else the URL's
/// (`serverSelectionTimeoutMS`, `connectTimeoutMS`), else [`DEFAULT_TIMEOUT`].
///
/// ```no_run
/// # async fn demo() -> Result<(), authward_core::DbError> {
/// use std::time::Duration;
/// use authward_mongodb::ConnectOptions;
///
/// let client = ConnectOptions::new()
///     .server_selection_timeout(Duration::from_secs(5))
///     .app_name("my-app")
///     .connect("mongodb://127.0.0.1:27017/")
///     .await?;
/// # let _ = client;
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, Default)]
pub struct ConnectOptions {
    server_selection_timeout: Option<Duration>,
    connect_timeout: Option<Duration>,
    app_name: Option<String>,
    ping: Option<bool>,
}

impl ConnectOptions {
    /// The defaults: 2 s timeouts unless the URL sets them, and a `ping` on connect.
    pub fn new() -> Self {
        Self::default()
    }

    /// How long an operation waits for a usable server before failing with
    /// [`DbError::Unavailable`].
    pub fn server_selection_timeout(mut self, timeout: Duration) -> Self {
        self.server_selection_timeout = Some(timeout);
        self
    }

    /// How long opening one connection may take.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = Some(timeout);
        self
    }

    /// The application name the server logs for each connection.
    pub fn app_name(mut self, name: impl Into<String>) -> Self {
        self.app_name = Some(name.into());
        self
    }

    /// Whether [`ConnectOptions::connect`] sends a `ping` so that an unreachable server fails
    /// at start-up (default `true`); without it the client connects on first use.
    pub fn ping(mut self, ping: bool) -> Self {
        self.ping = Some(ping);
        self
    }

    /// The driver's options for `url`, with these settings applied.
    ///
    /// [`DbError::Backend`] for a malformed URL; [`DbError::Unavailable`] when a
    /// `mongodb+srv://` name cannot be resolved.
    pub async fn client_options(&self, url: &str) -> Result<ClientOptions, DbError> {
        let mut options = ClientOptions::parse(url).await.map_err(map_error)?;
        options.server_selection_timeout = self
            .server_selection_timeout
            .or(options.server_selection_timeout)
            .or(Some(DEFAULT_TIMEOUT));
        options.connect_timeout = self
            .connect_timeout
            .or(options.connect_timeout)
            .or(Some(DEFAULT_TIMEOUT));
        if let Some(name) = &self.app_name {
            options.app_name = Some(name.clone());
        }
        Ok(options)
    }

    /// A client for `url`; with [`ConnectOptions::ping`] (the default) it has answered a
    /// `ping`, so a server that is down is reported here as [`DbError::Unavailable`].
    pub async fn connect(&self, url: &str) -> Result<Client, DbError> {
        let client = Client::with_options(self.client_options(url).await?).map_err(map_error)?;
        if self.ping.unwrap_or(true)
            && let Err(err) = client
                .database("admin")
                .run_command(doc! { "ping": 1 })
                .await
        {
            client.shutdown().await;
            return Err(map_error(err));
        }
        Ok(client)
    }
}

/// A client for `url` with fail-fast defaults ([`ConnectOptions::new`]): server selection and
/// connect timeouts of 2 s unless the URL sets them, and a `ping`, so that a server that is
/// down is [`DbError::Unavailable`] within about 2 s, here and on every later call.
///
/// The client reconnects by itself once the server is back. Call
/// [`Client::shutdown`] before the tokio runtime stops (the driver ends its server sessions in
/// a background task when the last handle is dropped).
///
/// ```no_run
/// # async fn demo() -> Result<(), authward_core::DbError> {
/// let client = authward_mongodb::connect("mongodb://127.0.0.1:27017/?directConnection=true").await?;
/// let db = client.database("app");
/// # let _ = db;
/// client.shutdown().await;
/// # Ok(())
/// # }
/// ```
pub async fn connect(url: &str) -> Result<Client, DbError> {
    ConnectOptions::new().connect(url).await
}
