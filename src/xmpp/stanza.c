/* stanza: the element tree every XMPP stanza lives in, and the reply/error
 * builders. Serialization is in stanza_serialize.c.
 *
 * Memory layout (the parser builds one of these per element, so allocations
 * are kept few): an element is one allocation holding the struct and its
 * name; stanza_new_with_attrs() also puts the attribute array and all
 * attribute strings in that same block. Attributes set later get one
 * allocation each ("name\0value\0"). Children are a singly linked list with
 * a tail pointer; a text run is one allocation with its bytes inline.
 */
#include "config.h"
#include "ferry/stanza.h"

#include <stdint.h>
#include <string.h>

struct stanza_node {
	struct stanza_node *next; /* next sibling; NULL for the last */
	bool is_text;             /* a struct text_run, else a struct stanza */
};

struct text_run {
	struct stanza_node node;
	size_t len;  /* bytes in data, without the NUL */
	char data[]; /* NUL-terminated */
};

struct attr {
	const char *name;  /* "name\0value\0": one allocation, or inside the element's block */
	const char *value; /* points after name's NUL, same storage */
};

struct stanza {
	struct stanza_node node;
	struct stanza *parent;     /* NULL for a root */
	struct stanza_node *first; /* children in document order */
	struct stanza_node *last;  /* tail, for O(1) append */
	struct attr *attrs;        /* insertion order; may live inside the block */
	guint n_attrs;             /* attributes in use */
	guint cap_attrs;           /* slots in attrs */
	const char *block_end;     /* end of this element's allocation: storage
	                            * before it is never freed on its own */
	char name[];               /* NUL-terminated, inline */
};

/* true when P points into ST's own allocation (and must not be freed). */
static bool in_block(const struct stanza *st, const void *p)
{
	/* Compared as integers: P may belong to another allocation. */
	uintptr_t a = (uintptr_t)p;
	return a >= (uintptr_t)st && a < (uintptr_t)st->block_end;
}

static struct stanza *element_alloc(const char *name, size_t extra, size_t *name_end)
{
	size_t name_len = strlen(name);
	size_t size = sizeof(struct stanza) + name_len + 1;
	/* Align what follows the name for the attribute array. */
	size = (size + G_ALIGNOF(struct attr) - 1) & ~(size_t)(G_ALIGNOF(struct attr) - 1);
	*name_end = size;
	struct stanza *st = g_malloc(size + extra);
	memset(st, 0, sizeof(*st));
	memcpy(st->name, name, name_len + 1);
	st->block_end = (const char *)st + size + extra;
	return st;
}

struct stanza *stanza_new(const char *name)
{
	g_return_val_if_fail(name != NULL && *name != '\0', NULL);
	size_t name_end;
	return element_alloc(name, 0, &name_end);
}

struct stanza *stanza_new_ns(const char *name, const char *ns)
{
	struct stanza *st = stanza_new(name);
	if (st != NULL && ns != NULL)
		stanza_set_attr(st, "xmlns", ns);
	return st;
}

struct stanza *stanza_new_with_attrs(const char *name, const char *const *attrs)
{
	g_return_val_if_fail(name != NULL && *name != '\0', NULL);
	/* String lengths (with their NULs) are measured once; elements with
	 * more attributes than fit here are rare enough to measure twice. */
	size_t lens[2 * 16];
	guint n = 0;
	size_t strings = 0;
	if (attrs != NULL) {
		for (; attrs[2 * n] != NULL; n++) {
			size_t nl = strlen(attrs[2 * n]) + 1, vl = strlen(attrs[2 * n + 1]) + 1;
			if (n < G_N_ELEMENTS(lens) / 2) {
				lens[2 * n] = nl;
				lens[2 * n + 1] = vl;
			}
			strings += nl + vl;
		}
	}
	size_t name_end;
	struct stanza *st = element_alloc(name, n * sizeof(struct attr) + strings, &name_end);
	if (n == 0)
		return st;
	st->attrs = (struct attr *)(void *)((char *)st + name_end);
	st->n_attrs = st->cap_attrs = n;
	char *p = (char *)(st->attrs + n);
	for (guint i = 0; i < n; i++) {
		bool known = i < G_N_ELEMENTS(lens) / 2;
		size_t nl = known ? lens[2 * i] : strlen(attrs[2 * i]) + 1;
		size_t vl = known ? lens[2 * i + 1] : strlen(attrs[2 * i + 1]) + 1;
		memcpy(p, attrs[2 * i], nl);
		st->attrs[i].name = p;
		p += nl;
		memcpy(p, attrs[2 * i + 1], vl);
		st->attrs[i].value = p;
		p += vl;
	}
	return st;
}

static void element_free_shallow(struct stanza *st)
{
	for (guint i = 0; i < st->n_attrs; i++) {
		if (!in_block(st, st->attrs[i].name))
			g_free((char *)st->attrs[i].name);
	}
	if (st->attrs != NULL && !in_block(st, st->attrs))
		g_free(st->attrs);
	g_free(st);
}

void stanza_free(struct stanza *stanza)
{
	if (stanza == NULL)
		return;
	g_return_if_fail(stanza->parent == NULL);
	/* Iterative post-order walk: no recursion however deep the tree. Each
	 * child is unhooked from its parent's list before we descend into it,
	 * so returning to the parent resumes at the remaining children. */
	struct stanza *cur = stanza;
	for (;;) {
		struct stanza_node *child = cur->first;
		if (child != NULL) {
			cur->first = child->next;
			if (child->is_text) {
				g_free(child);
			} else {
				cur = (struct stanza *)child;
			}
			continue;
		}
		struct stanza *up = cur->parent;
		bool done = cur == stanza;
		element_free_shallow(cur);
		if (done)
			break;
		cur = up;
	}
}

static struct stanza *copy_shallow(const struct stanza *src)
{
	const char *flat[2 * 16 + 1];
	const char **attrs = src->n_attrs <= 16 ? flat : g_new(const char *, 2 * src->n_attrs + 1);
	for (guint i = 0; i < src->n_attrs; i++) {
		attrs[2 * i] = src->attrs[i].name;
		attrs[2 * i + 1] = src->attrs[i].value;
	}
	attrs[2 * src->n_attrs] = NULL;
	struct stanza *st = stanza_new_with_attrs(src->name, attrs);
	if (attrs != flat)
		g_free(attrs);
	return st;
}

static void append_node(struct stanza *parent, struct stanza_node *node)
{
	node->next = NULL;
	if (parent->last != NULL)
		parent->last->next = node;
	else
		parent->first = node;
	parent->last = node;
}

static void append_text_run(struct stanza *parent, const char *text, size_t len)
{
	struct text_run *run = g_malloc(sizeof(*run) + len + 1);
	run->node.is_text = true;
	run->len = len;
	memcpy(run->data, text, len);
	run->data[len] = '\0';
	append_node(parent, &run->node);
}

struct stanza *stanza_copy(const struct stanza *stanza)
{
	g_return_val_if_fail(stanza != NULL, NULL);
	/* Iterative pre-order walk over the source with a parallel cursor in
	 * the copy. */
	const struct stanza *src = stanza;
	struct stanza *dst = copy_shallow(src);
	struct stanza *root = dst;
	const struct stanza_node *n = src->first;
	for (;;) {
		if (n == NULL) {
			if (src == stanza)
				break;
			n = src->node.next;
			src = src->parent;
			dst = dst->parent;
			continue;
		}
		if (n->is_text) {
			const struct text_run *run = (const struct text_run *)n;
			append_text_run(dst, run->data, run->len);
			n = n->next;
		} else {
			const struct stanza *child = (const struct stanza *)n;
			struct stanza *c = copy_shallow(child);
			c->parent = dst;
			append_node(dst, &c->node);
			src = child;
			dst = c;
			n = child->first;
		}
	}
	return root;
}

const char *stanza_name(const struct stanza *stanza)
{
	g_return_val_if_fail(stanza != NULL, NULL);
	return stanza->name;
}

static const struct attr *find_attr(const struct stanza *st, const char *name, guint *index)
{
	for (guint i = 0; i < st->n_attrs; i++) {
		if (strcmp(st->attrs[i].name, name) == 0) {
			if (index != NULL)
				*index = i;
			return &st->attrs[i];
		}
	}
	return NULL;
}

const char *stanza_ns(const struct stanza *stanza)
{
	g_return_val_if_fail(stanza != NULL, NULL);
	for (const struct stanza *st = stanza; st != NULL; st = st->parent) {
		const struct attr *a = find_attr(st, "xmlns", NULL);
		if (a != NULL)
			return a->value;
	}
	return NULL;
}

bool stanza_is(const struct stanza *stanza, const char *name, const char *ns)
{
	g_return_val_if_fail(stanza != NULL, false);
	if (name != NULL && strcmp(stanza->name, name) != 0)
		return false;
	if (ns == NULL)
		return true;
	const char *own = stanza_ns(stanza);
	return own != NULL && strcmp(own, ns) == 0;
}

struct stanza *stanza_parent(const struct stanza *stanza)
{
	g_return_val_if_fail(stanza != NULL, NULL);
	return stanza->parent;
}

const char *stanza_get_attr(const struct stanza *stanza, const char *name)
{
	g_return_val_if_fail(stanza != NULL && name != NULL, NULL);
	const struct attr *a = find_attr(stanza, name, NULL);
	return a != NULL ? a->value : NULL;
}

static void attr_release(struct stanza *st, struct attr *a)
{
	if (!in_block(st, a->name))
		g_free((char *)a->name);
}

void stanza_set_attr(struct stanza *stanza, const char *name, const char *value)
{
	g_return_if_fail(stanza != NULL && name != NULL && *name != '\0');
	guint index = 0;
	struct attr *old = (struct attr *)find_attr(stanza, name, &index);
	if (value == NULL) {
		if (old == NULL)
			return;
		attr_release(stanza, old);
		memmove(old, old + 1, (stanza->n_attrs - index - 1) * sizeof(*old));
		stanza->n_attrs--;
		return;
	}
	/* Build the new storage first: NAME or VALUE may point into the old. */
	size_t nl = strlen(name), vl = strlen(value);
	char *storage = g_malloc(nl + vl + 2);
	memcpy(storage, name, nl + 1);
	memcpy(storage + nl + 1, value, vl + 1);
	if (old != NULL) {
		attr_release(stanza, old);
		old->name = storage;
		old->value = storage + nl + 1;
		return;
	}
	if (stanza->n_attrs == stanza->cap_attrs) {
		guint cap = stanza->cap_attrs != 0 ? stanza->cap_attrs * 2 : 4;
		if (stanza->attrs != NULL && in_block(stanza, stanza->attrs)) {
			struct attr *moved = g_new(struct attr, cap);
			memcpy(moved, stanza->attrs, stanza->n_attrs * sizeof(*moved));
			stanza->attrs = moved;
		} else {
			stanza->attrs = g_renew(struct attr, stanza->attrs, cap);
		}
		stanza->cap_attrs = cap;
	}
	stanza->attrs[stanza->n_attrs].name = storage;
	stanza->attrs[stanza->n_attrs].value = storage + nl + 1;
	stanza->n_attrs++;
}

bool stanza_next_attr(const struct stanza *stanza, guint *index, const char **name,
                      const char **value)
{
	g_return_val_if_fail(stanza != NULL && index != NULL, false);
	if (*index >= stanza->n_attrs)
		return false;
	if (name != NULL)
		*name = stanza->attrs[*index].name;
	if (value != NULL)
		*value = stanza->attrs[*index].value;
	(*index)++;
	return true;
}

const char *stanza_get_from(const struct stanza *stanza)
{
	return stanza_get_attr(stanza, "from");
}

const char *stanza_get_to(const struct stanza *stanza)
{
	return stanza_get_attr(stanza, "to");
}

const char *stanza_get_id(const struct stanza *stanza)
{
	return stanza_get_attr(stanza, "id");
}

const char *stanza_get_type(const struct stanza *stanza)
{
	return stanza_get_attr(stanza, "type");
}

struct stanza *stanza_add_child_take(struct stanza *parent, struct stanza *child)
{
	g_return_val_if_fail(parent != NULL && child != NULL, child);
	g_return_val_if_fail(child->parent == NULL && child != parent, child);
	child->parent = parent;
	append_node(parent, &child->node);
	return child;
}

struct stanza *stanza_add_child(struct stanza *parent, const char *name, const char *ns)
{
	g_return_val_if_fail(parent != NULL, NULL);
	return stanza_add_child_take(parent, stanza_new_ns(name, ns));
}

void stanza_unlink(struct stanza *child)
{
	g_return_if_fail(child != NULL);
	struct stanza *parent = child->parent;
	if (parent == NULL)
		return;
	struct stanza_node *prev = NULL;
	for (struct stanza_node *n = parent->first; n != &child->node; n = n->next)
		prev = n;
	if (prev != NULL)
		prev->next = child->node.next;
	else
		parent->first = child->node.next;
	if (parent->last == &child->node)
		parent->last = prev;
	child->node.next = NULL;
	child->parent = NULL;
}

void stanza_set_text(struct stanza *stanza, const char *text, gssize len)
{
	g_return_if_fail(stanza != NULL && text != NULL);
	while (stanza->first != NULL) {
		struct stanza_node *n = stanza->first;
		if (n->is_text) {
			stanza->first = n->next;
			g_free(n);
		} else {
			struct stanza *child = (struct stanza *)n;
			stanza_unlink(child);
			stanza_free(child);
		}
	}
	stanza->last = NULL;
	stanza_add_text(stanza, text, len);
}

void stanza_add_text(struct stanza *parent, const char *text, gssize len)
{
	g_return_if_fail(parent != NULL && text != NULL);
	size_t n = len < 0 ? strlen(text) : (size_t)len;
	if (n > 0)
		append_text_run(parent, text, n);
}

struct stanza *stanza_add_text_child(struct stanza *parent, const char *name, const char *text)
{
	struct stanza *child = stanza_add_child(parent, name, NULL);
	if (child != NULL && text != NULL)
		stanza_add_text(child, text, -1);
	return child;
}

struct stanza *stanza_next_child(const struct stanza *stanza, const struct stanza *prev)
{
	g_return_val_if_fail(stanza != NULL, NULL);
	g_return_val_if_fail(prev == NULL || prev->parent == stanza, NULL);
	const struct stanza_node *n = prev != NULL ? prev->node.next : stanza->first;
	while (n != NULL && n->is_text)
		n = n->next;
	return (struct stanza *)n;
}

struct stanza *stanza_find_child(const struct stanza *stanza, const char *name, const char *ns)
{
	g_return_val_if_fail(stanza != NULL, NULL);
	/* A child without its own xmlns inherits ours: resolve that once. */
	const char *inherited = ns != NULL ? stanza_ns(stanza) : NULL;
	for (struct stanza *c = stanza_next_child(stanza, NULL); c != NULL;
	     c = stanza_next_child(stanza, c)) {
		if (name != NULL && strcmp(c->name, name) != 0)
			continue;
		if (ns != NULL) {
			const struct attr *a = find_attr(c, "xmlns", NULL);
			const char *cns = a != NULL ? a->value : inherited;
			if (cns == NULL || strcmp(cns, ns) != 0)
				continue;
		}
		return c;
	}
	return NULL;
}

guint stanza_child_count(const struct stanza *stanza)
{
	g_return_val_if_fail(stanza != NULL, 0);
	guint count = 0;
	for (const struct stanza_node *n = stanza->first; n != NULL; n = n->next)
		count += !n->is_text;
	return count;
}

char *stanza_get_text(const struct stanza *stanza)
{
	g_return_val_if_fail(stanza != NULL, NULL);
	size_t total = 0;
	for (const struct stanza_node *n = stanza->first; n != NULL; n = n->next) {
		if (n->is_text)
			total += ((const struct text_run *)n)->len;
	}
	char *out = g_malloc(total + 1);
	char *p = out;
	for (const struct stanza_node *n = stanza->first; n != NULL; n = n->next) {
		if (n->is_text) {
			const struct text_run *run = (const struct text_run *)n;
			memcpy(p, run->data, run->len);
			p += run->len;
		}
	}
	*p = '\0';
	return out;
}

char *stanza_get_child_text(const struct stanza *stanza, const char *name, const char *ns)
{
	const struct stanza *child = stanza_find_child(stanza, name, ns);
	return child != NULL ? stanza_get_text(child) : NULL;
}

const struct stanza_node *stanza_first_node(const struct stanza *stanza)
{
	g_return_val_if_fail(stanza != NULL, NULL);
	return stanza->first;
}

const struct stanza_node *stanza_node_next(const struct stanza_node *node)
{
	g_return_val_if_fail(node != NULL, NULL);
	return node->next;
}

const struct stanza *stanza_node_element(const struct stanza_node *node)
{
	g_return_val_if_fail(node != NULL, NULL);
	return node->is_text ? NULL : (const struct stanza *)node;
}

const char *stanza_node_text(const struct stanza_node *node, size_t *len)
{
	g_return_val_if_fail(node != NULL, NULL);
	if (!node->is_text)
		return NULL;
	const struct text_run *run = (const struct text_run *)node;
	if (len != NULL)
		*len = run->len;
	return run->data;
}

/* ---- reply and error builders ------------------------------------------- */

struct stanza *stanza_new_reply(const struct stanza *request, const char *type)
{
	g_return_val_if_fail(request != NULL, NULL);
	struct stanza *reply = stanza_new(request->name);
	const char *from = stanza_get_from(request);
	const char *to = stanza_get_to(request);
	const char *id = stanza_get_id(request);
	if (to != NULL)
		stanza_set_attr(reply, "from", to);
	if (from != NULL)
		stanza_set_attr(reply, "to", from);
	if (id != NULL)
		stanza_set_attr(reply, "id", id);
	if (type != NULL)
		stanza_set_attr(reply, "type", type);
	return reply;
}

struct stanza *stanza_new_error(const struct stanza *request, const char *error_type,
                                const char *condition, const char *text, bool copy_payload)
{
	g_return_val_if_fail(request != NULL && condition != NULL, NULL);
	struct stanza *reply = stanza_new_reply(request, "error");
	if (copy_payload) {
		for (const struct stanza_node *n = request->first; n != NULL; n = n->next) {
			if (n->is_text) {
				const struct text_run *run = (const struct text_run *)n;
				append_text_run(reply, run->data, run->len);
			} else {
				stanza_add_child_take(reply, stanza_copy((const struct stanza *)n));
			}
		}
	}
	stanza_add_error(reply, error_type, condition, text);
	return reply;
}

struct stanza *stanza_add_error(struct stanza *stanza, const char *error_type,
                                const char *condition, const char *text)
{
	g_return_val_if_fail(stanza != NULL && condition != NULL, NULL);
	struct stanza *error = stanza_add_child(stanza, "error", NULL);
	stanza_set_attr(error, "type",
	                error_type != NULL ? error_type : stanza_error_type_for(condition));
	stanza_add_child(error, condition, STANZA_NS_STANZAS);
	if (text != NULL) {
		struct stanza *t = stanza_add_child(error, "text", STANZA_NS_STANZAS);
		stanza_add_text(t, text, -1);
	}
	return error;
}

const char *stanza_error_type_for(const char *condition)
{
	/* RFC 6120 §8.3.3. Where it allows two types, the first it names. */
	static const struct {
		const char *condition;
		const char *type;
	} table[] = {
	    {"bad-request", "modify"},
	    {"conflict", "cancel"},
	    {"feature-not-implemented", "cancel"},
	    {"forbidden", "auth"},
	    {"gone", "cancel"},
	    {"internal-server-error", "cancel"},
	    {"item-not-found", "cancel"},
	    {"jid-malformed", "modify"},
	    {"not-acceptable", "modify"},
	    {"not-allowed", "cancel"},
	    {"not-authorized", "auth"},
	    {"policy-violation", "modify"},
	    {"recipient-unavailable", "wait"},
	    {"redirect", "modify"},
	    {"registration-required", "auth"},
	    {"remote-server-not-found", "cancel"},
	    {"remote-server-timeout", "wait"},
	    {"resource-constraint", "wait"},
	    {"service-unavailable", "cancel"},
	    {"subscription-required", "auth"},
	    {"undefined-condition", "cancel"},
	    {"unexpected-request", "wait"},
	};
	if (condition != NULL) {
		for (size_t i = 0; i < G_N_ELEMENTS(table); i++) {
			if (strcmp(table[i].condition, condition) == 0)
				return table[i].type;
		}
	}
	return "cancel";
}
