/* workers_spawn: starting ferry-worker processes for the pool (workers.c;
 * shared: workers_internal.h), and the --describe run made the same way.
 * See include/ferry/workers.h. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <glib-unix.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ferry/worker_user.h"
#include "ferry/worker_protocol.h"
#include "workers_internal.h"

/* ---- starting a worker -------------------------------------------------------- */

/* How deep workers_remove_tree() goes; below that it leaves the rest (and
 * logs it) rather than recurse without bound on a worker-made tree. */
#define REMOVE_DEPTH_MAX 64

/* Removes everything in the directory open at DFD (consumed). Every step
 * is relative to a directory fd and never follows a symlink: the tree is
 * the worker's, and a descendant still running (or a race with one) may
 * have swapped a subdirectory for a symlink to /etc or ferry's database
 * directory; ferry (perhaps root) must then unlink the symlink, never what
 * it points to. Returns false if something was left behind. */
static bool remove_below(int dfd, int depth)
{
	DIR *d = fdopendir(dfd);
	if (d == NULL) {
		close(dfd);
		return false;
	}
	bool ok = true;
	const struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		/* Anything but a directory (a symlink included) goes at once. */
		if (unlinkat(dirfd(d), e->d_name, 0) == 0 || errno == ENOENT)
			continue;
		if (errno != EISDIR) {
			ok = false;
			continue;
		}
		int sub =
		    openat(dirfd(d), e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (sub < 0) {
			/* replaced by a symlink or file since: unlink that */
			if ((errno == ELOOP || errno == ENOTDIR) &&
			    unlinkat(dirfd(d), e->d_name, 0) == 0)
				continue;
			ok = false;
			continue;
		}
		if (depth >= REMOVE_DEPTH_MAX) {
			close(sub);
			ok = false;
			continue;
		}
		if (!remove_below(sub, depth + 1))
			ok = false;
		/* If it became a symlink meanwhile this fails (ENOTDIR): fine. */
		if (unlinkat(dirfd(d), e->d_name, AT_REMOVEDIR) != 0 && errno != ENOENT)
			ok = false;
	}
	closedir(d);
	return ok;
}

/* Removes PATH and everything below it (a worker's private files, which
 * a killed worker could not remove itself), see remove_below(). */
void workers_remove_tree(const char *path)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		/* PATH itself replaced by a symlink (the worker owns its entry
		 * in /tmp): remove that link, not its target */
		if (errno == ELOOP || errno == ENOTDIR)
			(void)unlink(path);
		else if (errno != ENOENT)
			g_warning("workers: cannot remove %s: %s", path, g_strerror(errno));
		return;
	}
	bool ok = remove_below(fd, 0);
	if (rmdir(path) != 0 && errno != ENOENT)
		ok = false;
	if (!ok)
		g_message("workers: could not remove all of %s (left in place)", path);
}

/* Kills W's process group: the worker and every descendant it forked that
 * stayed in its group (each worker leads one, see worker_child_setup()),
 * which g_subprocess_force_exit() alone would leave running with the
 * worker's rights in its private directory. Called when the worker is
 * killed or seen to exit, before its directory is removed. While a group
 * member lives its id cannot be reused, so a late call hits nobody else. */
void workers_kill_group(struct worker *w)
{
	gint64 pgid = 0;
	if (w->pid == NULL || !g_ascii_string_to_signed(w->pid, 10, 2, G_MAXINT, &pgid, NULL))
		return;
	(void)kill(-(pid_t)pgid, SIGKILL);
}

/* GSpawnChildSetupFunc of a worker: a process group of its own (so that
 * workers_kill_group() reaches its descendants), then the worker user. */
static void worker_child_setup(gpointer data)
{
	(void)setpgid(0, 0);
	worker_user_child_setup(data);
}

static void on_worker_exit(GObject *source, GAsyncResult *res, gpointer data)
{
	g_autoptr(GError) err = NULL;
	if (!g_subprocess_wait_finish(G_SUBPROCESS(source), res, &err) &&
	    g_error_matches(err, G_IO_ERROR, G_IO_ERROR_CANCELLED))
		return; /* freed: DATA may be gone */
	struct worker *w = data;
	GSubprocess *p = G_SUBPROCESS(source);
	g_autofree char *how = NULL;
	if (g_subprocess_get_if_signaled(p))
		how = g_strdup_printf("was killed by signal %d (%s)", g_subprocess_get_term_sig(p),
		                      g_strsignal(g_subprocess_get_term_sig(p)));
	else
		how = g_strdup_printf("exited with status %d", g_subprocess_get_exit_status(p));
	g_clear_object(&w->wait_cancel);
	worker_died(w, how);
}

struct worker *workers_spawn(struct workers *pool, GError **error)
{
	int sv[2], av[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
		g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno), "socketpair: %s",
		            g_strerror(errno));
		return NULL;
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, av) != 0) {
		g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno), "socketpair: %s",
		            g_strerror(errno));
		close(sv[0]);
		close(sv[1]);
		return NULL;
	}
	g_autofree char *tmpdir = g_dir_make_tmp("ferry-worker-XXXXXX", error);
	if (tmpdir == NULL) {
		close(sv[0]);
		close(sv[1]);
		close(av[0]);
		close(av[1]);
		return NULL;
	}
	/* The private directory is the worker's TMPDIR and working directory
	 * (ferry's own holds the database and the key), owned by the worker
	 * user when ferry is root; the child drops to that user before exec. */
	const struct worker_user user = {
	    .switch_user = pool->opt.switch_user,
	    .uid = pool->opt.uid,
	    .gid = pool->opt.gid,
	};
	if (!worker_user_prepare_dir(user.uid, user.gid, user.switch_user, tmpdir, error)) {
		close(sv[0]);
		close(sv[1]);
		close(av[0]);
		close(av[1]);
		workers_remove_tree(tmpdir);
		return NULL;
	}
	g_autoptr(GSubprocessLauncher) launcher =
	    g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_NONE);
	g_subprocess_launcher_take_fd(launcher, sv[1], WORKER_FD);
	g_subprocess_launcher_take_fd(launcher, av[1], WORKER_ACKS_FD);
	g_subprocess_launcher_setenv(launcher, "TMPDIR", tmpdir, TRUE);
	/* libpurple looks in HOME too (~/.zephyr.vars, themes): not ferry's. */
	g_subprocess_launcher_setenv(launcher, "HOME", tmpdir, TRUE);
	g_subprocess_launcher_set_cwd(launcher, tmpdir);
	g_subprocess_launcher_set_child_setup(launcher, worker_child_setup, (gpointer)&user, NULL);
	g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func(g_free);
	g_ptr_array_add(argv, g_strdup(pool->opt.program));
	g_ptr_array_add(argv, g_strdup("--fd"));
	g_ptr_array_add(argv, g_strdup_printf("%d", WORKER_FD));
	g_ptr_array_add(argv, g_strdup("--acks-fd"));
	g_ptr_array_add(argv, g_strdup_printf("%d", WORKER_ACKS_FD));
	/* The legacy address policy (netpolicy.h), always on. */
	g_ptr_array_add(argv, g_strdup("--deny-internal"));
	for (gsize i = 0; pool->opt.allowed_servers != NULL && pool->opt.allowed_servers[i] != NULL;
	     i++)
		g_ptr_array_add(argv,
		                g_strdup_printf("--allow-server=%s", pool->opt.allowed_servers[i]));
	if (pool->opt.ca_file != NULL) {
		g_ptr_array_add(argv, g_strdup("--ca-file"));
		g_ptr_array_add(argv, g_strdup(pool->opt.ca_file));
	}
	if (pool->opt.login_timeout > 0) {
		g_ptr_array_add(argv, g_strdup("--login-timeout"));
		g_ptr_array_add(argv, g_strdup_printf("%u", pool->opt.login_timeout));
	}
	g_ptr_array_add(argv, NULL);
	GSubprocess *proc =
	    g_subprocess_launcher_spawnv(launcher, (const char *const *)argv->pdata, error);
	if (proc == NULL) {
		close(sv[0]);
		close(av[0]);
		workers_remove_tree(tmpdir);
		return NULL;
	}
	g_unix_set_fd_nonblocking(sv[0], TRUE, NULL);
	struct worker *w = g_new0(struct worker, 1);
	w->pool = pool;
	w->proc = proc;
	w->pid = g_strdup(g_subprocess_get_identifier(proc));
	w->tmpdir = g_steal_pointer(&tmpdir);
	w->fd = sv[0];
	w->reader = worker_reader_new();
	w->acks_fd = av[0];
	w->acks_reader = worker_reader_new();
	w->accounts = g_hash_table_new(g_direct_hash, g_direct_equal);
	w->wait_cancel = g_cancellable_new();
	g_subprocess_wait_async(proc, w->wait_cancel, on_worker_exit, w);
	g_ptr_array_add(pool->list, w);
	worker_update_watch(w);
	g_info("workers: started worker %s (%s)", w->pid, pool->opt.program);
	return w;
}

/* ---- the program and its description ---------------------------------------- */

char *workers_default_program(void)
{
	g_autofree char *self = g_file_read_link("/proc/self/exe", NULL);
	if (self != NULL) {
		g_autofree char *dir = g_path_get_dirname(self);
		char *beside = g_build_filename(dir, "ferry-worker", NULL);
		if (g_file_test(beside, G_FILE_TEST_IS_EXECUTABLE))
			return beside;
		g_free(beside);
	}
	return g_build_filename(FERRY_LIBEXECDIR, "ferry-worker", NULL);
}

static struct worker_description *describe_in(GSubprocessLauncher *launcher, const char *program,
                                              const char *protocol, GError **error)
{
	const char *argv[] = {program, "--describe", protocol, NULL};
	g_autoptr(GSubprocess) p = g_subprocess_launcher_spawnv(launcher, argv, error);
	if (p == NULL)
		return NULL;
	g_autofree char *out = NULL, *err_text = NULL;
	if (!g_subprocess_communicate_utf8(p, NULL, NULL, &out, &err_text, error))
		return NULL;
	if (!g_subprocess_get_successful(p)) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s --describe %s failed: %s",
		            program, protocol, err_text != NULL ? g_strstrip(err_text) : "");
		return NULL;
	}
	struct worker_description *d = worker_description_parse(out, error);
	if (d == NULL)
		g_prefix_error(error,
		               "%s --describe %s printed an unreadable description: ", program,
		               protocol);
	return d;
}

struct worker_description *workers_describe(const char *program, const char *protocol,
                                            const struct worker_user *user, GError **error)
{
	/* As the workers run: as the worker user, in a private directory of
	 * its own (libpurple starts there), never in ferry's. */
	g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new(
	    G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE);
	g_autofree char *tmpdir = NULL;
	if (user != NULL && user->switch_user) {
		tmpdir = g_dir_make_tmp("ferry-describe-XXXXXX", error);
		if (tmpdir == NULL)
			return NULL;
		if (!worker_user_prepare_dir(user->uid, user->gid, true, tmpdir, error)) {
			workers_remove_tree(tmpdir);
			return NULL;
		}
		g_subprocess_launcher_setenv(launcher, "TMPDIR", tmpdir, TRUE);
		g_subprocess_launcher_set_child_setup(launcher, worker_user_child_setup,
		                                      (gpointer)user, NULL);
	}
	g_subprocess_launcher_set_cwd(launcher, tmpdir != NULL ? tmpdir : g_get_tmp_dir());
	struct worker_description *d = describe_in(launcher, program, protocol, error);
	if (tmpdir != NULL)
		workers_remove_tree(tmpdir);
	return d;
}
