/* gateway_fixture: a whole transport (include/ferry/gateway.h) in a unit
 * test, on real parts except the legacy side: a router whose output is
 * captured, disco, SQLite storage in a temporary directory with a fixed
 * key, an IRC-like registration form, and fake_legacy.h. Stanzas go in as
 * XML text; what the transport sends comes out as parsed stanzas. */
#ifndef FERRY_TEST_GATEWAY_FIXTURE_H
#define FERRY_TEST_GATEWAY_FIXTURE_H

#include <glib.h>
#include <stdbool.h>

#include "fake_legacy.h"
#include "helpers.h"
#include "ferry/disco.h"
#include "ferry/gateway.h"
#include "ferry/regform.h"
#include "ferry/router.h"
#include "ferry/secrets.h"
#include "ferry/settings.h"
#include "ferry/storage.h"

/* The transport's domain, its users' domain, and a user. */
#define GW_JID "irc.example.org"
/* The resource of the transport's and contacts' full JIDs, and the
 * transport's full JID, which its presence comes from. */
#define GW_RESOURCE "ferry"
#define GW_FULL GW_JID "/" GW_RESOURCE
#define GW_DOMAIN "example.org"
#define ALICE "alice@example.org"
#define ALICE_PC "alice@example.org/pc"
/* The text of registration-required, to users who are not registered. */
#define GW_NOT_REGISTERED                                                                          \
	"you are not registered with " GW_JID "; to register, use your client's \"Register\" "     \
	"command on " GW_JID " (find " GW_JID " in your client's service discovery)"

struct gw {
	char *dir;
	struct settings *settings;
	struct secrets *secrets;
	struct storage *storage;
	struct regform *form;
	struct fake_legacy *fake;
	struct legacy *legacy;
	struct router *router;
	struct disco *disco;
	struct gateway *gateway;
	GQueue sent; /* struct stanza *: what the transport sent, oldest first */
};

/* Builds the transport. EXTRA is appended to the configuration (e.g.
 * "[workers]\nlogin_rate = 1\n"; NULL for none). */
void gw_setup(struct gw *gw, const char *extra);
/* Frees the transport and then checks nothing is left in the temporary
 * directory but the database and key. */
void gw_teardown(struct gw *gw);

/* Frees the transport (its sessions log out), the router and disco, and
 * builds them anew on the same storage and legacy side, as a restart of
 * ferry would. What was sent and commanded is forgotten. */
void gw_restart(struct gw *gw);

/* Parses XML (one stanza, in the component stream's namespace) and hands
 * it to the router as the server would. */
void gw_inject(struct gw *gw, const char *xml);
/* printf-style gw_inject. */
void gw_injectf(struct gw *gw, const char *format, ...) G_GNUC_PRINTF(2, 3);

/* The oldest stanza the transport sent and nobody took, or NULL. Caller
 * frees. */
struct stanza *gw_take(struct gw *gw);
/* Takes the oldest sent stanza that is a NAME with TYPE (NULL: none, the
 * attribute absent; "*": any) to TO (NULL: any); others stay. NULL if
 * there is none. Caller frees. */
struct stanza *gw_take_match(struct gw *gw, const char *name, const char *type, const char *to);
/* As gw_take_match, asserting there is one. */
struct stanza *gw_expect(struct gw *gw, const char *name, const char *type, const char *to);
/* Forgets what was sent. */
void gw_clear(struct gw *gw);
/* How many stanzas are waiting. */
guint gw_sent_count(const struct gw *gw);

/* Stores BARE as a registered user (nickname NICK, password PASSWORD),
 * as a finished registration would. */
void gw_register_user(struct gw *gw, const char *bare, const char *nick, const char *password);

/* Runs the main loop until COND(DATA) holds or TIMEOUT_MS pass; returns
 * COND's last value. */
bool gw_run_until(bool (*cond)(void *data), void *data, guint timeout_ms);
/* Runs the main loop for MS milliseconds. */
void gw_run_for(guint ms);

/* GTest fixture functions: gw_setup(EXTRA) with ALICE registered (nick
 * "alice", password "pw"), and gw_teardown. */
void gw_test_setup(struct gw *gw, gconstpointer extra);
void gw_test_teardown(struct gw *gw, gconstpointer unused);

/* Takes the oldest recorded command of TYPE; the test fails when there is
 * none. Caller frees. */
struct fake_command *gw_take_command(struct gw *gw, guint32 type);
/* Takes the oldest sent stanza and asserts it serializes to XML; the test
 * fails when nothing was sent. */
void gw_expect_next(struct gw *gw, const char *xml);
/* Asserts that nothing (more) was sent. */
void gw_expect_nothing(struct gw *gw);

/* true once a LOGIN was recorded (for gw_run_until; DATA is the gw). */
bool gw_has_login(void *gw);
/* After a lost worker or a disconnect: waits (3 s at most) for the
 * session's next login, signs it on as NICK, returns its account. */
guint32 gw_relogin(struct gw *gw, const char *nick);

/* ALICE's stored contacts as "name:flags,..." in name order. Caller frees. */
char *gw_stored_contacts(struct gw *gw);
#define GW_ASSERT_STORED(gw, expected)                                                             \
	do {                                                                                       \
		g_autofree char *got_ = gw_stored_contacts(gw);                                    \
		g_assert_cmpstr(got_, ==, (expected));                                             \
	} while (0)

/* Brings ALICE's session online: her presence from ALICE_PC, the login it
 * causes, and CONNECTED as NICK. Returns the account id; what was sent
 * and commanded on the way is cleared. */
guint32 gw_online(struct gw *gw, const char *nick);

#endif
