/* purple_core: libpurple without a user interface, in the order verified on
 * Debian 12 (docs/libpurple-headless.md §3): environment, a private user
 * dir, CA search path, then purple_core_init with ui ops that keep
 * libpurple from logging, saving, mapping ports or reaching D-Bus. */
#include "config.h"
#include "worker.h"

#include <errno.h>
#include <ftw.h>
#include <malloc.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

static char *user_dir;      /* private libpurple user dir, removed at quit */
static GHashTable *ui_info; /* what purple_core_get_ui_info() returns */
static bool debug_enabled;  /* --debug */
static bool core_running;   /* purple_core_init succeeded */

/* The event loop ui ops are loop.c's. */

/* ---- debug: the log at level debug, and only with --debug ---------------- */

static void debug_print(PurpleDebugLevel level, const char *category, const char *arg)
{
	/* Through the log writer, which drops arg's final newline and escapes
	 * the inner ones (a multi-line protocol dump stays one entry). */
	g_debug("purple %s: %s", category != NULL ? category : "-", arg);
}

static gboolean debug_is_enabled(PurpleDebugLevel level, const char *category)
{
	return debug_enabled;
}

static PurpleDebugUiOps debug_ops = {
    .print = debug_print,
    .is_enabled = debug_is_enabled,
};

static void debug_ui_init(void)
{
	/* The built-in printer writes to stdout; ours goes to stderr. */
	purple_debug_set_enabled(FALSE);
	purple_debug_set_ui_ops(&debug_ops);
}

/* ---- prefs: set before the subsystems that read them are initialized ----- */

static void prefs_init(void)
{
	/* set, not add: purple_prefs_init has added some of these already
	 * (away_when_idle TRUE, idle_reporting "system", auto_reply), and
	 * add never overwrites */
	purple_prefs_add_none("/purple/network");
	purple_prefs_set_bool("/purple/network/map_ports", FALSE); /* no UPnP / NAT-PMP */
	purple_prefs_set_bool("/purple/network/auto_ip", FALSE);   /* no STUN / get_my_ip */
	purple_prefs_add_none("/purple/logging");
	purple_prefs_set_bool("/purple/logging/log_ims", FALSE); /* default TRUE */
	purple_prefs_set_bool("/purple/logging/log_chats", FALSE);
	purple_prefs_set_bool("/purple/logging/log_system", FALSE);
	purple_prefs_add_none("/purple/away");
	purple_prefs_set_bool("/purple/away/away_when_idle", FALSE);
	purple_prefs_set_string("/purple/away/idle_reporting", "none");
	/* ferry relays messages; answering on the user's behalf is not ours */
	purple_prefs_set_string("/purple/away/auto_reply", "never");
}

/* ---- blist: kept in memory only ------------------------------------------ */

static void save_node(PurpleBlistNode *node)
{
}

static void save_account(PurpleAccount *account)
{
}

static PurpleBlistUiOps blist_ops = {
    .save_node = save_node,
    .remove_node = save_node,
    .save_account = save_account,
};

static void ui_init(void)
{
	purple_blist_set_ui_ops(&blist_ops);
	dns_install();
	requests_install();
	certs_install();
	events_install();
	xfers_install();
	quirks_install();
}

static GHashTable *get_ui_info(void)
{
	if (ui_info == NULL) {
		ui_info = g_hash_table_new(g_str_hash, g_str_equal);
		g_hash_table_insert(ui_info, (gpointer) "name", (gpointer) "ferry");
		g_hash_table_insert(ui_info, (gpointer) "version", (gpointer)PACKAGE_VERSION);
		g_hash_table_insert(ui_info, (gpointer) "client_type", (gpointer) "pc");
	}
	return ui_info;
}

static PurpleCoreUiOps core_ops = {
    .ui_prefs_init = prefs_init,
    .debug_ui_init = debug_ui_init,
    .ui_init = ui_init,
    .get_ui_info = get_ui_info,
};

/* ---- the private user dir -------------------------------------------------- */

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	if (remove(path) != 0)
		g_warning("cannot remove %s: %s", path, g_strerror(errno));
	return 0;
}

static void remove_tree(const char *dir)
{
	if (nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS) != 0 && errno != ENOENT)
		g_warning("cannot remove %s: %s", dir, g_strerror(errno));
}

/* Copies each CA file into DIR/ca as N.pem, so that libpurple's CA pool
 * (which reads whole directories) sees them and nothing else. */
static bool copy_ca_files(char **files, const char *ca_dir, GError **error)
{
	if (mkdir(ca_dir, 0700) != 0) {
		g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(errno),
		            "cannot create %s: %s", ca_dir, g_strerror(errno));
		return false;
	}
	for (guint i = 0; files != NULL && files[i] != NULL; i++) {
		g_autofree char *pem = NULL;
		gsize len = 0;
		if (!g_file_get_contents(files[i], &pem, &len, error)) {
			g_prefix_error(error, "--ca-file: ");
			return false;
		}
		if (strstr(pem, "-----BEGIN CERTIFICATE-----") == NULL) {
			g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_INVAL,
			            "--ca-file %s: no PEM certificate in it", files[i]);
			return false;
		}
		g_autofree char *name = g_strdup_printf("%u.pem", i);
		g_autofree char *path = g_build_filename(ca_dir, name, NULL);
		if (!g_file_set_contents_full(path, pem, (gssize)len,
		                              G_FILE_SET_CONTENTS_CONSISTENT, 0600, error))
			return false;
	}
	return true;
}

/* libpurple rewrites accounts.xml (every account, as an xmlnode tree) 5 s
 * after any account is added or changed: with hundreds of accounts an
 * O(accounts) build and write every few seconds while users come and go,
 * and a heap peak of ~10 kB per account. Nothing here reads that file
 * (ferry owns the accounts). account.c schedules the write only while its
 * save timer is unset, so the first one is made never due: the timeout
 * added with NULL data while a probe account is created and added. At
 * purple_core_quit libpurple removes it and writes the then empty list. */
static void park_accounts_save(void)
{
	GList *prpls = purple_plugins_get_protocols();
	if (prpls == NULL)
		return;
	loop_capture_timeouts(true);
	PurpleAccount *probe = purple_account_new("ferry-probe", purple_plugin_get_id(prpls->data));
	purple_accounts_add(probe);
	loop_capture_timeouts(false);
	purple_accounts_delete(probe);
	guint timer = loop_captured_timeout();
	if (timer == 0 || !loop_timeout_park(timer))
		g_warning("libpurple's accounts.xml writer was not found; it stays on");
}

/* ---- returning freed heap after logins and logouts ------------------------ */

#define TRIM_DELAY_S 10
static guint trim_timer;

static gboolean trim_now(gpointer data)
{
	(void)data;
	trim_timer = 0;
	malloc_trim(0);
	return G_SOURCE_REMOVE;
}

void core_trim_later(void)
{
	if (trim_timer == 0)
		trim_timer = g_timeout_add_seconds(TRIM_DELAY_S, trim_now, NULL);
}

/* TEST ONLY: FERRY_WORKER_TEST_PLUGIN_DIR=DIR in the worker's environment
 * adds DIR to the plugin search path (probed by purple_core_init), so
 * tests load the test protocol plugin (tests/plugin/ferrytest.c) from the
 * build tree; the sandbox lets the worker read it (sandbox.c). */
static void test_plugin_dir(void)
{
	const char *dir = g_getenv("FERRY_WORKER_TEST_PLUGIN_DIR");
	if (dir == NULL || *dir == '\0')
		return;
	purple_plugins_add_search_path(dir);
	g_message("test plugin directory %s", dir);
}

bool core_init(const struct worker_config *config, GError **error)
{
	g_return_val_if_fail(!core_running, false);
	debug_enabled = config->debug;

	/* GStreamer's device monitor would pull in ~60 MB (LLVM via mesa) and
	 * write ~/.cache/gstreamer-1.0; D-Bus could autolaunch a bus. */
	g_setenv("GST_REGISTRY_DISABLE", "yes", TRUE);
	g_setenv("DBUS_SESSION_BUS_ADDRESS", "disabled:", TRUE);
	/* With it, --debug output would include passwords. */
	g_unsetenv("PURPLE_UNSAFE_DEBUG");

	user_dir = g_dir_make_tmp("ferry-worker-XXXXXX", error);
	if (user_dir == NULL)
		return false;
	g_autofree char *ca_dir = g_build_filename(user_dir, "ca", NULL);
	if (!copy_ca_files(config->ca_files, ca_dir, error)) {
		remove_tree(user_dir);
		g_clear_pointer(&user_dir, g_free);
		return false;
	}

	test_plugin_dir();
	purple_util_set_user_dir(user_dir);
	purple_certificate_add_ca_search_path(ca_dir);
	purple_core_set_ui_ops(&core_ops);
	if (!loop_install(error)) {
		remove_tree(user_dir);
		g_clear_pointer(&user_dir, g_free);
		return false;
	}
	if (!purple_core_init(WORKER_UI_ID)) {
		g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_FAILED,
		            "libpurple failed to initialize");
		remove_tree(user_dir);
		g_clear_pointer(&user_dir, g_free);
		return false;
	}
	/* An empty, unsaved buddy list: ferry owns the contact lists. */
	purple_set_blist(purple_blist_new());
	park_accounts_save();
	core_running = true;
	g_debug("libpurple %s ready, user dir %s", purple_core_get_version(), user_dir);
	return true;
}

void core_quit(void)
{
	g_clear_handle_id(&trim_timer, g_source_remove);
	if (core_running) {
		purple_core_quit();
		core_running = false;
	}
	loop_uninstall();
	if (user_dir != NULL) {
		remove_tree(user_dir);
		g_clear_pointer(&user_dir, g_free);
	}
	g_clear_pointer(&ui_info, g_hash_table_destroy);
}
