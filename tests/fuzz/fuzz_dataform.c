/* libFuzzer target for dataform.c and regform.c: a registration
 * submission, the one form a stranger's client fills in before ferry
 * knows anything about them, checked against the transport's IRC and XMPP
 * registration forms (the descriptions `ferry-worker --describe` prints,
 * as in test_regform.c).
 *
 * The input is XML, parsed by xml_stream inside a wrapper root; its first
 * element is the <query/>. Then:
 *  - regform_parse() on each form: on success every setting, the password,
 *    the legacy account name and the account options are valid UTF-8
 *    without a control character (regform.h: what reaches a worker, and
 *    IRC, is one line); on failure a REGFORM_ERROR_SUBMISSION with a text;
 *  - every jabber:x:data <x/> in the query (or the query itself, if it is
 *    one): when dataform_parse() takes it, writing it with dataform_add_to()
 *    and parsing that again gives the same form (a fixpoint after one
 *    round); dataform_check() against each registration form returns a
 *    submit form of that form's fields and types, values by the rules of
 *    dataform.h, that checks again to itself (normalizing is idempotent),
 *    or a DATAFORM_ERROR (required or invalid) with a text.
 * Any broken promise aborts.
 */
#include "config.h"
#include "ferry/dataform.h"
#include "ferry/regform.h"
#include "ferry/worker_describe.h"
#include "ferry/xml_stream.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_MAX_STANZA_BYTES 8192
#define FUZZ_MAX_DEPTH 16

#define check(cond)                                                                                \
	do {                                                                                       \
		if (!(cond))                                                                       \
			abort();                                                                   \
	} while (0)

/* As in tests/unit/test_regform.c. */
static const char *const descriptions[] = {
    "('prpl-irc', 'IRC', uint32 1, [('Server', 'irc.libera.chat', '@')], "
    "[('port', 'int', 'Port', '6667', @a(ss) []), "
    "('encoding', 'string', 'Encodings', 'UTF-8', []), "
    "('username', 'string', 'Ident name', '', []), "
    "('ssl', 'bool', 'Use SSL', 'false', [])])",
    "('prpl-jabber', 'XMPP', uint32 0, [('Domain', '', '@'), ('Resource', '', '/')], "
    "[('connection_security', 'list', 'Connection security', 'require_starttls', "
    "[('Require encryption', 'require_starttls'), "
    "('Use encryption if available', 'opportunistic_tls')])])",
};

#define N_FORMS G_N_ELEMENTS(descriptions)

static struct regform *regforms[N_FORMS];
static struct dataform *dataforms[N_FORMS]; /* each one's XEP-0004 form */

static void init_forms(void)
{
	if (regforms[0] != NULL)
		return;
	for (size_t i = 0; i < N_FORMS; i++) {
		struct worker_description *d = worker_description_parse(descriptions[i], NULL);
		check(d != NULL);
		/* Every option shown, as in test_regform.c's irc_all(). */
		GHashTable *presets = g_hash_table_new(g_str_hash, g_str_equal);
		if (i == 0)
			g_hash_table_insert(presets, (gpointer) "ferry.fields",
			                    (gpointer) "encoding, option_username");
		regforms[i] = regform_new(d, presets, NULL, NULL);
		check(regforms[i] != NULL);
		g_hash_table_unref(presets);
		worker_description_free(d);
		struct stanza *q = stanza_new_ns("query", "jabber:iq:register");
		regform_fill_query(regforms[i], q, NULL);
		const struct stanza *x = stanza_find_child(q, "x", "jabber:x:data");
		check(x != NULL);
		dataforms[i] = dataform_parse(x, NULL);
		check(dataforms[i] != NULL);
		stanza_free(q);
	}
}

/* TEXT is valid UTF-8 with no control character (TAB_OK: but TAB). */
static void check_line(const char *text, bool tab_ok)
{
	check(text != NULL && g_utf8_validate(text, -1, NULL));
	for (const char *p = text; *p != '\0'; p = g_utf8_next_char(p)) {
		gunichar c = g_utf8_get_char(p);
		check(!g_unichar_iscntrl(c) || (tab_ok && c == '\t'));
	}
}

static void check_table(GHashTable *table)
{
	GHashTableIter it;
	gpointer key, value;
	g_hash_table_iter_init(&it, table);
	while (g_hash_table_iter_next(&it, &key, &value)) {
		check_line(key, false);
		check_line(value, false);
	}
}

static void fuzz_regform(const struct regform *form, const struct stanza *query)
{
	GHashTable *settings = NULL;
	char *password = NULL;
	GError *error = NULL;
	if (!regform_parse(form, query, &settings, &password, &error)) {
		check(error != NULL && error->domain == REGFORM_ERROR &&
		      error->code == REGFORM_ERROR_SUBMISSION);
		check(*error->message != '\0' && g_utf8_validate(error->message, -1, NULL));
		g_error_free(error);
		return;
	}
	check(error == NULL && settings != NULL && password != NULL);
	check_table(settings);
	check_line(password, false);
	char *name = regform_legacy_username(form, settings);
	check_line(name, false);
	g_free(name);
	GHashTable *options = regform_account_options(form, settings);
	check_table(options);
	g_hash_table_unref(options);
	g_hash_table_unref(settings);
	g_free(password);
}

static bool same_str(const char *a, const char *b)
{
	return a == NULL ? b == NULL : b != NULL && strcmp(a, b) == 0;
}

static bool same_values(const struct dataform_field *a, const struct dataform_field *b)
{
	const GPtrArray *va = dataform_field_values(a), *vb = dataform_field_values(b);
	if (va->len != vb->len)
		return false;
	for (guint i = 0; i < va->len; i++) {
		if (strcmp(g_ptr_array_index(va, i), g_ptr_array_index(vb, i)) != 0)
			return false;
	}
	return true;
}

static void check_same_form(const struct dataform *a, const struct dataform *b)
{
	check(dataform_get_type(a) == dataform_get_type(b));
	const struct dataform_field *fa = dataform_next_field(a, NULL);
	const struct dataform_field *fb = dataform_next_field(b, NULL);
	for (; fa != NULL && fb != NULL;
	     fa = dataform_next_field(a, fa), fb = dataform_next_field(b, fb)) {
		check(dataform_field_type(fa) == dataform_field_type(fb));
		check(same_str(dataform_field_var(fa), dataform_field_var(fb)));
		check(same_str(dataform_field_label(fa), dataform_field_label(fb)));
		check(dataform_field_required(fa) == dataform_field_required(fb));
		check(same_values(fa, fb));
	}
	check(fa == NULL && fb == NULL);
}

/* The values of a checked field follow dataform.h's rules for FIELD (of
 * the form the submission answered). */
static void check_values(const struct dataform_field *field, const struct dataform_field *got)
{
	enum dataform_field_type type = dataform_field_type(field);
	const GPtrArray *values = dataform_field_values(got);
	check(values->len >= 1);
	bool single = type != DATAFORM_JID_MULTI && type != DATAFORM_LIST_MULTI &&
	              type != DATAFORM_TEXT_MULTI;
	check(!single || values->len == 1);
	for (guint i = 0; i < values->len; i++) {
		const char *v = g_ptr_array_index(values, i);
		check_line(v, type == DATAFORM_TEXT_MULTI);
		if (type != DATAFORM_TEXT_PRIVATE && *v != '\0') {
			check(!g_ascii_isspace(v[0]) && !g_ascii_isspace(v[strlen(v) - 1]));
		}
		if (type == DATAFORM_BOOLEAN)
			check(strcmp(v, "true") == 0 || strcmp(v, "false") == 0);
	}
}

static void fuzz_check(const struct dataform *form, const struct dataform *submission)
{
	GError *error = NULL;
	struct dataform *checked = dataform_check(form, submission, &error);
	if (checked == NULL) {
		check(error != NULL && error->domain == DATAFORM_ERROR &&
		      (error->code == DATAFORM_ERROR_REQUIRED ||
		       error->code == DATAFORM_ERROR_INVALID));
		check(*error->message != '\0' && g_utf8_validate(error->message, -1, NULL));
		g_error_free(error);
		return;
	}
	check(error == NULL && dataform_get_type(checked) == DATAFORM_SUBMIT);
	for (const struct dataform_field *f = dataform_next_field(checked, NULL); f != NULL;
	     f = dataform_next_field(checked, f)) {
		const struct dataform_field *of = dataform_find_field(form, dataform_field_var(f));
		check(of != NULL && dataform_field_type(of) == dataform_field_type(f));
		check(dataform_field_type(f) != DATAFORM_FIXED);
		check_values(of, f);
	}
	struct dataform *again = dataform_check(form, checked, NULL);
	check(again != NULL);
	check_same_form(checked, again);
	dataform_free(again);
	dataform_free(checked);
}

static void fuzz_form(const struct stanza *x)
{
	GError *error = NULL;
	struct dataform *form = dataform_parse(x, &error);
	if (form == NULL) {
		check(error != NULL && error->domain == DATAFORM_ERROR &&
		      error->code == DATAFORM_ERROR_MALFORMED);
		check(*error->message != '\0');
		g_error_free(error);
		return;
	}
	/* written and read back: the same form, and the same XML again */
	struct stanza *p1 = stanza_new("p");
	struct stanza *x1 = dataform_add_to(form, p1);
	struct dataform *form1 = dataform_parse(x1, NULL);
	check(form1 != NULL);
	check_same_form(form, form1);
	struct stanza *p2 = stanza_new("p");
	dataform_add_to(form1, p2);
	char *xml1 = stanza_to_string(p1), *xml2 = stanza_to_string(p2);
	check(strcmp(xml1, xml2) == 0);
	g_free(xml1);
	g_free(xml2);
	stanza_free(p1);
	stanza_free(p2);
	dataform_free(form1);

	for (size_t i = 0; i < N_FORMS; i++)
		fuzz_check(dataforms[i], form);
	dataform_free(form);
}

struct first {
	struct stanza *stanza;
};

static void on_stanza(void *user_data, struct stanza *stanza)
{
	struct first *first = user_data;
	if (first->stanza == NULL)
		first->stanza = stanza;
	else
		stanza_free(stanza);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	init_forms();
	struct first first = {0};
	struct xml_stream_callbacks cb = {.stanza = on_stanza};
	struct xml_stream *s = xml_stream_new(FUZZ_MAX_STANZA_BYTES, FUZZ_MAX_DEPTH, &cb, &first);
	(void)(xml_stream_feed(s, "<r>", 3, NULL) &&
	       xml_stream_feed(s, (const char *)data, size, NULL));
	xml_stream_free(s);
	if (first.stanza == NULL)
		return 0;
	const struct stanza *query = first.stanza;
	for (size_t i = 0; i < N_FORMS; i++)
		fuzz_regform(regforms[i], query);
	if (stanza_is(query, "x", "jabber:x:data"))
		fuzz_form(query);
	for (const struct stanza *c = stanza_next_child(query, NULL); c != NULL;
	     c = stanza_next_child(query, c)) {
		if (stanza_is(c, "x", "jabber:x:data"))
			fuzz_form(c);
	}
	stanza_free(first.stanza);
	return 0;
}
