/* quirks: what one libpurple protocol does differently from the others and
 * the worker works around, in one place, keyed by protocol id. */
#include "config.h"
#include "worker.h"

#include <string.h>

#include "ferry/irc_bytes.h"

struct quirk {
	const char *protocol;
	/* The prpl queues what it sends and writes the queue from a
	 * g_timeout_add_seconds() timer of its own, whose data is the
	 * connection's protocol data; see quirks_flush_sends(). */
	bool timer_sends;
	/* purple_account_add_buddy() takes a reference per call (irc_add_buddy),
	 * so a listed buddy must not be added again. */
	bool add_buddy_counts;
	/* The account name's first part is the name on the network, and the
	 * prpl signs on under another one when it is taken (IRC's 433:
	 * irc_msg_nickused appends or bumps a digit); see quirks_fallback(). */
	bool name_fallback;
	/* prpl-irc: the ident (option "username") defaults to the nick, which a
	 * server refuses when the nick is not an ident; the server's own lines
	 * during sign-on say why a login failed (see quirks_install()). */
	bool irc_login;
	/* The "encoding" option's value when the account leaves libpurple's
	 * own default (see default_encodings()), or NULL. */
	const char *encodings;
	/* Messages become lines, split and paced by the worker (sendq.c). */
	bool paced_lines;
};

static const struct quirk quirks[] = {
    {.protocol = "prpl-irc",
     .timer_sends = true,
     .add_buddy_counts = true,
     .name_fallback = true,
     .irc_login = true,
     .encodings = "UTF-8,ISO-8859-1",
     .paced_lines = true},
};

static const struct quirk *quirk_of(const char *protocol_id)
{
	for (gsize i = 0; i < G_N_ELEMENTS(quirks); i++)
		if (g_strcmp0(quirks[i].protocol, protocol_id) == 0)
			return &quirks[i];
	return NULL;
}

/* libpurple 2.14's IRC prpl queues every line it sends and writes the
 * queue from a 1-second g_timeout_add_seconds() timer (irc.c,
 * irc_send_handler_cb), so each message would wait up to a second. That
 * timer is loop.c's (see there), found by its data, the connection's
 * protocol data; running it right after a command sends at once, in the
 * same main loop iteration. Its own rate limiter is off (sendq.c paces
 * the lines), so what it queued is written now. */
void quirks_flush_sends(struct account *account)
{
	if (account == NULL)
		return;
	PurpleAccount *pa = account_purple(account);
	const struct quirk *q = quirk_of(purple_account_get_protocol_id(pa));
	if (q == NULL || !q->timer_sends)
		return;
	PurpleConnection *gc = purple_account_get_connection(pa);
	gpointer proto = gc != NULL ? purple_connection_get_protocol_data(gc) : NULL;
	guint timer = proto != NULL ? loop_timer_of(proto) : 0;
	if (timer != 0)
		(void)loop_timer_run(timer);
}

bool quirks_add_buddy_counts(const char *protocol_id)
{
	const struct quirk *q = quirk_of(protocol_id);
	return q != NULL && q->add_buddy_counts;
}

bool quirks_paced_lines(const char *protocol_id)
{
	const struct quirk *q = quirk_of(protocol_id);
	return q != NULL && q->paced_lines;
}

/* ---- names ----------------------------------------------------------------------- */

/* The name asked for: the account name up to its first split ('@' for IRC). */
static char *wanted_name(PurpleAccount *pa)
{
	const char *username = purple_account_get_username(pa);
	const char *at = strchr(username, '@');
	return at != NULL ? g_strndup(username, (gsize)(at - username)) : g_strdup(username);
}

char *quirks_fallback(struct account *account, const char *display_name)
{
	PurpleAccount *pa = account_purple(account);
	const struct quirk *q = quirk_of(purple_account_get_protocol_id(pa));
	if (q == NULL || !q->name_fallback || display_name == NULL)
		return NULL;
	g_autofree char *wanted = wanted_name(pa);
	/* purple_normalize() returns a static buffer: compare copies */
	g_autofree char *a = g_strdup(purple_normalize(pa, wanted));
	g_autofree char *b = g_strdup(purple_normalize(pa, display_name));
	if (g_strcmp0(a, b) == 0)
		return NULL;
	return g_steal_pointer(&wanted);
}

/* ---- IRC sign-on ------------------------------------------------------------------- */

/* An ident (USER's first argument) made from NICK: its ASCII letters and
 * digits, lower-cased, at most 10 (RFC 2812's USERLEN, what most servers
 * keep), else "ferry". prpl-irc 2.14 sends the nick itself when the
 * "username" option is empty (irc.c, do_login), and ngircd answers a nick
 * such as "ünï" with "ERROR :Invalid user name": the user would read about
 * an ident they never typed. */
static char *ident_from(const char *nick)
{
	GString *ident = g_string_new(NULL);
	for (const char *c = nick; *c != '\0' && ident->len < 10; c++)
		if (g_ascii_isalnum(*c))
			g_string_append_c(ident, g_ascii_tolower(*c));
	if (ident->len == 0)
		g_string_append(ident, "ferry");
	return g_string_free(ident, FALSE);
}

/* prpl-irc decodes each line it reads with the account's "encoding" list
 * (libpurple 2.14 parse.c, irc_recv_convert): each charset in turn, UTF-8
 * only when the line is valid UTF-8, and purple_utf8_salvage() -- every
 * byte that is not UTF-8 becomes '?' -- when none fits. Its default is
 * "UTF-8" alone, so Latin-1 text ("caf\xe9") arrives as "caf?". With
 * "UTF-8,ISO-8859-1" a valid UTF-8 line is taken as it is and any other
 * is read as Latin-1, which decodes every byte string. Sending uses only
 * the list's first charset (irc_send_convert), UTF-8, as before. So the
 * list replaces libpurple's default, "UTF-8", whether unset or passed on
 * as the option's default value by the registration form, and nothing
 * else: an account that names other charsets keeps them. */
static void default_encodings(PurpleAccount *pa, const struct quirk *q)
{
	if (q == NULL || q->encodings == NULL)
		return;
	g_autofree char *set = g_strdup(purple_account_get_string(pa, "encoding", ""));
	g_strstrip(set);
	if (*set == '\0' || g_ascii_strcasecmp(set, "UTF-8") == 0)
		purple_account_set_string(pa, "encoding", q->encodings);
}

void quirks_before_login(struct account *account)
{
	PurpleAccount *pa = account_purple(account);
	const struct quirk *q = quirk_of(purple_account_get_protocol_id(pa));
	default_encodings(pa, q);
	if (q == NULL || !q->irc_login)
		return;
	const char *ident = purple_account_get_string(pa, "username", "");
	if (ident != NULL && *ident != '\0')
		return;
	g_autofree char *nick = wanted_name(pa);
	g_autofree char *derived = ident_from(nick);
	purple_account_set_string(pa, "username", derived);
}

/* A received line as irc_bytes_escape() rewrote it (nicks that are not
 * UTF-8 as %XX, ferry's name for them; see irc_bytes.h), for prpl-irc to
 * parse: irc_parse_msg() reads the signal's pointer afterwards and frees
 * neither it nor its own line (in its input buffer), so the rewritten one
 * is kept until the next line, when that parse is over. */
static char *escaped_line;

static void escape_nicks(char **text)
{
	g_free(escaped_line);
	escaped_line = irc_bytes_escape(*text);
	if (escaped_line != NULL)
		*text = escaped_line;
}

/* prpl-irc's raw input (the "irc-receiving-text" signal, one line without
 * its CR LF), watched once for the whole worker: the paced queue's PONGs
 * and 401s (sendq.c); and while an account signs on, an ERROR line or an
 * error numeric, the network's reason for what libpurple then reports in
 * its own words ("Disconnected.", "It probably contains invalid
 * characters"), kept for quirks_login_failure(). Nicks that are not UTF-8
 * are escaped first (escape_nicks()), so the queue's 401s match too. */
static void on_irc_text(PurpleConnection *gc, char **text, gpointer data)
{
	if (text == NULL || *text == NULL)
		return;
	escape_nicks(text);
	struct account *account = accounts_find(purple_connection_get_account(gc));
	if (account == NULL)
		return;
	const char *line = *text;
	g_autofree char *nick = NULL;
	if (*line == ':') { /* the prefix */
		line = strchr(line, ' ');
		if (line == NULL)
			return;
		nick = g_strndup(*text + 1, (gsize)(line - *text - 1));
		char *bang = strpbrk(nick, "!@");
		if (bang != NULL)
			*bang = '\0';
		line++;
	}
	struct sendq *q = account_sendq(account);
	if (q != NULL)
		sendq_on_irc_line(q, line);
	chats_irc_line(account, gc, nick, line);
	if (!account_is_signing_on(account))
		return;
	const char *trailing = strstr(line, " :");
	trailing = trailing != NULL ? trailing + 2 : "";
	if (g_str_has_prefix(line, "ERROR ")) {
		/* A refusal numeric before it says more ("Closing link" does not) */
		if (account_complaint(account) == NULL)
			account_set_complaint(account, *trailing != '\0' ? trailing : line + 6);
		return;
	}
	/* The numerics that refuse a registration: "432 * nick :Erroneous
	 * nickname", 464 (bad password), 465 (banned). Not 433 (nick in use):
	 * libpurple takes another nick, which NAME_FALLBACK reports. */
	static const char *const refusals[] = {"432 ", "464 ", "465 "};
	bool refusal = false;
	for (gsize i = 0; i < G_N_ELEMENTS(refusals); i++)
		refusal = refusal || g_str_has_prefix(line, refusals[i]);
	if (refusal) {
		g_autofree char *numeric = g_strndup(line, 3);
		g_autofree char *complaint = g_strdup_printf("%s %s", numeric, trailing);
		account_set_complaint(account, complaint);
	}
}

void quirks_install(void)
{
	PurplePlugin *irc = purple_plugins_find_with_id("prpl-irc");
	static int handle;
	if (irc != NULL && purple_signal_connect(irc, "irc-receiving-text", &handle,
	                                         PURPLE_CALLBACK(on_irc_text), NULL) == 0)
		g_warning("prpl-irc: cannot watch its input; login errors keep libpurple's words");
}

char *quirks_login_failure(struct account *account, enum worker_reason *reason)
{
	PurpleAccount *pa = account_purple(account);
	const struct quirk *q = quirk_of(purple_account_get_protocol_id(pa));
	const char *complaint = account_complaint(account);
	if (q == NULL || !q->irc_login || complaint == NULL || !account_is_signing_on(account))
		return NULL;
	g_autofree char *nick = wanted_name(pa);
	if (g_ascii_isdigit(complaint[0])) { /* "NNN text", from on_irc_text */
		const char *why = complaint + 4;
		if (strncmp(complaint, "432", 3) == 0) { /* ERR_ERRONEUSNICKNAME */
			*reason = WORKER_REASON_INVALID;
			return g_strdup_printf("the server refused the nick '%s': %s", nick,
			                       *why != '\0' ? why : "erroneous nickname");
		}
		if (strncmp(complaint, "465", 3) != 0) { /* 464: ERR_PASSWDMISMATCH */
			*reason = WORKER_REASON_AUTH;
			return g_strdup_printf("the server refused the password: %s",
			                       *why != '\0' ? why : "password incorrect");
		}
		/* 465 ERR_YOUREBANNEDCREEP: retrying only knocks on again */
		*reason = WORKER_REASON_INVALID;
		return g_strdup_printf("the server refused the login (banned): %s",
		                       *why != '\0' ? why : "you are banned");
	}
	/* An ERROR line that closed the connection during sign-on. A server
	 * password is the only password prpl-irc sends without SASL, so a
	 * refusal naming it is an authentication failure. */
	g_autofree char *folded = g_ascii_strdown(complaint, -1);
	if (strstr(folded, "password") != NULL)
		*reason = WORKER_REASON_AUTH;
	return g_strdup(complaint);
}
