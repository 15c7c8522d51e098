/* sandbox: what ferry-worker does to itself before libpurple starts, so a
 * compromised protocol plugin cannot read what the worker does not need
 * (ferry's key and database above all) nor leave its memory in a core.
 *
 * Who runs the worker: ferry started as root runs it as [workers] user
 * (src/legacy/workers.c drops groups, gid and uid before exec), whose
 * files ferry's key and database are not. ferry started as a system user
 * runs it as that same user: then only Landlock keeps the worker from
 * ferry's files, so it is applied in both cases. */
#include "config.h"
#include "worker.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/landlock.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifdef HAVE_SECCOMP
#include <sched.h>
#include <seccomp.h>
#endif

/* Debian 12's headers are Linux 6.1's (Landlock ABI 2); what later ABIs
 * added is defined here so a worker built there uses it on a newer kernel. */
#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE (1ULL << 14) /* ABI 3 */
#endif
#ifndef LANDLOCK_ACCESS_FS_IOCTL_DEV
#define LANDLOCK_ACCESS_FS_IOCTL_DEV (1ULL << 15) /* ABI 5 */
#endif
#ifndef LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET
#define LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET (1ULL << 0) /* ABI 6 */
#endif
#ifndef LANDLOCK_SCOPE_SIGNAL
#define LANDLOCK_SCOPE_SIGNAL (1ULL << 1) /* ABI 6 */
#endif

/* struct landlock_ruleset_attr as of ABI 6; the kernel takes a shorter
 * one from older ABIs (its size says which fields are there). */
struct ruleset_attr {
	uint64_t handled_access_fs;
	uint64_t handled_access_net; /* ABI 4; left 0: the worker connects anywhere */
	uint64_t scoped;             /* ABI 6 */
};

#define FS_READ                                                                                    \
	(LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR)
#define FS_FILE_RIGHTS                                                                             \
	(LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_WRITE_FILE |                              \
	 LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_TRUNCATE |                              \
	 LANDLOCK_ACCESS_FS_IOCTL_DEV)

/* What libpurple, GLib, GnuTLS and the resolver read (measured with
 * strace -f -e trace=file over an IRC login; see ARCHITECTURE.md; refused
 * and harmless: a plugin's probe of /tmp and /var/tmp, the absent
 * /etc/purple/prefs.xml):
 * system directories whole, and of /etc only the files they need, so a
 * key or database kept under /etc (e.g. /etc/ferry) stays out of reach. */
static const char *const read_only[] = {
    "/usr",
    "/lib",
    "/lib64",
    "/lib32",
    "/bin",
    "/sbin",
    "/etc/ld.so.cache",
    "/etc/ld.so.preload",
    "/etc/localtime",
    "/etc/locale.alias",
    "/etc/nsswitch.conf",
    "/etc/passwd",
    "/etc/group",
    "/etc/hosts",
    "/etc/host.conf",
    "/etc/resolv.conf",
    "/etc/gai.conf",
    "/etc/services",
    "/etc/protocols",
    "/etc/ssl",
    "/etc/ca-certificates",
    "/etc/gnutls",
    "/etc/crypto-policies",
    "/etc/pki",
    "/etc/mime.types",
    "/proc/self",
    "/sys/devices/system/cpu",
    "/dev/urandom",
    "/dev/random",
};

/* Files of read_only[] that a daemon replaces by rename while the worker
 * runs: resolv.conf (systemd-resolved, NetworkManager, resolvconf, dhcp
 * clients) and hosts (NetworkManager, container runtimes). See
 * allow_replaced(). */
static const char *const replaced[] = {
    "/etc/resolv.conf",
    "/etc/hosts",
};

static const char *const read_write[] = {
    "/dev/null",
};

/* The ABI to use: the kernel's, capped by FERRY_WORKER_LANDLOCK_ABI (a
 * test hook: 0 runs the path of a kernel without Landlock). */
static int landlock_abi(void)
{
	long abi = syscall(SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);
	if (abi < 0)
		abi = 0;
	const char *cap = g_getenv("FERRY_WORKER_LANDLOCK_ABI");
	guint64 n = 0;
	if (cap != NULL && g_ascii_string_to_unsigned(cap, 10, 0, 1000, &n, NULL) && (long)n < abi)
		abi = (long)n;
	return (int)abi;
}

static uint64_t handled_fs(int abi)
{
	uint64_t fs = (LANDLOCK_ACCESS_FS_MAKE_SYM << 1) - 1; /* ABI 1: bits 0..12 */
	if (abi >= 2)
		fs |= LANDLOCK_ACCESS_FS_REFER;
	if (abi >= 3)
		fs |= LANDLOCK_ACCESS_FS_TRUNCATE;
	if (abi >= 5)
		fs |= LANDLOCK_ACCESS_FS_IOCTL_DEV;
	return fs;
}

/* Allows ACCESS (within HANDLED) under PATH; a path that does not exist
 * is skipped. A file takes only file rights. */
static bool allow(int ruleset, const char *path, uint64_t access, uint64_t handled, GError **error)
{
	int fd = open(path, O_PATH | O_CLOEXEC);
	if (fd < 0)
		return true;
	struct stat st;
	if (fstat(fd, &st) == 0 && !S_ISDIR(st.st_mode))
		access &= FS_FILE_RIGHTS;
	struct landlock_path_beneath_attr rule = {
	    .allowed_access = access & handled,
	    .parent_fd = fd,
	};
	long r = syscall(SYS_landlock_add_rule, ruleset, LANDLOCK_RULE_PATH_BENEATH, &rule, 0);
	int err = errno;
	close(fd);
	if (r != 0) {
		g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(err),
		            "sandbox: cannot allow %s: %s", path, g_strerror(err));
		return false;
	}
	return true;
}

/* Whether DIR (a real path) is narrow enough to open read-only whole for
 * one file in it: not /, not /etc itself (it holds what must stay out of
 * reach, e.g. /etc/ferry), nor a top-level directory (/run, /var, /tmp,
 * /home): "/a/b" at least. */
static bool narrow_dir(const char *dir)
{
	if (dir[0] != '/' || strcmp(dir, "/etc") == 0)
		return false;
	const char *second = strchr(dir + 1, '/');
	return second != NULL && second[1] != '\0';
}

/* A Landlock rule on a file is on its inode, and open(2) (no O_NOFOLLOW)
 * puts it on the symlink's final target: when a daemon replaces that file
 * by rename (write a new one, rename(2) over the old: how resolved,
 * NetworkManager and resolvconf update /run/.../resolv.conf), the new
 * inode has no rule and the worker's resolver gets EACCES until it is
 * restarted. So for these files the directory holding the final target
 * (realpath) is allowed read-only too, where that directory is narrow
 * (narrow_dir(): e.g. /run/systemd/resolve, /run/NetworkManager); a file
 * directly in /etc (a plain /etc/hosts) keeps only its own rule, since
 * allowing /etc whole would open what the sandbox is there to close. */
static bool allow_replaced(int ruleset, const char *path, uint64_t handled, GError **error)
{
	g_autofree char *target = realpath(path, NULL);
	if (target == NULL)
		return true; /* absent (or a dangling link): nothing to allow */
	g_autofree char *dir = g_path_get_dirname(target);
	if (!narrow_dir(dir))
		return true;
	return allow(ruleset, dir, FS_READ & ~LANDLOCK_ACCESS_FS_EXECUTE, handled, error);
}

/* Landlock: the system's read-only files, the CA files, and the private
 * directory (PRIVATE_DIR, the worker's TMPDIR) read-write. */
static bool apply_landlock(int abi, const char *private_dir, char **ca_files, GError **error)
{
	struct ruleset_attr attr = {.handled_access_fs = handled_fs(abi)};
	size_t size = sizeof attr.handled_access_fs;
	if (abi >= 6) {
		/* No signals to processes outside the sandbox (ferry, when it
		 * runs as the same user) and no abstract sockets outside it. */
		attr.scoped = LANDLOCK_SCOPE_SIGNAL | LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET;
		size = sizeof attr;
	}
	long ruleset = syscall(SYS_landlock_create_ruleset, &attr, size, 0);
	if (ruleset < 0) {
		int err = errno;
		g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(err),
		            "sandbox: cannot create a Landlock ruleset (ABI %d): %s", abi,
		            g_strerror(err));
		return false;
	}
	int rs = (int)ruleset;
	uint64_t all = attr.handled_access_fs;
	bool ok = true;
	for (gsize i = 0; ok && i < G_N_ELEMENTS(read_only); i++)
		ok = allow(rs, read_only[i], FS_READ, all, error);
	for (gsize i = 0; ok && i < G_N_ELEMENTS(replaced); i++)
		ok = allow_replaced(rs, replaced[i], all, error);
	for (gsize i = 0; ok && i < G_N_ELEMENTS(read_write); i++)
		ok = allow(rs, read_write[i], FS_READ | LANDLOCK_ACCESS_FS_WRITE_FILE, all, error);
	for (gsize i = 0; ok && ca_files != NULL && ca_files[i] != NULL; i++)
		ok = allow(rs, ca_files[i], LANDLOCK_ACCESS_FS_READ_FILE, all, error);
	/* TEST ONLY: the test plugin directory (purple_core.c), read-only */
	const char *test_plugins = g_getenv("FERRY_WORKER_TEST_PLUGIN_DIR");
	if (ok && test_plugins != NULL && *test_plugins != '\0')
		ok = allow(rs, test_plugins, FS_READ, all, error);
	if (ok)
		ok = allow(rs, private_dir, all, all, error);
	if (ok && syscall(SYS_landlock_restrict_self, rs, 0) != 0) {
		int err = errno;
		g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(err),
		            "sandbox: cannot enter the Landlock domain: %s", g_strerror(err));
		ok = false;
	}
	close(rs);
	return ok;
}

#ifdef HAVE_SECCOMP
/* System calls a protocol plugin never needs and an attacker in one would
 * want: reading or steering other processes (ptrace, process_vm_*), the
 * kernel's big attack surfaces (bpf, perf, userfaultfd, io_uring, keys),
 * namespaces (unshare, setns, a clone into new ones), leaving the process
 * group ferry kills with the worker (setsid, setpgid), mounts, modules,
 * and the machine itself. Each fails with EPERM (the process lives on and
 * the log shows the error); everything else is allowed. Measured: an IRC
 * login, messages both ways and logout under it (test_isolation.py). */
static const int denied[] = {
    SCMP_SYS(ptrace),
    SCMP_SYS(process_vm_readv),
    SCMP_SYS(process_vm_writev),
    SCMP_SYS(kcmp),
    SCMP_SYS(pidfd_getfd),
    SCMP_SYS(bpf),
    SCMP_SYS(perf_event_open),
    SCMP_SYS(userfaultfd),
    SCMP_SYS(io_uring_setup),
    SCMP_SYS(io_uring_enter),
    SCMP_SYS(io_uring_register),
    SCMP_SYS(add_key),
    SCMP_SYS(request_key),
    SCMP_SYS(keyctl),
    SCMP_SYS(unshare),
    SCMP_SYS(setns),
    SCMP_SYS(setsid),
    SCMP_SYS(setpgid),
    SCMP_SYS(mount),
    SCMP_SYS(umount2),
    SCMP_SYS(pivot_root),
    SCMP_SYS(chroot),
    SCMP_SYS(open_by_handle_at),
    SCMP_SYS(name_to_handle_at),
    SCMP_SYS(init_module),
    SCMP_SYS(finit_module),
    SCMP_SYS(delete_module),
    SCMP_SYS(kexec_load),
    SCMP_SYS(kexec_file_load),
    SCMP_SYS(reboot),
    SCMP_SYS(swapon),
    SCMP_SYS(swapoff),
    SCMP_SYS(acct),
    SCMP_SYS(quotactl),
    SCMP_SYS(settimeofday),
    SCMP_SYS(clock_settime),
    SCMP_SYS(clock_adjtime),
    SCMP_SYS(adjtimex),
    SCMP_SYS(iopl),
    SCMP_SYS(ioperm),
    SCMP_SYS(personality),
    SCMP_SYS(syslog),
    SCMP_SYS(vhangup),
    SCMP_SYS(lookup_dcookie),
};

static bool apply_seccomp(GError **error)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
	if (ctx == NULL) {
		g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_NOMEM,
		            "sandbox: cannot set up the seccomp filter");
		return false;
	}
	int rc = 0;
	for (gsize i = 0; rc == 0 && i < G_N_ELEMENTS(denied); i++)
		if (denied[i] >= 0) /* a call this architecture lacks is negative */
			rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), denied[i], 0);
	/* clone into new namespaces; clone3 (whose flags sit in memory a
	 * filter cannot read) answers ENOSYS, so libc falls back to clone */
	static const unsigned long ns_flags[] = {CLONE_NEWNS,    CLONE_NEWUSER, CLONE_NEWPID,
	                                         CLONE_NEWNET,   CLONE_NEWIPC,  CLONE_NEWUTS,
	                                         CLONE_NEWCGROUP};
	for (gsize i = 0; rc == 0 && i < G_N_ELEMENTS(ns_flags); i++)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(clone), 1,
		                      SCMP_A0(SCMP_CMP_MASKED_EQ, ns_flags[i], ns_flags[i]));
	if (rc == 0)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0);
	if (rc == 0)
		rc = seccomp_load(ctx);
	seccomp_release(ctx);
	if (rc != 0) {
		g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(-rc),
		            "sandbox: cannot load the seccomp filter: %s", g_strerror(-rc));
		return false;
	}
	return true;
}
#endif

/* FERRY_WORKER_TEST_OPEN=PATH[:PATH...] (test-only: the isolation test
 * proves from inside the worker what it cannot read): each path is opened
 * for reading once, and the result logged. Reads nothing. */
static void test_opens(void)
{
	const char *list = g_getenv("FERRY_WORKER_TEST_OPEN");
	if (list == NULL || *list == '\0')
		return;
	g_auto(GStrv) paths = g_strsplit(list, ":", 16);
	for (gsize i = 0; paths[i] != NULL; i++) {
		int fd = open(paths[i], O_RDONLY | O_CLOEXEC | O_NONBLOCK);
		if (fd >= 0) {
			g_message("sandbox: test open of %s: opened", paths[i]);
			close(fd);
		} else {
			int err = errno;
			g_message("sandbox: test open of %s: refused: %s", paths[i],
			          g_strerror(err));
		}
	}
}

bool sandbox_apply(const struct worker_config *config, GError **error)
{
	/* No core file, and no ptrace or /proc/<pid>/mem by the same user:
	 * the worker holds its users' passwords. */
	const struct rlimit none = {0, 0};
	if (setrlimit(RLIMIT_CORE, &none) != 0 || prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0 ||
	    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
		int err = errno;
		g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(err),
		            "sandbox: cannot limit the process: %s", g_strerror(err));
		return false;
	}
	const char *private_dir = g_get_tmp_dir();
	int abi = landlock_abi();
	if (abi == 0) {
		if (getuid() == 0 || geteuid() != getuid())
			g_message("sandbox: no Landlock in this kernel; confined by user only");
		else
			g_message("sandbox: no Landlock in this kernel: the worker may read "
			          "whatever uid %u may read",
			          (unsigned)getuid());
	} else {
		if (!apply_landlock(abi, private_dir, config->ca_files, error))
			return false;
		g_info("sandbox: Landlock ABI %d: files read-only under the system "
		       "directories, read-write only in %s",
		       abi, private_dir);
	}
#ifdef HAVE_SECCOMP
	/* FERRY_WORKER_SECCOMP=0 (a test hook, like the Landlock one) */
	if (g_strcmp0(g_getenv("FERRY_WORKER_SECCOMP"), "0") != 0) {
		if (!apply_seccomp(error))
			return false;
		g_info("sandbox: seccomp filter: %u system calls refused",
		       (unsigned)G_N_ELEMENTS(denied) + 2);
	}
#else
	g_info("sandbox: built without libseccomp: no system call filter");
#endif
	test_opens();
	return true;
}
