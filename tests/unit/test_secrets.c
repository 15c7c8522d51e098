/* Unit tests for secrets: sealing round trips, every way a sealed value can
 * be damaged or misused failing cleanly, and the key file's creation,
 * reuse and refusals. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "ferry/secrets.h"

#define ALICE "alice@example.org"
#define BOB "bob@example.org"
#define OVERHEAD (1 + 12 + 16)

/* g_memdup2() needs GLib 2.68; ferry supports 2.66. */
static guint8 *dup_bytes(const guint8 *data, gsize len)
{
	guint8 *copy = g_malloc(len);
	memcpy(copy, data, len);
	return copy;
}

static struct secrets *secrets_with_key_byte(guint8 first)
{
	guint8 key[SECRETS_KEY_BYTES];
	for (int i = 0; i < SECRETS_KEY_BYTES; i++)
		key[i] = (guint8)(first + i);
	return secrets_new_from_key(key);
}

static GBytes *seal_str(struct secrets *s, const char *owner, const char *text)
{
	GBytes *sealed = secrets_seal(s, owner, text, strlen(text));
	g_assert_nonnull(sealed);
	return sealed;
}

/* Asserts that SEALED does not open for OWNER, with a decrypt error. */
static void assert_open_fails(struct secrets *s, const char *owner, GBytes *sealed)
{
	g_autoptr(GError) err = NULL;
	char *text = secrets_open_string(s, owner, sealed, &err);
	g_assert_null(text);
	g_assert_error(err, SECRETS_ERROR, SECRETS_ERROR_DECRYPT);
}

static void test_round_trip(void)
{
	struct secrets *s = secrets_with_key_byte(1);
	const char *plain = "correct horse battery staple";
	g_autoptr(GBytes) sealed = seal_str(s, ALICE, plain);

	gsize len;
	const guint8 *data = g_bytes_get_data(sealed, &len);
	g_assert_cmpuint(len, ==, OVERHEAD + strlen(plain));
	g_assert_cmpuint(data[0], ==, 0x01);
	/* The plaintext does not appear in the sealed bytes. */
	for (gsize i = 0; i + 5 <= len; i++)
		g_assert_cmpint(memcmp(data + i, "horse", 5), !=, 0);

	g_autoptr(GError) err = NULL;
	char *text = secrets_open_string(s, ALICE, sealed, &err);
	g_assert_no_error(err);
	g_assert_cmpstr(text, ==, "correct horse battery staple");
	secrets_wipe_free(text);

	/* The empty string is a value too. */
	g_autoptr(GBytes) empty = secrets_seal(s, ALICE, "", 0);
	g_assert_cmpuint(g_bytes_get_size(empty), ==, OVERHEAD);
	text = secrets_open_string(s, ALICE, empty, &err);
	g_assert_no_error(err);
	g_assert_cmpstr(text, ==, "");
	secrets_wipe_free(text);

	secrets_wipe_free(NULL);
	secrets_free(s);
	secrets_free(NULL);
}

static void test_tamper(void)
{
	struct secrets *s = secrets_with_key_byte(1);
	g_autoptr(GBytes) sealed = seal_str(s, ALICE, "hunter2");
	gsize len;
	const guint8 *orig = g_bytes_get_data(sealed, &len);

	/* Every byte: version, nonce, ciphertext and tag, with two masks. */
	const guint8 masks[] = {0x01, 0x80};
	for (gsize i = 0; i < len; i++) {
		for (gsize m = 0; m < G_N_ELEMENTS(masks); m++) {
			guint8 *copy = dup_bytes(orig, len);
			copy[i] ^= masks[m];
			g_autoptr(GBytes) bad = g_bytes_new_take(copy, len);
			assert_open_fails(s, ALICE, bad);
		}
	}

	/* The untouched value still opens. */
	g_autoptr(GError) err = NULL;
	char *text = secrets_open_string(s, ALICE, sealed, &err);
	g_assert_no_error(err);
	g_assert_cmpstr(text, ==, "hunter2");
	secrets_wipe_free(text);
	secrets_free(s);
}

static void test_truncate(void)
{
	struct secrets *s = secrets_with_key_byte(1);
	g_autoptr(GBytes) sealed = seal_str(s, ALICE, "hunter2");
	gsize len;
	const guint8 *orig = g_bytes_get_data(sealed, &len);

	for (gsize cut = 0; cut < len; cut++) {
		g_autoptr(GBytes) head = g_bytes_new(orig, cut);
		assert_open_fails(s, ALICE, head);
		/* Dropping bytes from the front fails too. */
		g_autoptr(GBytes) tail = g_bytes_new(orig + len - cut, cut);
		assert_open_fails(s, ALICE, tail);
	}
	/* So does an extra byte at the end. */
	guint8 *longer = g_malloc(len + 1);
	memcpy(longer, orig, len);
	longer[len] = 0;
	g_autoptr(GBytes) extended = g_bytes_new_take(longer, len + 1);
	assert_open_fails(s, ALICE, extended);

	/* The error for a short value says so, and nothing secret. */
	g_autoptr(GBytes) three = g_bytes_new(orig, 3);
	g_autoptr(GError) err = NULL;
	g_assert_null(secrets_open_string(s, ALICE, three, &err));
	g_assert_cmpstr(err->message, ==,
	                "cannot open a sealed value of alice@example.org: it is truncated");
	secrets_free(s);
}

static void test_version(void)
{
	struct secrets *s = secrets_with_key_byte(1);
	g_autoptr(GBytes) sealed = seal_str(s, ALICE, "hunter2");
	gsize len;
	const guint8 *orig = g_bytes_get_data(sealed, &len);
	guint8 *copy = dup_bytes(orig, len);
	copy[0] = 0x02;
	g_autoptr(GBytes) bad = g_bytes_new_take(copy, len);

	g_autoptr(GError) err = NULL;
	g_assert_null(secrets_open_string(s, ALICE, bad, &err));
	g_assert_error(err, SECRETS_ERROR, SECRETS_ERROR_DECRYPT);
	g_assert_cmpstr(err->message, ==,
	                "cannot open a sealed value of alice@example.org: unknown format "
	                "version 2");
	secrets_free(s);
}

static void test_owner_swap(void)
{
	struct secrets *s = secrets_with_key_byte(1);
	g_autoptr(GBytes) alices = seal_str(s, ALICE, "alice's password");
	g_autoptr(GBytes) bobs = seal_str(s, BOB, "bob's password");

	assert_open_fails(s, BOB, alices);
	assert_open_fails(s, ALICE, bobs);
	/* The owner is compared byte for byte. */
	assert_open_fails(s, "Alice@example.org", alices);
	assert_open_fails(s, "alice@example.org/resource", alices);
	assert_open_fails(s, "", alices);

	g_autoptr(GError) err = NULL;
	char *text = secrets_open_string(s, BOB, bobs, &err);
	g_assert_no_error(err);
	g_assert_cmpstr(text, ==, "bob's password");
	secrets_wipe_free(text);
	secrets_free(s);
}

static void test_wrong_key(void)
{
	struct secrets *s1 = secrets_with_key_byte(1);
	struct secrets *s2 = secrets_with_key_byte(2);
	g_autoptr(GBytes) sealed = seal_str(s1, ALICE, "hunter2");
	assert_open_fails(s2, ALICE, sealed);
	secrets_free(s1);
	secrets_free(s2);
}

static void test_nonce(void)
{
	struct secrets *s = secrets_with_key_byte(1);
	g_autoptr(GBytes) a = seal_str(s, ALICE, "same text");
	g_autoptr(GBytes) b = seal_str(s, ALICE, "same text");
	g_assert_false(g_bytes_equal(a, b));
	/* Different nonces, not just different tags. */
	const guint8 *da = g_bytes_get_data(a, NULL);
	const guint8 *db = g_bytes_get_data(b, NULL);
	g_assert_cmpint(memcmp(da + 1, db + 1, 12), !=, 0);
	secrets_free(s);
}

static void test_not_a_string(void)
{
	struct secrets *s = secrets_with_key_byte(1);
	g_autoptr(GBytes) sealed = secrets_seal(s, ALICE, "a\0b", 3);
	assert_open_fails(s, ALICE, sealed);
	secrets_free(s);
}

/* ---- key file ----------------------------------------------------------- */

static char *make_tmp_dir(void)
{
	g_autoptr(GError) err = NULL;
	char *dir = g_dir_make_tmp("ferry-test-secrets-XXXXXX", &err);
	g_assert_no_error(err);
	return dir;
}

/* Removes DIR and the files (and empty directories) directly in it. */
static void remove_tmp_dir(char *dir)
{
	GDir *d = g_dir_open(dir, 0, NULL);
	g_assert_nonnull(d);
	const char *name;
	while ((name = g_dir_read_name(d)) != NULL) {
		g_autofree char *path = g_build_filename(dir, name, NULL);
		if (g_file_test(path, G_FILE_TEST_IS_DIR))
			g_assert_cmpint(g_rmdir(path), ==, 0);
		else
			g_assert_cmpint(g_unlink(path), ==, 0);
	}
	g_dir_close(d);
	g_assert_cmpint(g_rmdir(dir), ==, 0);
	g_free(dir);
}

static void write_file(const char *path, const void *data, size_t len, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	g_assert_cmpint(fd, >=, 0);
	g_assert_cmpint(write(fd, data, len), ==, (ssize_t)len);
	g_assert_cmpint(fchmod(fd, mode), ==, 0);
	g_assert_cmpint(close(fd), ==, 0);
}

static void test_key_file_create(void)
{
	char *dir = make_tmp_dir();
	g_autofree char *path = g_build_filename(dir, "ferry.key", NULL);
	g_autoptr(GError) err = NULL;

	mode_t old_umask = umask(0); /* the mode must not depend on the umask */
	struct secrets *s = secrets_open(path, true, &err);
	umask(old_umask);
	g_assert_no_error(err);
	g_assert_nonnull(s);

	struct stat st;
	g_assert_cmpint(lstat(path, &st), ==, 0);
	g_assert_true(S_ISREG(st.st_mode));
	g_assert_cmpuint(st.st_mode & 07777, ==, 0600);
	g_assert_cmpint(st.st_size, ==, 32);

	g_autofree char *key1 = NULL;
	gsize key1_len;
	g_assert_true(g_file_get_contents(path, &key1, &key1_len, NULL));
	g_assert_cmpuint(key1_len, ==, 32);

	g_autoptr(GBytes) sealed = seal_str(s, ALICE, "sealed before reopen");
	secrets_free(s);

	/* Reopening uses the same file and key. */
	s = secrets_open(path, true, &err);
	g_assert_no_error(err);
	char *text = secrets_open_string(s, ALICE, sealed, &err);
	g_assert_no_error(err);
	g_assert_cmpstr(text, ==, "sealed before reopen");
	secrets_wipe_free(text);
	secrets_free(s);

	g_autofree char *key2 = NULL;
	gsize key2_len;
	g_assert_true(g_file_get_contents(path, &key2, &key2_len, NULL));
	g_assert_cmpmem(key1, key1_len, key2, key2_len);

	/* The file's bytes are the key. */
	s = secrets_new_from_key((const guint8 *)key1);
	text = secrets_open_string(s, ALICE, sealed, &err);
	g_assert_no_error(err);
	g_assert_cmpstr(text, ==, "sealed before reopen");
	secrets_wipe_free(text);
	secrets_free(s);

	/* A second key file gets a different random key. */
	g_autofree char *other = g_build_filename(dir, "other.key", NULL);
	s = secrets_open(other, true, &err);
	g_assert_no_error(err);
	assert_open_fails(s, ALICE, sealed);
	secrets_free(s);

	remove_tmp_dir(dir);
}

static void test_key_file_missing_not_created(void)
{
	char *dir = make_tmp_dir();
	g_autofree char *path = g_build_filename(dir, "ferry.key", NULL);
	g_autoptr(GError) err = NULL;
	g_assert_null(secrets_open(path, false, &err));
	g_assert_error(err, SECRETS_ERROR, SECRETS_ERROR_KEY_MISSING);
	g_autofree char *expected = g_strdup_printf("%s: the key file is missing", path);
	g_assert_cmpstr(err->message, ==, expected);
	g_assert_false(g_file_test(path, G_FILE_TEST_EXISTS));
	g_clear_error(&err);

	/* An existing key is read either way, and names its file. */
	struct secrets *s = secrets_open(path, true, &err);
	g_assert_no_error(err);
	g_assert_cmpstr(secrets_key_file(s), ==, path);
	secrets_free(s);
	s = secrets_open(path, false, &err);
	g_assert_no_error(err);
	secrets_free(s);
	remove_tmp_dir(dir);
}

static void test_key_file_too_open(void)
{
	char *dir = make_tmp_dir();
	g_autofree char *path = g_build_filename(dir, "ferry.key", NULL);
	guint8 key[32] = {0};
	const mode_t modes[] = {0644, 0640, 0604, 0620, 0602, 0660};

	for (gsize i = 0; i < G_N_ELEMENTS(modes); i++) {
		write_file(path, key, sizeof key, modes[i]);
		g_autoptr(GError) err = NULL;
		g_assert_null(secrets_open(path, true, &err));
		g_assert_error(err, SECRETS_ERROR, SECRETS_ERROR_KEY_FILE);
		g_autofree char *expected = g_strdup_printf(
		    "%s: the key file may be read or written by group or others (mode %04o); "
		    "run: chmod 600 %s",
		    path, (unsigned)modes[i], path);
		g_assert_cmpstr(err->message, ==, expected);
	}
	/* The file is left alone, and 0400 is fine. */
	struct stat st;
	g_assert_cmpint(stat(path, &st), ==, 0);
	g_assert_cmpuint(st.st_mode & 07777, ==, 0660);
	g_assert_cmpint(chmod(path, 0400), ==, 0);
	g_autoptr(GError) err = NULL;
	struct secrets *s = secrets_open(path, true, &err);
	g_assert_no_error(err);
	secrets_free(s);

	remove_tmp_dir(dir);
}

static void test_key_file_wrong_size(void)
{
	char *dir = make_tmp_dir();
	g_autofree char *path = g_build_filename(dir, "ferry.key", NULL);
	guint8 key[33] = {0};
	const size_t sizes[] = {0, 1, 31, 33};

	for (gsize i = 0; i < G_N_ELEMENTS(sizes); i++) {
		write_file(path, key, sizes[i], 0600);
		g_autoptr(GError) err = NULL;
		g_assert_null(secrets_open(path, true, &err));
		g_assert_error(err, SECRETS_ERROR, SECRETS_ERROR_KEY_FILE);
		g_autofree char *expected = g_strdup_printf(
		    "%s: the key file is %zu bytes, not 32; restore the original file (a new "
		    "key cannot open what the old one sealed)",
		    path, sizes[i]);
		g_assert_cmpstr(err->message, ==, expected);
		/* Never "repaired" by overwriting. */
		struct stat st;
		g_assert_cmpint(stat(path, &st), ==, 0);
		g_assert_cmpint(st.st_size, ==, (off_t)sizes[i]);
	}
	remove_tmp_dir(dir);
}

static void test_key_file_not_regular(void)
{
	char *dir = make_tmp_dir();
	g_autofree char *path = g_build_filename(dir, "ferry.key", NULL);
	g_assert_cmpint(g_mkdir(path, 0700), ==, 0);

	g_autoptr(GError) err = NULL;
	g_assert_null(secrets_open(path, true, &err));
	g_assert_error(err, SECRETS_ERROR, SECRETS_ERROR_KEY_FILE);
	g_autofree char *expected = g_strdup_printf("%s: the key file is not a regular file", path);
	g_assert_cmpstr(err->message, ==, expected);
	remove_tmp_dir(dir);
}

static void test_key_file_no_dir(void)
{
	char *dir = make_tmp_dir();
	g_autofree char *missing = g_build_filename(dir, "missing", NULL);
	g_autofree char *path = g_build_filename(missing, "ferry.key", NULL);

	g_autoptr(GError) err = NULL;
	g_assert_null(secrets_open(path, true, &err));
	g_assert_error(err, SECRETS_ERROR, SECRETS_ERROR_KEY_FILE);
	g_autofree char *expected =
	    g_strdup_printf("%s: cannot create the key file: %s (create its directory first)", path,
	                    g_strerror(ENOENT));
	g_assert_cmpstr(err->message, ==, expected);
	g_assert_false(g_file_test(missing, G_FILE_TEST_EXISTS));
	remove_tmp_dir(dir);
}

/* A symlink in the key's place is refused, not followed (it would let
 * whoever controls the link choose the key). */
static void test_key_file_symlink(void)
{
	char *dir = make_tmp_dir();
	g_autofree char *real = g_build_filename(dir, "real.key", NULL);
	g_autofree char *path = g_build_filename(dir, "ferry.key", NULL);
	guint8 key[32] = {7};
	write_file(real, key, sizeof key, 0600);
	g_assert_cmpint(symlink(real, path), ==, 0);
	g_autoptr(GError) err = NULL;
	g_assert_null(secrets_open(path, true, &err));
	g_assert_error(err, SECRETS_ERROR, SECRETS_ERROR_KEY_FILE);
	g_autofree char *expected = g_strdup_printf(
	    "%s: the key file is a symbolic link, which ferry does not follow (anyone who can "
	    "change the link could give it another key): put the file itself there",
	    path);
	g_assert_cmpstr(err->message, ==, expected);
	g_clear_error(&err);
	/* a dangling one is not "missing" either: no key is created through it */
	g_assert_cmpint(g_unlink(real), ==, 0);
	g_assert_null(secrets_open(path, true, &err));
	g_assert_error(err, SECRETS_ERROR, SECRETS_ERROR_KEY_FILE);
	g_assert_false(g_file_test(real, G_FILE_TEST_EXISTS));
	remove_tmp_dir(dir);
}

/* A key file of another user is refused (as root, which can make one). */
static void test_key_file_owner(void)
{
	if (geteuid() != 0) {
		g_test_skip("needs root to give a file to another user");
		return;
	}
	char *dir = make_tmp_dir();
	g_autofree char *path = g_build_filename(dir, "ferry.key", NULL);
	guint8 key[32] = {0};
	write_file(path, key, sizeof key, 0600);
	g_assert_cmpint(chown(path, 4242, 4242), ==, 0);
	g_autoptr(GError) err = NULL;
	g_assert_null(secrets_open(path, true, &err));
	g_assert_error(err, SECRETS_ERROR, SECRETS_ERROR_KEY_FILE);
	g_autofree char *expected = g_strdup_printf(
	    "%s: the key file belongs to uid 4242, not to ferry's user (uid 0), who alone may "
	    "hold it; run: chown 0 %s",
	    path, path);
	g_assert_cmpstr(err->message, ==, expected);
	remove_tmp_dir(dir);
}

/* A directory others may write lets them swap the key: refused, with a
 * key in it or not. */
static void test_key_file_dir_writable(void)
{
	char *dir = make_tmp_dir();
	g_autofree char *path = g_build_filename(dir, "ferry.key", NULL);
	guint8 key[32] = {0};
	write_file(path, key, sizeof key, 0600);
	const mode_t modes[] = {0777, 01777, 0770, 0702};
	for (gsize i = 0; i < G_N_ELEMENTS(modes); i++) {
		g_assert_cmpint(chmod(dir, modes[i]), ==, 0);
		for (int create = 0; create < 2; create++) {
			g_autoptr(GError) err = NULL;
			g_assert_null(secrets_open(path, create, &err));
			g_assert_error(err, SECRETS_ERROR, SECRETS_ERROR_KEY_FILE);
			g_autofree char *expected = g_strdup_printf(
			    "%s: the key file's directory %s may be written by group or others "
			    "(mode %04o), who could replace the key; keep the key in a directory "
			    "only ferry's user writes (chmod go-w %s, or move the key)",
			    path, dir, (unsigned)modes[i], dir);
			g_assert_cmpstr(err->message, ==, expected);
		}
	}
	/* read and search for others is fine */
	g_assert_cmpint(chmod(dir, 0755), ==, 0);
	g_autoptr(GError) err = NULL;
	struct secrets *s = secrets_open(path, false, &err);
	g_assert_no_error(err);
	secrets_free(s);
	remove_tmp_dir(dir);
}

/* The flags of the mapping holding P in /proc/self/smaps ("rd wr mr dd"). */
static char *vm_flags_of(const void *p)
{
	g_autofree char *smaps = NULL;
	g_assert_true(g_file_get_contents("/proc/self/smaps", &smaps, NULL, NULL));
	g_auto(GStrv) lines = g_strsplit(smaps, "\n", -1);
	bool inside = false;
	for (gsize i = 0; lines[i] != NULL; i++) {
		unsigned long lo, hi;
		if (sscanf(lines[i], "%lx-%lx ", &lo, &hi) == 2 && strchr(lines[i], ':') != NULL &&
		    !g_str_has_prefix(lines[i], "VmFlags"))
			inside = (uintptr_t)p >= lo && (uintptr_t)p < hi;
		else if (inside && g_str_has_prefix(lines[i], "VmFlags:"))
			return g_strdup(lines[i] + strlen("VmFlags:"));
	}
	return NULL;
}

/* Secrets live in pages of their own, left out of core dumps, wiped and
 * unmapped when freed: the key, opened values, strdup'd ones. */
static void test_secure_memory(void)
{
	guint8 *p = secrets_secure_alloc(100);
	g_assert_nonnull(p);
	for (int i = 0; i < 100; i++)
		g_assert_cmpuint(p[i], ==, 0);
	memset(p, 0xa5, 100);
	g_assert_true(secrets_secure_is(p));
	g_autofree char *flags = vm_flags_of(p);
	g_assert_nonnull(flags);
	g_assert_nonnull(strstr(flags, " dd")); /* MADV_DONTDUMP */
	secrets_secure_free(p);
	g_assert_false(secrets_secure_is(p));
	g_autofree char *gone = vm_flags_of(p);
	g_assert_null(gone); /* unmapped */

	/* more than a page */
	guint8 *big = secrets_secure_alloc(3 * 4096 + 5);
	big[3 * 4096 + 4] = 1;
	secrets_secure_free(big);

	/* the key */
	struct secrets *s = secrets_with_key_byte(9);
	g_assert_true(secrets_secure_is(s));
	g_autofree char *kflags = vm_flags_of(s);
	g_assert_nonnull(strstr(kflags, " dd"));

	/* an opened value, and a copy; secrets_wipe_free takes both, and
	 * still a g_malloc'd string */
	g_autoptr(GBytes) sealed = seal_str(s, ALICE, "the password");
	g_autoptr(GError) err = NULL;
	char *text = secrets_open_string(s, ALICE, sealed, &err);
	g_assert_no_error(err);
	g_assert_true(secrets_secure_is(text));
	secrets_wipe_free(text);
	g_assert_false(secrets_secure_is(text));
	char *copy = secrets_secure_strdup("component secret");
	g_assert_cmpstr(copy, ==, "component secret");
	g_assert_true(secrets_secure_is(copy));
	secrets_wipe_free(copy);
	secrets_wipe_free(g_strdup("plain heap"));
	g_assert_null(secrets_secure_strdup(NULL));
	secrets_free(s);
}

/* A mapping that fails (ENOMEM, vm.max_map_count) costs a warning, once,
 * and the secret goes on the heap, zeroed and wiped the same way: ferry
 * does not abort. */
static void test_secure_fallback(void)
{
	secrets_secure_fail_maps(3);
	g_test_expect_message("ferry", G_LOG_LEVEL_WARNING, "secrets: cannot map 4096 bytes*");
	guint8 *p = secrets_secure_alloc(100);
	g_test_assert_expected_messages();
	g_assert_nonnull(p);
	for (int i = 0; i < 100; i++)
		g_assert_cmpuint(p[i], ==, 0);
	memset(p, 0xa5, 100);
	g_assert_true(secrets_secure_is(p));
	g_assert_false(secrets_secure_mapped(p));
	/* no second warning (a fatal one would end the test here) */
	struct secrets *s = secrets_with_key_byte(9);
	g_assert_true(secrets_secure_is(s));
	g_assert_false(secrets_secure_mapped(s));
	g_autoptr(GBytes) sealed = seal_str(s, ALICE, "the password");
	g_autoptr(GError) err = NULL;
	char *text = secrets_open_string(s, ALICE, sealed, &err);
	g_assert_no_error(err);
	g_assert_cmpstr(text, ==, "the password");
	g_assert_false(secrets_secure_mapped(text));
	secrets_wipe_free(text);
	secrets_secure_free(p);
	g_assert_false(secrets_secure_is(p));
	/* mapping works again: pages of their own again */
	char *copy = secrets_secure_strdup("component secret");
	g_assert_true(secrets_secure_mapped(copy));
	secrets_wipe_free(copy);
	secrets_free(s);
}

/* Bulk values (queued texts) open on the heap, not one mapping each. */
static void test_open_text_heap(void)
{
	struct secrets *s = secrets_with_key_byte(4);
	g_autoptr(GBytes) sealed = seal_str(s, ALICE, "a queued message");
	g_autoptr(GError) err = NULL;
	char *text = secrets_open_text(s, ALICE, sealed, &err);
	g_assert_no_error(err);
	g_assert_cmpstr(text, ==, "a queued message");
	g_assert_false(secrets_secure_is(text));
	secrets_wipe_free(text);
	/* and refused like the other when it does not open */
	g_assert_null(secrets_open_text(s, "bob@example.org", sealed, &err));
	g_assert_error(err, SECRETS_ERROR, SECRETS_ERROR_DECRYPT);
	secrets_free(s);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/secrets/round-trip", test_round_trip);
	g_test_add_func("/secrets/secure-fallback", test_secure_fallback);
	g_test_add_func("/secrets/open-text-heap", test_open_text_heap);
	g_test_add_func("/secrets/tamper", test_tamper);
	g_test_add_func("/secrets/truncate", test_truncate);
	g_test_add_func("/secrets/version", test_version);
	g_test_add_func("/secrets/owner-swap", test_owner_swap);
	g_test_add_func("/secrets/wrong-key", test_wrong_key);
	g_test_add_func("/secrets/nonce", test_nonce);
	g_test_add_func("/secrets/not-a-string", test_not_a_string);
	g_test_add_func("/secrets/key-file/create", test_key_file_create);
	g_test_add_func("/secrets/key-file/missing-not-created", test_key_file_missing_not_created);
	g_test_add_func("/secrets/key-file/too-open", test_key_file_too_open);
	g_test_add_func("/secrets/key-file/wrong-size", test_key_file_wrong_size);
	g_test_add_func("/secrets/key-file/not-regular", test_key_file_not_regular);
	g_test_add_func("/secrets/key-file/no-dir", test_key_file_no_dir);
	g_test_add_func("/secrets/key-file/symlink", test_key_file_symlink);
	g_test_add_func("/secrets/key-file/owner", test_key_file_owner);
	g_test_add_func("/secrets/key-file/dir-writable", test_key_file_dir_writable);
	g_test_add_func("/secrets/secure-memory", test_secure_memory);
	return g_test_run();
}
