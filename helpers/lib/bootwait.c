/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <systemd/sd-event.h>

#include "bootwait.h"
#include "util.h"

#define LOADER_VAR "/sys/firmware/efi/efivars/LoaderDevicePartUUID-4a67b082-0a4c-41cf-b6c7-440b29bb8c4f"

int vr_loader_device_partuuid(sd_id128_t *ret) {
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
        return sd_id128_from_string(s, ret);
}

struct wait_state {
        struct vr_discover_config cfg;
        struct vr_partition_list *parts;
        struct vr_verdict *v;
        bool have_loader;
        sd_id128_t loader_uuid;
        bool done;
};

static bool block_devices_initialized(void) {
        sd_device_enumerator *e = NULL;
        bool all = true;

        if (sd_device_enumerator_new(&e) < 0)
                return true;
        if (sd_device_enumerator_allow_uninitialized(e) >= 0 &&
            sd_device_enumerator_add_match_subsystem(e, "block", true) >= 0)
                for (sd_device *d = sd_device_enumerator_get_device_first(e); d && all;
                     d = sd_device_enumerator_get_device_next(e))
                        all = sd_device_get_is_initialized(d) > 0;
        sd_device_enumerator_unref(e);
        return all;
}

static void evaluate(struct wait_state *s) {
        vr_partition_list_done(s->parts);
        int r = vr_partitions_from_udev(s->parts);
        if (r < 0) {
                vr_verdict_done(s->v);
                *s->v = (struct vr_verdict) { .error = r };
                snprintf(s->v->reason, sizeof(s->v->reason), "cannot enumerate partitions: %s", strerror(-r));
                s->done = true;
                return;
        }
        s->cfg.boot_disk = NULL;
        if (s->have_loader)
                for (size_t i = 0; i < s->parts->n; i++)
                        if (sd_id128_equal(s->parts->items[i].uuid, s->loader_uuid))
                                s->cfg.boot_disk = s->parts->items[i].disk;

        vr_discover_with_kiwi(s->parts, &s->cfg, s->v);
        /* A success is final only once udev has processed every block device the kernel
         * announced: a second disk still being probed could make the choice ambiguous. */
        if (s->v->error >= 0)
                s->done = block_devices_initialized();
        else
                s->done = !s->v->incomplete;
}

static int on_device(sd_device_monitor *m, sd_device *d, void *userdata) {
        struct wait_state *s = userdata;
        const char *action = NULL;
        sd_device_get_property_value(d, "ACTION", &action);
        if (action && streq(action, "remove"))
                return 0;
        evaluate(s);
        if (s->done)
                return sd_event_exit(sd_device_monitor_get_event(m), 0);
        return 0;
}

static int on_timeout(sd_event_source *es, uint64_t usec, void *userdata) {
        return sd_event_exit(sd_event_source_get_event(es), -ETIMEDOUT);
}

int vr_wait_for_verdict(const struct vr_discover_config *cfg, unsigned timeout_sec, struct vr_partition_list *parts,
                        struct vr_verdict *v) {
        struct wait_state s = { .cfg = *cfg, .parts = parts, .v = v };
        sd_device_monitor *monitor = NULL;
        sd_event *event = NULL;
        int r;

        s.have_loader = vr_loader_device_partuuid(&s.loader_uuid) >= 0;
        if (s.have_loader)
                log_info("boot loader names the boot partition: PARTUUID=" SD_ID128_UUID_FORMAT_STR,
                         SD_ID128_FORMAT_VAL(s.loader_uuid));

        /* Listen before the first enumeration, so no partition can slip between the two. */
        r = sd_event_default(&event);
        if (r < 0)
                goto fail;
        r = sd_device_monitor_new(&monitor);
        if (r < 0)
                goto fail;
        /* Whole disks too: their events tell when udev has caught up with them. */
        r = sd_device_monitor_filter_add_match_subsystem_devtype(monitor, "block", NULL);
        if (r < 0)
                goto fail;
        r = sd_device_monitor_attach_event(monitor, event);
        if (r < 0)
                goto fail;
        r = sd_device_monitor_start(monitor, on_device, &s);
        if (r < 0)
                goto fail;

        evaluate(&s);
        if (!s.done) {
                if (v->error < 0)
                        log_notice("waiting up to %us for the %s partitions: %s", timeout_sec,
                                   cfg->target == VR_TARGET_USR ? "usr" : "root", v->reason);
                r = sd_event_add_time_relative(event, NULL, CLOCK_MONOTONIC, (uint64_t) timeout_sec * 1000000u, 0,
                                               on_timeout, &s);
                if (r < 0)
                        goto fail;
                r = sd_event_loop(event);
                if (r == -ETIMEDOUT && v->error < 0) {
                        char reason[sizeof(v->reason)];
                        memcpy(reason, v->reason, sizeof(reason));
                        snprintf(v->reason, sizeof(v->reason), "timed out after %us: %s", timeout_sec, reason);
                } else if (r < 0 && r != -ETIMEDOUT)
                        goto fail;
        }
        sd_device_monitor_unref(monitor);
        sd_event_unref(event);
        return v->error;

fail:
        sd_device_monitor_unref(monitor);
        sd_event_unref(event);
        vr_verdict_done(v);
        *v = (struct vr_verdict) { .error = r };
        snprintf(v->reason, sizeof(v->reason), "cannot watch udev for partitions: %s", strerror(-r));
        return r;
}
