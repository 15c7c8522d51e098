/* Unit tests for settings: defaults, every kind of error naming file, group
 * and key, and the derived values (gateway type, allowed domains). */
#include "config.h"

#include <string.h>

#include "ferry/jid.h"
#include "ferry/log.h"
#include "ferry/regform.h"
#include "ferry/secrets.h"
#include "ferry/settings.h"
#include "ferry/storage.h"
#include "ferry/worker_protocol.h"
#include "ferry/xml_stream.h"

#define MINIMAL "[component]\njid = irc.example.org\nsecret = s3cret\n"

static void test_defaults(void)
{
	g_autoptr(GError) err = NULL;
	struct settings *s = settings_load_data(MINIMAL, "/etc/ferry/ferry.conf", &err);
	g_assert_no_error(err);
	g_assert_cmpstr(s->component_jid, ==, "irc.example.org");
	g_assert_cmpstr(s->component_host, ==, "127.0.0.1");
	g_assert_cmpuint(s->component_port, ==, 5347);
	g_assert_false(s->component_tls);
	g_assert_cmpuint(s->max_stanza_bytes, ==, 4 * 1024 * 1024);
	g_assert_cmpuint(s->max_token_bytes, ==, 8 * 1024 * 1024);
	g_assert_cmpuint(s->max_outbound_bytes, ==, 256 * 1024);
	g_assert_cmpstr(s->legacy_protocol, ==, "prpl-irc");
	g_assert_cmpuint(s->users_per_worker, ==, 500);
	g_assert_cmpuint(s->min_workers, ==, 1);
	g_assert_cmpuint(s->login_rate, ==, 5);
	g_assert_cmpuint(s->login_burst, ==, 10);
	g_assert_cmpuint(s->max_message_lines, ==, 40);
	g_assert_cmpstr(s->database, ==, "/etc/ferry/ferry.db");
	g_assert_cmpstr(s->key_file, ==, "/etc/ferry/ferry.key");
	g_assert_cmpstr(s->allowed_domains[0], ==, "example.org");
	g_assert_null(s->allowed_domains[1]);
	g_assert_true(settings_domain_allowed(s, "EXAMPLE.org"));
	g_assert_false(settings_domain_allowed(s, "evil.org"));
	g_assert_cmpint(s->log_level, ==, SETTINGS_LOG_INFO);
	g_assert_null(s->worker_user); /* main.c: ferry-worker as root, else ferry's user */
	/* the secret is in memory kept out of core dumps (secrets.h) */
	g_assert_true(secrets_secure_is(s->component_secret));
	settings_free(s);
}

/* [workers] user and [legacy] ferry.allowed_servers are read as given
 * (checked against the system's users at start; the list by regform). */
static void test_isolation_keys(void)
{
	g_autoptr(GError) err = NULL;
	struct settings *s = settings_load_data(MINIMAL "[workers]\nuser = ferry-worker\n"
	                                                "[legacy]\nferry.allowed_servers = "
	                                                "irc.example.net; 10.0.0.0/8\n",
	                                        "f.conf", &err);
	g_assert_no_error(err);
	g_assert_cmpstr(s->worker_user, ==, "ferry-worker");
	g_assert_cmpstr(g_hash_table_lookup(s->legacy_overrides, "ferry.allowed_servers"), ==,
	                "irc.example.net; 10.0.0.0/8");
	settings_free(s);
}

static void test_full(void)
{
	const char *data =
	    "[component]\njid = IRC.Example.org\nhost = xmpp.example.org\n"
	    "port = 5348\nsecret = x\ntls = true\ntls_server_name = xmpp.example.org\n"
	    "max_stanza_bytes = 65536\nmax_outbound_bytes = 4096\n"
	    "[legacy]\nprotocol = prpl-jabber\nname = Old XMPP\n"
	    "server = irc.example.net\nport = 6697\nlocked = server; port\n"
	    "ferry.fields = sasl, realname\n"
	    "[workers]\nusers_per_worker = 3\nprogram = /opt/ferry-worker\n"
	    "min_workers = 0\nlogin_rate = 200\nlogin_burst = 1\nmax_message_lines = 7\n"
	    "[storage]\ndatabase = /var/lib/ferry/db.sqlite\n"
	    "[access]\nallowed_domains = a.org; B.org\nadmins = root@a.org\n"
	    "[logging]\nlevel = debug\n";
	g_autoptr(GError) err = NULL;
	struct settings *s = settings_load_data(data, "f.conf", &err);
	g_assert_no_error(err);
	g_assert_cmpstr(s->component_jid, ==, "irc.example.org");
	g_assert_cmpuint(s->component_port, ==, 5348);
	g_assert_true(s->component_tls);
	g_assert_cmpstr(s->tls_server_name, ==, "xmpp.example.org");
	g_assert_cmpuint(s->max_stanza_bytes, ==, 65536);
	g_assert_cmpuint(s->max_token_bytes, ==, 2 * 65536); /* follows max_stanza_bytes */
	g_assert_cmpuint(s->max_outbound_bytes, ==, 4096);
	g_assert_cmpstr(settings_gateway_type(s), ==, "xmpp");
	g_assert_cmpstr(s->legacy_name, ==, "Old XMPP");
	g_assert_cmpstr(g_hash_table_lookup(s->legacy_overrides, "server"), ==, "irc.example.net");
	g_assert_cmpstr(g_hash_table_lookup(s->legacy_overrides, "port"), ==, "6697");
	/* ferry's own keys travel with the presets; regform reads them */
	g_assert_cmpstr(g_hash_table_lookup(s->legacy_overrides, "ferry.fields"), ==,
	                "sasl, realname");
	g_assert_cmpstr(s->legacy_locked[0], ==, "server");
	g_assert_cmpstr(s->legacy_locked[1], ==, "port");
	g_assert_null(s->legacy_locked[2]);
	g_assert_cmpuint(s->users_per_worker, ==, 3);
	g_assert_cmpuint(s->min_workers, ==, 0);
	g_assert_cmpuint(s->login_rate, ==, 200);
	g_assert_cmpuint(s->login_burst, ==, 1);
	g_assert_cmpuint(s->max_message_lines, ==, 7);
	g_assert_cmpstr(s->worker_program, ==, "/opt/ferry-worker");
	g_assert_cmpstr(s->database, ==, "/var/lib/ferry/db.sqlite");
	g_assert_true(settings_domain_allowed(s, "b.org"));
	g_assert_cmpstr(s->admins[0], ==, "root@a.org");
	g_assert_cmpint(s->log_level, ==, SETTINGS_LOG_DEBUG);
	settings_free(s);
}

static void test_gateway_types(void)
{
	const struct {
		const char *prpl, *type;
	} cases[] = {
	    {"prpl-irc", "irc"},
	    {"prpl-jabber", "xmpp"},
	    {"prpl-simple", "simple"},
	    {"prpl-gg", "gadu-gadu"},
	    {"prpl-meanwhile", "sametime"},
	    {"prpl-eionrobb-discord", "eionrobb-discord"},
	};
	for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autofree char *data =
		    g_strdup_printf(MINIMAL "[legacy]\nprotocol = %s\n", cases[i].prpl);
		g_autoptr(GError) err = NULL;
		struct settings *s = settings_load_data(data, "f.conf", &err);
		g_assert_no_error(err);
		g_assert_cmpstr(settings_gateway_type(s), ==, cases[i].type);
		settings_free(s);
	}
}

static void test_errors(void)
{
	const struct {
		const char *data;
		int code;
		const char *message;
	} cases[] = {
	    {"[component]\nsecret = x\n", SETTINGS_ERROR_MISSING,
	     "f.conf: [component] jid: required key is missing"},
	    {"[component]\njid = irc.example.org\n", SETTINGS_ERROR_MISSING,
	     "f.conf: [component] secret: required key is missing"},
	    {MINIMAL "port = 70000\n", SETTINGS_ERROR_INVALID,
	     "f.conf: [component] port: '70000' is not a whole number from 1 to 65535"},
	    {MINIMAL "port = http\n", SETTINGS_ERROR_INVALID,
	     "f.conf: [component] port: 'http' is not a whole number from 1 to 65535"},
	    {MINIMAL "tls = maybe\n", SETTINGS_ERROR_INVALID,
	     "f.conf: [component] tls: 'maybe' is not a boolean (true or false)"},
	    {MINIMAL "scret = x\n", SETTINGS_ERROR_UNKNOWN,
	     "f.conf: [component] scret: unknown key"},
	    {MINIMAL "[worker]\nprogram = x\n", SETTINGS_ERROR_UNKNOWN,
	     "f.conf: [worker]: unknown group"},
	    {"[component]\njid = a@b\nsecret = x\n", SETTINGS_ERROR_INVALID,
	     "f.conf: [component] jid: 'a@b' is not a domain (the component JID has no '@' or "
	     "'/')"},
	    {MINIMAL "[legacy]\nlocked = server\n", SETTINGS_ERROR_INVALID,
	     "f.conf: [legacy] locked: 'server' is locked but has no value in [legacy]"},
	    /* ferry's own [legacy] keys are ferry.<name>; no preset has a dot */
	    {MINIMAL "[legacy]\nferry.feilds = sasl\n", SETTINGS_ERROR_UNKNOWN,
	     "f.conf: [legacy] ferry.feilds: ferry has no such setting (its own [legacy] keys: "
	     "ferry.fields, ferry.allowed_servers)"},
	    {MINIMAL "[legacy]\nsasl.name = x\n", SETTINGS_ERROR_INVALID,
	     "f.conf: [legacy] sasl.name: no protocol field has a '.' in its name; ferry's own "
	     "keys are written ferry.<name>"},
	    {MINIMAL "[logging]\nlevel = loud\n", SETTINGS_ERROR_INVALID,
	     "f.conf: [logging] level: 'loud' is not one of error, warning, message, info, "
	     "debug"},
	    {MINIMAL "[workers]\nusers_per_worker = 0\n", SETTINGS_ERROR_INVALID,
	     "f.conf: [workers] users_per_worker: '0' is not a whole number from 1 to 100000"},
	    {MINIMAL "[workers]\nlogin_rate = 0\n", SETTINGS_ERROR_INVALID,
	     "f.conf: [workers] login_rate: '0' is not a whole number from 1 to 100000"},
	    {MINIMAL "[workers]\nmin_workers = 65\n", SETTINGS_ERROR_INVALID,
	     "f.conf: [workers] min_workers: '65' is not a whole number from 0 to 64"},
	    {MINIMAL "max_stanza_bytes = 100000\nmax_token_bytes = 99999\n", SETTINGS_ERROR_INVALID,
	     "f.conf: [component] max_token_bytes: 99999 is below max_stanza_bytes (100000)"},
	    {MINIMAL "max_outbound_bytes = 100\n", SETTINGS_ERROR_INVALID,
	     "f.conf: [component] max_outbound_bytes: '100' is not a whole number from 1024 to "
	     "67108864"},
	    {MINIMAL "tls_ca_file = /nonexistent/ca.pem\n", SETTINGS_ERROR_INVALID,
	     "f.conf: [component] tls_ca_file: '/nonexistent/ca.pem' is not a readable file"},
	};
	for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autoptr(GError) err = NULL;
		struct settings *s = settings_load_data(cases[i].data, "f.conf", &err);
		g_assert_null(s);
		g_assert_error(err, SETTINGS_ERROR, cases[i].code);
		g_assert_cmpstr(err->message, ==, cases[i].message);
	}
}

static void test_not_ini(void)
{
	g_autoptr(GError) err = NULL;
	g_assert_null(settings_load_data("this is not\nan ini file", "f.conf", &err));
	g_assert_error(err, SETTINGS_ERROR, SETTINGS_ERROR_FILE);
	g_assert_true(g_str_has_prefix(err->message, "f.conf: "));
	g_clear_error(&err);
	g_assert_null(settings_load("/nonexistent/ferry.conf", &err));
	g_assert_error(err, SETTINGS_ERROR, SETTINGS_ERROR_FILE);
	g_assert_true(g_str_has_prefix(err->message, "/nonexistent/ferry.conf: "));
}

/* Error domains are registered under dashed names (clang-format once
 * turned them into "ferry - storage - error - quark"). */
static void test_quark_names(void)
{
	const struct {
		GQuark quark;
		const char *name;
	} cases[] = {
	    {SETTINGS_ERROR, "ferry-settings-error-quark"},
	    {JID_ERROR, "ferry-jid-error-quark"},
	    {XML_STREAM_ERROR, "ferry-xml-stream-error-quark"},
	    {SECRETS_ERROR, "ferry-secrets-error-quark"},
	    {STORAGE_ERROR, "ferry-storage-error-quark"},
	    {WORKER_PROTOCOL_ERROR, "ferry-worker-protocol-error-quark"},
	};
	for (gsize i = 0; i < G_N_ELEMENTS(cases); i++)
		g_assert_cmpstr(g_quark_to_string(cases[i].quark), ==, cases[i].name);
}

/* The [legacy] check --check-config shares with the gateway's start. */
static void test_legacy_presets_checked(void)
{
	struct worker_description *d = worker_description_new("prpl-irc", "IRC", 0);
	worker_description_add_split(d, "Server", "irc.libera.chat", "@");
	worker_description_add_option(d, "port", WORKER_OPTION_INT, "Port", "6667");
	const struct {
		const char *legacy;
		const char *error; /* NULL: passes */
	} cases[] = {
	    {"server = irc.example.org\nport = 6697\nlocked = server\n", NULL},
	    {"sever = irc.example.org\n",
	     "[legacy] sever: prpl-irc has no registration field of that name; what it offers: "
	     "server, port"},
	    {"port = many\n", "[legacy] port: 'many' is not a valid value for this field"},
	    {"locked = username\nusername = x\n",
	     "[legacy] locked: 'username' is not a field that can be locked"},
	};
	for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autofree char *data = g_strconcat(MINIMAL, "[legacy]\n", cases[i].legacy, NULL);
		g_autoptr(GError) err = NULL;
		struct settings *st = settings_load_data(data, "f.conf", &err);
		g_assert_no_error(err);
		bool ok = regform_check_presets(st, d, &err);
		if (cases[i].error == NULL) {
			g_assert_no_error(err);
			g_assert_true(ok);
		} else {
			g_assert_false(ok);
			g_assert_error(err, REGFORM_ERROR, REGFORM_ERROR_CONFIG);
			g_assert_cmpstr(err->message, ==, cases[i].error);
		}
		settings_free(st);
	}
	worker_description_free(d);
}

/* log.c's stderr line: the same for ferry and ferry-worker, one line per
 * entry whatever the message holds. */
static void test_log_line(void)
{
	g_autoptr(GTimeZone) utc = g_time_zone_new_utc();
	g_autoptr(GDateTime) when = g_date_time_new(utc, 2026, 12, 1, 23, 27, 11.042);
	g_autofree char *a = log_format_line("ferry", 42, when, SETTINGS_LOG_ERROR, "cannot start");
	g_assert_cmpstr(a, ==, "2026-12-01 23:27:11.042 ferry[42] error: cannot start\n");
	g_autofree char *b = log_format_line("ferry-worker", 7, when, SETTINGS_LOG_DEBUG,
	                                     "purple irc: line one\nline two\r\n\n");
	g_assert_cmpstr(b, ==,
	                "2026-12-01 23:27:11.042 ferry-worker[7] debug: purple irc: line "
	                "one\\nline two\n");
	g_autofree char *c = log_format_line("ferry", 1, when, SETTINGS_LOG_WARNING,
	                                     "tab\tstays, bell\a and DEL\x7f do not");
	g_assert_cmpstr(c, ==,
	                "2026-12-01 23:27:11.042 ferry[1] warning: tab\tstays, bell\\x07 and "
	                "DEL\\x7f do not\n");
	/* what a legacy name may carry to a terminal: ESC sequences, C1 CSI
	 * (U+009B, and a raw 0x9b byte that is not UTF-8), a bidi override */
	g_autofree char *e = log_format_line("ferry", 1, when, SETTINGS_LOG_INFO,
	                                     "nick '\x1b[31mred\xc2\x9b"
	                                     "2J\x9b' \xe2\x80\xae"
	                                     "evil caf\xc3\xa9");
	g_assert_cmpstr(e, ==,
	                "2026-12-01 23:27:11.042 ferry[1] info: nick '\\x1b[31mred\\u009b2J\\x9b' "
	                "\\u202eevil caf\xc3\xa9\n");
	g_autofree char *f = log_escape("a\x1b\tb\xff", -1);
	g_assert_cmpstr(f, ==, "a\\x1b\tb\\xff");
	g_autofree char *g = log_escape("x\ny", 1);
	g_assert_cmpstr(g, ==, "x");
	g_autofree char *d = log_format_line("ferry", 1, when, SETTINGS_LOG_INFO, NULL);
	g_assert_cmpstr(d, ==, "2026-12-01 23:27:11.042 ferry[1] info: (no message)\n");

	/* The journal: GLib's PRIORITY (4 for a critical) replaced by ferry's. */
	const GLogField in[] = {
	    {"PRIORITY", "4", -1}, {"GLIB_DOMAIN", "ferry", -1}, {"MESSAGE", "cannot start", -1}};
	GLogField out[G_N_ELEMENTS(in) + 2];
	gsize n = log_journal_fields(SETTINGS_LOG_ERROR, "ferry", in, G_N_ELEMENTS(in), out);
	g_assert_cmpuint(n, ==, 4);
	g_assert_cmpstr(out[0].key, ==, "GLIB_DOMAIN");
	g_assert_cmpstr(out[1].key, ==, "MESSAGE");
	g_assert_cmpstr(out[2].key, ==, "PRIORITY");
	g_assert_cmpstr(out[2].value, ==, "3");
	g_assert_cmpstr(out[3].key, ==, "SYSLOG_IDENTIFIER");
	g_assert_cmpstr(out[3].value, ==, "ferry");
	const GLogField named[] = {{"MESSAGE", "x", -1}, {"SYSLOG_IDENTIFIER", "other", -1}};
	n = log_journal_fields(SETTINGS_LOG_DEBUG, "ferry-worker", named, 2, out);
	g_assert_cmpuint(n, ==, 3);
	g_assert_cmpstr(out[1].value, ==, "other");
	g_assert_cmpstr(out[2].value, ==, "7");

	enum settings_log_level level = SETTINGS_LOG_INFO;
	g_assert_true(log_level_parse("DEBUG", &level));
	g_assert_cmpint(level, ==, SETTINGS_LOG_DEBUG);
	g_assert_false(log_level_parse("loud", &level));
	g_assert_false(log_level_parse(NULL, &level));
	g_assert_cmpstr(log_level_name(SETTINGS_LOG_MESSAGE), ==, "message");
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/settings/defaults", test_defaults);
	g_test_add_func("/settings/full", test_full);
	g_test_add_func("/settings/isolation-keys", test_isolation_keys);
	g_test_add_func("/settings/gateway-types", test_gateway_types);
	g_test_add_func("/settings/errors", test_errors);
	g_test_add_func("/settings/not-ini", test_not_ini);
	g_test_add_func("/settings/quark-names", test_quark_names);
	g_test_add_func("/settings/legacy-presets-checked", test_legacy_presets_checked);
	g_test_add_func("/log/line", test_log_line);
	return g_test_run();
}
