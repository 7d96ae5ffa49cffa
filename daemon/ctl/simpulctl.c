/* simpulctl: the command-line client. It speaks the daemon's JSON API over
 * the unix socket named by [http] socket in the config; the socket's file
 * permissions decide who may use it. */
#include <curl/curl.h>
#include <getopt.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <limits.h>
#include <libgen.h>
#include <sys/wait.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "simpul-config.h"
#include "config.h"
#include "diag.h"

struct buf {
	char *data;
	size_t len;
};

static size_t collect(char *p, size_t size, size_t n, void *arg)
{
	struct buf *b = arg;
	char *d = realloc(b->data, b->len + size * n + 1);

	if (!d)
		return 0;
	memcpy(d + b->len, p, size * n);
	b->data = d;
	b->len += size * n;
	b->data[b->len] = '\0';
	return size * n;
}

/* One request; returns the HTTP status (0 if the daemon is unreachable)
 * and the body in *out. */
static long request(const char *sock, const char *method, const char *path,
		    const char *body, char **out)
{
	CURL *c = curl_easy_init();
	struct buf b = {0};
	char url[512];
	long status = 0;
	struct curl_slist *h =
	    curl_slist_append(NULL, "Content-Type: application/json");

	snprintf(url, sizeof(url), "http://localhost%s", path);
	curl_easy_setopt(c, CURLOPT_UNIX_SOCKET_PATH, sock);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
	if (body)
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	CURLcode rc = curl_easy_perform(c);
	if (rc == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	else
		fprintf(stderr,
			"simpulctl: cannot reach simpuld at %s: %s\n"
			"  Is simpuld running? (systemctl status simpul)\n",
			sock, curl_easy_strerror(rc));
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	*out = b.data ? b.data : strdup("");
	return status;
}

static int fail_body(long status, const char *body)
{
	json_t *j = json_loads(body, 0, NULL);
	const char *e = json_string_value(json_object_get(j, "error"));

	if (status)
		fprintf(stderr, "simpulctl: error %ld: %s\n", status,
			e ? e : body);
	json_decref(j);
	return 1;
}

static void print_message(json_t *m)
{
	const char *dir = json_string_value(json_object_get(m, "direction"));

	printf("#%-6lld %-25s %-8s %s %-16s [%s] %s\n",
	       (long long)json_integer_value(json_object_get(m, "id")),
	       json_string_value(json_object_get(m, "at")),
	       json_string_value(json_object_get(m, "channel")),
	       dir && strcmp(dir, "in") == 0 ? "<-" : "->",
	       json_string_value(json_object_get(m, "peer")),
	       json_string_value(json_object_get(m, "status")),
	       json_string_value(json_object_get(m, "body")));
}

static int print_list(const char *body, bool as_json, const char *key)
{
	json_t *j = json_loads(body, 0, NULL);
	json_t *arr = key ? json_object_get(j, key) : j;
	size_t i;
	json_t *m;

	if (as_json) {
		char *s = json_dumps(j, JSON_INDENT(2));
		puts(s);
		free(s);
	} else if (json_is_array(arr)) {
		json_array_foreach(arr, i, m) print_message(m);
	}
	json_decref(j);
	return 0;
}

static int call(const char *sock, const char *method, const char *path,
		const char *body, bool as_json, const char *list_key)
{
	char *out = NULL;
	long st = request(sock, method, path, body, &out);
	int rc;

	if (st < 200 || st >= 300)
		rc = fail_body(st, out);
	else if (list_key || as_json)
		rc = print_list(out, as_json,
				list_key && *list_key ? list_key : NULL);
	else
		rc = (puts(out), 0);
	free(out);
	return rc;
}

static void usage(FILE *f)
{
	fprintf(
	    f,
	    "usage: simpulctl [-c FILE] COMMAND ...\n"
	    "       simpulctl -h|--help, -V|--version\n"
	    "  -c FILE                        configuration (default\n"
	    "                                 " SIMPUL_SYSCONFDIR
	    "/simpul.ini)\n"
	    "  inbox [--json] [--limit N]     newest messages first\n"
	    "  show CONVERSATION [--json]     one conversation\n"
	    "  send --channel sms|whatsapp --to NUMBER TEXT\n"
	    "  reply CONVERSATION TEXT        on the resident's channel\n"
	    "  status                         daemon, modem and queue\n"
	    "  rules check                    validate rules.d\n"
	    "  rules test [--channel C] [--from N] [--at \"YYYY-MM-DD "
	    "HH:MM\"] TEXT\n"
	    "                                 dry run: which rule, which "
	    "reply\n"
	    "  rt request CONVERSATION [--service S]\n"
	    "                                 ask the resident's Ketua RT "
	    "to confirm\n"
	    "  rt list [--all] [--json]       RT confirmation requests\n"
	    "  user add NAME [--role staff|admin] [--replace]\n"
	    "                                 a web inbox user; the "
	    "password from\n"
	    "                                 the terminal (twice) or "
	    "stdin\n"
	    "  user list | disable NAME | delete NAME\n"
	    "                                 web inbox users; a new "
	    "password,\n"
	    "                                 disable and delete end their "
	    "sessions\n"
	    "  doctor [--json]                check modem, SIM, clock, disk,\n"
	    "                                 database, settings; exit 1 on "
	    "a problem\n"
	    "  backup FILE                    online copy of the database "
	    "(written\n"
	    "                                 by simpuld, mode 0600)\n"
	    "exit status: 0 on success, 1 on an error reported or found, "
	    "2 on a\nusage error (simpulctl(1))\n");
}

static char *json_body(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	json_t *j = json_vpack_ex(NULL, 0, fmt, ap);
	va_end(ap);
	char *s = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	return s;
}

static int cmd_inbox(const char *sock, int argc, char **argv)
{
	bool as_json = false;
	int limit = 100;
	char path[128];

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			as_json = true;
		else if (strcmp(argv[i], "--limit") == 0 && i + 1 < argc)
			limit = atoi(argv[++i]);
	}
	snprintf(path, sizeof(path), "/api/v1/messages?limit=%d", limit);
	return call(sock, "GET", path, NULL, as_json, "");
}

static int cmd_show(const char *sock, int argc, char **argv)
{
	char path[128];

	if (argc < 2)
		return usage(stderr), 2;
	bool as_json = argc > 2 && strcmp(argv[2], "--json") == 0;
	snprintf(path, sizeof(path), "/api/v1/conversations/%lld",
		 atoll(argv[1]));
	return call(sock, "GET", path, NULL, as_json,
		    as_json ? NULL : "messages");
}

static int cmd_send(const char *sock, int argc, char **argv)
{
	const char *channel = "sms", *to = NULL, *text = NULL;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--channel") == 0 && i + 1 < argc)
			channel = argv[++i];
		else if (strcmp(argv[i], "--to") == 0 && i + 1 < argc)
			to = argv[++i];
		else
			text = argv[i];
	}
	if (!to || !text)
		return usage(stderr), 2;
	char *b =
	    json_body("{ss ss ss}", "channel", channel, "to", to, "text", text);
	int rc = call(sock, "POST", "/api/v1/messages", b, false, NULL);
	free(b);
	return rc;
}

static int cmd_reply(const char *sock, int argc, char **argv)
{
	char path[128];

	if (argc < 3)
		return usage(stderr), 2;
	snprintf(path, sizeof(path), "/api/v1/conversations/%lld/reply",
		 atoll(argv[1]));
	char *b = json_body("{ss}", "text", argv[2]);
	int rc = call(sock, "POST", path, b, false, NULL);
	free(b);
	return rc;
}

static int cmd_status(const char *sock, int argc, char **argv)
{
	return call(sock, "GET", "/api/v1/status", NULL, true, NULL);
}

/* rules check: every error and warning of rules.d, as simpuld would load
 * it now; exit 1 on errors. */
static int rules_check(const char *sock)
{
	char *out = NULL;
	long st = request(sock, "GET", "/api/v1/rules/check", NULL, &out);
	json_t *j = json_loads(out, 0, NULL);
	size_t i;
	json_t *line;
	int rc = 1;

	if (st != 200 || !j) {
		rc = fail_body(st, out);
	} else {
		json_array_foreach(json_object_get(j, "messages"), i, line)
		    fprintf(stderr, "%s\n", json_string_value(line));
		rc = json_is_true(json_object_get(j, "ok")) ? 0 : 1;
		if (!rc)
			printf("rules ok: %lld rules\n",
			       (long long)json_integer_value(
				   json_object_get(j, "rules")));
	}
	json_decref(j);
	free(out);
	return rc;
}

/* rules test --channel sms --from N --at "YYYY-MM-DD HH:MM" TEXT */
static int rules_test(const char *sock, int argc, char **argv)
{
	const char *channel = "sms", *from = "081234567890", *at = NULL,
		   *text = NULL;

	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--channel") == 0 && i + 1 < argc)
			channel = argv[++i];
		else if (strcmp(argv[i], "--from") == 0 && i + 1 < argc)
			from = argv[++i];
		else if (strcmp(argv[i], "--at") == 0 && i + 1 < argc)
			at = argv[++i];
		else
			text = argv[i];
	}
	if (!text)
		return usage(stderr), 2;
	char *b = at ? json_body("{ss ss ss ss}", "channel", channel, "from",
				 from, "at", at, "text", text)
		     : json_body("{ss ss ss}", "channel", channel, "from", from,
				 "text", text);
	char *out = NULL;
	long st = request(sock, "POST", "/api/v1/rules/test", b, &out);
	int rc = st == 200 ? (fputs(out, stdout), 0) : fail_body(st, out);
	free(out);
	free(b);
	return rc;
}

static int cmd_rules(const char *sock, int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "check") == 0)
		return rules_check(sock);
	if (argc >= 2 && strcmp(argv[1], "test") == 0)
		return rules_test(sock, argc, argv);
	return usage(stderr), 2;
}

/* One line from stdin; without echo when it is a terminal. */
static int read_password(const char *prompt, char *out, size_t outlen)
{
	struct termios old, quiet;
	bool tty = isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &old) == 0;

	if (tty) {
		fprintf(stderr, "%s", prompt);
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
	}
	char *r = fgets(out, (int)outlen, stdin);
	if (tty) {
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
		fputc('\n', stderr);
	}
	if (!r)
		return -1;
	out[strcspn(out, "\r\n")] = '\0';
	return 0;
}

/* user add NAME --role staff|admin [--replace] | list | disable NAME |
 * delete NAME: /api/v1/users over the socket (the daemon owns the
 * database). A new password, disable and delete end the user's sessions. */
static int cmd_user(const char *sock, int argc, char **argv)
{
	const char *name = NULL, *role = "staff";
	bool replace = false;
	char pw[256], again[256];

	if (argc >= 2 && strcmp(argv[1], "list") == 0)
		return call(sock, "GET", "/api/v1/users?all=1", NULL, true,
			    NULL);
	if (argc == 3 && (strcmp(argv[1], "disable") == 0 ||
			  strcmp(argv[1], "delete") == 0)) {
		char *b =
		    json_body("{ss ss}", "name", argv[2], "action", argv[1]);
		int rc = call(sock, "POST", "/api/v1/users", b, false, NULL);
		free(b);
		return rc;
	}
	if (argc < 3 || strcmp(argv[1], "add") != 0)
		return usage(stderr), 2;
	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--role") == 0 && i + 1 < argc)
			role = argv[++i];
		else if (strcmp(argv[i], "--replace") == 0)
			replace = true;
		else
			name = argv[i];
	}
	if (!name)
		return usage(stderr), 2;
	if (read_password("Kata sandi: ", pw, sizeof(pw))) {
		fprintf(stderr, "simpulctl: no password given on stdin\n");
		return 1;
	}
	if (isatty(STDIN_FILENO) &&
	    (read_password("Ulangi kata sandi: ", again, sizeof(again)) ||
	     strcmp(pw, again) != 0)) {
		fprintf(stderr, "simpulctl: the passwords differ\n");
		return 1;
	}
	char *b = json_body("{ss ss ss sb}", "name", name, "role", role,
			    "password", pw, "replace", replace);
	int rc = call(sock, "POST", "/api/v1/users", b, false, NULL);
	free(b);
	return rc;
}

/* rt request CONVERSATION [--service S]: asks the Ketua RT. */
static int rt_request_cmd(const char *sock, int argc, char **argv)
{
	const char *service = NULL;
	long long conv = 0;

	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--service") == 0 && i + 1 < argc)
			service = argv[++i];
		else
			conv = atoll(argv[i]);
	}
	if (conv <= 0)
		return usage(stderr), 2;
	char *b = service ? json_body("{sI ss}", "conversation",
				      (json_int_t)conv, "service", service)
			  : json_body("{sI}", "conversation", (json_int_t)conv);
	char *out = NULL;
	long st = request(sock, "POST", "/api/v1/rt/requests", b, &out);
	json_t *j = json_loads(out, 0, NULL);
	int rc = 0;
	if (st != 201 || !j)
		rc = fail_body(st, out);
	else
		printf("request %lld: code %s sent to Ketua RT %s (%s, %s)\n",
		       (long long)json_integer_value(json_object_get(j, "id")),
		       json_string_value(json_object_get(j, "code")),
		       json_string_value(json_object_get(j, "rt")),
		       json_string_value(json_object_get(j, "head_name")),
		       json_string_value(json_object_get(j, "head_phone")));
	json_decref(j);
	free(out);
	free(b);
	return rc;
}

/* rt list [--all] [--json]: open (or all) requests. */
static int rt_list_cmd(const char *sock, int argc, char **argv)
{
	bool as_json = false, all = false;

	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			as_json = true;
		else if (strcmp(argv[i], "--all") == 0)
			all = true;
	}
	char *out = NULL;
	long st =
	    request(sock, "GET",
		    all ? "/api/v1/rt/requests?all=1" : "/api/v1/rt/requests",
		    NULL, &out);
	json_t *j = json_loads(out, 0, NULL);
	int rc = 0;
	size_t i;
	json_t *r;
	if (st != 200 || !json_is_array(j)) {
		rc = fail_body(st, out);
	} else if (as_json) {
		fputs(out, stdout);
		putchar('\n');
	} else {
		json_array_foreach(j, i, r) printf(
		    "#%-5lld %s %-11s RT %s %-16s conv %-5lld %-10s "
		    "%s\n",
		    (long long)json_integer_value(json_object_get(r, "id")),
		    json_string_value(json_object_get(r, "code")),
		    json_string_value(json_object_get(r, "state")),
		    json_string_value(json_object_get(r, "rt")),
		    json_string_value(json_object_get(r, "head_phone")),
		    (long long)json_integer_value(
			json_object_get(r, "conversation")),
		    json_string_value(json_object_get(r, "service")),
		    json_string_value(json_object_get(r, "created_at")));
	}
	json_decref(j);
	free(out);
	return rc;
}

static int cmd_rt(const char *sock, int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "request") == 0)
		return rt_request_cmd(sock, argc, argv);
	if (argc >= 2 && strcmp(argv[1], "list") == 0)
		return rt_list_cmd(sock, argc, argv);
	return usage(stderr), 2;
}

/* The config check simpuld -n does, run here when the daemon cannot be
 * asked: simpuld sits next to us in a build, in sbindir when installed. */
static int local_config_check(const char *conf)
{
	char self[PATH_MAX], prog[PATH_MAX + 16];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	snprintf(prog, sizeof(prog), "%s/simpuld", SIMPUL_SBINDIR);
	if (n > 0) {
		self[n] = '\0';
		char cand[PATH_MAX + 16];
		snprintf(cand, sizeof(cand), "%s/simpuld", dirname(self));
		if (access(cand, X_OK) == 0)
			snprintf(prog, sizeof(prog), "%s", cand);
	}
	fflush(NULL);
	pid_t pid = fork();
	if (pid == 0) {
		execl(prog, "simpuld", "-n", "-c", conf, (char *)NULL);
		fprintf(stderr, "simpulctl: cannot run %s\n", prog);
		_exit(127);
	}
	int status = 0;
	if (pid < 0 || waitpid(pid, &status, 0) < 0)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static const char *level_word(const char *level)
{
	if (level && strcmp(level, "ok") == 0)
		return "OK";
	if (level && strcmp(level, "warn") == 0)
		return "PERINGATAN";
	return "GAGAL";
}

static void doctor_line(const char *level, const char *name, const char *id,
			const char *en, const char *fix, const char *fix_en)
{
	printf("%-10s %s: %s [%s]", level_word(level), name, id, en);
	if (fix && *fix)
		printf(" -> %s [%s]", fix, fix_en ? fix_en : "");
	putchar('\n');
}

static int doctor_offline(const char *sock, const char *conf)
{
	char what[600];

	snprintf(what, sizeof(what), "simpuld tidak bisa dihubungi di %s",
		 sock);
	doctor_line("fail", "daemon", what, "simpuld is not reachable",
		    "'systemctl status simpul' dan 'journalctl -u simpul'",
		    "'systemctl status simpul' and 'journalctl -u simpul'");
	int rc = local_config_check(conf);
	if (rc == 0)
		doctor_line("ok", "config", "Konfigurasi dan aturan valid",
			    "configuration and rules are valid", NULL, NULL);
	else
		doctor_line("fail", "config",
			    "Konfigurasi/aturan ada kesalahan (lihat di atas)",
			    "errors in configuration/rules (see above)",
			    "perbaiki berkasnya", "fix the files");
	return 1;
}

/* doctor [--json]: one line per check; exit 1 if any failed. */
static int cmd_doctor_at(const char *sock, const char *conf, int argc,
			 char **argv)
{
	bool as_json = argc > 1 && strcmp(argv[1], "--json") == 0;
	char *out = NULL;
	long st = request(sock, "GET", "/api/v1/doctor", NULL, &out);
	json_t *j = st == 200 ? json_loads(out, 0, NULL) : NULL;
	size_t i;
	json_t *c;
	int rc;

	if (st == 0)
		rc = doctor_offline(sock, conf);
	else if (!j)
		rc = fail_body(st, out);
	else if (as_json)
		rc =
		    (puts(out), json_is_true(json_object_get(j, "ok")) ? 0 : 1);
	else {
		json_array_foreach(json_object_get(j, "checks"), i, c)
		    doctor_line(
			json_string_value(json_object_get(c, "level")),
			json_string_value(json_object_get(c, "name")),
			json_string_value(json_object_get(c, "text_id")),
			json_string_value(json_object_get(c, "text_en")),
			json_string_value(json_object_get(c, "fix")),
			json_string_value(json_object_get(c, "fix_en")));
		rc = json_is_true(json_object_get(j, "ok")) ? 0 : 1;
	}
	json_decref(j);
	free(out);
	return rc;
}

static const char *conf_path; /* for commands that need the file itself */

static int cmd_doctor(const char *sock, int argc, char **argv)
{
	return cmd_doctor_at(sock, conf_path, argc, argv);
}

/* backup FILE: simpuld writes the copy (it owns the database), so a
 * relative name is made absolute here, against our directory. */
static int cmd_backup(const char *sock, int argc, char **argv)
{
	char abs[PATH_MAX + 256], cwd[PATH_MAX];

	if (argc < 2)
		return usage(stderr), 2;
	if (argv[1][0] == '/')
		snprintf(abs, sizeof(abs), "%s", argv[1]);
	else if (getcwd(cwd, sizeof(cwd)))
		snprintf(abs, sizeof(abs), "%s/%s", cwd, argv[1]);
	else
		return fprintf(stderr, "simpulctl: getcwd failed\n"), 1;
	char *b = json_body("{ss}", "path", abs);
	char *out = NULL;
	long st = request(sock, "POST", "/api/v1/backup", b, &out);
	json_t *j = json_loads(out, 0, NULL);
	int rc = 0;
	if (st != 200 || !j)
		rc = fail_body(st, out);
	else
		printf(
		    "cadangan tersimpan / backup written: %s (%lld bytes)\n",
		    json_string_value(json_object_get(j, "path")),
		    (long long)json_integer_value(json_object_get(j, "bytes")));
	json_decref(j);
	free(out);
	free(b);
	return rc;
}

static const struct {
	const char *name;
	int (*fn)(const char *sock, int argc, char **argv);
} commands[] = {
    {"inbox", cmd_inbox},   {"show", cmd_show},	    {"send", cmd_send},
    {"reply", cmd_reply},   {"status", cmd_status}, {"user", cmd_user},
    {"rules", cmd_rules},   {"rt", cmd_rt},	    {"doctor", cmd_doctor},
    {"backup", cmd_backup},
};

int main(int argc, char **argv)
{
	const char *path = SIMPUL_SYSCONFDIR "/simpul.ini";
	int opt;

	static const struct option longopts[] = {
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},
	    {NULL, 0, NULL, 0},
	};
	/* "+": options stop at the command, whose own options follow. */
	while ((opt = getopt_long(argc, argv, "+c:hV", longopts, NULL)) != -1) {
		if (opt == 'c')
			path = optarg;
		else if (opt == 'h')
			return usage(stdout), 0;
		else if (opt == 'V')
			return printf("simpulctl %s\n", SIMPUL_VERSION), 0;
		else
			return usage(stderr), 2;
	}
	if (optind >= argc)
		return usage(stderr), 2;
	struct diag *d = diag_new();
	struct config *cfg = config_load(path, d);
	diag_print(d, stderr);
	diag_free(d);
	conf_path = path;
	if (!cfg && strcmp(argv[optind], "doctor") == 0) {
		doctor_line("fail", "config",
			    "Konfigurasi tidak valid (lihat di atas); simpuld "
			    "tidak bisa ditanya",
			    "configuration invalid (see above); simpuld cannot "
			    "be asked",
			    "perbaiki berkasnya", "fix the file");
		return 1;
	}
	if (!cfg)
		return 1;
	curl_global_init(CURL_GLOBAL_DEFAULT);
	int rc = 2;
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(argv[optind], commands[i].name) == 0)
			rc = commands[i].fn(cfg->http_socket, argc - optind,
					    argv + optind);
	if (rc == 2)
		usage(stderr);
	config_free(cfg);
	curl_global_cleanup();
	return rc;
}
