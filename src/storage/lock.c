/* lock: one ferry per database (storage.h, storage_lock). An flock on a
 * file beside the database, named after its real path; independent of the
 * backend. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/file.h>
#include <unistd.h>

#include "ferry/storage.h"

struct storage_lock {
	int fd; /* holds the flock; O_CLOEXEC, so no worker inherits it */
};

/* The pid the holder wrote into the lock file, or 0 when unknown. */
static long lock_holder(int fd)
{
	char buf[32] = {0};
	ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	guint64 pid = 0;
	g_strstrip(buf);
	if (!g_ascii_string_to_unsigned(buf, 10, 1, G_MAXINT32, &pid, NULL))
		return 0;
	return (long)pid;
}

/* PATH with its symlinks, "." and ".." resolved: the file's own, or its
 * directory's when the database does not exist yet; PATH itself when
 * neither resolves (the open that follows reports why). */
static char *canonical_path(const char *path)
{
	char *real = realpath(path, NULL);
	if (real != NULL) {
		char *copy = g_strdup(real);
		free(real);
		return copy;
	}
	g_autofree char *dir = g_path_get_dirname(path);
	g_autofree char *base = g_path_get_basename(path);
	real = realpath(dir, NULL);
	if (real == NULL)
		return g_strdup(path);
	char *joined = g_build_filename(real, base, NULL);
	free(real);
	return joined;
}

struct storage_lock *storage_lock(const char *path, GError **error)
{
	g_return_val_if_fail(path != NULL, NULL);
	g_return_val_if_fail(error == NULL || *error == NULL, NULL);

	/* Named after the database's real path, so another spelling of it (a
	 * symlink, "./", a bind of its directory) meets the same lock. */
	g_autofree char *real = canonical_path(path);
	g_autofree char *lock_path = g_strconcat(real, ".lock", NULL);
	int fd = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		int err = errno;
		g_set_error(error, STORAGE_ERROR, STORAGE_ERROR_OPEN,
		            "%s: cannot open the lock file %s: %s", path, lock_path,
		            g_strerror(err));
		return NULL;
	}
	/* flock, not fcntl: the lock belongs to this open file, so closing
	 * some other descriptor of the file (SQLite does) keeps it, and the
	 * kernel drops it when the process ends, however it ends. */
	int rc;
	while ((rc = flock(fd, LOCK_EX | LOCK_NB)) != 0 && errno == EINTR)
		;
	if (rc != 0) {
		int err = errno;
		if (err == EWOULDBLOCK) {
			long pid = lock_holder(fd);
			g_autofree char *who = pid > 0
			                           ? g_strdup_printf("another ferry (pid %ld)", pid)
			                           : g_strdup("another ferry");
			g_set_error(error, STORAGE_ERROR, STORAGE_ERROR_LOCKED,
			            "%s: %s is using this database (it holds %s): stop it first, "
			            "or give this one a [storage] database of its own",
			            path, who, lock_path);
		} else {
			g_set_error(error, STORAGE_ERROR, STORAGE_ERROR_OPEN,
			            "%s: cannot lock %s: %s", path, lock_path, g_strerror(err));
		}
		close(fd);
		return NULL;
	}
	/* For the message of the next one that tries; the file is never
	 * removed (unlinking a lock file lets two processes lock two files). */
	char pid[32];
	int n = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) != 0 || pwrite(fd, pid, (size_t)n, 0) != n)
		g_warning("%s: cannot write this process's pid into it", lock_path);
	struct storage_lock *lock = g_new0(struct storage_lock, 1);
	lock->fd = fd;
	return lock;
}

void storage_lock_free(struct storage_lock *lock)
{
	if (lock == NULL)
		return;
	close(lock->fd); /* releases the flock */
	g_free(lock);
}
