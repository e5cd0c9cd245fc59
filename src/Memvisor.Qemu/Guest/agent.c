/*
 * memvisor-agent: the workload and the truth inside a Memvisor test guest.
 *
 * Runs as the only program of a busybox initramfs (started by /init), built with gcc -O2 -static
 * when `memvisor host image` builds the image. It does two things:
 *
 * 1. Runs one workload, configured by key=value settings, read first from /etc/memvisor.conf (one per
 *    line, # comments) and then from the kernel command line as memvisor.KEY=VALUE (which wins):
 *      mode=idle|toucher|file   idle: allocate and fill, then touch nothing;
 *                               toucher: touch a working set of its memory cyclically;
 *                               file: the same over a file's pages (page cache), read with pread
 *      alloc_mib=N              memory to allocate and fill at start (at least the largest set)
 *      fill=seeded|unique|zero  content: seeded pages are a function of (seed, page index), so guests
 *                               with the same seed hold identical pages and KSM can merge them;
 *                               unique pages differ per boot; zero pages are all zero
 *      seed=N                   the seed of fill=seeded (default 1)
 *      phases=SET:SECONDS,...   working-set phases: touch the first SET MiB for SECONDS, then the next;
 *                               a phase with SECONDS 0 (or the last one) lasts forever
 *      period_s=S               each period the whole set is touched once, evenly (default 1)
 *      touch=read|write|verify  a read touch keeps content (and KSM merges); a write touch stores
 *                               the page's own byte back (dirties it, breaking KSM sharing); a
 *                               verify touch reads the whole page and compares it with the content
 *                               it was filled with (mode=toucher; a mismatch counts in bad_pages:
 *                               the check that host paging lost or corrupted no guest data)
 *      order=cyclic|random      cyclic (default): pages in order, round and round; random: each touch
 *                               picks a page of the set uniformly at random (a cache of C pages over a
 *                               set of S then hits C/S of the touches, where a cyclic scan larger than
 *                               an LRU cache would miss them all, and read-ahead does not help)
 *      file=PATH, file_mib=N    mode=file: the file (default /tmp/memvisor.data on tmpfs, written
 *                               with fill content first; a block device such as /dev/vda is read)
 *      port=NAME                virtio-serial port name (default memvisor.agent)
 *
 * 2. Reports once a second, one JSON object per line, on the virtio-serial port found by its name
 *    in /sys/class/virtio-ports/<dev>/name (the device name is not fixed), or on stdout until the port
 *    appears:
 *      {"t": seconds since start, "state": "filling"|"running", "phase": i, "work": units done,
 *       "touched_pages": distinct pages touched in the last second (order=random: touches), "set_pages": pages in the set,
 *       "alloc_pages": pages allocated, "filled_pages": pages filled so far,
 *       "bad_pages": touch=verify touches that found a page not as filled, since start,
 *       "iowait_s": seconds the guest's CPUs (summed) stood idle waiting for I/O since boot (-1: unknown),
 *       "cpus": online CPUs}
 *    A work unit is one page touched. touched_pages is the truth a host-side working-set estimate
 *    is judged against: the cursor's advance in that second, capped at the set.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define PAGE_BYTES 4096UL
#define MIB_PAGES 256UL
#define MAX_PHASES 32
#define SLICE_NS 10000000L /* touch in 10 ms slices */

enum mode { MODE_IDLE, MODE_TOUCHER, MODE_FILE };
enum fill { FILL_SEEDED, FILL_UNIQUE, FILL_ZERO };

struct phase { unsigned long set_pages; double seconds; };

static struct {
    enum mode mode;
    enum fill fill;
    int write_touch;
    int verify_touch;
    int random_order;
    unsigned long alloc_pages;
    unsigned long file_pages;
    uint64_t seed;
    double period_s;
    struct phase phases[MAX_PHASES];
    int phase_count;
    char file[256];
    char port[64];
} cfg;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A failed setting is reported and the default kept: a guest with no way to complain must still run. */
static void set_option(const char *key, const char *value)
{
    if (!strcmp(key, "mode")) {
        cfg.mode = !strcmp(value, "toucher") ? MODE_TOUCHER : !strcmp(value, "file") ? MODE_FILE : MODE_IDLE;
    } else if (!strcmp(key, "fill")) {
        cfg.fill = !strcmp(value, "unique") ? FILL_UNIQUE : !strcmp(value, "zero") ? FILL_ZERO : FILL_SEEDED;
    } else if (!strcmp(key, "seed")) {
        cfg.seed = strtoull(value, NULL, 10);
    } else if (!strcmp(key, "alloc_mib")) {
        cfg.alloc_pages = strtoul(value, NULL, 10) * MIB_PAGES;
    } else if (!strcmp(key, "file_mib")) {
        cfg.file_pages = strtoul(value, NULL, 10) * MIB_PAGES;
    } else if (!strcmp(key, "period_s")) {
        cfg.period_s = strtod(value, NULL);
    } else if (!strcmp(key, "touch")) {
        cfg.write_touch = !strcmp(value, "write");
        cfg.verify_touch = !strcmp(value, "verify");
    } else if (!strcmp(key, "order")) {
        cfg.random_order = !strcmp(value, "random");
    } else if (!strcmp(key, "file")) {
        snprintf(cfg.file, sizeof cfg.file, "%s", value);
    } else if (!strcmp(key, "port")) {
        snprintf(cfg.port, sizeof cfg.port, "%s", value);
    } else if (!strcmp(key, "phases")) {
        const char *p = value;
        cfg.phase_count = 0;
        while (*p && cfg.phase_count < MAX_PHASES) {
            char *end;
            unsigned long mib = strtoul(p, &end, 10);
            double seconds = 0;
            if (*end == ':') {
                seconds = strtod(end + 1, &end);
            }
            cfg.phases[cfg.phase_count].set_pages = mib * MIB_PAGES;
            cfg.phases[cfg.phase_count].seconds = seconds;
            cfg.phase_count++;
            p = *end == ',' ? end + 1 : end;
            if (end == p && *p) {
                break;
            }
        }
    } else {
        fprintf(stderr, "memvisor-agent: unknown setting %s\n", key);
    }
}

static void parse_pair(char *pair)
{
    char *eq = strchr(pair, '=');
    if (eq) {
        *eq = 0;
        set_option(pair, eq + 1);
    }
}

static void load_config(void)
{
    cfg.mode = MODE_IDLE;
    cfg.fill = FILL_SEEDED;
    cfg.seed = 1;
    cfg.period_s = 1;
    snprintf(cfg.file, sizeof cfg.file, "/tmp/memvisor.data");
    snprintf(cfg.port, sizeof cfg.port, "memvisor.agent");

    char line[4096];
    FILE *f = fopen("/etc/memvisor.conf", "r");
    if (f) {
        while (fgets(line, sizeof line, f)) {
            line[strcspn(line, "\r\n#")] = 0;
            parse_pair(line);
        }
        fclose(f);
    }
    f = fopen("/proc/cmdline", "r");
    if (f) {
        if (fgets(line, sizeof line, f)) {
            for (char *tok = strtok(line, " \n"); tok; tok = strtok(NULL, " \n")) {
                if (!strncmp(tok, "memvisor.", 9)) {
                    parse_pair(tok + 9);
                }
            }
        }
        fclose(f);
    }
    if (cfg.period_s <= 0) {
        cfg.period_s = 1;
    }
    if (cfg.phase_count == 0) {
        cfg.phases[0].set_pages = cfg.mode == MODE_FILE ? cfg.file_pages : cfg.alloc_pages;
        cfg.phase_count = 1;
    }
    for (int i = 0; i < cfg.phase_count; i++) {
        unsigned long *limit = cfg.mode == MODE_FILE ? &cfg.file_pages : &cfg.alloc_pages;
        if (cfg.phases[i].set_pages > *limit) {
            *limit = cfg.phases[i].set_pages;
        }
    }
}

/* xorshift64*: fast, and the same sequence for the same (seed, page) in every guest. */
static void fill_page(uint64_t *page, unsigned long index, uint64_t seed)
{
    if (cfg.fill == FILL_ZERO) {
        memset(page, 0, PAGE_BYTES);
        return;
    }
    uint64_t x = (seed * 0x9E3779B97F4A7C15ULL) ^ (index + 1) * 0xD1B54A32D192ED03ULL;
    if (x == 0) {
        x = 1;
    }
    for (unsigned long i = 0; i < PAGE_BYTES / 8; i++) {
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        page[i] = x * 0x2545F4914F6CDD1DULL;
    }
}

static int report_fd = -1;
static double next_port_look;

static void find_port(double now)
{
    if (report_fd >= 0 || now < next_port_look) {
        return;
    }
    next_port_look = now + 1;
    DIR *dir = opendir("/sys/class/virtio-ports");
    if (!dir) {
        return;
    }
    struct dirent *entry;
    while ((entry = readdir(dir))) {
        char path[512], name[128] = "";
        snprintf(path, sizeof path, "/sys/class/virtio-ports/%s/name", entry->d_name);
        FILE *f = fopen(path, "r");
        if (!f) {
            continue;
        }
        if (fgets(name, sizeof name, f)) {
            name[strcspn(name, "\n")] = 0;
        }
        fclose(f);
        if (!strcmp(name, cfg.port)) {
            snprintf(path, sizeof path, "/dev/%s", entry->d_name);
            report_fd = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
            break;
        }
    }
    closedir(dir);
}

static void report(const char *line, double now)
{
    find_port(now);
    if (report_fd >= 0) {
        /* A host that is not reading (EAGAIN) loses the line; the next second brings a fresh one. */
        if (write(report_fd, line, strlen(line)) < 0 && errno != EAGAIN) {
            close(report_fd);
            report_fd = -1;
        }
    } else {
        fputs(line, stdout);
        fflush(stdout);
    }
}

static struct {
    double start;
    double next_report;
    unsigned long work;
    unsigned long touched_this_second;
    unsigned long filled_pages;
    unsigned long bad_pages;
    int phase;
    int running;
} st;

/*
 * Seconds the guest's CPUs, summed, have stood idle while a task waited for I/O (the iowait column of
 * /proc/stat's "cpu" line), or -1 when it cannot be read: the host takes this share of the guest's
 * time off its execution time (a guest stalled on its own disk does not run).
 */
static double iowait_s(void)
{
    FILE *f = fopen("/proc/stat", "r");
    if (!f) {
        return -1;
    }
    unsigned long long user, nice, system, idle, iowait;
    int n = fscanf(f, "cpu %llu %llu %llu %llu %llu", &user, &nice, &system, &idle, &iowait);
    fclose(f);
    long hz = sysconf(_SC_CLK_TCK);
    return n == 5 && hz > 0 ? (double)iowait / (double)hz : -1;
}

static void maybe_report(double now, unsigned long set_pages, unsigned long alloc_pages)
{
    if (now < st.next_report) {
        return;
    }
    char line[512];
    unsigned long touched = st.touched_this_second < set_pages ? st.touched_this_second : set_pages;
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    snprintf(line, sizeof line,
             "{\"t\": %.3f, \"state\": \"%s\", \"phase\": %d, \"work\": %lu, \"touched_pages\": %lu, "
             "\"set_pages\": %lu, \"alloc_pages\": %lu, \"filled_pages\": %lu, \"bad_pages\": %lu, "
             "\"iowait_s\": %.2f, \"cpus\": %ld}\n",
             now - st.start, st.running ? "running" : "filling", st.phase, st.work, touched, set_pages,
             alloc_pages, st.filled_pages, st.bad_pages, iowait_s(), cpus > 0 ? cpus : 1);
    report(line, now);
    st.touched_this_second = 0;
    while (st.next_report <= now) {
        st.next_report += 1;
    }
}

static volatile uint8_t sink;

int main(void)
{
    load_config();
    st.start = now_s();
    st.next_report = st.start + 1;
    uint64_t seed = cfg.seed;
    if (cfg.fill == FILL_UNIQUE) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        seed = (uint64_t)ts.tv_nsec ^ ((uint64_t)getpid() << 32) ^ (uint64_t)ts.tv_sec;
    }

    unsigned long units = cfg.mode == MODE_FILE ? cfg.file_pages : cfg.alloc_pages;
    uint8_t *memory = NULL;
    int file_fd = -1;
    uint64_t *page = aligned_alloc(PAGE_BYTES, PAGE_BYTES);
    if (cfg.mode == MODE_FILE) {
        int is_device = !strncmp(cfg.file, "/dev/", 5);
        file_fd = open(cfg.file, is_device ? O_RDONLY : (O_RDWR | O_CREAT | O_TRUNC), 0600);
        if (file_fd < 0) {
            fprintf(stderr, "memvisor-agent: cannot open %s: %s\n", cfg.file, strerror(errno));
        }
        for (unsigned long i = 0; !is_device && file_fd >= 0 && i < units; i++) {
            fill_page(page, i, seed);
            if (pwrite(file_fd, page, PAGE_BYTES, (off_t)(i * PAGE_BYTES)) != (ssize_t)PAGE_BYTES) {
                fprintf(stderr, "memvisor-agent: cannot write %s: %s\n", cfg.file, strerror(errno));
                break;
            }
            st.filled_pages = i + 1;
            maybe_report(now_s(), 0, units);
        }
    } else if (units > 0) {
        memory = mmap(NULL, units * PAGE_BYTES, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (memory == MAP_FAILED) {
            fprintf(stderr, "memvisor-agent: cannot allocate %lu pages: %s\n", units, strerror(errno));
            memory = NULL;
            units = 0;
        }
        for (unsigned long i = 0; i < units; i++) {
            fill_page((uint64_t *)(memory + i * PAGE_BYTES), i, seed);
            st.filled_pages = i + 1;
            maybe_report(now_s(), 0, units);
        }
    }

    st.running = 1;
    double phase_start = now_s();
    unsigned long cursor = 0;
    uint64_t rng = (seed * 0x9E3779B97F4A7C15ULL) | 1; /* order=random: xorshift64*, never 0 */
    double owed = 0; /* pages due to be touched and not yet touched */
    double last = phase_start;
    for (;;) {
        double now = now_s();
        struct phase *ph = &cfg.phases[st.phase];
        if (ph->seconds > 0 && now - phase_start >= ph->seconds && st.phase + 1 < cfg.phase_count) {
            st.phase++;
            phase_start = now;
            ph = &cfg.phases[st.phase];
            cursor = 0;
        }
        unsigned long set = ph->set_pages < units ? ph->set_pages : units;
        if (cfg.mode != MODE_IDLE && set > 0 && (memory || file_fd >= 0)) {
            owed += (now - last) * (double)set / cfg.period_s;
            if (owed > (double)set) {
                owed = (double)set; /* a guest descheduled for a while does not catch up beyond one pass */
            }
            unsigned long due = (unsigned long)owed;
            for (unsigned long i = 0; i < due; i++) {
                if (cursor >= set) {
                    cursor = 0;
                }
                unsigned long index = cursor;
                if (cfg.random_order) {
                    rng ^= rng >> 12;
                    rng ^= rng << 25;
                    rng ^= rng >> 27;
                    index = (unsigned long)((rng * 0x2545F4914F6CDD1DULL) % set);
                }
                if (memory && cfg.verify_touch) {
                    fill_page(page, index, seed);
                    if (memcmp((const void *)(memory + index * PAGE_BYTES), page, PAGE_BYTES) != 0) {
                        st.bad_pages++;
                    }
                } else if (memory) {
                    volatile uint8_t *p = memory + index * PAGE_BYTES + (index % 61) * 64;
                    if (cfg.write_touch) {
                        *p = *p;
                    } else {
                        sink = *p;
                    }
                } else if (pread(file_fd, page, PAGE_BYTES, (off_t)(index * PAGE_BYTES)) < 0) {
                    break;
                }
                cursor++;
                st.work++;
                st.touched_this_second++;
                if ((i & 1023) == 1023) {
                    /* A pass that takes longer than a second (a slow file, a busy host) still reports each second. */
                    maybe_report(now_s(), set, units);
                }
            }
            owed -= (double)due;
        }
        last = now;
        maybe_report(now, set, units);
        struct timespec slice = { 0, SLICE_NS };
        nanosleep(&slice, NULL);
    }
}
