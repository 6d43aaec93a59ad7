//! Command-line options, each also readable from its environment variable (see DEMO.md).

use std::net::SocketAddr;
use std::path::PathBuf;

/// The demo's options.
#[derive(Debug, Clone)]
pub(crate) struct Options {
    pub(crate) addr: SocketAddr,
    pub(crate) tls: bool,
    pub(crate) cert: Option<PathBuf>,
    pub(crate) key: Option<PathBuf>,
    pub(crate) redirect_http: Option<SocketAddr>,
    pub(crate) public_origin: Option<String>,
    pub(crate) data_dir: Option<PathBuf>,
    pub(crate) redis: Option<String>,
    pub(crate) csp_report_only: bool,
    pub(crate) danger_unprotected: bool,
}

pub(crate) const USAGE: &str = "\
usage: mitten-demo [OPTIONS]

  --addr HOST:PORT          where to listen [MITTEN_DEMO_ADDR] (default 127.0.0.1:8080)
  --tls                     serve HTTPS with a self-signed certificate made at start [MITTEN_DEMO_TLS=1]
  --cert FILE --key FILE    serve HTTPS with this certificate chain and key (PEM)
  --redirect-http HOST:PORT also listen there on plain HTTP and redirect to the HTTPS origin
  --public-origin URL       the origin browsers see [MITTEN_DEMO_PUBLIC_ORIGIN]
  --redis URL               keep sessions in Redis instead of memory [MITTEN_DEMO_REDIS]
  --data-dir DIR            where uploads are stored (default: a fresh temporary directory)
  --csp-report-only         send the CSP as Content-Security-Policy-Report-Only, reporting to /csp-report
  --danger-unprotected      TESTS ONLY, debug builds only: no CSP, framing allowed, no CORP or
                            nosniff, CSRF report-only, no JSON guard (the browser suite's control)
  -h, --help                this text
";

impl Options {
    /// Parses `args` (without the program name), falling back to `env` for unset options.
    pub(crate) fn parse(
        args: impl IntoIterator<Item = String>,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, String> {
        let mut options = Self {
            addr: env("MITTEN_DEMO_ADDR")
                .unwrap_or_else(|| "127.0.0.1:8080".into())
                .parse()
                .map_err(|_| "MITTEN_DEMO_ADDR is not HOST:PORT".to_string())?,
            tls: env("MITTEN_DEMO_TLS").is_some_and(|v| v == "1" || v == "true"),
            cert: None,
            key: None,
            redirect_http: None,
            public_origin: env("MITTEN_DEMO_PUBLIC_ORIGIN"),
            data_dir: None,
            redis: env("MITTEN_DEMO_REDIS"),
            csp_report_only: false,
            danger_unprotected: false,
        };
        let mut args = args.into_iter();
        while let Some(arg) = args.next() {
            let (name, inline) = match arg.split_once('=') {
                Some((name, value)) => (name.to_owned(), Some(value.to_owned())),
                None => (arg.clone(), None),
            };
            let mut value = || {
                inline
                    .clone()
                    .or_else(|| args.next())
                    .ok_or_else(|| format!("{name} needs a value"))
            };
            match name.as_str() {
                "--addr" => options.addr = parse_addr("--addr", &value()?)?,
                "--tls" => options.tls = true,
                "--cert" => options.cert = Some(value()?.into()),
                "--key" => options.key = Some(value()?.into()),
                "--redirect-http" => {
                    options.redirect_http = Some(parse_addr("--redirect-http", &value()?)?);
                }
                "--public-origin" => options.public_origin = Some(value()?),
                "--data-dir" => options.data_dir = Some(value()?.into()),
                "--redis" => options.redis = Some(value()?),
                "--csp-report-only" => options.csp_report_only = true,
                // The browser suite's control case, built by `cargo test` (a debug build): a
                // release build, what anyone runs to see the demo, refuses it.
                "--danger-unprotected" if cfg!(debug_assertions) => {
                    options.danger_unprotected = true;
                }
                "--danger-unprotected" => {
                    return Err("--danger-unprotected is for the tests' debug builds only".into());
                }
                "-h" | "--help" => return Err(String::new()),
                other => return Err(format!("unknown option {other}")),
            }
        }
        if options.cert.is_some() != options.key.is_some() {
            return Err("--cert and --key go together".into());
        }
        if options.cert.is_some() {
            options.tls = true;
        }
        if options.redirect_http.is_some() && !options.tls {
            return Err("--redirect-http needs --tls (or --cert/--key)".into());
        }
        Ok(options)
    }

    /// The origin browsers use: `--public-origin`, else the scheme and address served.
    pub(crate) fn public_origin(&self) -> String {
        match &self.public_origin {
            Some(origin) => origin.clone(),
            None => format!(
                "{}://{}",
                if self.tls { "https" } else { "http" },
                self.addr
            ),
        }
    }
}

fn parse_addr(name: &str, text: &str) -> Result<SocketAddr, String> {
    text.parse()
        .map_err(|_| format!("{name} expects HOST:PORT with an IP address, got {text:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Options, String> {
        Options::parse(args.iter().map(|s| s.to_string()), |_| None)
    }

    #[test]
    fn defaults_and_flags() {
        let options = parse(&[]).expect("defaults");
        assert_eq!(options.addr.to_string(), "127.0.0.1:8080");
        assert!(!options.tls);
        assert_eq!(options.public_origin(), "http://127.0.0.1:8080");
        let options = parse(&[
            "--addr=127.0.0.1:0",
            "--tls",
            "--redirect-http",
            "127.0.0.1:0",
        ])
        .expect("valid");
        assert!(options.tls && options.redirect_http.is_some());
    }

    #[test]
    fn environment_is_read() {
        let options = Options::parse(Vec::new(), |name| match name {
            "MITTEN_DEMO_ADDR" => Some("127.0.0.1:9000".into()),
            "MITTEN_DEMO_TLS" => Some("1".into()),
            _ => None,
        })
        .expect("valid");
        assert_eq!(options.public_origin(), "https://127.0.0.1:9000");
    }

    #[test]
    fn mistakes_are_reported() {
        assert!(parse(&["--addr", "nowhere"]).is_err());
        assert!(parse(&["--cert", "a.pem"]).is_err());
        assert!(parse(&["--redirect-http", "127.0.0.1:80"]).is_err());
        assert!(parse(&["--bogus"]).is_err());
    }
}
