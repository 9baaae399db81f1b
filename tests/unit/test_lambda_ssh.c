/*
 * backend/common/ssh.c against the real OpenSSH: a private sshd on 127.0.0.1 (a
 * random port, its own host key, the test's own client key) and the
 * system ssh client. Checks what the cloud backends rely on: the first
 * contact records the host key under the instance's alias, later contacts
 * use it, and a machine whose host key changed is refused. Standard
 * input carries data (the bootstrap's secrets travel that way). Skipped
 * when sshd or ssh is not installed (Debian: openssh-server,
 * openssh-client).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/fs.h"
#include "base/strbuf.h"
#include "base/timeutil.h"
#include "base/xalloc.h"
#include "backend/common/ssh.h"

#define SSHD "/usr/sbin/sshd"

struct env {
	char dir[64];
	int port;
	pid_t sshd;
};

static int free_port(void)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port;

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	getsockname(fd, (struct sockaddr *)&sa, &len);
	port = ntohs(sa.sin_port);
	close(fd);
	return port;
}

static int run(const char *cmd)
{
	int st = system(cmd);

	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* Start sshd with host key DIR/hostkey; wait until it listens. */
static void sshd_start(struct env *e)
{
	char *conf = xasprintf("%s/sshd_config", e->dir);
	char *text = xasprintf("Port %d\nListenAddress 127.0.0.1\nHostKey %s/hostkey\n"
			       "AuthorizedKeysFile %s/authorized_keys\nStrictModes no\n"
			       "PasswordAuthentication no\nKbdInteractiveAuthentication no\n"
			       "PermitRootLogin prohibit-password\nUsePAM no\nPidFile %s/sshd.pid\n",
			       e->port, e->dir, e->dir, e->dir);
	char *port = xasprintf("%d", e->port);
	int i;

	fs_write_atomic(conf, text, strlen(text), 0600, 1, NULL);
	mkdir("/run/sshd", 0755);
	e->sshd = fork();
	if (e->sshd == 0) {
		char *log = xasprintf("%s/sshd.log", e->dir);
		FILE *f = freopen(log, "a", stderr);

		(void)f;
		execl(SSHD, SSHD, "-D", "-e", "-f", conf, (char *)NULL);
		_exit(127);
	}
	for (i = 0; i < 100; i++) {
		struct sockaddr_in sa;
		int fd = socket(AF_INET, SOCK_STREAM, 0), ok;

		memset(&sa, 0, sizeof(sa));
		sa.sin_family = AF_INET;
		sa.sin_port = htons((unsigned short)e->port);
		sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		ok = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
		close(fd);
		if (ok)
			break;
		time_sleep_ms(50);
	}
	free(conf);
	free(text);
	free(port);
}

static void sshd_stop(struct env *e)
{
	if (e->sshd > 0) {
		kill(e->sshd, SIGTERM);
		waitpid(e->sshd, NULL, 0);
		e->sshd = 0;
	}
}

static void test_host_keys(void **state)
{
	struct env e;
	struct ssh_target t = SSH_TARGET_INIT;
	struct strbuf out = STRBUF_INIT, kh = STRBUF_INIT;
	struct error err = ERROR_INIT;
	struct passwd *pw = getpwuid(getuid());
	char *cmd, *known, *key;

	if (access(SSHD, X_OK) || run("command -v ssh >/dev/null && command -v ssh-keygen"
				      " >/dev/null")) {
		printf("skipped: sshd not available (install openssh-server)\n");
		skip();
	}
	memset(&e, 0, sizeof(e));
	snprintf(e.dir, sizeof(e.dir), "/tmp/frugal-test-sshd-XXXXXX");
	assert_non_null(mkdtemp(e.dir));
	e.port = free_port();
	cmd = xasprintf("cd %s && ssh-keygen -q -t ed25519 -N '' -f hostkey && ssh-keygen -q -t "
			"ed25519 -N '' -f client && cp client.pub authorized_keys", e.dir);
	assert_int_equal(run(cmd), 0);
	free(cmd);
	sshd_start(&e);
	known = xasprintf("%s/known_hosts", e.dir);
	key = xasprintf("%s/client", e.dir);
	t.user = pw->pw_name;
	t.host = "127.0.0.1";
	t.port = e.port;
	t.identity = key;
	t.known_hosts = known;
	t.alias = "instance-0920582c";
	t.timeout_s = 30;

	/* First contact: accepted and recorded under the alias. */
	assert_int_equal(ssh_check(&t, "cat; echo ' world'", "hello", 5, NULL, &out, &err), 0);
	assert_string_equal(out.buf, "hello world\n");
	assert_int_equal(fs_read_file(known, 1 << 16, &kh, NULL), 0);
	assert_non_null(strstr(kh.buf, "ssh-ed25519 "));
	/* (hashed when the system's ssh_config says HashKnownHosts) */
	cmd = xasprintf("ssh-keygen -F '[instance-0920582c]:%d' -f %s >/dev/null || "
			"ssh-keygen -F instance-0920582c -f %s >/dev/null", e.port, known, known);
	assert_int_equal(run(cmd), 0);
	free(cmd);
	/* Later contacts: the recorded key matches. */
	strbuf_reset(&out);
	assert_int_equal(ssh_check(&t, "echo again", NULL, 0, NULL, &out, &err), 0);
	assert_string_equal(out.buf, "again\n");

	/* The machine's key changes (another machine at that address): refused. */
	sshd_stop(&e);
	cmd = xasprintf("cd %s && rm -f hostkey hostkey.pub && ssh-keygen -q -t ed25519 -N '' -f"
			" hostkey", e.dir);
	assert_int_equal(run(cmd), 0);
	free(cmd);
	sshd_start(&e);
	strbuf_reset(&out);
	assert_int_equal(ssh_check(&t, "echo should-not-run", NULL, 0, NULL, &out, &err),
			 FRUGAL_EPROVIDER);
	assert_null(strstr(out.buf, "should-not-run"));
	printf("refused as expected: %s\n", error_msg(&err));
	/* Another alias (a new instance at a recycled IP) is a first contact. */
	t.alias = "instance-ffff0000";
	strbuf_reset(&out);
	assert_int_equal(ssh_check(&t, "echo new", NULL, 0, NULL, &out, &err), 0);
	assert_string_equal(out.buf, "new\n");

	sshd_stop(&e);
	fs_remove_tree(e.dir, NULL);
	strbuf_release(&out);
	strbuf_release(&kh);
	free(known);
	free(key);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_host_keys),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
