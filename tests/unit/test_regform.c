/* Unit tests for regform: the registration form built from a protocol
 * description (as `ferry-worker --describe` prints it), presets and locks
 * from [legacy], submissions (form and legacy fields) and the legacy
 * account name. */
#include "config.h"

#include <string.h>

#include "ferry/regform.h"
#include "ferry/secrets.h"
#include "ferry/settings.h"
#include "helpers.h"

#define IRC_DESC                                                                                   \
	"('prpl-irc', 'IRC', uint32 1, [('Server', 'irc.libera.chat', '@')], "                     \
	"[('port', 'int', 'Port', '6667', @a(ss) []), "                                            \
	"('encoding', 'string', 'Encodings', 'UTF-8', []), "                                       \
	"('username', 'string', 'Ident name', '', []), "                                           \
	"('ssl', 'bool', 'Use SSL', 'false', [])])"

#define XMPP_DESC                                                                                  \
	"('prpl-jabber', 'XMPP', uint32 0, [('Domain', '', '@'), ('Resource', '', '/')], "         \
	"[('connection_security', 'list', 'Connection security', 'require_starttls', "             \
	"[('Require encryption', 'require_starttls'), "                                            \
	"('Use encryption if available', 'opportunistic_tls')])])"

static GHashTable *new_table(void)
{
	return g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
}

static void put(GHashTable *t, const char *key, const char *value)
{
	g_hash_table_insert(t, g_strdup(key), g_strdup(value));
}

static struct worker_description *desc(const char *text)
{
	g_autoptr(GError) err = NULL;
	struct worker_description *d = worker_description_parse(text, &err);
	g_assert_no_error(err);
	return d;
}

static struct regform *new_form(const char *text, GHashTable *presets, char **locked)
{
	struct worker_description *d = desc(text);
	g_autoptr(GError) err = NULL;
	struct regform *f = regform_new(d, presets, locked, &err);
	worker_description_free(d);
	g_assert_no_error(err);
	return f;
}

/* The IRC form with every option of IRC_DESC shown, as before the form
 * was cut to the essentials: for the tests of submissions and values. */
static struct regform *irc_all(void)
{
	g_autoptr(GHashTable) presets = new_table();
	put(presets, "ferry.fields", "encoding, option_username");
	/* any server (the address policy's own test: /regform/allowed-servers) */
	put(presets, "ferry.allowed_servers", "*, 127.0.0.1");
	return new_form(IRC_DESC, presets, NULL);
}

static struct stanza *parse(const char *xml)
{
	return test_parse_stanza(xml);
}

/* "var=type=value;..." for every field of the form in QUERY, in order. */
static char *describe_form(const struct stanza *query)
{
	const struct stanza *x = stanza_find_child(query, "x", "jabber:x:data");
	g_assert_nonnull(x);
	g_assert_cmpstr(stanza_get_attr(x, "type"), ==, "form");
	GString *s = g_string_new(NULL);
	for (struct stanza *f = stanza_next_child(x, NULL); f != NULL;
	     f = stanza_next_child(x, f)) {
		if (strcmp(stanza_name(f), "field") != 0)
			continue;
		g_autofree char *value = stanza_get_child_text(f, "value", NULL);
		g_string_append_printf(s, "%s=%s=%s%s;", stanza_get_attr(f, "var"),
		                       stanza_get_attr(f, "type"), value != NULL ? value : "(none)",
		                       stanza_find_child(f, "required", NULL) ? "!" : "");
	}
	return g_string_free(s, FALSE);
}

static void test_irc_form(void)
{
	struct regform *f = new_form(IRC_DESC, NULL, NULL);
	g_assert_cmpstr(regform_protocol(f), ==, "prpl-irc");
	g_assert_true(regform_password_optional(f));
	struct stanza *q = stanza_new_ns("query", "jabber:iq:register");
	regform_fill_query(f, q, NULL);
	g_assert_nonnull(stanza_find_child(q, "username", NULL));
	g_assert_nonnull(stanza_find_child(q, "password", NULL));
	g_assert_nonnull(stanza_find_child(q, "instructions", NULL));
	g_autofree char *fields = describe_form(q);
	g_assert_cmpstr(fields, ==,
	                "FORM_TYPE=hidden=jabber:iq:register;username=text-single=!;"
	                "password=text-private=(none);server=text-single=irc.libera.chat;"
	                "port=text-single=6667;ssl=boolean=false;");
	stanza_free(q);
	regform_free(f);
}

/* The whole query, pinned: regform_fill_query() is what every client
 * shows, so a change to it must be deliberate. The one since the form was
 * written by hand: integer fields carry an XEP-0122 <validate/>. */
#define IRC_INSTRUCTIONS                                                                           \
	"<instructions>Enter your IRC account details. ferry checks them by logging in once "      \
	"before storing them; your password is stored encrypted.</instructions>"
#define XMPP_INSTRUCTIONS                                                                          \
	"<instructions>Enter your XMPP account details. ferry checks them by logging in once "     \
	"before storing them; your password is stored encrypted.</instructions>"

static const char irc_query[] =
    "<query xmlns='jabber:iq:register'>" IRC_INSTRUCTIONS "<username/><password/>"
    "<x xmlns='jabber:x:data' type='form'>"
    "<title>IRC registration</title>" IRC_INSTRUCTIONS
    "<field type='hidden' var='FORM_TYPE'><value>jabber:iq:register</value></field>"
    "<field type='text-single' var='username' label='Nickname'><required/><value/></field>"
    "<field type='text-private' var='password' label='IRC server password, or SASL "
    "password with SASL'/>"
    "<field type='text-single' var='server' label='Server'><value>irc.libera.chat</value>"
    "</field>"
    "<field type='text-single' var='port' label='Port'>"
    "<validate xmlns='http://jabber.org/protocol/xdata-validate' datatype='xs:integer'>"
    "<range min='-2147483648' max='2147483647'/></validate><value>6667</value></field>"
    "<field type='boolean' var='ssl' label='Use SSL'><value>false</value></field>"
    "</x></query>";

static const char xmpp_query[] =
    "<query xmlns='jabber:iq:register'>" XMPP_INSTRUCTIONS "<username/><password/>"
    "<x xmlns='jabber:x:data' type='form'>"
    "<title>XMPP registration</title>" XMPP_INSTRUCTIONS
    "<field type='hidden' var='FORM_TYPE'><value>jabber:iq:register</value></field>"
    "<field type='text-single' var='username' label='Username'><required/><value/></field>"
    "<field type='text-private' var='password' label='Password'><required/></field>"
    "<field type='text-single' var='domain' label='Domain'><value/></field>"
    "<field type='text-single' var='resource' label='Resource'><value/></field>"
    "<field type='list-single' var='connection_security' label='Connection security'>"
    "<value>require_starttls</value>"
    "<option label='Require encryption'><value>require_starttls</value></option>"
    "<option label='Use encryption if available'><value>opportunistic_tls</value></option>"
    "</field></x></query>";

static void test_query_pinned(void)
{
	const struct {
		const char *desc, *xml;
	} cases[] = {{IRC_DESC, irc_query}, {XMPP_DESC, xmpp_query}};
	for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
		struct regform *f = new_form(cases[i].desc, NULL, NULL);
		struct stanza *q = stanza_new_ns("query", "jabber:iq:register");
		regform_fill_query(f, q, NULL);
		g_autofree char *xml = stanza_to_string(q);
		g_assert_cmpstr(xml, ==, cases[i].xml);
		stanza_free(q);
		regform_free(f);
	}
}

static void test_list_options(void)
{
	struct regform *f = new_form(XMPP_DESC, NULL, NULL);
	g_assert_false(regform_password_optional(f));
	struct stanza *q = stanza_new_ns("query", "jabber:iq:register");
	regform_fill_query(f, q, NULL);
	g_autofree char *fields = describe_form(q);
	g_assert_cmpstr(fields, ==,
	                "FORM_TYPE=hidden=jabber:iq:register;username=text-single=!;"
	                "password=text-private=(none)!;domain=text-single=;resource=text-single=;"
	                "connection_security=list-single=require_starttls;");
	const struct stanza *x = stanza_find_child(q, "x", "jabber:x:data");
	guint options = 0;
	for (struct stanza *fl = stanza_next_child(x, NULL); fl != NULL;
	     fl = stanza_next_child(x, fl))
		for (struct stanza *o = stanza_next_child(fl, NULL); o != NULL;
		     o = stanza_next_child(fl, o))
			if (strcmp(stanza_name(o), "option") == 0)
				options++;
	g_assert_cmpuint(options, ==, 2);
	stanza_free(q);
	regform_free(f);
}

static void test_presets_and_locks(void)
{
	g_autoptr(GHashTable) presets = new_table();
	put(presets, "server", "irc.example.org");
	put(presets, "port", "6697");
	put(presets, "ssl", "TRUE");
	put(presets, "encoding", "ISO-8859-1");
	g_auto(GStrv) locked = g_strsplit("server;port;ssl", ";", -1);
	struct regform *f = new_form(IRC_DESC, presets, locked);
	struct stanza *q = stanza_new_ns("query", "jabber:iq:register");
	regform_fill_query(f, q, NULL);
	g_autofree char *fields = describe_form(q);
	g_assert_cmpstr(fields, ==,
	                "FORM_TYPE=hidden=jabber:iq:register;username=text-single=!;"
	                "password=text-private=(none);");
	stanza_free(q);

	/* A submission cannot override a locked field. */
	struct stanza *iq = parse("<iq type='set' id='r'><query xmlns='jabber:iq:register'>"
	                          "<x xmlns='jabber:x:data' type='submit'>"
	                          "<field var='username'><value>alice</value></field>"
	                          "<field var='server'><value>evil.example</value></field>"
	                          "<field var='port'><value>1</value></field></x></query></iq>");
	GHashTable *settings = NULL;
	char *password = NULL;
	g_autoptr(GError) err = NULL;
	g_assert_true(
	    regform_parse(f, stanza_find_child(iq, "query", NULL), &settings, &password, &err));
	g_assert_no_error(err);
	g_assert_cmpstr(g_hash_table_lookup(settings, "server"), ==, "irc.example.org");
	g_assert_cmpstr(g_hash_table_lookup(settings, "port"), ==, "6697");
	g_assert_cmpstr(g_hash_table_lookup(settings, "ssl"), ==, "true");
	g_assert_cmpstr(password, ==, "");
	g_autofree char *user = regform_legacy_username(f, settings);
	g_assert_cmpstr(user, ==, "alice@irc.example.org");
	g_autoptr(GHashTable) opts = regform_account_options(f, settings);
	g_assert_cmpstr(g_hash_table_lookup(opts, "port"), ==, "6697");
	g_assert_cmpstr(g_hash_table_lookup(opts, "ssl"), ==, "true");
	g_assert_cmpstr(g_hash_table_lookup(opts, "username"), ==, "");
	g_assert_cmpstr(g_hash_table_lookup(opts, "encoding"), ==, "ISO-8859-1");
	g_assert_null(g_hash_table_lookup(opts, "server"));
	g_hash_table_unref(settings);
	secrets_wipe_free(password);
	stanza_free(iq);
	regform_free(f);
}

static void test_bad_presets(void)
{
	const struct {
		const char *key, *value, *lock, *message;
	} cases[] = {
	    {"port", "http", NULL, "[legacy] port: 'http' is not a valid value for this field"},
	    {"ssl", "maybe", NULL, "[legacy] ssl: 'maybe' is not a valid value for this field"},
	    {"colour", "red", NULL,
	     "[legacy] colour: prpl-irc has no registration field of that name; what it offers: "
	     "server, port, encoding, option_username, ssl"},
	    {"server", "x", "username",
	     "[legacy] locked: 'username' is not a field that can be locked"},
	};
	for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autoptr(GHashTable) presets = new_table();
		put(presets, cases[i].key, cases[i].value);
		g_auto(GStrv) locked =
		    g_strsplit(cases[i].lock != NULL ? cases[i].lock : "", ";", -1);
		struct worker_description *d = desc(IRC_DESC);
		g_autoptr(GError) err = NULL;
		g_assert_null(regform_new(d, presets, locked, &err));
		worker_description_free(d);
		g_assert_nonnull(err);
		g_assert_cmpstr(err->message, ==, cases[i].message);
	}
}

/* Presets with a line break are refused like submitted values (a
 * GKeyFile value may hold "\n" and "\r" escapes). */
static void test_bad_preset_characters(void)
{
	const char *const values[] = {"x\r\nPRIVMSG bob :injected", "x\xe2\x80\xa8y", "a\x01"};
	for (gsize i = 0; i < G_N_ELEMENTS(values); i++) {
		g_autoptr(GHashTable) presets = new_table();
		put(presets, "encoding", values[i]);
		struct worker_description *d = desc(IRC_DESC);
		g_autoptr(GError) err = NULL;
		g_assert_null(regform_new(d, presets, NULL, &err));
		worker_description_free(d);
		g_assert_error(err, REGFORM_ERROR, REGFORM_ERROR_CONFIG);
		g_assert_true(g_str_has_prefix(err->message, "[legacy] encoding: "));
	}
}

/* Stored settings are checked again before a login: a line break in any
 * of them, or in the password, refuses the login, naming the field. */
static void test_check_login(void)
{
	struct regform *irc = irc_all();
	g_autoptr(GHashTable) good = new_table();
	put(good, "username", "bob");
	put(good, "encoding", "UTF-8");
	g_autoptr(GError) err = NULL;
	g_assert_true(regform_check_login(irc, good, "pw", &err));
	g_assert_no_error(err);
	g_assert_true(regform_check_login(irc, good, NULL, &err));
	const struct {
		const char *key, *value, *password, *message;
	} cases[] = {
	    {"option_username", "x\r\nPRIVMSG bob :injected", "pw",
	     "the stored value of 'option_username' (Ident name) is not a single line without "
	     "control characters"},
	    {"username", "bob\nQUIT", "pw",
	     "the stored value of 'username' (Nickname) is not a single line without control "
	     "characters"},
	    {"encoding", "UTF-8\xe2\x80\xa9", "pw",
	     "the stored value of 'encoding' (Encodings) is not a single line without control "
	     "characters"},
	    {"encoding", "UTF-8", "pw\r\nJOIN #x",
	     "the stored value of 'password' (IRC server password, or SASL password with SASL) is "
	     "not a single line without control characters"},
	};
	for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autoptr(GHashTable) bad = new_table();
		put(bad, "username", "bob");
		put(bad, cases[i].key, cases[i].value);
		g_autoptr(GError) e = NULL;
		g_assert_false(regform_check_login(irc, bad, cases[i].password, &e));
		g_assert_error(e, REGFORM_ERROR, REGFORM_ERROR_SUBMISSION);
		g_assert_cmpstr(e->message, ==, cases[i].message);
	}
	regform_free(irc);
}

static void test_submissions(void)
{
	struct regform *irc = irc_all();
	g_autoptr(GHashTable) any = new_table();
	put(any, "ferry.allowed_servers", "*");
	struct regform *xmpp = new_form(XMPP_DESC, any, NULL);
	const struct {
		struct regform *form;
		const char *xml;
		const char *user;     /* expected legacy name, NULL: refused */
		const char *password; /* expected password, or the error text */
	} cases[] = {
	    /* Legacy fields only. */
	    {irc, "<username>bob</username><password>pw</password>", "bob@irc.libera.chat", "pw"},
	    /* The form wins over the legacy fields. */
	    {irc,
	     "<username>legacy</username><x xmlns='jabber:x:data' type='submit'>"
	     "<field var='username'><value>fromform</value></field>"
	     "<field var='server'><value>127.0.0.1</value></field></x>",
	     "fromform@127.0.0.1", ""},
	    {irc, "<username>  </username>", NULL, "the field 'username' (Nickname) is required"},
	    {irc, "<x xmlns='jabber:x:data' type='submit'/>", NULL,
	     "the field 'username' (Nickname) is required"},
	    {irc,
	     "<x xmlns='jabber:x:data' type='submit'><field var='username'><value>a</value>"
	     "</field><field var='port'><value>66x</value></field></x>",
	     NULL, "'66x' is not a valid value for 'port' (Port)"},
	    {irc, "<x xmlns='jabber:x:data' type='form'/>", NULL,
	     "the form must be of type 'submit'"},
	    {xmpp,
	     "<x xmlns='jabber:x:data' type='submit'><field var='username'><value>carol</value>"
	     "</field><field var='domain'><value>legacy.localhost</value></field>"
	     "<field var='password'><value> secret with spaces </value></field></x>",
	     "carol@legacy.localhost", " secret with spaces "},
	    {xmpp, "<username>carol</username>", NULL,
	     "the field 'password' (Password) is required"},
	    {xmpp, "<username>carol</username><password></password>", NULL,
	     "a password is required"},
	    {xmpp,
	     "<x xmlns='jabber:x:data' type='submit'><field var='username'><value>c</value>"
	     "</field><field var='password'><value>p</value></field>"
	     "<field var='connection_security'><value>none</value></field></x>",
	     NULL, "'none' is not a valid value for 'connection_security' (Connection security)"},
	    /* Since dataform: the same checks on both paths. Control characters
	     * are refused in every field, and not echoed. */
	    {irc, "<username>bo&#10;b</username>", NULL,
	     "'username' (Nickname) must be a single line without control characters"},
	    {irc, "<username>bob&#9;</username>", NULL,
	     "'username' (Nickname) must be a single line without control characters"},
	    {irc, "<username>bob</username><password>p&#9;w</password>", NULL,
	     "'password' (IRC server password, or SASL password with SASL) must be a single "
	     "line without control characters"},
	    {irc, "<username>bob</username><password>pw&#10;</password>", NULL,
	     "'password' (IRC server password, or SASL password with SASL) must be a single "
	     "line without control characters"},
	    {irc,
	     "<x xmlns='jabber:x:data' type='submit'><field var='username'><value>a&#13;b</value>"
	     "</field></x>",
	     NULL, "'username' (Nickname) must be a single line without control characters"},
	    {xmpp,
	     "<x xmlns='jabber:x:data' type='submit'><field var='username'><value>c</value>"
	     "</field><field var='password'><value>se&#9;cret</value></field></x>",
	     NULL, "'password' (Password) must be a single line without control characters"},
	    {irc,
	     "<x xmlns='jabber:x:data' type='submit'><field var='username'><value>a</value>"
	     "</field><field var='server'><value>irc.example.org&#10;PRIVMSG x</value></field></x>",
	     NULL, "'server' (Server) must be a single line without control characters"},
	    {irc,
	     "<x xmlns='jabber:x:data' type='submit'><field var='username'><value>a</value>"
	     "</field><field var='encoding'><value>UTF-8&#9;</value></field></x>",
	     NULL, "'encoding' (Encodings) must be a single line without control characters"},
	    /* The password byte for byte on the legacy path too; the username
	     * trimmed. */
	    {xmpp, "<username> carol </username><password>  two  spaces  </password>", "carol",
	     "  two  spaces  "},
	    /* One value per field; a form that is not well-formed. */
	    {irc,
	     "<x xmlns='jabber:x:data' type='submit'><field var='username'><value>a</value>"
	     "<value>b</value></field></x>",
	     NULL, "'username' (Nickname) takes one value"},
	    {irc,
	     "<x xmlns='jabber:x:data' type='submit'><field var='username'><value>a</value>"
	     "</field><field var='username'><value>b</value></field></x>",
	     NULL, "the field 'username' appears twice"},
	    {irc, "<x xmlns='jabber:x:data'/>", NULL, "the form must be of type 'submit'"},
	    {xmpp,
	     "<x xmlns='jabber:x:data' type='submit'><field var='username'><value>c</value>"
	     "</field><field var='password'><value/></field></x>",
	     NULL, "a password is required"},
	};
	for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autofree char *xml = g_strdup_printf(
		    "<iq type='set'><query xmlns='jabber:iq:register'>%s</query></iq>",
		    cases[i].xml);
		struct stanza *iq = parse(xml);
		GHashTable *settings = NULL;
		char *password = NULL;
		g_autoptr(GError) err = NULL;
		bool ok = regform_parse(cases[i].form, stanza_find_child(iq, "query", NULL),
		                        &settings, &password, &err);
		if (cases[i].user == NULL) {
			g_assert_false(ok);
			g_assert_error(err, REGFORM_ERROR, REGFORM_ERROR_SUBMISSION);
			g_assert_cmpstr(err->message, ==, cases[i].password);
			g_assert_null(settings);
			g_assert_null(password);
		} else {
			g_assert_no_error(err);
			g_assert_true(ok);
			g_autofree char *user = regform_legacy_username(cases[i].form, settings);
			g_assert_cmpstr(user, ==, cases[i].user);
			g_assert_cmpstr(password, ==, cases[i].password);
			g_assert_null(g_hash_table_lookup(settings, "password"));
			g_hash_table_unref(settings);
			secrets_wipe_free(password);
		}
		stanza_free(iq);
	}
	regform_free(irc);
	regform_free(xmpp);
}

/* What is stored: values normalized by type (dataform_check), defaults
 * for what was left empty, the password apart. */
static void test_normalized_settings(void)
{
	struct regform *f = irc_all();
	struct stanza *iq =
	    parse("<iq type='set'><query xmlns='jabber:iq:register'>"
	          "<x xmlns='jabber:x:data' type='submit'>"
	          "<field type='hidden' var='FORM_TYPE'>"
	          "<value>jabber:iq:register</value></field>"
	          "<field var='username'><value> alice </value></field>"
	          "<field var='password'><value> pw </value></field>"
	          "<field var='port'><value>+06697</value></field>"
	          "<field var='ssl'><value>1</value></field>"
	          "<field var='encoding'><value/></field>"
	          "<field var='colour'><value>red</value></field></x></query></iq>");
	GHashTable *settings = NULL;
	char *password = NULL;
	g_autoptr(GError) err = NULL;
	g_assert_true(
	    regform_parse(f, stanza_find_child(iq, "query", NULL), &settings, &password, &err));
	g_assert_no_error(err);
	g_assert_cmpstr(password, ==, " pw ");
	const char *const expected[][2] = {
	    {"username", "alice"}, {"server", "irc.libera.chat"}, {"port", "6697"},
	    {"encoding", "UTF-8"}, {"option_username", ""},       {"ssl", "true"},
	};
	g_assert_cmpuint(g_hash_table_size(settings), ==, G_N_ELEMENTS(expected));
	for (gsize i = 0; i < G_N_ELEMENTS(expected); i++)
		g_assert_cmpstr(g_hash_table_lookup(settings, expected[i][0]), ==, expected[i][1]);
	g_hash_table_unref(settings);
	secrets_wipe_free(password);
	stanza_free(iq);

	/* The integer range is that of the legacy option (gint32). */
	iq = parse("<iq type='set'><query xmlns='jabber:iq:register'>"
	           "<x xmlns='jabber:x:data' type='submit'>"
	           "<field var='username'><value>a</value></field>"
	           "<field var='port'><value>2147483648</value></field></x></query></iq>");
	g_assert_false(
	    regform_parse(f, stanza_find_child(iq, "query", NULL), &settings, &password, &err));
	g_assert_error(err, REGFORM_ERROR, REGFORM_ERROR_SUBMISSION);
	g_assert_cmpstr(err->message, ==, "'2147483648' is not a valid value for 'port' (Port)");
	stanza_free(iq);
	regform_free(f);
}

static void test_error_quark(void)
{
	g_assert_cmpstr(g_quark_to_string(REGFORM_ERROR), ==, "ferry-regform-error-quark");
}

static void test_prefilled(void)
{
	struct regform *f = irc_all();
	g_autoptr(GHashTable) values = new_table();
	put(values, "username", "alice");
	put(values, "server", "127.0.0.1");
	put(values, "ssl", "true");
	struct stanza *q = stanza_new_ns("query", "jabber:iq:register");
	regform_fill_query(f, q, values);
	g_autofree char *legacy_user = stanza_get_child_text(q, "username", NULL);
	g_assert_cmpstr(legacy_user, ==, "alice");
	g_autofree char *legacy_pw = stanza_get_child_text(q, "password", NULL);
	g_assert_cmpstr(legacy_pw, ==, "");
	g_autofree char *fields = describe_form(q);
	g_assert_cmpstr(fields, ==,
	                "FORM_TYPE=hidden=jabber:iq:register;username=text-single=alice!;"
	                "password=text-private=(none);server=text-single=127.0.0.1;"
	                "port=text-single=6667;encoding=text-single=UTF-8;"
	                "option_username=text-single=;ssl=boolean=true;");
	stanza_free(q);
	regform_free(f);
}

/* The description prpl-irc 2.14.12 gives (ferry-worker --describe). */
#define IRC_FULL_DESC                                                                              \
	"('prpl-irc', 'IRC', uint32 1, [('Server', 'irc.libera.chat', '@')], "                     \
	"[('port', 'int', 'Port', '6667', @a(ss) []), "                                            \
	"('encoding', 'string', 'Encodings', 'UTF-8', []), "                                       \
	"('autodetect_utf8', 'bool', 'Auto-detect incoming UTF-8', 'false', []), "                 \
	"('username', 'string', 'Ident name', '', []), "                                           \
	"('realname', 'string', 'Real name', '', []), "                                            \
	"('ssl', 'bool', 'Use SSL', 'false', []), "                                                \
	"('sasl', 'bool', 'Authenticate with SASL', 'false', []), "                                \
	"('saslname', 'string', 'SASL login name', '', []), "                                      \
	"('auth_plain_in_clear', 'bool', 'Allow plaintext SASL auth over unencrypted "             \
	"connection', 'false', []), "                                                              \
	"('ratelimit-interval', 'int', 'Seconds between sending messages', '2', []), "             \
	"('ratelimit-burst', 'int', 'Maximum messages to send at once', '5', [])])"

static char *form_of(struct regform *f, GHashTable *values)
{
	struct stanza *q = stanza_new_ns("query", "jabber:iq:register");
	regform_fill_query(f, q, values);
	char *fields = describe_form(q);
	stanza_free(q);
	return fields;
}

/* What a user needs, not every libpurple option; the admin adds fields
 * with ferry.fields; locking the server hides "Use SSL" and the port. */
static void test_essentials(void)
{
	struct regform *f = new_form(IRC_FULL_DESC, NULL, NULL);
	g_autofree char *open = form_of(f, NULL);
	g_assert_cmpstr(open, ==,
	                "FORM_TYPE=hidden=jabber:iq:register;username=text-single=!;"
	                "password=text-private=(none);server=text-single=irc.libera.chat;"
	                "port=text-single=6667;ssl=boolean=false;sasl=boolean=false;"
	                "saslname=text-single=;");
	/* hidden options still reach the worker, with their defaults */
	g_autoptr(GHashTable) none = new_table();
	g_autoptr(GHashTable) opts = regform_account_options(f, none);
	g_assert_cmpstr(g_hash_table_lookup(opts, "ratelimit-interval"), ==, "2");
	g_assert_cmpstr(g_hash_table_lookup(opts, "encoding"), ==, "UTF-8");
	regform_free(f);

	g_autoptr(GHashTable) presets = new_table();
	put(presets, "server", "127.0.0.1");
	put(presets, "ratelimit-interval", "0");
	put(presets, "ferry.fields", "realname; ratelimit-burst");
	g_auto(GStrv) locked = g_strsplit("server", ";", -1);
	f = new_form(IRC_FULL_DESC, presets, locked);
	g_autofree char *pinned = form_of(f, NULL);
	g_assert_cmpstr(pinned, ==,
	                "FORM_TYPE=hidden=jabber:iq:register;username=text-single=!;"
	                "password=text-private=(none);realname=text-single=;"
	                "sasl=boolean=false;saslname=text-single=;"
	                "ratelimit-burst=text-single=5;");
	/* What the form does not show takes its preset or default, whatever
	 * was stored (or submitted) before. */
	g_autoptr(GHashTable) stored = new_table();
	put(stored, "username", "bob");
	put(stored, "ssl", "true");
	put(stored, "ratelimit-interval", "7");
	put(stored, "realname", "Bob B");
	g_autoptr(GHashTable) o = regform_account_options(f, stored);
	g_assert_cmpstr(g_hash_table_lookup(o, "ssl"), ==, "false");
	g_assert_cmpstr(g_hash_table_lookup(o, "ratelimit-interval"), ==, "0");
	g_assert_cmpstr(g_hash_table_lookup(o, "realname"), ==, "Bob B");
	g_autofree char *user = regform_legacy_username(f, stored);
	g_assert_cmpstr(user, ==, "bob@127.0.0.1");
	regform_free(f);
}

/* ferry's own [legacy] keys are ferry.<name>; no protocol field has a dot. */
static void test_ferry_keys(void)
{
	const struct {
		const char *key, *value, *lock, *message;
	} cases[] = {
	    {"ferry.feilds", "sasl", NULL,
	     "[legacy] ferry.feilds: ferry has no such setting (its own [legacy] keys are "
	     "written ferry.<name>: ferry.fields, ferry.allowed_servers)"},
	    {"se.rver", "x", NULL,
	     "[legacy] se.rver: no prpl-irc field has a '.' in its name; ferry's own keys are "
	     "written ferry.<name>"},
	    {"ferry.fields", "colour", NULL,
	     "[legacy] ferry.fields: 'colour' is not an account option of prpl-irc"},
	    {"ferry.fields", "server", NULL,
	     "[legacy] ferry.fields: 'server' is not an account option of prpl-irc"},
	    {"ferry.fields", "ssl", "server",
	     "[legacy] ferry.fields: 'ssl' goes with the locked 'server'"},
	    {"ferry.fields", "encoding", "encoding", "[legacy] ferry.fields: 'encoding' is locked"},
	};
	for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autoptr(GHashTable) presets = new_table();
		put(presets, cases[i].key, cases[i].value);
		put(presets, "server", "irc.example.org");
		put(presets, "encoding", "UTF-8");
		g_auto(GStrv) locked =
		    g_strsplit(cases[i].lock != NULL ? cases[i].lock : "", ";", -1);
		struct worker_description *d = desc(IRC_FULL_DESC);
		g_autoptr(GError) err = NULL;
		g_assert_null(regform_new(d, presets, locked, &err));
		g_assert_error(err, REGFORM_ERROR, REGFORM_ERROR_CONFIG);
		g_assert_cmpstr(err->message, ==, cases[i].message);
		/* the same check without a gateway, as --check-config makes it */
		struct settings st = {.legacy_overrides = presets, .legacy_locked = locked};
		g_autoptr(GError) err2 = NULL;
		g_assert_false(regform_check_presets(&st, d, &err2));
		g_assert_cmpstr(err2->message, ==, cases[i].message);
		worker_description_free(d);
	}
	g_autoptr(GHashTable) good = new_table();
	put(good, "ferry.fields", "realname");
	g_auto(GStrv) nolock = g_new0(char *, 1);
	struct settings st = {.legacy_overrides = good, .legacy_locked = nolock};
	struct worker_description *d = desc(IRC_FULL_DESC);
	g_autoptr(GError) err = NULL;
	g_assert_true(regform_check_presets(&st, d, &err));
	g_assert_no_error(err);
	worker_description_free(d);

	/* A protocol option with a '.' in its key stays out of the form. */
	g_test_expect_message("ferry", G_LOG_LEVEL_WARNING, "*option 'a.b' left out*");
	struct regform *f = new_form("('prpl-x', 'X', uint32 0, @a(sss) [], "
	                             "[('a.b', 'string', 'Dotted', 'v', @a(ss) []), "
	                             "('c', 'string', 'Plain', 'w', [])])",
	                             NULL, NULL);
	g_test_assert_expected_messages();
	g_autofree char *fields = form_of(f, NULL);
	g_assert_cmpstr(fields, ==,
	                "FORM_TYPE=hidden=jabber:iq:register;username=text-single=!;"
	                "password=text-private=(none)!;c=text-single=w;");
	regform_free(f);
}

/* Submits SERVER to FORM: NULL when accepted, else the error text. */
static char *submit_server(struct regform *form, const char *server)
{
	g_autofree char *xml = g_strdup_printf(
	    "<iq type='set'><query xmlns='jabber:iq:register'><x xmlns='jabber:x:data' "
	    "type='submit'><field var='username'><value>bob</value></field>"
	    "<field var='server'><value>%s</value></field></x></query></iq>",
	    server);
	struct stanza *iq = parse(xml);
	GHashTable *settings = NULL;
	char *password = NULL;
	GError *err = NULL;
	bool ok =
	    regform_parse(form, stanza_find_child(iq, "query", NULL), &settings, &password, &err);
	stanza_free(iq);
	if (ok) {
		g_hash_table_unref(settings);
		secrets_wipe_free(password);
		return NULL;
	}
	g_assert_error(err, REGFORM_ERROR, REGFORM_ERROR_SUBMISSION);
	char *msg = g_strdup(err->message);
	g_error_free(err);
	return msg;
}

/* The servers users may choose: the preset only, unless [legacy]
 * ferry.allowed_servers lists more; what the workers are told. */
static void test_allowed_servers(void)
{
	/* No list: the preset server only. */
	g_autoptr(GHashTable) presets = new_table();
	put(presets, "server", "irc.example.net");
	struct regform *f = new_form(IRC_DESC, presets, NULL);
	g_assert_null(submit_server(f, "irc.example.net"));
	g_assert_null(submit_server(f, "IRC.Example.Net."));
	g_autofree char *m1 = submit_server(f, "127.0.0.2");
	g_assert_cmpstr(m1, ==,
	                "server: '127.0.0.2' is not a server this transport connects to; it "
	                "connects to: irc.example.net");
	g_autofree char *m2 = submit_server(f, "irc.other.net");
	g_assert_nonnull(m2);
	const char *const *allowed = regform_allowed_servers(f);
	g_assert_cmpstr(allowed[0], ==, "irc.example.net");
	g_assert_null(allowed[1]);
	g_assert_true(regform_server_open(f)); /* open, and no list */
	regform_free(f);

	/* A list: names, addresses, CIDRs. */
	put(presets, "ferry.allowed_servers", "irc.example.net; 10.0.0.0/8, 127.0.0.1");
	f = new_form(IRC_DESC, presets, NULL);
	g_assert_null(submit_server(f, "10.20.30.40"));
	g_assert_null(submit_server(f, "127.0.0.1"));
	g_autofree char *m3 = submit_server(f, "127.0.0.2");
	g_assert_cmpstr(m3, ==,
	                "server: '127.0.0.2' is not a server this transport connects to; it "
	                "connects to: irc.example.net, 10.0.0.0/8, 127.0.0.1");
	g_autofree char *m4 = submit_server(f, "192.168.1.1");
	g_assert_nonnull(m4);
	g_assert_false(regform_server_open(f));
	allowed = regform_allowed_servers(f);
	g_assert_cmpstr(allowed[1], ==, "10.0.0.0/8");
	regform_free(f);

	/* Locked: the preset always, and nothing for users to choose. */
	g_autoptr(GHashTable) pinned = new_table();
	put(pinned, "server", "127.0.0.1");
	char server[] = "server";
	char *locked[] = {server, NULL};
	f = new_form(IRC_DESC, pinned, locked);
	g_assert_null(submit_server(f, "127.0.0.2")); /* hidden: the preset is taken */
	g_assert_false(regform_server_open(f));
	regform_free(f);

	/* A bad entry is a configuration error naming the key. */
	g_autoptr(GHashTable) bad = new_table();
	put(bad, "ferry.allowed_servers", "irc.example.net, 10.0.0.0/33");
	struct worker_description *d = desc(IRC_DESC);
	g_autoptr(GError) err = NULL;
	g_assert_null(regform_new(d, bad, NULL, &err));
	worker_description_free(d);
	g_assert_error(err, REGFORM_ERROR, REGFORM_ERROR_CONFIG);
	g_assert_cmpstr(err->message, ==,
	                "[legacy] ferry.allowed_servers: '10.0.0.0/33' is not a host name, an "
	                "address, a CIDR or * (e.g. irc.example.net, 192.0.2.7, 10.1.0.0/16)");
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/regform/irc-form", test_irc_form);
	g_test_add_func("/regform/query-pinned", test_query_pinned);
	g_test_add_func("/regform/list-options", test_list_options);
	g_test_add_func("/regform/presets-and-locks", test_presets_and_locks);
	g_test_add_func("/regform/bad-presets", test_bad_presets);
	g_test_add_func("/regform/bad-preset-characters", test_bad_preset_characters);
	g_test_add_func("/regform/check-login", test_check_login);
	g_test_add_func("/regform/submissions", test_submissions);
	g_test_add_func("/regform/normalized-settings", test_normalized_settings);
	g_test_add_func("/regform/prefilled", test_prefilled);
	g_test_add_func("/regform/error-quark", test_error_quark);
	g_test_add_func("/regform/essentials", test_essentials);
	g_test_add_func("/regform/ferry-keys", test_ferry_keys);
	g_test_add_func("/regform/allowed-servers", test_allowed_servers);
	return g_test_run();
}
