/* Unit tests for the gateway's prompts (src/gateway/prompts.c,
 * prompt_media.c) through the fake legacy side: PROMPT events mapped to
 * forms (every field type), ANSWER_PROMPT sent exactly once, PROMPT_ERROR
 * reopening, withdrawn and timed-out prompts told to the user, pictures as
 * BOB with the BOB iq, TGA dropped, QR codes drawn, certificate pins
 * stored and passed to the next LOGIN, the per-user bound. */
#include "config.h"

#include <qrencode.h>
#include <string.h>

#include "../../src/gateway/internal.h"
#include "../../src/gateway/prompts.h"
#include "gateway_fixture.h"
#include "ferry/stanza.h"

/* ---- building PROMPT events ---------------------------------------------------------- */

/* A field table from KEY, VALUE, ... NULL. */
static GHashTable *field(const char *key, ...)
{
	GHashTable *t = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	va_list ap;
	va_start(ap, key);
	for (const char *k = key; k != NULL; k = va_arg(ap, const char *))
		g_hash_table_replace(t, g_strdup(k), g_strdup(va_arg(ap, const char *)));
	va_end(ap);
	return t;
}

static GPtrArray *form_of(GHashTable *first, ...)
{
	GPtrArray *form = g_ptr_array_new_with_free_func((GDestroyNotify)g_hash_table_unref);
	va_list ap;
	va_start(ap, first);
	for (GHashTable *t = first; t != NULL; t = va_arg(ap, GHashTable *))
		g_ptr_array_add(form, t);
	va_end(ap);
	return form;
}

static struct prompts *prompts_of_gw(struct gw *gw)
{
	return gateway_context(gw->gateway)->prompts;
}

/* Emits PROMPT WORKER_ID of KIND with FORM (taken) on ACCOUNT; returns
 * ALICE's newest open prompt. */
static struct prompt *emit_prompt(struct gw *gw, guint32 account, guint32 worker_id, guint32 kind,
                                  const char *title, GPtrArray *form)
{
	FAKE_EMIT(gw->fake, prompt, .account = account, .prompt = worker_id, .kind = kind,
	          .title = title, .instructions = "First line\nSecond line", .who = "",
	          .form = form);
	g_ptr_array_unref(form);
	g_autoptr(GPtrArray) open = prompts_of(prompts_of_gw(gw), ALICE);
	return open->len > 0 ? g_ptr_array_index(open, open->len - 1) : NULL;
}

static struct prompt *emit_input(struct gw *gw, guint32 account, guint32 worker_id)
{
	return emit_prompt(gw, account, worker_id, WORKER_PROMPT_KIND_INPUT, "Login code",
	                   form_of(field("var", "value", "type", "text-single", "label", "Code",
	                                 "required", "1", NULL),
	                           NULL));
}

/* The next ANSWER_PROMPT: its action and (when VALUES) a copy of its values. */
static guint32 take_answer(struct gw *gw, guint32 worker_id, GHashTable **values)
{
	struct fake_command *c = gw_take_command(gw, WORKER_ANSWER_PROMPT);
	struct worker_msg_answer_prompt m;
	g_assert_true(worker_msg_answer_prompt_read(c->payload, c->account, &m));
	g_assert_cmpuint(m.prompt, ==, worker_id);
	guint32 action = m.action;
	if (values != NULL) {
		*values = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
		GHashTableIter it;
		gpointer k, v;
		g_hash_table_iter_init(&it, m.values);
		while (g_hash_table_iter_next(&it, &k, &v))
			g_hash_table_replace(*values, g_strdup(k), g_strdup(v));
	}
	worker_msg_answer_prompt_clear(&m);
	fake_command_free(c);
	return action;
}

/* Takes the chat message to ALICE from the transport and asserts its
 * body contains PART. */
static void expect_told(struct gw *gw, const char *part)
{
	for (;;) {
		struct stanza *m = gw_take_match(gw, "message", "chat", ALICE);
		if (m == NULL)
			g_error("no chat message to " ALICE " containing '%s'", part);
		g_autofree char *body = stanza_get_child_text(m, "body", NULL);
		stanza_free(m);
		if (body != NULL && strstr(body, part) != NULL)
			return;
	}
}

/* A watcher that records what it is told. */
struct seen {
	int closed, refused;
	enum prompt_end end;
	char *text;
};

static void seen_closed(void *data, struct prompt *p, enum prompt_end end, const char *text)
{
	(void)p;
	struct seen *s = data;
	s->closed++;
	s->end = end;
	g_free(s->text);
	s->text = g_strdup(text);
}

static void seen_refused(void *data, struct prompt *p, const char *text)
{
	(void)p;
	struct seen *s = data;
	s->refused++;
	g_free(s->text);
	s->text = g_strdup(text);
}

static const struct prompt_watcher seen_watcher = {seen_closed, seen_refused};

/* ---- form mapping ------------------------------------------------------------------------ */

static void test_form_mapping(struct gw *gw, gconstpointer unused)
{
	guint32 account = gw_online(gw, "alice");
	struct prompt *p = emit_prompt(
	    gw, account, 7, WORKER_PROMPT_KIND_FIELDS, "Sign in",
	    form_of(field("var", "name", "type", "text-single", "label", "Name", "desc",
	                  "your name", "value", "Alice", "required", "1", NULL),
	            field("var", "pw", "type", "text-private", "label", "Password", NULL),
	            field("var", "bio", "type", "text-multi", "value", "a\nb", NULL),
	            field("var", "ok", "type", "boolean", "value", "true", NULL),
	            field("var", "age", "type", "text-single", "integer", "1", "value", "30", NULL),
	            field("var", "one", "type", "list-single", "options", "0\tZero\n1\tOne",
	                  "value", "1", NULL),
	            field("var", "many", "type", "list-multi", "options", "0\tA\n1\tB\n2\tC",
	                  "value", "0\n2", NULL),
	            field("var", "", "type", "fixed", "value", "Just a note", NULL),
	            field("var", "keep", "type", "hidden", "value", "secret-state", NULL),
	            field("var", "weird", "type", "no-such-type", NULL), NULL));
	g_assert_nonnull(p);
	g_assert_cmpuint(prompt_id(p), >, 0);
	g_assert_true(prompt_has_secret(p));
	g_autoptr(GPtrArray) open = prompts_of(prompts_of_gw(gw), ALICE);
	g_assert_cmpuint(open->len, ==, 1);
	g_assert_true(prompts_find(prompts_of_gw(gw), ALICE, prompt_id(p)) == p);
	g_assert_null(prompts_find(prompts_of_gw(gw), "bob@example.org", prompt_id(p)));

	struct dataform *f = prompt_form(p);
	struct stanza *holder = stanza_new("m");
	dataform_add_to(f, holder);
	g_autofree char *xml = stanza_to_string(holder);
	stanza_free(holder);
	static const char *const parts[] = {
	    "<title>Sign in</title><instructions>First line</instructions>"
	    "<instructions>Second line</instructions>",
	    "<field type='text-single' var='name' label='Name'><desc>your name</desc><required/>"
	    "<value>Alice</value></field>",
	    "<field type='text-private' var='pw' label='Password'/>",
	    "<field type='text-multi' var='bio'><value>a</value><value>b</value></field>",
	    "<field type='boolean' var='ok'><value>true</value></field>",
	    "<field type='text-single' var='age'><validate xmlns='http://jabber.org/protocol/"
	    "xdata-validate' datatype='xs:integer'><range min='-2147483648' max='2147483647'/>"
	    "</validate><value>30</value></field>",
	    "<field type='list-single' var='one'><value>1</value><option label='Zero'><value>0"
	    "</value></option><option label='One'><value>1</value></option></field>",
	    "<field type='list-multi' var='many'><value>0</value><value>2</value><option "
	    "label='A'><value>0</value></option>",
	    "<field type='fixed'><value>Just a note</value></field>",
	    "<field type='hidden' var='keep'><value>secret-state</value></field>",
	};
	for (gsize i = 0; i < G_N_ELEMENTS(parts); i++) {
		if (strstr(xml, parts[i]) == NULL)
			g_error("form\n%s\nlacks\n%s", xml, parts[i]);
	}
	g_assert_null(strstr(xml, "weird"));
	dataform_free(f);
	/* nobody claimed it: the chat bot asks it, with the form */
	struct stanza *m = gw_expect(gw, "message", "chat", ALICE);
	g_autofree char *body = stanza_get_child_text(m, "body", NULL);
	g_assert_nonnull(strstr(body, "Sign in"));
	g_assert_nonnull(stanza_find_child(m, "x", NS_DATA));
	stanza_free(m);
}

/* ---- answering ------------------------------------------------------------------------------ */

static void test_answer_once(struct gw *gw, gconstpointer unused)
{
	guint32 account = gw_online(gw, "alice");
	struct prompt *p = emit_prompt(
	    gw, account, 9, WORKER_PROMPT_KIND_FIELDS, "Pick",
	    form_of(field("var", "many", "type", "list-multi", "options", "0\tA\n1\tB\n2\tC", NULL),
	            field("var", "pw", "type", "text-private", NULL), NULL));
	gw_clear(gw);
	struct seen seen = {0};
	prompt_watch(p, &seen_watcher, &seen);
	struct dataform *sub = dataform_new(DATAFORM_SUBMIT);
	struct dataform_field *many = dataform_add_field(sub, DATAFORM_LIST_MULTI, "many", NULL);
	dataform_field_add_value(many, "0");
	dataform_field_add_value(many, "2");
	dataform_field_add_value(dataform_add_field(sub, DATAFORM_TEXT_PRIVATE, "pw", NULL),
	                         " s3cret ");
	g_assert_true(prompt_answer(p, sub));
	/* a second route comes too late: refused, nothing sent */
	g_assert_false(prompt_answer(p, sub));
	g_assert_false(prompt_answer(p, NULL));
	dataform_free(sub);
	g_autoptr(GHashTable) values = NULL;
	g_assert_cmpuint(take_answer(gw, 9, &values), ==, WORKER_PROMPT_OK);
	g_assert_cmpstr(g_hash_table_lookup(values, "many"), ==, "0\n2");
	g_assert_cmpstr(g_hash_table_lookup(values, "pw"), ==, " s3cret ");
	g_assert_cmpuint(fake_legacy_count_type(gw->fake, WORKER_ANSWER_PROMPT), ==, 0);
	FAKE_EMIT(gw->fake, prompt_closed, .account = account, .prompt = 9,
	          .why = WORKER_PROMPT_CLOSED_ANSWERED, .text = "");
	g_assert_cmpint(seen.closed, ==, 1);
	g_assert_cmpint(seen.end, ==, PROMPT_END_ANSWERED);
	g_autoptr(GPtrArray) open = prompts_of(prompts_of_gw(gw), ALICE);
	g_assert_cmpuint(open->len, ==, 0);
	/* the chat bot, which asked it too, says it is over */
	expect_told(gw, "was answered elsewhere");
	gw_expect_nothing(gw);
	g_free(seen.text);
}

static void test_error_reopens(struct gw *gw, gconstpointer unused)
{
	guint32 account = gw_online(gw, "alice");
	struct prompt *p = emit_input(gw, account, 3);
	gw_clear(gw);
	struct seen seen = {0};
	prompt_watch(p, &seen_watcher, &seen);
	struct dataform *sub = dataform_new(DATAFORM_SUBMIT);
	dataform_field_add_value(dataform_add_field(sub, DATAFORM_TEXT_SINGLE, "value", NULL),
	                         "12");
	g_assert_true(prompt_answer(p, sub));
	g_assert_cmpuint(take_answer(gw, 3, NULL), ==, WORKER_PROMPT_OK);
	FAKE_EMIT(gw->fake, prompt_error, .account = account, .prompt = 3, .text = "too short");
	g_assert_cmpint(seen.refused, ==, 1);
	g_assert_cmpstr(seen.text, ==, "too short");
	/* open again: a new answer goes */
	g_assert_true(prompt_answer(p, sub));
	g_assert_cmpuint(take_answer(gw, 3, NULL), ==, WORKER_PROMPT_OK);
	dataform_free(sub);
	/* a cancel after the answer is in flight is refused */
	g_assert_false(prompt_answer(p, NULL));
	FAKE_EMIT(gw->fake, prompt_closed, .account = account, .prompt = 3,
	          .why = WORKER_PROMPT_CLOSED_CANCELLED, .text = "");
	g_assert_cmpint(seen.closed, ==, 1);
	g_assert_cmpint(seen.end, ==, PROMPT_END_CANCELLED);
	g_free(seen.text);
}

static void test_withdrawn_told(struct gw *gw, gconstpointer unused)
{
	guint32 account = gw_online(gw, "alice");
	struct prompt *p = emit_input(gw, account, 4);
	g_assert_nonnull(p);
	gw_clear(gw);
	FAKE_EMIT(gw->fake, prompt_closed, .account = account, .prompt = 4,
	          .why = WORKER_PROMPT_CLOSED_WITHDRAWN, .text = "a new code was sent");
	expect_told(gw, "The question 'Login code' was withdrawn: a new code was sent");
	/* a watcher is told instead of the chat */
	p = emit_input(gw, account, 5);
	gw_clear(gw);
	struct seen seen = {0};
	prompt_watch(p, &seen_watcher, &seen);
	FAKE_EMIT(gw->fake, disconnected, .account = account, .reason = WORKER_REASON_NETWORK,
	          .text = "gone", .fatal = false);
	g_assert_cmpint(seen.closed, ==, 1);
	g_assert_cmpint(seen.end, ==, PROMPT_END_WITHDRAWN);
	g_autoptr(GPtrArray) open = prompts_of(prompts_of_gw(gw), ALICE);
	g_assert_cmpuint(open->len, ==, 0);
	g_free(seen.text);
}

static bool has_answer(void *data)
{
	struct gw *gw = data;
	return fake_legacy_count_type(gw->fake, WORKER_ANSWER_PROMPT) > 0;
}

static void test_timeout_cancels(struct gw *gw, gconstpointer unused)
{
	guint32 account = gw_online(gw, "alice");
	(void)emit_input(gw, account, 6);
	gw_clear(gw);
	g_assert_true(gw_run_until(has_answer, gw, 8000));
	g_assert_cmpuint(take_answer(gw, 6, NULL), ==, WORKER_PROMPT_CANCEL);
	expect_told(gw, "The question 'Login code' was not answered in time and was cancelled");
	FAKE_EMIT(gw->fake, prompt_closed, .account = account, .prompt = 6,
	          .why = WORKER_PROMPT_CLOSED_CANCELLED, .text = "");
	g_autoptr(GPtrArray) open = prompts_of(prompts_of_gw(gw), ALICE);
	g_assert_cmpuint(open->len, ==, 0);
}

static void test_bound(struct gw *gw, gconstpointer unused)
{
	guint32 account = gw_online(gw, "alice");
	for (guint32 i = 1; i <= 20; i++)
		(void)emit_input(gw, account, i);
	g_assert_cmpuint(fake_legacy_count_type(gw->fake, WORKER_ANSWER_PROMPT), ==, 0);
	gw_clear(gw);
	(void)emit_input(gw, account, 21);
	g_assert_cmpuint(take_answer(gw, 21, NULL), ==, WORKER_PROMPT_CANCEL);
	expect_told(gw, "was cancelled: you have 20 questions open already");
	g_autoptr(GPtrArray) open = prompts_of(prompts_of_gw(gw), ALICE);
	g_assert_cmpuint(open->len, ==, 20);
}

/* ---- pictures and QR codes ------------------------------------------------------------------ */

/* A small PNG-looking picture (the magic bytes are what counts). */
static const guint8 png[] = {0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 1, 2, 3, 4};

static void test_png_bob(struct gw *gw, gconstpointer unused)
{
	guint32 account = gw_online(gw, "alice");
	g_autofree char *b64 = g_base64_encode(png, sizeof(png));
	struct prompt *p = emit_prompt(gw, account, 2, WORKER_PROMPT_KIND_FIELDS, "Scan",
	                               form_of(field("var", "qr_image", "type", "fixed", "label",
	                                             "Scan this", "image", b64, NULL),
	                                       NULL));
	gw_clear(gw);
	g_autofree char *hex = g_compute_checksum_for_data(G_CHECKSUM_SHA1, png, sizeof(png));
	g_autofree char *cid = g_strdup_printf("sha1+%s@bob.xmpp.org", hex);
	g_autoptr(GPtrArray) att = prompt_attachments(p);
	g_assert_cmpuint(att->len, ==, 1);
	const struct stanza *d = g_ptr_array_index(att, 0);
	g_assert_true(stanza_is(d, "data", "urn:xmpp:bob"));
	g_assert_cmpstr(stanza_get_attr(d, "cid"), ==, cid);
	g_assert_cmpstr(stanza_get_attr(d, "type"), ==, "image/png");
	g_autofree char *text = stanza_get_text(d);
	g_assert_cmpstr(text, ==, b64);
	/* the form: a fixed field with the text alternative and the media */
	struct dataform *f = prompt_form(p);
	struct stanza *holder = stanza_new("m");
	dataform_add_to(f, holder);
	g_autofree char *xml = stanza_to_string(holder);
	stanza_free(holder);
	dataform_free(f);
	g_autofree char *want = g_strdup_printf(
	    "<field type='fixed' label='Scan this'><value>Scan this</value><media "
	    "xmlns='urn:xmpp:media-element'><uri type='image/png'>cid:%s</uri></media></field>",
	    cid);
	if (strstr(xml, want) == NULL)
		g_error("form\n%s\nlacks\n%s", xml, want);
	/* the BOB iq: answered for the owner (bare or full transport JID) */
	gw_injectf(gw,
	           "<iq type='get' id='b1' from='" ALICE_PC "' to='" GW_FULL "'>"
	           "<data xmlns='urn:xmpp:bob' cid='%s'/></iq>",
	           cid);
	struct stanza *r = gw_expect(gw, "iq", "result", ALICE_PC);
	g_assert_cmpstr(stanza_get_id(r), ==, "b1");
	const struct stanza *rd = stanza_find_child(r, "data", "urn:xmpp:bob");
	g_assert_nonnull(rd);
	g_autofree char *rtext = stanza_get_text(rd);
	g_assert_cmpstr(rtext, ==, b64);
	stanza_free(r);
	/* refused for another user */
	gw_register_user(gw, "bob@example.org", "bob", "pw");
	gw_injectf(gw,
	           "<iq type='get' id='b2' from='bob@example.org/pc' to='" GW_JID "'>"
	           "<data xmlns='urn:xmpp:bob' cid='%s'/></iq>",
	           cid);
	r = gw_expect(gw, "iq", "error", "bob@example.org/pc");
	g_assert_nonnull(stanza_find_child(stanza_find_child(r, "error", NULL), "item-not-found",
	                                   "urn:ietf:params:xml:ns:xmpp-stanzas"));
	stanza_free(r);
}

static void test_tga_dropped(struct gw *gw, gconstpointer unused)
{
	guint32 account = gw_online(gw, "alice");
	/* an uncompressed true-colour TGA header */
	static const guint8 tga[] = {0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 2, 0, 32, 8};
	g_autofree char *b64 = g_base64_encode(tga, sizeof(tga));
	struct prompt *p = emit_prompt(
	    gw, account, 2, WORKER_PROMPT_KIND_FIELDS, "Scan",
	    form_of(field("var", "qr_image", "type", "fixed", "label", "QR", "image", b64, NULL),
	            NULL));
	g_autoptr(GPtrArray) att = prompt_attachments(p);
	g_assert_cmpuint(att->len, ==, 0);
	struct dataform *f = prompt_form(p);
	const struct dataform_field *fixed = dataform_next_field(f, NULL);
	g_assert_cmpuint(dataform_field_n_media(fixed), ==, 0);
	g_assert_cmpstr(dataform_field_value(fixed), ==,
	                "(a picture in a format that cannot be shown)");
	dataform_free(f);
}

/* Counts the dark half-blocks of LINES: ▀ and ▄ one module, █ two. */
static guint count_blocks(const GPtrArray *lines)
{
	guint n = 0;
	for (guint i = 0; i < lines->len; i++) {
		const char *l = g_ptr_array_index(lines, i);
		for (const char *c = l; *c != '\0'; c = g_utf8_next_char(c)) {
			gunichar u = g_utf8_get_char(c);
			n += u == 0x2580 || u == 0x2584 ? 1 : u == 0x2588 ? 2 : 0;
		}
	}
	return n;
}

static void test_qr_drawn(struct gw *gw, gconstpointer unused)
{
	guint32 account = gw_online(gw, "alice");
	const char *text = "https://example.com/login?token=abc123";
	struct prompt *p = emit_prompt(gw, account, 2, WORKER_PROMPT_KIND_FIELDS, "Scan",
	                               form_of(field("var", "qr_string", "type", "text-single",
	                                             "label", "Code", "value", text, NULL),
	                                       NULL));
	struct dataform *f = prompt_form(p);
	const struct dataform_field *plain = dataform_find_field(f, "qr_string");
	g_assert_cmpstr(dataform_field_value(plain), ==, text);
	const struct dataform_field *drawn = dataform_next_field(f, plain);
	g_assert_nonnull(drawn);
	g_assert_cmpint(dataform_field_type(drawn), ==, DATAFORM_FIXED);
	QRcode *qr = QRcode_encodeString8bit(text, 0, QR_ECLEVEL_L);
	guint modules = 0;
	for (int i = 0; i < qr->width * qr->width; i++)
		modules += qr->data[i] & 1;
	const GPtrArray *lines = dataform_field_values(drawn);
	g_assert_cmpuint(lines->len, ==, (guint)(qr->width + 4 + 1) / 2);
	g_assert_cmpuint(count_blocks(lines), ==, modules);
	QRcode_free(qr);
	dataform_free(f);
}

/* ---- certificates ----------------------------------------------------------------------------- */

static void test_pin_stored(struct gw *gw, gconstpointer unused)
{
	guint32 account = gw_online(gw, "alice");
	struct prompt *p = emit_prompt(
	    gw, account, 11, WORKER_PROMPT_KIND_CERTIFICATE, "Untrusted certificate",
	    form_of(field("var", "action", "type", "list-single", "options",
	                  "reject\tReject\nonce\tAccept once\nalways\tAlways accept", NULL),
	            field("var", "host", "type", "hidden", "value", "irc.example.net", NULL),
	            field("var", "port", "type", "hidden", "value", "6697", NULL),
	            field("var", "sha256", "type", "hidden", "value", "AB:CD:EF", NULL), NULL));
	struct dataform *sub = dataform_new(DATAFORM_SUBMIT);
	dataform_field_add_value(dataform_add_field(sub, DATAFORM_LIST_SINGLE, "action", NULL),
	                         "always");
	/* the user cannot change what is pinned */
	dataform_field_add_value(dataform_add_field(sub, DATAFORM_HIDDEN, "sha256", NULL), "00:00");
	g_assert_true(prompt_answer(p, sub));
	dataform_free(sub);
	(void)take_answer(gw, 11, NULL);
	FAKE_EMIT(gw->fake, prompt_closed, .account = account, .prompt = 11,
	          .why = WORKER_PROMPT_CLOSED_ANSWERED, .text = "");
	g_autoptr(GHashTable) settings = storage_user_settings(gw->storage, ALICE, NULL);
	g_assert_cmpstr(g_hash_table_lookup(settings, "ferry.cert_pins"), ==,
	                "irc.example.net 6697 AB:CD:EF");
	/* the next login passes it */
	FAKE_EMIT(gw->fake, disconnected, .account = account, .reason = WORKER_REASON_NETWORK,
	          .text = "gone", .fatal = false);
	g_assert_true(gw_run_until(gw_has_login, gw, 5000));
	struct fake_command *login = gw_take_command(gw, WORKER_LOGIN);
	struct worker_msg_login m;
	g_assert_true(worker_msg_login_read(login->payload, login->account, &m));
	g_assert_cmpstr(g_hash_table_lookup(m.options, WORKER_OPTION_CERT_PINS), ==,
	                "irc.example.net 6697 AB:CD:EF");
	worker_msg_login_clear(&m);
	fake_command_free(login);
}

static void test_big_png_iq_only(struct gw *gw, gconstpointer unused)
{
	guint32 account = gw_online(gw, "alice");
	GByteArray *big = g_byte_array_new();
	g_byte_array_append(big, png, sizeof(png));
	for (guint i = 0; i < 9000; i++) {
		guint8 b = (guint8)(i * 7);
		g_byte_array_append(big, &b, 1);
	}
	g_autofree char *b64 = g_base64_encode(big->data, big->len);
	g_autofree char *hex = g_compute_checksum_for_data(G_CHECKSUM_SHA1, big->data, big->len);
	g_byte_array_unref(big);
	struct prompt *p = emit_prompt(
	    gw, account, 2, WORKER_PROMPT_KIND_FIELDS, "Scan",
	    form_of(field("var", "qr_image", "type", "fixed", "image", b64, NULL), NULL));
	gw_clear(gw);
	g_autoptr(GPtrArray) att = prompt_attachments(p);
	g_assert_cmpuint(att->len, ==, 0); /* over 8 KiB: not inline */
	g_autofree char *cid = g_strdup_printf("sha1+%s@bob.xmpp.org", hex);
	gw_injectf(gw,
	           "<iq type='get' id='b1' from='" ALICE_PC "' to='" GW_JID "'>"
	           "<data xmlns='urn:xmpp:bob' cid='%s'/></iq>",
	           cid);
	struct stanza *r = gw_expect(gw, "iq", "result", ALICE_PC);
	g_assert_nonnull(stanza_find_child(r, "data", "urn:xmpp:bob"));
	stanza_free(r);
	/* once the prompt is closed the picture is gone */
	FAKE_EMIT(gw->fake, prompt_closed, .account = account, .prompt = 2,
	          .why = WORKER_PROMPT_CLOSED_ANSWERED, .text = "");
	gw_injectf(gw,
	           "<iq type='get' id='b2' from='" ALICE_PC "' to='" GW_JID "'>"
	           "<data xmlns='urn:xmpp:bob' cid='%s'/></iq>",
	           cid);
	r = gw_expect(gw, "iq", "error", ALICE_PC);
	stanza_free(r);
}

/* ---- claims and ferry's own prompts ------------------------------------------------------ */

static void on_claimed(void *data, struct prompt *p)
{
	*(struct prompt **)data = p;
}

static void test_claimed(struct gw *gw, gconstpointer unused)
{
	guint32 account = gw_online(gw, "alice");
	struct prompt *got = NULL;
	prompts_claim(prompts_of_gw(gw), account, on_claimed, &got);
	struct prompt *p = emit_input(gw, account, 1);
	g_assert_true(got == p);
	gw_expect_nothing(gw); /* the claimer shows it, not the chat */
	prompts_unclaim(prompts_of_gw(gw), account);
	(void)emit_input(gw, account, 2);
	stanza_free(gw_expect(gw, "message", "chat", ALICE));
}

struct own {
	int answers;
	char *value;
	bool freed;
};

static void own_answer(void *data, const struct dataform *values)
{
	struct own *o = data;
	o->answers++;
	g_free(o->value);
	o->value = values != NULL ? g_strdup(dataform_get_value(values, "code")) : NULL;
}

static void own_free(void *data)
{
	((struct own *)data)->freed = true;
}

static void test_own_prompt(struct gw *gw, gconstpointer unused)
{
	struct own o = {0};
	struct dataform *form = dataform_new(DATAFORM_FORM);
	dataform_field_set_required(dataform_add_field(form, DATAFORM_TEXT_SINGLE, "code", "Code"),
	                            true);
	struct prompt *p = prompts_ask(prompts_of_gw(gw), ALICE, "A question", "Line", form,
	                               own_answer, &o, own_free);
	g_assert_true(prompts_asking(prompts_of_gw(gw), ALICE, own_answer));
	stanza_free(gw_expect(gw, "message", "chat", ALICE));
	struct seen seen = {0};
	prompt_watch(p, &seen_watcher, &seen);
	struct dataform *sub = dataform_new(DATAFORM_SUBMIT);
	dataform_field_add_value(dataform_add_field(sub, DATAFORM_TEXT_SINGLE, "code", NULL), "42");
	g_assert_true(prompt_answer(p, sub));
	dataform_free(sub);
	g_assert_cmpint(o.answers, ==, 1);
	g_assert_cmpstr(o.value, ==, "42");
	g_assert_true(o.freed);
	g_assert_cmpint(seen.closed, ==, 1);
	g_assert_cmpint(seen.end, ==, PROMPT_END_ANSWERED);
	g_assert_false(prompts_asking(prompts_of_gw(gw), ALICE, own_answer));
	g_assert_cmpuint(fake_legacy_count_type(gw->fake, WORKER_ANSWER_PROMPT), ==, 0);
	g_free(o.value);
	g_free(seen.text);
}

/* ---- a changed password ------------------------------------------------------------------ */

static guint32 fail_auth(struct gw *gw, guint32 account)
{
	FAKE_EMIT(gw->fake, disconnected, .account = account, .reason = WORKER_REASON_AUTH,
	          .text = "Incorrect password", .fatal = true);
	return account;
}

static void test_changed_password_asked_once(struct gw *gw, gconstpointer unused)
{
	guint32 account = gw_online(gw, "alice");
	fail_auth(gw, account);
	expect_told(gw, "Could not log in to IRC: Incorrect password");
	g_autoptr(GPtrArray) open = prompts_of(prompts_of_gw(gw), ALICE);
	g_assert_cmpuint(open->len, ==, 1);
	struct prompt *p = g_ptr_array_index(open, 0);
	g_assert_cmpstr(prompt_instructions(p), ==,
	                "The IRC server no longer accepts your password. Enter the new one; it is "
	                "stored only after a login with it succeeds.");
	g_assert_true(prompt_has_secret(p));
	struct dataform *f = prompt_form(p);
	const struct dataform_field *pw = dataform_find_field(f, "password");
	g_assert_nonnull(pw);
	g_assert_cmpint(dataform_field_type(pw), ==, DATAFORM_TEXT_PRIVATE);
	g_assert_true(dataform_field_required(pw));
	dataform_free(f);
	/* another failed login while the question is open: not asked again */
	gw_inject(gw, "<presence from='" ALICE_PC "' to='" GW_JID "' type='unavailable'/>");
	gw_inject(gw, "<presence from='" ALICE_PC "' to='" GW_JID "'/>");
	g_assert_true(gw_run_until(gw_has_login, gw, 5000));
	struct fake_command *login = gw_take_command(gw, WORKER_LOGIN);
	fail_auth(gw, login->account);
	fake_command_free(login);
	g_autoptr(GPtrArray) again = prompts_of(prompts_of_gw(gw), ALICE);
	g_assert_cmpuint(again->len, ==, 1);
	/* an empty answer is refused by the form */
	struct dataform *sub = dataform_new(DATAFORM_SUBMIT);
	g_assert_false(prompt_answer(p, sub));
	dataform_free(sub);
	/* nothing of the stored password changed yet */
	struct storage_user *u = storage_user_get(gw->storage, ALICE, NULL);
	g_assert_cmpstr(u->password, ==, "pw");
	storage_user_free(u);
}

static void test_changed_password_stored(struct gw *gw, gconstpointer unused)
{
	guint32 account = gw_online(gw, "alice");
	fail_auth(gw, account);
	g_autoptr(GPtrArray) open = prompts_of(prompts_of_gw(gw), ALICE);
	g_assert_cmpuint(open->len, ==, 1);
	gw_clear(gw);
	fake_legacy_clear(gw->fake);
	struct dataform *sub = dataform_new(DATAFORM_SUBMIT);
	dataform_field_add_value(dataform_add_field(sub, DATAFORM_TEXT_PRIVATE, "password", NULL),
	                         "new-pw");
	g_assert_true(prompt_answer(g_ptr_array_index(open, 0), sub));
	dataform_free(sub);
	/* the check login, with the new password; stored only once it signs on */
	g_assert_true(gw_run_until(gw_has_login, gw, 5000));
	struct fake_command *login = gw_take_command(gw, WORKER_LOGIN);
	struct worker_msg_login m;
	g_assert_true(worker_msg_login_read(login->payload, login->account, &m));
	g_assert_cmpstr(m.password, ==, "new-pw");
	worker_msg_login_clear(&m);
	struct storage_user *u = storage_user_get(gw->storage, ALICE, NULL);
	g_assert_cmpstr(u->password, ==, "pw");
	storage_user_free(u);
	FAKE_EMIT(gw->fake, connected, .account = login->account, .nick = "alice");
	fake_command_free(login);
	u = storage_user_get(gw->storage, ALICE, NULL);
	g_assert_cmpstr(u->password, ==, "new-pw");
	storage_user_free(u);
	expect_told(gw, "The new password works");
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_log_set_always_fatal(G_LOG_LEVEL_CRITICAL);
#define ADD(name, fn, extra) g_test_add(name, struct gw, extra, gw_test_setup, fn, gw_test_teardown)
	ADD("/prompts/form_mapping", test_form_mapping, NULL);
	ADD("/prompts/answer_once", test_answer_once, NULL);
	ADD("/prompts/error_reopens", test_error_reopens, NULL);
	ADD("/prompts/withdrawn_told", test_withdrawn_told, NULL);
	ADD("/prompts/timeout_cancels", test_timeout_cancels, "[limits]\nprompt_seconds = 5\n");
	ADD("/prompts/bound", test_bound, NULL);
	ADD("/prompts/png_bob", test_png_bob, NULL);
	ADD("/prompts/tga_dropped", test_tga_dropped, NULL);
	ADD("/prompts/qr_drawn", test_qr_drawn, NULL);
	ADD("/prompts/pin_stored", test_pin_stored, NULL);
	ADD("/prompts/big_png_iq_only", test_big_png_iq_only, NULL);
	ADD("/prompts/claimed", test_claimed, NULL);
	ADD("/prompts/own_prompt", test_own_prompt, NULL);
	ADD("/prompts/changed_password_asked_once", test_changed_password_asked_once, NULL);
	ADD("/prompts/changed_password_stored", test_changed_password_stored, NULL);
	return g_test_run();
}
