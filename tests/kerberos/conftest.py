"""A real MIT Kerberos KDC for the tests: realm CONTOSO.TEST on 127.0.0.1, in a temporary directory.

The ``kdc`` fixture is one per test package: the process environment points at the test realm only while
these tests run, so other tests' Negotiate never meets this KDC. It makes sure the pieces are there,
installing what is missing when it can: the Debian packages ``krb5-kdc krb5-admin-server libkrb5-dev
krb5-user`` (``apt-get``, as root) and the Python modules pyspnego's GSSAPI backend needs, ``gssapi`` and
``krb5`` (``pip`` into the running venv; the project's ``kerberos`` extra). It skips, saying why, only where
that is impossible (not root, no apt-get, no network to the package mirror...).

Then it writes its own ``krb5.conf`` and ``kdc.conf`` (``KRB5_CONFIG`` / ``KRB5_KDC_PROFILE`` for this process
and the KDC's), creates the realm with ``kdb5_util``, adds the user ``alice`` (the simulator's demo password),
the service principals ``HTTP/mail.contoso.test`` and ``HTTP/autodiscover.contoso.test`` and a keytab with
their keys for the simulator's acceptor, and starts ``krb5kdc -n`` (foreground) bound to 127.0.0.1 on a free
port; teardown stops it and puts the environment back. No other host name has an HTTP/ principal, which is
how the missing-SPN case is made (``mail.fabrikam.test``).
"""

from __future__ import annotations

import importlib
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

REALM = "CONTOSO.TEST"
SERVICE_HOSTS = ("mail.contoso.test", "autodiscover.contoso.test")
APT_PACKAGES = ("krb5-kdc", "krb5-admin-server", "libkrb5-dev", "krb5-user")
SBIN = ("/usr/sbin", "/usr/bin", "/sbin", "/bin")
ALICE_PASSWORD = "Alice-Demo-2024!"  # the simulator's demo user (resources/org/contoso.json)


def _tool(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    for folder in SBIN:
        path = Path(folder) / name
        if path.is_file() and os.access(path, os.X_OK):
            return str(path)
    return None


def _missing_tools() -> list[str]:
    return [t for t in ("krb5kdc", "kdb5_util", "kadmin.local", "kinit") if _tool(t) is None]


def _install_debian_packages() -> str | None:
    """Install the KDC packages; None on success, else why not."""
    if not sys.platform.startswith("linux"):
        return f"no MIT KDC on {sys.platform}"
    if not shutil.which("apt-get"):
        return "the MIT KDC is not installed and there is no apt-get to install it"
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return "the MIT KDC is not installed and installing it needs root: apt-get install -y " + " ".join(
            APT_PACKAGES
        )
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    try:
        subprocess.run(["apt-get", "update", "-q"], env=env, check=True, capture_output=True, timeout=600)
        subprocess.run(
            ["apt-get", "install", "-y", "-q", "--no-install-recommends", *APT_PACKAGES],
            env=env,
            check=True,
            capture_output=True,
            timeout=900,
        )
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError) as exc:
        return f"installing {' '.join(APT_PACKAGES)} failed: {exc}"
    missing = _missing_tools()
    return f"still missing after apt-get: {', '.join(missing)}" if missing else None


def _ensure_python_gssapi() -> str | None:
    """Make pyspnego's GSSAPI backend usable (gssapi + krb5); None on success, else why not."""
    from spnego import _gss

    if _gss.HAS_GSSAPI:
        return None
    try:
        subprocess.run(
            [sys.executable, "-m", "pip", "install", "-q", "gssapi", "krb5"],
            check=True,
            capture_output=True,
            timeout=900,
        )
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError) as exc:
        return f"pip install gssapi krb5 failed: {exc}"
    importlib.invalidate_caches()
    importlib.reload(_gss)  # pyspnego decided HAS_GSSAPI at import time
    return None if _gss.HAS_GSSAPI else f"python-gssapi still unusable: {_gss.GSSAPI_IMP_ERR}"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class KDC:
    """A running KDC and what the tests need to use it."""

    realm: str
    port: int
    folder: Path
    krb5_conf: Path
    kdc_conf: Path
    keytab: Path
    ccache: Path
    env: dict[str, str] = field(default_factory=dict)

    def run(self, *argv: str, stdin: str | None = None, env: dict[str, str] | None = None) -> str:
        proc = subprocess.run(
            list(argv),
            input=stdin,
            capture_output=True,
            text=True,
            env={**os.environ, **self.env, **(env or {})},
            timeout=60,
            check=False,
        )
        if proc.returncode != 0:
            raise RuntimeError(
                f"{argv[0]} failed ({proc.returncode}): {proc.stderr.strip() or proc.stdout.strip()}"
            )
        return proc.stdout

    def kadmin(self, query: str) -> str:
        return self.run(str(_tool("kadmin.local")), "-r", self.realm, "-q", query)

    def kinit(self, principal: str, password: str, ccache: Path | None = None) -> Path:
        """A TGT for ``principal`` in ``ccache`` (default: the fixture's cache), password on stdin."""
        target = ccache or self.ccache
        self.run(str(_tool("kinit")), "-c", f"FILE:{target}", principal, stdin=password + "\n")
        return target

    def kdestroy(self, ccache: Path | None = None) -> None:
        (ccache or self.ccache).unlink(missing_ok=True)


def _write_configs(folder: Path, port: int) -> tuple[Path, Path]:
    krb5_conf = folder / "krb5.conf"
    krb5_conf.write_text(
        f"""[libdefaults]
    default_realm = {REALM}
    dns_lookup_kdc = false
    dns_lookup_realm = false
    dns_canonicalize_hostname = false
    rdns = false
    udp_preference_limit = 0
    default_ccache_name = FILE:{folder}/ccache

[realms]
    {REALM} = {{
        kdc = 127.0.0.1:{port}
    }}

[domain_realm]
    .contoso.test = {REALM}
    contoso.test = {REALM}
""",
        encoding="utf-8",
    )
    kdc_conf = folder / "kdc.conf"
    kdc_conf.write_text(
        f"""[kdcdefaults]
    kdc_listen = 127.0.0.1:{port}
    kdc_tcp_listen = 127.0.0.1:{port}

[realms]
    {REALM} = {{
        database_name = {folder}/principal
        key_stash_file = {folder}/stash
        acl_file = {folder}/kadm5.acl
        kdc_listen = 127.0.0.1:{port}
        kdc_tcp_listen = 127.0.0.1:{port}
        max_life = 10h 0m 0s
        supported_enctypes = aes256-cts-hmac-sha1-96:normal aes128-cts-hmac-sha1-96:normal
    }}

[logging]
    kdc = FILE:{folder}/kdc.log
""",
        encoding="utf-8",
    )
    (folder / "kadm5.acl").write_text(f"*/admin@{REALM} *\n", encoding="utf-8")
    return krb5_conf, kdc_conf


def _wait_for_port(port: int, proc: subprocess.Popen[bytes], timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"krb5kdc exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"krb5kdc did not listen on 127.0.0.1:{port} within {timeout:g} s")


@pytest.fixture(scope="package")
def kdc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KDC]:
    if _missing_tools():
        why = _install_debian_packages()
        if why:
            pytest.skip(f"Kerberos tests need an MIT KDC: {why}")
    why = _ensure_python_gssapi()
    if why:
        pytest.skip(f"Kerberos tests need python-gssapi: {why}")
    folder = tmp_path_factory.mktemp("kdc")
    port = _free_port()
    krb5_conf, kdc_conf = _write_configs(folder, port)
    info = KDC(
        realm=REALM,
        port=port,
        folder=folder,
        krb5_conf=krb5_conf,
        kdc_conf=kdc_conf,
        keytab=folder / "http.keytab",
        ccache=folder / "ccache",
        env={"KRB5_CONFIG": str(krb5_conf), "KRB5_KDC_PROFILE": str(kdc_conf)},
    )
    info.run(str(_tool("kdb5_util")), "create", "-s", "-r", REALM, "-P", "kdc-master-key-for-tests")
    info.kadmin(f"addprinc -pw {ALICE_PASSWORD} alice")
    for host in SERVICE_HOSTS:
        info.kadmin(f"addprinc -randkey HTTP/{host}")
    info.kadmin(f"ktadd -k {info.keytab} " + " ".join(f"HTTP/{h}" for h in SERVICE_HOSTS))
    log = (folder / "krb5kdc.out").open("wb")
    proc = subprocess.Popen(
        [str(_tool("krb5kdc")), "-n", "-r", REALM],
        env={**os.environ, **info.env},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    saved = {k: os.environ.get(k) for k in ("KRB5_CONFIG", "KRB5_KDC_PROFILE", "KRB5CCNAME")}
    try:
        _wait_for_port(port, proc)
        # This process's GSSAPI (client and the simulator's acceptor) uses the test realm.
        os.environ.update(info.env)
        os.environ["KRB5CCNAME"] = f"FILE:{info.ccache}"
        yield info
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        log.close()
