/* ferrytest: a test-only libpurple protocol plugin (prpl-ferrytest) that
 * raises every libpurple request kind on cue, so the worker's generic
 * prompt bridge is tested against a real plugin (the plugins that need
 * one, Telegram, WhatsApp, Discord, Teams, cannot run here). Built for
 * make check only, never installed; the worker loads it from
 * FERRY_WORKER_TEST_PLUGIN_DIR.
 *
 * No network: login connects from a short timer, the buddy "cue" is
 * online. Each IM the user sends to "cue" names one request; each
 * callback reports what libpurple handed it as an IM from "cue" in a
 * fixed form (tests compare it with what they sent):
 *   ok input: TEXT            cancel input: TEXT
 *   ok choice: N              cancel choice: N
 *   ok action: INDEX
 *   ok fields: var=value;...  cancel fields
 *   ok file: PATH             cancel file
 * (texts HTML-escaped, as IMs are HTML). The plugin checks the request
 * lifetime rules itself and reports a violation as "BUG: ..." (or logs it
 * when its connection is gone).
 *
 * An account whose username starts with "code" asks for a "Login code"
 * before it connects: 123456 connects, anything else or a cancel fails the
 * login with an authentication error. */
#include <errno.h>
#include <glib.h>
#include <string.h>
#include <time.h>

#include <purple.h> /* defines PURPLE_PLUGINS: a loadable plugin */

#define FT_ID "prpl-ferrytest"
#define FT_CUE "cue"
#define FT_LOGIN_CODE "123456"

/* A 1x1 RGBA PNG. */
static const guint8 png_bytes[] = {
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48,
    0x44, 0x52, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00,
    0x00, 0x1f, 0x15, 0xc4, 0x89, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x44, 0x41, 0x54, 0x78,
    0x9c, 0x63, 0xf8, 0xcf, 0xc0, 0xf0, 0x1f, 0x00, 0x05, 0x00, 0x01, 0xff, 0x89, 0x99,
    0x3d, 0x1d, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82};

/* A 2x2 uncompressed 32-bit TGA (true colour, 8 alpha bits, top-left
 * origin), as purple-discord sends its QR code. */
static const guint8 tga_bytes[] = {0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
                                   0x00, 0x00, 0x00, 0x02, 0x00, 0x02, 0x00, 0x20, 0x28,
                                   0x00, 0x00, 0xff, 0xff, 0x00, 0xff, 0x00, 0xff, 0xff,
                                   0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff};

/* One connection's state. */
struct ft_conn {
	PurpleConnection *gc;
	guint connect_timer;
};

/* One request raised; kept after it closes (test-only, freed at unload) so
 * that a callback arriving late is seen rather than a use after free. */
struct ft_req {
	char *cue;
	PurpleRequestType type;
	PurpleConnection *gc; /* NULL once its connection ended */
	void *ui_handle;      /* what the UI returned */
	gboolean closed;      /* the plugin closed it, or its connection ended */
	gboolean answered;    /* a callback ran */
	guint timer;          /* withdraw / disconnect */
};

static GList *requests; /* struct ft_req */

/* ---- reports ------------------------------------------------------------- */

static void report(PurpleConnection *gc, const char *text)
{
	g_autofree char *html = g_markup_escape_text(text, -1);
	serv_got_im(gc, FT_CUE, html, 0, time(NULL));
}

static void bug(struct ft_req *req, const char *what)
{
	g_autofree char *text = g_strdup_printf("BUG: %s for %s", what, req->cue);
	if (req->gc != NULL)
		report(req->gc, text);
	g_warning("ferrytest: %s", text);
}

/* The checks every callback makes; false when it must not go on. */
static gboolean callback_ok(struct ft_req *req)
{
	if (req->closed) {
		bug(req, "callback after close");
		return FALSE;
	}
	if (req->answered) {
		bug(req, "callback twice");
		return FALSE;
	}
	req->answered = TRUE;
	return req->gc != NULL;
}

static struct ft_req *req_new(PurpleConnection *gc, const char *cue, PurpleRequestType type)
{
	struct ft_req *req = g_new0(struct ft_req, 1);
	req->cue = g_strdup(cue);
	req->type = type;
	req->gc = gc;
	requests = g_list_prepend(requests, req);
	return req;
}

static void req_raised(struct ft_req *req, void *ui_handle)
{
	req->ui_handle = ui_handle;
	if (ui_handle == NULL)
		bug(req, "handle NULL");
}

/* ---- callbacks ------------------------------------------------------------ */

static void input_done(struct ft_req *req, const char *how, const char *text)
{
	if (!callback_ok(req))
		return;
	g_autofree char *r = g_strdup_printf("%s input: %s", how, text != NULL ? text : "(null)");
	report(req->gc, r);
}

static void input_ok(void *data, const char *text)
{
	input_done(data, "ok", text);
}

static void input_cancel(void *data, const char *text)
{
	input_done(data, "cancel", text);
}

static void choice_done(struct ft_req *req, const char *how, int value)
{
	if (!callback_ok(req))
		return;
	g_autofree char *r = g_strdup_printf("%s choice: %d", how, value);
	report(req->gc, r);
}

static void choice_ok(void *data, int value)
{
	choice_done(data, "ok", value);
}

static void choice_cancel(void *data, int value)
{
	choice_done(data, "cancel", value);
}

static void action_cb(void *data, int index)
{
	struct ft_req *req = data;
	if (!callback_ok(req))
		return;
	g_autofree char *r = g_strdup_printf("ok action: %d", index);
	report(req->gc, r);
}

/* The selected items of a list field as their indexes, "1,3". */
static char *list_selection(PurpleRequestField *f)
{
	GString *s = g_string_new(NULL);
	int i = 0;
	for (GList *l = purple_request_field_list_get_items(f); l != NULL; l = l->next, i++) {
		if (!purple_request_field_list_is_selected(f, l->data))
			continue;
		if (s->len > 0)
			g_string_append_c(s, ',');
		g_string_append_printf(s, "%d", i);
	}
	return g_string_free(s, FALSE);
}

/* var=value for every field with a value, in order, ';' between. */
static char *fields_text(PurpleRequestFields *fields)
{
	GString *s = g_string_new(NULL);
	for (GList *g = purple_request_fields_get_groups(fields); g != NULL; g = g->next) {
		for (GList *l = purple_request_field_group_get_fields(g->data); l != NULL;
		     l = l->next) {
			PurpleRequestField *f = l->data;
			g_autofree char *value = NULL;
			switch (purple_request_field_get_type(f)) {
			case PURPLE_REQUEST_FIELD_STRING: {
				const char *v = purple_request_field_string_get_value(f);
				value = g_strdup(v != NULL ? v : "");
				break;
			}
			case PURPLE_REQUEST_FIELD_INTEGER:
				value =
				    g_strdup_printf("%d", purple_request_field_int_get_value(f));
				break;
			case PURPLE_REQUEST_FIELD_BOOLEAN:
				value =
				    g_strdup(purple_request_field_bool_get_value(f) ? "1" : "0");
				break;
			case PURPLE_REQUEST_FIELD_CHOICE:
				value =
				    g_strdup_printf("%d", purple_request_field_choice_get_value(f));
				break;
			case PURPLE_REQUEST_FIELD_LIST:
				value = list_selection(f);
				break;
			case PURPLE_REQUEST_FIELD_ACCOUNT: {
				PurpleAccount *a = purple_request_field_account_get_value(f);
				value = g_strdup(a != NULL ? purple_account_get_username(a) : "");
				break;
			}
			default:
				continue; /* labels, images: nothing to answer */
			}
			if (s->len > 0)
				g_string_append_c(s, ';');
			g_string_append_printf(s, "%s=%s", purple_request_field_get_id(f), value);
		}
	}
	return g_string_free(s, FALSE);
}

static void fields_ok(void *data, PurpleRequestFields *fields)
{
	struct ft_req *req = data;
	if (!callback_ok(req))
		return;
	g_autofree char *text = fields_text(fields);
	g_autofree char *r = g_strdup_printf("ok %s: %s", req->cue, text);
	report(req->gc, r);
}

static void fields_cancel(void *data, PurpleRequestFields *fields)
{
	struct ft_req *req = data;
	if (!callback_ok(req))
		return;
	g_autofree char *r = g_strdup_printf("cancel %s", req->cue);
	report(req->gc, r);
}

static void file_done(struct ft_req *req, const char *how, const char *path)
{
	if (!callback_ok(req))
		return;
	g_autofree char *r = path != NULL ? g_strdup_printf("%s %s: %s", how, req->cue, path)
	                                  : g_strdup_printf("%s %s", how, req->cue);
	report(req->gc, r);
}

static void file_ok(void *data, const char *path)
{
	file_done(data, "ok", path);
}

static void file_cancel(void *data, const char *path)
{
	file_done(data, "cancel", path);
}

/* ---- cues ------------------------------------------------------------------ */

static void raise_input(PurpleConnection *gc, const char *cue, gboolean multiline, gboolean masked)
{
	struct ft_req *req = req_new(gc, cue, PURPLE_REQUEST_INPUT);
	PurpleAccount *account = purple_connection_get_account(gc);
	req_raised(req,
	           purple_request_input(gc, "Input", "Type something", "for the test",
	                                multiline ? "first\nsecond" : "default text", multiline,
	                                masked, NULL, "_OK", G_CALLBACK(input_ok), "_Cancel",
	                                G_CALLBACK(input_cancel), account, FT_CUE, NULL, req));
}

static void raise_choice(PurpleConnection *gc)
{
	struct ft_req *req = req_new(gc, "choice", PURPLE_REQUEST_CHOICE);
	req_raised(req, purple_request_choice(
	                    gc, "Choice", "Pick a fruit", NULL, 2, "_OK", G_CALLBACK(choice_ok),
	                    "_Cancel", G_CALLBACK(choice_cancel), purple_connection_get_account(gc),
	                    FT_CUE, NULL, req, "Apple", 1, "Banana", 2, "Cherry", 7, NULL));
}

static void raise_action(PurpleConnection *gc, const char *cue)
{
	struct ft_req *req = req_new(gc, cue, PURPLE_REQUEST_ACTION);
	PurpleAccount *account = purple_connection_get_account(gc);
	void *h;
	if (strcmp(cue, "action-icon") == 0)
		h = purple_request_action_with_icon(
		    gc, "Action", "Pick an action", "with an icon", 0, account, FT_CUE, NULL,
		    png_bytes, sizeof png_bytes, req, 3, "_Yes", G_CALLBACK(action_cb), "_No",
		    G_CALLBACK(action_cb), "_Later", G_CALLBACK(action_cb));
	else if (strcmp(cue, "action-nodefault") == 0)
		h = purple_request_action(gc, "Action", "Pick an action", "none refuses", -1,
		                          account, FT_CUE, NULL, req, 2, "_Maybe",
		                          G_CALLBACK(action_cb), "_Perhaps", G_CALLBACK(action_cb));
	else
		h = purple_request_action(gc, "Action", "Pick an action", NULL, 0, account, FT_CUE,
		                          NULL, req, 3, "_Yes", G_CALLBACK(action_cb), "_No",
		                          G_CALLBACK(action_cb), "_Later", G_CALLBACK(action_cb));
	req_raised(req, h);
}

static PurpleRequestField *string_field(const char *id, const char *label, const char *value,
                                        gboolean multiline)
{
	return purple_request_field_string_new(id, label, value, multiline);
}

static void raise_fields(PurpleConnection *gc)
{
	PurpleAccount *account = purple_connection_get_account(gc);
	PurpleRequestFields *fields = purple_request_fields_new();
	PurpleRequestFieldGroup *g1 = purple_request_field_group_new("Texts");
	purple_request_fields_add_group(fields, g1);
	PurpleRequestField *f = string_field("name", "Name", "alice", FALSE);
	purple_request_field_set_required(f, TRUE);
	purple_request_field_group_add_field(g1, f);
	f = string_field("secret", "Secret", NULL, FALSE);
	purple_request_field_string_set_masked(f, TRUE);
	purple_request_field_set_required(f, TRUE);
	purple_request_field_group_add_field(g1, f);
	purple_request_field_group_add_field(g1, string_field("bio", "Bio", "line1\nline2", TRUE));
	f = string_field("fixed", "Fixed", "cannot change", FALSE);
	purple_request_field_string_set_editable(f, FALSE);
	purple_request_field_group_add_field(g1, f);
	purple_request_field_group_add_field(g1, purple_request_field_int_new("age", "Age", 42));
	purple_request_field_group_add_field(g1,
	                                     purple_request_field_bool_new("agree", "Agree", TRUE));
	f = string_field("token", "Token", "keep-me-7", FALSE);
	purple_request_field_set_visible(f, FALSE);
	purple_request_field_group_add_field(g1, f);

	PurpleRequestFieldGroup *g2 = purple_request_field_group_new("Choices");
	purple_request_fields_add_group(fields, g2);
	f = purple_request_field_choice_new("color", "Color", 1);
	purple_request_field_choice_add(f, "Red");
	purple_request_field_choice_add(f, "Green");
	purple_request_field_choice_add(f, "Blue");
	purple_request_field_group_add_field(g2, f);
	f = purple_request_field_list_new("one", "One");
	purple_request_field_list_set_multi_select(f, FALSE);
	purple_request_field_list_add_icon(f, "Apple", NULL, GINT_TO_POINTER(1));
	purple_request_field_list_add_icon(f, "Banana", NULL, GINT_TO_POINTER(2));
	purple_request_field_list_add_selected(f, "Banana");
	purple_request_field_group_add_field(g2, f);
	f = purple_request_field_list_new("many", "Many");
	purple_request_field_list_set_multi_select(f, TRUE);
	static const char *const items[] = {"A", "B", "C", "D"};
	for (int i = 0; i < 4; i++)
		purple_request_field_list_add_icon(f, items[i], NULL, GINT_TO_POINTER(i + 1));
	purple_request_field_list_add_selected(f, "B");
	purple_request_field_list_add_selected(f, "D");
	purple_request_field_group_add_field(g2, f);
	purple_request_field_group_add_field(
	    g2, purple_request_field_label_new("note", "Just a label"));
	purple_request_field_group_add_field(
	    g2, purple_request_field_image_new("png", "PNG", (const char *)png_bytes,
	                                       sizeof png_bytes));
	purple_request_field_group_add_field(
	    g2, purple_request_field_image_new("tga", "TGA", (const char *)tga_bytes,
	                                       sizeof tga_bytes));
	f = purple_request_field_account_new("acct", "Account", NULL);
	purple_request_field_account_set_show_all(f, TRUE);
	purple_request_field_group_add_field(g2, f);

	struct ft_req *req = req_new(gc, "fields", PURPLE_REQUEST_FIELDS);
	req_raised(req,
	           purple_request_fields(gc, "Fields", "Every field type", "for the test", fields,
	                                 "_OK", G_CALLBACK(fields_ok), "_Cancel",
	                                 G_CALLBACK(fields_cancel), account, FT_CUE, NULL, req));
}

static void raise_qr(PurpleConnection *gc)
{
	PurpleRequestFields *fields = purple_request_fields_new();
	PurpleRequestFieldGroup *g = purple_request_field_group_new(NULL);
	purple_request_fields_add_group(fields, g);
	PurpleRequestField *f = string_field("qr_string", "QR Code", "2@ferry-test-qr,xyz", FALSE);
	purple_request_field_group_add_field(g, f);
	purple_request_field_group_add_field(
	    g, purple_request_field_image_new("qr_image", "QR Image", (const char *)png_bytes,
	                                      sizeof png_bytes));
	struct ft_req *req = req_new(gc, "qr", PURPLE_REQUEST_FIELDS);
	req_raised(
	    req, purple_request_fields(gc, "Logon QR Code", "Scan this code", NULL, fields, "_OK",
	                               G_CALLBACK(fields_ok), "_Dismiss", G_CALLBACK(fields_cancel),
	                               purple_connection_get_account(gc), FT_CUE, NULL, req));
}

static void raise_file(PurpleConnection *gc, gboolean folder)
{
	PurpleAccount *account = purple_connection_get_account(gc);
	struct ft_req *req = req_new(gc, folder ? "folder" : "file",
	                             folder ? PURPLE_REQUEST_FOLDER : PURPLE_REQUEST_FILE);
	if (folder)
		req_raised(req, purple_request_folder(gc, "Folder", "/tmp", G_CALLBACK(file_ok),
		                                      G_CALLBACK(file_cancel), account, FT_CUE,
		                                      NULL, req));
	else
		req_raised(req, purple_request_file(gc, "File", "name.txt", FALSE,
		                                    G_CALLBACK(file_ok), G_CALLBACK(file_cancel),
		                                    account, FT_CUE, NULL, req));
}

/* withdraw: the plugin closes its own prompt after ~1 s. */
static gboolean withdraw_now(gpointer data)
{
	struct ft_req *req = data;
	req->timer = 0;
	if (!req->closed && !req->answered && req->ui_handle != NULL) {
		req->closed = TRUE;
		purple_request_close(req->type, req->ui_handle);
		if (req->gc != NULL)
			report(req->gc, "withdrawn withdraw");
	}
	return FALSE;
}

/* disconnect: the account ends with the prompt open; the connection's
 * destruction closes it. */
static gboolean disconnect_now(gpointer data)
{
	struct ft_req *req = data;
	req->timer = 0;
	if (req->gc != NULL)
		purple_connection_error_reason(req->gc, PURPLE_CONNECTION_ERROR_OTHER_ERROR,
		                               "ferrytest: disconnect on cue");
	return FALSE;
}

static void raise_timed_input(PurpleConnection *gc, const char *cue, GSourceFunc then, guint ms)
{
	struct ft_req *req = req_new(gc, cue, PURPLE_REQUEST_INPUT);
	req_raised(req, purple_request_input(gc, "Input", "Soon gone", NULL, NULL, FALSE, FALSE,
	                                     NULL, "_OK", G_CALLBACK(input_ok), "_Cancel",
	                                     G_CALLBACK(input_cancel),
	                                     purple_connection_get_account(gc), FT_CUE, NULL, req));
	req->timer = purple_timeout_add(ms, then, req);
}

static void cue(PurpleConnection *gc, const char *word)
{
	if (strcmp(word, "input") == 0)
		raise_input(gc, word, FALSE, FALSE);
	else if (strcmp(word, "input-masked") == 0)
		raise_input(gc, word, FALSE, TRUE);
	else if (strcmp(word, "input-multiline") == 0)
		raise_input(gc, word, TRUE, FALSE);
	else if (strcmp(word, "choice") == 0)
		raise_choice(gc);
	else if (g_str_has_prefix(word, "action"))
		raise_action(gc, word);
	else if (strcmp(word, "fields") == 0) {
		g_autofree char *png =
		    g_compute_checksum_for_data(G_CHECKSUM_SHA256, png_bytes, sizeof png_bytes);
		g_autofree char *tga =
		    g_compute_checksum_for_data(G_CHECKSUM_SHA256, tga_bytes, sizeof tga_bytes);
		g_autofree char *r = g_strdup_printf("info fields: png=%s;tga=%s", png, tga);
		report(gc, r);
		raise_fields(gc);
	} else if (strcmp(word, "qr") == 0)
		raise_qr(gc);
	else if (strcmp(word, "file") == 0)
		raise_file(gc, FALSE);
	else if (strcmp(word, "folder") == 0)
		raise_file(gc, TRUE);
	else if (strcmp(word, "withdraw") == 0)
		raise_timed_input(gc, word, withdraw_now, 1000);
	else if (strcmp(word, "disconnect") == 0)
		raise_timed_input(gc, word, disconnect_now, 300);
	else {
		g_autofree char *r = g_strdup_printf("unknown cue: %s", word);
		report(gc, r);
	}
}

/* ---- the protocol ------------------------------------------------------------ */

static gboolean connect_now(gpointer data)
{
	struct ft_conn *c = data;
	c->connect_timer = 0;
	PurpleAccount *account = purple_connection_get_account(c->gc);
	purple_connection_set_state(c->gc, PURPLE_CONNECTED);
	if (purple_find_buddy(account, FT_CUE) == NULL)
		purple_blist_add_buddy(purple_buddy_new(account, FT_CUE, "Cue"), NULL, NULL, NULL);
	purple_prpl_got_user_status(account, FT_CUE, "available", NULL);
	return FALSE;
}

static void login_code_done(struct ft_req *req, const char *text)
{
	if (!callback_ok(req))
		return;
	struct ft_conn *c = purple_connection_get_protocol_data(req->gc);
	if (text != NULL && strcmp(text, FT_LOGIN_CODE) == 0)
		c->connect_timer = purple_timeout_add(10, connect_now, c);
	else
		purple_connection_error_reason(req->gc,
		                               PURPLE_CONNECTION_ERROR_AUTHENTICATION_FAILED,
		                               text != NULL ? "wrong login code" : "no login code");
}

static void login_code_ok(void *data, const char *text)
{
	login_code_done(data, text);
}

static void login_code_cancel(void *data, const char *text)
{
	login_code_done(data, NULL);
}

static void ft_login(PurpleAccount *account)
{
	PurpleConnection *gc = purple_account_get_connection(account);
	struct ft_conn *c = g_new0(struct ft_conn, 1);
	c->gc = gc;
	purple_connection_set_protocol_data(gc, c);
	purple_connection_update_progress(gc, "Connecting", 0, 2);
	if (g_str_has_prefix(purple_account_get_username(account), "code")) {
		struct ft_req *req = req_new(gc, "login-code", PURPLE_REQUEST_INPUT);
		req_raised(req, purple_request_input(gc, "Login code", "Enter the login code",
		                                     "sent by the test", NULL, FALSE, FALSE, NULL,
		                                     "_OK", G_CALLBACK(login_code_ok), "_Cancel",
		                                     G_CALLBACK(login_code_cancel), account, NULL,
		                                     NULL, req));
		return;
	}
	c->connect_timer = purple_timeout_add(50, connect_now, c);
}

static void ft_close(PurpleConnection *gc)
{
	struct ft_conn *c = purple_connection_get_protocol_data(gc);
	/* The connection's destruction closes its prompts: none is answerable
	 * from now on, and none may be reported to. */
	for (GList *l = requests; l != NULL; l = l->next) {
		struct ft_req *req = l->data;
		if (req->gc != gc)
			continue;
		req->gc = NULL;
		req->closed = TRUE;
		if (req->timer != 0) {
			purple_timeout_remove(req->timer);
			req->timer = 0;
		}
	}
	if (c != NULL) {
		if (c->connect_timer != 0)
			purple_timeout_remove(c->connect_timer);
		g_free(c);
	}
	purple_connection_set_protocol_data(gc, NULL);
}

static int ft_send_im(PurpleConnection *gc, const char *who, const char *message,
                      PurpleMessageFlags flags)
{
	if (strcmp(who, FT_CUE) != 0)
		return -ENOTCONN;
	g_autofree char *plain = purple_markup_strip_html(message);
	cue(gc, g_strstrip(plain));
	return 1;
}

static const char *ft_list_icon(PurpleAccount *account, PurpleBuddy *buddy)
{
	return "ferrytest";
}

static GList *ft_status_types(PurpleAccount *account)
{
	GList *types = NULL;
	types = g_list_append(
	    types, purple_status_type_new(PURPLE_STATUS_AVAILABLE, "available", NULL, TRUE));
	types = g_list_append(types,
	                      purple_status_type_new(PURPLE_STATUS_OFFLINE, "offline", NULL, TRUE));
	return types;
}

static PurplePluginProtocolInfo prpl_info = {
    .options = OPT_PROTO_PASSWORD_OPTIONAL,
    .icon_spec = NO_BUDDY_ICONS,
    .list_icon = ft_list_icon,
    .status_types = ft_status_types,
    .login = ft_login,
    .close = ft_close,
    .send_im = ft_send_im,
    .struct_size = sizeof(PurplePluginProtocolInfo),
};

static gboolean plugin_unload(PurplePlugin *plugin)
{
	for (GList *l = requests; l != NULL; l = l->next) {
		struct ft_req *req = l->data;
		if (req->timer != 0)
			purple_timeout_remove(req->timer);
		g_free(req->cue);
		g_free(req);
	}
	g_list_free(requests);
	requests = NULL;
	return TRUE;
}

static PurplePluginInfo info = {
    .magic = PURPLE_PLUGIN_MAGIC,
    .major_version = PURPLE_MAJOR_VERSION,
    .minor_version = PURPLE_MINOR_VERSION,
    .type = PURPLE_PLUGIN_PROTOCOL,
    .priority = PURPLE_PRIORITY_DEFAULT,
    .id = (char *)FT_ID,
    .name = (char *)"Ferry Test",
    .version = (char *)"1.0",
    .summary = (char *)"ferry's test protocol",
    .description = (char *)"Raises every libpurple request kind on cue (tests only)",
    .author = (char *)"ferry",
    .homepage = (char *)"",
    .unload = plugin_unload,
    .extra_info = &prpl_info,
};

static void init_plugin(PurplePlugin *plugin)
{
}

PURPLE_INIT_PLUGIN(ferrytest, init_plugin, info)
