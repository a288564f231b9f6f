//! A real Samba Active Directory domain controller for the Kerberos tests: Debian's samba-ad-dc,
//! provisioned with `samba-tool domain provision` into the test's own temporary directory (its
//! own smb.conf, private, state, lock, cache and pid directories, its own realm [`REALM`] and
//! DNS zone), run as `samba -i` (the AD DC binary: KDC, LDAP, DNS and the file server smbd) on a
//! host of its own ([`Netns`]: a network namespace of its own), in a session of its own and a
//! mount namespace of its own with a private tmpfs on /run (samba's smbd finds winbindd only at
//! the compiled-in /run/samba/winbindd, and the machine's /run/samba is a production smbd's).
//! `ntlm auth = disabled`: only Kerberos logs users on.
//!
//! Everything is made before the DC starts (samba-tool works on the databases directly): the
//! users of [`Dc::start`], a keytab for each ([`Dc::keytab`], made with `samba-tool domain
//! exportkeytab --principal`), a stale keytab (its user's password changed after the export:
//! [`STALE`]), a keytab for a principal deleted from the domain ([`GONE`]); the shares
//! [`SHARE`] and [`SEALED_SHARE`] (`smb encrypt = required`); a private krb5.conf naming the DC's
//! address as the KDC and a resolv.conf naming its DNS. Clients run through [`Dc::client`]: in a
//! mount namespace of their own whose /etc/resolv.conf is that file (so the DC's host name is
//! answered by the DC's own DNS), with `KRB5_CONFIG` set, and never a credential cache of this
//! machine's (`KRB5CCNAME` always names one in the DC's directory).
//!
//! Dropped, every process of the DC's namespace is stopped by its pid (samba's smbd and winbindd
//! leave samba's session, but not its namespace), then the namespace and the directory go.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use super::{Netns, OwnSession};

/// The realm of every DC the rig makes (each in a namespace of its own, with its own krb5.conf).
pub const REALM: &str = "CLPFSMON.TEST";
/// Its DNS domain.
pub const DNS_DOMAIN: &str = "clpfsmon.test";
/// The `NetBIOS` domain.
pub const DOMAIN: &str = "CLPFSMON";
/// The DC's host name, in the DC's own DNS.
pub const DC_HOST: &str = "dc1.clpfsmon.test";
/// A plain share.
pub const SHARE: &str = "data";
/// A share with `smb encrypt = required`.
pub const SEALED_SHARE: &str = "sealed";
/// A user whose keytab was exported before the password changed: the keytab is stale.
pub const STALE: &str = "staleuser";
/// A user whose keytab was exported before the user was deleted: an unknown principal.
pub const GONE: &str = "goneuser";
/// The password every test user is made with.
pub const PASSWORD: &str = "Kerb-test-Pass1";

/// A running domain controller.
pub struct Dc {
    child: Option<Child>,
    /// The DC's host (network namespace).
    pub net: Netns,
    dir: tempfile::TempDir,
}

fn run(cmd: &mut Command, what: &str, limit: Duration) -> String {
    let out = super::output_within(cmd, b"", limit)
        .unwrap_or_else(|| panic!("{what} did not end within {limit:?}"));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{what} ({}): {text}", out.status);
    text
}

impl Dc {
    /// Provisions a DC with the users `users` (each with [`PASSWORD`] and a keytab) besides
    /// [`STALE`] and [`GONE`], adds `global` lines to its `[global]`, starts it and waits (up
    /// to 60 s) until its KDC, DNS and file server answer.
    pub fn start(users: &[&str], global: &str) -> Self {
        super::require_root("a Samba AD DC");
        let samba = super::require_tool("samba", "samba-ad-dc");
        let tool = super::require_tool("samba-tool", "samba-ad-dc samba-ad-provision");
        super::require_tool("kinit", "krb5-user");
        let net = Netns::up();
        let dir = tempfile::Builder::new()
            .prefix("clpfs-addc-")
            .tempdir()
            .unwrap();
        let mut me = Self {
            child: None,
            net,
            dir,
        };
        let d = me.dir.path().to_path_buf();
        let ip = me.net.host.server_ip;
        for sub in [
            "etc",
            "run",
            "pid",
            "ncalrpc",
            SHARE,
            SEALED_SHARE,
            "client",
        ] {
            std::fs::create_dir_all(d.join(sub)).unwrap();
        }
        for share in [SHARE, SEALED_SHARE] {
            std::fs::set_permissions(
                d.join(share),
                std::os::unix::fs::PermissionsExt::from_mode(0o1777),
            )
            .unwrap();
        }
        // An empty seed: nothing of the machine's /etc/samba/smb.conf reaches the provision.
        let seed = d.join("seed.conf");
        std::fs::write(&seed, "[global]\n").unwrap();
        let opt = |o: String| format!("--option={o}");
        let ds = d.display();
        let mut provision = Command::new(&tool);
        provision
            .args(["domain", "provision", "-s"])
            .arg(&seed)
            .arg(format!("--targetdir={ds}"))
            .args([
                &format!("--realm={REALM}"),
                &format!("--domain={DOMAIN}"),
                "--server-role=dc",
                "--dns-backend=SAMBA_INTERNAL",
                "--host-name=dc1",
                &format!("--host-ip={ip}"),
                "--adminpass=Adm1n-Kerb-Pass",
                &opt(format!("interfaces = lo {ip}")),
                &opt("bind interfaces only = yes".into()),
                &opt(format!("log file = {ds}/log.%m")),
                &opt(format!("pid directory = {ds}/pid")),
                &opt(format!("ncalrpc dir = {ds}/ncalrpc")),
                // No updates of other DNS servers, no NetBIOS.
                &opt("dns update command = /bin/true".into()),
                &opt("spn update command = /bin/true".into()),
                &opt("disable netbios = yes".into()),
                &opt("load printers = no".into()),
            ]);
        run(
            &mut provision,
            "samba-tool domain provision",
            Duration::from_secs(180),
        );
        let conf = me.conf();
        // No forwarder (provision takes the machine's resolver): the DC's DNS answers for its
        // own zone only, and its namespace has no route beyond the test host anyway.
        let mut text: String = std::fs::read_to_string(&conf)
            .unwrap()
            .lines()
            .filter(|l| !l.trim_start().starts_with("dns forwarder"))
            .fold(String::new(), |mut t, l| {
                t.push_str(l);
                t.push('\n');
                t
            });
        let at = text.find("[global]").expect("[global]") + "[global]".len();
        text.insert_str(
            at,
            &format!("\n\tntlm auth = disabled\n\tserver signing = mandatory\n{global}\n"),
        );
        let _ = write!(
            text,
            "\n[{SHARE}]\n\tpath = {ds}/{SHARE}\n\tread only = no\n\
             \n[{SEALED_SHARE}]\n\tpath = {ds}/{SEALED_SHARE}\n\tread only = no\n\
             \tsmb encrypt = required\n"
        );
        std::fs::write(&conf, text).unwrap();
        let tool_run = |args: &[&str], what: &str| {
            let mut c = Command::new(&tool);
            c.args(args).arg("-s").arg(&conf);
            run(&mut c, what, Duration::from_secs(60));
        };
        let mut all: Vec<&str> = users.to_vec();
        all.extend([STALE, GONE]);
        for u in &all {
            tool_run(&["user", "add", u, PASSWORD], "samba-tool user add");
            let kt = me.keytab(u);
            tool_run(
                &[
                    "domain",
                    "exportkeytab",
                    &format!("--principal={u}@{REALM}"),
                    kt.to_str().unwrap(),
                ],
                "samba-tool domain exportkeytab",
            );
            std::fs::set_permissions(&kt, std::os::unix::fs::PermissionsExt::from_mode(0o600))
                .unwrap();
        }
        tool_run(
            &[
                "user",
                "setpassword",
                STALE,
                "--newpassword=Kerb-test-Pass2",
            ],
            "samba-tool user setpassword",
        );
        tool_run(&["user", "delete", GONE], "samba-tool user delete");
        std::fs::write(me.krb5_conf(), me.krb5_conf_text(true)).unwrap();
        std::fs::write(d.join("krb5-nosync.conf"), me.krb5_conf_text(false)).unwrap();
        std::fs::write(d.join("resolv.conf"), format!("nameserver {ip}\n")).unwrap();
        std::fs::write(
            d.join("client.conf"),
            format!(
                "[global]\n\tcache directory = {ds}/client\n\tlock directory = {ds}/client\n\
                 \tstate directory = {ds}/client\n\tprivate dir = {ds}/client\n\
                 \tncalrpc dir = {ds}/client\n\trealm = {REALM}\n\tworkgroup = {DOMAIN}\n"
            ),
        )
        .unwrap();
        let out = std::fs::File::create(d.join("samba.out")).unwrap();
        let mut cmd = me.net.exec();
        cmd.args([
            "unshare",
            "-m",
            "--propagation",
            "private",
            "sh",
            "-c",
            "mount -t tmpfs tmpfs /run && mkdir -p /run/samba && exec \"$0\" -i -s \"$1\"",
        ])
        .arg(&samba)
        .arg(&conf)
        .stdin(Stdio::null())
        .stdout(out.try_clone().unwrap())
        .stderr(out)
        .own_session();
        me.child = Some(cmd.spawn().expect("samba"));
        for port in [88, 53, 445] {
            let addr = std::net::SocketAddr::from((ip, port));
            if let Err(e) = super::wait_listening(
                me.child.as_mut().unwrap(),
                addr,
                Duration::from_secs(60),
                "samba",
            ) {
                panic!("{e}\n{}", me.log());
            }
        }
        // The DC's DNS answers for its own name, through the clients' resolv.conf.
        let mut getent = me.client(Path::new("getent"));
        getent.args(["hosts", DC_HOST]);
        let text = run(&mut getent, "getent hosts", Duration::from_secs(20));
        assert!(
            text.contains(&ip.to_string()),
            "{DC_HOST} through the DC's DNS: {text}"
        );
        me
    }

    fn krb5_conf_text(&self, timesync: bool) -> String {
        let ip = self.net.host.server_ip;
        format!(
            "[libdefaults]\n\tdefault_realm = {REALM}\n\tdns_lookup_realm = false\n\
             \tdns_lookup_kdc = false\n\trdns = false\n\tdns_canonicalize_hostname = false\n\
             \tkdc_timesync = {}\n\
             [realms]\n\t{REALM} = {{\n\t\tkdc = {ip}\n\t}}\n\
             [domain_realm]\n\t.{DNS_DOMAIN} = {REALM}\n\t{DNS_DOMAIN} = {REALM}\n",
            u8::from(timesync)
        )
    }

    /// The DC's smb.conf.
    pub fn conf(&self) -> PathBuf {
        self.dir.path().join("etc/smb.conf")
    }

    /// The clients' krb5.conf (MIT's defaults, `kdc_timesync = 1` among them).
    pub fn krb5_conf(&self) -> PathBuf {
        self.dir.path().join("krb5.conf")
    }

    /// The same with `kdc_timesync = 0`: a client's clock is not corrected by the KDC's.
    pub fn krb5_conf_nosync(&self) -> PathBuf {
        self.dir.path().join("krb5-nosync.conf")
    }

    /// The smb.conf for smbclient: its caches in the DC's directory, not the machine's.
    pub fn client_conf(&self) -> PathBuf {
        self.dir.path().join("client.conf")
    }

    /// The keytab of `user` (mode 0600).
    pub fn keytab(&self, user: &str) -> PathBuf {
        self.dir.path().join(format!("{user}.keytab"))
    }

    /// A path for a credential cache, in the DC's directory.
    pub fn ccache(&self, name: &str) -> String {
        format!("FILE:{}/{name}.ccache", self.dir.path().display())
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// A client command running `program`: in a mount namespace of its own whose
    /// /etc/resolv.conf names the DC's DNS, with the DC's krb5.conf and a credential cache of
    /// the DC's directory (the `default` one unless the caller sets `KRB5CCNAME`).
    pub fn client(&self, program: &Path) -> Command {
        let mut c = Command::new("unshare");
        c.args([
            "-m",
            "--propagation",
            "private",
            "sh",
            "-c",
            "mount --bind \"$0\" /etc/resolv.conf && exec \"$@\"",
        ])
        .arg(self.dir.path().join("resolv.conf"))
        .arg(program)
        .env("KRB5_CONFIG", self.krb5_conf())
        .env("KRB5CCNAME", self.ccache("default"));
        c
    }

    /// The pids of the DC's processes whose command line starts with `prefix` (`samba:
    /// task[kdc]`, `/usr/sbin/smbd`): every process of the DC's namespace is the DC's.
    pub fn pids(&self, prefix: &str) -> Vec<i32> {
        let out = Command::new("ip")
            .args(["netns", "pids", &self.net.host.ns])
            .output()
            .expect("ip netns pids");
        String::from_utf8_lossy(&out.stdout)
            .split_whitespace()
            .filter_map(|p| p.parse::<i32>().ok())
            .filter(|p| {
                std::fs::read(format!("/proc/{p}/cmdline"))
                    .is_ok_and(|c| c.starts_with(prefix.as_bytes()))
            })
            .collect()
    }

    /// Sends `sig` to each of `pids`.
    pub fn signal(pids: &[i32], sig: Signal) {
        for p in pids {
            let _ = kill(Pid::from_raw(*p), sig);
        }
    }

    /// The KDC's processes (the pre-fork master and its workers).
    pub fn kdc_pids(&self) -> Vec<i32> {
        let v = self.pids("samba: task[kdc]");
        assert!(!v.is_empty(), "no KDC process in the DC");
        v
    }

    /// The file server's processes (samba's smbd and its children).
    pub fn smbd_pids(&self) -> Vec<i32> {
        let v = self.pids("/usr/sbin/smbd");
        assert!(!v.is_empty(), "no smbd in the DC");
        v
    }

    /// samba's output and the file server's log, for a failure message.
    pub fn log(&self) -> String {
        let read = |n: &str| std::fs::read_to_string(self.dir.path().join(n)).unwrap_or_default();
        format!("samba:\n{}\nsmbd:\n{}", read("samba.out"), read("log.smbd"))
    }
}

impl Drop for Dc {
    fn drop(&mut self) {
        // Every process of the namespace, stopped ones woken first, by its pid.
        let all = || {
            Command::new("ip")
                .args(["netns", "pids", &self.net.host.ns])
                .output()
                .map(|o| {
                    String::from_utf8_lossy(&o.stdout)
                        .split_whitespace()
                        .filter_map(|p| p.parse::<i32>().ok())
                        .collect::<Vec<_>>()
                })
                .unwrap_or_default()
        };
        let pids = all();
        Self::signal(&pids, Signal::SIGCONT);
        Self::signal(&pids, Signal::SIGTERM);
        if let Some(c) = self.child.as_mut() {
            let gone = super::wait_until(Duration::from_secs(10), || {
                c.try_wait().ok().flatten().is_some()
            });
            if !gone {
                let _ = c.kill();
            }
            let _ = c.wait();
        }
        super::wait_until(Duration::from_secs(5), || all().is_empty());
        Self::signal(&all(), Signal::SIGKILL);
        super::wait_until(Duration::from_secs(5), || all().is_empty());
    }
}
