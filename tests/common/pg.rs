//! A throw-away PostgreSQL server for the tests of `PgStore`: one cluster
//! per test binary, one database per test.
//!
//! The cluster lives in a temporary directory: `initdb` and `pg_ctl` from
//! the newest `/usr/lib/postgresql/<version>/bin` (Debian's `postgresql`
//! package, which `.ci/run` installs), run as the `postgres` user through
//! `runuser` when the tests run as root (initdb refuses root), listening on
//! a free loopback port and a socket in that directory, with durability
//! off (a test database is never worth an fsync).
//!
//! A small shell keeps watch: it starts the server, reports "ready", then
//! waits on a pipe from the test process. When the test process ends — all
//! tests done, a panic, or a kill — the pipe closes, and the shell stops
//! the server and removes the directory. (A `static` is never dropped, so
//! the end of the process, not a `Drop`, is what removes the cluster.)
#![allow(dead_code, unreachable_pub, clippy::unwrap_used)]

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{ChildStdin, Command, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

/// The running cluster of this test binary.
pub struct Cluster {
    port: u16,
    bin: PathBuf,
    dir: PathBuf,
    next_database: AtomicUsize,
    /// Held until the process ends; its closing stops the server.
    _watch: ChildStdin,
}

static CLUSTER: OnceLock<Cluster> = OnceLock::new();

/// The cluster, started on first use.
pub fn cluster() -> &'static Cluster {
    CLUSTER.get_or_init(Cluster::start)
}

/// A new, empty database on the cluster; its URL.
pub fn database() -> String {
    cluster().database()
}

impl Cluster {
    fn start() -> Self {
        let bin = server_bin();
        let as_postgres = is_root();
        let dir = tempfile::Builder::new()
            .prefix("certexport-pg-")
            .tempdir()
            .unwrap()
            .keep();
        if as_postgres {
            let (uid, gid) = postgres_user();
            std::os::unix::fs::chown(&dir, Some(uid), Some(gid)).unwrap();
        }
        let mut last_error = String::new();
        // A port found free can be taken before the server binds it: try again.
        for _ in 0..3 {
            let port = free_port();
            match start_server(&bin, &dir, port, as_postgres) {
                Ok(watch) => {
                    return Cluster {
                        port,
                        bin,
                        dir: dir.clone(),
                        next_database: AtomicUsize::new(0),
                        _watch: watch,
                    };
                }
                Err(e) => last_error = e,
            }
        }
        panic!(
            "cannot start a PostgreSQL test cluster in {}: {last_error}",
            dir.display()
        );
    }

    /// The URL of database `name` on the cluster.
    pub fn url(&self, name: &str) -> String {
        format!("postgresql://postgres@127.0.0.1:{}/{name}", self.port)
    }

    /// A new, empty database; its URL.
    pub fn database(&self) -> String {
        let name = format!("test_{}", self.next_database.fetch_add(1, Ordering::Relaxed));
        let mut admin = postgres::Client::connect(&self.url("postgres"), postgres::NoTls).unwrap();
        admin.batch_execute(&format!("CREATE DATABASE {name}")).unwrap();
        self.url(&name)
    }

    /// The cluster's data directory.
    pub fn data_dir(&self) -> PathBuf {
        self.dir.join("data")
    }

    /// A client program of the server's version (`pg_dump`, `psql`).
    pub fn program(&self, name: &str) -> PathBuf {
        self.bin.join(name)
    }
}

/// Starts the server and its watcher; the pipe whose closing stops them.
fn start_server(bin: &Path, dir: &Path, port: u16, as_postgres: bool) -> Result<ChildStdin, String> {
    let (bin, dir) = (bin.display(), dir.display());
    let script = format!(
        r#"set -e
[ -d "{dir}/data" ] || "{bin}/initdb" -D "{dir}/data" -U postgres -A trust -E UTF8 --locale=C --no-sync >"{dir}/initdb.log" 2>&1
"{bin}/pg_ctl" -D "{dir}/data" -l "{dir}/server.log" -w -t 60 \
    -o "-k {dir} -p {port} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
    start >"{dir}/pg_ctl.log" 2>&1 || {{ cat "{dir}/pg_ctl.log" "{dir}/server.log" >&2; exit 1; }}
echo ready
read _ || true
"{bin}/pg_ctl" -D "{dir}/data" -m immediate -w stop >/dev/null 2>&1 || true
rm -rf "{dir}"
"#
    );
    let mut command = if as_postgres {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--", "sh", "-c", &script]);
        c
    } else {
        let mut c = Command::new("sh");
        c.args(["-c", &script]);
        c
    };
    let mut child = command
        .current_dir("/")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run the cluster's shell: {e}"))?;
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .map_err(|e| e.to_string())?;
    if line.trim() == "ready" {
        return Ok(child.stdin.take().unwrap());
    }
    let output = child.wait_with_output().map_err(|e| e.to_string())?;
    let initdb = std::fs::read_to_string(format!("{dir}/initdb.log")).unwrap_or_default();
    Err(format!("{}{initdb}", String::from_utf8_lossy(&output.stderr)))
}

/// The newest server's `bin` directory, or a panic that says how to get one.
fn server_bin() -> PathBuf {
    let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let version = entry.file_name().to_str()?.parse().ok()?;
            let bin = entry.path().join("bin");
            bin.join("initdb").is_file().then_some((version, bin))
        })
        .collect();
    found.sort();
    match found.pop() {
        Some((_, bin)) => bin,
        None => panic!(
            "the PostgreSQL tests need a PostgreSQL server: none found in /usr/lib/postgresql/*/bin. \
             `.ci/run` installs Debian's `postgresql` package (or run `apt-get install postgresql`)"
        ),
    }
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// The uid and gid of the `postgres` user the server package creates.
fn postgres_user() -> (u32, u32) {
    let passwd = std::fs::read_to_string("/etc/passwd").unwrap();
    passwd
        .lines()
        .find_map(|line| {
            let fields: Vec<&str> = line.split(':').collect();
            (fields.first() == Some(&"postgres")).then(|| (fields[2].parse().unwrap(), fields[3].parse().unwrap()))
        })
        .expect("the postgresql package creates a `postgres` user; run .ci/run to install it")
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A cluster of one test's own, which the test may stop, start again, and
/// copy into a streaming replica (`pg_basebackup`); stopped and removed
/// when dropped.
pub struct OwnCluster {
    /// Its port on 127.0.0.1.
    pub port: u16,
    bin: PathBuf,
    dir: PathBuf,
}

impl OwnCluster {
    /// A new cluster (`initdb`), started.
    pub fn start() -> Self {
        let cluster = Self::prepared();
        let data = cluster.data();
        cluster.run(
            "initdb",
            &[
                "-D",
                &data,
                "-U",
                "postgres",
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--locale=C",
                "--no-sync",
            ],
        );
        cluster.start_server();
        cluster
    }

    /// A streaming replica of `self` (`pg_basebackup -R`: a hot standby
    /// that follows it), started.
    pub fn replica(&self) -> Self {
        let replica = Self::prepared();
        replica.run(
            "pg_basebackup",
            &[
                "-D",
                &replica.data(),
                "-h",
                "127.0.0.1",
                "-p",
                &self.port.to_string(),
                "-U",
                "postgres",
                "-R",
                "-X",
                "stream",
                "--no-sync",
            ],
        );
        replica.start_server();
        replica
    }

    /// `postgresql://…/postgres` on this cluster.
    pub fn url(&self) -> String {
        format!("postgresql://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// Starts the server (again), on the same port.
    pub fn start_server(&self) {
        let options = format!(
            "-k {} -p {} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off -c max_connections=100",
            self.dir.display(),
            self.port
        );
        let log = self.dir.join("server.log").display().to_string();
        self.run(
            "pg_ctl",
            &[
                "-D",
                &self.data(),
                "-l",
                &log,
                "-w",
                "-t",
                "60",
                "-o",
                &options,
                "start",
            ],
        );
    }

    /// Stops the server (fast shutdown: sessions are ended at once).
    pub fn stop_server(&self) {
        self.run("pg_ctl", &["-D", &self.data(), "-m", "fast", "-w", "stop"]);
    }

    fn prepared() -> Self {
        let bin = server_bin();
        let dir = tempfile::Builder::new()
            .prefix("certexport-pg-own-")
            .tempdir()
            .unwrap()
            .keep();
        if is_root() {
            let (uid, gid) = postgres_user();
            std::os::unix::fs::chown(&dir, Some(uid), Some(gid)).unwrap();
        }
        OwnCluster {
            port: free_port(),
            bin,
            dir,
        }
    }

    fn data(&self) -> String {
        self.dir.join("data").display().to_string()
    }

    /// The server program `program` (run as `postgres` when root).
    fn command(&self, program: &str) -> Command {
        let program = self.bin.join(program);
        let mut command = if is_root() {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&program);
            c
        } else {
            Command::new(&program)
        };
        command.current_dir("/").stdin(Stdio::null());
        command
    }

    /// Runs the server program `program` with `args`; it must succeed.
    fn run(&self, program: &str, args: &[&str]) {
        let out = self.command(program).args(args).output().unwrap();
        assert!(
            out.status.success(),
            "{program} {args:?}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

impl Drop for OwnCluster {
    fn drop(&mut self) {
        let _ = self
            .command("pg_ctl")
            .args(["-D", &self.data(), "-m", "immediate", "-w", "stop"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
