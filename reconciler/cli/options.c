/*
 * options.c - the option-table parser behind every command: long and
 * short options, values, flags, counts and durations, refused options
 * with their reason, "did you mean", and --help drawn from the same
 * tables.  See options.h.
 */
#include "util/common.h"
#include "cli/options.h"
#include "util/alloc.h"

static const struct ccai_option *find_long(
	const struct ccai_option *const *tables, const char *name, size_t len)
{
	const struct ccai_option *const *t;
	const struct ccai_option *o;

	for (t = tables; *t; t++)
		for (o = *t; o->type != CCAI_OPT_END; o++)
			if (o->type != CCAI_OPT_GROUP && o->name &&
			    strlen(o->name) == len &&
			    !strncmp(o->name, name, len))
				return o;
	return NULL;
}

static const struct ccai_option *find_short(
	const struct ccai_option *const *tables, char c)
{
	const struct ccai_option *const *t;
	const struct ccai_option *o;

	for (t = tables; *t; t++)
		for (o = *t; o->type != CCAI_OPT_END; o++)
			if (o->short_name == c)
				return o;
	return NULL;
}

static int unknown(const struct ccai_option *const *tables, const char *arg,
		   struct ccai_error *err)
{
	const struct ccai_option *const *t;
	const struct ccai_option *o;
	struct ccai_strlist names = CCAI_STRLIST_INIT;
	const char *name = arg + strspn(arg, "-");
	char key[128];
	const char *s;
	size_t n = strcspn(name, "=");
	int r;

	snprintf(key, sizeof(key), "%.*s", (int)CCAI_MIN(n, 127), name);
	for (t = tables; *t; t++)
		for (o = *t; o->type != CCAI_OPT_END; o++)
			if (o->name && o->type != CCAI_OPT_GROUP &&
			    o->type != CCAI_OPT_REFUSED)
				ccai_strlist_add(&names, o->name);
	s = ccai_str_suggest(key, (const char *const *)names.items, names.n);
	if (s)
		r = ccai_error_set(err, CCAI_EINVALID,
				   "unknown option '%s' (did you mean '--%s'?)",
				   arg, s);
	else
		r = ccai_error_set(err, CCAI_EINVALID, "unknown option '%s'",
				   arg);
	ccai_strlist_release(&names);
	return r;
}

static int refused(const struct ccai_option *o, const char *arg,
		   struct ccai_error *err)
{
	return ccai_error_set(err, CCAI_EINVALID, "option '%s' %s", arg,
			      o->help);
}

/* The tables' positional-argument entry (ARGS, or a nameless REFUSED). */
static const struct ccai_option *find_args(
	const struct ccai_option *const *tables)
{
	const struct ccai_option *const *t;
	const struct ccai_option *o;

	for (t = tables; *t; t++)
		for (o = *t; o->type != CCAI_OPT_END; o++)
			if (o->type == CCAI_OPT_ARGS ||
			    (o->type == CCAI_OPT_REFUSED && !o->name))
				return o;
	return NULL;
}

/* A positional argument: to the table's list, or refused. */
static int positional(const struct ccai_option *const *tables, const char *arg,
		      struct ccai_error *err)
{
	const struct ccai_option *o = find_args(tables);

	if (!o)
		return ccai_error_set(err, CCAI_EINVALID,
				      "unexpected argument '%s'", arg);
	if (o->type == CCAI_OPT_REFUSED)
		return ccai_error_set(err, CCAI_EINVALID, "%s: drop '%s'",
				      o->help, arg);
	ccai_strlist_add((struct ccai_strlist *)o->dest, arg);
	return 0;
}

static int store(const struct ccai_option *o, const char *value,
		 struct ccai_error *err)
{
	long long v;

	switch (o->type) {
	case CCAI_OPT_STRING:
		*(const char **)o->dest = value;
		return 0;
	case CCAI_OPT_LIST:
		ccai_strlist_add((struct ccai_strlist *)o->dest, value);
		return 0;
	case CCAI_OPT_INT:
		if (ccai_parse_int(value, &v) < 0 || v < 0)
			return ccai_error_set(
				err, CCAI_EINVALID,
				"option '--%s' wants a number, not '%s'",
				o->name, value);
		*(long long *)o->dest = v;
		return 0;
	case CCAI_OPT_DURATION:
		if (ccai_parse_duration_ms(value, &v) < 0)
			return ccai_error_set(
				err, CCAI_EINVALID,
				"option '--%s' wants a duration such as '30s' "
				"or '250ms', not '%s'",
				o->name, value);
		*(long long *)o->dest = v;
		return 0;
	default:
		return ccai_error_set(err, CCAI_EINVALID,
				      "option '--%s' takes no value", o->name);
	}
}

static bool takes_value(const struct ccai_option *o)
{
	return o->type == CCAI_OPT_STRING || o->type == CCAI_OPT_LIST ||
	       o->type == CCAI_OPT_INT || o->type == CCAI_OPT_DURATION;
}

static void set_flag(const struct ccai_option *o)
{
	if (o->type == CCAI_OPT_FLAG)
		*(bool *)o->dest = true;
	else
		(*(int *)o->dest)++;
}

int ccai_opts_parse(int argc, char **argv,
		    const struct ccai_option *const *tables, bool *help,
		    struct ccai_error *err)
{
	bool only_pos = false;
	int i;

	*help = false;
	for (i = 0; i < argc; i++) {
		const char *a = argv[i];
		const struct ccai_option *o;

		if (only_pos || a[0] != '-' || !a[1]) {
			if (positional(tables, a, err) < 0)
				return CCAI_EINVALID;
			continue;
		}
		if (!strcmp(a, "--")) {
			only_pos = true;
			continue;
		}
		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			*help = true;
			continue;
		}
		if (a[1] == '-') {
			const char *name = a + 2, *eq = strchr(name, '=');
			size_t len = eq ? (size_t)(eq - name) : strlen(name);

			o = find_long(tables, name, len);
			if (!o)
				return unknown(tables, a, err);
			if (o->type == CCAI_OPT_REFUSED)
				return refused(o, a, err);
			if (!takes_value(o)) {
				if (eq)
					return ccai_error_set(
						err, CCAI_EINVALID,
						"option '--%s' takes no value",
						o->name);
				set_flag(o);
				continue;
			}
			if (eq) {
				if (store(o, eq + 1, err) < 0)
					return CCAI_EINVALID;
				continue;
			}
		} else {
			const char *p;

			/* -vv, or -f VALUE, or -fVALUE */
			for (p = a + 1; *p; p++) {
				o = find_short(tables, *p);
				if (!o)
					return unknown(tables, a, err);
				if (o->type == CCAI_OPT_REFUSED)
					return refused(o, a, err);
				if (takes_value(o))
					break;
				set_flag(o);
			}
			if (!*p)
				continue;
			if (p[1]) {
				if (store(o, p + 1, err) < 0)
					return CCAI_EINVALID;
				continue;
			}
		}
		if (i + 1 >= argc)
			return ccai_error_set(err, CCAI_EINVALID,
					      "option '--%s' needs a value",
					      o->name);
		if (store(o, argv[++i], err) < 0)
			return CCAI_EINVALID;
	}
	return 0;
}

/* One line of --help: "  -f, --file PATH   help". */
static void usage_line(FILE *f, const struct ccai_option *o)
{
	char left[64];

	if (o->type == CCAI_OPT_ARGS)
		snprintf(left, sizeof(left), "%s", o->argname);
	else if (o->short_name)
		snprintf(left, sizeof(left), "-%c, --%s%s%s", o->short_name,
			 o->name, o->argname ? " " : "",
			 o->argname ? o->argname : "");
	else
		snprintf(left, sizeof(left), "    --%s%s%s", o->name,
			 o->argname ? " " : "", o->argname ? o->argname : "");
	fprintf(f, "  %-28s %s\n", left, o->help);
}

void ccai_opts_usage(FILE *f, const char *usage, const char *description,
		     const struct ccai_option *const *tables)
{
	const struct ccai_option *const *t;
	const struct ccai_option *o, *args = find_args(tables);
	bool heading = false;

	fprintf(f, "usage: %s\n", usage);
	if (description)
		fprintf(f, "\n%s\n", description);
	if (args && args->type == CCAI_OPT_ARGS) {
		fprintf(f, "\narguments:\n");
		usage_line(f, args);
	}
	for (t = tables; *t; t++) {
		for (o = *t; o->type != CCAI_OPT_END; o++) {
			if (o->type == CCAI_OPT_REFUSED ||
			    o->type == CCAI_OPT_ARGS)
				continue;
			if (o->type == CCAI_OPT_GROUP) {
				fprintf(f, "\n%s\n", o->help);
				heading = true;
				continue;
			}
			/* the command's own options, before any group */
			if (!heading) {
				fprintf(f, "\noptions:\n");
				heading = true;
			}
			usage_line(f, o);
		}
	}
}
