/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/random.h>
#include <time.h>

#include "bootwait.h"
#include "dps.h"
#include "partition-kernel.h"
#include "udev-util.h"
#include "util.h"

#define LOADER_VAR "/sys/firmware/efi/efivars/LoaderDevicePartUUID-4a67b082-0a4c-41cf-b6c7-440b29bb8c4f"

int vr_loader_device_partuuid(vr_id128 *ret) {
        unsigned char buf[4 + 2 * 64];
        char s[64];
        _cleanup_fclose_ FILE *f = fopen(LOADER_VAR, "re");
        if (!f)
                return -errno;
        /* 4 bytes of attributes, then a UTF-16LE string. */
        size_t n = fread(buf, 1, sizeof(buf), f);
        if (n < 4 + 2 * 36)
                return -EBADMSG;
        size_t len = 0;
        for (size_t i = 4; i + 1 < n && len < sizeof(s) - 1; i += 2) {
                if (buf[i + 1] != 0 || buf[i] == 0)
                        break;
                s[len++] = (char) buf[i];
        }
        s[len] = 0;
        return vr_id128_from_string(s, ret);
}

int vr_boot_disk_find(const struct vr_partition_list *parts, vr_id128 loader_uuid, const char **ret,
                      struct vr_verdict *v) {
        const struct vr_partition *first = NULL;
        char list[512] = "", d[256];
        size_t n = 0, len = 0;

        *ret = NULL;
        for (size_t i = 0; i < parts->n; i++) {
                const struct vr_partition *p = &parts->items[i];
                if (p->table != VR_TABLE_GPT || !vr_id128_equal(p->uuid, loader_uuid))
                        continue;
                first = first ?: p;
                if (len < sizeof(list))
                        len += snprintf(list + len, sizeof(list) - len, "%s%s", n > 0 ? ", " : "",
                                        vr_partition_describe(p, d, sizeof(d)));
                n++;
        }
        /* A copy of the boot partition's PARTUUID (a USB stick cloning the ESP) must not get
         * to choose the boot disk, and nothing says which one the firmware booted from. */
        if (n > 1)
                return vr_verdict_refuse(v, -ENOTUNIQ, "the boot partition PARTUUID=%s (LoaderDevicePartUUID) is on %zu "
                                         "partitions: %s", VR_ID128_TO_STRING(loader_uuid), n, list);
        if (first)
                *ret = first->disk;
        return 0;
}

static size_t count_disks(const struct vr_partition_list *parts) {
        size_t n = 0;

        for (size_t i = 0; i < parts->n; i++) {
                size_t j = 0;
                while (j < i && !streq_ptr(parts->items[j].disk, parts->items[i].disk))
                        j++;
                n += j == i;
        }
        return n;
}

/* "root-x86-64 on /dev/vda", "2 root-x86-64 (first on /dev/vda)" or "no root-x86-64". */
static size_t describe_role_seen(const struct vr_partition_list *parts, const char *arch, enum vr_part_role role,
                                 char *buf, size_t size) {
        const struct vr_partition *first = NULL;
        vr_id128 type;
        size_t n = 0;

        if (vr_dps_type(arch, role, &type) < 0)
                return (size_t) snprintf(buf, size, "no %s-%s", vr_part_role_to_string(role), arch);
        for (size_t i = 0; i < parts->n; i++)
                if (vr_id128_equal(parts->items[i].type, type)) {
                        first = first ?: &parts->items[i];
                        n++;
                }
        if (n == 0)
                return (size_t) snprintf(buf, size, "no %s-%s", vr_part_role_to_string(role), arch);
        if (n == 1)
                return (size_t) snprintf(buf, size, "%s-%s on %s", vr_part_role_to_string(role), arch,
                                         first->disk ?: "?");
        return (size_t) snprintf(buf, size, "%zu %s-%s (first on %s)", n, vr_part_role_to_string(role), arch,
                                 first->disk ?: "?");
}

/* Every verdict but "a piece is missing" (which more devices may supply) is final only
 * once every block device the kernel has announced has been read: a success could turn
 * ambiguous, and a refusal may rest on a partition not read yet (a signature partition
 * seen after its data and hash partitions: "no root-verity-sig partition beside it"). */
static bool decided_when_settled(const struct vr_verdict *v) {
        return v->error >= 0 || v->when_settled || !v->incomplete;
}

/* What the search still needs, in words a user can check against the disks. */
static void describe_awaited(const struct vr_discover_config *cfg, const char *arch, char *buf, size_t size) {
        struct vr_role_set roles = vr_target_roles(cfg->target);
        const char *disk = vr_discover_search_disk(cfg);

        if (cfg->data_device)
                snprintf(buf, size, "the data device %s (systemd.verity_%s_data=)%s%s%s", cfg->data_device,
                         vr_target_name(cfg->target), cfg->hash_device ? " and the hash device " : "",
                         cfg->hash_device ?: "", cfg->hash_device ? "" : " and its hash tree");
        else if (cfg->trusted_hash)
                snprintf(buf, size, "a %s-%s partition and its %s-%s partition (or appended hash tree) with the "
                         "PARTUUIDs %s derives", vr_part_role_to_string(roles.data), arch,
                         vr_part_role_to_string(roles.hash), arch, cfg->target == VR_TARGET_USR ? "usrhash=" : "roothash=");
        else if (cfg->boot_partuuid && !disk)
                snprintf(buf, size, "the boot partition PARTUUID=%s (LoaderDevicePartUUID), then a %s-%s partition "
                         "with a trusted signature on its disk", cfg->boot_partuuid, vr_part_role_to_string(roles.sig), arch);
        else
                snprintf(buf, size, "a %s-%s partition with a trusted signature and the partitions it names%s%s",
                         vr_part_role_to_string(roles.sig), arch, disk ? " on " : "", disk ?: "");
}

const char *vr_wait_message(const struct vr_discover_config *cfg, const struct vr_partition_list *parts,
                            const struct vr_verdict *v, unsigned timeout_sec, char *buf, size_t size) {
        const char *arch = cfg->arch ?: vr_dps_native_arch();
        struct vr_role_set set = vr_target_roles(cfg->target);
        enum vr_part_role roles[] = { set.data, set.hash, set.sig };
        size_t len, disks = count_disks(parts);
        char awaited[512], seen[512];

        if (decided_when_settled(v))
                snprintf(awaited, sizeof(awaited), "every block device the kernel has announced to be read before deciding");
        else
                describe_awaited(cfg, arch, awaited, sizeof(awaited));
        len = (size_t) snprintf(seen, sizeof(seen), "%zu partition%s on %zu disk%s", parts->n, parts->n == 1 ? "" : "s",
                                disks, disks == 1 ? "" : "s");
        for (size_t i = 0; i < ELEMENTSOF(roles) && len < sizeof(seen); i++) {
                len += (size_t) snprintf(seen + len, sizeof(seen) - len, ", ");
                if (len < sizeof(seen))
                        len += describe_role_seen(parts, arch, roles[i], seen + len, sizeof(seen) - len);
        }
        snprintf(buf, size, "waiting up to %us for the %s partitions (%s); seen so far: %s", timeout_sec,
                 vr_target_name(cfg->target), awaited, seen);
        return buf;
}

struct wait_state {
        struct vr_discover_config cfg;
        struct vr_partition_list *parts;
        struct vr_verdict *v;
        struct udev *udev;
        struct udev_monitor *kernel;
        uint64_t last_kernel_event; /* CLOCK_MONOTONIC usec of the last kernel uevent (any device) */
        bool complete;              /* the verdict was reached on every announced disk */
        char *pending;  /* the first block device not read completely at the last scan, and why */
        bool have_loader;
        vr_id128 loader_uuid;
        char loader_text[VR_ID128_STRING_MAX];
        bool done;
};

/* udev got the disk's ADD event, which the kernel sends once its partition scan is over. */
static bool disk_processed_by_udev(const char *sysname, void *userdata) {
        _cleanup_(udev_device_unrefp) struct udev_device *d =
                udev_device_new_from_subsystem_sysname(userdata, "block", sysname);
        return d && udev_device_get_is_initialized(d) > 0;
}

/* The partitions of every disk the kernel has announced: 1 when each was read completely,
 * 0 when one was not (s->pending says which), -errno. */
static int scan(struct wait_state *s, struct vr_partition_list *ret) {
        struct vr_kernel_scan ks = { .disk_processed = disk_processed_by_udev, .userdata = s->udev };
        int r;

        free(s->pending);
        s->pending = NULL;
        r = vr_partitions_from_kernel(&ks, ret, &s->pending);
        return r < 0 ? r : r == 0;
}

/* Sets s->cfg.boot_disk, or refuses in s->v: a duplicated boot partition for good, a
 * missing one as incomplete when the signed target may be looked for on that disk only. */
static int resolve_boot_disk(struct wait_state *s) {
        int r;

        s->cfg.boot_disk = NULL;
        if (!s->have_loader)
                return 0;
        vr_verdict_done(s->v);
        *s->v = (struct vr_verdict) {};
        r = vr_boot_disk_find(s->parts, s->loader_uuid, &s->cfg.boot_disk, s->v);
        if (r < 0)
                return r;
        if (!s->cfg.boot_disk && !s->cfg.trusted_hash && !s->cfg.only_disk) {
                s->v->incomplete = true;
                return vr_verdict_refuse(s->v, -ENXIO, "the boot partition PARTUUID=%s (LoaderDevicePartUUID) is on no "
                                         "disk: a signed %s is looked for on the boot disk only", s->loader_text,
                                         vr_target_name(s->cfg.target));
        }
        return 0;
}

/* Whether the kernel has announced something since the monitor was last drained. */
static bool events_queued(struct udev_monitor *monitor) {
        struct pollfd pfd = { .fd = udev_monitor_get_fd(monitor), .events = POLLIN };
        return poll(&pfd, 1, 0) > 0;
}

/* A driver probes its devices one after the other: the next disk of the same driver
 * comes a moment after the previous one's partitions, with no event in between (0.14 s
 * seen under TCG). No verdict is final before the kernel has been quiet that long. */
static uint64_t quiet_at(const struct wait_state *s) {
        return s->last_kernel_event + VR_KERNEL_QUIET_MSEC * 1000u;
}

static bool kernel_quiet(const struct wait_state *s) {
        return vr_now_usec() >= quiet_at(s);
}

static bool same_partition(const struct vr_partition *a, const struct vr_partition *b) {
        return a->devnum == b->devnum && a->partno == b->partno && a->offset == b->offset && a->size == b->size &&
               a->flags == b->flags && vr_id128_equal(a->type, b->type) && vr_id128_equal(a->uuid, b->uuid) &&
               a->table == b->table && a->mbr_type == b->mbr_type && a->mbr_id == b->mbr_id &&
               streq_ptr(a->label, b->label) && streq_ptr(a->node, b->node) && streq_ptr(a->disk, b->disk);
}

static bool same_partitions(const struct vr_partition_list *a, const struct vr_partition_list *b) {
        if (a->n != b->n)
                return false;
        for (size_t i = 0; i < a->n; i++)
                if (!same_partition(&a->items[i], &b->items[i]))
                        return false;
        return true;
}

/* Scans the kernel's disks and decides on what is there. A verdict waiting for the last
 * disks to be read is not re-evaluated on every burst of events (a disk with 128
 * partitions is 129 events, each evaluation reads the signature and the top of the hash
 * tree again): only on the complete set, which is then final, or when always. */
static void evaluate(struct wait_state *s, bool always) {
        _cleanup_(vr_partition_list_done) struct vr_partition_list scanned = {};
        int r = scan(s, &scanned);

        if (r < 0) {
                vr_verdict_done(s->v);
                *s->v = (struct vr_verdict) { .error = r };
                snprintf(s->v->reason, sizeof(s->v->reason), "cannot enumerate partitions: %s", strerror(-r));
                s->done = true;
                return;
        }
        if (!always && decided_when_settled(s->v) && r == 0)
                return;

        /* The same complete set as the verdict's (only the quiet period was missing):
         * no second read of the signature and the hash tree. */
        if (always || !s->complete || !decided_when_settled(s->v) || !same_partitions(s->parts, &scanned)) {
                vr_partition_list_done(s->parts);
                *s->parts = scanned;
                scanned = (struct vr_partition_list) {};
                if (resolve_boot_disk(s) >= 0)
                        vr_discover_with_kiwi(s->parts, &s->cfg, s->v);
        }
        s->complete = r > 0;
        /* A disk announced while discovery ran (reading signatures and hash trees takes
         * a while) may make the choice ambiguous: the next scan must include it. */
        s->done = decided_when_settled(s->v) && r > 0 && !events_queued(s->kernel) && kernel_quiet(s);
}

/* Takes every queued event; true if any may change the verdict (a block device that
 * was not removed). One evaluation per burst: a disk with 128 partitions arrives as 129
 * events. *last_event (if given) becomes now when any event was queued. */
static bool drain_events(struct udev_monitor *monitor, uint64_t *last_event) {
        bool relevant = false;

        for (;;) {
                _cleanup_(udev_device_unrefp) struct udev_device *d = udev_monitor_receive_device(monitor);
                if (!d)
                        /* EAGAIN: queue empty. Anything else (ENOBUFS: events lost) means
                         * re-reading the database is the only way to be sure. */
                        return relevant || errno != EAGAIN;
                if (last_event)
                        *last_event = vr_now_usec();
                const char *action = udev_device_get_action(d);
                if (streq_ptr(udev_device_get_subsystem(d), "block") && (!action || !streq(action, "remove")))
                        relevant = true;
        }
}

/* Waits for events until s->done or the deadline; 0, -ETIMEDOUT or -errno. The kernel's
 * events announce block devices; udev's matter while a disk waits for udev to have
 * processed it (an entry the kernel has no partition for, see vr_partitions_from_kernel)
 * and while a piece is missing (udev symlinks on the command line). */
static int watch(struct wait_state *s, struct udev_monitor *kernel, struct udev_monitor *udev, uint64_t deadline) {
        struct pollfd pfd[] = {
                { .fd = udev_monitor_get_fd(kernel), .events = POLLIN },
                { .fd = udev_monitor_get_fd(udev), .events = POLLIN },
        };

        while (!s->done) {
                uint64_t now = vr_now_usec(), wake = deadline;
                if (now >= deadline)
                        return -ETIMEDOUT;
                /* A verdict on every announced disk waits for the kernel to be quiet. */
                bool waits_quiet = s->complete && decided_when_settled(s->v);
                if (waits_quiet && quiet_at(s) < wake)
                        wake = quiet_at(s);
                uint64_t ms = wake > now ? (wake - now + 999) / 1000 : 0;
                int r = poll(pfd, ELEMENTSOF(pfd), ms > INT_MAX ? INT_MAX : (int) ms);
                if (r < 0 && errno != EINTR)
                        return -errno;
                if (r == 0 && waits_quiet && kernel_quiet(s)) {
                        evaluate(s, false);
                        continue;
                }
                if (r <= 0)
                        continue;
                bool relevant = pfd[0].revents && drain_events(kernel, &s->last_kernel_event);
                /* udev's events matter while a disk waits for udev, and while a piece is
                 * missing: a device named on the command line by a udev symlink
                 * (systemd.verity_root_data=/dev/disk/by-partuuid/...) exists only once
                 * udev has processed its partition. */
                if (pfd[1].revents && drain_events(udev, NULL) && (s->pending || !decided_when_settled(s->v)))
                        relevant = true;
                if (relevant)
                        evaluate(s, false);
        }
        return 0;
}

/* A netlink monitor ("kernel" or "udev"); block devices only (whole disks included)
 * with block_only, else every device: any kernel event says drivers are still probing. */
static int open_monitor(struct udev *udev, const char *name, bool block_only, struct udev_monitor **ret) {
        _cleanup_(udev_monitor_unrefp) struct udev_monitor *m = udev_monitor_new_from_netlink(udev, name);
        int r = 0;

        if (!m)
                return errno > 0 ? -errno : -EIO;
        if (block_only)
                r = udev_monitor_filter_add_match_subsystem_devtype(m, "block", NULL);
        if (r >= 0)
                r = udev_monitor_enable_receiving(m);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(m);
        return 0;
}

int vr_wait_for_verdict(const struct vr_discover_config *cfg, unsigned timeout_sec, struct vr_partition_list *parts,
                        struct vr_verdict *v) {
        /* One deadline for waiting and evaluating alike, counted from the start. */
        uint64_t deadline = vr_now_usec() + (uint64_t) timeout_sec * 1000000u;
        struct wait_state s = { .cfg = *cfg, .parts = parts, .v = v };
        _cleanup_(udev_unrefp) struct udev *udev = NULL;
        _cleanup_(udev_monitor_unrefp) struct udev_monitor *kernel = NULL, *udev_events = NULL;
        int r;

        s.have_loader = vr_loader_device_partuuid(&s.loader_uuid) >= 0;
        if (s.have_loader) {
                vr_id128_to_string(s.loader_uuid, s.loader_text);
                s.cfg.boot_partuuid = s.loader_text;
                log_info("boot loader names the boot partition: PARTUUID=%s", s.loader_text);
        }

        /* Listen before the first enumeration, so no partition can slip between the two. */
        udev = udev_new();
        if (!udev) {
                r = -ENOMEM;
                goto fail;
        }
        s.udev = udev;
        r = open_monitor(udev, "kernel", false, &kernel);
        if (r >= 0)
                r = open_monitor(udev, "udev", true, &udev_events);
        if (r < 0)
                goto fail;
        s.kernel = kernel;
        /* What the kernel announced before we listened is unknown: quiet from now on. */
        s.last_kernel_event = vr_now_usec();

        evaluate(&s, true);
        if (!s.done) {
                if (v->error < 0) {
                        char message[1280];
                        log_notice("%s", vr_wait_message(&s.cfg, parts, v, timeout_sec, message, sizeof(message)));
                }
                r = watch(&s, kernel, udev_events, deadline);
                if (r == -ETIMEDOUT && decided_when_settled(v)) {
                        /* The verdict may predate the last partitions: decide on what is there now. */
                        log_warning("not every block device the kernel has announced could be read after %us (%s): "
                                    "deciding on the partitions there now", timeout_sec, s.pending ?: "?");
                        evaluate(&s, true);
                }
                if (r == -ETIMEDOUT && v->error < 0) {
                        char reason[sizeof(v->reason)];
                        memcpy(reason, v->reason, sizeof(reason));
                        snprintf(v->reason, sizeof(v->reason), "timed out after %us: %s", timeout_sec, reason);
                } else if (r < 0 && r != -ETIMEDOUT)
                        goto fail;
        }
        free(s.pending);
        return v->error;

fail:
        free(s.pending);
        vr_verdict_done(v);
        *v = (struct vr_verdict) { .error = r };
        snprintf(v->reason, sizeof(v->reason), "cannot watch for block devices: %s", strerror(-r));
        return r;
}

static void *random_warm_up_thread(void *arg) {
        unsigned char b;
        /* Blocks until the kernel's generator is initialised, which is the point. */
        while (getrandom(&b, sizeof(b), 0) < 0 && errno == EINTR)
                ;
        return arg;
}

void vr_random_warm_up(void) {
        unsigned char b;
        pthread_attr_t attr;
        pthread_t t;

        /* Initialised already: nothing to wait for. */
        if (getrandom(&b, sizeof(b), GRND_NONBLOCK) >= 0)
                return;
        if (pthread_attr_init(&attr) != 0)
                return;
        if (pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED) == 0 &&
            pthread_create(&t, &attr, random_warm_up_thread, NULL) == 0)
                log_debug("started the kernel's random number generator in the background");
        pthread_attr_destroy(&attr);
}

static char deadline_message[192];

/* Async-signal-safe strcat into a bounded buffer. */
static size_t append(char *buf, size_t len, size_t size, const char *s) {
        while (*s && len + 1 < size)
                buf[len++] = *s++;
        buf[len] = '\0';
        return len;
}

/* Async-signal-safe: only write(2), _exit and plain copies. The line goes out in one
 * write, so nothing else on the console lands inside it. */
static void deadline_passed(int sig) {
        const char *what = vr_region_reading();
        char line[sizeof(deadline_message) + 320];
        size_t n = append(line, 0, sizeof(line), deadline_message);

        if (what[0]) {
                n = append(line, n, sizeof(line), "reading ");
                n = append(line, n, sizeof(line), what);
        } else
                n = append(line, n, sizeof(line), "looking for its partitions");
        /* Cut short if it must be, but always one whole line. */
        if (n + 1 >= sizeof(line))
                n = sizeof(line) - 2;
        line[n++] = '\n';
        for (size_t off = 0; off < n;) {
                ssize_t k = write(STDERR_FILENO, line + off, n - off);
                if (k <= 0)
                        break;
                off += (size_t) k;
        }
        _exit(1);
}

void vr_deadline_arm(const char *target, unsigned timeout_sec) {
        struct sigaction sa = { .sa_handler = deadline_passed };
        unsigned sec = timeout_sec > UINT_MAX - VR_DEADLINE_GRACE_SEC ? UINT_MAX : timeout_sec + VR_DEADLINE_GRACE_SEC;

        snprintf(deadline_message, sizeof(deadline_message),
                 "verity-root: refusing to boot the %s file system: rd.verity.timeout=%u (+%us) ran out while ", target,
                 timeout_sec, VR_DEADLINE_GRACE_SEC);
        vr_region_note_reading(NULL);
        sigemptyset(&sa.sa_mask);
        (void) sigaction(SIGALRM, &sa, NULL);
        alarm(sec);
}

void vr_deadline_disarm(void) {
        alarm(0);
}
