/* worker_user: the user ferry's workers run as. See
 * include/ferry/worker_user.h. */
#include "config.h"
#include "ferry/worker_user.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

bool worker_user_resolve(const char *name, struct worker_user *user, GError **error)
{
	memset(user, 0, sizeof *user);
	uid_t self = geteuid();
	const char *wanted = name != NULL ? name : WORKER_USER_DEFAULT;
	errno = 0;
	const struct passwd *pw = getpwnam(wanted);
	if (self != 0) {
		/* Not root: the workers run as ferry's user; naming another is a
		 * configuration that cannot be honoured. */
		if (name != NULL && (pw == NULL || pw->pw_uid != self)) {
			g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_PERM,
			            "[workers] user: '%s': ferry runs as uid %u and cannot start "
			            "workers as another user (that needs root); remove the key "
			            "(the workers then run as ferry's user, confined by Landlock) "
			            "or start ferry as root",
			            name, (unsigned)self);
			return false;
		}
		const struct passwd *me = getpwuid(self);
		g_strlcpy(user->name, me != NULL ? me->pw_name : "ferry's user", sizeof user->name);
		user->uid = self;
		user->gid = getegid();
		return true;
	}
	if (pw == NULL) {
		g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_NOENT,
		            "[workers] user: there is no user '%s' on this system, and ferry "
		            "runs as root, which it does not run workers as: create it (useradd "
		            "--system --no-create-home --shell /usr/sbin/nologin %s) or name "
		            "another unprivileged user in [workers] user",
		            wanted, wanted);
		return false;
	}
	if (pw->pw_uid == 0 || pw->pw_gid == 0) {
		g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_PERM,
		            "[workers] user: '%s' is root or in group root; the workers must "
		            "run as an unprivileged user of their own",
		            wanted);
		return false;
	}
	user->switch_user = true;
	user->uid = pw->pw_uid;
	user->gid = pw->pw_gid;
	g_strlcpy(user->name, pw->pw_name, sizeof user->name);
	return true;
}

/* Whether UID/GID may search directory ST (the "x" bit that applies). */
static bool searchable(const struct stat *st, uid_t uid, gid_t gid)
{
	if (st->st_uid == uid)
		return (st->st_mode & S_IXUSR) != 0;
	if (st->st_gid == gid)
		return (st->st_mode & S_IXGRP) != 0;
	return (st->st_mode & S_IXOTH) != 0;
}

bool worker_user_prepare_dir(uid_t uid, gid_t gid, bool switch_user, const char *dir,
                             GError **error)
{
	if (!switch_user)
		return true;
	/* The worker names its private directory by path (TMPDIR, libpurple's
	 * user dir inside it), so every directory above must let it pass. */
	g_autofree char *up = g_path_get_dirname(dir);
	for (;;) {
		struct stat st;
		if (stat(up, &st) != 0) {
			int err = errno;
			g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(err),
			            "cannot check %s: %s", up, g_strerror(err));
			return false;
		}
		if (!searchable(&st, uid, gid)) {
			g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_PERM,
			            "the worker user (uid %u) cannot reach its private directory "
			            "under %s (mode %04o): make it searchable by others (chmod "
			            "o+x %s), or set TMPDIR to a directory such as /tmp",
			            (unsigned)uid, up, (unsigned)(st.st_mode & 07777), up);
			return false;
		}
		g_autofree char *next = g_path_get_dirname(up);
		if (strcmp(next, up) == 0)
			break;
		g_free(up);
		up = g_steal_pointer(&next);
	}
	if (chown(dir, uid, gid) != 0) {
		int err = errno;
		g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(err),
		            "cannot give %s to the worker user (uid %u): %s", dir, (unsigned)uid,
		            g_strerror(err));
		return false;
	}
	return true;
}

/* A message on stderr from the forked child: write(2) only. */
static void child_fail(const char *what)
{
	static const char prefix[] = "ferry: worker setup: cannot ";
	(void)!write(STDERR_FILENO, prefix, sizeof prefix - 1);
	(void)!write(STDERR_FILENO, what, strlen(what));
	(void)!write(STDERR_FILENO, "\n", 1);
	_exit(126);
}

void worker_user_child_setup(gpointer data)
{
	const struct worker_user *user = data;
	if (user == NULL || !user->switch_user)
		return;
	if (setgroups(0, NULL) != 0)
		child_fail("drop supplementary groups");
	if (setgid(user->gid) != 0)
		child_fail("set the group id");
	if (setuid(user->uid) != 0)
		child_fail("set the user id");
	/* setuid as root sets all three uids; a way back would be a bug. */
	if (setuid(0) == 0 || geteuid() != user->uid || getegid() != user->gid)
		child_fail("drop root for good");
}
