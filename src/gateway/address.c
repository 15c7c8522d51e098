/* address: where things are at the transport's domain — legacy names as
 * contact JIDs, the kind of an address, and who may use the transport
 * ([access] allowed_domains).
 *
 * A contact JID means exactly one legacy name. XMPP servers fold
 * localparts (nodeprep / PRECIS: NFKC and case folding), so the plain
 * XEP-0106 form of a name is its localpart only when that folding leaves
 * it alone, up to the case changes the protocol ignores too (IRC: ASCII
 * case; XMPP: all of nodeprep; others: none). Every other name (a
 * fullwidth "ａlice", a "Bob" where case matters, a name that is not
 * UTF-8, one ending like a mark) is given its folded form with a mark,
 * '~' and the start of the SHA-256 of the exact name ("alice~2bd806c9"):
 * visibly not the plain name, and stable. These are kept in storage
 * (contact_addresses, for every user), which tells a longer mark when
 * two names share a base and the first 8 digits, and gives the name back
 * for the address. The user is told in a chat message from the transport,
 * once per contact and run. See ARCHITECTURE.md (address.c). */
#include "config.h"
#include "internal.h"

#include <string.h>

#include "ferry/pacer.h"
#include "ferry/storage.h"

#define MARK '~'
#define MARK_DIGITS 8 /* the mark's hex digits, more when two names share them */
#define BASE_MAX 900  /* bytes of folded name before the mark (a localpart takes 1023) */
#define TOLD_MAX 4096 /* remembered notices; then forgotten, so told again */

/* Which differences of case the legacy protocol also ignores. */
enum name_case {
	NAME_CASE_EXACT, /* none: "Bob" and "bob" are two names */
	NAME_CASE_ASCII, /* ASCII letters only (IRC; rfc1459 casemapping) */
	NAME_CASE_XMPP,  /* the XMPP server's own folding (prpl-jabber's bare JIDs) */
};

static const struct {
	const char *protocol;
	enum name_case name_case;
} protocol_cases[] = {
    {"prpl-irc", NAME_CASE_ASCII},
    {"prpl-jabber", NAME_CASE_XMPP},
};

/* The error replies to strangers (other domains, unregistered users) are
 * rate-limited, per sender and in all: each is an answer anyone on the
 * network can make ferry send, to an address they choose. A client's
 * first steps (disco, vCard, presence: about ten stanzas) fit the burst. */
#define STRANGER_BURST 20       /* replies to one sender at once */
#define STRANGER_RATE 0.5       /* ... then one every 2 s */
#define STRANGER_KEYS 4096      /* senders remembered at once */
#define STRANGERS_BURST 100     /* replies to all strangers at once */
#define STRANGERS_RATE 20       /* ... then per second */
#define STRANGER_LOG_SECONDS 10 /* one log line per this, at most */

struct stranger_replies {
	struct ratelimit *each; /* by bare JID */
	struct ratelimit *all;  /* one key */
	guint dropped;          /* since the last log line */
	gint64 logged_us;
};

struct address {
	const struct settings *settings; /* allowed domains */
	struct storage *storage;         /* contact addresses; NULL: not kept */
	struct router *router;           /* the notices */
	char *protocol_name;             /* "IRC", in notices */
	enum name_case name_case;        /* of the configured protocol */
	char *jid;                       /* the transport domain */
	char *full;                      /* its full JID, domain/GATEWAY_RESOURCE */
	GHashTable *told;                /* "user\nname" told of its address this run */
	bool room_prefixes;              /* rooms are told by their first character (IRC) */
	GHashTable *rooms_seen;          /* user -> set of folded names: rooms seen this run */
	address_has_room_fn has_room;    /* the user is in that room now (NULL: none) */
	void *has_room_data;
	struct stranger_replies *strangers;
};

struct address *address_new(const struct settings *settings, struct storage *storage,
                            struct router *router, const char *protocol_name)
{
	struct address *a = g_new0(struct address, 1);
	a->settings = settings;
	a->storage = storage;
	a->router = router;
	a->protocol_name = g_strdup(protocol_name != NULL ? protocol_name : "the legacy network");
	a->name_case = NAME_CASE_EXACT;
	for (size_t i = 0; i < G_N_ELEMENTS(protocol_cases); i++) {
		if (g_strcmp0(settings->legacy_protocol, protocol_cases[i].protocol) == 0)
			a->name_case = protocol_cases[i].name_case;
	}
	a->jid = g_strdup(settings->component_jid);
	a->full = address_full(a->jid);
	a->told = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	a->room_prefixes = g_strcmp0(settings->legacy_protocol, "prpl-irc") == 0;
	a->rooms_seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
	                                      (GDestroyNotify)g_hash_table_unref);
	a->strangers = g_new0(struct stranger_replies, 1);
	a->strangers->each = ratelimit_new(STRANGER_BURST, STRANGER_RATE, STRANGER_KEYS);
	a->strangers->all = ratelimit_new(STRANGERS_BURST, STRANGERS_RATE, 1);
	return a;
}

void address_free(struct address *a)
{
	if (a == NULL)
		return;
	g_free(a->protocol_name);
	g_free(a->jid);
	g_free(a->full);
	g_hash_table_unref(a->told);
	g_hash_table_unref(a->rooms_seen);
	ratelimit_free(a->strangers->each);
	ratelimit_free(a->strangers->all);
	g_free(a->strangers);
	g_free(a);
}

bool address_may_answer_stranger(const struct address *a, const char *bare)
{
	struct stranger_replies *r = a->strangers;
	gint64 now = g_get_monotonic_time();
	if (ratelimit_take(r->each, bare, now) && ratelimit_take(r->all, "", now))
		return true;
	r->dropped++;
	if (now - r->logged_us >= (gint64)STRANGER_LOG_SECONDS * G_USEC_PER_SEC) {
		g_info("gateway: not answering %s: over the rate of error replies to strangers "
		       "(%u not answered in the last %d s)",
		       bare, r->dropped, STRANGER_LOG_SECONDS);
		r->dropped = 0;
		r->logged_us = now;
	}
	return false;
}

/* ---- rooms and contacts ----------------------------------------------------------
 *
 * Rooms and contacts share the domain. How a localpart is told to be a room
 * (ARCHITECTURE.md, "rooms or contacts"):
 *
 *   protocol     a room when
 *   prpl-irc     its first unescaped character is one of # & + ! (nicks
 *                never start so; nothing else is a room)
 *   others       this run has seen it as a room for that user: a join, a
 *                room list, an invitation, a probe's answer
 *
 * A MUC join presence is taken as a room join on the protocols of the
 * second row (and noted): that is how a user reaches a room first. */

/* Remembered rooms per user; past it that user's set is forgotten (the
 * rooms the user is in stay rooms: has_room). */
#define ROOMS_SEEN_PER_USER 4096

void address_set_room_check(struct address *a, address_has_room_fn has_room, void *data)
{
	a->has_room = has_room;
	a->has_room_data = data;
}

bool address_rooms_by_prefix(const struct address *a)
{
	return a->room_prefixes;
}

bool address_is_room_name(const struct address *a, const char *user, const char *name)
{
	if (name == NULL || name[0] == '\0')
		return false;
	if (a->room_prefixes)
		return strchr("#&+!", name[0]) != NULL;
	if (user == NULL)
		return false;
	if (a->has_room != NULL && a->has_room(a->has_room_data, user, name))
		return true;
	GHashTable *seen = g_hash_table_lookup(a->rooms_seen, user);
	g_autofree char *folded = g_utf8_casefold(name, -1);
	return seen != NULL && g_hash_table_contains(seen, folded);
}

void address_note_room(struct address *a, const char *user, const char *name)
{
	if (a->room_prefixes || user == NULL || name == NULL || name[0] == '\0')
		return;
	GHashTable *seen = g_hash_table_lookup(a->rooms_seen, user);
	if (seen == NULL) {
		seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
		g_hash_table_insert(a->rooms_seen, g_strdup(user), seen);
	}
	if (g_hash_table_size(seen) >= ROOMS_SEEN_PER_USER)
		g_hash_table_remove_all(seen); /* that user's only */
	g_hash_table_add(seen, g_utf8_casefold(name, -1));
}

enum address_kind address_classify(const struct address *a, const struct jid *to, const char *user)
{
	if (g_ascii_strcasecmp(jid_domain(to), a->jid) != 0)
		return ADDRESS_OTHER;
	bool resource = jid_resource(to) != NULL;
	if (jid_local(to) == NULL)
		return resource ? ADDRESS_TRANSPORT_RESOURCE : ADDRESS_TRANSPORT;
	g_autofree char *name = jid_unescape_local(jid_local(to));
	if (address_is_room_name(a, user, name))
		return resource ? ADDRESS_ROOM_OCCUPANT : ADDRESS_ROOM;
	return resource ? ADDRESS_CONTACT_RESOURCE : ADDRESS_CONTACT;
}

/* ---- legacy names <-> contact JIDs ----------------------------------------------- */

/* What XMPP servers make of localpart S: NFKC, case folding, NFKC (as
 * nodeprep's B.2 mapping and normalization). NULL when S is not UTF-8. */
static char *server_fold(const char *s)
{
	g_autofree char *nfkc = g_utf8_normalize(s, -1, G_NORMALIZE_NFKC);
	if (nfkc == NULL)
		return NULL;
	g_autofree char *folded = g_utf8_casefold(nfkc, -1);
	return g_utf8_normalize(folded, -1, G_NORMALIZE_NFKC);
}

/* true when LOCAL ends as a mark does: '~' and MARK_DIGITS or more hex
 * digits. A plain name never does, so marked addresses are ferry's own. */
static bool has_mark(const char *local)
{
	const char *m = strrchr(local, MARK);
	if (m == NULL || strlen(m + 1) < MARK_DIGITS)
		return false;
	for (const char *p = m + 1; *p != '\0'; p++) {
		if (!g_ascii_isxdigit(*p))
			return false;
	}
	return true;
}

/* Whether ESCAPED, a name's XEP-0106 form, is its localpart as it is: the
 * server's folding changes nothing in it the protocol does not ignore. */
static bool is_plain(const struct address *a, const char *escaped)
{
	if (has_mark(escaped))
		return false;
	if (a->name_case == NAME_CASE_XMPP)
		return true;
	g_autofree char *nfkc = g_utf8_normalize(escaped, -1, G_NORMALIZE_NFKC);
	if (nfkc == NULL || strcmp(nfkc, escaped) != 0)
		return false;
	g_autofree char *folded = server_fold(escaped);
	g_autofree char *same =
	    a->name_case == NAME_CASE_ASCII ? g_ascii_strdown(escaped, -1) : g_strdup(escaped);
	return folded != NULL && strcmp(folded, same) == 0;
}

/* The folded part of NAME's marked localpart: its valid UTF-8 folded and
 * escaped, cut at BASE_MAX bytes; "" when folding made it no localpart. */
static char *mark_base(const char *name)
{
	g_autofree char *valid = g_utf8_make_valid(name, -1);
	g_autofree char *folded = server_fold(valid);
	g_autofree char *escaped = folded != NULL ? jid_escape_local(folded) : NULL;
	char *base = escaped != NULL ? server_fold(escaped) : NULL;
	if (base == NULL)
		return g_strdup("");
	if (strlen(base) > BASE_MAX)
		*g_utf8_find_prev_char(base, base + BASE_MAX + 1) = '\0';
	/* still a localpart (folding can make a forbidden character) */
	struct jid *check = jid_new(base, "x", NULL, NULL);
	if (check == NULL) {
		g_free(base);
		return g_strdup("");
	}
	jid_free(check);
	return base;
}

/* The marked localpart of NAME (which is not plain): base~digits, with
 * the fewest digits no other name holds in storage, which then holds this
 * one. NULL only when all 64 are taken or storage fails (logged). */
static char *marked_local(const struct address *a, const char *name)
{
	g_autofree char *base = mark_base(name);
	g_autofree char *sum = g_compute_checksum_for_string(G_CHECKSUM_SHA256, name, -1);
	for (int digits = MARK_DIGITS; digits <= (int)strlen(sum); digits += 4) {
		g_autofree char *local = g_strdup_printf("%s%c%.*s", base, MARK, digits, sum);
		if (a->storage == NULL)
			return g_steal_pointer(&local);
		g_autoptr(GError) err = NULL;
		g_autofree char *holder = NULL;
		if (!storage_address_get(a->storage, local, &holder, &err) ||
		    (holder == NULL && !storage_address_put(a->storage, local, name, &err))) {
			g_warning("address: cannot keep the address %s of a legacy name: %s", local,
			          err->message);
			return NULL;
		}
		if (holder == NULL || strcmp(holder, name) == 0)
			return g_steal_pointer(&local);
	}
	g_warning("address: no address is free for a legacy name of %zu bytes", strlen(name));
	return NULL;
}

/* NAME's localpart, *PLAIN telling whether it is NAME's XEP-0106 form. */
static char *contact_local(const struct address *a, const char *name, bool *plain)
{
	*plain = false;
	g_autofree char *valid = g_utf8_make_valid(name, -1);
	g_autofree char *escaped = jid_escape_local(valid);
	if (escaped == NULL)
		return NULL; /* empty, spaces at an end, a control character */
	if (strcmp(valid, name) == 0 && is_plain(a, escaped)) {
		*plain = true;
		return g_steal_pointer(&escaped);
	}
	return marked_local(a, name);
}

char *address_contact_jid(const struct address *a, const char *name)
{
	bool plain;
	g_autofree char *local = contact_local(a, name, &plain);
	return local != NULL ? g_strdup_printf("%s@%s", local, a->jid) : NULL;
}

char *address_contact_jid_for(struct address *a, const char *user, const char *name)
{
	bool plain;
	g_autofree char *local = contact_local(a, name, &plain);
	if (local == NULL)
		return NULL;
	char *jid = g_strdup_printf("%s@%s", local, a->jid);
	g_autofree char *key = g_strconcat(user, "\n", name, NULL);
	if (plain || g_hash_table_contains(a->told, key))
		return jid;
	if (g_hash_table_size(a->told) >= TOLD_MAX)
		g_hash_table_remove_all(a->told);
	g_hash_table_add(a->told, g_steal_pointer(&key));
	bool utf8 = g_utf8_validate(name, -1, NULL);
	g_autofree char *shown = g_utf8_make_valid(name, -1);
	g_autofree char *folded = utf8 ? server_fold(name) : NULL;
	g_autofree char *why =
	    !utf8 ? g_strdup("its name is not valid UTF-8")
	          : g_strdup_printf("XMPP servers would read its name as '%s', which can be "
	                            "another %s name",
	                            folded != NULL ? folded : shown, a->protocol_name);
	g_autofree char *text = g_strdup_printf("The %s contact '%s' is %s: %s, so it has an "
	                                        "address of its own.",
	                                        a->protocol_name, shown, jid, why);
	g_info("address: %s: the legacy name '%s' is %s (%s)", user, shown, jid, why);
	out_tell_user(a->router, user, text);
	return jid;
}

const char *address_transport_full(const struct address *a)
{
	return a->full;
}

char *address_full(const char *bare)
{
	return g_strconcat(bare, "/" GATEWAY_RESOURCE, NULL);
}

char *address_legacy_name(const struct address *a, const char *localpart)
{
	g_autofree char *key = address_local_key(localpart);
	if (has_mark(key)) {
		g_autoptr(GError) err = NULL;
		char *name = NULL;
		if (a->storage != NULL && !storage_address_get(a->storage, key, &name, &err))
			g_warning("address: cannot read the address %s: %s", key, err->message);
		return name;
	}
	/* Any other stands for the name it unescapes to, unless that name
	 * has a marked address (or ferry gives it none: spaces at an end,
	 * which users may still write to). */
	g_autofree char *name = jid_unescape_local(localpart);
	if (*name == '\0')
		return NULL;
	g_autofree char *escaped = jid_escape_local(name);
	return escaped == NULL || is_plain(a, escaped) ? g_steal_pointer(&name) : NULL;
}

char *address_local_key(const char *localpart)
{
	return g_utf8_casefold(localpart, -1);
}

bool address_may_use(const struct address *a, const struct jid *user)
{
	return jid_local(user) != NULL && settings_domain_allowed(a->settings, jid_domain(user));
}

struct jid *address_sender(const struct stanza *stanza)
{
	const char *from = stanza_get_from(stanza);
	struct jid *j = from != NULL ? jid_parse(from, NULL) : NULL;
	if (j == NULL)
		g_debug("gateway: ignoring <%s> with an invalid sender", stanza_name(stanza));
	return j;
}

bool address_admit(const struct address *a, struct router *router, const struct stanza *stanza,
                   const struct jid *from)
{
	if (address_may_use(a, from))
		return true;
	if (!address_may_answer_stranger(a, jid_bare(from)))
		return false;
	g_info("gateway: refusing <%s> from %s: domain not allowed", stanza_name(stanza),
	       jid_bare(from));
	g_autofree char *text =
	    g_strdup_printf("%s serves users of %s only", a->jid, a->settings->allowed_domains[0]);
	router_send_error(router, stanza, "forbidden", text);
	return false;
}

struct jid *address_check_sender(const struct address *a, struct router *router,
                                 const struct stanza *stanza)
{
	struct jid *j = address_sender(stanza);
	if (j != NULL && !address_admit(a, router, stanza, j))
		g_clear_pointer(&j, jid_free);
	return j;
}

bool address_name_shortened(const char *wanted, const char *given)
{
	gsize n = strlen(given);
	return n > 0 && n < strlen(wanted) && g_ascii_strncasecmp(wanted, given, n) == 0;
}
