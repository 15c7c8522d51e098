/* linesplit: see include/ferry/linesplit.h. */
#include "config.h"
#include "ferry/linesplit.h"

#include <stdbool.h>
#include <string.h>

#define IRC_LINE_MAX 512 /* RFC 1459 2.3, CRLF included */
#define IRC_NICK_MIN_ASSUMED 30
#define IRC_USER_MAX 11 /* USERLEN 10, and the '~' of an unverified ident */
#define IRC_HOST_MAX 63

gsize linesplit_irc_budget(gsize nick_len, const char *target, gsize extra)
{
	/* ":" nick "!" user "@" host " PRIVMSG " target " :" text "\r\n" */
	gsize nick = MAX(nick_len, IRC_NICK_MIN_ASSUMED);
	gsize prefix = 1 + nick + 1 + IRC_USER_MAX + 1 + IRC_HOST_MAX + strlen(" PRIVMSG ") +
	               strlen(target) + strlen(" :") + strlen("\r\n") + extra;
	/* a target so long the server would refuse it anyway: still make progress */
	return prefix + 64 <= IRC_LINE_MAX ? IRC_LINE_MAX - prefix : 64;
}

static bool blank(const char *p, gsize len)
{
	for (gsize i = 0; i < len; i++)
		if (!g_ascii_isspace(p[i]))
			return false;
	return true;
}

/* Where to cut P (LEN > MAX bytes): the length of the first line, and
 * *SKIP, the bytes consumed after it (the space the cut is made at). */
static gsize cut_at(const char *p, gsize len, gsize max, gsize *skip)
{
	/* the last space that leaves something on both sides */
	for (gsize i = max; i > 0; i--) {
		if (p[i] == ' ' && !blank(p, i)) {
			*skip = 1;
			return i;
		}
	}
	/* no word boundary: the last character boundary that fits */
	*skip = 0;
	gsize i = max;
	while (i > 0 && ((unsigned char)p[i] & 0xC0) == 0x80)
		i--;
	return i > 0 ? i : MIN(len, max); /* not UTF-8: cut anyway, but progress */
}

static void extend_last(GArray *lines, gsize end)
{
	if (lines->len > 0)
		g_array_index(lines, struct linesplit_line, lines->len - 1).end = end;
}

GArray *linesplit(const char *text, gsize max_bytes)
{
	GArray *lines = g_array_new(FALSE, FALSE, sizeof(struct linesplit_line));
	g_return_val_if_fail(max_bytes >= 4, lines);
	gsize total = strlen(text);
	gsize pos = 0;
	while (pos < total) {
		const char *nl = memchr(text + pos, '\n', total - pos);
		gsize line_end = nl != NULL ? (gsize)(nl - text) : total;
		gsize next = nl != NULL ? line_end + 1 : total;
		gsize len = line_end - pos;
		if (len > 0 && text[pos + len - 1] == '\r')
			len--;
		if (blank(text + pos, len)) {
			/* nothing worth a line: its end still counts as sent */
			extend_last(lines, next);
			pos = next;
			continue;
		}
		/* one source line, maybe several network lines */
		for (;;) {
			struct linesplit_line l = {.start = pos};
			if (len <= max_bytes) {
				l.len = len;
				l.end = next;
				g_array_append_val(lines, l);
				break;
			}
			gsize skip = 0;
			l.len = cut_at(text + pos, len, max_bytes, &skip);
			l.end = pos + l.len + skip;
			g_array_append_val(lines, l);
			pos = l.end;
			len -= l.len + skip;
			if (blank(text + pos, len)) {
				extend_last(lines, next);
				break;
			}
		}
		pos = next;
	}
	return lines;
}
