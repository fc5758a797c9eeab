//! The container image, for real: a Debian base made with debootstrap (no
//! registry needed) and imported into podman, the image built from the
//! repository's Dockerfile (`--target prebuilt`, with the binaries under
//! test), and containers run on the host's network so that they reach the
//! tests' loopback servers. Everything started here is removed by name.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// The base image the tests build on, made once per machine.
pub const BASE: &str = "localhost/wasp-test-base:bookworm";

/// podman with a configuration this sandbox accepts: no rlimits set on
/// containers, and runc (crun refuses the hybrid cgroup layout here).
pub struct Podman {
    conf: PathBuf,
}

impl Podman {
    pub fn new(dir: &Path) -> Podman {
        assert!(
            Command::new("podman").arg("--version").stdout(Stdio::null()).status().is_ok_and(|s| s.success()),
            "podman is needed for the container test (.ci/run installs podman, runc and debootstrap)"
        );
        let conf = dir.join("containers.conf");
        let runtime = if Path::new("/usr/sbin/runc").exists() || Path::new("/usr/bin/runc").exists() { "[engine]\nruntime = \"runc\"\n" } else { "" };
        std::fs::write(&conf, format!("[containers]\ndefault_ulimits = []\n{runtime}")).unwrap();
        Podman { conf }
    }

    pub fn cmd(&self) -> Command {
        let mut c = Command::new("podman");
        c.env("CONTAINERS_CONF", &self.conf).stdin(Stdio::null());
        c
    }

    /// Runs podman; panics with its stderr when it fails.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.cmd().args(args).output().expect("podman runs");
        assert!(out.status.success(), "podman {}: {}", args.join(" "), String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    pub fn output(&self, args: &[&str]) -> Output {
        self.cmd().args(args).output().expect("podman runs")
    }

    /// The base image: Debian bookworm minbase by debootstrap, kept in
    /// target/ and in podman's store between runs.
    pub fn base(&self, target: &Path) {
        if self.output(&["image", "exists", BASE]).status.success() {
            return;
        }
        let rootfs = target.join("container-base/rootfs");
        if !rootfs.join("etc/debian_version").exists() {
            let _ = std::fs::remove_dir_all(&rootfs);
            std::fs::create_dir_all(&rootfs).unwrap();
            let out = Command::new("debootstrap")
                .args(["--variant=minbase", "bookworm"])
                .arg(&rootfs)
                .arg("http://deb.debian.org/debian")
                .output()
                .expect("debootstrap runs (apt-get install debootstrap)");
            assert!(out.status.success(), "debootstrap: {}", String::from_utf8_lossy(&out.stderr));
        }
        let mut tar = Command::new("tar").arg("-C").arg(&rootfs).args(["-c", "."]).stdout(Stdio::piped()).spawn().unwrap();
        let status = self.cmd().args(["import", "-", BASE]).stdin(tar.stdout.take().unwrap()).stdout(Stdio::null()).status().unwrap();
        assert!(tar.wait().unwrap().success() && status.success(), "podman import of the base failed");
    }

    /// Size of an image, bytes.
    pub fn size(&self, image: &str) -> u64 {
        self.ok(&["image", "inspect", "--format", "{{.Size}}", image]).parse().unwrap()
    }
}

/// Removes the named containers and the image when dropped.
pub struct Cleanup<'a> {
    pub podman: &'a Podman,
    pub containers: Vec<String>,
    pub image: String,
}

impl Drop for Cleanup<'_> {
    fn drop(&mut self) {
        for c in &self.containers {
            let _ = self.podman.output(&["rm", "-f", "-t", "0", c]);
        }
        let _ = self.podman.output(&["rmi", "-f", &self.image]);
    }
}
