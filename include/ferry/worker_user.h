/* worker_user: which user ferry's workers run as, and the process setup
 * that puts them there (src/legacy/worker_user.c).
 *
 * ferry started as root runs every worker as [workers] user (default
 * "ferry-worker", created by the admin: useradd --system --no-create-home
 * ferry-worker), never as root: a compromised protocol plugin then cannot
 * read ferry's key or database (0600, ferry's). The worker's private
 * directory (its TMPDIR and working directory) is chowned to that user.
 * ferry started as any other user runs the workers as itself; ferry-worker
 * confines itself with Landlock (src/worker/sandbox.c).
 */
#ifndef FERRY_WORKER_USER_H
#define FERRY_WORKER_USER_H

#include <glib.h>
#include <stdbool.h>
#include <sys/types.h>

#define WORKER_USER_DEFAULT "ferry-worker"

struct worker_user {
	bool switch_user; /* ferry is root: setgroups/setgid/setuid to uid, gid */
	uid_t uid;
	gid_t gid;
	char name[64]; /* for messages (cut at 63 bytes) */
};

/* The user for a ferry running as geteuid(): as root, NAME (NULL: the
 * default), which must exist and not be root; as another user, NAME must
 * be NULL or that user (switching needs root). false with ERROR naming
 * the fix. */
bool worker_user_resolve(const char *name, struct worker_user *user, GError **error);

/* Gives DIR (a new private directory, 0700) to the worker user, after
 * checking that user may reach it (every directory above it searchable).
 * A no-op without a switch. */
bool worker_user_prepare_dir(uid_t uid, gid_t gid, bool switch_user, const char *dir,
                             GError **error);

/* GSpawnChildSetupFunc (DATA: a const struct worker_user *, which must live
 * until the spawn returns): drops supplementary groups, then gid, then uid,
 * and makes sure none can be regained; on failure writes why to stderr and
 * exits 126. Async-signal-safe. */
void worker_user_child_setup(gpointer data);

#endif
