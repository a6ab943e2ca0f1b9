/*
 * qadmin_json.c - the pure parts of postern queue (see qadmin.h): its command line, the JSON line of
 * one message (Postfix's postqueue -j fields), and delete's selection; and the JSON listing, which
 * the front door's mailq --json shares with postern queue list (here, not in qadmin.c: that one
 * becomes the postern user through the runner, which the front door must not link).
 */
#include "queue/run/qadmin.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sysexits.h>

#include "lib/text.h"

static const struct {
	const char *name;
	enum qa_op op;
} ops[] = {
	{ "show", QA_SHOW }, { "delete", QA_DELETE }, { "hold", QA_HOLD }, { "release", QA_RELEASE },
	{ "requeue", QA_REQUEUE }, { "list", QA_LIST },
	/* postsuper's letters */
	{ "-d", QA_DELETE }, { "-h", QA_HOLD }, { "-H", QA_RELEASE }, { "-r", QA_REQUEUE },
};

/* take_ids - the rest of argv are queue ids, at least one. */
static int take_ids(int argc, char *const *argv, int i, struct qa_cmd *c, struct err *e)
{
	int k;

	if (i >= argc)
		return err_set(e, EX_USAGE, "queue %s: no queue id given", argv[1]);
	if (argc - i > QA_MAX_IDS)
		return err_set(e, EX_USAGE, "queue %s: more than %d ids", argv[1], QA_MAX_IDS);
	for (k = i; k < argc; k++)
		if (!env_id_valid(argv[k], strlen(argv[k])))
			return err_set(e, EX_USAGE, "queue %s: \"%.64s\" is not a queue id", argv[1], argv[k]);
	c->ids = argv + i;
	c->nids = (size_t)(argc - i);
	return 0;
}

/* parse_delete - delete ID... | --all | --sender ADDR | --recipient ADDR (one selection). */
static int parse_delete(int argc, char *const *argv, struct qa_cmd *c, struct err *e)
{
	if (argc == 3 && strcmp(argv[2], "--all") == 0) {
		c->all = true;
		return 0;
	}
	if (argc >= 3 && (strcmp(argv[2], "--sender") == 0 || strcmp(argv[2], "--recipient") == 0)) {
		if (argc != 4)
			return err_set(e, EX_USAGE, "queue delete: %s takes one address", argv[2]);
		if (strlen(argv[3]) > LIM_PATH || (argv[2][2] == 'r' && argv[3][0] == '\0'))
			return err_set(e, EX_USAGE, "queue delete: %s: bad address", argv[2]);
		if (argv[2][2] == 's')
			c->sender = argv[3];
		else
			c->rcpt = argv[3];
		return 0;
	}
	if (argc >= 3 && argv[2][0] == '-')
		return err_set(e, EX_USAGE, "queue delete: unknown option \"%.32s\"", argv[2]);
	return take_ids(argc, argv, 2, c, e);
}

/* qadmin_parse - see qadmin.h */
int qadmin_parse(int argc, char *const *argv, struct qa_cmd *c, struct err *e)
{
	size_t k;
	int i = 2;

	memset(c, 0, sizeof *c);
	if (argc < 2)
		return err_set(e, EX_USAGE, "queue: no subcommand (show, delete, hold, release, requeue, list)");
	for (k = 0; k < sizeof ops / sizeof ops[0] && strcmp(argv[1], ops[k].name) != 0; k++)
		;
	if (k == sizeof ops / sizeof ops[0])
		return err_set(e, EX_USAGE, "queue: unknown subcommand \"%.32s\"", argv[1]);
	c->op = ops[k].op;
	switch (c->op) {
	case QA_LIST:
		if (argc != 3 || strcmp(argv[2], "--json") != 0)
			return err_set(e, EX_USAGE, "queue list: usage: postern queue list --json");
		c->json = true;
		return 0;
	case QA_DELETE:
		return parse_delete(argc, argv, c, e);
	case QA_SHOW:
		if (argc > 2 && strcmp(argv[2], "-b") == 0) {
			c->body = true;
			i++;
		}
		break;
	default:
		break;
	}
	if (i < argc && argv[i][0] == '-')
		return err_set(e, EX_USAGE, "queue %s: unknown option \"%.32s\"", argv[1], argv[i]);
	return take_ids(argc, argv, i, c, e);
}

/* qadmin_json - see qadmin.h */
int qadmin_json(const struct envelope *env, bool locked, struct buf *out)
{
	const char *qn = env->held ? "hold" : locked ? "active" : env->attempts == 0 ? "incoming" : "deferred";
	bool first = true;
	int bad = 0;
	size_t i;

	bad |= buf_printf(out, "{\"queue_name\": \"%s\", \"queue_id\": ", qn);
	bad |= text_json_add(out, env->id, strlen(env->id));
	bad |= buf_printf(out, ", \"arrival_time\": %lld, \"message_size\": %lld, \"forced_expire\": false, "
			  "\"sender\": ", env->arrival, env->size);
	bad |= text_json_add(out, env->sender, strlen(env->sender));
	bad |= buf_adds(out, ", \"recipients\": [");
	for (i = 0; i < env->nrcpt; i++) {
		const struct env_rcpt *r = &env->rcpt[i];

		if (r->state != RCPT_PENDING)
			continue;
		bad |= buf_adds(out, first ? "{\"address\": " : ", {\"address\": ");
		first = false;
		bad |= text_json_add(out, r->addr, strlen(r->addr));
		if (r->diag != NULL && r->diag[0] != '\0') {
			bad |= buf_adds(out, ", \"delay_reason\": ");
			bad |= text_json_add(out, r->diag, strlen(r->diag));
		}
		bad |= buf_addc(out, '}');
	}
	bad |= buf_printf(out, "], \"held\": %s, \"forced\": %s}\n", env->held ? "true" : "false",
			  env->attempts > 0 && env->next_try == 0 ? "true" : "false");
	return bad ? -1 : 0;
}

/* qadmin_matches - see qadmin.h */
bool qadmin_matches(const struct qa_cmd *c, const struct envelope *env)
{
	size_t i;

	if (c->all)
		return true;
	if (c->sender != NULL)
		return strcasecmp(env->sender, strcmp(c->sender, "<>") == 0 ? "" : c->sender) == 0;
	if (c->rcpt != NULL)
		for (i = 0; i < env->nrcpt; i++)
			if (strcasecmp(env->rcpt[i].addr, c->rcpt) == 0)
				return true;
	return false;
}

/* qadmin_list_json - see qadmin.h */
int qadmin_list_json(struct spool *s, FILE *out, struct err *e)
{
	struct spool_entry *v;
	struct envelope env;
	struct buf b;
	struct err e2;
	size_t n, i;
	int rc = 0;

	if (spool_scan(s, &v, &n, e) < 0)
		return -1;
	buf_init(&b, (size_t)LIM_RCPTS * (6 * LIM_PATH + 6 * ENV_MAX_DIAG + 64) + 4096);
	for (i = 0; i < n && rc == 0; i++) {
		err_clear(&e2);
		if (v[i].state == SPOOL_NEW && spool_committing(s, v[i].id) == 1)
			continue;
		if (spool_read_env(s, v[i].id, &env, &e2) != 1)
			continue;
		buf_reset(&b);
		if (qadmin_json(&env, spool_is_locked(s, v[i].id) == 1, &b) < 0)
			rc = err_set(e, EX_TEMPFAIL, "mailq: %s: too large", v[i].id);
		else if (fwrite(b.data, 1, b.len, out) != b.len)
			rc = errno == EPIPE ? 1 : err_set(e, EX_IOERR, "mailq: write error: %s", strerror(errno));
		env_free(&env);
	}
	buf_free(&b);
	free(v);
	return rc < 0 ? -1 : 0;
}
