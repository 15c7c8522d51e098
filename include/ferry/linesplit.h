/* linesplit: a message cut into the lines a line-based network (IRC)
 * carries: at its newlines, then between words, never inside a UTF-8
 * character, each line at most a given number of bytes. Pure logic, shared
 * with the worker and unit-tested.
 *
 * Empty lines, and lines of nothing but white space, are left out: IRC
 * has no empty message (an empty PRIVMSG is an error or shows as
 * nothing). A cut between words consumes the one space it is made at (the
 * line break stands for it); a word longer than a line is cut at the last
 * character boundary that fits. */
#ifndef FERRY_LINESPLIT_H
#define FERRY_LINESPLIT_H

#include <glib.h>

/* One line: LEN bytes of the text from START; END is where the text after
 * this line begins (past the newline or the space consumed), so that
 * END of the last line sent says how much of the text went. */
struct linesplit_line {
	gsize start;
	gsize len;
	gsize end;
};

/* Splits TEXT (valid UTF-8) into lines of at most MAX_BYTES (>= 4) bytes.
 * Returns an array of struct linesplit_line, possibly empty. A "\r" before
 * a newline is dropped. */
GArray *linesplit(const char *text, gsize max_bytes);

/* How many bytes of a message line an IRC server can relay to TARGET: the
 * 512-byte line limit (CRLF included) less what the server puts before the
 * text when it relays a PRIVMSG (":nick!user@host PRIVMSG target :"), with
 * the longest nick (NICK_LEN, at least 30), ident (10 and a '~') and host
 * (63) we may be given, less EXTRA bytes of our own (CTCP framing). */
gsize linesplit_irc_budget(gsize nick_len, const char *target, gsize extra);

#endif
