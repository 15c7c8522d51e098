/* regform: the XEP-0077 registration form's fields, built from a protocol
 * description, presets and locks, and the submissions read back. The
 * XEP-0004 side (the <x/> both ways, the checks by field type) is
 * dataform's. See include/ferry/regform.h. */
#include "config.h"
#include "ferry/regform.h"

#include <string.h>

#include "ferry/dataform.h"
#include "ferry/netpolicy.h"
#include "ferry/ns.h"
#include "ferry/secrets.h"
#include "ferry/settings.h"
#include "ferry/worker_describe.h"

G_DEFINE_QUARK(ferry-regform-error-quark, regform_error);

enum field_kind {
	FIELD_USERNAME,
	FIELD_PASSWORD,
	FIELD_SPLIT,  /* a part of the legacy account name */
	FIELD_OPTION, /* an account option */
};

enum value_kind { VALUE_TEXT, VALUE_BOOL, VALUE_INT, VALUE_LIST };

struct field {
	enum field_kind kind;
	enum value_kind value;
	char *var; /* form field name */
	char *label;
	char *def;          /* default (after presets); never NULL */
	char *option_key;   /* FIELD_OPTION: the account setting key */
	char *separator;    /* FIELD_SPLIT: joins it to the name */
	GPtrArray *choices; /* VALUE_LIST: char * pairs label, value */
	bool required;
	bool locked; /* [legacy] locked */
	bool hidden; /* not in the form: takes its preset or default */
};

/* What a protocol's form shows of its account options, beyond the
 * username, password and user splits. */
struct protocol_form {
	const char *protocol;
	const char *password_label; /* NULL: "Password" */
	/* Options shown always (field names); NULL: every option (a protocol
	 * ferry knows nothing of). Others only when [legacy] ferry.fields lists
	 * them. */
	const char *const *essentials;
	/* The user split the options in WITH_SERVER go with: shown while it is
	 * open, hidden with it when the admin locks it ("Use SSL" on a pinned
	 * plain server only hangs). */
	const char *server;
	const char *const *with_server;
};

static const char *const irc_essentials[] = {"sasl", "saslname", NULL};
static const char *const irc_with_server[] = {"port", "ssl", NULL};
static const char *const none[] = {NULL};
static const char *const xmpp_with_server[] = {"connection_security", "connect_server", "port",
                                               NULL};

static const struct protocol_form protocol_forms[] = {
    /* prpl-irc sends the password as PASS (the server password), or, with
     * SASL, as the SASL password; services networks need SASL. */
    {"prpl-irc", "IRC server password, or SASL password with SASL", irc_essentials, "server",
     irc_with_server},
    {"prpl-jabber", NULL, none, "domain", xmpp_with_server},
};

static const struct protocol_form *protocol_form_of(const char *protocol)
{
	for (gsize i = 0; i < G_N_ELEMENTS(protocol_forms); i++)
		if (strcmp(protocol_forms[i].protocol, protocol) == 0)
			return &protocol_forms[i];
	return NULL;
}

static bool listed(const char *const *list, const char *name)
{
	return list != NULL && g_strv_contains(list, name);
}

struct regform {
	char *protocol;
	char *protocol_name;
	guint32 flags;
	GPtrArray *fields; /* struct field *, form order */
	/* The servers users may choose (netpolicy.h): [legacy]
	 * ferry.allowed_servers, else the server fields' presets. */
	char **allowed_listed; /* ferry.allowed_servers as written, or NULL */
	char **allowed;        /* what is in force (NULL-terminated) */
	struct netpolicy *policy;
};

static void field_free(gpointer data)
{
	struct field *f = data;
	g_free(f->var);
	g_free(f->label);
	g_free(f->def);
	g_free(f->option_key);
	g_free(f->separator);
	if (f->choices != NULL)
		g_ptr_array_unref(f->choices);
	g_free(f);
}

static struct field *find(const struct regform *form, const char *var)
{
	for (guint i = 0; i < form->fields->len; i++) {
		struct field *f = g_ptr_array_index(form->fields, i);
		if (strcmp(f->var, var) == 0)
			return f;
	}
	return NULL;
}

/* A split's field name: its label in lower case, spaces as '_'. */
static char *split_var(const char *label)
{
	char *v = g_utf8_strdown(label, -1);
	g_strdelimit(v, " ", '_');
	return v;
}

static enum dataform_field_type field_type(const struct field *f)
{
	if (f->kind == FIELD_PASSWORD)
		return DATAFORM_TEXT_PRIVATE;
	switch (f->value) {
	case VALUE_BOOL:
		return DATAFORM_BOOLEAN;
	case VALUE_LIST:
		return DATAFORM_LIST_SINGLE;
	default:
		return DATAFORM_TEXT_SINGLE; /* VALUE_INT with an integer range */
	}
}

/* Appends F to DF as an XEP-0004 field, without a value. */
static struct dataform_field *add_to_dataform(struct dataform *df, const struct field *f)
{
	struct dataform_field *d = dataform_add_field(df, field_type(f), f->var, f->label);
	dataform_field_set_required(d, f->required);
	if (f->value == VALUE_INT)
		dataform_field_set_integer(d, G_MININT32, G_MAXINT32);
	for (guint c = 0; f->choices != NULL && c + 1 < f->choices->len; c += 2)
		dataform_field_add_option(d, g_ptr_array_index(f->choices, c),
		                          g_ptr_array_index(f->choices, c + 1));
	return d;
}

/* VALUE (a default or a preset) checked and normalized for F as a
 * submitted value would be; NULL when it does not fit. An empty value fits
 * text fields only. */
static char *normalize(const struct field *f, const char *value)
{
	struct dataform *one = dataform_new(DATAFORM_FORM);
	dataform_field_set_required(add_to_dataform(one, f), false);
	struct dataform *sub = dataform_new(DATAFORM_SUBMIT);
	dataform_field_add_value(dataform_add_field(sub, DATAFORM_TEXT_SINGLE, f->var, NULL),
	                         value);
	struct dataform *checked = dataform_check(one, sub, NULL);
	char *norm = NULL;
	if (checked != NULL) {
		const char *v = dataform_get_value(checked, f->var);
		if (v != NULL)
			norm = g_strdup(v);
		else if (f->value == VALUE_TEXT)
			norm = g_strdup("");
	}
	dataform_free(checked);
	dataform_free(sub);
	dataform_free(one);
	return norm;
}

static void add_field(struct regform *form, struct field *f)
{
	g_ptr_array_add(form->fields, f);
}

static void build_fields(struct regform *form, const struct worker_description *describe)
{
	form->protocol = g_strdup(describe->protocol);
	form->protocol_name = g_strdup(describe->name);
	form->flags = describe->flags;

	const struct protocol_form *pf = protocol_form_of(describe->protocol);
	struct field *user = g_new0(struct field, 1);
	user->kind = FIELD_USERNAME;
	user->var = g_strdup("username");
	user->label =
	    g_strdup(strcmp(describe->protocol, "prpl-irc") == 0 ? "Nickname" : "Username");
	user->def = g_strdup("");
	user->required = true;
	add_field(form, user);
	if (!(describe->flags & WORKER_DESCRIBE_NO_PASSWORD)) {
		struct field *pw = g_new0(struct field, 1);
		pw->kind = FIELD_PASSWORD;
		pw->var = g_strdup("password");
		pw->label = g_strdup(pf != NULL && pf->password_label != NULL ? pf->password_label
		                                                              : "Password");
		pw->def = g_strdup("");
		pw->required = !(describe->flags & WORKER_DESCRIBE_PASSWORD_OPTIONAL);
		add_field(form, pw);
	}
	for (guint i = 0; i < describe->splits->len; i++) {
		const struct worker_split *split = g_ptr_array_index(describe->splits, i);
		struct field *f = g_new0(struct field, 1);
		f->kind = FIELD_SPLIT;
		f->var = split_var(split->label);
		f->label = g_strdup(split->label);
		f->def = g_strdup(split->def);
		f->separator = g_strdup(split->separator);
		add_field(form, f);
	}
	for (guint i = 0; i < describe->options->len; i++) {
		const struct worker_option *option = g_ptr_array_index(describe->options, i);
		if (strchr(option->key, '.') != NULL) {
			/* [legacy] keeps dotted names for ferry's own keys (ferry.fields) */
			g_warning("%s: account option '%s' left out of the form: a '.' in a key "
			          "is reserved for ferry's [legacy] keys; it keeps libpurple's "
			          "default",
			          describe->protocol, option->key);
			continue;
		}
		struct field *f = g_new0(struct field, 1);
		f->kind = FIELD_OPTION;
		f->option_key = g_strdup(option->key);
		f->var = find(form, option->key) != NULL ? g_strdup_printf("option_%s", option->key)
		                                         : g_strdup(option->key);
		f->label = g_strdup(option->label);
		f->value = option->kind == WORKER_OPTION_BOOL   ? VALUE_BOOL
		           : option->kind == WORKER_OPTION_INT  ? VALUE_INT
		           : option->kind == WORKER_OPTION_LIST ? VALUE_LIST
		                                                : VALUE_TEXT;
		if (f->value == VALUE_LIST) {
			f->choices = g_ptr_array_new_with_free_func(g_free);
			for (guint c = 0; c < option->choices->len; c++) {
				const struct worker_choice *ch =
				    g_ptr_array_index(option->choices, c);
				g_ptr_array_add(f->choices, g_strdup(ch->label));
				g_ptr_array_add(f->choices, g_strdup(ch->value));
			}
		}
		char *norm = normalize(f, option->def);
		f->def = norm != NULL ? norm : g_strdup(option->def);
		f->hidden = pf != NULL && pf->essentials != NULL &&
		            !listed(pf->essentials, f->var) && !listed(pf->with_server, f->var);
		add_field(form, f);
	}
}

/* [legacy] ferry.fields: the fields shown beyond the essentials. */
static bool show_fields(struct regform *form, const struct protocol_form *pf, const char *value,
                        GError **error)
{
	g_auto(GStrv) names = g_strsplit_set(value, ",;", -1);
	for (gsize i = 0; names[i] != NULL; i++) {
		const char *name = g_strstrip(names[i]);
		if (*name == '\0')
			continue;
		struct field *f = find(form, name);
		if (f == NULL || f->kind != FIELD_OPTION) {
			g_set_error(error, REGFORM_ERROR, REGFORM_ERROR_CONFIG,
			            "[legacy] ferry.fields: '%s' is not an account option of %s",
			            name, form->protocol);
			return false;
		}
		if (f->locked) {
			g_set_error(error, REGFORM_ERROR, REGFORM_ERROR_CONFIG,
			            "[legacy] ferry.fields: '%s' is locked", name);
			return false;
		}
		if (pf != NULL && listed(pf->with_server, name) && f->hidden) {
			g_set_error(error, REGFORM_ERROR, REGFORM_ERROR_CONFIG,
			            "[legacy] ferry.fields: '%s' goes with the locked '%s'", name,
			            pf->server);
			return false;
		}
		f->hidden = false;
	}
	return true;
}

/* The fields that name the server an account connects to, per protocol
 * (the address policy checks them at registration). */
static const char *const irc_server_fields[] = {"server", NULL};
static const char *const xmpp_server_fields[] = {"domain", "connect_server", NULL};
static const struct {
	const char *protocol;
	const char *const *fields;
} server_fields[] = {
    {"prpl-irc", irc_server_fields},
    {"prpl-jabber", xmpp_server_fields},
};

static const char *const *server_fields_of(const char *protocol)
{
	for (gsize i = 0; i < G_N_ELEMENTS(server_fields); i++)
		if (strcmp(server_fields[i].protocol, protocol) == 0)
			return server_fields[i].fields;
	return NULL;
}

/* [legacy] ferry.allowed_servers: names, addresses, CIDRs. */
static bool allowed_servers(struct regform *form, const char *value, GError **error)
{
	g_auto(GStrv) parts = g_strsplit_set(value, ",;", -1);
	GPtrArray *list = g_ptr_array_new();
	for (gsize i = 0; parts[i] != NULL; i++) {
		const char *e = g_strstrip(parts[i]);
		if (*e != '\0')
			g_ptr_array_add(list, g_strdup(e));
	}
	g_ptr_array_add(list, NULL);
	g_strfreev(form->allowed_listed);
	form->allowed_listed = (char **)g_ptr_array_free(list, FALSE);
	g_autoptr(GError) err = NULL;
	struct netpolicy *check = netpolicy_new((const char *const *)form->allowed_listed, &err);
	if (check == NULL) {
		g_set_error(error, REGFORM_ERROR, REGFORM_ERROR_CONFIG,
		            "[legacy] ferry.allowed_servers: %s", err->message);
		return false;
	}
	netpolicy_free(check);
	return true;
}

/* The servers in force: the list, else the server fields' presets (or
 * defaults), so a transport pinned to one network needs no list. */
static void settle_policy(struct regform *form)
{
	GPtrArray *list = g_ptr_array_new();
	if (form->allowed_listed != NULL) {
		for (gsize i = 0; form->allowed_listed[i] != NULL; i++)
			g_ptr_array_add(list, g_strdup(form->allowed_listed[i]));
	} else {
		const char *const *names = server_fields_of(form->protocol);
		for (gsize i = 0; names != NULL && names[i] != NULL; i++) {
			const struct field *f = find(form, names[i]);
			if (f != NULL && *f->def != '\0')
				g_ptr_array_add(list, g_strdup(f->def));
		}
	}
	g_ptr_array_add(list, NULL);
	form->allowed = (char **)g_ptr_array_free(list, FALSE);
	form->policy = netpolicy_new((const char *const *)form->allowed, NULL);
	if (form->policy == NULL) /* a preset that is no host: nothing listed */
		form->policy = netpolicy_new(NULL, NULL);
}

/* A submission's server fields against the policy: an unlisted server
 * is refused, naming what is allowed. */
static bool check_servers(const struct regform *form, GHashTable *settings, GError **error)
{
	const char *const *names = server_fields_of(form->protocol);
	for (gsize i = 0; names != NULL && names[i] != NULL; i++) {
		const struct field *f = find(form, names[i]);
		const char *v = f != NULL ? g_hash_table_lookup(settings, f->var) : NULL;
		if (f == NULL || f->locked || v == NULL || *v == '\0' ||
		    netpolicy_server_allowed(form->policy, v))
			continue;
		g_set_error(error, REGFORM_ERROR, REGFORM_ERROR_SUBMISSION,
		            "%s: '%s' is not a server this transport connects to; it connects to: "
		            "%s",
		            f->var, v,
		            *netpolicy_describe(form->policy) != '\0'
		                ? netpolicy_describe(form->policy)
		                : "none (ask the admin)");
		return false;
	}
	return true;
}

const char *const *regform_allowed_servers(const struct regform *form)
{
	return (const char *const *)form->allowed;
}

bool regform_server_open(const struct regform *form)
{
	if (form->allowed_listed != NULL)
		return false;
	const char *const *names = server_fields_of(form->protocol);
	for (gsize i = 0; names != NULL && names[i] != NULL; i++) {
		const struct field *f = find(form, names[i]);
		if (f != NULL && !f->locked && !f->hidden)
			return true;
	}
	return false;
}

/* A [legacy] key of ferry's own (with a '.': no protocol field has one). */
static bool ferry_key(struct regform *form, const struct protocol_form *pf, const char *key,
                      const char *value, GError **error)
{
	if (strcmp(key, "ferry.fields") == 0)
		return show_fields(form, pf, value, error);
	if (strcmp(key, "ferry.allowed_servers") == 0)
		return allowed_servers(form, value, error);
	g_set_error(error, REGFORM_ERROR, REGFORM_ERROR_CONFIG,
	            "[legacy] %s: ferry has no such setting (its own [legacy] keys are "
	            "written ferry.<name>: ferry.fields, ferry.allowed_servers)",
	            key);
	return false;
}

/* The fields a [legacy] preset may name ("server, port, ssl, ..."), for
 * the admin who named another. */
static char *preset_names(const struct regform *form)
{
	GString *out = g_string_new(NULL);
	for (guint i = 0; i < form->fields->len; i++) {
		const struct field *f = g_ptr_array_index(form->fields, i);
		if (f->kind == FIELD_USERNAME || f->kind == FIELD_PASSWORD)
			continue;
		g_string_append_printf(out, "%s%s", out->len > 0 ? ", " : "", f->var);
	}
	return g_string_free(out, FALSE);
}

struct regform *regform_new(const struct worker_description *describe, GHashTable *presets,
                            char **locked, GError **error)
{
	struct regform *form = g_new0(struct regform, 1);
	form->fields = g_ptr_array_new_with_free_func(field_free);
	build_fields(form, describe);
	const struct protocol_form *pf = protocol_form_of(describe->protocol);
	if (presets != NULL) {
		GHashTableIter it;
		gpointer k, v;
		g_hash_table_iter_init(&it, presets);
		while (g_hash_table_iter_next(&it, &k, &v)) {
			if (strchr(k, '.') != NULL)
				continue; /* ferry's own keys, once the locks are known */
			struct field *f = find(form, k);
			if (f == NULL || f->kind == FIELD_PASSWORD) {
				g_autofree char *names = preset_names(form);
				g_set_error(
				    error, REGFORM_ERROR, REGFORM_ERROR_CONFIG,
				    "[legacy] %s: %s has no registration field of that name; "
				    "what it offers: %s",
				    (char *)k, form->protocol, names);
				regform_free(form);
				return NULL;
			}
			char *norm = normalize(f, v);
			if (norm == NULL) {
				g_set_error(error, REGFORM_ERROR, REGFORM_ERROR_CONFIG,
				            "[legacy] %s: '%s' is not a valid value for this field",
				            (char *)k, (char *)v);
				regform_free(form);
				return NULL;
			}
			g_free(f->def);
			f->def = norm;
		}
	}
	for (gsize i = 0; locked != NULL && locked[i] != NULL; i++) {
		struct field *f = find(form, locked[i]);
		if (f == NULL || f->kind == FIELD_USERNAME || f->kind == FIELD_PASSWORD) {
			g_set_error(error, REGFORM_ERROR, REGFORM_ERROR_CONFIG,
			            "[legacy] locked: '%s' is not a field that can be locked",
			            locked[i]);
			regform_free(form);
			return NULL;
		}
		f->locked = true;
		f->hidden = true;
		if (pf != NULL && g_strcmp0(pf->server, f->var) == 0)
			for (gsize j = 0; pf->with_server[j] != NULL; j++) {
				struct field *w = find(form, pf->with_server[j]);
				if (w != NULL)
					w->hidden = true;
			}
	}
	if (presets != NULL) {
		GHashTableIter it;
		gpointer k, v;
		g_hash_table_iter_init(&it, presets);
		while (g_hash_table_iter_next(&it, &k, &v)) {
			if (strchr(k, '.') == NULL)
				continue;
			if (!g_str_has_prefix(k, "ferry.")) {
				g_set_error(error, REGFORM_ERROR, REGFORM_ERROR_CONFIG,
				            "[legacy] %s: no %s field has a '.' in its name; "
				            "ferry's own keys are written ferry.<name>",
				            (char *)k, form->protocol);
				regform_free(form);
				return NULL;
			}
			if (!ferry_key(form, pf, k, v, error)) {
				regform_free(form);
				return NULL;
			}
		}
	}
	settle_policy(form);
	return form;
}

bool regform_check_presets(const struct settings *settings,
                           const struct worker_description *describe, GError **error)
{
	/* The very check the gateway's start makes: build the form and drop it. */
	struct regform *form =
	    regform_new(describe, settings->legacy_overrides, settings->legacy_locked, error);
	bool ok = form != NULL;
	regform_free(form);
	return ok;
}

void regform_free(struct regform *form)
{
	if (form == NULL)
		return;
	g_ptr_array_unref(form->fields);
	g_strfreev(form->allowed_listed);
	g_strfreev(form->allowed);
	netpolicy_free(form->policy);
	g_free(form->protocol);
	g_free(form->protocol_name);
	g_free(form);
}

const char *regform_protocol(const struct regform *form)
{
	return form->protocol;
}

const char *regform_protocol_name(const struct regform *form)
{
	return form->protocol_name;
}

bool regform_password_optional(const struct regform *form)
{
	struct field *pw = find(form, "password");
	return pw == NULL || !pw->required;
}

static char *instructions_for(const struct regform *form)
{
	return g_strdup_printf("Enter your %s account details. ferry checks them by logging in "
	                       "once before storing them; your password is stored encrypted.",
	                       form->protocol_name);
}

/* The XEP-0004 form: title, instructions, FORM_TYPE, then every field that
 * is not locked, with its value from VALUES (NULL: none), else its default
 * (the password has none). Caller frees. */
static struct dataform *to_dataform(const struct regform *form, GHashTable *values)
{
	struct dataform *df = dataform_new(DATAFORM_FORM);
	g_autofree char *title = g_strdup_printf("%s registration", form->protocol_name);
	g_autofree char *instructions = instructions_for(form);
	dataform_set_title(df, title);
	dataform_add_instructions(df, instructions);
	dataform_set_form_type(df, NS_REGISTER);
	for (guint i = 0; i < form->fields->len; i++) {
		const struct field *f = g_ptr_array_index(form->fields, i);
		if (f->hidden)
			continue;
		struct dataform_field *d = add_to_dataform(df, f);
		if (f->kind != FIELD_PASSWORD) {
			const char *v = values != NULL ? g_hash_table_lookup(values, f->var) : NULL;
			dataform_field_add_value(d, v != NULL ? v : f->def);
		}
	}
	return df;
}

void regform_fill_query(const struct regform *form, struct stanza *query, GHashTable *values)
{
	g_return_if_fail(form != NULL && query != NULL);
	g_autofree char *instructions = instructions_for(form);
	stanza_add_text_child(query, "instructions", instructions);
	const char *user = values != NULL ? g_hash_table_lookup(values, "username") : NULL;
	stanza_add_text_child(query, "username", user != NULL ? user : "");
	if (find(form, "password") != NULL)
		stanza_add_child(query, "password", NULL);
	struct dataform *df = to_dataform(form, values);
	dataform_add_to(df, query);
	dataform_free(df);
}

/* The submission in QUERY: its XEP-0004 form, which must be of type
 * submit, else the legacy <username/> and <password/> as one. Caller
 * frees. */
static struct dataform *read_submission(const struct stanza *query, GError **error)
{
	const struct stanza *x = stanza_find_child(query, "x", NS_DATA);
	if (x != NULL) {
		if (g_strcmp0(stanza_get_attr(x, "type"), "submit") != 0) {
			g_set_error_literal(error, REGFORM_ERROR, REGFORM_ERROR_SUBMISSION,
			                    "the form must be of type 'submit'");
			return NULL;
		}
		g_autoptr(GError) err = NULL;
		struct dataform *sub = dataform_parse(x, &err);
		if (sub == NULL)
			g_set_error_literal(error, REGFORM_ERROR, REGFORM_ERROR_SUBMISSION,
			                    err->message);
		return sub;
	}
	struct dataform *sub = dataform_new(DATAFORM_SUBMIT);
	const struct {
		const char *var;
		enum dataform_field_type type;
	} legacy[] = {{"username", DATAFORM_TEXT_SINGLE}, {"password", DATAFORM_TEXT_PRIVATE}};
	for (gsize i = 0; i < G_N_ELEMENTS(legacy); i++) {
		const struct stanza *e = stanza_find_child(query, legacy[i].var, NULL);
		if (e == NULL)
			continue;
		char *text = stanza_get_text(e);
		dataform_field_add_value(
		    dataform_add_field(sub, legacy[i].type, legacy[i].var, NULL), text);
		secrets_wipe_free(text);
	}
	return sub;
}

/* The checked submission: every value fits its field, required fields
 * other than the password have one. Caller frees. */
static struct dataform *check_submission(const struct regform *form, const struct stanza *query,
                                         GError **error)
{
	struct dataform *sub = read_submission(query, error);
	if (sub == NULL)
		return NULL;
	struct dataform *df = to_dataform(form, NULL);
	/* regform_parse() says what is wrong with a missing password. */
	struct dataform_field *pw = dataform_find_field(df, "password");
	if (pw != NULL)
		dataform_field_set_required(pw, false);
	g_autoptr(GError) err = NULL;
	struct dataform *checked = dataform_check(df, sub, &err);
	if (checked == NULL)
		g_set_error_literal(error, REGFORM_ERROR, REGFORM_ERROR_SUBMISSION, err->message);
	dataform_free(df);
	dataform_free(sub);
	return checked;
}

/* The settings and password of CHECKED (a checked submission); with
 * KEEP_PASSWORD an absent or empty password is *PASSWORD_OUT NULL (the
 * stored one stays) and never required. */
static bool from_checked(const struct regform *form, const struct dataform *checked,
                         bool keep_password, GHashTable **settings_out, char **password_out,
                         GError **error)
{
	GHashTable *settings = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	char *password = NULL;
	bool has_password = false;
	for (guint i = 0; i < form->fields->len; i++) {
		const struct field *f = g_ptr_array_index(form->fields, i);
		const char *v = f->hidden ? NULL : dataform_get_value(checked, f->var);
		if (f->kind != FIELD_PASSWORD) {
			g_hash_table_replace(settings, g_strdup(f->var),
			                     g_strdup(v != NULL ? v : f->def));
			continue;
		}
		has_password = true;
		if (keep_password && (v == NULL || *v == '\0'))
			continue;
		/* Absent, or present and empty (kept by the check). */
		if (f->required && v == NULL) {
			g_set_error(error, REGFORM_ERROR, REGFORM_ERROR_SUBMISSION,
			            "the field '%s' (%s) is required", f->var, f->label);
			goto fail;
		}
		if (f->required && *v == '\0') {
			g_set_error_literal(error, REGFORM_ERROR, REGFORM_ERROR_SUBMISSION,
			                    "a password is required");
			goto fail;
		}
		password = g_strdup(v != NULL ? v : "");
	}
	if (!check_servers(form, settings, error))
		goto fail;
	*settings_out = settings;
	*password_out =
	    password != NULL || (keep_password && has_password) ? password : g_strdup("");
	return true;
fail:
	g_hash_table_unref(settings);
	secrets_wipe_free(password);
	return false;
}

bool regform_parse(const struct regform *form, const struct stanza *query,
                   GHashTable **settings_out, char **password_out, GError **error)
{
	g_return_val_if_fail(form != NULL && query != NULL, false);
	g_return_val_if_fail(settings_out != NULL && password_out != NULL, false);
	struct dataform *checked = check_submission(form, query, error);
	if (checked == NULL)
		return false;
	bool ok = from_checked(form, checked, false, settings_out, password_out, error);
	dataform_free(checked);
	return ok;
}

struct dataform *regform_dataform(const struct regform *form, GHashTable *values,
                                  bool keep_password)
{
	g_return_val_if_fail(form != NULL, NULL);
	struct dataform *df = to_dataform(form, values);
	struct dataform_field *pw = dataform_find_field(df, "password");
	if (pw != NULL && keep_password) {
		dataform_field_set_required(pw, false);
		dataform_field_set_desc(pw, "leave it empty to keep the stored password");
	}
	return df;
}

bool regform_read(const struct regform *form, const struct dataform *checked, bool keep_password,
                  GHashTable **settings, char **password, GError **error)
{
	g_return_val_if_fail(form != NULL && checked != NULL, false);
	return from_checked(form, checked, keep_password, settings, password, error);
}

/* A field's value: for a field the form does not show (locked, or not
 * listed), its preset or default, whatever was stored before; else the
 * stored one, else the default. */
static const char *value_of(const struct field *f, GHashTable *settings)
{
	const char *v = f->hidden ? NULL : g_hash_table_lookup(settings, f->var);
	return v != NULL ? v : f->def;
}

bool regform_check_login(const struct regform *form, GHashTable *settings, const char *password,
                         GError **error)
{
	g_return_val_if_fail(form != NULL && settings != NULL, false);
	for (guint i = 0; i < form->fields->len; i++) {
		const struct field *f = g_ptr_array_index(form->fields, i);
		const char *v = f->kind == FIELD_PASSWORD ? password : value_of(f, settings);
		if (v == NULL || dataform_value_is_single_line(v))
			continue;
		g_set_error(error, REGFORM_ERROR, REGFORM_ERROR_SUBMISSION,
		            "the stored value of '%s' (%s) is not a single line without control "
		            "characters",
		            f->var, f->label);
		return false;
	}
	return true;
}

char *regform_legacy_username(const struct regform *form, GHashTable *settings)
{
	GString *s = g_string_new(NULL);
	for (guint i = 0; i < form->fields->len; i++) {
		const struct field *f = g_ptr_array_index(form->fields, i);
		const char *v = value_of(f, settings);
		if (f->kind == FIELD_USERNAME)
			g_string_append(s, v);
		else if (f->kind == FIELD_SPLIT && *v != '\0')
			g_string_append_printf(s, "%s%s", f->separator, v);
	}
	return g_string_free(s, FALSE);
}

GHashTable *regform_account_options(const struct regform *form, GHashTable *settings)
{
	GHashTable *opts = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	for (guint i = 0; i < form->fields->len; i++) {
		const struct field *f = g_ptr_array_index(form->fields, i);
		if (f->kind == FIELD_OPTION)
			g_hash_table_replace(opts, g_strdup(f->option_key),
			                     g_strdup(value_of(f, settings)));
	}
	return opts;
}
