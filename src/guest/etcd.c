/* The JSON of etcd's v3 gateway (grpc-gateway, original field names):
 * int64 fields are strings ("revision":"7"), fields at their zero value
 * are left out (a PUT event has no "type", an expired lease's keep-alive
 * no "TTL"), keys and values are base64, and streams (watch, keep-alive)
 * send one {"result":{...}} object a line.  An error is
 * {"error":"...","code":N,"message":"..."} (or inside "error" for a
 * stream). */
#include <errno.h>
#include <stdio.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "member.h"

void mb_kvs_free(MbKvs *kvs)
{
	for (size_t i = 0; i < kvs->n; i++) {
		free(kvs->kv[i].key);
		free(kvs->kv[i].value);
	}
	free(kvs->kv);
	kvs->kv = NULL;
	kvs->n = 0;
}

static json_t *load(const char *body, size_t len, MbErr *err)
{
	json_error_t jerr;
	json_t *root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);

	if (root == NULL) {
		mb_err(err, "bad JSON from the lock server: %s", jerr.text);
		return NULL;
	}
	if (!json_is_object(root)) {
		json_decref(root);
		mb_err(err, "bad JSON from the lock server: not an object");
		return NULL;
	}
	return root;
}

/* An "error" member: the gateway's own message. */
static bool is_error(json_t *obj, MbErr *err)
{
	json_t *e = json_object_get(obj, "error");
	json_t *m = json_object_get(obj, "message");

	if (e == NULL)
		return false;
	if (json_is_object(e)) {	/* a stream's error */
		m = json_object_get(e, "message");
	}
	mb_err(err, "lock server: %s",
	       json_is_string(m) ? json_string_value(m) :
	       json_is_string(e) ? json_string_value(e) : "error");
	return true;
}

/* An int64 field: a decimal string or a JSON integer; absent is 0. */
static bool get_int(json_t *obj, const char *name, int64_t *out, MbErr *err)
{
	json_t *v = json_object_get(obj, name);
	const char *s;
	char *end;
	long long n;

	*out = 0;
	if (v == NULL)
		return true;
	if (json_is_integer(v)) {
		*out = (int64_t)json_integer_value(v);
		return true;
	}
	if (!json_is_string(v))
		goto bad;
	s = json_string_value(v);
	errno = 0;
	n = strtoll(s, &end, 10);
	if (*s == '\0' || *end != '\0' || errno != 0)
		goto bad;
	*out = n;
	return true;
bad:
	mb_err(err, "bad JSON from the lock server: \"%s\" is not a number", name);
	return false;
}

static bool get_bool(json_t *obj, const char *name, bool *out, MbErr *err)
{
	json_t *v = json_object_get(obj, name);

	*out = false;
	if (v == NULL)
		return true;
	if (!json_is_boolean(v)) {
		mb_err(err, "bad JSON from the lock server: \"%s\" is not true or false", name);
		return false;
	}
	*out = json_is_true(v);
	return true;
}

static bool get_b64(json_t *obj, const char *name, char **out, MbErr *err)
{
	json_t *v = json_object_get(obj, name);
	size_t len;

	if (v == NULL) {
		*out = calloc(1, 1);
		return *out != NULL;
	}
	if (!json_is_string(v) || !mb_b64_decode(json_string_value(v), out, &len)) {
		mb_err(err, "bad JSON from the lock server: \"%s\" is not base64", name);
		return false;
	}
	return true;
}

static bool header_revision(json_t *obj, int64_t *rev, MbErr *err)
{
	json_t *h = json_object_get(obj, "header");

	if (!json_is_object(h)) {
		mb_err(err, "bad JSON from the lock server: no header");
		return false;
	}
	return get_int(h, "revision", rev, err);
}

static bool parse_kv(json_t *kv, MbKv *out, MbErr *err)
{
	memset(out, 0, sizeof(*out));
	if (!json_is_object(kv)) {
		mb_err(err, "bad JSON from the lock server: a key is not an object");
		return false;
	}
	if (!get_int(kv, "mod_revision", &out->mod_revision, err) ||
	    !get_int(kv, "lease", &out->lease, err) || !get_b64(kv, "key", &out->key, err))
		return false;
	if (!get_b64(kv, "value", &out->value, err)) {
		free(out->key);
		out->key = NULL;
		return false;
	}
	return true;
}

/* ARRAY of kvs (or of events {"type":..,"kv":{..}} when EVENTS). */
static bool parse_kvs(json_t *array, bool events, MbKvs *kvs, MbErr *err)
{
	size_t i;
	json_t *item;

	kvs->kv = NULL;
	kvs->n = 0;
	if (array == NULL)
		return true;
	if (!json_is_array(array)) {
		mb_err(err, "bad JSON from the lock server: %s is not a list",
		       events ? "events" : "kvs");
		return false;
	}
	kvs->kv = calloc(json_array_size(array) + 1, sizeof(MbKv));
	if (kvs->kv == NULL)
		abort();
	json_array_foreach(array, i, item) {
		json_t *kv = item, *type;
		bool deleted = false;

		if (events) {
			if (!json_is_object(item)) {
				mb_err(err, "bad JSON from the lock server: an event is not an object");
				goto fail;
			}
			type = json_object_get(item, "type");
			if (type != NULL) {
				if (!json_is_string(type) ||
				    (strcmp(json_string_value(type), "DELETE") != 0 &&
				     strcmp(json_string_value(type), "PUT") != 0)) {
					mb_err(err, "bad JSON from the lock server: unknown event type");
					goto fail;
				}
				deleted = strcmp(json_string_value(type), "DELETE") == 0;
			}
			kv = json_object_get(item, "kv");
		}
		if (!parse_kv(kv, &kvs->kv[kvs->n], err))
			goto fail;
		kvs->kv[kvs->n++].deleted = deleted;
	}
	return true;
fail:
	mb_kvs_free(kvs);
	return false;
}

bool mb_parse_grant(const char *body, size_t len, int64_t *id, int64_t *ttl, MbErr *err)
{
	json_t *root = load(body, len, err);
	bool ok = false;

	if (root == NULL || is_error(root, err))
		goto out;
	if (!get_int(root, "ID", id, err) || !get_int(root, "TTL", ttl, err))
		goto out;
	if (*id == 0 || *ttl <= 0) {
		mb_err(err, "lock server granted no lease");
		goto out;
	}
	ok = true;
out:
	json_decref(root);
	return ok;
}

/* A stream's {"result":{...}} (or its error). */
static json_t *result_of(json_t *root, MbErr *err)
{
	json_t *r;

	if (is_error(root, err))
		return NULL;
	r = json_object_get(root, "result");
	if (!json_is_object(r)) {
		mb_err(err, "bad JSON from the lock server: no result");
		return NULL;
	}
	return r;
}

bool mb_parse_keepalive(const char *body, size_t len, int64_t *ttl, MbErr *err)
{
	json_t *root = load(body, len, err), *r;
	bool ok = false;

	if (root == NULL || (r = result_of(root, err)) == NULL)
		goto out;
	ok = get_int(r, "TTL", ttl, err);
out:
	json_decref(root);
	return ok;
}

bool mb_parse_range(const char *body, size_t len, int64_t *rev, MbKvs *kvs, MbErr *err)
{
	json_t *root = load(body, len, err);
	bool ok = false;

	if (root == NULL || is_error(root, err))
		goto out;
	ok = header_revision(root, rev, err) &&
	     parse_kvs(json_object_get(root, "kvs"), false, kvs, err);
out:
	json_decref(root);
	return ok;
}

bool mb_parse_txn(const char *body, size_t len, int64_t *rev, MbKvs *kvs, MbErr *err)
{
	json_t *root = load(body, len, err), *resp, *range;
	bool ok = false, succeeded;

	if (root == NULL || is_error(root, err))
		goto out;
	if (!header_revision(root, rev, err) || !get_bool(root, "succeeded", &succeeded, err))
		goto out;
	resp = json_object_get(root, "responses");
	if (!succeeded || !json_is_array(resp) || json_array_size(resp) == 0) {
		mb_err(err, "lock server: the transaction did not succeed");
		goto out;
	}
	range = json_object_get(json_array_get(resp, json_array_size(resp) - 1), "response_range");
	if (!json_is_object(range)) {
		mb_err(err, "bad JSON from the lock server: no range in the transaction");
		goto out;
	}
	ok = parse_kvs(json_object_get(range, "kvs"), false, kvs, err);
out:
	json_decref(root);
	return ok;
}

bool mb_parse_watch(const char *body, size_t len, MbWatchMsg *msg, MbErr *err)
{
	json_t *root = load(body, len, err), *r;
	bool ok = false;

	memset(msg, 0, sizeof(*msg));
	if (root == NULL || (r = result_of(root, err)) == NULL)
		goto out;
	ok = header_revision(r, &msg->revision, err) &&
	     get_bool(r, "created", &msg->created, err) &&
	     get_bool(r, "canceled", &msg->canceled, err) &&
	     get_int(r, "compact_revision", &msg->compact_revision, err) &&
	     parse_kvs(json_object_get(r, "events"), true, &msg->events, err);
out:
	json_decref(root);
	return ok;
}

bool mb_parse_health(const char *body, size_t len, MbErr *err)
{
	json_t *root = load(body, len, err), *h;
	bool ok = false;

	if (root == NULL)
		goto out;
	h = json_object_get(root, "health");
	if (!json_is_string(h)) {
		mb_err(err, "bad JSON from the lock server: no health");
		goto out;
	}
	ok = strcmp(json_string_value(h), "true") == 0;
	if (!ok)
		mb_err(err, "lock server not healthy");
out:
	json_decref(root);
	return ok;
}

bool mb_parse_ok(const char *body, size_t len, MbErr *err)
{
	json_t *root = load(body, len, err);
	bool ok = root != NULL && !is_error(root, err);

	json_decref(root);
	return ok;
}

/* --- requests --- */

static char *dump(json_t *obj)
{
	char *s = json_dumps(obj, JSON_COMPACT);

	json_decref(obj);
	if (s == NULL)
		abort();
	return s;
}

static json_t *b64(const char *s)
{
	char *e = mb_b64_encode(s, strlen(s));
	json_t *v = json_string(e);

	free(e);
	return v;
}

/* The end of the range of keys starting with PREFIX: PREFIX with its last
 * byte incremented ("/ssiuml/" -> "/ssiuml0"). */
static json_t *prefix_end(const char *prefix)
{
	size_t n = strlen(prefix);
	char *end = strdup(prefix);
	json_t *v;

	if (end == NULL)
		abort();
	if (n > 0)
		end[n - 1]++;
	v = b64(end);
	free(end);
	return v;
}

static json_t *int_string(int64_t n)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%" PRId64, n);
	return json_string(buf);
}

char *mb_req_grant(int ttl)
{
	return dump(json_pack("{s:i}", "TTL", ttl));
}

char *mb_req_id(int64_t id)
{
	return dump(json_pack("{s:o}", "ID", int_string(id)));
}

static json_t *range_of(const char *prefix)
{
	return json_pack("{s:o,s:o}", "key", b64(prefix), "range_end", prefix_end(prefix));
}

char *mb_req_range(const char *prefix)
{
	return dump(range_of(prefix));
}

static json_t *put_of(const char *key, const char *value, int64_t lease)
{
	json_t *put = json_pack("{s:o,s:o}", "key", b64(key), "value", b64(value));

	if (lease != 0)
		json_object_set_new(put, "lease", int_string(lease));
	return put;
}

char *mb_req_put(const char *key, const char *value, int64_t lease)
{
	return dump(put_of(key, value, lease));
}

char *mb_req_join_txn(const char *key, const char *value, int64_t lease, const char *prefix)
{
	return dump(json_pack("{s:[{s:o},{s:o}]}", "success",
			      "request_put", put_of(key, value, lease),
			      "request_range", range_of(prefix)));
}

char *mb_req_move_txn(const char *key, const char *value, int64_t lease)
{
	return dump(json_pack("{s:[{s:s,s:s,s:o,s:o}],s:[{s:o}]}", "compare",
			      "result", "EQUAL", "target", "VALUE", "key", b64(key),
			      "value", b64(value), "success",
			      "request_put", put_of(key, value, lease)));
}

bool mb_parse_txn_succeeded(const char *body, size_t len, bool *succeeded, MbErr *err)
{
	json_t *root = load(body, len, err);
	bool ok = root != NULL && !is_error(root, err) &&
		  get_bool(root, "succeeded", succeeded, err);

	json_decref(root);
	return ok;
}

char *mb_req_watch(const char *prefix, int64_t start_revision)
{
	json_t *create = range_of(prefix);

	json_object_set_new(create, "start_revision", int_string(start_revision));
	return dump(json_pack("{s:o}", "create_request", create));
}

bool mb_parse_version(const char *body, size_t len, char *version, size_t size, MbErr *err)
{
	json_t *root = load(body, len, err), *v;
	bool ok = false;

	if (root == NULL)
		goto out;
	v = json_object_get(root, "etcdserver");
	if (!json_is_string(v)) {
		mb_err(err, "bad JSON from the lock server: no etcdserver version");
		goto out;
	}
	snprintf(version, size, "%s", json_string_value(v));
	ok = true;
out:
	json_decref(root);
	return ok;
}
