/*
 * test_watch_deploy.c - examples/deploy/ is documentation, but it must
 * stay true: the Kubernetes files parse (with ccaictl's own YAML loader),
 * hang together (names, ports, probes, volumes), and every option they
 * and the systemd unit pass to `ccaictl watch` is one it knows.
 */
#include "util/common.h"
#include "testutil.h"
#include "manifest/source.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/str.h"

struct k8s {
	struct ccai_source src;
	struct ccai_diag diag;
	char *dir;
};

static void load(struct k8s *k)
{
	size_t i;

	k->dir = ccai_test_srcpath("examples/deploy/kubernetes");
	ccai_source_init(&k->src, NULL);
	memset(&k->diag, 0, sizeof(k->diag));
	assert_int_equal(ccai_source_add_path(&k->src, k->dir, &k->diag), 0);
	for (i = 0; i < k->diag.n; i++)
		fail_msg("%s:%d: %s", k->diag.items[i].file,
			 k->diag.items[i].line, k->diag.items[i].message);
}

static void unload(struct k8s *k)
{
	ccai_source_release(&k->src);
	ccai_diag_release(&k->diag);
	free(k->dir);
}

/* The document of kind (and name, if given); fails when absent. */
static const cJSON *doc(const struct k8s *k, const char *kind, const char *name)
{
	size_t i;

	for (i = 0; i < k->src.ndocs; i++) {
		const cJSON *d = k->src.docs[i].root;
		const char *dk = ccai_json_str(d, "kind");
		const char *dn =
			ccai_json_str(ccai_json_path(d, "metadata"), "name");

		if (dk && !strcmp(dk, kind) &&
		    (!name || (dn && !strcmp(dn, name))))
			return d;
	}
	fail_msg("no %s%s%s in examples/deploy/kubernetes", kind,
		 name ? "/" : "", name ? name : "");
	return NULL;
}

/* The value of --name=value in args, or NULL. */
static const char *arg(const cJSON *args, const char *name)
{
	const cJSON *a;
	size_t n = strlen(name);

	cJSON_ArrayForEach(a, args) {
		if (cJSON_IsString(a) && !strncmp(a->valuestring, name, n) &&
		    a->valuestring[n] == '=')
			return a->valuestring + n + 1;
	}
	return NULL;
}

/* `ccaictl watch --help` mentions "--name " for every option it has. */
static void known_option(const char *help, const char *opt)
{
	char *want = ccai_xasprintf("%.*s ", (int)strcspn(opt, "= "), opt);

	if (!strstr(help, want))
		fail_msg("'ccaictl watch' has no option '%s'", opt);
	free(want);
}

static char *watch_help(void)
{
	struct ccai_test_proc p;
	char *argv[] = { (char *)NULL, (char[]){ "watch" },
			 (char[]){ "--help" }, NULL };
	char *out;

	argv[0] = ccai_xstrdup(ccai_test_ccaictl());
	assert_int_equal(ccai_test_run(&p, argv, NULL), 0);
	assert_int_equal(p.status, 0);
	out = ccai_xstrdup(p.out.ptr);
	ccai_test_proc_release(&p);
	free(argv[0]);
	return out;
}

static void test_watch_deploy__kubernetes_files_hang_together(void **state)
{
	struct k8s k;
	const cJSON *sa, *dep, *pvc, *vars, *signers, *kust, *c, *v, *a;
	const char *gsa, *listen;
	char *help = watch_help();
	size_t i, files = 0;

	(void)state;
	load(&k);
	for (i = 0; i < k.src.ndocs; i++) {
		const cJSON *d = k.src.docs[i].root;

		assert_non_null(ccai_json_str(d, "apiVersion"));
		assert_non_null(ccai_json_str(d, "kind"));
		if (strcmp(ccai_json_str(d, "kind"), "Kustomization"))
			assert_non_null(ccai_json_str(
				ccai_json_path(d, "metadata"), "name"));
	}

	/* workload identity: the pod runs as the annotated ServiceAccount */
	sa = doc(&k, "ServiceAccount", "ccaictl-watch");
	gsa = ccai_json_str(ccai_json_path(sa, "metadata.annotations"),
			    "iam.gke.io/gcp-service-account");
	assert_non_null(gsa);
	assert_true(ccai_str_ends_with(gsa, ".iam.gserviceaccount.com"));
	dep = doc(&k, "Deployment", "ccaictl-watch");
	assert_string_equal(
		ccai_json_str(ccai_json_path(dep, "spec.template.spec"),
			      "serviceAccountName"),
		"ccaictl-watch");
	assert_int_equal(
		ccai_json_num(ccai_json_path(dep, "spec"), "replicas", 0), 1);
	assert_string_equal(
		ccai_json_str(ccai_json_path(dep, "spec.strategy"), "type"),
		"Recreate");

	/* the container runs `ccaictl watch` with options it knows */
	c = cJSON_GetArrayItem(
		ccai_json_path(dep, "spec.template.spec.containers"), 0);
	assert_non_null(c);
	a = ccai_json_path(c, "args");
	assert_string_equal(cJSON_GetArrayItem(a, 0)->valuestring, "watch");
	for (i = 1; i < (size_t)cJSON_GetArraySize(a); i++)
		known_option(help, cJSON_GetArrayItem(a, (int)i)->valuestring);
	assert_non_null(arg(a, "--repo"));
	assert_non_null(arg(a, "--ref"));

	/* probes on the status server's paths and port */
	listen = arg(a, "--listen");
	assert_non_null(listen);
	assert_string_equal(
		ccai_json_str(ccai_json_path(c, "livenessProbe.httpGet"),
			      "path"),
		"/healthz");
	assert_string_equal(
		ccai_json_str(ccai_json_path(c, "readinessProbe.httpGet"),
			      "path"),
		"/readyz");
	v = cJSON_GetArrayItem(ccai_json_path(c, "ports"), 0);
	assert_string_equal(
		ccai_json_str(ccai_json_path(c, "livenessProbe.httpGet"),
			      "port"),
		ccai_json_str(v, "name"));
	{
		char port[16];

		snprintf(port, sizeof(port), ":%d",
			 (int)ccai_json_num(v, "containerPort", 0));
		assert_true(ccai_str_ends_with(listen, port));
	}
	/* a pass may take --timeout (30m): let SIGTERM finish it */
	assert_true(ccai_json_num(ccai_json_path(dep, "spec.template.spec"),
				  "terminationGracePeriodSeconds", 0) >= 1800);

	/* volumes: the PVC and the ConfigMaps exist, the files are mounted */
	pvc = doc(&k, "PersistentVolumeClaim", NULL);
	vars = doc(&k, "ConfigMap", "ccaictl-vars");
	signers = doc(&k, "ConfigMap", "ccaictl-signers");
	assert_non_null(
		ccai_json_str(ccai_json_path(vars, "data"), "vars.yaml"));
	assert_non_null(ccai_json_str(ccai_json_path(signers, "data"),
				      "allowed_signers"));
	cJSON_ArrayForEach(v,
			   ccai_json_path(dep, "spec.template.spec.volumes")) {
		const char *claim = ccai_json_str(
			ccai_json_path(v, "persistentVolumeClaim"),
			"claimName");
		const char *cm =
			ccai_json_str(ccai_json_path(v, "configMap"), "name");

		if (claim)
			assert_string_equal(
				claim,
				ccai_json_str(ccai_json_path(pvc, "metadata"),
					      "name"));
		if (cm)
			doc(&k, "ConfigMap", cm);
	}
	assert_string_equal(arg(a, "--var-file"),
			    "/etc/ccaictl/vars/vars.yaml");
	assert_true(
		ccai_str_starts_with(arg(a, "--state"), "/var/lib/ccaictl/"));
	assert_true(
		ccai_str_starts_with(arg(a, "--cache"), "/var/lib/ccaictl/"));

	/* the kustomization lists every other file of the folder */
	kust = doc(&k, "Kustomization", NULL);
	for (i = 0; i < k.src.ndocs; i++) {
		const char *f = strrchr(k.src.docs[i].file, '/') + 1;
		bool listed = !strcmp(f, "kustomization.yaml");

		cJSON_ArrayForEach(v, ccai_json_path(kust, "resources"))
			listed = listed || !strcmp(v->valuestring, f);
		if (!listed)
			fail_msg("kustomization.yaml does not list %s", f);
		files++;
	}
	assert_true(files >= 6);
	free(help);
	unload(&k);
}

static void test_watch_deploy__systemd_unit(void **state)
{
	struct ccai_buf unit = CCAI_BUF_INIT;
	char *path = ccai_test_srcpath(
		"examples/deploy/systemd/ccaictl-watch.service");
	char *env_path =
		ccai_test_srcpath("examples/deploy/systemd/ccaictl-watch.env");
	struct ccai_buf env = CCAI_BUF_INIT;
	char *help = watch_help();
	const char *p, *end;

	(void)state;
	assert_int_equal(ccai_file_read(&unit, path, 1 << 20, NULL), 0);
	assert_non_null(strstr(unit.ptr, "\nExecStart=/usr/local/bin/ccaictl "
					 "watch \\\n"));
	assert_non_null(strstr(unit.ptr, "\nKillSignal=SIGTERM\n"));
	assert_non_null(strstr(unit.ptr, "\nEnvironmentFile=/etc/ccaictl/"
					 "watch.env\n"));
	/* every option on ExecStart's lines is one `ccaictl watch` has */
	p = strstr(unit.ptr, "ExecStart=");
	end = strstr(p, "--log-format json\n");
	assert_non_null(end);
	while ((p = strstr(p, " --")) && p < end) {
		char opt[64];

		snprintf(opt, sizeof(opt), "%.*s", (int)strcspn(p + 1, " \n"),
			 p + 1);
		known_option(help, opt);
		p += 3;
	}
	/*
	 * the directories systemd makes are named with specifiers it always
	 * resolves (%S = /var/lib, %C = /var/cache), and every ${VAR} on
	 * ExecStart is one the EnvironmentFile sets: systemd expands an
	 * unknown one to "" without a word
	 */
	assert_non_null(strstr(unit.ptr, "\nStateDirectory=ccaictl\n"));
	assert_non_null(strstr(unit.ptr, "\nCacheDirectory=ccaictl\n"));
	assert_non_null(strstr(unit.ptr, "\t--state %S/ccaictl/"));
	assert_non_null(strstr(unit.ptr, "\t--cache %C/ccaictl/"));
	assert_int_equal(ccai_file_read(&env, env_path, 1 << 20, NULL), 0);
	for (p = strstr(unit.ptr, "ExecStart=");
	     (p = strstr(p, "${")) && p < end; p += 2) {
		char line[80];

		snprintf(line, sizeof(line),
			 "\n%.*s=", (int)strcspn(p + 2, "}"), p + 2);
		if (!strstr(env.ptr, line))
			fail_msg("ExecStart uses %.*s, which %s does not set",
				 (int)strlen(line) - 2, line + 1, env_path);
	}
	free(help);
	free(path);
	free(env_path);
	ccai_buf_release(&unit);
	ccai_buf_release(&env);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
			test_watch_deploy__kubernetes_files_hang_together),
		cmocka_unit_test(test_watch_deploy__systemd_unit),
	};

	ccai_alloc_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
