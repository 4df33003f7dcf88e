"""scripts/llmfallback doctor: what it tells about real binaries here."""
import errno
import os
import shutil
import subprocess
import tempfile

from harness import ROOT, as_nobody, check, eq, run

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
    check("other TLS" not in doctor("/usr/bin/curl")[1], "curl: GnuTLS only behind its libcurl (librtmp), not its own")
    if shutil.which("wget"):
        rc, out = doctor("wget")
        check("links libgnutls.so.30: its https:// calls are NOT covered" in out and "plain-socket path: covered" in out,
              f"wget: GnuTLS ({out})")


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


def script(d, name, text):
    path = os.path.join(d, name)
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, 0o755)
    return path


def test_doctor_reads_env_options_on_a_shebang():
    """#!/usr/bin/env with options (-S splitting the rest, -i, -u NAME, a
    cluster such as -vS) and NAME=value words: the program env runs is the
    one doctored, not "-S". Each line is first run, to be one env takes."""
    d = tempfile.mkdtemp()
    py = "/usr/bin/python3"
    for n, line in enumerate([f"#!/usr/bin/env {py}", f"#!/usr/bin/env -S {py} -u",
                              f"#!/usr/bin/env -S -i -u HOME FOO=1 {py} -u", f"#!/usr/bin/env -vS {py}",
                              f"#!/usr/bin/env --split-string={py} -u", f"#! /usr/bin/env\t-S -- {py}"]):
        s = script(d, f"s{n}", f"{line}\nprint('ran')\n")
        ran = subprocess.run([s], capture_output=True, text=True)
        eq(ran.stdout, "ran\n", f"{line!r} runs")
        rc, out = doctor(s)
        check(rc == 0 and out.startswith(f"{s}: a script run by {py} (found by env)\n") and "uses libssl.so.3" in out,
              f"{line!r}: {py} doctored ({rc}, {out})")
    r = run([DOCTOR, "doctor", script(d, "none", "#!/usr/bin/env -S\n")], dict(os.environ))
    check(r.returncode == 2 and r.stderr.decode().endswith("its #! line runs env without a program\n"),
          f"env alone ({r.returncode}, {r.stderr.decode()})")


def test_doctor_sends_a_script_without_shebang_to_sh():
    """An executable text without a #! line is no static binary: execve
    refuses it, and the shell that called it runs it with /bin/sh, whose
    coverage is the script's."""
    d = tempfile.mkdtemp()
    s = script(d, "plain", "echo ran\n")
    eq(subprocess.run(["sh", "-c", s], capture_output=True, text=True).stdout, "ran\n", "sh runs it")
    rc, out = doctor(s)
    sh = os.path.realpath("/bin/sh")
    check(rc == 0 and out.startswith(f"{s}: a script without a #! line naming an interpreter, run by the calling "
                                     f"shell (/bin/sh)\n/bin/sh: {sh}\n") and "statically linked" not in out,
          f"run by /bin/sh ({rc}, {out})")


def test_doctor_tells_a_file_it_may_not_read():
    """A program doctor may not read is said so (it was "statically
    linked"), not guessed at."""
    d = tempfile.mkdtemp()
    os.chmod(d, 0o755)
    s = script(d, "plain", "echo ran\n")
    os.chmod(s, 0o711)
    who, doctor = as_nobody(DOCTOR)
    r = run(who + [doctor, "doctor", s], dict(os.environ))
    check(r.returncode == 2 and r.stdout == b"" and r.stderr.decode() == f"doctor: {s}: cannot read {s}\n",
          f"unreadable ({r.returncode}, {r.stdout}, {r.stderr})")


def test_doctor_tells_a_file_that_is_not_a_regular_one():
    """An executable FIFO, or a script whose #! line names one: doctor read
    it (head -c 4) and waited for a writer for ever. execve refuses such a
    file (EACCES): said in one line, exit 2, as for a file it cannot read."""
    d = tempfile.mkdtemp()
    fifo = os.path.join(d, "fifo")
    os.mkfifo(fifo)
    os.chmod(fifo, 0o755)
    r = run([DOCTOR, "doctor", fifo], dict(os.environ), timeout=10)
    said = f"doctor: {fifo}: {fifo} is not a regular file\n"
    check(r.returncode == 2 and r.stdout == b"" and r.stderr.decode() == said,
          f"a FIFO ({r.returncode}, {r.stdout}, {r.stderr})")
    s = script(d, "s", f"#!{fifo}\n")
    r = run([DOCTOR, "doctor", s], dict(os.environ), timeout=10)
    check(r.returncode == 2 and r.stdout.decode() == f"{s}: a script run by {fifo}\n" and r.stderr.decode() == said,
          f"a script run by a FIFO ({r.returncode}, {r.stdout}, {r.stderr})")


def test_doctor_reads_no_more_of_a_shebang_than_the_kernel():
    """A #! file whose first line does not end (a large sparse file: "#!"
    and then NUL bytes) was read to its end, gigabytes into bash, which
    warned of each NUL dropped. The kernel reads its first 256 bytes
    (BINPRM_BUF_SIZE), where a NUL ends the interpreter's argument; so does
    doctor."""
    d = tempfile.mkdtemp()
    s = script(d, "sparse", "#!/bin/sh -e")
    os.truncate(s, 4 << 30)
    try:
        r = run([DOCTOR, "doctor", s], dict(os.environ), timeout=10)
    finally:
        os.unlink(s)
    check(r.returncode == 0 and r.stdout.decode().startswith(f"{s}: a script run by /bin/sh\n") and r.stderr == b"",
          f"read as the kernel does ({r.returncode}, {r.stdout[:200]}, {r.stderr[:200]})")


def test_doctor_stops_at_the_kernels_depth_and_at_a_loop():
    """A script whose interpreter is a script, and so on: the kernel runs 5
    #! files in a row (a script and 4 levels of interpreters), not 6, and
    doctor says so where it stops (it recursed without end on a script
    naming itself); a loop through env, which the kernel would run for
    ever, is told too."""
    d = tempfile.mkdtemp()
    chain = [script(d, "s0", "#!/bin/sh\necho ran\n")]
    for n in range(1, 6):
        chain.append(script(d, f"s{n}", f"#!{chain[-1]}\n"))
    eq(subprocess.run([chain[4]], capture_output=True, text=True).stdout, "ran\n", "the kernel runs 5")
    try:
        subprocess.run([chain[5]])
        err = 0
    except OSError as e:
        err = e.errno
    eq(err, errno.ELOOP, "the kernel refuses 6")
    rc, out = doctor(chain[4])
    check(rc == 0 and f"{chain[0]}: a script run by /bin/sh\n/bin/sh: " in out, f"5 in a row ({rc}, {out})")
    r = run([DOCTOR, "doctor", chain[5]], dict(os.environ))
    check(r.returncode == 2 and r.stderr.decode() == f"doctor: {chain[0]}: a 6th #! file in a row, past the kernel's "
                                                     "4 levels of interpreters: ELOOP\n", f"6 ({r.returncode}, {r.stderr})")
    for name, line in [("self", f"#!{d}/self\n"), ("a", f"#!/usr/bin/env {d}/b\n"), ("b", f"#!/usr/bin/env -S {d}/a -x\n")]:
        script(d, name, line)
    for name, back in [("self", "self"), ("a", "a")]:
        r = run([DOCTOR, "doctor", os.path.join(d, name)], dict(os.environ), timeout=20)
        check(r.returncode == 2 and r.stderr.decode().endswith(f"its interpreters lead back to {d}/{back}, a loop\n"),
              f"{name} loops ({r.returncode}, {r.stderr[-300:]})")


def test_help_is_asked_for():
    """-h and --help print the synopsis on stdout and exit 0 (they exited 2,
    as a mistake does), after doctor and report too; an unknown option is
    still a usage error: 2, the synopsis on stderr."""
    for args in (["-h"], ["--help"], ["doctor", "-h"], ["doctor", "--help"]):
        r = run([DOCTOR] + args, dict(os.environ))
        check(r.returncode == 0 and r.stdout.decode().startswith("llmfallback — ") and r.stderr == b"",
              f"{args} ({r.returncode}, {r.stdout[:60]}, {r.stderr[:200]})")
    r = run([DOCTOR, "report", "--help"], dict(os.environ))
    check(r.returncode == 0 and r.stdout.decode().startswith("usage: llmfallback report"), f"report --help ({r.stdout[:60]})")
    for args in (["--bogus", "--", "true"], ["doctor"], ["report"]):
        r = run([DOCTOR] + args, dict(os.environ))
        check(r.returncode == 2 and r.stdout == b"" and "llmfallback — " in r.stderr.decode(),
              f"{args}: a usage error ({r.returncode}, {r.stderr[:200]})")
    check(b"unknown option --bogus" in run([DOCTOR, "--bogus"], dict(os.environ)).stderr, "the option named")


def test_the_wrapper_says_what_it_cannot_run():
    """An option without its value is named; a program that cannot be run
    is told in the wrapper's own words, with the shell's exit codes (127
    not found, 126 not executable), where bash's "llmfallback: line 200:
    ...: No such file or directory" named the script; doctor tells a
    directory and a file that is no program from one that is not there."""
    r = run([DOCTOR, "--config"], dict(os.environ))
    check(r.returncode == 2 and r.stderr.decode().startswith("llmfallback: --config needs a value\n"),
          f"--config alone ({r.returncode}, {r.stderr[:200]})")
    d = tempfile.mkdtemp()
    plain = os.path.join(d, "notes.txt")
    open(plain, "w").close()
    for prog, rc, why in ((os.path.join(d, "nosuch"), 127, "not found"), ("nosuch-llmfallback-cmd", 127, "not found"),
                          (d, 126, "a directory"), (plain, 126, "not executable")):
        r = run([DOCTOR, "--", prog], dict(os.environ))
        eq((r.returncode, r.stderr.decode()), (rc, f"llmfallback: {prog}: {why}\n"), f"run {prog}")
        r = run([DOCTOR, "doctor", prog], dict(os.environ))
        eq((r.returncode, r.stderr.decode()), (2, f"doctor: {prog}: {why}\n"), f"doctor {prog}")
    # a file on PATH that is no program: bash's "Permission denied" named the script
    env = dict(os.environ, PATH=d + os.pathsep + os.environ["PATH"])
    r = run([DOCTOR, "--", "notes.txt"], env)
    eq((r.returncode, r.stderr.decode()), (126, "llmfallback: notes.txt: not executable\n"), "a file on PATH")


def test_the_wrapper_tells_a_program_that_is_not_a_regular_file():
    """An executable FIFO given as the program (by its path, or found on
    PATH): bash's exec, refused by the kernel, read the file to say why,
    and the wrapper waited for a writer for ever. Told in the wrapper's
    words, 126 as a file that cannot be run; doctor tells one it cannot
    run (no execute bit) the same way."""
    d = tempfile.mkdtemp()
    fifo = os.path.join(d, "fifo")
    os.mkfifo(fifo)
    os.chmod(fifo, 0o755)
    env = dict(os.environ, PATH=d + os.pathsep + os.environ["PATH"])
    for prog in (fifo, "fifo"):
        r = run([DOCTOR, "--", prog], env, timeout=10)
        eq((r.returncode, r.stderr.decode()), (126, f"llmfallback: {prog}: not a regular file\n"), f"run {prog}")
    os.chmod(fifo, 0o644)
    r = run([DOCTOR, "doctor", fifo], env, timeout=10)
    eq((r.returncode, r.stderr.decode()), (2, f"doctor: {fifo}: not a regular file\n"), "doctor, not executable")


def test_doctor_follows_a_version_managers_shim():
    """A pyenv (rbenv, nodenv, asdf) shim is a bash script ending in `exec
    MANAGER exec NAME`: the program it runs is the one the manager picks,
    and that one's coverage is told, not bash's (which has no libssl:
    doctor said the OpenSSL path was not in use for pyenv's python3)."""
    d = tempfile.mkdtemp()
    os.makedirs(os.path.join(d, "shims"))
    os.makedirs(os.path.join(d, "libexec"))
    mgr = script(os.path.join(d, "libexec"), "fakeenv",
                 '#!/bin/sh\n[ "$1" = which ] && [ "$2" = python3 ] && echo /usr/bin/python3\n')
    shim = script(os.path.join(d, "shims"), "python3",
                  f'#!/usr/bin/env bash\nprogram="${{0##*/}}"\nexec "{mgr}" exec "$program" "$@"\n')
    rc, out = doctor(shim)
    check(rc == 0 and out.startswith(f"{shim}: a version manager's shim (fakeenv), which runs /usr/bin/python3 here\n")
          and "uses libssl.so.3" in out and "bash" not in out, f"the managed python3 told ({rc}, {out})")


def test_doctor_gives_a_version_manager_that_waits_ten_seconds():
    """doctor asks a shim's manager which program it runs: a manager that
    waits (for stdin, or for ever) held doctor with it. It now gets 10 s
    and no stdin, and the shim is then doctored as the script it is."""
    d = tempfile.mkdtemp()
    os.makedirs(os.path.join(d, "shims"))
    os.makedirs(os.path.join(d, "libexec"))
    mgr = script(os.path.join(d, "libexec"), "slowenv", '#!/bin/sh\nread x\nsleep 60\n')
    shim = script(os.path.join(d, "shims"), "python3",
                  f'#!/usr/bin/env bash\nprogram="${{0##*/}}"\nexec "{mgr}" exec "$program" "$@"\n')
    r = run([DOCTOR, "doctor", shim], dict(os.environ), timeout=30)
    out = r.stdout.decode()
    check(r.returncode == 0 and out.startswith(f"{shim}: a script run by ") and "version manager" not in out,
          f"the shim doctored as a script ({r.returncode}, {out})")
