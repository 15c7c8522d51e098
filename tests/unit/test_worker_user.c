/* Unit tests for worker_user: which user the workers run as (as root a
 * user of their own, never root; as anyone else ferry's own user), and
 * the private directory that user must be able to reach. */
#include "config.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ferry/worker_user.h"

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

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/worker_user/resolve", test_resolve);
	g_test_add_func("/worker_user/prepare-dir", test_prepare_dir);
	return g_test_run();
}
