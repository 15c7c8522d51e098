/* irc_bytes: IRC nicks that are not UTF-8 kept apart from the UTF-8 ones
 * they would be read as. Pure logic, shared with the worker and
 * unit-tested.
 *
 * prpl-irc converts every nick it parses to UTF-8 (irc_recv_convert, with
 * ferry's "UTF-8,ISO-8859-1" list): the bytes "b\xffb" become "bÿb", the
 * same string as the UTF-8 nick "b\xc3\xbfb", so two peers would share one
 * contact and replies would go to the UTF-8 one. The worker rewrites the
 * raw line before prpl-irc parses it: in the nick positions, each byte that
 * is not part of valid UTF-8 becomes "%XX" (upper-case hex). '%' is not a
 * nick character (RFC 2812 2.3.1), so "b%FFb" is no real nick and names
 * exactly one; a valid UTF-8 nick is left as it is. On the way out, "%XX"
 * of a byte >= 0x80 in the target positions becomes the byte again (hex
 * read either case: a JID's localpart may come back lower-cased). */
#ifndef FERRY_IRC_BYTES_H
#define FERRY_IRC_BYTES_H

#include <glib.h>

/* The longest line rewritten (tags and CR LF included); a longer one is
 * left as it came. IRC's own limit is 512 bytes, 8191 more for IRCv3
 * tags; the rewritten line is at most three times as long. */
#define IRC_BYTES_LINE_MAX 8703

/* A received line (no CR LF) with the bytes of its nick positions that are
 * not valid UTF-8 as %XX: the prefix ":nick!user@host" of any command,
 * NICK's new nick, the nick lists of 303 (ISON) and 353 (NAMES), and the
 * nick of 301, 311-319 (WHOIS), 352 (WHO, the sixth), 401 and KICK's
 * second, a MODE's arguments. Returns a new string, or NULL when nothing
 * changes. */
char *irc_bytes_escape(const char *line);

/* A line to send (CR LF included or not) with %XX (XX >= 80) turned back
 * into the byte in the targets of PRIVMSG and NOTICE, every nick of ISON
 * and WHOIS, MODE's target and arguments; not in a word that starts like
 * a channel ('#', '&', '+', '!'). Returns a new string, or NULL when
 * nothing changes. */
char *irc_bytes_unescape(const char *line);

#endif
