"""Runs last, and only when the suite runs against the ASan+UBSan build of
the library (LLF_SANITIZED=DIR, see harness.py): every report any process of
the whole suite wrote must be clean of our code.

Hosts have leaks of their own (Python frees little at exit), so a leak counts
only when a frame of its allocation stack is in the library; any other
ASan error and every UBSan report counts wherever it is."""
import glob
import os
import re
import subprocess

from harness import LIB, PY, SANITIZED, check, env_for, eq


_names = {}


def _symbolized(block):
    """block with each frame in one of our libraries named (addr2line): the
    reports are not symbolized."""
    frames = re.findall(r"\((\S*libllmfallback(?:-core)?\.so)\+(0x[0-9a-f]+)\)", block)
    for lib, off in frames:
        if (lib, off) not in _names and os.path.exists(lib):
            r = subprocess.run(["addr2line", "-f", "-e", lib, off], capture_output=True, text=True)
            _names[(lib, off)] = r.stdout.split("\n")[0] if r.returncode == 0 else ""
        block += "\n" + _names.get((lib, off), "")
    return block


# Hooks that only pass the program's call on to OpenSSL, noting what it set
# beside (hook_ssl.c): what OpenSSL allocates under them belongs to the
# program's own object (a context's ALPN list), which a host that does not
# free its contexts at exit (Python) leaks with it. A leak whose every frame
# in the library is one of these is the host's.
FORWARDING = {"SSL_CTX_set_alpn_protos", "SSL_set_alpn_protos"}


def _only_forwarded(block):
    named = _symbolized(block)
    ours = [_names.get((lib, off), "") for lib, off in
            re.findall(r"\((\S*libllmfallback(?:-core)?\.so)\+(0x[0-9a-f]+)\)", named)]
    return bool(ours) and all(n in FORWARDING for n in ours) and not re.search(r" preload/\w+\.c:\d+", block)


def _ours(report):
    """The findings in one report file that implicate the library. A leak
    check that could not stop a thread ("Running thread N was not
    suspended. False leaks are possible.": a relay thread mid-request at
    the host's exit, on a busy machine; every thread of a process that one
    of ours ended, its main thread gone, see guest.h) did not scan that
    thread's stack, and what only its stack held reads as leaked: in such a
    report a block allocated on one of the library's threads is not
    counted."""
    found = []
    unscanned = "was not suspended" in report
    for block in re.split(r"\n(?=(?:Direct|Indirect) leak of )|\n(?===\d+==ERROR)|\n\n", report):
        if re.search(r"(Direct|Indirect) leak of", block):
            if unscanned and re.search(r"\b(serving_thread|own_thread)\b", _symbolized(block)):
                continue
            if _only_forwarded(block):
                continue
            # symbolized frames name our sources, unsymbolized ones our files
            if "libllmfallback" in block or re.search(r" preload/\w+\.c:\d+", block):
                found.append(block.strip()[:2000])
        elif "ERROR: AddressSanitizer" in block or "runtime error:" in block:
            found.append(block.strip()[:2000])
    return found


if SANITIZED:
    def test_sanitized_library_was_really_loaded():
        r = subprocess.run([PY, "-c", "print(open('/proc/self/maps').read())"], env=env_for(),
                           capture_output=True, text=True, timeout=60)
        eq(r.returncode, 0, "a preloaded program runs")
        check("libasan" in r.stdout, "the ASan runtime is in the process")
        check(os.path.join("sanlib", "libllmfallback.so") in r.stdout, "the sanitized library is preloaded")

    def test_no_sanitizer_report_implicates_the_library():
        files = glob.glob(os.path.join(SANITIZED, "*"))
        findings = []
        for f in files:
            with open(f, errors="replace") as fh:
                findings += [f"{os.path.basename(f)}: {b}" for b in _ours(fh.read())]
        check(not findings, f"{len(findings)} sanitizer finding(s) in the library:\n" + "\n---\n".join(findings[:5]))

    def test_the_classifier_is_not_blind():
        # a leak whose stack reaches the library, an ASan error and a UBSan
        # error must be caught; a host-only leak must not
        ours = ("==1==ERROR: LeakSanitizer: detected memory leaks\n\nDirect leak of 8 byte(s) in 1 object(s) "
                "allocated from:\n    #0 0x1 in malloc\n    #1 0x2 in llf_x (/b/libllmfallback-core.so+0x1)\n")
        host = ("==1==ERROR: LeakSanitizer: detected memory leaks\n\nDirect leak of 8 byte(s) in 1 object(s) "
                "allocated from:\n    #0 0x1 in malloc\n    #1 0x2  (/usr/bin/python3.11+0x50046f)\n")
        eq(len(_ours(ours)), 1, "a leak in the library is found")
        eq(len(_ours(ours.replace("llf_x (/b/libllmfallback-core.so+0x1)", "llf_log_attempt preload/log.c:100"))), 1,
           "a leak in the library is found from a symbolized stack")
        eq(len(_ours(host)), 0, "a leak of the host alone is not ours")
        relay = ours.replace("llf_x (/b/libllmfallback-core.so+0x1)", "llf_x preload/buf.c:245\n"
                             "    #2 0x3 in serving_thread preload/relay.c:1791")
        eq(len(_ours(relay)), 1, "a leak on a relay thread is found")
        eq(len(_ours("Running thread 7 was not suspended. False leaks are possible.\n" + relay)), 0,
           "unless its thread's stack was not scanned")
        eq(len(_ours("Running thread 7 was not suspended. False leaks are possible.\n" + ours)), 1,
           "(and only that thread's)")
        # an unsymbolized frame of the sanitized core, at the wrapper every
        # thread of ours starts in
        core = os.path.join(os.path.dirname(LIB), "libllmfallback-core.so")
        nm = subprocess.run(["nm", core], capture_output=True, text=True).stdout
        addr = re.search(r"^([0-9a-f]+) t own_thread$", nm, re.M)
        check(addr is not None, "the sanitized core names own_thread")
        if addr:
            frame = f"    #2 0x3  ({core}+0x{int(addr.group(1), 16) + 4:x})"
            on_ours = ours + frame + "\n"
            eq(len(_ours(on_ours)), 1, "a leak on one of our threads, its frames unsymbolized, is found")
            eq(len(_ours("Running thread 7 was not suspended. False leaks are possible.\n" + on_ours)), 0,
               "unless its thread's stack was not scanned")
        # a leak of OpenSSL's under a hook that only forwards the program's
        # call is the host's; under any other frame of ours, ours
        shim = LIB
        nm_shim = subprocess.run(["nm", shim], capture_output=True, text=True).stdout
        fwd = re.search(r"^([0-9a-f]+) T SSL_CTX_set_alpn_protos$", nm_shim, re.M)
        other = re.search(r"^([0-9a-f]+) T SSL_connect$", nm_shim, re.M)
        check(fwd is not None and other is not None, "the library names its ALPN and connect hooks")
        if fwd and other:
            leak = ("==1==ERROR: LeakSanitizer: detected memory leaks\n\nDirect leak of 8 byte(s) in 1 object(s) "
                    "allocated from:\n    #0 0x1 in malloc\n    #1 0x2  (/lib/x86_64-linux-gnu/libssl.so.3+0x1)\n"
                    "    #2 0x3  ({}+0x{:x})\n    #3 0x4  (/usr/bin/python3.11+0x5)\n")
            eq(len(_ours(leak.format(shim, int(fwd.group(1), 16) + 4))), 0,
               "a leak of the program's context under a forwarding hook is the host's")
            eq(len(_ours(leak.format(shim, int(other.group(1), 16) + 4))), 1, "one under another hook is ours")
        eq(len(_ours("==1==ERROR: AddressSanitizer: heap-use-after-free on address")), 1, "an ASan error")
        eq(len(_ours("relay.c:10:5: runtime error: signed integer overflow")), 1, "a UBSan error")
