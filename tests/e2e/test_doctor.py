"""scripts/llmfallback doctor: what it tells about real binaries here."""
import os

from harness import ROOT, check, run

DOCTOR = os.path.join(ROOT, "scripts", "llmfallback")


def doctor(prog):
    r = run([DOCTOR, "doctor", prog], dict(os.environ))
    return r.returncode, r.stdout.decode()


def test_doctor_tells_each_path():
    rc, out = doctor("/usr/bin/curl")
    check(rc == 0 and "libcurl path: covered" in out, f"curl: libcurl ({out})")
    rc, out = doctor("/usr/bin/python3")
    check("libcurl path: not used" in out and "uses libssl.so.3" in out and "MemoryBIO" in out, f"python ({out})")
    import subprocess
    node = subprocess.run(["sh", "-c", "readlink -f $(command -v node)"], capture_output=True, text=True).stdout.strip()
    static_tls = " SSL_write" in subprocess.run(["nm", "-D", "--defined-only", node], capture_output=True, text=True).stdout
    rc, out = doctor("node")
    if static_tls:   # NodeSource's build carries its own OpenSSL
        check("NOT coverable" in out and "static OpenSSL" in out, f"node: its own TLS ({out})")
    else:            # Debian's nodejs links libssl.so.3
        check("uses libssl.so.3" in out, f"node: system OpenSSL ({out})")
    check("plain-socket path: covered" in out, "node: plain http")
    rc, out = doctor("php")
    check("libcurl path: covered" in out, f"php: libcurl through curl.so ({out})")
    rc, out = doctor("/nonexistent/prog")
    check(rc == 2, "unknown program")
