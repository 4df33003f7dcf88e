"""scripts/llmfallback doctor: what it tells about real binaries here."""
import os
import shutil
import subprocess
import tempfile

from harness import ROOT, check, eq, run

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


def test_the_wrapper_passes_paths_as_given():
    """A name that is a shell builtin too (true, echo) is the file PATH
    finds, not a file of that name in the current directory; --config and
    --log reach the library as absolute paths, unresolved: /dev/stdout stays
    the program's (readlink named the wrapper's own pipe), and a file in a
    directory that does not exist reaches the library, which says so (the
    option was dropped without a word)."""
    d = tempfile.mkdtemp()
    open(os.path.join(d, "true"), "w").close()   # (where readlink -f of a bare "true" pointed)
    r = subprocess.run([DOCTOR, "doctor", "true"], cwd=d, env=dict(os.environ), capture_output=True, text=True)
    want = os.path.realpath(shutil.which("true"))
    check(r.returncode == 0 and r.stdout.startswith(f"true: {want}\n"), f"true is {want} ({r.stdout})")
    show = ["sh", "-c", 'echo "$LLMFALLBACK_CONFIG|$LLMFALLBACK_LOG"']
    r = subprocess.run([DOCTOR, "--config", "nodir/c.json", "--log", "/dev/stdout", "--"] + show, cwd=d,
                       env=dict(os.environ), capture_output=True, text=True)
    eq(r.stdout.strip(), f"{os.path.realpath(d)}/nodir/c.json|/dev/stdout", "paths as given, made absolute")
    r = subprocess.run([DOCTOR, "--config=c.json", "--log=stderr", "--"] + show, cwd=d, env=dict(os.environ),
                       capture_output=True, text=True)
    eq(r.stdout.strip(), f"{os.path.realpath(d)}/c.json|stderr", "the --opt=value spellings too")
