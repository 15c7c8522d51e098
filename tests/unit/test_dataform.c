/* Unit tests for dataform: building a form and writing it as XEP-0004 XML,
 * parsing forms back (and every way a form can be malformed), and checking
 * submissions value by value by field type (XEP-0004 §3.3, XEP-0122
 * integers).
 *
 * Expected XML and expected messages are written out by hand from XEP-0004
 * (§3.3 field types, the §4 and §6 examples) and XEP-0122 §3.
 */
#include "config.h"
#include "ferry/dataform.h"

#include <string.h>

#include "helpers.h"

/* Asserts that ST serializes to exactly EXPECTED. */
#define assert_xml(st, expected)                                                                   \
	do {                                                                                       \
		char *xml_ = stanza_to_string(st);                                                 \
		g_assert_cmpstr(xml_, ==, (expected));                                             \
		g_free(xml_);                                                                      \
	} while (0)

/* "var=v1|v2;" for every field of FORM, in order (fixed fields: "-="). */
static char *describe(const struct dataform *form)
{
	GString *s = g_string_new(NULL);
	for (const struct dataform_field *f = dataform_next_field(form, NULL); f != NULL;
	     f = dataform_next_field(form, f)) {
		const GPtrArray *values = dataform_field_values(f);
		const char *var = dataform_field_var(f);
		g_string_append_printf(s, "%s=", var != NULL ? var : "-");
		for (guint i = 0; i < values->len; i++)
			g_string_append_printf(s, "%s%s", i > 0 ? "|" : "",
			                       (const char *)g_ptr_array_index(values, i));
		g_string_append_c(s, ';');
	}
	return g_string_free(s, FALSE);
}

/* The <x/> of a stanza written by the test, parsed into a form. */
static struct dataform *parse_form(const char *x_xml, GError **error)
{
	g_autofree char *xml = g_strdup_printf("<message>%s</message>", x_xml);
	struct stanza *msg = test_parse_stanza(xml);
	struct dataform *form = dataform_parse(stanza_next_child(msg, NULL), error);
	stanza_free(msg);
	return form;
}

/* ---- building and writing ----------------------------------------------- */

/* A form with every field type and every kind of child, in the spirit of
 * the XEP-0004 §6 bot configuration example. */
static struct dataform *bot_form(void)
{
	struct dataform *f = dataform_new(DATAFORM_FORM);
	dataform_set_title(f, "an earlier title");
	dataform_set_title(f, "Bot Configuration");
	dataform_add_instructions(f, "Fill out this form to configure your new bot!");
	dataform_add_instructions(f, "Fields marked required must be filled in.");
	struct dataform_field *fl = dataform_add_field(f, DATAFORM_FIXED, NULL, NULL);
	dataform_field_add_value(fl, "Section 1: Bot Info");
	fl = dataform_add_field(f, DATAFORM_TEXT_SINGLE, "botname", "The name of your bot");
	dataform_field_set_desc(fl, "an earlier desc");
	dataform_field_set_desc(fl, "Shown to the bot's users");
	dataform_field_set_required(fl, true);
	dataform_field_add_value(fl, "replaced");
	dataform_field_add_value(fl, "Botty");
	fl = dataform_add_field(f, DATAFORM_TEXT_SINGLE, "port", "Port");
	dataform_field_set_integer(fl, 1, 65535);
	dataform_field_set_required(fl, true);
	dataform_field_set_desc(fl, "TCP port");
	dataform_field_add_value(fl, "5222");
	fl = dataform_add_field(f, DATAFORM_TEXT_MULTI, "description",
	                        "Helpful description of your bot");
	dataform_field_add_value(fl, "line one");
	dataform_field_add_value(fl, "line two");
	fl = dataform_add_field(f, DATAFORM_BOOLEAN, "public", "Public bot?");
	dataform_field_set_required(fl, true);
	dataform_field_add_value(fl, "0");
	dataform_add_field(f, DATAFORM_TEXT_PRIVATE, "password", "Password for special access");
	fl = dataform_add_field(f, DATAFORM_LIST_MULTI, "features",
	                        "What features will the bot support?");
	dataform_field_add_option(fl, "Contests", "contests");
	dataform_field_add_option(fl, NULL, "news");
	dataform_field_add_value(fl, "news");
	dataform_field_add_value(fl, "contests");
	fl = dataform_add_field(f, DATAFORM_LIST_SINGLE, "maxsubs", NULL);
	dataform_field_add_option(fl, "10", "10");
	dataform_field_add_option(fl, "20", "20");
	dataform_field_add_value(fl, "10");
	dataform_field_add_value(fl, "20");
	fl = dataform_add_field(f, DATAFORM_JID_MULTI, "invitelist", "People to invite");
	dataform_field_add_value(fl, "juliet@capulet.lit");
	dataform_field_add_value(fl, "romeo@montague.lit");
	fl = dataform_add_field(f, DATAFORM_JID_SINGLE, "owner", "Owner");
	dataform_field_add_value(fl, "nurse@capulet.lit");
	/* Set last, written first; a second call replaces the value. */
	dataform_set_form_type(f, "urn:example:old");
	dataform_set_form_type(f, "urn:example:bot");
	return f;
}

static const char bot_form_xml[] =
    "<message><x xmlns='jabber:x:data' type='form'>"
    "<title>Bot Configuration</title>"
    "<instructions>Fill out this form to configure your new bot!</instructions>"
    "<instructions>Fields marked required must be filled in.</instructions>"
    "<field type='hidden' var='FORM_TYPE'><value>urn:example:bot</value></field>"
    "<field type='fixed'><value>Section 1: Bot Info</value></field>"
    "<field type='text-single' var='botname' label='The name of your bot'>"
    "<desc>Shown to the bot's users</desc><required/><value>Botty</value></field>"
    "<field type='text-single' var='port' label='Port'><desc>TCP port</desc><required/>"
    "<validate xmlns='http://jabber.org/protocol/xdata-validate' datatype='xs:integer'>"
    "<range min='1' max='65535'/></validate><value>5222</value></field>"
    "<field type='text-multi' var='description' label='Helpful description of your bot'>"
    "<value>line one</value><value>line two</value></field>"
    "<field type='boolean' var='public' label='Public bot?'><required/><value>0</value>"
    "</field>"
    "<field type='text-private' var='password' label='Password for special access'/>"
    "<field type='list-multi' var='features' label='What features will the bot support?'>"
    "<value>news</value><value>contests</value>"
    "<option label='Contests'><value>contests</value></option>"
    "<option><value>news</value></option></field>"
    "<field type='list-single' var='maxsubs'><value>20</value>"
    "<option label='10'><value>10</value></option>"
    "<option label='20'><value>20</value></option></field>"
    "<field type='jid-multi' var='invitelist' label='People to invite'>"
    "<value>juliet@capulet.lit</value><value>romeo@montague.lit</value></field>"
    "<field type='jid-single' var='owner' label='Owner'><value>nurse@capulet.lit</value>"
    "</field>"
    "</x></message>";

static void test_build_write(void)
{
	struct dataform *f = bot_form();
	struct stanza *msg = stanza_new("message");
	struct stanza *x = dataform_add_to(f, msg);
	g_assert_true(stanza_parent(x) == msg);
	g_assert_true(stanza_is(x, "x", "jabber:x:data"));
	assert_xml(msg, bot_form_xml);
	stanza_free(msg);
	dataform_free(f);
}

static void test_build_read(void)
{
	struct dataform *f = bot_form();
	g_assert_cmpint(dataform_get_type(f), ==, DATAFORM_FORM);
	g_assert_cmpstr(dataform_get_form_type(f), ==, "urn:example:bot");
	g_autofree char *all = describe(f);
	g_assert_cmpstr(all, ==,
	                "FORM_TYPE=urn:example:bot;-=Section 1: Bot Info;botname=Botty;port=5222;"
	                "description=line one|line two;public=0;password=;features=news|contests;"
	                "maxsubs=20;invitelist=juliet@capulet.lit|romeo@montague.lit;"
	                "owner=nurse@capulet.lit;");
	const struct dataform_field *port = dataform_find_field(f, "port");
	g_assert_nonnull(port);
	g_assert_cmpint(dataform_field_type(port), ==, DATAFORM_TEXT_SINGLE);
	g_assert_cmpstr(dataform_field_var(port), ==, "port");
	g_assert_cmpstr(dataform_field_label(port), ==, "Port");
	g_assert_true(dataform_field_required(port));
	g_assert_cmpstr(dataform_field_value(port), ==, "5222");
	const struct dataform_field *pw = dataform_find_field(f, "password");
	g_assert_false(dataform_field_required(pw));
	g_assert_null(dataform_field_value(pw));
	g_assert_cmpuint(dataform_field_values(pw)->len, ==, 0);
	g_assert_null(dataform_field_label(dataform_find_field(f, "maxsubs")));
	g_assert_cmpstr(dataform_get_value(f, "invitelist"), ==, "juliet@capulet.lit");
	g_assert_null(dataform_get_value(f, "password"));
	g_assert_null(dataform_get_value(f, "nosuchfield"));
	g_assert_null(dataform_find_field(f, "nosuchfield"));
	dataform_free(f);

	struct dataform *empty = dataform_new(DATAFORM_RESULT);
	g_assert_cmpint(dataform_get_type(empty), ==, DATAFORM_RESULT);
	g_assert_null(dataform_get_form_type(empty));
	g_assert_null(dataform_next_field(empty, NULL));
	dataform_free(empty);
	dataform_free(NULL);
}

static void test_write_form_types(void)
{
	const struct {
		enum dataform_type type;
		const char *xml;
	} cases[] = {
	    {DATAFORM_FORM, "<iq><x xmlns='jabber:x:data' type='form'/></iq>"},
	    {DATAFORM_SUBMIT, "<iq><x xmlns='jabber:x:data' type='submit'/></iq>"},
	    {DATAFORM_CANCEL, "<iq><x xmlns='jabber:x:data' type='cancel'/></iq>"},
	    {DATAFORM_RESULT, "<iq><x xmlns='jabber:x:data' type='result'/></iq>"},
	};
	for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
		struct dataform *f = dataform_new(cases[i].type);
		struct stanza *iq = stanza_new("iq");
		dataform_add_to(f, iq);
		assert_xml(iq, cases[i].xml);
		stanza_free(iq);
		dataform_free(f);
	}
}

/* FORM_TYPE goes first even into an empty form, and is found again. */
static void test_form_type_only(void)
{
	struct dataform *f = dataform_new(DATAFORM_SUBMIT);
	dataform_set_form_type(f, "jabber:iq:register");
	dataform_field_add_value(dataform_add_field(f, DATAFORM_TEXT_SINGLE, "a", NULL), "1");
	struct stanza *iq = stanza_new("iq");
	dataform_add_to(f, iq);
	assert_xml(iq,
	           "<iq><x xmlns='jabber:x:data' type='submit'>"
	           "<field type='hidden' var='FORM_TYPE'><value>jabber:iq:register</value>"
	           "</field><field type='text-single' var='a'><value>1</value></field></x></iq>");
	stanza_free(iq);
	dataform_free(f);
}

/* Misuse is a programming error: refused with a critical, not a GError. */
static void test_programming_errors(void)
{
	struct dataform *f = dataform_new(DATAFORM_FORM);
	g_assert_nonnull(dataform_add_field(f, DATAFORM_TEXT_SINGLE, "a", NULL));
	g_test_expect_message(G_LOG_DOMAIN, G_LOG_LEVEL_CRITICAL, "*dataform_find_field*");
	g_assert_null(dataform_add_field(f, DATAFORM_BOOLEAN, "a", NULL));
	g_test_assert_expected_messages();
	g_test_expect_message(G_LOG_DOMAIN, G_LOG_LEVEL_CRITICAL, "*DATAFORM_FIXED*");
	g_assert_null(dataform_add_field(f, DATAFORM_TEXT_SINGLE, NULL, NULL));
	g_test_assert_expected_messages();
	g_autofree char *all = describe(f);
	g_assert_cmpstr(all, ==, "a=;");
	dataform_free(f);
}

/* ---- parsing ------------------------------------------------------------ */

/* Build, write, parse, write again: the same XML, so the same fields,
 * labels, descs, required flags, integer ranges, values and options. */
static void test_round_trip(void)
{
	struct dataform *f = bot_form();
	struct stanza *msg = stanza_new("message");
	dataform_add_to(f, msg);
	g_autofree char *first = stanza_to_string(msg);
	stanza_free(msg);
	dataform_free(f);

	g_autoptr(GError) err = NULL;
	struct stanza *parsed = test_parse_stanza(first);
	struct dataform *back = dataform_parse(stanza_next_child(parsed, NULL), &err);
	g_assert_no_error(err);
	g_assert_nonnull(back);
	stanza_free(parsed);
	g_assert_cmpint(dataform_get_type(back), ==, DATAFORM_FORM);
	g_assert_cmpstr(dataform_get_form_type(back), ==, "urn:example:bot");
	const struct {
		const char *var;
		enum dataform_field_type type;
		const char *label;
		bool required;
	} fields[] = {
	    {"FORM_TYPE", DATAFORM_HIDDEN, NULL, false},
	    {NULL, DATAFORM_FIXED, NULL, false},
	    {"botname", DATAFORM_TEXT_SINGLE, "The name of your bot", true},
	    {"port", DATAFORM_TEXT_SINGLE, "Port", true},
	    {"description", DATAFORM_TEXT_MULTI, "Helpful description of your bot", false},
	    {"public", DATAFORM_BOOLEAN, "Public bot?", true},
	    {"password", DATAFORM_TEXT_PRIVATE, "Password for special access", false},
	    {"features", DATAFORM_LIST_MULTI, "What features will the bot support?", false},
	    {"maxsubs", DATAFORM_LIST_SINGLE, NULL, false},
	    {"invitelist", DATAFORM_JID_MULTI, "People to invite", false},
	    {"owner", DATAFORM_JID_SINGLE, "Owner", false},
	};
	const struct dataform_field *fl = NULL;
	for (gsize i = 0; i < G_N_ELEMENTS(fields); i++) {
		fl = dataform_next_field(back, fl);
		g_assert_nonnull(fl);
		g_assert_cmpstr(dataform_field_var(fl), ==, fields[i].var);
		g_assert_cmpint(dataform_field_type(fl), ==, fields[i].type);
		g_assert_cmpstr(dataform_field_label(fl), ==, fields[i].label);
		g_assert_cmpint(dataform_field_required(fl), ==, fields[i].required);
	}
	g_assert_null(dataform_next_field(back, fl));
	g_autofree char *values = describe(back);
	g_assert_cmpstr(values, ==,
	                "FORM_TYPE=urn:example:bot;-=Section 1: Bot Info;botname=Botty;port=5222;"
	                "description=line one|line two;public=0;password=;features=news|contests;"
	                "maxsubs=20;invitelist=juliet@capulet.lit|romeo@montague.lit;"
	                "owner=nurse@capulet.lit;");

	msg = stanza_new("message");
	dataform_add_to(back, msg);
	assert_xml(msg, first);
	stanza_free(msg);

	/* The parsed form works as a template: its range and options hold. */
	struct dataform *sub = dataform_new(DATAFORM_SUBMIT);
	dataform_field_add_value(dataform_add_field(sub, DATAFORM_TEXT_SINGLE, "botname", NULL),
	                         "b");
	dataform_field_add_value(dataform_add_field(sub, DATAFORM_TEXT_SINGLE, "public", NULL),
	                         "1");
	struct dataform_field *port = dataform_add_field(sub, DATAFORM_TEXT_SINGLE, "port", NULL);
	dataform_field_add_value(port, "65536");
	g_assert_null(dataform_check(back, sub, &err));
	g_assert_error(err, DATAFORM_ERROR, DATAFORM_ERROR_INVALID);
	g_assert_cmpstr(err->message, ==, "'65536' is not a valid value for 'port' (Port)");
	g_clear_error(&err);
	dataform_field_add_value(port, "65535");
	struct dataform_field *subs =
	    dataform_add_field(sub, DATAFORM_TEXT_SINGLE, "maxsubs", NULL);
	dataform_field_add_value(subs, "30");
	g_assert_null(dataform_check(back, sub, &err));
	g_assert_error(err, DATAFORM_ERROR, DATAFORM_ERROR_INVALID);
	g_assert_cmpstr(err->message, ==, "'30' is not a valid value for 'maxsubs'");
	g_clear_error(&err);
	dataform_field_add_value(subs, "10");
	struct dataform *ok = dataform_check(back, sub, &err);
	g_assert_no_error(err);
	g_autofree char *checked = describe(ok);
	g_assert_cmpstr(checked, ==, "botname=b;port=65535;public=true;maxsubs=10;");
	dataform_free(ok);
	dataform_free(sub);
	dataform_free(back);
}

/* What a parser must accept: XEP-0004 defaults, and children it does not
 * know or cannot use, which it skips. */
static void test_parse_lenient(void)
{
	g_autoptr(GError) err = NULL;
	struct dataform *f = parse_form(
	    "<x xmlns='jabber:x:data' type='submit'><title>t1</title><title>t2</title>"
	    "<unknown/><reported><field var='r'/></reported>"
	    "<field var='untyped' label='L'><value> v </value><value>w</value><foo/></field>"
	    "<field type='fixed'><value>a</value><value>b</value></field>"
	    "<field type='text-single' var='n'>"
	    "<validate xmlns='http://jabber.org/protocol/xdata-validate' datatype='xs:integer'/>"
	    "</field>"
	    "<field type='text-single' var='s'>"
	    "<validate xmlns='http://jabber.org/protocol/xdata-validate' datatype='xs:string'>"
	    "<range min='1' max='2'/></validate></field>"
	    "<field type='text-single' var='bad'>"
	    "<validate xmlns='http://jabber.org/protocol/xdata-validate' datatype='xs:integer'>"
	    "<range min='x' max='2'/></validate></field>"
	    "<field type='list-single' var='l'><option label='no value'/>"
	    "<option><value>ok</value></option></field>"
	    "<field type='text-single' var='other-ns'><value xmlns='urn:other'>no</value></field>"
	    "</x>",
	    &err);
	g_assert_no_error(err);
	g_assert_cmpint(dataform_get_type(f), ==, DATAFORM_SUBMIT);
	g_autofree char *all = describe(f);
	/* Values as sent (untrimmed), several even in a single-value field. */
	g_assert_cmpstr(all, ==, "untyped= v |w;-=a|b;n=;s=;bad=;l=;other-ns=;");
	const struct dataform_field *u = dataform_find_field(f, "untyped");
	g_assert_cmpint(dataform_field_type(u), ==, DATAFORM_TEXT_SINGLE);
	g_assert_cmpstr(dataform_field_label(u), ==, "L");
	struct stanza *msg = stanza_new("message");
	dataform_add_to(f, msg);
	/* Only the usable <validate/> survives, with the widest range. */
	assert_xml(msg, "<message><x xmlns='jabber:x:data' type='submit'><title>t2</title>"
	                "<field type='text-single' var='untyped' label='L'><value> v </value>"
	                "<value>w</value></field>"
	                "<field type='fixed'><value>a</value><value>b</value></field>"
	                "<field type='text-single' var='n'>"
	                "<validate xmlns='http://jabber.org/protocol/xdata-validate' "
	                "datatype='xs:integer'><range min='-9223372036854775808' "
	                "max='9223372036854775807'/></validate></field>"
	                "<field type='text-single' var='s'/>"
	                "<field type='text-single' var='bad'/>"
	                "<field type='list-single' var='l'><option><value>ok</value></option>"
	                "</field><field type='text-single' var='other-ns'/>"
	                /* The table, read too, goes after the fields. */
	                "<reported><field type='text-single' var='r'/></reported></x></message>");
	stanza_free(msg);
	dataform_free(f);
}

struct parse_error_case {
	const char *path;
	const char *xml; /* the first child of a <message/> */
	const char *message;
};

static const struct parse_error_case parse_error_cases[] = {
    {"/dataform/parse/error/not-x", "<y xmlns='jabber:x:data' type='form'/>",
     "not a data form (an <x/> in jabber:x:data)"},
    {"/dataform/parse/error/wrong-namespace", "<x xmlns='jabber:x:oob' type='form'/>",
     "not a data form (an <x/> in jabber:x:data)"},
    {"/dataform/parse/error/no-namespace", "<x type='form'/>",
     "not a data form (an <x/> in jabber:x:data)"},
    {"/dataform/parse/error/no-type", "<x xmlns='jabber:x:data'/>", "the data form has no type"},
    {"/dataform/parse/error/unknown-type", "<x xmlns='jabber:x:data' type='Submit'/>",
     "'Submit' is not a data form type"},
    {"/dataform/parse/error/unknown-field-type",
     "<x xmlns='jabber:x:data' type='submit'><field type='password' var='p'/></x>",
     "'password' is not a data form field type"},
    {"/dataform/parse/error/no-var",
     "<x xmlns='jabber:x:data' type='form'><field type='boolean'/></x>",
     "a boolean field has no var"},
    {"/dataform/parse/error/untyped-no-var",
     "<x xmlns='jabber:x:data' type='submit'><field><value>v</value></field></x>",
     "a text-single field has no var"},
    {"/dataform/parse/error/var-twice",
     "<x xmlns='jabber:x:data' type='submit'><field var='a'/><field type='fixed'/>"
     "<field type='hidden' var='a'/></x>",
     "the field 'a' appears twice"},
    {"/dataform/parse/error/table/item-first",
     "<x xmlns='jabber:x:data' type='result'><item><field var='a'/></item>"
     "<reported><field var='a'/></reported></x>",
     "an <item/> without a <reported/> before it"},
    {"/dataform/parse/error/table/reported-twice",
     "<x xmlns='jabber:x:data' type='result'><reported><field var='a'/></reported>"
     "<reported><field var='b'/></reported></x>",
     "a <reported/> after another or after an <item/>"},
    {"/dataform/parse/error/table/reported-after-item",
     "<x xmlns='jabber:x:data' type='result'><reported><field var='a'/></reported>"
     "<item><field var='a'/></item><reported/></x>",
     "a <reported/> after another or after an <item/>"},
    {"/dataform/parse/error/table/column-no-var",
     "<x xmlns='jabber:x:data' type='result'><reported><field type='fixed'/></reported></x>",
     "a reported field without a var, of an unknown type or twice"},
    {"/dataform/parse/error/table/column-bad-type",
     "<x xmlns='jabber:x:data' type='result'><reported><field type='x' var='a'/></reported></x>",
     "a reported field without a var, of an unknown type or twice"},
    {"/dataform/parse/error/table/column-twice",
     "<x xmlns='jabber:x:data' type='result'><reported><field var='a'/><field var='a'/>"
     "</reported></x>",
     "a reported field without a var, of an unknown type or twice"},
    {"/dataform/parse/error/table/not-reported",
     "<x xmlns='jabber:x:data' type='result'><reported><field var='a'/></reported>"
     "<item><field var='b'><value>1</value></field></item></x>",
     "an item field 'b' that is not reported"},
};

static void test_parse_error(gconstpointer data)
{
	const struct parse_error_case *c = data;
	GError *err = NULL;
	g_assert_null(parse_form(c->xml, &err));
	g_assert_error(err, DATAFORM_ERROR, DATAFORM_ERROR_MALFORMED);
	g_assert_cmpstr(err->message, ==, c->message);
	g_error_free(err);
}

/* ---- checking a submission ---------------------------------------------- */

/* The form every check case answers. */
static struct dataform *check_form(void)
{
	struct dataform *f = dataform_new(DATAFORM_FORM);
	dataform_set_form_type(f, "urn:example:test");
	dataform_add_field(f, DATAFORM_FIXED, NULL, NULL);
	dataform_field_add_value(dataform_add_field(f, DATAFORM_FIXED, "banner", NULL), "Hello");
	struct dataform_field *fl = dataform_add_field(f, DATAFORM_TEXT_SINGLE, "user", "Nickname");
	dataform_field_set_required(fl, true);
	dataform_add_field(f, DATAFORM_TEXT_PRIVATE, "pw", "Password");
	dataform_add_field(f, DATAFORM_TEXT_MULTI, "notes", "Notes");
	dataform_add_field(f, DATAFORM_BOOLEAN, "flag", "Flag");
	dataform_field_set_integer(dataform_add_field(f, DATAFORM_TEXT_SINGLE, "port", "Port"), 1,
	                           65535);
	dataform_field_set_integer(dataform_add_field(f, DATAFORM_TEXT_SINGLE, "level", NULL), -10,
	                           10);
	fl = dataform_add_field(f, DATAFORM_LIST_SINGLE, "mode", "Mode");
	dataform_field_add_option(fl, "Option A", "a");
	dataform_field_add_option(fl, "Option B", "b");
	fl = dataform_add_field(f, DATAFORM_LIST_MULTI, "tags", "Tags");
	dataform_field_add_option(fl, NULL, "x");
	dataform_field_add_option(fl, NULL, "y");
	dataform_field_add_option(fl, NULL, "z");
	dataform_add_field(f, DATAFORM_JID_SINGLE, "contact", "Contact");
	dataform_add_field(f, DATAFORM_JID_MULTI, "friends", "Friends");
	dataform_add_field(f, DATAFORM_HIDDEN, "token", NULL);
	dataform_add_field(f, DATAFORM_TEXT_SINGLE, "plain", "Plain");
	return f;
}

struct check_case {
	const char *path;
	const char *fields;  /* <field/>s of the submitted <x type='submit'/> */
	const char *result;  /* describe() of the result; NULL: refused */
	int code;            /* when refused */
	const char *message; /* when refused */
};

#define USER "<field var='user'><value>alice</value></field>"
#define F(var, values) "<field var='" var "'>" values "</field>"
#define V(text) "<value>" text "</value>"
#define OK(result) result, -1, NULL
#define REFUSED(code, message) NULL, DATAFORM_ERROR_##code, message

static const struct check_case check_cases[] = {
    {"/dataform/check/minimal", USER, OK("user=alice;")},
    /* required */
    {"/dataform/check/required/absent", F("pw", V("p")),
     REFUSED(REQUIRED, "the field 'user' (Nickname) is required")},
    {"/dataform/check/required/no-value", F("user", ""),
     REFUSED(REQUIRED, "the field 'user' (Nickname) is required")},
    {"/dataform/check/required/empty-value", F("user", "<value/>"),
     REFUSED(REQUIRED, "the field 'user' (Nickname) is required")},
    {"/dataform/check/required/spaces", F("user", V("   ")),
     REFUSED(REQUIRED, "the field 'user' (Nickname) is required")},
    /* one value in single-value fields */
    {"/dataform/check/one-value/text-single", F("user", V("a") V("b")),
     REFUSED(INVALID, "'user' (Nickname) takes one value")},
    {"/dataform/check/one-value/text-private", USER F("pw", V("a") "<value/>"),
     REFUSED(INVALID, "'pw' (Password) takes one value")},
    {"/dataform/check/one-value/boolean", USER F("flag", V("1") V("1")),
     REFUSED(INVALID, "'flag' (Flag) takes one value")},
    {"/dataform/check/one-value/list-single", USER F("mode", V("a") V("b")),
     REFUSED(INVALID, "'mode' (Mode) takes one value")},
    {"/dataform/check/one-value/jid-single", USER F("contact", V("a@b") V("c@d")),
     REFUSED(INVALID, "'contact' (Contact) takes one value")},
    {"/dataform/check/one-value/hidden", USER F("token", V("1") V("2")),
     REFUSED(INVALID, "'token' takes one value")},
    /* control characters: single-line fields; the value is not echoed */
    {"/dataform/check/control/newline", F("user", V("ali&#10;ce")),
     REFUSED(INVALID, "'user' (Nickname) must be a single line without control characters")},
    {"/dataform/check/control/trailing-newline", F("user", V("alice&#10;")),
     REFUSED(INVALID, "'user' (Nickname) must be a single line without control characters")},
    {"/dataform/check/control/carriage-return", F("user", V("ali&#13;ce")),
     REFUSED(INVALID, "'user' (Nickname) must be a single line without control characters")},
    {"/dataform/check/control/tab", F("user", V("ali&#9;ce")),
     REFUSED(INVALID, "'user' (Nickname) must be a single line without control characters")},
    {"/dataform/check/control/del", F("user", V("ali&#127;ce")),
     REFUSED(INVALID, "'user' (Nickname) must be a single line without control characters")},
    {"/dataform/check/control/c1",
     F("user", V("ali\xc2\x85"
                 "ce")),
     REFUSED(INVALID, "'user' (Nickname) must be a single line without control characters")},
    {"/dataform/check/control/line-separator",
     F("user", V("ali\xe2\x80\xa8"
                 "ce")),
     REFUSED(INVALID, "'user' (Nickname) must be a single line without control characters")},
    {"/dataform/check/control/paragraph-separator",
     USER F("pw", V("se\xe2\x80\xa9"
                    "cret")),
     REFUSED(INVALID, "'pw' (Password) must be a single line without control characters")},
    {"/dataform/check/control/text-multi-line-separator",
     USER F("notes", V("a\xe2\x80\xa8"
                       "b")),
     REFUSED(INVALID, "'notes' (Notes) takes one line per value, without control characters other "
                      "than TAB")},
    {"/dataform/check/control/password-tab", USER F("pw", V("se&#9;cret")),
     REFUSED(INVALID, "'pw' (Password) must be a single line without control characters")},
    {"/dataform/check/control/password-newline", USER F("pw", V("secret&#10;")),
     REFUSED(INVALID, "'pw' (Password) must be a single line without control characters")},
    {"/dataform/check/control/hidden", USER F("token", V("a&#10;b")),
     REFUSED(INVALID, "'token' must be a single line without control characters")},
    {"/dataform/check/control/jid-multi", USER F("friends", V("a@b") V("c@d&#9;")),
     REFUSED(INVALID, "'friends' (Friends) must be a single line without control characters")},
    {"/dataform/check/control/list-multi", USER F("tags", V("x&#10;")),
     REFUSED(INVALID, "'tags' (Tags) must be a single line without control characters")},
    /* text-multi: one line per value, TAB allowed */
    {"/dataform/check/text-multi/lines", USER F("notes", V("one") V("two&#9;tabbed") V("three")),
     OK("user=alice;notes=one|two\ttabbed|three;")},
    {"/dataform/check/text-multi/empty-line-kept", USER F("notes", V("one") "<value/>" V("two")),
     OK("user=alice;notes=one||two;")},
    {"/dataform/check/text-multi/newline", USER F("notes", V("one&#10;two")),
     REFUSED(INVALID, "'notes' (Notes) takes one line per value, without control characters other "
                      "than TAB")},
    {"/dataform/check/text-multi/other-control", USER F("notes", V("del&#127;")),
     REFUSED(INVALID, "'notes' (Notes) takes one line per value, without control characters other "
                      "than TAB")},
    /* trimming; text-private byte for byte */
    {"/dataform/check/trim/text-single", F("user", V("  alice  ")), OK("user=alice;")},
    {"/dataform/check/trim/text-multi", USER F("notes", V("  one ") V("&#9;two&#9;")),
     OK("user=alice;notes=one|two;")},
    {"/dataform/check/trim/list", USER F("mode", V(" b ")), OK("user=alice;mode=b;")},
    {"/dataform/check/private/byte-for-byte", USER F("pw", V("  s3 cr\xc3\xa9t  ")),
     OK("user=alice;pw=  s3 cr\xc3\xa9t  ;")},
    {"/dataform/check/private/spaces-only", USER F("pw", V("   ")), OK("user=alice;pw=   ;")},
    {"/dataform/check/private/empty-kept", USER F("pw", "<value/>"), OK("user=alice;pw=;")},
    {"/dataform/check/private/no-value", USER F("pw", ""), OK("user=alice;")},
    /* empty fields other than text-private count as not submitted */
    {"/dataform/check/empty/text-single", USER F("plain", "<value/>"), OK("user=alice;")},
    {"/dataform/check/empty/boolean", USER F("flag", "<value/>"), OK("user=alice;")},
    {"/dataform/check/empty/integer", USER F("port", V(" ")), OK("user=alice;")},
    {"/dataform/check/empty/list-single", USER F("mode", "<value/>"), OK("user=alice;")},
    {"/dataform/check/empty/jid-single", USER F("contact", ""), OK("user=alice;")},
    {"/dataform/check/empty/text-multi", USER F("notes", "<value/>"), OK("user=alice;")},
    /* booleans */
    {"/dataform/check/boolean/1", USER F("flag", V("1")), OK("user=alice;flag=true;")},
    {"/dataform/check/boolean/0", USER F("flag", V("0")), OK("user=alice;flag=false;")},
    {"/dataform/check/boolean/true", USER F("flag", V("true")), OK("user=alice;flag=true;")},
    {"/dataform/check/boolean/false", USER F("flag", V("false")), OK("user=alice;flag=false;")},
    {"/dataform/check/boolean/TRUE", USER F("flag", V("TRUE")), OK("user=alice;flag=true;")},
    {"/dataform/check/boolean/False", USER F("flag", V("False")), OK("user=alice;flag=false;")},
    {"/dataform/check/boolean/tRuE", USER F("flag", V("tRuE")), OK("user=alice;flag=true;")},
    {"/dataform/check/boolean/trimmed", USER F("flag", V(" 1 ")), OK("user=alice;flag=true;")},
    {"/dataform/check/boolean/yes", USER F("flag", V("yes")),
     REFUSED(INVALID, "'yes' is not a valid value for 'flag' (Flag)")},
    {"/dataform/check/boolean/01", USER F("flag", V("01")),
     REFUSED(INVALID, "'01' is not a valid value for 'flag' (Flag)")},
    {"/dataform/check/boolean/t", USER F("flag", V("t")),
     REFUSED(INVALID, "'t' is not a valid value for 'flag' (Flag)")},
    /* integers */
    {"/dataform/check/integer/plain", USER F("port", V("6667")), OK("user=alice;port=6667;")},
    {"/dataform/check/integer/min", USER F("port", V("1")), OK("user=alice;port=1;")},
    {"/dataform/check/integer/max", USER F("port", V("65535")), OK("user=alice;port=65535;")},
    {"/dataform/check/integer/plus", USER F("port", V("+5")), OK("user=alice;port=5;")},
    {"/dataform/check/integer/leading-zeros", USER F("port", V("007")), OK("user=alice;port=7;")},
    {"/dataform/check/integer/trimmed", USER F("port", V(" 42 ")), OK("user=alice;port=42;")},
    {"/dataform/check/integer/negative", USER F("level", V("-10")), OK("user=alice;level=-10;")},
    {"/dataform/check/integer/minus-zero", USER F("level", V("-0")), OK("user=alice;level=0;")},
    {"/dataform/check/integer/below", USER F("port", V("0")),
     REFUSED(INVALID, "'0' is not a valid value for 'port' (Port)")},
    {"/dataform/check/integer/above", USER F("port", V("65536")),
     REFUSED(INVALID, "'65536' is not a valid value for 'port' (Port)")},
    {"/dataform/check/integer/below-no-label", USER F("level", V("-11")),
     REFUSED(INVALID, "'-11' is not a valid value for 'level'")},
    {"/dataform/check/integer/letters", USER F("port", V("66x")),
     REFUSED(INVALID, "'66x' is not a valid value for 'port' (Port)")},
    {"/dataform/check/integer/decimal", USER F("port", V("5.0")),
     REFUSED(INVALID, "'5.0' is not a valid value for 'port' (Port)")},
    {"/dataform/check/integer/hex", USER F("port", V("0x10")),
     REFUSED(INVALID, "'0x10' is not a valid value for 'port' (Port)")},
    {"/dataform/check/integer/exponent", USER F("port", V("1e3")),
     REFUSED(INVALID, "'1e3' is not a valid value for 'port' (Port)")},
    {"/dataform/check/integer/two-signs", USER F("port", V("+-5")),
     REFUSED(INVALID, "'+-5' is not a valid value for 'port' (Port)")},
    {"/dataform/check/integer/sign-only", USER F("level", V("-")),
     REFUSED(INVALID, "'-' is not a valid value for 'level'")},
    {"/dataform/check/integer/inner-space", USER F("port", V("6 667")),
     REFUSED(INVALID, "'6 667' is not a valid value for 'port' (Port)")},
    {"/dataform/check/integer/overflow", USER F("port", V("99999999999999999999")),
     REFUSED(INVALID, "'99999999999999999999' is not a valid value for 'port' (Port)")},
    {"/dataform/check/integer/arabic-digit", USER F("port", V("\xd9\xa3")),
     REFUSED(INVALID, "'\xd9\xa3' is not a valid value for 'port' (Port)")},
    /* lists */
    {"/dataform/check/list-single/option", USER F("mode", V("a")), OK("user=alice;mode=a;")},
    {"/dataform/check/list-single/label-is-not-value", USER F("mode", V("Option A")),
     REFUSED(INVALID, "'Option A' is not a valid value for 'mode' (Mode)")},
    {"/dataform/check/list-single/case", USER F("mode", V("A")),
     REFUSED(INVALID, "'A' is not a valid value for 'mode' (Mode)")},
    {"/dataform/check/list-multi/options", USER F("tags", V("z") V("x")),
     OK("user=alice;tags=z|x;")},
    {"/dataform/check/list-multi/one-bad", USER F("tags", V("x") V("w")),
     REFUSED(INVALID, "'w' is not a valid value for 'tags' (Tags)")},
    {"/dataform/check/list-multi/empty-among", USER F("tags", V("x") "<value/>"),
     REFUSED(INVALID, "'' is not a valid value for 'tags' (Tags)")},
    /* JIDs */
    {"/dataform/check/jid-single/full", USER F("contact", V("juliet@example.com/balcony")),
     OK("user=alice;contact=juliet@example.com/balcony;")},
    {"/dataform/check/jid-single/domain", USER F("contact", V(" example.com ")),
     OK("user=alice;contact=example.com;")},
    {"/dataform/check/jid-single/space", USER F("contact", V("not a jid")),
     REFUSED(INVALID, "'not a jid' is not a valid value for 'contact' (Contact)")},
    {"/dataform/check/jid-single/empty-local", USER F("contact", V("@example.com")),
     REFUSED(INVALID, "'@example.com' is not a valid value for 'contact' (Contact)")},
    {"/dataform/check/jid-multi/valid", USER F("friends", V("a@example.com") V("b@example.com")),
     OK("user=alice;friends=a@example.com|b@example.com;")},
    {"/dataform/check/jid-multi/one-bad", USER F("friends", V("a@example.com") V("a@b@c")),
     REFUSED(INVALID, "'a@b@c' is not a valid value for 'friends' (Friends)")},
    /* what the check leaves out, and in which order it puts fields */
    {"/dataform/check/unknown-ignored", USER F("evil", V("1")) F("other", V("x&#10;y")),
     OK("user=alice;")},
    {"/dataform/check/fixed-ignored", USER F("banner", V("changed")), OK("user=alice;")},
    {"/dataform/check/form-order",
     F("token", V("t")) F("plain", V("p")) USER F("FORM_TYPE", V("urn:example:test")),
     OK("FORM_TYPE=urn:example:test;user=alice;token=t;plain=p;")},
    {"/dataform/check/first-error-wins", F("port", V("0")) F("flag", V("maybe")),
     REFUSED(REQUIRED, "the field 'user' (Nickname) is required")},
};

static void test_check(gconstpointer data)
{
	const struct check_case *c = data;
	g_autofree char *xml =
	    g_strdup_printf("<x xmlns='jabber:x:data' type='submit'>%s</x>", c->fields);
	g_autoptr(GError) err = NULL;
	struct dataform *sub = parse_form(xml, &err);
	g_assert_no_error(err);
	struct dataform *form = check_form();
	struct dataform *result = dataform_check(form, sub, &err);
	if (c->result == NULL) {
		g_assert_null(result);
		g_assert_error(err, DATAFORM_ERROR, c->code);
		g_assert_cmpstr(err->message, ==, c->message);
	} else {
		g_assert_no_error(err);
		g_assert_nonnull(result);
		g_assert_cmpint(dataform_get_type(result), ==, DATAFORM_SUBMIT);
		g_autofree char *got = describe(result);
		g_assert_cmpstr(got, ==, c->result);
	}
	dataform_free(result);
	dataform_free(form);
	dataform_free(sub);
}

/* The result takes FORM's types and labels, whatever the submission says. */
static void test_check_types_from_form(void)
{
	g_autoptr(GError) err = NULL;
	struct dataform *sub = parse_form(
	    "<x xmlns='jabber:x:data' type='submit'>"
	    "<field type='text-private' var='user' label='Evil'><value>alice</value></field>"
	    "<field type='list-multi' var='flag'><value>1</value></field>"
	    "<field type='text-single' var='pw'><value> p </value></field></x>",
	    &err);
	g_assert_no_error(err);
	struct dataform *form = check_form();
	struct dataform *result = dataform_check(form, sub, &err);
	g_assert_no_error(err);
	const struct dataform_field *user = dataform_find_field(result, "user");
	g_assert_cmpint(dataform_field_type(user), ==, DATAFORM_TEXT_SINGLE);
	g_assert_cmpstr(dataform_field_label(user), ==, "Nickname");
	g_assert_cmpint(dataform_field_type(dataform_find_field(result, "flag")), ==,
	                DATAFORM_BOOLEAN);
	g_assert_cmpint(dataform_field_type(dataform_find_field(result, "pw")), ==,
	                DATAFORM_TEXT_PRIVATE);
	g_autofree char *got = describe(result);
	g_assert_cmpstr(got, ==, "user=alice;pw= p ;flag=true;");
	dataform_free(result);
	dataform_free(form);
	dataform_free(sub);
}

/* A required text-private field needs a non-empty value, spaces being one. */
static void test_check_required_private(void)
{
	struct dataform *form = dataform_new(DATAFORM_FORM);
	dataform_field_set_required(dataform_add_field(form, DATAFORM_TEXT_PRIVATE, "pw", "Secret"),
	                            true);
	const struct {
		const char *value; /* NULL: no field */
		const char *result;
	} cases[] = {{NULL, NULL}, {"", NULL}, {" ", "pw= ;"}, {"x", "pw=x;"}};
	for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
		struct dataform *sub = dataform_new(DATAFORM_SUBMIT);
		if (cases[i].value != NULL)
			dataform_field_add_value(
			    dataform_add_field(sub, DATAFORM_TEXT_SINGLE, "pw", NULL),
			    cases[i].value);
		g_autoptr(GError) err = NULL;
		struct dataform *result = dataform_check(form, sub, &err);
		if (cases[i].result == NULL) {
			g_assert_null(result);
			g_assert_error(err, DATAFORM_ERROR, DATAFORM_ERROR_REQUIRED);
			g_assert_cmpstr(err->message, ==, "the field 'pw' (Secret) is required");
		} else {
			g_assert_no_error(err);
			g_autofree char *got = describe(result);
			g_assert_cmpstr(got, ==, cases[i].result);
		}
		dataform_free(result);
		dataform_free(sub);
	}
	dataform_free(form);
}

/* Values built by code (not parsed) can be invalid UTF-8: refused, and not
 * echoed. */
static void test_check_invalid_utf8(void)
{
	const char *const vars[] = {"user", "pw", "notes", "plain"};
	const char *const messages[] = {
	    "'user' (Nickname) must be valid UTF-8",
	    "'pw' (Password) must be valid UTF-8",
	    "'notes' (Notes) must be valid UTF-8",
	    "'plain' (Plain) must be valid UTF-8",
	};
	struct dataform *form = check_form();
	for (gsize i = 0; i < G_N_ELEMENTS(vars); i++) {
		struct dataform *sub = dataform_new(DATAFORM_SUBMIT);
		if (strcmp(vars[i], "user") != 0)
			dataform_field_add_value(
			    dataform_add_field(sub, DATAFORM_TEXT_SINGLE, "user", NULL), "alice");
		dataform_field_add_value(
		    dataform_add_field(sub, DATAFORM_TEXT_SINGLE, vars[i], NULL), "ab\xff");
		g_autoptr(GError) err = NULL;
		g_assert_null(dataform_check(form, sub, &err));
		g_assert_error(err, DATAFORM_ERROR, DATAFORM_ERROR_INVALID);
		g_assert_cmpstr(err->message, ==, messages[i]);
		dataform_free(sub);
	}
	dataform_free(form);
}

static void test_single_line(void)
{
	g_assert_true(dataform_value_is_single_line("x"));
	g_assert_true(dataform_value_is_single_line(""));
	g_assert_true(dataform_value_is_single_line("\xc3\xa9t\xc3\xa9"));
	g_assert_false(dataform_value_is_single_line(NULL));
	g_assert_false(dataform_value_is_single_line("x\r\nPRIVMSG bob :injected"));
	g_assert_false(dataform_value_is_single_line("a\tb"));
	g_assert_false(dataform_value_is_single_line("a\x7f"));
	g_assert_false(dataform_value_is_single_line("a\xc2\x85"));     /* NEL, C1 */
	g_assert_false(dataform_value_is_single_line("a\xe2\x80\xa8")); /* U+2028 */
	g_assert_false(dataform_value_is_single_line("a\xe2\x80\xa9")); /* U+2029 */
	g_assert_false(dataform_value_is_single_line("a\xff"));         /* not UTF-8 */
}

/* ---- tables ------------------------------------------------------------- */

/* The contacts table of the status commands, in the shape of XEP-0004
 * §3.4 (example 8): a field before it, then <reported/> and the items,
 * every item with a field per column even when its cell is empty. */
static struct dataform *contacts_table(void)
{
	struct dataform *f = dataform_new(DATAFORM_RESULT);
	dataform_set_title(f, "Contacts");
	dataform_field_add_value(dataform_add_field(f, DATAFORM_FIXED, NULL, NULL), "2 contacts");
	dataform_add_column(f, DATAFORM_TEXT_SINGLE, "name", "Name");
	dataform_add_column(f, DATAFORM_JID_SINGLE, "jid", "JID");
	dataform_add_column(f, DATAFORM_JID_MULTI, "also", NULL);
	guint r = dataform_add_row(f);
	g_assert_cmpuint(r, ==, 0);
	dataform_add_cell(f, r, "name", "replaced");
	dataform_add_cell(f, r, "name", "Romeo");
	dataform_add_cell(f, r, "jid", "romeo@montague.lit");
	dataform_add_cell(f, r, "also", "a@b.lit");
	dataform_add_cell(f, r, "also", "c@d.lit");
	r = dataform_add_row(f);
	g_assert_cmpuint(r, ==, 1);
	dataform_add_cell(f, r, "jid", "juliet@capulet.lit");
	return f;
}

static const char contacts_table_xml[] =
    "<iq><x xmlns='jabber:x:data' type='result'><title>Contacts</title>"
    "<field type='fixed'><value>2 contacts</value></field>"
    "<reported><field type='text-single' var='name' label='Name'/>"
    "<field type='jid-single' var='jid' label='JID'/><field type='jid-multi' var='also'/>"
    "</reported>"
    "<item><field var='name'><value>Romeo</value></field>"
    "<field var='jid'><value>romeo@montague.lit</value></field>"
    "<field var='also'><value>a@b.lit</value><value>c@d.lit</value></field></item>"
    "<item><field var='name'/><field var='jid'><value>juliet@capulet.lit</value></field>"
    "<field var='also'/></item>"
    "</x></iq>";

/* "var(type,label)|...;" then "v1,v2|...;" per row: the walk B2 does. */
static char *describe_table(const struct dataform *f)
{
	GString *s = g_string_new(NULL);
	for (guint c = 0; c < dataform_n_columns(f); c++) {
		const char *label = dataform_column_label(f, c);
		g_string_append_printf(s, "%s%s(%d,%s)", c > 0 ? "|" : "",
		                       dataform_column_var(f, c), (int)dataform_column_type(f, c),
		                       label != NULL ? label : "-");
	}
	g_string_append_c(s, ';');
	for (guint r = 0; r < dataform_n_rows(f); r++) {
		for (guint c = 0; c < dataform_n_columns(f); c++) {
			const GPtrArray *values = dataform_cell_values(f, r, c);
			g_string_append(s, c > 0 ? "|" : "");
			for (guint v = 0; v < values->len; v++)
				g_string_append_printf(s, "%s%s", v > 0 ? "," : "",
				                       (const char *)g_ptr_array_index(values, v));
		}
		g_string_append_c(s, ';');
	}
	return g_string_free(s, FALSE);
}

static void test_table_write_read(void)
{
	struct dataform *f = contacts_table();
	struct stanza *iq = stanza_new("iq");
	dataform_add_to(f, iq);
	assert_xml(iq, contacts_table_xml);
	stanza_free(iq);
	g_assert_cmpuint(dataform_n_columns(f), ==, 3);
	g_assert_cmpuint(dataform_n_rows(f), ==, 2);
	g_assert_cmpstr(dataform_cell(f, 0, 0), ==, "Romeo");
	g_assert_null(dataform_cell(f, 1, 0));
	g_assert_cmpstr(dataform_cell(f, 1, 1), ==, "juliet@capulet.lit");
	g_autofree char *table = describe_table(f);
	g_assert_cmpstr(table, ==,
	                "name(9,Name)|jid(4,JID)|also(3,-);"
	                "Romeo|romeo@montague.lit|a@b.lit,c@d.lit;|juliet@capulet.lit|;");
	/* The fields are unaffected: the table is not one of them. */
	g_autofree char *fields = describe(f);
	g_assert_cmpstr(fields, ==, "-=2 contacts;");
	dataform_free(f);
}

static void test_table_round_trip(void)
{
	g_autoptr(GError) err = NULL;
	const char *x = contacts_table_xml + strlen("<iq>");
	g_autofree char *inner = g_strndup(x, strlen(x) - strlen("</iq>"));
	struct dataform *back = parse_form(inner, &err);
	g_assert_no_error(err);
	g_autofree char *table = describe_table(back);
	g_assert_cmpstr(table, ==,
	                "name(9,Name)|jid(4,JID)|also(3,-);"
	                "Romeo|romeo@montague.lit|a@b.lit,c@d.lit;|juliet@capulet.lit|;");
	struct stanza *iq = stanza_new("iq");
	dataform_add_to(back, iq);
	assert_xml(iq, contacts_table_xml);
	stanza_free(iq);
	dataform_free(back);

	/* Untyped columns are text-single; an item may leave columns out. */
	back = parse_form("<x xmlns='jabber:x:data' type='result'><reported><field var='a'/>"
	                  "<field var='b' type='boolean'/></reported><item><field var='b'>"
	                  "<value>1</value></field></item></x>",
	                  &err);
	g_assert_no_error(err);
	g_autofree char *lenient = describe_table(back);
	g_assert_cmpstr(lenient, ==, "a(9,-)|b(0,-);|1;");
	dataform_free(back);
}

/* No table: no columns or rows, nothing written. A column added after the
 * rows gets an empty cell in each. Misuse is a critical. */
static void test_table_edges(void)
{
	struct dataform *f = dataform_new(DATAFORM_RESULT);
	g_assert_cmpuint(dataform_n_columns(f), ==, 0);
	g_assert_cmpuint(dataform_n_rows(f), ==, 0);
	guint r = dataform_add_row(f);
	dataform_add_column(f, DATAFORM_TEXT_SINGLE, "late", NULL);
	g_assert_cmpuint(dataform_cell_values(f, r, 0)->len, ==, 0);
	dataform_add_cell(f, r, "late", "v");
	g_assert_cmpstr(dataform_cell(f, r, 0), ==, "v");
	g_test_expect_message(G_LOG_DOMAIN, G_LOG_LEVEL_CRITICAL, "*column_index*");
	dataform_add_column(f, DATAFORM_BOOLEAN, "late", NULL);
	g_test_assert_expected_messages();
	g_test_expect_message(G_LOG_DOMAIN, G_LOG_LEVEL_CRITICAL, "*column >= 0*");
	dataform_add_cell(f, r, "nosuch", "v");
	g_test_assert_expected_messages();
	g_test_expect_message(G_LOG_DOMAIN, G_LOG_LEVEL_CRITICAL, "*row < t->rows->len*");
	dataform_add_cell(f, 5, "late", "v");
	g_test_assert_expected_messages();
	g_assert_cmpuint(dataform_n_columns(f), ==, 1);
	dataform_free(f);

	struct dataform *plain = dataform_new(DATAFORM_RESULT);
	struct stanza *iq = stanza_new("iq");
	dataform_add_to(plain, iq);
	assert_xml(iq, "<iq><x xmlns='jabber:x:data' type='result'/></iq>");
	stanza_free(iq);
	dataform_free(plain);
}

static void test_error_quark(void)
{
	g_assert_cmpstr(g_quark_to_string(DATAFORM_ERROR), ==, "ferry-dataform-error-quark");
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/dataform/build/write", test_build_write);
	g_test_add_func("/dataform/build/read", test_build_read);
	g_test_add_func("/dataform/build/form-types", test_write_form_types);
	g_test_add_func("/dataform/build/form-type-first", test_form_type_only);
	g_test_add_func("/dataform/build/programming-errors", test_programming_errors);
	g_test_add_func("/dataform/parse/round-trip", test_round_trip);
	g_test_add_func("/dataform/parse/lenient", test_parse_lenient);
	for (gsize i = 0; i < G_N_ELEMENTS(parse_error_cases); i++)
		g_test_add_data_func(parse_error_cases[i].path, &parse_error_cases[i],
		                     test_parse_error);
	for (gsize i = 0; i < G_N_ELEMENTS(check_cases); i++)
		g_test_add_data_func(check_cases[i].path, &check_cases[i], test_check);
	g_test_add_func("/dataform/check/types-from-form", test_check_types_from_form);
	g_test_add_func("/dataform/check/required-private", test_check_required_private);
	g_test_add_func("/dataform/check/invalid-utf8", test_check_invalid_utf8);
	g_test_add_func("/dataform/single-line", test_single_line);
	g_test_add_func("/dataform/table/write-read", test_table_write_read);
	g_test_add_func("/dataform/table/round-trip", test_table_round_trip);
	g_test_add_func("/dataform/table/edges", test_table_edges);
	g_test_add_func("/dataform/error-quark", test_error_quark);
	return g_test_run();
}
