/* irc_bytes: nicks that are not UTF-8 as "%XX" in received IRC lines, and
 * back to their bytes in the lines sent (see include/ferry/irc_bytes.h). */
#include "config.h"

#include <stdbool.h>
#include <string.h>

#include "ferry/irc_bytes.h"

/* Where a command carries nicks: its parameters FIRST to LAST (0 the
 * first; the trailing parameter counts as one), the trailing one only with
 * TRAILING. */
struct position {
	const char *command;
	int first;
	int last;
	bool trailing;
};
#define END G_MAXINT

/* What prpl-irc turns into buddies, IMs, chat members and their senders
 * (parse.c's table): the nicks, not the channels or the text. A channel
 * MODE's arguments are nicks for +o/+v (and masks or keys otherwise,
 * which prpl-irc only shows). */
static const struct position received[] = {
    {"NICK", 0, 0, true}, {"KICK", 1, 1, false},  {"303", 1, 1, true},  {"353", 3, 3, true},
    {"352", 5, 5, false}, {"301", 1, 1, false},   {"311", 1, 1, false}, {"312", 1, 1, false},
    {"313", 1, 1, false}, {"317", 1, 1, false},   {"318", 1, 1, false}, {"319", 1, 1, false},
    {"401", 1, 1, false}, {"MODE", 2, END, true},
};

/* What prpl-irc 2.14 sends to a nick: the target of a message (also
 * CTCP's), the ISON list ("ISON a b" or "ISON :a b"), WHOIS's nick (after
 * an optional server), MODE's target and arguments (/op nick). */
static const struct position sent[] = {
    {"PRIVMSG", 0, 0, false}, {"NOTICE", 0, 0, false}, {"ISON", 0, END, true},
    {"WHOIS", 0, END, false}, {"MODE", 0, END, false},
};

typedef bool (*transform_fn)(GString *out, const char *s, gsize len);

static bool is_position(const struct position *table, gsize n, const char *command,
                        gsize command_len, int index, bool trailing)
{
	for (gsize i = 0; i < n; i++) {
		const struct position *p = &table[i];
		if (strlen(p->command) == command_len &&
		    g_ascii_strncasecmp(p->command, command, command_len) == 0 &&
		    index >= p->first && index <= p->last && (p->trailing || !trailing))
			return true;
	}
	return false;
}

static gsize spaces(const char *p, gsize len)
{
	gsize n = 0;
	while (n < len && p[n] == ' ')
		n++;
	return n;
}

static gsize word(const char *p, gsize len)
{
	gsize n = 0;
	while (n < len && p[n] != ' ')
		n++;
	return n;
}

/* LINE's body (without its CR LF, kept as it is) word by word: the
 * prefix through TRANSFORM when PREFIX_TOO, each parameter TABLE names. */
static char *rewrite(const char *line, const struct position *table, gsize n, bool prefix_too,
                     transform_fn transform)
{
	gsize len = strlen(line);
	if (len > IRC_BYTES_LINE_MAX)
		return NULL;
	gsize body = len;
	while (body > 0 && (line[body - 1] == '\r' || line[body - 1] == '\n'))
		body--;
	GString *out = g_string_sized_new(len + 16);
	bool changed = false;
	gsize at = 0;
	gsize w;
	if (at < body && line[at] == '@') { /* IRCv3 tags: no nicks */
		w = word(line + at, body - at);
		g_string_append_len(out, line + at, (gssize)w);
		at += w;
		w = spaces(line + at, body - at);
		g_string_append_len(out, line + at, (gssize)w);
		at += w;
	}
	if (at < body && line[at] == ':') {
		w = word(line + at, body - at);
		if (prefix_too)
			changed = transform(out, line + at, w) || changed;
		else
			g_string_append_len(out, line + at, (gssize)w);
		at += w;
		w = spaces(line + at, body - at);
		g_string_append_len(out, line + at, (gssize)w);
		at += w;
	}
	const char *command = line + at;
	gsize command_len = word(command, body - at);
	g_string_append_len(out, command, (gssize)command_len);
	at += command_len;
	for (int index = 0; at < body; index++) {
		w = spaces(line + at, body - at);
		g_string_append_len(out, line + at, (gssize)w);
		at += w;
		if (at == body)
			break;
		bool trailing = line[at] == ':';
		w = trailing ? body - at : word(line + at, body - at);
		if (is_position(table, n, command, command_len, index, trailing))
			changed = transform(out, line + at, w) || changed;
		else
			g_string_append_len(out, line + at, (gssize)w);
		at += w;
	}
	g_string_append_len(out, line + body, (gssize)(len - body));
	if (!changed) {
		g_string_free(out, TRUE);
		return NULL;
	}
	return g_string_free(out, FALSE);
}

/* S's bytes, those not part of valid UTF-8 as %XX */
static bool escape_bytes(GString *out, const char *s, gsize len)
{
	bool changed = false;
	const char *end = s + len;
	while (s < end) {
		const char *valid_end = s;
		(void)g_utf8_validate(s, end - s, &valid_end);
		g_string_append_len(out, s, valid_end - s);
		if (valid_end == end)
			break;
		g_string_append_printf(out, "%%%02X", (guchar)*valid_end);
		s = valid_end + 1;
		changed = true;
	}
	return changed;
}

/* S with %XX of XX >= 80 as that byte: only what escape_bytes() writes
 * (an ASCII byte is valid UTF-8 and never escaped). A word that starts
 * like a channel ('#', '&', '+', '!', never a nick's first character,
 * RFC 2812 2.3.1) is left alone: "%" is allowed in a channel's name. */
static bool unescape_bytes(GString *out, const char *s, gsize len)
{
	bool changed = false;
	bool channel = false;
	for (gsize i = 0; i < len; i++) {
		bool word_start = i == 0 || s[i - 1] == ' ' || (i == 1 && s[0] == ':');
		if (word_start)
			channel = strchr("#&+!", s[i]) != NULL && s[i] != '\0';
		if (!channel && s[i] == '%' && i + 2 < len) {
			int hi = g_ascii_xdigit_value(s[i + 1]);
			int lo = g_ascii_xdigit_value(s[i + 2]);
			if (hi >= 8 && lo >= 0) {
				g_string_append_c(out, (char)(hi * 16 + lo));
				i += 2;
				changed = true;
				continue;
			}
		}
		g_string_append_c(out, s[i]);
	}
	return changed;
}

char *irc_bytes_escape(const char *line)
{
	if (line == NULL || g_utf8_validate(line, -1, NULL))
		return NULL;
	return rewrite(line, received, G_N_ELEMENTS(received), true, escape_bytes);
}

char *irc_bytes_unescape(const char *line)
{
	if (line == NULL || strchr(line, '%') == NULL)
		return NULL;
	return rewrite(line, sent, G_N_ELEMENTS(sent), false, unescape_bytes);
}
