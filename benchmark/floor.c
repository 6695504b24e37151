/*
 * The benchmark's floor: the libdevmapper calls DmPowerShell makes for each operation, in one
 * process, with no registry, no journal and no checks. What the module costs above this is its own.
 * Like the module, it reads a device's info and status in one ioctl, and sends no separate commit:
 * dm-thin commits its metadata after every message it accepts.
 *
 *   floor <pool> <pool major:minor> create   <count> <first id> <sectors>
 *   floor <pool> <pool major:minor> snapshot <count> <first id> <origin id> <origin device> [per call]
 *   floor <pool> <pool major:minor> remove   <count> <first id>
 *   floor <pool> <pool major:minor> create-minimal   <count> <first id> <sectors>
 *   floor <pool> <pool major:minor> snapshot-minimal <count> <first id> <origin id> <origin device>
 *
 * The minimal floor is what dmsetup must do and no more: the create message (suspending an
 * origin around a snapshot's), and the new device's create+load+resume. No transaction id, no
 * status reads: a crash between message and device leaves an id nobody records.
 *
 * Devices are named <pool>-f<id>. Prints the mean milliseconds per operation (per snapshot when
 * several share one suspend of the origin).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <libdevmapper.h>

static void die(const char *what, const char *name)
{
    fprintf(stderr, "floor: %s %s failed\n", what, name);
    exit(1);
}

static struct dm_task *task(int type, const char *name)
{
    struct dm_task *t = dm_task_create(type);
    if (!t || !dm_task_set_name(t, name)) die("dm_task_create", name);
    return t;
}

/* Runs a task that changes devices, waiting for its udev cookie as the module does. */
static void run_with_cookie(struct dm_task *t, const char *what, const char *name)
{
    uint32_t cookie = 0;
    int waiting = dm_task_set_cookie(t, &cookie, 0);
    int ok = dm_task_run(t);
    if (waiting) dm_udev_wait(cookie);
    dm_task_destroy(t);
    if (!ok) die(what, name);
}

static void info(const char *name)
{
    struct dm_task *t = task(DM_DEVICE_INFO, name);
    struct dm_info i;
    if (!dm_task_run(t) || !dm_task_get_info(t, &i)) die("info", name);
    dm_task_destroy(t);
}

/* Whether a device of that name exists (the module checks a new volume's name is free). */
static int exists(const char *name)
{
    struct dm_task *t = task(DM_DEVICE_INFO, name);
    struct dm_info i;
    int found = dm_task_run(t) && dm_task_get_info(t, &i) && i.exists;
    dm_task_destroy(t);
    return found;
}

/* A pool's (or thin device's) status without flushing; the module reads its info from the same ioctl. */
static uint64_t status(const char *pool, int flush)
{
    struct dm_task *t = task(DM_DEVICE_STATUS, pool);
    if (!flush) dm_task_no_flush(t);
    if (!dm_task_run(t)) die("status", pool);
    uint64_t start, length, transaction = 0;
    char *type, *params;
    dm_get_next_target(t, NULL, &start, &length, &type, &params);
    sscanf(params, "%" SCNu64, &transaction);
    dm_task_destroy(t);
    return transaction;
}

static void message(const char *pool, const char *text)
{
    struct dm_task *t = task(DM_DEVICE_TARGET_MSG, pool);
    if (!dm_task_set_sector(t, 0) || !dm_task_set_message(t, text) || !dm_task_run(t)) die("message", text);
    dm_task_destroy(t);
}

static void set_transaction(const char *pool, uint64_t from)
{
    char text[64];
    snprintf(text, sizeof text, "set_transaction_id %" PRIu64 " %" PRIu64, from, from + 1);
    message(pool, text);
}

static void create(const char *pool, const char *pool_device, unsigned id, uint64_t sectors)
{
    char name[128], uuid[128], params[64];
    snprintf(name, sizeof name, "%s-f%u", pool, id);
    snprintf(uuid, sizeof uuid, "FLOOR-%s-%u", pool, id);
    snprintf(params, sizeof params, "%s %u", pool_device, id);
    struct dm_task *t = task(DM_DEVICE_CREATE, name);
    if (!dm_task_set_uuid(t, uuid) || !dm_task_add_target(t, 0, sectors, "thin", params)) die("create", name);
    run_with_cookie(t, "create", name);
}

static void simple(int type, const char *what, const char *name)
{
    struct dm_task *t = task(type, name);
    if (type == DM_DEVICE_SUSPEND) { if (!dm_task_run(t)) die(what, name); dm_task_destroy(t); return; }
    run_with_cookie(t, what, name);
}

/* The length of a device's (single-target) table, in sectors. */
static uint64_t length_of(const char *device)
{
    struct dm_task *t = task(DM_DEVICE_TABLE, device);
    uint64_t start, sectors;
    char *type, *params;
    if (!dm_task_run(t)) die("table", device);
    dm_get_next_target(t, NULL, &start, &sectors, &type, &params);
    dm_task_destroy(t);
    return sectors;
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

int main(int argc, char **argv)
{
    if (argc < 6) { fprintf(stderr, "usage: see the comment at the top of floor.c\n"); return 2; }
    const char *pool = argv[1], *pool_device = argv[2], *op = argv[3];
    int count = atoi(argv[4]);
    unsigned first = (unsigned)strtoul(argv[5], NULL, 10);
    char text[64], name[128];
    double started = now_ms();
    int done = 0;
    if (!strcmp(op, "create") && argc >= 7) {
        uint64_t sectors = strtoull(argv[6], NULL, 10);
        for (int i = 0; i < count; i++, done++) {
            uint64_t tx = status(pool, 0);
            snprintf(name, sizeof name, "%s-f%u", pool, first + i);
            if (exists(name)) die("name taken", name);
            snprintf(text, sizeof text, "create_thin %u", first + i);
            message(pool, text);
            set_transaction(pool, tx);
            create(pool, pool_device, first + i, sectors);
        }
    } else if (!strcmp(op, "snapshot") && argc >= 8) {
        unsigned origin = (unsigned)strtoul(argv[6], NULL, 10);
        const char *origin_device = argv[7];
        int per_call = argc >= 9 ? atoi(argv[8]) : 1;
        uint64_t sectors = length_of(origin_device);
        for (int i = 0; i < count; i += per_call) {
            uint64_t tx = status(pool, 0);
            for (int k = 0; k < per_call; k++) {
                snprintf(name, sizeof name, "%s-f%u", pool, first + i + k);
                if (exists(name)) die("name taken", name);
            }
            status(origin_device, 0);
            simple(DM_DEVICE_SUSPEND, "suspend", origin_device);
            for (int k = 0; k < per_call; k++) {
                snprintf(text, sizeof text, "create_snap %u %u", first + i + k, origin);
                message(pool, text);
            }
            set_transaction(pool, tx);
            simple(DM_DEVICE_RESUME, "resume", origin_device);
            for (int k = 0; k < per_call; k++, done++) create(pool, pool_device, first + i + k, sectors);
        }
    } else if (!strcmp(op, "create-minimal") && argc >= 7) {
        uint64_t sectors = strtoull(argv[6], NULL, 10);
        for (int i = 0; i < count; i++, done++) {
            snprintf(text, sizeof text, "create_thin %u", first + i);
            message(pool, text);
            create(pool, pool_device, first + i, sectors);
        }
    } else if (!strcmp(op, "snapshot-minimal") && argc >= 8) {
        unsigned origin = (unsigned)strtoul(argv[6], NULL, 10);
        const char *origin_device = argv[7];
        uint64_t sectors = length_of(origin_device);
        for (int i = 0; i < count; i++, done++) {
            simple(DM_DEVICE_SUSPEND, "suspend", origin_device);
            snprintf(text, sizeof text, "create_snap %u %u", first + i, origin);
            message(pool, text);
            simple(DM_DEVICE_RESUME, "resume", origin_device);
            create(pool, pool_device, first + i, sectors);
        }
    } else if (!strcmp(op, "remove")) {
        for (int i = 0; i < count; i++, done++) {
            snprintf(name, sizeof name, "%s-f%u", pool, first + i);
            uint64_t tx = status(pool, 0);
            info(name);
            simple(DM_DEVICE_REMOVE, "remove", name);
            set_transaction(pool, tx);
            snprintf(text, sizeof text, "delete %u", first + i);
            message(pool, text);
        }
    } else {
        fprintf(stderr, "floor: unknown operation %s\n", op);
        return 2;
    }
    printf("%.3f\n", (now_ms() - started) / (done ? done : 1));
    dm_lib_release();
    return 0;
}
