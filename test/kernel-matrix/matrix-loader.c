// SPDX-License-Identifier: GPL-2.0
/* The kernel matrix test's guest program (test/kernel-matrix/kernel-matrix.test.ts): runs as the
 * only process of a qemu guest besides its init. It loads the sockeye BPF object configured as the
 * agent configures it, attaches every program, forks a child that drives loopback HTTP/1.1, DNS
 * (UDP) and HTTP/2 exchanges, then drains the ring buffer. Everything it learns is printed as one
 * JSON object per line, prefixed "@matrix " so the host can pick it out of the console output.
 * Built statically (libbpf.a, libelf.a, libz.a): the initramfs holds no shared libraries. */
#define _GNU_SOURCE /* vasprintf */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <linux/types.h>

#include "event-layout.h"

#define TAG "@matrix "

/* ---- JSON output ---- */

static void json_string(const char *s, size_t n)
{
	putchar('"');
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c < 0x20 || c >= 0x7f)
			printf("\\u%04x", c);
		else
			putchar(c);
	}
	putchar('"');
}

/* libbpf's messages (the verifier log among them) are kept, and only the last ones printed when
 * something fails: a full verifier log would take minutes on an emulated serial console. */
#define LOG_LINES 60
static char log_ring[LOG_LINES][512];
static unsigned log_next;

static int libbpf_log(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_DEBUG)
		return 0;
	char *buf = NULL;
	if (vasprintf(&buf, fmt, ap) < 0)
		return 0;
	for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n")) {
		snprintf(log_ring[log_next % LOG_LINES], sizeof(log_ring[0]), "%s", line);
		log_next++;
	}
	free(buf);
	return 0;
}

static void print_log_tail(void)
{
	unsigned first = log_next > LOG_LINES ? log_next - LOG_LINES : 0;
	for (unsigned i = first; i < log_next; i++) {
		const char *line = log_ring[i % LOG_LINES];
		printf(TAG "{\"libbpf\":");
		json_string(line, strlen(line));
		printf("}\n");
	}
	log_next = 0;
}

static void print_error(const char *stage, const char *what, int err)
{
	printf(TAG "{\"error\":\"%s\",\"what\":", stage);
	json_string(what, strlen(what));
	printf(",\"errno\":%d,\"message\":", -err);
	const char *m = strerror(err < 0 ? -err : err);
	json_string(m, strlen(m));
	printf("}\n");
	print_log_tail();
	fflush(stdout);
}

/* ---- configuration, as agent/capture/kernel-capture.ts sets it ---- */
/* When the agent learns to choose fast paths at load time (rodata switches, map autocreate), the
 * same choices belong here, or the matrix tests an object configured unlike the agent's. */

/* Writes one `const volatile` global of .rodata, found by name through the object's BTF. */
static int set_rodata(struct bpf_object *obj, const char *name, __u64 value)
{
	struct bpf_map *map;
	bpf_object__for_each_map(map, obj) {
		const char *n = bpf_map__name(map);
		size_t len = strlen(n);
		if (!bpf_map__is_internal(map) || len < 7 || strcmp(n + len - 7, ".rodata") != 0)
			continue;
		const struct btf *btf = bpf_object__btf(obj);
		int sec_id = btf__find_by_name_kind(btf, ".rodata", BTF_KIND_DATASEC);
		if (sec_id < 0)
			return -ENOENT;
		const struct btf_type *sec = btf__type_by_id(btf, sec_id);
		const struct btf_var_secinfo *vi = btf_var_secinfos(sec);
		for (int i = 0; i < btf_vlen(sec); i++, vi++) {
			const struct btf_type *var = btf__type_by_id(btf, vi->type);
			if (strcmp(btf__name_by_offset(btf, var->name_off), name) != 0)
				continue;
			size_t size = 0;
			const void *initial = bpf_map__initial_value(map, &size);
			if (!initial || vi->offset + vi->size > size || vi->size > 8)
				return -EINVAL;
			unsigned char *copy = malloc(size);
			memcpy(copy, initial, size);
			for (__u32 b = 0; b < vi->size; b++)
				copy[vi->offset + b] = (unsigned char)(value >> (8 * b)); /* little endian */
			int err = bpf_map__set_initial_value(map, copy, size);
			free(copy);
			return err;
		}
	}
	return -ENOENT;
}

/* FILTER_INCLUDE of bpf/maps.h: the pid_filter value that means "trace this pid". */
#define MATRIX_FILTER_INCLUDE 1

static int configure(struct bpf_object *obj, bool only_child, bool fallbacks)
{
	/* The agent excludes itself; here the loader is the "agent" and its child the traced app. */
	struct { const char *name; __u64 value; } rodata[] = {
		{ "payload_cap", SOCKEYE_DEFAULT_PAYLOAD },
		{ "ring_wakeup_bytes", 64 * 1024 },
		{ "self_pid", (__u64)getpid() },
		{ "filter_pids_include", only_child },
		{ "filter_pids_exclude", 0 },
		{ "filter_cgroups_include", 0 },
		{ "filter_cgroups_exclude", 0 },
		{ "fd_slot_probe_read", fallbacks },
	};
	for (size_t i = 0; i < sizeof(rodata) / sizeof(rodata[0]); i++) {
		int err = set_rodata(obj, rodata[i].name, rodata[i].value);
		if (err) {
			print_error("configure", rodata[i].name, err);
			return err;
		}
	}
	struct bpf_map *scratch = bpf_object__find_map_by_name(obj, "scratch");
	if (scratch)
		bpf_map__set_max_entries(scratch, libbpf_num_possible_cpus());
	return 0;
}

/* ---- traffic, driven by the child (the traced process) ---- */

static void die(const char *what)
{
	printf(TAG "{\"error\":\"traffic\",\"what\":\"%s\",\"errno\":%d}\n", what, errno);
	fflush(stdout);
	_exit(1);
}

static unsigned short port_of(int fd)
{
	struct sockaddr_in a;
	socklen_t len = sizeof(a);
	if (getsockname(fd, (struct sockaddr *)&a, &len))
		die("getsockname");
	return ntohs(a.sin_port);
}

static struct sockaddr_in loopback(unsigned short port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return a;
}

/* A connected TCP pair on loopback: *client from connect(), *server from accept(). */
static void tcp_pair(int *client, int *server)
{
	int l = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = loopback(0);
	if (l < 0 || bind(l, (struct sockaddr *)&a, sizeof(a)) || listen(l, 1))
		die("listen");
	a = loopback(port_of(l));
	*client = socket(AF_INET, SOCK_STREAM, 0);
	if (*client < 0 || connect(*client, (struct sockaddr *)&a, sizeof(a)))
		die("connect");
	*server = accept(l, NULL, NULL);
	if (*server < 0)
		die("accept");
	close(l);
}

static void report_exchange(const char *name, int client, int server, ssize_t request, ssize_t response,
			    const char *transport)
{
	printf(TAG "{\"exchange\":\"%s\",\"transport\":\"%s\",\"clientPort\":%u,\"serverPort\":%u,"
	       "\"requestBytes\":%zd,\"responseBytes\":%zd,\"pid\":%d}\n",
	       name, transport, port_of(client), port_of(server), request, response, getpid());
	fflush(stdout);
}

/* HTTP/1.1: client send()/recv() (sendto/recvfrom), server read()/writev(). */
static void http1_exchange(void)
{
	int c, s;
	tcp_pair(&c, &s);
	static const char req[] = "GET /matrix HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: sockeye-matrix\r\n\r\n";
	static const char head[] = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 13\r\n\r\n";
	static const char body[] = "hello, kernel";
	char buf[1024];
	ssize_t sent = send(c, req, sizeof(req) - 1, 0);
	ssize_t got = read(s, buf, sizeof(buf));
	struct iovec iov[2] = { { (void *)head, sizeof(head) - 1 }, { (void *)body, sizeof(body) - 1 } };
	ssize_t answered = writev(s, iov, 2);
	ssize_t back = recv(c, buf, sizeof(buf), 0);
	if (sent <= 0 || got != sent || answered <= 0 || back != answered)
		die("http1 exchange");
	report_exchange("http1", c, s, sent, answered, "tcp");
	close(c);
	close(s);
}

/* DNS over UDP, unconnected on both sides: sendto()/recvfrom() with addresses. */
static void dns_exchange(void)
{
	static const unsigned char query[] = {
		0x5a, 0x17, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, /* id, RD, 1 question */
		3, 'a', 'p', 'i', 7, 's', 'o', 'c', 'k', 'e', 'y', 'e', 4, 't', 'e', 's', 't', 0,
		0, 1, 0, 1, /* A, IN */
	};
	unsigned char answer[sizeof(query) + 16];
	memcpy(answer, query, sizeof(query));
	answer[2] = 0x81, answer[3] = 0x80, answer[7] = 1; /* QR RD RA, 1 answer */
	static const unsigned char rr[] = { 0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 198, 18, 0, 7 };
	memcpy(answer + sizeof(query), rr, sizeof(rr));

	int s = socket(AF_INET, SOCK_DGRAM, 0), c = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in a = loopback(0);
	if (s < 0 || c < 0 || bind(s, (struct sockaddr *)&a, sizeof(a)))
		die("udp socket");
	struct sockaddr_in server = loopback(port_of(s)), peer;
	socklen_t plen = sizeof(peer);
	unsigned char buf[512];
	ssize_t sent = sendto(c, query, sizeof(query), 0, (struct sockaddr *)&server, sizeof(server));
	ssize_t got = recvfrom(s, buf, sizeof(buf), 0, (struct sockaddr *)&peer, &plen);
	ssize_t answered = sendto(s, answer, sizeof(answer), 0, (struct sockaddr *)&peer, plen);
	ssize_t back = recvfrom(c, buf, sizeof(buf), 0, NULL, NULL);
	if (sent <= 0 || got != sent || answered <= 0 || back != answered)
		die("dns exchange");
	report_exchange("dns", c, s, sent, answered, "udp");
	close(c);
	close(s);
}

static ssize_t send_msg(int fd, const void *p, size_t n)
{
	struct iovec v = { (void *)p, n };
	struct msghdr m = { .msg_iov = &v, .msg_iovlen = 1 };
	return sendmsg(fd, &m, 0);
}

static ssize_t recv_msg(int fd, void *p, size_t n)
{
	struct iovec v = { p, n };
	struct msghdr m = { .msg_iov = &v, .msg_iovlen = 1 };
	return recvmsg(fd, &m, 0);
}

/* HTTP/2 cleartext with prior knowledge, sendmsg()/recvmsg() on both sides. */
static void http2_exchange(void)
{
	static const unsigned char req[] = {
		'P', 'R', 'I', ' ', '*', ' ', 'H', 'T', 'T', 'P', '/', '2', '.', '0', '\r', '\n', '\r', '\n',
		'S', 'M', '\r', '\n', '\r', '\n',
		0, 0, 0, 4, 0, 0, 0, 0, 0,                 /* SETTINGS, empty */
		0, 0, 14, 1, 0x05, 0, 0, 0, 1,             /* HEADERS, END_STREAM|END_HEADERS, stream 1 */
		0x82, 0x86, 0x84,                          /* :method GET, :scheme http, :path / */
		0x41, 9, 'l', 'o', 'c', 'a', 'l', 'h', 'o', 's', 't', /* :authority localhost */
	};
	static const unsigned char resp[] = {
		0, 0, 0, 4, 0, 0, 0, 0, 0,                 /* SETTINGS, empty */
		0, 0, 0, 4, 1, 0, 0, 0, 0,                 /* SETTINGS ACK */
		0, 0, 1, 1, 0x04, 0, 0, 0, 1,              /* HEADERS, END_HEADERS, stream 1 */
		0x88,                                      /* :status 200 */
		0, 0, 5, 0, 0x01, 0, 0, 0, 1,              /* DATA, END_STREAM, stream 1 */
		'h', 'e', 'l', 'l', 'o',
	};
	int c, s;
	tcp_pair(&c, &s);
	unsigned char buf[1024];
	ssize_t sent = send_msg(c, req, sizeof(req));
	ssize_t got = recv_msg(s, buf, sizeof(buf));
	ssize_t answered = send_msg(s, resp, sizeof(resp));
	ssize_t back = recv_msg(c, buf, sizeof(buf));
	if (sent <= 0 || got != sent || answered <= 0 || back != answered)
		die("http2 exchange");
	report_exchange("http2", c, s, sent, answered, "tcp");
	close(c);
	close(s);
}

/* ---- events ---- */

static const char *kind_name(__u8 v)
{
	switch (v) {
	case SOCKEYE_EV_DATA: return "data";
	case SOCKEYE_EV_CONNECT: return "connect";
	case SOCKEYE_EV_ACCEPT: return "accept";
	case SOCKEYE_EV_CLOSE: return "close";
	}
	return "?";
}

static const char *role_name(__u8 v)
{
	switch (v) {
	case SOCKEYE_ROLE_CLIENT: return "client";
	case SOCKEYE_ROLE_SERVER: return "server";
	case SOCKEYE_ROLE_UNKNOWN: return "unknown";
	}
	return "?";
}

static const char *protocol_name(__u8 v)
{
	switch (v) {
	case SOCKEYE_PROTO_HTTP1: return "http1";
	case SOCKEYE_PROTO_HTTP2: return "http2";
	case SOCKEYE_PROTO_DNS: return "dns";
	case SOCKEYE_PROTO_UNKNOWN: return "unknown";
	}
	return "?";
}

static const char *direction_name(__u8 v)
{
	switch (v) {
	case SOCKEYE_DIR_EGRESS: return "egress";
	case SOCKEYE_DIR_INGRESS: return "ingress";
	case SOCKEYE_DIR_NONE: return "none";
	}
	return "?";
}

static void print_addr(const char *key, const __u8 *addr, __u8 family, __u16 port)
{
	char text[INET6_ADDRSTRLEN] = "?";
	inet_ntop(family == 6 ? AF_INET6 : AF_INET, addr, text, sizeof(text));
	printf(",\"%s\":\"%s\",\"%sPort\":%u", key, text, key, port);
}

static int on_event(void *ctx, void *data, size_t size)
{
	(void)ctx;
	const struct sockeye_event *e = data;
	if (size < sizeof(*e)) {
		printf(TAG "{\"error\":\"short record\",\"size\":%zu}\n", size);
		return 0;
	}
	printf(TAG "{\"event\":\"%s\",\"role\":\"%s\",\"protocol\":\"%s\",\"direction\":\"%s\",\"syscall\":%u,"
	       "\"pid\":%u,\"family\":%u,\"transport\":%u",
	       kind_name(e->kind), role_name(e->role), protocol_name(e->protocol), direction_name(e->direction),
	       e->syscall, e->pid, e->family, e->transport);
	print_addr("local", e->local_addr, e->family, e->local_port);
	print_addr("remote", e->remote_addr, e->family, e->remote_port);
	printf(",\"connId\":%llu,\"offset\":%llu,\"totalBytes\":%u,\"captured\":%u,\"recordBytes\":%zu,\"comm\":",
	       (unsigned long long)e->conn_id, (unsigned long long)e->offset, e->total_bytes, e->captured, size);
	json_string(e->comm, strnlen(e->comm, sizeof(e->comm)));
	size_t head = e->captured < 24 ? e->captured : 24;
	if (head > size - sizeof(*e))
		head = size - sizeof(*e);
	printf(",\"head\":");
	json_string((const char *)(e + 1), head);
	printf("}\n");
	return 0;
}

/* The kernel side's own counters (lost events among them), summed over CPUs. */
static void print_counters(struct bpf_object *obj)
{
	int fd = bpf_map__fd(bpf_object__find_map_by_name(obj, "counters"));
	int ncpu = libbpf_num_possible_cpus();
	__u64 *values = calloc(ncpu, sizeof(*values));
	printf(TAG "{\"counters\":[");
	for (__u32 k = 0; k < SOCKEYE_CTR_MAX; k++) {
		__u64 sum = 0;
		if (bpf_map_lookup_elem(fd, &k, values) == 0)
			for (int c = 0; c < ncpu; c++)
				sum += values[c];
		printf("%s%llu", k ? "," : "", (unsigned long long)sum);
	}
	printf("]}\n");
	free(values);
}

/* ---- main ---- */

/* The traced process: waits until the programs are attached (a byte on `go`), then talks. */
static pid_t start_child(int *go)
{
	int p[2];
	if (pipe(p))
		return -1;
	pid_t child = fork();
	if (child == 0) {
		close(p[1]);
		char c;
		if (read(p[0], &c, 1) != 1)
			_exit(3); /* the loader gave up before attaching */
		http1_exchange();
		dns_exchange();
		http2_exchange();
		_exit(0);
	}
	close(p[0]);
	*go = p[1];
	return child;
}

/* Usage: matrix-loader [--only-child] OBJECT. --only-child adds a pid include filter for the child
 * (on a shared host, so other processes' traffic cannot crowd the ring). */
int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	bool only_child = argc == 3 && strcmp(argv[1], "--only-child") == 0;
	const char *path = argv[argc - 1];
	struct utsname u;
	uname(&u);
	printf(TAG "{\"kernel\":\"%s\",\"object\":\"%s\"}\n", u.release, path);
	if (argc != 2 && !only_child)
		return 2;
	libbpf_set_print(libbpf_log);
	int go;
	pid_t child = start_child(&go);
	if (child < 0)
		return 1;

	/* As KernelCapture.open: the fast path first, then the load-time fallbacks if the verifier
	 * refuses it (6.12's untrusted fdtable pointer). Only the fallback's failure is reported. */
	struct bpf_object *obj = NULL;
	int err = 0;
	for (int fallbacks = 0; fallbacks <= 1; fallbacks++) {
		obj = bpf_object__open_file(path, NULL);
		err = libbpf_get_error(obj);
		if (err) {
			print_error("open", path, err);
			return 1;
		}
		if ((err = configure(obj, only_child, fallbacks)))
			return 1;
		if (!(err = bpf_object__load(obj)))
			break;
		if (fallbacks) {
			print_error("load", path, err);
			return 1;
		}
		bpf_object__close(obj);
	}
	printf(TAG "{\"loaded\":true}\n");
	if (only_child) {
		__u32 key = (__u32)child;
		__u8 mark = MATRIX_FILTER_INCLUDE;
		if ((err = bpf_map_update_elem(bpf_map__fd(bpf_object__find_map_by_name(obj, "pid_filter")), &key, &mark, 0))) {
			print_error("configure", "pid_filter", -errno);
			return 1;
		}
	}

	struct bpf_program *prog;
	int attached = 0, failed = 0;
	bpf_object__for_each_program(prog, obj) {
		struct bpf_link *link = bpf_program__attach(prog);
		err = libbpf_get_error(link);
		printf(TAG "{\"program\":\"%s\",\"section\":\"%s\",\"attached\":%s", bpf_program__name(prog),
		       bpf_program__section_name(prog), err ? "false" : "true");
		if (err) {
			printf(",\"message\":");
			json_string(strerror(-err), strlen(strerror(-err)));
			failed++;
		} else {
			attached++;
		}
		printf("}\n");
		if (err)
			print_log_tail();
	}
	log_next = 0;

	struct ring_buffer *rb = ring_buffer__new(bpf_map__fd(bpf_object__find_map_by_name(obj, "events")),
						  on_event, NULL, NULL);
	if (!rb) {
		print_error("ring", "events", -errno);
		return 1;
	}
	if (write(go, "g", 1) != 1)
		return 1;
	int status = 0;
	waitpid(child, &status, 0);
	/* consume, not poll: records are submitted without wakeups (the agent drains on a timer). */
	int records = ring_buffer__consume(rb);
	print_counters(obj);
	printf(TAG "{\"done\":true,\"attached\":%d,\"failed\":%d,\"records\":%d,\"childStatus\":%d,\"loaderPid\":%d}\n",
	       attached, failed, records, status, getpid());
	ring_buffer__free(rb);
	bpf_object__close(obj);
	return 0;
}
