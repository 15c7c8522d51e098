/* settings: reads ferry.conf with GKeyFile, applies defaults and validates
 * every key once, so the rest of ferry can trust the values. */
#include "config.h"
#include "ferry/settings.h"
#include "ferry/log.h"
#include "ferry/secrets.h"

#include <string.h>

G_DEFINE_QUARK(ferry-settings-error-quark, settings_error);

/* Keys ferry knows, per group. [legacy] is open: its other keys override
 * registration form fields by name. ferry's own [legacy] keys beyond the
 * first three are written ferry.<name>, a name no protocol field can have
 * (regform leaves an option with a '.' in its key out of the form), so a
 * new one can never shadow a preset; regform interprets them. */
static const char *const component_keys[] = {"jid",
                                             "host",
                                             "port",
                                             "secret",
                                             "tls",
                                             "tls_ca_file",
                                             "tls_server_name",
                                             "max_stanza_bytes",
                                             "max_token_bytes",
                                             "max_outbound_bytes",
                                             "ping_interval",
                                             "queue_high_bytes",
                                             "queue_low_bytes",
                                             NULL};
static const char *const legacy_keys[] = {"protocol", "name", "locked", NULL};
static const char *const legacy_ferry_keys[] = {"ferry.fields", "ferry.allowed_servers", NULL};
static const char *const workers_keys[] = {"program",
                                           "users_per_worker",
                                           "min_workers",
                                           "login_rate",
                                           "login_burst",
                                           "legacy_ca_file",
                                           "max_message_lines",
                                           "account_queue_bytes",
                                           "stall_seconds",
                                           "user",
                                           NULL};
static const char *const storage_keys[] = {"database", "key_file", NULL};
static const char *const access_keys[] = {"allowed_domains", "admins", NULL};
static const char *const logging_keys[] = {"level", NULL};
static const char *const limits_keys[] = {"max_contacts",
                                          "max_pending_probes",
                                          "max_outbox",
                                          "registrations_per_minute",
                                          "registrations_all_per_minute",
                                          "max_rooms",
                                          "max_room_occupants",
                                          "command_idle_seconds",
                                          "prompt_seconds",
                                          NULL};

static const struct {
	const char *group;
	const char *const *keys;
	bool open; /* other keys are allowed */
} known_groups[] = {
    {"component", component_keys, false}, {"legacy", legacy_keys, true},
    {"workers", workers_keys, false},     {"storage", storage_keys, false},
    {"access", access_keys, false},       {"logging", logging_keys, false},
    {"limits", limits_keys, false},
};

static const struct {
	const char *prpl;
	const char *type;
} gateway_types[] = {
    {"prpl-irc", "irc"},      {"prpl-jabber", "xmpp"},        {"prpl-simple", "simple"},
    {"prpl-gg", "gadu-gadu"}, {"prpl-meanwhile", "sametime"},
};

static bool fail(GError **error, int code, const struct settings *s, const char *group,
                 const char *key, const char *fmt, ...) G_GNUC_PRINTF(6, 7);

static bool fail(GError **error, int code, const struct settings *s, const char *group,
                 const char *key, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	g_autofree char *what = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	if (key != NULL)
		g_set_error(error, SETTINGS_ERROR, code, "%s: [%s] %s: %s", s->path, group, key,
		            what);
	else
		g_set_error(error, SETTINGS_ERROR, code, "%s: [%s]: %s", s->path, group, what);
	return false;
}

static bool check_known(GKeyFile *kf, const struct settings *s, GError **error)
{
	gsize ngroups = 0;
	g_auto(GStrv) groups = g_key_file_get_groups(kf, &ngroups);
	for (gsize i = 0; i < ngroups; i++) {
		int found = -1;
		for (gsize g = 0; g < G_N_ELEMENTS(known_groups); g++)
			if (strcmp(groups[i], known_groups[g].group) == 0)
				found = (int)g;
		if (found < 0)
			return fail(error, SETTINGS_ERROR_UNKNOWN, s, groups[i], NULL,
			            "unknown group");
		if (known_groups[found].open)
			continue;
		g_auto(GStrv) keys = g_key_file_get_keys(kf, groups[i], NULL, NULL);
		for (gsize k = 0; keys != NULL && keys[k] != NULL; k++)
			if (!g_strv_contains(known_groups[found].keys, keys[k]))
				return fail(error, SETTINGS_ERROR_UNKNOWN, s, groups[i], keys[k],
				            "unknown key");
	}
	return true;
}

/* A trimmed string value; NULL when absent. Empty counts as absent. */
static char *get_string(GKeyFile *kf, const char *group, const char *key)
{
	char *v = g_key_file_get_string(kf, group, key, NULL);
	if (v == NULL)
		return NULL;
	g_strstrip(v);
	if (*v == '\0') {
		g_free(v);
		return NULL;
	}
	return v;
}

static bool get_required(GKeyFile *kf, const struct settings *s, const char *group, const char *key,
                         char **out, GError **error)
{
	*out = get_string(kf, group, key);
	if (*out == NULL)
		return fail(error, SETTINGS_ERROR_MISSING, s, group, key,
		            "required key is missing");
	return true;
}

static bool get_bool(GKeyFile *kf, const struct settings *s, const char *group, const char *key,
                     bool fallback, bool *out, GError **error)
{
	g_autofree char *v = get_string(kf, group, key);
	*out = fallback;
	if (v == NULL)
		return true;
	if (g_ascii_strcasecmp(v, "true") == 0 || g_ascii_strcasecmp(v, "yes") == 0 ||
	    strcmp(v, "1") == 0)
		*out = true;
	else if (g_ascii_strcasecmp(v, "false") == 0 || g_ascii_strcasecmp(v, "no") == 0 ||
	         strcmp(v, "0") == 0)
		*out = false;
	else
		return fail(error, SETTINGS_ERROR_INVALID, s, group, key,
		            "'%s' is not a boolean (true or false)", v);
	return true;
}

static bool get_uint(GKeyFile *kf, const struct settings *s, const char *group, const char *key,
                     guint64 fallback, guint64 min, guint64 max, guint64 *out, GError **error)
{
	g_autofree char *v = get_string(kf, group, key);
	*out = fallback;
	if (v == NULL)
		return true;
	guint64 n = 0;
	g_autoptr(GError) err = NULL;
	if (!g_ascii_string_to_unsigned(v, 10, min, max, &n, &err))
		return fail(error, SETTINGS_ERROR_INVALID, s, group, key,
		            "'%s' is not a whole number from %" G_GUINT64_FORMAT
		            " to %" G_GUINT64_FORMAT,
		            v, min, max);
	*out = n;
	return true;
}

/* A ';'-separated list, entries trimmed, empty entries dropped. */
static char **get_list(GKeyFile *kf, const char *group, const char *key)
{
	g_autofree char *v = get_string(kf, group, key);
	if (v == NULL)
		return NULL;
	g_auto(GStrv) parts = g_strsplit_set(v, ";,", -1);
	GPtrArray *out = g_ptr_array_new();
	for (gsize i = 0; parts[i] != NULL; i++) {
		g_strstrip(parts[i]);
		if (*parts[i] != '\0')
			g_ptr_array_add(out, g_ascii_strdown(parts[i], -1));
	}
	g_ptr_array_add(out, NULL);
	return (char **)g_ptr_array_free(out, FALSE);
}

/* A file path; relative paths are taken relative to the config file. */
static char *get_path(GKeyFile *kf, const struct settings *s, const char *group, const char *key,
                      const char *fallback)
{
	g_autofree char *v = get_string(kf, group, key);
	const char *p = v != NULL ? v : fallback;
	if (p == NULL)
		return NULL;
	if (g_path_is_absolute(p))
		return g_strdup(p);
	g_autofree char *dir = g_path_get_dirname(s->path);
	return g_build_filename(dir, p, NULL);
}

static bool domain_ok(const char *d)
{
	if (d == NULL || *d == '\0' || strlen(d) > 1023)
		return false;
	for (const char *p = d; *p != '\0'; p++)
		if (*p == '@' || *p == '/' || *p == ' ' || (unsigned char)*p < 0x21)
			return false;
	return true;
}

static bool load_component(GKeyFile *kf, struct settings *s, GError **error)
{
	const char *g = "component";
	guint64 n = 0;
	if (!get_required(kf, s, g, "jid", &s->component_jid, error))
		return false;
	if (!domain_ok(s->component_jid))
		return fail(error, SETTINGS_ERROR_INVALID, s, g, "jid",
		            "'%s' is not a domain (the component JID has no '@' or '/')",
		            s->component_jid);
	g_autofree char *lower = g_ascii_strdown(s->component_jid, -1);
	g_free(s->component_jid);
	s->component_jid = g_steal_pointer(&lower);
	s->component_host = get_string(kf, g, "host");
	if (s->component_host == NULL)
		s->component_host = g_strdup("127.0.0.1");
	if (!get_uint(kf, s, g, "port", 5347, 1, 65535, &n, error))
		return false;
	s->component_port = (guint16)n;
	if (!get_required(kf, s, g, "secret", &s->component_secret, error))
		return false;
	/* Kept out of core dumps, wiped when freed (secrets.h). */
	char *plain = s->component_secret;
	s->component_secret = secrets_secure_strdup(plain);
	secrets_wipe_free(plain);
	if (!get_bool(kf, s, g, "tls", false, &s->component_tls, error))
		return false;
	s->tls_ca_file = get_path(kf, s, g, "tls_ca_file", NULL);
	if (s->tls_ca_file != NULL && !g_file_test(s->tls_ca_file, G_FILE_TEST_IS_REGULAR))
		return fail(error, SETTINGS_ERROR_INVALID, s, g, "tls_ca_file",
		            "'%s' is not a readable file", s->tls_ca_file);
	s->tls_server_name = get_string(kf, g, "tls_server_name");
	/* 4 MiB: more than any stanza Prosody can deliver. Its c2s and s2s
	 * limits are 256 and 512 KiB, but it forwards to a component with each
	 * ' and " written as a 6-byte entity, so a remote user's 512 KiB of
	 * quotes arrives as 3 MiB. A larger stanza is skipped and answered. */
	if (!get_uint(kf, s, g, "max_stanza_bytes", 4 * 1024 * 1024, 4096, 64 * 1024 * 1024, &n,
	              error))
		return false;
	s->max_stanza_bytes = (size_t)n;
	/* The hard limit, on one XML token (a tag) that expat buffers whole:
	 * twice the stanza limit by default, never below it. */
	if (!get_uint(kf, s, g, "max_token_bytes", 2 * (guint64)s->max_stanza_bytes, 4096,
	              256 * 1024 * 1024, &n, error))
		return false;
	if (n < s->max_stanza_bytes)
		return fail(error, SETTINGS_ERROR_INVALID, s, g, "max_token_bytes",
		            "%" G_GUINT64_FORMAT " is below max_stanza_bytes (%zu)", n,
		            s->max_stanza_bytes);
	s->max_token_bytes = (size_t)n;
	/* Below Prosody's component_stanza_size_limit (512 KiB), over which it
	 * closes the stream: ferry's escaping can grow text 5 times. */
	if (!get_uint(kf, s, g, "max_outbound_bytes", 256 * 1024, 1024, 64 * 1024 * 1024, &n,
	              error))
		return false;
	s->max_outbound_bytes = (size_t)n;
	if (!get_uint(kf, s, g, "ping_interval", 60, 5, 3600, &n, error))
		return false;
	s->ping_interval = (guint)n;
	if (!get_uint(kf, s, g, "queue_high_bytes", 4 * 1024 * 1024, 64 * 1024, 1024 * 1024 * 1024,
	              &n, error))
		return false;
	s->queue_high_bytes = (size_t)n;
	if (!get_uint(kf, s, g, "queue_low_bytes", s->queue_high_bytes / 4, 1024,
	              s->queue_high_bytes, &n, error))
		return false;
	s->queue_low_bytes = (size_t)n;
	return true;
}

static bool load_legacy(GKeyFile *kf, struct settings *s, GError **error)
{
	const char *g = "legacy";
	s->legacy_protocol = get_string(kf, g, "protocol");
	if (s->legacy_protocol == NULL)
		s->legacy_protocol = g_strdup("prpl-irc");
	s->legacy_name = get_string(kf, g, "name");
	if (s->legacy_name == NULL)
		s->legacy_name = g_strdup_printf("%s transport", settings_gateway_type(s));
	s->legacy_locked = get_list(kf, g, "locked");
	if (s->legacy_locked == NULL)
		s->legacy_locked = g_new0(char *, 1);
	s->legacy_overrides = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	g_auto(GStrv) keys = g_key_file_get_keys(kf, g, NULL, NULL);
	for (gsize i = 0; keys != NULL && keys[i] != NULL; i++) {
		if (g_strv_contains(legacy_keys, keys[i]))
			continue;
		if (strchr(keys[i], '.') != NULL && !g_strv_contains(legacy_ferry_keys, keys[i])) {
			if (g_str_has_prefix(keys[i], "ferry."))
				return fail(error, SETTINGS_ERROR_UNKNOWN, s, g, keys[i],
				            "ferry has no such setting (its own [legacy] keys: "
				            "ferry.fields, ferry.allowed_servers)");
			return fail(error, SETTINGS_ERROR_INVALID, s, g, keys[i],
			            "no protocol field has a '.' in its name; ferry's own keys "
			            "are written ferry.<name>");
		}
		char *v = g_key_file_get_string(kf, g, keys[i], NULL);
		if (v != NULL)
			g_hash_table_replace(s->legacy_overrides, g_strdup(keys[i]), g_strstrip(v));
	}
	for (gsize i = 0; s->legacy_locked[i] != NULL; i++)
		if (!g_hash_table_contains(s->legacy_overrides, s->legacy_locked[i]))
			return fail(error, SETTINGS_ERROR_INVALID, s, g, "locked",
			            "'%s' is locked but has no value in [legacy]",
			            s->legacy_locked[i]);
	return true;
}

/* [limits]: what one user may make ferry hold (see ferry.conf.example). */
static bool load_limits(GKeyFile *kf, struct settings *s, GError **error)
{
	guint64 n = 0;
	if (!get_uint(kf, s, "limits", "max_contacts", 2000, 1, 1000000, &n, error))
		return false;
	s->max_contacts = (guint)n;
	if (!get_uint(kf, s, "limits", "max_pending_probes", 500, 2, 1000000, &n, error))
		return false;
	s->max_pending_probes = (guint)n;
	if (!get_uint(kf, s, "limits", "max_outbox", 500, 1, 1000000, &n, error))
		return false;
	s->max_outbox = (guint)n;
	if (!get_uint(kf, s, "limits", "registrations_per_minute", 5, 1, 10000, &n, error))
		return false;
	s->registrations_per_minute = (guint)n;
	if (!get_uint(kf, s, "limits", "registrations_all_per_minute", 60, 1, 100000, &n, error))
		return false;
	s->registrations_all_per_minute = (guint)n;
	if (!get_uint(kf, s, "limits", "max_rooms", 100, 1, 100000, &n, error))
		return false;
	s->max_rooms = (guint)n;
	if (!get_uint(kf, s, "limits", "max_room_occupants", 10000, 1, 1000000, &n, error))
		return false;
	s->max_room_occupants = (guint)n;
	if (!get_uint(kf, s, "limits", "command_idle_seconds", 900, 5, 86400, &n, error))
		return false;
	s->command_idle_seconds = (guint)n;
	if (!get_uint(kf, s, "limits", "prompt_seconds", 600, 5, 86400, &n, error))
		return false;
	s->prompt_seconds = (guint)n;
	s->contact_idle_ms = 10 * 60 * 1000;
	s->room_join_ms = 35 * 1000;
	s->room_echo_wait_ms = 10 * 1000;
	return true;
}

static bool load_rest(GKeyFile *kf, struct settings *s, GError **error)
{
	if (!load_limits(kf, s, error))
		return false;
	guint64 n = 0;
	s->worker_program = get_path(kf, s, "workers", "program", NULL);
	if (!get_uint(kf, s, "workers", "users_per_worker", 500, 1, 100000, &n, error))
		return false;
	s->users_per_worker = (guint)n;
	if (!get_uint(kf, s, "workers", "min_workers", 1, 0, 64, &n, error))
		return false;
	s->min_workers = (guint)n;
	if (!get_uint(kf, s, "workers", "login_rate", 5, 1, 100000, &n, error))
		return false;
	s->login_rate = (guint)n;
	if (!get_uint(kf, s, "workers", "login_burst", 10, 1, 100000, &n, error))
		return false;
	s->login_burst = (guint)n;
	s->kept_login_ms = 60 * 1000;
	if (!get_uint(kf, s, "workers", "max_message_lines", 40, 1, 100000, &n, error))
		return false;
	s->max_message_lines = (guint)n;
	/* Checked against the system's users at start (main.c): a file
	 * checked elsewhere than where it runs must still load. */
	s->worker_user = get_string(kf, "workers", "user");
	if (!get_uint(kf, s, "workers", "account_queue_bytes", 256 * 1024, 4096, 1024 * 1024 * 1024,
	              &n, error))
		return false;
	s->account_queue_bytes = (size_t)n;
	if (!get_uint(kf, s, "workers", "stall_seconds", 90, 0, 86400, &n, error))
		return false;
	s->stall_seconds = (guint)n;
	s->legacy_ca_file = get_path(kf, s, "workers", "legacy_ca_file", NULL);
	if (s->legacy_ca_file != NULL && !g_file_test(s->legacy_ca_file, G_FILE_TEST_IS_REGULAR))
		return fail(error, SETTINGS_ERROR_INVALID, s, "workers", "legacy_ca_file",
		            "'%s' is not a readable file", s->legacy_ca_file);

	s->database = get_path(kf, s, "storage", "database", "ferry.db");
	s->key_file = get_path(kf, s, "storage", "key_file", "ferry.key");

	s->allowed_domains = get_list(kf, "access", "allowed_domains");
	if (s->allowed_domains == NULL) {
		/* The component's parent domain: irc.example.org -> example.org. */
		const char *dot = strchr(s->component_jid, '.');
		const char *parent = dot != NULL && dot[1] != '\0' ? dot + 1 : s->component_jid;
		s->allowed_domains = g_new0(char *, 2);
		s->allowed_domains[0] = g_strdup(parent);
	}
	for (gsize i = 0; s->allowed_domains[i] != NULL; i++)
		if (!domain_ok(s->allowed_domains[i]))
			return fail(error, SETTINGS_ERROR_INVALID, s, "access", "allowed_domains",
			            "'%s' is not a domain", s->allowed_domains[i]);
	s->admins = get_list(kf, "access", "admins");
	if (s->admins == NULL)
		s->admins = g_new0(char *, 1);

	g_autofree char *level = get_string(kf, "logging", "level");
	s->log_level = SETTINGS_LOG_INFO;
	if (level != NULL && !log_level_parse(level, &s->log_level))
		return fail(error, SETTINGS_ERROR_INVALID, s, "logging", "level",
		            "'%s' is not one of error, warning, message, info, debug", level);
	return true;
}

struct settings *settings_load_data(const char *data, const char *path, GError **error)
{
	struct settings *s = g_new0(struct settings, 1);
	s->path = g_strdup(path);
	g_autoptr(GKeyFile) kf = g_key_file_new();
	g_autoptr(GError) err = NULL;
	if (!g_key_file_load_from_data(kf, data, (gsize)-1, G_KEY_FILE_NONE, &err)) {
		g_set_error(error, SETTINGS_ERROR, SETTINGS_ERROR_FILE, "%s: %s", path,
		            err->message);
		settings_free(s);
		return NULL;
	}
	if (!check_known(kf, s, error) || !load_component(kf, s, error) ||
	    !load_legacy(kf, s, error) || !load_rest(kf, s, error)) {
		settings_free(s);
		return NULL;
	}
	return s;
}

struct settings *settings_load(const char *path, GError **error)
{
	g_autofree char *data = NULL;
	gsize len = 0;
	g_autoptr(GError) err = NULL;
	if (!g_file_get_contents(path, &data, &len, &err)) {
		g_set_error(error, SETTINGS_ERROR, SETTINGS_ERROR_FILE, "%s: %s", path,
		            err->message);
		return NULL;
	}
	struct settings *s = settings_load_data(data, path, error);
	/* The file's text holds the component secret. (GKeyFile's own copy,
	 * freed inside settings_load_data, is not wiped: GLib offers no way.) */
	explicit_bzero(data, len);
	return s;
}

void settings_free(struct settings *s)
{
	if (s == NULL)
		return;
	g_free(s->path);
	g_free(s->component_jid);
	g_free(s->component_host);
	secrets_wipe_free(s->component_secret);
	g_free(s->tls_ca_file);
	g_free(s->tls_server_name);
	g_free(s->legacy_protocol);
	g_free(s->legacy_name);
	g_clear_pointer(&s->legacy_overrides, g_hash_table_unref);
	g_strfreev(s->legacy_locked);
	g_free(s->worker_program);
	g_free(s->worker_user);
	g_free(s->legacy_ca_file);
	g_free(s->database);
	g_free(s->key_file);
	g_strfreev(s->allowed_domains);
	g_strfreev(s->admins);
	g_free(s);
}

const char *settings_gateway_type(const struct settings *s)
{
	for (gsize i = 0; i < G_N_ELEMENTS(gateway_types); i++)
		if (strcmp(s->legacy_protocol, gateway_types[i].prpl) == 0)
			return gateway_types[i].type;
	if (g_str_has_prefix(s->legacy_protocol, "prpl-"))
		return s->legacy_protocol + strlen("prpl-");
	return s->legacy_protocol;
}

bool settings_domain_allowed(const struct settings *s, const char *domain)
{
	if (domain == NULL)
		return false;
	for (gsize i = 0; s->allowed_domains[i] != NULL; i++)
		if (g_ascii_strcasecmp(s->allowed_domains[i], domain) == 0)
			return true;
	return false;
}
