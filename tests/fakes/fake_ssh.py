#!/usr/bin/env python3
"""A stand-in for the ssh client, for tests with no sshd and no cloud.

frugal runs it (backends.<cloud>.ssh_command) with exactly the argv it
gives ssh. It "connects" to a fake machine: the directory
$FAKE_CLOUD_ROOT/hosts/HOST/, which the fake cloud server creates when
the instance (or pod) is up, with a file `hostkey` holding its host key
and `up` while it runs. Like `ssh -o StrictHostKeyChecking=accept-new`
it records HostKeyAlias + key in UserKnownHostsFile on first contact and
refuses (exit 255, "REMOTE HOST IDENTIFICATION HAS CHANGED") a host
whose key changed. Then it runs the remote command with `sh -c` in that
directory as $HOME, with a clean environment (as sshd gives one) plus
FAKE_CLOUD_HOST=HOST, which the fake server uses to kill everything of
the machine when it is terminated, and standard input passed through.

Every call is appended to $FAKE_CLOUD_ROOT/ssh.log (argv only: the
command line must never hold a secret, and the tests check it).
"""
import os
import sys


def main(argv):
    opts = {}
    i = 1
    while i < len(argv):
        a = argv[i]
        if a == "--":
            i += 1
            break
        if a in ("-o", "-i", "-p", "-l"):
            if a == "-o":
                k, _, v = argv[i + 1].partition("=")
                opts[k] = v
            else:
                opts[a] = argv[i + 1]
            i += 2
            continue
        if a.startswith("-"):
            i += 1
            continue
        break
    if i + 2 > len(argv):
        print("fake_ssh: usage: ssh [options] host command", file=sys.stderr)
        return 255
    host, command = argv[i], " ".join(argv[i + 1:])
    root = os.environ["FAKE_CLOUD_ROOT"]
    with open(os.path.join(root, "ssh.log"), "a") as f:
        f.write(repr(argv[1:]) + "\n")
    if opts.get("StrictHostKeyChecking") != "accept-new":
        print("fake_ssh: frugal must ask for StrictHostKeyChecking=accept-new",
              file=sys.stderr)
        return 255
    machine = os.path.join(root, "hosts", host)
    if not os.path.exists(os.path.join(machine, "up")):
        print("ssh: connect to host %s port 22: Connection refused" % host, file=sys.stderr)
        return 255
    with open(os.path.join(machine, "hostkey")) as f:
        key = f.read().strip()
    alias = opts.get("HostKeyAlias", host)
    known = opts.get("UserKnownHostsFile")
    if not known:
        print("fake_ssh: no UserKnownHostsFile", file=sys.stderr)
        return 255
    recorded = None
    if os.path.exists(known):
        for line in open(known):
            parts = line.split(None, 1)
            if len(parts) == 2 and parts[0] == alias:
                recorded = parts[1].strip()
    if recorded is None:
        with open(known, "a") as f:
            f.write("%s %s\n" % (alias, key))
    elif recorded != key:
        print("@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@\n"
              "@    WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!     @\n"
              "@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@\n"
              "Host key verification failed.", file=sys.stderr)
        return 255
    env = {
        "HOME": machine,
        "PATH": os.environ.get("PATH", "/usr/local/bin:/usr/bin:/bin"),
        "LANG": "C.UTF-8",
        "FAKE_CLOUD_HOST": host,
        "FAKE_CLOUD_ROOT": root,
        # lib.sh ends whatever carries "FRUGAL_HOME=<its home>".
        "FAKE_OWNER_FRUGAL_HOME": os.environ.get("FRUGAL_HOME", ""),
    }
    for k in ("ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS", "TMPDIR"):
        if k in os.environ:
            env[k] = os.environ[k]
    os.chdir(machine)
    chroot = os.environ.get("FAKE_MACHINE_ROOT")
    if chroot:
        # The machine's userland is a root directory of its own
        # (tests/e2e/foreign_root.sh): a mount namespace with FAKE_MACHINE_BIND
        # (the test's directory, so paths are the same inside) and /proc,
        # then the command chrooted there with the same clean environment.
        bind = os.environ["FAKE_MACHINE_BIND"]
        script = ('r=$0 b=$1; shift; mkdir -p "$r$b" && mount --bind "$b" "$r$b" && '
                  'mount -t proc proc "$r/proc" && exec chroot "$r" /usr/bin/env -i "$@"')
        argv = ["unshare", "--mount", "sh", "-c", script, chroot, bind] + \
               ["%s=%s" % kv for kv in env.items()] + \
               ["sh", "-c", 'cd "$0" && exec sh -c "$1"', machine, command]
        os.execvp("unshare", argv)
        return 255
    os.execve("/bin/sh", ["sh", "-c", command], env)
    return 255


if __name__ == "__main__":
    sys.exit(main(sys.argv))
