/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Bounds-checked reads inside a named window of an open file. */
#include <inttypes.h>

#include "partition.h"
#include "util.h"

/* What the process reads now, for the boot deadline's message (read in a signal handler,
 * so a fixed buffer, never freed). */
static char reading[256];

void vr_region_note_reading(const char *what) {
        snprintf(reading, sizeof(reading), "%s", what ?: "");
}

const char *vr_region_reading(void) {
        return reading;
}

int vr_region_read(const struct vr_region *r, void *buf, size_t len, uint64_t off) {
        int k;

        if (off > r->size || len > r->size - off)
                return log_error_errno(ERANGE,
                                       "Cannot read %zu bytes at offset %" PRIu64 " of %s: it is only %" PRIu64 " bytes",
                                       len, off, r->what, r->size);
        if (r->offset > UINT64_MAX - off || r->offset + off > (uint64_t) INT64_MAX)
                return log_error_errno(ERANGE, "Offset %" PRIu64 " of %s is out of range", off, r->what);

        if (r->what && strcmp(r->what, reading) != 0)
                vr_region_note_reading(r->what);
        k = vr_pread_full(r->fd, buf, len, r->offset + off);
        if (k < 0)
                return log_error_errno(EIO, "Failed to read %zu bytes at offset %" PRIu64 " of %s: %s",
                                       len, off, r->what, k == -EIO ? "short read" : strerror(-k));
        return 0;
}
