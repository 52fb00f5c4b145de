/*
 * The Runtime API (2018-06-01) that Benchmarks/bench.py measures runtimes against, in C so that the
 * harness is not the ceiling: a blocking keep-alive HTTP/1.1 server, one thread per connection,
 * one recv and one writev per request (every response head built with one snprintf). What is left
 * of its cost is the kernel's: loopback TCP and a sleep and a wake-up per request on each side
 * (BENCH-NOTES.md has the measurements). Not part of the Swift package; bench.py compiles it with
 * `cc -O2 -pthread`.
 *
 *   runtime_api_server serve [--cpu N] [--runtime-cpu N] [--nice N] PAYLOADS COMMAND [ARG...]
 *       Serves the payloads in PAYLOADS (each as "<length>\n<bytes>") in order, request ids req-0,
 *       req-1, ..., then starts COMMAND with AWS_LAMBDA_RUNTIME_API pointing at itself (posix_spawn,
 *       stdout/stderr to /dev/null, the rest of the environment inherited). --cpu pins this server
 *       to one CPU, --runtime-cpu the runtime (which otherwise inherits this server's CPU set),
 *       --nice sets the nice value of both. Reports on stdout:
 *         port P                       listening
 *         spawn T PID                  CLOCK_MONOTONIC seconds just before posix_spawn
 *         next T                       the first GET /next arrived (head fully read)
 *         cpu R U S H                  CPU seconds from the first /response or /error to the last:
 *                                      the runtime's (all threads, user + system, from its CPU-time
 *                                      clock), its user and system parts (/proc/PID/stat, in clock
 *                                      ticks) and this server's own
 *         resp T KIND LENGTH\n<body>\n every /response or /error, all at once when the last expected
 *                                      one has arrived (so printing costs nothing during the loop)
 *         done
 *       and on end of stdin kills COMMAND, reaps it and exits. A /next with no payload left waits
 *       until then. CLOCK_MONOTONIC is what Python's time.perf_counter reads on Linux.
 *
 *   runtime_api_server null-runtime
 *       The cheapest possible runtime (GET /next, POST {} to /response, forever), for the harness's
 *       own ceiling and the cold-start floor of a tiny static-free C program.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void die(const char *what) {
    perror(what);
    exit(2);
}

/* ---- shared state ---------------------------------------------------------------------------- */

typedef struct {
    char *data;
    size_t length;
} Bytes;

typedef struct {
    double at;
    int error; /* 0: /response, 1: /error */
    Bytes body;
} Response;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static Bytes *payloads;
static size_t payload_count, next_payload;
static Response *responses;
static size_t response_count;
static int first_next_reported;

/* The runtime's CPU time (all its threads, user + system) and this server's, sampled when the first
 * and the last /response or /error arrive: the same window as the invocation rate. */
typedef struct {
    double runtime, user, system, harness;
} CPUSample;

static pid_t runtime_pid;
static clockid_t runtime_clock;
static CPUSample first_sample;

static double clock_seconds(clockid_t clock) {
    struct timespec ts;
    if (clock_gettime(clock, &ts) != 0) return -1;
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* utime and stime (fields 14 and 15 of /proc/PID/stat, in clock ticks) for the user/system split,
 * which the CPU-time clock does not give. */
static void read_user_system(pid_t pid, double *user, double *system) {
    char path[64], text[1024];
    *user = *system = -1;
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *file = fopen(path, "r");
    if (!file) return;
    size_t length = fread(text, 1, sizeof text - 1, file);
    fclose(file);
    text[length] = 0;
    char *fields = strrchr(text, ')'); /* the command name may hold spaces */
    unsigned long utime, stime;
    if (fields && sscanf(fields + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &utime, &stime) == 2) {
        double tick = (double)sysconf(_SC_CLK_TCK);
        *user = utime / tick;
        *system = stime / tick;
    }
}

static CPUSample sample_cpu(void) {
    CPUSample sample = {clock_seconds(runtime_clock), 0, 0, clock_seconds(CLOCK_PROCESS_CPUTIME_ID)};
    read_user_system(runtime_pid, &sample.user, &sample.system);
    return sample;
}

static void report_all(CPUSample last) {
    printf("cpu %.9f %.2f %.2f %.9f\n", last.runtime - first_sample.runtime, last.user - first_sample.user,
           last.system - first_sample.system, last.harness - first_sample.harness);
    for (size_t i = 0; i < response_count; i++) {
        printf("resp %.9f %s %zu\n", responses[i].at, responses[i].error ? "error" : "response", responses[i].body.length);
        fwrite(responses[i].body.data, 1, responses[i].body.length, stdout);
        putchar('\n');
    }
    printf("done\n");
    fflush(stdout);
}

/* ---- one connection ---------------------------------------------------------------------------- */

typedef struct {
    int fd;
    char *buffer;
    size_t capacity, start, end;
} Connection;

static int fill(Connection *c) {
    if (c->start > 0 && c->start == c->end) c->start = c->end = 0;
    if (c->end == c->capacity) {
        if (c->start > 0) {
            memmove(c->buffer, c->buffer + c->start, c->end - c->start);
            c->end -= c->start;
            c->start = 0;
        } else {
            c->capacity *= 2;
            c->buffer = realloc(c->buffer, c->capacity);
            if (!c->buffer) die("realloc");
        }
    }
    for (;;) {
        ssize_t n = recv(c->fd, c->buffer + c->end, c->capacity - c->end, 0);
        if (n > 0) {
            c->end += (size_t)n;
            return 1;
        }
        if (n < 0 && errno == EINTR) continue;
        return 0;
    }
}

static int send_all(int fd, struct iovec *iov, int count) {
    while (count > 0) {
        ssize_t n = writev(fd, iov, count);
        if (n < 0) {
            if (errno == EINTR) continue;
            return 0;
        }
        while (count > 0 && (size_t)n >= iov->iov_len) {
            n -= (ssize_t)iov->iov_len;
            iov++;
            count--;
        }
        if (count > 0) {
            iov->iov_base = (char *)iov->iov_base + n;
            iov->iov_len -= (size_t)n;
        }
    }
    return 1;
}

static const char accepted[] = "HTTP/1.1 202 Accepted\r\nContent-Type: application/json\r\nContent-Length: 15\r\n\r\n{\"status\":\"OK\"}";

static void *serve_connection(void *argument) {
    Connection c = {.fd = (int)(long)argument, .capacity = 1 << 16};
    c.buffer = malloc(c.capacity);
    if (!c.buffer) die("malloc");
    int one = 1;
    setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    for (;;) {
        char *head_end;
        while (!(head_end = memmem(c.buffer + c.start, c.end - c.start, "\r\n\r\n", 4)))
            if (!fill(&c)) goto closed;
        double at = now();
        char *head = c.buffer + c.start;
        size_t head_length = (size_t)(head_end - head) + 4;
        size_t content_length = 0;
        for (char *line = memchr(head, '\n', head_length); line && line < head_end; line = memchr(line + 1, '\n', (size_t)(head_end - line))) {
            if (strncasecmp(line + 1, "content-length:", 15) == 0) content_length = strtoul(line + 16, NULL, 10);
        }
        char *path = memchr(head, ' ', head_length);
        if (!path) goto closed;
        path++;
        char *path_end = memchr(path, ' ', (size_t)(head_end - path));
        if (!path_end) goto closed;
        size_t path_length = (size_t)(path_end - path);
        int is_get = head[0] == 'G';
        while (c.end - c.start < head_length + content_length)
            if (!fill(&c)) goto closed;
        char *body = c.buffer + c.start + head_length;

        if (is_get && path_length >= 16 && memcmp(path_end - 16, "/invocation/next", 16) == 0) {
            pthread_mutex_lock(&lock);
            if (!first_next_reported) {
                first_next_reported = 1;
                printf("next %.9f\n", at);
                fflush(stdout);
            }
            if (next_payload >= payload_count) {
                /* nothing left: wait for the end (the harness kills the runtime) */
                pthread_mutex_unlock(&lock);
                for (;;) pause();
            }
            size_t index = next_payload++;
            pthread_mutex_unlock(&lock);
            char response_head[512];
            int length = snprintf(response_head, sizeof response_head,
                                  "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                                  "Lambda-Runtime-Aws-Request-Id: req-%zu\r\n"
                                  "Lambda-Runtime-Deadline-Ms: 99999999999999\r\n"
                                  "Lambda-Runtime-Invoked-Function-Arn: arn:aws:lambda:us-east-1:000000000000:function:bench\r\n"
                                  "Lambda-Runtime-Trace-Id: Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=0\r\n"
                                  "Content-Length: %zu\r\n\r\n",
                                  index, payloads[index].length);
            struct iovec iov[2] = {{response_head, (size_t)length}, {payloads[index].data, payloads[index].length}};
            if (!send_all(c.fd, iov, 2)) goto closed;
        } else {
            int is_response = path_length >= 9 && memcmp(path_end - 9, "/response", 9) == 0;
            int is_error = path_length >= 6 && memcmp(path_end - 6, "/error", 6) == 0;
            if (is_response || is_error) {
                Bytes copy = {malloc(content_length + 1), content_length};
                if (!copy.data) die("malloc");
                memcpy(copy.data, body, content_length);
                pthread_mutex_lock(&lock);
                if (response_count < payload_count) {
                    responses[response_count++] = (Response){at, is_error, copy};
                    if (response_count == 1) first_sample = sample_cpu();
                    if (response_count == payload_count) report_all(sample_cpu());
                }
                pthread_mutex_unlock(&lock);
            }
            struct iovec iov[1] = {{(void *)accepted, sizeof accepted - 1}};
            if (!send_all(c.fd, iov, 1)) goto closed;
        }
        c.start += head_length + content_length;
    }
closed:
    close(c.fd);
    free(c.buffer);
    return NULL;
}

static void *accept_loop(void *argument) {
    int listener = (int)(long)argument;
    for (;;) {
        int fd = accept(listener, NULL, NULL);
        if (fd < 0) {
            if (errno == EINTR) continue;
            die("accept");
        }
        pthread_t thread;
        if (pthread_create(&thread, NULL, serve_connection, (void *)(long)fd) != 0) die("pthread_create");
        pthread_detach(thread);
    }
    return NULL;
}

static void load_payloads(const char *path) {
    FILE *file = fopen(path, "rb");
    if (!file) die(path);
    size_t capacity = 16;
    payloads = malloc(capacity * sizeof *payloads);
    size_t length;
    while (fscanf(file, "%zu", &length) == 1) {
        if (fgetc(file) != '\n') die("payload file: no newline after a length");
        if (payload_count == capacity) payloads = realloc(payloads, (capacity *= 2) * sizeof *payloads);
        char *data = malloc(length + 1);
        if (!payloads || !data || fread(data, 1, length, file) != length) die("payload file");
        payloads[payload_count++] = (Bytes){data, length};
    }
    fclose(file);
    responses = calloc(payload_count + 1, sizeof *responses);
}

/* Pins the calling thread (and so every thread and process it starts afterwards) to one CPU. */
static void pin_to(int cpu) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    if (sched_setaffinity(0, sizeof set, &set) != 0) die("sched_setaffinity");
}

static int serve(int argc, char **argv) {
    int harness_cpu = -1, runtime_cpu = -1, nice_value = 0, first = 2;
    for (; first + 1 < argc && strncmp(argv[first], "--", 2) == 0; first += 2) {
        if (strcmp(argv[first], "--cpu") == 0) harness_cpu = atoi(argv[first + 1]);
        else if (strcmp(argv[first], "--runtime-cpu") == 0) runtime_cpu = atoi(argv[first + 1]);
        else if (strcmp(argv[first], "--nice") == 0) nice_value = atoi(argv[first + 1]);
        else break;
    }
    if (argc - first < 2) {
        fprintf(stderr, "usage: %s serve [--cpu N] [--runtime-cpu N] [--nice N] PAYLOADS COMMAND [ARG...]\n", argv[0]);
        return 64;
    }
    load_payloads(argv[first]);
    char **command = argv + first + 1;
    cpu_set_t original;
    if (sched_getaffinity(0, sizeof original, &original) != 0) die("sched_getaffinity");
    if (harness_cpu >= 0) pin_to(harness_cpu);
    /* before any thread or the runtime exists: both inherit it */
    if (nice_value != 0 && setpriority(PRIO_PROCESS, 0, nice_value) != 0) die("setpriority");
    signal(SIGPIPE, SIG_IGN);
    int listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (listener < 0) die("socket");
    struct sockaddr_in address = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t size = sizeof address;
    if (bind(listener, (struct sockaddr *)&address, size) != 0 || listen(listener, 64) != 0) die("bind/listen");
    if (getsockname(listener, (struct sockaddr *)&address, &size) != 0) die("getsockname");
    int port = ntohs(address.sin_port);
    printf("port %d\n", port);
    fflush(stdout);
    pthread_t thread;
    if (pthread_create(&thread, NULL, accept_loop, (void *)(long)listener) != 0) die("pthread_create");

    char endpoint[64];
    snprintf(endpoint, sizeof endpoint, "127.0.0.1:%d", port);
    setenv("AWS_LAMBDA_RUNTIME_API", endpoint, 1);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
    /* The runtime inherits the spawning thread's affinity: its CPU if one is given, else the CPUs
     * this server was started with. */
    if (runtime_cpu >= 0) pin_to(runtime_cpu);
    else if (sched_setaffinity(0, sizeof original, &original) != 0) die("sched_setaffinity");
    pid_t child;
    /* Held until the runtime's pid is known, so that no /response is recorded (and CPU-sampled)
     * before it is; the timestamps are taken before the lock, so waiting on it delays none. */
    pthread_mutex_lock(&lock);
    double spawned_at = now();
    if (posix_spawn(&child, command[0], &actions, NULL, command, environ) != 0) die("posix_spawn");
    runtime_pid = child;
    if (clock_getcpuclockid(child, &runtime_clock) != 0) die("clock_getcpuclockid");
    printf("spawn %.9f %d\n", spawned_at, (int)child);
    fflush(stdout);
    pthread_mutex_unlock(&lock);
    if (harness_cpu >= 0) pin_to(harness_cpu);
    else if (sched_setaffinity(0, sizeof original, &original) != 0) die("sched_setaffinity");

    char discard[256];
    while (read(0, discard, sizeof discard) > 0) {}
    kill(child, SIGKILL);
    waitpid(child, NULL, 0);
    _exit(0);
}

/* ---- the null runtime -------------------------------------------------------------------------- */

static int null_runtime(void) {
    const char *endpoint = getenv("AWS_LAMBDA_RUNTIME_API");
    const char *colon = endpoint ? strrchr(endpoint, ':') : NULL;
    if (!colon) return 64;
    struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = htons((unsigned short)atoi(colon + 1)),
                                  .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&address, sizeof address) != 0) die("connect");
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    Connection c = {.fd = fd, .capacity = 1 << 16};
    c.buffer = malloc(c.capacity);
    static const char next[] = "GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: x\r\n\r\n";
    for (;;) {
        struct iovec get[1] = {{(void *)next, sizeof next - 1}};
        if (!send_all(fd, get, 1)) return 1;
        char id[128] = "";
        for (int pass = 0; pass < 2; pass++) {
            char *head_end;
            while (!(head_end = memmem(c.buffer + c.start, c.end - c.start, "\r\n\r\n", 4)))
                if (!fill(&c)) return 1;
            char *head = c.buffer + c.start;
            size_t head_length = (size_t)(head_end - head) + 4, content_length = 0;
            for (char *line = memchr(head, '\n', head_length); line && line < head_end; line = memchr(line + 1, '\n', (size_t)(head_end - line))) {
                if (strncasecmp(line + 1, "content-length:", 15) == 0) content_length = strtoul(line + 16, NULL, 10);
                if (pass == 0 && strncasecmp(line + 1, "lambda-runtime-aws-request-id:", 30) == 0) sscanf(line + 31, " %127[^\r]", id);
            }
            while (c.end - c.start < head_length + content_length)
                if (!fill(&c)) return 1;
            c.start += head_length + content_length;
            if (pass == 0) {
                char post[256];
                int length = snprintf(post, sizeof post, "POST /2018-06-01/runtime/invocation/%s/response HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}", id);
                struct iovec iov[1] = {{post, (size_t)length}};
                if (!send_all(fd, iov, 1)) return 1;
            }
        }
    }
}

int main(int argc, char **argv) {
    if (argc >= 2 && strcmp(argv[1], "serve") == 0) return serve(argc, argv);
    if (argc >= 2 && strcmp(argv[1], "null-runtime") == 0) return null_runtime();
    fprintf(stderr, "usage: %s serve PAYLOADS COMMAND [ARG...] | null-runtime\n", argv[0]);
    return 64;
}
