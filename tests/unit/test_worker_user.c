/* Unit tests for worker_user: which user the workers run as (as root a
 * user of their own, never root; as anyone else ferry's own user), and
 * the private directory that user must be able to reach. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ferry/worker_user.h"
#include "../../src/legacy/workers_internal.h"

static void test_resolve(void)
{
	struct worker_user u;
	g_autoptr(GError) err = NULL;
	if (geteuid() != 0) {
		/* not root: ferry's own user, and no other may be named */
		g_assert_true(worker_user_resolve(NULL, &u, &err));
		g_assert_false(u.switch_user);
		g_assert_cmpuint(u.uid, ==, geteuid());
		g_assert_false(worker_user_resolve("root", &u, &err));
		g_assert_error(err, G_FILE_ERROR, G_FILE_ERROR_PERM);
		return;
	}
	/* root: a missing user is an error with the fix */
	g_assert_false(worker_user_resolve("ferry-no-such-user", &u, &err));
	g_assert_error(err, G_FILE_ERROR, G_FILE_ERROR_NOENT);
	g_assert_cmpstr(err->message, ==,
	                "[workers] user: there is no user 'ferry-no-such-user' on this system, "
	                "and ferry runs as root, which it does not run workers as: create it "
	                "(useradd --system --no-create-home --shell /usr/sbin/nologin "
	                "ferry-no-such-user) or name another unprivileged user in [workers] user");
	g_clear_error(&err);
	/* root itself is refused */
	g_assert_false(worker_user_resolve("root", &u, &err));
	g_assert_error(err, G_FILE_ERROR, G_FILE_ERROR_PERM);
	g_clear_error(&err);
	/* an ordinary user: switch to it */
	const struct passwd *pw = getpwnam("nobody");
	if (pw == NULL) {
		g_test_skip("no user nobody");
		return;
	}
	g_assert_true(worker_user_resolve("nobody", &u, &err));
	g_assert_no_error(err);
	g_assert_true(u.switch_user);
	g_assert_cmpuint(u.uid, ==, pw->pw_uid);
	g_assert_cmpuint(u.gid, ==, pw->pw_gid);
	g_assert_cmpstr(u.name, ==, "nobody");
}

/* The private dir is given to the user, once every directory above it
 * lets the user through. */
static void test_prepare_dir(void)
{
	g_autoptr(GError) err = NULL;
	/* no switch: nothing to do */
	g_assert_true(worker_user_prepare_dir(0, 0, false, "/nonexistent/x", &err));
	if (geteuid() != 0) {
		g_test_skip("needs root to give a directory to another user");
		return;
	}
	char *top = g_dir_make_tmp("ferry-test-wu-XXXXXX", &err); /* 0700 */
	g_assert_no_error(err);
	g_autofree char *priv = g_build_filename(top, "w", NULL);
	g_assert_cmpint(g_mkdir(priv, 0700), ==, 0);
	g_assert_false(worker_user_prepare_dir(4242, 4242, true, priv, &err));
	g_assert_error(err, G_FILE_ERROR, G_FILE_ERROR_PERM);
	g_autofree char *expected = g_strdup_printf(
	    "the worker user (uid 4242) cannot reach its private directory under %s (mode 0700): "
	    "make it searchable by others (chmod o+x %s), or set TMPDIR to a directory such as "
	    "/tmp",
	    top, top);
	g_assert_cmpstr(err->message, ==, expected);
	g_clear_error(&err);
	g_assert_cmpint(chmod(top, 0711), ==, 0);
	g_assert_true(worker_user_prepare_dir(4242, 4243, true, priv, &err));
	g_assert_no_error(err);
	struct stat st;
	g_assert_cmpint(stat(priv, &st), ==, 0);
	g_assert_cmpuint(st.st_uid, ==, 4242);
	g_assert_cmpuint(st.st_gid, ==, 4243);
	g_assert_cmpuint(st.st_mode & 07777, ==, 0700);
	g_assert_cmpint(g_rmdir(priv), ==, 0);
	g_assert_cmpint(g_rmdir(top), ==, 0);
	g_free(top);
}

/* ---- removing a worker's private directory ---------------------------------- */

struct swapper {
	char *a, *b; /* two names swapped with RENAME_EXCHANGE */
	gint stop;
	gint swaps;
};

/* What a worker's surviving child does while ferry cleans up: swaps its
 * subdirectory and a symlink to somewhere outside, over and over, until
 * one of the two names is gone (removed) or it is told to stop. */
static gpointer swap_loop(gpointer data)
{
	struct swapper *s = data;
	for (guint i = 0; i < 2000000 && !g_atomic_int_get(&s->stop); i++) {
		if (renameat2(AT_FDCWD, s->a, AT_FDCWD, s->b, RENAME_EXCHANGE) != 0)
			break;
		g_atomic_int_inc(&s->swaps);
	}
	return NULL;
}

/* A subdirectory replaced by a symlink to a directory outside, while the
 * tree is being removed, must cost the files outside nothing: the link
 * is unlinked, never followed. Many rounds, since it is a race. */
static void test_remove_tree_symlink_race(void)
{
	g_autoptr(GError) err = NULL;
	g_autofree char *base = g_dir_make_tmp("ferry-test-rm-XXXXXX", &err);
	g_assert_no_error(err);
	g_autofree char *outside = g_build_filename(base, "outside", NULL);
	g_assert_cmpint(g_mkdir(outside, 0700), ==, 0);
	guint rounds = 0, swaps = 0;
	gint64 until = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;
	/* a name the race made the removal miss is reported, not an error */
	g_log_set_handler("ferry", G_LOG_LEVEL_MESSAGE, g_log_default_handler, NULL);
	for (; rounds < 300 && g_get_monotonic_time() < until; rounds++) {
		/* outside: files that must survive */
		for (int i = 0; i < 8; i++) {
			g_autofree char *f = g_strdup_printf("%s/keep%d", outside, i);
			g_assert_true(g_file_set_contents(f, "x", 1, NULL));
		}
		g_autofree char *tree = g_build_filename(base, "tree", NULL);
		g_autofree char *sub = g_build_filename(tree, "sub", NULL);
		g_autofree char *link = g_build_filename(tree, "link", NULL);
		g_assert_cmpint(g_mkdir_with_parents(sub, 0700), ==, 0);
		for (int i = 0; i < 8; i++) {
			g_autofree char *f = g_strdup_printf("%s/junk%d", sub, i);
			g_assert_true(g_file_set_contents(f, "y", 1, NULL));
		}
		g_assert_cmpint(symlink(outside, link), ==, 0);
		struct swapper s = {.a = sub, .b = link};
		GThread *t = g_thread_new("swap", swap_loop, &s);
		/* start removing once the swapping runs (bounded wait) */
		for (int w = 0; w < 1000 && g_atomic_int_get(&s.swaps) == 0; w++)
			g_usleep(1000);
		workers_remove_tree(tree);
		g_atomic_int_set(&s.stop, 1);
		g_thread_join(t);
		swaps += (guint)g_atomic_int_get(&s.swaps);
		for (int i = 0; i < 8; i++) {
			g_autofree char *f = g_strdup_printf("%s/keep%d", outside, i);
			if (!g_file_test(f, G_FILE_TEST_EXISTS))
				g_error("round %u: %s was removed through the symlink", rounds, f);
		}
		/* racing, a name may have been missed; without a race, nothing */
		workers_remove_tree(tree);
		g_assert_false(g_file_test(tree, G_FILE_TEST_EXISTS));
		g_assert_false(g_file_test(tree, G_FILE_TEST_IS_SYMLINK));
	}
	g_test_message("%u rounds, %u swaps", rounds, swaps);
	g_assert_cmpuint(rounds, >, 0);
	/* a plain tree with a symlink in it, no race: link gone, target kept */
	g_autofree char *tree = g_build_filename(base, "tree2", NULL);
	g_autofree char *deep = g_build_filename(tree, "a", "b", "c", NULL);
	g_assert_cmpint(g_mkdir_with_parents(deep, 0700), ==, 0);
	g_autofree char *link = g_build_filename(deep, "out", NULL);
	g_assert_cmpint(symlink(outside, link), ==, 0);
	workers_remove_tree(tree);
	g_assert_false(g_file_test(tree, G_FILE_TEST_EXISTS));
	g_autofree char *keep = g_build_filename(outside, "keep0", NULL);
	g_assert_true(g_file_test(keep, G_FILE_TEST_EXISTS));
	workers_remove_tree(base);
	g_assert_false(g_file_test(base, G_FILE_TEST_EXISTS));
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/worker_user/resolve", test_resolve);
	g_test_add_func("/worker_user/prepare-dir", test_prepare_dir);
	g_test_add_func("/worker_user/remove-tree-symlink-race", test_remove_tree_symlink_race);
	return g_test_run();
}
